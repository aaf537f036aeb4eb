//! Verification keys (wire §3): JWKS documents, PEM public keys, RS256/384/512 signature checks,
//! and the cache of the Backend API JWKS (TTL, one refetch on an unknown `kid`).
//!
//! Once keys are cached no request triggers a network call, except a token whose `kid` is
//! unknown, and even then at most one refetch per [`UNKNOWN_KID_REFETCH_INTERVAL_MS`].
//!
//! ```
//! use concierge_sdk::jwks::{keys_from_jwks, JwkSet, VerificationKey};
//! use serde_json::json;
//!
//! # const PEM: &str = "-----BEGIN PUBLIC KEY-----
//! # MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0bFbgmfYjUr9BKk92Xd4
//! # FBJk517jnzD0ugBe2fth6eY3TdNDZnUfvRig6FYaPPhPcoH+ozek2lbbYBVweh95
//! # iNGWrfYCh6wntWKjbK7o5GEBS5xPpv9Y1lZhOt9rs7m49nDL/RA/YiVpqCONDq67
//! # rBrhugvRZDx/SKx2uWUEHpvHTpbCODAWNAZmBdScY/9Dlmfq4VdoC+W7ow97Dui3
//! # qHqb64ZqGhrBBk7X4xWDM8YIK92V+EzQQJPl4M2oWoiMJfI58JUGpuGgjiVRGKQh
//! # nsB4a+yIrEkjlt/5QyNg7mhsriQIPaY+zazoTEM4XphJgPSUzPkgdZb8ecmF2yiw
//! # VQIDAQAB
//! # -----END PUBLIC KEY-----";
//! # const N: &str = "0bFbgmfYjUr9BKk92Xd4FBJk517jnzD0ugBe2fth6eY3TdNDZnUfvRig6FYaPPhPcoH-ozek2lbbYBVweh95iNGWrfYCh6wntWKjbK7o5GEBS5xPpv9Y1lZhOt9rs7m49nDL_RA_YiVpqCONDq67rBrhugvRZDx_SKx2uWUEHpvHTpbCODAWNAZmBdScY_9Dlmfq4VdoC-W7ow97Dui3qHqb64ZqGhrBBk7X4xWDM8YIK92V-EzQQJPl4M2oWoiMJfI58JUGpuGgjiVRGKQhnsB4a-yIrEkjlt_5QyNg7mhsriQIPaY-zazoTEM4XphJgPSUzPkgdZb8ecmF2yiwVQ";
//! // The body of `GET /v1/jwks` (`BackendApi::jwks`): the instance's key, named by the
//! // instance id; `N` is its base64url modulus.
//! let jwks: JwkSet = serde_json::from_value(json!({
//!     "keys": [{"use": "sig", "kty": "RSA", "kid": "ins_2mQ5yW0vTs7RkPq1LnXc4ZbJ8fD", "alg": "RS256", "n": N, "e": "AQAB"}]
//! }))?;
//! let keys = keys_from_jwks(&jwks);
//! // A token's header `kid` picks its key among these.
//! assert_eq!(keys[0].kid(), Some("ins_2mQ5yW0vTs7RkPq1LnXc4ZbJ8fD"));
//!
//! // The same key as the dashboard's PEM "JWT public key": it has no id and matches any `kid`.
//! let key = VerificationKey::from_pem(PEM)?;
//! assert_eq!(key.kid(), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::client::{ApiError, BackendApi};
use crate::{Clock, VerifyError};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    ParsedPublicKey, RsaParameters, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

/// The smallest gap between two refetches caused by unknown `kid`s, so that a flood of forged
/// tokens cannot turn into a flood of Backend API calls.
///
/// ```
/// assert_eq!(concierge_sdk::jwks::UNKNOWN_KID_REFETCH_INTERVAL_MS, 10_000);
/// ```
pub const UNKNOWN_KID_REFETCH_INTERVAL_MS: i64 = 10_000;

