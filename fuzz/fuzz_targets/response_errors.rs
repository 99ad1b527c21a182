//! Reading Knack's error answers (`response::knack_errors`, `summary`) on any bytes: never a
//! panic, never an HTML page's markup or a long body pasted in as a message.
#![no_main]

use knack_client::internals::response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let errors = response::knack_errors(data);
    // As the parser sees it: UTF-8, trimmed.
    let text = std::str::from_utf8(data).map(str::trim).ok();
    let json = text.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    match json {
        // JSON that is not an object is not Knack's error shape.
        Some(v) if !v.is_object() => assert!(errors.is_empty(), "{errors:?}"),
        Some(_) => {}
        // Text (an HTML page's title or text included) becomes at most one short message,
        // never markup.
        None => {
            assert!(errors.len() <= 1);
            if let Some(e) = errors.first() {
                assert!(e.message.chars().count() <= 200, "{}", e.message);
                assert!(!e.message.contains('<') || !text.is_some_and(|t| t.starts_with('<')));
                assert!(!e.message.starts_with('<'), "{}", e.message);
            }
        }
    }
    if let Some(s) = response::summary(&errors) {
        assert!(!s.is_empty());
    }
});
