//! Why a cryptographic operation failed. Messages never include keys, tokens or passwords.

/// A failure of key handling, signing, verification or hashing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// A key could not be generated, parsed or encoded.
    #[error("key error: {0}")]
    Key(&'static str),
    /// Signing failed.
    #[error("signing failed")]
    Signing,
    /// The token is not a well-formed compact JWT.
    #[error("malformed token")]
    Malformed,
    /// The token's `kid` names no known key.
    #[error("unknown key id")]
    UnknownKey,
    /// The algorithm is not RS256.
    #[error("unsupported algorithm")]
    Algorithm,
    /// The signature does not match.
    #[error("invalid signature")]
    Signature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` or `iat` lies in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// A password hash could not be computed or parsed.
    #[error("password hash error")]
    PasswordHash,
}
