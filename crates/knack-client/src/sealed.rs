//! Stored sessions, sealed: the session record (token, user, app, expiry, remember) as JSON,
//! encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the app's secret. The
//! session id is the associated data, so a record copied to another id does not open.
//! Several secrets may be given: the first seals, all of them open (key rotation).
//!
//! Format: `v1.` + base64url(nonce[12] || ciphertext || tag[16]).

use crate::error::{Error, ErrorCode, Result};
use crate::secret::{Secret, WipedString};
use crate::session::{SessionState, UserInfo};
use aes_gcm::aead::{Aead, AeadInPlace, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Shortest secret accepted.
pub const MIN_SECRET_LEN: usize = 32;
const PREFIX: &str = "v1.";
const INFO: &[u8] = b"knack-session sealed session v1";

/// The keys derived from the app's secrets.
pub struct KeyRing {
    ciphers: Vec<Aes256Gcm>,
    /// Derived from the first secret, apart from the sealing keys: names the records of
    /// service sessions (`service_id`).
    id_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyRing({} keys, [redacted])", self.ciphers.len())
    }
}

const ID_INFO: &[u8] = b"knack-session service session id v1";

fn id_key(secret: &[u8]) -> Zeroizing<[u8; 32]> {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"knack-session"), secret);
    let mut key = Zeroizing::new([0u8; 32]);
    let _ = hk.expand(ID_INFO, key.as_mut());
    key
}

fn derive(secret: &[u8]) -> Aes256Gcm {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"knack-session"), secret);
    let mut key = Zeroizing::new([0u8; 32]);
    // 32 bytes is always a valid HKDF-SHA256 output length.
    let _ = hk.expand(INFO, key.as_mut());
    Aes256Gcm::new(key.as_ref().into())
}

/// The one secret-length rule: at least `MIN_SECRET_LEN` characters (Unicode scalar values,
/// not bytes or UTF-16 units). Store secrets and the middleware's cookie secret both use it.
pub fn is_strong_secret(s: &str) -> bool {
    s.chars().count() >= MIN_SECRET_LEN
}

impl KeyRing {
    /// From one or more secrets (each at least 32 characters).
    pub fn new(secrets: &[Secret]) -> Result<KeyRing> {
        if secrets.is_empty() {
            return Err(Error::invalid(
                "a secret is needed to encrypt stored sessions",
            ));
        }
        for s in secrets {
            if !is_strong_secret(s.expose()) {
                return Err(Error::invalid(format!(
                    "secret must be at least {MIN_SECRET_LEN} characters (e.g. crypto.randomBytes(32).toString('hex'))"
                )));
            }
        }
        Ok(KeyRing {
            ciphers: secrets
                .iter()
                .map(|s| derive(s.expose().as_bytes()))
                .collect(),
            id_key: id_key(secrets[0].expose().as_bytes()),
        })
    }

    /// The id a service session of `email` in `app_id` is stored under: the same in every
    /// process that has this store's (first) secret, unguessable without it (so no cookie
    /// can name it), and in the shape of a session id (43 characters of base64url). Not
    /// derived from the password: store keys are often visible, and a fast hash of a
    /// password could be searched offline.
    pub fn service_id(&self, app_id: &str, email: &str) -> String {
        let email = email.trim().to_lowercase();
        let mut context = Vec::with_capacity(app_id.len() + email.len() + 1);
        context.extend_from_slice(app_id.as_bytes());
        context.push(0);
        context.extend_from_slice(email.as_bytes());
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(self.id_key.as_ref()), &context);
        let mut id = [0u8; 32];
        let _ = hk.expand(b"id", &mut id);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
    }

    /// A key ring with one random key: for stores that never leave the process.
    pub fn random() -> Result<KeyRing> {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut())
            .map_err(|e| Error::new(ErrorCode::Store, format!("no randomness: {e}")))?;
        Ok(KeyRing {
            ciphers: vec![derive(key.as_ref())],
            id_key: id_key(key.as_ref()),
        })
    }
}

