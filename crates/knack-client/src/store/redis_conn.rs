//! The Redis connection the session store (`store::redis`) and the governor's shared window
//! (`governor::redis`) use: one server over TCP, TLS (`rediss://`) or a Unix socket, a Redis
//! Cluster from its seed nodes, or the primary that Redis Sentinels name. Which targets are accepted is decided in one place,
//! [`RedisTarget::new`].
//!
//! A URL may hold a password: no error message or log line ever shows a URL, an address or
//! the redis crate's own text (which can include the address).

use crate::error::{Error, ErrorCode, Result};
use redis::aio::MultiplexedConnection;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, TlsCertificates, Value};
use std::sync::Arc;
use std::time::Duration;

pub(crate) const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// URLs a target may list (a cluster's seed nodes, or sentinels).
pub const MAX_URLS: usize = 64;

/// What an untrusted Redis certificate is told.
const UNTRUSTED: &str = "the server's TLS certificate is not signed by a trusted CA: give the \
                         server's CA certificate as `ca`, or add it to the system's trust store";

/// How one URL reaches its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Tcp,
    Tls,
    Unix,
}

/// The scheme of `url`, or why it is refused.
pub(crate) fn scheme_of(url: &str) -> Result<Scheme> {
    let lower = url.trim().to_ascii_lowercase();
    let scheme = if lower.starts_with("redis://") {
        Scheme::Tcp
    } else if lower.starts_with("rediss://") {
        Scheme::Tls
    } else if lower.starts_with("unix://") || lower.starts_with("redis+unix://") {
        Scheme::Unix
    } else {
        return Err(Error::invalid(
            "Redis URL must start with redis://, rediss:// (TLS) or unix://",
        ));
    };
    if scheme == Scheme::Tls && lower.contains("#insecure") {
        return Err(Error::invalid(
            "Redis TLS certificate checks cannot be turned off (#insecure): give the server's CA \
             certificate as `ca` instead",
        ));
    }
    Ok(scheme)
}

/// The primary a set of Redis Sentinels watches: its name there, and how to log in to it (the
/// sentinels' own credentials are in their URLs).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SentinelSpec {
    pub name: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: Option<i64>,
}

/// Where a Redis is and how to trust it: one URL, a cluster's seed nodes, or the sentinels of a
/// primary, plus extra CA certificates (PEM) for `rediss://`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisTarget {
    urls: Vec<String>,
    cluster: bool,
    sentinel: Option<SentinelSpec>,
    ca: Option<String>,
    tls: bool,
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RedisTarget({} [redacted url]{}{}{}{})",
            self.urls.len(),
            if self.cluster { ", cluster" } else { "" },
            if self.sentinel.is_some() {
                ", sentinel"
            } else {
                ""
            },
            if self.tls { ", tls" } else { "" },
            if self.ca.is_some() { ", ca" } else { "" }
        )
    }
}

impl RedisTarget {
    /// One server.
    pub fn single(url: &str) -> Result<RedisTarget> {
        RedisTarget::new(vec![url.to_owned()], false, None, None)
    }

