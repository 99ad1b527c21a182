//! Login, token validation and the header checks shared by the view routes.

use serde_json::{json, Map, Value};

use crate::config::Switches;
use crate::request::{Output, RequestCtx, Resp};
use crate::schema::{FieldType, UserSchema};
use crate::state::{Counter, FakeState};
use crate::tokens::TokenError;

/// `X-Knack-Application-Id` must be present and name this app. Another app's id is
/// answered as recorded (2015, object-based): 500 `Internal Server Error`, text/html.
pub fn check_app_header(st: &FakeState, ctx: &RequestCtx, sw: &Switches) -> Result<(), Resp> {
    match ctx.header("x-knack-application-id").map(str::trim) {
        None | Some("") => Err(Resp::error(400, "Missing X-Knack-Application-Id")),
        Some(id) if id.eq_ignore_ascii_case(st.app_id()) => Ok(()),
        Some(_) => Err(Resp::recorded(
            500,
            "Internal Server Error",
            sw.error_bodies,
        )),
    }
}

/// `X-Knack-REST-API-Key` may be absent or the literal `knack` on view routes; any other
/// key is answered as recorded (2015): 401 `Invalid API Key`, text/html.
pub fn check_api_key(ctx: &RequestCtx, sw: &Switches) -> Result<(), Resp> {
    match ctx.header("x-knack-rest-api-key") {
        None => Ok(()),
        Some(k) if k.trim() == "knack" => Ok(()),
        Some(_) => Err(Resp::recorded(401, "Invalid API Key", sw.error_bodies)),
    }
}

/// What an expired, forged or malformed token gets. Knack does not tell them apart: 403
/// (switch `token_error_status`) with "Invalid token provided" (KTL's maintainers; clients
/// test the body for "invalid token" or "reauthenticate").
pub const INVALID_TOKEN: &str = "Invalid token provided. Please reauthenticate.";

pub fn token_error(sw: &Switches, e: TokenError) -> Resp {
    match e {
        TokenError::Invalid | TokenError::Expired => {
            Resp::error(sw.token_error_status, INVALID_TOKEN)
        }
    }
}

/// The user of the `Authorization` token, `Ok(None)` without one (an empty header counts
/// as none).
pub fn user_from_headers<'a>(
    st: &'a FakeState,
    ctx: &RequestCtx,
) -> Result<Option<&'a UserSchema>, TokenError> {
    let raw = match ctx.headers.get("authorization") {
        None => return Ok(None),
        Some(v) => v.to_str().map_err(|_| TokenError::Invalid)?.trim(),
    };
    if raw.is_empty() {
        return Ok(None);
    }
    st.validate_token(raw).map(Some)
}

/// `values` of a session: every non-password field of the user's record, formatted and raw.
fn user_values(st: &FakeState, user: &UserSchema) -> Value {
    let data = st.read();
    let render = st.render(&data);
    let Some(rec) = data.tables[user.object].get(&user.id) else {
        return json!({});
    };
    let obj = &st.schema.objects[user.object];
    let mut out = Map::new();
    for (fi, f) in obj.fields.iter().enumerate() {
        if f.ftype == FieldType::Password {
            continue;
        }
        let v = &rec.vals[fi];
        out.insert(
            f.key.clone(),
            Value::String(render.formatted(user.object, fi, v)),
        );
        let mut raw = Vec::new();
        render.raw(&mut raw, user.object, fi, v);
        out.insert(
            format!("{}_raw", f.key),
            serde_json::from_slice(&raw).unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

fn profile_objects(st: &FakeState, user: &UserSchema) -> Value {
    json!([{"entry_id": user.id.hex(), "object": st.schema.objects[user.object].key}])
}

/// `POST /v1/applications/{app}/session`
pub fn login(st: &FakeState, ctx: &RequestCtx, sw: &Switches, app: &str) -> Output {
    if !app.eq_ignore_ascii_case(st.app_id()) {
        return Resp::error(404, "Application not found").into();
    }
    st.count(Counter::Login);
    let body: Value = match serde_json::from_slice(&ctx.body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return Resp::error(400, "Request body must be a JSON object").into(),
    };
    let email = body
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let password = body.get("password").and_then(Value::as_str).unwrap_or("");
    if email.is_empty() || password.is_empty() {
        let mut errors = Vec::new();
        if email.is_empty() {
            errors.push(
                json!({"field": "email", "type": "required", "message": "Email is required."}),
            );
        }
        if password.is_empty() {
            errors.push(
                json!({"field": "password", "type": "required", "message": "Password is required."}),
            );
        }
        return Resp::value(400, &json!({ "errors": errors })).into();
    }
    let remember = body
        .get("remember")
        .and_then(crate::values::parse_bool)
        .unwrap_or(false);
    let user = st.schema.user_by_email(email).filter(|u| {
        u.password == password && u.approval_status == "approved" && u.account_status == "active"
    });
    let Some(user) = user else {
        return login_failure(sw).into();
    };
    let token = st.mint(user, remember, st.clock.now_secs());
    let session = json!({"session": {"user": {
        "id": user.id.hex(),
        "token": token,
        "approval_status": user.approval_status,
        "empty_pass": false,
        "profile_keys": user.profile_keys,
        "profile_objects": profile_objects(st, user),
        "utility_key": st.tokens.utility_key(&user.id.hex()),
        "values": user_values(st, user),
    }}});
    Output {
        resp: Resp::value(200, &session),
        user_id: Some(user.id),
        applied: false,
    }
}

fn login_failure(sw: &Switches) -> Resp {
    let le = &sw.login_error;
    match &le.body {
        Value::String(s) => Resp {
            status: le.status,
            content_type: crate::request::TEXT.into(),
            headers: Vec::new(),
            body: bytes::Bytes::from(s.clone()),
        },
        other => Resp::value(le.status, other),
    }
}

/// `GET /v1/session/token`
pub fn session_token(st: &FakeState, ctx: &RequestCtx, sw: &Switches) -> Output {
    if let Err(r) = check_app_header(st, ctx, sw) {
        return r.into();
    }
    let user = match user_from_headers(st, ctx) {
        Ok(Some(u)) => u,
        Ok(None) => return token_error(sw, TokenError::Invalid).into(),
        Err(e) => return token_error(sw, e).into(),
    };
    let session = json!({"session": {"user": {
        "id": user.id.hex(),
        "email": user.email,
        "status": "current",
        "account_status": user.account_status,
        "approval_status": user.approval_status,
        "profile_keys": user.profile_keys,
        "profile_objects": profile_objects(st, user),
        "values": user_values(st, user),
    }}});
    Output {
        resp: Resp::value(200, &session),
        user_id: Some(user.id),
        applied: false,
    }
}
