//! Secrets are wiped before their memory goes back to the allocator. A spying global allocator
//! scans every block as it is freed for the secret's bytes: a hit is a copy of the secret left
//! in freed memory (including the smaller copies a growing buffer leaves behind). Control
//! tests show the spy does catch an unwiped `String` and a grown JSON buffer.
//!
//! In scope: what this crate allocates (`Secret`, session tokens, the login request body,
//! sealed-record plaintexts, the AES keys in a `KeyRing`). Out of scope, and said so in
//! SECURITY.md: buffers inside hyper/rustls while a request is on the wire, and JS strings.

mod common;

use knack_client::internals;
use knack_client::internals::sealed;
use knack_client::KeyRing;
use knack_client::Secret;
use knack_client::{Session, SessionState, UserInfo};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Mutex;
use zeroize::Zeroizing;

struct Spy;

static ARMED: AtomicBool = AtomicBool::new(false);
static NEEDLES: AtomicPtr<Vec<Vec<u8>>> = AtomicPtr::new(std::ptr::null_mut());
static HITS: AtomicUsize = AtomicUsize::new(0);
/// Frees in progress that may be reading NEEDLES: the list is freed only when none is.
static SCANNING: AtomicUsize = AtomicUsize::new(0);

/// Whether `hay` (raw memory) holds `needle`, read with volatile loads so the check cannot be
/// optimised on the assumption that freed memory is dead.
unsafe fn holds(hay: *const u8, len: usize, needle: &[u8]) -> bool {
    if needle.is_empty() || len < needle.len() {
        return false;
    }
    'outer: for i in 0..=len - needle.len() {
        for (j, b) in needle.iter().enumerate() {
            // SAFETY: i + j < len, inside the block being freed.
            if unsafe { std::ptr::read_volatile(hay.add(i + j)) } != *b {
                continue 'outer;
            }
        }
        return true;
    }
    false
}