/// A record as sealed: borrows the session's fields, so the token is never copied except into
/// the (wiped) plaintext buffer.
#[derive(Serialize)]
struct RecordOut<'a> {
    v: u8,
    id: &'a str,
    app_id: &'a str,
    token: &'a str,
    remember: Option<bool>,
    user_id: &'a str,
    email: Option<&'a str>,
    name: Option<&'a str>,
    profile_keys: &'a [String],
}

/// A record as opened.
#[derive(Deserialize)]
struct Record {
    v: u8,
    id: String,
    app_id: String,
    token: WipedString,
    #[serde(default)]
    remember: Option<bool>,
    user_id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    profile_keys: Vec<String>,
}

/// Seal a session's state.
pub fn seal(keys: &KeyRing, app_id: &str, state: &SessionState) -> Result<String> {
    let record = RecordOut {
        v: 1,
        id: &state.id,
        app_id,
        token: state.token.expose(),
        remember: state.remember,
        user_id: &state.user.id,
        email: state.user.email.as_deref(),
        name: state.user.name.as_deref(),
        profile_keys: &state.user.profile_keys,
    };
    let plain = crate::secret::to_zeroizing_json(&record)
        .map_err(|e| Error::new(ErrorCode::Store, format!("session record: {e}")))?;
    seal_bytes(keys, &state.id, &plain)
}

/// Encrypt `plain` under the first key with `id` as associated data: `v1.` + base64url(nonce
/// || ciphertext || tag). `seal` is this over the JSON record.
pub fn seal_bytes(keys: &KeyRing, id: &str, plain: &[u8]) -> Result<String> {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce)
        .map_err(|e| Error::new(ErrorCode::Store, format!("no randomness: {e}")))?;
    // Encrypted in place, in a buffer that already has room for the tag: it never grows (a
    // grown buffer would free a plaintext copy unwiped) and is wiped on drop all the same.
    let mut body = Zeroizing::new(Vec::with_capacity(plain.len() + 16));
    body.extend_from_slice(plain);
    keys.ciphers[0]
        .encrypt_in_place(Nonce::from_slice(&nonce), id.as_bytes(), &mut *body)
        .map_err(|_| Error::new(ErrorCode::Store, "could not encrypt the session record"))?;
    let mut raw = Vec::with_capacity(12 + body.len());
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&body);
    let mut out = String::with_capacity(PREFIX.len() + raw.len().div_ceil(3) * 4);
    out.push_str(PREFIX);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&raw, &mut out);
    Ok(out)
}

/// Open a sealed record stored under `id` for app `app_id`. Any failure (tampered, foreign,
/// other key, garbage) is `KNACK_STORE` and says why without echoing the content.
pub fn open(keys: &KeyRing, id: &str, app_id: &str, text: &str) -> Result<SessionState> {
    let bad = |why: &str| {
        Error::new(
            ErrorCode::Store,
            format!("stored session {}: {why}", short(id)),
        )
    };
    let body = text
        .trim()
        .strip_prefix(PREFIX)
        .ok_or_else(|| bad("unknown format"))?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| bad("not base64url"))?;
    if raw.len() < 12 + 16 {
        return Err(bad("too short"));
    }
    let (nonce, sealed) = raw.split_at(12);
    let plain = keys
        .ciphers
        .iter()
        .find_map(|c| {
            c.decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: id.as_bytes(),
                },
            )
            .ok()
        })
        .map(Zeroizing::new)
        .ok_or_else(|| {
            bad("does not decrypt (tampered, stored under another id, or another secret)")
        })?;
    let mut record: Record =
        serde_json::from_slice(&plain).map_err(|_| bad("not a session record"))?;
    if record.v != 1 || record.id != id {
        return Err(bad("record does not belong to this id"));
    }
    if record.app_id != app_id {
        return Err(bad("record belongs to another Knack application"));
    }
    let token = Secret::new(std::mem::take(&mut record.token.0));
    Ok(SessionState {
        id: record.id,
        token,
        remember: record.remember,
        user: UserInfo {
            id: record.user_id,
            email: record.email,
            name: record.name,
            profile_keys: record.profile_keys,
        },
    })
}

