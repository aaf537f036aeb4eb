//! Networkless session-token verification (wire §2.3): header rules (`typ`, `alg`, `cat`),
//! the RS256/384/512 signature before any claim, then `sub`, `aud`, `azp`, `iss`, `exp`, `nbf`,
//! `iat` with a clock skew; and handshake-token verification (wire §5.3: signature only).
//!
//! Everything here is synchronous and pure: keys and "now" are arguments. Key resolution (PEM
//! or the cached JWKS) is done by [`crate::Clerk`].
//!
//! ```
//! use concierge_sdk::jwks::VerificationKey;
//! use concierge_sdk::verify::{verify_session_token, VerifyOptions};
//! use serde_json::json;
//! # use aws_lc_rs::{encoding::AsDer, rand::SystemRandom, rsa::KeySize};
//! # use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
//! # use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
//! # use base64::Engine;
//! # // An instance key pair: the application only ever sees the public half, as PEM.
//! # let pair = RsaKeyPair::generate(KeySize::Rsa2048)?;
//! # let pem = format!(
//! #     "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
//! #     STANDARD.encode(pair.public_key().as_der()?.as_ref())
//! # );
//! # // Signs like the instance does: RS256, a `kid`, the session-token `cat`.
//! # let sign = |claims: serde_json::Value| -> Result<String, aws_lc_rs::error::Unspecified> {
//! #     let header = json!({"alg": "RS256", "cat": "cl_B7d4PD111AAA", "kid": "ins_1", "typ": "JWT"});
//! #     let input = format!(
//! #         "{}.{}",
//! #         URL_SAFE_NO_PAD.encode(header.to_string()),
//! #         URL_SAFE_NO_PAD.encode(claims.to_string())
//! #     );
//! #     let mut signature = vec![0; pair.public_modulus_len()];
//! #     pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature)?;
//! #     Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
//! # };
//!
//! let keys = [VerificationKey::from_pem(&pem)?];
//! let options = VerifyOptions {
//!     authorized_parties: vec!["https://app.example.test".into()],
//!     issuers: vec!["clerk.example.test".into()],
//!     ..VerifyOptions::default()
//! };
//! // A one-minute session token minted at 2025-10-09T08:53:20Z.
//! let token = sign(json!({
//!     "sub": "user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe", "sid": "sess_2mQ7bXJcR4PnW1zK8uYfTdE3aLs",
//!     "iss": "https://clerk.example.test", "azp": "https://app.example.test",
//!     "iat": 1_760_000_000, "nbf": 1_759_999_990, "exp": 1_760_000_060, "v": 2, "sts": "active"
//! }))?;
//!
//! let now_ms = 1_760_000_010_000;
//! let claims = verify_session_token(&token, &keys, &options, now_ms)?;
//! assert_eq!(claims.sub, "user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe");
//! assert_eq!(claims.session_status.as_deref(), Some("active"));
//!
//! // Two minutes later it has expired (beyond the 5 s clock skew).
//! let later = verify_session_token(&token, &keys, &options, now_ms + 120_000).unwrap_err();
//! assert_eq!(later.reason(), "token-expired");
//! // A page of another origin cannot use it.
//! let elsewhere = VerifyOptions { authorized_parties: vec!["https://other-app.example.test".into()], ..options };
//! let refused = verify_session_token(&token, &keys, &elsewhere, now_ms).unwrap_err();
//! assert_eq!(refused.reason(), "token-invalid-authorized-parties");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::claims::SessionClaims;
use crate::jwks::{Algorithm, VerificationKey};
use crate::jwt::DecodedJwt;
use crate::payload::Claim;
use serde_json::Value;

/// Header `cat` of session tokens.
///
/// ```
/// assert_eq!(concierge_sdk::verify::SESSION_TOKEN_CATEGORY, "cl_B7d4PD111AAA");
/// ```
pub const SESSION_TOKEN_CATEGORY: &str = "cl_B7d4PD111AAA";
/// Header `cat` meaning "no category" (accepted like a session token).
///
/// ```
/// assert_eq!(concierge_sdk::verify::IGNORED_TOKEN_CATEGORY, "cl_I7d4PD111III");
/// ```
pub const IGNORED_TOKEN_CATEGORY: &str = "cl_I7d4PD111III";
/// Header `cat` of JWT-template tokens, refused as session tokens (wire §2.6).
///
/// ```
/// assert_eq!(concierge_sdk::verify::TEMPLATE_TOKEN_CATEGORY, "cl_B7d4PD222AAA");
/// ```
pub const TEMPLATE_TOKEN_CATEGORY: &str = "cl_B7d4PD222AAA";
/// Header `cat` of machine-to-machine tokens, refused as session tokens.
///
/// ```
/// assert_eq!(concierge_sdk::verify::M2M_TOKEN_CATEGORY, "cl_B7d4PD333AAA");
/// ```
pub const M2M_TOKEN_CATEGORY: &str = "cl_B7d4PD333AAA";

