//! `/v1/organization_roles…` and `/v1/organization_permissions…` (wire §8.2): the built-in
//! roles (fixed system permissions; custom permissions can be attached) and custom roles made
//! of custom permissions.

use super::BapiInstance;
use crate::common::convert::{
    permission as permission_json, role as role_json, system_permission as system_permission_json,
};
use crate::common::{ApiError, ClerkJson, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use concierge_core::organizations::builtin_role_id;
use concierge_core::{Permission, Role};
use concierge_service::roles::{RoleParams, RoleView};
use serde::Deserialize;
use serde_json::{json, Value};

type Answer = Result<ClerkJson<Value>, ApiError>;

#[derive(Deserialize, Debug, Default)]
struct Body {
    key: Option<String>,
    name: Option<String>,
    description: Option<String>,
    permissions: Option<Vec<String>>,
    include_in_initial_role_set: Option<bool>,
}

impl From<Body> for RoleParams {
    fn from(body: Body) -> Self {
        Self {
            key: body.key,
            name: body.name,
            description: body.description,
            permissions: body.permissions,
            include_in_initial_role_set: body.include_in_initial_role_set,
        }
    }
}

fn custom_role_json(role: &concierge_core::CustomRole, permissions: &[Permission]) -> Value {
    role_json(
        role.id.as_str(),
        &Role::from(role),
        permissions,
        role.created_at,
        role.updated_at,
    )
}

/// One page of a list built in memory, as `{data, total_count}`.
fn page_of(all: Vec<Value>, limit: i64, offset: i64) -> ClerkJson<Value> {
    let total = all.len();
    let data: Vec<Value> = all
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or_default())
        .take(usize::try_from(limit).unwrap_or_default())
        .collect();
    ClerkJson(json!({ "data": data, "total_count": total }))
}

async fn list_roles(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Answer {
    let (limit, offset) = params.pagination()?;
    let (builtin, custom) = app.service.list_roles(&instance.id).await?;
    let permissions = app.service.list_permissions(&instance.id).await?;
    let mut all: Vec<Value> = builtin
        .iter()
        .map(|r| role_json(&builtin_role_id(&r.key), r, &permissions, 0, 0))
        .collect();
    all.extend(custom.iter().map(|r| custom_role_json(r, &permissions)));
    Ok(page_of(all, limit, offset))
}

async fn create_role(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<Body>,
) -> Answer {
    let role = app.service.create_role(&instance.id, body.into()).await?;
    let permissions = app.service.list_permissions(&instance.id).await?;
    Ok(ClerkJson(custom_role_json(&role, &permissions)))
}

fn role_view_json(view: &RoleView, permissions: &[Permission]) -> Value {
    role_json(
        &view.id,
        &view.role,
        permissions,
        view.created_at,
        view.updated_at,
    )
}

async fn get_role(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Answer {
    let role = app.service.get_role(&instance.id, &id).await?;
    let permissions = app.service.list_permissions(&instance.id).await?;
    Ok(ClerkJson(role_view_json(&role, &permissions)))
}

async fn update_role(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<Body>,
) -> Answer {
    let role = app
        .service
        .update_role(&instance.id, &id, body.into())
        .await?;
    let permissions = app.service.list_permissions(&instance.id).await?;
    Ok(ClerkJson(custom_role_json(&role, &permissions)))
}

async fn delete_role(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Answer {
    let id = app.service.delete_role(&instance.id, &id).await?;
    Ok(ClerkJson(
        json!({ "object": "role", "id": id.as_str(), "deleted": true }),
    ))
}

async fn attach(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path((id, permission)): Path<(String, String)>,
) -> Answer {
    let role = app
        .service
        .set_role_permission(&instance.id, &id, &permission, true)
        .await?;
    let permissions = app.service.list_permissions(&instance.id).await?;
    Ok(ClerkJson(role_view_json(&role, &permissions)))
}

async fn detach(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path((id, permission)): Path<(String, String)>,
) -> Answer {
    let role = app
        .service
        .set_role_permission(&instance.id, &id, &permission, false)
        .await?;
    let permissions = app.service.list_permissions(&instance.id).await?;
    Ok(ClerkJson(role_view_json(&role, &permissions)))
}

async fn list_permissions(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Answer {
    let (limit, offset) = params.pagination()?;
    let permissions = app.service.list_permissions(&instance.id).await?;
    let mut all: Vec<Value> = concierge_core::organizations::SYSTEM_PERMISSIONS
        .iter()
        .map(|key| system_permission_json(key))
        .collect();
    all.extend(permissions.iter().map(permission_json));
    Ok(page_of(all, limit, offset))
}

async fn create_permission(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<Body>,
) -> Answer {
    let permission = app
        .service
        .create_permission(&instance.id, body.into())
        .await?;
    Ok(ClerkJson(permission_json(&permission)))
}

async fn get_permission(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Answer {
    let permission = app.service.get_permission(&instance.id, &id).await?;
    Ok(ClerkJson(permission_json(&permission)))
}

async fn update_permission(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<Body>,
) -> Answer {
    let permission = app
        .service
        .update_permission(&instance.id, &id, body.into())
        .await?;
    Ok(ClerkJson(permission_json(&permission)))
}

async fn delete_permission(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Answer {
    let id = app.service.delete_permission(&instance.id, &id).await?;
    Ok(ClerkJson(
        json!({ "object": "permission", "id": id.as_str(), "deleted": true }),
    ))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/organization_roles", get(list_roles).post(create_role))
        .route(
            "/v1/organization_roles/{id}",
            get(get_role).patch(update_role).delete(delete_role),
        )
        .route(
            "/v1/organization_roles/{id}/permissions/{permission}",
            post(attach).delete(detach),
        )
        .route(
            "/v1/organization_permissions",
            get(list_permissions).post(create_permission),
        )
        .route(
            "/v1/organization_permissions/{id}",
            get(get_permission)
                .patch(update_permission)
                .delete(delete_permission),
        )
}
