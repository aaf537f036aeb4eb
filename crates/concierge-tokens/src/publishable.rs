//! Publishable keys (`pk_live_` + base64 of `<frontend host>$`) and the cookie suffix derived
//! from them (wire §1.1, §4.2).

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::Digest;

/// Encodes a publishable key for `frontend_host`: `pk_live_` (or `pk_test_`) followed by standard
/// base64 of `<host>$` without `=` padding.
pub fn encode_publishable_key(frontend_host: &str, live: bool) -> String {
    let prefix = if live { "pk_live_" } else { "pk_test_" };
    format!(
        "{prefix}{}",
        STANDARD_NO_PAD.encode(format!("{frontend_host}$"))
    )
}

/// Decodes a publishable key with the SDKs' validation rules: the prefix, exactly three `_`
/// parts, decodable base64, exactly one trailing `$`, and a dotted host. Returns (host, live).
pub fn decode_publishable_key(key: &str) -> Option<(String, bool)> {
    let live = key.starts_with("pk_live_");
    if !live && !key.starts_with("pk_test_") {
        return None;
    }
    let parts: Vec<&str> = key.split('_').collect();
    if parts.len() != 3 {
        return None;
    }
    let bytes = STANDARD_NO_PAD
        .decode(parts[2].trim_end_matches('='))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let host = text.strip_suffix('$')?;
    if host.contains('$') || !host.contains('.') {
        return None;
    }
    Some((host.to_owned(), live))
}

/// The eight-character cookie suffix: base64url(SHA-1(publishable key)) truncated.
pub fn cookie_suffix(publishable_key: &str) -> String {
    let digest = sha1_digest(publishable_key.as_bytes());
    let mut encoded = URL_SAFE_NO_PAD.encode(digest);
    encoded.truncate(8);
    encoded
}

fn sha1_digest(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

/// SHA-256 through the `sha2` crate (kept here so the digest choice is in one module).
pub(crate) fn sha256_digest(data: &[u8]) -> Vec<u8> {
    sha2::Sha256::digest(data).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples_from_the_spec() {
        assert_eq!(
            encode_publishable_key("clerk.example.test", true),
            "pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA"
        );
        assert_eq!(
            encode_publishable_key("clerk.localhost:3000", true),
            "pk_live_Y2xlcmsubG9jYWxob3N0OjMwMDAk"
        );
        assert_eq!(
            cookie_suffix("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA"),
            "mygDvuFt"
        );
        assert_eq!(
            cookie_suffix("pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA"),
            "6tQWJVae"
        );
        assert_eq!(
            cookie_suffix("pk_live_Y2xlcmsubG9jYWxob3N0OjMwMDAk"),
            "0O0JuLns"
        );
    }

    #[test]
    fn decoding_applies_the_sdk_rules() {
        assert_eq!(
            decode_publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA"),
            Some(("clerk.example.test".into(), true))
        );
        assert_eq!(
            decode_publishable_key(&encode_publishable_key("localhost:3000", true)),
            None
        );
        assert_eq!(decode_publishable_key("sk_live_abc"), None);
        assert_eq!(decode_publishable_key("pk_live_a_b"), None);
    }
}
