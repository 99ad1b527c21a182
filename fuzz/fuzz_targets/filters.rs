//! Filter checking and encoding (`filters::to_json`, `encode_component`): on any text, either
//! a clean KNACK_INVALID_ARGUMENT or the caller's own text and encodes to a query
//! value that cannot break out of its parameter; and rule checks accept exactly field keys and
//! plain-word operators.
#![no_main]

use arbitrary::Arbitrary;
use knack_client::internals::filters;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

#[derive(Arbitrary, Debug)]
struct Rule {
    field: String,
    operator: String,
    value: Option<String>,
}

#[derive(Arbitrary, Debug)]
struct Rules {
    match_or: bool,
    rules: Vec<Rule>,
}

fn is_field_key(s: &str) -> bool {
    s.strip_prefix("field_")
        .is_some_and(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_operator(s: &str) -> bool {
    !s.trim().is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphabetic() || b == b' ')
}

fn check(v: &Value) -> bool {
    check_text(&v.to_string())
}

/// Filters as JSON text: accepted ones are sent exactly as given (trimmed).
fn check_text(given: &str) -> bool {
    match filters::to_json(given) {
        Ok(text) => {
            assert_eq!(text, given.trim(), "to_json changed the filters");
            let enc = filters::encode_component(&text);
            assert!(
                enc.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()%".contains(&b)),
                "encoded filters hold a character that can end the parameter: {enc}"
            );
            let dec = percent_encoding::percent_decode_str(&enc)
                .decode_utf8()
                .expect("decodes to UTF-8");
            assert_eq!(dec, text);
            true
        }
        Err(e) => {
            assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT");
            false
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Mode 0: the rest is JSON text; mode 1: the rest drives a list of rules.
    match mode % 2 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                check_text(text);
            }
        }
        _ => {
            let Ok(Rules { match_or, rules }) =
                Rules::arbitrary_take_rest(arbitrary::Unstructured::new(rest))
            else {
                return;
            };
            let expect_ok = rules
                .iter()
                .all(|r| is_field_key(&r.field) && is_operator(&r.operator));
            let list: Vec<Value> = rules
                .iter()
                .map(|r| match &r.value {
                    Some(v) => json!({"field": r.field, "operator": r.operator, "value": v}),
                    None => json!({"field": r.field, "operator": r.operator}),
                })
                .collect();
            let m = if match_or { "or" } else { "and" };
            assert_eq!(check(&json!({"match": m, "rules": list})), expect_ok);
            assert_eq!(check(&Value::Array(list)), expect_ok);
        }
    }
});
