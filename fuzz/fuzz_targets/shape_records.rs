//! Records reshaped in Rust (`shape: 'labels'`, `fields`) and writes by label on any bytes,
//! against a real app schema (the field-types app, every Knack type): a record is always
//! turned into valid JSON (or refused as KNACK_BAD_RESPONSE); `data` is always turned into
//! valid JSON of field keys (or refused as KNACK_INVALID_ARGUMENT). Nothing panics.
#![no_main]

use knack_client::internals::shape::{labels_to_fields, Found, Shaper};
use knack_client::internals::Schema;
use knack_client::{Shape, ShapeSpec};
use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use std::sync::OnceLock;

fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::parse(include_bytes!(
            "../../crates/knack-client/tests/data/field-types-metadata.json"
        ))
        .expect("the fixture parses")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let s = schema();
    let spec = ShapeSpec {
        shape: if mode & 1 == 0 { Shape::Labels } else { Shape::Fields },
        fields: (mode & 2 != 0).then(|| vec!["Short Text".into(), "field_12".into(), "customer".into()]),
    };
    let shaper = Shaper::resolve(&spec, s, "scene_1", "view_1").expect("the spec resolves");
    if let Ok(raw) = serde_json::from_str::<&RawValue>(text) {
        if raw.get().starts_with('{') {
            let mut out = String::new();
            let mut found = Found::default();
            match shaper.push_record(raw, Some(s), &mut out, &mut found) {
                Ok(()) => {
                    serde_json::from_str::<IgnoredAny>(&out).expect("a reshaped record is valid JSON");
                }
                Err(e) => assert_eq!(e.code(), "KNACK_BAD_RESPONSE"),
            }
        }
    }
    match labels_to_fields(text, &shaper, s, "scene_1", "view_1") {
        Ok(out) => {
            serde_json::from_str::<IgnoredAny>(&out).expect("a converted write is valid JSON");
            assert!(out.starts_with('{'));
        }
        Err(e) => assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT"),
    }
});
