//! Verified domains of organizations and enrollment through them (wire §6.8, §8.2).
//!
//! The Backend API creates (verified by default), lists, updates and deletes domains; the
//! browser side (`frontend_domains.rs`) adds affiliation verification by emailed code. Once a
//! domain is verified and its mode is automatic, every user with a verified address there who
//! is not yet a member is enrolled: `automatic_invitation` gives a pending invitation with the
//! instance's default role, `automatic_suggestion` a suggestion the user may turn into a
//! membership request. Enrollment runs at sign-up, when an address gets verified, and for
//! existing users when a domain becomes verified or switches to an automatic mode. Deleting a
//! domain (or a mode change with `delete_pending`) withdraws what it made and is still pending.

use crate::{Result, Service, ServiceError};
use concierge_core::domains::{check_domain_name, email_domain};
use concierge_core::organizations::INVITATION_LIFETIME_DAYS;
use concierge_core::*;
use concierge_store::{DomainQuery, InvitationQuery, StoreError, Tx};
use serde_json::json;
use tracing::instrument;

/// A domain with what its JSON shows: the code verification in progress (attempts, expiry)
/// and the pending invitations and suggestions it made.
#[derive(Debug, Clone)]
pub struct DomainView {
    /// The domain.
    pub domain: OrganizationDomain,
    /// The affiliation code verification, once one was prepared.
    pub verification: Option<Verification>,
    /// Pending invitations made by the domain.
    pub total_pending_invitations: i64,
    /// Pending suggestions made by the domain.
    pub total_pending_suggestions: i64,
}

/// Parameters of `POST /v1/organizations/{id}/domains`.
#[derive(Debug, Clone, Default)]
pub struct CreateDomain {
    /// Domain name, such as `example.com`.
    pub name: String,
    /// Enrollment mode (`manual_invitation` when absent).
    pub enrollment_mode: Option<String>,
    /// Whether it is created verified (the Backend API's default) or must be verified by an
    /// affiliation code (the browser).
    pub verified: bool,
}

/// Parameters of `PATCH /v1/organizations/{id}/domains/{domain}` and
/// `POST …/update_enrollment_mode`.
#[derive(Debug, Clone, Default)]
pub struct UpdateDomain {
    /// New enrollment mode.
    pub enrollment_mode: Option<String>,
    /// Mark verified (as an admin) or unverified.
    pub verified: Option<bool>,
    /// Withdraw the pending invitations and suggestions the domain made.
    pub delete_pending: bool,
    /// How a verification happened (`admin` when absent; `email_code` for an affiliation code).
    pub verification_strategy: Option<&'static str>,
}

impl Service {
    pub(crate) async fn domain_view(
        tx: &mut dyn Tx,
        domain: OrganizationDomain,
        now: Millis,
    ) -> Result<DomainView> {
        let verification = tx
            .get_verification(&domain.instance_id, domain.id.as_str())
            .await?;
        let (invitations, suggestions) = tx
            .count_domain_pending(&domain.instance_id, &domain.id, now)
            .await?;
        Ok(DomainView {
            domain,
            verification,
            total_pending_invitations: invitations,
            total_pending_suggestions: suggestions,
        })
    }

    /// A domain of `org` (another organization's domain does not exist here).
    pub(crate) async fn org_domain(
        tx: &mut dyn Tx,
        org: &Organization,
        id: &str,
    ) -> Result<OrganizationDomain> {
        let id = OrganizationDomainId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let domain = tx.get_domain(&org.instance_id, &id).await?;
        if domain.organization_id != org.id {
            return Err(ServiceError::NotFound);
        }
        Ok(domain)
    }

    /// Inserts a new domain of `org` and, when it is born verified, enrolls existing users.
    pub(crate) async fn insert_org_domain(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        org: &Organization,
        params: CreateDomain,
    ) -> Result<DomainView> {
        let name = check_domain_name(&params.name)?;
        let mode = match params.enrollment_mode.as_deref().filter(|m| !m.is_empty()) {
            Some(mode) => EnrollmentMode::check(mode)?,
            None => EnrollmentMode::ManualInvitation,
        };
        if tx.find_domain_by_name(&instance.id, &name).await?.is_some() {
            return Err(CoreError::DomainExists.into());
        }
        let now = self.now();
        let domain = OrganizationDomain {
            id: OrganizationDomainId::generate(&mut Self::rng()),
            instance_id: instance.id.clone(),
            organization_id: org.id.clone(),
            name,
            enrollment_mode: mode,
            verified: params.verified,
            verification_strategy: params.verified.then(|| "admin".to_owned()),
            verified_at: params.verified.then_some(now),
            affiliation_email_address: None,
            created_at: now,
            updated_at: now,
        };
        tx.insert_domain(&domain).await.map_err(|e| match e {
            StoreError::Conflict { .. } => ServiceError::Core(CoreError::DomainExists),
            other => other.into(),
        })?;
        self.enroll_existing_users(tx, instance, &domain, now)
            .await?;
        tracing::info!(org.id = %org.id, domain.id = %domain.id, "organization domain created");
        Self::domain_view(tx, domain, now).await
    }

