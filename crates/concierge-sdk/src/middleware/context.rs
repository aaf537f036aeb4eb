//! The per-request context [`ClerkLayer`](super::ClerkLayer) puts in the request extensions
//! (shared with its [`AuthState`](super::AuthState)):
//! the verified [`Auth`], the [`Clerk`] handle, and a request-scoped cache of the signed-in
//! [`User`] so that `current_user()` costs at most one Backend API call per request (like
//! `currentUser()` in `@clerk/nextjs`, which is memoised per request).
//!
//! The cache lives in the request's extensions and dies with the request: a user changed
//! through the Backend API is seen by the next request, never by a later call in this one.

use super::{envelope, state_of, AuthRejection};
use crate::client::{ApiError, User};
use crate::{Auth, Clerk};
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Why the signed-in user could not be fetched. As a handler's error it is logged and
/// answered 500 with a JSON envelope that reveals nothing about the cause.
///
/// ```
/// use axum::response::IntoResponse;
/// use concierge_sdk::client::BackendApi;
/// use concierge_sdk::middleware::{ClerkRequest, CurrentUserError};
/// use http::StatusCode;
///
/// // Tell a user deleted since their token was issued (404) from other failures.
/// async fn profile(request: ClerkRequest) -> Result<String, CurrentUserError> {
///     match request.current_user().await {
///         Ok(Some(user)) => Ok(format!("profile of {}", user.id)),
///         Ok(None) => Ok("signed out".into()),
///         Err(CurrentUserError::Api(error)) if error.status() == Some(StatusCode::NOT_FOUND) => {
///             Ok("this account no longer exists".into())
///         }
///         Err(other) => Err(other),
///     }
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(profile);
///
/// // Backend API errors convert with `?`; every variant becomes a 500.
/// let api_error = BackendApi::new("ftp://api.example.test", "sk_live_…").unwrap_err();
/// let error = CurrentUserError::from(api_error);
/// assert!(matches!(error, CurrentUserError::Api(_)));
/// assert_eq!(error.into_response().status(), StatusCode::INTERNAL_SERVER_ERROR);
/// assert_eq!(
///     CurrentUserError::NoSecretKey.into_response().status(),
///     StatusCode::INTERNAL_SERVER_ERROR,
/// );
/// ```
#[derive(Debug, thiserror::Error)]
pub enum CurrentUserError {
    /// The [`Clerk`] has no secret key, so there is no Backend API client.
    #[error("current_user needs a secret key (Backend API) in the configuration")]
    NoSecretKey,
    /// The Backend API call failed (the user may have been deleted meanwhile: 404).
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl IntoResponse for CurrentUserError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "unable to load the signed-in user");
        envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_clerk_error",
            "Unable to load the user",
            "The signed-in user could not be loaded from the Backend API.",
        )
    }
}

/// The request context: the session (if any) and the signed-in user, fetched lazily once.
/// Cheap to clone; clones of one request share the cache.
///
/// ```no_run
/// use axum::{routing::get, Router};
/// use concierge_sdk::middleware::{ClerkLayer, ClerkRequest, CurrentUserError};
///
/// async fn profile(clerk: ClerkRequest) -> Result<String, CurrentUserError> {
///     // Both calls share one `GET /v1/users/{id}`.
///     let Some(user) = clerk.current_user().await? else {
///         return Ok("signed out".into());
///     };
///     let again = clerk.current_user().await?.map(|u| u.id.clone());
///     assert_eq!(again.as_deref(), Some(user.id.as_str()));
///     Ok(format!("hello {}", user.first_name.clone().unwrap_or_default()))
/// }
///
/// # fn app(clerk: concierge_sdk::Clerk) -> Router {
/// Router::new().route("/profile", get(profile)).layer(ClerkLayer::new(clerk))
/// # }
/// ```
#[derive(Clone)]
pub struct ClerkRequest(Arc<Outcome>);

/// What [`ClerkLayer`](super::ClerkLayer) decided for a request, shared by its
/// [`AuthState`](super::AuthState) and every [`ClerkRequest`] extracted from it.
pub(super) struct Outcome {
    clerk: Clerk,
    pub(super) auth: Option<Auth>,
    pub(super) reason: Option<String>,
    /// The signed-in user, fetched at most once per request.
    user: OnceCell<User>,
}

impl Outcome {
    pub(super) fn new(clerk: Clerk, auth: Option<Auth>, reason: Option<String>) -> Self {
        Self {
            clerk,
            auth,
            reason,
            user: OnceCell::new(),
        }
    }
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("auth", &self.auth)
            .field("reason", &self.reason)
            .field("user_loaded", &self.user.initialized())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ClerkRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClerkRequest")
            .field("auth", &self.0.auth)
            .field("user_loaded", &self.0.user.initialized())
            .finish_non_exhaustive()
    }
}

