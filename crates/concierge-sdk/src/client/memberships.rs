//! Organization memberships (wire §8.2): `/v1/organizations/{id}/memberships…`, the instance-wide
//! `/v1/organization_memberships` and a user's `/v1/users/{id}/organization_memberships`.

use super::organizations::{organization_path, MetadataParams, Organization};
use super::{json_body, push_all, push_opt, segment, ApiError, BackendApi, Page, PageParams};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A user's membership in an organization.
///
/// ```
/// use concierge_sdk::client::OrganizationMembership;
///
/// let membership: OrganizationMembership = serde_json::from_str(r#"{
///     "object": "organization_membership",
///     "id": "orgmem_2mQ7cD5eF6gH7iJ8kL9mN0pQ1rS",
///     "role": "org:admin",
///     "role_name": "Admin",
///     "permissions": ["org:sys_memberships:manage", "org:sys_profile:manage", "org:reports:export"],
///     "public_metadata": {"team": "ops"},
///     "private_metadata": {},
///     "organization": {
///         "object": "organization",
///         "id": "org_2mQ70pLk3VbN8sXcR5tJwZ1eHfA",
///         "name": "Acme",
///         "slug": "acme",
///         "created_at": 1759990000000,
///         "updated_at": 1759990000000
///     },
///     "public_user_data": {
///         "user_id": "user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe",
///         "identifier": "ada@example.com",
///         "first_name": "Ada",
///         "last_name": "Lovelace",
///         "image_url": "https://img.example.com/ada.png",
///         "has_image": true
///     },
///     "created_at": 1759990500000,
///     "updated_at": 1759990500000
/// }"#)?;
/// assert_eq!(membership.role, "org:admin");
/// assert_eq!(membership.organization.slug.as_deref(), Some("acme"));
/// assert_eq!(membership.public_user_data.identifier, "ada@example.com");
/// assert!(membership.permissions.iter().any(|p| p == "org:reports:export"));
/// assert_eq!(membership.public_metadata["team"], "ops");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationMembership {
    /// `orgmem_…`.
    pub id: String,
    /// Role key (`org:admin`, `org:member`, or a custom role).
    pub role: String,
    /// The role's display name.
    #[serde(default)]
    pub role_name: Option<String>,
    /// The role's permissions, system permissions (`org:sys_*`) included.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Metadata readable by the browser.
    #[serde(default)]
    pub public_metadata: Value,
    /// Metadata only the backend sees.
    #[serde(default)]
    pub private_metadata: Value,
    /// The organization.
    pub organization: Organization,
    /// The member's public profile.
    pub public_user_data: PublicUserData,
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

/// The public profile of a member.
///
/// ```
/// use concierge_sdk::client::PublicUserData;
///
/// let member: PublicUserData = serde_json::from_str(r#"{
///     "user_id": "user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe",
///     "identifier": "grace@example.com",
///     "first_name": "Grace",
///     "last_name": null,
///     "image_url": "https://img.example.com/default.png",
///     "has_image": false
/// }"#)?;
/// // A display name for a member list: the names when there are any, else the identifier.
/// let name = match (&member.first_name, &member.last_name) {
///     (Some(first), Some(last)) => format!("{first} {last}"),
///     (Some(first), None) => first.clone(),
///     _ => member.identifier.clone(),
/// };
/// assert_eq!(name, "Grace");
/// assert!(!member.has_image, "image_url is a generated placeholder");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicUserData {
    /// `user_…`.
    pub user_id: String,
    /// Primary email address or username.
    #[serde(default)]
    pub identifier: String,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub image_url: String,
    /// Whether an avatar was uploaded.
    #[serde(default)]
    pub has_image: bool,
}

/// Filters of [`BackendApi::list_organization_memberships`]; empty fields are not sent.
///
/// ```
/// use concierge_sdk::client::OrganizationMembershipListParams;
///
/// let admins = OrganizationMembershipListParams {
///     role: vec!["org:admin".into()],
///     ..Default::default()
/// };
/// # let _ = admins;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationMembershipListParams {
    /// Page size.
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
    /// Sort (`-created_at`, `+created_at`).
    pub order_by: Option<String>,
    /// Only these users.
    pub user_id: Vec<String>,
    /// Only members with these email addresses.
    pub email_address: Vec<String>,
    /// Only these roles.
    pub role: Vec<String>,
    /// Free-text search over the members.
    pub query: Option<String>,
}

impl OrganizationMembershipListParams {
    fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        PageParams {
            limit: self.limit,
            offset: self.offset,
        }
        .push(&mut query);
        push_opt(&mut query, "order_by", self.order_by.as_deref());
        push_all(&mut query, "user_id", &self.user_id);
        push_all(&mut query, "email_address", &self.email_address);
        push_all(&mut query, "role", &self.role);
        push_opt(&mut query, "query", self.query.as_deref());
        query
    }
}

