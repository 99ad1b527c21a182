//! Where sealed sessions are kept. Each store keeps opaque strings (sealed records, see
//! `sealed.rs`) under session ids, with a time to live. Stores never see a token in clear.

pub(crate) mod file;
pub(crate) mod memory;
pub(crate) mod redis;
pub(crate) mod redis_conn;

pub use file::FileStore;
pub use memory::{MemoryStore, DEFAULT_MAX_ENTRIES};
pub use redis::{RedisConn, RedisStore, RedisTarget, SentinelSpec};

use crate::error::{Error, Result};

/// A session id as stores accept it: 16-128 characters of `A-Z a-z 0-9 - _` (safe as a file
/// name and a Redis key part).
/// The one session-id rule: 16-128 characters of letters, digits, '-' and '_' (the ids this
/// package makes are 43). Stores, `restore()` and the middleware's cookies all use it.
pub fn is_session_id(id: &str) -> bool {
    (16..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn check_id(id: &str) -> Result<()> {
    if is_session_id(id) {
        Ok(())
    } else {
        Err(Error::invalid(
            "session id must be 16-128 characters of letters, digits, '-' and '_'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_escape_a_directory_or_a_key() {
        assert!(check_id("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").is_ok());
        for bad in [
            "short",
            "../../../../etc/passwd-x",
            "abc/defghijklmnopqrst",
            "abcdefghijklmnop:*",
            "abcdefghijklmnop\n",
        ] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
