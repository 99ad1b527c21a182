//! Which certificate authorities a session trusts: the system store (rustls-platform-verifier:
//! the OS store, or `SSL_CERT_FILE` / `SSL_CERT_DIR` on Linux), plus the `ca` option, plus
//! `NODE_EXTRA_CA_CERTS` as Node itself reads it, so that a corporate TLS-inspecting proxy
//! trusted by every Node HTTP client is trusted here too.

use crate::error::{Error, Result};
use reqwest::Certificate;

/// The environment variable Node reads for extra CA certificates (a PEM file).
pub const NODE_EXTRA_CA_CERTS: &str = "NODE_EXTRA_CA_CERTS";

/// The PEM certificates in `text`, each checked to be usable as a trust anchor; `what`
/// names the source in errors.
fn pem_certs(text: &[u8], what: &str) -> Result<Vec<Certificate>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let mut certs = Vec::new();
    for (i, item) in CertificateDer::pem_slice_iter(text).enumerate() {
        let der =
            item.map_err(|e| Error::invalid(format!("{what} is not PEM certificates ({e})")))?;
        webpki::anchor_from_trusted_cert(&der).map_err(|e| {
            Error::invalid(format!(
                "{what}: certificate {} is not a valid X.509 certificate ({e})",
                i + 1
            ))
        })?;
        certs.push(
            Certificate::from_der(&der)
                .map_err(|e| Error::invalid(format!("{what}: certificate {}: {e}", i + 1)))?,
        );
    }
    if certs.is_empty() {
        return Err(Error::invalid(format!(
            "{what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(certs)
}

/// The roots of the `ca` option: refused when it holds no valid certificate.
pub fn ca_roots(ca: Option<&str>) -> Result<Vec<Certificate>> {
    match ca {
        Some(pem) => pem_certs(pem.as_bytes(), "ca"),
        None => Ok(Vec::new()),
    }
}

/// Why NODE_EXTRA_CA_CERTS, readable but refused by this system's certificate verifier, was
/// left out of every client built since (set once, the first time it happens).
static NODE_EXTRA_UNUSABLE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Builds the HTTP client from `make` (a fresh builder each call) with the system store plus
/// `ca` plus NODE_EXTRA_CA_CERTS. Node warns at start-up and carries on when that file cannot
/// be used; so does this: when the file cannot be read, holds no certificate, or the system
/// verifier refuses it (wine's, for one), the client is built without it and an untrusted
/// certificate's error says why. A `ca` the verifier refuses is an error that names the cause.
pub fn build_client(
    make: impl Fn() -> reqwest::ClientBuilder,
    ca: Option<&str>,
) -> Result<reqwest::Client> {
    let ca = ca_roots(ca)?;
    let node = node_extra_ca_certs().ok().flatten().unwrap_or_default();
    let build = |roots: Vec<Certificate>| {
        let builder = make();
        if roots.is_empty() {
            builder.build()
        } else {
            builder.tls_certs_merge(roots).build()
        }
    };
    if !node.is_empty() && NODE_EXTRA_UNUSABLE.get().is_none() {
        let mut both = ca.clone();
        both.extend(node);
        match build(both) {
            Ok(client) => return Ok(client),
            Err(e) => {
                let _ = NODE_EXTRA_UNUSABLE.set(chain(&e));
            }
        }
    }
    let had_ca = !ca.is_empty();
    build(ca).map_err(|e| {
        let what = if had_ca {
            "the `ca` certificates were refused by this system's certificate verifier: "
        } else {
            ""
        };
        Error::invalid(format!(
            "could not build the HTTP client: {what}{}",
            chain(&e)
        ))
    })
}

/// An error and its sources, innermost last.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// NODE_EXTRA_CA_CERTS read once: its PEM text and its certificates. `Ok(None)` when unset,
/// `Err` with the reason when the file cannot be read or holds no certificate.
fn node_extra_ca() -> Result<Option<(Vec<u8>, Vec<Certificate>)>> {
    let Some(path) = std::env::var_os(NODE_EXTRA_CA_CERTS).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let shown = path.to_string_lossy().into_owned();
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::invalid(format!(
            "{NODE_EXTRA_CA_CERTS}={shown} cannot be read ({e})"
        ))
    })?;
    let certs = pem_certs(&bytes, &format!("{NODE_EXTRA_CA_CERTS}={shown}"))?;
    Ok(Some((bytes, certs)))
}

/// The certificates of NODE_EXTRA_CA_CERTS: `Ok(None)` when unset, `Err` with the reason
/// when the file cannot be read or holds no certificate.
pub fn node_extra_ca_certs() -> Result<Option<Vec<Certificate>>> {
    Ok(node_extra_ca()?.map(|(_, certs)| certs))
}

/// The PEM text of NODE_EXTRA_CA_CERTS when it is set and holds certificates (for the Redis
/// connection, which takes PEM); `None` otherwise, as Node carries on without it.
pub fn node_extra_ca_pem() -> Option<Vec<u8>> {
    node_extra_ca().ok().flatten().map(|(pem, _)| pem)
}

/// rustls's process-wide crypto provider (ring), for the clients that take the default: the
/// Redis connection's. Once; a provider installed by someone else stands.
pub(crate) fn install_crypto() {
    static ONCE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The message of a TLS handshake that failed on the server's certificate, or `None` when
/// `detail` (an error chain's text) is about something else.
pub fn untrusted_message(detail: &str) -> Option<String> {
    let lower = detail.to_ascii_lowercase();
    if !(lower.contains("certificate") || lower.contains("unknownissuer")) {
        return None;
    }
    let extra = match node_extra_ca_certs() {
        Ok(Some(_)) => match NODE_EXTRA_UNUSABLE.get() {
            Some(why) => format!(
                " ({NODE_EXTRA_CA_CERTS} was read but this system's certificate verifier \
                 refused it ({why}), so it was ignored)"
            ),
            None => format!(" ({NODE_EXTRA_CA_CERTS} was read)"),
        },
        Ok(None) => String::new(),
        Err(e) => format!(" ({}, so it was ignored)", e.message),
    };
    Some(format!(
        "the server's TLS certificate was not trusted ({detail}){extra}: behind a proxy that \
         inspects TLS, give its CA certificate as the `ca` option or in {NODE_EXTRA_CA_CERTS}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_option_without_a_certificate_is_refused() {
        for bad in [
            "",
            "not pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            let e = ca_roots(Some(bad)).unwrap_err();
            assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT", "{bad:?}");
            assert!(e.message.starts_with("ca"), "{}", e.message);
        }
    }

    #[test]
    fn only_certificate_failures_get_the_certificate_message() {
        let m = untrusted_message("invalid peer certificate: UnknownIssuer").unwrap();
        assert!(
            m.contains("not trusted") && m.contains("NODE_EXTRA_CA_CERTS"),
            "{m}"
        );
        assert!(untrusted_message("Connection refused (os error 111)").is_none());
    }
}
