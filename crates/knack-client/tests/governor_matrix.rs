//! The rate governor and the daily plan: every session of an app shares one governor that
//! keeps Knack under the app's limit in any one-second window (however the base URL is
//! spelt), each app has its own limit, a 429 with `Retry-After` holds every session of the
//! app (and only that app) for that long, `X-RateLimit-Remaining: 0` holds the next request
//! until Knack's window resets, Knack's own 429s are waited out, and a spent daily plan fails
//! fast without calling Knack until it is cleared.
//!
//! The governor runs on tokio's clock alone, so the tests of the governor itself (200
//! sessions, per-app limits) run on a paused clock without HTTP. Everything that needs
//! fake-knack runs on real time and is kept short (about a second or two each).
//!
//! The governor, plan and Retry-After matrix; the JS suites (`governor.test.mjs`,
//! `odd-answers.test.mjs`) keep one end-to-end case per behaviour.

mod common;

use common::*;
use fake_knack::helpdesk::{BOB_EMAIL, CAROL_EMAIL};
use fake_knack::{FakeConfig, FakeKnack, Fault, FaultKind, RunningServer, Window};
use futures_util::future::join_all;
use knack_client::{CallOptions, ErrorCode, ListQuery, Outcome, Session, SessionConfig};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The governor's window: one second plus its margin for network jitter.
const WINDOW: Duration = Duration::from_millis(1050);

fn session_on(server: &RunningServer, config: &SessionConfig, email: &str) -> Session {
    let token = server.state().issue_token(email, false);
    Session::from_token(config, &token, Some(false)).expect("session")
}

fn governed(url: &str, per_second: Option<u32>) -> SessionConfig {
    let mut c = config(url);
    c.app.rate_limit = Some(per_second);
    c.policy.retry.max_attempts = 3;
    c.policy.timeout = Duration::from_secs(5);
    c
}

/// A session on an app of its own that never calls Knack (for the governor alone).
fn offline_session(host: &str, per_second: Option<u32>) -> Session {
    session(&governed(&format!("https://{host}/v1"), per_second))
}

/// The most of `times` (sorted) that fall in any interval of `span`.
fn most_within(times: &[Duration], span: Duration) -> usize {
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| **t - times[i] < span)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Admitted (non-429) `/v1` requests per wall-clock second of the fake's clock.
fn admitted_per_second(server: &RunningServer) -> BTreeMap<i64, usize> {
    let mut per = BTreeMap::new();
    for e in server.state().log() {
        if e.status != Some(429) {
            *per.entry(e.t_ms.div_euclid(1000)).or_insert(0) += 1;
        }
    }
    per
}

