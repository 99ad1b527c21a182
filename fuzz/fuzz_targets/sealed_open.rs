//! Opening stored sessions (`sealed::open`): on any stored text, on any plaintext sealed with
//! the right key (so the record parser behind the AEAD is reached), and on a round trip of
//! any session state. Failures are KNACK_STORE and never echo the stored text.
#![no_main]

use arbitrary::Arbitrary;
use knack_client::internals::seal_bytes;
use knack_client::internals::sealed;
use knack_client::KeyRing;
use knack_client::{SessionState, UserInfo};
use knack_client::Secret;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const ID: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP: &str = "5f0c0ffee0c0ffee0c0ffee1";

fn keys() -> &'static KeyRing {
    static K: OnceLock<KeyRing> = OnceLock::new();
    K.get_or_init(|| {
        KeyRing::new(&[
            Secret::new("0123456789abcdef0123456789abcdef"),
            Secret::new("fedcba9876543210fedcba9876543210"),
        ])
        .expect("key ring")
    })
}

/// A session state, sealed then opened.
#[derive(Arbitrary, Debug)]
struct State {
    token: String,
    remember: Option<bool>,
    user_id: String,
    email: Option<String>,
    name: Option<String>,
    profile_keys: Vec<String>,
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        // Whatever a store hands back.
        0 => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            if let Err(e) = sealed::open(keys(), ID, APP, text) {
                assert_eq!(e.code(), "KNACK_STORE");
                if text.len() >= 8 && text.contains("v1.") {
                    assert!(!e.message.contains(text), "the error echoes the record");
                }
            }
        }
        // A plaintext sealed with the right key under the right id: reaches the record parser.
        1 => {
            let text = seal_bytes(keys(), ID, rest).expect("seal");
            match sealed::open(keys(), ID, APP, &text) {
                Ok(state) => assert_eq!(state.id, ID),
                Err(e) => assert_eq!(e.code(), "KNACK_STORE"),
            }
            // Under another id it never opens.
            assert!(sealed::open(keys(), "another-id-another-id-another", APP, &text).is_err());
        }
        // Any session state survives a seal and open unchanged.
        _ => {
            let Ok(st) = State::arbitrary_take_rest(arbitrary::Unstructured::new(rest)) else {
                return;
            };
            let state = SessionState {
                id: ID.to_owned(),
                token: Secret::new(st.token.clone()),
                remember: st.remember,
                user: UserInfo {
                    id: st.user_id,
                    email: st.email,
                    name: st.name,
                    profile_keys: st.profile_keys,
                },
            };
            let text = sealed::seal(keys(), APP, &state).expect("seal");
            let back = sealed::open(keys(), ID, APP, &text).expect("a sealed state opens");
            assert_eq!(back.token.expose(), st.token);
            assert_eq!(back.remember, state.remember);
            assert_eq!(back.user, state.user);
        }
    }
});
