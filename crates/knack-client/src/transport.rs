//! The request loop: `send` runs one logical request through an `App` (quota check,
//! governor slot, one attempt under the per-attempt timeout with a streaming body cap),
//! lets `classify` decide what follows, and carries the verdict out (retry after a backoff
//! or Knack's window, hand the answer back, or fail). Cancellation and the overall deadline
//! wrap a whole operation (see `guard`).

use crate::app::App;
use crate::bounds::{Bound, DAY_MS};
use crate::classify::{classify, Ending, Facts, Next, Wait};
use crate::error::{Error, ErrorCode, Result};
use crate::events::{self, Event};
use crate::klog;
use crate::outcome::AttemptLog;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;
use url::Url;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The most reserved up front for an answer, whatever its `Content-Length` claims: a server
/// cannot make the client allocate the whole cap by announcing a large body and stalling.
const MAX_PREALLOC: usize = 1024 * 1024;

/// Per-call policy: timeouts, retries, body cap. Lives on the session.
#[derive(Debug, Clone, PartialEq)]
pub struct CallPolicy {
    /// Per attempt: from sending the request to the last byte of the answer.
    pub timeout: Duration,
    /// The whole call: queueing, every attempt, every backoff.
    pub deadline: Option<Duration>,
    pub retry: RetryPolicy,
    pub max_body_bytes: usize,
}

impl CallPolicy {
    pub const TIMEOUT_MS: Bound = Bound::new("timeoutMs", 1, DAY_MS);
    pub const DEADLINE_MS: Bound = Bound::new("deadlineMs", 1, DAY_MS);
    pub const MAX_BODY_BYTES: Bound = Bound::new("maxBodyBytes", 1024, 4_294_967_296);
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            timeout: DEFAULT_TIMEOUT,
            deadline: None,
            retry: RetryPolicy::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// One HTTP request of the Knack API.
#[derive(Debug)]
pub struct Call<'a> {
    pub method: Method,
    /// Path below the base URL, starting with `/` (e.g. `/session/token`).
    pub path: String,
    /// Already-encoded query string, without `?`.
    pub query: String,
    pub token: Option<Secret>,
    pub body: Option<Bytes>,
    /// A multipart upload, its body made afresh for each attempt (instead of `body`).
    pub upload: Option<&'a crate::upload::Upload>,
    /// Safe to repeat after an answer may have been lost.
    pub idempotent: bool,
    /// Send `X-Knack-Application-Id`.
    pub app_header: bool,
}

impl<'a> Call<'a> {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let idempotent = method != Method::POST;
        Call {
            method,
            path: path.into(),
            query: String::new(),
            token: None,
            body: None,
            upload: None,
            idempotent,
            app_header: true,
        }
    }

    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A final HTTP answer (2xx, or a 4xx other than 429) for the caller to interpret.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
    pub attempts: u32,
    pub request: String,
    /// An attempt before this answer may have reached Knack (its answer was lost).
    pub prior_unknown: bool,
}

impl Reply {
    /// An error about this 2xx answer's body: the request was applied.
    pub fn unusable(&self, e: Error) -> Error {
        e.after_reply(
            self.attempts,
            &self.request,
            crate::outcome::Outcome::Applied,
        )
    }
}

/// What is known about one operation while it runs; survives a cut-off by the deadline.
#[derive(Debug, Default)]
pub struct Progress {
    pub attempts: AtomicU32,
    /// The attempts of the operation's current request.
    pub log: AttemptLog,
    /// The method and path of the operation's current request.
    request: Mutex<Option<String>>,
    /// Who observes the operation (`events`): 0 for nobody, then no event is built.
    pub observe: std::sync::atomic::AtomicU64,
    /// The caller logs the operation itself (a session's `logger`): no stderr lines for it.
    pub quiet: std::sync::atomic::AtomicBool,
    /// The observed request in flight, for its error event if the operation is cut off.
    open: Mutex<Option<OpenRequest>>,
}

/// An observed request that has started and not yet ended.
#[derive(Debug, Clone)]
struct OpenRequest {
    id: String,
    method: String,
    path: String,
    attempt: u32,
    started: Instant,
}

impl OpenRequest {
    fn event(&self, kind: events::Kind, observer: u64) -> Event {
        Event {
            kind,
            observer,
            request_id: self.id.clone(),
            method: self.method.clone(),
            path: self.path.clone(),
            attempt: self.attempt,
            status: None,
            duration_ms: Some(self.started.elapsed().as_secs_f64() * 1000.0),
            code: None,
            wait_ms: None,
            reason: None,
        }
    }
}

