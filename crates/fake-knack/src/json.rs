//! A tiny append-only JSON writer used to render record pages quickly and in a stable key
//! order, plus helpers for Knack-style error bodies.

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends `"key":`.
pub fn write_key(out: &mut Vec<u8>, key: &str) {
    write_str(out, key);
    out.push(b':');
}

/// Appends a number; integral values are written without a fraction.
pub fn write_num(out: &mut Vec<u8>, n: f64) {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15 {
        out.extend_from_slice((n as i64).to_string().as_bytes());
    } else if n.is_finite() {
        out.extend_from_slice(n.to_string().as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

pub fn write_i64(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(n.to_string().as_bytes());
}

/// `{"errors":[{"message": msg}]}`
pub fn error_body(msg: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 32);
    out.extend_from_slice(b"{\"errors\":[{\"message\":");
    write_str(&mut out, msg);
    out.extend_from_slice(b"}]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_serde() {
        for s in [
            "plain",
            "a \"q\" \\ b",
            "tab\tnl\n\u{1}",
            "Bills & <b>",
            "ünï",
        ] {
            let mut out = Vec::new();
            write_str(&mut out, s);
            let back: String = serde_json::from_slice(&out).expect("valid json");
            assert_eq!(back, s);
        }
        let mut out = Vec::new();
        write_num(&mut out, 3.0);
        out.push(b',');
        write_num(&mut out, 2.5);
        assert_eq!(out, b"3,2.5");
    }
}
