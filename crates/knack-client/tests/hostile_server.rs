//! A hostile or broken server: answers over the size cap (announced, chunked without a length,
//! compressed bombs), deeply nested JSON, invalid UTF-8, redirects to another host, bodies that
//! drip, absurd limit headers and garbage. Every case ends in a clean error with the right
//! code, quickly, and nothing reaches a host other than the configured one.

mod common;

use common::*;
use fake_knack::{FakeConfig, FakeKnack, Fault, FaultKind, RunningServer};
use knack_client::{CallOptions, Session, SessionConfig};
use knack_client::{Error, Secret};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const TICKET: &str = "0000000000000000000a1c01";

async fn fake() -> RunningServer {
    FakeKnack::start(FakeConfig::helpdesk().rate_limit(None))
        .await
        .expect("fake-knack")
}

/// Alice's login against `config`, as a caller would make it.
async fn login_alice(config: &SessionConfig) -> Result<Session, Error> {
    Session::login(
        config,
        ALICE_EMAIL,
        &Secret::new(ALICE_PASSWORD),
        false,
        &CallOptions::default(),
    )
    .await
}

async fn alice(server: &RunningServer) -> Session {
    login_alice(&config(&server.api_url()))
        .await
        .expect("login")
}

/// Every kind of call a session makes, each with its parser: list, one record, create,
/// update, delete, token check.
async fn every_call(s: &Session) -> Vec<(&'static str, Result<(), Error>)> {
    let o = CallOptions::default();
    vec![
        ("list", s.get_records(&my_tickets(), &o).await.map(drop)),
        (
            "record",
            s.get_record(&view("scene_1", "view_1"), TICKET, &o)
                .await
                .map(drop),
        ),
        (
            "create",
            s.create_record(
                &view("scene_1", "view_2"),
                &json!({"field_10": "x"}).to_string(),
                &o,
            )
            .await
            .map(drop),
        ),
        (
            "update",
            s.update_record(
                &view("scene_1", "view_3"),
                TICKET,
                &json!({"field_10": "y"}).to_string(),
                &o,
            )
            .await
            .map(drop),
        ),
        (
            "delete",
            s.delete_record(&view("scene_2", "view_4"), TICKET, &o)
                .await
                .map(drop),
        ),
        ("validate", s.validate(&o).await.map(drop)),
    ]
}

fn expect_code(what: &str, r: Result<(), Error>, code: &str) -> Error {
    let e = r
        .err()
        .unwrap_or_else(|| panic!("{what}: expected {code}, got Ok"));
    assert_eq!(e.code(), code, "{what}: {}", e.message);
    e
}

