//! `/v1/sessions…` (wire §8.2): get, list, revoke, and session or JWT-template tokens.

use super::{ApiError, BackendApi};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A session as the Backend API returns it.
///
/// ```
/// use concierge_sdk::client::Session;
///
/// let session: Session = serde_json::from_str(r#"{
///     "object": "session",
///     "id": "sess_2mQ7bXJcR4PnW1zK8uYfTdE3aLs",
///     "client_id": "client_2mQ7aVh0Gk5NcZrJ2sLpQwE9tYb",
///     "user_id": "user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe",
///     "status": "active",
///     "last_active_organization_id": "org_2mQ70pLk3VbN8sXcR5tJwZ1eHfA",
///     "actor": null,
///     "last_active_at": 1760000000000,
///     "expire_at": 1760604800000,
///     "abandon_at": 1762592000000,
///     "created_at": 1759990000000,
///     "updated_at": 1760000000000
/// }"#)?;
/// assert_eq!(session.status, "active");
/// assert_eq!(session.last_active_organization_id.as_deref(), Some("org_2mQ70pLk3VbN8sXcR5tJwZ1eHfA"));
/// assert!(session.actor.is_none(), "not an impersonation");
/// assert_eq!(session.expire_at - session.last_active_at, 7 * 24 * 3600 * 1000);
/// assert_eq!(session.other["object"], "session", "unmodelled fields are kept");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// `sess_…`.
    pub id: String,
    /// The client (device) it belongs to.
    #[serde(default)]
    pub client_id: String,
    /// The signed-in user.
    pub user_id: String,
    /// `active`, `ended`, `expired`, `removed`, `abandoned`, `revoked`, `pending`.
    pub status: String,
    /// The active organization, if any.
    #[serde(default)]
    pub last_active_organization_id: Option<String>,
    /// The impersonator, if any.
    #[serde(default)]
    pub actor: Option<Value>,
    /// Last activity, Unix ms.
    #[serde(default)]
    pub last_active_at: i64,
    /// When the session expires, Unix ms.
    #[serde(default)]
    pub expire_at: i64,
    /// When an idle session is abandoned, Unix ms.
    #[serde(default)]
    pub abandon_at: i64,
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

/// Filters for [`BackendApi::list_sessions`]; `None`, empty strings and zeros are not sent.
///
/// ```
/// use concierge_sdk::client::{BackendApi, SessionListParams};
///
/// // The active sessions of one user, 20 at a time.
/// let params = SessionListParams {
///     user_id: Some("user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe".into()),
///     status: Some("active".into()),
///     limit: Some(20),
///     ..Default::default()
/// };
/// assert_eq!(params.client_id, None);
///
/// # async fn run(api: BackendApi, params: SessionListParams) -> Result<(), concierge_sdk::client::ApiError> {
/// // Sign the user out everywhere. Revoked sessions leave the `active` filter, so the first
/// // page is asked for again until it comes back empty.
/// loop {
///     let page = api.list_sessions(&params).await?;
///     if page.data.is_empty() {
///         break;
///     }
///     for session in &page.data {
///         api.revoke_session(&session.id).await?;
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionListParams {
    /// Sessions of this user.
    pub user_id: Option<String>,
    /// Sessions of this client.
    pub client_id: Option<String>,
    /// Sessions in this status (`active`, …).
    pub status: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

/// One page of a paginated list: `{"data": [...], "total_count": n}`.
///
/// ```
/// use concierge_sdk::client::{Organization, Page};
///
/// let page: Page<Organization> = serde_json::from_str(r#"{
///     "data": [
///         {"object": "organization", "id": "org_2mQ70pLk3VbN8sXcR5tJwZ1eHfA", "name": "Acme", "slug": "acme"},
///         {"object": "organization", "id": "org_2mQ71aBc4WdE9tYfS6uKxZ2gJhB", "name": "Globex", "slug": "globex"}
///     ],
///     "total_count": 12
/// }"#)?;
/// let slugs: Vec<_> = page.data.iter().filter_map(|o| o.slug.as_deref()).collect();
/// assert_eq!(slugs, ["acme", "globex"]);
/// // `total_count` counts every match, not just this page: there are more pages to fetch.
/// assert!(page.total_count > page.data.len() as u64);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// How many items match in total.
    pub total_count: u64,
}

