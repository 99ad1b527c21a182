//! Knack user tokens: decoding the JWT claims (without verifying the signature,
//! which only Knack can do) and the token's lifetime.

use crate::error::{Error, Result};
use crate::validate::is_record_id;
use base64::Engine;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Lifetime of a token without "Remember me": 48 hours.
pub const SHORT_LIFETIME: Duration = Duration::from_secs(48 * 3600);
/// Lifetime of a token with "Remember me": 14 days.
pub const LONG_LIFETIME: Duration = Duration::from_secs(14 * 24 * 3600);

/// The latest issued-at accepted: 9999-12-31T23:59:59Z. Beyond it the times a session derives
/// from the token (issued, expires) do not fit a `SystemTime` (fuzzing found that a token with
/// `"iat": 17000005551555915000` made them panic, which aborted the Node process).
pub const MAX_IAT: u64 = 253_402_300_799;

/// The claims Knack puts in a user token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub user_id: String,
    pub application_id: String,
    /// Issued-at, unix seconds.
    pub iat: u64,
}

impl Claims {
    /// Decode the payload of a Knack JWT. Errors are `KNACK_INVALID_ARGUMENT` and never echo
    /// the token.
    pub fn decode(token: &str) -> Result<Claims> {
        let bad = |why: &str| Error::invalid(format!("token is not a Knack user token: {why}"));
        if token.len() > 8192 {
            return Err(bad("too long"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected three dot-separated parts"));
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(bad("empty part"));
        }
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let decode_part = |part: &str| {
            // Accept padded base64url as well.
            b64.decode(part.trim_end_matches('='))
                .map_err(|_| bad("a part is not base64url"))
        };
        let header_json = decode_part(header)?;
        let header: serde_json::Value =
            serde_json::from_slice(&header_json).map_err(|_| bad("header is not JSON"))?;
        if !header.is_object() {
            return Err(bad("header is not a JSON object"));
        }
        let payload_json = decode_part(payload)?;
        let payload: serde_json::Value =
            serde_json::from_slice(&payload_json).map_err(|_| bad("payload is not JSON"))?;
        let user_id = payload
            .get("user_id")
            .and_then(|v| v.as_str())
            .filter(|s| is_record_id(s))
            .ok_or_else(|| bad("missing or invalid user_id"))?;
        let application_id = payload
            .get("application_id")
            .and_then(|v| v.as_str())
            .filter(|s| is_record_id(s))
            .ok_or_else(|| bad("missing or invalid application_id"))?;
        let iat = match payload.get("iat") {
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| *f >= 0.0 && f.is_finite())
                        .map(|f| f as u64)
                })
                .ok_or_else(|| bad("invalid iat"))?,
            _ => return Err(bad("missing iat")),
        };
        if iat > MAX_IAT {
            return Err(bad("iat is out of range"));
        }
        Ok(Claims {
            user_id: user_id.to_owned(),
            application_id: application_id.to_owned(),
            iat,
        })
    }

    /// Issued-at as a time (claims built by hand past [`MAX_IAT`] count as `MAX_IAT`).
    pub fn issued_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.iat.min(MAX_IAT))
    }
}

/// When a token stops working. `remember`: `Some(true)` = 14 days, `Some(false)` = 48 h,
/// `None` = unknown, so the upper bound (14 days).
/// Never panics: a time too far in the future to add the lifetime to is its own expiry.
pub fn expires_at(iat: SystemTime, remember: Option<bool>) -> SystemTime {
    let lifetime = match remember {
        Some(false) => SHORT_LIFETIME,
        _ => LONG_LIFETIME,
    };
    iat.checked_add(lifetime).unwrap_or(iat)
}

/// Milliseconds since the unix epoch (0 for times before it).
pub fn to_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64.encode(r#"{"typ":"JWT","alg":"HS256"}"#),
            b64.encode(payload)
        )
    }

    #[test]
    fn decodes_user_app_and_iat() {
        let t = jwt(
            r#"{"user_id":"000000000000000000000a11","application_id":"5f0c0ffee0c0ffee0c0ffee1","iat":1700000000}"#,
        );
        let c = Claims::decode(&t).unwrap();
        assert_eq!(c.user_id, "000000000000000000000a11");
        assert_eq!(c.application_id, "5f0c0ffee0c0ffee0c0ffee1");
        assert_eq!(c.iat, 1_700_000_000);
    }

    #[test]
    fn rejects_malformed_tokens_without_echoing_them() {
        for t in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "!!!.###.$$$",
            &jwt("not json"),
            &jwt(r#"{"user_id":"x","application_id":"5f0c0ffee0c0ffee0c0ffee1","iat":1}"#),
            &jwt(r#"{"user_id":"000000000000000000000a11","iat":1}"#),
            &jwt(
                r#"{"user_id":"000000000000000000000a11","application_id":"5f0c0ffee0c0ffee0c0ffee1"}"#,
            ),
            &jwt(
                r#"{"user_id":"000000000000000000000a11","application_id":"5f0c0ffee0c0ffee0c0ffee1","iat":-5}"#,
            ),
        ] {
            let e = Claims::decode(t).unwrap_err();
            assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT", "{t}");
            if t.len() > 3 {
                assert!(!e.message.contains(t), "message echoes the token");
            }
        }
    }

    #[test]
    fn a_huge_iat_is_refused_instead_of_crashing() {
        // Found by fuzz/fuzz_targets/token_claims.rs: this token aborted the Node process.
        let t = jwt(
            r#"{"user_id":"000000000000000000000a11","application_id":"5f0c0ffee0c0ffee0c0ffee1","iat":17000005551555915000}"#,
        );
        let e = Claims::decode(&t).unwrap_err();
        assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT");
        assert!(e.message.contains("iat is out of range"), "{}", e.message);
        for iat in ["1e300", "18446744073709551615", "253402300800"] {
            let t = jwt(&format!(
                r#"{{"user_id":"000000000000000000000a11","application_id":"5f0c0ffee0c0ffee0c0ffee1","iat":{iat}}}"#
            ));
            assert!(Claims::decode(&t).is_err(), "{iat}");
        }
        // The last accepted second still has an expiry.
        let t = jwt(&format!(
            r#"{{"user_id":"000000000000000000000a11","application_id":"5f0c0ffee0c0ffee0c0ffee1","iat":{MAX_IAT}}}"#
        ));
        let c = Claims::decode(&t).unwrap();
        assert!(expires_at(c.issued_at(), None) > c.issued_at());
        // Claims made by hand, and times at the edge, do not panic either.
        let c = Claims { iat: u64::MAX, ..c };
        let _ = expires_at(c.issued_at(), Some(false));
        let far = UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 - 1);
        assert_eq!(expires_at(far, None), far);
    }

    #[test]
    fn expiry_is_48h_or_14d_and_unknown_means_the_upper_bound() {
        let iat = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            expires_at(iat, Some(false)),
            iat + Duration::from_secs(172_800)
        );
        assert_eq!(
            expires_at(iat, Some(true)),
            iat + Duration::from_secs(1_209_600)
        );
        assert_eq!(expires_at(iat, None), iat + Duration::from_secs(1_209_600));
    }
}
