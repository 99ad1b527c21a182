//! The one error type of the core, with a stable machine-readable `code()`.
//!
//! Messages never contain secrets: they are built from fixed text, Knack's own
//! error messages and non-secret request facts (method, path).

use crate::outcome::Outcome;
use serde::Serialize;

/// Stable error codes, shared with the JS `KnackError.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ErrorCode {
    InvalidArgument,
    LoginFailed,
    TokenExpired,
    Unauthorized,
    Forbidden,
    NotFound,
    Validation,
    UnsupportedAction,
    ParentRequired,
    RateLimited,
    DailyLimit,
    ServerError,
    Timeout,
    Network,
    Aborted,
    BadResponse,
    Store,
}

impl ErrorCode {
    /// Every code, in declaration order (the binding exports them to JS as `errorCodes()`).
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::InvalidArgument,
        ErrorCode::LoginFailed,
        ErrorCode::TokenExpired,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Validation,
        ErrorCode::UnsupportedAction,
        ErrorCode::ParentRequired,
        ErrorCode::RateLimited,
        ErrorCode::DailyLimit,
        ErrorCode::ServerError,
        ErrorCode::Timeout,
        ErrorCode::Network,
        ErrorCode::Aborted,
        ErrorCode::BadResponse,
        ErrorCode::Store,
    ];

    /// The one spelling of each code (JS `KnackError.code`; `KNACK_INTERNAL` is the facade's).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "KNACK_INVALID_ARGUMENT",
            ErrorCode::LoginFailed => "KNACK_LOGIN_FAILED",
            ErrorCode::TokenExpired => "KNACK_TOKEN_EXPIRED",
            ErrorCode::Unauthorized => "KNACK_UNAUTHORIZED",
            ErrorCode::Forbidden => "KNACK_FORBIDDEN",
            ErrorCode::NotFound => "KNACK_NOT_FOUND",
            ErrorCode::Validation => "KNACK_VALIDATION",
            ErrorCode::UnsupportedAction => "KNACK_UNSUPPORTED_ACTION",
            ErrorCode::ParentRequired => "KNACK_PARENT_REQUIRED",
            ErrorCode::RateLimited => "KNACK_RATE_LIMITED",
            ErrorCode::DailyLimit => "KNACK_DAILY_LIMIT",
            ErrorCode::ServerError => "KNACK_SERVER_ERROR",
            ErrorCode::Timeout => "KNACK_TIMEOUT",
            ErrorCode::Network => "KNACK_NETWORK",
            ErrorCode::Aborted => "KNACK_ABORTED",
            ErrorCode::BadResponse => "KNACK_BAD_RESPONSE",
            ErrorCode::Store => "KNACK_STORE",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One item of Knack's `{"errors":[{field, type, message}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
pub struct FieldError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: String,
}

/// Every failure of the client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// HTTP status of the last response, when there was one.
    pub status: Option<u16>,
    /// Knack's field errors (validation) or messages.
    pub errors: Vec<FieldError>,
    /// For rate limits: how long Knack asked us to wait.
    pub retry_after_ms: Option<u64>,
    /// How many attempts were made (0 = failed before sending anything).
    pub attempts: u32,
    /// The HTTP method and path (no query, no host) of the failed request.
    pub request: Option<String>,
    /// What the request did at Knack (`None`: decided from `attempts`, see `outcome()`).
    pub outcome: Option<Outcome>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            status: None,
            errors: Vec::new(),
            retry_after_ms: None,
            attempts: 0,
            request: None,
            outcome: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    pub fn bad_response(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::BadResponse, message)
    }

    pub fn aborted() -> Self {
        Error::new(ErrorCode::Aborted, "the operation was aborted")
    }

    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    pub fn with_request(mut self, request: impl Into<String>) -> Self {
        self.request = Some(request.into());
        self
    }

    pub fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = Some(outcome);
        self
    }

    /// What the request did at Knack. Unset, it is `NotSent` when nothing was attempted and
    /// the cautious `Unknown` otherwise.
    pub fn outcome(&self) -> Outcome {
        self.outcome.unwrap_or(if self.attempts == 0 {
            Outcome::NotSent
        } else {
            Outcome::Unknown
        })
    }

    /// The facts of the request behind an error that came after it: attempts, label and
    /// outcome (a 2xx answer whose body could not be used means the request was applied).
    pub fn after_reply(self, attempts: u32, request: &str, outcome: Outcome) -> Self {
        self.with_attempts(attempts)
            .with_request(request)
            .with_outcome(outcome)
    }

    /// For a write: say in the message whether it may have been applied.
    pub fn for_write(mut self) -> Self {
        if let Some(note) = self.outcome().write_note() {
            if !self.message.contains(note) {
                self.message = format!("{} ({note})", self.message);
            }
        }
        self
    }

    /// The JSON payload that crosses into JS, where the facade turns it into a `KnackError`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Payload<'a> {
            code: &'static str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            status: Option<u16>,
            #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
            errors: &'a [FieldError],
            #[serde(skip_serializing_if = "Option::is_none")]
            retry_after_ms: Option<u64>,
            attempts: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            request: Option<&'a str>,
            outcome: &'static str,
        }
        serde_json::to_string(&Payload {
            code: self.code.as_str(),
            message: &self.message,
            status: self.status,
            errors: &self.errors,
            retry_after_ms: self.retry_after_ms,
            attempts: self.attempts,
            request: self.request.as_deref(),
            outcome: self.outcome().as_str(),
        })
        .unwrap_or_else(|_| format!("{{\"code\":\"{}\",\"message\":\"error\"}}", self.code))
    }
}