impl Progress {
    /// The error for an operation cut off (aborted, deadline) with what its request did.
    fn cut(&self, e: Error) -> Error {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(o) = open {
            let mut ev = o.event(events::Kind::Error, self.observe.load(Ordering::Relaxed));
            ev.code = Some(e.code());
            events::emit(ev);
        }
        let outcome = self.log.outcome();
        let mut e = e
            .with_attempts(self.attempts.load(Ordering::Relaxed))
            .with_outcome(outcome);
        e.request = self
            .request
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        e
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Limits {
    rate_remaining: Option<u64>,
    rate_reset: Option<u64>,
    plan_limit: Option<u64>,
    plan_remaining: Option<u64>,
    plan_reset_ms: Option<u64>,
    /// `Retry-After` in seconds (fractions kept).
    retry_after: Option<Duration>,
}

fn header_u64(h: &HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v as u64)
}

impl Limits {
    fn from_headers(h: &HeaderMap) -> Self {
        Limits {
            rate_remaining: header_u64(h, "x-ratelimit-remaining"),
            rate_reset: header_u64(h, "x-ratelimit-reset"),
            plan_limit: header_u64(h, "x-planlimit-limit"),
            plan_remaining: header_u64(h, "x-planlimit-remaining"),
            plan_reset_ms: header_u64(h, "x-planlimit-reset"),
            retry_after: h
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| Duration::from_millis((v.min(86_400.0) * 1000.0) as u64)),
        }
    }

    /// How long to wait after a 429 without `Retry-After`: until `X-RateLimit-Reset` (unix
    /// seconds, at most 1.1 s away against clock skew), else one second (Knack's window).
    fn rate_wait(&self) -> Duration {
        if let Some(reset) = self.rate_reset {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let at = Duration::from_secs(reset);
            if at > now {
                return (at - now).clamp(Duration::from_millis(50), Duration::from_millis(1100));
            }
        }
        Duration::from_secs(1)
    }

    fn rate_reset_in(&self) -> Option<Duration> {
        let reset = self.rate_reset?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        Duration::from_secs(reset).checked_sub(now)
    }
}

/// Why an attempt did not produce a complete answer.
enum AttemptError {
    /// Nothing was sent.
    Connect(String),
    /// The request may have reached Knack.
    AfterSend(String),
    /// Not worth retrying (answer too large, a header value that cannot be sent).
    Unusable(Error),
}

struct RawResponse {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

/// Reduce a reqwest error to a message without URLs (they may carry a query with user data).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut kind = if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the connection broke while reading the answer".to_owned()
    } else if e.is_request() {
        "the connection failed while sending or before an answer came".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    let mut detail = None;
    while let Some(s) = source {
        detail = Some(s.to_string());
        source = s.source();
    }
    if let Some(d) = detail {
        kind.push_str(" (");
        kind.push_str(&d);
        kind.push(')');
    }
    kind
}

async fn attempt(
    app: &App,
    call: &Call<'_>,
    url: &Url,
    max_body: usize,
) -> Result<RawResponse, AttemptError> {
    let mut rb = app.http.request(call.method.clone(), url.clone());
    if call.app_header {
        let v = HeaderValue::from_str(&app.app_id).map_err(|_| {
            AttemptError::Unusable(Error::invalid("appId is not a valid header value"))
        })?;
        rb = rb.header("X-Knack-Application-Id", v);
    }
    if let Some(token) = &call.token {
        // The header's bytes live in a buffer that is wiped once the request is dropped.
        let bytes = crate::secret::zeroizing_bytes(zeroize::Zeroizing::new(
            token.expose().as_bytes().to_vec(),
        ));
        let mut v = HeaderValue::from_maybe_shared(bytes).map_err(|_| {
            AttemptError::Unusable(Error::invalid("the token is not a valid header value"))
        })?;
        v.set_sensitive(true);
        rb = rb.header(AUTHORIZATION, v);
    }
    rb = rb.header("Accept", "application/json");
    if let Some(body) = &call.body {
        rb = rb
            .header(CONTENT_TYPE, "application/json")
            .body(body.clone());
    }
    if let Some(upload) = call.upload {
        let body = upload.make_body().map_err(AttemptError::Unusable)?;
        rb = rb.header(CONTENT_TYPE, upload.content_type());
        if let Some(n) = upload.content_length() {
            rb = rb.header(reqwest::header::CONTENT_LENGTH, n);
        }
        rb = rb.body(body);
    }
    let mut resp = rb.send().await.map_err(|e| {
        if e.is_connect() {
            let detail = describe(&e);
            // A certificate the client does not trust: retrying cannot help.
            match crate::tls::untrusted_message(&detail) {
                Some(m) => AttemptError::Unusable(Error::new(
                    ErrorCode::Network,
                    format!("{}: {m}", call.label()),
                )),
                None => AttemptError::Connect(detail),
            }
        } else {
            AttemptError::AfterSend(describe(&e))
        }
    })?;
    let status = resp.status().as_u16();
    let headers = std::mem::take(resp.headers_mut());
    let too_large = |n: usize| {
        AttemptError::Unusable(
            Error::bad_response(format!(
                "the answer is larger than the {max_body}-byte limit (maxBodyBytes){}",
                if n > 0 {
                    format!(": {n} bytes")
                } else {
                    String::new()
                }
            ))
            .with_status(status),
        )
    };
    if let Some(len) = resp.content_length() {
        if len > max_body as u64 {
            return Err(too_large(len as usize));
        }
    }
    let cap = resp.content_length().map(|l| l as usize).unwrap_or(8192);
    let mut buf = Vec::with_capacity(cap.min(max_body).min(MAX_PREALLOC));
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let need = buf.len() + chunk.len();
                if need > max_body {
                    return Err(too_large(0));
                }
                if need > buf.capacity() {
                    // Grow by doubling, but never past the cap.
                    let target = (buf.capacity() * 2).max(need).min(max_body);
                    buf.reserve_exact(target - buf.len());
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(AttemptError::AfterSend(describe(&e))),
        }
    }
    Ok(RawResponse {
        status,
        headers,
        body: Bytes::from(buf),
    })
}

