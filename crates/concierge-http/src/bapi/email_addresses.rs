//! `/v1/email_addresses…`: create, read, update and delete a user's addresses.

use super::{path_id, BapiInstance};
use crate::common::{convert, ApiError, ClerkJson};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use concierge_core::{EmailAddressId, UserId};
use concierge_service::email_addresses::CreateEmailAddress;
use concierge_wire::bapi as wire;
use serde::Deserialize;

#[derive(Deserialize, Debug)]
struct CreateBody {
    user_id: Option<String>,
    email_address: Option<String>,
    #[serde(default)]
    verified: bool,
    #[serde(default)]
    primary: bool,
}

async fn create(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<CreateBody>,
) -> Result<ClerkJson<wire::EmailAddress>, ApiError> {
    let user_id = body
        .user_id
        .ok_or_else(|| ApiError::param_missing("user_id"))?;
    let user_id = UserId::parse(&user_id).map_err(|_| ApiError::format_invalid("user_id"))?;
    let email_address = body
        .email_address
        .ok_or_else(|| ApiError::param_missing("email_address"))?;
    let params = CreateEmailAddress {
        user_id: Some(user_id),
        email_address,
        verified: body.verified,
        primary: body.primary,
    };
    let email = app
        .service
        .create_email_address(&instance.id, params)
        .await?;
    Ok(ClerkJson(convert::email_address(&email)))
}

async fn get_one(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::EmailAddress>, ApiError> {
    let id = path_id(&id, EmailAddressId::parse)?;
    let email = app.service.get_email_address(&instance.id, &id).await?;
    Ok(ClerkJson(convert::email_address(&email)))
}

#[derive(Deserialize, Debug)]
struct UpdateBody {
    verified: Option<bool>,
    primary: Option<bool>,
}

async fn update(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<UpdateBody>,
) -> Result<ClerkJson<wire::EmailAddress>, ApiError> {
    let id = path_id(&id, EmailAddressId::parse)?;
    let email = app
        .service
        .update_email_address(&instance.id, &id, body.verified, body.primary)
        .await?;
    Ok(ClerkJson(convert::email_address(&email)))
}

async fn delete(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::DeletedObject>, ApiError> {
    let id = path_id(&id, EmailAddressId::parse)?;
    app.service.delete_email_address(&instance.id, &id).await?;
    Ok(ClerkJson(convert::deleted("email_address", id.as_str())))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/email_addresses", post(create))
        .route(
            "/v1/email_addresses/{id}",
            get(get_one).patch(update).delete(delete),
        )
}
