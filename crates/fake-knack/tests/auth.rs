//! Login, tokens and token validation over real HTTP.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use fake_knack::FakeConfig;
use reqwest::Method;
use serde_json::{json, Value};

fn payload(token: &str) -> Value {
    let p = token.split('.').nth(1).expect("payload part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("b64")).expect("json")
}

#[tokio::test]
async fn login_ok_has_knack_session_shape() {
    let fx = Fx::new().await;
    let r = fx
        .login_reply("Alice@Example.com", ALICE_PASSWORD, false)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    let u = &r.json()["session"]["user"];
    assert_eq!(u["id"], ALICE_ID);
    assert_eq!(u["approval_status"], "approved");
    assert_eq!(u["empty_pass"], false);
    assert_eq!(u["profile_keys"], json!(["profile_1"]));
    assert_eq!(
        u["profile_objects"],
        json!([{"entry_id": ALICE_ID, "object": "object_1"}])
    );
    assert!(u["utility_key"].as_str().is_some_and(|k| !k.is_empty()));
    assert_eq!(u["values"]["field_1"], "Alice Customer");
    assert_eq!(u["values"]["field_2_raw"]["email"], ALICE_EMAIL);
    assert!(u["values"].get("field_3").is_none(), "password never shown");
    let token = u["token"].as_str().expect("token");
    let p = payload(token);
    assert_eq!(p["user_id"], ALICE_ID);
    assert_eq!(p["application_id"], APP_ID);
    assert!(p.get("exp").is_none());
    let iat = p["iat"].as_i64().expect("iat");
    assert!((iat - fx.server.state().now()).abs() <= 2);
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header["alg"], "HS256");
    assert_eq!(fx.stats().await["logins"], 1);
    // The login body never shows up in the log.
    let log = fx.control(Method::GET, "/_fake/log", None).await.text;
    assert!(!log.contains(ALICE_PASSWORD) && !log.contains(token));
}

