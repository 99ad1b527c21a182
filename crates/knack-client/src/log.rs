//! A tiny leveled logger to stderr, switched on with `KNACK_SESSION_LOG=error|warn|info|debug`.
//! Log lines are built from non-secret facts only (method, path, status, timings, codes):
//! tokens, passwords, request bodies and query strings are never passed to it.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Off = 0,
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

static LEVEL: AtomicU8 = AtomicU8::new(u8::MAX);

fn parse(s: &str) -> Level {
    match s.trim().to_ascii_lowercase().as_str() {
        "error" => Level::Error,
        "warn" | "warning" => Level::Warn,
        "info" => Level::Info,
        "debug" | "trace" | "all" | "1" | "true" => Level::Debug,
        _ => Level::Off,
    }
}

/// The level a name given through the API stands for: exactly `off`, `error`, `warn`,
/// `info` or `debug`.
pub fn level_named(name: &str) -> Option<Level> {
    match name {
        "off" => Some(Level::Off),
        "error" => Some(Level::Error),
        "warn" => Some(Level::Warn),
        "info" => Some(Level::Info),
        "debug" => Some(Level::Debug),
        _ => None,
    }
}

pub fn level() -> Level {
    let v = LEVEL.load(Ordering::Relaxed);
    if v != u8::MAX {
        return match v {
            1 => Level::Error,
            2 => Level::Warn,
            3 => Level::Info,
            4 => Level::Debug,
            _ => Level::Off,
        };
    }
    let l = std::env::var("KNACK_SESSION_LOG")
        .map(|s| parse(&s))
        .unwrap_or(Level::Off);
    LEVEL.store(l as u8, Ordering::Relaxed);
    l
}

/// Set the level (overrides the environment variable).
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn enabled(l: Level) -> bool {
    l != Level::Off && l <= level()
}

pub fn write(l: Level, msg: &str) {
    eprintln!("knack-session {:?}: {msg}", l);
}

#[macro_export]
macro_rules! klog {
    ($lvl:ident, $($arg:tt)*) => {
        if $crate::log::enabled($crate::log::Level::$lvl) {
            $crate::log::write($crate::log::Level::$lvl, &format!($($arg)*));
        }
    };
}
