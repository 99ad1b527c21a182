//! The one decision behind a call that Knack refused (a 4xx other than 429): which error
//! code it is, from the status and Knack's own words. Pure, with a table test.
//!
//! What real Knack answers (`knack-evidence.md` U2, U4): an expired or invalid token is a
//! **403** whose body says "Invalid token" (production clients test the body for "invalid
//! token" or "reauthenticate"), a user without access to the view is a 403 with another
//! message, a malformed record id is a text/html 400 `Malformed Record Key: <id>`.

use crate::error::ErrorCode;

/// What is known of a refused call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused<'a> {
    pub status: u16,
    /// Knack's message(s), joined; `None` when the body had none.
    pub message: Option<&'a str>,
    /// The session is past the shortest token lifetime (48 h): a rejected token has expired.
    pub maybe_expired: bool,
}

/// Knack's words for a token it no longer accepts.
fn says_token_invalid(lower: &str) -> bool {
    [
        "invalid token",
        "reauthenticate",
        "token expired",
        "expired token",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// The code of a refused call and the start of its message (Knack's words follow it).
pub fn refusal(r: Refused<'_>) -> (ErrorCode, &'static str) {
    let lower = r.message.unwrap_or_default().to_ascii_lowercase();
    let token_rejected = |why| {
        if r.maybe_expired || lower.contains("expired") {
            (
                ErrorCode::TokenExpired,
                "the token has expired; log in again",
            )
        } else {
            (ErrorCode::Unauthorized, why)
        }
    };
    match r.status {
        401 => token_rejected("Knack rejected the token; log in again"),
        403 if says_token_invalid(&lower) => {
            token_rejected("Knack rejected the token; log in again")
        }
        403 => (ErrorCode::Forbidden, "the user may not use this view"),
        400 if lower.contains("does not support this action") => (
            ErrorCode::UnsupportedAction,
            "the view does not allow this action (a form for creating or editing, a table with \
             inline editing or a delete link)",
        ),
        400 if lower.contains("_id is required") => (
            ErrorCode::ParentRequired,
            "the view is on a child page: pass parentRecordId",
        ),
        400 if lower.contains("malformed record key") || lower.contains("not found") => {
            (ErrorCode::NotFound, "not found")
        }
        400 | 422 => (ErrorCode::Validation, "Knack refused the data"),
        413 => (
            ErrorCode::Validation,
            "Knack refused the file or data as too large for the plan",
        ),
        404 | 410 => (ErrorCode::NotFound, "not found"),
        _ => (ErrorCode::BadResponse, "unexpected status"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorCode::*;

    #[test]
    fn every_refusal_gets_the_code_that_says_what_happened() {
        // (status, Knack's message, past 48 h, code)
        let table: &[(u16, Option<&str>, bool, ErrorCode)] = &[
            (
                403,
                Some("Invalid token provided. Please reauthenticate."),
                false,
                Unauthorized,
            ),
            (
                403,
                Some("Invalid token provided. Please reauthenticate."),
                true,
                TokenExpired,
            ),
            (403, Some("invalid token"), false, Unauthorized),
            (403, Some("Please reauthenticate"), false, Unauthorized),
            (
                403,
                Some("You are not authorized to access this view"),
                false,
                Forbidden,
            ),
            (
                403,
                Some("You are not authorized to access this view"),
                true,
                Forbidden,
            ),
            (403, None, false, Forbidden),
            (401, Some("Invalid token"), false, Unauthorized),
            (401, Some("Token expired"), false, TokenExpired),
            (401, None, true, TokenExpired),
            (401, Some("Invalid API Key"), false, Unauthorized),
            (400, Some("Malformed Record Key: 77777777"), false, NotFound),
            (400, Some("Record not found"), false, NotFound),
            (
                400,
                Some("This view does not support this action"),
                false,
                UnsupportedAction,
            ),
            (
                400,
                Some("ticket_id is required for this view"),
                false,
                ParentRequired,
            ),
            (400, Some("Subject is required."), false, Validation),
            (400, None, false, Validation),
            (422, Some("bad date"), false, Validation),
            (404, Some("Page not found"), false, NotFound),
            (404, None, false, NotFound),
            (410, None, false, NotFound),
            (413, Some("Payload Too Large"), false, Validation),
            (405, None, false, BadResponse),
            (418, Some("teapot"), false, BadResponse),
        ];
        for &(status, message, maybe_expired, code) in table {
            let got = refusal(Refused {
                status,
                message,
                maybe_expired,
            });
            assert_eq!(got.0, code, "{status} {message:?} expired={maybe_expired}");
        }
    }
}