fn membership_path(organization_id: &str, user_id: &str, rest: &str) -> Result<String, ApiError> {
    let user = segment(user_id)?;
    organization_path(organization_id, &format!("/memberships/{user}{rest}"))
}

impl BackendApi {
    /// `POST /v1/organizations/{id}/memberships`: adds a user with a role.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let membership = api
    ///     .create_organization_membership("org_123", "user_123", "org:member")
    ///     .await?;
    /// assert_eq!(membership.public_user_data.user_id, "user_123");
    /// # Ok(()) }
    /// ```
    pub async fn create_organization_membership(
        &self,
        organization_id: &str,
        user_id: &str,
        role: &str,
    ) -> Result<OrganizationMembership, ApiError> {
        let path = organization_path(organization_id, "/memberships")?;
        let body = json!({ "user_id": user_id, "role": role });
        self.send(Method::POST, &path, &[], Some(body)).await
    }

    /// `GET /v1/organizations/{id}/memberships`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let members = api
    ///     .list_organization_memberships("org_123", &Default::default())
    ///     .await?;
    /// for m in &members.data {
    ///     println!("{} {}", m.public_user_data.identifier, m.role);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_organization_memberships(
        &self,
        organization_id: &str,
        params: &OrganizationMembershipListParams,
    ) -> Result<Page<OrganizationMembership>, ApiError> {
        let path = organization_path(organization_id, "/memberships")?;
        self.get(&path, &params.to_query()).await
    }

    /// `GET /v1/organization_memberships`: memberships of every organization of the instance.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let all = api.list_instance_organization_memberships(&Default::default()).await?;
    /// println!("{}", all.total_count);
    /// # Ok(()) }
    /// ```
    pub async fn list_instance_organization_memberships(
        &self,
        params: &OrganizationMembershipListParams,
    ) -> Result<Page<OrganizationMembership>, ApiError> {
        self.get("organization_memberships", &params.to_query())
            .await
    }

    /// `GET /v1/users/{id}/organization_memberships`: the organizations a user belongs to.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let mine = api.list_user_organization_memberships("user_123", Default::default()).await?;
    /// let slugs: Vec<_> = mine.data.iter().filter_map(|m| m.organization.slug.clone()).collect();
    /// # let _ = slugs; Ok(()) }
    /// ```
    pub async fn list_user_organization_memberships(
        &self,
        user_id: &str,
        page: PageParams,
    ) -> Result<Page<OrganizationMembership>, ApiError> {
        let path = format!("users/{}/organization_memberships", segment(user_id)?);
        let mut query = Vec::new();
        page.push(&mut query);
        self.get(&path, &query).await
    }

    /// `PATCH /v1/organizations/{id}/memberships/{user_id}`: changes the member's role.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let promoted = api
    ///     .update_organization_membership("org_123", "user_123", "org:admin")
    ///     .await?;
    /// assert_eq!(promoted.role, "org:admin");
    /// # Ok(()) }
    /// ```
    pub async fn update_organization_membership(
        &self,
        organization_id: &str,
        user_id: &str,
        role: &str,
    ) -> Result<OrganizationMembership, ApiError> {
        let path = membership_path(organization_id, user_id, "")?;
        self.send(Method::PATCH, &path, &[], Some(json!({ "role": role })))
            .await
    }

    /// `PATCH /v1/organizations/{id}/memberships/{user_id}/metadata`: deep-merges metadata.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::MetadataParams;
    ///
    /// let m = api
    ///     .update_organization_membership_metadata("org_123", "user_123", &MetadataParams {
    ///         public_metadata: Some(serde_json::json!({"team": "ops"})),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # let _ = m; Ok(()) }
    /// ```
    pub async fn update_organization_membership_metadata(
        &self,
        organization_id: &str,
        user_id: &str,
        params: &MetadataParams,
    ) -> Result<OrganizationMembership, ApiError> {
        let path = membership_path(organization_id, user_id, "/metadata")?;
        self.send(Method::PATCH, &path, &[], Some(json_body(params)?))
            .await
    }

    /// `DELETE /v1/organizations/{id}/memberships/{user_id}`: removes the member; returns the
    /// removed membership.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let removed = api.delete_organization_membership("org_123", "user_123").await?;
    /// # let _ = removed; Ok(()) }
    /// ```
    pub async fn delete_organization_membership(
        &self,
        organization_id: &str,
        user_id: &str,
    ) -> Result<OrganizationMembership, ApiError> {
        let path = membership_path(organization_id, user_id, "")?;
        self.send(Method::DELETE, &path, &[], None).await
    }
}
