//! HTTP: the Frontend API listener (browsers, clerk-js), the Backend API listener (server SDKs
//! with the secret key) and what they share (errors, extractors, conversions, trace ids).
//!
//! This is the only crate that imports axum and http. Handlers are thin: extract, call one
//! `Service` function, convert to a wire type (STYLE §2.4). FAPI and BAPI never import each other.
#![forbid(unsafe_code)]
// The environment object (wire §6.10) is one large `json!` literal.
#![recursion_limit = "256"]

pub mod bapi;
pub mod common;
pub mod fapi;

use concierge_service::Service;

/// Shared state of both routers.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub service: Service,
    /// The rate limits (counted in the database; this node's leases of Backend API admissions).
    pub limits: std::sync::Arc<common::ratelimit::RateLimits>,
}

impl AppState {
    /// State over `service` with the given rate-limit settings.
    pub fn new(service: Service, limits: common::ratelimit::RateLimitSettings) -> Self {
        let limiters = common::ratelimit::RateLimits::new(limits);
        Self {
            service,
            limits: std::sync::Arc::new(limiters),
        }
    }

    /// Counts one invitation-creation request of `instance` against its hourly limit (shared
    /// by every node on the database).
    pub async fn check_invitations(
        &self,
        kind: common::ratelimit::InvitationLimit,
        instance: &concierge_core::InstanceId,
    ) -> Result<(), common::ApiError> {
        self.limits
            .check_invitations(&self.service, kind, instance)
            .await
    }
}

pub use bapi::router as backend_router;
pub use fapi::router as frontend_router;

/// Serves `router` on `listener` until `shutdown` completes, then finishes in-flight requests.
/// (Keeps axum out of the binary crate: only this crate imports it.)
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
