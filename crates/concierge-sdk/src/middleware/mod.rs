//! axum/tower integration (feature `axum`): [`ClerkLayer`] runs [`Clerk::authenticate`] for
//! every request, answers handshakes with a redirect, adds the handshake's `Set-Cookie`
//! directives to the response and stores the outcome in the request extensions; the [`Auth`]
//! and [`MaybeAuth`] extractors read it; [`RequireAuth`] guards routes.
//!
//! [`ClerkRequest`] (the request context) and the [`CurrentUser`] extractor fetch the signed-in
//! user through the Backend API at most once per request, however often they are used.
//!
//! Rejections are Clerk-style JSON envelopes with `Content-Type: application/json`: 401
//! `authentication_invalid` when signed out, 403 `authorization_invalid` when signed in
//! without the required role or permission.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use concierge_sdk::middleware::{require_role, ClerkLayer, MaybeAuth};
//! use concierge_sdk::{Auth, Clerk, Config};
//!
//! # fn app() -> Result<Router, Box<dyn std::error::Error>> {
//! let clerk = Clerk::new(
//!     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"),
//! )?;
//! let app = Router::new()
//!     .route("/", get(|MaybeAuth(auth): MaybeAuth| async move {
//!         auth.map_or("hello, stranger".to_owned(), |a| format!("hello, {}", a.user_id))
//!     }))
//!     .route("/me", get(|auth: Auth| async move { auth.user_id }))
//!     .route("/admin", get(|| async { "admins only" }).route_layer(require_role("org:admin")))
//!     .layer(ClerkLayer::new(clerk));
//! # Ok(app) }
//! ```

mod context;

pub use context::{ClerkRequest, CurrentUser, CurrentUserError};

use crate::{Auth, AuthStatus, Check, Clerk, RequestState};
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{header, HeaderValue, Request, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The outcome [`ClerkLayer`] stores in the request extensions.
#[derive(Debug, Clone)]
pub struct AuthState {
    auth: Option<Arc<Auth>>,
    reason: Option<String>,
}

impl AuthState {
    fn from_state(state: &RequestState) -> Self {
        Self {
            auth: state.auth().cloned().map(Arc::new),
            reason: state.reason().map(str::to_owned),
        }
    }

    /// The session, when signed in.
    ///
    /// ```
    /// use axum::Extension;
    /// use concierge_sdk::middleware::AuthState;
    ///
    /// // A handler behind `ClerkLayer` reads the outcome from the request extensions.
    /// async fn whoami(Extension(state): Extension<AuthState>) -> String {
    ///     state.auth().map_or("anonymous".into(), |auth| auth.user_id.clone())
    /// }
    /// ```
    pub fn auth(&self) -> Option<&Auth> {
        self.auth.as_deref()
    }

    /// Why the request is signed out.
    ///
    /// ```
    /// use axum::Extension;
    /// use concierge_sdk::middleware::AuthState;
    ///
    /// async fn why(Extension(state): Extension<AuthState>) -> String {
    ///     state.reason().unwrap_or("signed in").to_owned()
    /// }
    /// ```
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
}

/// Authenticates every request with a [`Clerk`].
///
/// ```
/// use axum::{routing::get, Router};
/// use concierge_sdk::middleware::ClerkLayer;
/// use concierge_sdk::Config;
///
/// let layer = ClerkLayer::from_config(
///     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"),
/// )?;
/// let app: Router = Router::new().route("/", get(|| async { "hi" })).layer(layer);
/// # let _ = app;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClerkLayer {
    clerk: Clerk,
}

impl ClerkLayer {
    /// A layer for a configured SDK.
    ///
    /// ```
    /// use concierge_sdk::middleware::ClerkLayer;
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// let layer = ClerkLayer::new(clerk.clone()); // the `Clerk` stays usable elsewhere
    /// # let _ = layer;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(clerk: Clerk) -> Self {
        Self { clerk }
    }

    /// A layer straight from a configuration.
    pub fn from_config(config: crate::Config) -> Result<Self, crate::ConfigError> {
        Ok(Self::new(Clerk::new(config)?))
    }
}

