//! Reading whole views through `Pager`: every record exactly once and in order with every
//! page asked for once, fetching held to the consumer's pace (the prefetch bound, an early
//! stop, a dropped pager), the summary of what arrived (Knack's over-stated totals, pages
//! that shift or shrink or grow mid-read, empty views, `maxRecords`), an error on a page
//! mid-way surfacing after the pages before it, and servers that ignore `?page`.
//!
//! The paging matrix; `__test__/paging.test.mjs` keeps one end-to-end case per behaviour.

mod common;

use common::*;
use fake_knack::helpdesk::{ALICE_TICKETS, CAROL_EMAIL};
use fake_knack::{FakeConfig, FakeKnack, Fault, FaultKind, RunningServer};
use knack_client::{CallOptions, Error, ErrorCode, ListQuery, Pager, PagingOptions};
use knack_client::{PagingSummary, Session, ViewRef};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TICKETS_PATH: &str = "/views/view_4/records";

async fn fake(config: FakeConfig) -> RunningServer {
    FakeKnack::start(config.rate_limit(None))
        .await
        .expect("fake-knack")
}

fn session_on(server: &RunningServer, email: &str) -> Arc<Session> {
    let token = server.state().issue_token(email, false);
    Arc::new(Session::from_token(&config(&server.api_url()), &token, Some(false)).expect("session"))
}

/// Carol (an agent) sees every ticket in view_4.
fn carol(server: &RunningServer) -> Arc<Session> {
    session_on(server, CAROL_EMAIL)
}

fn all_tickets(rows: Option<u32>) -> ListQuery {
    ListQuery {
        view: view("scene_2", "view_4"),
        rows_per_page: rows,
        ..Default::default()
    }
}

fn opts(prefetch: usize) -> PagingOptions {
    PagingOptions {
        prefetch,
        ..Default::default()
    }
}

async fn open(s: &Arc<Session>, q: &ListQuery, o: PagingOptions) -> Pager {
    Pager::open(s.clone(), q, o, Default::default())
        .await
        .expect("open")
}