/// One JSON Web Key as published by `GET /v1/jwks`.
///
/// ```
/// use concierge_sdk::jwks::Jwk;
///
/// let jwk: Jwk = serde_json::from_str(
///     r#"{"kty":"RSA","kid":"ins_1","alg":"RS256","use":"sig","n":"sXch","e":"AQAB"}"#,
/// ).unwrap();
/// assert_eq!(jwk.key_use.as_deref(), Some("sig"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type; `RSA` for every Clerk key.
    pub kty: String,
    /// Key id, matched against the token header's `kid` (Clerk uses the instance id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended algorithm (`RS256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use (`sig`).
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    /// RSA modulus, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

/// A JWKS document: `{"keys": [...]}`.
///
/// ```
/// use concierge_sdk::jwks::JwkSet;
///
/// let jwks: JwkSet = serde_json::from_str(r#"{"keys":[{"kty":"RSA","kid":"ins_1","n":"sXch","e":"AQAB"}]}"#).unwrap();
/// assert_eq!(jwks.keys[0].kid.as_deref(), Some("ins_1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys, current and retired.
    pub keys: Vec<Jwk>,
}

/// Why a key could not be loaded.
///
/// ```
/// use concierge_sdk::jwks::VerificationKey;
///
/// let error = VerificationKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").unwrap_err();
/// assert_eq!(error.to_string(), "invalid verification key: not an RSA public key");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid verification key: {0}")]
pub struct KeyError(pub(crate) String);

/// The signature algorithms session tokens may use (wire §2.1).
///
/// ```
/// use concierge_sdk::jwks::Algorithm;
///
/// assert_eq!(Algorithm::from_name("RS512"), Some(Algorithm::Rs512));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (what Clerk and Concierge sign with).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
}

impl Algorithm {
    /// Parses a JOSE `alg` value; anything but `RS256`/`RS384`/`RS512` is refused.
    ///
    /// ```
    /// use concierge_sdk::jwks::Algorithm;
    ///
    /// assert_eq!(Algorithm::from_name("RS256"), Some(Algorithm::Rs256));
    /// assert_eq!(Algorithm::from_name("HS256"), None);
    /// assert_eq!(Algorithm::from_name("none"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "RS384" => Some(Self::Rs384),
            "RS512" => Some(Self::Rs512),
            _ => None,
        }
    }

    fn parameters(self) -> &'static RsaParameters {
        match self {
            Self::Rs256 => &RSA_PKCS1_2048_8192_SHA256,
            Self::Rs384 => &RSA_PKCS1_2048_8192_SHA384,
            Self::Rs512 => &RSA_PKCS1_2048_8192_SHA512,
        }
    }

    const ALL: [Self; 3] = [Self::Rs256, Self::Rs384, Self::Rs512];

    fn index(self) -> usize {
        match self {
            Self::Rs256 => 0,
            Self::Rs384 => 1,
            Self::Rs512 => 2,
        }
    }
}

/// An RSA public key that verifies token signatures.
///
/// ```
/// use concierge_sdk::jwks::{Jwk, VerificationKey};
///
/// let jwk = Jwk {
///     kty: "RSA".into(),
///     kid: Some("ins_1".into()),
///     alg: Some("RS256".into()),
///     key_use: Some("sig".into()),
///     n: Some("sXch".into()),
///     e: Some("AQAB".into()),
/// };
/// let key = VerificationKey::from_jwk(&jwk).unwrap();
/// assert_eq!(key.kid(), Some("ins_1"));
/// assert!(VerificationKey::from_pem("not a key").is_err());
/// ```
///
/// Cloning is cheap (the key is shared), and the key is parsed once for each algorithm, so a
/// verification does no key set-up.
#[derive(Clone)]
pub struct VerificationKey(Arc<KeyMaterial>);

struct KeyMaterial {
    kid: Option<String>,
    n: Vec<u8>,
    e: Vec<u8>,
    /// The key parsed for RS256, RS384 and RS512 (by [`Algorithm::index`]); `None` where the
    /// library refuses it for that algorithm (keys under 2048 bits), which then never verifies.
    parsed: [Option<ParsedPublicKey>; 3],
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.0.kid)
            .field("bits", &(self.0.n.len() * 8))
            .finish()
    }
}

