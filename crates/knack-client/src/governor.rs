//! The rate governor: one per (base URL, app id) per process, shared by every session.
//!
//! Guarantee: no sliding window of `WINDOW` (one second plus a margin for network
//! jitter) holds more than `per_second` grants, so Knack never sees more than its limit
//! in any one-second interval, fixed or sliding. Waiters are served in FIFO order
//! (tokio's mutex is fair), and a waiter that is dropped (aborted, timed out) leaves the
//! queue at once. What Knack tells us (`X-RateLimit-Remaining: 0`, a 429) pauses
//! everyone until the window Knack named has passed.
//!
//! With Redis the window is the cluster's (`store/redis.rs`), and every answer also says how
//! many processes share it. When Redis fails, each process keeps to its share of the limit,
//! `max(1, per_second / N)` with N the last number of processes it saw, in its local window
//! (which also holds the grants Redis made to it). On the switch from Redis to the local
//! window, a process first waits one `WINDOW`, so no second holds both the cluster's last
//! grants and the first local ones; after Redis comes back it keeps to its share as well for
//! as long as other processes may still be on their local windows.

use crate::klog;
pub mod redis;

use self::redis::{RedisLimiter, SharedAnswer};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::time::Instant;

/// One second plus 5% for network jitter.
pub const WINDOW: Duration = Duration::from_millis(1050);
/// Never pause longer than this on a reset time from Knack (guards against clock skew).
pub const MAX_PAUSE: Duration = Duration::from_millis(1100);
/// Never pause longer than this on Knack's `Retry-After`.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Knack's documented limit.
pub const DEFAULT_PER_SECOND: u32 = 10;

/// After a Redis failure, use the local window this long before trying Redis again.
const SHARED_RETRY: Duration = Duration::from_secs(5);
/// After coming back to Redis, keep to this process's share this long as well: the other
/// processes may stay on their local windows until their own pause and check are over.
const SHARE_AFTER_RECOVERY: Duration = Duration::from_secs(7);

/// How the last call to Redis went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Not tried yet.
    Unknown,
    Up,
    Down,
}

#[derive(Debug)]
struct State {
    per_second: Option<u32>,
    /// This process's grants (through Redis too), oldest first; at most `per_second`.
    grants: VecDeque<Instant>,
    paused_until: Option<Instant>,
    shared_down_until: Option<Instant>,
    link: Link,
    /// After a switch from Redis to the local window: no local grant before this.
    hold_until: Option<Instant>,
    /// After coming back to Redis: keep to this process's share until then too.
    share_until: Option<Instant>,
    /// Processes sharing the window, as Redis last said.
    cluster_size: Option<u32>,
    /// The cluster's size when Redis last failed: a Redis that comes back empty knows only
    /// the processes that asked since, so the share after recovery uses the larger count.
    size_at_failure: Option<u32>,
}

#[derive(Debug)]
pub struct Governor {
    turnstile: tokio::sync::Mutex<()>,
    state: Arc<Mutex<State>>,
    queued: AtomicUsize,
    /// Sleeps begun in `acquire` (to tell a caller whether it was held back).
    sleeps: AtomicU64,
    shared: RwLock<Option<Arc<RedisLimiter>>>,
}

struct QueuedGuard<'a>(&'a AtomicUsize);
impl Drop for QueuedGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What `acquire` does next.
enum Step {
    Granted,
    Wait(Instant),
    /// Ask Redis for a slot under this cluster-wide limit.
    AskShared(u32),
}

/// One process's part of `limit` when `members` processes share it.
fn share_of(limit: u32, members: Option<u32>) -> u32 {
    (limit / members.unwrap_or(1).max(1)).max(1)
}

impl State {
    fn new(per_second: Option<u32>) -> State {
        State {
            per_second,
            grants: VecDeque::new(),
            paused_until: None,
            shared_down_until: None,
            link: Link::Unknown,
            hold_until: None,
            share_until: None,
            cluster_size: None,
            size_at_failure: None,
        }
    }

    /// On the way back to Redis (the first ask after a failure) and for a while after it.
    fn recovering(&self, now: Instant) -> bool {
        self.link == Link::Down || self.share_until.is_some_and(|t| t > now)
    }

