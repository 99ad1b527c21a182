//! The token-claims decoder (`Claims::decode`) and everything a session computes from the
//! claims (issued-at, expiry), on any text: no panic, no echo of the token in errors, and
//! accepted claims are well formed.
#![no_main]

use knack_client::internals::token::{self, Claims};
use libfuzzer_sys::fuzz_target;

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64url(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn check(text: &str) {
    match Claims::decode(text) {
        Ok(c) => {
            assert!(c.user_id.len() == 24 && c.user_id.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(
                c.application_id.len() == 24
                    && c.application_id.bytes().all(|b| b.is_ascii_hexdigit())
            );
            // What a session does with the claims: none of it may panic.
            let iat = c.issued_at();
            for remember in [None, Some(true), Some(false)] {
                let exp = token::expires_at(iat, remember);
                assert!(exp > iat);
                let _ = token::to_millis(exp);
            }
        }
        Err(e) => {
            assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT");
            // A token always has dots; no fixed message does, so this cannot match by chance.
            if text.len() >= 3 && text.contains('.') {
                assert!(!e.message.contains(text), "the error echoes the token");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 2 {
        // Any text as the token.
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                check(text);
            }
        }
        // The input as the JWT payload, so the fuzzer works on the claims JSON directly.
        _ => {
            let header = b64url(br#"{"typ":"JWT","alg":"HS256"}"#);
            check(&format!("{header}.{}.c2lnbmF0dXJl", b64url(rest)));
        }
    }
});