    /// Check a target: every rule about which URLs, cluster or sentinel settings and CAs go
    /// together.
    pub fn new(
        urls: Vec<String>,
        cluster: bool,
        sentinel: Option<SentinelSpec>,
        ca: Option<String>,
    ) -> Result<RedisTarget> {
        let what = if sentinel.is_some() {
            "Redis Sentinel"
        } else {
            "Redis Cluster"
        };
        if urls.is_empty() {
            return Err(Error::invalid("a Redis URL must be given"));
        }
        if cluster && sentinel.is_some() {
            return Err(Error::invalid(
                "a Redis is reached through a Cluster or through Sentinel, not both: give \
                 cluster or sentinel",
            ));
        }
        if urls.len() > 1 && !cluster && sentinel.is_none() {
            return Err(Error::invalid(
                "several Redis URLs are the seed nodes of a Redis Cluster (add cluster: true) \
                 or the sentinels of a primary (add sentinel: { name })",
            ));
        }
        if urls.len() > MAX_URLS {
            return Err(Error::invalid(format!(
                "a {what} needs only a few URLs (at most {MAX_URLS})"
            )));
        }
        if let Some(s) = &sentinel {
            if s.name.is_empty()
                || s.name.len() > 200
                || s.name.bytes().any(|b| b.is_ascii_control() || b == b' ')
            {
                return Err(Error::invalid(
                    "sentinel.name must be the primary's name in Sentinel (printable, no spaces)",
                ));
            }
            if matches!(s.db, Some(db) if !(0..=100_000).contains(&db)) {
                return Err(Error::invalid(
                    "sentinel.db must be a database number from 0",
                ));
            }
        }
        let mut schemes = Vec::with_capacity(urls.len());
        for u in &urls {
            schemes.push(scheme_of(u)?);
        }
        if (cluster || sentinel.is_some()) && schemes.contains(&Scheme::Unix) {
            return Err(Error::invalid(format!(
                "a {what} is reached over TCP: unix:// URLs cannot be its nodes"
            )));
        }
        let tls = schemes[0] == Scheme::Tls;
        if schemes.iter().any(|s| (*s == Scheme::Tls) != tls) {
            return Err(Error::invalid(format!(
                "a {what}'s URLs must be all rediss:// (TLS) or all redis://"
            )));
        }
        if ca.is_some() && !tls {
            return Err(Error::invalid(
                "ca is for TLS: the Redis URL must start with rediss://",
            ));
        }
        crate::tls::ca_roots(ca.as_deref())?;
        Ok(RedisTarget {
            urls: urls.into_iter().map(|u| u.trim().to_owned()).collect(),
            cluster,
            sentinel,
            ca,
            tls,
        })
    }
}

/// The trust anchors for a `rediss://` connection, as PEM: the system's (as `SSL_CERT_FILE` /
/// `SSL_CERT_DIR` or the OS store give them) plus `ca` plus `NODE_EXTRA_CA_CERTS`, the same set
/// the HTTP side trusts. Made here rather than left to the redis crate, which replaces the
/// system's roots when given any, and fails every connection when one system certificate or
/// certificate directory cannot be read; here an unreadable or unusable one is skipped.
fn roots_pem(ca: Option<&str>) -> Vec<u8> {
    let node = crate::tls::node_extra_ca_pem();
    let mut pem = Vec::new();
    for der in rustls_native_certs::load_native_certs().certs {
        // A system certificate that is no usable anchor would fail the whole set: skip it.
        if webpki::anchor_from_trusted_cert(&der).is_ok() {
            pem.extend_from_slice(pem_of(&der).as_bytes());
        }
    }
    if let Some(ca) = ca {
        pem.extend_from_slice(ca.as_bytes());
        pem.push(b'\n');
    }
    if let Some(node) = node {
        pem.extend_from_slice(&node);
        pem.push(b'\n');
    }
    pem
}

fn pem_of(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// A failed Redis operation as a `KNACK_STORE` error: the kind and category of the redis
/// error, or what was wrong with the server's TLS certificate; never its text.
fn store_err(what: &str, e: &RedisError, tls: bool) -> Error {
    if e.kind() == redis::ErrorKind::MasterNameNotFoundBySentinel {
        return Error::new(
            ErrorCode::Store,
            format!(
                "redis: {what} failed: no sentinel names a primary that is up by that \
                 sentinel.name (a wrong name, or a failover under way)"
            ),
        );
    }
    if let Some(why) = tls_failure(e).or_else(|| io_failure(e, tls)) {
        return Error::new(ErrorCode::Store, format!("redis: {what} failed: {why}"));
    }
    Error::new(
        ErrorCode::Store,
        format!("redis: {what} failed ({:?}, {})", e.kind(), e.category()),
    )
}

type DynError = dyn std::error::Error + Send + Sync;

/// The errors under `e`, outermost first, looking through the `Arc` the redis crate keeps
/// them in and into an `io::Error`'s payload.
fn causes(e: &RedisError) -> Vec<&(dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = next {
        if out.len() > 16 {
            break;
        }
        let s: &(dyn std::error::Error + 'static) = match s.downcast_ref::<Arc<DynError>>() {
            Some(a) => &**a,
            None => s,
        };
        out.push(s);
        next = match s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => s.source(),
        };
    }
    out
}

