//! The service error: a domain refusal, a storage failure, or one of a few request-level outcomes.

use concierge_core::CoreError;
use concierge_store::StoreError;

/// Why a use case did not complete. `concierge-http` maps each variant to one wire error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A rule of the domain refused the request.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The secret key (or client token) is missing or wrong.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The resource does not exist in this instance.
    #[error("resource not found")]
    NotFound,
    /// The storage layer failed unexpectedly.
    #[error(transparent)]
    Store(StoreError),
    /// Something that should not happen; the message is for logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict { constraint } => {
                ServiceError::Core(CoreError::IdentifierExists { param: constraint })
            }
            other => ServiceError::Store(other),
        }
    }
}

impl From<concierge_tokens::TokenError> for ServiceError {
    fn from(err: concierge_tokens::TokenError) -> Self {
        ServiceError::Internal(format!("token error: {err}"))
    }
}
