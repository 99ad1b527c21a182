//! One-shot faults injected into `/v1` responses (`/_fake/faults`).

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A queued fault: the first `/v1` request matching `method` and `path_contains` consumes
/// one of its `times`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
    #[serde(default = "one")]
    pub times: u32,
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            method: None,
            path_contains: None,
            times: 1,
            kind,
        }
    }

    pub fn method(mut self, m: &str) -> Fault {
        self.method = Some(m.to_string());
        self
    }

    pub fn path_contains(mut self, p: &str) -> Fault {
        self.path_contains = Some(p.to_string());
        self
    }

    pub fn times(mut self, n: u32) -> Fault {
        self.times = n;
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.times == 0 {
            return Err("times must be at least 1".into());
        }
        let ok_status = |s: u16| (100..=599).contains(&s);
        match &self.kind {
            FaultKind::Status { status, .. }
            | FaultKind::StatusAfterApply { status, .. }
            | FaultKind::StatusAfterBody { status, .. }
                if !ok_status(*status) =>
            {
                Err("status must be 100-599".into())
            }
            FaultKind::Redirect { status, .. } if !(300..=399).contains(status) => {
                Err("redirect status must be 3xx".into())
            }
            FaultKind::Drip { bytes_per_sec } | FaultKind::SlowBodyRead { bytes_per_sec }
                if *bytes_per_sec == 0 =>
            {
                Err("bytes_per_sec must be at least 1".into())
            }
            FaultKind::Oversize { bytes } if *bytes > 1 << 30 => {
                Err("oversize bytes must be at most 1 GiB".into())
            }
            FaultKind::DeepJson { depth } if *depth > 10_000_000 => {
                Err("depth must be at most 10000000".into())
            }
            _ => Ok(()),
        }
    }
}

