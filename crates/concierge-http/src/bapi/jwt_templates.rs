//! `/v1/jwt_templates…`: CRUD for JWT templates (wire §8.2).

use super::{path_id, BapiInstance};
use crate::common::{convert, ApiError, ClerkJson, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use concierge_core::JwtTemplateId;
use concierge_service::jwt_templates::JwtTemplateParams;
use concierge_wire::bapi as wire;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Debug)]
struct Body {
    name: Option<String>,
    claims: Option<Value>,
    lifetime: Option<i64>,
    allowed_clock_skew: Option<i64>,
    custom_signing_key: Option<bool>,
    signing_algorithm: Option<String>,
    signing_key: Option<String>,
}

impl From<Body> for JwtTemplateParams {
    fn from(body: Body) -> Self {
        Self {
            name: body.name,
            claims: body.claims,
            lifetime: body.lifetime,
            allowed_clock_skew: body.allowed_clock_skew,
            custom_signing_key: body.custom_signing_key,
            signing_algorithm: body.signing_algorithm,
            signing_key: body.signing_key,
        }
    }
}

async fn create(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<Body>,
) -> Result<ClerkJson<wire::JwtTemplate>, ApiError> {
    let template = app
        .service
        .create_jwt_template(&instance.id, body.into())
        .await?;
    Ok(ClerkJson(convert::jwt_template(&template)))
}

async fn list(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let (limit, offset) = params.pagination()?;
    let (templates, total) = app
        .service
        .list_jwt_templates(&instance.id, limit, offset)
        .await?;
    let data: Vec<wire::JwtTemplate> = templates.iter().map(convert::jwt_template).collect();
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
) -> Result<ClerkJson<wire::JwtTemplate>, ApiError> {
    let id = path_id(&id, JwtTemplateId::parse)?;
    let template = app.service.get_jwt_template(&instance.id, &id).await?;
    Ok(ClerkJson(convert::jwt_template(&template)))
}

async fn update(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<Body>,
) -> Result<ClerkJson<wire::JwtTemplate>, ApiError> {
    let id = path_id(&id, JwtTemplateId::parse)?;
    let template = app
        .service
        .update_jwt_template(&instance.id, &id, body.into())
        .await?;
    Ok(ClerkJson(convert::jwt_template(&template)))
}

async fn delete(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::DeletedObject>, ApiError> {
    let id = path_id(&id, JwtTemplateId::parse)?;
    app.service.delete_jwt_template(&instance.id, &id).await?;
    Ok(ClerkJson(convert::deleted("jwt_template", id.as_str())))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/jwt_templates", get(list).post(create))
        .route(
            "/v1/jwt_templates/{id}",
            get(get_one).patch(update).delete(delete),
        )
}
