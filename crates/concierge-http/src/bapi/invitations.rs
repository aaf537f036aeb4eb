//! `/v1/invitations` (wire §8.2): instance invitations, created one by one or in bulk, listed,
//! revoked and deleted. Creation is rate limited per instance (`common::ratelimit`).

use super::BapiInstance;
use crate::common::ratelimit::InvitationLimit;
use crate::common::{convert, ApiError, ClerkJson, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use concierge_service::instance_invitations::CreateInstanceInvitation;
use concierge_service::{InstanceInvitationQuery, InvitationOrderField};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, Debug, Default)]
struct InvitationBody {
    email_address: Option<String>,
    public_metadata: Option<Value>,
    redirect_url: Option<String>,
    notify: Option<bool>,
    ignore_existing: Option<bool>,
    expires_in_days: Option<i64>,
    /// `invitation` or `waitlist_invitation`; there is one template, so it is accepted and unused.
    #[allow(dead_code)]
    template_slug: Option<String>,
}

impl InvitationBody {
    fn into_params(self) -> Result<CreateInstanceInvitation, ApiError> {
        Ok(CreateInstanceInvitation {
            email_address: self
                .email_address
                .filter(|e| !e.is_empty())
                .ok_or_else(|| ApiError::param_missing("email_address"))?,
            public_metadata: self.public_metadata,
            redirect_url: self.redirect_url,
            notify: self.notify,
            ignore_existing: self.ignore_existing,
            expires_in_days: self.expires_in_days,
        })
    }
}

async fn create(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<InvitationBody>,
) -> Result<ClerkJson<Value>, ApiError> {
    app.check_invitations(InvitationLimit::Instance, &instance.id)
        .await?;
    let views = app
        .service
        .create_instance_invitations(&instance, vec![body.into_params()?])
        .await?;
    let view = views.first().ok_or_else(ApiError::internal)?;
    Ok(ClerkJson(convert::instance_invitation(
        view,
        app.service.now(),
    )))
}

/// `POST /v1/invitations/bulk`: a JSON array in, an array out (wire §8.2).
async fn create_bulk(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<Vec<InvitationBody>>,
) -> Result<ClerkJson<Value>, ApiError> {
    app.check_invitations(InvitationLimit::InstanceBulk, &instance.id)
        .await?;
    let params = body
        .into_iter()
        .map(InvitationBody::into_params)
        .collect::<Result<Vec<_>, _>>()?;
    let views = app
        .service
        .create_instance_invitations(&instance, params)
        .await?;
    let now = app.service.now();
    Ok(ClerkJson(json!(views
        .iter()
        .map(|v| convert::instance_invitation(v, now))
        .collect::<Vec<_>>())))
}

/// `order_by`: `created_at`, `email_address` or `expires_at`, `-` for descending, `+` or no
/// sign for ascending; absent means `-created_at`.
fn order(params: &QueryParams) -> Result<(InvitationOrderField, bool), ApiError> {
    let Some(raw) = params.get("order_by") else {
        return Ok((InvitationOrderField::CreatedAt, false));
    };
    // A `+` that reached us unencoded reads as a space.
    let raw = raw.trim_start_matches(' ');
    let (field, ascending) = match raw.strip_prefix('-') {
        Some(field) => (field, false),
        None => (raw.strip_prefix('+').unwrap_or(raw), true),
    };
    let field = match field {
        "created_at" => InvitationOrderField::CreatedAt,
        "email_address" => InvitationOrderField::EmailAddress,
        "expires_at" => InvitationOrderField::ExpiresAt,
        _ => return Err(ApiError::format_invalid("order_by")),
    };
    Ok((field, ascending))
}

/// `GET /v1/invitations`: `{data, total_count}` with `paginated=true` (what the SDK sends),
/// else a bare array.
async fn list(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let (limit, offset) = params.pagination()?;
    let (order_by, ascending) = order(&params)?;
    let query = InstanceInvitationQuery {
        statuses: params.get_all("status"),
        query: params.get("query").map(str::to_owned),
        order_by,
        ascending,
        limit,
        offset,
        ..InstanceInvitationQuery::default()
    };
    let (views, total) = app
        .service
        .list_instance_invitations(&instance, query)
        .await?;
    let now = app.service.now();
    let data = views
        .iter()
        .map(|v| convert::instance_invitation(v, now))
        .collect();
    Ok(convert::list_response::<Value>(
        data,
        total,
        params.get_bool("paginated")?.unwrap_or(false),
    ))
}

async fn revoke(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<Value>, ApiError> {
    let view = app
        .service
        .revoke_instance_invitation(&instance, &id)
        .await?;
    Ok(ClerkJson(convert::instance_invitation(
        &view,
        app.service.now(),
    )))
}

async fn remove(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = app
        .service
        .delete_instance_invitation(&instance.id, &id)
        .await?;
    Ok(
        ClerkJson(json!({ "object": "invitation", "id": id.as_str(), "deleted": true }))
            .into_response(),
    )
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/invitations", get(list).post(create))
        .route("/v1/invitations/bulk", post(create_bulk))
        .route("/v1/invitations/{id}", delete(remove))
        .route("/v1/invitations/{id}/revoke", post(revoke))
}