/// One attempt, classified: its ending for `classify`, and what is needed to report it.
struct Attempted {
    ending: Ending,
    /// The complete answer, if one came.
    response: Option<RawResponse>,
    /// The error an unusable attempt made, or the network failure's description.
    error: Option<Error>,
    detail: String,
    /// For a 429: how long the governor now holds requests (rate), or until the daily
    /// limit resets.
    wait: Option<Duration>,
}

/// Read the attempt's result: what it tells the governor and the quota, and its ending.
fn observe(
    app: &App,
    result: std::result::Result<
        std::result::Result<RawResponse, AttemptError>,
        tokio::time::error::Elapsed,
    >,
) -> Attempted {
    let mut a = Attempted {
        ending: Ending::Timeout,
        response: None,
        error: None,
        detail: String::new(),
        wait: None,
    };
    match result {
        Err(_) => {}
        Ok(Err(AttemptError::Unusable(e))) => {
            a.ending = Ending::Unusable {
                status: e.status,
                code: e.code,
            };
            a.error = Some(e);
        }
        Ok(Err(AttemptError::Connect(msg))) => {
            a.ending = Ending::Connect;
            a.detail = msg;
        }
        Ok(Err(AttemptError::AfterSend(msg))) => {
            a.ending = Ending::AfterSend;
            a.detail = msg;
        }
        Ok(Ok(resp)) => {
            let limits = Limits::from_headers(&resp.headers);
            app.quota.observe(
                limits.plan_limit,
                limits.plan_remaining,
                limits.plan_reset_ms.map(Duration::from_millis),
            );
            app.governor
                .observe(limits.rate_remaining, limits.rate_reset_in());
            let mut daily = false;
            if resp.status == 429 {
                let text = String::from_utf8_lossy(&resp.body[..resp.body.len().min(2048)])
                    .to_ascii_lowercase();
                daily = limits.plan_remaining == Some(0)
                    || text.contains("daily")
                    || text.contains("plan limit");
                if daily {
                    // Knack's daily limit resets at 00:00 UTC: no wait is longer than a day,
                    // whatever the header says (the quota's latch is capped the same way).
                    let reset = limits
                        .plan_reset_ms
                        .map(|ms| Duration::from_millis(ms).min(crate::quota::MAX_RESET));
                    app.quota.mark_spent(reset);
                    a.wait = reset;
                } else {
                    app.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                    // Knack's relative `Retry-After` is honoured as given (up to a minute);
                    // the wait reported is the one applied.
                    a.wait = Some(match limits.retry_after {
                        Some(w) => app.governor.pause_for_retry_after(w),
                        None => {
                            let w = limits.rate_wait();
                            app.governor.pause_for(w);
                            w
                        }
                    });
                }
            } else {
                app.quota.answered();
            }
            a.ending = Ending::Answer {
                status: resp.status,
                daily,
            };
            a.response = Some(resp);
        }
    }
    a
}

