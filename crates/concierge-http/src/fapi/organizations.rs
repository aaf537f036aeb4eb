//! Organizations from the browser (wire §6.8): `/v1/organizations…` and
//! `/v1/me/organization_*`, for `<OrganizationSwitcher/>`, `<OrganizationProfile/>` and
//! `<CreateOrganization/>`. Every answer carries the whole client, because clerk-js refreshes its
//! state from some of these GETs too (`forceUpdateClient`).

use super::context::{Fapi, Form};
use crate::common::ratelimit::InvitationLimit;
use crate::common::{convert, ApiError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use concierge_core::{Role, UserId};
use concierge_service::frontend::Outcome;
use concierge_service::frontend_organizations::MyOrganization;
use concierge_service::organizations::{MembershipView, UpdateOrganization};
use concierge_service::MembershipQuery;
use serde_json::{json, Value};

type Answer = Result<Response, ApiError>;

fn org_json(view: &MyOrganization) -> Value {
    convert::organization(&view.organization, Some(view.counts), false)
}

fn membership_json(view: &MembershipView) -> Value {
    convert::membership(
        &view.membership,
        &view.organization,
        &view.role,
        &view.user,
        None,
        false,
    )
}

pub(super) fn page(data: Vec<Value>, total: i64) -> Value {
    json!({ "data": data, "total_count": total })
}

fn role_json(role: &Role) -> Value {
    let id = format!("role_{}", role.key.trim_start_matches("org:"));
    convert::role(&id, role, &[], 0, 0)
}

/// A read answer with the current client attached.
pub(super) async fn with_client(app: &AppState, fapi: &Fapi, response: Value) -> Answer {
    let client = app.service.get_browser_client(&fapi.browser).await?;
    let outcome = Outcome {
        response: (),
        client,
        new_client_token: None,
    };
    Ok(fapi.respond(&outcome, response, &app.service))
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|_| ApiError::not_found())
}

