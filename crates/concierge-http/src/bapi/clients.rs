//! `/v1/clients…`: list, read and verify clients.

use super::{path_id, BapiInstance};
use crate::common::{convert, ApiError, ClerkJson, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use concierge_core::ClientId;
use concierge_wire::bapi as wire;
use serde::Deserialize;

async fn list(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let (limit, offset) = params.pagination()?;
    let (clients, total) = app
        .service
        .list_clients(&instance.id, limit, offset)
        .await?;
    let now = app.service.now();
    let data: Vec<wire::Client> = clients.iter().map(|c| convert::client(c, now)).collect();
    Ok(convert::list_response(
        data,
        total,
        params.get_bool("paginated")?.unwrap_or(false),
    ))
}

async fn get_one(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::Client>, ApiError> {
    let id = path_id(&id, ClientId::parse)?;
    let view = app.service.get_client(&instance.id, &id).await?;
    Ok(ClerkJson(convert::client(&view, app.service.now())))
}

#[derive(Deserialize, Debug)]
struct VerifyBody {
    token: Option<String>,
}

async fn verify(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<VerifyBody>,
) -> Result<ClerkJson<wire::Client>, ApiError> {
    let token = body.token.ok_or_else(|| ApiError::param_missing("token"))?;
    let view = app
        .service
        .verify_client_token(&instance.id, &token)
        .await?;
    Ok(ClerkJson(convert::client(&view, app.service.now())))
}

/// `GET /v1/clients/handshake_payload?nonce=…`: redeems a handshake nonce once (wire §5.3).
async fn handshake_payload(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Result<ClerkJson<serde_json::Value>, ApiError> {
    let nonce = params
        .get("nonce")
        .ok_or_else(|| ApiError::param_missing("nonce"))?;
    let directives = app
        .service
        .redeem_handshake_nonce(&instance.id, nonce)
        .await?;
    Ok(ClerkJson(serde_json::json!({ "directives": directives })))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/clients", get(list))
        .route("/v1/clients/handshake_payload", get(handshake_payload))
        .route("/v1/clients/verify", post(verify))
        .route("/v1/clients/{id}", get(get_one))
}
