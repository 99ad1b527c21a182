//! What handlers see of a request, and what they answer.

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::ids::Id;
use crate::json::error_body;

pub const JSON: &str = "application/json; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";
pub const HTML: &str = "text/html; charset=utf-8";

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

/// Decodes a query string as `application/x-www-form-urlencoded`: pairs split on `&` (empty
/// ones skipped) and at the first `=` (none: an empty value), `+` is a space, invalid
/// escapes are kept as written and invalid UTF-8 becomes U+FFFD.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
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

    /// An error real Knack answers as `text/html` (`Malformed Record Key: x`, `Invalid API
    /// Key`, `Internal Server Error`), or as `{"errors":[...]}` under `error_bodies: "json"`.
    pub fn recorded(status: u16, msg: &str, bodies: crate::config::ErrorBodies) -> Resp {
        match bodies {
            crate::config::ErrorBodies::Json => Resp::error(status, msg),
            crate::config::ErrorBodies::Recorded => Resp {
                status,
                content_type: HTML.into(),
                headers: Vec::new(),
                body: Bytes::copy_from_slice(msg.as_bytes()),
            },
        }
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
        assert_eq!(parse_query("x=%4")[0].1, "%4");
        assert_eq!(parse_query("x=%41")[0].1, "A");
    }

    #[test]
    fn decodes_queries_at_the_edges() {
        let q = parse_query("&&k=v=w&%2B=a%2Bb+c&=x&t=%4z%+1&u=%FF");
        assert_eq!(q.len(), 5);
        assert_eq!(q[0], ("k".into(), "v=w".into()));
        assert_eq!(q[1], ("+".into(), "a+b c".into()));
        assert_eq!(q[2], (String::new(), "x".into()));
        assert_eq!(q[3].1, "%4z% 1");
        assert_eq!(q[4].1, "\u{FFFD}");
        assert!(parse_query("").is_empty());
    }
}
