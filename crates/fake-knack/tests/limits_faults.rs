//! Rate and daily limits, limit headers, CORS, and every fault kind.

mod common;

use std::time::{Duration, Instant};

use common::*;
use fake_knack::{FakeConfig, Window};
use reqwest::Method;
use serde_json::{json, Value};

const ARTICLES_PATH: &str = "/v1/pages/scene_4/views/view_8/records";

#[tokio::test]
async fn fixed_window_rate_limit() {
    let fx = Fx::with(FakeConfig::helpdesk().rate_limit(Some(3))).await;
    let mut replies = Vec::new();
    for _ in 0..10 {
        replies.push(fx.get(ARTICLES_PATH, None).await);
    }
    let limited: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    // Ten quick requests span at most two wall-clock seconds: at most 6 pass.
    assert!(limited.len() >= 4, "{} limited", limited.len());
    let r = limited[0];
    assert_eq!(r.text, "Rate limit exceeded");
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
    let reset: i64 = r
        .header("x-ratelimit-reset")
        .expect("reset")
        .parse()
        .expect("int");
    let now = fx.server.state().now();
    assert!(reset == now + 1 || reset == now, "reset {reset} now {now}");
    assert!(r.header("x-planlimit-limit").is_some());
    let ok = replies
        .iter()
        .find(|r| r.status == 200)
        .expect("some passed");
    assert!(ok.header("x-ratelimit-remaining").is_some());
    let stats = fx.stats().await;
    assert_eq!(stats["requests"], 10);
    assert_eq!(stats["rate_limited"].as_u64(), Some(limited.len() as u64));
    assert!(stats["max_in_any_second"].as_u64() >= Some(10));
    // A rate-limited write changes nothing.
    let token = fx.server.state().issue_token(ALICE_EMAIL, false);
    let mut inserted = 0;
    for i in 0..8 {
        let r = fx
            .send_json(
                Method::POST,
                &view_path("scene_1", "view_2"),
                Some(&token),
                &json!({"field_10": format!("t{i}")}),
            )
            .await;
        if r.status == 200 {
            inserted += 1;
        } else {
            assert_eq!(r.status, 429);
        }
    }
    assert!(inserted < 8);
    assert_eq!(fx.records("object_3").await.len(), 5 + inserted);
    assert_eq!(fx.stats().await["inserts"].as_u64(), Some(inserted as u64));
    // Entries of limited requests are logged with applied=false.
    let log = fx.log().await;
    assert!(log
        .iter()
        .any(|e| e["status"] == 429 && e["applied"] == false));
}

