//! How many attempts a request gets and how long to wait between them. Whether an attempt
//! is retried at all is decided by `classify`.

use crate::bounds::Bound;
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

impl RetryPolicy {
    /// Retries after the first attempt (`max_attempts - 1`).
    pub const RETRIES: Bound = Bound::new("retries", 0, 20);

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
