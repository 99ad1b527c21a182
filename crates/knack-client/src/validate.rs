//! Checks on caller input, done before any request is made. Every failure is
//! `KNACK_INVALID_ARGUMENT`. Values that reach a URL path are restricted to
//! characters that cannot leave their path segment.

use crate::error::{Error, Result};
use url::Url;

/// A Knack record id: 24 hexadecimal characters.
pub fn is_record_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_key(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A page slug: letters, digits, `-` and `_`, at most 100 characters.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn show(s: &str) -> String {
    let mut out: String = s.chars().take(40).flat_map(char::escape_debug).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// `scene_N`, or a page slug.
pub fn scene(s: &str) -> Result<()> {
    if is_key(s, "scene_") || is_slug(s) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "scene must be a scene key like \"scene_1\" or a page slug, got \"{}\"",
            show(s)
        )))
    }
}

/// Whether a scene argument is a key (`scene_N`) rather than a slug.
pub fn is_scene_key(s: &str) -> bool {
    is_key(s, "scene_")
}

pub fn view(s: &str) -> Result<()> {
    if is_key(s, "view_") {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "view must be a view key like \"view_1\", got \"{}\"",
            show(s)
        )))
    }
}

pub fn record_id(what: &str, s: &str) -> Result<()> {
    if is_record_id(s) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{what} must be a Knack record id (24 hexadecimal characters), got \"{}\"",
            show(s)
        )))
    }
}

/// `field_12`: a field key.
pub fn is_field_key_str(s: &str) -> bool {
    is_key(s, "field_")
}

pub fn field_key(what: &str, s: &str) -> Result<()> {
    if is_key(s, "field_") {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{what} must be a field key like \"field_1\", got \"{}\"",
            show(s)
        )))
    }
}

/// The application id: 24 hexadecimal characters.
pub fn app_id(s: &str) -> Result<()> {
    if is_record_id(s) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "appId must be a Knack application id (24 hexadecimal characters), got \"{}\"",
            show(s)
        )))
    }
}

/// A value that goes into an HTTP header: no CR, LF or other control characters.
/// The value itself is not echoed (it may be a token).
pub fn header_value(what: &str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(Error::invalid(format!(
            "{what} contains a control character (CR, LF, ...), which is not allowed in a header"
        )));
    }
    Ok(())
}

/// The API base URL, e.g. `https://api.knack.com/v1`. Must be https, unless the host is
/// loopback (local tests). No credentials, query or fragment. Returned without a trailing `/`.
pub fn base_url(s: &str) -> Result<Url> {
    let url = Url::parse(s.trim())
        .map_err(|e| Error::invalid(format!("baseUrl is not a valid URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid("baseUrl must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid("baseUrl must not have a query or fragment"));
    }
    let loopback = is_loopback(&url);
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::invalid(
                "baseUrl must use https (plain http is only allowed for loopback hosts)",
            ))
        }
        other => {
            return Err(Error::invalid(format!(
                "baseUrl must be an https URL, got scheme \"{}\"",
                show(other)
            )))
        }
    }
    if url.host().is_none() {
        return Err(Error::invalid("baseUrl has no host"));
    }
    let mut url = url;
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

/// `localhost` or a loopback address: where plain http is allowed (local tests).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A hint for a refused call when `baseUrl` does not end in `/v1`, where Knack's API lives
/// (`https://api.knack.com/v1`, `https://{slug}-api.knack.com/v1` for HIPAA apps).
pub fn base_url_hint(url: &Url) -> Option<String> {
    let path = url.path().trim_end_matches('/');
    (!path.ends_with("/v1")).then(|| {
        let mut fixed = url.clone();
        fixed.set_path(&format!("{path}/v1"));
        format!(
            "baseUrl {} does not end in /v1, where Knack's API lives: did you mean {}?",
            url.as_str().trim_end_matches('/'),
            fixed.as_str()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_without_v1_gets_a_hint_naming_the_fix() {
        let hint = |s: &str| base_url_hint(&base_url(s).unwrap());
        assert_eq!(hint("https://api.knack.com/v1"), None);
        assert_eq!(hint("https://api.knack.com/v1/"), None);
        assert_eq!(hint("https://acme-api.knack.com/v1"), None);
        let h = hint("https://api.knack.com").unwrap();
        assert!(h.contains("did you mean https://api.knack.com/v1?"), "{h}");
        let h = hint("http://127.0.0.1:9/knack").unwrap();
        assert!(h.contains("http://127.0.0.1:9/knack/v1"), "{h}");
    }

    #[test]
    fn scene_and_view_keys() {
        assert!(scene("scene_1").is_ok());
        assert!(scene("my-tickets").is_ok());
        for bad in ["", "../x", "a/b", "a b", "a?b", "a%2fb", "scene_1#", "é"] {
            assert!(scene(bad).is_err(), "{bad}");
        }
        assert!(view("view_12").is_ok());
        for bad in ["", "view_", "view_x", "view_1/..", "VIEW_1", "view_1 "] {
            assert!(view(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn record_ids_are_24_hex() {
        assert!(record_id("id", "000000000000000000000a11").is_ok());
        assert!(record_id("id", "000000000000000000000a1").is_err());
        assert!(record_id("id", "000000000000000000000a1g").is_err());
        assert!(record_id("id", "../../../../../../../..").is_err());
    }

    #[test]
    fn header_values_refuse_control_characters() {
        assert!(header_value("token", "abc.def").is_ok());
        let e = header_value("token", "abc\r\nX-Evil: 1").unwrap_err();
        assert!(!e.message.contains("abc"));
        assert!(header_value("token", "").is_err());
    }

    #[test]
    fn base_url_requires_https_off_loopback() {
        assert_eq!(
            base_url("https://api.knack.com/v1/").unwrap().as_str(),
            "https://api.knack.com/v1"
        );
        assert!(base_url("http://127.0.0.1:8080/v1").is_ok());
        assert!(base_url("http://localhost/v1").is_ok());
        assert!(base_url("http://[::1]:3000/v1").is_ok());
        for bad in [
            "http://api.knack.com/v1",
            "ftp://127.0.0.1/v1",
            "https://user:pw@api.knack.com/v1",
            "https://api.knack.com/v1?x=1",
            "not a url",
        ] {
            assert_eq!(
                base_url(bad).unwrap_err().code(),
                "KNACK_INVALID_ARGUMENT",
                "{bad}"
            );
        }
    }
}
