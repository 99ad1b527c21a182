//! The shared transport: one pooled HTTP client, one rate governor, one plan-quota tracker
//! and one metadata cache per (base URL, app id) per process. Sessions are cheap handles
//! that point at it.
//!
//! `send` runs one logical request: quota check, governor slot, attempt with a per-attempt
//! timeout and a body-size cap, classification, retry with backoff. Cancellation and the
//! overall deadline wrap a whole operation (see `guard`).

use crate::error::{Error, ErrorCode, Result};
use crate::governor::{Governor, DEFAULT_PER_SECOND};
use crate::klog;
use crate::outcome::{AttemptEnd, AttemptLog};
use crate::quota::PlanQuota;
use crate::retry::{Failure, RetryPolicy};
use crate::secret::Secret;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;
use url::Url;

pub const USER_AGENT: &str = concat!("knack-session/", env!("CARGO_PKG_VERSION"));
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

/// Process-wide settings of a transport, given when a session is made.
#[derive(Debug, Clone, Default)]
pub struct TransportOptions {
    /// `None`: leave as is (10/s for a new transport). `Some(None)`: governor off.
    pub rate_limit: Option<Option<u32>>,
    /// Explicit proxy URL; otherwise `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` apply.
    pub proxy: Option<String>,
    /// Share the governor's window through Redis: (URL, key prefix).
    pub shared_redis: Option<(String, Option<String>)>,
}

/// One HTTP request of the Knack API.
#[derive(Debug)]
pub struct Call<'a> {
    pub method: Method,
    /// Path below the base URL, starting with `/` (e.g. `/session/token`).
    pub path: String,
    /// Already-encoded query string, without `?`.
    pub query: String,
    pub token: Option<&'a Secret>,
    pub body: Option<Bytes>,
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
}

impl Progress {
    /// The error for an operation cut off (aborted, deadline) with what its request did.
    fn cut(&self, e: Error) -> Error {
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

/// A snapshot of a transport's state, readable from JS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransportStats {
    pub requests: u64,
    pub retries: u64,
    pub rate_limited: u64,
    pub queued: u64,
    pub per_second: Option<u32>,
    /// The governor's window is shared through Redis.
    pub shared: bool,
    pub plan: crate::quota::PlanSnapshot,
}

/// Counters of a transport, readable from JS.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
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

enum AttemptError {
    /// Nothing was sent.
    Connect(String),
    /// The request may have reached Knack.
    AfterSend(String),
    /// Not worth retrying (answer too large, ...).
    Fatal(Error),
}

struct RawResponse {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug)]
pub struct Transport {
    pub base_url: Url,
    pub app_id: String,
    http: reqwest::Client,
    pub governor: Governor,
    pub quota: PlanQuota,
    pub counters: Counters,
    pub(crate) metadata: tokio::sync::Mutex<Option<Arc<crate::metadata::AppMeta>>>,
    /// The Redis (URL, prefix) the governor shares its window through, if any.
    shared_redis: Mutex<Option<(String, Option<String>)>>,
    /// The explicit proxy the pool was built with (its URL may hold a password).
    proxy: Option<Secret>,
}

/// A transport that no session has used for this long is dropped from the registry (its
/// pool and caches freed); the next session of that app starts a new one.
const IDLE_DROP: Duration = Duration::from_secs(300);

struct Entry {
    transport: Arc<Transport>,
    last_used: Instant,
}

type Registry = Mutex<HashMap<(String, String), Entry>>;

/// Drop the transports that no session holds and none has used for `IDLE_DROP`.
fn prune(reg: &mut HashMap<(String, String), Entry>, now: Instant) {
    reg.retain(|_, e| {
        Arc::strong_count(&e.transport) > 1 || now.duration_since(e.last_used) < IDLE_DROP
    });
}