fn ids_of(json: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(json).expect("a chunk is a JSON array");
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The next page's ids, `None` at the end.
async fn next_ids(p: &Pager) -> Option<Result<Vec<String>, Error>> {
    Some(p.next().await?.map(|c| {
        let ids = ids_of(&c.json);
        assert_eq!(ids.len(), c.count);
        ids
    }))
}

/// Every id the pager delivers, and the error that ended it, if one did.
async fn drain(p: &Pager) -> (Vec<String>, Option<Error>) {
    let mut ids = Vec::new();
    while let Some(r) = next_ids(p).await {
        match r {
            Ok(page) => ids.extend(page),
            Err(e) => return (ids, Some(e)),
        }
    }
    (ids, None)
}

/// The `page` numbers of the list requests fake-knack logged for `path`.
fn pages_asked(server: &RunningServer, path: &str) -> Vec<u32> {
    server
        .state()
        .log()
        .iter()
        .filter(|e| e.method == "GET" && e.path.ends_with(path))
        .map(|e| {
            e.query
                .split('&')
                .find_map(|kv| kv.strip_prefix("page="))
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
        })
        .collect()
}

fn stored_ids(server: &RunningServer) -> Vec<String> {
    server
        .state()
        .records("object_3")
        .expect("tickets")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

fn seed(server: &RunningServer, n: usize) {
    server.state().seed("object_3", n, &[]).expect("seed");
}

/// Answer the first list request at once, delay the next `delayed` ones by `ms`: what lets a
/// test change the data between page 1 and the pages after it.
fn hold_pages_after_the_first(server: &RunningServer, delayed: u32, ms: u64) {
    after_the_first_page(server, FaultKind::Delay { ms }, Some(delayed));
}

/// Let the first list request through untouched, then apply `then` to the next ones (`times`
/// of them, or all).
fn after_the_first_page(server: &RunningServer, then: FaultKind, times: Option<u32>) {
    let mut later = Fault::new(then).method("GET").path_contains(TICKETS_PATH);
    if let Some(n) = times {
        later = later.times(n);
    }
    server
        .state()
        .add_faults(vec![
            Fault::new(FaultKind::Delay { ms: 0 })
                .method("GET")
                .path_contains(TICKETS_PATH),
            later,
        ])
        .expect("faults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_of_a_large_view_arrives_once_in_order_and_every_page_is_asked_for_once() {
    let server = fake(FakeConfig::helpdesk()).await;
    seed(&server, 20_000);
    let s = carol(&server);
    let p = open(&s, &all_tickets(None), PagingOptions::default()).await;
    let (ids, err) = drain(&p).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(ids.len(), 20_005);
    assert!(
        ids == stored_ids(&server),
        "the records arrive in the view's order"
    );
    assert_eq!(
        p.summary(),
        PagingSummary {
            total_records: Some(20_005),
            total_pages: Some(21),
            pages: 21,
            received: 20_005,
            duplicates: 0,
            shortfall: 0,
            ended_early: false,
            truncated: false,
            complete: true,
        }
    );
    let mut asked = pages_asked(&server, TICKETS_PATH);
    asked.sort_unstable();
    assert_eq!(asked, (1..=21).collect::<Vec<_>>(), "each page once");
    // Knack's largest page unless the caller says otherwise.
    let log = server.state().log();
    assert!(log.iter().all(|e| e.query.contains("rows_per_page=1000")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_that_promises_more_than_it_has_ends_at_the_first_empty_page_with_the_shortfall() {
    let server = fake(FakeConfig::helpdesk().overstate_total_records(30)).await;
    seed(&server, 45);
    let s = carol(&server);
    let p = open(&s, &all_tickets(Some(10)), opts(2)).await;
    let (ids, err) = drain(&p).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(ids.len(), 50);
    assert_eq!(
        p.summary(),
        PagingSummary {
            total_records: Some(80),
            total_pages: Some(8),
            pages: 6,
            received: 50,
            duplicates: 0,
            shortfall: 30,
            ended_early: true,
            truncated: false,
            complete: true,
        }
    );
    // Strict: the same records, then an error instead of a quiet shortfall.
    let strict = PagingOptions {
        strict: true,
        ..opts(2)
    };
    let p = open(&s, &all_tickets(Some(10)), strict).await;
    let (ids, err) = drain(&p).await;
    assert_eq!(ids.len(), 50);
    let e = err.expect("strict fails");
    assert_eq!(e.code, ErrorCode::BadResponse);
    assert!(
        e.message.contains("promised 80 records, 50 arrived"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_records_stops_early_and_does_not_fetch_the_rest() {
    let server = fake(FakeConfig::helpdesk()).await;
    seed(&server, 495);
    let s = carol(&server);
    let o = PagingOptions {
        max_records: Some(150),
        prefetch: 1,
        strict: false,
    };
    let p = open(&s, &all_tickets(Some(100)), o).await;
    let (ids, err) = drain(&p).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(ids, stored_ids(&server)[..150].to_vec());
    let summary = p.summary();
    assert!(summary.truncated, "{summary:?}");
    assert_eq!(summary.received, 150);
    assert_eq!(summary.shortfall, 0, "a cut is not a shortfall");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let asked = pages_asked(&server, TICKETS_PATH);
    assert!(asked.len() <= 3, "{asked:?} for 150 of 500 records");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_holds_fetching_to_the_prefetch_bound() {
    let server = fake(FakeConfig::helpdesk()).await;
    seed(&server, 500); // 505 records, 51 pages of 10
    let s = carol(&server);
    let p = open(&s, &all_tickets(Some(10)), opts(2)).await;
    // (pages the consumer has taken, most pages asked for while it stalls): page 1, then
    // one more than it took, growing to at most `prefetch` ahead of it.
    for (taken, most) in [(1, 2), (3, 5), (5, 7)] {
        while p.summary().pages < taken {
            next_ids(&p).await.expect("a page").expect("records");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        let asked = pages_asked(&server, TICKETS_PATH).len();
        assert!(asked <= most, "{asked} pages asked for after {taken} taken");
        assert!(asked >= taken as usize);
    }
    drop(p);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(pages_asked(&server, TICKETS_PATH).len() <= 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_the_first_page_and_stopping_costs_at_most_one_more_request() {
    let server = fake(FakeConfig::helpdesk()).await;
    seed(&server, 495);
    let s = carol(&server);
    for (prefetch, close) in [(8, false), (2, false), (8, true)] {
        server.state().clear_faults();
        let before = pages_asked(&server, TICKETS_PATH).len();
        let p = open(&s, &all_tickets(Some(10)), opts(prefetch)).await;
        next_ids(&p).await.expect("a page").expect("records");
        if close {
            p.close();
            assert!(!p.summary().complete);
        } else {
            drop(p);
        }
        // Anything on its way lands; then nothing more comes.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let made = pages_asked(&server, TICKETS_PATH).len() - before;
        assert!(made <= 2, "prefetch {prefetch}: {made} page requests");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(pages_asked(&server, TICKETS_PATH).len() - before, made);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_inserted_mid_read_shifts_the_pages_but_nothing_is_delivered_twice() {
    let server = fake(FakeConfig::helpdesk()).await;
    let s = carol(&server);
    let alice = session_on(&server, ALICE_EMAIL);
    hold_pages_after_the_first(&server, 2, 400);
    let q = ListQuery {
        sort_field: Some("field_13".into()),
        sort_order: Some("desc".into()),
        ..all_tickets(Some(2))
    };
    let p = open(&s, &q, PagingOptions::default()).await;
    let mut ids = next_ids(&p).await.expect("page 1").expect("records");
    // A new top ticket while page 2 is held: page 2 now starts with page 1's last record.
    alice
        .create_record(
            &view("scene_1", "view_2"),
            r#"{"field_10":"Jumps the queue","field_13":99}"#,
            &CallOptions::default(),
        )
        .await
        .expect("create");
    let (rest, err) = drain(&p).await;
    assert!(err.is_none(), "{err:?}");
    ids.extend(rest);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ids.len(),
        "a record was delivered twice: {ids:?}"
    );
    assert_eq!(ids.len(), 5);
    let summary = p.summary();
    assert_eq!(summary.duplicates, 1, "{summary:?}");
    assert_eq!(summary.shortfall, 0, "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_on_a_later_page_surfaces_after_the_pages_before_it() {
    let server = fake(FakeConfig::helpdesk()).await;
    seed(&server, 25);
    let s = carol(&server);
    after_the_first_page(
        &server,
        FaultKind::status(403, json!({"errors": [{"message": "no"}]})),
        None,
    );
    let p = open(&s, &all_tickets(Some(10)), opts(1)).await;
    let (ids, err) = drain(&p).await;
    assert_eq!(ids.len(), 10, "page 1 arrives first");
    let e = err.expect("page 2 fails");
    assert_eq!(e.code, ErrorCode::Forbidden, "{}", e.message);
    assert_eq!(e.status, Some(403));
    assert!(p.next().await.is_none(), "nothing after the error");
    assert!(!p.summary().complete);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_view_is_one_empty_page_and_a_complete_summary() {
    let server = fake(FakeConfig::helpdesk()).await;
    let alice = session_on(&server, ALICE_EMAIL);
    let nothing = ListQuery {
        filters: Some(r#"[{"field":"field_10","operator":"is","value":"no such subject"}]"#.into()),
        ..my_tickets()
    };
    // Comments of alice's second ticket (it has none), through the parent's slug.
    let no_comments = ListQuery {
        view: ViewRef {
            parent_record_id: Some(ALICE_TICKETS[1].into()),
            ..view("scene_3", "view_6")
        },
        ..Default::default()
    };
    for (what, q) in [
        ("filtered to nothing", nothing),
        ("no children", no_comments),
    ] {
        let p = open(&alice, &q, PagingOptions::default()).await;
        let first = next_ids(&p).await.expect("one page").expect("records");
        assert!(first.is_empty(), "{what}");
        assert!(p.next().await.is_none(), "{what}: one page only");
        assert_eq!(
            p.summary(),
            PagingSummary {
                total_records: Some(0),
                total_pages: Some(0),
                pages: 1,
                complete: true,
                ..Default::default()
            },
            "{what}"
        );
    }
    assert_eq!(pages_asked(&server, "/views/view_6/records").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_that_shrinks_or_grows_mid_read_ends_cleanly_and_says_what_arrived() {
    #[derive(Debug, Clone, Copy)]
    enum Change {
        /// Back to the fixture's 5 tickets.
        Shrink,
        /// 3 more tickets, after the last.
        Grow,
    }
    // (change after page 1, strict) -> (ids delivered, summary | error)
    let table = [
        (Change::Shrink, false, 5, Some((2, 20, true))),
        (Change::Grow, false, 25, Some((5, 0, false))),
        (Change::Shrink, true, 5, None),
    ];
    for (change, strict, want_ids, want) in table {
        let server = fake(FakeConfig::helpdesk()).await;
        seed(&server, 20); // 25 tickets, 5 pages of 5
        let s = carol(&server);
        hold_pages_after_the_first(&server, 1, 300);
        let o = PagingOptions { strict, ..opts(1) };
        let p = open(&s, &all_tickets(Some(5)), o).await;
        let mut ids = next_ids(&p).await.expect("page 1").expect("records");
        match change {
            Change::Shrink => server.state().reset(),
            Change::Grow => seed(&server, 3),
        }
        let (rest, err) = drain(&p).await;
        ids.extend(rest);
        let case = format!("{change:?} strict={strict}");
        assert_eq!(ids.len(), want_ids, "{case}");
        let summary = p.summary();
        assert_eq!(summary.total_records, Some(25), "{case}");
        match want {
            Some((pages, shortfall, ended_early)) => {
                assert!(err.is_none(), "{case}: {err:?}");
                assert_eq!(summary.pages, pages, "{case}: {summary:?}");
                assert_eq!(summary.shortfall, shortfall, "{case}: {summary:?}");
                assert_eq!(summary.ended_early, ended_early, "{case}: {summary:?}");
                assert!(summary.complete, "{case}");
            }
            None => {
                let e = err.expect("strict fails");
                assert_eq!(e.code, ErrorCode::BadResponse, "{case}: {}", e.message);
            }
        }
    }
}

/// A list answer for the page asked for.
type Answer = fn(u32) -> String;

/// A server whose every list answer comes from `answer(page asked for)`; counts requests.
struct Scripted {
    base_url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn scripted(answer: Answer) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.split(' ').nth(1).unwrap_or("").to_owned();
                let page = target
                    .split_once('?')
                    .map(|(_, q)| q)
                    .unwrap_or("")
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("page="))
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                seen.lock().unwrap_or_else(|p| p.into_inner()).push(target);
                let body = answer(page);
                let out = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(out.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Scripted {
        base_url: format!("http://{addr}/v1"),
        requests,
    }
}

fn two_records() -> Value {
    json!([
        {"id": "000000000000000000000001", "field_1": "r1"},
        {"id": "000000000000000000000002", "field_1": "r2"},
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_ignores_the_page_asked_for_is_read_once_not_forever() {
    let cases: [(&str, Answer, &str); 2] = [
        (
            "always page 1",
            |_| {
                json!({"total_pages": 1_000_000, "current_page": 1,
                       "total_records": 10_000_000, "records": two_records()})
                .to_string()
            },
            "page 1 when page 2 was asked for",
        ),
        (
            "the page echoed as a string, the same records",
            |page| {
                json!({"total_pages": 50_000, "current_page": page.to_string(),
                       "total_records": 100_000, "records": two_records()})
                .to_string()
            },
            "only records of earlier pages",
        ),
    ];
    for (what, answer, why) in cases {
        let srv = scripted(answer).await;
        let s = Arc::new(session(&config(&srv.base_url)));
        let q = ListQuery {
            rows_per_page: Some(2),
            ..my_tickets()
        };
        let p = open(&s, &q, PagingOptions::default()).await;
        let (ids, err) = drain(&p).await;
        assert!(err.is_none(), "{what}: {err:?}");
        assert_eq!(
            ids,
            ["000000000000000000000001", "000000000000000000000002"],
            "{what}"
        );
        let summary = p.summary();
        assert!(
            summary.ended_early && summary.shortfall > 0,
            "{what}: {summary:?}"
        );
        let made = srv.requests.lock().map(|r| r.len()).unwrap_or(0);
        assert!(made <= 1 + 8, "{what}: {made} requests");

        let strict = PagingOptions {
            strict: true,
            ..Default::default()
        };
        let p = open(&s, &q, strict).await;
        let (_, err) = drain(&p).await;
        let e = err.expect("strict fails");
        assert_eq!(e.code, ErrorCode::BadResponse, "{what}");
        assert!(e.message.contains(why), "{what}: {}", e.message);
    }
}
