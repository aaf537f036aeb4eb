//! End-to-end tests of the SDK against a real Concierge started in-process (STYLE §2.12): one
//! binary, one module per area. Tokens come from the server's own sign-in flow and the SDK
//! reads the server's clock, so expiry is tested by advancing it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "axum")]
mod axum_app;
mod client;
mod handshake;
mod support;
mod verification;