/// The socket failure under `e` in words (no address), or `None`. `tls`: the URL is rediss://.
fn io_failure(e: &RedisError, tls: bool) -> Option<String> {
    use std::io::ErrorKind as K;
    for s in causes(e) {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            let text = match io.kind() {
                K::ConnectionRefused => "connection refused (is Redis running at that address?)",
                K::ConnectionReset | K::UnexpectedEof | K::BrokenPipe | K::ConnectionAborted
                    if tls =>
                {
                    "the server closed the connection (is the port in the rediss:// URL the \
                     server's TLS port?)"
                }
                K::ConnectionReset | K::UnexpectedEof | K::BrokenPipe | K::ConnectionAborted => {
                    "the server closed the connection (if it takes TLS only, its URL starts \
                     with rediss://)"
                }
                K::TimedOut => "the connection timed out",
                K::PermissionDenied => "permission denied",
                K::NotFound => "no such socket",
                _ => continue,
            };
            return Some(text.to_owned());
        }
    }
    None
}

/// What went wrong in a TLS handshake, said without the address, or `None` when `e` is not a
/// TLS failure.
fn tls_failure(e: &RedisError) -> Option<String> {
    use rustls::CertificateError as C;
    let found = causes(e)
        .into_iter()
        .find_map(|s| s.downcast_ref::<rustls::Error>().cloned());
    let text = match found {
        Some(rustls::Error::InvalidCertificate(c)) => match c {
            C::UnknownIssuer => UNTRUSTED.to_owned(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's TLS certificate does not name the host in the Redis URL".to_owned()
            }
            C::Expired | C::ExpiredContext { .. } => {
                "the server's TLS certificate has expired".to_owned()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's TLS certificate is not valid yet".to_owned()
            }
            C::Revoked => "the server's TLS certificate is revoked".to_owned(),
            other => format!("the server's TLS certificate was refused ({other:?})"),
        },
        Some(
            rustls::Error::InvalidMessage(_)
            | rustls::Error::InappropriateMessage { .. }
            | rustls::Error::InappropriateHandshakeMessage { .. },
        ) => "the server did not answer in TLS (is it a plain redis:// port?)".to_owned(),
        Some(other) => format!("the TLS handshake failed ({other})"),
        None => {
            // The cluster client keeps only the text of a node's failure: read it (never shown).
            let text = e.to_string();
            if text.contains("UnknownIssuer") {
                UNTRUSTED.to_owned()
            } else if text.contains("invalid peer certificate") {
                "the server's TLS certificate was refused".to_owned()
            } else {
                return None;
            }
        }
    };
    Some(text)
}

/// One per store or shared window, made once: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
enum Client {
    Single(redis::Client),
    Cluster(ClusterClient),
    Sentinel(Arc<SentinelConn>),
}

/// A live connection: a reconnecting manager for one server, or a cluster connection (which
/// follows the slot map and reconnects by itself). Cheap to clone.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(Arc<SentinelConn>),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
            Conn::Sentinel(s) => Box::pin(
                s.with_primary(move |mut c| async move { c.req_packed_command(cmd).await }),
            ),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Sentinel(s) => Box::pin(s.with_primary(move |mut c| async move {
                c.req_packed_commands(pipeline, offset, count).await
            })),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
            Conn::Sentinel(s) => s.db,
        }
    }
}

/// Whether a failed command means the primary may have moved (a Sentinel failover): its
/// connection dropped or was refused, or the server is a replica now (READONLY). Then the
/// sentinels are asked again.
pub(crate) fn primary_moved(e: &RedisError) -> bool {
    e.is_connection_dropped()
        || e.is_io_error()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly)
        )
}

/// The primary that a set of Redis Sentinels names, followed across failovers: a multiplexed
/// connection to the primary they name now, dropped and asked for again when a command says the
/// primary moved (that command is sent once more, to the new primary).
pub(crate) struct SentinelConn {
    sentinels: tokio::sync::Mutex<SentinelClient>,
    current: std::sync::Mutex<Option<(u64, MultiplexedConnection)>>,
    generation: std::sync::atomic::AtomicU64,
    db: i64,
}

