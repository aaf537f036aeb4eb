//! `/v1/organizations…` (wire §8.2): create, get by id or slug, list, update, metadata, delete.
//! Memberships, invitations and domains of an organization live in their own modules.

use super::{json_body, push_all, push_opt, segment, ApiError, BackendApi, DeletedObject, Page};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An organization as the Backend API returns it.
///
/// ```
/// use concierge_sdk::client::Organization;
///
/// let org: Organization = serde_json::from_str(r#"{
///     "object": "organization",
///     "id": "org_2mQ70pLk3VbN8sXcR5tJwZ1eHfA",
///     "name": "Acme Inc",
///     "slug": "acme",
///     "image_url": "https://img.example.com/acme.png",
///     "has_image": true,
///     "members_count": 4,
///     "max_allowed_memberships": 5,
///     "admin_delete_enabled": true,
///     "public_metadata": {"plan": "pro"},
///     "private_metadata": {"billing_id": "cus_123"},
///     "created_by": "user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe",
///     "created_at": 1759990000000,
///     "updated_at": 1760000000000
/// }"#)?;
/// assert_eq!(org.slug.as_deref(), Some("acme"));
/// assert_eq!(org.public_metadata["plan"], "pro");
/// // Room for one more member (a cap of 0 would mean unlimited).
/// let members = org.members_count.unwrap_or_default() as i64;
/// assert!(org.max_allowed_memberships == 0 || members < org.max_allowed_memberships);
/// assert_eq!(org.pending_invitations_count, None, "not sent by this server");
/// assert_eq!(org.other["object"], "organization");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// `org_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL-safe unique name (`acme`), what URLs such as `/orgs/:slug` carry.
    #[serde(default)]
    pub slug: Option<String>,
    /// Logo URL.
    #[serde(default)]
    pub image_url: String,
    /// Whether a logo was uploaded.
    #[serde(default)]
    pub has_image: bool,
    /// Number of members, when asked for with `include_members_count`.
    #[serde(default)]
    pub members_count: Option<u64>,
    /// Number of pending invitations, when the server sends it.
    #[serde(default)]
    pub pending_invitations_count: Option<u64>,
    /// Membership cap (0 means unlimited).
    #[serde(default)]
    pub max_allowed_memberships: i64,
    /// Whether admins may delete the organization from the browser.
    #[serde(default)]
    pub admin_delete_enabled: bool,
    /// Metadata readable by the browser.
    #[serde(default)]
    pub public_metadata: Value,
    /// Metadata only the backend sees.
    #[serde(default)]
    pub private_metadata: Value,
    /// The user who created it, if known.
    #[serde(default)]
    pub created_by: Option<String>,
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

/// Fields of a new organization; `None` fields are not sent.
///
/// ```
/// use concierge_sdk::client::CreateOrganizationParams;
///
/// let params = CreateOrganizationParams {
///     slug: Some("acme".into()),
///     created_by: Some("user_123".into()),
///     ..CreateOrganizationParams::new("Acme Inc")
/// };
/// assert_eq!(params.name, "Acme Inc");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateOrganizationParams {
    /// Display name (required).
    pub name: String,
    /// Slug; derived from the name when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// The creator, who becomes its first member with the instance's creator role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Membership cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_allowed_memberships: Option<i64>,
    /// Public metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Value>,
    /// Private metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Value>,
}

impl CreateOrganizationParams {
    /// Parameters with just a name.
    ///
    /// ```
    /// use concierge_sdk::client::CreateOrganizationParams;
    ///
    /// let params = CreateOrganizationParams { slug: Some("acme".into()), ..CreateOrganizationParams::new("Acme Inc") };
    /// assert_eq!(params.name, "Acme Inc");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// Filters of [`BackendApi::list_organizations`]; empty fields are not sent.
///
/// ```
/// use concierge_sdk::client::OrganizationListParams;
///
/// let params = OrganizationListParams {
///     query: Some("acme".into()),
///     include_members_count: true,
///     limit: Some(10),
///     ..Default::default()
/// };
/// # let _ = params;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationListParams {
    /// Page size.
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
    /// Free-text search over name, slug and id.
    pub query: Option<String>,
    /// Sort (`-created_at`, `+name`, …).
    pub order_by: Option<String>,
    /// Only these organizations.
    pub organization_id: Vec<String>,
    /// Fill in [`Organization::members_count`].
    pub include_members_count: bool,
}

/// Fields to change on an organization (`PATCH`); `None` fields are left as they are.
///
/// ```
/// use concierge_sdk::client::UpdateOrganizationParams;
/// use serde_json::json;
///
/// let params = UpdateOrganizationParams {
///     name: Some("Acme Holdings".into()),
///     max_allowed_memberships: Some(50),
///     ..Default::default()
/// };
/// // Only the fields that are set go into the body; the slug stays as it is.
/// assert_eq!(
///     serde_json::to_value(&params)?,
///     json!({"name": "Acme Holdings", "max_allowed_memberships": 50}),
/// );
/// # async fn run(api: concierge_sdk::client::BackendApi, params: UpdateOrganizationParams) -> Result<(), concierge_sdk::client::ApiError> {
/// let org = api.update_organization("org_2mQ70pLk3VbN8sXcR5tJwZ1eHfA", &params).await?;
/// assert_eq!(org.max_allowed_memberships, 50);
/// # Ok(()) }
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateOrganizationParams {
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Slug.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// Whether admins may delete it from the browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_delete_enabled: Option<bool>,
    /// Membership cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_allowed_memberships: Option<i64>,
}

