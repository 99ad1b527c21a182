//! Observability events: what happens to each request (start, retry, rate-limit wait, end or
//! error, and logins), for the binding to publish on Node's `diagnostics_channel` and to a
//! session's logger. Built only for calls that someone observes (`Progress::observe`), from
//! non-secret facts: method, the route without its query string, attempt, status, timings,
//! error codes. Never a token, password, body, query string or session id.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Start,
    End,
    Error,
    Retry,
    RateLimitWait,
    Login,
}

impl Kind {
    /// The channel's name after `knack-session:`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Start => "request:start",
            Kind::End => "request:end",
            Kind::Error => "request:error",
            Kind::Retry => "request:retry",
            Kind::RateLimitWait => "ratelimit:wait",
            Kind::Login => "login",
        }
    }
}

/// One event. `observer` routes it to the logger of the session that made the call.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: Kind,
    pub observer: u64,
    pub request_id: String,
    pub method: String,
    pub path: String,
    pub attempt: u32,
    pub status: Option<u16>,
    pub duration_ms: Option<f64>,
    pub code: Option<&'static str>,
    pub wait_ms: Option<f64>,
    pub reason: Option<String>,
}

impl Event {
    /// `{"channel","observer","message":{method,path,attempt,requestId,...}}` for JS.
    pub fn to_json(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert("method".into(), self.method.clone().into());
        m.insert("path".into(), self.path.clone().into());
        m.insert("attempt".into(), self.attempt.into());
        m.insert("requestId".into(), self.request_id.clone().into());
        if let Some(s) = self.status {
            m.insert("status".into(), s.into());
        }
        if let Some(d) = self.duration_ms {
            m.insert("durationMs".into(), round(d).into());
        }
        if let Some(c) = self.code {
            m.insert("code".into(), c.into());
        }
        if let Some(w) = self.wait_ms {
            m.insert("waitMs".into(), round(w).into());
        }
        if let Some(r) = &self.reason {
            m.insert("reason".into(), r.clone().into());
        }
        serde_json::json!({
            "channel": self.kind.name(),
            "observer": self.observer,
            "message": m,
        })
        .to_string()
    }
}

fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

type Sink = Arc<dyn Fn(Event) + Send + Sync>;

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

/// Where events go (the binding's thread-safe function); `None` drops them.
pub fn set_sink(sink: Option<Sink>) {
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = sink;
}

pub fn emit(e: Event) {
    let sink = SINK.read().unwrap_or_else(|p| p.into_inner()).clone();
    if let Some(s) = sink {
        s(e);
    }
}

/// A process-unique id for one request (all its attempts).
pub fn next_request_id() -> String {
    format!("ks-{:x}", NEXT_REQUEST.fetch_add(1, Ordering::Relaxed))
}

/// The route of a request for events: its path, without the query string and with record
/// ids kept (they are not secret; the query may hold filters with personal data).
pub fn route(path: &str) -> String {
    path.split('?').next().unwrap_or(path).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_without_absent_facts() {
        let e = Event {
            kind: Kind::End,
            observer: 3,
            request_id: "ks-1".into(),
            method: "GET".into(),
            path: "/pages/scene_1/views/view_1/records".into(),
            attempt: 2,
            status: Some(200),
            duration_ms: Some(12.345_678),
            code: None,
            wait_ms: None,
            reason: None,
        };
        assert_eq!(
            e.to_json(),
            r#"{"channel":"request:end","message":{"attempt":2,"durationMs":12.346,"method":"GET","path":"/pages/scene_1/views/view_1/records","requestId":"ks-1","status":200},"observer":3}"#
        );
        assert_eq!(route("/a/b?filters=secret"), "/a/b");
    }
}