/// A minted token (`{"object": "token", "jwt": "…"}`).
///
/// ```
/// use concierge_sdk::client::SessionToken;
///
/// let token: SessionToken = serde_json::from_str(
///     r#"{"object": "token", "jwt": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2ln"}"#,
/// )?;
/// // Send it as `Authorization: Bearer …`; its claims are readable without verifying it.
/// let decoded = concierge_sdk::jwt::decode(&token.jwt)?;
/// assert_eq!(decoded.claims()["sub"], "user_1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionToken {
    /// The JWT.
    pub jwt: String,
}

fn session_path(id: &str, rest: &str) -> Result<String, ApiError> {
    super::segment(id).map(|id| format!("sessions/{id}{rest}"))
}

impl BackendApi {
    /// `GET /v1/sessions/{id}`.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let session = api.get_session("sess_123").await?;
    /// println!("{} {}", session.user_id, session.status);
    /// # Ok(()) }
    /// ```
    pub async fn get_session(&self, session_id: &str) -> Result<Session, ApiError> {
        self.get(&session_path(session_id, "")?, &[]).await
    }

    /// `GET /v1/sessions?paginated=true`.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::SessionListParams;
    ///
    /// let page = api
    ///     .list_sessions(&SessionListParams { user_id: Some("user_123".into()), status: Some("active".into()), ..Default::default() })
    ///     .await?;
    /// println!("{} active sessions", page.total_count);
    /// # Ok(()) }
    /// ```
    pub async fn list_sessions(
        &self,
        params: &SessionListParams,
    ) -> Result<Page<Session>, ApiError> {
        let mut query = vec![("paginated", "true".to_owned())];
        let strings = [
            ("user_id", &params.user_id),
            ("client_id", &params.client_id),
            ("status", &params.status),
        ];
        for (name, value) in strings {
            if let Some(value) = value.clone().filter(|v| !v.is_empty()) {
                query.push((name, value));
            }
        }
        for (name, value) in [("limit", params.limit), ("offset", params.offset)] {
            if let Some(value) = value.filter(|v| *v > 0) {
                query.push((name, value.to_string()));
            }
        }
        self.get("sessions", &query).await
    }

    /// `POST /v1/sessions/{id}/revoke`.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let session = api.revoke_session("sess_123").await?;
    /// assert_eq!(session.status, "revoked");
    /// # Ok(()) }
    /// ```
    pub async fn revoke_session(&self, session_id: &str) -> Result<Session, ApiError> {
        self.send(
            Method::POST,
            &session_path(session_id, "/revoke")?,
            &[],
            None,
        )
        .await
    }

    /// `POST /v1/sessions/{id}/tokens`: a fresh session token (what `getToken()` returns).
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let token = api.create_session_token("sess_123").await?;
    /// println!("Bearer {}", token.jwt);
    /// # Ok(()) }
    /// ```
    pub async fn create_session_token(&self, session_id: &str) -> Result<SessionToken, ApiError> {
        self.send(
            Method::POST,
            &session_path(session_id, "/tokens")?,
            &[],
            None,
        )
        .await
    }

    /// `POST /v1/sessions/{id}/tokens/{template}`: a JWT-template token, optionally with a
    /// custom lifetime.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let token = api.create_template_token("sess_123", "supabase", Some(300)).await?;
    /// println!("{}", token.jwt);
    /// # Ok(()) }
    /// ```
    pub async fn create_template_token(
        &self,
        session_id: &str,
        template: &str,
        expires_in_seconds: Option<u64>,
    ) -> Result<SessionToken, ApiError> {
        let path = session_path(
            session_id,
            &format!("/tokens/{}", super::segment(template)?),
        )?;
        let body = expires_in_seconds.map(|s| serde_json::json!({ "expires_in_seconds": s }));
        self.send(Method::POST, &path, &[], body).await
    }
}
