//! The HTTP side: accept loop, HTTP/1.1 connections, `/v1` dispatch with limits, faults,
//! latency and logging, `/_fake` control, and the accept loop of the asset host.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, LOCATION};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::assets::{Download, FileServe};
use crate::body::Body;
use crate::faults::{
    deep_json_body, invalid_json_body, invalid_utf8_body, oversize_body, FaultKind,
};
use crate::limits::{LimitHeaders, Verdict};
use crate::reader::{BodyReader, ReadError};
use crate::request::{parse_query, Output, RequestCtx, Resp, JSON, TEXT};
use crate::state::{FakeState, LogEntry};

/// Largest request body accepted (routes other than uploads).
const MAX_BODY: u64 = 64 << 20;
/// After answering a request whose body was not read, keep reading (and dropping) what the
/// client still sends for at most this long, so that it reads the answer instead of a reset.
const LINGER: Duration = Duration::from_secs(2);
/// ... and stop earlier after this long without data.
const LINGER_IDLE: Duration = Duration::from_millis(500);

/// Which server a listener is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    /// The Knack API and `/_fake` control.
    Api,
    /// The asset host (downloads after a redirect).
    Assets,
}

async fn dispatch(
    host: Host,
    st: Arc<FakeState>,
    req: Request<Incoming>,
) -> Result<Response<Body>, ConnReset> {
    match host {
        Host::Api => handle(st, req).await,
        Host::Assets => crate::asset_host::handle(st, req).await,
    }
}

/// Returned by the service to make hyper drop the connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection reset by a fault")]
pub struct ConnReset;

pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<crate::tls::Tls>,
    state: Arc<FakeState>,
    mut shutdown: watch::Receiver<bool>,
    host: Host,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            res = listener.accept() => match res {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let st = state.clone();
                    let sd = shutdown.clone();
                    match &tls {
                        None => {
                            tokio::spawn(serve_conn(stream, st, sd, host));
                        }
                        Some(t) => {
                            let acceptor = t.acceptor.clone();
                            tokio::spawn(async move {
                                // A client that does not trust the CA ends here (handshake).
                                if let Ok(s) = acceptor.accept(stream).await {
                                    let h2 = s.get_ref().1.alpn_protocol() == Some(b"h2");
                                    if h2 {
                                        serve_h2(s, st, sd, host).await;
                                    } else {
                                        serve_conn(s, st, sd, host).await;
                                    }
                                }
                            });
                        }
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }
}

async fn serve_h2<S>(
    stream: S,
    state: Arc<FakeState>,
    mut shutdown: watch::Receiver<bool>,
    host: Host,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| dispatch(host, state.clone(), req));
    let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {}
    }
}

async fn serve_conn<S>(
    stream: S,
    state: Arc<FakeState>,
    mut shutdown: watch::Receiver<bool>,
    host: Host,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| dispatch(host, state.clone(), req));
    // No header-read timeout: idle keep-alive connections stay open until the client closes
    // them, so a client's pool never races a server-side idle close in long tests.
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc)
        .without_shutdown();
    // A connection that ended with an error (a reset fault, a truncated body) is dropped
    // as is; one that ended cleanly (the client closed it, or an answer said `connection:
    // close`) is closed with a lingering close.
    let run = async move {
        if let Ok(parts) = conn.await {
            linger(parts.io.into_inner()).await;
        }
    };
    tokio::select! {
        _ = run => {}
        _ = shutdown.changed() => {}
    }
}

/// Closes the write side, then reads and drops what the client still sends (an upload the
/// server answered early) for a while, as nginx's lingering close does: closing at once
/// with unread data would reset the connection, and the client might lose the answer.
async fn linger<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) {
    let _ = tokio::time::timeout(Duration::from_secs(1), io.shutdown()).await;
    let deadline = tokio::time::Instant::now() + LINGER;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        let wait = (deadline - now).min(LINGER_IDLE);
        match tokio::time::timeout(wait, io.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => break,
        }
    }
}

