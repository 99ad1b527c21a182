//! Startup configuration and the switches that `/_fake/config` can change at run time.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::Error;
use crate::fixture::Fixture;

/// Rate-limit window kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Wall-clock one-second windows (Knack's documented behaviour).
    #[default]
    Fixed,
    /// Any one-second interval.
    Sliding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub per_second: u32,
    #[serde(default)]
    pub window: Window,
}

/// Shape of view-based POST/PUT responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WriteResponse {
    /// `{"record": {...}}` (what production view-based clients read: `resp.record.id`)
    #[default]
    Wrapped,
    /// The record at top level.
    Bare,
}

/// Body of a 429 for the per-second rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitBody {
    /// `Rate limit exceeded` as text/plain (the docs' words; the body was never captured).
    #[default]
    Text,
    /// `{"errors":[{"message":"Rate limit exceeded"}]}`
    Json,
}

/// How the errors that real Knack answers in text/html are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ErrorBodies {
    /// As recorded: `Malformed Record Key: <id>` (400), `Invalid API Key` (401) and
    /// `Internal Server Error` (500, another app's id) as `text/html; charset=utf-8`.
    #[default]
    Recorded,
    /// The same statuses with `{"errors":[{"message":...}]}` bodies.
    Json,
}

/// Status and body answered to a failed login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginError {
    pub status: u16,
    #[serde(default = "default_login_error_body")]
    pub body: Value,
}

fn default_login_error_body() -> Value {
    json!({"errors": [{"message": "Email or password incorrect."}]})
}

impl Default for LoginError {
    fn default() -> Self {
        LoginError {
            status: 401,
            body: default_login_error_body(),
        }
    }
}

/// Every behaviour the real service leaves unknown, plus limits and latency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Switches {
    pub login_error: LoginError,
    pub token_error_status: u16,
    pub not_found_status: u16,
    pub unsupported_status: u16,
    pub write_response: WriteResponse,
    pub rate_limit_body: RateLimitBody,
    pub error_bodies: ErrorBodies,
    /// Echo `current_page` as the string the query gave (as recorded) instead of a number.
    pub current_page_string: bool,
    pub overstate_total_records: u64,
    /// `None` = no rate limit.
    pub rate_limit: Option<RateLimit>,
    /// `None` = unlimited (headers show 1000000).
    pub daily_limit: Option<u64>,
    pub latency_ms: u64,
    /// Largest upload request body (the whole multipart body); more -> 413.
    #[serde(default = "default_max_upload")]
    pub max_upload_bytes: u64,
    /// Downloads answer 302 to the asset host (a second port) instead of the bytes.
    #[serde(default)]
    pub asset_host: bool,
}

/// Default `max_upload_bytes`: 2 GiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 2 << 30;

fn default_max_upload() -> u64 {
    DEFAULT_MAX_UPLOAD_BYTES
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            login_error: LoginError::default(),
            token_error_status: 403,
            not_found_status: 404,
            unsupported_status: 400,
            write_response: WriteResponse::Wrapped,
            rate_limit_body: RateLimitBody::Text,
            error_bodies: ErrorBodies::Recorded,
            current_page_string: true,
            overstate_total_records: 0,
            rate_limit: Some(RateLimit {
                per_second: 10,
                window: Window::Fixed,
            }),
            daily_limit: Some(25_000),
            latency_ms: 0,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            asset_host: false,
        }
    }
}

fn status(v: &Value, key: &str) -> Result<u16, String> {
    let n = v
        .as_u64()
        .filter(|n| (100..=599).contains(n))
        .ok_or_else(|| format!("{key} must be an HTTP status (100-599)"))?;
    Ok(n as u16)
}

fn typed<T: serde::de::DeserializeOwned>(v: &Value, key: &str) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("invalid {key}: {e}"))
}

