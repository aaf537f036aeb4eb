//! Unit-test helpers: RSA-2048 test keys (generated once per process) that sign tokens and
//! export themselves as JWK and PEM, and a settable clock.

use crate::jwks::{Jwk, VerificationKey};
use crate::Clock;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;

/// 2025-10-09T08:53:20Z, the `iat` of the spec's Appendix A token.
pub const NOW_MS: i64 = 1_760_000_000_000;

/// The publishable key of `clerk.example.test`.
pub const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA";

pub struct TestKey {
    pair: RsaKeyPair,
    pub kid: &'static str,
}

fn generate(kid: &'static str) -> TestKey {
    TestKey {
        pair: RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation"),
        kid,
    }
}

/// The instance key (`kid = ins_test`).
pub fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| generate("ins_test"))
}

/// Another instance's key (`kid = ins_other`).
pub fn other_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| generate("ins_other"))
}

impl TestKey {
    /// Signs `claims` with header `{"alg":"RS256","kid":…,"typ":"JWT"}` changed by
    /// `extra_header` (a `null` removes the field).
    pub fn sign_with_header(&self, extra_header: Value, claims: &Value) -> String {
        let mut header = json!({"alg": "RS256", "kid": self.kid, "typ": "JWT"});
        if let (Some(header), Some(extra)) = (header.as_object_mut(), extra_header.as_object()) {
            for (k, v) in extra {
                if v.is_null() {
                    header.remove(k);
                } else {
                    header.insert(k.clone(), v.clone());
                }
            }
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .expect("signing");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Signs `claims` with the standard header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(json!({}), claims)
    }

    pub fn jwk(&self) -> Jwk {
        let public = self.pair.public_key();
        Jwk {
            kty: "RSA".into(),
            kid: Some(self.kid.into()),
            alg: Some("RS256".into()),
            key_use: Some("sig".into()),
            n: Some(URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero())),
            e: Some(URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero())),
        }
    }

    pub fn verification_key(&self) -> VerificationKey {
        VerificationKey::from_jwk(&self.jwk()).expect("a valid JWK")
    }

    pub fn pem(&self) -> String {
        let der = self.pair.public_key().as_der().expect("SPKI DER");
        let body = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }
}

/// Session claims as Concierge mints them at `NOW_MS`, for `clerk.example.test`.
pub fn session_claims() -> Value {
    let iat = NOW_MS / 1000;
    json!({
        "azp": "http://localhost:3000", "exp": iat + 60, "fva": [0, -1], "iat": iat,
        "iss": "https://clerk.example.test", "nbf": iat - 10, "sid": "sess_1", "sts": "active",
        "sub": "user_1", "v": 2
    })
}

/// A clock tests move by hand.
pub struct TestClock(pub AtomicI64);

impl TestClock {
    pub fn at(ms: i64) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self(AtomicI64::new(ms)))
    }

    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