pub(crate) fn finish(resp: Resp, body: Body, limits: Option<&LimitHeaders>) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() =
        StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&resp.content_type) {
        if !resp.content_type.is_empty() {
            h.insert(CONTENT_TYPE, v);
        }
    }
    let mut put = |name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            h.insert(n, v);
        }
    };
    if let Some(l) = limits {
        put("x-planlimit-limit", &l.plan_limit.to_string());
        put("x-planlimit-remaining", &l.plan_remaining.to_string());
        put("x-planlimit-reset", &l.plan_reset_ms.to_string());
        if let Some((limit, remaining, reset)) = l.rate {
            put("x-ratelimit-limit", &limit.to_string());
            put("x-ratelimit-remaining", &remaining.to_string());
            put("x-ratelimit-reset", &reset.to_string());
        }
        put("access-control-allow-origin", "*");
        put(
            "access-control-expose-headers",
            "X-PlanLimit-Limit, X-PlanLimit-Remaining, X-PlanLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset",
        );
    }
    for (k, v) in &resp.headers {
        put(k, v);
    }
    r
}

async fn handle(st: Arc<FakeState>, req: Request<Incoming>) -> Result<Response<Body>, ConnReset> {
    let path = req.uri().path().to_string();
    if path == "/_fake" || path.starts_with("/_fake/") {
        let (parts, body) = req.into_parts();
        let body = match BodyReader::new(body, MAX_BODY).collect().await {
            Ok(b) => b,
            Err(ReadError::TooLarge) => {
                return Ok(plain(closing(Resp::error(413, "Request body too large"))))
            }
            Err(_) => return Ok(plain(Resp::error(400, "Could not read the request body"))),
        };
        let ctx = RequestCtx {
            query: parse_query(parts.uri.query().unwrap_or("")),
            method: parts.method,
            path,
            headers: parts.headers,
            body,
        };
        let resp = crate::control::handle(&st, &ctx);
        return Ok(plain(resp));
    }
    if path == "/v1" || path.starts_with("/v1/") {
        return api(st, req, path).await;
    }
    Ok(plain(Resp::error(404, "Not found")))
}

fn plain(resp: Resp) -> Response<Body> {
    let body = Body::full(resp.body.clone());
    finish(resp, body, None)
}

/// Adds `connection: close` (the request body was not read to its end).
fn closing(mut resp: Resp) -> Resp {
    resp.headers
        .push(("connection".to_string(), "close".to_string()));
    resp
}

fn log_headers(headers: &http::HeaderMap) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for name in [
        "x-knack-application-id",
        "x-knack-rest-api-key",
        "content-type",
        "user-agent",
        "x-request-id",
    ] {
        if let Some(v) = headers.get(name) {
            out.insert(
                name.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            );
        }
    }
    out
}

struct Pending {
    entry: LogEntry,
    verbose: bool,
}

impl Pending {
    fn done(mut self, st: &FakeState, status: Option<u16>, out: Option<&Output>) {
        self.entry.status = status;
        if let Some(o) = out {
            self.entry.user_id = o.user_id.map(|id| id.hex());
            self.entry.applied = o.applied;
        }
        if self.verbose {
            eprintln!(
                "fake-knack: {} {} -> {}{}",
                self.entry.method,
                self.entry.path,
                status.map_or_else(|| "reset".to_string(), |s| s.to_string()),
                self.entry
                    .fault
                    .as_deref()
                    .map(|f| format!(" (fault {f})"))
                    .unwrap_or_default()
            );
        }
        st.append_log(self.entry);
    }
}

