//! fake-knack: a local fake of the Knack REST API (view-based records, login and tokens,
//! limits, uploads, metadata) with a test-control API under `/_fake/`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fake_knack::Error> {
//! use fake_knack::{FakeConfig, FakeKnack};
//! let server = FakeKnack::start(FakeConfig::helpdesk().rate_limit(None)).await?;
//! let base = format!("{}/v1", server.url());
//! let token = server.state().issue_token("alice@example.com", false);
//! # let _ = (base, token);
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The full contract is in `docs/fake-knack.md`.

mod asset_host;
mod assets;
mod auth;
mod body;
mod clock;
mod config;
mod control;
mod error;
mod faults;
mod filters;
mod fixture;
mod format;
mod ids;
mod json;
mod jwt;
mod limits;
mod metadata;
mod multipart;
mod reader;
mod recorded;
mod reports;
mod request;
mod schema;
mod seed;
mod server;
mod spool;
mod state;
mod store;
mod tls;
/// The test CA and server certificate (`--tls`), for clients' own TLS tests.
pub use tls::Tls;
mod tokens;
mod values;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use auth::INVALID_TOKEN;
pub use config::{
    helpdesk_fixture_path, ErrorBodies, FakeConfig, LoginError, RateLimit, RateLimitBody, Switches,
    Window, WriteResponse, DEFAULT_MAX_UPLOAD_BYTES,
};
pub use error::Error;
pub use faults::{Fault, FaultKind};
pub use fixture::Fixture;
pub use recorded::RecordedError;
pub use seed::SeedResult;
pub use state::{AssetLogEntry, FakeState, LogEntry, Stats};

/// Ids and credentials of the helpdesk fixture (`fixtures/helpdesk.json`).
pub mod helpdesk {
    pub const APP_ID: &str = "5f0c0ffee0c0ffee0c0ffee1";
    pub const ALICE_EMAIL: &str = "alice@example.com";
    pub const ALICE_PASSWORD: &str = "alice-pass-1";
    pub const ALICE_ID: &str = "000000000000000000000a11";
    pub const BOB_EMAIL: &str = "bob@example.com";
    pub const BOB_PASSWORD: &str = "bob-pass-1";
    pub const BOB_ID: &str = "000000000000000000000b0b";
    pub const CAROL_EMAIL: &str = "carol@example.com";
    pub const CAROL_PASSWORD: &str = "carol-pass-1";
    pub const CAROL_ID: &str = "0000000000000000000ca201";
    pub const DAVE_EMAIL: &str = "dave@example.com";
    pub const DAVE_PASSWORD: &str = "dave-pass-1";
    pub const DAVE_ID: &str = "000000000000000000000da4";
    /// Alice's tickets, in insertion order.
    pub const ALICE_TICKETS: [&str; 3] = [
        "0000000000000000000a1c01",
        "0000000000000000000a1c02",
        "0000000000000000000a1c03",
    ];
    /// Bob's tickets; the first has a contact email and `&` in its subject.
    pub const BOB_TICKETS: [&str; 2] = ["0000000000000000000b0c01", "0000000000000000000b0c02"];
    /// Comments on alice's first ticket.
    pub const COMMENTS: [&str; 2] = ["00000000000000000000c001", "00000000000000000000c002"];
    pub const ARTICLES: [&str; 3] = [
        "0000000000000000000ab001",
        "0000000000000000000ab002",
        "0000000000000000000ab003",
    ];
}

/// Ids and credentials of the field-types fixture (`fixtures/field-types.json`): one
/// recorded object holding a value of every Knack field type (see `docs/fake-knack.md`).
pub mod field_types {
    use std::path::PathBuf;

    pub const APP_ID: &str = "5f1e1d7e5f1e1d7e5f1e1d7e";
    /// The user of the login scene.
    pub const USER_EMAIL: &str = "fields@example.com";
    pub const USER_PASSWORD: &str = "fields-pass-1";
    pub const USER_ID: &str = "5f1e1d7e00000000000000a1";
    /// The recorded object "All field types".
    pub const OBJECT: &str = "object_3";
    /// Public scene: `view_1` table of every field, `view_2` details, `view_3` table of a
    /// few fields.
    pub const PUBLIC_SCENE: &str = "scene_1";
    /// Login scene: `view_4` table of every field.
    pub const LOGIN_SCENE: &str = "scene_2";
    /// The records, in the fixture's order: every field filled; knackpy rows 1, 2 and 24
    /// (verbatim); every field empty as recorded (no `_raw` key); every raw value `null`.
    pub const RECORDS: [&str; 6] = [
        FILLED,
        "5d7968c8092e7f00106c6399",
        "5d7b026e58b1e6001064b4f0",
        "6010d3e629ea96001bf95e4f",
        EMPTY,
        NULLS,
    ];
    pub const FILLED: &str = "5d7964422d7159001659b27a";
    pub const EMPTY: &str = "5f1e1d7e000000000000e001";
    pub const NULLS: &str = "5f1e1d7e000000000000e002";

    /// `fixtures/field-types.json` in this repository.
    pub fn fixture_path() -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/field-types.json"
        ))
    }
}

