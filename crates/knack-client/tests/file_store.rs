//! FileStore on a hostile or messy disk: damaged session files count as absent, symlinks are
//! never followed, the directory must be private, and the periodic sweep runs off the
//! caller's path.
#![cfg(unix)]

use knack_client::FileStore;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";

/// A fresh path under the temp directory (not created).
fn scratch(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "knack-filestore-it-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn session_file(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.session"))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A session record as the store writes it.
fn record(expires_at_ms: u64, value: &str) -> String {
    format!(r#"{{"expires_at_ms":{expires_at_ms},"value":"{value}"}}"#)
}

fn id(n: usize) -> String {
    format!("sess{n:020}")
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[tokio::test]
async fn damaged_session_files_count_as_absent_and_are_removed() {
    let d = scratch("damaged");
    let s = FileStore::open(&d).expect("open");
    let cases: [(&str, &[u8]); 4] = [
        ("empty", b""),
        ("truncated", br#"{"expires_at_ms":99999999999999,"val"#),
        ("not json", b"\x00\x01garbage"),
        ("json of another shape", br#"{"hello":"world"}"#),
    ];
    for (what, bytes) in cases {
        let f = session_file(&d, A);
        std::fs::write(&f, bytes).expect("write");
        assert_eq!(s.get(A).await.expect(what), None, "{what}");
        assert!(
            !f.exists(),
            "{what}: the damaged file was left to be read again"
        );
    }
    // The id works again afterwards.
    s.set(A, "fresh".into(), Duration::from_secs(60))
        .await
        .expect("set");
    assert_eq!(s.get(A).await.expect("get").as_deref(), Some("fresh"));
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test]
async fn a_directory_in_place_of_a_session_file_counts_as_absent() {
    let d = scratch("dir-in-place");
    let s = FileStore::open(&d).expect("open");
    let f = session_file(&d, A);
    std::fs::create_dir(&f).expect("mkdir");
    std::fs::write(f.join("keep"), b"x").expect("write");
    assert_eq!(s.get(A).await.expect("get"), None);
    assert!(f.join("keep").exists(), "a directory is never removed");
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test]
async fn a_symlinked_session_file_is_never_followed() {
    let d = scratch("symlink-file");
    let outside = scratch("symlink-target");
    std::fs::create_dir(&outside).expect("mkdir");
    let target = outside.join("elsewhere.session");
    let planted = record(now_ms() + 3_600_000, "planted");
    std::fs::write(&target, &planted).expect("write");
    let s = FileStore::open(&d).expect("open");

    let link = session_file(&d, A);
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    assert_eq!(s.get(A).await.expect("get"), None, "the link was followed");
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "the symlink was not removed"
    );
    assert_eq!(std::fs::read_to_string(&target).expect("target"), planted);

    // An expired target behind a link: neither get nor sweep touches it.
    let expired = record(1, "old");
    std::fs::write(&target, &expired).expect("write");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    s.sweep().await;
    assert!(std::fs::symlink_metadata(&link).is_err());
    assert_eq!(std::fs::read_to_string(&target).expect("target"), expired);

    // A write replaces a link itself, never the file it points to.
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    s.set(A, "mine".into(), Duration::from_secs(60))
        .await
        .expect("set");
    assert!(std::fs::symlink_metadata(&link).expect("file").is_file());
    assert_eq!(std::fs::read_to_string(&target).expect("target"), expired);
    assert_eq!(s.get(A).await.expect("get").as_deref(), Some("mine"));

    // A dangling link counts as absent too.
    std::fs::remove_file(&link).expect("rm");
    std::os::unix::fs::symlink(outside.join("nothing"), &link).expect("symlink");
    assert_eq!(s.get(A).await.expect("get"), None);
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&outside);
}

#[tokio::test]
async fn a_failure_to_read_the_directory_itself_is_a_store_error() {
    let d = scratch("dir-gone");
    let s = FileStore::open(&d).expect("open");
    s.set(A, "x".into(), Duration::from_secs(60))
        .await
        .expect("set");
    // The directory is replaced by a file: every lookup fails with ENOTDIR.
    std::fs::remove_dir_all(&d).expect("rm");
    std::fs::write(&d, b"not a directory").expect("write");
    let e = s
        .get(A)
        .await
        .expect_err("a broken directory is not an absent session");
    assert_eq!(e.code(), "KNACK_STORE", "{e:?}");
    std::fs::remove_file(&d).expect("rm");

    if running_as_root() {
        eprintln!("permission-denied case skipped: root reads any directory");
        return;
    }
    let s = FileStore::open(&d).expect("open");
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let e = s
        .get(A)
        .await
        .expect_err("permission denied is a store error");
    assert_eq!(e.code(), "KNACK_STORE", "{e:?}");
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test]
async fn a_sweep_removes_expired_and_damaged_files_and_keeps_live_ones() {
    let d = scratch("sweep");
    let s = FileStore::open(&d).expect("open");
    s.set(&id(1), "live".into(), Duration::from_secs(60))
        .await
        .expect("set");
    // Live, written by an older version (modification time = write time, not the expiry).
    std::fs::write(
        session_file(&d, &id(2)),
        record(now_ms() + 60_000, "old-live"),
    )
    .expect("write");
    std::fs::write(session_file(&d, &id(3)), record(1, "expired")).expect("write");
    std::fs::write(session_file(&d, &id(4)), b"{trunc").expect("write");
    std::fs::write(d.join("unrelated.txt"), b"x").expect("write");
    assert_eq!(s.sweep().await, 2);
    assert_eq!(s.get(&id(1)).await.expect("get").as_deref(), Some("live"));
    assert_eq!(
        s.get(&id(2)).await.expect("get").as_deref(),
        Some("old-live")
    );
    assert!(d.join("unrelated.txt").exists());
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_that_triggers_a_sweep_does_not_wait_for_it() {
    const EXPIRED: usize = 20_000;
    let d = scratch("background-sweep");
    let s = FileStore::open(&d).expect("open");
    let old = record(1, "expired");
    for n in 0..EXPIRED {
        std::fs::write(session_file(&d, &format!("old{n:020}")), &old).expect("write");
    }
    let count_expired = || {
        std::fs::read_dir(&d)
            .expect("read_dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("old"))
            .count()
    };
    for n in 0..199 {
        s.set(&id(n), "v".into(), Duration::from_secs(600))
            .await
            .expect("set");
    }
    assert_eq!(
        count_expired(),
        EXPIRED,
        "a sweep ran before the 200th write"
    );
    let t = Instant::now();
    s.set(&id(199), "v".into(), Duration::from_secs(600))
        .await
        .expect("the 200th set");
    let set_took = t.elapsed();
    let left = count_expired();
    assert!(
        left > 0,
        "the 200th write returned only after the sweep had removed all {EXPIRED} expired files"
    );
    // The sweep does finish, in the background.
    let deadline = Instant::now() + Duration::from_secs(120);
    while count_expired() > 0 {
        assert!(
            Instant::now() < deadline,
            "the background sweep did not finish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sweep_took = t.elapsed();
    eprintln!(
        "200th set: {set_took:?}; {left} expired files left when it returned; sweep done after {sweep_took:?}"
    );
    assert!(
        set_took < sweep_took,
        "the write took {set_took:?}, the sweep {sweep_took:?}"
    );
    for n in 0..200 {
        assert_eq!(s.get(&id(n)).await.expect("get").as_deref(), Some("v"));
    }
    let _ = std::fs::remove_dir_all(&d);
}

fn assert_refused(dir: &Path, mentions: &str) {
    let e = FileStore::open(dir).expect_err("an unsafe directory was accepted");
    assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT", "{e:?}");
    assert!(
        e.message.contains(mentions),
        "message {:?} does not say {mentions:?}",
        e.message
    );
}

#[test]
fn open_refuses_a_directory_others_can_write_to() {
    for (mode, mentions) in [
        (0o777, "every user"),
        (0o1777, "every user"),
        (0o770, "its group"),
        (0o720, "its group"),
    ] {
        let d = scratch("writable");
        std::fs::create_dir(&d).expect("mkdir");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).expect("chmod");
        assert_refused(&d, mentions);
        let _ = std::fs::remove_dir_all(&d);
    }
}

#[test]
fn open_refuses_a_symlinked_directory() {
    let real = scratch("real");
    std::fs::create_dir(&real).expect("mkdir");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let link = scratch("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    assert_refused(&link, "symlink");
    // A dangling one too (it must not be created through).
    std::fs::remove_dir(&real).expect("rmdir");
    assert_refused(&link, "symlink");
    assert!(!real.exists());
    let _ = std::fs::remove_file(&link);
}

#[test]
fn open_refuses_a_path_that_is_not_a_directory() {
    let f = scratch("file");
    std::fs::write(&f, b"x").expect("write");
    assert_refused(&f, "not a directory");
    let _ = std::fs::remove_file(&f);
}

#[test]
fn open_refuses_a_directory_owned_by_another_user() {
    if !running_as_root() {
        eprintln!("SKIPPED: changing a directory's owner needs root");
        return;
    }
    let d = scratch("foreign");
    std::fs::create_dir(&d).expect("mkdir");
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::os::unix::fs::chown(&d, Some(65534), Some(65534)).expect("chown");
    assert_refused(&d, "owned by another user");
    let left: Vec<_> = std::fs::read_dir(&d).expect("read_dir").collect();
    assert!(left.is_empty(), "open left files behind");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn open_accepts_a_private_directory_and_creates_a_missing_one_private() {
    for mode in [0o700, 0o750, 0o755] {
        let d = scratch("private");
        std::fs::create_dir(&d).expect("mkdir");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).expect("chmod");
        FileStore::open(&d).expect("a private directory is fine");
        let left: Vec<_> = std::fs::read_dir(&d).expect("read_dir").collect();
        assert!(left.is_empty(), "open left files behind");
        let _ = std::fs::remove_dir_all(&d);
    }
    let d = scratch("missing").join("nested");
    FileStore::open(&d).expect("created");
    let mode = std::fs::metadata(&d).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let _ = std::fs::remove_dir_all(d.parent().expect("parent"));
}