impl<S> Layer<S> for ClerkLayer {
    type Service = ClerkService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClerkService {
            clerk: self.clerk.clone(),
            inner,
        }
    }
}

/// The service [`ClerkLayer`] wraps around an application.
#[derive(Clone, Debug)]
pub struct ClerkService<S> {
    clerk: Clerk,
    inner: S,
}

fn redirect(state: RequestState) -> Response {
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    let headers = response.headers_mut();
    for (name, value) in &state.headers {
        headers.append(name, value.clone());
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl<S, B> Service<Request<B>> for ClerkService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let clerk = self.clerk.clone();
        // The clone that was polled ready serves this request (tower's usual pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            // Only the head is borrowed across the await, so the body need not be `Sync`.
            let (mut parts, body) = request.into_parts();
            let state = clerk
                .authenticate(&parts.method, &parts.uri, &parts.headers)
                .await;
            // A handshake (wire §5.1), or a development handshake result that strips its
            // parameters from the URL (§5.3): answer 307 without running the handler.
            if matches!(state.status, AuthStatus::Handshake { .. }) || state.location().is_some() {
                return Ok(redirect(state));
            }
            let auth_state = AuthState::from_state(&state);
            parts
                .extensions
                .insert(ClerkRequest::new(clerk.clone(), auth_state.auth.clone()));
            parts.extensions.insert(auth_state);
            let mut response = inner.call(Request::from_parts(parts, body)).await?;
            let headers = response.headers_mut();
            for (name, value) in &state.headers {
                headers.append(name, value.clone());
            }
            Ok(response)
        })
    }
}

/// Why an extractor or a guard refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRejection {
    /// Signed out (401); the reason is the `x-clerk-auth-reason`.
    Unauthenticated(Option<String>),
    /// Signed in, but not allowed (403).
    Forbidden,
    /// [`ClerkLayer`] is not installed in front of this route (500).
    MissingLayer,
}

fn envelope(status: StatusCode, code: &str, message: &str, long_message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "code": code, "message": message, "long_message": long_message, "meta": {} }],
    });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthenticated(_) => envelope(
                StatusCode::UNAUTHORIZED,
                "authentication_invalid",
                "Unauthenticated",
                "You are signed out. Sign in to access this resource.",
            ),
            Self::Forbidden => envelope(
                StatusCode::FORBIDDEN,
                "authorization_invalid",
                "Unauthorized request",
                "You are not authorized to perform this request.",
            ),
            Self::MissingLayer => envelope(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_clerk_error",
                "Authentication is not configured",
                "ClerkLayer must wrap the routes that read the session.",
            ),
        }
    }
}

fn state_of(parts: &Parts) -> Result<&AuthState, AuthRejection> {
    parts
        .extensions
        .get::<AuthState>()
        .ok_or(AuthRejection::MissingLayer)
}

/// Requires a signed-in session; rejects with 401 otherwise.
impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let state = state_of(parts)?;
        state
            .auth()
            .cloned()
            .ok_or_else(|| AuthRejection::Unauthenticated(state.reason.clone()))
    }
}

/// The session if there is one; never rejects a signed-out request.
///
/// ```
/// use concierge_sdk::middleware::MaybeAuth;
///
/// async fn greet(MaybeAuth(auth): MaybeAuth) -> String {
///     match auth {
///         Some(auth) => format!("hello {}", auth.user_id),
///         None => "hello stranger".into(),
///     }
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(greet);
/// ```
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<Auth>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuth {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(state_of(parts)?.auth().cloned()))
    }
}

type Predicate = Arc<dyn Fn(&Auth) -> bool + Send + Sync>;