/// The default clock skew: 5 seconds, as `@clerk/backend`.
///
/// ```
/// use concierge_sdk::verify::{VerifyOptions, DEFAULT_CLOCK_SKEW_MS};
///
/// assert_eq!(VerifyOptions::default().clock_skew_ms, DEFAULT_CLOCK_SKEW_MS);
/// ```
pub const DEFAULT_CLOCK_SKEW_MS: i64 = 5_000;

/// Why a token was refused. [`VerifyError::reason`] gives the `@clerk/backend` reason string,
/// which is also what `x-clerk-auth-reason` carries.
///
/// ```
/// use concierge_sdk::VerifyError;
///
/// let error = VerifyError::Expired { exp: 1_760_000_060, now_ms: 1_760_000_100_000 };
/// assert_eq!(error.reason(), "token-expired");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a decodable JWT, or a header `typ` other than `JWT`.
    #[error("invalid token: {0}")]
    Malformed(String),
    /// A JWT-template, machine or otherwise non-session token.
    #[error("not a session token: {0}")]
    TokenTypeMismatch(String),
    /// `alg` is not RS256, RS384 or RS512.
    #[error("unsupported algorithm {0:?}")]
    InvalidAlgorithm(String),
    /// The signature does not match the key.
    #[error("invalid signature")]
    InvalidSignature,
    /// A required claim is missing or has the wrong type (`sub`, `exp`).
    #[error("token verification failed: {0}")]
    VerificationFailed(String),
    /// `aud` does not match the configured audience.
    #[error("invalid audience")]
    InvalidAudience,
    /// `azp` is not one of the configured authorized parties.
    #[error("unauthorized party {0:?}")]
    InvalidAuthorizedParty(String),
    /// `iss` is not the publishable key's Frontend API.
    #[error("invalid issuer {0:?}")]
    InvalidIssuer(String),
    /// `exp` is in the past (beyond the skew).
    #[error("token expired at {exp} (now {now_ms} ms)")]
    Expired {
        /// The token's `exp` in seconds.
        exp: i64,
        /// The verifier's time in milliseconds.
        now_ms: i64,
    },
    /// `nbf` is in the future (beyond the skew).
    #[error("token not active before {0}")]
    NotActiveYet(i64),
    /// `iat` is in the future (beyond the skew).
    #[error("token issued in the future at {0}")]
    IatInTheFuture(i64),
    /// No key in the JWKS has the token's `kid`.
    #[error("no key with kid {0:?}")]
    KidMismatch(String),
    /// The JWKS could not be fetched.
    #[error("JWKS unavailable: {0}")]
    JwksUnavailable(String),
    /// The Backend API refused the secret key while fetching the JWKS.
    #[error("the secret key was refused")]
    SecretKeyInvalid,
    /// Neither a PEM key nor a secret key is configured.
    #[error("no key to verify with")]
    NoKey,
}

impl VerifyError {
    /// The `@clerk/backend` `TokenVerificationErrorReason` for this error (wire §2.3).
    ///
    /// ```
    /// use concierge_sdk::VerifyError;
    ///
    /// assert_eq!(VerifyError::InvalidSignature.reason(), "token-invalid-signature");
    /// assert_eq!(VerifyError::KidMismatch("ins_2".into()).reason(), "jwk-kid-mismatch");
    /// ```
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "token-invalid",
            Self::TokenTypeMismatch(_) => "token-type-mismatch",
            Self::InvalidAlgorithm(_) => "token-invalid-algorithm",
            Self::InvalidSignature => "token-invalid-signature",
            Self::VerificationFailed(_) => "token-verification-failed",
            Self::InvalidAudience => "token-invalid-audience",
            Self::InvalidAuthorizedParty(_) => "token-invalid-authorized-parties",
            Self::InvalidIssuer(_) => "token-invalid-issuer",
            Self::Expired { .. } => "token-expired",
            Self::NotActiveYet(_) => "token-not-active-yet",
            Self::IatInTheFuture(_) => "token-iat-in-the-future",
            Self::KidMismatch(_) => "jwk-kid-mismatch",
            Self::JwksUnavailable(_) => "jwk-remote-failed-to-load",
            Self::SecretKeyInvalid => "secret-key-invalid",
            Self::NoKey => "jwk-failed-to-resolve",
        }
    }
}

