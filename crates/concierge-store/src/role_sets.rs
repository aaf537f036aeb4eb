//! Role sets in storage: the [`RoleSetTx`] capability, a supertrait of [`crate::Tx`] so every
//! transaction handle has it, its query types, and its SQL written once for both backends by
//! `impl_role_set_tx!` (invoked next to `impl_tx!`, whose helpers `col` and `map_err` it uses).
//! A set keeps its role keys as one JSON array; organizations point at their set by id.

use async_trait::async_trait;
use concierge_core::{InstanceId, Millis, OrganizationId, RoleSet, RoleSetId};

use crate::StoreError;

/// Fields role sets can be ordered by (`order_by` of `GET /v1/role_sets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoleSetOrderField {
    /// Creation time (the default, newest first).
    #[default]
    CreatedAt,
    /// Name, case-insensitively.
    Name,
    /// Key.
    Key,
}

/// Filter, order and page of a role set list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSetQuery {
    /// Exact id, or case-insensitive substring of the name or key.
    pub query: Option<String>,
    /// Sort field.
    pub order_by: RoleSetOrderField,
    /// Descending when true.
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

impl Default for RoleSetQuery {
    fn default() -> Self {
        Self {
            query: None,
            order_by: RoleSetOrderField::CreatedAt,
            descending: true,
            limit: 10,
            offset: 0,
        }
    }
}

/// Which organizations a role-usage count or a reassignment covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleUsageScope {
    /// One organization.
    Organization(OrganizationId),
    /// Every organization using this role set.
    RoleSet(RoleSetId),
}

/// How often one role is held (by members) or promised (by pending invitations) in a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleUsage {
    /// Role key.
    pub role: String,
    /// Memberships with this role.
    pub members: i64,
    /// Pending invitations granting it.
    pub pending_invitations: i64,
}

/// Role set queries; every method takes the instance first and filters on it.
#[async_trait]
pub trait RoleSetTx: Send {
    /// Inserts a role set. Conflicts: `key` (unique per instance), `type` (a second initial set).
    async fn insert_role_set(&mut self, role_set: &RoleSet) -> Result<(), StoreError>;
    /// The role set with this id.
    async fn get_role_set(
        &mut self,
        instance: &InstanceId,
        id: &RoleSetId,
    ) -> Result<RoleSet, StoreError>;
    /// The role set with this key.
    async fn find_role_set_by_key(
        &mut self,
        instance: &InstanceId,
        key: &str,
    ) -> Result<Option<RoleSet>, StoreError>;
    /// The instance's initial role set.
    async fn find_initial_role_set(
        &mut self,
        instance: &InstanceId,
    ) -> Result<Option<RoleSet>, StoreError>;
    /// Role sets matching the query, ordered and paginated as it says.
    async fn list_role_sets(
        &mut self,
        instance: &InstanceId,
        query: &RoleSetQuery,
    ) -> Result<Vec<RoleSet>, StoreError>;
    /// How many role sets match the query's filter.
    async fn count_role_sets(
        &mut self,
        instance: &InstanceId,
        query: &RoleSetQuery,
    ) -> Result<i64, StoreError>;
    /// Replaces every mutable column. Conflicts: `key`, `type`.
    async fn update_role_set(&mut self, role_set: &RoleSet) -> Result<(), StoreError>;
    /// Deletes a role set (no organization may still use it).
    async fn delete_role_set(
        &mut self,
        instance: &InstanceId,
        id: &RoleSetId,
    ) -> Result<(), StoreError>;
    /// For each role held by a member or granted by a pending invitation in the scope, how
    /// many; ordered by role key.
    async fn count_role_usage(
        &mut self,
        instance: &InstanceId,
        scope: &RoleUsageScope,
    ) -> Result<Vec<RoleUsage>, StoreError>;
    /// Gives every member holding `from` in the scope the role `to` (and rewrites pending
    /// invitations likewise) at `now`; returns how many memberships changed.
    async fn reassign_role(
        &mut self,
        instance: &InstanceId,
        scope: &RoleUsageScope,
        from: &str,
        to: &str,
        now: Millis,
    ) -> Result<i64, StoreError>;
    /// Moves every organization using role set `from` to `to` at `now`; returns how many moved.
    async fn move_role_set_organizations(
        &mut self,
        instance: &InstanceId,
        from: &RoleSetId,
        to: &RoleSetId,
        now: Millis,
    ) -> Result<i64, StoreError>;
}

