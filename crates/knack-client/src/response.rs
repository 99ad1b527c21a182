//! Parsing Knack's answers and checking they have the promised shape. Record data is not
//! rebuilt: records are borrowed as raw JSON slices and handed on as JSON text, so the only
//! full parse happens once, in JS (`JSON.parse`).

use crate::error::{Error, FieldError, Result};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The body as text; an answer that is not UTF-8 is refused whole (serde_json alone would skip
/// invalid bytes inside fields it ignores).
pub(crate) fn utf8(body: &[u8]) -> Result<&str> {
    std::str::from_utf8(body).map_err(|_| Error::bad_response("Knack's answer is not valid UTF-8"))
}

/// The deepest nesting of arrays and objects accepted in an answer, records included (a
/// record is handed to JS as it came, and JS code that serialises it again, such as
/// `res.json()`, must not overflow its stack).
pub const MAX_DEPTH: usize = 100;

/// Refuse JSON text nested deeper than `MAX_DEPTH`. One pass over the bytes: brackets
/// inside strings do not count.
pub(crate) fn check_depth(text: &str) -> Result<()> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Error::bad_response(format!(
                        "Knack's answer is nested too deeply (more than {MAX_DEPTH} levels)"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn not_json(what: &str, e: serde_json::Error) -> Error {
    Error::bad_response(format!("Knack's answer is not {what}: {e}"))
}

/// Knack's error list from a body like `{"errors":[{"field","type","message"}]}`, also
/// accepting `{"errors":["text"]}`, `{"message":"text"}` and a short plain-text body.
pub fn knack_errors(body: &[u8]) -> Vec<FieldError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Item {
        Full(FieldError),
        Text(String),
    }
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Option<Vec<Item>>,
        #[serde(default)]
        message: Option<String>,
    }
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.trim(),
        Err(_) => return Vec::new(),
    };
    // Only an object is Knack's error shape (serde would also read a struct from an array,
    // by position: fuzzing found `[[],[],[]]` read as three empty errors).
    if !text.starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        return Vec::new();
    }
    if let Ok(b) = serde_json::from_str::<Body>(text) {
        if let Some(items) = b.errors {
            return items
                .into_iter()
                .map(|i| match i {
                    Item::Full(f) => f,
                    Item::Text(message) => FieldError {
                        message,
                        ..Default::default()
                    },
                })
                .collect();
        }
        if let Some(message) = b.message {
            return vec![FieldError {
                message,
                ..Default::default()
            }];
        }
        return Vec::new();
    }
    // A text answer: Knack sends many errors as text/html ("Malformed Record Key: x",
    // "Invalid API Key", "Internal Server Error"), and proxies send HTML pages.
    match text_message(text) {
        Some(message) => vec![FieldError {
            message,
            ..Default::default()
        }],
        None => Vec::new(),
    }
}

/// The longest message taken from a text answer, in characters.
pub const MAX_TEXT_MESSAGE: usize = 200;

/// The message of a text or HTML answer: an HTML page's `<title>` (else its text without
/// tags), whitespace collapsed, cut at `MAX_TEXT_MESSAGE` characters.
fn text_message(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let html = text.starts_with('<') || lower.contains("<html") || lower.contains("<body");
    let source: String = if html {
        let title = lower.find("<title").and_then(|start| {
            let open_end = start + lower[start..].find('>')? + 1;
            let close = open_end + lower[open_end..].find("</title")?;
            Some(strip_tags(&text[open_end..close]))
        });
        title
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| strip_tags(text))
    } else {
        text.to_owned()
    };
    let collapsed = source.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return None;
    }
    if collapsed.chars().count() <= MAX_TEXT_MESSAGE {
        return Some(collapsed);
    }
    let mut cut: String = collapsed.chars().take(MAX_TEXT_MESSAGE - 1).collect();
    cut.push('…');
    Some(cut)
}

/// Text outside `<...>` tags (scripts and styles included: this is for a message only).
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The messages of Knack's errors, joined, for an error message.
pub fn summary(errors: &[FieldError]) -> Option<String> {
    let parts: Vec<&str> = errors
        .iter()
        .map(|e| e.message.trim())
        .filter(|m| !m.is_empty())
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("; "))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Count<'a> {
    Int(u64),
    Float(f64),
    #[serde(borrow)]
    Text(Cow<'a, str>),
}

