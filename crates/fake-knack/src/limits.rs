//! Per-app rate limit (fixed or sliding one-second windows), daily plan limit, and the
//! `max_in_any_second` statistic.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::clock::MS_PER_DAY;
use crate::config::{RateLimit, Window};

/// Shown as `X-PlanLimit-Limit` when the daily limit is off.
pub const UNLIMITED_PLAN: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    RateLimited,
    DailyLimited,
}

/// Values for the limit headers of one response.
#[derive(Debug, Clone, Copy)]
pub struct LimitHeaders {
    pub plan_limit: u64,
    pub plan_remaining: u64,
    pub plan_reset_ms: i64,
    /// (limit, remaining, reset unix seconds)
    pub rate: Option<(u32, u32, i64)>,
}

#[derive(Debug, Default)]
pub struct Limits {
    /// Arrival instants of /v1 requests within the last second.
    arrivals: VecDeque<Instant>,
    pub max_in_any_second: u64,
    fixed_sec: i64,
    fixed_count: u32,
    /// Admitted request times (server clock ms) in the last second (sliding window).
    sliding: VecDeque<i64>,
    day: i64,
    used_today: u64,
}

impl Limits {
    pub fn new() -> Limits {
        Limits::default()
    }

    /// Records an arrival for `max_in_any_second`.
    pub fn note_arrival(&mut self, at: Instant) {
        while let Some(&front) = self.arrivals.front() {
            if at.duration_since(front) >= Duration::from_secs(1) {
                self.arrivals.pop_front();
            } else {
                break;
            }
        }
        self.arrivals.push_back(at);
        self.max_in_any_second = self.max_in_any_second.max(self.arrivals.len() as u64);
    }

    fn roll_day(&mut self, now_ms: i64) {
        let day = now_ms.div_euclid(MS_PER_DAY);
        if day != self.day {
            self.day = day;
            self.used_today = 0;
        }
    }

    pub fn plan_remaining(&mut self, now_ms: i64, daily: Option<u64>) -> u64 {
        self.roll_day(now_ms);
        daily
            .unwrap_or(UNLIMITED_PLAN)
            .saturating_sub(self.used_today)
    }

    /// Decides whether a counted request may proceed, and consumes quota if so.
    pub fn admit(
        &mut self,
        now_ms: i64,
        rate: Option<RateLimit>,
        daily: Option<u64>,
    ) -> (Verdict, LimitHeaders) {
        self.roll_day(now_ms);
        let plan_limit = daily.unwrap_or(UNLIMITED_PLAN);
        let plan_reset_ms = (self.day + 1) * MS_PER_DAY - now_ms;
        let mut verdict = Verdict::Ok;
        let mut rate_hdr = None;
        if let Some(rl) = rate {
            let limit = rl.per_second;
            match rl.window {
                Window::Fixed => {
                    let sec = now_ms.div_euclid(1000);
                    if sec != self.fixed_sec {
                        self.fixed_sec = sec;
                        self.fixed_count = 0;
                    }
                    if self.fixed_count < limit {
                        self.fixed_count += 1;
                    } else {
                        verdict = Verdict::RateLimited;
                    }
                    rate_hdr = Some((limit, limit.saturating_sub(self.fixed_count), sec + 1));
                }
                Window::Sliding => {
                    while let Some(&t) = self.sliding.front() {
                        if t <= now_ms - 1000 {
                            self.sliding.pop_front();
                        } else {
                            break;
                        }
                    }
                    // Keep the queue bounded if the limit was lowered.
                    while self.sliding.len() > limit as usize {
                        self.sliding.pop_front();
                    }
                    if (self.sliding.len() as u32) < limit {
                        self.sliding.push_back(now_ms);
                    } else {
                        verdict = Verdict::RateLimited;
                    }
                    let used = self.sliding.len() as u32;
                    let oldest = self.sliding.front().copied().unwrap_or(now_ms);
                    let reset = (oldest + 1000 + 999).div_euclid(1000);
                    rate_hdr = Some((limit, limit.saturating_sub(used), reset));
                }
            }
            if verdict == Verdict::RateLimited {
                rate_hdr = rate_hdr.map(|(l, _, r)| (l, 0, r));
            }
        }
        if verdict == Verdict::Ok {
            match daily {
                Some(limit) if self.used_today >= limit => verdict = Verdict::DailyLimited,
                _ => self.used_today += 1,
            }
        }
        let plan_remaining = plan_limit.saturating_sub(self.used_today);
        (
            verdict,
            LimitHeaders {
                plan_limit,
                plan_remaining,
                plan_reset_ms,
                rate: rate_hdr,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window() {
        let mut l = Limits::new();
        let rl = Some(RateLimit {
            per_second: 2,
            window: Window::Fixed,
        });
        let t = 1_700_000_000_000;
        assert_eq!(l.admit(t, rl, None).0, Verdict::Ok);
        assert_eq!(l.admit(t + 10, rl, None).0, Verdict::Ok);
        let (v, h) = l.admit(t + 20, rl, None);
        assert_eq!(v, Verdict::RateLimited);
        assert_eq!(h.rate, Some((2, 0, t / 1000 + 1)));
        assert_eq!(l.admit(t + 1000, rl, None).0, Verdict::Ok);
    }

    #[test]
    fn sliding_window() {
        let mut l = Limits::new();
        let rl = Some(RateLimit {
            per_second: 2,
            window: Window::Sliding,
        });
        let t = 1_700_000_000_500;
        assert_eq!(l.admit(t, rl, None).0, Verdict::Ok);
        assert_eq!(l.admit(t + 600, rl, None).0, Verdict::Ok);
        // A new wall-clock second, but only 500 ms after the first: still limited.
        assert_eq!(l.admit(t + 700, rl, None).0, Verdict::RateLimited);
        assert_eq!(l.admit(t + 1001, rl, None).0, Verdict::Ok);
    }

    #[test]
    fn daily_limit_and_reset() {
        let mut l = Limits::new();
        let t = 1_700_000_000_000;
        assert_eq!(l.admit(t, None, Some(1)).0, Verdict::Ok);
        let (v, h) = l.admit(t + 1, None, Some(1));
        assert_eq!(v, Verdict::DailyLimited);
        assert_eq!(h.plan_remaining, 0);
        assert_eq!(l.admit(t + MS_PER_DAY, None, Some(1)).0, Verdict::Ok);
    }
}
