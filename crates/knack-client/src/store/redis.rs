//! The session store shared by several processes or hosts, in Redis (one server, TLS, a
//! Cluster or Sentinel: the connection is `store::redis_conn`).

use super::check_id;
pub(crate) use super::redis_conn::OP_TIMEOUT;
pub use super::redis_conn::{RedisConn, RedisTarget, SentinelSpec};
use crate::error::{Error, Result};

use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_PREFIX: &str = "knack-session:";

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
