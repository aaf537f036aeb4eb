//! Organization roles and permissions (wire §8.2): `/v1/organization_roles…` (the built-in roles
//! are read-only; custom roles are made of permissions) and `/v1/organization_permissions…`.

use super::{json_body, segment, ApiError, BackendApi, DeletedObject, Page, PageParams};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An organization role.
///
/// ```
/// use concierge_sdk::client::Role;
///
/// let role: Role = serde_json::from_str(r#"{
///     "object": "role",
///     "id": "role_2mQ7gH0iJ1kL2mN3oP4qR5sT6uV",
///     "key": "org:analyst",
///     "name": "Analyst",
///     "description": "Reads and exports reports",
///     "is_creator_eligible": false,
///     "permissions": [
///         {"object": "permission", "id": "perm_2mQ7hI1jK2lM3nO4pQ5rS6tU7vW", "key": "org:reports:read",
///          "name": "Read reports", "type": "user", "created_at": 1759990000000, "updated_at": 1759990000000},
///         {"object": "permission", "id": "perm_2mQ7iJ2kL3mN4oP5qR6sT7uV8wX", "key": "org:reports:export",
///          "name": "Export reports", "type": "user", "created_at": 1759990000000, "updated_at": 1759990000000}
///     ],
///     "created_at": 1759990000000,
///     "updated_at": 1760000000000
/// }"#)?;
/// assert_eq!(role.key, "org:analyst");
/// assert!(!role.is_creator_eligible, "cannot be given to an organization's creator");
/// let keys: Vec<&str> = role.permission_keys().collect();
/// assert_eq!(keys, ["org:reports:read", "org:reports:export"]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// `role_…`.
    pub id: String,
    /// Key (`org:admin`, `org:billing`).
    pub key: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether a creator of an organization may be given this role.
    #[serde(default)]
    pub is_creator_eligible: bool,
    /// The permissions it grants, system permissions included.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Creation, Unix ms (0 for built-in roles).
    #[serde(default)]
    pub created_at: i64,
    /// Last update, Unix ms.
    #[serde(default)]
    pub updated_at: i64,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Role {
    /// The keys of its permissions.
    ///
    /// ```
    /// # use concierge_sdk::client::Role;
    /// # fn run(role: Role) {
    /// let exports = role.permission_keys().any(|k| k == "org:reports:export");
    /// # let _ = exports; }
    /// ```
    pub fn permission_keys(&self) -> impl Iterator<Item = &str> {
        self.permissions.iter().map(|p| p.key.as_str())
    }
}

/// An organization permission.
///
/// ```
/// use concierge_sdk::client::Permission;
///
/// let permission: Permission = serde_json::from_str(r#"{
///     "object": "permission",
///     "id": "perm_2mQ7jK3lM4nO5pQ6rS7tU8vW9xY",
///     "key": "org:sys_memberships:manage",
///     "name": "Manage members",
///     "description": null,
///     "type": "system",
///     "created_at": 0,
///     "updated_at": 0
/// }"#)?;
/// // `type` is a Rust keyword, hence the field name.
/// assert_eq!(permission.permission_type, "system");
/// // System permissions are never in a session token: check them through a role instead.
/// assert!(permission.key.starts_with("org:sys_"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    /// `perm_…`.
    pub id: String,
    /// Key (`org:reports:export`; system permissions are `org:sys_*`).
    pub key: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// `system` or `user` (custom).
    #[serde(rename = "type", default)]
    pub permission_type: String,
    /// Creation, Unix ms.
    #[serde(default)]
    pub created_at: i64,
    /// Last update, Unix ms.
    #[serde(default)]
    pub updated_at: i64,
}

/// Fields of a custom role (create) or the fields to change (update); `None` is not sent.
///
/// ```
/// use concierge_sdk::client::RoleParams;
///
/// let params = RoleParams {
///     key: Some("org:analyst".into()),
///     name: Some("Analyst".into()),
///     permissions: Some(vec!["org:reports:read".into(), "org:reports:export".into()]),
///     ..Default::default()
/// };
/// # let _ = params;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoleParams {
    /// Key (`org:<name>`), fixed after creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Permissions by key or id; on update the list replaces the old one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// Fields of a custom permission (create) or the fields to change (update).
///
/// ```
/// use concierge_sdk::client::PermissionParams;
///
/// let params = PermissionParams {
///     key: Some("org:reports:export".into()),
///     name: Some("Export reports".into()),
///     ..Default::default()
/// };
/// # let _ = params;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PermissionParams {
    /// Key (`org:<feature>:<action>`), fixed after creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn role_path(role_id: &str) -> Result<String, ApiError> {
    segment(role_id).map(|id| format!("organization_roles/{id}"))
}

fn permission_path(permission_id: &str) -> Result<String, ApiError> {
    segment(permission_id).map(|id| format!("organization_permissions/{id}"))
}

fn page_query(page: PageParams) -> Vec<(&'static str, String)> {
    let mut query = Vec::new();
    page.push(&mut query);
    query
}

impl BackendApi {
    /// `GET /v1/organization_roles`: built-in and custom roles.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let roles = api.list_roles(Default::default()).await?;
    /// assert!(roles.data.iter().any(|r| r.key == "org:admin"));
    /// # Ok(()) }
    /// ```
    pub async fn list_roles(&self, page: PageParams) -> Result<Page<Role>, ApiError> {
        self.get("organization_roles", &page_query(page)).await
    }