pub(crate) const ROLE_SET_COLUMNS: &str = "id, instance_id, key, name, description, roles, default_role, creator_role, is_initial, created_at, updated_at";

/// Implements [`RoleSetTx`] for `$tx` over database `$db`; expects `impl_tx!` in the same module.
macro_rules! impl_role_set_tx {
    ($tx:ty, $db:ty) => {
        use $crate::role_sets::{RoleSetOrderField, RoleSetQuery, RoleUsage, RoleUsageScope, ROLE_SET_COLUMNS};

        fn role_set_row(row: &DbRow) -> Result<RoleSet, StoreError> {
            Ok(RoleSet {
                id: RoleSetId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                key: col(row, "key")?,
                name: col(row, "name")?,
                description: col(row, "description")?,
                roles: from_json(&col::<String>(row, "roles")?)?,
                default_role: col(row, "default_role")?,
                creator_role: col(row, "creator_role")?,
                initial: col(row, "is_initial")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn push_role_set_filter<'a>(qb: &mut QueryBuilder<'a, $db>, query: &'a RoleSetQuery) {
            if let Some(text) = &query.query {
                let pattern = like_pattern(text);
                qb.push(" AND (id = ");
                qb.push_bind(text.as_str());
                qb.push(" OR LOWER(name) LIKE ");
                qb.push_bind(pattern.clone());
                qb.push(" ESCAPE '\\' OR LOWER(key) LIKE ");
                qb.push_bind(pattern);
                qb.push(" ESCAPE '\\')");
            }
        }

        /// `AND <column> <in the scope>` for a column holding an organization id.
        fn push_role_scope<'a>(qb: &mut QueryBuilder<'a, $db>, column: &str, instance: &'a InstanceId, scope: &'a RoleUsageScope) {
            match scope {
                RoleUsageScope::Organization(org) => {
                    qb.push(format!(" AND {column} = "));
                    qb.push_bind(org.as_str());
                }
                RoleUsageScope::RoleSet(set) => {
                    qb.push(format!(" AND {column} IN (SELECT o.id FROM organizations o WHERE o.instance_id = "));
                    qb.push_bind(instance.as_str());
                    qb.push(" AND o.role_set_id = ");
                    qb.push_bind(set.as_str());
                    qb.push(")");
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::role_sets::RoleSetTx for $tx {
            async fn insert_role_set(&mut self, r: &RoleSet) -> Result<(), StoreError> {
                sqlx::query(&format!("INSERT INTO role_sets ({ROLE_SET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                    .bind(r.id.as_str()).bind(r.instance_id.as_str()).bind(&r.key).bind(&r.name).bind(&r.description)
                    .bind(to_json(&r.roles)?).bind(&r.default_role).bind(&r.creator_role).bind(r.initial)
                    .bind(r.created_at).bind(r.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_role_set(&mut self, instance: &InstanceId, id: &RoleSetId) -> Result<RoleSet, StoreError> {
                let row = sqlx::query(&format!("SELECT {ROLE_SET_COLUMNS} FROM role_sets WHERE instance_id = $1 AND id = $2"))
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(role_set_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn find_role_set_by_key(&mut self, instance: &InstanceId, key: &str) -> Result<Option<RoleSet>, StoreError> {
                let row = sqlx::query(&format!("SELECT {ROLE_SET_COLUMNS} FROM role_sets WHERE instance_id = $1 AND key = $2"))
                    .bind(instance.as_str()).bind(key).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(role_set_row).transpose()
            }

            async fn find_initial_role_set(&mut self, instance: &InstanceId) -> Result<Option<RoleSet>, StoreError> {
                let row = sqlx::query(&format!("SELECT {ROLE_SET_COLUMNS} FROM role_sets WHERE instance_id = $1 AND is_initial = $2"))
                    .bind(instance.as_str()).bind(true).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(role_set_row).transpose()
            }

            async fn list_role_sets(&mut self, instance: &InstanceId, query: &RoleSetQuery) -> Result<Vec<RoleSet>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {ROLE_SET_COLUMNS} FROM role_sets WHERE instance_id = "));
                qb.push_bind(instance.as_str());
                push_role_set_filter(&mut qb, query);
                let direction = if query.descending { "DESC" } else { "ASC" };
                let order = match query.order_by {
                    RoleSetOrderField::CreatedAt => "created_at",
                    RoleSetOrderField::Name => "LOWER(name)",
                    RoleSetOrderField::Key => "key",
                };
                qb.push(format!(" ORDER BY {order} {direction}, id {direction} LIMIT "));
                qb.push_bind(query.limit);
                qb.push(" OFFSET ");
                qb.push_bind(query.offset);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(role_set_row).collect()
            }

            async fn count_role_sets(&mut self, instance: &InstanceId, query: &RoleSetQuery) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM role_sets WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_role_set_filter(&mut qb, query);
                let row = qb.build().fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }

            async fn update_role_set(&mut self, r: &RoleSet) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE role_sets SET key = $1, name = $2, description = $3, roles = $4, default_role = $5, creator_role = $6, is_initial = $7, updated_at = $8 WHERE instance_id = $9 AND id = $10")
                    .bind(&r.key).bind(&r.name).bind(&r.description).bind(to_json(&r.roles)?).bind(&r.default_role)
                    .bind(&r.creator_role).bind(r.initial).bind(r.updated_at).bind(r.instance_id.as_str()).bind(r.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn delete_role_set(&mut self, instance: &InstanceId, id: &RoleSetId) -> Result<(), StoreError> {
                let result = sqlx::query("DELETE FROM role_sets WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn count_role_usage(&mut self, instance: &InstanceId, scope: &RoleUsageScope) -> Result<Vec<RoleUsage>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT role, CAST(SUM(members) AS BIGINT) AS members, CAST(SUM(invitations) AS BIGINT) AS invitations FROM (\
                     SELECT m.role AS role, COUNT(*) AS members, 0 AS invitations FROM organization_memberships m WHERE m.instance_id = ");
                qb.push_bind(instance.as_str());
                push_role_scope(&mut qb, "m.organization_id", instance, scope);
                qb.push(" GROUP BY m.role UNION ALL SELECT i.role AS role, 0 AS members, COUNT(*) AS invitations FROM organization_invitations i WHERE i.instance_id = ");
                qb.push_bind(instance.as_str());
                qb.push(" AND i.status = 'pending'");
                push_role_scope(&mut qb, "i.organization_id", instance, scope);
                qb.push(" GROUP BY i.role) u GROUP BY role ORDER BY role");
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter()
                    .map(|row| {
                        Ok(RoleUsage {
                            role: col(row, "role")?,
                            members: col(row, "members")?,
                            pending_invitations: col(row, "invitations")?,
                        })
                    })
                    .collect()
            }

            async fn reassign_role(&mut self, instance: &InstanceId, scope: &RoleUsageScope, from: &str, to: &str, now: Millis) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("UPDATE organization_memberships SET role = ");
                qb.push_bind(to);
                qb.push(", updated_at = ");
                qb.push_bind(now);
                qb.push(" WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                qb.push(" AND role = ");
                qb.push_bind(from);
                push_role_scope(&mut qb, "organization_id", instance, scope);
                let members = qb.build().execute(self.conn().await?).await.map_err(map_err)?.rows_affected();
                let mut qb = QueryBuilder::<$db>::new("UPDATE organization_invitations SET role = ");
                qb.push_bind(to);
                qb.push(", updated_at = ");
                qb.push_bind(now);
                qb.push(" WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                qb.push(" AND status = 'pending' AND role = ");
                qb.push_bind(from);
                push_role_scope(&mut qb, "organization_id", instance, scope);
                qb.build().execute(self.conn().await?).await.map_err(map_err)?;
                Ok(i64::try_from(members).unwrap_or(i64::MAX))
            }

            async fn move_role_set_organizations(&mut self, instance: &InstanceId, from: &RoleSetId, to: &RoleSetId, now: Millis) -> Result<i64, StoreError> {
                let result = sqlx::query("UPDATE organizations SET role_set_id = $1, updated_at = $2 WHERE instance_id = $3 AND role_set_id = $4")
                    .bind(to.as_str()).bind(now).bind(instance.as_str()).bind(from.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(i64::try_from(result.rows_affected()).unwrap_or(i64::MAX))
            }
        }
    };
}

pub(crate) use impl_role_set_tx;