impl VerificationKey {
    /// Loads an RSA key from a JWK (`kty: RSA` with `n` and `e`).
    ///
    /// ```
    /// use concierge_sdk::jwks::{Jwk, VerificationKey};
    ///
    /// let mut jwk = Jwk {
    ///     kty: "RSA".into(), kid: Some("ins_1".into()), alg: None, key_use: None,
    ///     n: Some("sXch".into()), e: Some("AQAB".into()),
    /// };
    /// assert!(VerificationKey::from_jwk(&jwk).is_ok());
    /// jwk.kty = "EC".into();
    /// assert!(VerificationKey::from_jwk(&jwk).is_err());
    /// ```
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        if jwk.kty != "RSA" {
            return Err(KeyError(format!("unsupported key type {}", jwk.kty)));
        }
        let component = |value: &Option<String>, name: &str| {
            let text = value
                .as_deref()
                .ok_or_else(|| KeyError(format!("missing {name}")))?;
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|_| KeyError(format!("{name} is not base64url")))
        };
        Ok(Self::from_components(
            jwk.kid.clone(),
            component(&jwk.n, "n")?,
            component(&jwk.e, "e")?,
        ))
    }

    /// Loads an RSA public key from PEM: SPKI (`BEGIN PUBLIC KEY`, what Clerk's dashboard
    /// shows as the "JWT public key") or PKCS#1 (`BEGIN RSA PUBLIC KEY`). This is the
    /// networkless mode: no JWKS is ever fetched.
    ///
    /// ```
    /// use concierge_sdk::jwks::VerificationKey;
    ///
    /// // The instance's "JWT public key" (SPKI PEM), as the dashboard shows it.
    /// let pem = "\
    /// -----BEGIN PUBLIC KEY-----\n\
    /// MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0bFbgmfYjUr9BKk92Xd4\n\
    /// FBJk517jnzD0ugBe2fth6eY3TdNDZnUfvRig6FYaPPhPcoH+ozek2lbbYBVweh95\n\
    /// iNGWrfYCh6wntWKjbK7o5GEBS5xPpv9Y1lZhOt9rs7m49nDL/RA/YiVpqCONDq67\n\
    /// rBrhugvRZDx/SKx2uWUEHpvHTpbCODAWNAZmBdScY/9Dlmfq4VdoC+W7ow97Dui3\n\
    /// qHqb64ZqGhrBBk7X4xWDM8YIK92V+EzQQJPl4M2oWoiMJfI58JUGpuGgjiVRGKQh\n\
    /// nsB4a+yIrEkjlt/5QyNg7mhsriQIPaY+zazoTEM4XphJgPSUzPkgdZb8ecmF2yiw\n\
    /// VQIDAQAB\n\
    /// -----END PUBLIC KEY-----\n\
    /// ";
    /// let key = VerificationKey::from_pem(pem).unwrap();
    /// assert_eq!(key.kid(), None, "PEM keys have no id and match any kid");
    /// assert!(VerificationKey::from_pem("ssh-rsa AAAA…").is_err());
    /// ```
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|line| !line.starts_with("-----"))
            .collect();
        if !pem.contains("-----BEGIN") || body.is_empty() {
            return Err(KeyError("not a PEM public key".into()));
        }
        let der = STANDARD
            .decode(body)
            .map_err(|_| KeyError("the PEM body is not base64".into()))?;
        let key = aws_lc_rs::rsa::PublicKey::from_der(&der)
            .map_err(|_| KeyError("not an RSA public key".into()))?;
        Ok(Self::from_components(
            None,
            key.modulus().big_endian_without_leading_zero().to_vec(),
            key.exponent().big_endian_without_leading_zero().to_vec(),
        ))
    }

    fn from_components(kid: Option<String>, n: Vec<u8>, e: Vec<u8>) -> Self {
        let der = RsaPublicKeyComponents { n: &n, e: &e }.as_der().ok();
        let parsed = Algorithm::ALL.map(|algorithm| {
            der.as_ref()
                .and_then(|der| ParsedPublicKey::new(algorithm.parameters(), der.as_ref()).ok())
        });
        Self(Arc::new(KeyMaterial { kid, n, e, parsed }))
    }

    /// The key id, when the key came from a JWKS.
    ///
    /// ```
    /// use concierge_sdk::jwks::{Jwk, VerificationKey};
    ///
    /// let jwk = Jwk {
    ///     kty: "RSA".into(), kid: Some("ins_1".into()), alg: None, key_use: None,
    ///     n: Some("sXch".into()), e: Some("AQAB".into()),
    /// };
    /// assert_eq!(VerificationKey::from_jwk(&jwk).unwrap().kid(), Some("ins_1"));
    /// ```
    pub fn kid(&self) -> Option<&str> {
        self.0.kid.as_deref()
    }

    /// Whether `signature` is a valid `algorithm` signature of `message` under this key.
    pub(crate) fn verifies(&self, algorithm: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match &self.0.parsed[algorithm.index()] {
            Some(key) => key.verify_sig(message, signature).is_ok(),
            // Not parsable for this algorithm (too small a key, say): the component check
            // refuses it the same way.
            None => RsaPublicKeyComponents {
                n: &self.0.n,
                e: &self.0.e,
            }
            .verify(algorithm.parameters(), message, signature)
            .is_ok(),
        }
    }
}

