//! Service sessions against fake-knack: one login for many calls whose token Knack refused,
//! refused calls (writes too) sent again exactly once, a write whose outcome is unknown never
//! sent again, a stored token adopted without a login unless it is about to expire.

mod common;

use common::*;
use fake_knack::helpdesk::ALICE_PASSWORD;
use fake_knack::{FakeConfig, FakeKnack, Fault, FaultKind, RunningServer};
use futures_util::future::join_all;
use knack_client::{CallOptions, Outcome, Secret, Session, SessionState, UserInfo};
use std::sync::Arc;

const ID: &str = "serviceserviceserviceserviceserviceservice0";

async fn fake() -> RunningServer {
    FakeKnack::start(FakeConfig::default().rate_limit(None))
        .await
        .expect("fake-knack")
}

fn logins(server: &RunningServer) -> usize {
    server
        .state()
        .log()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("/session"))
        .count()
}

async fn service(server: &RunningServer, stored: Option<SessionState>) -> Arc<Session> {
    let s = Session::service(
        &config(&server.api_url()),
        Some(ID.into()),
        ALICE_EMAIL,
        Secret::new(ALICE_PASSWORD),
        false,
        stored,
        &CallOptions::default(),
    )
    .await
    .expect("service session");
    Arc::new(s)
}

#[tokio::test]
async fn twenty_calls_refused_for_an_expired_token_cause_one_login_and_all_succeed() {
    let server = fake().await;
    let s = service(&server, None).await;
    assert_eq!(s.id(), ID);
    assert_eq!(logins(&server), 1);
    // Knack's clock moves past the token's 48 hours: every call is refused with 403.
    server.state().advance_clock(49 * 3600);
    let q = my_tickets();
    let o = CallOptions::default();
    let results = join_all((0..20).map(|_| s.get_records(&q, &o))).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(logins(&server), 2, "one login for the twenty refused calls");
    assert_eq!(s.renewals(), 1);
}

#[tokio::test]
async fn a_create_refused_for_its_token_is_sent_again_once_and_stored_once() {
    let server = fake().await;
    let s = service(&server, None).await;
    server.state().advance_clock(49 * 3600);
    let before = server.state().stats().inserts;
    s.create_record(
        &view("scene_1", "view_2"),
        r#"{"field_10":"from a job"}"#,
        &CallOptions::default(),
    )
    .await
    .expect("created after logging in again");
    assert_eq!(server.state().stats().inserts - before, 1);
    assert_eq!(logins(&server), 2);
}

#[tokio::test]
async fn a_write_whose_outcome_is_unknown_is_never_sent_again() {
    let server = fake().await;
    let s = service(&server, None).await;
    server
        .state()
        .add_faults(vec![Fault::new(FaultKind::ResetAfter)
            .method("POST")
            .path_contains("/records")])
        .expect("faults");
    let e = s
        .create_record(
            &view("scene_1", "view_2"),
            r#"{"field_10":"once"}"#,
            &CallOptions::default(),
        )
        .await
        .expect_err("the answer was lost");
    assert_eq!(e.outcome(), Outcome::Unknown);
    let posts = server
        .state()
        .log()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("/records"))
        .count();
    assert_eq!(posts, 1, "not sent again");
    assert_eq!(logins(&server), 1, "no login for a lost answer");
}

#[tokio::test]
async fn a_stored_token_is_adopted_without_a_login_unless_it_is_about_to_expire() {
    let server = fake().await;
    let first = service(&server, None).await;
    let fresh = first.state();
    let again = service(&server, Some(fresh)).await;
    assert_eq!(logins(&server), 1, "the stored token is used");
    assert_eq!(again.token().expose(), first.token().expose());

    // A stored token five minutes from its 48 hours: a new login now, not at the next call.
    let now = server.state().now();
    let old = server
        .state()
        .try_issue_token(ALICE_EMAIL, false, Some(now - 48 * 3600 + 300))
        .expect("token");
    let stale = SessionState {
        id: ID.into(),
        token: Secret::new(old.clone()),
        remember: Some(false),
        user: UserInfo::default(),
    };
    let renewed = service(&server, Some(stale)).await;
    assert_eq!(logins(&server), 2);
    assert_ne!(renewed.token().expose(), old);
    assert_eq!(renewed.id(), ID, "the stored id is kept");

    // A record stored under another id (or another "remember") is not this service's.
    let foreign = SessionState {
        id: "another-id".into(),
        ..first.state()
    };
    service(&server, Some(foreign)).await;
    assert_eq!(logins(&server), 3);
}

#[tokio::test]
async fn a_refused_login_says_the_service_could_not_log_in_again_and_the_call_fails_cleanly() {
    let server = fake().await;
    let s = service(&server, None).await;
    server.state().advance_clock(49 * 3600);
    // The account's password was changed: Knack refuses the new login.
    server
        .state()
        .add_faults(vec![Fault::new(FaultKind::Status {
            status: 401,
            body: serde_json::json!({"errors": [{"message": "Email or password incorrect."}]}),
            content_type: None,
            headers: Default::default(),
        })
        .method("POST")
        .path_contains("/session")])
        .expect("faults");
    let e = s
        .get_records(&my_tickets(), &CallOptions::default())
        .await
        .expect_err("the login is refused");
    assert_eq!(e.code(), "KNACK_LOGIN_FAILED");
    assert!(
        e.message.contains("could not log in again"),
        "{}",
        e.message
    );
    assert!(!e.message.contains(ALICE_PASSWORD));
    assert_eq!(s.renewals(), 0);
}