fn short(id: &str) -> String {
    id.chars().take(6).chain("…".chars()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ids_are_stable_per_secret_and_differ_by_app_email_and_secret() {
        let a = KeyRing::new(&[Secret::new("s".repeat(32))]).unwrap();
        let b = KeyRing::new(&[Secret::new("t".repeat(32))]).unwrap();
        let rotated =
            KeyRing::new(&[Secret::new("s".repeat(32)), Secret::new("t".repeat(32))]).unwrap();
        let id = a.service_id("app1", "Jobs@Example.com ");
        assert_eq!(id.len(), 43);
        assert!(id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(
            id,
            a.service_id("app1", "jobs@example.com"),
            "case and spaces of the email do not matter"
        );
        assert_eq!(
            id,
            rotated.service_id("app1", "jobs@example.com"),
            "the first secret names it"
        );
        assert_ne!(id, b.service_id("app1", "jobs@example.com"));
        assert_ne!(id, a.service_id("app2", "jobs@example.com"));
        assert_ne!(id, a.service_id("app1", "other@example.com"));
        assert_ne!(
            id,
            a.service_id("app1j", "obs@example.com"),
            "app and email are separated"
        );
    }

    fn state() -> SessionState {
        SessionState {
            id: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".into(),
            token: Secret::new("tok.en.value"),
            remember: Some(true),
            user: UserInfo {
                id: "000000000000000000000a11".into(),
                email: Some("a@b.c".into()),
                name: None,
                profile_keys: vec!["profile_1".into()],
            },
        }
    }

    fn ring(s: &str) -> KeyRing {
        KeyRing::new(&[Secret::new(s)]).unwrap()
    }

    const APP: &str = "5f0c0ffee0c0ffee0c0ffee1";
    const S1: &str = "0123456789abcdef0123456789abcdef";
    const S2: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn round_trip_and_no_plaintext_token() {
        let k = ring(S1);
        let st = state();
        let text = seal(&k, APP, &st).unwrap();
        assert!(!text.contains("tok.en.value"));
        let back = open(&k, &st.id, APP, &text).unwrap();
        assert_eq!(back.token.expose(), "tok.en.value");
        assert_eq!(back.user, st.user);
        assert_eq!(back.remember, Some(true));
        // Same state sealed twice differs (random nonce).
        assert_ne!(text, seal(&k, APP, &st).unwrap());
    }

    #[test]
    fn tampered_foreign_and_wrong_key_records_do_not_open() {
        let k = ring(S1);
        let st = state();
        let text = seal(&k, APP, &st).unwrap();
        let mut bytes = text.clone().into_bytes();
        let i = bytes.len() - 5;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        for (id, app, t, keys) in [
            (st.id.as_str(), APP, tampered.as_str(), &k),
            (
                "another-id-another-id-another-id-another-id",
                APP,
                text.as_str(),
                &k,
            ),
            (
                st.id.as_str(),
                "ffffffffffffffffffffffff",
                text.as_str(),
                &k,
            ),
            (st.id.as_str(), APP, text.as_str(), &ring(S2)),
            (st.id.as_str(), APP, "garbage", &k),
            (st.id.as_str(), APP, "v1.!!!", &k),
            (st.id.as_str(), APP, "v1.AAAA", &k),
        ] {
            let e = open(keys, id, app, t).unwrap_err();
            assert_eq!(e.code(), "KNACK_STORE");
        }
    }

    #[test]
    fn rotation_opens_with_any_key_and_seals_with_the_first() {
        let old = ring(S1);
        let text = seal(&old, APP, &state()).unwrap();
        let both = KeyRing::new(&[Secret::new(S2), Secret::new(S1)]).unwrap();
        assert!(open(&both, &state().id, APP, &text).is_ok());
        let new_text = seal(&both, APP, &state()).unwrap();
        assert!(open(&ring(S2), &state().id, APP, &new_text).is_ok());
        assert!(open(&old, &state().id, APP, &new_text).is_err());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            KeyRing::new(&[Secret::new("short")]).unwrap_err().code(),
            "KNACK_INVALID_ARGUMENT"
        );
        assert!(KeyRing::new(&[]).is_err());
    }
}
