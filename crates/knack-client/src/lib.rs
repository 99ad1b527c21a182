//! knack-client: the pure-Rust core of knack-session (no napi).
//!
//! A [`session::Session`] is one Knack user's identity; all sessions of an app share one
//! [`app::App`] (pooled HTTP client, rate governor, plan quota, metadata cache);
//! [`transport::send`] runs requests through it and [`classify::classify`] decides each
//! attempt's fate.

pub mod app;
pub mod classify;
pub mod error;
pub mod filters;
pub mod governor;
pub mod log;
pub mod metadata;
pub mod outcome;
pub mod paging;
pub mod quota;
pub mod response;
pub mod retry;
pub mod sealed;
pub mod secret;
pub mod session;
pub mod store;
pub mod token;
pub mod transport;
pub mod validate;
pub mod views;

pub use error::{Error, ErrorCode, FieldError, Result};

/// Entry points into parsing and encoding that the public API only reaches through the
/// network: for the fuzz targets (`fuzz/`) and the property and hygiene tests. Not a stable
/// API.
#[doc(hidden)]
pub mod internals {
    pub use crate::sealed::seal_bytes;
    use crate::session::UserInfo;
    use crate::{Result, Secret};
    use bytes::Bytes;

    /// Parse a login answer as `Session::login` does (the token is wiped, not returned).
    pub fn parse_login_answer(body: &[u8]) -> Result<UserInfo> {
        crate::session::parse_login_answer(body)
    }

    /// Parse a token-check answer as `Session::validate` does: the JSON for JS and the user.
    pub fn parse_token_answer(body: &[u8]) -> Result<(String, UserInfo)> {
        crate::session::parse_token_answer(body)
    }

    /// The login request body, in memory wiped when the last clone is dropped.
    pub fn login_body(email: &str, password: &Secret, remember: bool) -> Result<Bytes> {
        crate::session::login_body(email, password, remember)
    }
}
pub use secret::Secret;
pub use session::{CallOptions, Session, SessionConfig};
pub use tokio_util::sync::CancellationToken;
