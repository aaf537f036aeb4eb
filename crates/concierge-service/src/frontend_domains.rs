//! Verified domains, membership requests and organization suggestions from the browser
//! (wire §6.8): what `<OrganizationProfile/>`, `<OrganizationSwitcher/>` and
//! `<OrganizationList/>` call. Domain actions need the acting member's `org:sys_domains:read`
//! or `:manage`, membership requests `org:sys_memberships:manage` (wire §2.4); a domain created
//! here starts unverified and is verified by a code mailed to an address at the domain.
//! Each use case runs in one transaction, permission check included.

use crate::domains::{CreateDomain, DomainView, UpdateDomain};
use crate::frontend::{code_matches, Browser, Outcome};
use crate::mail::{CodePurpose, Outbox};
use crate::me::Me;
use crate::organizations::{ActingAs, MANAGE_MEMBERSHIPS};
use crate::users::UserView;
use crate::{Result, Service, ServiceError};
use concierge_core::domains::email_domain;
use concierge_core::validation::normalize_email;
use concierge_core::*;
use concierge_store::{DomainQuery, MembershipRequestQuery, SuggestionQuery, Tx};
use serde_json::json;
use tracing::instrument;

const DOMAINS_READ: &str = "org:sys_domains:read";
const DOMAINS_MANAGE: &str = "org:sys_domains:manage";

/// A suggestion with the organization it suggests (`public_organization_data`).
#[derive(Debug, Clone)]
pub struct SuggestionView {
    /// The suggestion.
    pub suggestion: OrganizationSuggestion,
    /// Its organization.
    pub organization: Organization,
}

/// A membership request with the requester (`public_user_data`).
#[derive(Debug, Clone)]
pub struct MembershipRequestView {
    /// The request.
    pub request: MembershipRequest,
    /// Who asks to join.
    pub user: UserView,
}

fn parse_statuses<T>(raw: &[String], parse: fn(&str) -> Option<T>) -> Result<Vec<T>> {
    raw.iter()
        .flat_map(|s| s.split(','))
        .filter(|s| !s.is_empty())
        .map(|s| parse(s.trim()).ok_or_else(|| CoreError::FormatInvalid { param: "status" }.into()))
        .collect()
}

impl Service {
    /// The acting member and the organization, once their role holds `permission`.
    async fn member_with(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        permission: &str,
    ) -> Result<(Me, Organization)> {
        let (me, org, _, role) = self.acting_member(tx, browser, session_id, org).await?;
        Self::require_permission(&role, permission)?;
        Ok((me, org))
    }

    /// [`Self::member_with`] in a writing transaction: the organization is locked first, so the
    /// acting member's role is read as it stands until commit (a member demoted at the same
    /// moment no longer passes).
    async fn member_for_update(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        permission: &'static str,
    ) -> Result<(Me, Organization)> {
        let me = self.me(tx, browser, session_id).await?;
        let org = Self::load_organization_for_update(tx, &browser.instance.id, org).await?;
        let acting = ActingAs::Member {
            user: &me.session.user_id,
            permission,
        };
        Self::check_acting(tx, &org, acting).await?;
        Ok((me, org))
    }

    /// `GET /v1/organizations/{id}/domains`: needs `org:sys_domains:read`.
    pub async fn my_org_domains(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        query: DomainQuery,
    ) -> Result<(Vec<DomainView>, i64)> {
        let mut conn = self.inner.store.read().await?;
        let (_, org) = self
            .member_with(conn.as_mut(), browser, session_id, org, DOMAINS_READ)
            .await?;
        self.org_domain_page(conn.as_mut(), &org, query).await
    }

    /// `GET /v1/organizations/{id}/domains/{domain}`: needs `org:sys_domains:read`.
    pub async fn my_org_domain(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        id: &str,
    ) -> Result<DomainView> {
        let mut conn = self.inner.store.read().await?;
        let (_, org) = self
            .member_with(conn.as_mut(), browser, session_id, org, DOMAINS_READ)
            .await?;
        let domain = Self::org_domain(conn.as_mut(), &org, id).await?;
        Self::domain_view(conn.as_mut(), domain, self.now()).await
    }

