//! Organization domains (wire §8.2): `/v1/organizations/{id}/domains…` — list, create, update,
//! delete. A verified domain lets users with a matching email address join (automatic
//! invitation or suggestion, per `enrollment_mode`).

use super::organizations::organization_path;
use super::{json_body, segment, ApiError, BackendApi, DeletedObject, Page, PageParams};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A domain of an organization.
///
/// ```
/// use concierge_sdk::client::OrganizationDomain;
///
/// let domain: OrganizationDomain = serde_json::from_str(r#"{
///     "object": "organization_domain",
///     "id": "orgdmn_2mQ7kL4mN5oP6qR7sT8uV9wX0yZ",
///     "organization_id": "org_2mQ70pLk3VbN8sXcR5tJwZ1eHfA",
///     "name": "example.com",
///     "enrollment_mode": "automatic_invitation",
///     "verification": {"status": "verified", "strategy": "email_code", "attempts": 1, "expire_at": null},
///     "affiliation_email_address": "it@example.com",
///     "total_pending_invitations": 3,
///     "total_pending_suggestions": 0,
///     "created_at": 1759990000000,
///     "updated_at": 1760000000000
/// }"#)?;
/// let verified = domain.verification.as_ref().is_some_and(|v| v["status"] == "verified");
/// // Users who sign up with an `@example.com` address get an invitation automatically.
/// assert!(verified && domain.enrollment_mode == "automatic_invitation");
/// assert_eq!(domain.total_pending_invitations, 3);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationDomain {
    /// `orgdmn_…`.
    pub id: String,
    /// The organization.
    pub organization_id: String,
    /// The domain name (`example.com`).
    pub name: String,
    /// `manual_invitation`, `automatic_invitation` or `automatic_suggestion`.
    #[serde(default)]
    pub enrollment_mode: String,
    /// Verification state (`{"status": "verified", "strategy": …}`), if any.
    #[serde(default)]
    pub verification: Option<Value>,
    /// The email address used to verify the domain, if any.
    #[serde(default)]
    pub affiliation_email_address: Option<String>,
    /// Invitations pending because of this domain.
    #[serde(default)]
    pub total_pending_invitations: u64,
    /// Suggestions pending because of this domain.
    #[serde(default)]
    pub total_pending_suggestions: u64,
    /// Creation, Unix ms.
    #[serde(default)]
    pub created_at: i64,
    /// Last update, Unix ms.
    #[serde(default)]
    pub updated_at: i64,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A new domain; `verified` defaults to `true` on the server (wire §8.2).
///
/// ```
/// use concierge_sdk::client::CreateOrganizationDomainParams;
///
/// let params = CreateOrganizationDomainParams {
///     enrollment_mode: Some("automatic_invitation".into()),
///     ..CreateOrganizationDomainParams::new("example.com")
/// };
/// assert_eq!(params.name, "example.com");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateOrganizationDomainParams {
    /// The domain name (required).
    pub name: String,
    /// `manual_invitation`, `automatic_invitation` or `automatic_suggestion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_mode: Option<String>,
    /// Whether the domain counts as verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

impl CreateOrganizationDomainParams {
    /// Parameters with just the name.
    ///
    /// ```
    /// use concierge_sdk::client::CreateOrganizationDomainParams;
    ///
    /// let params = CreateOrganizationDomainParams::new("example.com");
    /// assert_eq!((params.name.as_str(), params.verified), ("example.com", None));
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// Fields to change on a domain; `None` fields are left as they are.
///
/// ```
/// use concierge_sdk::client::UpdateOrganizationDomainParams;
///
/// let params = UpdateOrganizationDomainParams { enrollment_mode: Some("automatic_suggestion".into()), ..Default::default() };
/// # let _ = params;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateOrganizationDomainParams {
    /// New enrollment mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_mode: Option<String>,
    /// New verified state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

fn domain_path(organization_id: &str, domain_id: &str) -> Result<String, ApiError> {
    let domain = segment(domain_id)?;
    organization_path(organization_id, &format!("/domains/{domain}"))
}

impl BackendApi {
    /// `POST /v1/organizations/{id}/domains`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::CreateOrganizationDomainParams;
    ///
    /// let domain = api
    ///     .create_organization_domain("org_123", &CreateOrganizationDomainParams::new("example.com"))
    ///     .await?;
    /// println!("{} {}", domain.id, domain.enrollment_mode);
    /// # Ok(()) }
    /// ```
    pub async fn create_organization_domain(
        &self,
        organization_id: &str,
        params: &CreateOrganizationDomainParams,
    ) -> Result<OrganizationDomain, ApiError> {
        let path = organization_path(organization_id, "/domains")?;
        self.send(Method::POST, &path, &[], Some(json_body(params)?))
            .await
    }

    /// `GET /v1/organizations/{id}/domains`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let domains = api.list_organization_domains("org_123", Default::default()).await?;
    /// println!("{}", domains.total_count);
    /// # Ok(()) }
    /// ```
    pub async fn list_organization_domains(
        &self,
        organization_id: &str,
        page: PageParams,
    ) -> Result<Page<OrganizationDomain>, ApiError> {
        let path = organization_path(organization_id, "/domains")?;
        let mut query = Vec::new();
        page.push(&mut query);
        self.get(&path, &query).await
    }

    /// `PATCH /v1/organizations/{id}/domains/{domain_id}`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::UpdateOrganizationDomainParams;
    ///
    /// let domain = api
    ///     .update_organization_domain("org_123", "orgdmn_123", &UpdateOrganizationDomainParams {
    ///         verified: Some(false),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # let _ = domain; Ok(()) }
    /// ```
    pub async fn update_organization_domain(
        &self,
        organization_id: &str,
        domain_id: &str,
        params: &UpdateOrganizationDomainParams,
    ) -> Result<OrganizationDomain, ApiError> {
        let path = domain_path(organization_id, domain_id)?;
        self.send(Method::PATCH, &path, &[], Some(json_body(params)?))
            .await
    }

    /// `DELETE /v1/organizations/{id}/domains/{domain_id}`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let deleted = api.delete_organization_domain("org_123", "orgdmn_123").await?;
    /// assert!(deleted.deleted);
    /// # Ok(()) }
    /// ```
    pub async fn delete_organization_domain(
        &self,
        organization_id: &str,
        domain_id: &str,
    ) -> Result<DeletedObject, ApiError> {
        let path = domain_path(organization_id, domain_id)?;
        self.send(Method::DELETE, &path, &[], None).await
    }
}