impl Switches {
    /// Applies a partial object of switches (the body of `POST /_fake/config`). Nothing is
    /// changed if any key is unknown or invalid.
    pub fn apply_patch(&self, patch: &Map<String, Value>) -> Result<Switches, String> {
        let mut s = self.clone();
        for (k, v) in patch {
            match k.as_str() {
                "login_error" => {
                    let le: LoginError = typed(v, k)?;
                    status(&json!(le.status), "login_error.status")?;
                    s.login_error = le;
                }
                "token_error_status" => s.token_error_status = status(v, k)?,
                "not_found_status" => s.not_found_status = status(v, k)?,
                "unsupported_status" => s.unsupported_status = status(v, k)?,
                "write_response" => s.write_response = typed(v, k)?,
                "rate_limit_body" => s.rate_limit_body = typed(v, k)?,
                "error_bodies" => s.error_bodies = typed(v, k)?,
                "current_page_string" => s.current_page_string = typed(v, k)?,
                "overstate_total_records" => s.overstate_total_records = typed(v, k)?,
                "rate_limit" => {
                    let rl: Option<RateLimit> = typed(v, k)?;
                    if rl.is_some_and(|r| r.per_second == 0) {
                        return Err("rate_limit.per_second must be at least 1".into());
                    }
                    s.rate_limit = rl;
                }
                "daily_limit" => s.daily_limit = typed(v, k)?,
                "latency_ms" => s.latency_ms = typed(v, k)?,
                "max_upload_bytes" => s.max_upload_bytes = typed(v, k)?,
                "asset_host" => s.asset_host = typed(v, k)?,
                other => return Err(format!("Unknown switch: {other}")),
            }
        }
        Ok(s)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum FixtureSource {
    Path(PathBuf),
    Parsed(Box<Fixture>),
}

/// How to start a fake server. Build with [`FakeConfig::helpdesk`],
/// [`FakeConfig::from_fixture_path`] or [`FakeConfig::from_fixture`], then chain setters.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub(crate) fixture: FixtureSource,
    pub(crate) port: u16,
    pub(crate) switches: Switches,
    pub(crate) seed_tickets: usize,
    pub(crate) tls: bool,
}

impl Default for FakeConfig {
    /// The helpdesk fixture with the default switches.
    fn default() -> Self {
        FakeConfig::helpdesk()
    }
}

impl FakeConfig {
    /// The repository's `fixtures/helpdesk.json`.
    pub fn helpdesk() -> FakeConfig {
        FakeConfig::from_fixture_path(helpdesk_fixture_path())
    }

    pub fn from_fixture_path(path: impl Into<PathBuf>) -> FakeConfig {
        FakeConfig::with_source(FixtureSource::Path(path.into()))
    }

    pub fn from_fixture(fixture: Fixture) -> FakeConfig {
        FakeConfig::with_source(FixtureSource::Parsed(Box::new(fixture)))
    }

    fn with_source(fixture: FixtureSource) -> FakeConfig {
        FakeConfig {
            fixture,
            port: 0,
            switches: Switches::default(),
            seed_tickets: 0,
            tls: false,
        }
    }

    /// Port to bind on 127.0.0.1 (0 = any free port, the default).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Requests per second, `None` = off (default `Some(10)`).
    pub fn rate_limit(mut self, per_second: Option<u32>) -> Self {
        let window = self
            .switches
            .rate_limit
            .map(|r| r.window)
            .unwrap_or_default();
        self.switches.rate_limit = per_second.map(|n| RateLimit {
            per_second: n.max(1),
            window,
        });
        self
    }

    /// Window kind of the rate limit (keeps the current per-second value, 10 if it was off).
    pub fn rate_window(mut self, window: Window) -> Self {
        let per_second = self.switches.rate_limit.map(|r| r.per_second).unwrap_or(10);
        self.switches.rate_limit = Some(RateLimit { per_second, window });
        self
    }

    /// Daily plan limit, `None` = unlimited (default `Some(25000)`).
    pub fn daily_limit(mut self, limit: Option<u64>) -> Self {
        self.switches.daily_limit = limit;
        self
    }

    /// Generated tickets added at start and on every reset (see the fixture's `seed_tickets`).
    pub fn seed_tickets(mut self, n: usize) -> Self {
        self.seed_tickets = n;
        self
    }

    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.switches.latency_ms = ms;
        self
    }

    pub fn login_error(mut self, status: u16, body: Value) -> Self {
        self.switches.login_error = LoginError { status, body };
        self
    }

    pub fn token_error_status(mut self, status: u16) -> Self {
        self.switches.token_error_status = status;
        self
    }

    pub fn not_found_status(mut self, status: u16) -> Self {
        self.switches.not_found_status = status;
        self
    }

    pub fn unsupported_status(mut self, status: u16) -> Self {
        self.switches.unsupported_status = status;
        self
    }

    pub fn write_response(mut self, shape: WriteResponse) -> Self {
        self.switches.write_response = shape;
        self
    }

    pub fn overstate_total_records(mut self, n: u64) -> Self {
        self.switches.overstate_total_records = n;
        self
    }

    /// Serve HTTPS (HTTP/2 or HTTP/1.1 by ALPN) with a certificate from a test CA made at
    /// start ([`crate::RunningServer::ca_pem`]), as real Knack is HTTPS only.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Largest upload request body in bytes (default 2 GiB); a larger one gets a 413.
    pub fn max_upload_bytes(mut self, n: u64) -> Self {
        self.switches.max_upload_bytes = n;
        self
    }

    /// Downloads redirect (302) to the asset host, which refuses credentials (default off).
    pub fn asset_host(mut self, on: bool) -> Self {
        self.switches.asset_host = on;
        self
    }

    /// Replaces every switch at once.
    pub fn switches(mut self, switches: Switches) -> Self {
        self.switches = switches;
        self
    }

    pub fn current_switches(&self) -> &Switches {
        &self.switches
    }

    pub(crate) fn load_fixture(&self) -> Result<Fixture, Error> {
        match &self.fixture {
            FixtureSource::Path(p) => Fixture::load(p),
            FixtureSource::Parsed(f) => Ok((**f).clone()),
        }
    }
}

/// Absolute path of the repository's helpdesk fixture.
pub fn helpdesk_fixture_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/helpdesk.json"
    ))
}
