//! `/v1/organizations/{id}/domains…` (wire §8.2): an organization's verified domains through
//! the secret key. Created verified unless `verified: false`; lists answer `{data, total_count}`.

use super::BapiInstance;
use crate::common::{convert, domains, ApiError, ClerkJson, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, patch};
use axum::Router;
use concierge_core::EnrollmentMode;
use concierge_service::domains::{CreateDomain, UpdateDomain};
use concierge_service::DomainQuery;
use serde::Deserialize;
use serde_json::{json, Value};

type Answer = Result<ClerkJson<Value>, ApiError>;

#[derive(Deserialize, Debug, Default)]
struct CreateBody {
    name: Option<String>,
    enrollment_mode: Option<String>,
    verified: Option<bool>,
}

#[derive(Deserialize, Debug, Default)]
struct UpdateBody {
    enrollment_mode: Option<String>,
    verified: Option<bool>,
}

async fn list(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    params: QueryParams,
) -> Answer {
    let (limit, offset) = params.pagination()?;
    let enrollment_mode = params
        .get("enrollment_mode")
        .filter(|m| !m.is_empty())
        .map(EnrollmentMode::check)
        .transpose()?;
    let query = DomainQuery {
        organization_id: None,
        enrollment_mode,
        verified: params.get_bool("verified")?,
        limit,
        offset,
    };
    let (views, total) = app.service.list_domains(&instance.id, &id, query).await?;
    Ok(ClerkJson(json!({
        "data": views.iter().map(domains::domain).collect::<Vec<_>>(),
        "total_count": total,
    })))
}

async fn create(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<CreateBody>,
) -> Answer {
    let params = CreateDomain {
        name: body.name.ok_or_else(|| ApiError::param_missing("name"))?,
        enrollment_mode: body.enrollment_mode,
        // wire §8.2: verified unless the caller says otherwise.
        verified: body.verified.unwrap_or(true),
    };
    let view = app.service.create_domain(&instance, &id, params).await?;
    Ok(ClerkJson(domains::domain(&view)))
}

async fn update(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path((id, domain)): Path<(String, String)>,
    ClerkJson(body): ClerkJson<UpdateBody>,
) -> Answer {
    let params = UpdateDomain {
        enrollment_mode: body.enrollment_mode,
        verified: body.verified,
        ..UpdateDomain::default()
    };
    let view = app
        .service
        .update_domain(&instance, &id, &domain, params)
        .await?;
    Ok(ClerkJson(domains::domain(&view)))
}

async fn delete(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path((id, domain)): Path<(String, String)>,
) -> Answer {
    let id = app
        .service
        .delete_domain(&instance.id, &id, &domain)
        .await?;
    Ok(ClerkJson(json!(convert::deleted(
        "organization_domain",
        id.as_str()
    ))))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/organizations/{id}/domains", get(list).post(create))
        .route(
            "/v1/organizations/{id}/domains/{domain}",
            patch(update).delete(delete),
        )
}
