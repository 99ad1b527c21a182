//! The retry matrix: every fault fake-knack injects (5xx before and after applying, 429 with
//! and without `Retry-After`, a spent daily limit, connections reset before or after Knack
//! handled the request, truncated and unusable answers, answers slower than the per-attempt
//! timeout, redirects, refused connections) crossed with every kind of call (a read, a
//! create, an update, a delete). Each cell says what the caller sees (code, attempts,
//! outcome) and what Knack was left with: above all, a create whose answer was lost is never
//! sent again, so fake-knack holds exactly one record for it, and idempotent calls that were
//! retried succeed.
//!
//! Each cell gets a fake-knack of its own (and so an `App` of its own: pool, governor,
//! quota), and the four cells of a row run concurrently.
//!
//! The retry and write-outcome matrix (the oversize, deep-JSON, invalid-UTF-8 and drip cases
//! are in `hostile_server.rs`); `__test__/resilience.test.mjs` and
//! `__test__/write-outcomes.test.mjs` keep one end-to-end case per behaviour.

mod common;

use common::*;
use fake_knack::helpdesk::{ALICE_TICKETS, CAROL_EMAIL};
use fake_knack::{FakeConfig, FakeKnack, Fault, FaultKind, RunningServer};
use futures_util::future::join_all;
use knack_client::{CallOptions, CancellationToken, Error, ErrorCode, Outcome};
use knack_client::{Session, SessionConfig};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Alice's first ticket: she may edit it (view_3), carol may delete it (view_4).
const TICKET: &str = ALICE_TICKETS[0];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// GET a page of alice's tickets.
    Read,
    /// POST a new ticket (not idempotent).
    Create,
    /// PUT a new subject on alice's ticket.
    Update,
    /// DELETE alice's ticket (as carol, an agent).
    Delete,
}

const OPS: [Op; 4] = [Op::Read, Op::Create, Op::Update, Op::Delete];

impl Op {
    fn method(self) -> &'static str {
        match self {
            Op::Read => "GET",
            Op::Create => "POST",
            Op::Update => "PUT",
            Op::Delete => "DELETE",
        }
    }

    fn email(self) -> &'static str {
        match self {
            Op::Delete => CAROL_EMAIL,
            _ => ALICE_EMAIL,
        }
    }

    /// The request as errors name it (method and path below the base URL).
    fn request(self) -> String {
        match self {
            Op::Read => "GET /pages/scene_1/views/view_1/records".into(),
            Op::Create => "POST /pages/scene_1/views/view_2/records".into(),
            Op::Update => format!("PUT /pages/scene_1/views/view_3/records/{TICKET}"),
            Op::Delete => format!("DELETE /pages/scene_2/views/view_4/records/{TICKET}"),
        }
    }

    fn writes(self) -> bool {
        self != Op::Read
    }
}

/// What one cell of the matrix expects.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// The call succeeds after this many attempts, and did what it was asked.
    Ok(u64),
    /// The call fails with this code after this many attempts, and this outcome.
    Fail(ErrorCode, u32, Outcome),
}

use ErrorCode::*;
use Outcome::*;
use Want::Fail;

/// One row: a fault, injected `times` into every call's method, and what each call gives.
struct Row {
    what: &'static str,
    fault: FaultKind,
    times: u32,
    /// Read, create, update, delete.
    want: [Want; 4],
    /// The status failed calls report.
    status: Option<u16>,
    /// How many records with the create's subject Knack holds afterwards.
    created: RangeInclusive<usize>,
    /// Retry knobs beyond the defaults of `cell_config` (3 attempts, 2 s per attempt).
    tweak: fn(&mut SessionConfig),
    /// How long to wait before looking at Knack's data (for work still running there).
    settle: Duration,
}

impl Row {
    fn new(what: &'static str, fault: FaultKind, want: [Want; 4]) -> Row {
        Row {
            what,
            fault,
            times: 1,
            want,
            status: None,
            created: 0..=0,
            tweak: |_| {},
            settle: Duration::ZERO,
        }
    }
}

/// One cell, run.
struct Ran {
    op: Op,
    server: RunningServer,
    session: Session,
    result: Result<Value, Error>,
    /// Requests the client sent (its app's counter).
    attempts: u64,
    /// 429s the client saw (its app's counter).
    rate_limited: u64,
    subject: String,
    elapsed: Duration,
}

