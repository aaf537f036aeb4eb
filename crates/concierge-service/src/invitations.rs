//! Organization invitations (wire §6.8, §8.2): created one by one or in bulk (all or nothing),
//! mailed to the invitee, listed by status, revoked, and accepted by a signed-in user who owns
//! the invited address (verified), which makes them a member with the invitation's role.

use crate::frontend::{Browser, Outcome};
use crate::mail::{invitation_message, Outbox};
use crate::organizations::{ActingAs, MembershipView};
use crate::tickets::TicketClaims;
use crate::users::checked_metadata;
use crate::{Result, Service, ServiceError};
use concierge_core::organizations::INVITATION_LIFETIME_DAYS;
use concierge_core::validation::normalize_email;
use concierge_core::*;
use concierge_store::{InvitationQuery, MembershipQuery, Tx};
use serde_json::{json, Value};
use tracing::instrument;

/// Parameters of one invitation.
#[derive(Debug, Clone, Default)]
pub struct CreateInvitation {
    /// The invitee's address.
    pub email_address: String,
    /// Role on acceptance, one of the organization's role set; the set's default role when absent.
    pub role: Option<String>,
    /// Who invites.
    pub inviter_user_id: Option<UserId>,
    /// Validity in days (1 to 365, default 30).
    pub expires_in_days: Option<i64>,
    /// Where the email's link leads (else the instance's sign-up URL or home page).
    pub redirect_url: Option<String>,
    /// Public metadata, copied to the membership.
    pub public_metadata: Option<Value>,
    /// Private metadata.
    pub private_metadata: Option<Value>,
}

/// An invitation with its organization (for `public_organization_data` and role names).
#[derive(Debug, Clone)]
pub struct InvitationView {
    /// The invitation.
    pub invitation: OrganizationInvitation,
    /// Its organization.
    pub organization: Organization,
    /// The role it grants.
    pub role: Role,
}

impl Service {
    async fn invitation_view(
        tx: &mut dyn Tx,
        invitation: OrganizationInvitation,
    ) -> Result<InvitationView> {
        let organization = tx
            .get_organization(&invitation.instance_id, &invitation.organization_id)
            .await?;
        let role = Self::role_of(tx, &invitation.instance_id, &invitation.role).await?;
        Ok(InvitationView {
            invitation,
            organization,
            role,
        })
    }

