//! The governor's window kept in Redis, so every process of an app shares one budget: a
//! sliding-window log timed by the Redis server's clock, the 429 pause shared through a key,
//! and the members set that tells each process how many share the window.

use crate::error::{Error, ErrorCode, Result};
use crate::store::redis::{check_prefix, RedisConn, DEFAULT_PREFIX, OP_TIMEOUT};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A sliding-window log in a sorted set, timed by the Redis server's clock so every host
/// agrees, plus a heartbeat of the caller in the members set (scored by the same clock) so
/// every process learns how many share the window. Returns `{wait, members}`: `wait` is 0 when
/// a slot was taken, else the milliseconds to wait; `members` counts the processes seen in
/// the last `ARGV[4]` milliseconds (the caller included).
const ACQUIRE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local live = tonumber(ARGV[4])
redis.call('ZADD', KEYS[3], now, ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - live)
redis.call('PEXPIRE', KEYS[3], live * 2)
local members = redis.call('ZCARD', KEYS[3])
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return {paused, members} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return {0, members}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {math.max(1, tonumber(oldest[2]) + window - now), members}
"#;

/// Set the pause key for `ARGV[1]` ms unless it already lasts longer.
const PAUSE: &str = r#"
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], 1, 'PX', ARGV[1])
  return 1
end
return 0
"#;

/// A process counts as sharing the window while it asked for a slot this recently. Long on
/// purpose: counting a process that went away only makes the fallback more careful.
pub const MEMBER_LIVENESS: Duration = Duration::from_secs(30);

const PROBE_PAUSE: Duration = Duration::from_millis(200);

/// The names of an app's three window keys. One Lua script touches all three, so they share
/// a hash tag (`{rate:<app id>}`) and with it one Redis Cluster slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowKeys {
    pub window: String,
    pub pause: String,
    pub members: String,
}

impl WindowKeys {
    pub fn new(prefix: Option<&str>, app_id: &str) -> Result<WindowKeys> {
        let prefix = prefix.unwrap_or(DEFAULT_PREFIX);
        check_prefix(prefix)?;
        let tag = format!("{prefix}{{rate:{app_id}}}");
        Ok(WindowKeys {
            pause: format!("{tag}:pause"),
            members: format!("{tag}:members"),
            window: tag,
        })
    }
}

/// What the cluster window answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedAnswer {
    /// `None`: a slot was taken; `Some(wait)`: try again after `wait`.
    pub wait: Option<Duration>,
    /// Processes seen sharing the window recently, this one included (at least 1).
    pub members: u32,
}

/// The cluster-wide part of the governor for one app.
pub struct RedisLimiter {
    conn: Arc<RedisConn>,
    window_key: String,
    pause_key: String,
    members_key: String,
    script: redis::Script,
    pause_script: redis::Script,
    seq: AtomicU64,
    tag: u64,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisLimiter({})", self.window_key)
    }
}

impl RedisLimiter {
    pub fn new(conn: Arc<RedisConn>, prefix: Option<&str>, app_id: &str) -> Result<RedisLimiter> {
        let keys = WindowKeys::new(prefix, app_id)?;
        let mut tag = [0u8; 8];
        getrandom::fill(&mut tag)
            .map_err(|e| Error::new(ErrorCode::Store, format!("no randomness: {e}")))?;
        Ok(RedisLimiter {
            conn,
            window_key: keys.window,
            pause_key: keys.pause,
            members_key: keys.members,
            script: redis::Script::new(ACQUIRE),
            pause_script: redis::Script::new(PAUSE),
            seq: AtomicU64::new(0),
            tag: u64::from_le_bytes(tag),
        })
    }

    /// Try to take a slot (and say this process is alive).
    pub async fn try_acquire(&self, limit: u32, window: Duration) -> Result<SharedAnswer> {
        let member = format!(
            "{:016x}-{}",
            self.tag,
            self.seq.fetch_add(1, Ordering::Relaxed)
        );
        let mut c = self.conn.conn().await?;
        let mut inv = self.script.prepare_invoke();
        inv.key(&self.window_key)
            .key(&self.pause_key)
            .key(&self.members_key)
            .arg(limit)
            .arg(window.as_millis() as u64)
            .arg(member)
            .arg(MEMBER_LIVENESS.as_millis() as u64)
            .arg(format!("{:016x}", self.tag));
        let (wait, members): (i64, i64) =
            match tokio::time::timeout(OP_TIMEOUT, inv.invoke_async(&mut c)).await {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => return Err(self.conn.error("rate window", &e)),
                Err(_) => return Err(Error::new(ErrorCode::Store, "redis: rate window timed out")),
            };
        Ok(SharedAnswer {
            wait: (wait > 0).then(|| Duration::from_millis(wait as u64)),
            members: members.clamp(1, i64::from(u32::MAX)) as u32,
        })
    }

    /// Check that Redis answers again (after a failure). The connection manager reconnects
    /// only when a call fails, so the first error may be the old connection's: try a few
    /// times, a moment apart.
    pub async fn probe(&self) -> Result<()> {
        let mut last = None;
        for attempt in 0..3 {
            if attempt > 0 {
                tokio::time::sleep(PROBE_PAUSE).await;
            }
            match self.conn.run::<()>("PING", redis::cmd("PING")).await {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorCode::Store, "redis: PING failed")))
    }

    /// Hold every process back for `wait` (Knack said 429). A longer pause already shared
    /// stands.
    pub async fn pause(&self, wait: Duration) -> Result<()> {
        let ms = wait.as_millis().clamp(1, u128::from(u64::MAX)) as u64;
        let mut c = self.conn.conn().await?;
        let mut inv = self.pause_script.prepare_invoke();
        inv.key(&self.pause_key).arg(ms);
        match tokio::time::timeout(OP_TIMEOUT, inv.invoke_async::<i64>(&mut c)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.conn.error("rate pause", &e)),
            Err(_) => Err(Error::new(ErrorCode::Store, "redis: rate pause timed out")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slot Redis Cluster gives a key: CRC16 of its hash tag (the text between the first
    /// `{` and the next `}`, when not empty), else of the whole key.
    fn slot(key: &str) -> u16 {
        let b = key.as_bytes();
        let tagged = b.iter().position(|&c| c == b'{').and_then(|open| {
            let close = b[open + 1..].iter().position(|&c| c == b'}')?;
            (close > 0).then(|| &b[open + 1..open + 1 + close])
        });
        let data = tagged.unwrap_or(b);
        let mut crc: u16 = 0;
        for &byte in data {
            crc ^= u16::from(byte) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x1021
                } else {
                    crc << 1
                };
            }
        }
        crc % 16384
    }

    #[test]
    fn an_apps_window_keys_share_one_cluster_slot_whatever_the_prefix() {
        for prefix in [
            None,
            Some("app:"),
            Some("a{b"),
            Some("{tenant-1}:"),
            Some("x}y{"),
        ] {
            let k = WindowKeys::new(prefix, "5f3a9c").unwrap();
            let s = slot(&k.window);
            assert_eq!(slot(&k.pause), s, "{prefix:?}");
            assert_eq!(slot(&k.members), s, "{prefix:?}");
            assert!(k.window.ends_with("{rate:5f3a9c}") || prefix.is_some());
        }
        // Different apps spread over the cluster.
        let a = WindowKeys::new(None, "app-a").unwrap();
        let b = WindowKeys::new(None, "app-b").unwrap();
        assert_ne!(slot(&a.window), slot(&b.window));
        assert_eq!(a.window, "knack-session:{rate:app-a}");
    }
}