/// Claim rules applied after the signature check.
///
/// ```
/// use concierge_sdk::verify::VerifyOptions;
///
/// let options = VerifyOptions {
///     authorized_parties: vec!["https://app.example.test".into()],
///     issuers: vec!["clerk.example.test".into()],
///     ..VerifyOptions::default()
/// };
/// assert!(options.audience.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Accepted `azp` values (page origins such as `https://app.example.com`). Empty accepts
    /// any; a token without `azp` is accepted either way, as `@clerk/backend` does.
    pub authorized_parties: Vec<String>,
    /// Accepted `iss` hosts (scheme stripped). Empty skips the check; otherwise `iss` must be
    /// present and equal `https://<host>` (or `http://<host>`) for one of them.
    pub issuers: Vec<String>,
    /// Accepted `aud` values; checked only when both this and the token's `aud` are present.
    pub audience: Vec<String>,
    /// Tolerance for `exp`, `nbf` and `iat`, in milliseconds.
    pub clock_skew_ms: i64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            authorized_parties: Vec::new(),
            issuers: Vec::new(),
            audience: Vec::new(),
            clock_skew_ms: DEFAULT_CLOCK_SKEW_MS,
        }
    }
}

/// Refuses tokens that are not session tokens by their shape alone (wire §2.1, §4.5 row 10):
/// a JWT-template or M2M `cat`, a machine `typ`, or a `sub` starting `mch_`.
///
/// ```
/// use concierge_sdk::{jwt, verify};
/// # use base64::Engine;
/// # fn jwt(header: &str, claims: &str) -> String {
/// #     let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
/// #     format!("{}.{}.c2ln", b64(header), b64(claims))
/// # }
///
/// let session = jwt::decode(&jwt(r#"{"alg":"RS256","cat":"cl_B7d4PD111AAA"}"#, r#"{"sub":"user_1"}"#)).unwrap();
/// assert!(verify::check_token_type(&session).is_ok());
/// let template = jwt::decode(&jwt(r#"{"alg":"RS256","cat":"cl_B7d4PD222AAA"}"#, r#"{"sub":"user_1"}"#)).unwrap();
/// assert_eq!(verify::check_token_type(&template).unwrap_err().reason(), "token-type-mismatch");
/// ```
pub fn check_token_type(jwt: &DecodedJwt) -> Result<(), VerifyError> {
    if jwt.header.cat.is_present() {
        let category = jwt.header.cat.as_str().unwrap_or_default();
        if category != SESSION_TOKEN_CATEGORY && category != IGNORED_TOKEN_CATEGORY {
            return Err(VerifyError::TokenTypeMismatch(format!(
                "header cat {category:?}"
            )));
        }
    }
    if matches!(
        jwt.header.typ.as_str(),
        Some("at+jwt" | "application/at+jwt")
    ) {
        return Err(VerifyError::TokenTypeMismatch("machine token typ".into()));
    }
    if jwt
        .payload
        .sub
        .as_str()
        .is_some_and(|sub| sub.starts_with("mch_"))
    {
        return Err(VerifyError::TokenTypeMismatch("machine subject".into()));
    }
    Ok(())
}

