//! Verified domains, membership requests and suggestions from the browser (wire §6.8):
//! `/v1/organizations/{id}/domains…`, `/v1/organizations/{id}/membership_requests…` and
//! `/v1/me/organization_suggestions…`. Thin handlers; permissions and rules live in
//! `concierge_service::frontend_domains`. Every answer carries the client.

use super::context::{Fapi, Form};
use super::objects::DEFAULT_AVATAR;
use super::organizations::{page, with_client};
use crate::common::{convert, domains, ApiError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use concierge_core::EnrollmentMode;
use concierge_service::frontend_domains::{MembershipRequestView, SuggestionView};
use concierge_service::DomainQuery;
use serde_json::{json, Value};

type Answer = Result<Response, ApiError>;

fn suggestion_json(view: &SuggestionView) -> Value {
    let s = &view.suggestion;
    let org = &view.organization;
    json!({
        "object": "organization_suggestion", "id": s.id.as_str(), "status": s.status.as_str(),
        "public_organization_data": {
            "id": org.id.as_str(), "name": org.name, "slug": org.slug,
            "image_url": org.image_url.clone().unwrap_or_default(), "has_image": org.image_url.is_some(),
        },
        "created_at": s.created_at, "updated_at": s.updated_at,
    })
}

fn request_json(view: &MembershipRequestView) -> Value {
    let r = &view.request;
    let mut user = convert::public_user_data(&view.user);
    if view.user.user.image_url.is_none() {
        user["image_url"] = json!(DEFAULT_AVATAR);
    }
    json!({
        "object": "organization_membership_request", "id": r.id.as_str(),
        "organization_id": r.organization_id.as_str(), "status": r.status.as_str(),
        "public_user_data": user,
        "created_at": r.created_at, "updated_at": r.updated_at,
    })
}

fn required(form: &Form, param: &str) -> Result<String, ApiError> {
    form.get(param)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::param_missing(param))
}

/// `GET /v1/organizations/{id}/domains` (`org:sys_domains:read`).
async fn list(State(app): State<AppState>, fapi: Fapi, Path(id): Path<String>) -> Answer {
    let (limit, offset) = fapi.query.pagination()?;
    let enrollment_mode = fapi
        .query
        .get("enrollment_mode")
        .filter(|m| !m.is_empty())
        .map(EnrollmentMode::check)
        .transpose()?;
    let query = DomainQuery {
        organization_id: None,
        enrollment_mode,
        verified: fapi.query.get_bool("verified")?,
        limit,
        offset,
    };
    let (views, total) = app
        .service
        .my_org_domains(&fapi.browser, fapi.session_id.as_deref(), &id, query)
        .await?;
    let data = views.iter().map(domains::domain).collect();
    with_client(&app, &fapi, page(data, total)).await
}

/// `POST /v1/organizations/{id}/domains` (`org:sys_domains:manage`): an unverified domain.
async fn create(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let name = required(&form, "name")?;
    let outcome = app
        .service
        .create_my_org_domain(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &id,
            name,
            form.get("enrollment_mode"),
        )
        .await?;
    let value = domains::domain(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `GET /v1/organizations/{id}/domains/{domain}` (`org:sys_domains:read`).
async fn get_one(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, domain)): Path<(String, String)>,
) -> Answer {
    let view = app
        .service
        .my_org_domain(&fapi.browser, fapi.session_id.as_deref(), &id, &domain)
        .await?;
    with_client(&app, &fapi, domains::domain(&view)).await
}

