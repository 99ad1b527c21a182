//! Parsing single-record answers (`response::single_record`, bare or wrapped) and delete
//! confirmations (`response::deleted`) on any bytes: a clean KNACK_BAD_RESPONSE or a record
//! that is a JSON object with that id.
#![no_main]

use knack_client::internals::response;
use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Id<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
}

fuzz_target!(|data: &[u8]| {
    match response::single_record(data) {
        Ok((id, json)) => {
            // Valid as the parser and JSON.parse see it (lone surrogate escapes included).
            serde_json::from_str::<IgnoredAny>(&json).expect("record JSON is valid");
            assert!(json.starts_with('{'));
            // The id comes from the record itself (wrapped) or from the top level (bare).
            // Checked when a strict parse is possible: serde's struct parse refuses lone
            // surrogate escapes elsewhere in the text, which the parser (reading the id from
            // the record's start) and JSON.parse accept.
            let text = std::str::from_utf8(data).expect("the answer is UTF-8");
            let inner = serde_json::from_str::<Id>(&json);
            let top = serde_json::from_str::<Id>(text.trim());
            if let (Ok(inner), Ok(top)) = (inner, top) {
                assert!(
                    inner.id.as_deref() == Some(id.as_str())
                        || top.id.as_deref() == Some(id.as_str()),
                    "id {id} is neither the record's nor the answer's"
                );
            }
        }
        Err(e) => assert_eq!(e.code(), "KNACK_BAD_RESPONSE"),
    }
    if let Err(e) = response::deleted(data) {
        assert_eq!(e.code(), "KNACK_BAD_RESPONSE");
    }
});