/// Header checks (`typ` absent or `JWT`, `alg` RS256/384/512) and the signature.
///
/// ```
/// use concierge_sdk::jwks::{Jwk, VerificationKey};
/// use concierge_sdk::{jwt, verify};
/// # use base64::Engine;
/// # fn jwt(header: &str, claims: &str) -> String {
/// #     let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
/// #     format!("{}.{}.c2ln", b64(header), b64(claims))
/// # }
/// # let key = VerificationKey::from_jwk(&Jwk {
/// #     kty: "RSA".into(), kid: None, alg: None, key_use: None,
/// #     n: Some("sXch".into()), e: Some("AQAB".into()),
/// # }).unwrap();
///
/// let hs256 = jwt::decode(&jwt(r#"{"alg":"HS256"}"#, r#"{"sub":"user_1"}"#)).unwrap();
/// assert_eq!(verify::check_signature(&hs256, &key).unwrap_err().reason(), "token-invalid-algorithm");
/// let forged = jwt::decode(&jwt(r#"{"alg":"RS256"}"#, r#"{"sub":"user_1"}"#)).unwrap();
/// assert_eq!(verify::check_signature(&forged, &key).unwrap_err().reason(), "token-invalid-signature");
/// ```
pub fn check_signature(jwt: &DecodedJwt, key: &VerificationKey) -> Result<(), VerifyError> {
    if jwt.header.typ.is_present() && jwt.header.typ.as_str() != Some("JWT") {
        let typ = jwt.header().get("typ").cloned().unwrap_or_default();
        return Err(VerifyError::Malformed(format!("header typ {typ}")));
    }
    let name = jwt.header.alg.as_str().unwrap_or_default();
    let algorithm =
        Algorithm::from_name(name).ok_or_else(|| VerifyError::InvalidAlgorithm(name.into()))?;
    if !key.verifies(algorithm, jwt.signing_input().as_bytes(), &jwt.signature) {
        return Err(VerifyError::InvalidSignature);
    }
    Ok(())
}

fn strip_scheme(iss: &str) -> &str {
    iss.strip_prefix("https://")
        .or_else(|| iss.strip_prefix("http://"))
        .unwrap_or(iss)
        .trim_end_matches('/')
}

/// Claim checks in `@clerk/backend`'s order: `sub`, `aud`, `azp`, `iss`, `exp`, `nbf`, `iat`.
///
/// ```
/// use concierge_sdk::verify::{check_claims, VerifyOptions};
/// use concierge_sdk::jwt;
/// # use base64::Engine;
/// # fn jwt(header: &str, claims: &str) -> String {
/// #     let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
/// #     format!("{}.{}.c2ln", b64(header), b64(claims))
/// # }
///
/// let token = jwt(
///     r#"{"alg":"RS256"}"#,
///     r#"{"sub":"user_1","iss":"https://clerk.example.test","iat":1760000000,"exp":1760000060}"#,
/// );
/// let decoded = jwt::decode(&token).unwrap();
/// let options = VerifyOptions { issuers: vec!["clerk.example.test".into()], ..VerifyOptions::default() };
/// assert_eq!(check_claims(&decoded, &options, 1_760_000_010_000).unwrap().sub, "user_1");
/// let later = check_claims(&decoded, &options, 1_760_000_070_000).unwrap_err();
/// assert_eq!(later.reason(), "token-expired");
/// ```
pub fn check_claims(
    jwt: &DecodedJwt,
    options: &VerifyOptions,
    now_ms: i64,
) -> Result<SessionClaims, VerifyError> {
    check_claim_rules(jwt, options, options.clock_skew_ms, now_ms)?;
    typed_claims(jwt.clone()).map(|(claims, _)| claims)
}

/// The typed claims of a payload that passed [`check_claim_rules`], and the token.
pub(crate) fn typed_claims(jwt: DecodedJwt) -> Result<(SessionClaims, String), VerifyError> {
    let claims = SessionClaims::from_payload(jwt.payload, jwt.payload_object)
        .ok_or_else(|| VerifyError::VerificationFailed("sub and exp are required".into()))?;
    Ok((claims, jwt.token))
}

