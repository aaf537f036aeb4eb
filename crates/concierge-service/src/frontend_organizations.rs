//! Organizations from the browser (wire §6.8): what `<OrganizationSwitcher/>`,
//! `<OrganizationProfile/>` and `<CreateOrganization/>` call. Every action acts as the signed-in
//! member and is gated by the system permissions of their role (wire §2.4); the last admin can
//! neither leave nor be demoted or removed.

use crate::frontend::{Browser, Outcome};
use crate::me::Me;
use crate::organizations::{
    ActingAs, CreateOrganization, MembershipView, UpdateOrganization, MANAGE_MEMBERSHIPS,
};
use crate::{Result, Service, ServiceError};
use concierge_core::*;
use concierge_store::{MembershipQuery, Tx};
use tracing::instrument;

const MANAGE_PROFILE: &str = "org:sys_profile:manage";
const DELETE_PROFILE: &str = "org:sys_profile:delete";

/// The signed-in member acting with `permission`.
fn member<'a>(me: &'a Me, permission: &'static str) -> ActingAs<'a> {
    ActingAs::Member {
        user: &me.session.user_id,
        permission,
    }
}

/// The signed-in member changing members or invitations.
fn manager(me: &Me) -> ActingAs<'_> {
    member(me, MANAGE_MEMBERSHIPS)
}

/// A member's view of one of their organizations.
#[derive(Debug, Clone)]
pub struct MyOrganization {
    /// The organization.
    pub organization: Organization,
    /// How many members it has and how many invitations are pending.
    pub counts: crate::organizations::OrganizationCounts,
}

impl Service {
    /// The signed-in user's membership in `org`, or `resource_not_found` for non-members (an
    /// organization one does not belong to does not exist, as far as the browser can tell).
    pub(crate) async fn acting_member(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
    ) -> Result<(Me, Organization, OrganizationMembership, Role)> {
        let me = self.me(tx, browser, session_id).await?;
        let org = Self::load_organization(tx, &browser.instance.id, org).await?;
        let membership = tx
            .find_membership(&browser.instance.id, &org.id, &me.session.user_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let role = Self::role_of(tx, &browser.instance.id, &membership.role).await?;
        Ok((me, org, membership, role))
    }

    /// The acting member and the organization, once their role holds `permission`.
    async fn member_allowed(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        permission: &str,
    ) -> Result<(Me, Organization)> {
        let mut conn = self.inner.store.read().await?;
        let (me, org, _, role) = self
            .acting_member(conn.as_mut(), browser, session_id, org)
            .await?;
        Self::require_permission(&role, permission)?;
        Ok((me, org))
    }

    pub(crate) fn require_permission(role: &Role, permission: &str) -> Result<()> {
        if role.permissions.iter().any(|p| p == permission) {
            Ok(())
        } else {
            Err(CoreError::PermissionDenied.into())
        }
    }

    async fn my_org_view(
        &self,
        instance: &InstanceId,
        org: Organization,
    ) -> Result<MyOrganization> {
        let counts = self.organization_counts(instance, &org.id).await?;
        Ok(MyOrganization {
            organization: org,
            counts,
        })
    }

    /// `POST /v1/organizations`: the signed-in user creates an organization and becomes its admin.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn create_my_organization(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        name: String,
        slug: Option<String>,
    ) -> Result<Outcome<MyOrganization>> {
        let me = self.me_read(browser, session_id).await?;
        let params = CreateOrganization {
            name,
            slug,
            created_by: Some(me.session.user_id.clone()),
            creator_limits: true,
            ..CreateOrganization::default()
        };
        let org = self.create_organization(&browser.instance, params).await?;
        let view = self.my_org_view(&browser.instance.id, org).await?;
        self.me_outcome(browser, &me, view).await
    }

    /// `GET /v1/organizations/{id}` for a member.
    pub async fn get_my_organization(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
    ) -> Result<Outcome<MyOrganization>> {
        let (me, org) = {
            let mut conn = self.inner.store.read().await?;
            let (me, org, _, _) = self
                .acting_member(conn.as_mut(), browser, session_id, org)
                .await?;
            (me, org)
        };
        let view = self.my_org_view(&browser.instance.id, org).await?;
        self.me_outcome(browser, &me, view).await
    }

