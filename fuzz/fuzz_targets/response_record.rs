//! Parsing single-record answers (`response::single_record`, bare or wrapped) and delete
//! confirmations (`response::deleted`) on any bytes: a clean KNACK_BAD_RESPONSE or a record
//! that is a JSON object with that id.
#![no_main]

use knack_client::response;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    match response::single_record(data) {
        Ok((id, json)) => {
            let v: Value = serde_json::from_str(&json).expect("record JSON is valid");
            assert!(v.is_object());
            // The id comes from the record itself (wrapped) or from the top level (bare).
            let text = std::str::from_utf8(data).expect("the answer is UTF-8");
            let top: Value = serde_json::from_str(text.trim()).expect("the answer is JSON");
            let found = v["id"].as_str().or(top["id"].as_str());
            assert_eq!(found, Some(id.as_str()));
        }
        Err(e) => assert_eq!(e.code(), "KNACK_BAD_RESPONSE"),
    }
    if let Err(e) = response::deleted(data) {
        assert_eq!(e.code(), "KNACK_BAD_RESPONSE");
    }
});