/// Loads every usable RSA key of a JWKS; keys of other types are skipped.
///
/// ```
/// use concierge_sdk::jwks::{keys_from_jwks, JwkSet};
///
/// let jwks: JwkSet = serde_json::from_str(
///     r#"{"keys":[{"kty":"RSA","kid":"ins_1","n":"sXch","e":"AQAB"},{"kty":"EC","kid":"ec_1"}]}"#,
/// ).unwrap();
/// let keys = keys_from_jwks(&jwks);
/// assert_eq!(keys.len(), 1, "the EC key is skipped");
/// assert_eq!(keys[0].kid(), Some("ins_1"));
/// ```
pub fn keys_from_jwks(jwks: &JwkSet) -> Vec<VerificationKey> {
    jwks.keys
        .iter()
        .filter_map(|jwk| VerificationKey::from_jwk(jwk).ok())
        .collect()
}

struct Cached {
    keys: Vec<VerificationKey>,
    fetched_at_ms: i64,
}

/// The Backend API JWKS with a time-to-live, shared by every request.
pub(crate) struct JwksCache {
    api: BackendApi,
    ttl_ms: i64,
    clock: Arc<dyn Clock>,
    cached: RwLock<Option<Cached>>,
    last_unknown_kid_fetch_ms: RwLock<Option<i64>>,
    fetching: tokio::sync::Mutex<()>,
}

