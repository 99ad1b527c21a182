//! The HTTP side: accept loop, HTTP/1.1 connections, `/v1` dispatch with limits, faults,
//! latency and logging, and `/_fake` control.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, LOCATION};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::body::Body;
use crate::faults::{
    body_bytes, deep_json_body, invalid_json_body, invalid_utf8_body, oversize_body, FaultKind,
};
use crate::limits::{LimitHeaders, Verdict};
use crate::request::{parse_query, Output, RequestCtx, Resp, JSON, TEXT};
use crate::state::{FakeState, LogEntry};

/// Largest request body accepted.
const MAX_BODY: usize = 64 << 20;

/// Returned by the service to make hyper drop the connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection reset by a fault")]
pub struct ConnReset;

pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<crate::tls::Tls>,
    state: Arc<FakeState>,
    mut shutdown: watch::Receiver<bool>,
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
                            tokio::spawn(serve_conn(stream, st, sd));
                        }
                        Some(t) => {
                            let acceptor = t.acceptor.clone();
                            tokio::spawn(async move {
                                // A client that does not trust the CA ends here (handshake).
                                if let Ok(s) = acceptor.accept(stream).await {
                                    let h2 = s.get_ref().1.alpn_protocol() == Some(b"h2");
                                    if h2 {
                                        serve_h2(s, st, sd).await;
                                    } else {
                                        serve_conn(s, st, sd).await;
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

async fn serve_h2<S>(stream: S, state: Arc<FakeState>, mut shutdown: watch::Receiver<bool>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| {
        let st = state.clone();
        async move { handle(st, req).await }
    });
    let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {}
    }
}

async fn serve_conn<S>(stream: S, state: Arc<FakeState>, mut shutdown: watch::Receiver<bool>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| {
        let st = state.clone();
        async move { handle(st, req).await }
    });
    // No header-read timeout: idle keep-alive connections stay open until the client closes
    // them, so a client's pool never races a server-side idle close in long tests.
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {}
    }
}

fn finish(resp: Resp, body: Body, limits: Option<&LimitHeaders>) -> Response<Body> {
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
        let body = match read_body(body).await {
            Ok(b) => b,
            Err(r) => return Ok(plain(r)),
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

async fn read_body(body: Incoming) -> Result<Bytes, Resp> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(Resp::error(413, "Request body too large"))
            } else {
                Err(Resp::error(400, "Could not read the request body"))
            }
        }
    }
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
        }) => {
            let (b, ct) = body_bytes(body, content_type);
            Some(Resp {
                status: *status,
                content_type: ct,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                body: b,
            })
        }
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

    let body = match read_body(body).await {
        Ok(b) => b,
        Err(resp) => {
            pending.done(&st, Some(resp.status), None);
            return Ok(finish(resp.clone(), Body::full(resp.body), Some(&limits)));
        }
    };
    // Upload answers carried no X-RateLimit / X-PlanLimit headers (recorded 2017).
    let shown_limits = (!is_upload(&path)).then_some(&limits);
    let ctx = RequestCtx {
        method,
        path,
        query: parse_query(&query_raw),
        headers,
        body,
    };
    // Handlers are synchronous: they hold the data lock only while they run.
    let out = route(&st, &ctx, &adm.switches);

    // Faults applied after handling.
    let resp = out.resp.clone();
    let (resp, body) = match fault {
        Some(FaultKind::StatusAfterApply {
            status,
            body,
            content_type,
            headers,
        }) => {
            let (b, ct) = body_bytes(&body, &content_type);
            let r = Resp {
                status,
                content_type: ct,
                headers: headers.into_iter().collect(),
                body: b.clone(),
            };
            (r, Body::full(b))
        }
        Some(FaultKind::ResetAfter) => {
            pending.done(&st, None, Some(&out));
            return Err(ConnReset);
        }
        Some(FaultKind::Truncate) => {
            let b = resp.body.clone();
            (resp, Body::truncated(b))
        }
        Some(FaultKind::InvalidJson) => {
            let mut r = resp;
            r.status = 200;
            r.content_type = JSON.into();
            (r, Body::full(invalid_json_body()))
        }
        Some(FaultKind::Drip { bytes_per_sec }) => {
            let b = resp.body.clone();
            (resp, Body::drip(b, bytes_per_sec))
        }
        _ => {
            let b = resp.body.clone();
            (resp, Body::full(b))
        }
    };
    pending.done(&st, Some(resp.status), Some(&out));
    Ok(finish(resp, body, shown_limits))
}

/// `/v1/applications/{app}/assets/{kind}/upload`
fn is_upload(path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    matches!(
        segs.as_slice(),
        ["v1", "applications", _, "assets", _, "upload"]
    )
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
        ["applications", app, "assets", kind, "upload"] if m == Method::POST => {
            crate::assets::upload(st, ctx, app, kind)
        }
        ["applications", app, "download", "asset", id, _name] if m == Method::GET => {
            crate::assets::download(st, sw.not_found_status, app, id)
        }
        ["session", "token"] if m == Method::GET => crate::auth::session_token(st, ctx, sw),
        ["pages", scene, "views", view, "records"] => {
            crate::views::handle(st, ctx, sw, scene, view, None)
        }
        ["pages", scene, "views", view, "records", id] => {
            crate::views::handle(st, ctx, sw, scene, view, Some(id))
        }
        _ => Resp::error(404, "Not found").into(),
    }
}
