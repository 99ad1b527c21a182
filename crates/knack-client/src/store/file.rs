//! One-host store: one file per session in a directory, each written atomically (temporary
//! file, fsync, rename) with mode 0600 and its modification time set to its expiry. Survives
//! restarts.
//!
//! The directory (created with mode 0700 when missing) must be private: `open` refuses a
//! symlink, a directory writable by its group or by others, and one owned by another user.
//! Session files are never followed through a symlink. A session file that is damaged (empty,
//! truncated, not JSON, too large, a symlink, not a regular file) counts as absent, is removed
//! when it is a file or a symlink (only the link itself goes), and is reported in the log.
//! Expired files are removed when read, and swept in the background every `SWEEP_EVERY` writes
//! (one sweep at a time; files whose modification time lies ahead are live and not read).

use super::check_id;
use crate::error::{Error, ErrorCode, Result};
use crate::klog;
use serde::{Deserialize, Serialize};
use std::fs::Metadata;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SUFFIX: &str = ".session";
const SWEEP_EVERY: u64 = 200;
/// Sealed sessions are a few KiB; anything far larger is not one of ours.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    writes: AtomicU64,
    /// A background sweep is running.
    sweeping: Arc<AtomicBool>,
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

fn join_err(e: tokio::task::JoinError) -> Error {
    Error::new(ErrorCode::Store, format!("file store: {e}"))
}

/// What is under a session file's name.
enum Found {
    Absent,
    Live(String),
    /// Expired; the metadata of the file that was read (to remove that file only).
    Expired(Metadata),
    /// Damaged (why, for the log), with the metadata of what to remove: `None` for what is
    /// left in place (a directory, a device...).
    Damaged(&'static str, Option<Metadata>),
}

#[cfg(unix)]
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &Metadata, _: &Metadata) -> bool {
    true
}

/// Read a session file without following a symlink: `lstat`, open, then check that the file
/// opened is the one that was looked at (a name swapped in between is looked at again).
fn read_session(path: &Path, now_ms: u64) -> std::io::Result<Found> {
    for _ in 0..3 {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Absent),
            Err(e) => return Err(e),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            return Ok(Found::Damaged("it was a symlink", Some(meta)));
        }
        if !ft.is_file() {
            return Ok(Found::Damaged("it is not a regular file", None));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Ok(Found::Damaged("it was too large", Some(meta)));
        }
        let f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Absent),
            Err(e) => return Err(e),
        };
        let opened = f.metadata()?;
        if !opened.is_file() || !same_file(&meta, &opened) {
            // Replaced since the look (a write renamed over it, or a link was swapped in).
            continue;
        }
        let mut bytes = Vec::with_capacity(opened.len() as usize);
        f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
        if bytes.is_empty() {
            return Ok(Found::Damaged("it was empty", Some(opened)));
        }
        return Ok(match serde_json::from_slice::<Entry>(&bytes) {
            Err(_) => Found::Damaged("it was not a complete session record", Some(opened)),
            Ok(e) if e.expires_at_ms <= now_ms => Found::Expired(opened),
            Ok(e) => Found::Live(e.value),
        });
    }
    Ok(Found::Damaged("it kept changing while being read", None))
}

/// Remove `path` if it is still what `meta` describes (a fresh write may have renamed a new
/// file over it since). A symlink is unlinked itself, never followed.
fn discard(path: &Path, meta: &Metadata) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(now) if same_file(&now, meta) => std::fs::remove_file(path).is_ok(),
        _ => false,
    }
}

/// Remove expired and damaged session files in `dir`. Returns how many went.
fn sweep_dir(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = now_ms();
    let now_t = SystemTime::now();
    let (mut removed, mut damaged) = (0, 0);
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.ends_with(SUFFIX) || name.starts_with('.') {
            continue;
        }
        // Written by `set` with the expiry as modification time: live, no need to read it.
        if let Ok(m) = e.metadata() {
            if m.is_file() && m.modified().is_ok_and(|t| t > now_t) {
                continue;
            }
        }
        let path = e.path();
        match read_session(&path, now) {
            Ok(Found::Expired(m)) => removed += usize::from(discard(&path, &m)),
            Ok(Found::Damaged(_, Some(m))) => {
                let gone = usize::from(discard(&path, &m));
                removed += gone;
                damaged += gone;
            }
            _ => {}
        }
    }
    if damaged > 0 {
        klog!(
            Warn,
            "file store: {damaged} damaged session file(s) were discarded by a sweep"
        );
    }
    removed
}

