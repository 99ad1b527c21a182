//! A string that must never be printed: tokens, passwords, keys. Plus the helpers that keep
//! copies of secrets (request bodies, serialized records) in memory that is wiped on drop.

use bytes::Bytes;
use serde::Serialize;
use zeroize::{Zeroize, Zeroizing};

/// Holds a secret string; zeroized on drop; `Debug`/`Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret itself. Call sites are few and deliberate: headers, request bodies,
    /// `getToken()`, encrypted storage.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `Secret` wipes its memory when dropped (its buffer is a `Zeroizing<String>`).
impl zeroize::ZeroizeOnDrop for Secret {}

/// A string read from JSON that holds a secret (a token in a login answer or a stored record):
/// wiped when dropped, whatever happens to the rest of the parse. Take the value out with
/// `std::mem::take(&mut w.0)` into a [`Secret`].
#[derive(serde::Deserialize, Default)]
#[serde(transparent)]
pub(crate) struct WipedString(pub String);

impl Drop for WipedString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Serialize to JSON in a buffer that is wiped on drop. The buffer is sized exactly first, so
/// it never grows: growing would free a smaller copy of the secret without wiping it.
pub(crate) fn to_zeroizing_json<T: Serialize + ?Sized>(
    value: &T,
) -> serde_json::Result<Zeroizing<Vec<u8>>> {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value)?;
    let mut out = Zeroizing::new(Vec::with_capacity(count.0));
    serde_json::to_writer(&mut *out, value)?;
    Ok(out)
}

/// `Bytes` over a buffer that is wiped when the last clone is dropped (request bodies that
/// carry a password, header values that carry a token).
pub(crate) fn zeroizing_bytes(buf: Zeroizing<Vec<u8>>) -> Bytes {
    Bytes::from_owner(buf)
}

/// Wipe a buffer that held a secret (e.g. the login answer, which carries the token) if this
/// is its only reference; otherwise leave it to the other holders.
pub(crate) fn wipe_bytes(bytes: Bytes) {
    if let Ok(mut b) = bytes.try_into_mut() {
        b.as_mut().zeroize();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn zeroizing_json_is_exactly_sized_and_equals_serde_json() {
        let v = serde_json::json!({"password": "p\"w\u{1}é", "email": "a@b.c", "n": [1, 2]});
        let z = to_zeroizing_json(&v).unwrap();
        assert_eq!(z.as_slice(), serde_json::to_vec(&v).unwrap().as_slice());
        assert_eq!(z.len(), z.capacity());
    }
}