/// Entry point: `FakeKnack::start(config).await`.
pub struct FakeKnack;

struct Bound {
    listener: TcpListener,
    /// The asset host's listener (a second loopback port, same scheme and CA).
    assets: TcpListener,
    tls: Option<tls::Tls>,
    url: String,
    addr: SocketAddr,
    state: Arc<FakeState>,
}

async fn bind(config: FakeConfig) -> Result<Bound, Error> {
    let fixture = config.load_fixture()?;
    let (schema, data) = fixture::compile(&fixture)?;
    let listener = TcpListener::bind(("127.0.0.1", config.port))
        .await
        .map_err(|source| Error::Bind {
            port: config.port,
            source,
        })?;
    let addr = listener.local_addr()?;
    let assets = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|source| Error::Bind { port: 0, source })?;
    let assets_port = assets.local_addr()?.port();
    let tls = if config.tls {
        Some(tls::Tls::generate()?)
    } else {
        None
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://127.0.0.1:{}", addr.port());
    let state = Arc::new(state::FakeState::new(
        schema,
        data,
        config.switches,
        config.seed_tickets,
        url.clone(),
        format!("{scheme}://127.0.0.1:{assets_port}"),
    )?);
    Ok(Bound {
        listener,
        assets,
        tls,
        url,
        addr,
        state,
    })
}

/// Serves the API host and the asset host until shutdown.
async fn serve_all(
    listener: TcpListener,
    assets: TcpListener,
    tls: Option<tls::Tls>,
    state: Arc<FakeState>,
    rx: watch::Receiver<bool>,
) {
    tokio::join!(
        server::serve(
            listener,
            tls.clone(),
            state.clone(),
            rx.clone(),
            server::Host::Api
        ),
        server::serve(assets, tls, state, rx, server::Host::Assets),
    );
}

/// The runtime fake-knack serves on: two worker threads, IO and time.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

impl FakeKnack {
    /// Binds 127.0.0.1 on the configured port and serves on the current tokio runtime.
    pub async fn start(config: FakeConfig) -> Result<RunningServer, Error> {
        let b = bind(config).await?;
        let (tx, rx) = watch::channel(false);
        let ca_pem = b.tls.as_ref().map(|t| t.ca_pem.clone());
        let task = tokio::spawn(serve_all(b.listener, b.assets, b.tls, b.state.clone(), rx));
        Ok(RunningServer {
            ca_pem,
            url: b.url,
            addr: b.addr,
            state: b.state,
            shutdown: Some(tx),
            task: Some(task),
            thread: None,
        })
    }

    /// Like [`FakeKnack::start`], but serves from its own thread with its own two-worker
    /// runtime, so it keeps answering whatever the caller's runtime does (and can be used
    /// from synchronous code).
    pub fn start_background(config: FakeConfig) -> Result<RunningServer, Error> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("fake-knack".into())
            .spawn(move || {
                let rt = match runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(Error::Io(e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    match bind(config).await {
                        Ok(b) => {
                            let (tx, rx) = watch::channel(false);
                            let ca = b.tls.as_ref().map(|t| t.ca_pem.clone());
                            let info = (b.url, b.addr, b.state.clone(), tx, ca);
                            if ready_tx.send(Ok(info)).is_ok() {
                                serve_all(b.listener, b.assets, b.tls, b.state, rx).await;
                            }
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })?;
        let (url, addr, state, tx, ca_pem) = ready_rx
            .recv()
            .map_err(|_| Error::Invalid("fake-knack thread ended early".into()))??;
        Ok(RunningServer {
            ca_pem,
            url,
            addr,
            state,
            shutdown: Some(tx),
            task: None,
            thread: Some(thread),
        })
    }
}

/// A running fake. Stops on [`RunningServer::shutdown`] or when dropped.
pub struct RunningServer {
    ca_pem: Option<String>,
    url: String,
    addr: SocketAddr,
    state: Arc<FakeState>,
    shutdown: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningServer {
    /// `http://127.0.0.1:PORT` (`https://` with TLS; no trailing slash, no `/v1`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS) of the asset host, where downloads
    /// redirect with the `asset_host` switch on (it listens either way).
    pub fn asset_host_url(&self) -> &str {
        self.state.asset_host_url()
    }

    /// The directory uploads are spooled to (removed when the server's state is dropped).
    pub fn spool_dir(&self) -> &std::path::Path {
        self.state.spool.path()
    }

    /// With TLS: the PEM certificate of the test CA that signed the server's certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// `http://127.0.0.1:PORT/v1`, the client's base URL.
    pub fn api_url(&self) -> String {
        format!("{}/v1", self.url)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn app_id(&self) -> &str {
        self.state.app_id()
    }

    /// Direct access to the fake's state (tokens, stats, log, switches, clock, seeding).
    pub fn state(&self) -> &FakeState {
        &self.state
    }

    /// A shareable handle to the state.
    pub fn state_arc(&self) -> Arc<FakeState> {
        self.state.clone()
    }

    /// Stops accepting, closes every connection and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    /// Stops a server from synchronous code (waits for a background server's thread).
    pub fn shutdown_blocking(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
