//! Organization roles and permissions (wire §8.2 `/v1/organization_roles`,
//! `/v1/organization_permissions`): the built-in `org:admin` and `org:member` plus custom roles
//! made of custom permissions `org:<feature>:<action>`.

use crate::{Result, Service, ServiceError};
use concierge_core::organizations::{
    builtin_role_id, builtin_roles, check_permission_key, check_role_key, find_role, ADMIN_ROLE,
    MEMBER_ROLE,
};
use concierge_core::*;
use concierge_store::{MembershipQuery, Tx};
use tracing::instrument;

/// Fields of a role or permission create/update (`None` leaves a field unchanged).
#[derive(Debug, Clone, Default)]
pub struct RoleParams {
    /// Key (`org:<name>` or `org:<feature>:<action>`); fixed after creation.
    pub key: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// For roles: the permissions, by id or key.
    pub permissions: Option<Vec<String>>,
    /// For new roles: `true` adds the role to the initial role set, `false` to no set; absent
    /// adds it to the Primary Role Set (`role_set:default`), if it still exists.
    pub include_in_initial_role_set: Option<bool>,
}

/// A role as the Backend API shows it: its wire id, its definition and its timestamps
/// (built-in roles have none).
#[derive(Debug, Clone)]
pub struct RoleView {
    /// `role_admin`/`role_member` for built-in roles, else the stored id.
    pub id: String,
    /// Key, name, description and every permission (system ones included).
    pub role: Role,
    /// Creation time (0 for built-in roles).
    pub created_at: Millis,
    /// Last change (0 for built-in roles).
    pub updated_at: Millis,
}

impl RoleView {
    fn builtin(role: Role) -> Self {
        Self {
            id: builtin_role_id(&role.key),
            role,
            created_at: 0,
            updated_at: 0,
        }
    }
}

impl From<&CustomRole> for RoleView {
    fn from(role: &CustomRole) -> Self {
        Self {
            id: role.id.as_str().to_owned(),
            role: Role::from(role),
            created_at: role.created_at,
            updated_at: role.updated_at,
        }
    }
}

/// The built-in role's key named by `id_or_key` (`role_member` or `org:member`).
fn builtin_key(id_or_key: &str) -> Option<&'static str> {
    [ADMIN_ROLE, MEMBER_ROLE]
        .into_iter()
        .find(|key| *key == id_or_key || builtin_role_id(key) == id_or_key)
}

/// A built-in role with the custom permissions attached to it (its stored record, if any).
fn with_attached(mut role: Role, stored: Option<&CustomRole>) -> Role {
    for key in stored.map(|r| r.permissions.as_slice()).unwrap_or_default() {
        if !role.permissions.contains(key) {
            role.permissions.push(key.clone());
        }
    }
    role
}

impl Service {
    /// The role with this key: built-in (plus the custom permissions attached to it) or custom.
    pub(crate) async fn resolve_role(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        key: &str,
    ) -> Result<Option<Role>> {
        let stored = tx.find_role_by_key(instance, key).await?;
        Ok(match find_role(key) {
            Some(builtin) => Some(with_attached(builtin, stored.as_ref())),
            None => stored.as_ref().map(Role::from),
        })
    }

    /// The role of a membership as it stands now (a role deleted meanwhile has no permissions).
    pub(crate) async fn role_of(tx: &mut dyn Tx, instance: &InstanceId, key: &str) -> Result<Role> {
        Ok(Self::resolve_role(tx, instance, key)
            .await?
            .unwrap_or_else(|| Role {
                key: key.to_owned(),
                name: key.trim_start_matches("org:").to_owned(),
                description: String::new(),
                permissions: Vec::new(),
            }))
    }

    /// Built-in roles first (with the custom permissions attached to them), then custom roles.
    pub async fn list_roles(&self, instance: &InstanceId) -> Result<(Vec<Role>, Vec<CustomRole>)> {
        let mut conn = self.inner.store.read().await?;
        let (attached, custom): (Vec<CustomRole>, Vec<CustomRole>) = conn
            .list_roles(instance)
            .await?
            .into_iter()
            .partition(|r| find_role(&r.key).is_some());
        let builtin = builtin_roles()
            .into_iter()
            .map(|role| {
                let stored = attached.iter().find(|r| r.key == role.key);
                with_attached(role, stored)
            })
            .collect();
        Ok((builtin, custom))
    }

