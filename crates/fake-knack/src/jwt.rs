//! HS256 JWTs shaped like Knack's user tokens: payload `{"user_id","application_id","iat"}`,
//! no `exp` (expiry is enforced by the server).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub user_id: String,
    pub application_id: String,
    pub iat: i64,
}

/// Signs and verifies tokens with a per-server random secret.
pub struct Jwt {
    secret: [u8; 32],
}

impl Jwt {
    pub fn new() -> Jwt {
        let mut secret = [0u8; 32];
        random_bytes(&mut secret);
        Jwt { secret }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length.
        match HmacSha256::new_from_slice(&self.secret) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes any key length"),
        }
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let payload = serde_json::to_string(claims).unwrap_or_default();
        let mut token = URL_SAFE_NO_PAD.encode(HEADER);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let mut mac = self.mac();
        mac.update(token.as_bytes());
        let sig = mac.finalize().into_bytes();
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(sig));
        token
    }

    /// Checks the signature and decodes the claims; `None` for anything malformed or forged.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
        let mut mac = self.mac();
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&sig).ok()?;
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        if header.get("alg")?.as_str()? != "HS256" {
            return None;
        }
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
        let iat = payload.get("iat")?;
        let iat = iat.as_i64().or_else(|| iat.as_f64().map(|f| f as i64))?;
        Some(Claims {
            user_id: payload.get("user_id")?.as_str()?.to_string(),
            application_id: payload.get("application_id")?.as_str()?.to_string(),
            iat,
        })
    }

    /// A stable per-user hex string (the login response's `utility_key`).
    pub fn utility_key(&self, user_id: &str) -> String {
        let mut mac = self.mac();
        mac.update(b"utility:");
        mac.update(user_id.as_bytes());
        let out = mac.finalize().into_bytes();
        out.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

/// Fills `buf` from the OS; falls back to a time-seeded generator if that fails.
pub fn random_bytes(buf: &mut [u8]) {
    if getrandom::fill(buf).is_ok() {
        return;
    }
    let mut x = crate::clock::real_now_ms() as u64 ^ 0x9E37_79B9_7F4A_7C15;
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
}

pub fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    random_bytes(&mut b);
    u32::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let jwt = Jwt::new();
        let claims = Claims {
            user_id: "000000000000000000000a11".into(),
            application_id: "5f0c0ffee0c0ffee0c0ffee1".into(),
            iat: 1_700_000_000,
        };
        let t = jwt.sign(&claims);
        assert_eq!(jwt.verify(&t), Some(claims.clone()));
        assert!(Jwt::new().verify(&t).is_none(), "other secret");
        let mut forged = t.clone();
        forged.pop();
        forged.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert!(jwt.verify(&forged).is_none());
        assert!(jwt.verify("abc").is_none());
        assert!(jwt.verify("a.b.c").is_none());
        let payload = t.split('.').nth(1).expect("payload");
        let decoded = URL_SAFE_NO_PAD.decode(payload).expect("b64");
        let v: serde_json::Value = serde_json::from_slice(&decoded).expect("json");
        assert_eq!(v["iat"], 1_700_000_000);
        assert!(v.get("exp").is_none());
    }
}