async fn fake() -> RunningServer {
    FakeKnack::start(FakeConfig::helpdesk().rate_limit(None))
        .await
        .expect("fake-knack")
}

/// Three attempts, a short backoff, 2 s per attempt, governor off.
fn cell_config(url: &str) -> SessionConfig {
    let mut c = config(url);
    c.policy.retry.max_attempts = 3;
    c.policy.retry.base_delay = Duration::from_millis(20);
    c.policy.timeout = Duration::from_secs(2);
    c
}

fn session_on(server: &RunningServer, config: &SessionConfig, email: &str) -> Session {
    let token = server.state().issue_token(email, false);
    Session::from_token(config, &token, Some(false)).expect("session")
}

fn parse(json: String) -> Value {
    serde_json::from_str(&json).expect("the client hands back JSON")
}

async fn call(s: &Session, op: Op, subject: &str, o: &CallOptions) -> Result<Value, Error> {
    let data = json!({ "field_10": subject }).to_string();
    match op {
        Op::Read => s.get_records(&my_tickets(), o).await.map(parse),
        Op::Create => s
            .create_record(&view("scene_1", "view_2"), &data, o)
            .await
            .map(parse),
        Op::Update => s
            .update_record(&view("scene_1", "view_3"), TICKET, &data, o)
            .await
            .map(parse),
        Op::Delete => s
            .delete_record(&view("scene_2", "view_4"), TICKET, o)
            .await
            .map(|()| Value::Null),
    }
}

