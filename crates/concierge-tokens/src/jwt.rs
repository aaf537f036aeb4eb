//! RS256 verification of compact JWTs against an instance's keys, with the same time rules as
//! `@clerk/backend` (wire §2.3): signature first, then `exp`, `nbf` and `iat` with a skew.

use crate::TokenError;
use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use concierge_core::{Millis, SigningKey};
use serde_json::{Map, Value};

fn decode_json(part: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| TokenError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TokenError::Malformed),
    }
}

fn split(token: &str) -> Result<(&str, &str, &str), TokenError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h, p, s)),
        _ => Err(TokenError::Malformed),
    }
}

/// The claims of a token without checking anything (for inspecting a token already trusted).
pub fn decode_unverified_claims(token: &str) -> Result<Map<String, Value>, TokenError> {
    let (_, payload, _) = split(token)?;
    decode_json(payload)
}

/// Verifies an RS256 token signed by one of `keys` and returns its claims. `skew_ms` is the
/// clock tolerance: expired when `exp * 1000 <= now - skew`, early when `nbf` or `iat` is
/// later than `now + skew`.
pub fn verify_rs256(
    token: &str,
    keys: &[SigningKey],
    now: Millis,
    skew_ms: i64,
) -> Result<Map<String, Value>, TokenError> {
    let (header_b64, payload_b64, signature_b64) = split(token)?;
    let header = decode_json(header_b64)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(TokenError::Algorithm);
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(TokenError::UnknownKey)?;
    let key = keys
        .iter()
        .find(|k| k.id.as_str() == kid)
        .ok_or(TokenError::UnknownKey)?;
    let n = URL_SAFE_NO_PAD
        .decode(&key.public_n)
        .map_err(|_| TokenError::Key("bad modulus"))?;
    let e = URL_SAFE_NO_PAD
        .decode(&key.public_e)
        .map_err(|_| TokenError::Key("bad exponent"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| TokenError::Malformed)?;
    let signed_len = header_b64.len() + 1 + payload_b64.len();
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            &token.as_bytes()[..signed_len],
            &signature,
        )
        .map_err(|_| TokenError::Signature)?;
    let claims = decode_json(payload_b64)?;
    let seconds = |name: &str| claims.get(name).and_then(Value::as_i64);
    let exp = seconds("exp").ok_or(TokenError::Malformed)?;
    if exp * 1000 <= now - skew_ms {
        return Err(TokenError::Expired);
    }
    for name in ["nbf", "iat"] {
        if seconds(name).is_some_and(|t| t * 1000 > now + skew_ms) {
            return Err(TokenError::NotYetValid);
        }
    }
    Ok(claims)
}
