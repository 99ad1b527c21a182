//! knack-client: the pure-Rust core of knack-session (no napi).
//!
//! A [`session::Session`] is one Knack user's identity; all sessions of an app share one
//! [`transport::Transport`] (pooled HTTP client, rate governor, plan quota, metadata cache).

pub mod error;
pub mod filters;
pub mod governor;
pub mod log;
pub mod metadata;
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
pub use secret::Secret;
pub use session::{CallOptions, Session, SessionConfig};
pub use tokio_util::sync::CancellationToken;