    /// Custom permissions, oldest first.
    pub async fn list_permissions(&self, instance: &InstanceId) -> Result<Vec<Permission>> {
        let mut conn = self.inner.store.read().await?;
        Ok(conn.list_permissions(instance).await?)
    }

    /// `POST /v1/organization_permissions`.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn create_permission(
        &self,
        instance: &InstanceId,
        params: RoleParams,
    ) -> Result<Permission> {
        let key = params.key.ok_or(CoreError::ParamMissing { param: "key" })?;
        check_permission_key(&key)?;
        let now = self.now();
        let permission = Permission {
            id: PermissionId::generate(&mut Self::rng()),
            instance_id: instance.clone(),
            name: params.name.unwrap_or_else(|| key.clone()),
            key,
            description: params.description.unwrap_or_default(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.inner.store.begin().await?;
        tx.insert_permission(&permission).await?;
        tx.commit().await?;
        Ok(permission)
    }

    async fn find_permission(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        id_or_key: &str,
    ) -> Result<Permission> {
        tx.list_permissions(instance)
            .await?
            .into_iter()
            .find(|p| p.id.as_str() == id_or_key || p.key == id_or_key)
            .ok_or(ServiceError::NotFound)
    }

    /// `GET /v1/organization_permissions/{id}`.
    pub async fn get_permission(&self, instance: &InstanceId, id: &str) -> Result<Permission> {
        let mut conn = self.inner.store.read().await?;
        Self::find_permission(conn.as_mut(), instance, id).await
    }

    /// `PATCH /v1/organization_permissions/{id}`: name and description.
    pub async fn update_permission(
        &self,
        instance: &InstanceId,
        id: &str,
        params: RoleParams,
    ) -> Result<Permission> {
        let mut tx = self.inner.store.begin().await?;
        let mut permission = Self::find_permission(tx.as_mut(), instance, id).await?;
        if let Some(name) = params.name {
            permission.name = name;
        }
        if let Some(description) = params.description {
            permission.description = description;
        }
        permission.updated_at = self.now();
        tx.update_permission(&permission).await?;
        tx.commit().await?;
        Ok(permission)
    }

    /// `DELETE /v1/organization_permissions/{id}`: also removed from every role holding it.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn delete_permission(&self, instance: &InstanceId, id: &str) -> Result<PermissionId> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let permission = Self::find_permission(tx.as_mut(), instance, id).await?;
        for mut role in tx.list_roles(instance).await? {
            if role.permissions.contains(&permission.key) {
                role.permissions.retain(|k| k != &permission.key);
                role.updated_at = now;
                tx.update_role(&role).await?;
            }
        }
        tx.delete_permission(instance, &permission.id).await?;
        tx.commit().await?;
        Ok(permission.id)
    }

    /// Permission keys from ids or keys, each a defined custom permission.
    async fn permission_keys(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        wanted: &[String],
    ) -> Result<Vec<String>> {
        let all = tx.list_permissions(instance).await?;
        let mut keys = Vec::new();
        for w in wanted {
            let permission = all
                .iter()
                .find(|p| p.id.as_str() == w || &p.key == w)
                .ok_or(CoreError::FormatInvalid {
                    param: "permissions",
                })?;
            if !keys.contains(&permission.key) {
                keys.push(permission.key.clone());
            }
        }
        Ok(keys)
    }

    async fn find_custom_role(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        id_or_key: &str,
    ) -> Result<CustomRole> {
        if builtin_key(id_or_key).is_some() {
            // Built-in roles cannot be renamed or deleted (custom permissions can be attached).
            return Err(CoreError::PermissionDenied.into());
        }
        tx.list_roles(instance)
            .await?
            .into_iter()
            .find(|r| {
                find_role(&r.key).is_none() && (r.id.as_str() == id_or_key || r.key == id_or_key)
            })
            .ok_or(ServiceError::NotFound)
    }

    /// `POST /v1/organization_roles`.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn create_role(
        &self,
        instance: &InstanceId,
        params: RoleParams,
    ) -> Result<CustomRole> {
        let key = params.key.ok_or(CoreError::ParamMissing { param: "key" })?;
        check_role_key(&key)?;
        let name = params
            .name
            .ok_or(CoreError::ParamMissing { param: "name" })?;
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let permissions = Self::permission_keys(
            tx.as_mut(),
            instance,
            &params.permissions.unwrap_or_default(),
        )
        .await?;
        let role = CustomRole {
            id: RoleId::generate(&mut Self::rng()),
            instance_id: instance.clone(),
            key,
            name,
            description: params.description.unwrap_or_default(),
            permissions,
            created_at: now,
            updated_at: now,
        };
        tx.insert_role(&role).await?;
        Self::place_new_role(tx.as_mut(), &role, params.include_in_initial_role_set).await?;
        tx.commit().await?;
        Ok(role)
    }

    /// `GET /v1/organization_roles/{id}`: a built-in role (by `role_admin`/`role_member` or its
    /// key) or a custom one.
    pub async fn get_role(&self, instance: &InstanceId, id: &str) -> Result<RoleView> {
        let mut conn = self.inner.store.read().await?;
        if let Some(key) = builtin_key(id) {
            let role = Self::resolve_role(conn.as_mut(), instance, key)
                .await?
                .ok_or(ServiceError::NotFound)?;
            return Ok(RoleView::builtin(role));
        }
        Ok(RoleView::from(
            &Self::find_custom_role(conn.as_mut(), instance, id).await?,
        ))
    }

    /// `PATCH /v1/organization_roles/{id}`: name, description, permissions (replaced).
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn update_role(
        &self,
        instance: &InstanceId,
        id: &str,
        params: RoleParams,
    ) -> Result<CustomRole> {
        let mut tx = self.inner.store.begin().await?;
        let mut role = Self::find_custom_role(tx.as_mut(), instance, id).await?;
        if let Some(name) = params.name {
            role.name = name;
        }
        if let Some(description) = params.description {
            role.description = description;
        }
        if let Some(permissions) = params.permissions {
            role.permissions = Self::permission_keys(tx.as_mut(), instance, &permissions).await?;
        }
        role.updated_at = self.now();
        tx.update_role(&role).await?;
        tx.commit().await?;
        Ok(role)
    }

    /// `POST` (attach) or `DELETE` (detach) `/v1/organization_roles/{id}/permissions/{perm}`.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn set_role_permission(
        &self,
        instance: &InstanceId,
        id: &str,
        permission: &str,
        attach: bool,
    ) -> Result<RoleView> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        // Only custom permissions can be attached: system permissions are fixed per role.
        let key = Self::find_permission(tx.as_mut(), instance, permission)
            .await?
            .key;
        let (mut role, stored) = match builtin_key(id) {
            // A built-in role keeps the custom permissions attached to it in a stored record
            // under its key; the record is created on the first attachment.
            Some(builtin) => match tx.find_role_by_key(instance, builtin).await? {
                Some(record) => (record, true),
                None => {
                    let role = find_role(builtin).ok_or(ServiceError::NotFound)?;
                    let record = CustomRole {
                        id: RoleId::generate(&mut Self::rng()),
                        instance_id: instance.clone(),
                        key: role.key,
                        name: role.name,
                        description: role.description,
                        permissions: Vec::new(),
                        created_at: now,
                        updated_at: now,
                    };
                    (record, false)
                }
            },
            None => (
                Self::find_custom_role(tx.as_mut(), instance, id).await?,
                true,
            ),
        };
        if attach {
            if !role.permissions.contains(&key) {
                role.permissions.push(key);
            }
        } else {
            role.permissions.retain(|k| k != &key);
        }
        role.updated_at = now;
        if stored {
            tx.update_role(&role).await?;
        } else {
            tx.insert_role(&role).await?;
        }
        tx.commit().await?;
        Ok(match find_role(&role.key) {
            Some(builtin) => RoleView::builtin(with_attached(builtin, Some(&role))),
            None => RoleView::from(&role),
        })
    }

    /// `DELETE /v1/organization_roles/{id}`: refused while members hold the role or while it
    /// is a role set's default or creator role; it leaves every role set.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn delete_role(&self, instance: &InstanceId, id: &str) -> Result<RoleId> {
        let mut tx = self.inner.store.begin().await?;
        let role = Self::find_custom_role(tx.as_mut(), instance, id).await?;
        let holders = MembershipQuery {
            roles: vec![role.key.clone()],
            ..MembershipQuery::default()
        };
        if tx.count_memberships(instance, &holders).await? > 0 {
            return Err(CoreError::PermissionDenied.into());
        }
        Self::release_role(tx.as_mut(), &role, self.now()).await?;
        tx.delete_role(instance, &role.id).await?;
        tx.commit().await?;
        Ok(role.id)
    }
}
