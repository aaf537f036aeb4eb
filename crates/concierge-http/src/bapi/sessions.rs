//! `/v1/sessions…`: create, list, read, revoke, verify, and mint session or template tokens.

use super::{path_id, BapiInstance};
use crate::common::{convert, ApiError, ClerkJson, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use concierge_core::{ClientId, SessionId, SessionStatus, UserId};
use concierge_service::SessionQuery;
use concierge_wire::bapi as wire;
use serde::Deserialize;

#[derive(Deserialize, Debug)]
struct CreateBody {
    user_id: Option<String>,
}

async fn create(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<CreateBody>,
) -> Result<ClerkJson<wire::Session>, ApiError> {
    let user_id = body
        .user_id
        .ok_or_else(|| ApiError::param_missing("user_id"))?;
    let user_id = UserId::parse(&user_id).map_err(|_| ApiError::format_invalid("user_id"))?;
    let session = app.service.create_session(&instance, &user_id).await?;
    Ok(ClerkJson(convert::session(&session, app.service.now())))
}

async fn list(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let (limit, offset) = params.pagination()?;
    let status = params
        .get("status")
        .map(|s| SessionStatus::parse(s).ok_or_else(|| ApiError::format_invalid("status")))
        .transpose()?;
    let query = SessionQuery {
        client_id: params
            .get("client_id")
            .map(|id| ClientId::parse(id).map_err(|_| ApiError::format_invalid("client_id")))
            .transpose()?,
        user_id: params
            .get("user_id")
            .map(|id| UserId::parse(id).map_err(|_| ApiError::format_invalid("user_id")))
            .transpose()?,
        status,
        now: 0,
        limit,
        offset,
    };
    let (sessions, total) = app.service.list_sessions(&instance.id, query).await?;
    let now = app.service.now();
    let data: Vec<wire::Session> = sessions.iter().map(|s| convert::session(s, now)).collect();
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
) -> Result<ClerkJson<wire::Session>, ApiError> {
    let id = path_id(&id, SessionId::parse)?;
    let session = app.service.get_session(&instance.id, &id).await?;
    Ok(ClerkJson(convert::session(&session, app.service.now())))
}

async fn revoke(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::Session>, ApiError> {
    let id = path_id(&id, SessionId::parse)?;
    let session = app.service.revoke_session(&instance.id, &id).await?;
    Ok(ClerkJson(convert::session(&session, app.service.now())))
}

#[derive(Deserialize, Debug)]
struct VerifyBody {
    token: Option<String>,
}

async fn verify(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<VerifyBody>,
) -> Result<ClerkJson<wire::Session>, ApiError> {
    let id = path_id(&id, SessionId::parse)?;
    let token = body.token.ok_or_else(|| ApiError::param_missing("token"))?;
    let session = app
        .service
        .verify_session_token(&instance.id, &id, &token)
        .await?;
    Ok(ClerkJson(convert::session(&session, app.service.now())))
}

#[derive(Deserialize, Debug)]
struct TokenBody {
    expires_in_seconds: Option<i64>,
}

async fn mint(
    app: &AppState,
    instance: &concierge_core::Instance,
    id: &str,
    template: Option<&str>,
    body: TokenBody,
) -> Result<ClerkJson<wire::Token>, ApiError> {
    let id = path_id(id, SessionId::parse)?;
    let jwt = app
        .service
        .create_session_token(instance, &id, template, body.expires_in_seconds)
        .await?;
    Ok(ClerkJson(convert::token(jwt)))
}

async fn token(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<TokenBody>,
) -> Result<ClerkJson<wire::Token>, ApiError> {
    mint(&app, &instance, &id, None, body).await
}

async fn template_token(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path((id, template)): Path<(String, String)>,
    ClerkJson(body): ClerkJson<TokenBody>,
) -> Result<ClerkJson<wire::Token>, ApiError> {
    mint(&app, &instance, &id, Some(&template), body).await
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sessions", get(list).post(create))
        .route("/v1/sessions/{id}", get(get_one))
        .route("/v1/sessions/{id}/revoke", post(revoke))
        .route("/v1/sessions/{id}/verify", post(verify))
        .route("/v1/sessions/{id}/tokens", post(token))
        .route("/v1/sessions/{id}/tokens/{template}", post(template_token))
}