/// The registry key of a base URL: one transport (pool, governor, quota) per API origin and
/// path, however the URL was spelt (`.../v1` and `.../v1/` are the same API).
pub fn registry_key(base_url: &Url) -> String {
    base_url.as_str().trim_end_matches('/').to_owned()
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

fn install_crypto() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Reduce a reqwest error to a message without URLs (they may carry a query with user data).
fn describe(e: &reqwest::Error) -> String {
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

impl Transport {
    /// The shared transport of (base URL, app id), created on first use.
    ///
    /// Settings that belong to the transport and cannot change once it exists (the proxy)
    /// must agree with it: a different explicit `proxy` is refused, never silently ignored.
    pub fn shared(base_url: &Url, app_id: &str, opts: &TransportOptions) -> Result<Arc<Transport>> {
        let key = (registry_key(base_url), app_id.to_owned());
        let mut reg = registry().lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        prune(&mut reg, now);
        if let Some(e) = reg.get_mut(&key) {
            let t = &e.transport;
            let same_proxy = opts.proxy.as_deref() == t.proxy.as_ref().map(|p| p.expose());
            if opts.proxy.is_some() && !same_proxy {
                return Err(Error::invalid(
                    "proxy differs from the one this app's sessions already use in this process: \
                     every session of an app (same baseUrl and appId) shares one connection pool, \
                     so give them all the same proxy",
                ));
            }
            if let Some(limit) = opts.rate_limit {
                t.governor.set_per_second(limit);
            }
            t.share_window(opts)?;
            e.last_used = now;
            return Ok(t.clone());
        }
        let t = Arc::new(Transport::new(base_url.clone(), app_id.to_owned(), opts)?);
        reg.insert(
            key,
            Entry {
                transport: t.clone(),
                last_used: now,
            },
        );
        Ok(t)
    }

    /// Start sharing the governor's window through Redis, if asked and not already so.
    fn share_window(&self, opts: &TransportOptions) -> Result<()> {
        let Some(wanted) = &opts.shared_redis else {
            return Ok(());
        };
        let mut current = self.shared_redis.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_ref() == Some(wanted) {
            return Ok(());
        }
        let conn = crate::store::redis::RedisConn::new(&wanted.0)?;
        let limiter =
            crate::store::redis::RedisLimiter::new(conn, wanted.1.as_deref(), &self.app_id)?;
        self.governor.set_shared(Some(Arc::new(limiter)));
        *current = Some(wanted.clone());
        Ok(())
    }

    /// A transport of its own, not shared (tests).
    pub fn new(base_url: Url, app_id: String, opts: &TransportOptions) -> Result<Transport> {
        install_crypto();
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(128)
            .tcp_nodelay(true)
            // Redirects are refused: a redirect must never carry the user's token elsewhere.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(p) = &opts.proxy {
            let proxy = reqwest::Proxy::all(p.as_str())
                .map_err(|_| Error::invalid("proxy is not a valid proxy URL"))?;
            builder = builder.proxy(proxy);
        }
        let http = builder
            .build()
            .map_err(|e| Error::invalid(format!("could not build the HTTP client: {e}")))?;
        let limit = opts.rate_limit.unwrap_or(Some(DEFAULT_PER_SECOND));
        let t = Transport {
            base_url,
            app_id,
            http,
            governor: Governor::new(limit),
            quota: PlanQuota::default(),
            counters: Counters::default(),
            metadata: tokio::sync::Mutex::new(None),
            shared_redis: Mutex::new(None),
            proxy: opts.proxy.as_deref().map(Secret::new),
        };
        t.share_window(opts)?;
        Ok(t)
    }

    pub fn stats(&self) -> TransportStats {
        TransportStats {
            requests: self.counters.requests.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
            rate_limited: self.counters.rate_limited.load(Ordering::Relaxed),
            queued: self.governor.queued() as u64,
            per_second: self.governor.per_second(),
            shared: self.governor.is_shared(),
            plan: self.quota.snapshot(),
        }
    }

    fn url(&self, call: &Call<'_>) -> Result<Url> {
        request_url(&self.base_url, &call.path, &call.query)
    }

    async fn attempt(
        &self,
        call: &Call<'_>,
        url: &Url,
        max_body: usize,
    ) -> Result<RawResponse, AttemptError> {
        let mut rb = self.http.request(call.method.clone(), url.clone());
        if call.app_header {
            let v = HeaderValue::from_str(&self.app_id).map_err(|_| {
                AttemptError::Fatal(Error::invalid("appId is not a valid header value"))
            })?;
            rb = rb.header("X-Knack-Application-Id", v);
        }
        if let Some(token) = call.token {
            // The header's bytes live in a buffer that is wiped once the request is dropped.
            let bytes = crate::secret::zeroizing_bytes(zeroize::Zeroizing::new(
                token.expose().as_bytes().to_vec(),
            ));
            let mut v = HeaderValue::from_maybe_shared(bytes).map_err(|_| {
                AttemptError::Fatal(Error::invalid("the token is not a valid header value"))
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
        let mut resp = rb.send().await.map_err(|e| {
            if e.is_connect() {
                AttemptError::Connect(describe(&e))
            } else {
                AttemptError::AfterSend(describe(&e))
            }
        })?;
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let too_large = |n: usize| {
            AttemptError::Fatal(
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

    fn observe(&self, limits: &Limits) {
        self.quota.observe(
            limits.plan_limit,
            limits.plan_remaining,
            limits.plan_reset_ms.map(Duration::from_millis),
        );
        self.governor
            .observe(limits.rate_remaining, limits.rate_reset_in());
    }

    /// Run one request with retries. 2xx and 4xx (other than 429) come back as a `Reply`;
    /// 429, 5xx, network failures and timeouts become errors once retries are spent.
    pub async fn send(
        &self,
        call: &Call<'_>,
        policy: &CallPolicy,
        progress: &Progress,
    ) -> Result<Reply> {
        let label = call.label();
        let url = self.url(call)?;
        let log = &progress.log;
        log.reset();
        *progress.request.lock().unwrap_or_else(|p| p.into_inner()) = Some(label.clone());
        let mut attempt: u32 = 0;
        loop {
            self.quota.check().map_err(|e| {
                e.with_attempts(attempt)
                    .with_request(label.clone())
                    .with_outcome(log.outcome())
            })?;
            self.governor.acquire().await;
            attempt += 1;
            progress.attempts.store(attempt, Ordering::Relaxed);
            log.begin();
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let outcome = tokio::time::timeout(
                policy.timeout,
                self.attempt(call, &url, policy.max_body_bytes),
            )
            .await;
            let elapsed = started.elapsed().as_millis();
            let (failure, mut err, wait) = match outcome {
                Err(_) => {
                    klog!(
                        Info,
                        "{label} timed out after {elapsed}ms (attempt {attempt})"
                    );
                    (
                        Failure::Timeout,
                        Error::new(
                            ErrorCode::Timeout,
                            format!(
                                "{label}: no complete answer within the per-attempt timeout of {}ms",
                                policy.timeout.as_millis(),
                            ),
                        ),
                        None,
                    )
                }
                Ok(Err(AttemptError::Fatal(e))) => {
                    // Answers too large to read: the request itself was received.
                    log.end(if e.status.is_some_and(|s| (200..300).contains(&s)) {
                        AttemptEnd::Answered
                    } else if e.status.is_some() {
                        AttemptEnd::Rejected
                    } else {
                        AttemptEnd::NotSent
                    });
                    return Err(e
                        .with_attempts(attempt)
                        .with_request(label)
                        .with_outcome(log.outcome()));
                }
                Ok(Err(AttemptError::Connect(msg))) => {
                    klog!(Info, "{label}: {msg} (attempt {attempt})");
                    (
                        Failure::Connect,
                        Error::new(ErrorCode::Network, format!("{label}: {msg}")),
                        None,
                    )
                }
                Ok(Err(AttemptError::AfterSend(msg))) => {
                    klog!(Info, "{label}: {msg} (attempt {attempt})");
                    (
                        Failure::AfterSend,
                        Error::new(ErrorCode::Network, format!("{label}: {msg}")),
                        None,
                    )
                }
                Ok(Ok(resp)) => {
                    let limits = Limits::from_headers(&resp.headers);
                    self.observe(&limits);
                    klog!(
                        Debug,
                        "{label} -> {} in {elapsed}ms (attempt {attempt})",
                        resp.status
                    );
                    if resp.status != 429 {
                        self.quota.answered();
                    }
                    match resp.status {
                        429 => {
                            let text =
                                String::from_utf8_lossy(&resp.body[..resp.body.len().min(2048)])
                                    .to_ascii_lowercase();
                            if limits.plan_remaining == Some(0)
                                || text.contains("daily")
                                || text.contains("plan limit")
                            {
                                log.end(AttemptEnd::Rejected);
                                let reset = limits.plan_reset_ms.map(Duration::from_millis);
                                self.quota.mark_spent(reset);
                                let mut e = Error::new(
                                    ErrorCode::DailyLimit,
                                    format!("{label}: the Knack plan's daily API limit is spent"),
                                )
                                .with_status(429)
                                .with_errors(crate::response::knack_errors(&resp.body))
                                .with_attempts(attempt)
                                .with_request(label)
                                .with_outcome(log.outcome());
                                e.retry_after_ms = reset.map(|d| d.as_millis() as u64);
                                return Err(e);
                            }
                            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                            // Knack's relative `Retry-After` is honoured as given (up to a
                            // minute); the wait reported is the one applied.
                            let wait = match limits.retry_after {
                                Some(w) => self.governor.pause_for_retry_after(w),
                                None => {
                                    let w = limits.rate_wait();
                                    self.governor.pause_for(w);
                                    w
                                }
                            };
                            let mut e = Error::new(
                                ErrorCode::RateLimited,
                                format!("{label}: Knack's rate limit was exceeded (429)"),
                            )
                            .with_status(429);
                            e.retry_after_ms = Some(wait.as_millis() as u64);
                            (Failure::RateLimited, e, Some(wait))
                        }
                        500..=599 => (
                            Failure::Server,
                            Error::new(
                                ErrorCode::ServerError,
                                format!("{label}: Knack answered {}", resp.status),
                            )
                            .with_status(resp.status)
                            .with_errors(crate::response::knack_errors(&resp.body)),
                            None,
                        ),
                        300..=399 => {
                            log.end(AttemptEnd::Rejected);
                            return Err(Error::bad_response(format!(
                                "{label}: Knack answered with a redirect ({}), which is refused so the token cannot be sent elsewhere",
                                resp.status
                            ))
                            .with_status(resp.status)
                            .with_attempts(attempt)
                            .with_request(label)
                            .with_outcome(log.outcome()));
                        }
                        status => {
                            let prior_unknown = log.any_unknown_before_last();
                            log.end(if (200..300).contains(&status) {
                                AttemptEnd::Answered
                            } else {
                                AttemptEnd::Rejected
                            });
                            return Ok(Reply {
                                status,
                                body: resp.body,
                                attempts: attempt,
                                request: label,
                                prior_unknown,
                            });
                        }
                    }
                }
            };
            log.end(match failure {
                Failure::Connect => AttemptEnd::NotSent,
                Failure::RateLimited => AttemptEnd::Rejected,
                Failure::Server | Failure::AfterSend | Failure::Timeout => AttemptEnd::Unknown,
            });
            if policy.retry.should_retry(failure, call.idempotent, attempt) {
                self.counters.retries.fetch_add(1, Ordering::Relaxed);
                let pause = match wait {
                    // The governor already holds everyone until Knack's window has passed.
                    Some(_) => Duration::ZERO,
                    None => policy.retry.backoff(attempt),
                };
                klog!(
                    Info,
                    "{label}: retrying in {}ms ({:?})",
                    pause.as_millis(),
                    failure
                );
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
                continue;
            }
            err.attempts = attempt;
            err.request = Some(label);
            err.outcome = Some(log.outcome());
            return Err(err);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(base: &str) -> ((String, String), Entry) {
        let url = Url::parse(base).expect("url");
        let t = Transport::new(url.clone(), "a".repeat(24), &TransportOptions::default())
            .expect("transport");
        (
            (registry_key(&url), "a".repeat(24)),
            Entry {
                transport: Arc::new(t),
                last_used: Instant::now(),
            },
        )
    }

    #[test]
    fn transports_no_session_holds_are_freed_once_idle() {
        let mut reg = HashMap::new();
        let (k1, held) = entry("https://one.example/v1");
        let kept = held.transport.clone(); // a live session's handle
        reg.insert(k1.clone(), held);
        let (k2, idle) = entry("https://two.example/v1");
        reg.insert(k2.clone(), idle);
        let now = Instant::now();
        prune(&mut reg, now);
        assert_eq!(reg.len(), 2, "recently used transports stay");
        prune(&mut reg, now + IDLE_DROP + Duration::from_secs(1));
        assert!(reg.contains_key(&k1), "a transport a session holds stays");
        assert!(
            !reg.contains_key(&k2),
            "an idle transport nobody holds is freed"
        );
        drop(kept);
        prune(&mut reg, now + IDLE_DROP + Duration::from_secs(1));
        assert!(reg.is_empty());
    }

    #[test]
    fn a_base_url_counts_however_it_is_spelt() {
        let a = Url::parse("https://api.knack.com/v1").expect("url");
        let b = Url::parse("https://api.knack.com/v1/").expect("url");
        let c = Url::parse("HTTPS://API.KNACK.COM:443/v1").expect("url");
        assert_eq!(registry_key(&a), registry_key(&b));
        assert_eq!(registry_key(&a), registry_key(&c));
    }
}
