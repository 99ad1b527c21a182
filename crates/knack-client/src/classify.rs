//! The one decision behind every request: after an attempt, hand the answer back, try
//! again, or fail, and, for a failure, what the request did at Knack (whether a write may
//! have been applied). Pure: no I/O, no clock, no state; `transport::send` carries the
//! verdict out. The table test below is the outcome table of `docs/design.md`.
//!
//! The rule that keeps writes from being duplicated: a request that is not idempotent (POST
//! creates a record) is retried only when Knack certainly did not process it: a 429 (rate),
//! or a connection that failed before the request was sent. GET, PUT and DELETE are also
//! retried after 5xx, timeouts and connection resets.

use crate::error::ErrorCode;
use crate::outcome::{decide, AttemptEnd, Outcome};

/// How one attempt ended, as far as the decision goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// A complete answer. `daily`: a 429 saying the plan's daily limit is spent
    /// (`X-PlanLimit-Remaining: 0`, or "daily"/"plan limit" in its body).
    Answer { status: u16, daily: bool },
    /// The attempt could not be completed for a reason retrying cannot fix (an answer over
    /// `maxBodyBytes`, a header value that cannot be sent). `status`: the answer's, if one
    /// came (`None`: nothing was sent). `code`: the error it makes.
    Unusable {
        status: Option<u16>,
        code: ErrorCode,
    },
    /// The connection could not be made: nothing was sent.
    Connect,
    /// The request may have reached Knack and its answer was lost (reset, truncated).
    AfterSend,
    /// The per-attempt timeout passed.
    Timeout,
}

/// What is known of the call when an attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// Safe to repeat after an answer may have been lost.
    pub idempotent: bool,
    /// The attempt that just ended, from 1.
    pub attempt: u32,
    /// Total attempts allowed, including the first.
    pub max_attempts: u32,
    /// An earlier attempt of this request ended unknown (it may have been applied).
    pub earlier_unknown: bool,
}

/// How long to wait before the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The retry policy's jittered backoff.
    Backoff,
    /// None of its own: the governor already holds every request until Knack's window passes.
    KnacksWindow,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Give the answer to the caller (2xx; 4xx other than 429, which the caller maps).
    Done,
    /// Send the request again.
    Retry(Wait),
    /// Give up with an error of `code`; `outcome` says what the request did at Knack.
    Fail { code: ErrorCode, outcome: Outcome },
}

/// The decision after one attempt: how the attempt ended (for the attempt log) and what next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub end: AttemptEnd,
    pub next: Next,
}

/// Decide what follows an attempt that ended so.
pub fn classify(ending: Ending, call: &Facts) -> Verdict {
    let budget = call.attempt < call.max_attempts;
    // (how the attempt ended, what to do if the call may go on, the error otherwise)
    let (end, retry, code) = match ending {
        Ending::Answer { status: 429, daily } => {
            let code = if daily {
                ErrorCode::DailyLimit
            } else {
                ErrorCode::RateLimited
            };
            // Knack refused it unprocessed; a spent daily limit stays spent.
            (
                AttemptEnd::Rejected,
                (!daily).then_some(Wait::KnacksWindow),
                Some(code),
            )
        }
        Ending::Answer {
            status: 500..=599, ..
        } => (
            AttemptEnd::Unknown,
            call.idempotent.then_some(Wait::Backoff),
            Some(ErrorCode::ServerError),
        ),
        // Redirects are refused: a redirect must never carry the user's token elsewhere.
        Ending::Answer {
            status: 300..=399, ..
        } => (AttemptEnd::Rejected, None, Some(ErrorCode::BadResponse)),
        Ending::Answer { status, .. } => (answered(status), None, None),
        Ending::Unusable { status, code } => (
            status.map_or(AttemptEnd::NotSent, answered),
            None,
            Some(code),
        ),
        Ending::Connect => (
            AttemptEnd::NotSent,
            Some(Wait::Backoff),
            Some(ErrorCode::Network),
        ),
        Ending::AfterSend => (
            AttemptEnd::Unknown,
            call.idempotent.then_some(Wait::Backoff),
            Some(ErrorCode::Network),
        ),
        Ending::Timeout => (
            AttemptEnd::Unknown,
            call.idempotent.then_some(Wait::Backoff),
            Some(ErrorCode::Timeout),
        ),
    };
    let next = match (code, retry) {
        (None, _) => Next::Done,
        (Some(_), Some(wait)) if budget => Next::Retry(wait),
        (Some(code), _) => Next::Fail {
            code,
            outcome: decide(call.earlier_unknown, Some(end), false),
        },
    };
    Verdict { end, next }
}