impl Attempted {
    /// The error of a request that failed with `code` after this attempt.
    fn error(self, code: ErrorCode, label: &str, policy: &CallPolicy) -> Error {
        if let Some(e) = self.error {
            return e;
        }
        let status = self.response.as_ref().map(|r| r.status);
        let errors = || {
            self.response
                .as_ref()
                .map(|r| crate::response::knack_errors(&r.body))
                .unwrap_or_default()
        };
        let mut e = match (code, status) {
            (ErrorCode::Timeout, _) => Error::new(
                code,
                format!(
                    "{label}: no complete answer within the per-attempt timeout of {}ms",
                    policy.timeout.as_millis(),
                ),
            ),
            (ErrorCode::DailyLimit, _) => Error::new(
                code,
                format!("{label}: the Knack plan's daily API limit is spent"),
            )
            .with_errors(errors()),
            (ErrorCode::RateLimited, _) => Error::new(
                code,
                format!("{label}: Knack's rate limit was exceeded (429)"),
            ),
            (ErrorCode::ServerError, Some(s)) => {
                let errors = errors();
                let said = crate::response::summary(&errors)
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default();
                Error::new(code, format!("{label}: Knack answered {s}{said}")).with_errors(errors)
            }
            (ErrorCode::BadResponse, Some(s)) => Error::bad_response(format!(
                "{label}: Knack answered with a redirect ({s}), which is refused so the token cannot be sent elsewhere"
            )),
            _ => Error::new(code, format!("{label}: {}", self.detail)),
        };
        e.status = status;
        e.retry_after_ms = self.wait.map(|w| w.as_millis() as u64);
        e
    }
}

/// Run one request through `app` with retries. 2xx and 4xx (other than 429) come back as a
/// `Reply`; everything else becomes an error once `classify` says so.
pub async fn send(
    app: &App,
    call: &Call<'_>,
    policy: &CallPolicy,
    progress: &Progress,
) -> Result<Reply> {
    let label = call.label();
    let url = request_url(&app.base_url, &call.path, &call.query)?;
    let log = &progress.log;
    log.reset();
    *progress.request.lock().unwrap_or_else(|p| p.into_inner()) = Some(label.clone());
    let observer = progress.observe.load(Ordering::Relaxed);
    let mut open = (observer != 0).then(|| OpenRequest {
        id: events::next_request_id(),
        method: call.method.to_string(),
        path: events::route(&call.path),
        attempt: 0,
        started: Instant::now(),
    });
    // The event of `kind` for this request (nothing when unobserved).
    let note = |open: &Option<OpenRequest>, kind: events::Kind, f: &dyn Fn(&mut Event)| {
        if let Some(o) = open {
            let mut ev = o.event(kind, observer);
            f(&mut ev);
            events::emit(ev);
        }
    };
    let quiet = progress.quiet.load(Ordering::Relaxed);
    let mut attempt: u32 = 0;
    // The last attempt was a 429: the governor's wait is Knack's window.
    let mut after_429 = false;
    loop {
        app.quota.check().map_err(|e| {
            if let Some(o) = open.take() {
                let mut ev = o.event(events::Kind::Error, observer);
                ev.code = Some(e.code());
                events::emit(ev);
            }
            e.with_attempts(attempt)
                .with_request(label.clone())
                .with_outcome(log.outcome())
        })?;
        let queued = Instant::now();
        let held = app.governor.acquire().await;
        let waited = queued.elapsed();
        attempt += 1;
        if let Some(o) = open.as_mut() {
            o.attempt = attempt;
        }
        if held {
            note(&open, events::Kind::RateLimitWait, &|e| {
                e.wait_ms = Some(waited.as_secs_f64() * 1000.0);
                e.duration_ms = None;
                e.reason = Some(if after_429 { "knack-429" } else { "governor" }.to_owned());
                if after_429 {
                    e.status = Some(429);
                }
            });
        }
        if attempt == 1 {
            note(&open, events::Kind::Start, &|e| e.duration_ms = None);
            *progress.open.lock().unwrap_or_else(|p| p.into_inner()) = open.clone();
        } else if let Some(o) = &open {
            *progress.open.lock().unwrap_or_else(|p| p.into_inner()) = Some(o.clone());
        }
        progress.attempts.store(attempt, Ordering::Relaxed);
        log.begin();
        app.counters.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let result = tokio::time::timeout(
            policy.timeout,
            self::attempt(app, call, &url, policy.max_body_bytes),
        )
        .await;
        let elapsed = started.elapsed().as_millis();
        let attempted = observe(app, result);
        let facts = Facts {
            idempotent: call.idempotent,
            attempt,
            max_attempts: policy.retry.max_attempts,
            earlier_unknown: log.any_unknown_before_last(),
        };
        let verdict = classify(attempted.ending, &facts);
        log.end(verdict.end);
        match &attempted.ending {
            _ if quiet => {}
            Ending::Answer { status, .. } => klog!(
                Debug,
                "{label} -> {status} in {elapsed}ms (attempt {attempt})"
            ),
            Ending::Timeout => klog!(
                Info,
                "{label} timed out after {elapsed}ms (attempt {attempt})"
            ),
            Ending::Connect | Ending::AfterSend => {
                klog!(Info, "{label}: {} (attempt {attempt})", attempted.detail)
            }
            Ending::Unusable { .. } => {}
        }
        match verdict.next {
            Next::Done => {
                progress
                    .open
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
                let status = attempted.response.as_ref().map(|r| r.status);
                note(&open, events::Kind::End, &|e| e.status = status);
                let resp = attempted
                    .response
                    .ok_or_else(|| Error::bad_response(format!("{label}: no answer")))?;
                return Ok(Reply {
                    status: resp.status,
                    body: resp.body,
                    attempts: attempt,
                    request: label,
                    prior_unknown: facts.earlier_unknown,
                });
            }
            Next::Retry(wait) => {
                app.counters.retries.fetch_add(1, Ordering::Relaxed);
                let pause = match wait {
                    Wait::KnacksWindow => Duration::ZERO,
                    Wait::Backoff => policy.retry.backoff(attempt),
                };
                if !quiet {
                    klog!(
                        Info,
                        "{label}: retrying in {}ms ({:?})",
                        pause.as_millis(),
                        attempted.ending
                    );
                }
                after_429 = matches!(attempted.ending, Ending::Answer { status: 429, .. });
                let status = attempted.response.as_ref().map(|r| r.status);
                let reason = ending_reason(&attempted.ending);
                note(&open, events::Kind::Retry, &|e| {
                    e.status = status;
                    e.wait_ms = Some(pause.as_secs_f64() * 1000.0);
                    e.reason = Some(reason.to_owned());
                });
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
            Next::Fail { code, outcome } => {
                debug_assert_eq!(outcome, log.outcome());
                progress
                    .open
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
                let status = attempted.response.as_ref().map(|r| r.status);
                note(&open, events::Kind::Error, &|e| {
                    e.status = status;
                    e.code = Some(code.as_str());
                });
                return Err(attempted
                    .error(code, &label, policy)
                    .with_attempts(attempt)
                    .with_request(label)
                    .with_outcome(outcome));
            }
        }
    }
}

/// Why an attempt is retried, for the retry event.
fn ending_reason(e: &Ending) -> &'static str {
    match e {
        Ending::Answer { status: 429, .. } => "rate-limited",
        Ending::Answer { .. } => "server-error",
        Ending::Connect => "connect",
        Ending::AfterSend => "connection-lost",
        Ending::Timeout => "timeout",
        Ending::Unusable { .. } => "unusable",
    }
}

