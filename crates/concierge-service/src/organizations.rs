//! Organizations and memberships as the Backend API manages them (wire §8.2): create (the
//! creator gets the role set's creator role), read by id or slug, list, update, metadata,
//! delete; memberships with one role each, taken from the organization's role set, limits, and
//! the member lists.

use crate::me::{image_url, uploaded_image_id};
use crate::users::{checked_metadata, UserView};
use crate::{Result, Service, ServiceError};
use concierge_core::metadata::deep_merge;
use concierge_core::organizations::{check_org_name, check_slug, slugify, ADMIN_ROLE};
use concierge_core::*;
use concierge_store::{MembershipQuery, OrganizationQuery, Tx};
use serde_json::{json, Value};
use tracing::instrument;

/// The permission a member needs to change other members through the Frontend API.
pub(crate) const MANAGE_MEMBERSHIPS: &str = "org:sys_memberships:manage";

/// Who changes an organization. What they may do is checked inside the writing transaction with
/// the organization locked, so a role changed or a member removed at the same moment is seen
/// (two admins demoting each other cannot leave the organization without one, and a member
/// demoted a moment ago can no longer act as an admin).
#[derive(Debug, Clone, Copy)]
pub enum ActingAs<'a> {
    /// The Backend API: the secret key may make any change.
    Backend,
    /// A member through the Frontend API, whose role must hold `permission`; changes to
    /// memberships leave the organization an admin.
    Member {
        /// The acting user.
        user: &'a UserId,
        /// The permission the change needs, such as `org:sys_memberships:manage`.
        permission: &'static str,
    },
    /// The member leaving on their own: the organization keeps an admin.
    Leaving,
}

/// Parameters of `POST /v1/organizations`.
#[derive(Debug, Clone, Default)]
pub struct CreateOrganization {
    /// Display name.
    pub name: String,
    /// Slug; generated from the name when absent.
    pub slug: Option<String>,
    /// The creator, who becomes its admin.
    pub created_by: Option<UserId>,
    /// Membership cap (0 = unlimited).
    pub max_allowed_memberships: Option<i64>,
    /// Public metadata.
    pub public_metadata: Option<Value>,
    /// Private metadata.
    pub private_metadata: Option<Value>,
    /// The role set it uses (key or id); the instance's initial set when absent.
    pub role_set_key: Option<String>,
    /// Whether the creator's limits apply (a user creating through the Frontend API): their
    /// `create_organization_enabled` and `create_organizations_limit`, and the instance's
    /// `organization_create_limit`. They are checked with the creator locked, so requests made
    /// at the same moment cannot pass them together.
    pub creator_limits: bool,
}

/// Parameters of `PATCH /v1/organizations/{id}`.
#[derive(Debug, Clone, Default)]
pub struct UpdateOrganization {
    /// Display name.
    pub name: Option<String>,
    /// Slug.
    pub slug: Option<String>,
    /// Membership cap.
    pub max_allowed_memberships: Option<i64>,
    /// Whether admins may delete it.
    pub admin_delete_enabled: Option<bool>,
    /// Another role set (key or id); every role its members hold must be in it.
    pub role_set_key: Option<String>,
}

/// A membership with what its JSON shows: the organization and the member's public data.
#[derive(Debug, Clone)]
pub struct MembershipView {
    /// The membership.
    pub membership: OrganizationMembership,
    /// Its organization.
    pub organization: Organization,
    /// The member.
    pub user: UserView,
    /// The membership's role with its permissions.
    pub role: Role,
}

/// The counts an organization object shows (`members_count`, `pending_invitations_count`);
/// components compare their sum with `max_allowed_memberships` before offering to invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrganizationCounts {
    /// Members.
    pub members: i64,
    /// Invitations still pending (not accepted, revoked or expired).
    pub pending_invitations: i64,
}

impl Service {
    /// An organization by id (`org_…`) or slug.
    pub(crate) async fn load_organization(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        id_or_slug: &str,
    ) -> Result<Organization> {
        match OrganizationId::parse(id_or_slug) {
            Ok(id) => Ok(tx.get_organization(instance, &id).await?),
            Err(_) => tx
                .find_organization_by_slug(instance, &id_or_slug.to_lowercase())
                .await?
                .ok_or(ServiceError::NotFound),
        }
    }

