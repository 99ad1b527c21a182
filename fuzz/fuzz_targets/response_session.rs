//! Parsing the login answer and the token-check answer (`GET /session/token`) on any bytes: a
//! clean KNACK_BAD_RESPONSE, or a user whose JSON for JS is valid and carries no token or
//! password values onwards.
#![no_main]

use knack_client::internals;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = internals::parse_login_answer(data) {
        assert_eq!(e.code(), "KNACK_BAD_RESPONSE");
    }
    match internals::parse_token_answer(data) {
        Ok((json, user)) => {
            let v: Value = serde_json::from_str(&json).expect("user JSON is valid");
            assert_eq!(v["id"].as_str(), Some(user.id.as_str()));
            let values = v["values"].as_object().expect("values object");
            for k in values.keys() {
                assert!(!k.to_ascii_lowercase().contains("token"), "{k} passed on");
                assert_ne!(k, "password");
            }
        }
        Err(e) => assert_eq!(e.code(), "KNACK_BAD_RESPONSE"),
    }
});
