//! What both APIs share: the error table, extractors, JSON responses, conversions to wire
//! objects, and the trace-id middleware.

pub mod convert;
pub mod domains;
pub mod error;
pub mod extract;
pub mod ratelimit;
pub mod trace;
pub mod upload;

pub use error::ApiError;
pub use extract::{ClerkJson, QueryParams};
