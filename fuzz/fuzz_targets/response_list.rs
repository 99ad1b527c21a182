//! Parsing Knack's list answers (`response::list_page`) and application metadata
//! (`Schema::parse`) on any bytes: a clean KNACK_BAD_RESPONSE or a page whose JSON for JS is
//! valid and holds the same records, verbatim.
//!
//! "Valid" is checked as the parser checks it and as `JSON.parse` reads it: escapes of lone
//! surrogates (`"\ud800"`) are valid JSON text, which `serde_json::Value` refuses but JS takes.
#![no_main]

use knack_client::internals::Schema;
use knack_client::internals::response;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Out<'a> {
    #[serde(borrow)]
    records: Vec<&'a RawValue>,
    #[serde(rename = "totalRecords")]
    total_records: u64,
    #[serde(rename = "totalPages")]
    total_pages: u64,
    #[serde(rename = "currentPage")]
    current_page: u64,
}

fuzz_target!(|data: &[u8]| {
    match response::list_page(data) {
        Ok(page) => {
            let js = page.to_js_json();
            let out: Out = serde_json::from_str(&js).expect("to_js_json gave invalid JSON");
            assert_eq!(out.records.len(), page.records.len());
            for (r, raw) in out.records.iter().zip(&page.records) {
                assert!(r.get().starts_with('{'));
                assert_eq!(r.get(), raw.json.get(), "a record was changed");
            }
            assert_eq!(out.total_records, page.total_records);
            assert_eq!(out.total_pages, page.total_pages);
            assert_eq!(out.current_page, page.current_page);
        }
        Err(e) => assert_eq!(e.code(), "KNACK_BAD_RESPONSE"),
    }
    if let Err(e) = Schema::parse(data) {
        assert_eq!(e.code(), "KNACK_BAD_RESPONSE");
    }
});
