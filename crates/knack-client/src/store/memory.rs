//! In-process store: bounded in size (when full, the least recently saved entry goes),
//! entries expire after their TTL.

use super::check_id;
use crate::error::Result;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

impl MemoryStore {
    pub const MAX_ENTRIES: crate::Bound = crate::Bound::new("maxEntries", 1, 1_000_000_000_000);
}

#[derive(Debug)]
struct Entry {
    value: String,
    expires: Instant,
    /// Write order, for eviction.
    seq: u64,
}

#[derive(Debug, Default)]
struct Map {
    entries: HashMap<String, Entry>,
    seq: u64,
}

#[derive(Debug)]
pub struct MemoryStore {
    max_entries: usize,
    map: Mutex<Map>,
}

impl MemoryStore {
    pub fn new(max_entries: usize) -> Self {
        MemoryStore {
            max_entries: max_entries.max(1),
            map: Mutex::new(Map::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn len(&self) -> usize {
        let now = Instant::now();
        self.lock()
            .entries
            .values()
            .filter(|e| e.expires > now)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub async fn get(&self, id: &str) -> Result<Option<String>> {
        check_id(id)?;
        let mut map = self.lock();
        match map.entries.get(id) {
            Some(e) if e.expires > Instant::now() => Ok(Some(e.value.clone())),
            Some(_) => {
                map.entries.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    pub async fn set(&self, id: &str, value: String, ttl: Duration) -> Result<()> {
        check_id(id)?;
        let now = Instant::now();
        let mut map = self.lock();
        if ttl.is_zero() {
            map.entries.remove(id);
            return Ok(());
        }
        if !map.entries.contains_key(id) && map.entries.len() >= self.max_entries {
            map.entries.retain(|_, e| e.expires > now);
            if map.entries.len() >= self.max_entries {
                // Still full: drop the least recently saved entry.
                let victim = map
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.seq)
                    .map(|(k, _)| k.clone());
                if let Some(victim) = victim {
                    map.entries.remove(&victim);
                }
            }
        }
        map.seq += 1;
        let seq = map.seq;
        map.entries.insert(
            id.to_owned(),
            Entry {
                value,
                expires: now + ttl,
                seq,
            },
        );
        Ok(())
    }

    pub async fn delete(&self, id: &str) -> Result<()> {
        check_id(id)?;
        self.lock().entries.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "cccccccccccccccccccccccc";

    #[tokio::test]
    async fn entries_expire_and_size_is_bounded() {
        let s = MemoryStore::new(2);
        s.set(A, "1".into(), Duration::from_millis(30))
            .await
            .unwrap();
        s.set(B, "2".into(), Duration::from_secs(60)).await.unwrap();
        assert_eq!(s.get(A).await.unwrap().as_deref(), Some("1"));
        s.set(C, "3".into(), Duration::from_secs(60)).await.unwrap();
        // Full: the entry closest to expiry (A) went.
        assert_eq!(s.get(A).await.unwrap(), None);
        assert_eq!(s.get(C).await.unwrap().as_deref(), Some("3"));
        s.delete(B).await.unwrap();
        assert_eq!(s.get(B).await.unwrap(), None);
        s.set(A, "1".into(), Duration::from_millis(10))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(s.get(A).await.unwrap(), None);
    }
}
