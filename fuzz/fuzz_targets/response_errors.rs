//! Reading Knack's error answers (`response::knack_errors`, `summary`) on any bytes: never a
//! panic, never an HTML page or a long body pasted in as a message.
#![no_main]

use knack_client::response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let errors = response::knack_errors(data);
    let json = serde_json::from_slice::<serde_json::Value>(data).is_ok();
    if !json {
        // Plain text becomes at most one short message, never markup.
        assert!(errors.len() <= 1);
        if let Some(e) = errors.first() {
            assert!(e.message.len() <= 200 && !e.message.starts_with('<'));
        }
    }
    if let Some(s) = response::summary(&errors) {
        assert!(!s.is_empty());
    }
});