/// The URL of a request: the base URL, then `path` (which starts with `/`), then `?query` if
/// any. Callers build `path` only from checked pieces (see `validate`), so nothing in it can
/// leave its segment; the property tests check that whatever scene, view or id is given.
pub fn request_url(base_url: &Url, path: &str, query: &str) -> Result<Url> {
    let base = base_url.as_str().trim_end_matches('/');
    let mut s = String::with_capacity(base.len() + path.len() + query.len() + 1);
    s.push_str(base);
    s.push_str(path);
    if !query.is_empty() {
        s.push('?');
        s.push_str(query);
    }
    Url::parse(&s).map_err(|e| Error::invalid(format!("could not build the request URL: {e}")))
}

/// Run an operation under the caller's cancellation token and the overall deadline.
/// Dropping the inner future cancels in-flight HTTP and leaves the governor queue.
pub async fn guard<T>(
    fut: impl std::future::Future<Output = Result<T>>,
    cancel: Option<&CancellationToken>,
    deadline: Option<Duration>,
    progress: &Progress,
) -> Result<T> {
    let cancelled = async {
        match cancel {
            Some(c) => c.cancelled().await,
            None => std::future::pending().await,
        }
    };
    let timed_out = async {
        match deadline {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        _ = cancelled => Err(progress.cut(Error::aborted())),
        _ = timed_out => Err(progress.cut(Error::new(
            ErrorCode::Timeout,
            format!("the deadline of {}ms passed", deadline.map(|d| d.as_millis()).unwrap_or(0)),
        ))),
        r = fut => r,
    }
}