#[tokio::test]
async fn an_announced_body_over_the_cap_is_refused_before_it_is_read() {
    // Claims a terabyte, then sends nothing: the client must not wait for it or reserve it.
    let raw = RawServer::start(Script::HeadThenStall(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1099511627776\r\n\r\n"
            .into(),
    ))
    .await;
    let s = session(&config(&raw.base_url));
    let t = Instant::now();
    let e = expect_code(
        "list",
        s.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_BAD_RESPONSE",
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(
        e.message.contains("67108864-byte limit") && e.message.contains("1099511627776 bytes"),
        "{}",
        e.message
    );
    assert_eq!(e.status, Some(200));
}

#[tokio::test]
async fn an_endless_chunked_body_without_a_length_is_cut_at_the_cap() {
    // No Content-Length: the cap is enforced on the bytes as they arrive.
    let raw = RawServer::start(Script::EndlessChunked {
        chunk: 64 * 1024,
        limit: 4 << 30,
    })
    .await;
    let mut c = config(&raw.base_url);
    c.policy.max_body_bytes = 256 * 1024;
    let s = session(&c);
    let t = Instant::now();
    let e = expect_code(
        "list",
        s.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_BAD_RESPONSE",
    );
    assert!(e.message.contains("262144-byte limit"), "{}", e.message);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // The client hung up: the server could not push more than the cap plus what the socket
    // buffers hold, nowhere near the 4 GiB it had to send.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = raw.sent.load(Ordering::SeqCst);
    assert!(sent < 64 << 20, "server pushed {sent} bytes");
}

#[tokio::test]
async fn a_compressed_bomb_is_cut_at_the_cap_on_the_inflated_size() {
    // 64 MiB of zeros gzip to about 64 KiB: small on the wire, over the cap once inflated.
    let bomb = gzip_zeros(64 << 20);
    assert!(bomb.len() < 1 << 20);
    let raw = RawServer::start(gzip_json_answer(&bomb)).await;
    let mut c = config(&raw.base_url);
    c.policy.max_body_bytes = 1 << 20;
    let s = session(&c);
    let e = expect_code(
        "list",
        s.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_BAD_RESPONSE",
    );
    assert!(e.message.contains("1048576-byte limit"), "{}", e.message);
}

#[tokio::test]
async fn oversize_answers_from_fake_knack_fail_every_call_with_bad_response() {
    let server = fake().await;
    let s = alice(&server).await;
    let mut c = config(&server.api_url());
    c.policy.max_body_bytes = 64 * 1024;
    let small = Session::from_state(&c, s.state()).expect("session");
    server
        .state()
        .add_faults(vec![
            Fault::new(FaultKind::Oversize { bytes: 8 << 20 }).times(100)
        ])
        .expect("faults");
    for (what, r) in every_call(&small).await {
        let e = expect_code(what, r, "KNACK_BAD_RESPONSE");
        assert!(
            e.message.contains("65536-byte limit"),
            "{what}: {}",
            e.message
        );
    }
}

#[tokio::test]
async fn deeply_nested_json_is_a_clean_error_for_every_parser() {
    let server = fake().await;
    let s = alice(&server).await;
    // A million levels: a recursive parser without a depth limit would blow the stack.
    server
        .state()
        .add_faults(vec![
            Fault::new(FaultKind::DeepJson { depth: 1_000_000 }).times(100)
        ])
        .expect("faults");
    for (what, r) in every_call(&s).await {
        expect_code(what, r, "KNACK_BAD_RESPONSE");
    }
    // The login answer too.
    let c = config(&server.api_url());
    let r = login_alice(&c).await.map(drop);
    expect_code("login", r, "KNACK_BAD_RESPONSE");
    // And an error answer (400) whose body is deep JSON: the error is still a clean one.
    server.state().clear_faults();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    server
        .state()
        .add_faults(vec![Fault::new(FaultKind::Status {
            status: 400,
            body: json!(deep),
            content_type: Some("application/json".into()),
            headers: Default::default(),
        })])
        .expect("faults");
    let e = expect_code(
        "list",
        s.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_VALIDATION",
    );
    assert!(e.message.len() < 300, "{}", e.message);
}

#[tokio::test]
async fn invalid_utf8_is_a_clean_error_for_every_parser() {
    let server = fake().await;
    let s = alice(&server).await;
    server
        .state()
        .add_faults(vec![Fault::new(FaultKind::InvalidUtf8)])
        .expect("faults");
    expect_code(
        "list (fake-knack)",
        s.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_BAD_RESPONSE",
    );
    // Every other parser, from a raw server: a record, a delete confirmation, a token check,
    // a login answer, each with bytes that are not UTF-8 inside a string.
    let bad = b"{\"id\":\"0000000000000000000a1c01\",\"field_1\":\"\xff\xfe\xc3\x28\",\"delete\":true,\"session\":{\"user\":{\"id\":\"000000000000000000000a11\",\"token\":\"\xff\"}}}";
    let raw = RawServer::start(answer(
        "200 OK",
        &[("Content-Type", "application/json")],
        bad,
    ))
    .await;
    let c = config(&raw.base_url);
    let s = session(&c);
    for (what, r) in every_call(&s).await {
        expect_code(what, r, "KNACK_BAD_RESPONSE");
    }
    let r = login_alice(&c).await.map(drop);
    expect_code("login", r, "KNACK_BAD_RESPONSE");
    // An error answer that is not UTF-8 still maps to its status.
    let raw = RawServer::start(answer("403 Forbidden", &[], b"\xff\xfe nope \xc3\x28")).await;
    let s = session(&config(&raw.base_url));
    expect_code(
        "list (403)",
        s.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_FORBIDDEN",
    );
}

#[tokio::test]
async fn a_redirect_to_another_host_is_refused_and_nothing_reaches_that_host() {
    let server = fake().await;
    let s = alice(&server).await;
    let evil = RawServer::start(answer("200 OK", &[], b"{}")).await;
    let c = config(&server.api_url());
    for status in [301u16, 302, 303, 307, 308] {
        let location = format!("{}/steal", evil.base_url);
        server
            .state()
            .add_faults(vec![Fault::new(FaultKind::Redirect {
                status,
                location: location.clone(),
            })
            .times(100)])
            .expect("faults");
        for (what, r) in every_call(&s).await {
            let e = expect_code(what, r, "KNACK_BAD_RESPONSE");
            assert_eq!(e.status, Some(status), "{what}");
            assert!(e.message.contains("redirect"), "{what}: {}", e.message);
            assert!(!e.message.contains(&location), "{what}: {}", e.message);
        }
        // The login (which carries the password) is not re-sent either.
        let r = login_alice(&c).await.map(drop);
        expect_code("login", r, "KNACK_BAD_RESPONSE");
        server.state().clear_faults();
    }
    assert_eq!(
        evil.connections.load(Ordering::SeqCst),
        0,
        "a request reached the redirect target: {:?}",
        evil.requests.lock().map(|r| r.clone())
    );
}

#[tokio::test]
async fn a_body_that_drips_hits_the_deadline() {
    let server = fake().await;
    let s = alice(&server).await;
    // The per-attempt timeout is long; the overall deadline is what stops it.
    let mut c = config(&server.api_url());
    c.policy.timeout = Duration::from_secs(30);
    c.policy.deadline = Some(Duration::from_millis(500));
    let slow = Session::from_state(&c, s.state()).expect("session");
    server
        .state()
        .add_faults(vec![Fault::new(FaultKind::Drip { bytes_per_sec: 20 })
            .method("GET")
            .times(100)])
        .expect("faults");
    let t = Instant::now();
    let e = expect_code(
        "list",
        slow.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_TIMEOUT",
    );
    assert!(e.message.contains("deadline of 500ms"), "{}", e.message);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // With retries and only a per-attempt timeout, each attempt is cut and the call ends.
    let mut c = config(&server.api_url());
    c.policy.timeout = Duration::from_millis(300);
    c.policy.retry.max_attempts = 3;
    let retrying = Session::from_state(&c, s.state()).expect("session");
    let t = Instant::now();
    let e = expect_code(
        "list",
        retrying
            .get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_TIMEOUT",
    );
    assert_eq!(e.attempts, 3);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[tokio::test]
async fn absurd_limit_headers_do_not_crash_or_stall() {
    // Waits of 1e300 seconds, negative and non-numeric counts.
    let headers = [
        ("Retry-After", "1e300"),
        ("X-RateLimit-Remaining", "0"),
        ("X-RateLimit-Reset", "1e300"),
        ("X-PlanLimit-Limit", "-5"),
        ("X-PlanLimit-Remaining", "NaN"),
        ("X-PlanLimit-Reset", "1e300"),
    ];
    let raw = RawServer::start(answer(
        "429 Too Many Requests",
        &headers,
        b"Rate limit exceeded",
    ))
    .await;
    let s = session(&config(&raw.base_url));
    let t = Instant::now();
    let e = expect_code(
        "list",
        s.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_RATE_LIMITED",
    );
    assert!(e.retry_after_ms.is_some_and(|ms| ms <= 60_000), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(2));
    // A spent daily plan with a reset 1e300 ms away.
    let headers = [
        ("X-PlanLimit-Remaining", "0"),
        ("X-PlanLimit-Reset", "1e300"),
    ];
    let raw = RawServer::start(answer(
        "429 Too Many Requests",
        &headers,
        br#"{"errors":[{"message":"Daily API limit exceeded"}]}"#,
    ))
    .await;
    let s = session(&config(&raw.base_url));
    expect_code(
        "list",
        s.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_DAILY_LIMIT",
    );
    // The next call fails fast from the quota, without a request.
    let before = raw.connections.load(Ordering::SeqCst);
    expect_code(
        "list again",
        s.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_DAILY_LIMIT",
    );
    assert_eq!(raw.connections.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn an_answer_that_is_not_http_is_a_network_error() {
    for garbage in [
        &b"\x00\xff\x13garbage\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n{}",
        b"HTTP/1.1 999999 WHAT\r\n\r\n",
    ] {
        let raw = RawServer::start(Script::Bytes(garbage.to_vec())).await;
        let s = session(&config(&raw.base_url));
        expect_code(
            &String::from_utf8_lossy(garbage),
            s.get_records(&my_tickets(), &CallOptions::default())
                .await
                .map(drop),
            "KNACK_NETWORK",
        );
    }
    // Thousands of headers: refused by the HTTP layer, not buffered without end.
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    for i in 0..5000 {
        head.push_str(&format!("X-Filler-{i}: {}\r\n", "x".repeat(100)));
    }
    head.push_str("Content-Length: 2\r\n\r\n{}");
    let raw = RawServer::start(Script::Bytes(head.into_bytes())).await;
    let s = session(&config(&raw.base_url));
    expect_code(
        "header flood",
        s.get_records(&my_tickets(), &CallOptions::default())
            .await
            .map(drop),
        "KNACK_NETWORK",
    );
}
