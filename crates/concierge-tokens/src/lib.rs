//! Keys and cryptography: RSA signing keys and their rotation, JWKS, session-JWT signing and
//! verification, publishable and secret key formats, argon2id and bcrypt password hashes, and
//! random secrets.
//!
//! This is the only crate that interprets private keys (the store keeps them as opaque bytes).
//! RSA and argon2 work is CPU heavy: callers run it on `spawn_blocking`. Nothing here logs,
//! and no error message carries secret material.
#![forbid(unsafe_code)]

pub mod error;
pub mod jwt;
pub mod keys;
pub mod passwords;
pub mod publishable;
pub mod secrets;

pub use error::TokenError;
pub use jwt::{decode_unverified_claims, verify_rs256};
pub use keys::{generate_signing_key, jwks, public_key_pem, sign_hs256, Signer};
pub use passwords::{hash_password, import_password_digest, verify_password, PasswordCheck};
pub use publishable::{cookie_suffix, decode_publishable_key, encode_publishable_key};
pub use secrets::{
    constant_time_eq, generate_numeric_code, generate_opaque_token, generate_secret_key, sha256,
};
