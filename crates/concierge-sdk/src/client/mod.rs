//! A typed async client for the Backend API (wire §8): one authenticated transport with Clerk's
//! error envelope as a typed error, and the endpoints the middleware needs (`/v1/jwks`,
//! `/v1/clients/handshake_payload`) next to users, sessions, organizations, memberships,
//! organization invitations, domains, roles and permissions in submodules.
//!
//! Only idempotent GETs are retried, because a write that timed out may have happened.
//!
//! ```no_run
//! use concierge_sdk::client::{ApiError, BackendApi, CreateOrganizationInvitationParams, UserListParams};
//!
//! # async fn run() -> Result<(), ApiError> {
//! let api = BackendApi::new("https://api.clerk.com", "sk_live_…")?;
//!
//! // Find a user by email address, then list the organizations they belong to.
//! let found = api
//!     .list_users(&UserListParams { email_address: vec!["ada@example.com".into()], ..Default::default() })
//!     .await?;
//! let Some(ada) = found.first() else {
//!     return Ok(());
//! };
//! let memberships = api.list_user_organization_memberships(&ada.id, Default::default()).await?;
//! for membership in &memberships.data {
//!     println!("{} is {} of {}", ada.id, membership.role, membership.organization.name);
//! }
//!
//! // Invite a colleague to the first one; Clerk's error codes come back typed.
//! if let Some(first) = memberships.data.first() {
//!     let invite = CreateOrganizationInvitationParams::new("grace@example.com", "org:member");
//!     match api.create_organization_invitation(&first.organization.id, &invite).await {
//!         Ok(invitation) => println!("invited: {}", invitation.id),
//!         Err(error) if error.code() == Some("duplicate_record") => println!("already invited"),
//!         Err(error) => return Err(error),
//!     }
//! }
//! # Ok(()) }
//! ```

use crate::jwks::JwkSet;
use crate::SecretKey;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

mod domains;
mod invitations;
mod memberships;
mod organizations;
mod roles;
mod sessions;
mod users;

pub use domains::{
    CreateOrganizationDomainParams, OrganizationDomain, UpdateOrganizationDomainParams,
};
pub use invitations::{
    CreateOrganizationInvitationParams, OrganizationInvitation, OrganizationInvitationListParams,
};
pub use memberships::{OrganizationMembership, OrganizationMembershipListParams, PublicUserData};
pub use organizations::{
    CreateOrganizationParams, MetadataParams, Organization, OrganizationListParams,
    UpdateOrganizationParams,
};
pub use roles::{Permission, PermissionParams, Role, RoleParams};
pub use sessions::{Page, Session, SessionListParams, SessionToken};
pub use users::{
    CreateUserParams, DeletedObject, EmailAddress, UpdateUserParams, User, UserListParams,
};

/// The Backend API version this SDK speaks (the `Clerk-API-Version` header, wire §8.1).
///
/// ```
/// assert_eq!(concierge_sdk::client::SUPPORTED_BAPI_VERSION, "2026-05-12");
/// ```
pub const SUPPORTED_BAPI_VERSION: &str = "2026-05-12";

/// Clerk's hosted Backend API, the default `api_url`.
///
/// ```
/// assert_eq!(concierge_sdk::client::DEFAULT_API_URL, "https://api.clerk.com");
/// ```
pub const DEFAULT_API_URL: &str = "https://api.clerk.com";

/// One entry of Clerk's error envelope (`errors[]`, wire §7).
///
/// ```
/// use concierge_sdk::client::ClerkErrorDetail;
///
/// // The first entry of `{"errors": [...], "clerk_trace_id": "…"}` from a 422.
/// let detail: ClerkErrorDetail = serde_json::from_str(r#"{
///     "code": "form_identifier_exists",
///     "message": "is already in use",
///     "long_message": "Another account already uses this email address.",
///     "meta": {"param_name": "email_address"}
/// }"#)?;
/// assert_eq!(detail.code, "form_identifier_exists");
/// assert_eq!(detail.meta.param_name.as_deref(), Some("email_address"));
///
/// // Only `code` is required.
/// let bare: ClerkErrorDetail = serde_json::from_str(r#"{"code": "resource_not_found"}"#)?;
/// assert_eq!((bare.message.as_str(), bare.long_message), ("", None));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClerkErrorDetail {
    /// Stable machine-readable code (`resource_not_found`, `form_param_missing`, …).
    pub code: String,
    /// Short message.
    #[serde(default)]
    pub message: String,
    /// Longer, user-presentable message.
    #[serde(default)]
    pub long_message: Option<String>,
    /// Extra data, such as the offending parameter.
    #[serde(default)]
    pub meta: ErrorMeta,
}