impl JwksCache {
    pub(crate) fn new(api: BackendApi, ttl_ms: i64, clock: Arc<dyn Clock>) -> Self {
        Self {
            api,
            ttl_ms,
            clock,
            cached: RwLock::new(None),
            last_unknown_kid_fetch_ms: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// What the cache holds for `kid`: `Ok(Some)` found, `Ok(None)` fresh but absent,
    /// `Err(stale)` missing or expired (with any stale match kept as a fallback).
    fn lookup(
        &self,
        kid: Option<&str>,
    ) -> Result<Option<VerificationKey>, Option<VerificationKey>> {
        let now = self.clock.now_ms();
        let guard = self.cached.read().unwrap_or_else(|e| e.into_inner());
        let Some(cached) = guard.as_ref() else {
            return Err(None);
        };
        let found = cached.keys.iter().find(|key| key.kid() == kid).cloned();
        if now - cached.fetched_at_ms >= self.ttl_ms {
            return Err(found);
        }
        Ok(found)
    }

    fn fetched_at(&self) -> Option<i64> {
        let guard = self.cached.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(|c| c.fetched_at_ms)
    }

    /// The cached key for `kid` while the cache is fresh.
    pub(crate) fn cached_key(&self, kid: Option<&str>) -> Option<VerificationKey> {
        self.lookup(kid).ok().flatten()
    }

    /// The key for a token's `kid`, fetching the JWKS when the cache is empty or expired, and
    /// once more when the `kid` is unknown (a key rotation).
    pub(crate) async fn key_for(&self, kid: Option<&str>) -> Result<VerificationKey, VerifyError> {
        let stale = match self.lookup(kid) {
            Ok(Some(key)) => return Ok(key),
            Ok(None) => {
                let now = self.clock.now_ms();
                let mut last = self
                    .last_unknown_kid_fetch_ms
                    .write()
                    .unwrap_or_else(|e| e.into_inner());
                if last.is_some_and(|t| now - t < UNKNOWN_KID_REFETCH_INTERVAL_MS) {
                    return Err(kid_mismatch(kid));
                }
                *last = Some(now);
                None
            }
            Err(stale) => stale,
        };
        // The fetch is boxed so that the futures of callers (every request's authentication)
        // carry a pointer, not the HTTP client's state, on the path that needs no fetch.
        Box::pin(self.fetch_key(kid, stale)).await
    }

    /// Fetches the JWKS (one request at a time) and returns the key for `kid`; `stale` is the
    /// expired copy's key, used when the fetch fails.
    async fn fetch_key(
        &self,
        kid: Option<&str>,
        stale: Option<VerificationKey>,
    ) -> Result<VerificationKey, VerifyError> {
        let before = self.fetched_at();
        let _fetching = self.fetching.lock().await;
        // Another request may have refreshed the cache while this one waited.
        if self.fetched_at() != before {
            if let Ok(found) = self.lookup(kid) {
                return found.ok_or_else(|| kid_mismatch(kid));
            }
        }
        match self.api.jwks().await {
            Ok(jwks) if !jwks.keys.is_empty() => {
                let keys = keys_from_jwks(&jwks);
                let found = keys.iter().find(|k| k.kid() == kid).cloned();
                *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
                    keys,
                    fetched_at_ms: self.clock.now_ms(),
                });
                found.ok_or_else(|| kid_mismatch(kid))
            }
            Ok(_) => {
                stale.ok_or_else(|| VerifyError::JwksUnavailable("the JWKS has no keys".into()))
            }
            Err(error) => {
                if let Some(key) = stale {
                    tracing::warn!(error = %error, "JWKS refresh failed; using the expired copy");
                    return Ok(key);
                }
                Err(match &error {
                    ApiError::Response { errors, .. }
                        if errors.iter().any(|e| e.code == "clerk_key_invalid") =>
                    {
                        VerifyError::SecretKeyInvalid
                    }
                    _ => VerifyError::JwksUnavailable(error.to_string()),
                })
            }
        }
    }
}