    /// [`Self::load_organization`] in a writing transaction, its row locked and read afresh
    /// (`Tx::lock_organization`): this read-modify-write and a concurrent one cannot overwrite
    /// each other's changes, and checks of its memberships hold until commit.
    pub(crate) async fn load_organization_for_update(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        id_or_slug: &str,
    ) -> Result<Organization> {
        let org = Self::load_organization(tx, instance, id_or_slug).await?;
        Ok(tx.lock_organization(instance, &org.id).await?)
    }

    /// Refuses a user who may not create another organization: creation disabled for them,
    /// admin of `create_organizations_limit` organizations already, or creator of the
    /// instance's `organization_create_limit` (0: no limit). `user` must be locked.
    async fn check_creator_limits(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        user: &User,
        instance_limit: i64,
    ) -> Result<()> {
        if !user.create_organization_enabled {
            return Err(CoreError::PermissionDenied.into());
        }
        if let Some(limit) = user.create_organizations_limit {
            let admin_of = MembershipQuery {
                user_ids: vec![user.id.clone()],
                roles: vec![ADMIN_ROLE.to_owned()],
                ..MembershipQuery::default()
            };
            if tx.count_memberships(instance, &admin_of).await? >= limit {
                return Err(CoreError::PermissionDenied.into());
            }
        }
        if instance_limit > 0 {
            let created = OrganizationQuery {
                created_by: Some(user.id.clone()),
                ..OrganizationQuery::default()
            };
            if tx.count_organizations(instance, &created).await? >= instance_limit {
                return Err(CoreError::OrganizationCreateLimitReached.into());
            }
        }
        Ok(())
    }

    /// A free slug: `base`, else `base-2`, `base-3`, …
    async fn free_slug(tx: &mut dyn Tx, instance: &InstanceId, base: &str) -> Result<String> {
        for n in 1..1000 {
            let candidate = if n == 1 {
                base.to_owned()
            } else {
                format!("{base}-{n}")
            };
            if tx
                .find_organization_by_slug(instance, &candidate)
                .await?
                .is_none()
            {
                return Ok(candidate);
            }
        }
        Err(CoreError::IdentifierExists { param: "slug" }.into())
    }

    /// `POST /v1/organizations`: the organization uses the named role set or the initial one;
    /// the creator (if given) gets that set's creator role.
    #[instrument(skip_all, fields(instance.id = %instance.id))]
    pub async fn create_organization(
        &self,
        instance: &Instance,
        params: CreateOrganization,
    ) -> Result<Organization> {
        let default_max = instance.settings.organization_max_allowed_memberships;
        let create_limit = instance.settings.organization_create_limit;
        let instance = &instance.id;
        let name = check_org_name(&params.name)?;
        let explicit_slug = params
            .slug
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(check_slug)
            .transpose()?;
        let public_metadata = checked_metadata(params.public_metadata, "public_metadata")?;
        let private_metadata = checked_metadata(params.private_metadata, "private_metadata")?;
        if params.max_allowed_memberships.is_some_and(|n| n < 0) {
            return Err(CoreError::OutOfRange {
                param: "max_allowed_memberships",
            }
            .into());
        }
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let slug = match explicit_slug {
            Some(slug) => slug,
            None => Self::free_slug(tx.as_mut(), instance, &slugify(&name)).await?,
        };
        if let Some(creator) = &params.created_by {
            let creator = tx.lock_user(instance, creator).await.map_err(|e| match e {
                concierge_store::StoreError::NotFound => {
                    ServiceError::Core(CoreError::FormatInvalid {
                        param: "created_by",
                    })
                }
                other => other.into(),
            })?;
            if params.creator_limits {
                Self::check_creator_limits(tx.as_mut(), instance, &creator, create_limit).await?;
            }
        }
        let role_set = match params.role_set_key.as_deref().filter(|k| !k.is_empty()) {
            Some(key) => Self::named_role_set(tx.as_mut(), instance, key, "role_set_key").await?,
            None => Self::initial_role_set(tx.as_mut(), instance).await?,
        };
        let org = Organization {
            id: OrganizationId::generate(&mut Self::rng()),
            instance_id: instance.clone(),
            name,
            slug,
            image_url: None,
            public_metadata: public_metadata.unwrap_or_else(|| json!({})),
            private_metadata: private_metadata.unwrap_or_else(|| json!({})),
            max_allowed_memberships: params.max_allowed_memberships.unwrap_or(default_max),
            admin_delete_enabled: true,
            created_by: params.created_by.clone(),
            role_set_id: Some(role_set.id.clone()),
            role_set_key: Some(role_set.key.clone()),
            created_at: now,
            updated_at: now,
        };
        tx.insert_organization(&org).await?;
        if let Some(creator) = &params.created_by {
            tx.insert_membership(&new_membership(&org, creator, &role_set.creator_role, now))
                .await?;
        }
        tx.commit().await?;
        tracing::info!(org.id = %org.id, "organization created");
        Ok(org)
    }

