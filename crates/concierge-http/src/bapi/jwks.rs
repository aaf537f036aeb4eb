//! `GET /v1/jwks`: the instance's public keys, current and retired (wire §3).

use super::BapiInstance;
use crate::common::{ApiError, ClerkJson};
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;

async fn get_jwks(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
) -> Result<ClerkJson<serde_json::Value>, ApiError> {
    Ok(ClerkJson(app.service.jwks(&instance.id).await?))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/v1/jwks", get(get_jwks))
}
