//! Knack filters: checked for shape, then sent as URL-encoded JSON.
//!
//! Accepted shapes (both are what Knack's docs show):
//! `{"match": "and"|"or", "rules": [rule, ...]}` and a bare array of rules.
//! A rule is `{"field": "field_N", "operator": "is", "value"?: ..., "range"?: n, "type"?: "days"}`.

use crate::error::{Error, Result};
use crate::validate;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

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

fn check_rule(i: usize, rule: &Value) -> Result<()> {
    let obj = rule
        .as_object()
        .ok_or_else(|| Error::invalid(format!("filters rule {i} must be an object")))?;
    match obj.get("field") {
        Some(Value::String(f)) => validate::field_key(&format!("filters rule {i} field"), f)?,
        _ => {
            return Err(Error::invalid(format!(
                "filters rule {i} needs a \"field\" like \"field_1\""
            )))
        }
    }
    match obj.get("operator") {
        Some(Value::String(op))
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

/// Check a filters value and return the compact JSON text to send.
pub fn to_json(filters: &Value) -> Result<String> {
    let rules = match filters {
        Value::Array(rules) => rules,
        Value::Object(obj) => {
            match obj.get("match") {
                None => {}
                Some(Value::String(m)) if m == "and" || m == "or" => {}
                Some(_) => return Err(Error::invalid("filters.match must be \"and\" or \"or\"")),
            }
            match obj.get("rules") {
                Some(Value::Array(rules)) => rules,
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
    serde_json::to_string(filters).map_err(|e| Error::invalid(format!("filters: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        // Found by the `filters` fuzz target: serde_json's default float parser rounds some
        // numbers wrongly, so a value could change on its way through. Each of these is the
        // text JavaScript's JSON.stringify gives for the number.
        for text in [
            "184467440774382060000",
            "1.8446744077438206e+20",
            "0.30000000000000004",
            "5e-324",
            "1.7976931348623157e+308",
            "9007199254740993",
            "123456789.12345679",
        ] {
            let want: f64 = text.parse().unwrap();
            let filters: Value = serde_json::from_str(&format!(
                r#"[{{"field":"field_1","operator":"is","value":{text}}}]"#
            ))
            .unwrap();
            let sent: Value = serde_json::from_str(&to_json(&filters).unwrap()).unwrap();
            assert_eq!(sent[0]["value"].as_f64(), Some(want), "{text}");
        }
    }
}
