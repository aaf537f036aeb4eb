//! Publishable keys (`pk_live_`/`pk_test_` + base64 of `<frontend-api host>$`, wire §1.1) and the
//! cookie suffix derived from them (wire §4.2). Parsing only: nothing here talks to a server.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;

/// Whether an instance is a production (`pk_live_`) or development (`pk_test_`) instance.
///
/// ```
/// use concierge_sdk::{InstanceType, PublishableKey};
///
/// let key = PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA").unwrap();
/// assert_eq!(key.instance_type(), InstanceType::Development);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceType {
    /// `pk_live_…`.
    Production,
    /// `pk_test_…`.
    Development,
}

/// Why a publishable key was refused.
///
/// ```
/// let error = concierge_sdk::PublishableKey::parse("sk_live_abc").unwrap_err();
/// assert_eq!(error.to_string(), "invalid publishable key: must start with pk_live_ or pk_test_");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid publishable key: {0}")]
pub struct PublishableKeyError(&'static str);

/// A publishable key validated with the same rules as the official SDKs.
///
/// ```
/// use concierge_sdk::{InstanceType, PublishableKey};
///
/// let key = PublishableKey::parse("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA").unwrap();
/// assert_eq!(key.frontend_api(), "clerk.example.test");
/// assert_eq!(key.instance_type(), InstanceType::Production);
/// assert_eq!(key.cookie_suffix(), "mygDvuFt");
/// assert!(PublishableKey::parse("pk_live_bG9jYWxob3N0OjMwMDAk").is_err()); // `localhost:3000$`: no dot
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishableKey {
    raw: String,
    frontend_api: String,
    instance_type: InstanceType,
    /// [`cookie_suffix`] of `raw`, computed once.
    suffix: String,
}

impl PublishableKey {
    /// Parses a key: the `pk_live_`/`pk_test_` prefix, exactly three `_`-separated parts,
    /// decodable base64 (padding optional), exactly one `$` at the end, and a dotted host.
    ///
    /// ```
    /// use concierge_sdk::PublishableKey;
    ///
    /// assert!(PublishableKey::parse(" pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA ").is_ok());
    /// assert!(PublishableKey::parse("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0").is_err()); // no `$`
    /// ```
    pub fn parse(key: &str) -> Result<Self, PublishableKeyError> {
        let key = key.trim();
        let instance_type = if key.starts_with("pk_live_") {
            InstanceType::Production
        } else if key.starts_with("pk_test_") {
            InstanceType::Development
        } else {
            return Err(PublishableKeyError("must start with pk_live_ or pk_test_"));
        };
        let parts: Vec<&str> = key.split('_').collect();
        let [_, _, encoded] = parts.as_slice() else {
            return Err(PublishableKeyError(
                "must have exactly three `_`-separated parts",
            ));
        };
        let bytes = STANDARD_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .map_err(|_| PublishableKeyError("the key part is not base64"))?;
        let text = String::from_utf8(bytes).map_err(|_| PublishableKeyError("not UTF-8"))?;
        let host = text
            .strip_suffix('$')
            .ok_or(PublishableKeyError("the decoded host must end with `$`"))?;
        if host.contains('$') || !host.contains('.') {
            return Err(PublishableKeyError(
                "the decoded host must contain a dot and a single `$`",
            ));
        }
        Ok(Self {
            raw: key.to_owned(),
            frontend_api: host.to_owned(),
            instance_type,
            suffix: cookie_suffix(key),
        })
    }

    /// The key as given.
    ///
    /// ```
    /// use concierge_sdk::PublishableKey;
    ///
    /// let key = PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA").unwrap();
    /// assert_eq!(key.as_str(), "pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The Frontend API host encoded in the key (`clerk.example.test`); session tokens carry
    /// `iss = https://<this host>`.
    ///
    /// ```
    /// use concierge_sdk::PublishableKey;
    ///
    /// let key = PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA").unwrap();
    /// assert_eq!(key.frontend_api(), "clerk.example.test");
    /// ```
    pub fn frontend_api(&self) -> &str {
        &self.frontend_api
    }

    /// Production or development.
    ///
    /// ```
    /// use concierge_sdk::{InstanceType, PublishableKey};
    ///
    /// let key = PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA").unwrap();
    /// assert_eq!(key.instance_type(), InstanceType::Development);
    /// ```
    pub fn instance_type(&self) -> InstanceType {
        self.instance_type
    }

    /// The eight-character cookie suffix of this key (wire §4.2).
    ///
    /// ```
    /// use concierge_sdk::PublishableKey;
    ///
    /// let key = PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA").unwrap();
    /// assert_eq!(key.cookie_suffix(), "6tQWJVae");
    /// ```
    pub fn cookie_suffix(&self) -> String {
        self.suffix.clone()
    }

    /// The cookie suffix without a copy (computed once when the key was parsed).
    pub(crate) fn suffix(&self) -> &str {
        &self.suffix
    }
}

/// The cookie suffix of a publishable key: the first eight characters of
/// base64url(SHA-1(key)) (wire §4.2). Suffixed cookies are named `<name>_<suffix>`.
///
/// ```
/// assert_eq!(concierge_sdk::cookie_suffix("pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA"), "6tQWJVae");
/// ```
pub fn cookie_suffix(publishable_key: &str) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        publishable_key.as_bytes(),
    );
    let mut encoded = URL_SAFE_NO_PAD.encode(digest.as_ref());
    encoded.truncate(8);
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples_from_the_spec() {
        let cases = [
            (
                "pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA",
                "clerk.example.test",
                "mygDvuFt",
            ),
            (
                "pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA",
                "clerk.example.test",
                "6tQWJVae",
            ),
            (
                "pk_live_Y2xlcmsubG9jYWxob3N0OjMwMDAk",
                "clerk.localhost:3000",
                "0O0JuLns",
            ),
        ];
        for (raw, host, suffix) in cases {
            let key = PublishableKey::parse(raw).unwrap();
            assert_eq!(key.frontend_api(), host);
            assert_eq!(key.cookie_suffix(), suffix);
            assert_eq!(key.as_str(), raw);
        }
        assert_eq!(
            PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA")
                .unwrap()
                .instance_type(),
            InstanceType::Development
        );
    }

    #[test]
    fn validation_rules() {
        let encode = |s: &str| STANDARD_NO_PAD.encode(s);
        assert!(PublishableKey::parse(&format!("pk_live_{}", encode("127.0.0.1:4000$"))).is_ok());
        assert!(PublishableKey::parse(&format!("pk_live_{}==", encode("a.b$"))).is_ok());
        for bad in [
            "sk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA".to_owned(),
            format!("pk_live_{}", encode("localhost:3000$")),
            format!("pk_live_{}", encode("clerk.example.test")),
            format!("pk_live_{}", encode("clerk.$example.test$")),
            format!("pk_live_x_{}", encode("clerk.example.test$")),
            "pk_live_!!!".to_owned(),
        ] {
            assert!(PublishableKey::parse(&bad).is_err(), "{bad}");
        }
    }
}