unsafe impl GlobalAlloc for Spy {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded to the system allocator.
        unsafe { System.alloc(layout) }
    }

    // `realloc` is left to the default (alloc, copy, dealloc), so a block a buffer grows out
    // of passes through `dealloc` and is scanned too.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        SCANNING.fetch_add(1, Ordering::SeqCst);
        if ARMED.load(Ordering::SeqCst) {
            let needles = NEEDLES.load(Ordering::SeqCst);
            if !needles.is_null() {
                // SAFETY: set (and leaked) before arming, never changed while armed; the block
                // is still ours until System.dealloc below.
                for n in unsafe { (*needles).iter() } {
                    if unsafe { holds(ptr, layout.size(), n) } {
                        HITS.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }
        SCANNING.fetch_sub(1, Ordering::SeqCst);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Spy = Spy;

static SERIAL: Mutex<()> = Mutex::new(());

/// Run `f` with the spy looking for `needles`; returns how many freed blocks held one.
fn freed_copies(needles: &[&[u8]], f: impl FnOnce()) -> usize {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let list: Box<Vec<Vec<u8>>> = Box::new(needles.iter().map(|n| n.to_vec()).collect());
    NEEDLES.store(Box::into_raw(list), Ordering::SeqCst);
    HITS.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    f();
    ARMED.store(false, Ordering::SeqCst);
    let hits = HITS.load(Ordering::SeqCst);
    let old = NEEDLES.swap(std::ptr::null_mut(), Ordering::SeqCst);
    // A free on another thread (the test harness's, a runtime's) may still be scanning the
    // list it loaded before the swap: wait for it, or the list is freed under its feet.
    while SCANNING.load(Ordering::SeqCst) > 0 {
        std::hint::spin_loop();
    }
    // SAFETY: made by Box::into_raw above; the spy is disarmed and no free is reading it.
    drop(unsafe { Box::from_raw(old) });
    hits
}

const TOKEN_TEXT: &str = "eyJ0eXAi.tok-3f9a1c-NEEDLE-7b2e.sig";
const PASSWORD: &str = "pw-51d0e8-NEEDLE-c4a7";
const STORE_SECRET: &str = "store-secret-9e1f5b-NEEDLE-0123456789abcdef";

#[test]
fn control_the_spy_sees_an_unwiped_string_and_a_grown_json_buffer() {
    let hits = freed_copies(&[PASSWORD.as_bytes()], || {
        let s = String::from(PASSWORD);
        black_box(&s);
    });
    assert!(hits >= 1, "the spy missed a plain String");
    // serde_json::to_vec grows its buffer: the smaller copies are freed unwiped.
    let hits = freed_copies(&[PASSWORD.as_bytes()], || {
        let mut m = serde_json::Map::new();
        m.insert(
            "password".into(),
            serde_json::Value::String(PASSWORD.into()),
        );
        let v = serde_json::to_vec(&serde_json::Value::Object(m)).expect("json");
        black_box(&v);
        let mut v = Zeroizing::new(v);
        v.push(b' ');
    });
    assert!(
        hits >= 1,
        "the spy missed the copies a growing buffer leaves"
    );
}

#[test]
fn a_secret_and_its_clones_are_wiped_before_their_memory_is_freed() {
    let hits = freed_copies(&[TOKEN_TEXT.as_bytes()], || {
        let s = Secret::new(String::from(TOKEN_TEXT));
        let c = s.clone();
        black_box((&s, &c));
    });
    assert_eq!(hits, 0);
}

#[test]
fn the_login_body_is_wiped_when_the_request_is_dropped() {
    let password = Secret::new(PASSWORD);
    let hits = freed_copies(&[PASSWORD.as_bytes()], || {
        for remember in [false, true] {
            let body =
                internals::login_body("alice@example.com", &password, remember).expect("body");
            let retry = body.clone();
            assert!(std::str::from_utf8(&retry).is_ok_and(|t| t.contains(PASSWORD)));
            black_box((&body, &retry));
        }
    });
    assert_eq!(hits, 0);
}

#[test]
fn a_session_wipes_its_token_when_dropped() {
    let config = common::config("http://127.0.0.1:9/v1");
    let token = Zeroizing::new(common::token_for(common::ALICE_ID));
    let needle = token.as_bytes()[token.len() - 20..].to_vec();
    let hits = freed_copies(&[&needle], || {
        let s = Session::from_token(&config, &token, Some(false)).expect("session");
        let state = s.state();
        black_box((&s, &state));
    });
    assert_eq!(hits, 0);
}

fn state() -> SessionState {
    SessionState {
        id: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".into(),
        token: Secret::new(TOKEN_TEXT),
        remember: Some(true),
        user: UserInfo {
            id: "000000000000000000000a11".into(),
            email: Some("alice@example.com".into()),
            name: Some("Alice Customer".into()),
            profile_keys: vec!["profile_1".into(); 40],
        },
    }
}

#[test]
fn sealing_and_opening_a_session_leave_no_plaintext_token_behind() {
    let keys = KeyRing::new(&[Secret::new(STORE_SECRET)]).expect("keys");
    let app = "5f0c0ffee0c0ffee0c0ffee1";
    let st = state();
    // Made (and freed) outside the spy's watch: it is the test's own copy.
    let odd = format!(
        r#"{{"v":2,"id":"{}","app_id":"{app}","token":"{TOKEN_TEXT}","user_id":"x"}}"#,
        st.id
    );
    let hits = freed_copies(&[TOKEN_TEXT.as_bytes()], || {
        let text = sealed::seal(&keys, app, &st).expect("seal");
        assert!(!text.contains(TOKEN_TEXT));
        let back = sealed::open(&keys, &st.id, app, &text).expect("open");
        assert_eq!(back.token.expose(), TOKEN_TEXT);
        // Records that open but are refused (other app) and records with extra content.
        assert!(sealed::open(&keys, &st.id, "ffffffffffffffffffffffff", &text).is_err());
        let text = internals::seal_bytes(&keys, &st.id, odd.as_bytes()).expect("seal");
        assert!(sealed::open(&keys, &st.id, app, &text).is_err());
    });
    assert_eq!(hits, 0);
}

#[test]
fn a_key_ring_wipes_its_secrets_and_aes_keys_when_dropped() {
    // The AES-256 key the ring derives (HKDF-SHA256, as in sealed.rs): with AES-NI the first
    // round keys are the key itself, so an unwiped key schedule holds these bytes.
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"knack-session"), STORE_SECRET.as_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    hk.expand(b"knack-session sealed session v1", key.as_mut())
        .expect("hkdf");
    let key_start = key[..16].to_vec();
    let key_end = key[16..].to_vec();
    let secret = Secret::new(STORE_SECRET);
    let st = state();
    let hits = freed_copies(&[&key_start, &key_end, STORE_SECRET.as_bytes()], || {
        let keys = KeyRing::new(std::slice::from_ref(&secret)).expect("keys");
        let text = sealed::seal(&keys, "5f0c0ffee0c0ffee0c0ffee1", &st).expect("seal");
        black_box((&keys, &text));
    });
    assert_eq!(hits, 0);
}