/// `DELETE /v1/organizations/{id}/domains/{domain}` (`org:sys_domains:manage`).
async fn delete(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, domain)): Path<(String, String)>,
) -> Answer {
    let outcome = app
        .service
        .delete_my_org_domain(&fapi.browser, fapi.session_id.as_deref(), &id, &domain)
        .await?;
    let value = json!(convert::deleted(
        "organization_domain",
        outcome.response.as_str()
    ));
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `POST …/domains/{domain}/prepare_affiliation_verification` with `affiliation_email_address`.
async fn prepare_affiliation(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, domain)): Path<(String, String)>,
    form: Form,
) -> Answer {
    let address = required(&form, "affiliation_email_address")?;
    let outcome = app
        .service
        .prepare_affiliation_verification(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &id,
            &domain,
            &address,
        )
        .await?;
    let value = domains::domain(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `POST …/domains/{domain}/attempt_affiliation_verification` with `code`.
async fn attempt_affiliation(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, domain)): Path<(String, String)>,
    form: Form,
) -> Answer {
    let code = required(&form, "code")?;
    let outcome = app
        .service
        .attempt_affiliation_verification(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &id,
            &domain,
            &code,
        )
        .await?;
    let value = domains::domain(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `POST …/domains/{domain}/update_enrollment_mode` with `enrollment_mode`, `delete_pending`.
async fn update_enrollment_mode(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, domain)): Path<(String, String)>,
    form: Form,
) -> Answer {
    let mode = required(&form, "enrollment_mode")?;
    let delete_pending = form.get_bool("delete_pending")?.unwrap_or(false);
    let outcome = app
        .service
        .update_my_org_domain_mode(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &id,
            &domain,
            mode,
            delete_pending,
        )
        .await?;
    let value = domains::domain(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `GET /v1/organizations/{id}/membership_requests` (`org:sys_memberships:manage`).
async fn membership_requests(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let (limit, offset) = fapi.query.pagination()?;
    let (views, total) = app
        .service
        .org_membership_requests(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &id,
            &fapi.query.get_all("status"),
            limit,
            offset,
        )
        .await?;
    let data = views.iter().map(request_json).collect();
    with_client(&app, &fapi, page(data, total)).await
}

/// `POST /v1/organizations/{id}/membership_requests/{request}/accept`.
async fn accept_request(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, request)): Path<(String, String)>,
) -> Answer {
    let outcome = app
        .service
        .accept_membership_request(&fapi.browser, fapi.session_id.as_deref(), &id, &request)
        .await?;
    let value = request_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `POST /v1/organizations/{id}/membership_requests/{request}/reject`.
async fn reject_request(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, request)): Path<(String, String)>,
) -> Answer {
    let outcome = app
        .service
        .reject_membership_request(&fapi.browser, fapi.session_id.as_deref(), &id, &request)
        .await?;
    let value = request_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `GET /v1/me/organization_suggestions` (`status` filter, repeated or comma-separated).
async fn my_suggestions(State(app): State<AppState>, fapi: Fapi) -> Answer {
    let (limit, offset) = fapi.query.pagination()?;
    let (views, total) = app
        .service
        .my_suggestions(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &fapi.query.get_all("status"),
            limit,
            offset,
        )
        .await?;
    let data = views.iter().map(suggestion_json).collect();
    with_client(&app, &fapi, page(data, total)).await
}

/// `POST /v1/me/organization_suggestions/{id}/accept`: asks to join.
async fn accept_suggestion(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let outcome = app
        .service
        .accept_suggestion(&fapi.browser, fapi.session_id.as_deref(), &id)
        .await?;
    let value = suggestion_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// The routes of this module, merged into the Frontend API router.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/organizations/{id}/domains", get(list).post(create))
        .route(
            "/v1/organizations/{id}/domains/{domain}",
            get(get_one).delete(delete),
        )
        .route(
            "/v1/organizations/{id}/domains/{domain}/prepare_affiliation_verification",
            post(prepare_affiliation),
        )
        .route(
            "/v1/organizations/{id}/domains/{domain}/attempt_affiliation_verification",
            post(attempt_affiliation),
        )
        .route(
            "/v1/organizations/{id}/domains/{domain}/update_enrollment_mode",
            post(update_enrollment_mode),
        )
        .route(
            "/v1/organizations/{id}/membership_requests",
            get(membership_requests),
        )
        .route(
            "/v1/organizations/{id}/membership_requests/{request}/accept",
            post(accept_request),
        )
        .route(
            "/v1/organizations/{id}/membership_requests/{request}/reject",
            post(reject_request),
        )
        .route("/v1/me/organization_suggestions", get(my_suggestions))
        .route(
            "/v1/me/organization_suggestions/{id}/accept",
            post(accept_suggestion),
        )
}
