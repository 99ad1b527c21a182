//! Knack-style record ids: 12 bytes shown as 24 lower-case hex digits.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A 24-hex record / asset id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub [u8; 12]);

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Id {
    /// Parses exactly 24 hex digits (either case).
    pub fn parse(s: &str) -> Option<Id> {
        let b = s.as_bytes();
        if b.len() != 24 {
            return None;
        }
        let mut out = [0u8; 12];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0])?;
            let lo = hex_val(pair[1])?;
            out[i] = (hi << 4) | lo;
        }
        Some(Id(out))
    }

    /// Appends the 24-hex form to `out`.
    pub fn write_hex(&self, out: &mut Vec<u8>) {
        for byte in self.0 {
            out.push(HEX[(byte >> 4) as usize]);
            out.push(HEX[(byte & 15) as usize]);
        }
    }

    /// The 24-hex form.
    pub fn hex(&self) -> String {
        let mut v = Vec::with_capacity(24);
        self.write_hex(&mut v);
        // Only ASCII hex digits were written.
        String::from_utf8(v).unwrap_or_default()
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.hex())
    }
}

/// Generates ids that are unique for the life of a server: 4 bytes of the start time
/// followed by an 8-byte counter that starts at a random value.
pub struct IdGen {
    prefix: [u8; 4],
    counter: AtomicU64,
}

impl IdGen {
    pub fn new(unix_secs: i64) -> IdGen {
        let start = u64::from(crate::jwt::random_u32());
        IdGen {
            prefix: (unix_secs as u32).to_be_bytes(),
            counter: AtomicU64::new(start << 8),
        }
    }

    pub fn next(&self) -> Id {
        self.next_block(1)
    }

    /// Reserves `n` consecutive ids and returns the first; the others follow with
    /// [`Id::offset`].
    pub fn next_block(&self, n: u64) -> Id {
        let c = self.counter.fetch_add(n.max(1), Ordering::Relaxed);
        self.make(c)
    }

    fn make(&self, c: u64) -> Id {
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&self.prefix);
        b[4..].copy_from_slice(&c.to_be_bytes());
        Id(b)
    }
}

impl Id {
    /// The id `n` places after this one in a block from [`IdGen::next_block`].
    pub fn offset(&self, n: u64) -> Id {
        let mut c = [0u8; 8];
        c.copy_from_slice(&self.0[4..]);
        let v = u64::from_be_bytes(c).wrapping_add(n);
        let mut b = self.0;
        b[4..].copy_from_slice(&v.to_be_bytes());
        Id(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let id = Id::parse("000000000000000000000A11").expect("valid");
        assert_eq!(id.hex(), "000000000000000000000a11");
        assert!(Id::parse("xyz").is_none());
        assert!(Id::parse("00000000000000000000000g").is_none());
    }

    #[test]
    fn generator_is_unique() {
        let g = IdGen::new(1_700_000_000);
        let a = g.next();
        let b = g.next();
        assert_ne!(a, b);
        let first = g.next_block(10);
        assert_eq!(first.offset(9).hex().len(), 24);
        assert_ne!(g.next(), first.offset(9));
    }
}
