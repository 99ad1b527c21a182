//! Redis: the connection type (used by the session store here and by the governor's window,
//! `governor::redis`) and a session store shared by several processes or hosts.
//!
//! The URL may hold a password; it is never put in an error message or a log line.

use super::check_id;
use crate::error::{Error, ErrorCode, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use std::sync::Arc;
use std::time::Duration;

pub(crate) const OP_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_PREFIX: &str = "knack-session:";

pub(crate) fn store_err(what: &str, e: &redis::RedisError) -> Error {
    // The kind and category only: a RedisError's text can include the address.
    Error::new(
        ErrorCode::Store,
        format!("redis: {what} failed ({:?}, {})", e.kind(), e.category()),
    )
}

/// One lazily connected, auto-reconnecting Redis connection.
pub struct RedisConn {
    client: redis::Client,
    conn: tokio::sync::OnceCell<ConnectionManager>,
}

impl std::fmt::Debug for RedisConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisConn([redacted url])")
    }
}

impl RedisConn {
    /// Check the URL (`redis://`, `rediss://` is not supported by this build, `unix://`).
    pub fn new(url: &str) -> Result<Arc<RedisConn>> {
        let lower = url.trim().to_ascii_lowercase();
        if !(lower.starts_with("redis://")
            || lower.starts_with("unix://")
            || lower.starts_with("redis+unix://"))
        {
            return Err(Error::invalid(
                "Redis URL must start with redis:// or unix://",
            ));
        }
        let client = redis::Client::open(url.trim())
            .map_err(|_| Error::invalid("Redis URL is not valid"))?;
        Ok(Arc::new(RedisConn {
            client,
            conn: tokio::sync::OnceCell::new(),
        }))
    }

    pub(crate) async fn conn(&self) -> Result<ConnectionManager> {
        let c = self
            .conn
            .get_or_try_init(|| async {
                let cfg = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(OP_TIMEOUT))
                    .set_response_timeout(Some(OP_TIMEOUT))
                    .set_number_of_retries(2);
                match tokio::time::timeout(
                    OP_TIMEOUT * 2,
                    ConnectionManager::new_with_config(self.client.clone(), cfg),
                )
                .await
                {
                    Ok(Ok(c)) => Ok(c),
                    Ok(Err(e)) => Err(store_err("connect", &e)),
                    Err(_) => Err(Error::new(ErrorCode::Store, "redis: connect timed out")),
                }
            })
            .await?;
        Ok(c.clone())
    }

    pub(crate) async fn run<T: redis::FromRedisValue>(
        &self,
        what: &str,
        cmd: redis::Cmd,
    ) -> Result<T> {
        let mut c = self.conn().await?;
        match tokio::time::timeout(OP_TIMEOUT, cmd.query_async::<T>(&mut c)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(store_err(what, &e)),
            Err(_) => Err(Error::new(
                ErrorCode::Store,
                format!("redis: {what} timed out"),
            )),
        }
    }
}

/// Sessions in Redis under `{prefix}session:{id}`, expiring with the token.
#[derive(Debug)]
pub struct RedisStore {
    conn: Arc<RedisConn>,
    prefix: String,
}

pub(crate) fn check_prefix(prefix: &str) -> Result<()> {
    if prefix.len() > 100 || prefix.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(Error::invalid(
            "Redis key prefix must be at most 100 printable characters without spaces",
        ));
    }
    Ok(())
}

impl RedisStore {
    pub fn new(conn: Arc<RedisConn>, prefix: Option<&str>) -> Result<RedisStore> {
        let prefix = prefix.unwrap_or(DEFAULT_PREFIX);
        check_prefix(prefix)?;
        Ok(RedisStore {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, id: &str) -> String {
        format!("{}session:{id}", self.prefix)
    }

    pub async fn get(&self, id: &str) -> Result<Option<String>> {
        check_id(id)?;
        self.conn
            .run("GET", redis::cmd("GET").arg(self.key(id)).clone())
            .await
    }

    pub async fn set(&self, id: &str, value: String, ttl: Duration) -> Result<()> {
        check_id(id)?;
        let ms = ttl.as_millis().min(u64::MAX as u128) as u64;
        if ms == 0 {
            return self.delete(id).await;
        }
        self.conn
            .run::<()>(
                "SET",
                redis::cmd("SET")
                    .arg(self.key(id))
                    .arg(value)
                    .arg("PX")
                    .arg(ms)
                    .clone(),
            )
            .await
    }

    pub async fn delete(&self, id: &str) -> Result<()> {
        check_id(id)?;
        self.conn
            .run::<()>("DEL", redis::cmd("DEL").arg(self.key(id)).clone())
            .await
    }
}
