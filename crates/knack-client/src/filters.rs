//! Knack filters: the caller's JSON text, checked for shape on borrowed data, then sent as
//! that same text, URL-encoded.
//!
//! Accepted shapes (both are what Knack's docs show):
//! `{"match": "and"|"or", "rules": [rule, ...]}` and a bare array of rules.
//! A rule is `{"field": "field_N", "operator": "is", "value"?: ..., "range"?: n, "type"?: "days"}`.

use crate::error::{Error, Result};
use crate::validate;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Exactly what JavaScript's `encodeURIComponent` leaves alone.
pub const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Percent-encode a query value like `encodeURIComponent`.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// A rule's fields that are checked; everything else in it passes untouched.
#[derive(Deserialize)]
struct Rule<'a> {
    #[serde(borrow, default)]
    field: Option<&'a RawValue>,
    #[serde(borrow, default)]
    operator: Option<&'a RawValue>,
}

/// `{match?, rules}`: the group shape.
#[derive(Deserialize)]
struct Group<'a> {
    #[serde(borrow, default, rename = "match")]
    match_: Option<&'a RawValue>,
    #[serde(borrow, default)]
    rules: Option<&'a RawValue>,
}

/// The string a raw JSON value holds, if it is a string.
fn string_of(raw: &RawValue) -> Option<Cow<'_, str>> {
    serde_json::from_str::<Cow<'_, str>>(raw.get()).ok()
}

fn first_byte(raw: &RawValue) -> u8 {
    raw.get().bytes().next().unwrap_or(b' ')
}

fn check_rule(i: usize, rule: &RawValue) -> Result<()> {
    let not_object = || Error::invalid(format!("filters rule {i} must be an object"));
    if first_byte(rule) != b'{' {
        return Err(not_object());
    }
    let r: Rule<'_> = serde_json::from_str(rule.get())
        .map_err(|e| Error::invalid(format!("filters rule {i}: {e}")))?;
    match r.field.and_then(string_of) {
        Some(f) => validate::field_key(&format!("filters rule {i} field"), &f)?,
        None => {
            return Err(Error::invalid(format!(
                "filters rule {i} needs a \"field\" like \"field_1\""
            )))
        }
    }
    match r.operator.and_then(string_of) {
        Some(op)
            if !op.trim().is_empty()
                && op.len() <= 64
                && op.bytes().all(|b| b.is_ascii_alphabetic() || b == b' ') => {}
        _ => {
            return Err(Error::invalid(format!(
            "filters rule {i} needs an \"operator\" such as \"is\", \"contains\" or \"is blank\""
        )))
        }
    }
    Ok(())
}

fn rules_of(raw: &RawValue) -> Result<Vec<&RawValue>> {
    serde_json::from_str(raw.get()).map_err(|_| Error::invalid("filters needs a \"rules\" array"))
}

/// Check the caller's filters (JSON text) on borrowed data and return the text to send: the
/// caller's own, trimmed, so nothing in it (numbers above all) is re-encoded on the way.
pub fn to_json(filters: &str) -> Result<&str> {
    let text = filters.trim();
    let raw: &RawValue = serde_json::from_str(text)
        .map_err(|e| Error::invalid(format!("filters is not valid JSON: {e}")))?;
    let rules = match first_byte(raw) {
        b'[' => rules_of(raw)?,
        b'{' => {
            let g: Group<'_> = serde_json::from_str(raw.get())
                .map_err(|e| Error::invalid(format!("filters: {e}")))?;
            if let Some(m) = g.match_ {
                match string_of(m) {
                    Some(m) if m == "and" || m == "or" => {}
                    _ => return Err(Error::invalid("filters.match must be \"and\" or \"or\"")),
                }
            }
            match g.rules {
                Some(r) if first_byte(r) == b'[' => rules_of(r)?,
                _ => return Err(Error::invalid("filters needs a \"rules\" array")),
            }
        }
        _ => {
            return Err(Error::invalid(
                "filters must be {match, rules} or an array of rules",
            ))
        }
    };
    for (i, rule) in rules.iter().enumerate() {
        check_rule(i, rule)?;
    }
    Ok(raw.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn to_json(v: &Value) -> Result<String> {
        super::to_json(&v.to_string()).map(str::to_owned)
    }

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(
            encode_component(r#"{"a":"x & y # + % \" é"}"#),
            "%7B%22a%22%3A%22x%20%26%20y%20%23%20%2B%20%25%20%5C%22%20%C3%A9%22%7D"
        );
        assert_eq!(encode_component("AZaz09-_.!~*'()"), "AZaz09-_.!~*'()");
    }

    #[test]
    fn accepts_both_documented_shapes() {
        let rule = json!({"field": "field_1", "operator": "is", "value": "x"});
        assert!(to_json(&json!({"match": "or", "rules": [rule.clone()]})).is_ok());
        assert!(to_json(&json!([rule.clone()])).is_ok());
        assert!(to_json(&json!({"rules": [{"field": "field_2", "operator": "is blank"}]})).is_ok());
    }

    #[test]
    fn rejects_bad_shapes_with_a_reason() {
        for bad in [
            json!("field_1 = x"),
            json!({"match": "xor", "rules": []}),
            json!({"match": "and"}),
            json!([{"operator": "is"}]),
            json!([{"field": "name", "operator": "is"}]),
            json!([{"field": "field_1"}]),
            json!([{"field": "field_1", "operator": ">="}]),
            json!([1]),
        ] {
            let e = to_json(&bad).unwrap_err();
            assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT", "{bad}");
        }
    }

    #[test]
    fn numbers_in_filter_values_reach_knack_unchanged() {
        // Found by the `filters` fuzz target when filters went through `serde_json::Value`:
        // some numbers changed on the way. Now the caller's text is sent as it came, so they
        // pass untouched whatever the float parser does (`float_roundtrip` is not needed).
        // Each is the text JavaScript's JSON.stringify gives for the number.
        for text in [
            "184467440774382060000",
            "1.8446744077438206e+20",
            "0.30000000000000004",
            "5e-324",
            "1.7976931348623157e+308",
            "9007199254740993",
            "123456789.12345679",
        ] {
            let filters = format!(r#"[{{"field":"field_1","operator":"is","value":{text}}}]"#);
            assert_eq!(super::to_json(&filters).unwrap(), filters, "{text}");
        }
    }
}
