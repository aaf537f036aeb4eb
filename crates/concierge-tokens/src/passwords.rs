//! Password hashing: argon2id with OWASP's parameters for new hashes, and verification of
//! argon2 (id, i, d) and bcrypt digests so that imported users keep their passwords; a match on
//! anything but current argon2id asks the caller to re-hash. CPU heavy: run on a blocking thread.

use crate::TokenError;
use argon2::password_hash::{PasswordHash as Phc, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use concierge_core::{CoreError, PasswordHash};
use rand::{CryptoRng, RngCore};

/// OWASP: argon2id with 19 MiB of memory, 2 iterations, 1 lane.
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn hasher() -> Result<Argon2<'static>, TokenError> {
    let params =
        Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(|_| TokenError::PasswordHash)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The outcome of a password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCheck {
    /// Whether the password matched.
    pub matches: bool,
    /// It matched, but the stored hash is not argon2id with the current parameters.
    pub needs_rehash: bool,
}

/// Hashes a password with argon2id and a fresh salt, as a PHC string.
pub fn hash_password(
    password: &str,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<PasswordHash, TokenError> {
    let salt = SaltString::generate(rng);
    let hash = hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| TokenError::PasswordHash)?;
    Ok(PasswordHash(hash.to_string()))
}

fn is_bcrypt(digest: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|p| digest.starts_with(p))
}

/// Checks a password against a stored argon2 or bcrypt hash (constant-time inside the libraries).
pub fn verify_password(hash: &PasswordHash, password: &str) -> Result<PasswordCheck, TokenError> {
    let stored = hash.0.as_str();
    if is_bcrypt(stored) {
        let matches = bcrypt::verify(password, stored).map_err(|_| TokenError::PasswordHash)?;
        return Ok(PasswordCheck {
            matches,
            needs_rehash: matches,
        });
    }
    let phc = Phc::new(stored).map_err(|_| TokenError::PasswordHash)?;
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &phc)
        .is_ok();
    let current = phc.algorithm.as_str() == "argon2id"
        && Params::try_from(&phc).is_ok_and(|p| {
            p.m_cost() == M_COST_KIB && p.t_cost() == T_COST && p.p_cost() == P_COST
        });
    Ok(PasswordCheck {
        matches,
        needs_rehash: matches && !current,
    })
}

/// Accepts an imported digest (`password_hasher` + `password_digest` of the Backend API) after
/// checking that it parses: `bcrypt`, or `argon2i`/`argon2id` PHC strings.
pub fn import_password_digest(hasher: &str, digest: &str) -> Result<PasswordHash, CoreError> {
    let ok = match hasher {
        "bcrypt" => is_bcrypt(digest) && digest.parse::<bcrypt::HashParts>().is_ok(),
        "argon2i" | "argon2id" => {
            Phc::new(digest).is_ok_and(|phc| phc.algorithm.as_str() == hasher && phc.hash.is_some())
        }
        _ => false,
    };
    if ok {
        Ok(PasswordHash(digest.to_owned()))
    } else {
        Err(CoreError::PasswordDigestInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let hash = hash_password("correct horse", &mut rand::rngs::OsRng).unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            verify_password(&hash, "correct horse").unwrap(),
            PasswordCheck {
                matches: true,
                needs_rehash: false
            }
        );
        assert_eq!(
            verify_password(&hash, "wrong").unwrap(),
            PasswordCheck {
                matches: false,
                needs_rehash: false
            }
        );
    }

    #[test]
    fn bcrypt_imports_verify_and_ask_for_rehash() {
        let digest = bcrypt::hash("imported", 4).unwrap();
        let hash = import_password_digest("bcrypt", &digest).unwrap();
        assert_eq!(
            verify_password(&hash, "imported").unwrap(),
            PasswordCheck {
                matches: true,
                needs_rehash: true
            }
        );
        assert!(!verify_password(&hash, "other").unwrap().matches);
        assert!(import_password_digest("bcrypt", "nope").is_err());
        assert!(import_password_digest("md5", &digest).is_err());
    }

    #[test]
    fn weaker_argon2_asks_for_rehash() {
        let params = Params::new(4096, 1, 1, None).unwrap();
        let weak = Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
            .hash_password(b"pw", &SaltString::generate(&mut rand::rngs::OsRng))
            .unwrap()
            .to_string();
        let hash = import_password_digest("argon2i", &weak).unwrap();
        assert_eq!(
            verify_password(&hash, "pw").unwrap(),
            PasswordCheck {
                matches: true,
                needs_rehash: true
            }
        );
        assert!(
            import_password_digest("argon2id", &weak).is_err(),
            "hasher must match the digest"
        );
    }
}
