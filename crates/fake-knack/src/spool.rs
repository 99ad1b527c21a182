//! The spool directory: uploaded files are written here while they arrive (never held in
//! memory) and served from here. One directory per server under the system temp directory
//! (`$TMPDIR`), made at start and removed when the server's state goes away; each file is
//! removed when the last reference to its asset goes (reset, failed upload).

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
