//! The body cap bounds memory, not just the result: with a counting allocator, the peak heap
//! while a server pushes an endless chunked answer, or a gzip bomb, stays a small multiple of
//! the cap instead of growing with what the server sends.

mod common;

use common::*;
use knack_client::CallOptions;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// One measurement at a time: the counters are process-wide.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CAP: usize = 1 << 20;

async fn peak_during(server: &RawServer) -> (usize, knack_client::Error) {
    let mut c = config(&server.base_url);
    c.policy.max_body_bytes = CAP;
    let s = session(&c);
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let e = s
        .get_records(&my_tickets(), &CallOptions::default())
        .await
        .expect_err("over the cap");
    (PEAK.load(Ordering::Relaxed).saturating_sub(base), e)
}

#[tokio::test]
async fn an_endless_chunked_answer_never_holds_more_than_a_few_caps_in_memory() {
    let _one = SERIAL.lock().await;
    let raw = RawServer::start(Script::EndlessChunked {
        chunk: 256 * 1024,
        limit: 1 << 30,
    })
    .await;
    let (peak, e) = peak_during(&raw).await;
    assert_eq!(e.code(), "KNACK_BAD_RESPONSE", "{}", e.message);
    assert!(
        peak < 6 * CAP,
        "peak heap {peak} bytes for a {CAP}-byte cap"
    );
}

#[tokio::test]
async fn a_gzip_bomb_never_holds_more_than_a_few_caps_in_memory() {
    let _one = SERIAL.lock().await;
    let bomb = gzip_zeros(256 << 20);
    let raw = RawServer::start(gzip_json_answer(&bomb)).await;
    let (peak, e) = peak_during(&raw).await;
    assert_eq!(e.code(), "KNACK_BAD_RESPONSE", "{}", e.message);
    assert!(e.message.contains("byte limit"), "{}", e.message);
    assert!(
        peak < 6 * CAP,
        "peak heap {peak} bytes for a {CAP}-byte cap"
    );
}
