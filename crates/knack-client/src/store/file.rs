//! One-host store: one file per session in a directory (mode 0700), each written atomically
//! (temporary file, fsync, rename) with mode 0600. Survives restarts. Expired files are
//! removed when read and swept now and then.

use super::check_id;
use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SUFFIX: &str = ".session";
const SWEEP_EVERY: u64 = 200;

#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    writes: AtomicU64,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    expires_at_ms: u64,
    value: String,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn io_err(what: &str, e: std::io::Error) -> Error {
    Error::new(ErrorCode::Store, format!("file store: {what}: {e}"))
}

impl FileStore {
    /// Open (and create, mode 0700) the directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<FileStore> {
        let dir = dir.as_ref().to_path_buf();
        if dir.as_os_str().is_empty() {
            return Err(Error::invalid("FileStore needs a directory"));
        }
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(&dir)
            .map_err(|e| io_err("cannot create the directory", e))?;
        Ok(FileStore {
            dir,
            writes: AtomicU64::new(0),
        })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{SUFFIX}"))
    }

    pub async fn get(&self, id: &str) -> Result<Option<String>> {
        check_id(id)?;
        let path = self.path(id);
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("cannot read a session file", e)),
        };
        let entry: Entry = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            // A damaged file counts as absent; the caller reports it.
            Err(_) => {
                return Err(Error::new(
                    ErrorCode::Store,
                    "file store: a session file is damaged",
                ));
            }
        };
        if entry.expires_at_ms <= now_ms() {
            let _ = tokio::fs::remove_file(&path).await;
            return Ok(None);
        }
        Ok(Some(entry.value))
    }

    pub async fn set(&self, id: &str, value: String, ttl: Duration) -> Result<()> {
        check_id(id)?;
        if ttl.is_zero() {
            return self.delete(id).await;
        }
        let entry = Entry {
            expires_at_ms: now_ms().saturating_add(ttl.as_millis() as u64),
            value,
        };
        let body = serde_json::to_vec(&entry)
            .map_err(|e| Error::new(ErrorCode::Store, format!("file store: {e}")))?;
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd)
            .map_err(|e| Error::new(ErrorCode::Store, format!("no randomness: {e}")))?;
        let tmp = self
            .dir
            .join(format!(".{id}.{:016x}.tmp", u64::from_le_bytes(rnd)));
        let final_path = self.path(id);
        let tmp2 = tmp.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            let mut f = o.open(&tmp2)?;
            f.write_all(&body)?;
            f.sync_all()?;
            std::fs::rename(&tmp2, &final_path)
        })
        .await
        .map_err(|e| Error::new(ErrorCode::Store, format!("file store: {e}")))?
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_err("cannot write a session file", e)
        })?;
        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep().await;
        }
        Ok(())
    }

    pub async fn delete(&self, id: &str) -> Result<()> {
        check_id(id)?;
        match tokio::fs::remove_file(self.path(id)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("cannot delete a session file", e)),
        }
    }

    /// Remove expired session files. Returns how many went.
    pub async fn sweep(&self) -> usize {
        let mut removed = 0;
        let Ok(mut rd) = tokio::fs::read_dir(&self.dir).await else {
            return 0;
        };
        let now = now_ms();
        while let Ok(Some(e)) = rd.next_entry().await {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.ends_with(SUFFIX) {
                continue;
            }
            let expired = match tokio::fs::read(e.path()).await {
                Ok(b) => serde_json::from_slice::<Entry>(&b)
                    .map(|x| x.expires_at_ms <= now)
                    .unwrap_or(false),
                Err(_) => false,
            };
            if expired && tokio::fs::remove_file(e.path()).await.is_ok() {
                removed += 1;
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("knack-filestore-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[tokio::test]
    async fn files_survive_a_new_store_and_are_private() {
        let d = tmpdir("survive");
        let s = FileStore::open(&d).unwrap();
        s.set(A, "sealed".into(), Duration::from_secs(60))
            .await
            .unwrap();
        drop(s);
        let s2 = FileStore::open(&d).unwrap();
        assert_eq!(s2.get(A).await.unwrap().as_deref(), Some("sealed"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.join(format!("{A}.session")))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = std::fs::metadata(&d).unwrap().permissions().mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
        s2.delete(A).await.unwrap();
        assert_eq!(s2.get(A).await.unwrap(), None);
        let leftovers: Vec<_> = std::fs::read_dir(&d).unwrap().collect();
        assert!(leftovers.is_empty(), "temporary files left behind");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test]
    async fn expired_entries_are_absent_and_swept() {
        let d = tmpdir("expire");
        let s = FileStore::open(&d).unwrap();
        s.set(A, "x".into(), Duration::from_millis(5))
            .await
            .unwrap();
        s.set(
            "bbbbbbbbbbbbbbbbbbbbbbbb",
            "y".into(),
            Duration::from_millis(5),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(s.get(A).await.unwrap(), None);
        assert_eq!(s.sweep().await, 1);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test]
    async fn a_damaged_file_is_an_error_not_a_panic() {
        let d = tmpdir("damaged");
        let s = FileStore::open(&d).unwrap();
        std::fs::write(d.join(format!("{A}.session")), b"{not json").unwrap();
        assert_eq!(s.get(A).await.unwrap_err().code(), "KNACK_STORE");
        assert!(s.get("../../../etc/passwd").await.is_err());
        let _ = std::fs::remove_dir_all(&d);
    }
}