    /// Creates invitations to `org` in one transaction and stages their emails.
    #[instrument(skip_all, fields(instance.id = %instance.id))]
    pub async fn create_invitations(
        &self,
        instance: &Instance,
        org: &str,
        params: Vec<CreateInvitation>,
        acting: ActingAs<'_>,
    ) -> Result<Vec<InvitationView>> {
        if params.is_empty() {
            return Err(CoreError::ParamMissing {
                param: "email_address",
            }
            .into());
        }
        let now = self.now();
        let mut outbox = Outbox::default();
        let mut tx = self.inner.store.begin().await?;
        let organization =
            Self::load_organization_for_update(tx.as_mut(), &instance.id, org).await?;
        Self::check_acting(tx.as_mut(), &organization, acting).await?;
        let role_set = Self::role_set_of(tx.as_mut(), &organization).await?;
        let mut views = Vec::with_capacity(params.len());
        for p in params {
            let email = normalize_email(&p.email_address)?;
            let role_key = p
                .role
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| role_set.default_role.clone());
            let role = Self::role_in_set(tx.as_mut(), &role_set, &role_key, "role").await?;
            let days = p.expires_in_days.unwrap_or(INVITATION_LIFETIME_DAYS);
            if !(1..=365).contains(&days) {
                return Err(CoreError::OutOfRange {
                    param: "expires_in_days",
                }
                .into());
            }
            // Already a member through this address?
            if let Some(address) = tx
                .find_email_address_by_address(&instance.id, &email)
                .await?
            {
                if tx
                    .find_membership(&instance.id, &organization.id, &address.user_id)
                    .await?
                    .is_some()
                {
                    return Err(CoreError::AlreadyMember.into());
                }
            }
            let pending = InvitationQuery {
                organization_id: Some(organization.id.clone()),
                email_addresses: vec![email.clone()],
                statuses: vec!["pending".into()],
                now,
                limit: 1,
                offset: 0,
            };
            if tx.count_invitations(&instance.id, &pending).await? > 0 {
                return Err(CoreError::IdentifierExists {
                    param: "email_address",
                }
                .into());
            }
            let invitation = OrganizationInvitation {
                id: OrganizationInvitationId::generate(&mut Self::rng()),
                instance_id: instance.id.clone(),
                organization_id: organization.id.clone(),
                email_address: email.clone(),
                role: role.key.clone(),
                status: InvitationStatus::Pending,
                inviter_user_id: p.inviter_user_id,
                public_metadata: checked_metadata(p.public_metadata, "public_metadata")?
                    .unwrap_or_else(|| json!({})),
                private_metadata: checked_metadata(p.private_metadata, "private_metadata")?
                    .unwrap_or_else(|| json!({})),
                redirect_url: p
                    .redirect_url
                    .filter(|u| !u.is_empty())
                    .map(|u| concierge_core::tickets::check_redirect_url(instance, &u))
                    .transpose()?,
                expires_at: now + days * 24 * 3600 * 1000,
                created_at: now,
                updated_at: now,
            };
            tx.insert_invitation(&invitation).await?;
            views.push(InvitationView {
                invitation,
                organization: organization.clone(),
                role,
            });
        }
        // Pending invitations count toward the membership limit, as in Clerk.
        if organization.max_allowed_memberships > 0 {
            let members = MembershipQuery {
                organization_id: Some(organization.id.clone()),
                ..MembershipQuery::default()
            };
            let pending = InvitationQuery {
                organization_id: Some(organization.id.clone()),
                email_addresses: Vec::new(),
                statuses: vec!["pending".into()],
                now,
                limit: 1,
                offset: 0,
            };
            let taken = tx.count_memberships(&instance.id, &members).await?
                + tx.count_invitations(&instance.id, &pending).await?;
            if taken > organization.max_allowed_memberships {
                return Err(CoreError::MembershipLimitReached.into());
            }
        }
        // Each email links to the Frontend API's accept endpoint with the invitation's ticket.
        let tickets = views
            .iter()
            .map(|v| TicketClaims::organization(&v.invitation))
            .collect();
        let links = self.ticket_links(tx.as_mut(), instance, tickets).await?;
        for (view, link) in views.iter().zip(&links) {
            let message = invitation_message(
                instance,
                &view.invitation.email_address,
                &organization.name,
                link,
                now,
            );
            self.stage_mail(tx.as_mut(), &mut outbox, message).await?;
        }
        tx.commit().await?;
        self.flush_mail(outbox);
        tracing::info!(org.id = %organization.id, count = views.len(), "invitations created");
        Ok(views)
    }

    /// Invitations of an organization, newest first, with the total.
    pub async fn list_invitations(
        &self,
        instance: &InstanceId,
        org: &str,
        mut query: InvitationQuery,
    ) -> Result<(Vec<InvitationView>, i64)> {
        let mut conn = self.inner.store.read().await?;
        let organization = Self::load_organization(conn.as_mut(), instance, org).await?;
        query.organization_id = Some(organization.id);
        query.now = self.now();
        let list = conn.list_invitations(instance, &query).await?;
        let total = conn.count_invitations(instance, &query).await?;
        let mut views = Vec::with_capacity(list.len());
        for invitation in list {
            views.push(Self::invitation_view(conn.as_mut(), invitation).await?);
        }
        Ok((views, total))
    }

    /// One invitation of an organization.
    pub async fn get_invitation(
        &self,
        instance: &InstanceId,
        org: &str,
        id: &str,
    ) -> Result<InvitationView> {
        let mut conn = self.inner.store.read().await?;
        let organization = Self::load_organization(conn.as_mut(), instance, org).await?;
        let id = OrganizationInvitationId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let invitation = conn.get_invitation(instance, &id).await?;
        if invitation.organization_id != organization.id {
            return Err(ServiceError::NotFound);
        }
        Self::invitation_view(conn.as_mut(), invitation).await
    }

    /// Revokes a pending invitation.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn revoke_invitation(
        &self,
        instance: &InstanceId,
        org: &str,
        id: &str,
        acting: ActingAs<'_>,
    ) -> Result<InvitationView> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let organization = Self::load_organization_for_update(tx.as_mut(), instance, org).await?;
        Self::check_acting(tx.as_mut(), &organization, acting).await?;
        let id = OrganizationInvitationId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let mut invitation = tx.get_invitation(instance, &id).await?;
        if invitation.organization_id != organization.id {
            return Err(ServiceError::NotFound);
        }
        if invitation.status_at(now) != "pending" {
            return Err(CoreError::InvitationNotPending.into());
        }
        invitation.status = InvitationStatus::Revoked;
        invitation.updated_at = now;
        tx.update_invitation(&invitation).await?;
        let view = Self::invitation_view(tx.as_mut(), invitation).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// The signed-in user's verified addresses.
    async fn verified_addresses(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        user: &UserId,
    ) -> Result<Vec<String>> {
        let (_, addresses) = tx.get_user_with_email_addresses(instance, user).await?;
        Ok(addresses
            .into_iter()
            .filter(|e| e.verified)
            .map(|e| e.email_address)
            .collect())
    }

    /// `GET /v1/me/organization_invitations`: invitations to the user's verified addresses.
    pub async fn my_invitations(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        statuses: Vec<String>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<InvitationView>, i64)> {
        let me = self.me_read(browser, session_id).await?;
        let mut conn = self.inner.store.read().await?;
        let addresses =
            Self::verified_addresses(conn.as_mut(), &browser.instance.id, &me.session.user_id)
                .await?;
        if addresses.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let query = InvitationQuery {
            organization_id: None,
            email_addresses: addresses,
            statuses,
            now: self.now(),
            limit,
            offset,
        };
        let list = conn.list_invitations(&browser.instance.id, &query).await?;
        let total = conn.count_invitations(&browser.instance.id, &query).await?;
        let mut views = Vec::with_capacity(list.len());
        for invitation in list {
            views.push(Self::invitation_view(conn.as_mut(), invitation).await?);
        }
        Ok((views, total))
    }

    /// `POST /v1/me/organization_invitations/{id}/accept`: joins with the invitation's role.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn accept_invitation(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        id: &str,
    ) -> Result<Outcome<(InvitationView, MembershipView)>> {
        let now = self.now();
        let id = OrganizationInvitationId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let mut tx = self.inner.store.begin().await?;
        let me = self.me(tx.as_mut(), browser, session_id).await?;
        let instance = &browser.instance.id;
        let mut invitation = tx.get_invitation(instance, &id).await?;
        let addresses =
            Self::verified_addresses(tx.as_mut(), instance, &me.session.user_id).await?;
        if !addresses.contains(&invitation.email_address) {
            return Err(ServiceError::NotFound);
        }
        if invitation.status_at(now) != "pending" {
            return Err(CoreError::InvitationNotPending.into());
        }
        let organization = tx
            .lock_organization(instance, &invitation.organization_id)
            .await?;
        // The role must still be one the organization's role set allows (wire §8.2 role sets).
        let role_set = Self::role_set_of(tx.as_mut(), &organization).await?;
        Self::role_in_set(tx.as_mut(), &role_set, &invitation.role, "role").await?;
        if tx
            .find_membership(instance, &organization.id, &me.session.user_id)
            .await?
            .is_some()
        {
            return Err(CoreError::AlreadyMember.into());
        }
        Self::check_membership_room(tx.as_mut(), &organization).await?;
        let membership = OrganizationMembership {
            id: OrganizationMembershipId::generate(&mut Self::rng()),
            instance_id: instance.clone(),
            organization_id: organization.id.clone(),
            user_id: me.session.user_id.clone(),
            role: invitation.role.clone(),
            public_metadata: invitation.public_metadata.clone(),
            private_metadata: json!({}),
            created_at: now,
            updated_at: now,
        };
        tx.insert_membership(&membership).await?;
        invitation.status = InvitationStatus::Accepted;
        invitation.updated_at = now;
        tx.update_invitation(&invitation).await?;
        let invitation_view = Self::invitation_view(tx.as_mut(), invitation).await?;
        let user = Self::load_user(tx.as_mut(), instance, &me.session.user_id).await?;
        let role = Self::role_of(tx.as_mut(), instance, &membership.role).await?;
        tx.commit().await?;
        tracing::info!(org.id = %organization.id, "invitation accepted");
        let membership_view = MembershipView {
            membership,
            organization,
            user,
            role,
        };
        self.me_outcome(browser, &me, (invitation_view, membership_view))
            .await
    }
}