async fn api(
    st: Arc<FakeState>,
    req: Request<Incoming>,
    path: String,
) -> Result<Response<Body>, ConnReset> {
    let (parts, body) = req.into_parts();
    let method = parts.method;
    let http_version = format!("{:?}", parts.version);
    let query_raw = parts.uri.query().unwrap_or("").to_string();
    let headers = parts.headers;
    let mut pending = Pending {
        entry: LogEntry {
            seq: 0,
            t_ms: st.clock.now_ms(),
            method: method.as_str().to_string(),
            path: path.clone(),
            query: query_raw.clone(),
            status: None,
            user_id: None,
            authorization_present: headers
                .get("authorization")
                .is_some_and(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace)),
            api_key: headers
                .get("x-knack-rest-api-key")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            headers: log_headers(&headers),
            applied: false,
            fault: None,
            http_version,
            body_bytes: 0,
        },
        verbose: st.verbose,
    };

    if method == Method::OPTIONS {
        let limits = st.peek_headers();
        let mut resp = Resp {
            status: 204,
            content_type: String::new(),
            headers: vec![
                (
                    "access-control-allow-methods".into(),
                    "GET, POST, PUT, DELETE, OPTIONS".into(),
                ),
                (
                    "access-control-allow-headers".into(),
                    "X-Knack-Application-Id, X-Knack-REST-API-Key, Authorization, Content-Type, X-Request-Id".into(),
                ),
                ("access-control-max-age".into(), "86400".into()),
            ],
            body: Bytes::new(),
        };
        resp.headers.shrink_to_fit();
        pending.done(&st, Some(204), None);
        return Ok(finish(resp, Body::full(Bytes::new()), Some(&limits)));
    }

    let adm = st.admit(method.as_str(), &path);
    pending.entry.fault = adm.fault.as_ref().map(|f| f.name().to_string());
    if adm.switches.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(adm.switches.latency_ms)).await;
    }
    let limits = adm.headers;
    match adm.verdict {
        Verdict::RateLimited => {
            let resp = match adm.switches.rate_limit_body {
                crate::config::RateLimitBody::Text => Resp::text(429, "Rate limit exceeded"),
                crate::config::RateLimitBody::Json => Resp::error(429, "Rate limit exceeded"),
            };
            pending.done(&st, Some(429), None);
            return Ok(finish(resp.clone(), Body::full(resp.body), Some(&limits)));
        }
        Verdict::DailyLimited => {
            let resp = Resp::error(429, "Daily API limit exceeded");
            pending.done(&st, Some(429), None);
            return Ok(finish(resp.clone(), Body::full(resp.body), Some(&limits)));
        }
        Verdict::Ok => {}
    }

    // Faults that answer without handling the request.
    let fault = adm.fault;
    let early = match &fault {
        Some(FaultKind::Delay { ms }) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            None
        }
        Some(FaultKind::ResetBefore) => {
            pending.done(&st, None, None);
            return Err(ConnReset);
        }
        Some(FaultKind::Status {
            status,
            body,
            content_type,
            headers,
        }) => Some(crate::faults::answer(*status, body, content_type, headers)),
        Some(FaultKind::Oversize { bytes }) => Some(Resp::json(200, oversize_body(*bytes))),
        Some(FaultKind::DeepJson { depth }) => Some(Resp::json(200, deep_json_body(*depth))),
        Some(FaultKind::InvalidUtf8) => Some(Resp::json(200, invalid_utf8_body())),
        Some(FaultKind::Redirect { status, location }) => Some(Resp {
            status: *status,
            content_type: TEXT.into(),
            headers: vec![(LOCATION.as_str().to_string(), location.clone())],
            body: Bytes::new(),
        }),
        _ => None,
    };
    if let Some(resp) = early {
        pending.done(&st, Some(resp.status), None);
        return Ok(finish(resp.clone(), Body::full(resp.body), Some(&limits)));
    }

    // Upload answers carried no X-RateLimit / X-PlanLimit headers (recorded 2017).
    let upload = is_upload(&path);
    let shown_limits = (!upload).then_some(&limits);
    let sw = adm.switches.clone();
    let upload_target = upload_target(&method, &path);
    let mut reader = BodyReader::new(
        body,
        if upload_target.is_some() {
            sw.max_upload_bytes
        } else {
            MAX_BODY
        },
    );
    match &fault {
        Some(FaultKind::SlowBodyRead { bytes_per_sec }) => reader.slow(*bytes_per_sec),
        Some(FaultKind::ResetMidBody { after_bytes }) => reader.cut_after(*after_bytes),
        _ => {}
    }
    let too_large = |sw: &crate::config::Switches| {
        if upload_target.is_some() {
            crate::assets::too_large(sw)
        } else {
            Resp::error(413, "Request body too large")
        }
    };
    // A body that could not be read: 413 (the rest unread), a dropped connection
    // (`reset_mid_body`), or 400 for a client whose body broke off.
    macro_rules! read_failed {
        ($e:expr) => {{
            pending.entry.body_bytes = reader.read;
            let resp = match $e {
                ReadError::Cut => {
                    pending.done(&st, None, None);
                    return Err(ConnReset);
                }
                ReadError::TooLarge => closing(too_large(&sw)),
                ReadError::Broken => closing(Resp::error(400, "Could not read the request body")),
            };
            pending.done(&st, Some(resp.status), None);
            return Ok(finish(resp.clone(), Body::full(resp.body), shown_limits));
        }};
    }

    // `status_after_body`: the whole body is read, nothing is applied or stored.
    if let Some(FaultKind::StatusAfterBody {
        status,
        body,
        content_type,
        headers,
    }) = &fault
    {
        if let Err(e) = reader.discard().await {
            read_failed!(e);
        }
        let (resp, body) = whole(crate::faults::answer(*status, body, content_type, headers));
        pending.entry.body_bytes = reader.read;
        pending.done(&st, Some(resp.status), None);
        return Ok(finish(resp, body, shown_limits));
    }

    let mut file: Option<FileServe> = None;
    let out = if let Some((app, kind)) = &upload_target {
        // Uploads stream: the `files` part goes to a spool file as it arrives.
        match crate::assets::precheck(&st, &headers, &sw, app, kind) {
            Err(resp) => resp.into(),
            Ok(boundary) => match crate::assets::receive(&st, &mut reader, &boundary, kind).await {
                Ok(out) => out,
                Err(e) => read_failed!(e),
            },
        }
    } else {
        let body = match reader.collect().await {
            Ok(b) => b,
            Err(e) => read_failed!(e),
        };
        let ctx = RequestCtx {
            method,
            path,
            query: parse_query(&query_raw),
            headers,
            body,
        };
        match download_target(&ctx) {
            Some((app, id, name)) => match crate::assets::download(&st, &sw, &app, &id, &name) {
                Download::Resp(r) => r.into(),
                Download::File(f) => {
                    let resp = Resp {
                        status: 200,
                        content_type: f.content_type.clone(),
                        headers: Vec::new(),
                        body: Bytes::new(),
                    };
                    file = Some(f);
                    Output {
                        resp,
                        user_id: None,
                        applied: false,
                    }
                }
            },
            // Handlers are synchronous: they hold the data lock only while they run.
            None => route(&st, &ctx, &sw),
        }
    };

    pending.entry.body_bytes = reader.read;
    // Faults applied after handling.
    let resp = out.resp.clone();
    let (mut resp, body) = match fault {
        Some(FaultKind::StatusAfterApply {
            status,
            body,
            content_type,
            headers,
        }) => whole(crate::faults::answer(
            status,
            &body,
            &content_type,
            &headers,
        )),
        Some(FaultKind::ResetAfter) => {
            pending.done(&st, None, Some(&out));
            return Err(ConnReset);
        }
        Some(FaultKind::Truncate) => match file {
            Some(f) => match open(&f).await {
                Ok(h) => (resp, Body::file_truncated(h, f.file.clone(), f.size)),
                Err(r) => whole(r),
            },
            None => {
                let b = resp.body.clone();
                (resp, Body::truncated(b))
            }
        },
        Some(FaultKind::InvalidJson) => {
            let mut r = resp;
            r.status = 200;
            r.content_type = JSON.into();
            (r, Body::full(invalid_json_body()))
        }
        Some(FaultKind::Drip { bytes_per_sec }) => match file {
            // Dripped downloads are read into memory first (drip is for small bodies).
            Some(f) => match tokio::fs::read(f.file.path()).await {
                Ok(b) => (resp, Body::drip(Bytes::from(b), bytes_per_sec)),
                Err(_) => whole(Resp::error(500, "Cannot read the asset file")),
            },
            None => {
                let b = resp.body.clone();
                (resp, Body::drip(b, bytes_per_sec))
            }
        },
        _ => match file {
            Some(f) => match open(&f).await {
                Ok(h) => (resp, Body::file(h, f.file.clone(), f.size)),
                Err(r) => whole(r),
            },
            None => whole(resp),
        },
    };
    if !reader.finished && upload_target.is_some() {
        // Answered before the end of the upload (a refusal): close the connection.
        resp = closing(resp);
    }
    pending.done(&st, Some(resp.status), Some(&out));
    Ok(finish(resp, body, shown_limits))
}

