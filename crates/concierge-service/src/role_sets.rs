//! Role sets (wire §8.2 `/v1/role_sets`): which roles an organization's members may hold.
//!
//! Every organization uses one set; new organizations get the instance's initial set, which is
//! the Primary Role Set (`role_set:default`) unless another was made initial. A set's default
//! role goes to new members when none is named, its creator role to an organization's creator.
//! Changing a set applies to every organization using it; replacing a role or a whole set moves
//! the members (and pending invitations) in the same transaction, so no migration is ever "in
//! progress". The instance settings `organization_default_role` / `organization_creator_role`
//! mirror the initial set's default and creator roles (the environment shows them).

use crate::{Result, Service, ServiceError};
use concierge_core::organizations::{builtin_role_id, find_role};
use concierge_core::role_sets::{
    check_role_count, check_role_set_key, check_role_set_name, role_set_key_from_name,
};
use concierge_core::*;
use concierge_store::{RoleSetQuery, RoleUsageScope, StoreError, Tx};
use std::collections::BTreeMap;
use tracing::instrument;

/// A role of a set as `role_set_item` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSetRole {
    /// The role's id (`role_…`; built-in roles have fixed ids).
    pub id: String,
    /// Role key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Members holding it in organizations that use the set.
    pub members_count: i64,
    /// Creation time (0 for built-in roles).
    pub created_at: Millis,
    /// Last change (0 for built-in roles).
    pub updated_at: Millis,
}

/// A role set with its roles resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSetView {
    /// The set.
    pub role_set: RoleSet,
    /// Its roles, in the set's order.
    pub roles: Vec<RoleSetRole>,
}

impl RoleSetView {
    /// The role with this key.
    pub fn role(&self, key: &str) -> Option<&RoleSetRole> {
        self.roles.iter().find(|r| r.key == key)
    }
}

/// Parameters of `POST /v1/role_sets`.
#[derive(Debug, Clone, Default)]
pub struct CreateRoleSet {
    /// Display name (required).
    pub name: Option<String>,
    /// Key; generated from the name when absent.
    pub key: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// `initial` or `custom` (the default).
    pub role_set_type: Option<String>,
    /// Default role; one of `roles`.
    pub default_role_key: Option<String>,
    /// Creator role; one of `roles`.
    pub creator_role_key: Option<String>,
    /// 1 to 10 existing role keys.
    pub roles: Option<Vec<String>>,
}

/// Parameters of `PATCH /v1/role_sets/{key or id}`; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct UpdateRoleSet {
    /// Display name.
    pub name: Option<String>,
    /// Key.
    pub key: Option<String>,
    /// Description; `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// `initial` makes this the set of new organizations (the previous one becomes custom).
    pub role_set_type: Option<String>,
    /// Default role; already in the set.
    pub default_role_key: Option<String>,
    /// Creator role; already in the set.
    pub creator_role_key: Option<String>,
}

/// Parameters of `POST /v1/role_sets/{key or id}/roles`.
#[derive(Debug, Clone, Default)]
pub struct AddRoles {
    /// 1 to 10 existing role keys.
    pub role_keys: Option<Vec<String>>,
    /// New default role (in the set once the roles are added).
    pub default_role_key: Option<String>,
    /// New creator role (in the set once the roles are added).
    pub creator_role_key: Option<String>,
}

/// Sets per instance are few; lists that must see all of them read up to this many.
const ALL_ROLE_SETS: i64 = 10_000;

fn parse_type(value: Option<&str>) -> Result<Option<bool>> {
    match value {
        None => Ok(None),
        Some("initial") => Ok(Some(true)),
        Some("custom") => Ok(Some(false)),
        Some(_) => Err(CoreError::FormatInvalid { param: "type" }.into()),
    }
}

