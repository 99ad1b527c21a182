//! Errors of the library API (request handling never fails with these: bad input becomes a
//! Knack-style error response).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read fixture {path}: {source}")]
    ReadFixture {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid fixture JSON: {0}")]
    FixtureJson(#[from] serde_json::Error),
    #[error("invalid fixture: {0}")]
    Fixture(String),
    #[error("invalid fixture: {0}")]
    Recorded(#[from] crate::recorded::RecordedError),
    #[error("cannot bind 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("unknown user {0}")]
    UnknownUser(String),
    #[error("unknown object {0}")]
    UnknownObject(String),
}