impl SentinelConn {
    fn cached(&self) -> Option<(u64, MultiplexedConnection)> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The connection to the primary: the one in use, or one to the primary the sentinels
    /// name now (one lookup at a time).
    async fn primary(&self) -> redis::RedisResult<(u64, MultiplexedConnection)> {
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let mut sentinels = self.sentinels.lock().await;
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let client = sentinels.async_get_client().await?;
        let cfg = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(OP_TIMEOUT))
            .set_response_timeout(Some(OP_TIMEOUT));
        let conn = client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await?;
        let generation = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, conn.clone()));
        Ok((generation, conn))
    }

    /// Drop the connection `generation` (if it is still the one in use).
    fn forget(&self, generation: u64) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(&*current, Some((g, _)) if *g == generation) {
            *current = None;
        }
    }

    /// Run `send` on the primary; when it says the primary moved, once more on the primary
    /// the sentinels name then.
    async fn with_primary<T, F, Fut>(&self, mut send: F) -> redis::RedisResult<T>
    where
        F: FnMut(MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let mut attempt = 0;
        loop {
            let (generation, conn) = match self.primary().await {
                Ok(c) => c,
                Err(e) if attempt == 0 && primary_moved(&e) => {
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match send(conn).await {
                Err(e) if primary_moved(&e) => {
                    self.forget(generation);
                    if attempt > 0 {
                        return Err(e);
                    }
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// The sentinels of `target` (plain or TLS like their URLs; the primary is reached the same
/// way), with the primary's credentials from `spec`.
fn sentinel_client(
    target: &RedisTarget,
    spec: &SentinelSpec,
    roots: Option<Vec<u8>>,
) -> redis::RedisResult<SentinelClient> {
    use redis::IntoConnectionInfo;
    let infos = target
        .urls
        .iter()
        .map(|u| u.as_str().into_connection_info())
        .collect::<redis::RedisResult<Vec<_>>>()?;
    let mut b = SentinelClientBuilder::new(
        infos.iter().map(|i| i.addr().clone()),
        &spec.name,
        SentinelServerType::Master,
    )?;
    if let Some(first) = infos.first().map(|i| i.redis_settings()) {
        if let Some(u) = first.username() {
            b = b.set_client_to_sentinel_username(u);
        }
        if let Some(p) = first.password() {
            b = b.set_client_to_sentinel_password(p);
        }
    }
    if let Some(u) = &spec.username {
        b = b.set_client_to_redis_username(u);
    }
    if let Some(p) = &spec.password {
        b = b.set_client_to_redis_password(p);
    }
    if let Some(db) = spec.db {
        b = b.set_client_to_redis_db(db);
    }
    if let Some(r) = roots {
        b = b
            .set_client_to_sentinel_certificates(certs(r.clone()))
            .set_client_to_redis_tls_mode(redis::TlsMode::Secure)
            .set_client_to_redis_certificates(certs(r));
    }
    b.build()
}

/// The roots (PEM) as the redis crate takes them; no client certificate.
fn certs(root_cert: Vec<u8>) -> TlsCertificates {
    TlsCertificates {
        client_tls: None,
        root_cert: Some(root_cert),
    }
}

/// One lazily connected, auto-reconnecting Redis connection.
pub struct RedisConn {
    client: Client,
    tls: bool,
    conn: tokio::sync::OnceCell<Conn>,
}

impl std::fmt::Debug for RedisConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.client {
            Client::Single(_) => "single",
            Client::Cluster(_) => "cluster",
            Client::Sentinel(_) => "sentinel",
        };
        write!(f, "RedisConn({kind}, [redacted url])")
    }
}

impl RedisConn {
    /// A connection to `target` (nothing is sent until the first command).
    pub fn new(target: &RedisTarget) -> Result<Arc<RedisConn>> {
        crate::tls::install_crypto();
        let roots = target.tls.then(|| roots_pem(target.ca.as_deref()));
        let invalid = |_| Error::invalid("Redis URL is not valid");
        let client = if let Some(spec) = &target.sentinel {
            Client::Sentinel(Arc::new(SentinelConn {
                sentinels: tokio::sync::Mutex::new(
                    sentinel_client(target, spec, roots).map_err(invalid)?,
                ),
                current: std::sync::Mutex::new(None),
                generation: std::sync::atomic::AtomicU64::new(0),
                db: spec.db.unwrap_or(0),
            }))
        } else if target.cluster {
            let mut b = ClusterClientBuilder::new(target.urls.iter().map(String::as_str))
                .connection_timeout(OP_TIMEOUT)
                .response_timeout(OP_TIMEOUT)
                .retries(3);
            if let Some(r) = roots {
                b = b.certs(certs(r));
            }
            Client::Cluster(b.build().map_err(invalid)?)
        } else {
            let url = target.urls[0].as_str();
            Client::Single(match roots {
                Some(r) => redis::Client::build_with_tls(url, certs(r)).map_err(invalid)?,
                None => redis::Client::open(url).map_err(invalid)?,
            })
        };
        Ok(Arc::new(RedisConn {
            client,
            tls: target.tls,
            conn: tokio::sync::OnceCell::new(),
        }))
    }

    /// A failed operation on this connection as a `KNACK_STORE` error, in words.
    pub(crate) fn error(&self, what: &str, e: &RedisError) -> Error {
        store_err(what, e, self.tls)
    }

    pub(crate) async fn conn(&self) -> Result<Conn> {
        let c = self
            .conn
            .get_or_try_init(|| async {
                let connect = async {
                    match &self.client {
                        Client::Single(client) => {
                            let cfg = ConnectionManagerConfig::new()
                                .set_connection_timeout(Some(OP_TIMEOUT))
                                .set_response_timeout(Some(OP_TIMEOUT))
                                .set_number_of_retries(2);
                            ConnectionManager::new_with_config(client.clone(), cfg)
                                .await
                                .map(Conn::Single)
                        }
                        Client::Cluster(client) => {
                            client.get_async_connection().await.map(Conn::Cluster)
                        }
                        // Connected at its first command, and again after a failover.
                        Client::Sentinel(s) => Ok(Conn::Sentinel(s.clone())),
                    }
                };
                match tokio::time::timeout(OP_TIMEOUT * 2, connect).await {
                    Ok(Ok(c)) => Ok(c),
                    Ok(Err(e)) => Err(self.error("connect", &e)),
                    Err(_) if self.tls => Err(Error::new(
                        ErrorCode::Store,
                        "redis: connect timed out (is the port in the rediss:// URL the server's \
                         TLS port?)",
                    )),
                    Err(_) => Err(Error::new(ErrorCode::Store, "redis: connect timed out")),
                }
            })
            .await?;
        Ok(c.clone())
    }

    pub(crate) async fn run<T: redis::FromRedisValue>(&self, what: &str, cmd: Cmd) -> Result<T> {
        let mut c = self.conn().await?;
        match tokio::time::timeout(OP_TIMEOUT, cmd.query_async::<T>(&mut c)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.error(what, &e)),
            Err(_) => Err(Error::new(
                ErrorCode::Store,
                format!("redis: {what} timed out"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca() -> String {
        fake_knack::Tls::generate().unwrap().ca_pem
    }

    fn urls(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn sentinel(name: &str) -> Option<SentinelSpec> {
        Some(SentinelSpec {
            name: name.to_owned(),
            ..SentinelSpec::default()
        })
    }

    /// Which targets are accepted: (urls, cluster, ca given, words of the refusal or None).
    #[test]
    fn which_redis_targets_are_accepted() {
        let table: &[(&[&str], bool, bool, Option<&str>)] = &[
            (&["redis://127.0.0.1:6379"], false, false, None),
            (&["rediss://cache.example.com:6380"], false, false, None),
            (&["unix:///run/redis.sock"], false, false, None),
            (&["redis+unix:///run/redis.sock"], false, false, None),
            (&["redis://a:1", "redis://b:2"], true, false, None),
            (&["rediss://a:1", "rediss://b:2"], true, false, None),
            (&["redis://a:1"], true, false, None),
            (&[], false, false, Some("must be given")),
            (&["http://a:1"], false, false, Some("must start with")),
            (
                &["redis://a:1", "redis://b:2"],
                false,
                false,
                Some("cluster: true"),
            ),
            (&["unix:///s", "redis://b:2"], true, false, Some("unix://")),
            (
                &["rediss://a:1", "redis://b:2"],
                true,
                false,
                Some("all rediss://"),
            ),
            (&["redis://a:1"], false, true, Some("rediss://")),
            (
                &["rediss://a:1#insecure"],
                false,
                false,
                Some("cannot be turned off"),
            ),
        ];
        for (list, cluster, with_ca, refusal) in table {
            let got = RedisTarget::new(urls(list), *cluster, None, with_ca.then(ca));
            expect(got, *refusal, &format!("{list:?} cluster={cluster}"));
        }
    }

    /// `got` is accepted when `refusal` is None, else refused with words containing it.
    fn expect(got: Result<RedisTarget>, refusal: Option<&str>, row: &str) {
        match refusal {
            None => assert!(got.is_ok(), "{row}: {:?}", got.err()),
            Some(words) => {
                let e = got.expect_err(&format!("{row} should be refused"));
                assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT");
                assert!(e.message.contains(words), "{row}: {}", e.message);
            }
        }
    }

    /// Sentinel targets: (urls, cluster, the sentinel's name, words of the refusal or None).
    #[test]
    fn which_sentinel_targets_are_accepted() {
        let table: &[(&[&str], bool, &str, Option<&str>)] = &[
            (&["redis://s1:26379"], false, "mymaster", None),
            (
                &["redis://s1:26379", "redis://s2:26379", "redis://s3:26379"],
                false,
                "mymaster",
                None,
            ),
            (
                &["rediss://s1:26379", "rediss://s2:26379"],
                false,
                "mymaster",
                None,
            ),
            (&["redis://s1:26379"], true, "mymaster", Some("not both")),
            (&["redis://s1:26379"], false, "", Some("sentinel.name")),
            (
                &["redis://s1:26379"],
                false,
                "my master",
                Some("sentinel.name"),
            ),
            (
                &["unix:///s.sock"],
                false,
                "mymaster",
                Some("Sentinel is reached over TCP"),
            ),
            (
                &["rediss://s1:1", "redis://s2:2"],
                false,
                "m",
                Some("all rediss://"),
            ),
        ];
        for (list, cluster, name, refusal) in table {
            let got = RedisTarget::new(urls(list), *cluster, sentinel(name), None);
            expect(got, *refusal, &format!("{list:?} sentinel={name:?}"));
        }
        let bad_db = SentinelSpec {
            db: Some(-1),
            ..sentinel("m").unwrap_or_default()
        };
        assert!(RedisTarget::new(urls(&["redis://s:1"]), false, Some(bad_db), None).is_err());
    }

    /// When a command's failure sends a sentinel connection back to the sentinels.
    #[test]
    fn a_dropped_connection_or_a_readonly_replica_means_the_primary_moved() {
        use redis::{ErrorKind, ServerErrorKind};
        let io = |k| RedisError::from(std::io::Error::from(k));
        let table: Vec<(RedisError, bool)> = vec![
            (io(std::io::ErrorKind::ConnectionReset), true),
            (io(std::io::ErrorKind::ConnectionRefused), true),
            (io(std::io::ErrorKind::BrokenPipe), true),
            (
                RedisError::from((ErrorKind::Server(ServerErrorKind::ReadOnly), "READONLY")),
                true,
            ),
            (
                RedisError::from((ErrorKind::Server(ServerErrorKind::NoScript), "NOSCRIPT")),
                false,
            ),
            (
                RedisError::from((ErrorKind::Server(ServerErrorKind::ResponseError), "ERR")),
                false,
            ),
            (RedisError::from((ErrorKind::Parse, "bad")), false),
        ];
        for (e, moved) in table {
            assert_eq!(primary_moved(&e), moved, "{e}");
        }
    }

    #[test]
    fn a_ca_that_is_no_certificate_is_refused_and_no_message_shows_a_url() {
        let e = RedisTarget::new(
            urls(&["rediss://:pw-1234@a:1"]),
            false,
            None,
            Some("nope".into()),
        )
        .unwrap_err();
        assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT");
        assert!(e.message.starts_with("ca"), "{}", e.message);
        for bad in ["ftp://:pw-1234@a:1", "rediss://:pw-1234@a:1#insecure"] {
            let e = RedisTarget::single(bad).unwrap_err();
            assert!(!e.message.contains("pw-1234"), "{}", e.message);
        }
        let t = RedisTarget::new(urls(&["redis://:pw-1234@a:1"]), true, None, None).unwrap();
        assert!(!format!("{t:?}").contains("pw-1234"));
        let c = RedisConn::new(&t).unwrap();
        assert!(!format!("{c:?}").contains("pw-1234"));
        let spec = SentinelSpec {
            password: Some("pw-1234".into()),
            ..sentinel("m").unwrap_or_default()
        };
        let t = RedisTarget::new(urls(&["redis://:pw-1234@s:1"]), false, Some(spec), None).unwrap();
        assert!(!format!("{t:?}").contains("pw-1234"));
        assert!(!format!("{:?}", RedisConn::new(&t).unwrap()).contains("pw-1234"));
    }

    #[test]
    fn system_roots_are_written_as_pem_that_parses_back() {
        use rustls_pki_types::pem::PemObject;
        let der = [0x30u8, 0x03, 0x02, 0x01, 0x01];
        let pem = pem_of(&der);
        let back: Vec<_> = rustls_pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].as_ref(), &der);
    }
}