impl ClerkRequest {
    /// The verified session, when signed in.
    ///
    /// ```
    /// use axum::routing::get;
    /// use concierge_sdk::middleware::ClerkRequest;
    ///
    /// async fn page(request: ClerkRequest) -> String {
    ///     match request.auth() {
    ///         Some(auth) => format!("hello {}", auth.user_id),
    ///         None => "hello, stranger".into(),
    ///     }
    /// }
    /// # let _: axum::routing::MethodRouter = get(page);
    /// ```
    pub fn auth(&self) -> Option<&Auth> {
        self.0.auth.as_ref()
    }

    /// The SDK handle (for the Backend API client, token verification, …).
    ///
    /// ```
    /// use axum::routing::get;
    /// use concierge_sdk::middleware::ClerkRequest;
    ///
    /// async fn page(request: ClerkRequest) -> String {
    ///     request.clerk().publishable_key().frontend_api().to_owned()
    /// }
    /// # let _: axum::routing::MethodRouter = get(page);
    /// ```
    pub fn clerk(&self) -> &Clerk {
        &self.0.clerk
    }

    /// The signed-in user (`GET /v1/users/{sub}`), or `None` when signed out. The first
    /// successful answer is kept for the rest of the request, so calling this from a handler,
    /// an extractor and a template costs one Backend API call; a failed call is not cached
    /// and the next call tries again.
    ///
    /// ```
    /// use axum::{body::Body, routing::get, Router};
    /// use concierge_sdk::middleware::{ClerkLayer, ClerkRequest, CurrentUserError};
    /// use concierge_sdk::Config;
    /// use http::Request;
    /// use tower::ServiceExt;
    ///
    /// # const PEM: &str = "-----BEGIN PUBLIC KEY-----
    /// # MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0bFbgmfYjUr9BKk92Xd4
    /// # FBJk517jnzD0ugBe2fth6eY3TdNDZnUfvRig6FYaPPhPcoH+ozek2lbbYBVweh95
    /// # iNGWrfYCh6wntWKjbK7o5GEBS5xPpv9Y1lZhOt9rs7m49nDL/RA/YiVpqCONDq67
    /// # rBrhugvRZDx/SKx2uWUEHpvHTpbCODAWNAZmBdScY/9Dlmfq4VdoC+W7ow97Dui3
    /// # qHqb64ZqGhrBBk7X4xWDM8YIK92V+EzQQJPl4M2oWoiMJfI58JUGpuGgjiVRGKQh
    /// # nsB4a+yIrEkjlt/5QyNg7mhsriQIPaY+zazoTEM4XphJgPSUzPkgdZb8ecmF2yiw
    /// # VQIDAQAB
    /// # -----END PUBLIC KEY-----";
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// async fn greeting(request: ClerkRequest) -> Result<String, CurrentUserError> {
    ///     Ok(match request.current_user().await? {
    ///         Some(user) => format!("hello {}", user.first_name.as_deref().unwrap_or("there")),
    ///         None => "hello, stranger".to_owned(),
    ///     })
    /// }
    ///
    /// // A PEM key and no secret key: a signed-in request would fail with `NoSecretKey`, but a
    /// // signed-out one is answered without any Backend API call.
    /// let layer = ClerkLayer::from_config(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.jwt_key(PEM))?;
    /// let app = Router::new().route("/", get(greeting)).layer(layer);
    /// let request = Request::get("/").header("host", "app.example.test").body(Body::empty())?;
    /// let response = app.oneshot(request).await?;
    /// assert_eq!(axum::body::to_bytes(response.into_body(), 1024).await?, "hello, stranger");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn current_user(&self) -> Result<Option<&User>, CurrentUserError> {
        let Some(auth) = self.0.auth.as_ref() else {
            return Ok(None);
        };
        let api = self.0.clerk.api().ok_or(CurrentUserError::NoSecretKey)?;
        let user = self
            .0
            .user
            .get_or_try_init(|| async { api.get_user(&auth.user_id).await })
            .await?;
        Ok(Some(user))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClerkRequest {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        state_of(parts).map(|state| Self(state.0.clone()))
    }
}

/// The signed-in user as an extractor: 401 when signed out, 500 when the Backend API fails.
/// Shares the request's cache with [`ClerkRequest::current_user`].
///
/// ```no_run
/// use concierge_sdk::middleware::CurrentUser;
///
/// async fn greet(CurrentUser(user): CurrentUser) -> String {
///     format!("hello {}", user.primary_email_address().unwrap_or("stranger"))
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(greet);
/// ```
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = ClerkRequest::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match context.current_user().await {
            Ok(Some(user)) => Ok(Self(user.clone())),
            Ok(None) => {
                let reason = state_of(parts)
                    .ok()
                    .and_then(|s| s.reason().map(str::to_owned));
                Err(AuthRejection::Unauthenticated(reason).into_response())
            }
            Err(error) => Err(error.into_response()),
        }
    }
}