fn kid_mismatch(kid: Option<&str>) -> VerifyError {
    VerifyError::KidMismatch(kid.unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{key, other_key, session_claims, TestClock, NOW_MS, PK_LIVE};
    use crate::{Clerk, Config};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    /// A fake Backend API serving `/v1/jwks` and counting the fetches.
    struct FakeBapi {
        url: String,
        fetches: Arc<AtomicUsize>,
        answer: Arc<Mutex<(u16, serde_json::Value)>>,
    }

    async fn fake_bapi(keys: Vec<Jwk>) -> FakeBapi {
        let fetches = Arc::new(AtomicUsize::new(0));
        let answer = Arc::new(Mutex::new((
            200,
            serde_json::to_value(JwkSet { keys }).unwrap(),
        )));
        let (count, body) = (fetches.clone(), answer.clone());
        let app = axum::Router::new().route(
            "/v1/jwks",
            axum::routing::get(move |headers: http::HeaderMap| {
                let (count, body) = (count.clone(), body.clone());
                async move {
                    assert_eq!(headers["authorization"], "Bearer sk_live_test");
                    count.fetch_add(1, Ordering::SeqCst);
                    let (status, value) = body.lock().unwrap().clone();
                    (
                        http::StatusCode::from_u16(status).unwrap(),
                        axum::Json(value),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeBapi {
            url,
            fetches,
            answer,
        }
    }

    fn clerk(bapi: &FakeBapi, clock: Arc<TestClock>) -> Clerk {
        let config = Config::new(PK_LIVE)
            .unwrap()
            .secret_key("sk_live_test")
            .api_url(&bapi.url)
            .backend_api_retries(2, std::time::Duration::from_millis(1))
            .clock(clock);
        Clerk::new(config).unwrap()
    }

    #[tokio::test]
    async fn keys_are_fetched_once_and_refetched_after_the_ttl() {
        let bapi = fake_bapi(vec![key().jwk()]).await;
        let clock = TestClock::at(NOW_MS);
        let clerk = clerk(&bapi, clock.clone());
        let token = key().sign(&session_claims());
        for _ in 0..5 {
            clerk.verify_token(&token).await.unwrap();
        }
        assert_eq!(bapi.fetches.load(Ordering::SeqCst), 1, "cached");
        // An hour later the cache has expired (the token too, so verify a fresh one).
        clock.set(NOW_MS + 3_600_000);
        let mut claims = session_claims();
        claims["iat"] = serde_json::json!((NOW_MS + 3_600_000) / 1000);
        claims["exp"] = serde_json::json!((NOW_MS + 3_600_000) / 1000 + 60);
        clerk.verify_token(&key().sign(&claims)).await.unwrap();
        assert_eq!(
            bapi.fetches.load(Ordering::SeqCst),
            2,
            "refetched after the TTL"
        );
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_once_then_waits() {
        let bapi = fake_bapi(vec![key().jwk()]).await;
        let clock = TestClock::at(NOW_MS);
        let clerk = clerk(&bapi, clock.clone());
        clerk
            .verify_token(&key().sign(&session_claims()))
            .await
            .unwrap();
        let foreign = other_key().sign(&session_claims());
        let err = clerk.verify_token(&foreign).await.unwrap_err();
        assert_eq!(err.reason(), "jwk-kid-mismatch");
        assert_eq!(bapi.fetches.load(Ordering::SeqCst), 2);
        for _ in 0..3 {
            let err = clerk.verify_token(&foreign).await.unwrap_err();
            assert_eq!(err.reason(), "jwk-kid-mismatch");
        }
        assert_eq!(bapi.fetches.load(Ordering::SeqCst), 2, "no refetch storm");

        // A rotation: the server now publishes the other key, which is found after the pause.
        bapi.answer.lock().unwrap().1 = serde_json::to_value(JwkSet {
            keys: vec![key().jwk(), other_key().jwk()],
        })
        .unwrap();
        clock.set(NOW_MS + UNKNOWN_KID_REFETCH_INTERVAL_MS);
        clerk.verify_token(&foreign).await.unwrap();
        assert_eq!(bapi.fetches.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn fetch_failures() {
        let bapi = fake_bapi(vec![key().jwk()]).await;
        let clock = TestClock::at(NOW_MS);
        let clerk = clerk(&bapi, clock.clone());
        let token = key().sign(&session_claims());
        clerk.verify_token(&token).await.unwrap();

        // Expired cache and a failing server: the expired copy still verifies known keys.
        *bapi.answer.lock().unwrap() = (503, serde_json::json!({"errors": []}));
        let later = NOW_MS + 3_600_000;
        clock.set(later);
        let mut claims = session_claims();
        claims["iat"] = serde_json::json!(later / 1000);
        claims["exp"] = serde_json::json!(later / 1000 + 60);
        clerk.verify_token(&key().sign(&claims)).await.unwrap();
        assert_eq!(
            bapi.fetches.load(Ordering::SeqCst),
            4,
            "a GET is retried twice on 5xx"
        );

        // A refused secret key, with nothing cached.
        let bapi = fake_bapi(vec![]).await;
        *bapi.answer.lock().unwrap() = (
            401,
            serde_json::json!({"errors": [{"code": "clerk_key_invalid", "message": "invalid"}]}),
        );
        let err = clerk_for(&bapi).verify_token(&token).await.unwrap_err();
        assert_eq!(err.reason(), "secret-key-invalid");
        // An empty JWKS.
        let bapi = fake_bapi(vec![]).await;
        let err = clerk_for(&bapi).verify_token(&token).await.unwrap_err();
        assert_eq!(err.reason(), "jwk-remote-failed-to-load");
    }

    fn clerk_for(bapi: &FakeBapi) -> Clerk {
        clerk(bapi, TestClock::at(NOW_MS))
    }
}