fn all_tickets() -> ListQuery {
    ListQuery {
        view: view("scene_2", "view_4"),
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn two_hundred_sessions_of_one_app_never_get_more_than_its_limit_in_any_second() {
    let sessions: Vec<Session> = (0..200)
        .map(|_| offline_session("two-hundred.governor.example", Some(10)))
        .collect();
    assert!(sessions
        .iter()
        .all(|s| Arc::ptr_eq(s.app(), sessions[0].app())));
    let start = tokio::time::Instant::now();
    let grants = join_all(sessions.iter().map(|s| async move {
        s.app().governor.acquire().await;
        start.elapsed()
    }))
    .await;
    let mut times = grants;
    times.sort();
    assert_eq!(most_within(&times, WINDOW), 10, "grants in one window");
    assert!(most_within(&times, Duration::from_secs(1)) <= 10);
    // 200 grants at 10 per window: 20 bursts, the last 19 windows after the first.
    let last = *times.last().expect("grants");
    assert!(
        last >= WINDOW * 19,
        "{last:?} is faster than the limit allows"
    );
    assert!(last < WINDOW * 19 + Duration::from_millis(50), "{last:?}");
    assert_eq!(sessions[0].app().stats().queued, 0);
}

#[tokio::test(start_paused = true)]
async fn each_app_keeps_its_own_limit_and_a_later_session_may_change_it() {
    let slow = offline_session("slow.governor.example", Some(2));
    let fast = offline_session("fast.governor.example", Some(10));
    assert!(!Arc::ptr_eq(slow.app(), fast.app()));
    let start = tokio::time::Instant::now();
    let run = |s: &Session| {
        let app = s.app().clone();
        async move {
            let mut last = Duration::ZERO;
            for t in join_all((0..10).map(|_| async {
                app.governor.acquire().await;
                start.elapsed()
            }))
            .await
            {
                last = last.max(t);
            }
            last
        }
    };
    let (slow_last, fast_last) = tokio::join!(run(&slow), run(&fast));
    // 10 at 2 per window: 5 bursts. 10 at 10: one, at once, not held by the other app.
    assert!(slow_last >= WINDOW * 4, "{slow_last:?}");
    assert!(slow_last < WINDOW * 5, "{slow_last:?}");
    assert!(fast_last < Duration::from_millis(10), "{fast_last:?}");

    // The limit belongs to the app: a later session that names one sets it for all its
    // sessions, one that names none leaves it, and `Some(None)` turns the governor off.
    let url = "https://slow.governor.example/v1";
    let mut keep = config(url);
    keep.app.rate_limit = None;
    let _ = session(&keep);
    assert_eq!(slow.app().stats().per_second, Some(2));
    let _ = session(&governed(url, Some(5)));
    assert_eq!(slow.app().stats().per_second, Some(5));
    let _ = session(&governed(url, None));
    assert_eq!(slow.app().stats().per_second, None);
    let t = tokio::time::Instant::now();
    for _ in 0..100 {
        slow.app().governor.acquire().await;
    }
    assert!(t.elapsed() < Duration::from_millis(10), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_of_one_app_keep_knack_under_its_limit_however_the_url_is_spelt() {
    let server = FakeKnack::start(FakeConfig::helpdesk().rate_limit(Some(4)))
        .await
        .expect("fake-knack");
    let plain = governed(&server.api_url(), Some(4));
    let slashed = governed(&format!("{}/", server.api_url()), Some(4));
    let users = [ALICE_EMAIL, BOB_EMAIL, CAROL_EMAIL];
    let sessions: Vec<(Session, ListQuery)> = (0..8)
        .map(|i| {
            let c = if i % 2 == 0 { &plain } else { &slashed };
            let email = users[i % 3];
            let q = if email == CAROL_EMAIL {
                all_tickets()
            } else {
                my_tickets()
            };
            (session_on(&server, c, email), q)
        })
        .collect();
    assert!(sessions
        .iter()
        .all(|(s, _)| Arc::ptr_eq(s.app(), sessions[0].0.app())));
    let o = CallOptions::default();
    let t = Instant::now();
    let pages = join_all(sessions.iter().map(|(s, q)| s.get_records(q, &o))).await;
    let elapsed = t.elapsed();
    for p in &pages {
        assert!(p.is_ok(), "{p:?}");
    }
    let stats = server.state().stats();
    assert_eq!(stats.rate_limited, 0, "fake-knack sent 429s");
    assert!(stats.max_in_any_second <= 4, "{stats:?}");
    assert_eq!(sessions[0].0.app().stats().rate_limited, 0);
    // 8 requests at 4 per window cannot take less than one window.
    assert!(elapsed >= Duration::from_millis(1000), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_beyond_a_second_holds_every_session_of_the_app_and_only_that_app() {
    let server = FakeKnack::start(FakeConfig::helpdesk().rate_limit(None))
        .await
        .expect("fake-knack");
    let other = FakeKnack::start(FakeConfig::helpdesk().rate_limit(None))
        .await
        .expect("fake-knack");
    let c = governed(&server.api_url(), Some(10));
    let alice = session_on(&server, &c, ALICE_EMAIL);
    let bob = session_on(&server, &c, BOB_EMAIL);
    let elsewhere = session_on(&other, &governed(&other.api_url(), Some(10)), ALICE_EMAIL);
    server
        .state()
        .add_faults(vec![Fault::new(FaultKind::Status {
            status: 429,
            body: json!("Rate limit exceeded"),
            content_type: Some("text/plain".into()),
            headers: [("Retry-After".to_owned(), "1.5".to_owned())].into(),
        })
        .method("GET")])
        .expect("faults");
    let o = CallOptions::default();
    let t = Instant::now();
    let later = || async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        Instant::now()
    };
    let (a, b, c) = tokio::join!(
        async { (alice.get_records(&my_tickets(), &o).await, t.elapsed()) },
        async {
            let started = later().await;
            (bob.get_records(&my_tickets(), &o).await, started.elapsed())
        },
        async {
            let started = later().await;
            (
                elsewhere.get_records(&my_tickets(), &o).await,
                started.elapsed(),
            )
        },
    );
    // Alice's call waited out the whole 1.5 s (beyond the 1.1 s cap on reset times).
    assert!(a.0.is_ok(), "{:?}", a.0);
    assert!(
        a.1 >= Duration::from_millis(1450),
        "retried after {:?}",
        a.1
    );
    assert!(a.1 < Duration::from_millis(2500), "{:?}", a.1);
    // Bob, of the same app, was held too; the other app was not.
    assert!(b.0.is_ok() && c.0.is_ok());
    assert!(b.1 >= Duration::from_millis(1150), "bob waited {:?}", b.1);
    assert!(
        c.1 < Duration::from_millis(500),
        "the other app waited {:?}",
        c.1
    );
    // At Knack: nothing between the 429 and the end of its Retry-After.
    let log = server.state().log();
    assert_eq!(log[0].status, Some(429));
    for e in &log[1..] {
        assert!(
            e.t_ms - log[0].t_ms >= 1450,
            "{e:?} came {}ms after",
            e.t_ms - log[0].t_ms
        );
    }
    assert_eq!(alice.app().stats().rate_limited, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_ratelimit_remaining_zero_holds_the_next_request_until_knacks_window_resets() {
    let server = FakeKnack::start(FakeConfig::helpdesk().rate_limit(Some(3)))
        .await
        .expect("fake-knack");
    // The governor is off: only what Knack's headers say holds the requests back.
    let s = session_on(&server, &governed(&server.api_url(), None), ALICE_EMAIL);
    for i in 0..6 {
        let r = s.get_records(&my_tickets(), &CallOptions::default()).await;
        assert!(r.is_ok(), "call {i}: {r:?}");
    }
    assert_eq!(
        server.state().stats().rate_limited,
        0,
        "a request ran into the limit"
    );
    let per = admitted_per_second(&server);
    assert!(per.values().all(|n| *n <= 3), "{per:?}");
    assert_eq!(s.app().stats().retries, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_from_knacks_own_limit_is_waited_out_until_its_window_resets() {
    // Answers take 100 ms, so all six requests arrive before any answer could hold them.
    let server = FakeKnack::start(
        FakeConfig::helpdesk()
            .rate_limit(Some(3))
            .rate_window(Window::Fixed)
            .latency_ms(100),
    )
    .await
    .expect("fake-knack");
    let s = session_on(&server, &governed(&server.api_url(), None), ALICE_EMAIL);
    // Not at the end of a wall-clock second, so the burst falls in one of Knack's windows.
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .subsec_millis();
    if ms > 700 {
        tokio::time::sleep(Duration::from_millis(1020 - ms as u64)).await;
    }
    let o = CallOptions::default();
    let q = my_tickets();
    let results = join_all((0..6).map(|_| s.get_records(&q, &o))).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let stats = server.state().stats();
    assert_eq!(stats.rate_limited, 3, "{stats:?}");
    assert_eq!(s.app().stats().rate_limited, 3);
    // Every retry came in a later window than the burst.
    let per = admitted_per_second(&server);
    assert!(per.values().all(|n| *n <= 3), "{per:?}");
    assert!(per.len() >= 2, "{per:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_daily_plan_fails_fast_without_calling_knack_until_it_is_cleared() {
    let server = FakeKnack::start(FakeConfig::helpdesk().rate_limit(None).daily_limit(Some(3)))
        .await
        .expect("fake-knack");
    let s = session_on(&server, &governed(&server.api_url(), None), ALICE_EMAIL);
    let o = CallOptions::default();
    for _ in 0..3 {
        s.get_records(&my_tickets(), &o)
            .await
            .expect("within the plan");
    }
    let e = s.get_records(&my_tickets(), &o).await.expect_err("spent");
    assert_eq!(e.code, ErrorCode::DailyLimit, "{}", e.message);
    assert_eq!(e.status, Some(429));
    assert_eq!(e.attempts, 1, "a spent plan is not retried");
    assert_eq!(e.outcome(), Outcome::Rejected);
    assert!(e.retry_after_ms.is_some_and(|ms| ms > 0), "{e:?}");
    let plan = s.app().stats().plan;
    assert_eq!((plan.limit, plan.remaining), (Some(3), Some(0)));

    let requests = server.state().stats().requests;
    let read = s.get_records(&my_tickets(), &o).await.expect_err("spent");
    let create = s
        .create_record(&view("scene_1", "view_2"), r#"{"field_10":"x"}"#, &o)
        .await
        .expect_err("spent");
    for e in [read, create] {
        assert_eq!(e.code, ErrorCode::DailyLimit, "{}", e.message);
        assert_eq!(e.attempts, 0);
        assert_eq!(e.outcome(), Outcome::NotSent);
    }
    assert_eq!(
        server.state().stats().requests,
        requests,
        "Knack was called"
    );

    // A new day at Knack, and the app is told so: calls go through again.
    server
        .state()
        .configure(&json!({"daily_limit": null}))
        .expect("config");
    s.app().quota.clear();
    s.get_records(&my_tickets(), &o).await.expect("a new day");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_daily_reset_latches_at_most_a_day() {
    let server = FakeKnack::start(FakeConfig::helpdesk().rate_limit(None))
        .await
        .expect("fake-knack");
    let s = session_on(&server, &governed(&server.api_url(), None), ALICE_EMAIL);
    let headers: HashMap<&str, &str> = [
        ("X-PlanLimit-Limit", "1000"),
        ("X-PlanLimit-Remaining", "0"),
        ("X-PlanLimit-Reset", "999999999999999"),
    ]
    .into();
    server
        .state()
        .add_faults(vec![Fault::new(FaultKind::Status {
            status: 429,
            body: json!({"errors": [{"message": "Daily API limit exceeded"}]}),
            content_type: None,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })])
        .expect("faults");
    let o = CallOptions::default();
    let day = Duration::from_secs(24 * 3600);
    let e = s.get_records(&my_tickets(), &o).await.expect_err("spent");
    assert_eq!(e.code, ErrorCode::DailyLimit);
    // The latch is capped at a day, and so is the wait the error reports.
    assert_eq!(e.retry_after_ms, Some(24 * 3600 * 1000), "{e:?}");
    let plan = s.app().stats().plan;
    assert!(plan.reset_in.is_some_and(|r| r <= day), "{plan:?}");
    let again = s.get_records(&my_tickets(), &o).await.expect_err("latched");
    assert_eq!((again.code, again.attempts), (ErrorCode::DailyLimit, 0));
    assert_eq!(server.state().stats().requests, 1);
    s.app().quota.clear();
    let page = s.get_records(&my_tickets(), &o).await.expect("cleared");
    assert!(page.contains("\"totalRecords\":3"), "{page}");
}
