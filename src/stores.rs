//! Token stores and the sealer, as JS classes. Stores keep opaque sealed strings; the
//! `Sealer` turns a session into such a string and back.

use crate::{to_napi, NativeOptions, NativeSession};
use knack_client::internals::sealed;
use knack_client::KeyRing;
use knack_client::Secret;
use knack_client::Session;
use knack_client::{FileStore, MemoryStore, RedisConn, RedisStore, RedisTarget, SentinelSpec};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;
use std::time::Duration;

fn ttl(ms: f64) -> Result<Duration> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(crate::invalid("ttlMs must be a non-negative number"));
    }
    Ok(Duration::from_millis(ms as u64))
}

/// Encrypts session records for a store (AES-256-GCM under keys derived from secrets).
#[napi]
pub struct Sealer {
    keys: Arc<KeyRing>,
}

#[napi]
impl Sealer {
    /// From one or more secrets: the first seals, all open (rotation).
    #[napi(constructor)]
    pub fn new(secrets: Vec<String>) -> Result<Self> {
        let secrets: Vec<Secret> = secrets.into_iter().map(Secret::new).collect();
        Ok(Sealer {
            keys: Arc::new(KeyRing::new(&secrets).map_err(to_napi)?),
        })
    }

    /// A random key that lives as long as this process (for in-memory stores).
    #[napi(factory)]
    pub fn random() -> Result<Self> {
        Ok(Sealer {
            keys: Arc::new(KeyRing::random().map_err(to_napi)?),
        })
    }

    /// Seal a session.
    #[napi]
    pub fn seal(&self, session: &NativeSession) -> Result<String> {
        let s = &session.inner;
        sealed::seal(&self.keys, s.app_id(), &s.state()).map_err(to_napi)
    }

    /// The id a service session of `email` in `app_id` is stored under (the same wherever
    /// this secret is; unguessable without it).
    #[napi]
    pub fn service_id(&self, app_id: String, email: String) -> String {
        self.keys.service_id(&app_id, &email)
    }

    /// Open a sealed record stored under `id` into a session (KNACK_STORE when it does not open).
    #[napi]
    pub fn open(&self, id: String, text: String, opts: NativeOptions) -> Result<NativeSession> {
        let config = opts.to_config().map_err(to_napi)?;
        let state = sealed::open(&self.keys, &id, &config.app_id, &text).map_err(to_napi)?;
        let session = Session::from_state(&config, state).map_err(to_napi)?;
        Ok(NativeSession {
            inner: Arc::new(session),
        })
    }
}

macro_rules! store_methods {
    ($ty:ident) => {
        #[napi]
        impl $ty {
            #[napi(ts_return_type = "Promise<string | null>")]
            pub fn get<'env>(
                &self,
                env: &'env Env,
                id: String,
            ) -> Result<PromiseRaw<'env, Option<String>>> {
                let s = self.inner.clone();
                env.spawn_future(async move { s.get(&id).await.map_err(to_napi) })
            }

            #[napi(ts_return_type = "Promise<void>")]
            pub fn set<'env>(
                &self,
                env: &'env Env,
                id: String,
                value: String,
                ttl_ms: f64,
            ) -> Result<PromiseRaw<'env, ()>> {
                let s = self.inner.clone();
                let ttl = ttl(ttl_ms);
                env.spawn_future(async move { s.set(&id, value, ttl?).await.map_err(to_napi) })
            }

            #[napi(ts_return_type = "Promise<void>")]
            pub fn delete<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, ()>> {
                let s = self.inner.clone();
                env.spawn_future(async move { s.delete(&id).await.map_err(to_napi) })
            }
        }
    };
}

/// In-process store, bounded, with TTL eviction.
#[napi]
pub struct NativeMemoryStore {
    inner: Arc<MemoryStore>,
}

#[napi]
impl NativeMemoryStore {
    #[napi(constructor)]
    pub fn new(max_entries: Option<f64>) -> Result<Self> {
        let max = match max_entries {
            None => knack_client::DEFAULT_MAX_ENTRIES,
            Some(n) => MemoryStore::MAX_ENTRIES.check(n).map_err(to_napi)? as usize,
        };
        Ok(NativeMemoryStore {
            inner: Arc::new(MemoryStore::new(max)),
        })
    }

    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.len() as u32
    }
}
store_methods!(NativeMemoryStore);

/// One-host store: a directory of private files.
#[napi]
pub struct NativeFileStore {
    inner: Arc<FileStore>,
}

#[napi]
impl NativeFileStore {
    #[napi(constructor)]
    pub fn new(dir: String) -> Result<Self> {
        Ok(NativeFileStore {
            inner: Arc::new(FileStore::open(dir).map_err(to_napi)?),
        })
    }

    /// Remove expired session files now; resolves how many went.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn sweep<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, u32>> {
        let s = self.inner.clone();
        env.spawn_future(async move { Ok(s.sweep().await as u32) })
    }
}
store_methods!(NativeFileStore);

/// Where a Redis is, as JS gives it (`url` as a list; the facade checked the types).
#[napi(object, object_to_js = false)]
pub struct NativeRedisTarget {
    pub urls: Vec<String>,
    pub cluster: Option<bool>,
    pub sentinel: Option<NativeSentinel>,
    /// Extra CA certificates, PEM (the facade joins a list into one text).
    pub ca: Option<String>,
}

/// `sentinel: { name, username?, password?, db? }`: the primary the sentinels watch.
#[napi(object, object_to_js = false)]
pub struct NativeSentinel {
    pub name: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: Option<i64>,
}

impl NativeRedisTarget {
    pub fn to_target(&self) -> knack_client::Result<RedisTarget> {
        let sentinel = self.sentinel.as_ref().map(|s| SentinelSpec {
            name: s.name.clone(),
            username: s.username.clone(),
            password: s.password.clone(),
            db: s.db,
        });
        RedisTarget::new(
            self.urls.clone(),
            self.cluster.unwrap_or(false),
            sentinel,
            self.ca.clone(),
        )
    }
}

/// Store shared by processes and hosts.
#[napi]
pub struct NativeRedisStore {
    inner: Arc<RedisStore>,
}

#[napi]
impl NativeRedisStore {
    #[napi(constructor)]
    pub fn new(target: NativeRedisTarget, prefix: Option<String>) -> Result<Self> {
        let conn = RedisConn::new(&target.to_target().map_err(to_napi)?).map_err(to_napi)?;
        Ok(NativeRedisStore {
            inner: Arc::new(RedisStore::new(conn, prefix.as_deref()).map_err(to_napi)?),
        })
    }
}
store_methods!(NativeRedisStore);
