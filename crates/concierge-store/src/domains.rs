//! The storage of verified domains and what they enroll: organization domains, organization
//! suggestions, membership requests, and the link from an automatic invitation to its domain.
//!
//! A capability trait of its own ([`DomainTx`], a supertrait of [`crate::Tx`]) so the queries of
//! this feature stay in one place; its SQL is in `sql_domains.rs`, written once for both backends.

use async_trait::async_trait;
use concierge_core::*;

use crate::StoreError;

/// Filters and page of a domain list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainQuery {
    /// Only domains of this organization.
    pub organization_id: Option<OrganizationId>,
    /// Only domains with this enrollment mode.
    pub enrollment_mode: Option<EnrollmentMode>,
    /// Only verified (or only unverified) domains.
    pub verified: Option<bool>,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// Filters and page of a suggestion list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuggestionQuery {
    /// Only suggestions shown to this user.
    pub user_id: Option<UserId>,
    /// Only these statuses; empty: all.
    pub statuses: Vec<SuggestionStatus>,
    /// Leave out suggestions of organizations the user has joined since.
    pub exclude_joined: bool,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// Filters and page of a membership-request list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipRequestQuery {
    /// Only requests to join this organization.
    pub organization_id: Option<OrganizationId>,
    /// Only these statuses; empty: all.
    pub statuses: Vec<MembershipRequestStatus>,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// Queries of organization domains, suggestions and membership requests. Every method takes
/// the `InstanceId` first and filters on it.
#[async_trait]
pub trait DomainTx: Send {
    // ---- organization domains --------------------------------------------------------------

    /// Inserts a domain. Conflict: `organization_domain` (the name is taken in the instance).
    async fn insert_domain(&mut self, domain: &OrganizationDomain) -> Result<(), StoreError>;
    /// The domain with this id.
    async fn get_domain(
        &mut self,
        instance: &InstanceId,
        id: &OrganizationDomainId,
    ) -> Result<OrganizationDomain, StoreError>;
    /// The domain with this (lowercase) name, in whichever organization has it.
    async fn find_domain_by_name(
        &mut self,
        instance: &InstanceId,
        name: &str,
    ) -> Result<Option<OrganizationDomain>, StoreError>;
    /// Replaces enrollment mode, verification columns, affiliation address and updated_at.
    async fn update_domain(&mut self, domain: &OrganizationDomain) -> Result<(), StoreError>;
    /// Deletes a domain (its suggestions and invitations keep existing, unlinked).
    async fn delete_domain(
        &mut self,
        instance: &InstanceId,
        id: &OrganizationDomainId,
    ) -> Result<(), StoreError>;
    /// Domains matching the query, newest first.
    async fn list_domains(
        &mut self,
        instance: &InstanceId,
        query: &DomainQuery,
    ) -> Result<Vec<OrganizationDomain>, StoreError>;
    /// How many domains match the query's filters.
    async fn count_domains(
        &mut self,
        instance: &InstanceId,
        query: &DomainQuery,
    ) -> Result<i64, StoreError>;
    /// The domain's pending (unexpired as of `now`) invitations and pending suggestions.
    async fn count_domain_pending(
        &mut self,
        instance: &InstanceId,
        domain: &OrganizationDomainId,
        now: Millis,
    ) -> Result<(i64, i64), StoreError>;
    /// Marks an invitation as made by a domain.
    async fn link_invitation_to_domain(
        &mut self,
        instance: &InstanceId,
        invitation: &OrganizationInvitationId,
        domain: &OrganizationDomainId,
    ) -> Result<(), StoreError>;
    /// Revokes the domain's pending invitations at `now`; returns how many.
    async fn revoke_domain_invitations(
        &mut self,
        instance: &InstanceId,
        domain: &OrganizationDomainId,
        now: Millis,
    ) -> Result<u64, StoreError>;
    /// Deletes the domain's pending suggestions; returns how many.
    async fn delete_domain_suggestions(
        &mut self,
        instance: &InstanceId,
        domain: &OrganizationDomainId,
    ) -> Result<u64, StoreError>;
    /// Verified email addresses at exactly this (lowercase) domain, oldest first.
    async fn list_verified_emails_at_domain(
        &mut self,
        instance: &InstanceId,
        name: &str,
    ) -> Result<Vec<EmailAddress>, StoreError>;

    // ---- organization suggestions ----------------------------------------------------------

    /// Inserts a suggestion. Conflict: `organization_suggestion` (one per user and organization).
    async fn insert_suggestion(
        &mut self,
        suggestion: &OrganizationSuggestion,
    ) -> Result<(), StoreError>;
    /// The suggestion with this id.
    async fn get_suggestion(
        &mut self,
        instance: &InstanceId,
        id: &OrganizationSuggestionId,
    ) -> Result<OrganizationSuggestion, StoreError>;
    /// The suggestion of `org` to `user`, if any.
    async fn find_suggestion(
        &mut self,
        instance: &InstanceId,
        org: &OrganizationId,
        user: &UserId,
    ) -> Result<Option<OrganizationSuggestion>, StoreError>;
    /// Replaces status and updated_at.
    async fn update_suggestion(
        &mut self,
        suggestion: &OrganizationSuggestion,
    ) -> Result<(), StoreError>;
    /// Suggestions matching the query, newest first.
    async fn list_suggestions(
        &mut self,
        instance: &InstanceId,
        query: &SuggestionQuery,
    ) -> Result<Vec<OrganizationSuggestion>, StoreError>;
    /// How many suggestions match the query's filters.
    async fn count_suggestions(
        &mut self,
        instance: &InstanceId,
        query: &SuggestionQuery,
    ) -> Result<i64, StoreError>;

    // ---- membership requests ---------------------------------------------------------------

    /// Inserts a request. Conflict: `organization_membership_request` (one per user and
    /// organization).
    async fn insert_membership_request(
        &mut self,
        request: &MembershipRequest,
    ) -> Result<(), StoreError>;
    /// The request with this id.
    async fn get_membership_request(
        &mut self,
        instance: &InstanceId,
        id: &OrganizationMembershipRequestId,
    ) -> Result<MembershipRequest, StoreError>;
    /// The request of `user` to join `org`, if any.
    async fn find_membership_request(
        &mut self,
        instance: &InstanceId,
        org: &OrganizationId,
        user: &UserId,
    ) -> Result<Option<MembershipRequest>, StoreError>;
    /// Replaces status and updated_at.
    async fn update_membership_request(
        &mut self,
        request: &MembershipRequest,
    ) -> Result<(), StoreError>;
    /// Requests matching the query, newest first.
    async fn list_membership_requests(
        &mut self,
        instance: &InstanceId,
        query: &MembershipRequestQuery,
    ) -> Result<Vec<MembershipRequest>, StoreError>;
    /// How many requests match the query's filters.
    async fn count_membership_requests(
        &mut self,
        instance: &InstanceId,
        query: &MembershipRequestQuery,
    ) -> Result<i64, StoreError>;
}