/// Opens a spooled asset for streaming.
pub(crate) async fn open(f: &FileServe) -> Result<tokio::fs::File, Resp> {
    tokio::fs::File::open(f.file.path())
        .await
        .map_err(|_| Resp::error(500, "Cannot read the asset file"))
}

/// `/v1/applications/{app}/assets/{kind}/upload`
fn is_upload(path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    matches!(
        segs.as_slice(),
        ["v1", "applications", _, "assets", _, "upload"]
    )
}

/// (app, kind) of `POST /v1/applications/{app}/assets/{kind}/upload`.
fn upload_target(method: &Method, path: &str) -> Option<(String, String)> {
    if method != Method::POST {
        return None;
    }
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["v1", "applications", app, "assets", kind, "upload"] => {
            Some((app.to_string(), kind.to_string()))
        }
        _ => None,
    }
}

/// (app, asset id, name as in the path) of `GET /v1/applications/{app}/download/asset/{id}/{name}`.
fn download_target(ctx: &RequestCtx) -> Option<(String, String, String)> {
    if ctx.method != Method::GET {
        return None;
    }
    let segs: Vec<&str> = ctx.path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["v1", "applications", app, "download", "asset", id, name] => {
            Some((app.to_string(), id.to_string(), name.to_string()))
        }
        _ => None,
    }
}

