//! The daily plan limit, learned from `X-PlanLimit-*` headers on every response.
//! Once Knack says it is spent, calls fail with `KNACK_DAILY_LIMIT` without reaching
//! Knack until the reset it announced.

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

#[derive(Debug, Default)]
struct State {
    limit: Option<u64>,
    remaining: Option<u64>,
    reset_at: Option<Instant>,
    spent: bool,
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

    /// Fail fast when the plan is known to be spent; forget it once the reset has passed.
    pub fn check(&self) -> Result<()> {
        let mut st = self.lock();
        if !st.spent {
            return Ok(());
        }
        match st.reset_at {
            Some(t) if Instant::now() >= t => {
                st.spent = false;
                st.remaining = None;
                Ok(())
            }
            reset_at => {
                let mut e = Error::new(
                    ErrorCode::DailyLimit,
                    "the Knack plan's daily API limit is spent; not calling Knack until it resets",
                );
                e.retry_after_ms = reset_at
                    .map(|t| t.saturating_duration_since(Instant::now()).as_millis() as u64);
                Err(e)
            }
        }
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
            st.reset_at = Some(Instant::now() + d);
        }
    }

    /// Knack refused a call because the daily limit is spent.
    pub fn mark_spent(&self, reset_in: Option<Duration>) {
        let mut st = self.lock();
        st.spent = true;
        st.remaining = Some(0);
        // Without a reset time, assume an hour before trying again.
        st.reset_at = Some(Instant::now() + reset_in.unwrap_or(Duration::from_secs(3600)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