/// `POST /v1/organizations`.
pub async fn create(State(app): State<AppState>, fapi: Fapi, form: Form) -> Answer {
    let name = form
        .get("name")
        .ok_or_else(|| ApiError::param_missing("name"))?;
    let outcome = app
        .service
        .create_my_organization(
            &fapi.browser,
            fapi.session_id.as_deref(),
            name,
            form.get("slug"),
        )
        .await?;
    let value = org_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `GET /v1/organizations/{id}`.
pub async fn get_one(State(app): State<AppState>, fapi: Fapi, Path(id): Path<String>) -> Answer {
    let outcome = app
        .service
        .get_my_organization(&fapi.browser, fapi.session_id.as_deref(), &id)
        .await?;
    let value = org_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `PATCH /v1/organizations/{id}`.
pub async fn update(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let params = UpdateOrganization {
        name: form.get("name"),
        slug: form.get("slug"),
        ..UpdateOrganization::default()
    };
    let outcome = app
        .service
        .update_my_organization(&fapi.browser, fapi.session_id.as_deref(), &id, params)
        .await?;
    let value = org_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `PUT /v1/organizations/{id}/logo` (clerk-js `organization.setLogo`): multipart `file` or the
/// raw image; the logo is served from this Frontend API at the public URL the browser uses.
pub async fn upload_logo(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Answer {
    let base = super::me::public_base(request.headers());
    let file = crate::common::upload::read_upload(request).await?.file;
    logo_answer(app, fapi, id, Some(file), base).await
}

/// `DELETE /v1/organizations/{id}/logo` (`setLogo({ file: null })`).
pub async fn delete_logo(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    logo_answer(app, fapi, id, None, String::new()).await
}

async fn logo_answer(
    app: AppState,
    fapi: Fapi,
    id: String,
    file: Option<Vec<u8>>,
    base: String,
) -> Answer {
    let outcome = app
        .service
        .set_my_organization_logo(&fapi.browser, fapi.session_id.as_deref(), &id, file, &base)
        .await?;
    let value = org_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `DELETE /v1/organizations/{id}`.
pub async fn delete(State(app): State<AppState>, fapi: Fapi, Path(id): Path<String>) -> Answer {
    let outcome = app
        .service
        .delete_my_organization(&fapi.browser, fapi.session_id.as_deref(), &id)
        .await?;
    let value =
        json!({ "object": "organization", "id": outcome.response.as_str(), "deleted": true });
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `GET /v1/organizations/{id}/memberships`.
pub async fn memberships(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let (limit, offset) = fapi.query.pagination()?;
    let query = MembershipQuery {
        roles: fapi.query.get_all("role"),
        ascending: true,
        limit,
        offset,
        ..MembershipQuery::default()
    };
    let (views, total) = app
        .service
        .list_org_memberships(&fapi.browser, fapi.session_id.as_deref(), &id, query)
        .await?;
    with_client(
        &app,
        &fapi,
        page(views.iter().map(membership_json).collect(), total),
    )
    .await
}

/// `POST /v1/organizations/{id}/memberships`.
pub async fn add_member(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let user = form
        .get("user_id")
        .ok_or_else(|| ApiError::param_missing("user_id"))?;
    let user = UserId::parse(&user).map_err(|_| ApiError::format_invalid("user_id"))?;
    let role = form
        .get("role")
        .ok_or_else(|| ApiError::param_missing("role"))?;
    let outcome = app
        .service
        .add_org_member(&fapi.browser, fapi.session_id.as_deref(), &id, &user, &role)
        .await?;
    let value = membership_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `PATCH /v1/organizations/{id}/memberships/{user_id}`.
pub async fn change_role(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, user)): Path<(String, String)>,
    form: Form,
) -> Answer {
    let role = form
        .get("role")
        .ok_or_else(|| ApiError::param_missing("role"))?;
    let outcome = app
        .service
        .change_org_member_role(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &id,
            &user_id(&user)?,
            &role,
        )
        .await?;
    let value = membership_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `DELETE /v1/organizations/{id}/memberships/{user_id}`.
pub async fn remove_member(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, user)): Path<(String, String)>,
) -> Answer {
    let outcome = app
        .service
        .remove_org_member(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &id,
            &user_id(&user)?,
        )
        .await?;
    let value = membership_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `GET /v1/organizations/{id}/roles`: the roles of the organization's role set.
pub async fn roles(State(app): State<AppState>, fapi: Fapi, Path(id): Path<String>) -> Answer {
    let roles = app
        .service
        .org_roles(&fapi.browser, fapi.session_id.as_deref(), &id)
        .await?;
    let total = i64::try_from(roles.len()).unwrap_or_default();
    let mut value = page(roles.iter().map(role_json).collect(), total);
    // Role set changes apply at once, so no migration is ever pending (wire §6.8).
    value["has_role_set_migration"] = json!(false);
    with_client(&app, &fapi, value).await
}

/// `GET /v1/me/organization_memberships`.
pub async fn my_memberships(State(app): State<AppState>, fapi: Fapi) -> Answer {
    let (limit, offset) = fapi.query.pagination()?;
    let (views, total) = app
        .service
        .my_memberships(&fapi.browser, fapi.session_id.as_deref(), limit, offset)
        .await?;
    with_client(
        &app,
        &fapi,
        page(views.iter().map(membership_json).collect(), total),
    )
    .await
}

/// `DELETE /v1/me/organization_memberships/{org}`: leave.
pub async fn leave(State(app): State<AppState>, fapi: Fapi, Path(id): Path<String>) -> Answer {
    let outcome = app
        .service
        .leave_organization(&fapi.browser, fapi.session_id.as_deref(), &id)
        .await?;
    let value = membership_json(&outcome.response);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `GET /v1/organizations/{id}/invitations` (needs `org:sys_memberships:read`).
pub async fn invitations(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let (limit, offset) = fapi.query.pagination()?;
    let (views, total) = app
        .service
        .org_invitations(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &id,
            fapi.query.get_all("status"),
            limit,
            offset,
        )
        .await?;
    let now = app.service.now();
    with_client(
        &app,
        &fapi,
        page(
            views
                .iter()
                .map(|v| convert::invitation(v, now, false))
                .collect(),
            total,
        ),
    )
    .await
}

fn invitation_params(form: &Form) -> Vec<concierge_service::invitations::CreateInvitation> {
    form.0
        .get_all("email_address")
        .into_iter()
        .map(|email| concierge_service::invitations::CreateInvitation {
            email_address: email,
            role: form.get("role"),
            ..Default::default()
        })
        .collect()
}

/// `POST /v1/organizations/{id}/invitations`: one invitation (needs `org:sys_memberships:manage`).
pub async fn invite(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    app.check_invitations(InvitationLimit::Organization, &fapi.browser.instance.id)
        .await?;
    let outcome = app
        .service
        .invite_to_org(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &id,
            invitation_params(&form),
        )
        .await?;
    let now = app.service.now();
    let first = outcome
        .response
        .first()
        .ok_or_else(|| ApiError::param_missing("email_address"))?;
    let value = convert::invitation(first, now, false);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `POST /v1/organizations/{id}/invitations/bulk`: answers an array (wire §6.8).
pub async fn invite_bulk(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    app.check_invitations(InvitationLimit::OrganizationBulk, &fapi.browser.instance.id)
        .await?;
    let outcome = app
        .service
        .invite_to_org(
            &fapi.browser,
            fapi.session_id.as_deref(),
            &id,
            invitation_params(&form),
        )
        .await?;
    let now = app.service.now();
    let value = json!(outcome
        .response
        .iter()
        .map(|v| convert::invitation(v, now, false))
        .collect::<Vec<_>>());
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `POST /v1/organizations/{id}/invitations/{invitation}/revoke`.
pub async fn revoke_invitation(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, invitation)): Path<(String, String)>,
) -> Answer {
    let outcome = app
        .service
        .revoke_org_invitation(&fapi.browser, fapi.session_id.as_deref(), &id, &invitation)
        .await?;
    let value = convert::invitation(&outcome.response, app.service.now(), false);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `GET /v1/me/organization_invitations`: invitations to the user's verified addresses.
pub async fn my_invitations(State(app): State<AppState>, fapi: Fapi) -> Answer {
    let (limit, offset) = fapi.query.pagination()?;
    let (views, total) = app
        .service
        .my_invitations(
            &fapi.browser,
            fapi.session_id.as_deref(),
            fapi.query.get_all("status"),
            limit,
            offset,
        )
        .await?;
    let now = app.service.now();
    with_client(
        &app,
        &fapi,
        page(
            views
                .iter()
                .map(|v| convert::invitation(v, now, false))
                .collect(),
            total,
        ),
    )
    .await
}

/// `POST /v1/me/organization_invitations/{id}/accept`.
pub async fn accept_invitation(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let outcome = app
        .service
        .accept_invitation(&fapi.browser, fapi.session_id.as_deref(), &id)
        .await?;
    let value = convert::invitation(&outcome.response.0, app.service.now(), false);
    Ok(fapi.respond(&outcome, value, &app.service))
}