    /// The processes to share with. Just back from a failure, Redis may not know every
    /// process yet (it may have restarted empty): the larger of the counts before and since.
    fn members(&self, now: Instant) -> Option<u32> {
        if self.recovering(now) {
            self.cluster_size.max(self.size_at_failure)
        } else {
            self.cluster_size
        }
    }

    /// Redis answered a request for a slot under `limit`: the wait it asked for, if any.
    fn shared_answered(
        &mut self,
        now: Instant,
        limit: u32,
        answer: SharedAnswer,
    ) -> Option<Duration> {
        self.cluster_size = Some(answer.members);
        if self.link == Link::Down {
            // Others may still be on their local windows for a while.
            self.share_until = Some(now + SHARE_AFTER_RECOVERY);
        }
        self.link = Link::Up;
        if answer.wait.is_none() {
            self.record_grant(now, limit);
        }
        answer.wait
    }

    /// Redis failed: the local window stands in for `SHARED_RETRY`, at this process's share.
    /// Returns the share.
    fn shared_failed(&mut self, now: Instant, limit: u32) -> u32 {
        let members = self.members(now);
        self.shared_down_until = Some(now + SHARED_RETRY);
        self.size_at_failure = members;
        if self.link == Link::Up {
            // The cluster may have granted up to `limit` in the last window.
            self.hold_until = Some(now + WINDOW);
        }
        self.link = Link::Down;
        share_of(limit, members)
    }

    fn record_grant(&mut self, now: Instant, limit: u32) {
        self.grants.push_back(now);
        while self.grants.len() > limit as usize {
            self.grants.pop_front();
        }
    }

    /// The local part of a turn: pauses, the local window (at the full limit or at this
    /// process's share), then either a grant or "ask Redis".
    fn step(&mut self, shared_up: bool, shared_configured: bool) -> Option<Step> {
        let now = Instant::now();
        match self.paused_until {
            Some(p) if p > now => return Some(Step::Wait(p)),
            _ => self.paused_until = None,
        }
        let limit = self.per_second?.max(1);
        if shared_configured && !shared_up {
            if let Some(h) = self.hold_until {
                if h > now {
                    return Some(Step::Wait(h));
                }
                self.hold_until = None;
            }
        }
        while self
            .grants
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.grants.pop_front();
        }
        let cap = if shared_configured && (!shared_up || self.recovering(now)) {
            share_of(limit, self.members(now))
        } else {
            limit
        } as usize;
        if self.grants.len() >= cap {
            // Free once the grant `cap` places from the newest has left the window.
            let t = self.grants[self.grants.len() - cap];
            return Some(Step::Wait(t + WINDOW));
        }
        if shared_up {
            return Some(Step::AskShared(limit));
        }
        self.record_grant(now, limit);
        Some(Step::Granted)
    }
}

