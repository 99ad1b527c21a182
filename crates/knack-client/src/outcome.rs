//! What a request did at Knack, as far as the client can know: the one decision behind
//! every error's `outcome` and bulk results' `attempted` flag.
//!
//! - `NotSent`: nothing reached Knack (failed before sending, or every attempt failed to
//!   connect). Safe to send again.
//! - `Rejected`: Knack answered and refused it (4xx, 429): nothing was changed.
//! - `Unknown`: an attempt may have reached Knack and its answer was lost (reset, timeout,
//!   5xx, or an attempt in flight when the call was aborted or its deadline passed). A write
//!   may have been applied.
//! - `Applied`: Knack answered 2xx, so it did what was asked, even if the answer itself was
//!   unusable. Sending a create again would duplicate it.

use serde::Serialize;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    #[serde(rename = "not-sent")]
    NotSent,
    #[serde(rename = "rejected")]
    Rejected,
    #[serde(rename = "unknown")]
    Unknown,
    #[serde(rename = "applied")]
    Applied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NotSent => "not-sent",
            Outcome::Rejected => "rejected",
            Outcome::Unknown => "unknown",
            Outcome::Applied => "applied",
        }
    }

    /// The sentence a write's error message ends with, if any.
    pub fn write_note(self) -> Option<&'static str> {
        match self {
            Outcome::Unknown => Some("the write may have been applied"),
            Outcome::Applied => Some(
                "Knack applied the write, but its answer could not be used: do not send it again",
            ),
            Outcome::NotSent | Outcome::Rejected => None,
        }
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEnd {
    /// The connection could not be made: nothing was sent.
    NotSent,
    /// Knack refused it without processing (429) or with an error (4xx).
    Rejected,
    /// It may have reached Knack; its answer was lost (reset, timeout, 5xx).
    Unknown,
    /// A 2xx answer.
    Answered,
}

/// The outcome of a whole call from its attempts: whether any earlier attempt ended
/// unknown, how the last one ended (`None`: no attempt was made), and whether the last one
/// was still in flight when the call was cut off.
pub fn decide(earlier_unknown: bool, last: Option<AttemptEnd>, in_flight: bool) -> Outcome {
    if in_flight {
        return Outcome::Unknown;
    }
    match last {
        Some(AttemptEnd::Answered) => Outcome::Applied,
        _ if earlier_unknown => Outcome::Unknown,
        Some(AttemptEnd::Unknown) => Outcome::Unknown,
        Some(AttemptEnd::Rejected) => Outcome::Rejected,
        Some(AttemptEnd::NotSent) | None => Outcome::NotSent,
    }
}

/// The attempts of one call so far; read when the call ends or is cut off.
#[derive(Debug, Default)]
pub struct AttemptLog {
    state: Mutex<LogState>,
}

#[derive(Debug, Default, Clone, Copy)]
struct LogState {
    earlier_unknown: bool,
    last: Option<AttemptEnd>,
    in_flight: bool,
}

impl AttemptLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start over for a new request of the same operation.
    pub fn reset(&self) {
        *self.lock() = LogState::default();
    }

    /// An attempt is being sent.
    pub fn begin(&self) {
        let mut st = self.lock();
        if st.last == Some(AttemptEnd::Unknown) {
            st.earlier_unknown = true;
        }
        st.in_flight = true;
    }

    /// The attempt ended so.
    pub fn end(&self, how: AttemptEnd) {
        let mut st = self.lock();
        st.in_flight = false;
        st.last = Some(how);
    }

    /// Whether an attempt before the last one ended unknown (or the last one did).
    pub fn any_unknown_before_last(&self) -> bool {
        self.lock().earlier_unknown
    }

    pub fn outcome(&self) -> Outcome {
        let st = *self.lock();
        decide(st.earlier_unknown, st.last, st.in_flight)
    }
}

#[cfg(test)]
mod tests {
    use super::AttemptEnd::*;
    use super::*;

    #[test]
    fn the_outcome_of_a_call_follows_from_its_attempts() {
        // (earlier attempt ended unknown, last attempt, last in flight) -> outcome
        let table = [
            (false, None, false, Outcome::NotSent),
            (false, Some(NotSent), false, Outcome::NotSent),
            (false, Some(Rejected), false, Outcome::Rejected),
            (false, Some(Unknown), false, Outcome::Unknown),
            (false, Some(Answered), false, Outcome::Applied),
            // A retry after a lost answer: whatever the retry says, the first may have applied.
            (true, Some(NotSent), false, Outcome::Unknown),
            (true, Some(Rejected), false, Outcome::Unknown),
            (true, Some(Unknown), false, Outcome::Unknown),
            // ... unless the retry was answered 2xx: then it is applied.
            (true, Some(Answered), false, Outcome::Applied),
            // Cut off while an attempt was on the wire.
            (false, None, true, Outcome::Unknown),
            (false, Some(NotSent), true, Outcome::Unknown),
        ];
        for (earlier, last, in_flight, want) in table {
            assert_eq!(
                decide(earlier, last, in_flight),
                want,
                "{earlier} {last:?} {in_flight}"
            );
        }
    }

    #[test]
    fn the_log_remembers_an_unknown_attempt_across_retries() {
        let log = AttemptLog::default();
        assert_eq!(log.outcome(), Outcome::NotSent);
        log.begin();
        assert_eq!(log.outcome(), Outcome::Unknown);
        log.end(NotSent);
        assert_eq!(log.outcome(), Outcome::NotSent);
        log.begin();
        log.end(Unknown);
        log.begin();
        log.end(Rejected);
        assert!(log.any_unknown_before_last());
        assert_eq!(log.outcome(), Outcome::Unknown);
    }

    #[test]
    fn only_unknown_and_applied_writes_carry_a_note() {
        assert!(Outcome::NotSent.write_note().is_none());
        assert!(Outcome::Rejected.write_note().is_none());
        assert!(Outcome::Unknown.write_note().unwrap().contains("may have"));
        assert!(Outcome::Applied.write_note().unwrap().contains("applied"));
        assert_eq!(Outcome::NotSent.as_str(), "not-sent");
    }
}
