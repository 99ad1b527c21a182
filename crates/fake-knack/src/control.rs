//! The test-control API under `/_fake/` (not Knack; never counted or logged).

use serde_json::{json, Value};

use crate::faults::Fault;
use crate::request::{RequestCtx, Resp};
use crate::state::FakeState;

fn bad(msg: &str) -> Resp {
    Resp::error(400, msg)
}

fn body_json(ctx: &RequestCtx) -> Result<Value, Resp> {
    if ctx.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&ctx.body).map_err(|e| bad(&format!("Invalid JSON body: {e}")))
}

fn ok(v: &Value) -> Resp {
    Resp::value(200, v)
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub fn handle(st: &FakeState, ctx: &RequestCtx) -> Resp {
    let rest = ctx.path.trim_start_matches("/_fake").trim_matches('/');
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let m = ctx.method.as_str();
    match (m, segs.as_slice()) {
        ("POST", ["reset"]) => {
            st.reset();
            ok(&json!({"reset": true}))
        }
        ("GET", ["stats"]) => ok(&to_value(&st.stats())),
        ("GET", ["log"]) => {
            let since: u64 = ctx
                .param("since")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            let entries: Vec<_> = st.log().into_iter().filter(|e| e.seq > since).collect();
            ok(&json!({ "entries": entries }))
        }
        ("GET", ["config"]) => ok(&to_value(&st.switches())),
        ("POST", ["config"]) => match body_json(ctx) {
            Ok(v) => match st.configure(&v) {
                Ok(sw) => ok(&to_value(&sw)),
                Err(e) => bad(&e.to_string()),
            },
            Err(r) => r,
        },
        ("GET", ["clock"]) => ok(&json!({"now": st.now()})),
        ("POST", ["clock"]) => match body_json(ctx) {
            Ok(v) => match v.get("advance_seconds").and_then(Value::as_i64) {
                Some(n) => {
                    st.advance_clock(n);
                    ok(&json!({"now": st.now()}))
                }
                None => bad("advance_seconds (integer) is required"),
            },
            Err(r) => r,
        },
        ("GET", ["assets"]) => ok(&json!({"assets": st.assets()})),
        ("GET", ["asset-log"]) => ok(&json!({"entries": st.asset_log()})),
        ("GET", ["faults"]) => ok(&json!({"faults": st.faults()})),
        ("POST", ["faults"]) => {
            let v = match body_json(ctx) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let list = match v.get("faults") {
                Some(Value::Array(a)) => a.clone(),
                _ => return bad("faults (array) is required"),
            };
            let mut faults = Vec::with_capacity(list.len());
            for f in list {
                match serde_json::from_value::<Fault>(f) {
                    Ok(f) => faults.push(f),
                    Err(e) => return bad(&format!("Invalid fault: {e}")),
                }
            }
            match st.add_faults(faults) {
                Ok(()) => ok(&json!({"faults": st.faults()})),
                Err(e) => bad(&e.to_string()),
            }
        }
        ("DELETE", ["faults"]) => {
            st.clear_faults();
            ok(&json!({"faults": []}))
        }
        ("POST", ["seed"]) => {
            let v = match body_json(ctx) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let Some(object) = v.get("object").and_then(Value::as_str) else {
                return bad("object is required");
            };
            let Some(count) = v.get("count").and_then(Value::as_u64) else {
                return bad("count (non-negative integer) is required");
            };
            if count > 5_000_000 {
                return bad("count must be at most 5000000");
            }
            let mut connect = Vec::new();
            if let Some(c) = v.get("connect") {
                let Value::Object(map) = c else {
                    return bad("connect must be an object of field -> record id");
                };
                for (k, val) in map {
                    let Some(id) = val.as_str() else {
                        return bad("connect values must be record id strings");
                    };
                    connect.push((k.as_str(), id));
                }
            }
            match st.seed(object, count as usize, &connect) {
                Ok(r) => ok(&to_value(&r)),
                Err(e) => bad(&e.to_string()),
            }
        }
        ("POST", ["token"]) => {
            let v = match body_json(ctx) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let Some(email) = v.get("email").and_then(Value::as_str) else {
                return bad("email is required");
            };
            let remember = v.get("remember").and_then(Value::as_bool).unwrap_or(false);
            let iat = match v.get("iat") {
                None | Some(Value::Null) => None,
                Some(x) => match x.as_i64() {
                    Some(n) => Some(n),
                    None => return bad("iat must be an integer"),
                },
            };
            match st.try_issue_token(email, remember, iat) {
                Ok(t) => ok(&json!({ "token": t })),
                Err(e) => bad(&e.to_string()),
            }
        }
        ("GET", ["records", object]) => match st.schema.object(object) {
            Some(oi) => {
                let mut out = b"{\"object\":".to_vec();
                crate::json::write_str(&mut out, object);
                out.extend_from_slice(b",\"records\":");
                out.extend_from_slice(&st.records_json(oi));
                out.push(b'}');
                Resp::json(200, out)
            }
            None => Resp::error(404, &format!("Unknown object {object}")),
        },
        _ => Resp::error(404, "Unknown /_fake route"),
    }
}