    /// Applies a mode or verification change; enrolls existing users when the domain has just
    /// become verified or switched to an automatic mode.
    pub(crate) async fn change_org_domain(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        mut domain: OrganizationDomain,
        params: UpdateDomain,
    ) -> Result<DomainView> {
        let now = self.now();
        let was_enrolling = domain.verified && domain.enrollment_mode.is_automatic();
        let old_mode = domain.enrollment_mode;
        if let Some(mode) = params.enrollment_mode.as_deref().filter(|m| !m.is_empty()) {
            domain.enrollment_mode = EnrollmentMode::check(mode)?;
        }
        match params.verified {
            Some(true) if !domain.verified => {
                domain.verified = true;
                domain.verification_strategy =
                    Some(params.verification_strategy.unwrap_or("admin").to_owned());
                domain.verified_at = Some(now);
            }
            Some(false) if domain.verified => {
                // Unverifying forgets the old proof: a new one needs a new code.
                domain.verified = false;
                domain.verification_strategy = None;
                domain.verified_at = None;
                tx.delete_verification(&domain.instance_id, domain.id.as_str())
                    .await?;
            }
            _ => {}
        }
        domain.updated_at = now;
        tx.update_domain(&domain).await?;
        if params.delete_pending {
            Self::withdraw_pending(tx, &domain, now).await?;
        }
        let enrolling = domain.verified && domain.enrollment_mode.is_automatic();
        if enrolling
            && (!was_enrolling || old_mode != domain.enrollment_mode || params.delete_pending)
        {
            self.enroll_existing_users(tx, instance, &domain, now)
                .await?;
        }
        Self::domain_view(tx, domain, now).await
    }

    /// Revokes the domain's pending invitations and deletes its pending suggestions.
    async fn withdraw_pending(
        tx: &mut dyn Tx,
        domain: &OrganizationDomain,
        now: Millis,
    ) -> Result<()> {
        let revoked = tx
            .revoke_domain_invitations(&domain.instance_id, &domain.id, now)
            .await?;
        let deleted = tx
            .delete_domain_suggestions(&domain.instance_id, &domain.id)
            .await?;
        tracing::info!(domain.id = %domain.id, revoked, deleted, "pending domain enrollments withdrawn");
        Ok(())
    }

    /// Deletes a domain with its pending invitations and suggestions and its code verification.
    pub(crate) async fn remove_org_domain(
        &self,
        tx: &mut dyn Tx,
        domain: &OrganizationDomain,
    ) -> Result<()> {
        Self::withdraw_pending(tx, domain, self.now()).await?;
        tx.delete_verification(&domain.instance_id, domain.id.as_str())
            .await?;
        tx.delete_domain(&domain.instance_id, &domain.id).await?;
        tracing::info!(domain.id = %domain.id, "organization domain deleted");
        Ok(())
    }

    /// A page of an organization's domains, newest first, and the total.
    pub(crate) async fn org_domain_page(
        &self,
        tx: &mut dyn Tx,
        org: &Organization,
        mut query: DomainQuery,
    ) -> Result<(Vec<DomainView>, i64)> {
        query.organization_id = Some(org.id.clone());
        let now = self.now();
        let domains = tx.list_domains(&org.instance_id, &query).await?;
        let total = tx.count_domains(&org.instance_id, &query).await?;
        let mut views = Vec::with_capacity(domains.len());
        for domain in domains {
            views.push(Self::domain_view(tx, domain, now).await?);
        }
        Ok((views, total))
    }

    // ---- Backend API -----------------------------------------------------------------------

    /// `GET /v1/organizations/{id}/domains`.
    pub async fn list_domains(
        &self,
        instance: &InstanceId,
        org: &str,
        query: DomainQuery,
    ) -> Result<(Vec<DomainView>, i64)> {
        let mut conn = self.inner.store.read().await?;
        let org = Self::load_organization(conn.as_mut(), instance, org).await?;
        self.org_domain_page(conn.as_mut(), &org, query).await
    }