/// What the fault does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this instead of handling the request.
    Status {
        status: u16,
        #[serde(default)]
        body: Value,
        #[serde(default)]
        content_type: Option<String>,
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Handle (apply) the request, then answer with this.
    StatusAfterApply {
        status: u16,
        #[serde(default)]
        body: Value,
        #[serde(default)]
        content_type: Option<String>,
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Close the connection without applying or answering.
    ResetBefore,
    /// Apply, then close the connection without answering.
    ResetAfter,
    /// Apply, send the headers (full Content-Length) and half the body, then close.
    Truncate,
    /// Apply, answer 200 with a body that is not JSON.
    InvalidJson,
    /// Wait, then proceed normally.
    Delay { ms: u64 },
    /// Apply, then send the body `bytes_per_sec` bytes a second.
    Drip { bytes_per_sec: u64 },
    /// Answer 200 with a valid JSON array of exactly `bytes` bytes (not applied).
    Oversize { bytes: u64 },
    /// Answer 200 with `depth` nested arrays (not applied).
    DeepJson { depth: u32 },
    /// Answer 200 with a JSON body holding invalid UTF-8 inside a string (not applied).
    InvalidUtf8,
    /// Answer with a redirect (not applied).
    Redirect {
        #[serde(default = "found")]
        status: u16,
        location: String,
    },
    /// Read the whole request body (storing nothing, not applying), then answer with this:
    /// a proxy's 503 after the upload was sent.
    StatusAfterBody {
        status: u16,
        #[serde(default)]
        body: Value,
        #[serde(default)]
        content_type: Option<String>,
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Read `after_bytes` bytes of the request body, then close the connection without
    /// answering (nothing applied or stored).
    ResetMidBody { after_bytes: u64 },
    /// Read the request body at `bytes_per_sec`, then proceed normally.
    SlowBodyRead { bytes_per_sec: u64 },
}

fn found() -> u16 {
    302
}

impl FaultKind {
    /// `{"kind":"status","status":status,"body":body}`
    pub fn status(status: u16, body: impl Into<Value>) -> FaultKind {
        FaultKind::Status {
            status,
            body: body.into(),
            content_type: None,
            headers: BTreeMap::new(),
        }
    }

    /// `{"kind":"status_after_apply","status":status,"body":body}`
    pub fn status_after_apply(status: u16, body: impl Into<Value>) -> FaultKind {
        FaultKind::StatusAfterApply {
            status,
            body: body.into(),
            content_type: None,
            headers: BTreeMap::new(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Status { .. } => "status",
            FaultKind::StatusAfterApply { .. } => "status_after_apply",
            FaultKind::ResetBefore => "reset_before",
            FaultKind::ResetAfter => "reset_after",
            FaultKind::Truncate => "truncate",
            FaultKind::InvalidJson => "invalid_json",
            FaultKind::Delay { .. } => "delay",
            FaultKind::Drip { .. } => "drip",
            FaultKind::Oversize { .. } => "oversize",
            FaultKind::DeepJson { .. } => "deep_json",
            FaultKind::InvalidUtf8 => "invalid_utf8",
            FaultKind::Redirect { .. } => "redirect",
            FaultKind::StatusAfterBody { .. } => "status_after_body",
            FaultKind::ResetMidBody { .. } => "reset_mid_body",
            FaultKind::SlowBodyRead { .. } => "slow_body_read",
        }
    }
}

/// The answer of a `status`-style fault: a string body is sent as text, any other JSON
/// value as JSON, unless `content_type` says otherwise.
pub fn answer(
    status: u16,
    body: &Value,
    content_type: &Option<String>,
    headers: &BTreeMap<String, String>,
) -> crate::request::Resp {
    let (bytes, default_type) = match body {
        Value::Null => (Bytes::new(), "text/plain; charset=utf-8"),
        Value::String(s) => (Bytes::from(s.clone()), "text/plain; charset=utf-8"),
        other => (
            Bytes::from(serde_json::to_vec(other).unwrap_or_default()),
            "application/json; charset=utf-8",
        ),
    };
    crate::request::Resp {
        status,
        content_type: content_type.clone().unwrap_or_else(|| default_type.into()),
        headers: headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        body: bytes,
    }
}

/// A valid JSON array of exactly `n` bytes (at least `[]`).
pub fn oversize_body(n: u64) -> Bytes {
    let n = n.max(2) as usize;
    let mut out = Vec::with_capacity(n);
    out.push(b'[');
    if n >= 3 {
        out.push(b'0');
        while out.len() + 3 <= n {
            out.extend_from_slice(b",0");
        }
    }
    while out.len() + 1 < n {
        out.push(b' ');
    }
    out.push(b']');
    Bytes::from(out)
}

pub fn deep_json_body(depth: u32) -> Bytes {
    let d = depth as usize;
    let mut out = Vec::with_capacity(d * 2);
    out.resize(d, b'[');
    out.resize(d * 2, b']');
    Bytes::from(out)
}

pub fn invalid_utf8_body() -> Bytes {
    let mut out = Vec::new();
    out.extend_from_slice(
        br#"{"total_pages":1,"current_page":1,"total_records":1,"records":[{"id":"000000000000000000000bad","field_10":""#,
    );
    out.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    out.extend_from_slice(br#""}]}"#);
    Bytes::from(out)
}

pub fn invalid_json_body() -> Bytes {
    Bytes::from_static(b"{\"records\": [ <html>this is not JSON</html>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversize_is_exact_and_valid() {
        for n in [0u64, 1, 2, 3, 4, 5, 10, 11, 1000] {
            let b = oversize_body(n);
            assert_eq!(b.len() as u64, n.max(2), "n={n}");
            let v: Value = serde_json::from_slice(&b).expect("json");
            assert!(v.is_array());
        }
        let d = deep_json_body(5);
        assert_eq!(&d[..], b"[[[[[]]]]]");
        assert!(std::str::from_utf8(&invalid_utf8_body()).is_err());
    }

    #[test]
    fn parses_fault_json() {
        let f: Fault = serde_json::from_value(serde_json::json!({
            "method": "GET", "path_contains": "view_1", "times": 2,
            "kind": "status", "status": 503, "body": "<html>down</html>",
            "content_type": "text/html"
        }))
        .expect("fault");
        assert_eq!(f.times, 2);
        assert_eq!(f.kind.name(), "status");
        assert!(f.matches("get", "/v1/pages/scene_1/views/view_1/records"));
        assert!(!f.matches("POST", "/v1/pages/scene_1/views/view_1/records"));
        let r: Fault =
            serde_json::from_value(serde_json::json!({"kind": "reset_before"})).expect("fault");
        assert_eq!(r.kind, FaultKind::ResetBefore);
        let b: Fault = serde_json::from_value(serde_json::json!({
            "kind": "status_after_body", "status": 503, "body": "<html>busy</html>",
            "content_type": "text/html", "headers": {"retry-after": "1"}
        }))
        .expect("fault");
        assert_eq!(b.kind.name(), "status_after_body");
        assert!(b.validate().is_ok());
        let m: Fault = serde_json::from_value(
            serde_json::json!({"kind": "reset_mid_body", "after_bytes": 10}),
        )
        .expect("fault");
        assert_eq!(m.kind, FaultKind::ResetMidBody { after_bytes: 10 });
        let s: Fault = serde_json::from_value(
            serde_json::json!({"kind": "slow_body_read", "bytes_per_sec": 0}),
        )
        .expect("fault");
        assert!(s.validate().is_err());
        let bad: Result<Fault, _> =
            serde_json::from_value(serde_json::json!({"kind": "reset_mid_body"}));
        assert!(bad.is_err());
        let bad = Fault::new(FaultKind::StatusAfterBody {
            status: 42,
            body: Value::Null,
            content_type: None,
            headers: BTreeMap::new(),
        });
        assert!(bad.validate().is_err());
    }
}
