//! The client over HTTPS (fake-knack with `tls(true)`): the `ca` option makes the test CA
//! trusted; without it the handshake fails once, with a message that says why.

mod common;

use common::*;
use fake_knack::{FakeConfig, FakeKnack};
use knack_client::{CallOptions, ErrorCode, Outcome, Secret, Session};

#[tokio::test]
async fn a_session_given_the_test_ca_logs_in_and_reads_over_https() {
    let server = FakeKnack::start(FakeConfig::helpdesk().rate_limit(None).tls(true))
        .await
        .expect("start");
    assert!(server.url().starts_with("https://"));
    let mut cfg = config(&server.api_url());
    cfg.app.ca = server.ca_pem().map(str::to_owned);
    let s = Session::login(
        &cfg,
        ALICE_EMAIL,
        &Secret::new(ALICE_PASSWORD),
        false,
        &CallOptions::default(),
    )
    .await
    .expect("login over https");
    let page = s
        .get_records(&my_tickets(), &CallOptions::default())
        .await
        .expect("list over https");
    assert!(page.contains("\"totalRecords\":3"), "{page}");
    assert!(server
        .state()
        .log()
        .iter()
        .all(|e| e.http_version == "HTTP/2.0"));
}

#[tokio::test]
async fn an_untrusted_certificate_fails_once_with_network_and_says_it_was_not_trusted() {
    let server = FakeKnack::start(FakeConfig::helpdesk().rate_limit(None).tls(true))
        .await
        .expect("start");
    let mut cfg = config(&server.api_url());
    cfg.policy.retry.max_attempts = 4;
    let e = session(&cfg)
        .get_records(&my_tickets(), &CallOptions::default())
        .await
        .expect_err("untrusted");
    assert_eq!(e.code, ErrorCode::Network);
    assert!(
        e.message.contains("TLS certificate was not trusted"),
        "{}",
        e.message
    );
    assert_eq!((e.attempts, e.outcome()), (1, Outcome::NotSent));
    assert!(
        server.state().log().is_empty(),
        "nothing reached the server"
    );
}
