//! A native Rust SDK for applications that sign their users in with Concierge — or with Clerk
//! itself, since both speak the same protocol. It depends on no other Concierge crate.
//!
//! - [`Clerk`] (built from a [`Config`]) verifies session tokens with a PEM public key or the
//!   Backend API JWKS, cached for an hour and refetched once for an unknown `kid`: no network
//!   call per request. [`verify`] has the same checks as pure functions.
//! - [`Clerk::authenticate_request`] runs `@clerk/backend`'s decision table on a request
//!   (`Authorization: Bearer`, or the `__session`/`__client_uat` cookies, suffixed or not) and
//!   returns a [`RequestState`]: signed in with an [`Auth`], signed out with a reason, or a
//!   handshake redirect; it redeems handshake nonces and tokens into `Set-Cookie` directives.
//! - [`Auth::has`] answers `has({ role })`, `has({ permission })`, features, plans and
//!   reverification with Clerk's rules, for v1 and v2 claims.
//! - [`RouteMatcher`] matches paths like `createRouteMatcher`.
//! - [`OrganizationSyncOptions`] activates the organization a URL names (`/orgs/:slug/…`)
//!   through the handshake, like `organizationSyncOptions`.
//! - [`middleware`] (feature `axum`, on by default) has the tower layer, extractors and guards.
//! - [`client::BackendApi`] is a typed Backend API client (users, sessions, tokens, JWKS,
//!   organizations, memberships, invitations, domains, roles and permissions).
//! - `tenant` (feature `sqlx-postgres`) runs sqlx queries in a transaction scoped to the
//!   active organization, for PostgreSQL row-level security.
//!
//! ```no_run
//! use concierge_sdk::{AuthStatus, Check, Clerk, Config, RouteMatcher};
//!
//! # async fn run(request: http::Request<()>) -> Result<(), Box<dyn std::error::Error>> {
//! let clerk = Clerk::new(
//!     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
//!         .secret_key("sk_live_…")
//!         .api_url("http://127.0.0.1:4001")
//!         .authorized_parties(["https://app.example.test"]),
//! )?;
//! let admin_pages = RouteMatcher::new(["/admin(.*)"])?;
//! let state = clerk.authenticate_request(&request).await;
//! match &state.status {
//!     AuthStatus::SignedIn(auth) if admin_pages.matches(request.uri().path())? => {
//!         println!("admin? {}", auth.has(Check::Role("org:admin")));
//!     }
//!     AuthStatus::SignedIn(auth) => println!("user {}", auth.user_id),
//!     AuthStatus::SignedOut { reason, .. } => println!("signed out: {reason}"),
//!     AuthStatus::Handshake { location, .. } => println!("redirect to {location}"),
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod claims;
mod clerk;
pub mod client;
mod clock;
pub mod jwks;
pub mod jwt;
pub mod matcher;
#[cfg(feature = "axum")]
pub mod middleware;
mod organization_sync;
mod payload;
mod publishable_key;
mod request;
#[cfg(feature = "sqlx-postgres")]
pub mod tenant;
pub mod verify;

#[cfg(test)]
mod testing;

pub use auth::{Auth, Check, Reverification, VerificationLevel};
pub use claims::{Actor, OrganizationClaim, RawClaims, SessionClaims};
pub use clerk::{Clerk, Config, ConfigError, SecretKey};
pub use clock::{Clock, SystemClock};
pub use matcher::RouteMatcher;
pub use organization_sync::{OrganizationSyncOptions, OrganizationSyncTarget};
pub use publishable_key::{cookie_suffix, InstanceType, PublishableKey, PublishableKeyError};
pub use request::{reason, AuthStatus, RequestState};
pub use verify::VerifyError;