/// The rules of [`check_claims`] with an explicit clock skew, without building the claims.
pub(crate) fn check_claim_rules(
    jwt: &DecodedJwt,
    options: &VerifyOptions,
    skew: i64,
    now_ms: i64,
) -> Result<(), VerifyError> {
    let claims = &jwt.payload;
    if claims.sub.as_str().is_none() {
        return Err(VerifyError::VerificationFailed(
            "sub must be a string".into(),
        ));
    }
    if !options.audience.is_empty() {
        let aud: Vec<&str> = match jwt.claims().get("aud") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !aud.is_empty() && !aud.iter().any(|a| options.audience.iter().any(|b| b == a)) {
            return Err(VerifyError::InvalidAudience);
        }
    }
    if let Some(azp) = claims.azp.as_str().filter(|azp| !azp.is_empty()) {
        if !options.authorized_parties.is_empty()
            && !options.authorized_parties.iter().any(|p| p == azp)
        {
            return Err(VerifyError::InvalidAuthorizedParty(azp.to_owned()));
        }
    }
    if !options.issuers.is_empty() {
        let iss = claims.iss.as_str().unwrap_or_default();
        let host = strip_scheme(iss);
        if iss.is_empty() || !options.issuers.iter().any(|accepted| accepted == host) {
            return Err(VerifyError::InvalidIssuer(iss.to_owned()));
        }
    }
    let exp = claims
        .exp
        .seconds()
        .ok_or_else(|| VerifyError::VerificationFailed("exp must be a number".into()))?;
    if exp.saturating_mul(1000) <= now_ms - skew {
        return Err(VerifyError::Expired { exp, now_ms });
    }
    for (name, claim, error) in [
        (
            "nbf",
            &claims.nbf,
            VerifyError::NotActiveYet as fn(i64) -> VerifyError,
        ),
        ("iat", &claims.iat, VerifyError::IatInTheFuture),
    ] {
        match claim {
            Claim::Absent => {}
            _ => {
                let at = claim.seconds().ok_or_else(|| {
                    VerifyError::VerificationFailed(format!("{name} must be a number"))
                })?;
                if at.saturating_mul(1000) > now_ms + skew {
                    return Err(error(at));
                }
            }
        }
    }
    Ok(())
}

/// Verifies a session token against known keys at time `now_ms`, without any network.
///
/// The key is the one whose id equals the header `kid`; a key without id (loaded from PEM)
/// matches any `kid`.
///
/// ```
/// use concierge_sdk::verify::{verify_session_token, VerifyOptions};
///
/// let err = verify_session_token("not.a.jwt", &[], &VerifyOptions::default(), 0).unwrap_err();
/// assert_eq!(err.reason(), "token-invalid");
/// ```
pub fn verify_session_token(
    token: &str,
    keys: &[VerificationKey],
    options: &VerifyOptions,
    now_ms: i64,
) -> Result<SessionClaims, VerifyError> {
    let jwt = crate::jwt::decode(token)?;
    check_token_type(&jwt)?;
    let key = select_key(&jwt, keys)?;
    check_signature(&jwt, key)?;
    check_claims(&jwt, options, now_ms)
}

/// The key for a token among `keys` (PEM keys match any `kid`).
pub(crate) fn select_key<'a>(
    jwt: &DecodedJwt,
    keys: &'a [VerificationKey],
) -> Result<&'a VerificationKey, VerifyError> {
    let kid = jwt.header.kid.as_str();
    keys.iter()
        .find(|key| key.kid().is_none() || key.kid() == kid)
        .ok_or_else(|| VerifyError::KidMismatch(kid.unwrap_or_default().to_owned()))
}