impl Governor {
    /// `per_second: None` turns the governor off (it still honours pauses from 429s).
    pub fn new(per_second: Option<u32>) -> Self {
        Governor {
            turnstile: tokio::sync::Mutex::new(()),
            state: Arc::new(Mutex::new(State::new(per_second))),
            queued: AtomicUsize::new(0),
            sleeps: AtomicU64::new(0),
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

    /// How many processes share the window through Redis, as Redis last said (this one
    /// included); `None` before the first answer from Redis or without Redis.
    pub fn cluster_size(&self) -> Option<u32> {
        self.lock().cluster_size
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
    /// Once the pause after a failure is over, Redis is checked in the background, and the
    /// local window stands in until it answers.
    fn shared(&self) -> Option<Arc<RedisLimiter>> {
        let sh = self
            .shared
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        let mut st = self.lock();
        let now = Instant::now();
        match st.shared_down_until {
            None => Some(sh),
            Some(t) if t > now => None,
            Some(_) => {
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    st.shared_down_until = Some(now + SHARED_RETRY);
                    let state = self.state.clone();
                    rt.spawn(async move {
                        let ok = sh.probe().await;
                        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                        match ok {
                            Ok(()) => {
                                klog!(Info, "cluster rate limit reachable again");
                                st.shared_down_until = None;
                            }
                            Err(e) => {
                                klog!(Info, "cluster rate limit still unavailable ({e})");
                                st.shared_down_until = Some(Instant::now() + SHARED_RETRY);
                            }
                        }
                    });
                }
                None
            }
        }
    }

    /// Wait for a slot. Cancel-safe: dropping the future gives up the place in the queue.
    /// Returns whether the governor held this caller back: it slept, or queued behind a caller
    /// that slept (a wait for the turnstile alone is not the rate limit).
    pub async fn acquire(&self) -> bool {
        let before = self.sleeps.load(Ordering::Relaxed);
        self.wait_turn().await;
        self.sleeps.load(Ordering::Relaxed) != before
    }

    async fn wait_turn(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
        let _queued = QueuedGuard(&self.queued);
        let _turn = self.turnstile.lock().await;
        loop {
            let shared = self.shared();
            let configured = shared.is_some() || self.is_shared();
            let step = self.lock().step(shared.is_some(), configured);
            let limit = match step {
                None | Some(Step::Granted) => return,
                Some(Step::Wait(t)) => {
                    self.sleeps.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep_until(t).await;
                    continue;
                }
                Some(Step::AskShared(limit)) => limit,
            };
            let Some(sh) = shared else { continue };
            match sh.try_acquire(limit, WINDOW).await {
                Ok(answer) => {
                    let wait = self.lock().shared_answered(Instant::now(), limit, answer);
                    match wait {
                        None => return,
                        Some(w) => {
                            self.sleeps.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(w.min(WINDOW)).await
                        }
                    }
                }
                Err(e) => {
                    let share = self.lock().shared_failed(Instant::now(), limit);
                    klog!(
                        Warn,
                        "cluster rate limit unavailable ({e}); this process keeps to {share} of {limit} per second on its own for {}s",
                        SHARED_RETRY.as_secs()
                    );
                }
            }
        }
    }

    /// Hold every grant for `wait` from now (a longer pause already set stands), here and,
    /// with Redis, in every process. Returns how long grants are now held.
    fn pause(&self, wait: Duration) -> Duration {
        let now = Instant::now();
        let until = now + wait;
        let held = {
            let mut st = self.lock();
            match st.paused_until {
                Some(p) if p >= until => p,
                _ => {
                    st.paused_until = Some(until);
                    until
                }
            }
        };
        if let (Some(sh), Ok(rt)) = (self.shared(), tokio::runtime::Handle::try_current()) {
            rt.spawn(async move {
                if let Err(e) = sh.pause(wait).await {
                    klog!(Warn, "could not share a rate-limit pause: {e}");
                }
            });
        }
        held.duration_since(now)
    }

    /// Stop granting for `wait` derived from Knack's reset time (capped at `MAX_PAUSE`
    /// against clock skew).
    pub fn pause_for(&self, wait: Duration) {
        self.pause(wait.min(MAX_PAUSE));
    }

    /// Stop granting for a relative `Retry-After` from Knack (capped at `MAX_RETRY_AFTER`;
    /// no clock skew applies to a relative value), shared through Redis like `pause_for`.
    /// Returns how long grants are now held: the capped wait, or a longer pause already set.
    pub fn pause_for_retry_after(&self, wait: Duration) -> Duration {
        self.pause(wait.min(MAX_RETRY_AFTER))
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
        assert!(g.acquire().await, "held back, and says so");
        assert!(start.elapsed() >= Duration::from_millis(400));
        g.observe(Some(3), Some(Duration::from_millis(400)));
        let t = Instant::now();
        assert!(!g.acquire().await, "not held back");
        assert!(t.elapsed() < Duration::from_millis(5));
        g.pause_for(Duration::from_secs(60));
        let t = Instant::now();
        g.acquire().await;
        assert!(t.elapsed() <= MAX_PAUSE + Duration::from_millis(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_is_honoured_beyond_the_reset_cap() {
        let g = Governor::new(Some(10));
        let start = Instant::now();
        assert_eq!(
            g.pause_for_retry_after(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
        g.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(5));
        assert!(start.elapsed() < Duration::from_millis(5010));

        // Capped at a minute.
        let t = Instant::now();
        assert_eq!(
            g.pause_for_retry_after(Duration::from_secs(3600)),
            MAX_RETRY_AFTER
        );
        g.acquire().await;
        assert!(t.elapsed() >= MAX_RETRY_AFTER);
        assert!(t.elapsed() < MAX_RETRY_AFTER + Duration::from_millis(10));

        // A shorter pause (reset-derived or Retry-After) does not cut a longer one short.
        let t = Instant::now();
        g.pause_for_retry_after(Duration::from_secs(3));
        g.pause_for(Duration::from_millis(200));
        assert_eq!(
            g.pause_for_retry_after(Duration::from_secs(1)),
            Duration::from_secs(3)
        );
        g.acquire().await;
        assert!(t.elapsed() >= Duration::from_secs(3));
    }

    #[test]
    fn the_fallback_share_is_the_limit_over_the_cluster_size_at_least_one() {
        assert_eq!(share_of(10, None), 10);
        assert_eq!(share_of(10, Some(1)), 10);
        assert_eq!(share_of(10, Some(3)), 3);
        assert_eq!(share_of(10, Some(20)), 1);
        assert_eq!(share_of(1, Some(0)), 1);
    }

    const GRANTED: SharedAnswer = SharedAnswer {
        wait: None,
        members: 3,
    };

    fn granted_by(st: &mut State, shared_up: bool) -> usize {
        let mut n = 0;
        while let Some(step) = st.step(shared_up, true) {
            match step {
                Step::Granted => n += 1,
                Step::AskShared(limit) => {
                    st.shared_answered(Instant::now(), limit, GRANTED);
                    n += 1;
                }
                Step::Wait(_) => break,
            }
            assert!(n <= 10, "no limit");
        }
        n
    }

    #[tokio::test(start_paused = true)]
    async fn without_redis_a_process_keeps_to_its_share_after_a_changeover_pause() {
        let mut st = State::new(Some(10));
        // Through Redis: four grants, three processes seen.
        for _ in 0..4 {
            assert!(matches!(st.step(true, true), Some(Step::AskShared(10))));
            st.shared_answered(Instant::now(), 10, GRANTED);
        }
        assert_eq!(st.cluster_size, Some(3));
        tokio::time::advance(Duration::from_millis(500)).await;

        // Redis fails: nothing for one window (the cluster's last grants), then 3 per window.
        let failed_at = Instant::now();
        assert_eq!(st.shared_failed(failed_at, 10), 3);
        assert!(matches!(st.step(false, true), Some(Step::Wait(t)) if t == failed_at + WINDOW));
        tokio::time::advance(WINDOW).await;
        assert_eq!(granted_by(&mut st, false), 3);
        tokio::time::advance(WINDOW).await;
        assert_eq!(granted_by(&mut st, false), 3);

        // A second failure on the local window (retry after the pause) holds nothing.
        tokio::time::advance(WINDOW).await;
        st.shared_failed(Instant::now(), 10);
        assert_eq!(granted_by(&mut st, false), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn back_on_redis_a_process_keeps_to_its_share_while_others_may_be_local() {
        let mut st = State::new(Some(10));
        st.step(true, true);
        st.shared_answered(Instant::now(), 10, GRANTED);
        st.shared_failed(Instant::now(), 10);
        tokio::time::advance(WINDOW).await;
        assert_eq!(granted_by(&mut st, false), 3);

        // Redis is back, but empty: it knows one process so far. The first ask already
        // counts against the share (the local window is full), and so do the next ones.
        assert!(matches!(st.step(true, true), Some(Step::Wait(_))));
        tokio::time::advance(WINDOW).await;
        let fresh = SharedAnswer {
            wait: None,
            members: 1,
        };
        for _ in 0..3 {
            assert!(matches!(st.step(true, true), Some(Step::AskShared(10))));
            st.shared_answered(Instant::now(), 10, fresh);
        }
        assert!(matches!(st.step(true, true), Some(Step::Wait(_))));

        // Once every process must be back on Redis, its window alone decides.
        tokio::time::advance(SHARE_AFTER_RECOVERY).await;
        assert!(matches!(st.step(true, true), Some(Step::AskShared(10))));
        assert_eq!(granted_by(&mut st, true), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_process_that_never_reached_redis_uses_the_whole_limit() {
        let mut st = State::new(Some(10));
        st.shared_failed(Instant::now(), 10);
        assert_eq!(granted_by(&mut st, false), 10);
    }
}
