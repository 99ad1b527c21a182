//! knack-client: the pure-Rust core of knack-session (no napi).
//!
//! A [`Session`] is one Knack user's identity; all sessions of an app share one `App`
//! (`app.rs`: pooled HTTP client, rate governor, plan quota, metadata cache);
//! `transport::send` runs requests through it and `classify::classify` decides what follows
//! each attempt.

mod app;
mod bounds;
mod classify;
mod download;
mod error;
mod events;
mod filters;
mod governor;
mod input;
mod log;
mod metadata;
mod outcome;
mod paging;
mod quota;
mod refusal;
mod report;
mod response;
mod retry;
mod schema;
mod sealed;
mod secret;
mod service;
mod session;
mod shape;
mod store;
mod timezone;
mod tls;
mod token;
mod transport;
mod upload;
mod validate;
mod views;

// The curated surface: what the binding (`src/`) and users of the core need. Everything else
// is crate-private; the fuzz targets and hygiene tests reach parsers through `internals`.
pub use app::{AppOptions, AppStats};
pub use bounds::Bound;
pub use download::{AssetRef, Downloaded, Sink};
pub use error::{Error, ErrorCode, FieldError, Result};
pub use events::{set_sink as set_event_sink, Event, Kind as EventKind};
pub use log::{level_named as log_level_named, set_level as set_log_level, Level as LogLevel};
pub use outcome::Outcome;
pub use paging::{Pager, PagingOptions, PagingSummary};
pub use quota::PlanSnapshot;
pub use report::ReportQuery;
pub use retry::RetryPolicy;
pub use sealed::{is_strong_secret, KeyRing, MIN_SECRET_LEN};
pub use secret::Secret;
pub use session::{CallOptions, Session, SessionConfig, SessionState, UserInfo};
pub use shape::{Shape, ShapeSpec};
pub use store::{
    is_session_id, FileStore, MemoryStore, RedisConn, RedisStore, RedisTarget, SentinelSpec,
    DEFAULT_MAX_ENTRIES,
};
pub use token::to_millis;
pub use tokio_util::sync::CancellationToken;
pub use transport::CallPolicy;
pub use upload::{clean_filename, AssetKind, Upload, UploadMeta, UploadSource};
pub use views::{ListQuery, ViewRef};

/// Entry points into parsing and encoding that the public API only reaches through the
/// network: for the fuzz targets (`fuzz/`) and the property and hygiene tests. Not a stable
/// API.
#[doc(hidden)]
pub mod internals {
    pub use crate::app::App;
    pub use crate::classify::{classify, Ending, Facts, Next, Verdict, Wait};
    pub use crate::governor::redis::WindowKeys;
    pub use crate::schema::Schema;
    pub use crate::sealed::seal_bytes;
    pub use crate::transport::{request_url, send, Call, Progress, Reply};

    pub mod filters {
        pub use crate::filters::{encode_component, to_json};
    }
    pub mod shape {
        pub use crate::input::labels_to_fields;
        pub use crate::shape::{Found, Shaper};
    }
    pub mod response {
        pub use crate::response::{deleted, knack_errors, list_page, single_record, summary};
    }
    pub mod sealed {
        pub use crate::sealed::{open, seal, seal_bytes};
    }
    pub mod token {
        pub use crate::token::{expires_at, to_millis, Claims};
    }
    pub mod validate {
        pub use crate::validate::*;
    }

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
