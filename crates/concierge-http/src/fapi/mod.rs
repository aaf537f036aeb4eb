//! Frontend API: what browsers and clerk-js call, directly or through an app's `/__clerk`
//! proxy (wire §6). This slice answers `Clerk.load()`'s environment and client requests on top
//! of the transport rules; sign-in and sign-up build on it.

mod client;
mod environment;
pub mod transport;

use crate::common::{trace, ApiError, ClerkJson};
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use transport::FapiInstance;

async fn healthz() -> &'static str {
    "ok"
}

async fn well_known_jwks(
    State(app): State<AppState>,
    FapiInstance(instance): FapiInstance,
) -> Result<ClerkJson<serde_json::Value>, ApiError> {
    Ok(ClerkJson(app.service.jwks(&instance.id).await?))
}

/// The Frontend API router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/.well-known/jwks.json", get(well_known_jwks))
        .route(
            "/v1/environment",
            get(environment::get_environment).patch(environment::get_environment),
        )
        .route("/v1/client", get(client::get_client))
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            transport::resolve_instance,
        ))
        .with_state(state);
    // Method override and slash trimming must run before routing, so they wrap the router.
    Router::new()
        .route("/healthz", get(healthz))
        .fallback_service(api)
        .layer(axum::middleware::from_fn(transport::normalize))
        .layer(axum::middleware::from_fn(trace::with_trace_id))
}
