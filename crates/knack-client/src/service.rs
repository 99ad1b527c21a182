//! Service sessions: one Knack user that a job or a server acts as, kept logged in. The
//! session logs in again before its token expires and whenever Knack refuses the token, one
//! login for all the calls that need it (single-flight), and then sends again only the calls
//! Knack refused (their outcome is known: not applied). The password stays here, in a
//! [`Secret`] (wiped when the session goes).
//!
//! The decisions are two functions with table tests: [`replay_after_login`] (send a refused
//! call again after logging in) and [`due`] (log in again before sending).

use crate::error::ErrorCode;
use crate::outcome::Outcome;
use crate::secret::Secret;
use crate::session::SessionConfig;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

/// Log in again when the token has less than this left (a long export must not start a
/// request with a token about to lapse).
pub const RENEW_BEFORE: Duration = Duration::from_secs(10 * 60);

/// What a service session needs to log in again.
pub struct Credentials {
    pub config: SessionConfig,
    pub email: String,
    pub password: Secret,
    pub remember: bool,
    /// One login at a time; callers that waited see the login that was made meanwhile.
    pub turn: tokio::sync::Mutex<()>,
    /// Logins made after the first (renewals).
    pub renewals: AtomicU64,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &"[redacted]")
            .field("password", &self.password)
            .field("remember", &self.remember)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    pub fn new(config: &SessionConfig, email: &str, password: Secret, remember: bool) -> Self {
        Credentials {
            config: config.clone(),
            email: email.trim().to_owned(),
            password,
            remember,
            turn: tokio::sync::Mutex::new(()),
            renewals: AtomicU64::new(0),
        }
    }
}

/// Send a refused call again after logging in? Only when Knack refused the token itself
/// (expired, invalid, unauthorized) and the call is known not to have been applied: an
/// answer that refused it, with no earlier attempt whose outcome is unknown. A write whose
/// outcome is unknown is never sent again.
pub fn replay_after_login(code: ErrorCode, outcome: Outcome) -> bool {
    matches!(code, ErrorCode::TokenExpired | ErrorCode::Unauthorized)
        && matches!(outcome, Outcome::Rejected | Outcome::NotSent)
}

/// Log in again before sending: the token expires within [`RENEW_BEFORE`] of `now`.
pub fn due(expires_at: SystemTime, now: SystemTime) -> bool {
    now + RENEW_BEFORE >= expires_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_after_login_table() {
        use ErrorCode::*;
        use Outcome::*;
        let table = [
            (TokenExpired, Rejected, true),
            (Unauthorized, Rejected, true),
            (TokenExpired, NotSent, true),
            // A write Knack may have applied before the token was refused: never again.
            (TokenExpired, Unknown, false),
            (Unauthorized, Unknown, false),
            (Unauthorized, Applied, false),
            // Not about the token: a view the user may not use, bad input, limits.
            (Forbidden, Rejected, false),
            (NotFound, Rejected, false),
            (Validation, Rejected, false),
            (RateLimited, Rejected, false),
            (LoginFailed, Rejected, false),
            (Timeout, Unknown, false),
        ];
        for (code, outcome, want) in table {
            assert_eq!(
                replay_after_login(code, outcome),
                want,
                "{code:?} with outcome {outcome:?}"
            );
        }
    }

    #[test]
    fn due_table() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let table = [
            (Duration::from_secs(48 * 3600), false),
            (RENEW_BEFORE + Duration::from_secs(1), false),
            (RENEW_BEFORE, true),
            (Duration::from_secs(1), true),
            (Duration::ZERO, true),
        ];
        for (left, want) in table {
            assert_eq!(due(t + left, t), want, "{left:?} left");
        }
        assert!(due(t, t + Duration::from_secs(3600)), "already expired");
    }
}
