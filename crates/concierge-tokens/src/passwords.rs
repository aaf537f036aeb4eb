//! Password hashing: argon2id with OWASP's parameters for new hashes, and verification of
//! argon2 (id, i, d) and bcrypt digests so that imported users keep their passwords; a match on
//! anything but current argon2id asks the caller to re-hash. CPU heavy: run on a blocking thread.

use crate::TokenError;
use argon2::password_hash::{Output, ParamsString, PasswordHash as Phc, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use concierge_core::{CoreError, PasswordHash};
use rand::{CryptoRng, RngCore};

/// OWASP: argon2id with 19 MiB of memory, 2 iterations, 1 lane.
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn current_params() -> Result<Params, TokenError> {
    Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(|_| TokenError::PasswordHash)
}

/// Work memory of finished hashes with the current parameters (19 MiB each), kept for the next
/// hash: allocating, zero-filling and page-faulting it afresh every time cost about a sixth of a
/// sign-in (perf under `scripts/bench.sh`). At most this many are kept; the service runs one
/// hash per core at a time.
const KEPT_MEMORY: usize = 16;
static MEMORY: std::sync::Mutex<Vec<Vec<Block>>> = std::sync::Mutex::new(Vec::new());

/// Runs argon2 into an output of `len` bytes, on kept memory when it needs the current
/// parameters' amount of memory.
fn argon2_output(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    len: usize,
) -> argon2::password_hash::Result<Output> {
    Output::init_with(len, |out| {
        argon2_into(algorithm, version, params, password, salt, out)
            .map_err(|_| argon2::password_hash::Error::Password)
    })
}

fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let blocks = params.block_count();
    let reusable = blocks == M_COST_KIB as usize;
    let kept = if reusable {
        MEMORY.lock().ok().and_then(|mut kept| kept.pop())
    } else {
        None
    };
    // Argon2 overwrites every block before reading it, so kept memory needs no clearing.
    let mut memory = kept.unwrap_or_else(|| vec![Block::default(); blocks]);
    let result = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut memory[..],
    );
    if reusable {
        if let Ok(mut kept) = MEMORY.lock() {
            if kept.len() < KEPT_MEMORY {
                kept.push(memory);
            }
        }
    }
    result
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
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|_| TokenError::PasswordHash)?;
    let params = current_params()?;
    let output = argon2_output(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.as_bytes(),
        raw_salt,
        Params::DEFAULT_OUTPUT_LEN,
    )
    .map_err(|_| TokenError::PasswordHash)?;
    let hash = Phc {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| TokenError::PasswordHash)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
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
    let matches = argon2_matches(&phc, password.as_bytes())?;
    let current = phc.algorithm.as_str() == "argon2id"
        && Params::try_from(&phc).is_ok_and(|p| {
            p.m_cost() == M_COST_KIB && p.t_cost() == T_COST && p.p_cost() == P_COST
        });
    Ok(PasswordCheck {
        matches,
        needs_rehash: matches && !current,
    })
}

/// Recomputes an argon2 PHC hash for `password`; the comparison is constant-time (`Output`'s
/// equality).
fn argon2_matches(phc: &Phc<'_>, password: &[u8]) -> Result<bool, TokenError> {
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(phc.algorithm).map_err(|_| TokenError::PasswordHash)?;
    let version = phc
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|_| TokenError::PasswordHash)?
        .unwrap_or_default();
    let params = Params::try_from(phc).map_err(|_| TokenError::PasswordHash)?;
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|_| TokenError::PasswordHash)?;
    let computed = argon2_output(
        algorithm,
        version,
        params,
        password,
        raw_salt,
        expected.len(),
    );
    Ok(computed.is_ok_and(|computed| &computed == expected))
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
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

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
    fn interoperates_with_the_reference_argon2_api() {
        // Ours (kept memory, used twice so the second hash runs on reused blocks) verify with
        // the library's own verifier, and the library's hashes verify with ours.
        let mut rng = rand::rngs::OsRng;
        for _ in 0..2 {
            let ours = hash_password("s3cret-pass", &mut rng).unwrap();
            let parsed = Phc::new(&ours.0).unwrap();
            let reference = Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                current_params().unwrap(),
            );
            assert!(reference.verify_password(b"s3cret-pass", &parsed).is_ok());
            assert!(reference.verify_password(b"other", &parsed).is_err());
        }
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            current_params().unwrap(),
        )
        .hash_password(b"pw-from-elsewhere", &SaltString::generate(rng))
        .unwrap()
        .to_string();
        let check = verify_password(&PasswordHash(theirs.clone()), "pw-from-elsewhere").unwrap();
        assert_eq!(
            check,
            PasswordCheck {
                matches: true,
                needs_rehash: false
            }
        );
        assert!(
            !verify_password(&PasswordHash(theirs), "pw-from-elsewhere!")
                .unwrap()
                .matches
        );
        // Other parameters take the path without kept memory, and ask for a re-hash.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        )
        .hash_password(b"small", &SaltString::generate(&mut rng))
        .unwrap()
        .to_string();
        let check = verify_password(&PasswordHash(small), "small").unwrap();
        assert!(check.matches && check.needs_rehash);
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