impl Service {
    /// A role set by id (`rs_…`) or key.
    pub(crate) async fn load_role_set(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        key_or_id: &str,
    ) -> Result<RoleSet> {
        if let Ok(id) = RoleSetId::parse(key_or_id) {
            return Ok(tx.get_role_set(instance, &id).await?);
        }
        tx.find_role_set_by_key(instance, key_or_id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// A role set named in a request body: a 422 on `param` when it does not exist.
    pub(crate) async fn named_role_set(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        key_or_id: &str,
        param: &'static str,
    ) -> Result<RoleSet> {
        match Self::load_role_set(tx, instance, key_or_id).await {
            Err(ServiceError::NotFound) => Err(CoreError::FormatInvalid { param }.into()),
            other => other,
        }
    }

    /// The instance's initial role set (every instance has one from creation or migration 0009).
    pub(crate) async fn initial_role_set(
        tx: &mut dyn Tx,
        instance: &InstanceId,
    ) -> Result<RoleSet> {
        tx.find_initial_role_set(instance)
            .await?
            .ok_or_else(|| ServiceError::Internal("instance has no initial role set".into()))
    }

    /// The role set an organization uses.
    pub(crate) async fn role_set_of(tx: &mut dyn Tx, org: &Organization) -> Result<RoleSet> {
        match &org.role_set_id {
            Some(id) => Ok(tx.get_role_set(&org.instance_id, id).await?),
            None => Self::initial_role_set(tx, &org.instance_id).await,
        }
    }

    /// The role with this key, once it exists (else 422 on `param`) and is in `set` (else 422
    /// `organization_role_not_in_role_set` on `param`).
    pub(crate) async fn role_in_set(
        tx: &mut dyn Tx,
        set: &RoleSet,
        key: &str,
        param: &'static str,
    ) -> Result<Role> {
        let role = Self::resolve_role(tx, &set.instance_id, key)
            .await?
            .ok_or(CoreError::FormatInvalid { param })?;
        if !set.contains(key) {
            return Err(CoreError::RoleNotInRoleSet { param }.into());
        }
        Ok(role)
    }

    /// Every role set of the instance, oldest first.
    pub(crate) async fn all_role_sets(
        tx: &mut dyn Tx,
        instance: &InstanceId,
    ) -> Result<Vec<RoleSet>> {
        let query = RoleSetQuery {
            descending: false,
            limit: ALL_ROLE_SETS,
            ..RoleSetQuery::default()
        };
        Ok(tx.list_role_sets(instance, &query).await?)
    }

    /// Checks that each key names an existing role (422 on `param` otherwise); without repeats.
    async fn existing_roles(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        keys: &[String],
        param: &'static str,
    ) -> Result<Vec<String>> {
        check_role_count(keys.len(), param)?;
        let mut out: Vec<String> = Vec::with_capacity(keys.len());
        for key in keys {
            if Self::resolve_role(tx, instance, key).await?.is_none() {
                return Err(CoreError::FormatInvalid { param }.into());
            }
            if !out.contains(key) {
                out.push(key.clone());
            }
        }
        Ok(out)
    }

    /// Resolves a set's roles (names, ids, member counts) for its JSON.
    pub(crate) async fn role_set_view(tx: &mut dyn Tx, role_set: RoleSet) -> Result<RoleSetView> {
        let instance = role_set.instance_id.clone();
        let custom = tx.list_roles(&instance).await?;
        let usage = tx
            .count_role_usage(&instance, &RoleUsageScope::RoleSet(role_set.id.clone()))
            .await?;
        let roles = role_set
            .roles
            .iter()
            .map(|key| {
                let members_count = usage
                    .iter()
                    .find(|u| &u.role == key)
                    .map_or(0, |u| u.members);
                if let Some(role) = find_role(key) {
                    return RoleSetRole {
                        id: builtin_role_id(key),
                        key: role.key,
                        name: role.name,
                        description: Some(role.description),
                        members_count,
                        created_at: 0,
                        updated_at: 0,
                    };
                }
                match custom.iter().find(|r| &r.key == key) {
                    Some(role) => RoleSetRole {
                        id: role.id.to_string(),
                        key: role.key.clone(),
                        name: role.name.clone(),
                        description: Some(role.description.clone()).filter(|d| !d.is_empty()),
                        members_count,
                        created_at: role.created_at,
                        updated_at: role.updated_at,
                    },
                    // Roles leave every set when deleted; this only shows a damaged row.
                    None => RoleSetRole {
                        id: builtin_role_id(key),
                        key: key.clone(),
                        name: key.trim_start_matches("org:").to_owned(),
                        description: None,
                        members_count,
                        created_at: 0,
                        updated_at: 0,
                    },
                }
            })
            .collect();
        Ok(RoleSetView { role_set, roles })
    }

    /// Makes `set` the initial one, demoting the current initial set to custom.
    async fn promote_to_initial(tx: &mut dyn Tx, set: &mut RoleSet, now: Millis) -> Result<()> {
        if let Some(mut current) = tx.find_initial_role_set(&set.instance_id).await? {
            if current.id != set.id {
                current.initial = false;
                current.updated_at = now;
                tx.update_role_set(&current).await?;
            }
        }
        set.initial = true;
        Ok(())
    }

    /// Copies the initial set's default and creator roles into the instance settings, which
    /// the environment shows. Returns whether they changed.
    pub(crate) async fn mirror_initial_roles(
        tx: &mut dyn Tx,
        instance: &InstanceId,
    ) -> Result<bool> {
        let initial = Self::initial_role_set(tx, instance).await?;
        let mut current = tx.get_instance(instance).await?;
        let settings = &mut current.settings;
        if settings.organization_default_role == initial.default_role
            && settings.organization_creator_role == initial.creator_role
        {
            return Ok(false);
        }
        settings.organization_default_role = initial.default_role;
        settings.organization_creator_role = initial.creator_role;
        tx.update_instance(&current).await?;
        Ok(true)
    }

    /// `GET /v1/role_sets`: a page and the total.
    pub async fn list_role_sets(
        &self,
        instance: &InstanceId,
        query: &RoleSetQuery,
    ) -> Result<(Vec<RoleSetView>, i64)> {
        let mut conn = self.inner.store.read().await?;
        let sets = conn.list_role_sets(instance, query).await?;
        let total = conn.count_role_sets(instance, query).await?;
        let mut views = Vec::with_capacity(sets.len());
        for set in sets {
            views.push(Self::role_set_view(conn.as_mut(), set).await?);
        }
        Ok((views, total))
    }

    /// `GET /v1/role_sets/{key or id}`.
    pub async fn get_role_set(
        &self,
        instance: &InstanceId,
        key_or_id: &str,
    ) -> Result<RoleSetView> {
        let mut conn = self.inner.store.read().await?;
        let set = Self::load_role_set(conn.as_mut(), instance, key_or_id).await?;
        Self::role_set_view(conn.as_mut(), set).await
    }

    /// `POST /v1/role_sets`.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn create_role_set(
        &self,
        instance: &InstanceId,
        params: CreateRoleSet,
    ) -> Result<RoleSetView> {
        let name = check_role_set_name(
            params
                .name
                .as_deref()
                .ok_or(CoreError::ParamMissing { param: "name" })?,
        )?;
        let wanted = params
            .roles
            .ok_or(CoreError::ParamMissing { param: "roles" })?;
        let default_role =
            params
                .default_role_key
                .filter(|k| !k.is_empty())
                .ok_or(CoreError::ParamMissing {
                    param: "default_role_key",
                })?;
        let creator_role =
            params
                .creator_role_key
                .filter(|k| !k.is_empty())
                .ok_or(CoreError::ParamMissing {
                    param: "creator_role_key",
                })?;
        let initial = parse_type(params.role_set_type.as_deref())?.unwrap_or(false);
        if let Some(key) = &params.key {
            check_role_set_key(key)?;
        }
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let roles = Self::existing_roles(tx.as_mut(), instance, &wanted, "roles").await?;
        for (role, param) in [
            (&default_role, "default_role_key"),
            (&creator_role, "creator_role_key"),
        ] {
            if !roles.contains(role) {
                return Err(CoreError::RoleNotInRoleSet { param }.into());
            }
        }
        let key = match params.key {
            Some(key) => key,
            None => Self::free_role_set_key(tx.as_mut(), instance, &name).await?,
        };
        let mut set = RoleSet {
            id: RoleSetId::generate(&mut Self::rng()),
            instance_id: instance.clone(),
            key,
            name,
            description: params.description.filter(|d| !d.is_empty()),
            roles,
            default_role,
            creator_role,
            initial: false,
            created_at: now,
            updated_at: now,
        };
        if initial {
            Self::promote_to_initial(tx.as_mut(), &mut set, now).await?;
        }
        tx.insert_role_set(&set).await?;
        let mirrored = Self::mirror_initial_roles(tx.as_mut(), instance).await?;
        let view = Self::role_set_view(tx.as_mut(), set).await?;
        tx.commit().await?;
        if mirrored {
            self.forget_cached_instances();
        }
        tracing::info!(role_set.key = %view.role_set.key, "role set created");
        Ok(view)
    }

    /// A key generated from `name` that no set of the instance has: `role_set:x`, `…_2`, …
    async fn free_role_set_key(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        name: &str,
    ) -> Result<String> {
        let base = role_set_key_from_name(name);
        for n in 1..100 {
            let candidate = if n == 1 {
                base.clone()
            } else {
                format!("{base}_{n}")
            };
            if tx
                .find_role_set_by_key(instance, &candidate)
                .await?
                .is_none()
            {
                return Ok(candidate);
            }
        }
        Err(CoreError::IdentifierExists { param: "key" }.into())
    }

    /// `PATCH /v1/role_sets/{key or id}`.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn update_role_set(
        &self,
        instance: &InstanceId,
        key_or_id: &str,
        params: UpdateRoleSet,
    ) -> Result<RoleSetView> {
        let make_initial = parse_type(params.role_set_type.as_deref())?;
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let mut set = Self::load_role_set(tx.as_mut(), instance, key_or_id).await?;
        if let Some(name) = params.name {
            set.name = check_role_set_name(&name)?;
        }
        if let Some(key) = params.key {
            check_role_set_key(&key)?;
            set.key = key;
        }
        if let Some(description) = params.description {
            set.description = description.filter(|d| !d.is_empty());
        }
        match make_initial {
            Some(true) => Self::promote_to_initial(tx.as_mut(), &mut set, now).await?,
            // There is always an initial set: another one must be made initial instead.
            Some(false) if set.initial => return Err(CoreError::InitialRoleSet.into()),
            _ => {}
        }
        for (wanted, param) in [
            (params.default_role_key, "default_role_key"),
            (params.creator_role_key, "creator_role_key"),
        ] {
            let Some(role) = wanted else { continue };
            Self::role_in_set(tx.as_mut(), &set, &role, param).await?;
            if param == "default_role_key" {
                set.default_role = role;
            } else {
                set.creator_role = role;
            }
        }
        set.updated_at = now;
        tx.update_role_set(&set).await?;
        let mirrored = Self::mirror_initial_roles(tx.as_mut(), instance).await?;
        let view = Self::role_set_view(tx.as_mut(), set).await?;
        tx.commit().await?;
        if mirrored {
            self.forget_cached_instances();
        }
        Ok(view)
    }