impl Count<'_> {
    fn get(&self) -> Option<u64> {
        match self {
            Count::Int(n) => Some(*n),
            Count::Float(f) if *f >= 0.0 && f.is_finite() => Some(*f as u64),
            Count::Float(_) => None,
            Count::Text(s) => s.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
}

/// A record as raw JSON, with its id.
#[derive(Debug, Clone)]
pub struct RawRecord<'a> {
    pub id: Cow<'a, str>,
    pub json: &'a RawValue,
}

fn raw_record<'a>(raw: &'a RawValue) -> Result<RawRecord<'a>> {
    let text = raw.get();
    if !text.starts_with('{') {
        return Err(Error::bad_response(
            "a record in Knack's answer is not an object",
        ));
    }
    // Fast path: Knack writes "id" first. Read it without scanning the rest of the record
    // (the full parse below walks every field again, after list_page already did).
    if let Some(rest) = text.strip_prefix("{\"id\":\"") {
        if let Some(end) = rest.find('"') {
            let id = &rest[..end];
            if !id.is_empty() && !id.contains('\\') {
                return Ok(RawRecord {
                    id: Cow::Borrowed(id),
                    json: raw,
                });
            }
        }
    }
    let id: IdOnly<'a> = serde_json::from_str(text)
        .map_err(|_| Error::bad_response("a record in Knack's answer has no string \"id\""))?;
    Ok(RawRecord {
        id: id.id,
        json: raw,
    })
}

/// One page of a list answer.
#[derive(Debug)]
pub struct ListPage<'a> {
    pub total_pages: u64,
    pub current_page: u64,
    /// `current_page` as the answer gave it (a number or a numeric string), if it did.
    pub current_page_given: Option<u64>,
    pub total_records: u64,
    pub records: Vec<RawRecord<'a>>,
}

pub fn list_page(body: &[u8]) -> Result<ListPage<'_>> {
    #[derive(Deserialize)]
    struct Shape<'a> {
        #[serde(borrow)]
        total_pages: Option<Count<'a>>,
        #[serde(borrow)]
        current_page: Option<Count<'a>>,
        #[serde(borrow)]
        total_records: Option<Count<'a>>,
        #[serde(borrow)]
        records: Option<Vec<&'a RawValue>>,
    }
    let text = utf8(body)?;
    check_depth(text)?;
    let shape: Shape<'_> =
        serde_json::from_str(text).map_err(|e| not_json("a list of records", e))?;
    let records = shape
        .records
        .ok_or_else(|| Error::bad_response("Knack's list answer has no \"records\" array"))?;
    let records = records
        .into_iter()
        .map(raw_record)
        .collect::<Result<Vec<_>>>()?;
    let total_records = shape
        .total_records
        .and_then(|c| c.get())
        .unwrap_or(records.len() as u64);
    let current_page_given = shape.current_page.and_then(|c| c.get());
    let current_page = current_page_given.unwrap_or(1);
    let total_pages = shape
        .total_pages
        .and_then(|c| c.get())
        .unwrap_or(current_page);
    Ok(ListPage {
        total_pages,
        current_page,
        current_page_given,
        total_records,
        records,
    })
}

/// Append `[rec,rec,...]` to `out`.
pub fn push_records_array(out: &mut String, records: &[RawRecord<'_>]) {
    out.push('[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r.json.get());
    }
    out.push(']');
}

impl ListPage<'_> {
    /// `{"records":[...],"totalRecords":n,"totalPages":n,"currentPage":n}` for JS.
    pub fn to_js_json(&self) -> String {
        let size: usize = self.records.iter().map(|r| r.json.get().len() + 1).sum();
        let mut out = String::with_capacity(size + 96);
        out.push_str("{\"records\":");
        push_records_array(&mut out, &self.records);
        out.push_str(&format!(
            ",\"totalRecords\":{},\"totalPages\":{},\"currentPage\":{}}}",
            self.total_records, self.total_pages, self.current_page
        ));
        out
    }
}