#[tokio::test]
async fn login_failures() {
    let fx = Fx::new().await;
    for (email, pw) in [
        (ALICE_EMAIL, "wrong"),
        ("nobody@example.com", "x"),
        (DAVE_EMAIL, DAVE_PASSWORD),
    ] {
        let r = fx.login_reply(email, pw, false).await;
        assert_eq!(r.status, 401, "{email}");
        assert_eq!(
            r.json(),
            json!({"errors": [{"message": "Email or password incorrect."}]})
        );
    }
    // Missing password.
    let r = read(
        fx.http
            .post(fx.url(&format!("/v1/applications/{APP_ID}/session")))
            .json(&json!({"email": ALICE_EMAIL}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["errors"].as_array().is_some_and(|e| !e.is_empty()));
    // Unknown app.
    let r = read(
        fx.http
            .post(fx.url("/v1/applications/000000000000000000000000/session"))
            .json(&json!({"email": ALICE_EMAIL, "password": ALICE_PASSWORD}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(first_error(&r.json()), "Application not found");
    // The login_error switch.
    let r = fx
        .config(json!({"login_error": {"status": 400, "body": {"errors": [{"message": "nope"}]}}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = fx.login_reply(ALICE_EMAIL, "wrong", false).await;
    assert_eq!(r.status, 400);
    assert_eq!(first_error(&r.json()), "nope");
    assert_eq!(
        fx.stats().await["logins"],
        5,
        "the unknown-app login never reached the app"
    );
}

async fn token_status(fx: &Fx, token: &str) -> Reply {
    fx.get("/v1/session/token", Some(token)).await
}

#[tokio::test]
async fn token_validity_48h_and_14_days_with_remember() {
    let fx = Fx::new().await;
    let plain = fx.alice().await;
    let r = fx.login_reply(BOB_EMAIL, BOB_PASSWORD, true).await;
    let remembered = r.json()["session"]["user"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    fx.server.state().advance_clock(47 * 3600);
    assert_eq!(token_status(&fx, &plain).await.status, 200);
    fx.control(
        Method::POST,
        "/_fake/clock",
        Some(json!({"advance_seconds": 2 * 3600})),
    )
    .await;
    // Knack does not tell an expired token from a bad one: 403 "Invalid token provided".
    let r = token_status(&fx, &plain).await;
    assert_eq!(r.status, 403);
    assert_eq!(first_error(&r.json()), INVALID_TOKEN);
    // Views reject it the same way.
    let r = fx.get(&view_path("scene_1", "view_1"), Some(&plain)).await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (403, INVALID_TOKEN.into())
    );
    // Remembered: still fine after 13 days, expired after 15.
    fx.server.state().advance_clock(11 * 24 * 3600);
    assert_eq!(token_status(&fx, &remembered).await.status, 200);
    fx.server.state().advance_clock(2 * 24 * 3600);
    assert_eq!(token_status(&fx, &remembered).await.status, 403);
}

#[tokio::test]
async fn token_validation_route() {
    let fx = Fx::new().await;
    let token = fx.carol().await;
    let r = token_status(&fx, &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let u = &r.json()["session"]["user"];
    assert_eq!(u["id"], CAROL_ID);
    assert_eq!(u["email"], CAROL_EMAIL);
    assert_eq!(u["status"], "current");
    assert_eq!(u["account_status"], "active");
    assert_eq!(u["approval_status"], "approved");
    assert_eq!(u["profile_keys"], json!(["profile_2"]));
    assert_eq!(u["values"]["field_5"], "Carol Agent");

    // Header checks.
    let r = read(
        fx.http
            .get(fx.url("/v1/session/token"))
            .header("Authorization", &token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(first_error(&r.json()), "Missing X-Knack-Application-Id");
    let r = read(
        fx.http
            .get(fx.url("/v1/session/token"))
            .header("authorization", &token)
            .header("x-knack-application-id", "5f0c0ffee0c0ffee0c0ffee2")
            .send()
            .await
            .expect("send"),
    )
    .await;
    // Another app's id: as recorded, a text/html 500.
    assert_eq!((r.status, r.text.as_str()), (500, "Internal Server Error"));

    // Forged, malformed, Bearer-prefixed, missing, other-server tokens.
    let mut forged = token.clone();
    let last = forged.pop().expect("char");
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let other = fake_knack::FakeKnack::start(FakeConfig::helpdesk())
        .await
        .expect("other");
    let other_token = other.state().issue_token(ALICE_EMAIL, false);
    for bad in [
        forged.as_str(),
        "not-a-token",
        &format!("Bearer {token}"),
        other_token.as_str(),
    ] {
        let r = token_status(&fx, bad).await;
        assert_eq!(r.status, 403, "{bad}");
        assert_eq!(r.json(), json!({"errors": [{"message": INVALID_TOKEN}]}));
    }
    let r = fx.get("/v1/session/token", None).await;
    assert_eq!(r.status, 403);
    // Switch the status.
    fx.config(json!({"token_error_status": 401})).await;
    let r = token_status(&fx, "junk").await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (401, INVALID_TOKEN.into())
    );
}

#[tokio::test]
async fn crafted_tokens() {
    let fx = Fx::new().await;
    let helper = fx.server.state().issue_token(ALICE_EMAIL, false);
    assert_eq!(token_status(&fx, &helper).await.status, 200);
    let now = fx.server.state().now();
    let r = fx
        .control(
            Method::POST,
            "/_fake/token",
            Some(json!({"email": BOB_EMAIL, "iat": now - 49 * 3600})),
        )
        .await;
    let old = r.json()["token"].as_str().expect("token").to_string();
    assert_eq!(payload(&old)["iat"], now - 49 * 3600);
    assert_eq!(
        first_error(&token_status(&fx, &old).await.json()),
        INVALID_TOKEN
    );
    let r = fx
        .control(
            Method::POST,
            "/_fake/token",
            Some(json!({"email": BOB_EMAIL, "iat": now - 49 * 3600, "remember": true})),
        )
        .await;
    let remembered = r.json()["token"].as_str().expect("token").to_string();
    assert_eq!(token_status(&fx, &remembered).await.status, 200);
    let r = fx
        .control(
            Method::POST,
            "/_fake/token",
            Some(json!({"email": "x@y.z"})),
        )
        .await;
    assert_eq!(r.status, 400);
    // A pending user's token is never valid.
    let dave = fx.server.state().issue_token(DAVE_EMAIL, false);
    assert_eq!(token_status(&fx, &dave).await.status, 403);
}