/// Tickets as fake-knack stores them: (id, subject).
fn tickets(server: &RunningServer) -> Vec<(String, String)> {
    server
        .state()
        .records("object_3")
        .expect("tickets")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_owned(),
                r["field_10"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn created(server: &RunningServer, subject: &str) -> usize {
    tickets(server).iter().filter(|(_, s)| s == subject).count()
}

/// Requests fake-knack logged for `method` on a records path.
fn logged(server: &RunningServer, method: &str) -> Vec<fake_knack::LogEntry> {
    server
        .state()
        .log()
        .into_iter()
        .filter(|e| e.method == method && e.path.contains("/records"))
        .collect()
}

async fn run_cell(row: &Row, op: Op) -> Ran {
    let server = fake().await;
    let mut config = cell_config(&server.api_url());
    (row.tweak)(&mut config);
    let session = session_on(&server, &config, op.email());
    server
        .state()
        .add_faults(vec![Fault::new(row.fault.clone())
            .method(op.method())
            .path_contains("/records")
            .times(row.times)])
        .expect("faults");
    let subject = format!("{} [{op:?}]", row.what);
    let before = session.app().stats();
    let t = Instant::now();
    let result = call(&session, op, &subject, &CallOptions::default()).await;
    let elapsed = t.elapsed();
    let after = session.app().stats();
    Ran {
        op,
        attempts: after.requests - before.requests,
        rate_limited: after.rate_limited - before.rate_limited,
        server,
        session,
        result,
        subject,
        elapsed,
    }
}

/// Check one cell against its row.
fn check(row: &Row, ran: &Ran) {
    let op = ran.op;
    let want = row.want[OPS.iter().position(|o| *o == op).expect("op")];
    let cell = format!("{} x {op:?}", row.what);
    match (want, &ran.result) {
        (Want::Ok(n), Ok(v)) => {
            assert_eq!(ran.attempts, n, "{cell}: attempts");
            match op {
                Op::Read => assert_eq!(
                    v["records"].as_array().map(Vec::len),
                    Some(3),
                    "{cell}: alice's tickets"
                ),
                Op::Create => assert_eq!(v["field_10_raw"], json!(ran.subject), "{cell}"),
                Op::Update => {
                    let stored = tickets(&ran.server);
                    let t = stored.iter().find(|(id, _)| id == TICKET);
                    assert_eq!(
                        t.map(|(_, s)| s.as_str()),
                        Some(ran.subject.as_str()),
                        "{cell}: the update reached Knack"
                    );
                }
                Op::Delete => assert!(
                    tickets(&ran.server).iter().all(|(id, _)| id != TICKET),
                    "{cell}: the ticket is gone"
                ),
            }
        }
        (Fail(code, attempts, outcome), Err(e)) => {
            assert_eq!(e.code, code, "{cell}: {}", e.message);
            assert_eq!(e.attempts, attempts, "{cell}: attempts ({})", e.message);
            assert_eq!(e.outcome(), outcome, "{cell}: outcome ({})", e.message);
            assert_eq!(ran.attempts, attempts as u64, "{cell}: requests sent");
            assert_eq!(e.status, row.status, "{cell}: status ({})", e.message);
            assert_eq!(e.request.as_deref(), Some(op.request().as_str()), "{cell}");
            assert!(!e.message.contains("<html"), "{cell}: {}", e.message);
            let may = e.message.contains("may have been applied");
            let applied = e.message.contains("Knack applied the write");
            match (op.writes(), outcome) {
                (true, Unknown) => assert!(may, "{cell}: {}", e.message),
                (true, Applied) => assert!(applied, "{cell}: {}", e.message),
                _ => assert!(!may && !applied, "{cell}: {}", e.message),
            }
        }
        (want, got) => panic!("{cell}: wanted {want:?}, got {got:?}"),
    }
}

/// Run a row: its four cells concurrently, each checked, and what the create left behind.
async fn matrix(row: &Row) -> Vec<Ran> {
    let rans = join_all(OPS.map(|op| run_cell(row, op))).await;
    if !row.settle.is_zero() {
        tokio::time::sleep(row.settle).await;
    }
    for ran in &rans {
        check(row, ran);
        if ran.op == Op::Create {
            let n = created(&ran.server, &ran.subject);
            assert!(
                row.created.contains(&n),
                "{}: {n} records created, wanted {:?}",
                row.what,
                row.created
            );
        }
    }
    rans
}

fn status(status: u16, body: &str, content_type: &str) -> FaultKind {
    FaultKind::Status {
        status,
        body: json!(body),
        content_type: Some(content_type.into()),
        headers: BTreeMap::new(),
    }
}

fn with_headers(mut kind: FaultKind, add: &[(&str, &str)]) -> FaultKind {
    if let FaultKind::Status { headers, .. } | FaultKind::StatusAfterApply { headers, .. } =
        &mut kind
    {
        for (k, v) in add {
            headers.insert((*k).into(), (*v).into());
        }
    }
    kind
}

fn too_many() -> FaultKind {
    status(429, "Rate limit exceeded", "text/plain")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_retried_for_reads_updates_and_deletes_but_a_create_is_not_sent_again() {
    let bodies = [
        status(
            503,
            "<html><body>Service Unavailable</body></html>",
            "text/html",
        ),
        status(
            500,
            r#"{"errors":[{"message":"Internal error"}]}"#,
            "application/json",
        ),
        status(502, "<html>Bad Gateway</html>", "text/html"),
    ];
    let rows: Vec<Row> = bodies
        .into_iter()
        .map(|fault| {
            let code = match &fault {
                FaultKind::Status { status, .. } => *status,
                _ => unreachable!(),
            };
            Row {
                status: Some(code),
                ..Row::new(
                    "5xx once",
                    fault,
                    [
                        Want::Ok(2),
                        Fail(ServerError, 1, Unknown),
                        Want::Ok(2),
                        Want::Ok(2),
                    ],
                )
            }
        })
        .collect();
    join_all(rows.iter().map(matrix)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_that_never_ends_fails_with_server_error_after_the_retry_budget() {
    let row = Row {
        times: 100,
        status: Some(503),
        ..Row::new(
            "5xx forever",
            status(503, "<html>down</html>", "text/html"),
            [
                Fail(ServerError, 3, Unknown),
                Fail(ServerError, 1, Unknown),
                Fail(ServerError, 3, Unknown),
                Fail(ServerError, 3, Unknown),
            ],
        )
    };
    matrix(&row).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_after_knack_applied_a_create_leaves_exactly_one_record() {
    let row = Row {
        status: Some(500),
        created: 1..=1,
        ..Row::new(
            "5xx after apply",
            FaultKind::status_after_apply(500, json!({"errors": [{"message": "oops"}]})),
            [
                Want::Ok(2),
                Fail(ServerError, 1, Unknown),
                Want::Ok(2),
                // The retry finds the record gone: the first attempt deleted it.
                Want::Ok(2),
            ],
        )
    };
    matrix(&row).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_waited_out_and_retried_for_every_call_even_a_create() {
    // No Retry-After and no X-RateLimit-Reset: the client waits Knack's one-second window.
    let row = Row {
        created: 1..=1,
        ..Row::new("429 once", too_many(), [Want::Ok(2); 4])
    };
    for ran in matrix(&row).await {
        assert_eq!(ran.rate_limited, 1, "{:?}", ran.op);
        assert!(
            ran.elapsed >= Duration::from_millis(950),
            "{:?}",
            ran.elapsed
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_is_retried_once_that_wait_has_passed() {
    let row = Row {
        created: 1..=1,
        ..Row::new(
            "429 once, Retry-After 0.3",
            with_headers(too_many(), &[("Retry-After", "0.3")]),
            [Want::Ok(2); 4],
        )
    };
    for ran in matrix(&row).await {
        assert!(
            ran.elapsed >= Duration::from_millis(290),
            "{:?} retried after {:?}",
            ran.op,
            ran.elapsed
        );
        assert!(
            ran.elapsed < Duration::from_millis(900),
            "{:?}",
            ran.elapsed
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_beyond_the_retry_budget_is_rate_limited_with_the_wait_it_applied() {
    let rows = [
        Row {
            times: 100,
            status: Some(429),
            tweak: |c| c.policy.retry.max_attempts = 2,
            ..Row::new(
                "429 forever",
                too_many(),
                [Fail(RateLimited, 2, Rejected); 4],
            )
        },
        Row {
            times: 100,
            status: Some(429),
            tweak: |c| c.policy.retry.max_attempts = 2,
            ..Row::new(
                "429 forever, Retry-After 0.25",
                with_headers(too_many(), &[("Retry-After", "0.25")]),
                [Fail(RateLimited, 2, Rejected); 4],
            )
        },
    ];
    let [plain, after] = join_all(rows.iter().map(matrix))
        .await
        .try_into()
        .unwrap_or_else(|_| unreachable!());
    for ran in plain {
        let e = ran.result.expect_err("rate limited");
        assert!(
            e.retry_after_ms.is_some_and(|ms| ms > 0 && ms <= 1100),
            "{:?}: {:?}",
            ran.op,
            e.retry_after_ms
        );
    }
    for ran in after {
        let e = ran.result.expect_err("rate limited");
        assert_eq!(e.retry_after_ms, Some(250), "{:?}", ran.op);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_daily_limit_fails_at_once_and_the_next_call_does_not_reach_knack() {
    let row = Row {
        status: Some(429),
        ..Row::new(
            "daily limit",
            with_headers(
                status(
                    429,
                    r#"{"errors":[{"message":"Daily API limit exceeded"}]}"#,
                    "application/json",
                ),
                &[("X-PlanLimit-Remaining", "0")],
            ),
            [Fail(DailyLimit, 1, Rejected); 4],
        )
    };
    for ran in matrix(&row).await {
        let e = ran.result.as_ref().expect_err("daily limit");
        assert!(e.retry_after_ms.is_some_and(|ms| ms > 0), "{e:?}");
        assert_eq!(ran.session.app().stats().plan.remaining, Some(0));
        // Fails fast from the quota: no request, nothing sent.
        let requests = ran.server.state().stats().requests;
        let again = call(&ran.session, ran.op, "again", &CallOptions::default())
            .await
            .expect_err("still spent");
        assert_eq!(again.code, DailyLimit, "{:?}: {}", ran.op, again.message);
        assert_eq!(again.attempts, 0, "{:?}", ran.op);
        assert_eq!(again.outcome(), NotSent, "{:?}", ran.op);
        assert_eq!(
            ran.server.state().stats().requests,
            requests,
            "{:?}",
            ran.op
        );
        // This app's quota would outlive the server: forget it.
        ran.session.app().quota.clear();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_before_knack_handled_the_request_is_retried_except_for_a_create() {
    let row = Row::new(
        "reset before",
        FaultKind::ResetBefore,
        [
            Want::Ok(2),
            Fail(Network, 1, Unknown),
            Want::Ok(2),
            Want::Ok(2),
        ],
    );
    matrix(&row).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_whose_answer_is_lost_is_not_sent_again() {
    let row = Row {
        created: 1..=1,
        ..Row::new(
            "reset after",
            FaultKind::ResetAfter,
            [
                Want::Ok(2),
                Fail(Network, 1, Unknown),
                Want::Ok(2),
                Want::Ok(2),
            ],
        )
    };
    let rans = matrix(&row).await;
    // The delete's retry went out and found the record gone: the lost attempt deleted it.
    let delete = rans.iter().find(|r| r.op == Op::Delete).expect("delete");
    let deletes = logged(&delete.server, "DELETE");
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    assert_eq!(deletes[0].status, None);
    assert!(deletes[0].applied);
    assert_eq!(deletes[1].status, Some(404));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_answer_is_read_again_but_a_truncated_create_is_not_resent() {
    let row = Row {
        created: 1..=1,
        ..Row::new(
            "truncated",
            FaultKind::Truncate,
            [
                Want::Ok(2),
                Fail(Network, 1, Unknown),
                Want::Ok(2),
                Want::Ok(2),
            ],
        )
    };
    matrix(&row).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_slower_than_the_per_attempt_timeout_is_retried_except_for_a_create() {
    let row = Row {
        // A retry's answer must come within the timeout on a loaded 2-core machine too.
        tweak: |c| c.policy.timeout = Duration::from_millis(800),
        // Knack may still apply the timed-out create once its delay is over: once at most.
        created: 0..=1,
        settle: Duration::from_millis(1800),
        ..Row::new(
            "slower than the timeout",
            FaultKind::Delay { ms: 1800 },
            [
                Want::Ok(2),
                Fail(Timeout, 1, Unknown),
                Want::Ok(2),
                Want::Ok(2),
            ],
        )
    };
    matrix(&row).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_answer_to_a_call_knack_applied_says_applied_and_is_not_sent_again() {
    let row = Row {
        created: 1..=1,
        ..Row::new(
            "not JSON after apply",
            FaultKind::InvalidJson,
            [Fail(BadResponse, 1, Applied); 4],
        )
    };
    matrix(&row).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_2xx_without_a_usable_record_says_applied_never_not_sent() {
    let answers = [
        FaultKind::InvalidJson,
        FaultKind::StatusAfterApply {
            status: 200,
            body: json!("{}"),
            content_type: Some("application/json".into()),
            headers: BTreeMap::new(),
        },
        FaultKind::StatusAfterApply {
            status: 200,
            body: json!(r#"{"record":{}}"#),
            content_type: Some("application/json".into()),
            headers: BTreeMap::new(),
        },
    ];
    let rows: Vec<Row> = answers
        .into_iter()
        .map(|fault| Row {
            created: 1..=1,
            ..Row::new("unusable 2xx", fault, [Fail(BadResponse, 1, Applied); 4])
        })
        .collect();
    let rans = join_all(
        rows.iter()
            .map(|row| async move { (row, run_cell(row, Op::Create).await) }),
    )
    .await;
    for (row, ran) in rans {
        check(row, &ran);
        assert_eq!(created(&ran.server, &ran.subject), 1, "{:?}", row.fault);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_refused_for_every_call_and_nothing_reaches_the_other_host() {
    let elsewhere = RawServer::start(answer("200 OK", &[], b"{}")).await;
    let row = Row {
        status: Some(302),
        ..Row::new(
            "redirect",
            FaultKind::Redirect {
                status: 302,
                location: format!("{}/steal", elsewhere.base_url),
            },
            [Fail(BadResponse, 1, Rejected); 4],
        )
    };
    matrix(&row).await;
    assert_eq!(elsewhere.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_retried_even_for_a_create_then_fails_as_not_sent() {
    // A port nothing listens on: every attempt fails to connect, so nothing was sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let cells = join_all(OPS.map(|op| {
        let url = url.clone();
        async move {
            let s = session(&cell_config(&url));
            (op, call(&s, op, "refused", &CallOptions::default()).await)
        }
    }))
    .await;
    for (op, r) in cells {
        let e = r.expect_err("refused");
        assert_eq!(e.code, Network, "{op:?}: {}", e.message);
        assert_eq!(e.attempts, 3, "{op:?}");
        assert_eq!(e.outcome(), NotSent, "{op:?}");
        assert_eq!(e.request.as_deref(), Some(op.request().as_str()));
        assert!(
            !e.message.contains("may have been applied"),
            "{}",
            e.message
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knacks_refusals_are_rejected_and_bad_arguments_are_not_sent() {
    let server = fake().await;
    let config = cell_config(&server.api_url());
    let alice = session_on(&server, &config, ALICE_EMAIL);
    let carol = session_on(&server, &config, CAROL_EMAIL);
    let o = CallOptions::default();
    let missing = "ffffffffffffffffffffffff";
    let cases: Vec<(&str, Result<String, Error>, Want)> = vec![
        (
            "create without the required subject",
            alice
                .create_record(&view("scene_1", "view_2"), r#"{"field_11":"x"}"#, &o)
                .await,
            Fail(Validation, 1, Rejected),
        ),
        (
            "delete of a record that is not there",
            carol
                .delete_record(&view("scene_2", "view_4"), missing, &o)
                .await
                .map(|()| String::new()),
            Fail(NotFound, 1, Rejected),
        ),
        (
            "read of a view the user may not see",
            alice
                .get_records(
                    &knack_client::ListQuery {
                        view: view("scene_2", "view_4"),
                        ..Default::default()
                    },
                    &o,
                )
                .await,
            Fail(Forbidden, 1, Rejected),
        ),
        (
            "create on a view key that is not one",
            alice
                .create_record(&view("scene_1", "nope"), r#"{"field_10":"x"}"#, &o)
                .await,
            Fail(InvalidArgument, 0, NotSent),
        ),
        (
            "update with data that is not an object",
            alice
                .update_record(&view("scene_1", "view_3"), TICKET, "[1,2]", &o)
                .await,
            Fail(InvalidArgument, 0, NotSent),
        ),
    ];
    for (what, r, want) in cases {
        let Fail(code, attempts, outcome) = want else {
            unreachable!("{what}: every case fails")
        };
        let e = r.expect_err(what);
        assert_eq!(e.code, code, "{what}: {}", e.message);
        assert_eq!(e.attempts, attempts, "{what}");
        assert_eq!(e.outcome(), outcome, "{what}");
        assert!(!e.message.contains("may have been applied"), "{what}");
    }
    assert_eq!(server.state().stats().inserts, 0);
    assert_eq!(server.state().stats().deletes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cut_off_by_an_abort_or_the_deadline_may_have_been_applied() {
    let slow_create = || {
        Fault::new(FaultKind::Delay { ms: 1500 })
            .method("POST")
            .path_contains("/records")
    };
    let data = r#"{"field_10":"cut off"}"#;
    let server = fake().await;
    let alice = session_on(&server, &cell_config(&server.api_url()), ALICE_EMAIL);
    server
        .state()
        .add_faults(vec![slow_create()])
        .expect("faults");
    let cancel = CancellationToken::new();
    let o = CallOptions {
        cancel: Some(cancel.clone()),
        ..Default::default()
    };
    let new_ticket = view("scene_1", "view_2");
    let t = Instant::now();
    let (aborted, ()) = tokio::join!(alice.create_record(&new_ticket, data, &o), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let aborted = aborted.expect_err("aborted");
    assert!(
        t.elapsed() < Duration::from_millis(1000),
        "{:?}",
        t.elapsed()
    );

    let mut c = cell_config(&server.api_url());
    c.policy.deadline = Some(Duration::from_millis(300));
    let hurried = session_on(&server, &c, ALICE_EMAIL);
    server
        .state()
        .add_faults(vec![slow_create()])
        .expect("faults");
    let cut = hurried
        .create_record(&view("scene_1", "view_2"), data, &CallOptions::default())
        .await
        .expect_err("deadline");
    for (e, code) in [(aborted, Aborted), (cut, Timeout)] {
        assert_eq!(e.code, code, "{}", e.message);
        assert_eq!(e.attempts, 1);
        assert_eq!(e.outcome(), Unknown);
        assert_eq!(
            e.request.as_deref(),
            Some(Op::Create.request().as_str()),
            "{e:?}"
        );
        assert!(e.message.contains("may have been applied"), "{}", e.message);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overall_deadline_bounds_retries_and_backoff() {
    let server = fake().await;
    let mut c = cell_config(&server.api_url());
    c.policy.deadline = Some(Duration::from_millis(400));
    c.policy.retry.max_attempts = 10;
    c.policy.retry.base_delay = Duration::from_millis(100);
    let s = session_on(&server, &c, ALICE_EMAIL);
    server
        .state()
        .add_faults(vec![Fault::new(status(
            503,
            "<html>down</html>",
            "text/html",
        ))
        .method("GET")
        .times(100)])
        .expect("faults");
    let t = Instant::now();
    let e = s
        .get_records(&my_tickets(), &CallOptions::default())
        .await
        .expect_err("deadline");
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(e.code, Timeout, "{}", e.message);
    assert!(e.message.contains("deadline of 400ms"), "{}", e.message);
    assert!(e.attempts >= 1 && e.attempts < 10, "{}", e.attempts);
    assert_eq!(e.outcome(), Unknown);
}