    /// `POST /v1/organizations/{id}/domains`: needs `org:sys_domains:manage`; the domain starts
    /// unverified.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn create_my_org_domain(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        name: String,
        enrollment_mode: Option<String>,
    ) -> Result<Outcome<DomainView>> {
        let mut tx = self.inner.store.begin().await?;
        let (me, org) = self
            .member_for_update(tx.as_mut(), browser, session_id, org, DOMAINS_MANAGE)
            .await?;
        let params = CreateDomain {
            name,
            enrollment_mode,
            verified: false,
        };
        let view = self
            .insert_org_domain(tx.as_mut(), &browser.instance, &org, params)
            .await?;
        tx.commit().await?;
        self.me_outcome(browser, &me, view).await
    }

    /// `DELETE /v1/organizations/{id}/domains/{domain}`: needs `org:sys_domains:manage`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn delete_my_org_domain(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        id: &str,
    ) -> Result<Outcome<OrganizationDomainId>> {
        let mut tx = self.inner.store.begin().await?;
        let (me, org) = self
            .member_for_update(tx.as_mut(), browser, session_id, org, DOMAINS_MANAGE)
            .await?;
        let domain = Self::org_domain(tx.as_mut(), &org, id).await?;
        self.remove_org_domain(tx.as_mut(), &domain).await?;
        tx.commit().await?;
        self.me_outcome(browser, &me, domain.id).await
    }

    /// `POST …/domains/{domain}/prepare_affiliation_verification`: mails a code to an address
    /// at the domain. Needs `org:sys_domains:manage`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn prepare_affiliation_verification(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        id: &str,
        affiliation_email_address: &str,
    ) -> Result<Outcome<DomainView>> {
        let address =
            normalize_email(affiliation_email_address).map_err(|_| CoreError::FormatInvalid {
                param: "affiliation_email_address",
            })?;
        let now = self.now();
        let mut outbox = Outbox::default();
        let mut tx = self.inner.store.begin().await?;
        let (me, org) = self
            .member_for_update(tx.as_mut(), browser, session_id, org, DOMAINS_MANAGE)
            .await?;
        let mut domain = Self::org_domain(tx.as_mut(), &org, id).await?;
        if domain.verified {
            return Err(CoreError::VerificationAlreadyVerified.into());
        }
        // The code proves affiliation only when it goes to an address at the domain itself.
        if email_domain(&address) != Some(domain.name.as_str()) {
            return Err(CoreError::FormatInvalid {
                param: "affiliation_email_address",
            }
            .into());
        }
        let hash = self
            .issue_code(
                tx.as_mut(),
                &mut outbox,
                &browser.instance,
                &address,
                CodePurpose::VerifyEmail,
                now,
            )
            .await?;
        let verification = Verification::code("email_code", hash, now, None);
        tx.put_verification(&browser.instance.id, domain.id.as_str(), &verification)
            .await?;
        domain.affiliation_email_address = Some(address);
        domain.updated_at = now;
        tx.update_domain(&domain).await?;
        let view = Self::domain_view(tx.as_mut(), domain, now).await?;
        tx.commit().await?;
        self.flush_mail(outbox);
        self.me_outcome(browser, &me, view).await
    }

    /// `POST …/domains/{domain}/attempt_affiliation_verification`: a right code verifies the
    /// domain and enrolls matching users; a wrong one still counts as an attempt.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn attempt_affiliation_verification(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        id: &str,
        code: &str,
    ) -> Result<Outcome<DomainView>> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let (me, org) = self
            .member_for_update(tx.as_mut(), browser, session_id, org, DOMAINS_MANAGE)
            .await?;
        let domain = Self::org_domain(tx.as_mut(), &org, id).await?;
        if domain.verified {
            return Err(CoreError::VerificationAlreadyVerified.into());
        }
        let mut verification = tx
            .get_verification(&browser.instance.id, domain.id.as_str())
            .await?
            .ok_or(CoreError::VerificationNotPrepared)?;
        let attempt = verification.attempt(code_matches(&verification, code), now);
        tx.put_verification(&browser.instance.id, domain.id.as_str(), &verification)
            .await?;
        if let Err(refusal) = attempt {
            tx.commit().await?;
            return Err(refusal.into());
        }
        let params = UpdateDomain {
            verified: Some(true),
            verification_strategy: Some("email_code"),
            ..UpdateDomain::default()
        };
        let view = self
            .change_org_domain(tx.as_mut(), &browser.instance, domain, params)
            .await?;
        tx.commit().await?;
        tracing::info!(domain.id = %view.domain.id, "organization domain verified by affiliation");
        self.me_outcome(browser, &me, view).await
    }

    /// `POST …/domains/{domain}/update_enrollment_mode`: needs `org:sys_domains:manage`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn update_my_org_domain_mode(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        id: &str,
        enrollment_mode: String,
        delete_pending: bool,
    ) -> Result<Outcome<DomainView>> {
        let mut tx = self.inner.store.begin().await?;
        let (me, org) = self
            .member_for_update(tx.as_mut(), browser, session_id, org, DOMAINS_MANAGE)
            .await?;
        let domain = Self::org_domain(tx.as_mut(), &org, id).await?;
        let params = UpdateDomain {
            enrollment_mode: Some(enrollment_mode),
            delete_pending,
            ..UpdateDomain::default()
        };
        let view = self
            .change_org_domain(tx.as_mut(), &browser.instance, domain, params)
            .await?;
        tx.commit().await?;
        self.me_outcome(browser, &me, view).await
    }

    // ---- membership requests ---------------------------------------------------------------

    /// `GET /v1/organizations/{id}/membership_requests`: needs `org:sys_memberships:manage`.
    pub async fn org_membership_requests(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        statuses: &[String],
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<MembershipRequestView>, i64)> {
        let statuses = parse_statuses(statuses, MembershipRequestStatus::parse)?;
        let mut conn = self.inner.store.read().await?;
        let (_, org) = self
            .member_with(conn.as_mut(), browser, session_id, org, MANAGE_MEMBERSHIPS)
            .await?;
        let query = MembershipRequestQuery {
            organization_id: Some(org.id.clone()),
            statuses,
            limit,
            offset,
        };
        let instance = &browser.instance.id;
        let requests = conn.list_membership_requests(instance, &query).await?;
        let total = conn.count_membership_requests(instance, &query).await?;
        let mut views = Vec::with_capacity(requests.len());
        for request in requests {
            let user = Self::load_user(conn.as_mut(), instance, &request.user_id).await?;
            views.push(MembershipRequestView { request, user });
        }
        Ok((views, total))
    }

    /// A pending request to join `org`, for an admin to decide on.
    async fn pending_request(
        tx: &mut dyn Tx,
        org: &Organization,
        id: &str,
    ) -> Result<MembershipRequest> {
        let id = OrganizationMembershipRequestId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let request = tx.get_membership_request(&org.instance_id, &id).await?;
        if request.organization_id != org.id {
            return Err(ServiceError::NotFound);
        }
        if request.status != MembershipRequestStatus::Pending {
            return Err(CoreError::MembershipRequestNotPending.into());
        }
        Ok(request)
    }

    /// `POST …/membership_requests/{request}/accept`: the requester joins with the instance's
    /// default role (membership limit permitting). Needs `org:sys_memberships:manage`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn accept_membership_request(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        id: &str,
    ) -> Result<Outcome<MembershipRequestView>> {
        let now = self.now();
        let instance = &browser.instance;
        let mut tx = self.inner.store.begin().await?;
        let (me, org) = self
            .member_for_update(tx.as_mut(), browser, session_id, org, MANAGE_MEMBERSHIPS)
            .await?;
        let mut request = Self::pending_request(tx.as_mut(), &org, id).await?;
        if tx
            .find_membership(&instance.id, &org.id, &request.user_id)
            .await?
            .is_some()
        {
            return Err(CoreError::AlreadyMember.into());
        }
        Self::check_membership_room(tx.as_mut(), &org).await?;
        let membership = OrganizationMembership {
            id: OrganizationMembershipId::generate(&mut Self::rng()),
            instance_id: instance.id.clone(),
            organization_id: org.id.clone(),
            user_id: request.user_id.clone(),
            role: Self::role_set_of(tx.as_mut(), &org).await?.default_role,
            public_metadata: json!({}),
            private_metadata: json!({}),
            created_at: now,
            updated_at: now,
        };
        tx.insert_membership(&membership).await?;
        request.status = MembershipRequestStatus::Accepted;
        request.updated_at = now;
        tx.update_membership_request(&request).await?;
        let user = Self::load_user(tx.as_mut(), &instance.id, &request.user_id).await?;
        tx.commit().await?;
        tracing::info!(org.id = %org.id, request.id = %request.id, "membership request accepted");
        self.me_outcome(browser, &me, MembershipRequestView { request, user })
            .await
    }

    /// `POST …/membership_requests/{request}/reject`: needs `org:sys_memberships:manage`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn reject_membership_request(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        org: &str,
        id: &str,
    ) -> Result<Outcome<MembershipRequestView>> {
        let mut tx = self.inner.store.begin().await?;
        let (me, org) = self
            .member_for_update(tx.as_mut(), browser, session_id, org, MANAGE_MEMBERSHIPS)
            .await?;
        let mut request = Self::pending_request(tx.as_mut(), &org, id).await?;
        request.status = MembershipRequestStatus::Rejected;
        request.updated_at = self.now();
        tx.update_membership_request(&request).await?;
        let user = Self::load_user(tx.as_mut(), &org.instance_id, &request.user_id).await?;
        tx.commit().await?;
        self.me_outcome(browser, &me, MembershipRequestView { request, user })
            .await
    }

    // ---- the signed-in user's suggestions --------------------------------------------------

    /// `GET /v1/me/organization_suggestions`: suggestions of organizations the user has not
    /// joined, newest first.
    pub async fn my_suggestions(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        statuses: &[String],
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<SuggestionView>, i64)> {
        let statuses = parse_statuses(statuses, SuggestionStatus::parse)?;
        let mut conn = self.inner.store.read().await?;
        let me = self.me(conn.as_mut(), browser, session_id).await?;
        let query = SuggestionQuery {
            user_id: Some(me.session.user_id.clone()),
            statuses,
            exclude_joined: true,
            limit,
            offset,
        };
        let instance = &browser.instance.id;
        let suggestions = conn.list_suggestions(instance, &query).await?;
        let total = conn.count_suggestions(instance, &query).await?;
        let mut views = Vec::with_capacity(suggestions.len());
        for suggestion in suggestions {
            let organization = conn
                .get_organization(instance, &suggestion.organization_id)
                .await?;
            views.push(SuggestionView {
                suggestion,
                organization,
            });
        }
        Ok((views, total))
    }

    /// `POST /v1/me/organization_suggestions/{id}/accept`: the user asks to join; admins see a
    /// pending membership request.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn accept_suggestion(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        id: &str,
    ) -> Result<Outcome<SuggestionView>> {
        let now = self.now();
        let instance = &browser.instance.id;
        let id = OrganizationSuggestionId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let mut tx = self.inner.store.begin().await?;
        let me = self.me(tx.as_mut(), browser, session_id).await?;
        let mut suggestion = tx.get_suggestion(instance, &id).await?;
        if suggestion.user_id != me.session.user_id {
            return Err(ServiceError::NotFound);
        }
        if suggestion.status != SuggestionStatus::Pending {
            return Err(CoreError::SuggestionNotPending.into());
        }
        suggestion.status = SuggestionStatus::Accepted;
        suggestion.updated_at = now;
        tx.update_suggestion(&suggestion).await?;
        let org = &suggestion.organization_id;
        let user = &suggestion.user_id;
        let member = tx.find_membership(instance, org, user).await?.is_some();
        let requested = tx.find_membership_request(instance, org, user).await?;
        match requested {
            _ if member => {}
            None => {
                let request = MembershipRequest {
                    id: OrganizationMembershipRequestId::generate(&mut Self::rng()),
                    instance_id: instance.clone(),
                    organization_id: org.clone(),
                    user_id: user.clone(),
                    status: MembershipRequestStatus::Pending,
                    created_at: now,
                    updated_at: now,
                };
                tx.insert_membership_request(&request).await?;
            }
            // Asking again reopens an earlier decision for the admins.
            Some(mut earlier) if earlier.status != MembershipRequestStatus::Pending => {
                earlier.status = MembershipRequestStatus::Pending;
                earlier.updated_at = now;
                tx.update_membership_request(&earlier).await?;
            }
            Some(_) => {}
        }
        let organization = tx.get_organization(instance, org).await?;
        tx.commit().await?;
        tracing::info!(org.id = %organization.id, suggestion.id = %suggestion.id, "organization suggestion accepted");
        self.me_outcome(
            browser,
            &me,
            SuggestionView {
                suggestion,
                organization,
            },
        )
        .await
    }
}