fn answered(status: u16) -> AttemptEnd {
    if (200..300).contains(&status) {
        AttemptEnd::Answered
    } else {
        AttemptEnd::Rejected
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode::*;
    use super::Next::*;
    use super::Outcome::*;
    use super::Wait::*;
    use super::*;

    fn facts(idempotent: bool, attempt: u32) -> Facts {
        Facts {
            idempotent,
            attempt,
            max_attempts: 4,
            earlier_unknown: false,
        }
    }

    const fn answer(status: u16) -> Ending {
        Ending::Answer {
            status,
            daily: false,
        }
    }

    const fn fail(code: ErrorCode, outcome: Outcome) -> Next {
        Fail { code, outcome }
    }

    /// The outcome table of docs/design.md, row by row: (row, ending, GET/PUT/DELETE, POST),
    /// on a first attempt with retries left.
    #[test]
    fn the_outcome_table_of_the_design() {
        let too_large = Ending::Unusable {
            status: Some(200),
            code: BadResponse,
        };
        let table: [(&str, Ending, Next, Next); 12] = [
            ("2xx", answer(200), Done, Done),
            ("4xx (not 429)", answer(404), Done, Done),
            ("4xx validation", answer(400), Done, Done),
            (
                "429 (rate)",
                answer(429),
                Retry(KnacksWindow),
                Retry(KnacksWindow),
            ),
            (
                "429 (daily)",
                Ending::Answer {
                    status: 429,
                    daily: true,
                },
                fail(DailyLimit, Rejected),
                fail(DailyLimit, Rejected),
            ),
            (
                "5xx",
                answer(503),
                Retry(Backoff),
                fail(ServerError, Unknown),
            ),
            (
                "connect failure (nothing sent)",
                Ending::Connect,
                Retry(Backoff),
                Retry(Backoff),
            ),
            (
                "reset, truncated body",
                Ending::AfterSend,
                Retry(Backoff),
                fail(Network, Unknown),
            ),
            (
                "per-attempt timeout",
                Ending::Timeout,
                Retry(Backoff),
                fail(Timeout, Unknown),
            ),
            (
                "3xx",
                answer(302),
                fail(BadResponse, Rejected),
                fail(BadResponse, Rejected),
            ),
            // A 2xx whose body is over maxBodyBytes: Knack did it; never sent again.
            (
                "2xx too large",
                too_large,
                fail(BadResponse, Applied),
                fail(BadResponse, Applied),
            ),
            (
                "refused before sending",
                Ending::Unusable {
                    status: None,
                    code: InvalidArgument,
                },
                fail(InvalidArgument, NotSent),
                fail(InvalidArgument, NotSent),
            ),
        ];
        for (row, ending, idempotent, post) in table {
            assert_eq!(
                classify(ending, &facts(true, 1)).next,
                idempotent,
                "{row}, GET/PUT/DELETE"
            );
            assert_eq!(classify(ending, &facts(false, 1)).next, post, "{row}, POST");
        }
    }

    #[test]
    fn the_last_attempt_fails_with_what_it_did() {
        let last = facts(true, 4);
        let table = [
            (answer(429), fail(RateLimited, Rejected)),
            (answer(500), fail(ServerError, Unknown)),
            (Ending::Connect, fail(Network, NotSent)),
            (Ending::AfterSend, fail(Network, Unknown)),
            (Ending::Timeout, fail(Timeout, Unknown)),
            (answer(201), Done),
        ];
        for (ending, want) in table {
            assert_eq!(classify(ending, &last).next, want, "{ending:?}");
        }
    }

    /// The defect of the hostile review: a retry that ends in a plain refusal must not hide
    /// that an earlier attempt may have been applied.
    #[test]
    fn a_failure_after_an_unknown_attempt_stays_unknown() {
        let after_unknown = Facts {
            earlier_unknown: true,
            ..facts(true, 4)
        };
        for ending in [answer(429), Ending::Connect, answer(302)] {
            let Fail { outcome, .. } = classify(ending, &after_unknown).next else {
                panic!("{ending:?} should fail on the last attempt");
            };
            assert_eq!(outcome, Unknown, "{ending:?}");
        }
        let too_large = Ending::Unusable {
            status: Some(201),
            code: BadResponse,
        };
        assert_eq!(
            classify(too_large, &after_unknown).next,
            fail(BadResponse, Applied),
            "a 2xx answer settles it: applied"
        );
    }

    #[test]
    fn each_attempt_is_logged_as_it_ended() {
        let table = [
            (answer(200), AttemptEnd::Answered),
            (answer(422), AttemptEnd::Rejected),
            (answer(429), AttemptEnd::Rejected),
            (answer(502), AttemptEnd::Unknown),
            (Ending::Connect, AttemptEnd::NotSent),
            (Ending::AfterSend, AttemptEnd::Unknown),
            (Ending::Timeout, AttemptEnd::Unknown),
        ];
        for (ending, end) in table {
            for idempotent in [true, false] {
                assert_eq!(
                    classify(ending, &facts(idempotent, 1)).end,
                    end,
                    "{ending:?}"
                );
            }
        }
    }
}
