//! `/v1/organizations…`, `/v1/organization_memberships` and
//! `/v1/users/{id}/organization_memberships` (wire §8.2). Lists always answer
//! `{data, total_count}`.

use super::{path_id, BapiInstance};
use crate::common::ratelimit::InvitationLimit;
use crate::common::{convert, ApiError, ClerkJson, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, patch};
use axum::Router;
use concierge_core::{Instance, OrganizationId, UserId};
use concierge_service::invitations::InvitationView;
use concierge_service::organizations::{
    ActingAs, CreateOrganization, MembershipView, UpdateOrganization,
};
use concierge_service::{MembershipQuery, OrganizationQuery};
use serde::Deserialize;
use serde_json::{json, Value};

type Answer = Result<ClerkJson<Value>, ApiError>;

#[derive(Deserialize, Debug, Default)]
struct CreateBody {
    name: Option<String>,
    slug: Option<String>,
    created_by: Option<String>,
    max_allowed_memberships: Option<i64>,
    public_metadata: Option<Value>,
    private_metadata: Option<Value>,
    role_set_key: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
struct UpdateBody {
    name: Option<String>,
    slug: Option<String>,
    max_allowed_memberships: Option<i64>,
    admin_delete_enabled: Option<bool>,
    role_set_key: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
struct MetadataBody {
    public_metadata: Option<Value>,
    private_metadata: Option<Value>,
}

#[derive(Deserialize, Debug, Default)]
struct MembershipBody {
    user_id: Option<String>,
    role: Option<String>,
}

fn page(data: Vec<Value>, total: i64) -> ClerkJson<Value> {
    ClerkJson(json!({ "data": data, "total_count": total }))
}

fn membership_json(view: &MembershipView) -> Value {
    convert::membership(
        &view.membership,
        &view.organization,
        &view.role,
        &view.user,
        None,
        true,
    )
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|_| ApiError::format_invalid("user_id"))
}

async fn create(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<CreateBody>,
) -> Answer {
    let created_by = body
        .created_by
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(user_id)
        .transpose()?;
    let params = CreateOrganization {
        name: body.name.ok_or_else(|| ApiError::param_missing("name"))?,
        slug: body.slug,
        created_by,
        max_allowed_memberships: body.max_allowed_memberships,
        public_metadata: body.public_metadata,
        private_metadata: body.private_metadata,
        role_set_key: body.role_set_key,
        // The secret key creates for anyone, whatever the creator's own limits.
        creator_limits: false,
    };
    let org = app.service.create_organization(&instance, params).await?;
    let count = app
        .service
        .organization_counts(&instance.id, &org.id)
        .await?;
    Ok(ClerkJson(convert::organization(&org, Some(count), true)))
}

async fn list(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Answer {
    let (limit, offset) = params.pagination()?;
    let ids = params
        .get_all("organization_id")
        .iter()
        .map(|id| {
            concierge_core::OrganizationId::parse(id)
                .map_err(|_| ApiError::format_invalid("organization_id"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let query = OrganizationQuery {
        query: params.get("query").map(str::to_owned),
        organization_ids: ids,
        created_by: None,
        ascending: params.get("order_by").is_some_and(|o| o.starts_with('+')),
        limit,
        offset,
    };
    let with_counts = params.get_bool("include_members_count")?.unwrap_or(false);
    let (orgs, total) = app.service.list_organizations(&instance.id, &query).await?;
    let counts = if with_counts {
        let ids: Vec<OrganizationId> = orgs.iter().map(|o| o.id.clone()).collect();
        app.service
            .organizations_counts(&instance.id, &ids)
            .await?
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![None; orgs.len()]
    };
    let data = orgs
        .iter()
        .zip(counts)
        .map(|(org, counts)| convert::organization(org, counts, true))
        .collect();
    Ok(page(data, total))
}

async fn get_one(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    params: QueryParams,
) -> Answer {
    let org = app.service.get_organization(&instance.id, &id).await?;
    let count = if params.get_bool("include_members_count")?.unwrap_or(false) {
        Some(
            app.service
                .organization_counts(&instance.id, &org.id)
                .await?,
        )
    } else {
        None
    };
    Ok(ClerkJson(convert::organization(&org, count, true)))
}

async fn update(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<UpdateBody>,
) -> Answer {
    let params = UpdateOrganization {
        name: body.name,
        slug: body.slug,
        max_allowed_memberships: body.max_allowed_memberships,
        admin_delete_enabled: body.admin_delete_enabled,
        role_set_key: body.role_set_key,
    };
    let org = app
        .service
        .update_organization(&instance.id, &id, params, ActingAs::Backend)
        .await?;
    Ok(ClerkJson(convert::organization(&org, None, true)))
}

/// `PUT /v1/organizations/{id}/logo`: multipart `file` and optional `uploader_user_id`.
async fn upload_logo(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Answer {
    let upload = crate::common::upload::read_upload(request).await?;
    let uploader = upload.fields.get("uploader_user_id").map(String::as_str);
    let base = app.service.frontend_base(&instance);
    let org = app
        .service
        .set_organization_logo(
            &instance.id,
            &id,
            upload.file,
            &base,
            uploader,
            ActingAs::Backend,
        )
        .await?;
    Ok(ClerkJson(convert::organization(&org, None, true)))
}

/// `DELETE /v1/organizations/{id}/logo`.
async fn delete_logo(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Answer {
    let org = app
        .service
        .delete_organization_logo(&instance.id, &id, ActingAs::Backend)
        .await?;
    Ok(ClerkJson(convert::organization(&org, None, true)))
}

async fn metadata(
    app: AppState,
    instance: std::sync::Arc<concierge_core::Instance>,
    id: String,
    body: MetadataBody,
    merge: bool,
) -> Answer {
    let org = app
        .service
        .update_organization_metadata(
            &instance.id,
            &id,
            body.public_metadata,
            body.private_metadata,
            merge,
        )
        .await?;
    Ok(ClerkJson(convert::organization(&org, None, true)))
}

async fn merge_metadata(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<MetadataBody>,
) -> Answer {
    metadata(app, instance, id, body, true).await
}

async fn replace_metadata(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<MetadataBody>,
) -> Answer {
    metadata(app, instance, id, body, false).await
}

async fn delete(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Answer {
    let id = app
        .service
        .delete_organization(&instance.id, &id, ActingAs::Backend)
        .await?;
    Ok(ClerkJson(
        json!({ "object": "organization", "id": id.as_str(), "deleted": true }),
    ))
}

fn membership_query(params: &QueryParams) -> Result<MembershipQuery, ApiError> {
    let (limit, offset) = params.pagination()?;
    Ok(MembershipQuery {
        organization_id: None,
        user_ids: params
            .get_all("user_id")
            .iter()
            .map(|id| user_id(id))
            .collect::<Result<Vec<_>, _>>()?,
        roles: params.get_all("role"),
        ascending: params.get("order_by").is_some_and(|o| o.starts_with('+')),
        limit,
        offset,
    })
}

async fn list_memberships(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    params: QueryParams,
) -> Answer {
    let org = app.service.get_organization(&instance.id, &id).await?;
    let mut query = membership_query(&params)?;
    query.organization_id = Some(org.id);
    let (views, total) = app.service.list_memberships(&instance.id, &query).await?;
    Ok(page(views.iter().map(membership_json).collect(), total))
}

async fn instance_memberships(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Answer {
    let query = membership_query(&params)?;
    let (views, total) = app.service.list_memberships(&instance.id, &query).await?;
    Ok(page(views.iter().map(membership_json).collect(), total))
}

async fn user_memberships(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(user): Path<String>,
    params: QueryParams,
) -> Answer {
    let user = path_id(&user, UserId::parse)?;
    app.service.get_user(&instance.id, &user).await?;
    let mut query = membership_query(&params)?;
    query.user_ids = vec![user];
    let (views, total) = app.service.list_memberships(&instance.id, &query).await?;
    Ok(page(views.iter().map(membership_json).collect(), total))
}

async fn create_membership(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<MembershipBody>,
) -> Answer {
    let user = user_id(
        &body
            .user_id
            .ok_or_else(|| ApiError::param_missing("user_id"))?,
    )?;
    let role = body.role.ok_or_else(|| ApiError::param_missing("role"))?;
    let view = app
        .service
        .create_membership(&instance.id, &id, &user, &role, ActingAs::Backend)
        .await?;
    Ok(ClerkJson(membership_json(&view)))
}

async fn update_membership(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path((id, user)): Path<(String, String)>,
    ClerkJson(body): ClerkJson<MembershipBody>,
) -> Answer {
    let user = path_id(&user, UserId::parse)?;
    let role = body.role.ok_or_else(|| ApiError::param_missing("role"))?;
    let view = app
        .service
        .update_membership_role(&instance.id, &id, &user, &role, ActingAs::Backend)
        .await?;
    Ok(ClerkJson(membership_json(&view)))
}

async fn membership_metadata(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path((id, user)): Path<(String, String)>,
    ClerkJson(body): ClerkJson<MetadataBody>,
) -> Answer {
    let user = path_id(&user, UserId::parse)?;
    let view = app
        .service
        .update_membership_metadata(
            &instance.id,
            &id,
            &user,
            body.public_metadata,
            body.private_metadata,
        )
        .await?;
    Ok(ClerkJson(membership_json(&view)))
}

async fn delete_membership(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path((id, user)): Path<(String, String)>,
) -> Answer {
    let user = path_id(&user, UserId::parse)?;
    let view = app
        .service
        .delete_membership(&instance.id, &id, &user, ActingAs::Backend)
        .await?;
    Ok(ClerkJson(membership_json(&view)))
}

#[derive(Deserialize, Debug, Default)]
struct InvitationBody {
    email_address: Option<String>,
    role: Option<String>,
    inviter_user_id: Option<String>,
    expires_in_days: Option<i64>,
    redirect_url: Option<String>,
    public_metadata: Option<Value>,
    private_metadata: Option<Value>,
}

impl InvitationBody {
    fn into_params(self) -> Result<concierge_service::invitations::CreateInvitation, ApiError> {
        Ok(concierge_service::invitations::CreateInvitation {
            email_address: self
                .email_address
                .ok_or_else(|| ApiError::param_missing("email_address"))?,
            role: self.role,
            inviter_user_id: self
                .inviter_user_id
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(user_id)
                .transpose()?,
            expires_in_days: self.expires_in_days,
            redirect_url: self.redirect_url,
            public_metadata: self.public_metadata,
            private_metadata: self.private_metadata,
        })
    }
}

/// Organization invitations as the Backend API shows them: with `url`, the accept link
/// carrying the invitation's ticket while it is pending.
async fn invitations_json(
    app: &AppState,
    instance: &Instance,
    views: &[InvitationView],
) -> Result<Vec<Value>, ApiError> {
    let links = app
        .service
        .organization_invitation_links(instance, views)
        .await?;
    let now = app.service.now();
    Ok(views
        .iter()
        .zip(links)
        .map(|(view, link)| {
            let mut value = convert::invitation(view, now, true);
            value["url"] = json!(link);
            value
        })
        .collect())
}

async fn invitation_json(
    app: &AppState,
    instance: &Instance,
    view: InvitationView,
) -> Result<ClerkJson<Value>, ApiError> {
    invitations_json(app, instance, &[view])
        .await?
        .pop()
        .map(ClerkJson)
        .ok_or_else(ApiError::internal)
}

async fn create_invitation(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<InvitationBody>,
) -> Answer {
    app.check_invitations(InvitationLimit::Organization, &instance.id)
        .await?;
    let views = app
        .service
        .create_invitations(&instance, &id, vec![body.into_params()?], ActingAs::Backend)
        .await?;
    let view = views.into_iter().next().ok_or_else(ApiError::internal)?;
    invitation_json(&app, &instance, view).await
}

async fn create_invitations_bulk(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<Vec<InvitationBody>>,
) -> Answer {
    app.check_invitations(InvitationLimit::OrganizationBulk, &instance.id)
        .await?;
    let params = body
        .into_iter()
        .map(InvitationBody::into_params)
        .collect::<Result<Vec<_>, _>>()?;
    let views = app
        .service
        .create_invitations(&instance, &id, params, ActingAs::Backend)
        .await?;
    let total = i64::try_from(views.len()).unwrap_or_default();
    Ok(page(
        invitations_json(&app, &instance, &views).await?,
        total,
    ))
}

async fn list_invitations(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    params: QueryParams,
) -> Answer {
    let (limit, offset) = params.pagination()?;
    let query = concierge_service::InvitationQuery {
        statuses: params.get_all("status"),
        limit,
        offset,
        ..Default::default()
    };
    let (views, total) = app
        .service
        .list_invitations(&instance.id, &id, query)
        .await?;
    Ok(page(
        invitations_json(&app, &instance, &views).await?,
        total,
    ))
}

async fn get_invitation(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path((id, invitation)): Path<(String, String)>,
) -> Answer {
    let view = app
        .service
        .get_invitation(&instance.id, &id, &invitation)
        .await?;
    invitation_json(&app, &instance, view).await
}

async fn revoke_invitation(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path((id, invitation)): Path<(String, String)>,
) -> Answer {
    let view = app
        .service
        .revoke_invitation(&instance.id, &id, &invitation, ActingAs::Backend)
        .await?;
    invitation_json(&app, &instance, view).await
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/organizations", get(list).post(create))
        .route(
            "/v1/organizations/{id}",
            get(get_one).patch(update).delete(delete),
        )
        .route(
            "/v1/organizations/{id}/logo",
            axum::routing::put(upload_logo).delete(delete_logo).layer(
                axum::extract::DefaultBodyLimit::max(concierge_core::MAX_IMAGE_BYTES + 64 * 1024),
            ),
        )
        .route(
            "/v1/organizations/{id}/metadata",
            patch(merge_metadata).put(replace_metadata),
        )
        .route(
            "/v1/organizations/{id}/memberships",
            get(list_memberships).post(create_membership),
        )
        .route(
            "/v1/organizations/{id}/memberships/{user_id}",
            patch(update_membership).delete(delete_membership),
        )
        .route(
            "/v1/organizations/{id}/memberships/{user_id}/metadata",
            patch(membership_metadata),
        )
        .route(
            "/v1/organizations/{id}/invitations",
            get(list_invitations).post(create_invitation),
        )
        .route(
            "/v1/organizations/{id}/invitations/bulk",
            axum::routing::post(create_invitations_bulk),
        )
        .route(
            "/v1/organizations/{id}/invitations/{invitation}",
            get(get_invitation),
        )
        .route(
            "/v1/organizations/{id}/invitations/{invitation}/revoke",
            axum::routing::post(revoke_invitation),
        )
        .route("/v1/organization_memberships", get(instance_memberships))
        .route(
            "/v1/users/{id}/organization_memberships",
            get(user_memberships),
        )
}
