//! Frontend API: what browsers and clerk-js call, directly or through an app's `/__clerk`
//! proxy (wire §6): environment, the client and its sign-ups, sign-ins and sessions, `/v1/me`,
//! the handshake, and the clerk-js / UI bundles.

mod bundles;
pub mod context;
mod environment;
mod flows;
mod handshake;
mod me;
pub mod objects;
mod organization_domains;
mod organizations;
mod tickets;
pub mod transport;

use crate::common::{trace, ApiError, ClerkJson};
use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
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
        .route(
            "/v1/client",
            get(flows::get_client).delete(flows::sign_out_all),
        )
        .route("/v1/client/handshake", get(handshake::handshake))
        .route("/v1/client/touch", get(handshake::touch))
        .route("/v1/client/sign_ups", post(flows::create_sign_up))
        .route(
            "/v1/client/sign_ups/{id}",
            get(flows::get_sign_up).patch(flows::update_sign_up),
        )
        .route(
            "/v1/client/sign_ups/{id}/prepare_verification",
            post(flows::prepare_sign_up_verification),
        )
        .route(
            "/v1/client/sign_ups/{id}/attempt_verification",
            post(flows::attempt_sign_up_verification),
        )
        .route("/v1/client/sign_ins", post(flows::create_sign_in))
        .route("/v1/client/sign_ins/{id}", get(flows::get_sign_in))
        .route(
            "/v1/client/sign_ins/{id}/prepare_first_factor",
            post(flows::prepare_first_factor),
        )
        .route(
            "/v1/client/sign_ins/{id}/attempt_first_factor",
            post(flows::attempt_first_factor),
        )
        .route(
            "/v1/client/sign_ins/{id}/reset_password",
            post(flows::reset_password),
        )
        .route(
            "/v1/client/sessions",
            axum::routing::delete(flows::sign_out_all),
        )
        .route("/v1/client/sessions/{id}", get(flows::get_session))
        .route("/v1/client/sessions/{id}/touch", post(flows::touch_session))
        .route(
            "/v1/client/sessions/{id}/tokens",
            post(flows::session_token),
        )
        .route(
            "/v1/client/sessions/{id}/tokens/{template}",
            post(flows::template_token),
        )
        .route("/v1/client/sessions/{id}/end", post(flows::end_session))
        .route(
            "/v1/client/sessions/{id}/remove",
            post(flows::remove_session),
        )
        .route(
            "/v1/me",
            get(me::get_me).patch(me::update_me).delete(me::delete_me),
        )
        .route("/v1/me/metadata", axum::routing::patch(me::update_metadata))
        .route("/v1/me/change_password", post(me::change_password))
        .route(
            "/v1/me/profile_image",
            post(me::upload_profile_image)
                .delete(me::delete_profile_image)
                .layer(axum::extract::DefaultBodyLimit::max(
                    concierge_core::MAX_IMAGE_BYTES + 64 * 1024,
                )),
        )
        .route("/v1/me/sessions/active", get(me::active_sessions))
        .route("/v1/me/sessions/{id}/revoke", post(me::revoke_session))
        .route("/v1/me/email_addresses", post(me::add_email))
        .route(
            "/v1/me/email_addresses/{id}",
            get(me::get_email).delete(me::delete_email),
        )
        .route(
            "/v1/me/email_addresses/{id}/prepare_verification",
            post(me::prepare_email_verification),
        )
        .route(
            "/v1/me/email_addresses/{id}/attempt_verification",
            post(me::attempt_email_verification),
        )
        .route("/v1/organizations", post(organizations::create))
        .route(
            "/v1/organizations/{id}",
            get(organizations::get_one)
                .patch(organizations::update)
                .delete(organizations::delete),
        )
        .route(
            "/v1/organizations/{id}/memberships",
            get(organizations::memberships).post(organizations::add_member),
        )
        .route(
            "/v1/organizations/{id}/memberships/{user_id}",
            axum::routing::patch(organizations::change_role).delete(organizations::remove_member),
        )
        .route("/v1/organizations/{id}/roles", get(organizations::roles))
        .route(
            "/v1/organizations/{id}/logo",
            axum::routing::put(organizations::upload_logo)
                .delete(organizations::delete_logo)
                .layer(axum::extract::DefaultBodyLimit::max(
                    concierge_core::MAX_IMAGE_BYTES + 64 * 1024,
                )),
        )
        .route(
            "/v1/organizations/{id}/invitations",
            get(organizations::invitations).post(organizations::invite),
        )
        .route(
            "/v1/organizations/{id}/invitations/bulk",
            post(organizations::invite_bulk),
        )
        .route(
            "/v1/organizations/{id}/invitations/{invitation}/revoke",
            post(organizations::revoke_invitation),
        )
        .route(
            "/v1/me/organization_memberships",
            get(organizations::my_memberships),
        )
        .route(
            "/v1/me/organization_memberships/{id}",
            axum::routing::delete(organizations::leave),
        )
        .route(
            "/v1/me/organization_invitations",
            get(organizations::my_invitations),
        )
        .route(
            "/v1/me/organization_invitations/{id}/accept",
            post(organizations::accept_invitation),
        )
        .merge(organization_domains::routes())
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        // Inner layer: limits apply once the instance is known.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::common::ratelimit::frontend,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            transport::resolve_instance,
        ))
        .with_state(state.clone());
    // Method override and slash trimming must run before routing, so they wrap the router.
    // Bundles and images need no instance: they are public. An invitation link finds its
    // instance from its ticket when the request names none.
    Router::new()
        .route("/healthz", get(healthz))
        .route("/npm/{*path}", get(bundles::serve))
        .route(
            "/v1/tickets/accept",
            get(tickets::accept).with_state(state.clone()),
        )
        .route("/v1/images/{id}", get(me::get_image).with_state(state))
        .fallback_service(api)
        .layer(axum::middleware::from_fn(transport::normalize))
        .layer(axum::middleware::from_fn(trace::with_trace_id))
}