/// Clears the "a sweep is running" flag, also if the sweep panics.
struct SweepDone(Arc<AtomicBool>);
impl Drop for SweepDone {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

fn invalid_dir(dir: &Path, why: &str) -> Error {
    Error::invalid(format!("FileStore directory {}: {why}", dir.display()))
}

/// The directory itself, not a symlink to one, and a directory: its metadata.
fn real_dir(dir: &Path) -> Result<std::fs::Metadata> {
    let meta =
        std::fs::symlink_metadata(dir).map_err(|e| io_err("cannot inspect the directory", e))?;
    if meta.file_type().is_symlink() {
        return Err(invalid_dir(
            dir,
            "is a symlink; give the directory it points to",
        ));
    }
    if !meta.is_dir() {
        return Err(invalid_dir(dir, "is not a directory"));
    }
    Ok(meta)
}

/// The directory must be a real directory, private to this process's user.
#[cfg(unix)]
fn check_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    let meta = real_dir(dir)?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(invalid_dir(
            dir,
            &format!(
                "is writable by {} (mode {mode:o}): other users could plant or swap session files; make it private (chmod 700)",
                if mode & 0o002 != 0 { "every user" } else { "its group" }
            ),
        ));
    }
    // The owner, compared with this process's user: the owner of a file made in it.
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd)
        .map_err(|e| Error::new(ErrorCode::Store, format!("no randomness: {e}")))?;
    let probe = dir.join(format!(".probe.{:016x}.tmp", u64::from_le_bytes(rnd)));
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&probe);
    let me = match f {
        Ok(f) => {
            let uid = f.metadata().map(|m| m.uid());
            let _ = std::fs::remove_file(&probe);
            uid.map_err(|e| io_err("cannot inspect the directory", e))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(invalid_dir(
                dir,
                &format!(
                    "this process cannot write in it (owned by uid {})",
                    meta.uid()
                ),
            ));
        }
        Err(e) => return Err(io_err("cannot write in the directory", e)),
    };
    if meta.uid() != me {
        return Err(invalid_dir(
            dir,
            &format!(
                "is owned by another user (uid {}, this process runs as uid {me})",
                meta.uid()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_dir(dir: &Path) -> Result<()> {
    real_dir(dir).map(|_| ())
}

impl FileStore {
    /// Open the directory, creating it (mode 0700) when missing. An existing one must be a
    /// directory (not a symlink), owned by this process's user and not writable by its group or
    /// by others (`KNACK_INVALID_ARGUMENT` otherwise).
    pub fn open(dir: impl AsRef<Path>) -> Result<FileStore> {
        let dir = dir.as_ref().to_path_buf();
        if dir.as_os_str().is_empty() {
            return Err(Error::invalid("FileStore needs a directory"));
        }
        match std::fs::symlink_metadata(&dir) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut b = std::fs::DirBuilder::new();
                b.recursive(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::DirBuilderExt;
                    b.mode(0o700);
                }
                b.create(&dir)
                    .map_err(|e| io_err("cannot create the directory", e))?;
            }
            Err(e) => return Err(io_err("cannot inspect the directory", e)),
        }
        check_dir(&dir)?;
        Ok(FileStore {
            dir,
            writes: AtomicU64::new(0),
            sweeping: Arc::new(AtomicBool::new(false)),
        })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{SUFFIX}"))
    }

    /// The value stored under `id`, or `None` when absent, expired or damaged. Only a failure
    /// to look in the directory itself is an error.
    pub async fn get(&self, id: &str) -> Result<Option<String>> {
        check_id(id)?;
        let path = self.path(id);
        tokio::task::spawn_blocking(move || -> Result<Option<String>> {
            match read_session(&path, now_ms())
                .map_err(|e| io_err("cannot read a session file", e))?
            {
                Found::Absent => Ok(None),
                Found::Live(v) => Ok(Some(v)),
                Found::Expired(m) => {
                    discard(&path, &m);
                    Ok(None)
                }
                Found::Damaged(why, m) => {
                    // Never the id in the log: it unlocks the session.
                    let removed = m.is_some_and(|m| discard(&path, &m));
                    klog!(
                        Warn,
                        "file store: a damaged session file was {} ({why}); the session counts as absent",
                        if removed { "discarded" } else { "ignored" }
                    );
                    Ok(None)
                }
            }
        })
        .await
        .map_err(join_err)?
    }

    pub async fn set(&self, id: &str, value: String, ttl: Duration) -> Result<()> {
        check_id(id)?;
        if ttl.is_zero() {
            return self.delete(id).await;
        }
        let expires_at_ms = now_ms().saturating_add(ttl.as_millis().min(u64::MAX as u128) as u64);
        let entry = Entry {
            expires_at_ms,
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
            // `create_new` (O_EXCL) never follows a symlink; `rename` replaces a link itself.
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            let mut f = o.open(&tmp2)?;
            f.write_all(&body)?;
            // The expiry as modification time lets a sweep skip live files unread.
            if let Some(t) = UNIX_EPOCH.checked_add(Duration::from_millis(expires_at_ms)) {
                let _ = f.set_modified(t);
            }
            f.sync_all()?;
            std::fs::rename(&tmp2, &final_path)
        })
        .await
        .map_err(join_err)?
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_err("cannot write a session file", e)
        })?;
        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep_in_background();
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

    /// Start a sweep off the caller's path, unless one is running.
    fn sweep_in_background(&self) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self
            .sweeping
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let done = SweepDone(self.sweeping.clone());
        let dir = self.dir.clone();
        drop(rt.spawn_blocking(move || {
            let _done = done;
            let n = sweep_dir(&dir);
            klog!(Debug, "file store: a sweep removed {n} session file(s)");
        }));
    }

    /// Remove expired (and damaged) session files now. Returns how many went.
    pub async fn sweep(&self) -> usize {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || sweep_dir(&dir))
            .await
            .unwrap_or(0)
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
    async fn a_damaged_file_counts_as_absent_and_ids_are_checked() {
        let d = tmpdir("damaged");
        let s = FileStore::open(&d).unwrap();
        std::fs::write(d.join(format!("{A}.session")), b"{not json").unwrap();
        assert_eq!(s.get(A).await.unwrap(), None);
        assert!(!d.join(format!("{A}.session")).exists());
        assert!(s.get("../../../etc/passwd").await.is_err());
        let _ = std::fs::remove_dir_all(&d);
    }
}
