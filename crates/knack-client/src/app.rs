//! One Knack application as this process sees it: per (normalised base URL, app id) one
//! `App` holding the pooled HTTP client, the rate governor, the plan quota, the counters
//! and the metadata cache, kept in a registry while sessions use it. Sessions are cheap
//! handles that point at it; `transport::send` runs requests through it.

use crate::bounds::Bound;
use crate::error::{Error, Result};
use crate::governor::{Governor, DEFAULT_PER_SECOND};
use crate::quota::PlanQuota;
use crate::secret::Secret;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use url::Url;

pub const USER_AGENT: &str = concat!("knack-session/", env!("CARGO_PKG_VERSION"));

/// Process-wide settings of an app, given when a session is made.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// `None`: leave as is (10/s for a new app). `Some(None)`: governor off.
    pub rate_limit: Option<Option<u32>>,
    /// Explicit proxy URL; otherwise `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` apply.
    pub proxy: Option<String>,
    /// Share the governor's window through Redis: (where, key prefix).
    pub shared_redis: Option<(crate::store::RedisTarget, Option<String>)>,
    /// Extra CA certificates (PEM) trusted besides the system store and NODE_EXTRA_CA_CERTS.
    pub ca: Option<String>,
}

impl AppOptions {
    /// Requests per second of the governor (`rateLimit: false` turns it off).
    pub const PER_SECOND: Bound = Bound::new("rateLimit.perSecond", 1, 10_000);
}

/// A snapshot of an app's shared state, readable from JS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppStats {
    pub requests: u64,
    pub retries: u64,
    pub rate_limited: u64,
    pub queued: u64,
    pub per_second: Option<u32>,
    /// The governor's window is shared through Redis.
    pub shared: bool,
    pub plan: crate::quota::PlanSnapshot,
}

/// Counters of an app, readable from JS.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
}

#[derive(Debug)]
pub struct App {
    pub base_url: Url,
    pub app_id: String,
    pub(crate) http: reqwest::Client,
    pub governor: Governor,
    pub quota: PlanQuota,
    pub counters: Counters,
    pub(crate) metadata: tokio::sync::Mutex<Option<Arc<crate::schema::Schema>>>,
    /// The Redis (target, prefix) the governor shares its window through, if any.
    shared_redis: Mutex<Option<(crate::store::RedisTarget, Option<String>)>>,
    /// The explicit proxy the pool was built with (its URL may hold a password).
    proxy: Option<Secret>,
    /// The `ca` the pool was built with.
    ca: Option<String>,
}

/// An app that no session has used for this long is dropped from the registry (its
/// pool and caches freed); the next session of that app starts a new one.
const IDLE_DROP: Duration = Duration::from_secs(300);

struct Entry {
    app: Arc<App>,
    last_used: Instant,
}

type Registry = Mutex<HashMap<(String, String), Entry>>;

/// Drop the apps that no session holds and none has used for `IDLE_DROP`.
fn prune(reg: &mut HashMap<(String, String), Entry>, now: Instant) {
    reg.retain(|_, e| Arc::strong_count(&e.app) > 1 || now.duration_since(e.last_used) < IDLE_DROP);
}

