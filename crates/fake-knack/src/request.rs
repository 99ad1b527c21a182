//! What handlers see of a request, and what they answer.

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::ids::Id;
use crate::json::error_body;

pub const JSON: &str = "application/json; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";

pub struct RequestCtx {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl RequestCtx {
    /// Last value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space). Invalid escapes are
/// kept as written.
pub fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (form_decode(k), form_decode(v)),
            None => (form_decode(p), String::new()),
        })
        .collect()
}

/// A complete answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Resp {
    pub fn json(status: u16, body: impl Into<Bytes>) -> Resp {
        Resp {
            status,
            content_type: JSON.into(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn value(status: u16, v: &serde_json::Value) -> Resp {
        Resp::json(status, serde_json::to_vec(v).unwrap_or_default())
    }

    /// `{"errors":[{"message": msg}]}`
    pub fn error(status: u16, msg: &str) -> Resp {
        Resp::json(status, error_body(msg))
    }

    pub fn text(status: u16, body: &'static str) -> Resp {
        Resp {
            status,
            content_type: TEXT.into(),
            headers: Vec::new(),
            body: Bytes::from_static(body.as_bytes()),
        }
    }
}

/// A handler's result.
pub struct Output {
    pub resp: Resp,
    /// The user of a validated token.
    pub user_id: Option<Id>,
    /// Whether the request changed data.
    pub applied: bool,
}

impl From<Resp> for Output {
    fn from(resp: Resp) -> Output {
        Output {
            resp,
            user_id: None,
            applied: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        let q = parse_query("a=1&filters=%7B%22x%22%3A1%7D&s=a+b&bad=%zz&e");
        assert_eq!(q[0], ("a".into(), "1".into()));
        assert_eq!(q[1].1, "{\"x\":1}");
        assert_eq!(q[2].1, "a b");
        assert_eq!(q[3].1, "%zz");
        assert_eq!(q[4], ("e".into(), String::new()));
        assert_eq!(form_decode("%4"), "%4");
        assert_eq!(form_decode("%41"), "A");
    }
}
