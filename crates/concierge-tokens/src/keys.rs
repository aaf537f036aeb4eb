//! RSA-2048 signing keys: generation, a parsed-once `Signer`, the JWKS and PEM export, plus
//! HS256 for JWT templates with a custom key (wire §2.1, §2.6, §3).

use crate::TokenError;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use concierge_core::{InstanceId, Millis, SigningKey, SigningKeyId};
use rand::RngCore;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Generates an RSA-2048 (e = 65537) signing key for an instance. CPU heavy (tens to hundreds of
/// milliseconds): run it on a blocking thread.
pub fn generate_signing_key(
    instance_id: &InstanceId,
    rng: &mut impl RngCore,
    now: Millis,
) -> Result<SigningKey, TokenError> {
    let pair =
        KeyPair::generate(KeySize::Rsa2048).map_err(|_| TokenError::Key("generation failed"))?;
    let der = pair
        .as_der()
        .map_err(|_| TokenError::Key("PKCS#8 encoding failed"))?;
    let public = pair.public_key();
    Ok(SigningKey {
        id: SigningKeyId::generate(rng),
        instance_id: instance_id.clone(),
        private_key_der: der.as_ref().to_vec(),
        public_n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        public_e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        created_at: now,
        retired_at: None,
    })
}

/// A key pair parsed once and shared: signing never re-parses the key (the cost that makes
/// per-call parsing libraries several times slower). Cheap to clone.
#[derive(Clone)]
pub struct Signer {
    inner: Arc<SignerInner>,
}

struct SignerInner {
    kid: String,
    /// `base64url({"alg":"RS256","kid":…,"typ":"JWT"})`: the header of every token signed
    /// without extra header members, encoded once.
    plain_header: String,
    pair: KeyPair,
    rng: SystemRandom,
}

impl Signer {
    /// Parses the key's PKCS#8 DER.
    pub fn new(key: &SigningKey) -> Result<Self, TokenError> {
        let pair = KeyPair::from_pkcs8(&key.private_key_der)
            .map_err(|_| TokenError::Key("PKCS#8 parse failed"))?;
        let kid = key.id.to_string();
        let plain_header = encode_json(&rs256_header(&kid, &Map::new()))
            .map_err(|_| TokenError::Key("header encoding failed"))?;
        Ok(Self {
            inner: Arc::new(SignerInner {
                plain_header,
                kid,
                pair,
                rng: SystemRandom::new(),
            }),
        })
    }

    /// The `kid` this signer puts in headers.
    pub fn kid(&self) -> &str {
        &self.inner.kid
    }

    /// Signs a compact RS256 JWT with header `{"alg":"RS256","kid":…,"typ":"JWT", …header_extra}`.
    pub fn sign_jwt<C: Serialize + ?Sized>(
        &self,
        header_extra: &Map<String, Value>,
        claims: &C,
    ) -> Result<String, TokenError> {
        let mut token = if header_extra.is_empty() {
            signing_input(&self.inner.plain_header, claims)?
        } else {
            let header = encode_json(&rs256_header(&self.inner.kid, header_extra))?;
            signing_input(&header, claims)?
        };
        let mut signature = vec![0u8; self.inner.pair.public_modulus_len()];
        self.inner
            .pair
            .sign(
                &RSA_PKCS1_SHA256,
                &self.inner.rng,
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| TokenError::Signing)?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }
}

/// The JOSE header of an RS256 token: `alg`, `kid`, `typ`, then the extra members.
fn rs256_header(kid: &str, extra: &Map<String, Value>) -> Map<String, Value> {
    let mut header = Map::with_capacity(3 + extra.len());
    header.insert("alg".into(), json!("RS256"));
    header.insert("kid".into(), json!(kid));
    header.insert("typ".into(), json!("JWT"));
    header.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    header
}

/// `base64url(JSON of value)`.
fn encode_json<T: Serialize + ?Sized>(value: &T) -> Result<String, TokenError> {
    let json = serde_json::to_vec(value).map_err(|_| TokenError::Signing)?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// `encoded_header "." base64url(claims)`, with room left for the signature.
fn signing_input<C: Serialize + ?Sized>(
    encoded_header: &str,
    claims: &C,
) -> Result<String, TokenError> {
    let claims = serde_json::to_vec(claims).map_err(|_| TokenError::Signing)?;
    let mut out = String::with_capacity(encoded_header.len() + claims.len() * 4 / 3 + 350);
    out.push_str(encoded_header);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&claims, &mut out);
    Ok(out)
}

/// Signs an HS256 JWT with a shared secret (JWT templates with a custom signing key).
pub fn sign_hs256(
    secret: &[u8],
    header_extra: &Map<String, Value>,
    claims: &Map<String, Value>,
) -> Result<String, TokenError> {
    let mut header = Map::new();
    header.insert("alg".into(), json!("HS256"));
    header.insert("typ".into(), json!("JWT"));
    header.extend(header_extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut token = signing_input(&encode_json(&header)?, claims)?;
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(tag.as_ref(), &mut token);
    Ok(token)
}

/// The JWKS document of these keys (current and retired), as both APIs publish it (wire §3).
pub fn jwks(keys: &[SigningKey]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| json!({"use": "sig", "kty": "RSA", "kid": k.id.as_str(), "alg": "RS256", "n": k.public_n, "e": k.public_e}))
        .collect();
    json!({ "keys": keys })
}

/// The SPKI PEM (`-----BEGIN PUBLIC KEY-----`) of a key, for the SDKs' networkless `jwtKey`.
pub fn public_key_pem(key: &SigningKey) -> Result<String, TokenError> {
    let pair = KeyPair::from_pkcs8(&key.private_key_der)
        .map_err(|_| TokenError::Key("PKCS#8 parse failed"))?;
    let der = pair
        .public_key()
        .as_der()
        .map_err(|_| TokenError::Key("SPKI encoding failed"))?;
    let body = STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(
            std::str::from_utf8(chunk).map_err(|_| TokenError::Key("PEM encoding failed"))?,
        );
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::verify_rs256;

    fn key() -> SigningKey {
        let instance = InstanceId::generate(&mut rand::rngs::OsRng);
        generate_signing_key(&instance, &mut rand::rngs::OsRng, 0).unwrap()
    }

    #[test]
    fn sign_verify_tamper_expiry_and_other_keys() {
        let key = key();
        let signer = Signer::new(&key).unwrap();
        let mut claims = Map::new();
        claims.insert("sub".into(), json!("user_1"));
        claims.insert("iat".into(), json!(1000));
        claims.insert("exp".into(), json!(1060));
        let mut extra = Map::new();
        extra.insert("cat".into(), json!("cl_B7d4PD222AAA"));
        let token = signer.sign_jwt(&extra, &claims).unwrap();
        let now = 1_010_000;
        assert_eq!(
            verify_rs256(&token, std::slice::from_ref(&key), now, 5000).unwrap()["sub"],
            "user_1"
        );
        let header = crate::jwt::decode_unverified_claims(&format!(
            "x.{}.y",
            token.split('.').next().unwrap()
        ))
        .unwrap();
        assert_eq!(header["cat"], "cl_B7d4PD222AAA");
        assert_eq!(header["kid"], key.id.as_str());

        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(br#"{"sub":"user_2","iat":1000,"exp":1060}"#);
        assert_eq!(
            verify_rs256(&parts.join("."), std::slice::from_ref(&key), now, 5000),
            Err(TokenError::Signature)
        );
        assert_eq!(
            verify_rs256(&token, std::slice::from_ref(&key), 1_066_000, 5000),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify_rs256(&token, std::slice::from_ref(&key), 990_000, 5000),
            Err(TokenError::NotYetValid)
        );
        let mut other = self::key();
        other.id = key.id.clone();
        assert_eq!(
            verify_rs256(&token, &[other], now, 5000),
            Err(TokenError::Signature)
        );
        assert_eq!(
            verify_rs256(&token, &[], now, 5000),
            Err(TokenError::UnknownKey)
        );
        assert_eq!(
            verify_rs256("a.b", &[], now, 5000),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn jwks_and_pem() {
        let key = key();
        let set = jwks(std::slice::from_ref(&key));
        assert_eq!(set["keys"][0]["e"], "AQAB");
        assert_eq!(set["keys"][0]["kid"], key.id.as_str());
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(key.public_n.as_bytes())
                .unwrap()
                .len(),
            256
        );
        let pem = public_key_pem(&key).unwrap();
        assert!(pem.starts_with(
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"
        ));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
    }

    #[test]
    fn hs256_has_its_header() {
        let token = sign_hs256(&[7u8; 32], &Map::new(), &Map::new()).unwrap();
        let header = crate::jwt::decode_unverified_claims(&format!(
            "x.{}.y",
            token.split('.').next().unwrap()
        ))
        .unwrap();
        assert_eq!(header["alg"], "HS256");
    }
}
