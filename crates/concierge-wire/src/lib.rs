//! Clerk's JSON shapes for the Backend API (and, later, the Frontend API): data and serde only.
//!
//! Every struct mirrors the wire protocol field for field (wire §8, §6.9): snake_case names,
//! `object` tags and Unix-millisecond timestamps. No logic lives here, and nothing here is a
//! domain type: conversions from `concierge-core` entities live in `concierge-http` (STYLE §2.5).
#![forbid(unsafe_code)]

pub mod bapi;
pub mod errors;

pub use errors::{ErrorEnvelope, ErrorItem, ErrorMeta};