    /// `PATCH /v1/organizations/{id}`: needs `org:sys_profile:manage`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn update_my_organization(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        params: UpdateOrganization,
    ) -> Result<Outcome<MyOrganization>> {
        let (me, org) = self
            .member_allowed(browser, session_id, org, MANAGE_PROFILE)
            .await?;
        let params = UpdateOrganization {
            max_allowed_memberships: None,
            admin_delete_enabled: None,
            role_set_key: None,
            ..params
        };
        let acting = member(&me, MANAGE_PROFILE);
        let org = self
            .update_organization(&browser.instance.id, org.id.as_str(), params, acting)
            .await?;
        let view = self.my_org_view(&browser.instance.id, org).await?;
        self.me_outcome(browser, &me, view).await
    }

    /// `PUT /v1/organizations/{id}/logo` (with `file: None`: `DELETE`): needs
    /// `org:sys_profile:manage`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn set_my_organization_logo(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        file: Option<Vec<u8>>,
        public_base: &str,
    ) -> Result<Outcome<MyOrganization>> {
        let (me, org) = self
            .member_allowed(browser, session_id, org, MANAGE_PROFILE)
            .await?;
        let instance = &browser.instance.id;
        let acting = member(&me, MANAGE_PROFILE);
        let org = match file {
            Some(bytes) => {
                let uploader = me.session.user_id.to_string();
                self.set_organization_logo(
                    instance,
                    org.id.as_str(),
                    bytes,
                    public_base,
                    Some(&uploader),
                    acting,
                )
                .await?
            }
            None => {
                self.delete_organization_logo(instance, org.id.as_str(), acting)
                    .await?
            }
        };
        let view = self.my_org_view(instance, org).await?;
        self.me_outcome(browser, &me, view).await
    }

    /// `DELETE /v1/organizations/{id}`: needs `org:sys_profile:delete` and admin deletion enabled.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn delete_my_organization(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
    ) -> Result<Outcome<OrganizationId>> {
        let (me, org) = self
            .member_allowed(browser, session_id, org, DELETE_PROFILE)
            .await?;
        let acting = member(&me, DELETE_PROFILE);
        let id = self
            .delete_organization(&browser.instance.id, org.id.as_str(), acting)
            .await?;
        self.me_outcome(browser, &me, id).await
    }

    /// `GET /v1/organizations/{id}/memberships`: needs `org:sys_memberships:read`.
    pub async fn list_org_memberships(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        mut query: MembershipQuery,
    ) -> Result<(Vec<MembershipView>, i64)> {
        let (_, org) = self
            .member_allowed(browser, session_id, org, "org:sys_memberships:read")
            .await?;
        query.organization_id = Some(org.id);
        self.list_memberships(&browser.instance.id, &query).await
    }

    /// `POST /v1/organizations/{id}/memberships`: needs `org:sys_memberships:manage`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn add_org_member(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        user_id: &UserId,
        role: &str,
    ) -> Result<Outcome<MembershipView>> {
        let (me, org) = self
            .member_allowed(browser, session_id, org, MANAGE_MEMBERSHIPS)
            .await?;
        let acting = manager(&me);
        let view = self
            .create_membership(&browser.instance.id, org.id.as_str(), user_id, role, acting)
            .await?;
        self.me_outcome(browser, &me, view).await
    }

    /// `PATCH /v1/organizations/{id}/memberships/{user_id}`: needs `org:sys_memberships:manage`;
    /// the last admin keeps the admin role.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn change_org_member_role(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        user_id: &UserId,
        role: &str,
    ) -> Result<Outcome<MembershipView>> {
        let (me, org) = self
            .member_allowed(browser, session_id, org, MANAGE_MEMBERSHIPS)
            .await?;
        let acting = manager(&me);
        let view = self
            .update_membership_role(&browser.instance.id, org.id.as_str(), user_id, role, acting)
            .await?;
        self.me_outcome(browser, &me, view).await
    }

    /// `DELETE /v1/organizations/{id}/memberships/{user_id}`: needs `org:sys_memberships:manage`;
    /// the last admin stays.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn remove_org_member(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        user_id: &UserId,
    ) -> Result<Outcome<MembershipView>> {
        let (me, org) = self
            .member_allowed(browser, session_id, org, MANAGE_MEMBERSHIPS)
            .await?;
        let acting = manager(&me);
        let view = self
            .delete_membership(&browser.instance.id, org.id.as_str(), user_id, acting)
            .await?;
        self.me_outcome(browser, &me, view).await
    }

    /// `GET /v1/organizations/{id}/roles`: the roles a member may assign, which are those of the
    /// organization's role set, in the set's order (any member may list them).
    pub async fn org_roles(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
    ) -> Result<Vec<Role>> {
        let mut conn = self.inner.store.read().await?;
        let (_, org, _, _) = self
            .acting_member(conn.as_mut(), browser, session_id, org)
            .await?;
        let role_set = Self::role_set_of(conn.as_mut(), &org).await?;
        let mut roles = Vec::with_capacity(role_set.roles.len());
        for key in &role_set.roles {
            roles.push(Self::role_of(conn.as_mut(), &browser.instance.id, key).await?);
        }
        Ok(roles)
    }

    /// `GET /v1/me/organization_memberships`: the signed-in user's memberships.
    pub async fn my_memberships(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<MembershipView>, i64)> {
        let me = self.me_read(browser, session_id).await?;
        let query = MembershipQuery {
            user_ids: vec![me.session.user_id],
            ascending: true,
            limit,
            offset,
            ..MembershipQuery::default()
        };
        self.list_memberships(&browser.instance.id, &query).await
    }

    /// `DELETE /v1/me/organization_memberships/{org}`: leaves an organization (not as its last admin).
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn leave_organization(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
    ) -> Result<Outcome<MembershipView>> {
        let (me, org) = {
            let mut conn = self.inner.store.read().await?;
            let (me, org, _, _) = self
                .acting_member(conn.as_mut(), browser, session_id, org)
                .await?;
            (me, org)
        };
        let view = self
            .delete_membership(
                &browser.instance.id,
                org.id.as_str(),
                &me.session.user_id,
                ActingAs::Leaving,
            )
            .await?;
        self.me_outcome(browser, &me, view).await
    }

    /// `GET /v1/organizations/{id}/invitations`: needs `org:sys_memberships:read`.
    pub async fn org_invitations(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        statuses: Vec<String>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<crate::invitations::InvitationView>, i64)> {
        let (_, org) = self
            .member_allowed(browser, session_id, org, "org:sys_memberships:read")
            .await?;
        let query = concierge_store::InvitationQuery {
            statuses,
            limit,
            offset,
            ..Default::default()
        };
        self.list_invitations(&browser.instance.id, org.id.as_str(), query)
            .await
    }

    /// `POST /v1/organizations/{id}/invitations[/bulk]`: needs `org:sys_memberships:manage`;
    /// the acting member is the inviter.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn invite_to_org(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        params: Vec<crate::invitations::CreateInvitation>,
    ) -> Result<Outcome<Vec<crate::invitations::InvitationView>>> {
        let (me, org) = self
            .member_allowed(browser, session_id, org, MANAGE_MEMBERSHIPS)
            .await?;
        let params = params
            .into_iter()
            .map(|p| crate::invitations::CreateInvitation {
                inviter_user_id: Some(me.session.user_id.clone()),
                ..p
            })
            .collect();
        let views = self
            .create_invitations(&browser.instance, org.id.as_str(), params, manager(&me))
            .await?;
        self.me_outcome(browser, &me, views).await
    }

    /// `POST /v1/organizations/{id}/invitations/{inv}/revoke`: needs `org:sys_memberships:manage`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn revoke_org_invitation(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        invitation: &str,
    ) -> Result<Outcome<crate::invitations::InvitationView>> {
        let (me, org) = self
            .member_allowed(browser, session_id, org, MANAGE_MEMBERSHIPS)
            .await?;
        let view = self
            .revoke_invitation(
                &browser.instance.id,
                org.id.as_str(),
                invitation,
                manager(&me),
            )
            .await?;
        self.me_outcome(browser, &me, view).await
    }
}
