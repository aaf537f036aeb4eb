//! Organization invitations (wire §8.2): `/v1/organizations/{id}/invitations…` — create (one or
//! in bulk), get, list by status, revoke.

use super::organizations::organization_path;
use super::{json_body, push_all, segment, ApiError, BackendApi, Page, PageParams};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// An invitation to join an organization.
///
/// ```
/// use concierge_sdk::client::OrganizationInvitation;
///
/// let invitation: OrganizationInvitation = serde_json::from_str(r#"{
///     "object": "organization_invitation",
///     "id": "orginv_2mQ7eF8gH9iJ0kL1mN2oP3qR4sT",
///     "email_address": "grace@example.com",
///     "role": "org:member",
///     "role_name": "Member",
///     "organization_id": "org_2mQ70pLk3VbN8sXcR5tJwZ1eHfA",
///     "status": "pending",
///     "public_metadata": {"team": "ops"},
///     "private_metadata": {},
///     "inviter_user_id": "user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe",
///     "redirect_url": "https://app.example.com/accept",
///     "url": null,
///     "expires_at": 1760604800000,
///     "created_at": 1760000000000,
///     "updated_at": 1760000000000,
///     "public_organization_data": {"id": "org_2mQ70pLk3VbN8sXcR5tJwZ1eHfA", "name": "Acme", "slug": "acme"}
/// }"#)?;
/// assert_eq!((invitation.status.as_str(), invitation.role.as_str()), ("pending", "org:member"));
/// let days = (invitation.expires_at.unwrap_or_default() - invitation.created_at) / 86_400_000;
/// assert_eq!(days, 7);
/// assert_eq!(invitation.url, None);
/// assert_eq!(invitation.other["public_organization_data"]["slug"], "acme");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationInvitation {
    /// `orginv_…`.
    pub id: String,
    /// Who is invited.
    pub email_address: String,
    /// The role the invitee gets on accepting.
    pub role: String,
    /// The role's display name.
    #[serde(default)]
    pub role_name: Option<String>,
    /// The organization.
    pub organization_id: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: String,
    /// Metadata copied to the membership on acceptance.
    #[serde(default)]
    pub public_metadata: Value,
    /// Private metadata copied to the membership on acceptance.
    #[serde(default)]
    pub private_metadata: Value,
    /// The user who invited, if given.
    #[serde(default)]
    pub inviter_user_id: Option<String>,
    /// Where the invitation link leads, if given.
    #[serde(default)]
    pub redirect_url: Option<String>,
    /// The invitation link, when the server exposes it.
    #[serde(default)]
    pub url: Option<String>,
    /// When it expires, Unix ms.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Creation, Unix ms.
    #[serde(default)]
    pub created_at: i64,
    /// Last update, Unix ms.
    #[serde(default)]
    pub updated_at: i64,
    /// Every other field (`public_organization_data`, …), as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Everything `createOrganizationInvitation` accepts; `None` fields are not sent.
///
/// ```
/// use concierge_sdk::client::CreateOrganizationInvitationParams;
/// use serde_json::json;
///
/// let params = CreateOrganizationInvitationParams {
///     inviter_user_id: Some("user_123".into()),
///     expires_in_days: Some(7),
///     redirect_url: Some("https://app.example.com/accept".into()),
///     public_metadata: Some(json!({"team": "ops"})),
///     private_metadata: Some(json!({"source": "admin-panel"})),
///     ..CreateOrganizationInvitationParams::new("ada@example.com", "org:member")
/// };
/// assert_eq!(params.role, "org:member");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateOrganizationInvitationParams {
    /// Who to invite (required).
    pub email_address: String,
    /// The role to grant (required; `org:member`, `org:admin` or a custom role key).
    pub role: String,
    /// The inviting user, recorded and shown in the email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inviter_user_id: Option<String>,
    /// Validity in days (the server's default when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
    /// Where the invitation link leads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// Public metadata for the future membership.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Value>,
    /// Private metadata for the future membership.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Value>,
}

impl CreateOrganizationInvitationParams {
    /// Parameters with just the two required fields.
    ///
    /// ```
    /// use concierge_sdk::client::CreateOrganizationInvitationParams;
    ///
    /// let params = CreateOrganizationInvitationParams::new("ada@example.com", "org:member");
    /// assert_eq!((params.email_address.as_str(), params.role.as_str()), ("ada@example.com", "org:member"));
    /// ```
    pub fn new(email_address: impl Into<String>, role: impl Into<String>) -> Self {
        Self {
            email_address: email_address.into(),
            role: role.into(),
            ..Self::default()
        }
    }
}

