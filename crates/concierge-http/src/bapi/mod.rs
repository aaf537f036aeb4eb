//! Backend API: what server SDKs call with `Authorization: Bearer <secret key>` (wire §8).

mod clients;
mod email_addresses;
mod invitations;
mod jwks;
mod jwt_templates;
mod organization_domains;
mod organizations;
mod role_sets;
mod roles;
mod sessions;
mod users;

use crate::common::{trace, ApiError};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::routing::get;
use axum::Router;
use concierge_core::Instance;
use http::request::Parts;

/// The instance whose secret key authenticated the request (shared with the instance cache).
#[derive(Clone)]
pub struct BapiInstance(pub std::sync::Arc<Instance>);

/// Left by the rate-limit middleware when the request's secret key belongs to no instance.
#[derive(Clone, Copy)]
pub(crate) struct RefusedSecretKey;

impl FromRequestParts<AppState> for BapiInstance {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Resolved already by the rate-limit middleware, when the limit is on.
        if let Some(resolved) = parts.extensions.remove::<BapiInstance>() {
            return Ok(resolved);
        }
        if parts.extensions.get::<RefusedSecretKey>().is_some() {
            return Err(ApiError::invalid_secret_key());
        }
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::missing_secret_key)?;
        let key = bearer_key(header);
        let instance = state
            .service
            .authenticate_secret_key(key)
            .await
            .map_err(|e| match e {
                concierge_service::ServiceError::Unauthenticated => ApiError::invalid_secret_key(),
                other => other.into(),
            })?;
        Ok(Self(instance))
    }
}

/// The secret key of an `Authorization` header (`Bearer <key>`, or the bare key).
pub(crate) fn bearer_key(header: &str) -> &str {
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .unwrap_or(header)
        .trim()
}

/// Parses a path id into its typed form, answering 404 for anything malformed (it cannot exist).
pub(crate) fn path_id<T>(
    raw: &str,
    parse: fn(&str) -> Result<T, concierge_core::ids::InvalidId>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|_| ApiError::not_found())
}

async fn healthz() -> &'static str {
    "ok"
}

/// The Backend API router (also serves `/healthz`).
pub fn router(state: AppState) -> Router {
    let limits =
        axum::middleware::from_fn_with_state(state.clone(), crate::common::ratelimit::backend);
    Router::new()
        .route("/healthz", get(healthz))
        .merge(users::routes())
        .merge(email_addresses::routes())
        .merge(sessions::routes())
        .merge(clients::routes())
        .merge(jwt_templates::routes())
        .merge(jwks::routes())
        .merge(organizations::routes())
        .merge(organization_domains::routes())
        .merge(roles::routes())
        .merge(invitations::routes())
        .merge(role_sets::routes())
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(limits)
        .layer(axum::middleware::from_fn(trace::with_trace_id))
        .with_state(state)
}