    /// `POST /v1/organizations/{id}/domains`.
    #[instrument(skip_all, fields(instance.id = %instance.id))]
    pub async fn create_domain(
        &self,
        instance: &Instance,
        org: &str,
        params: CreateDomain,
    ) -> Result<DomainView> {
        let mut tx = self.inner.store.begin().await?;
        let org = Self::load_organization(tx.as_mut(), &instance.id, org).await?;
        let view = self
            .insert_org_domain(tx.as_mut(), instance, &org, params)
            .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// `PATCH /v1/organizations/{id}/domains/{domain}`.
    #[instrument(skip_all, fields(instance.id = %instance.id))]
    pub async fn update_domain(
        &self,
        instance: &Instance,
        org: &str,
        id: &str,
        params: UpdateDomain,
    ) -> Result<DomainView> {
        let mut tx = self.inner.store.begin().await?;
        let org = Self::load_organization(tx.as_mut(), &instance.id, org).await?;
        let domain = Self::org_domain(tx.as_mut(), &org, id).await?;
        let view = self
            .change_org_domain(tx.as_mut(), instance, domain, params)
            .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// `DELETE /v1/organizations/{id}/domains/{domain}`.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn delete_domain(
        &self,
        instance: &InstanceId,
        org: &str,
        id: &str,
    ) -> Result<OrganizationDomainId> {
        let mut tx = self.inner.store.begin().await?;
        let org = Self::load_organization(tx.as_mut(), instance, org).await?;
        let domain = Self::org_domain(tx.as_mut(), &org, id).await?;
        self.remove_org_domain(tx.as_mut(), &domain).await?;
        tx.commit().await?;
        Ok(domain.id)
    }

    // ---- enrollment ------------------------------------------------------------------------

    /// Enrolls the owner of a just-verified (or just-created verified) address through the
    /// verified domain of its domain part, if there is one with an automatic mode.
    pub(crate) async fn enroll_by_domain(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        email: &EmailAddress,
        now: Millis,
    ) -> Result<()> {
        if !email.verified {
            return Ok(());
        }
        let Some(name) = email_domain(&email.email_address) else {
            return Ok(());
        };
        let Some(domain) = tx
            .find_domain_by_name(&instance.id, &name.to_lowercase())
            .await?
        else {
            return Ok(());
        };
        self.enroll_address(tx, instance, &domain, email, now).await
    }

    /// Enrolls every user with a verified address at the domain.
    async fn enroll_existing_users(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        domain: &OrganizationDomain,
        now: Millis,
    ) -> Result<()> {
        if !domain.verified || !domain.enrollment_mode.is_automatic() {
            return Ok(());
        }
        let addresses = tx
            .list_verified_emails_at_domain(&instance.id, &domain.name)
            .await?;
        for email in &addresses {
            self.enroll_address(tx, instance, domain, email, now)
                .await?;
        }
        Ok(())
    }

    /// One address, one domain: a pending invitation or a suggestion unless the user is a
    /// member already or has one.
    async fn enroll_address(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        domain: &OrganizationDomain,
        email: &EmailAddress,
        now: Millis,
    ) -> Result<()> {
        if !domain.verified || !email.verified {
            return Ok(());
        }
        let org = &domain.organization_id;
        if tx
            .find_membership(&instance.id, org, &email.user_id)
            .await?
            .is_some()
        {
            return Ok(());
        }
        match domain.enrollment_mode {
            EnrollmentMode::ManualInvitation => {}
            EnrollmentMode::AutomaticInvitation => {
                let pending = InvitationQuery {
                    organization_id: Some(org.clone()),
                    email_addresses: vec![email.email_address.clone()],
                    statuses: vec!["pending".into()],
                    now,
                    limit: 1,
                    offset: 0,
                };
                if tx.count_invitations(&instance.id, &pending).await? > 0 {
                    return Ok(());
                }
                let invitation = OrganizationInvitation {
                    id: OrganizationInvitationId::generate(&mut Self::rng()),
                    instance_id: instance.id.clone(),
                    organization_id: org.clone(),
                    email_address: email.email_address.clone(),
                    // Domain enrollment grants the default role of the organization's role set.
                    role: {
                        let organization = tx.get_organization(&instance.id, org).await?;
                        Self::role_set_of(tx, &organization).await?.default_role
                    },
                    status: InvitationStatus::Pending,
                    inviter_user_id: None,
                    public_metadata: json!({}),
                    private_metadata: json!({}),
                    redirect_url: None,
                    expires_at: now + INVITATION_LIFETIME_DAYS * 24 * 3600 * 1000,
                    created_at: now,
                    updated_at: now,
                };
                tx.insert_invitation(&invitation).await?;
                tx.link_invitation_to_domain(&instance.id, &invitation.id, &domain.id)
                    .await?;
                tracing::info!(org.id = %org, invitation.id = %invitation.id, "automatic invitation created");
            }
            EnrollmentMode::AutomaticSuggestion => {
                if tx
                    .find_suggestion(&instance.id, org, &email.user_id)
                    .await?
                    .is_some()
                {
                    return Ok(());
                }
                let suggestion = OrganizationSuggestion {
                    id: OrganizationSuggestionId::generate(&mut Self::rng()),
                    instance_id: instance.id.clone(),
                    organization_id: org.clone(),
                    user_id: email.user_id.clone(),
                    domain_id: Some(domain.id.clone()),
                    status: SuggestionStatus::Pending,
                    created_at: now,
                    updated_at: now,
                };
                tx.insert_suggestion(&suggestion).await?;
                tracing::info!(org.id = %org, suggestion.id = %suggestion.id, "organization suggestion created");
            }
        }
        Ok(())
    }
}