/// The `meta` object of an error entry.
///
/// ```
/// use concierge_sdk::client::ErrorMeta;
///
/// let meta: ErrorMeta = serde_json::from_str(
///     r#"{"param_name": "role", "allowed_values": ["org:admin", "org:member"]}"#,
/// )?;
/// assert_eq!(meta.param_name.as_deref(), Some("role"));
/// assert_eq!(meta.other["allowed_values"][1], "org:member");
/// assert_eq!(serde_json::to_string(&ErrorMeta::default())?, "{}");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorMeta {
    /// The form or query parameter the error is about (`email_address`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param_name: Option<String>,
    /// Every other `meta` key, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Vec<ClerkErrorDetail>,
    #[serde(default)]
    clerk_trace_id: Option<String>,
}

/// A failed Backend API call. [`ApiError::code`] is Clerk's error code.
///
/// ```no_run
/// # async fn run(api: concierge_sdk::client::BackendApi) {
/// use concierge_sdk::client::ApiError;
///
/// match api.get_organization("acme", false).await {
///     Ok(org) => println!("{}", org.id),
///     Err(error) if error.code() == Some("resource_not_found") => println!("no such organization"),
///     Err(ApiError::Network(error)) => println!("retry later: {error}"),
///     Err(other) => println!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error status; `errors` is its envelope.
    #[error("Backend API answered {status}{}", first_code(errors))]
    Response {
        /// HTTP status.
        status: StatusCode,
        /// The envelope's `errors` (empty if the body was not an envelope).
        errors: Vec<ClerkErrorDetail>,
        /// `clerk_trace_id` from the body, or the `cf-ray` header.
        clerk_trace_id: Option<String>,
        /// `Retry-After` in seconds, on 429.
        retry_after: Option<u64>,
    },
    /// The request never got an answer (connection refused, timeout, TLS, …).
    #[error("Backend API unreachable: {0}")]
    Network(#[source] reqwest::Error),
    /// The answer was a success but its body did not have the expected shape.
    #[error("unexpected Backend API answer: {0}")]
    Decode(String),
    /// The client was configured with an unusable URL.
    #[error("invalid Backend API URL: {0}")]
    InvalidUrl(String),
}

fn first_code(errors: &[ClerkErrorDetail]) -> String {
    errors
        .first()
        .map(|e| format!(" ({}: {})", e.code, e.message))
        .unwrap_or_default()
}

impl ApiError {
    /// The HTTP status, when the server answered.
    ///
    /// ```
    /// use concierge_sdk::client::BackendApi;
    ///
    /// // Only an answer from the server has a status; a local error has none.
    /// let error = BackendApi::new("ftp://api.example.test", "sk_live_…").unwrap_err();
    /// assert_eq!(error.status(), None);
    /// # async fn run(api: BackendApi) {
    /// match api.get_user("user_missing").await {
    ///     Err(error) if error.status() == Some(http::StatusCode::NOT_FOUND) => println!("no such user"),
    ///     other => println!("{other:?}"),
    /// }
    /// # }
    /// ```
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Response { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The first error code of the envelope (`resource_not_found`), when there is one.
    ///
    /// ```
    /// use concierge_sdk::client::BackendApi;
    ///
    /// let error = BackendApi::new("not a url", "sk_live_…").unwrap_err();
    /// assert_eq!(error.code(), None);
    /// # async fn run(api: BackendApi) {
    /// if let Err(error) = api.get_user("user_missing").await {
    ///     assert_eq!(error.code(), Some("resource_not_found"));
    /// }
    /// # }
    /// ```
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Response { errors, .. } => errors.first().map(|e| e.code.as_str()),
            _ => None,
        }
    }

    fn is_retryable(&self) -> bool {
        match self {
            Self::Response { status, .. } => status.is_server_error(),
            Self::Network(_) => true,
            _ => false,
        }
    }
}