    /// `GET /v1/organization_roles/{id}` (a custom role).
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let role = api.get_role("role_123").await?;
    /// # let _ = role; Ok(()) }
    /// ```
    pub async fn get_role(&self, role_id: &str) -> Result<Role, ApiError> {
        self.get(&role_path(role_id)?, &[]).await
    }

    /// `POST /v1/organization_roles`: a custom role (`key` and `name` required).
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::RoleParams;
    ///
    /// let role = api
    ///     .create_role(&RoleParams { key: Some("org:analyst".into()), name: Some("Analyst".into()), ..Default::default() })
    ///     .await?;
    /// # let _ = role; Ok(()) }
    /// ```
    pub async fn create_role(&self, params: &RoleParams) -> Result<Role, ApiError> {
        self.send(
            Method::POST,
            "organization_roles",
            &[],
            Some(json_body(params)?),
        )
        .await
    }

    /// `PATCH /v1/organization_roles/{id}`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::RoleParams;
    ///
    /// let role = api
    ///     .update_role("role_123", &RoleParams { name: Some("Data analyst".into()), ..Default::default() })
    ///     .await?;
    /// # let _ = role; Ok(()) }
    /// ```
    pub async fn update_role(&self, role_id: &str, params: &RoleParams) -> Result<Role, ApiError> {
        self.send(
            Method::PATCH,
            &role_path(role_id)?,
            &[],
            Some(json_body(params)?),
        )
        .await
    }

    /// `DELETE /v1/organization_roles/{id}` (refused while members hold it).
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// api.delete_role("role_123").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_role(&self, role_id: &str) -> Result<DeletedObject, ApiError> {
        self.send(Method::DELETE, &role_path(role_id)?, &[], None)
            .await
    }

    /// `POST /v1/organization_roles/{id}/permissions/{permission}`: grants one more permission
    /// (by id or key).
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let role = api.assign_permission_to_role("role_123", "perm_123").await?;
    /// # let _ = role; Ok(()) }
    /// ```
    pub async fn assign_permission_to_role(
        &self,
        role_id: &str,
        permission: &str,
    ) -> Result<Role, ApiError> {
        let path = format!(
            "{}/permissions/{}",
            role_path(role_id)?,
            segment(permission)?
        );
        self.send(Method::POST, &path, &[], None).await
    }

    /// `DELETE /v1/organization_roles/{id}/permissions/{permission}`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let role = api.remove_permission_from_role("role_123", "perm_123").await?;
    /// # let _ = role; Ok(()) }
    /// ```
    pub async fn remove_permission_from_role(
        &self,
        role_id: &str,
        permission: &str,
    ) -> Result<Role, ApiError> {
        let path = format!(
            "{}/permissions/{}",
            role_path(role_id)?,
            segment(permission)?
        );
        self.send(Method::DELETE, &path, &[], None).await
    }

    /// `GET /v1/organization_permissions`: system and custom permissions.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let permissions = api.list_permissions(Default::default()).await?;
    /// let custom = permissions.data.iter().filter(|p| p.permission_type == "user").count();
    /// # let _ = custom; Ok(()) }
    /// ```
    pub async fn list_permissions(&self, page: PageParams) -> Result<Page<Permission>, ApiError> {
        self.get("organization_permissions", &page_query(page))
            .await
    }

    /// `GET /v1/organization_permissions/{id}`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let permission = api.get_permission("perm_123").await?;
    /// # let _ = permission; Ok(()) }
    /// ```
    pub async fn get_permission(&self, permission_id: &str) -> Result<Permission, ApiError> {
        self.get(&permission_path(permission_id)?, &[]).await
    }

    /// `POST /v1/organization_permissions`: a custom permission (`key` and `name` required).
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::PermissionParams;
    ///
    /// let permission = api
    ///     .create_permission(&PermissionParams {
    ///         key: Some("org:reports:export".into()),
    ///         name: Some("Export reports".into()),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # let _ = permission; Ok(()) }
    /// ```
    pub async fn create_permission(
        &self,
        params: &PermissionParams,
    ) -> Result<Permission, ApiError> {
        self.send(
            Method::POST,
            "organization_permissions",
            &[],
            Some(json_body(params)?),
        )
        .await
    }

    /// `PATCH /v1/organization_permissions/{id}`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::PermissionParams;
    ///
    /// let permission = api
    ///     .update_permission("perm_123", &PermissionParams { name: Some("Export".into()), ..Default::default() })
    ///     .await?;
    /// # let _ = permission; Ok(()) }
    /// ```
    pub async fn update_permission(
        &self,
        permission_id: &str,
        params: &PermissionParams,
    ) -> Result<Permission, ApiError> {
        self.send(
            Method::PATCH,
            &permission_path(permission_id)?,
            &[],
            Some(json_body(params)?),
        )
        .await
    }

    /// `DELETE /v1/organization_permissions/{id}`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// api.delete_permission("perm_123").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_permission(&self, permission_id: &str) -> Result<DeletedObject, ApiError> {
        self.send(Method::DELETE, &permission_path(permission_id)?, &[], None)
            .await
    }
}
