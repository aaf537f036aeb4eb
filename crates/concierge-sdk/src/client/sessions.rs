//! `/v1/sessions…` (wire §8.2): get, list, revoke, and session or JWT-template tokens.

use super::{ApiError, BackendApi};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A session as the Backend API returns it.
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

/// Filters for [`BackendApi::list_sessions`].
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

/// One page of a paginated list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// How many items match in total.
    pub total_count: u64,
}

/// A minted token (`{"object": "token", "jwt": "…"}`).
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
