//! Random secrets (secret keys, opaque bearer tokens, numeric codes), SHA-256 and
//! constant-time comparison.

use rand::RngCore;
use subtle::ConstantTimeEq;

/// A secret key: `sk_live_` (or `sk_test_`) and 40 base62 characters (no `_`, so SDK key
/// splitting never breaks), about 238 bits of entropy.
pub fn generate_secret_key(rng: &mut impl RngCore, live: bool) -> String {
    let prefix = if live { "sk_live_" } else { "sk_test_" };
    format!("{prefix}{}", concierge_core::ids::random_base62(rng, 40))
}

/// An opaque URL-safe bearer token with 256 bits of entropy (client cookies, nonces, tickets).
pub fn generate_opaque_token(rng: &mut impl RngCore) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A uniformly random decimal code of `digits` digits (email verification codes).
pub fn generate_numeric_code(rng: &mut impl RngCore, digits: usize) -> String {
    let mut out = String::with_capacity(digits);
    let mut buffer = vec![0u8; digits + 4];
    while out.len() < digits {
        rng.fill_bytes(&mut buffer);
        // 250 = 25 * 10: larger values would bias the digits.
        for byte in buffer.iter().filter(|b| **b < 250) {
            if out.len() == digits {
                break;
            }
            out.push(char::from(b'0' + byte % 10));
        }
    }
    out
}

/// SHA-256 of `data` (how bearer secrets are stored and looked up).
pub fn sha256(data: &[u8]) -> Vec<u8> {
    crate::publishable::sha256_digest(data)
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let mut rng = rand::rngs::OsRng;
        let sk = generate_secret_key(&mut rng, true);
        assert!(sk.starts_with("sk_live_") && sk.len() == 48 && sk.split('_').count() == 3);
        let code = generate_numeric_code(&mut rng, 6);
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(generate_opaque_token(&mut rng).len(), 43);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(sha256(b"").len(), 32);
    }
}
