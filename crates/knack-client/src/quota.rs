//! The daily plan limit, learned from `X-PlanLimit-*` headers on every response.
//! Once Knack says it is spent, calls fail with `KNACK_DAILY_LIMIT` without reaching
//! Knack until the reset it announced.

use crate::bounds::Bound;
use crate::error::{Error, ErrorCode, Result};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanSnapshot {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Time until the daily reset, as of now.
    pub reset_in: Option<Duration>,
}

/// Knack's daily limit resets at 00:00 UTC, so no reset is ever further away than this.
pub const MAX_RESET: Duration = Duration::from_secs(24 * 3600);
/// While the plan is believed spent, one call is let through this often to see whether it
/// still is (a stale or mistaken latch, a plan upgraded mid-day).
pub const REPROBE_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct State {
    limit: Option<u64>,
    remaining: Option<u64>,
    reset_at: Option<Instant>,
    spent: bool,
    /// While spent: when the next probe may go.
    probe_at: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct PlanQuota {
    state: Mutex<State>,
}

impl PlanQuota {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> PlanSnapshot {
        let st = self.lock();
        let now = Instant::now();
        PlanSnapshot {
            limit: st.limit,
            remaining: st.remaining,
            reset_in: st.reset_at.map(|t| t.saturating_duration_since(now)),
        }
    }

    /// Calls of the day a bulk operation leaves for the rest of the app.
    pub const RESERVE: Bound = Bound::new("reserve", 0, 1_000_000_000_000_000);

    /// Refuse to start another call when Knack said at most `reserve` calls of the day
    /// remain: bulk calls keep that many for the rest of the app (`reserve`, checked
    /// against `RESERVE`).
    pub fn check_reserve(&self, reserve: f64) -> Result<()> {
        let reserve = Self::RESERVE.check(reserve)?;
        let remaining = self.lock().remaining;
        match remaining {
            Some(rem) if reserve > 0 && rem <= reserve => Err(Error::new(
                ErrorCode::DailyLimit,
                format!(
                    "stopped: only {rem} API calls of the daily plan remain (reserve {reserve})"
                ),
            )
            .with_outcome(crate::outcome::Outcome::NotSent)),
            _ => Ok(()),
        }
    }

    /// Fail fast when the plan is known to be spent; forget it once the reset has passed.
    /// Every `REPROBE_EVERY` one call goes through anyway, as a probe.
    pub fn check(&self) -> Result<()> {
        let mut st = self.lock();
        if !st.spent {
            return Ok(());
        }
        let now = Instant::now();
        if st.reset_at.is_some_and(|t| now >= t) {
            st.spent = false;
            st.remaining = None;
            st.probe_at = None;
            return Ok(());
        }
        if st.probe_at.is_none_or(|t| now >= t) {
            st.probe_at = Some(now + REPROBE_EVERY);
            return Ok(());
        }
        let mut e = Error::new(
            ErrorCode::DailyLimit,
            "the Knack plan's daily API limit is spent; not calling Knack until it resets",
        );
        e.retry_after_ms = st
            .reset_at
            .map(|t| t.saturating_duration_since(now).as_millis() as u64);
        Err(e)
    }

    /// Record what a response said.
    pub fn observe(&self, limit: Option<u64>, remaining: Option<u64>, reset_in: Option<Duration>) {
        let mut st = self.lock();
        if limit.is_some() {
            st.limit = limit;
        }
        if let Some(r) = remaining {
            st.remaining = Some(r);
        }
        if let Some(d) = reset_in {
            st.reset_at = Some(Instant::now() + d.min(MAX_RESET));
        }
    }

    /// Knack answered a call with something other than the daily limit: the plan is not
    /// spent (whatever was believed).
    pub fn answered(&self) {
        let mut st = self.lock();
        if st.spent {
            st.spent = false;
            st.probe_at = None;
            if st.remaining == Some(0) {
                st.remaining = None;
            }
        }
    }

    /// Knack refused a call because the daily limit is spent.
    pub fn mark_spent(&self, reset_in: Option<Duration>) {
        let mut st = self.lock();
        let now = Instant::now();
        st.spent = true;
        st.remaining = Some(0);
        st.reset_at = reset_in.map(|d| now + d.min(MAX_RESET));
        st.probe_at = Some(now + REPROBE_EVERY);
    }

    /// Forget that the plan is spent (e.g. the plan was upgraded): the next call goes to Knack.
    pub fn clear(&self) {
        let mut st = self.lock();
        st.spent = false;
        st.probe_at = None;
        st.remaining = None;
    }

    #[cfg(test)]
    fn probe_now(&self) {
        self.lock().probe_at = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulk_reserve_stops_calls_once_knack_says_that_few_remain() {
        // (remaining Knack announced, reserve) -> allowed
        let table = [
            (None, 100, true),
            (Some(500), 100, true),
            (Some(101), 100, true),
            (Some(100), 100, false),
            (Some(3), 100, false),
            (Some(0), 0, true), // no reserve: the spent latch (check) decides, not this
        ];
        for (remaining, reserve, allowed) in table {
            let q = PlanQuota::default();
            q.observe(Some(1000), remaining, None);
            let r = q.check_reserve(reserve as f64);
            assert_eq!(r.is_ok(), allowed, "{remaining:?} {reserve}");
            if let Err(e) = r {
                assert_eq!(e.code(), "KNACK_DAILY_LIMIT");
                assert_eq!(e.outcome(), crate::outcome::Outcome::NotSent);
                assert!(
                    e.message.contains(&format!("reserve {reserve}")),
                    "{}",
                    e.message
                );
            }
        }
        for bad in [-1.0, 1.5, f64::NAN] {
            let e = PlanQuota::default().check_reserve(bad).unwrap_err();
            assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT", "{bad}");
            assert!(
                e.message.starts_with("reserve must be a whole number"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn spent_plan_fails_fast_until_reset() {
        let q = PlanQuota::default();
        q.observe(Some(1000), Some(5), Some(Duration::from_secs(10)));
        assert!(q.check().is_ok());
        assert_eq!(q.snapshot().remaining, Some(5));
        q.mark_spent(Some(Duration::from_millis(30)));
        let e = q.check().unwrap_err();
        assert_eq!(e.code(), "KNACK_DAILY_LIMIT");
        assert!(e.retry_after_ms.unwrap() <= 30);
        std::thread::sleep(Duration::from_millis(40));
        assert!(q.check().is_ok());
    }

    #[test]
    fn an_absurd_reset_is_capped_at_a_day() {
        let q = PlanQuota::default();
        q.mark_spent(Some(Duration::from_secs(u32::MAX as u64)));
        assert!(q.snapshot().reset_in.unwrap() <= MAX_RESET);
        q.observe(None, None, Some(Duration::from_secs(10 * 24 * 3600)));
        assert!(q.snapshot().reset_in.unwrap() <= MAX_RESET);
    }

    #[test]
    fn a_spent_plan_lets_one_probe_through_now_and_then_and_an_answer_clears_it() {
        let q = PlanQuota::default();
        // A 429 that said "daily" with no reset: latched, but not forever.
        q.mark_spent(None);
        assert_eq!(q.check().unwrap_err().code(), "KNACK_DAILY_LIMIT");
        q.probe_now();
        assert!(q.check().is_ok(), "the probe goes through");
        assert!(q.check().is_err(), "only one probe per interval");
        q.answered();
        assert!(q.check().is_ok());
        assert!(q.check().is_ok());
    }

    #[test]
    fn clearing_the_latch_lets_calls_through_at_once() {
        let q = PlanQuota::default();
        q.mark_spent(Some(Duration::from_secs(3600)));
        assert!(q.check().is_err());
        q.clear();
        assert!(q.check().is_ok());
    }
}