/// A single record: either the record at top level, or wrapped as `{"record": {...}}`
/// (what view-based writes are reported to return). Returns the record's JSON text.
pub fn single_record(body: &[u8]) -> Result<(String, String)> {
    #[derive(Deserialize)]
    struct Wrapped<'a> {
        #[serde(borrow)]
        record: Option<&'a RawValue>,
        #[serde(borrow)]
        id: Option<Cow<'a, str>>,
    }
    let text = utf8(body)?.trim();
    if !text.starts_with('{') {
        return Err(Error::bad_response("Knack's answer is not a record object"));
    }
    check_depth(text)?;
    let w: Wrapped<'_> = serde_json::from_str(text).map_err(|e| not_json("a record", e))?;
    if let Some(inner) = w.record {
        if inner.get().starts_with('{') {
            let r = raw_record(inner)?;
            return Ok((r.id.into_owned(), inner.get().to_owned()));
        }
    }
    match w.id {
        Some(id) => Ok((id.into_owned(), text.to_owned())),
        None => Err(Error::bad_response("Knack's answer has no record id")),
    }
}

/// `{"delete": true}`.
pub fn deleted(body: &[u8]) -> Result<()> {
    #[derive(Deserialize)]
    struct Shape {
        delete: Option<bool>,
    }
    let text = utf8(body)?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(());
    }
    match serde_json::from_str::<Shape>(trimmed) {
        Ok(Shape { delete: Some(true) }) => Ok(()),
        Ok(Shape {
            delete: Some(false),
        }) => Err(Error::bad_response("Knack answered {\"delete\": false}")),
        Ok(Shape { delete: None }) => Ok(()),
        Err(e) => Err(not_json("a delete confirmation", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_page_keeps_records_verbatim_and_renames_counts() {
        let body = br#"{"total_pages":2,"current_page":1,"total_records":3,"records":[{"id":"a","field_1":"x &amp; y"},{"id":"b","field_1_raw":{"n":[1,2]}}]}"#;
        let p = list_page(body).unwrap();
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.records[1].id, "b");
        assert_eq!(
            p.to_js_json(),
            r#"{"records":[{"id":"a","field_1":"x &amp; y"},{"id":"b","field_1_raw":{"n":[1,2]}}],"totalRecords":3,"totalPages":2,"currentPage":1}"#
        );
    }

    #[test]
    fn record_ids_are_read_whether_id_comes_first_or_not() {
        let body =
            br#"{"records":[{"id":"a1","x":1},{"x":2,"id":"b2"},{"id":"c\u0033","y":"\""}]}"#;
        let p = list_page(body).unwrap();
        let ids: Vec<&str> = p.records.iter().map(|r| r.id.as_ref()).collect();
        assert_eq!(ids, ["a1", "b2", "c3"]);
        assert!(list_page(br#"{"records":[{"id":"","x":1}]}"#).is_ok());
    }

    #[test]
    fn records_pass_through_verbatim_even_with_lone_surrogate_escapes() {
        // From fuzzing: `\ud800` alone is valid JSON text (JSON.parse takes it) though
        // serde_json::Value refuses it; records are handed on as they came.
        let body = br#"{"records":[{"id":"a","\ud8001_raw":{"n":[1,2]}}]}"#;
        let p = list_page(body).unwrap();
        assert_eq!(
            p.records[0].json.get(),
            r#"{"id":"a","\ud8001_raw":{"n":[1,2]}}"#
        );
        assert!(p.to_js_json().contains(r#""\ud8001_raw""#));
    }

    #[test]
    fn list_page_refuses_wrong_shapes() {
        for body in [
            &b"<html>oops</html>"[..],
            b"{}",
            b"{\"records\":{}}",
            b"{\"records\":[1]}",
            b"{\"records\":[{\"name\":\"no id\"}]}",
            b"{\"records\":[{\"id\":\"a\"}",
            b"{\"records\":[{\"id\":\"\xff\xfe\"}]}",
        ] {
            assert_eq!(list_page(body).unwrap_err().code(), "KNACK_BAD_RESPONSE");
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            list_page(deep.as_bytes()).unwrap_err().code(),
            "KNACK_BAD_RESPONSE"
        );
    }

    #[test]
    fn records_nested_too_deeply_are_refused_whole() {
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let list = format!(
            r#"{{"records":[{{"id":"a","field_1_raw":{}}}]}}"#,
            deep(100_000)
        );
        assert!(list_page(list.as_bytes())
            .unwrap_err()
            .message
            .contains("nested too deeply"));
        let one = format!(r#"{{"id":"a","field_1_raw":{}}}"#, deep(200));
        assert_eq!(
            single_record(one.as_bytes()).unwrap_err().code(),
            "KNACK_BAD_RESPONSE"
        );
        // Brackets inside strings (escaped quotes too) are text, not nesting.
        let text = format!(r#"{{"id":"a","f":"\"{}"}}"#, "[".repeat(1000));
        assert!(single_record(text.as_bytes()).is_ok());
        let fine = format!(r#"{{"id":"a","f":{}}}"#, deep(90));
        assert!(single_record(fine.as_bytes()).is_ok());
    }

    #[test]
    fn single_record_accepts_bare_and_wrapped() {
        let (id, json) = single_record(br#"{"id":"r1","field_1":"a"}"#).unwrap();
        assert_eq!(
            (id.as_str(), json.as_str()),
            ("r1", r#"{"id":"r1","field_1":"a"}"#)
        );
        let (id, json) =
            single_record(br#"{"record":{"id":"r2","field_1":"b"},"submit_key":"k"}"#).unwrap();
        assert_eq!(
            (id.as_str(), json.as_str()),
            ("r2", r#"{"id":"r2","field_1":"b"}"#)
        );
        assert!(single_record(b"[]").is_err());
        assert!(single_record(br#"{"field_1":"no id"}"#).is_err());
    }

    #[test]
    fn knack_errors_reads_every_shape() {
        let e = knack_errors(br#"{"errors":[{"field":"field_57","type":"required","message":"Store is required."}]}"#);
        assert_eq!(e[0].field.as_deref(), Some("field_57"));
        assert_eq!(e[0].kind.as_deref(), Some("required"));
        assert_eq!(knack_errors(br#"{"errors":["nope"]}"#)[0].message, "nope");
        assert_eq!(
            knack_errors(b"Rate limit exceeded")[0].message,
            "Rate limit exceeded"
        );
        assert_eq!(
            knack_errors(b"Malformed Record Key: 77777777")[0].message,
            "Malformed Record Key: 77777777"
        );
        assert_eq!(
            knack_errors(b"<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>")[0].message,
            "502 Bad Gateway"
        );
        assert_eq!(
            knack_errors(b"<html><body><h1>Service\n  Unavailable</h1></body></html>")[0].message,
            "Service Unavailable"
        );
        assert!(knack_errors(b"<html></html>").is_empty());
        let long = "x ".repeat(500);
        let m = &knack_errors(long.as_bytes())[0].message;
        assert_eq!(m.chars().count(), MAX_TEXT_MESSAGE);
        assert!(m.ends_with('…'));
    }

    #[test]
    fn json_that_is_not_an_object_is_no_knack_error() {
        // Found by fuzz/fuzz_targets/response_errors.rs (with non-breaking spaces around it).
        let found = "\u{a0}\u{a0}[[[\t],\t[\t\t],\t[\t]\t],\t\t\"recor\u{a0}d\"]";
        assert!(knack_errors(found.as_bytes()).is_empty());
        for body in [
            &b"[\"a\",\"b\"]"[..],
            b"[{\"message\":\"x\"}]",
            b"42",
            b"null",
            b"\"text\"",
        ] {
            assert!(
                knack_errors(body).is_empty(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(knack_errors(br#"{"errors":["nope"]}"#)[0].message, "nope");
    }

    #[test]
    fn delete_confirmation() {
        assert!(deleted(br#"{"delete":true}"#).is_ok());
        assert!(deleted(br#"{"delete":false}"#).is_err());
        assert!(deleted(b"nope").is_err());
    }
}