    /// `GET /v1/organizations/{id or slug}`.
    pub async fn get_organization(
        &self,
        instance: &InstanceId,
        id_or_slug: &str,
    ) -> Result<Organization> {
        let mut conn = self.inner.store.read().await?;
        Self::load_organization(conn.as_mut(), instance, id_or_slug).await
    }

    /// A page of organizations and the total.
    pub async fn list_organizations(
        &self,
        instance: &InstanceId,
        query: &OrganizationQuery,
    ) -> Result<(Vec<Organization>, i64)> {
        let mut conn = self.inner.store.read().await?;
        let list = conn.list_organizations(instance, query).await?;
        let total = conn.count_organizations(instance, query).await?;
        Ok((list, total))
    }

    /// How many members an organization has and how many invitations to it are pending.
    pub async fn organization_counts(
        &self,
        instance: &InstanceId,
        org: &OrganizationId,
    ) -> Result<OrganizationCounts> {
        let counts = self
            .organizations_counts(instance, std::slice::from_ref(org))
            .await?;
        Ok(counts.into_iter().next().unwrap_or_default())
    }

    /// [`Service::organization_counts`] of several organizations, in one query, in order.
    pub async fn organizations_counts(
        &self,
        instance: &InstanceId,
        orgs: &[OrganizationId],
    ) -> Result<Vec<OrganizationCounts>> {
        let mut conn = self.inner.store.read().await?;
        Self::counts_of(conn.as_mut(), instance, orgs, self.now()).await
    }

    /// [`Service::organization_counts`] for several organizations of one instance, in one query
    /// inside an open transaction or connection (organizations not found count zero).
    pub(crate) async fn counts_of(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        orgs: &[OrganizationId],
        now: Millis,
    ) -> Result<Vec<OrganizationCounts>> {
        let found = tx.organization_counts(instance, orgs, now).await?;
        Ok(orgs
            .iter()
            .map(|id| {
                found.iter().find(|(found, _, _)| found == id).map_or_else(
                    OrganizationCounts::default,
                    |(_, members, pending)| OrganizationCounts {
                        members: *members,
                        pending_invitations: *pending,
                    },
                )
            })
            .collect())
    }

