//! When to try a request again, and how long to wait first.
//!
//! The rule that keeps writes from being duplicated: a request that may have changed data
//! (POST creates a record) is retried only when Knack certainly did not process it: a 429,
//! or a connection that failed before the request was sent. GET, PUT and DELETE are
//! idempotent and are also retried after 5xx, timeouts and connection resets.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts, including the first (1 = no retries).
    pub max_attempts: u32,
    /// First backoff step; doubles each retry.
    pub base_delay: Duration,
    /// Largest single backoff.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
        }
    }
}

/// What happened on one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 429 with the rate limit (not the daily one).
    RateLimited,
    /// 5xx answer.
    Server,
    /// The connection could not be made: nothing was sent.
    Connect,
    /// The request may have reached Knack (reset, truncated answer, ...).
    AfterSend,
    /// The per-attempt timeout passed.
    Timeout,
}

impl RetryPolicy {
    pub fn should_retry(&self, failure: Failure, idempotent: bool, attempt: u32) -> bool {
        if attempt >= self.max_attempts {
            return false;
        }
        match failure {
            Failure::RateLimited | Failure::Connect => true,
            Failure::Server | Failure::AfterSend | Failure::Timeout => idempotent,
        }
    }

    /// Jittered exponential backoff before attempt `attempt + 1`: a random point in the
    /// upper half of `base * 2^(attempt-1)`, capped at `max_delay`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let half = full / 2;
        let jitter_ms = half.as_millis() as u64;
        let r = if jitter_ms == 0 {
            0
        } else {
            getrandom::u64().unwrap_or(0) % (jitter_ms + 1)
        };
        half + Duration::from_millis(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_are_retried_only_when_knack_certainly_did_not_process_them() {
        let p = RetryPolicy::default();
        assert!(p.should_retry(Failure::RateLimited, false, 1));
        assert!(p.should_retry(Failure::Connect, false, 1));
        assert!(!p.should_retry(Failure::Server, false, 1));
        assert!(!p.should_retry(Failure::AfterSend, false, 1));
        assert!(!p.should_retry(Failure::Timeout, false, 1));
        for f in [Failure::Server, Failure::AfterSend, Failure::Timeout] {
            assert!(p.should_retry(f, true, 1));
        }
        assert!(!p.should_retry(Failure::Server, true, 4));
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let p = RetryPolicy::default();
        for _ in 0..50 {
            let d1 = p.backoff(1);
            assert!(d1 >= Duration::from_millis(125) && d1 <= Duration::from_millis(250));
            let d3 = p.backoff(3);
            assert!(d3 >= Duration::from_millis(500) && d3 <= Duration::from_millis(1000));
            assert!(p.backoff(30) <= Duration::from_secs(8));
        }
    }
}
