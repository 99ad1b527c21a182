//! Parsing Knack's list answers (`response::list_page`) and application metadata
//! (`AppMeta::parse`) on any bytes: a clean KNACK_BAD_RESPONSE or a page whose JSON for JS is
//! valid and holds the same records.
#![no_main]

use knack_client::metadata::AppMeta;
use knack_client::response;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    match response::list_page(data) {
        Ok(page) => {
            let js = page.to_js_json();
            let v: Value = serde_json::from_str(&js).expect("to_js_json gave invalid JSON");
            let records = v["records"].as_array().expect("records array");
            assert_eq!(records.len(), page.records.len());
            for (r, raw) in records.iter().zip(&page.records) {
                assert!(r.is_object());
                assert_eq!(r["id"].as_str(), Some(raw.id.as_ref()));
            }
            assert_eq!(v["totalRecords"].as_u64(), Some(page.total_records));
            assert_eq!(v["totalPages"].as_u64(), Some(page.total_pages));
            assert_eq!(v["currentPage"].as_u64(), Some(page.current_page));
        }
        Err(e) => assert_eq!(e.code(), "KNACK_BAD_RESPONSE"),
    }
    if let Err(e) = AppMeta::parse(data) {
        assert_eq!(e.code(), "KNACK_BAD_RESPONSE");
    }
});
