//! The spool directory: uploaded files are written here while they arrive (never held in
//! memory) and served from here. One directory per server under the system temp directory
//! (`$TMPDIR`), made at start and removed when the server's state goes away; each file is
//! removed when the last reference to its asset goes (reset, failed upload). A server killed
//! with SIGKILL cannot clean up: on Linux, the next start removes the directories of
//! fake-knack processes that no longer exist.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

#[derive(Debug)]
pub struct SpoolDir {
    path: PathBuf,
    next: AtomicU64,
}

impl SpoolDir {
    /// `$TMPDIR/fake-knack-<pid>-<random>/`
    pub fn create() -> Result<SpoolDir, Error> {
        sweep_stale();
        let mut rand = [0u8; 6];
        crate::jwt::random_bytes(&mut rand);
        let suffix: String = rand.iter().map(|b| format!("{b:02x}")).collect();
        let path = std::env::temp_dir().join(format!("fake-knack-{}-{suffix}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(SpoolDir {
            path,
            next: AtomicU64::new(1),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new, not yet created, file name in the directory; the file is removed when the
    /// returned value is dropped.
    pub fn new_file(&self) -> SpoolFile {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        SpoolFile {
            path: self.path.join(format!("upload-{n}.bin")),
        }
    }
}

/// Removes `fake-knack-<pid>-<hex>` directories of processes that are gone (Linux only:
/// elsewhere there is no cheap way to tell).
fn sweep_stale() {
    if !cfg!(target_os = "linux") || !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("fake-knack-")) else {
            continue;
        };
        let Some((pid, suffix)) = rest.split_once('-') else {
            continue;
        };
        let is_ours = pid.parse::<u32>().is_ok()
            && suffix.len() == 12
            && suffix.bytes().all(|b| b.is_ascii_hexdigit());
        if is_ours && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Drop for SpoolDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A spooled file, removed on drop.
#[derive(Debug)]
pub struct SpoolFile {
    path: PathBuf,
}

impl SpoolFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_directory_go_away() {
        let dir = SpoolDir::create().expect("dir");
        let p = dir.path().to_path_buf();
        assert!(p.is_dir());
        let f = dir.new_file();
        std::fs::write(f.path(), b"x").expect("write");
        let fp = f.path().to_path_buf();
        assert!(fp.exists());
        drop(f);
        assert!(!fp.exists());
        let g = dir.new_file();
        std::fs::write(g.path(), b"y").expect("write");
        drop(dir);
        assert!(!p.exists());
        drop(g);
    }
}