/// The registry key of a base URL: one app (pool, governor, quota) per API origin and
/// path, however the URL was spelt (`.../v1` and `.../v1/` are the same API).
pub fn registry_key(base_url: &Url) -> String {
    base_url.as_str().trim_end_matches('/').to_owned()
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

impl App {
    /// The shared transport of (base URL, app id), created on first use.
    ///
    /// Settings that belong to the transport and cannot change once it exists (the proxy)
    /// must agree with it: a different explicit `proxy` is refused, never silently ignored.
    pub fn shared(base_url: &Url, app_id: &str, opts: &AppOptions) -> Result<Arc<App>> {
        let key = (registry_key(base_url), app_id.to_owned());
        let mut reg = registry().lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        prune(&mut reg, now);
        if let Some(e) = reg.get_mut(&key) {
            let t = &e.app;
            let same_proxy = opts.proxy.as_deref() == t.proxy.as_ref().map(|p| p.expose());
            if opts.proxy.is_some() && !same_proxy {
                return Err(Error::invalid(
                    "proxy differs from the one this app's sessions already use in this process: \
                     every session of an app (same baseUrl and appId) shares one connection pool, \
                     so give them all the same proxy",
                ));
            }
            if opts.ca.is_some() && opts.ca != t.ca {
                return Err(Error::invalid(
                    "ca differs from the one this app's sessions already use in this process: \
                     every session of an app (same baseUrl and appId) shares one connection pool, \
                     so give them all the same ca",
                ));
            }
            if let Some(limit) = opts.rate_limit {
                t.governor.set_per_second(limit);
            }
            t.share_window(opts)?;
            e.last_used = now;
            return Ok(t.clone());
        }
        let t = Arc::new(App::new(base_url.clone(), app_id.to_owned(), opts)?);
        reg.insert(
            key,
            Entry {
                app: t.clone(),
                last_used: now,
            },
        );
        Ok(t)
    }

    /// Start sharing the governor's window through Redis, if asked and not already so.
    fn share_window(&self, opts: &AppOptions) -> Result<()> {
        let Some(wanted) = &opts.shared_redis else {
            return Ok(());
        };
        let mut current = self.shared_redis.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_ref() == Some(wanted) {
            return Ok(());
        }
        let conn = crate::store::redis::RedisConn::new(&wanted.0)?;
        let limiter =
            crate::governor::redis::RedisLimiter::new(conn, wanted.1.as_deref(), &self.app_id)?;
        self.governor.set_shared(Some(Arc::new(limiter)));
        *current = Some(wanted.clone());
        Ok(())
    }

    /// An app of its own, not shared (tests).
    pub fn new(base_url: Url, app_id: String, opts: &AppOptions) -> Result<App> {
        crate::tls::install_crypto();
        let proxy = match &opts.proxy {
            Some(p) => Some(
                reqwest::Proxy::all(p.as_str())
                    .map_err(|_| Error::invalid("proxy is not a valid proxy URL"))?,
            ),
            None => None,
        };
        let make = || {
            let builder = reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .connect_timeout(Duration::from_secs(10))
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(128)
                .tcp_nodelay(true)
                // Redirects are refused: a redirect must never carry the user's token elsewhere.
                .redirect(reqwest::redirect::Policy::none());
            match &proxy {
                Some(p) => builder.proxy(p.clone()),
                None => builder,
            }
        };
        let http = crate::tls::build_client(make, opts.ca.as_deref())?;
        let limit = opts.rate_limit.unwrap_or(Some(DEFAULT_PER_SECOND));
        let t = App {
            base_url,
            app_id,
            http,
            governor: Governor::new(limit),
            quota: PlanQuota::default(),
            counters: Counters::default(),
            metadata: tokio::sync::Mutex::new(None),
            shared_redis: Mutex::new(None),
            proxy: opts.proxy.as_deref().map(Secret::new),
            ca: opts.ca.clone(),
        };
        t.share_window(opts)?;
        Ok(t)
    }

    pub fn stats(&self) -> AppStats {
        AppStats {
            requests: self.counters.requests.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
            rate_limited: self.counters.rate_limited.load(Ordering::Relaxed),
            queued: self.governor.queued() as u64,
            per_second: self.governor.per_second(),
            shared: self.governor.is_shared(),
            plan: self.quota.snapshot(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(base: &str) -> ((String, String), Entry) {
        let url = Url::parse(base).expect("url");
        let t = App::new(url.clone(), "a".repeat(24), &AppOptions::default()).expect("transport");
        (
            (registry_key(&url), "a".repeat(24)),
            Entry {
                app: Arc::new(t),
                last_used: Instant::now(),
            },
        )
    }

    #[test]
    fn transports_no_session_holds_are_freed_once_idle() {
        let mut reg = HashMap::new();
        let (k1, held) = entry("https://one.example/v1");
        let kept = held.app.clone(); // a live session's handle
        reg.insert(k1.clone(), held);
        let (k2, idle) = entry("https://two.example/v1");
        reg.insert(k2.clone(), idle);
        let now = Instant::now();
        prune(&mut reg, now);
        assert_eq!(reg.len(), 2, "recently used transports stay");
        prune(&mut reg, now + IDLE_DROP + Duration::from_secs(1));
        assert!(reg.contains_key(&k1), "a transport a session holds stays");
        assert!(
            !reg.contains_key(&k2),
            "an idle transport nobody holds is freed"
        );
        drop(kept);
        prune(&mut reg, now + IDLE_DROP + Duration::from_secs(1));
        assert!(reg.is_empty());
    }

    #[test]
    fn a_base_url_counts_however_it_is_spelt() {
        let a = Url::parse("https://api.knack.com/v1").expect("url");
        let b = Url::parse("https://api.knack.com/v1/").expect("url");
        let c = Url::parse("HTTPS://API.KNACK.COM:443/v1").expect("url");
        assert_eq!(registry_key(&a), registry_key(&b));
        assert_eq!(registry_key(&a), registry_key(&c));
    }
}