/// Filters of [`BackendApi::list_organization_invitations`].
///
/// ```
/// use concierge_sdk::client::OrganizationInvitationListParams;
///
/// let open = OrganizationInvitationListParams { status: vec!["pending".into()], ..Default::default() };
/// # let _ = open;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationInvitationListParams {
    /// Page size.
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
    /// Only these statuses (`pending`, `accepted`, `revoked`, `expired`).
    pub status: Vec<String>,
}

fn invitation_path(
    organization_id: &str,
    invitation_id: &str,
    rest: &str,
) -> Result<String, ApiError> {
    let invitation = segment(invitation_id)?;
    organization_path(organization_id, &format!("/invitations/{invitation}{rest}"))
}

impl BackendApi {
    /// `POST /v1/organizations/{id}/invitations`: invites one email address (an email is sent).
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::CreateOrganizationInvitationParams;
    ///
    /// let invitation = api
    ///     .create_organization_invitation(
    ///         "org_123",
    ///         &CreateOrganizationInvitationParams::new("ada@example.com", "org:member"),
    ///     )
    ///     .await?;
    /// assert_eq!(invitation.status, "pending");
    /// # Ok(()) }
    /// ```
    pub async fn create_organization_invitation(
        &self,
        organization_id: &str,
        params: &CreateOrganizationInvitationParams,
    ) -> Result<OrganizationInvitation, ApiError> {
        let path = organization_path(organization_id, "/invitations")?;
        self.send(Method::POST, &path, &[], Some(json_body(params)?))
            .await
    }

    /// `POST /v1/organizations/{id}/invitations/bulk`: several invitations, all or nothing.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::CreateOrganizationInvitationParams as Invite;
    ///
    /// let created = api
    ///     .create_organization_invitations_bulk("org_123", &[
    ///         Invite::new("a@example.com", "org:member"),
    ///         Invite::new("b@example.com", "org:admin"),
    ///     ])
    ///     .await?;
    /// assert_eq!(created.data.len(), 2);
    /// # Ok(()) }
    /// ```
    pub async fn create_organization_invitations_bulk(
        &self,
        organization_id: &str,
        params: &[CreateOrganizationInvitationParams],
    ) -> Result<Page<OrganizationInvitation>, ApiError> {
        let path = organization_path(organization_id, "/invitations/bulk")?;
        self.send(Method::POST, &path, &[], Some(json_body(&params)?))
            .await
    }

    /// `GET /v1/organizations/{id}/invitations/{invitation_id}`.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let invitation = api.get_organization_invitation("org_123", "orginv_123").await?;
    /// println!("{}", invitation.status);
    /// # Ok(()) }
    /// ```
    pub async fn get_organization_invitation(
        &self,
        organization_id: &str,
        invitation_id: &str,
    ) -> Result<OrganizationInvitation, ApiError> {
        self.get(&invitation_path(organization_id, invitation_id, "")?, &[])
            .await
    }

    /// `GET /v1/organizations/{id}/invitations`, optionally filtered by status.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::OrganizationInvitationListParams;
    ///
    /// let pending = api
    ///     .list_organization_invitations("org_123", &OrganizationInvitationListParams {
    ///         status: vec!["pending".into()],
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// println!("{} pending", pending.total_count);
    /// # Ok(()) }
    /// ```
    pub async fn list_organization_invitations(
        &self,
        organization_id: &str,
        params: &OrganizationInvitationListParams,
    ) -> Result<Page<OrganizationInvitation>, ApiError> {
        let path = organization_path(organization_id, "/invitations")?;
        let mut query = Vec::new();
        PageParams {
            limit: params.limit,
            offset: params.offset,
        }
        .push(&mut query);
        push_all(&mut query, "status", &params.status);
        self.get(&path, &query).await
    }

    /// `POST /v1/organizations/{id}/invitations/{invitation_id}/revoke`; `requesting_user_id`
    /// records who revoked it.
    ///
    /// ```no_run
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let revoked = api
    ///     .revoke_organization_invitation("org_123", "orginv_123", Some("user_123"))
    ///     .await?;
    /// assert_eq!(revoked.status, "revoked");
    /// # Ok(()) }
    /// ```
    pub async fn revoke_organization_invitation(
        &self,
        organization_id: &str,
        invitation_id: &str,
        requesting_user_id: Option<&str>,
    ) -> Result<OrganizationInvitation, ApiError> {
        let path = invitation_path(organization_id, invitation_id, "/revoke")?;
        let body = requesting_user_id.map(|user| json!({ "requesting_user_id": user }));
        self.send(Method::POST, &path, &[], body).await
    }
}