/// Checks a `__clerk_handshake` token (wire §5.2 "token" format) and returns its directives:
/// header rules and signature only, no time claims; a non-session `cat` is refused.
///
/// ```
/// use concierge_sdk::jwks::{Jwk, VerificationKey};
/// use concierge_sdk::{jwt, verify};
/// # use base64::Engine;
/// # fn jwt(header: &str, claims: &str) -> String {
/// #     let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
/// #     format!("{}.{}.c2ln", b64(header), b64(claims))
/// # }
/// # let key = VerificationKey::from_jwk(&Jwk {
/// #     kty: "RSA".into(), kid: None, alg: None, key_use: None,
/// #     n: Some("sXch".into()), e: Some("AQAB".into()),
/// # }).unwrap();
///
/// let handshake = jwt(r#"{"alg":"RS256"}"#, r#"{"handshake":["__session=…; Path=/"]}"#);
/// let decoded = jwt::decode(&handshake).unwrap();
/// let error = verify::handshake_directives(&decoded, &key).unwrap_err();
/// assert_eq!(error.reason(), "token-invalid-signature");
/// ```
pub fn handshake_directives(
    jwt: &DecodedJwt,
    key: &VerificationKey,
) -> Result<Vec<String>, VerifyError> {
    check_token_type(jwt)?;
    check_signature(jwt, key)?;
    match jwt.claims().get("handshake") {
        Some(Value::Array(items)) => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()),
        _ => Err(VerifyError::Malformed(
            "a handshake token carries a handshake array".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{key, other_key, session_claims, NOW_MS};
    use base64::Engine;
    use serde_json::json;

    fn options() -> VerifyOptions {
        VerifyOptions {
            authorized_parties: vec!["http://localhost:3000".into()],
            issuers: vec!["clerk.example.test".into()],
            ..VerifyOptions::default()
        }
    }

    fn verify(token: &str) -> Result<SessionClaims, VerifyError> {
        verify_session_token(token, &[key().verification_key()], &options(), NOW_MS)
    }

    fn with(changes: serde_json::Value) -> serde_json::Value {
        let mut claims = session_claims();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    #[test]
    fn a_fresh_token_verifies() {
        let claims = verify(&key().sign(&session_claims())).unwrap();
        assert_eq!(claims.sub, "user_1");
        assert_eq!(claims.sid.as_deref(), Some("sess_1"));
        // The PEM form of the same key verifies it too, whatever the kid.
        let pem = VerificationKey::from_pem(&key().pem()).unwrap();
        let token = key().sign_with_header(json!({"kid": "anything"}), &session_claims());
        assert!(verify_session_token(&token, &[pem], &options(), NOW_MS).is_ok());
    }

    #[test]
    fn time_claims_use_a_five_second_skew() {
        let iat = NOW_MS / 1000;
        // exp exactly now: still inside the skew.
        assert!(verify(&key().sign(&with(json!({"exp": iat})))).is_ok());
        assert!(verify(&key().sign(&with(json!({"exp": iat - 4})))).is_ok());
        let err = verify(&key().sign(&with(json!({"exp": iat - 5})))).unwrap_err();
        assert_eq!(err.reason(), "token-expired");
        assert!(verify(&key().sign(&with(json!({"nbf": iat + 5})))).is_ok());
        let err = verify(&key().sign(&with(json!({"nbf": iat + 6})))).unwrap_err();
        assert_eq!(err.reason(), "token-not-active-yet");
        let err = verify(&key().sign(&with(json!({"iat": iat + 6})))).unwrap_err();
        assert_eq!(err.reason(), "token-iat-in-the-future");
        // nbf and iat are optional; exp is not.
        assert!(verify(&key().sign(&with(json!({"nbf": null, "iat": null})))).is_ok());
        let err = verify(&key().sign(&with(json!({"exp": null})))).unwrap_err();
        assert_eq!(err.reason(), "token-verification-failed");
        let err = verify(&key().sign(&with(json!({"iat": "soon"})))).unwrap_err();
        assert_eq!(err.reason(), "token-verification-failed");
        // A zero skew is honoured.
        let strict = VerifyOptions {
            clock_skew_ms: 0,
            ..options()
        };
        let token = key().sign(&with(json!({"exp": iat})));
        let err = verify_session_token(&token, &[key().verification_key()], &strict, NOW_MS);
        assert_eq!(err.unwrap_err().reason(), "token-expired");
    }

    #[test]
    fn sub_azp_and_iss_rules() {
        let err = verify(&key().sign(&with(json!({"sub": 5})))).unwrap_err();
        assert_eq!(err.reason(), "token-verification-failed");
        let err = verify(&key().sign(&with(json!({"azp": "https://evil.test"})))).unwrap_err();
        assert_eq!(err.reason(), "token-invalid-authorized-parties");
        // No azp in the token: accepted, as @clerk/backend does.
        assert!(verify(&key().sign(&with(json!({"azp": null})))).is_ok());
        // No authorized parties configured: any azp.
        let open = VerifyOptions {
            authorized_parties: vec![],
            ..options()
        };
        let token = key().sign(&with(json!({"azp": "https://anything.test"})));
        assert!(verify_session_token(&token, &[key().verification_key()], &open, NOW_MS).is_ok());
        for iss in [
            json!("https://clerk.other.test"),
            json!(null),
            json!("clerk.example.test.evil"),
        ] {
            let err = verify(&key().sign(&with(json!({ "iss": iss })))).unwrap_err();
            assert_eq!(err.reason(), "token-invalid-issuer", "{iss}");
        }
        assert!(verify(&key().sign(&with(json!({"iss": "http://clerk.example.test"})))).is_ok());
    }

    #[test]
    fn audience_is_checked_only_when_both_sides_have_it() {
        let options = VerifyOptions {
            audience: vec!["api".into()],
            ..options()
        };
        let keys = [key().verification_key()];
        let check = |aud: serde_json::Value| {
            verify_session_token(
                &key().sign(&with(json!({ "aud": aud }))),
                &keys,
                &options,
                NOW_MS,
            )
        };
        assert!(check(json!("api")).is_ok());
        assert!(check(json!(["x", "api"])).is_ok());
        assert!(check(json!(null)).is_ok());
        assert_eq!(
            check(json!("web")).unwrap_err().reason(),
            "token-invalid-audience"
        );
    }

    #[test]
    fn header_rules() {
        let claims = session_claims();
        let err = verify(&key().sign_with_header(json!({"cat": TEMPLATE_TOKEN_CATEGORY}), &claims));
        assert_eq!(err.unwrap_err().reason(), "token-type-mismatch");
        let err = verify(&key().sign_with_header(json!({"cat": M2M_TOKEN_CATEGORY}), &claims));
        assert_eq!(err.unwrap_err().reason(), "token-type-mismatch");
        for cat in [SESSION_TOKEN_CATEGORY, IGNORED_TOKEN_CATEGORY] {
            assert!(verify(&key().sign_with_header(json!({ "cat": cat }), &claims)).is_ok());
        }
        let err = verify(&key().sign_with_header(json!({"typ": "at+jwt"}), &claims));
        assert_eq!(err.unwrap_err().reason(), "token-type-mismatch");
        let err = verify(&key().sign(&with(json!({"sub": "mch_123"}))));
        assert_eq!(err.unwrap_err().reason(), "token-type-mismatch");
        let err = verify(&key().sign_with_header(json!({"typ": "JOSE"}), &claims));
        assert_eq!(err.unwrap_err().reason(), "token-invalid");
        assert!(verify(&key().sign_with_header(json!({"typ": null}), &claims)).is_ok());
        // The header says HS256 over an RS256 signature: refused before any key is tried.
        let err = verify(&key().sign_with_header(json!({"alg": "HS256"}), &claims));
        assert_eq!(err.unwrap_err().reason(), "token-invalid-algorithm");
        let err = verify(&key().sign_with_header(json!({"alg": "none"}), &claims));
        assert_eq!(err.unwrap_err().reason(), "token-invalid-algorithm");
    }

    #[test]
    fn signatures_and_keys() {
        let token = key().sign(&session_claims());
        // Tampered payload: the signature no longer matches.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged = with(json!({"sub": "user_admin"}));
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
        let err = verify(&parts.join(".")).unwrap_err();
        assert_eq!(err.reason(), "token-invalid-signature");
        // Another instance's token: its kid is unknown here.
        let err = verify(&other_key().sign(&session_claims())).unwrap_err();
        assert_eq!(err.reason(), "jwk-kid-mismatch");
        // Another key that claims our kid: bad signature.
        let spoofed = other_key().sign_with_header(json!({"kid": "ins_test"}), &session_claims());
        assert_eq!(
            verify(&spoofed).unwrap_err().reason(),
            "token-invalid-signature"
        );
        assert_eq!(verify("a.b.c").unwrap_err().reason(), "token-invalid");
    }

    #[test]
    fn handshake_tokens_need_only_a_signature() {
        let claims = json!({"handshake": ["__session=abc; Path=/", "__client_uat=1; Path=/"]});
        let token = key().sign(&claims);
        let jwt = crate::jwt::decode(&token).unwrap();
        let directives = handshake_directives(&jwt, &key().verification_key()).unwrap();
        assert_eq!(
            directives,
            ["__session=abc; Path=/", "__client_uat=1; Path=/"]
        );
        let forged = other_key().sign_with_header(json!({"kid": "ins_test"}), &claims);
        let jwt = crate::jwt::decode(&forged).unwrap();
        let err = handshake_directives(&jwt, &key().verification_key()).unwrap_err();
        assert_eq!(err.reason(), "token-invalid-signature");
        let template = key().sign_with_header(json!({"cat": TEMPLATE_TOKEN_CATEGORY}), &claims);
        let jwt = crate::jwt::decode(&template).unwrap();
        let err = handshake_directives(&jwt, &key().verification_key()).unwrap_err();
        assert_eq!(err.reason(), "token-type-mismatch");
    }
}