    /// `POST /v1/role_sets/{key or id}/roles`: adds roles (those already in the set are kept),
    /// optionally making some of them the default or creator role.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn add_roles_to_role_set(
        &self,
        instance: &InstanceId,
        key_or_id: &str,
        params: AddRoles,
    ) -> Result<RoleSetView> {
        let wanted = params
            .role_keys
            .ok_or(CoreError::ParamMissing { param: "role_keys" })?;
        let mut tx = self.inner.store.begin().await?;
        let mut set = Self::load_role_set(tx.as_mut(), instance, key_or_id).await?;
        for key in Self::existing_roles(tx.as_mut(), instance, &wanted, "role_keys").await? {
            if !set.contains(&key) {
                set.roles.push(key);
            }
        }
        if let Some(role) = params.default_role_key {
            Self::role_in_set(tx.as_mut(), &set, &role, "default_role_key").await?;
            set.default_role = role;
        }
        if let Some(role) = params.creator_role_key {
            Self::role_in_set(tx.as_mut(), &set, &role, "creator_role_key").await?;
            set.creator_role = role;
        }
        set.updated_at = self.now();
        tx.update_role_set(&set).await?;
        let mirrored = Self::mirror_initial_roles(tx.as_mut(), instance).await?;
        let view = Self::role_set_view(tx.as_mut(), set).await?;
        tx.commit().await?;
        if mirrored {
            self.forget_cached_instances();
        }
        Ok(view)
    }

    /// `POST /v1/role_sets/{key or id}/roles/replace`: removes `role_key` from the set and gives
    /// every member holding it, in every organization using the set, the role `to_role_key`
    /// (pending invitations too). The set's default and creator roles cannot be removed: name
    /// other ones first (`PATCH`).
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn replace_role_in_role_set(
        &self,
        instance: &InstanceId,
        key_or_id: &str,
        role_key: Option<String>,
        to_role_key: Option<String>,
    ) -> Result<RoleSetView> {
        let role_key = role_key
            .filter(|k| !k.is_empty())
            .ok_or(CoreError::ParamMissing { param: "role_key" })?;
        let to_role_key = to_role_key
            .filter(|k| !k.is_empty())
            .ok_or(CoreError::ParamMissing {
                param: "to_role_key",
            })?;
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let mut set = Self::load_role_set(tx.as_mut(), instance, key_or_id).await?;
        if !set.contains(&role_key) {
            return Err(CoreError::RoleNotInRoleSet { param: "role_key" }.into());
        }
        if role_key == to_role_key {
            return Err(CoreError::FormatInvalid {
                param: "to_role_key",
            }
            .into());
        }
        if !set.contains(&to_role_key) {
            return Err(CoreError::RoleNotInRoleSet {
                param: "to_role_key",
            }
            .into());
        }
        if set.requires(&role_key) {
            return Err(CoreError::RoleRequiredByRoleSet { param: "role_key" }.into());
        }
        let scope = RoleUsageScope::RoleSet(set.id.clone());
        let moved = tx
            .reassign_role(instance, &scope, &role_key, &to_role_key, now)
            .await?;
        set.roles.retain(|r| r != &role_key);
        set.updated_at = now;
        tx.update_role_set(&set).await?;
        let view = Self::role_set_view(tx.as_mut(), set).await?;
        tx.commit().await?;
        tracing::info!(role_set.key = %view.role_set.key, members = moved, "role replaced in role set");
        Ok(view)
    }

    /// `POST /v1/role_sets/{key or id}/replace`: moves every organization using the set to the
    /// destination set, giving members (and pending invitations) whose role the destination
    /// lacks the role `reassignment_mappings` names for it, then deletes the set. The initial
    /// set cannot be replaced. Returns the deleted set's id.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn replace_role_set(
        &self,
        instance: &InstanceId,
        key_or_id: &str,
        dest_role_set_key: Option<String>,
        mappings: BTreeMap<String, String>,
    ) -> Result<RoleSetId> {
        let dest_key =
            dest_role_set_key
                .filter(|k| !k.is_empty())
                .ok_or(CoreError::ParamMissing {
                    param: "dest_role_set_key",
                })?;
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let source = Self::load_role_set(tx.as_mut(), instance, key_or_id).await?;
        if source.initial {
            return Err(CoreError::InitialRoleSet.into());
        }
        let dest =
            Self::named_role_set(tx.as_mut(), instance, &dest_key, "dest_role_set_key").await?;
        if dest.id == source.id {
            return Err(CoreError::FormatInvalid {
                param: "dest_role_set_key",
            }
            .into());
        }
        if mappings.values().any(|to| !dest.contains(to)) {
            return Err(CoreError::RoleNotInRoleSet {
                param: "reassignment_mappings",
            }
            .into());
        }
        let scope = RoleUsageScope::RoleSet(source.id.clone());
        for usage in tx.count_role_usage(instance, &scope).await? {
            if dest.contains(&usage.role) {
                continue;
            }
            let to =
                mappings
                    .get(&usage.role)
                    .ok_or_else(|| CoreError::RoleReassignmentMissing {
                        role: usage.role.clone(),
                        param: "reassignment_mappings",
                    })?;
            tx.reassign_role(instance, &scope, &usage.role, to, now)
                .await?;
        }
        let moved = tx
            .move_role_set_organizations(instance, &source.id, &dest.id, now)
            .await?;
        tx.delete_role_set(instance, &source.id).await?;
        tx.commit().await?;
        tracing::info!(role_set.key = %source.key, organizations = moved, "role set replaced");
        Ok(source.id)
    }

    /// Checks that an organization may switch to `set`: every role its members hold is in it.
    pub(crate) async fn check_role_set_fits(
        tx: &mut dyn Tx,
        org: &Organization,
        set: &RoleSet,
    ) -> Result<()> {
        let scope = RoleUsageScope::Organization(org.id.clone());
        for usage in tx.count_role_usage(&org.instance_id, &scope).await? {
            if usage.members > 0 && !set.contains(&usage.role) {
                return Err(CoreError::RoleReassignmentMissing {
                    role: usage.role,
                    param: "role_set_key",
                }
                .into());
            }
        }
        Ok(())
    }

    /// After a custom role is created: adds it to the Primary Role Set (`include` absent), to
    /// the initial set (`include` true) or to none (`include` false).
    pub(crate) async fn place_new_role(
        tx: &mut dyn Tx,
        role: &CustomRole,
        include_in_initial: Option<bool>,
    ) -> Result<()> {
        let target = match include_in_initial {
            Some(false) => return Ok(()),
            Some(true) => tx.find_initial_role_set(&role.instance_id).await?,
            None => {
                tx.find_role_set_by_key(
                    &role.instance_id,
                    concierge_core::role_sets::PRIMARY_ROLE_SET_KEY,
                )
                .await?
            }
        };
        if let Some(mut set) = target {
            if !set.contains(&role.key) {
                set.roles.push(role.key.clone());
                set.updated_at = role.created_at;
                tx.update_role_set(&set).await?;
            }
        }
        Ok(())
    }

    /// Before a custom role is deleted: refused while it is a set's default or creator role;
    /// otherwise it leaves every set.
    pub(crate) async fn release_role(
        tx: &mut dyn Tx,
        role: &CustomRole,
        now: Millis,
    ) -> Result<()> {
        let sets = Self::all_role_sets(tx, &role.instance_id).await?;
        if sets.iter().any(|s| s.requires(&role.key)) {
            return Err(CoreError::RoleRequiredByRoleSet { param: "role" }.into());
        }
        for mut set in sets.into_iter().filter(|s| s.contains(&role.key)) {
            set.roles.retain(|r| r != &role.key);
            set.updated_at = now;
            tx.update_role_set(&set).await?;
        }
        Ok(())
    }

    /// The Primary Role Set of a new instance (inside its creation transaction).
    pub(crate) async fn insert_primary_role_set(
        tx: &mut dyn Tx,
        instance: &Instance,
    ) -> Result<()> {
        let set = RoleSet::primary(
            RoleSetId::generate(&mut Self::rng()),
            instance.id.clone(),
            Vec::new(),
            &instance.settings.organization_default_role,
            &instance.settings.organization_creator_role,
            instance.created_at,
        );
        tx.insert_role_set(&set).await.map_err(|e| match e {
            StoreError::Conflict { .. } => {
                ServiceError::Internal("the new instance already has a role set".into())
            }
            other => other.into(),
        })
    }
}
