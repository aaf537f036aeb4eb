//! `/v1/role_sets…` (wire §8.2): role sets, the roles each organization may assign. Lists
//! answer `{data, total_count}`; replacing a whole set answers the deleted object.

use super::BapiInstance;
use crate::common::extract::double_option;
use crate::common::{ApiError, ClerkJson, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use concierge_service::role_sets::{
    AddRoles, CreateRoleSet, RoleSetRole, RoleSetView, UpdateRoleSet,
};
use concierge_service::{RoleSetOrderField, RoleSetQuery};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

type Answer = Result<ClerkJson<Value>, ApiError>;

#[derive(Deserialize, Debug, Default)]
struct CreateBody {
    name: Option<String>,
    key: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    role_set_type: Option<String>,
    default_role_key: Option<String>,
    creator_role_key: Option<String>,
    roles: Option<Vec<String>>,
}

#[derive(Deserialize, Debug, Default)]
struct UpdateBody {
    name: Option<String>,
    key: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    description: Option<Option<String>>,
    #[serde(rename = "type")]
    role_set_type: Option<String>,
    default_role_key: Option<String>,
    creator_role_key: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
struct AddRolesBody {
    role_keys: Option<Vec<String>>,
    default_role_key: Option<String>,
    creator_role_key: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
struct ReplaceRoleBody {
    role_key: Option<String>,
    to_role_key: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
struct ReplaceSetBody {
    dest_role_set_key: Option<String>,
    reassignment_mappings: Option<BTreeMap<String, String>>,
}

fn item_json(role: &RoleSetRole) -> Value {
    json!({
        "object": "role_set_item", "id": role.id, "name": role.name, "key": role.key,
        "description": role.description, "members_count": role.members_count,
        "has_members": role.members_count > 0,
        "created_at": role.created_at, "updated_at": role.updated_at,
    })
}

fn role_set_json(view: &RoleSetView) -> Value {
    let set = &view.role_set;
    let named = |key: &str| view.role(key).map_or(Value::Null, item_json);
    json!({
        "object": "role_set", "id": set.id.as_str(), "name": set.name, "key": set.key,
        "description": set.description,
        "roles": view.roles.iter().map(item_json).collect::<Vec<_>>(),
        "default_role": named(&set.default_role),
        "creator_role": named(&set.creator_role),
        "type": set.type_name(),
        // Changes apply within one transaction, so no migration is ever in progress.
        "role_set_migration": Value::Null,
        "created_at": set.created_at, "updated_at": set.updated_at,
    })
}

fn list_query(params: &QueryParams) -> Result<RoleSetQuery, ApiError> {
    let (limit, offset) = params.pagination()?;
    let mut query = RoleSetQuery {
        query: params.get("query").map(str::to_owned),
        limit,
        offset,
        ..RoleSetQuery::default()
    };
    if let Some(order) = params.get("order_by") {
        let (descending, field) = match order.strip_prefix('-') {
            Some(field) => (true, field),
            None => (false, order.strip_prefix('+').unwrap_or(order)),
        };
        query.descending = descending;
        query.order_by = match field {
            "created_at" => RoleSetOrderField::CreatedAt,
            "name" => RoleSetOrderField::Name,
            "key" => RoleSetOrderField::Key,
            _ => return Err(ApiError::format_invalid("order_by")),
        };
    }
    Ok(query)
}

async fn list(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Answer {
    let query = list_query(&params)?;
    let (views, total) = app.service.list_role_sets(&instance.id, &query).await?;
    Ok(ClerkJson(json!({
        "data": views.iter().map(role_set_json).collect::<Vec<_>>(),
        "total_count": total,
    })))
}

async fn create(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<CreateBody>,
) -> Answer {
    let params = CreateRoleSet {
        name: body.name,
        key: body.key,
        description: body.description,
        role_set_type: body.role_set_type,
        default_role_key: body.default_role_key,
        creator_role_key: body.creator_role_key,
        roles: body.roles,
    };
    let view = app.service.create_role_set(&instance.id, params).await?;
    Ok(ClerkJson(role_set_json(&view)))
}

async fn get_one(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Answer {
    let view = app.service.get_role_set(&instance.id, &id).await?;
    Ok(ClerkJson(role_set_json(&view)))
}

async fn update(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<UpdateBody>,
) -> Answer {
    let params = UpdateRoleSet {
        name: body.name,
        key: body.key,
        description: body.description,
        role_set_type: body.role_set_type,
        default_role_key: body.default_role_key,
        creator_role_key: body.creator_role_key,
    };
    let view = app
        .service
        .update_role_set(&instance.id, &id, params)
        .await?;
    Ok(ClerkJson(role_set_json(&view)))
}

async fn add_roles(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<AddRolesBody>,
) -> Answer {
    let params = AddRoles {
        role_keys: body.role_keys,
        default_role_key: body.default_role_key,
        creator_role_key: body.creator_role_key,
    };
    let view = app
        .service
        .add_roles_to_role_set(&instance.id, &id, params)
        .await?;
    Ok(ClerkJson(role_set_json(&view)))
}

async fn replace_role(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<ReplaceRoleBody>,
) -> Answer {
    let view = app
        .service
        .replace_role_in_role_set(&instance.id, &id, body.role_key, body.to_role_key)
        .await?;
    Ok(ClerkJson(role_set_json(&view)))
}

async fn replace_set(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<ReplaceSetBody>,
) -> Answer {
    let id = app
        .service
        .replace_role_set(
            &instance.id,
            &id,
            body.dest_role_set_key,
            body.reassignment_mappings.unwrap_or_default(),
        )
        .await?;
    Ok(ClerkJson(
        json!({ "object": "role_set", "id": id.as_str(), "deleted": true }),
    ))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/role_sets", get(list).post(create))
        .route("/v1/role_sets/{id}", get(get_one).patch(update))
        .route("/v1/role_sets/{id}/roles", post(add_roles))
        .route("/v1/role_sets/{id}/roles/replace", post(replace_role))
        .route("/v1/role_sets/{id}/replace", post(replace_set))
}