fn route(st: &FakeState, ctx: &RequestCtx, sw: &crate::config::Switches) -> Output {
    let rest = ctx.path.strip_prefix("/v1").unwrap_or(&ctx.path);
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let m = &ctx.method;
    match segs.as_slice() {
        ["applications", app] if m == Method::GET => crate::metadata::application(st, app),
        ["applications", app, "session"] if m == Method::POST => {
            crate::auth::login(st, ctx, sw, app)
        }
        ["session", "token"] if m == Method::GET => crate::auth::session_token(st, ctx, sw),
        ["pages", scene, "views", view, "records"] => {
            crate::views::handle(st, ctx, sw, scene, view, None)
        }
        ["pages", scene, "views", view, "records", id] => {
            crate::views::handle(st, ctx, sw, scene, view, Some(id))
        }
        // Report views: knack-api-helper calls `/v1/scenes/...`, its docs say `/v1/pages/...`.
        ["pages" | "scenes", scene, "views", view, "report"] => {
            crate::reports::handle(st, ctx, sw, scene, view, None)
        }
        ["pages" | "scenes", scene, "views", view, "report", n] => {
            crate::reports::handle(st, ctx, sw, scene, view, Some(n))
        }
        _ => Resp::error(404, "Not found").into(),
    }
}

/// An answer whose body is its own `body`, sent whole.
fn whole(resp: Resp) -> (Resp, Body) {
    let b = resp.body.clone();
    (resp, Body::full(b))
}