/// What `GET /v1/clients/handshake_payload` returns: the `Set-Cookie` directives that FAPI
/// stored under a handshake nonce (wire §5.2).
///
/// ```
/// use concierge_sdk::client::HandshakePayload;
///
/// let payload: HandshakePayload = serde_json::from_str(r#"{
///     "directives": [
///         "__session=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2ln; Path=/; SameSite=Lax",
///         "__client_uat=1760000000; Path=/; Max-Age=315360000; SameSite=Lax"
///     ]
/// }"#)?;
/// // Each directive becomes one `Set-Cookie` header of the response.
/// let mut headers = http::HeaderMap::new();
/// for directive in &payload.directives {
///     headers.append(http::header::SET_COOKIE, directive.parse()?);
/// }
/// assert_eq!(headers.get_all("set-cookie").iter().count(), 2);
/// let empty: HandshakePayload = serde_json::from_str("{}")?;
/// assert!(empty.directives.is_empty(), "nothing to set");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakePayload {
    /// Full `Set-Cookie` header values for the application's host.
    #[serde(default)]
    pub directives: Vec<String>,
}

struct Inner {
    http: reqwest::Client,
    base: url::Url,
    secret_key: SecretKey,
    retries: u32,
    backoff: Duration,
}

/// A Backend API client authenticated with an instance's secret key.
///
/// ```no_run
/// # async fn run() -> Result<(), concierge_sdk::client::ApiError> {
/// use concierge_sdk::client::{BackendApi, UserListParams};
///
/// let api = BackendApi::new("http://127.0.0.1:4001", "sk_live_…")?;
/// let user = api.get_user("user_123").await?;
/// let found = api
///     .list_users(&UserListParams {
///         email_address: vec!["ada@example.com".into()],
///         ..Default::default()
///     })
///     .await?;
/// match api.get_user("user_missing").await {
///     Err(error) if error.code() == Some("resource_not_found") => println!("no such user"),
///     other => println!("{other:?}"),
/// }
/// println!("{} {}", user.id, found.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BackendApi {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for BackendApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendApi")
            .field("base", &self.inner.base.as_str())
            .field("secret_key", &self.inner.secret_key)
            .finish()
    }
}

