//! Frontend API: what browsers and clerk-js call, directly or through an app's `/__clerk` proxy.
//! This slice serves readiness and the public JWKS; the sign-in surface builds on it.

use crate::common::{trace, ApiError, ClerkJson};
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use http::HeaderMap;

async fn healthz() -> &'static str {
    "ok"
}

/// Resolves the instance a browser request is for: the `Host` (or `X-Forwarded-Host` from a
/// proxy) naming an instance's frontend host, else the only instance.
async fn instance_for(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<concierge_core::Instance, ApiError> {
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(http::header::HOST))
        .and_then(|v| v.to_str().ok());
    Ok(app.service.instance_for_frontend_host(host).await?)
}

async fn well_known_jwks(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<ClerkJson<serde_json::Value>, ApiError> {
    let instance = instance_for(&app, &headers).await?;
    Ok(ClerkJson(app.service.jwks(&instance.id).await?))
}

/// The Frontend API router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/.well-known/jwks.json", get(well_known_jwks))
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn(trace::with_trace_id))
        .with_state(state)
}
