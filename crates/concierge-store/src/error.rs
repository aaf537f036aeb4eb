//! The storage error type: the only failure shape that leaves this crate.

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (in this instance).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write; `constraint` is the logical name documented on the method.
    #[error("conflict on {constraint}")]
    Conflict {
        /// Logical constraint name such as `email_address` or `username`.
        constraint: &'static str,
    },
    /// The database could not be reached or refused connections.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else (a bug, corrupt data); the message is for logs only.
    #[error("storage error: {0}")]
    Other(String),
}