    /// `PATCH /v1/organizations/{id}`.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn update_organization(
        &self,
        instance: &InstanceId,
        id_or_slug: &str,
        params: UpdateOrganization,
        acting: ActingAs<'_>,
    ) -> Result<Organization> {
        let mut tx = self.inner.store.begin().await?;
        let mut org = Self::load_organization_for_update(tx.as_mut(), instance, id_or_slug).await?;
        Self::check_acting(tx.as_mut(), &org, acting).await?;
        if let Some(name) = params.name {
            org.name = check_org_name(&name)?;
        }
        if let Some(slug) = params.slug {
            org.slug = check_slug(&slug)?;
        }
        if let Some(n) = params.max_allowed_memberships {
            if n < 0 {
                return Err(CoreError::OutOfRange {
                    param: "max_allowed_memberships",
                }
                .into());
            }
            org.max_allowed_memberships = n;
        }
        if let Some(v) = params.admin_delete_enabled {
            org.admin_delete_enabled = v;
        }
        if let Some(key) = params.role_set_key.as_deref().filter(|k| !k.is_empty()) {
            let role_set = Self::named_role_set(tx.as_mut(), instance, key, "role_set_key").await?;
            Self::check_role_set_fits(tx.as_mut(), &org, &role_set).await?;
            org.role_set_id = Some(role_set.id);
            org.role_set_key = Some(role_set.key);
        }
        org.updated_at = self.now();
        tx.update_organization(&org).await?;
        tx.commit().await?;
        Ok(org)
    }

    /// `PUT /v1/organizations/{id}/logo`: stores the image and points the organization's
    /// `image_url` at it on the Frontend API (`public_base`); the previous uploaded logo is
    /// deleted. `uploader`, when given, must be a user of the instance.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn set_organization_logo(
        &self,
        instance: &InstanceId,
        id_or_slug: &str,
        bytes: Vec<u8>,
        public_base: &str,
        uploader: Option<&str>,
        acting: ActingAs<'_>,
    ) -> Result<Organization> {
        let image = self.new_image(instance, bytes)?;
        let mut tx = self.inner.store.begin().await?;
        let mut org = Self::load_organization_for_update(tx.as_mut(), instance, id_or_slug).await?;
        Self::check_acting(tx.as_mut(), &org, acting).await?;
        if let Some(uploader) = uploader.filter(|u| !u.is_empty()) {
            let id = UserId::parse(uploader).map_err(|_| ServiceError::NotFound)?;
            tx.get_user(instance, &id).await?;
        }
        if let Some(previous) = org.image_url.as_deref().and_then(uploaded_image_id) {
            tx.delete_image(instance, &previous).await?;
        }
        tx.insert_image(&image).await?;
        org.image_url = Some(image_url(public_base, &image.id));
        org.updated_at = self.now();
        tx.update_organization(&org).await?;
        tx.commit().await?;
        Ok(org)
    }

    /// `DELETE /v1/organizations/{id}/logo`: back to no logo (the components show initials).
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn delete_organization_logo(
        &self,
        instance: &InstanceId,
        id_or_slug: &str,
        acting: ActingAs<'_>,
    ) -> Result<Organization> {
        let mut tx = self.inner.store.begin().await?;
        let mut org = Self::load_organization_for_update(tx.as_mut(), instance, id_or_slug).await?;
        Self::check_acting(tx.as_mut(), &org, acting).await?;
        if let Some(previous) = org.image_url.as_deref().and_then(uploaded_image_id) {
            tx.delete_image(instance, &previous).await?;
        }
        org.image_url = None;
        org.updated_at = self.now();
        tx.update_organization(&org).await?;
        tx.commit().await?;
        Ok(org)
    }

    /// Refuses a new member once the organization holds `max_allowed_memberships` (0: no cap).
    /// `organization` must have been read with `Tx::lock_organization`, so that members joining
    /// at the same time all see each other.
    pub(crate) async fn check_membership_room(
        tx: &mut dyn Tx,
        organization: &Organization,
    ) -> Result<()> {
        if organization.max_allowed_memberships > 0 {
            let members = MembershipQuery {
                organization_id: Some(organization.id.clone()),
                ..MembershipQuery::default()
            };
            if tx
                .count_memberships(&organization.instance_id, &members)
                .await?
                >= organization.max_allowed_memberships
            {
                return Err(CoreError::MembershipLimitReached.into());
            }
        }
        Ok(())
    }

    /// `PATCH` (merge) or `PUT` (replace) `/v1/organizations/{id}/metadata`.
    pub async fn update_organization_metadata(
        &self,
        instance: &InstanceId,
        id_or_slug: &str,
        public_metadata: Option<Value>,
        private_metadata: Option<Value>,
        merge: bool,
    ) -> Result<Organization> {
        let mut tx = self.inner.store.begin().await?;
        let mut org = Self::load_organization_for_update(tx.as_mut(), instance, id_or_slug).await?;
        let apply = |current: &Value, new: Option<Value>, param: &'static str| -> Result<Value> {
            match new {
                None => Ok(current.clone()),
                Some(new) => {
                    let value = if merge {
                        deep_merge(current, &new)
                    } else {
                        new
                    };
                    Ok(checked_metadata(Some(value), param)?.unwrap_or_else(|| json!({})))
                }
            }
        };
        org.public_metadata = apply(&org.public_metadata, public_metadata, "public_metadata")?;
        org.private_metadata = apply(&org.private_metadata, private_metadata, "private_metadata")?;
        org.updated_at = self.now();
        tx.update_organization(&org).await?;
        tx.commit().await?;
        Ok(org)
    }

    /// `DELETE /v1/organizations/{id}`: the organization and its memberships. A member may
    /// delete it only while admin deletion is enabled.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn delete_organization(
        &self,
        instance: &InstanceId,
        id_or_slug: &str,
        acting: ActingAs<'_>,
    ) -> Result<OrganizationId> {
        let mut tx = self.inner.store.begin().await?;
        let org = Self::load_organization_for_update(tx.as_mut(), instance, id_or_slug).await?;
        Self::check_acting(tx.as_mut(), &org, acting).await?;
        if matches!(acting, ActingAs::Member { .. }) && !org.admin_delete_enabled {
            return Err(CoreError::PermissionDenied.into());
        }
        tx.delete_organization(instance, &org.id).await?;
        tx.commit().await?;
        tracing::info!(org.id = %org.id, "organization deleted");
        Ok(org.id)
    }

    async fn membership_view(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        membership: OrganizationMembership,
        organization: Option<&Organization>,
    ) -> Result<MembershipView> {
        let organization = match organization {
            Some(org) => org.clone(),
            None => {
                tx.get_organization(instance, &membership.organization_id)
                    .await?
            }
        };
        let user = Self::load_user(tx, instance, &membership.user_id).await?;
        let role = Self::role_of(tx, instance, &membership.role).await?;
        Ok(MembershipView {
            membership,
            organization,
            user,
            role,
        })
    }

    /// `POST /v1/organizations/{id}/memberships`.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn create_membership(
        &self,
        instance: &InstanceId,
        org: &str,
        user_id: &UserId,
        role: &str,
        acting: ActingAs<'_>,
    ) -> Result<MembershipView> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let org = Self::load_organization_for_update(tx.as_mut(), instance, org).await?;
        Self::check_acting(tx.as_mut(), &org, acting).await?;
        let role_set = Self::role_set_of(tx.as_mut(), &org).await?;
        let role = Self::role_in_set(tx.as_mut(), &role_set, role, "role").await?;
        tx.get_user(instance, user_id).await.map_err(|e| match e {
            concierge_store::StoreError::NotFound => {
                ServiceError::Core(CoreError::FormatInvalid { param: "user_id" })
            }
            other => other.into(),
        })?;
        if tx
            .find_membership(instance, &org.id, user_id)
            .await?
            .is_some()
        {
            return Err(CoreError::AlreadyMember.into());
        }
        Self::check_membership_room(tx.as_mut(), &org).await?;
        let membership = new_membership(&org, user_id, &role.key, now);
        tx.insert_membership(&membership)
            .await
            .map_err(|e| match e {
                concierge_store::StoreError::Conflict { .. } => {
                    ServiceError::Core(CoreError::AlreadyMember)
                }
                other => other.into(),
            })?;
        let view = Self::membership_view(tx.as_mut(), instance, membership, Some(&org)).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Memberships matching the query (of one organization, of some users, of some roles).
    pub async fn list_memberships(
        &self,
        instance: &InstanceId,
        query: &MembershipQuery,
    ) -> Result<(Vec<MembershipView>, i64)> {
        let mut conn = self.inner.store.read().await?;
        let memberships = conn.list_memberships(instance, query).await?;
        let total = conn.count_memberships(instance, query).await?;
        let mut views = Vec::with_capacity(memberships.len());
        for membership in memberships {
            views.push(Self::membership_view(conn.as_mut(), instance, membership, None).await?);
        }
        Ok((views, total))
    }

    async fn existing_membership(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        org: &str,
        user_id: &UserId,
    ) -> Result<(Organization, OrganizationMembership)> {
        let org = Self::load_organization_for_update(tx, instance, org).await?;
        let membership = tx
            .find_membership(instance, &org.id, user_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok((org, membership))
    }

    /// Refuses `acting`'s change unless their role in the locked organization allows it.
    pub(crate) async fn check_acting(
        tx: &mut dyn Tx,
        org: &Organization,
        acting: ActingAs<'_>,
    ) -> Result<()> {
        if let ActingAs::Member { user, permission } = acting {
            let membership = tx
                .find_membership(&org.instance_id, &org.id, user)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let role = Self::role_of(tx, &org.instance_id, &membership.role).await?;
            Self::require_permission(&role, permission)?;
        }
        Ok(())
    }

    /// Refuses to take the admin role away from the organization's only admin (a Frontend API
    /// rule: the Backend API may leave an organization without one). `org` must be locked.
    async fn keep_an_admin(
        tx: &mut dyn Tx,
        org: &Organization,
        target: &OrganizationMembership,
        acting: ActingAs<'_>,
    ) -> Result<()> {
        if matches!(acting, ActingAs::Backend) || target.role != ADMIN_ROLE {
            return Ok(());
        }
        let admins = MembershipQuery {
            organization_id: Some(org.id.clone()),
            roles: vec![ADMIN_ROLE.to_owned()],
            ..MembershipQuery::default()
        };
        if tx.count_memberships(&org.instance_id, &admins).await? <= 1 {
            return Err(CoreError::LastAdmin.into());
        }
        Ok(())
    }

    /// `PATCH /v1/organizations/{id}/memberships/{user_id}`: changes the role.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn update_membership_role(
        &self,
        instance: &InstanceId,
        org: &str,
        user_id: &UserId,
        role: &str,
        acting: ActingAs<'_>,
    ) -> Result<MembershipView> {
        let mut tx = self.inner.store.begin().await?;
        let (org, mut membership) =
            Self::existing_membership(tx.as_mut(), instance, org, user_id).await?;
        Self::check_acting(tx.as_mut(), &org, acting).await?;
        let role_set = Self::role_set_of(tx.as_mut(), &org).await?;
        let role = Self::role_in_set(tx.as_mut(), &role_set, role, "role").await?;
        if role.key != ADMIN_ROLE {
            Self::keep_an_admin(tx.as_mut(), &org, &membership, acting).await?;
        }
        membership.role = role.key;
        membership.updated_at = self.now();
        tx.update_membership(&membership).await?;
        let view = Self::membership_view(tx.as_mut(), instance, membership, Some(&org)).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// `PATCH /v1/organizations/{id}/memberships/{user_id}/metadata` (deep merge).
    pub async fn update_membership_metadata(
        &self,
        instance: &InstanceId,
        org: &str,
        user_id: &UserId,
        public_metadata: Option<Value>,
        private_metadata: Option<Value>,
    ) -> Result<MembershipView> {
        let mut tx = self.inner.store.begin().await?;
        let (org, mut membership) =
            Self::existing_membership(tx.as_mut(), instance, org, user_id).await?;
        if let Some(v) = public_metadata {
            let merged = deep_merge(&membership.public_metadata, &v);
            membership.public_metadata =
                checked_metadata(Some(merged), "public_metadata")?.unwrap_or_else(|| json!({}));
        }
        if let Some(v) = private_metadata {
            let merged = deep_merge(&membership.private_metadata, &v);
            membership.private_metadata =
                checked_metadata(Some(merged), "private_metadata")?.unwrap_or_else(|| json!({}));
        }
        membership.updated_at = self.now();
        tx.update_membership(&membership).await?;
        let view = Self::membership_view(tx.as_mut(), instance, membership, Some(&org)).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// `DELETE /v1/organizations/{id}/memberships/{user_id}`: returns the removed membership.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn delete_membership(
        &self,
        instance: &InstanceId,
        org: &str,
        user_id: &UserId,
        acting: ActingAs<'_>,
    ) -> Result<MembershipView> {
        let mut tx = self.inner.store.begin().await?;
        let (org, membership) =
            Self::existing_membership(tx.as_mut(), instance, org, user_id).await?;
        Self::check_acting(tx.as_mut(), &org, acting).await?;
        Self::keep_an_admin(tx.as_mut(), &org, &membership, acting).await?;
        let view = Self::membership_view(tx.as_mut(), instance, membership, Some(&org)).await?;
        tx.delete_membership(instance, &org.id, user_id).await?;
        tx.commit().await?;
        Ok(view)
    }
}

fn new_membership(
    org: &Organization,
    user: &UserId,
    role: &str,
    now: Millis,
) -> OrganizationMembership {
    OrganizationMembership {
        id: OrganizationMembershipId::generate(&mut Service::rng()),
        instance_id: org.instance_id.clone(),
        organization_id: org.id.clone(),
        user_id: user.clone(),
        role: role.to_owned(),
        public_metadata: json!({}),
        private_metadata: json!({}),
        created_at: now,
        updated_at: now,
    }
}
