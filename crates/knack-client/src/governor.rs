//! The rate governor: one per (base URL, app id) per process, shared by every session.
//!
//! Guarantee: no sliding window of `WINDOW` (one second plus a margin for network
//! jitter) holds more than `per_second` grants, so Knack never sees more than its limit
//! in any one-second interval, fixed or sliding. Waiters are served in FIFO order
//! (tokio's mutex is fair), and a waiter that is dropped (aborted, timed out) leaves the
//! queue at once. What Knack tells us (`X-RateLimit-Remaining: 0`, a 429) pauses
//! everyone until the window Knack named has passed.

use crate::klog;
use crate::store::redis::RedisLimiter;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::time::Instant;

/// One second plus 5% for network jitter.
pub const WINDOW: Duration = Duration::from_millis(1050);
/// Never pause longer than this on Knack's word (guards against clock skew).
pub const MAX_PAUSE: Duration = Duration::from_millis(1100);
/// Knack's documented limit.
pub const DEFAULT_PER_SECOND: u32 = 10;

/// After a Redis failure, use the local window this long before trying Redis again.
const SHARED_RETRY: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct State {
    per_second: Option<u32>,
    grants: VecDeque<Instant>,
    paused_until: Option<Instant>,
    shared_down_until: Option<Instant>,
}

#[derive(Debug)]
pub struct Governor {
    turnstile: tokio::sync::Mutex<()>,
    state: Mutex<State>,
    queued: AtomicUsize,
    shared: RwLock<Option<Arc<RedisLimiter>>>,
}

struct QueuedGuard<'a>(&'a AtomicUsize);
impl Drop for QueuedGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Governor {
    /// `per_second: None` turns the governor off (it still honours pauses from 429s).
    pub fn new(per_second: Option<u32>) -> Self {
        Governor {
            turnstile: tokio::sync::Mutex::new(()),
            state: Mutex::new(State {
                per_second,
                grants: VecDeque::new(),
                paused_until: None,
                shared_down_until: None,
            }),
            queued: AtomicUsize::new(0),
            shared: RwLock::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn per_second(&self) -> Option<u32> {
        self.lock().per_second
    }

    pub fn set_per_second(&self, per_second: Option<u32>) {
        self.lock().per_second = per_second;
    }

    /// How many callers are waiting for a slot right now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Share the window with every process of the app through Redis (`None`: local only).
    pub fn set_shared(&self, shared: Option<Arc<RedisLimiter>>) {
        *self.shared.write().unwrap_or_else(|p| p.into_inner()) = shared;
    }

    pub fn is_shared(&self) -> bool {
        self.shared
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// The cluster limiter, unless Redis failed recently (then the local window stands in).
    fn shared(&self) -> Option<Arc<RedisLimiter>> {
        let st = self.lock();
        if st.shared_down_until.is_some_and(|t| t > Instant::now()) {
            return None;
        }
        drop(st);
        self.shared
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Wait for a slot. Cancel-safe: dropping the future gives up the place in the queue.
    pub async fn acquire(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
        let _queued = QueuedGuard(&self.queued);
        let _turn = self.turnstile.lock().await;
        loop {
            let shared = self.shared();
            let (limit, wait_until) = {
                let mut st = self.lock();
                let now = Instant::now();
                let limit = st.per_second;
                match st.paused_until {
                    Some(p) if p > now => (limit, Some(p)),
                    _ => {
                        st.paused_until = None;
                        (limit, None)
                    }
                }
            };
            if let Some(t) = wait_until {
                tokio::time::sleep_until(t).await;
                continue;
            }
            let Some(limit) = limit else { return };
            if let Some(sh) = shared {
                match sh.try_acquire(limit.max(1), WINDOW).await {
                    Ok(None) => return,
                    Ok(Some(w)) => {
                        tokio::time::sleep(w.min(WINDOW)).await;
                        continue;
                    }
                    Err(e) => {
                        klog!(Warn, "cluster rate limit unavailable ({e}); using this process's governor for {}s", SHARED_RETRY.as_secs());
                        self.lock().shared_down_until = Some(Instant::now() + SHARED_RETRY);
                    }
                }
            }
            let wait_until = {
                let mut st = self.lock();
                let now = Instant::now();
                while st
                    .grants
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= WINDOW)
                {
                    st.grants.pop_front();
                }
                if (st.grants.len() as u32) < limit.max(1) {
                    st.grants.push_back(now);
                    while st.grants.len() > limit.max(1) as usize {
                        st.grants.pop_front();
                    }
                    None
                } else {
                    st.grants.front().map(|t| *t + WINDOW)
                }
            };
            match wait_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => return,
            }
        }
    }

    /// Stop granting until `until` (capped at `MAX_PAUSE` from now).
    pub fn pause_for(&self, wait: Duration) {
        let wait = wait.min(MAX_PAUSE);
        let until = Instant::now() + wait;
        {
            let mut st = self.lock();
            if st.paused_until.is_none_or(|p| p < until) {
                st.paused_until = Some(until);
            }
        }
        if let (Some(sh), Ok(rt)) = (self.shared(), tokio::runtime::Handle::try_current()) {
            rt.spawn(async move {
                if let Err(e) = sh.pause(wait).await {
                    klog!(Warn, "could not share a rate-limit pause: {e}");
                }
            });
        }
    }

    /// Learn from `X-RateLimit-Remaining`: when Knack says none are left, wait out `reset_in`.
    pub fn observe(&self, remaining: Option<u64>, reset_in: Option<Duration>) {
        if remaining == Some(0) {
            if let Some(wait) = reset_in {
                self.pause_for(wait);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_window_holds_more_than_the_limit() {
        let g = Arc::new(Governor::new(Some(10)));
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..35 {
            g.acquire().await;
            times.push(start.elapsed());
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().take_while(|u| **u - *t < WINDOW).count();
            assert!(
                in_window <= 10,
                "{in_window} grants within one window at {t:?}"
            );
        }
        // 35 grants: bursts at 0, 1.05, 2.10, then 5 more at 3.15 s.
        assert!(times[34] >= Duration::from_millis(3150));
        assert!(times[34] < Duration::from_millis(3200));
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_in_arrival_order() {
        let g = Arc::new(Governor::new(Some(1)));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let g = g.clone();
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                g.acquire().await;
                order.lock().unwrap().push(i);
            }));
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_waiter_leaves_the_queue() {
        let g = Arc::new(Governor::new(Some(1)));
        g.acquire().await;
        let waiting = {
            let g = g.clone();
            tokio::spawn(async move { g.acquire().await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(g.queued(), 1);
        waiting.abort();
        let _ = waiting.await;
        assert_eq!(g.queued(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_from_knack_holds_everyone() {
        let g = Governor::new(None);
        let start = Instant::now();
        g.observe(Some(0), Some(Duration::from_millis(400)));
        g.acquire().await;
        assert!(start.elapsed() >= Duration::from_millis(400));
        g.observe(Some(3), Some(Duration::from_millis(400)));
        let t = Instant::now();
        g.acquire().await;
        assert!(t.elapsed() < Duration::from_millis(5));
        g.pause_for(Duration::from_secs(60));
        let t = Instant::now();
        g.acquire().await;
        assert!(t.elapsed() <= MAX_PAUSE + Duration::from_millis(5));
    }
}