impl BackendApi {
    /// A client for the Backend API at `api_url` (`https://api.clerk.com` for Clerk, the BAPI
    /// listener for Concierge). Requests go to `<api_url>/v1/…`.
    ///
    /// ```
    /// use concierge_sdk::client::BackendApi;
    ///
    /// let api = BackendApi::new("http://127.0.0.1:4001", "sk_test_…")?;
    /// # let _ = api;
    /// assert!(BackendApi::new("ftp://127.0.0.1", "sk_test_…").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(api_url: &str, secret_key: impl Into<SecretKey>) -> Result<Self, ApiError> {
        Self::with_options(
            api_url,
            secret_key.into(),
            reqwest::Client::new(),
            2,
            Duration::from_millis(250),
        )
    }

    /// A client with an explicit HTTP client (proxies, timeouts, custom roots) and retry
    /// policy: `retries` extra attempts for idempotent GETs that failed on the network or with
    /// a 5xx, waiting `backoff`, then twice that, and so on.
    ///
    /// ```
    /// use concierge_sdk::client::BackendApi;
    /// use std::time::Duration;
    ///
    /// let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
    /// let api = BackendApi::with_options(
    ///     "https://api.clerk.com",
    ///     "sk_live_…".to_owned().into(),
    ///     http,
    ///     3,
    ///     Duration::from_millis(100),
    /// )?;
    /// # let _ = api;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_options(
        api_url: &str,
        secret_key: SecretKey,
        http: reqwest::Client,
        retries: u32,
        backoff: Duration,
    ) -> Result<Self, ApiError> {
        let mut base = url::Url::parse(api_url.trim_end_matches('/'))
            .map_err(|e| ApiError::InvalidUrl(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(ApiError::InvalidUrl(format!(
                "{api_url} is not an http(s) URL"
            )));
        }
        // `join` must append to the path, never replace its last segment.
        let path = format!("{}/v1/", base.path().trim_end_matches('/'));
        base.set_path(&path);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                secret_key,
                retries,
                backoff,
            }),
        })
    }

    /// `GET /v1/jwks`: the instance's public signing keys.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let jwks = api.jwks().await?;
    /// let keys = concierge_sdk::jwks::keys_from_jwks(&jwks);
    /// println!("{} signing keys", keys.len());
    /// # Ok(()) }
    /// ```
    pub async fn jwks(&self) -> Result<JwkSet, ApiError> {
        self.get("jwks", &[]).await
    }

    /// `GET /v1/clients/handshake_payload?nonce=…`: redeems a handshake nonce (single use).
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi, nonce: &str) -> Result<(), concierge_sdk::client::ApiError> {
    /// let payload = api.handshake_payload(nonce).await?;
    /// println!("{payload:?}");
    /// # Ok(()) }
    /// ```
    pub async fn handshake_payload(&self, nonce: &str) -> Result<HandshakePayload, ApiError> {
        self.get("clients/handshake_payload", &[("nonce", nonce.to_owned())])
            .await
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        self.send(Method::GET, path, query, None).await
    }

    /// Sends one request, retrying GETs on network errors and 5xx answers.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<T, ApiError> {
        let mut url = self
            .inner
            .base
            .join(path)
            .map_err(|e| ApiError::InvalidUrl(e.to_string()))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        let attempts = if method == Method::GET {
            self.inner.retries + 1
        } else {
            1
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.send_once(&method, &url, body.as_ref()).await {
                Err(error) if attempt < attempts && error.is_retryable() => {
                    let wait = self.inner.backoff * 2u32.saturating_pow(attempt - 1);
                    tracing::debug!(attempt, error = %error, "Backend API GET failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        method: &Method,
        url: &url::Url,
        body: Option<&Value>,
    ) -> Result<T, ApiError> {
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(self.inner.secret_key.expose())
            .header("Clerk-API-Version", SUPPORTED_BAPI_VERSION)
            .header(
                "User-Agent",
                concat!("concierge-sdk/", env!("CARGO_PKG_VERSION")),
            )
            // The official SDK always sends it, even on GET (wire §8.1).
            .header("Content-Type", "application/json");
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.map_err(ApiError::Network)?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(ApiError::Network)?;
        if status.is_success() {
            let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(bytes).map_err(|e| ApiError::Decode(e.to_string()));
        }
        let envelope: Option<Envelope> = serde_json::from_slice(&bytes).ok();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (errors, trace) = match envelope {
            Some(envelope) => (envelope.errors, envelope.clerk_trace_id),
            None => (Vec::new(), None),
        };
        Err(ApiError::Response {
            status,
            errors,
            clerk_trace_id: trace.or_else(|| header("cf-ray")),
            retry_after: header("retry-after").and_then(|v| v.trim().parse().ok()),
        })
    }
}

/// Limit and offset of a paginated list; `None` (or 0) leaves the server's default.
///
/// ```
/// use concierge_sdk::client::PageParams;
///
/// let second_page = PageParams { limit: Some(20), offset: Some(20) };
/// assert_eq!(PageParams::default().limit, None);
/// # let _ = second_page;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageParams {
    /// Page size.
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

impl PageParams {
    /// Appends `limit`/`offset`, dropping zeros like the official SDK (wire §8.1).
    pub(crate) fn push(&self, query: &mut Vec<(&'static str, String)>) {
        for (name, value) in [("limit", self.limit), ("offset", self.offset)] {
            if let Some(value) = value.filter(|v| *v > 0) {
                query.push((name, value.to_string()));
            }
        }
    }
}

/// Serialises request parameters into a JSON body.
pub(crate) fn json_body<T: Serialize>(params: &T) -> Result<Value, ApiError> {
    serde_json::to_value(params).map_err(|e| ApiError::Decode(e.to_string()))
}

/// Appends an optional string parameter when it is non-empty.
pub(crate) fn push_opt(
    query: &mut Vec<(&'static str, String)>,
    name: &'static str,
    value: Option<&str>,
) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        query.push((name, value.to_owned()));
    }
}

/// Appends repeated query parameters as the official SDK does (wire §8.1: an array becomes
/// repeated keys, empty values are dropped).
pub(crate) fn push_all(
    query: &mut Vec<(&'static str, String)>,
    name: &'static str,
    values: &[String],
) {
    for value in values.iter().filter(|v| !v.is_empty()) {
        query.push((name, value.clone()));
    }
}

/// An id used as one path segment: refused if it could change the path (`/`, `?`, `#`, `%`,
/// `..`), so that an id taken from user input cannot reach another endpoint.
pub(crate) fn segment(id: &str) -> Result<&str, ApiError> {
    let unsafe_char = |c: char| matches!(c, '/' | '?' | '#' | '%' | '\\') || c.is_whitespace();
    if id.is_empty() || id == "." || id == ".." || id.chars().any(unsafe_char) {
        return Err(ApiError::InvalidUrl(format!("{id:?} is not a valid id")));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_keeps_a_path_prefix() {
        let api = BackendApi::new("http://127.0.0.1:4001/bapi/", "sk_test_x").unwrap();
        assert_eq!(
            api.inner.base.join("users/u_1").unwrap().as_str(),
            "http://127.0.0.1:4001/bapi/v1/users/u_1"
        );
        let api = BackendApi::new("https://api.clerk.com", "sk_test_x").unwrap();
        assert_eq!(
            api.inner.base.join("jwks").unwrap().as_str(),
            "https://api.clerk.com/v1/jwks"
        );
        assert!(BackendApi::new("ftp://x", "sk").is_err());
        assert!(BackendApi::new("not a url", "sk").is_err());
    }

    #[test]
    fn debug_output_hides_the_secret_key() {
        let api = BackendApi::new("http://127.0.0.1:1", "sk_live_supersecret").unwrap();
        let printed = format!("{api:?}");
        assert!(!printed.contains("supersecret"), "{printed}");
    }

    #[test]
    fn error_envelope_parses_with_meta() {
        let body = r#"{"errors":[{"code":"form_param_missing","message":"is missing","long_message":"Enter email","meta":{"param_name":"email_address","x":1}}],"meta":{},"clerk_trace_id":"t1"}"#;
        let envelope: Envelope = serde_json::from_str(body).unwrap();
        assert_eq!(envelope.clerk_trace_id.as_deref(), Some("t1"));
        let error = &envelope.errors[0];
        assert_eq!(error.meta.param_name.as_deref(), Some("email_address"));
        assert_eq!(error.meta.other["x"], 1);
        assert_eq!(error.long_message.as_deref(), Some("Enter email"));
    }

    #[test]
    fn ids_cannot_escape_their_path_segment() {
        assert_eq!(segment("user_123").unwrap(), "user_123");
        for bad in ["", ".", "..", "a/b", "a?b", "a#b", "%2e%2e", "a b"] {
            assert!(segment(bad).is_err(), "{bad:?}");
        }
    }

    /// A server answering `/v1/flaky` with 503 until `failures` are used up, counting calls.
    async fn flaky(failures: usize) -> (BackendApi, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let handler = move || {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if n < failures {
                    let body = r#"{"errors":[{"code":"unexpected_error","message":"down"}],"clerk_trace_id":"t"}"#;
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [("retry-after", "3")],
                        body,
                    )
                } else {
                    (
                        StatusCode::OK,
                        [("retry-after", "0")],
                        r#"{"directives":["a=b"]}"#,
                    )
                }
            }
        };
        let app = axum::Router::new().route(
            "/v1/flaky",
            axum::routing::get(handler.clone()).post(handler),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let api = BackendApi::with_options(
            &url,
            "sk_test_x".into(),
            reqwest::Client::new(),
            2,
            Duration::from_millis(1),
        )
        .unwrap();
        (api, calls)
    }

    #[tokio::test]
    async fn gets_are_retried_twice_on_5xx_and_writes_never() {
        use std::sync::atomic::Ordering;
        let (api, calls) = flaky(2).await;
        let payload: HandshakePayload = api.get("flaky", &[]).await.unwrap();
        assert_eq!(payload.directives, ["a=b"]);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let (api, calls) = flaky(3).await;
        let error = api.get::<HandshakePayload>("flaky", &[]).await.unwrap_err();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "two retries, then the error"
        );
        assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(error.code(), Some("unexpected_error"));
        let ApiError::Response {
            clerk_trace_id,
            retry_after,
            ..
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_eq!(clerk_trace_id.as_deref(), Some("t"));
        assert_eq!(*retry_after, Some(3));

        let (api, calls) = flaky(1).await;
        let error = api
            .send::<HandshakePayload>(Method::POST, "flaky", &[], None)
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a POST is not retried");

        // Network errors are retried too, then reported as such.
        let api = BackendApi::with_options(
            "http://127.0.0.1:1",
            "sk_test_x".into(),
            reqwest::Client::new(),
            2,
            Duration::from_millis(1),
        )
        .unwrap();
        let error = api.jwks().await.unwrap_err();
        assert!(matches!(error, ApiError::Network(_)), "{error:?}");
        assert_eq!(error.status(), None);
    }
}