/// A guard layer: 401 when signed out, 403 when signed in but the predicate refuses.
///
/// ```no_run
/// use axum::{routing::get, Router};
/// use concierge_sdk::middleware::RequireAuth;
/// use concierge_sdk::Check;
///
/// let reports: Router = Router::new()
///     .route("/reports", get(|| async { "…" }))
///     .route_layer(RequireAuth::check(|auth| {
///         auth.has_all(&[Check::Role("org:admin"), Check::Permission("org:reports:export")])
///     }));
/// ```
#[derive(Clone)]
pub struct RequireAuth {
    predicate: Option<Predicate>,
}

impl std::fmt::Debug for RequireAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireAuth")
            .field("predicate", &self.predicate.is_some())
            .finish()
    }
}

impl Default for RequireAuth {
    fn default() -> Self {
        Self::new()
    }
}

impl RequireAuth {
    /// Any signed-in session.
    ///
    /// ```
    /// use axum::{routing::get, Router};
    /// use concierge_sdk::middleware::RequireAuth;
    ///
    /// let app: Router = Router::new()
    ///     .route("/dashboard", get(|| async { "dashboard" }))
    ///     .route_layer(RequireAuth::new()); // 401 when signed out
    /// # let _ = app;
    /// ```
    pub fn new() -> Self {
        Self { predicate: None }
    }

    /// A signed-in session for which `predicate` holds.
    ///
    /// ```
    /// use axum::{routing::get, Router};
    /// use concierge_sdk::middleware::RequireAuth;
    ///
    /// let app: Router = Router::new()
    ///     .route("/support", get(|| async { "impersonation tools" }))
    ///     .route_layer(RequireAuth::check(|auth| auth.actor.is_none())); // 403 while impersonating
    /// # let _ = app;
    /// ```
    pub fn check(predicate: impl Fn(&Auth) -> bool + Send + Sync + 'static) -> Self {
        Self {
            predicate: Some(Arc::new(predicate)),
        }
    }

    fn decide(&self, parts_state: Option<&AuthState>) -> Result<(), AuthRejection> {
        let state = parts_state.ok_or(AuthRejection::MissingLayer)?;
        let auth = state
            .auth()
            .ok_or_else(|| AuthRejection::Unauthenticated(state.reason.clone()))?;
        match &self.predicate {
            Some(predicate) if !predicate(auth) => Err(AuthRejection::Forbidden),
            _ => Ok(()),
        }
    }
}

/// Requires the active organization role (`has({ role })`): 401 signed out, 403 otherwise.
///
/// ```
/// use axum::{routing::get, Router};
/// use concierge_sdk::middleware::require_role;
///
/// let admin: Router = Router::new()
///     .route("/admin", get(|| async { "admins only" }))
///     .route_layer(require_role("org:admin"));
/// # let _ = admin;
/// ```
pub fn require_role(role: impl Into<String>) -> RequireAuth {
    let role = role.into();
    RequireAuth::check(move |auth| auth.has(Check::Role(&role)))
}

/// Requires a custom permission in the active organization (`has({ permission })`); system
/// permissions (`org:sys_*`) are never in a token, so guard those with a role instead.
///
/// ```
/// use axum::{routing::get, Router};
/// use concierge_sdk::middleware::require_permission;
///
/// let reports: Router = Router::new()
///     .route("/reports.csv", get(|| async { "a,b" }))
///     .route_layer(require_permission("org:reports:export"));
/// # let _ = reports;
/// ```
pub fn require_permission(permission: impl Into<String>) -> RequireAuth {
    let permission = permission.into();
    RequireAuth::check(move |auth| auth.has(Check::Permission(&permission)))
}

impl<S> Layer<S> for RequireAuth {
    type Service = RequireAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAuthService {
            guard: self.clone(),
            inner,
        }
    }
}

/// The service [`RequireAuth`] wraps around a route.
#[derive(Clone, Debug)]
pub struct RequireAuthService<S> {
    guard: RequireAuth,
    inner: S,
}

impl<S, B> Service<Request<B>> for RequireAuthService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if let Err(rejection) = self.guard.decide(request.extensions().get::<AuthState>()) {
            return Box::pin(async move { Ok(rejection.into_response()) });
        }
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move { inner.call(request).await })
    }
}
