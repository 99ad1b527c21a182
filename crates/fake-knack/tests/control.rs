//! The /_fake control API, metadata, seeding at scale, the library lifecycle and the binary.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fake_knack::{FakeConfig, FakeKnack, Fault, FaultKind, Fixture, Switches, WriteResponse};
use reqwest::Method;
use serde_json::{json, Value};

const ARTICLES_PATH: &str = "/v1/pages/scene_4/views/view_8/records";

#[tokio::test]
async fn reset_restores_everything() {
    let fx = Fx::with(FakeConfig::helpdesk().rate_limit(None).seed_tickets(7)).await;
    let token = fx.carol().await;
    let start_total = fx
        .get(&view_path("scene_2", "view_4"), Some(&token))
        .await
        .json()["total_records"]
        .clone();
    assert_eq!(start_total, 12);
    let del = rec_path("scene_2", "view_4", ALICE_TICKETS[0]);
    assert_eq!(
        read(
            fx.req(Method::DELETE, &del, Some(&token))
                .send()
                .await
                .expect("send")
        )
        .await
        .status,
        200
    );
    fx.config(json!({"not_found_status": 400, "write_response": "bare"}))
        .await;
    fx.faults(json!([{"kind": "status", "status": 500}])).await;
    fx.control(
        Method::POST,
        "/_fake/clock",
        Some(json!({"advance_seconds": 3600})),
    )
    .await;
    fx.control(
        Method::POST,
        "/_fake/seed",
        Some(json!({"object": "object_5", "count": 5})),
    )
    .await;

    let r = fx.control(Method::POST, "/_fake/reset", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(fx.records("object_3").await.len(), 12);
    assert_eq!(fx.records("object_5").await.len(), 3);
    assert!(fx.log().await.is_empty());
    let s = fx.stats().await;
    assert_eq!(
        (
            s["requests"].as_u64(),
            s["deletes"].as_u64(),
            s["logins"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(s["max_in_any_second"], 0);
    let cfg = fx.control(Method::GET, "/_fake/config", None).await.json();
    assert_eq!(cfg["not_found_status"], 404);
    assert_eq!(cfg["write_response"], "wrapped");
    assert_eq!(
        cfg["rate_limit"],
        Value::Null,
        "startup config, not the defaults"
    );
    assert_eq!(
        fx.control(Method::GET, "/_fake/faults", None).await.json()["faults"],
        json!([])
    );
    let now = fx.control(Method::GET, "/_fake/clock", None).await.json()["now"]
        .as_i64()
        .expect("now");
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    assert!((now - real).abs() <= 2);
    // Tokens survive a reset (same secret).
    assert_eq!(
        fx.get(&view_path("scene_2", "view_4"), Some(&token))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn stats_and_log() {
    let fx = Fx::new().await;
    let token = fx.alice().await;
    let r = fx
        .req(
            Method::GET,
            &format!("{}?rows_per_page=2", view_path("scene_1", "view_1")),
            Some(&token),
        )
        .header("X-Knack-REST-API-Key", "knack")
        .header("User-Agent", "fake-test/1")
        .header("X-Request-Id", "req-42")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    fx.get("/v1/does/not/exist", None).await;
    let s = fx.stats().await;
    for k in [
        "requests",
        "rate_limited",
        "daily_limited",
        "inserts",
        "updates",
        "deletes",
        "logins",
        "plan_remaining",
        "max_in_any_second",
    ] {
        assert!(s[k].is_u64(), "{k} in {s}");
    }
    assert_eq!(s["requests"], 3);
    assert_eq!(s["logins"], 1);
    assert_eq!(s["plan_remaining"], 25_000 - 3);
    let log = fx.log().await;
    assert_eq!(log.len(), 3);
    let e = &log[1];
    assert_eq!(e["seq"], 2);
    assert_eq!(e["method"], "GET");
    assert_eq!(e["path"], "/v1/pages/scene_1/views/view_1/records");
    assert_eq!(e["query"], "rows_per_page=2");
    assert_eq!(e["status"], 200);
    assert_eq!(e["user_id"], ALICE_ID);
    assert_eq!(e["authorization_present"], true);
    assert_eq!(e["api_key"], "knack");
    assert_eq!(e["applied"], false);
    assert_eq!(e["fault"], Value::Null);
    assert_eq!(e["headers"]["x-knack-application-id"], APP_ID);
    assert_eq!(e["headers"]["user-agent"], "fake-test/1");
    assert_eq!(e["headers"]["x-request-id"], "req-42");
    assert!(e["headers"].get("authorization").is_none());
    assert!(e["t_ms"].as_i64().is_some_and(|t| t > 1_600_000_000_000));
    assert_eq!(log[2]["status"], 404);
    assert_eq!(log[2]["user_id"], Value::Null);
    let text = fx.control(Method::GET, "/_fake/log", None).await.text;
    assert!(!text.contains(&token) && !text.contains(ALICE_PASSWORD));
    let since = fx
        .control(Method::GET, "/_fake/log?since=2", None)
        .await
        .json();
    assert_eq!(since["entries"].as_array().map(Vec::len), Some(1));
    // The Rust API says the same.
    assert_eq!(fx.server.state().stats().requests, 3);
    assert_eq!(fx.server.state().log().len(), 3);
}

#[tokio::test]
async fn config_endpoint() {
    let fx = Fx::new().await;
    let r = fx.config(json!({"bogus": 1})).await;
    assert_eq!(r.status, 400);
    assert!(first_error(&r.json()).contains("bogus"));
    let r = fx.config(json!({"not_found_status": 40})).await;
    assert_eq!(r.status, 400);
    let r = fx.config(json!({"rate_limit": {"per_second": 0}})).await;
    assert_eq!(r.status, 400);
    let r = fx
        .config(json!({"latency_ms": 0, "daily_limit": 10, "overstate_total_records": 2}))
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["daily_limit"], 10);
    assert_eq!(v["overstate_total_records"], 2);
    assert_eq!(v["token_error_status"], 403);
    assert_eq!(v["error_bodies"], "recorded");
    assert_eq!(v["rate_limit_body"], "text");
    assert_eq!(v["current_page_string"], true);
    assert_eq!(
        fx.control(Method::POST, "/_fake/config", None).await.status,
        200
    );
    assert_eq!(
        fx.control(Method::GET, "/_fake/nope", None).await.status,
        404
    );
    // Same through the Rust API.
    let st = fx.server.state();
    let sw = st
        .configure(&json!({"write_response": "bare"}))
        .expect("configure");
    assert_eq!(sw.write_response, WriteResponse::Bare);
    assert!(st.configure(&json!({"nope": true})).is_err());
}

#[tokio::test]
async fn clock_endpoint() {
    let fx = Fx::new().await;
    let before = fx.control(Method::GET, "/_fake/clock", None).await.json()["now"]
        .as_i64()
        .expect("now");
    let r = fx
        .control(
            Method::POST,
            "/_fake/clock",
            Some(json!({"advance_seconds": 86_400 * 3})),
        )
        .await;
    let after = r.json()["now"].as_i64().expect("now");
    assert!((after - before - 86_400 * 3).abs() <= 1);
    assert_eq!(
        fx.control(Method::POST, "/_fake/clock", Some(json!({})))
            .await
            .status,
        400
    );
    // Login iat uses the server clock.
    let t = fx.alice().await;
    let r = fx.get("/v1/session/token", Some(&t)).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn seed_records_and_metadata() {
    let fx = Fx::new().await;
    let r = fx
        .control(
            Method::POST,
            "/_fake/seed",
            Some(json!({"object": "object_3", "count": 3, "connect": {"field_14": BOB_ID}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["count"], 3);
    assert_eq!(v["total"], 8);
    let from = v["ids_from"].as_str().expect("from").to_string();
    let to = v["ids_to"].as_str().expect("to").to_string();
    assert!(from.len() == 24 && to.len() == 24 && from < to);
    let bob = fx.bob().await;
    let ids = fx
        .get(&view_path("scene_1", "view_1"), Some(&bob))
        .await
        .ids();
    assert_eq!(ids.len(), 5);
    assert_eq!(ids[2], from);
    assert_eq!(ids[4], to);
    for bad in [
        json!({"object": "object_99", "count": 1}),
        json!({"object": "object_3"}),
        json!({"object": "object_3", "count": 1, "connect": {"field_14": "ffffffffffffffffffffffff"}}),
        json!({"object": "object_3", "count": 1, "connect": {"field_10": BOB_ID}}),
    ] {
        assert_eq!(
            fx.control(Method::POST, "/_fake/seed", Some(bad.clone()))
                .await
                .status,
            400,
            "{bad}"
        );
    }
    let r = fx
        .control(Method::GET, "/_fake/records/object_99", None)
        .await;
    assert_eq!(r.status, 404);
    let recs = fx.records("object_1").await;
    assert_eq!(recs.len(), 3);
    assert!(
        recs.iter().all(|r| r.get("field_3").is_none()),
        "passwords are never shown"
    );

    // Metadata.
    let r = fx.get(&format!("/v1/applications/{APP_ID}"), None).await;
    assert_eq!(r.status, 200);
    let app = &r.json()["application"];
    assert_eq!(app["id"], APP_ID);
    assert_eq!(app["name"], "Helpdesk");
    assert_eq!(app["slug"], "helpdesk");
    assert_eq!(app["account"]["slug"], "helpdesk");
    assert_eq!(app["settings"]["timezone"], "Central Time (US & Canada)");
    let scenes = app["scenes"].as_array().expect("scenes");
    assert_eq!(scenes.len(), 6);
    let s3 = scenes
        .iter()
        .find(|s| s["key"] == "scene_3")
        .expect("scene_3");
    assert_eq!(s3["slug"], "ticket");
    assert_eq!(s3["parent"], "my-tickets");
    assert_eq!(
        s3["views"][0],
        json!({"key": "view_6", "name": "Comments", "type": "table", "source": {"object": "object_4"}, "fields": ["field_20", "field_21", "field_22"]})
    );
    let objects = app["objects"].as_array().expect("objects");
    assert_eq!(objects.len(), 5);
    let tickets = objects
        .iter()
        .find(|o| o["key"] == "object_3")
        .expect("object_3");
    assert_eq!(tickets["name"], "Tickets");
    assert_eq!(
        tickets["fields"][0],
        json!({"key": "field_10", "name": "Subject", "type": "short_text", "required": true})
    );
    assert_eq!(tickets["fields"].as_array().map(Vec::len), Some(8));
    let r = fx
        .get("/v1/applications/000000000000000000000000", None)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn seeding_and_paging_100k() {
    let fx = Fx::new().await;
    let t = Instant::now();
    let r = fx
        .control(
            Method::POST,
            "/_fake/seed",
            Some(
                json!({"object": "object_3", "count": 100_000, "connect": {"field_14": ALICE_ID}}),
            ),
        )
        .await;
    let seeded_in = t.elapsed();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["total"], 100_005);
    // Debug builds are ~10x slower than release; release seeds 100k in well under 0.2 s.
    assert!(
        seeded_in < Duration::from_secs(3),
        "seeding took {seeded_in:?}"
    );
    let token = fx.alice().await;
    let p = view_path("scene_1", "view_1");
    let t = Instant::now();
    let mut seen = 0usize;
    let mut page = 1;
    #[derive(serde::Deserialize)]
    struct Page {
        total_pages: u64,
        /// Echoed as the string `page` was (recorded Knack behaviour).
        current_page: String,
        total_records: u64,
        records: Vec<serde::de::IgnoredAny>,
    }
    loop {
        let body = fx
            .req(
                Method::GET,
                &format!("{p}?rows_per_page=1000&page={page}&format=raw"),
                Some(&token),
            )
            .send()
            .await
            .expect("send")
            .bytes()
            .await
            .expect("body");
        let v: Page = serde_json::from_slice(&body).expect("page");
        let n = v.records.len();
        if n == 0 {
            break;
        }
        seen += n;
        if v.current_page == v.total_pages.to_string() {
            assert_eq!(v.total_records, 100_003);
            break;
        }
        page += 1;
    }
    assert_eq!(seen, 100_003);
    eprintln!(
        "seeded 100k in {seeded_in:?}, paged through them in {:?}",
        t.elapsed()
    );
    // A filtered, sorted query over all of them.
    let f = enc(&json!([{"field": "field_13", "operator": "is", "value": 5}]).to_string());
    let v = fx
        .get(
            &format!("{p}?filters={f}&sort_field=field_10&sort_order=desc&rows_per_page=10"),
            Some(&token),
        )
        .await
        .json();
    assert_eq!(v["total_records"], 20_001);
}

#[tokio::test]
async fn library_lifecycle_and_rust_api() {
    let server = FakeKnack::start(FakeConfig::helpdesk().rate_limit(None))
        .await
        .expect("start");
    let url = server.url().to_string();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    assert_eq!(server.app_id(), APP_ID);
    assert_eq!(server.api_url(), format!("{url}/v1"));
    let http = client();
    let st = server.state();
    st.add_faults(vec![
        Fault::new(FaultKind::status(418, "teapot")).path_contains("view_8")
    ])
    .expect("faults");
    let r = http
        .get(format!("{url}{ARTICLES_PATH}"))
        .header("X-Knack-Application-Id", APP_ID)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 418);
    let seeded = st.seed("object_5", 2, &[]).expect("seed");
    assert_eq!(seeded.total, 5);
    assert_eq!(st.records("object_5").expect("records").len(), 5);
    assert!(st.records("nope").is_err());
    assert!(st
        .try_issue_token("nobody@example.com", false, None)
        .is_err());
    server.shutdown().await;
    assert!(
        http.get(format!("{url}{ARTICLES_PATH}"))
            .send()
            .await
            .is_err(),
        "stopped"
    );

    // Dropping stops it too.
    let server = FakeKnack::start(FakeConfig::helpdesk())
        .await
        .expect("start");
    let url = server.url().to_string();
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        client()
            .get(format!("{url}{ARTICLES_PATH}"))
            .send()
            .await
            .is_err(),
        "dropped"
    );

    // A parsed fixture and switches.
    let fixture = Fixture::load(fake_knack::helpdesk_fixture_path()).expect("fixture");
    assert_eq!(fixture.app_id(), APP_ID);
    let sw = Switches {
        not_found_status: 400,
        ..Switches::default()
    };
    let server = FakeKnack::start(FakeConfig::from_fixture(fixture).switches(sw))
        .await
        .expect("start");
    let r = client()
        .get(format!("{}/v1/pages/x/views/y/records", server.url()))
        .header("X-Knack-Application-Id", APP_ID)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    // A bad fixture is an error, not a panic.
    assert!(Fixture::from_json_str("{}").is_err());
    assert!(
        FakeKnack::start(FakeConfig::from_fixture_path("/nonexistent.json"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn many_concurrent_clients() {
    let fx = Fx::with(FakeConfig::helpdesk().rate_limit(None).seed_tickets(5_000)).await;
    let token = fx.server.state().issue_token(CAROL_EMAIL, false);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..64 {
        let http = client();
        let url = fx.url(&format!(
            "{}?rows_per_page=100&page={}",
            view_path("scene_2", "view_4"),
            i % 50 + 1
        ));
        let token = token.clone();
        set.spawn(async move {
            let mut ok = 0;
            for _ in 0..5 {
                let r = http
                    .get(&url)
                    .header("X-Knack-Application-Id", APP_ID)
                    .header("Authorization", &token)
                    .send()
                    .await
                    .expect("send");
                assert_eq!(r.status(), 200);
                let v: Value = r.json().await.expect("json");
                assert_eq!(v["records"].as_array().map(Vec::len), Some(100));
                ok += 1;
            }
            ok
        });
    }
    let mut total = 0;
    while let Some(r) = set.join_next().await {
        total += r.expect("join");
    }
    assert_eq!(total, 320);
    assert_eq!(fx.stats().await["requests"], 320);
}

#[test]
fn binary_prints_one_line_and_exits_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-knack"))
        .args([
            "--fixture",
            fake_knack::helpdesk_fixture_path().to_str().expect("path"),
            "--port",
            "0",
            "--rate-limit",
            "off",
            "--daily-limit",
            "off",
            "--seed-tickets",
            "10",
            "--window",
            "sliding",
            "--latency-ms",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("line");
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .expect("prefix")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    assert!(
        url["http://127.0.0.1:".len()..].parse::<u16>().is_ok(),
        "{line:?}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let count = rt.block_on(async {
        let token = {
            let r = client()
                .post(format!("{url}/v1/applications/{APP_ID}/session"))
                .json(&json!({"email": CAROL_EMAIL, "password": CAROL_PASSWORD}))
                .send()
                .await
                .expect("login");
            let v: Value = r.json().await.expect("json");
            v["session"]["user"]["token"]
                .as_str()
                .expect("token")
                .to_string()
        };
        let r = client()
            .get(format!("{url}/v1/pages/agent-desk/views/view_4/records"))
            .header("X-Knack-Application-Id", APP_ID)
            .header("Authorization", token)
            .send()
            .await
            .expect("get");
        assert!(r.headers().get("x-ratelimit-limit").is_none());
        assert_eq!(
            r.headers()
                .get("x-planlimit-limit")
                .and_then(|v| v.to_str().ok()),
            Some("1000000")
        );
        let v: Value = r.json().await.expect("json");
        v["total_records"].as_u64()
    });
    assert_eq!(count, Some(15));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let t = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("rest");
    assert_eq!(rest, "", "nothing else on stdout");

    // Bad arguments: exit 2 with a message on stderr.
    let out = Command::new(env!("CARGO_BIN_EXE_fake-knack"))
        .args(["--port", "abc"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port"));
}

#[test]
fn background_server_from_sync_code() {
    let server =
        FakeKnack::start_background(FakeConfig::default().rate_limit(None)).expect("start");
    let url = server.url().to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let r = client()
            .get(format!("{url}{ARTICLES_PATH}"))
            .header("X-Knack-Application-Id", APP_ID)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
    });
    assert_eq!(server.state().stats().requests, 1);
    server.shutdown_blocking();
    rt.block_on(async {
        assert!(client()
            .get(format!("{url}{ARTICLES_PATH}"))
            .send()
            .await
            .is_err());
    });
    assert!(FakeKnack::start_background(FakeConfig::from_fixture_path("/nope.json")).is_err());
}