#[tokio::test]
async fn sliding_window_rate_limit() {
    let fx = Fx::with(
        FakeConfig::helpdesk()
            .rate_limit(Some(2))
            .rate_window(Window::Sliding),
    )
    .await;
    assert_eq!(fx.get(ARTICLES_PATH, None).await.status, 200);
    assert_eq!(fx.get(ARTICLES_PATH, None).await.status, 200);
    assert_eq!(fx.get(ARTICLES_PATH, None).await.status, 429);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(fx.get(ARTICLES_PATH, None).await.status, 200);
    // Switch the limit off at run time: no rate headers any more.
    let r = fx.config(json!({"rate_limit": null})).await;
    assert_eq!(r.json()["rate_limit"], Value::Null);
    for _ in 0..5 {
        let r = fx.get(ARTICLES_PATH, None).await;
        assert_eq!(r.status, 200);
        assert!(r.header("x-ratelimit-limit").is_none());
        assert!(r.header("x-planlimit-remaining").is_some());
    }
    let r = fx
        .config(json!({"rate_limit": {"per_second": 1, "window": "fixed"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["rate_limit"],
        json!({"per_second": 1, "window": "fixed"})
    );
}

#[tokio::test]
async fn daily_limit() {
    let fx = Fx::with(FakeConfig::helpdesk().rate_limit(None).daily_limit(Some(3))).await;
    for left in ["2", "1", "0"] {
        let r = fx.get(ARTICLES_PATH, None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-planlimit-limit"), Some("3"));
        assert_eq!(r.header("x-planlimit-remaining"), Some(left));
        let reset: i64 = r
            .header("x-planlimit-reset")
            .expect("reset")
            .parse()
            .expect("int");
        assert!(reset > 0 && reset <= 86_400_000);
    }
    let r = fx.get(ARTICLES_PATH, None).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.json(),
        json!({"errors": [{"message": "Daily API limit exceeded"}]})
    );
    assert_eq!(r.header("x-planlimit-remaining"), Some("0"));
    // Login counts too.
    assert_eq!(
        fx.login_reply(ALICE_EMAIL, ALICE_PASSWORD, false)
            .await
            .status,
        429
    );
    let s = fx.stats().await;
    assert_eq!(
        (s["daily_limited"].as_u64(), s["plan_remaining"].as_u64()),
        (Some(2), Some(0))
    );
    // A new server day resets it.
    fx.control(
        Method::POST,
        "/_fake/clock",
        Some(json!({"advance_seconds": 86_400})),
    )
    .await;
    assert_eq!(fx.get(ARTICLES_PATH, None).await.status, 200);
    // Unlimited shows 1000000.
    fx.config(json!({"daily_limit": null})).await;
    let r = fx.get(ARTICLES_PATH, None).await;
    assert_eq!(r.header("x-planlimit-limit"), Some("1000000"));
}

#[tokio::test]
async fn every_v1_response_has_limit_headers_and_cors() {
    let fx = Fx::with(FakeConfig::helpdesk()).await;
    for path in [
        ARTICLES_PATH,
        "/v1/nope",
        &format!("/v1/applications/{APP_ID}"),
    ] {
        let r = fx.get(path, None).await;
        assert!(r.header("x-planlimit-limit").is_some(), "{path}");
        assert_eq!(r.header("x-ratelimit-limit"), Some("10"), "{path}");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    }
    let r = read(
        fx.http
            .request(Method::OPTIONS, fx.url(ARTICLES_PATH))
            .header("Origin", "http://example.com")
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert!(r.status == 204 || r.status == 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let allow = r
        .header("access-control-allow-headers")
        .expect("allow")
        .to_ascii_lowercase();
    for h in [
        "x-knack-application-id",
        "x-knack-rest-api-key",
        "authorization",
        "content-type",
    ] {
        assert!(allow.contains(h), "{h}");
    }
    // /_fake is neither counted nor limited; OPTIONS is not counted.
    let s = fx.stats().await;
    assert_eq!(s["requests"], 3);
    assert_eq!(s["plan_remaining"], 25_000 - 3);
}

#[tokio::test]
async fn max_in_any_second_counts_bursts() {
    let fx = Fx::new().await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let http = fx.http.clone();
        let url = fx.url(ARTICLES_PATH);
        set.spawn(async move {
            http.get(url)
                .header("X-Knack-Application-Id", APP_ID)
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    while let Some(r) = set.join_next().await {
        assert_eq!(r.expect("join").expect("send"), 200);
    }
    assert!(fx.stats().await["max_in_any_second"].as_u64() >= Some(8));
}

// ----------------------------------------------------------------------------------------
// Faults
// ----------------------------------------------------------------------------------------

fn raw_get(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Knack-Application-Id: {APP_ID}\r\nConnection: close\r\n\r\n"
    )
}

fn raw_post(path: &str, token: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Knack-Application-Id: {APP_ID}\r\nAuthorization: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn status_faults() {
    let fx = Fx::new().await;
    let token = fx.alice().await;
    let form = view_path("scene_1", "view_2");
    fx.faults(json!([
        {"method": "POST", "path_contains": "view_2", "kind": "status", "status": 503,
         "body": "<html>down</html>", "content_type": "text/html", "headers": {"Retry-After": "1"}},
        {"method": "POST", "path_contains": "view_2", "kind": "status_after_apply", "status": 500,
         "body": {"errors": [{"message": "boom"}]}}
    ]))
    .await;
    let r = fx
        .send_json(
            Method::POST,
            &form,
            Some(&token),
            &json!({"field_10": "one"}),
        )
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.text, "<html>down</html>");
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.header("x-planlimit-limit").is_some());
    assert_eq!(
        fx.records("object_3").await.len(),
        5,
        "status fault does not apply"
    );
    let r = fx
        .send_json(
            Method::POST,
            &form,
            Some(&token),
            &json!({"field_10": "two"}),
        )
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(first_error(&r.json()), "boom");
    let recs = fx.records("object_3").await;
    assert_eq!(recs.len(), 6, "status_after_apply applies");
    assert_eq!(recs[5]["field_10"], "two");
    // Queue is empty now: normal again.
    let r = fx
        .send_json(
            Method::POST,
            &form,
            Some(&token),
            &json!({"field_10": "three"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let log = fx.log().await;
    let posts = || {
        log.iter()
            .filter(|e| e["path"].as_str().is_some_and(|p| p.contains("view_2")))
    };
    let kinds: Vec<Value> = posts().map(|e| e["fault"].clone()).collect();
    assert_eq!(
        kinds,
        vec![json!("status"), json!("status_after_apply"), Value::Null]
    );
    let applied: Vec<Value> = posts().map(|e| e["applied"].clone()).collect();
    assert_eq!(applied, vec![json!(false), json!(true), json!(true)]);
}

#[tokio::test]
async fn reset_faults_drop_the_connection() {
    let fx = Fx::new().await;
    let token = fx.alice().await;
    let form = view_path("scene_1", "view_2");
    fx.faults(json!([{"kind": "reset_before", "path_contains": "view_2"}]))
        .await;
    let (bytes, closed) = fx
        .raw(&raw_post(&form, &token, r#"{"field_10":"lost"}"#))
        .await;
    assert!(
        closed && bytes.is_empty(),
        "got {:?}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(fx.records("object_3").await.len(), 5);

    fx.faults(json!([{"kind": "reset_after", "path_contains": "view_2"}]))
        .await;
    let (bytes, closed) = fx
        .raw(&raw_post(&form, &token, r#"{"field_10":"applied"}"#))
        .await;
    assert!(closed && bytes.is_empty());
    let recs = fx.records("object_3").await;
    assert_eq!(recs.len(), 6);
    assert_eq!(recs[5]["field_10"], "applied");

    // A real client sees a connection error.
    fx.faults(json!([{"kind": "reset_before"}])).await;
    let err = fx
        .http
        .get(fx.url(ARTICLES_PATH))
        .header("X-Knack-Application-Id", APP_ID)
        .send()
        .await;
    assert!(err.is_err(), "{err:?}");
    let log = fx.log().await;
    let resets: Vec<&Value> = log.iter().filter(|e| e["status"].is_null()).collect();
    assert_eq!(resets.len(), 3);
    assert_eq!(resets[1]["fault"], "reset_after");
    assert_eq!(resets[1]["applied"], true);
    // The server keeps serving.
    assert_eq!(fx.get(ARTICLES_PATH, None).await.status, 200);
}

#[tokio::test]
async fn truncate_sends_half_the_body() {
    let fx = Fx::new().await;
    let full = fx.get(ARTICLES_PATH, None).await.text;
    fx.faults(json!([{"kind": "truncate", "path_contains": "view_8", "times": 2}]))
        .await;
    let (bytes, closed) = fx.raw(&raw_get(ARTICLES_PATH)).await;
    assert!(closed);
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no headers in {text:?}"));
    assert!(head.starts_with("HTTP/1.1 200"));
    let cl = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_string)
        })
        .expect("content-length");
    assert_eq!(cl.parse::<usize>().expect("len"), full.len());
    assert_eq!(body.len(), full.len() / 2);
    assert_eq!(body, &full[..full.len() / 2]);
    // reqwest sees a body error.
    let resp = fx
        .req(Method::GET, ARTICLES_PATH, None)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.is_err());
}

#[tokio::test]
async fn body_faults() {
    let fx = Fx::new().await;
    let token = fx.alice().await;
    fx.faults(json!([{"kind": "invalid_json", "method": "POST"}]))
        .await;
    let r = fx
        .send_json(
            Method::POST,
            &view_path("scene_1", "view_2"),
            Some(&token),
            &json!({"field_10": "x"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<Value>(&r.text).is_err());
    assert_eq!(
        fx.records("object_3").await.len(),
        6,
        "invalid_json applies"
    );

    fx.faults(json!([{"kind": "oversize", "bytes": 100_000}]))
        .await;
    let r = fx
        .req(Method::GET, ARTICLES_PATH, None)
        .send()
        .await
        .expect("send");
    let b = r.bytes().await.expect("bytes");
    assert_eq!(b.len(), 100_000);
    assert!(serde_json::from_slice::<Value>(&b)
        .expect("valid json")
        .is_array());

    fx.faults(json!([{"kind": "deep_json", "depth": 1000}]))
        .await;
    let b = fx
        .req(Method::GET, ARTICLES_PATH, None)
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(b.len(), 2000);
    assert!(b.starts_with(b"[[[[") && b.ends_with(b"]]]]"));

    fx.faults(json!([{"kind": "invalid_utf8"}])).await;
    let r = fx
        .req(Method::GET, ARTICLES_PATH, None)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let b = r.bytes().await.expect("bytes");
    assert!(std::str::from_utf8(&b).is_err());

    fx.faults(
        json!([{"kind": "redirect", "status": 301, "location": "http://127.0.0.1:9/elsewhere"}]),
    )
    .await;
    let r = fx.get(ARTICLES_PATH, None).await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("http://127.0.0.1:9/elsewhere"));
}

#[tokio::test]
async fn timing_faults() {
    let fx = Fx::new().await;
    fx.faults(json!([{"kind": "delay", "ms": 300}])).await;
    let t = Instant::now();
    let r = fx.get(ARTICLES_PATH, None).await;
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.json()["total_records"], 3);

    let full = fx.get(ARTICLES_PATH, None).await.text;
    let rate = (full.len() as u64) * 2; // about half a second
    fx.faults(json!([{"kind": "drip", "bytes_per_sec": rate}]))
        .await;
    let t = Instant::now();
    let r = fx.get(ARTICLES_PATH, None).await;
    let took = t.elapsed();
    assert_eq!(r.text, full, "drip sends the real body");
    assert!(took >= Duration::from_millis(350), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");

    fx.config(json!({"latency_ms": 200})).await;
    let t = Instant::now();
    assert_eq!(fx.get(ARTICLES_PATH, None).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn fault_matching_and_clearing() {
    let fx = Fx::new().await;
    let r = fx
        .control(
            Method::POST,
            "/_fake/faults",
            Some(json!({"faults": [{"kind": "explode"}]})),
        )
        .await;
    assert_eq!(r.status, 400);
    fx.faults(json!([
        {"kind": "status", "status": 502, "method": "GET", "path_contains": "view_9", "times": 2},
        {"kind": "status", "status": 504}
    ]))
    .await;
    // view_8 does not match the first fault, so the catch-all takes it.
    assert_eq!(fx.get(ARTICLES_PATH, None).await.status, 504);
    assert_eq!(fx.get(ARTICLES_PATH, None).await.status, 200);
    let one = rec_path("scene_4", "view_9", ARTICLES[0]);
    assert_eq!(fx.get(&one, None).await.status, 502);
    let left = fx.control(Method::GET, "/_fake/faults", None).await.json();
    assert_eq!(left["faults"][0]["times"], 1);
    fx.control(Method::DELETE, "/_fake/faults", None).await;
    assert_eq!(fx.get(&one, None).await.status, 200);
}