/// Public and private metadata of an organization or a membership. With
/// [`BackendApi::update_organization_metadata`] they are deep-merged (a key set to `null` is
/// removed); `None` leaves that side untouched.
///
/// ```
/// use concierge_sdk::client::MetadataParams;
/// use serde_json::json;
///
/// let params = MetadataParams {
///     public_metadata: Some(json!({"plan": "pro", "trial": null})),
///     ..Default::default()
/// };
/// # let _ = params;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetadataParams {
    /// Public metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Value>,
    /// Private metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Value>,
}

pub(super) fn organization_path(id_or_slug: &str, rest: &str) -> Result<String, ApiError> {
    segment(id_or_slug).map(|id| format!("organizations/{id}{rest}"))
}

impl BackendApi {
    /// `POST /v1/organizations`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::CreateOrganizationParams;
    ///
    /// let org = api
    ///     .create_organization(&CreateOrganizationParams {
    ///         created_by: Some("user_123".into()),
    ///         ..CreateOrganizationParams::new("Acme")
    ///     })
    ///     .await?;
    /// println!("{} /orgs/{}", org.id, org.slug.unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn create_organization(
        &self,
        params: &CreateOrganizationParams,
    ) -> Result<Organization, ApiError> {
        self.send(Method::POST, "organizations", &[], Some(json_body(params)?))
            .await
    }

    /// `GET /v1/organizations/{id_or_slug}`: by id (`org_…`) or by slug, optionally with
    /// [`Organization::members_count`].
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let by_slug = api.get_organization("acme", true).await?;
    /// let by_id = api.get_organization(&by_slug.id, false).await?;
    /// assert_eq!(by_id.slug, by_slug.slug);
    /// println!("{} members", by_slug.members_count.unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn get_organization(
        &self,
        id_or_slug: &str,
        include_members_count: bool,
    ) -> Result<Organization, ApiError> {
        let mut query = Vec::new();
        if include_members_count {
            query.push(("include_members_count", "true".to_owned()));
        }
        self.get(&organization_path(id_or_slug, "")?, &query).await
    }

    /// `GET /v1/organizations`: one page of organizations matching the filters.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::OrganizationListParams;
    ///
    /// let page = api
    ///     .list_organizations(&OrganizationListParams { query: Some("ac".into()), ..Default::default() })
    ///     .await?;
    /// println!("{} of {}", page.data.len(), page.total_count);
    /// # Ok(()) }
    /// ```
    pub async fn list_organizations(
        &self,
        params: &OrganizationListParams,
    ) -> Result<Page<Organization>, ApiError> {
        let mut query = Vec::new();
        super::PageParams {
            limit: params.limit,
            offset: params.offset,
        }
        .push(&mut query);
        if params.include_members_count {
            query.push(("include_members_count", "true".to_owned()));
        }
        push_opt(&mut query, "query", params.query.as_deref());
        push_opt(&mut query, "order_by", params.order_by.as_deref());
        push_all(&mut query, "organization_id", &params.organization_id);
        self.get("organizations", &query).await
    }

    /// `PATCH /v1/organizations/{id}`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::UpdateOrganizationParams;
    ///
    /// let renamed = api
    ///     .update_organization("org_123", &UpdateOrganizationParams { name: Some("Acme 2".into()), ..Default::default() })
    ///     .await?;
    /// # let _ = renamed; Ok(()) }
    /// ```
    pub async fn update_organization(
        &self,
        organization_id: &str,
        params: &UpdateOrganizationParams,
    ) -> Result<Organization, ApiError> {
        let path = organization_path(organization_id, "")?;
        self.send(Method::PATCH, &path, &[], Some(json_body(params)?))
            .await
    }

    /// `PATCH /v1/organizations/{id}/metadata`: deep-merges the given metadata.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::MetadataParams;
    ///
    /// let org = api
    ///     .update_organization_metadata("org_123", &MetadataParams {
    ///         private_metadata: Some(serde_json::json!({"billing_id": "cus_1"})),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # let _ = org; Ok(()) }
    /// ```
    pub async fn update_organization_metadata(
        &self,
        organization_id: &str,
        params: &MetadataParams,
    ) -> Result<Organization, ApiError> {
        let path = organization_path(organization_id, "/metadata")?;
        self.send(Method::PATCH, &path, &[], Some(json_body(params)?))
            .await
    }

    /// `DELETE /v1/organizations/{id}`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// assert!(api.delete_organization("org_123").await?.deleted);
    /// # Ok(()) }
    /// ```
    pub async fn delete_organization(
        &self,
        organization_id: &str,
    ) -> Result<DeletedObject, ApiError> {
        let path = organization_path(organization_id, "")?;
        self.send(Method::DELETE, &path, &[], None).await
    }
}
