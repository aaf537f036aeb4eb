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

use crate::request::{AUTH_STATUS, SIGNED_IN};
use crate::{Auth, AuthStatus, Check, Clerk, RequestState};
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tower::{Layer, Service};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The outcome [`ClerkLayer`] stores in the request extensions.
///
/// ```
/// use axum::{body::Body, routing::get, Extension, Router};
/// use concierge_sdk::middleware::{AuthState, ClerkLayer};
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
/// async fn whoami(Extension(state): Extension<AuthState>) -> String {
///     match state.auth() {
///         Some(auth) => format!("user {}", auth.user_id),
///         None => format!("signed out: {}", state.reason().unwrap_or_default()),
///     }
/// }
///
/// // Verification with the instance's PEM public key: no network call.
/// let layer = ClerkLayer::from_config(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.jwt_key(PEM))?;
/// let app = Router::new().route("/whoami", get(whoami)).layer(layer);
///
/// let request = Request::get("/whoami").header("host", "app.example.test").body(Body::empty())?;
/// let response = app.oneshot(request).await?;
/// let body = axum::body::to_bytes(response.into_body(), 1024).await?;
/// assert_eq!(body, "signed out: session-token-and-uat-missing");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AuthState(Arc<context::Outcome>);

impl AuthState {
    /// The outcome, shared by this state and every [`ClerkRequest`] of the request (one
    /// allocation per request).
    fn new(clerk: Clerk, status: AuthStatus) -> Self {
        let (auth, reason) = match status {
            AuthStatus::SignedIn(auth) => (Some(*auth), None),
            AuthStatus::SignedOut { reason, .. } | AuthStatus::Handshake { reason, .. } => {
                (None, Some(reason))
            }
        };
        Self(Arc::new(context::Outcome::new(clerk, auth, reason)))
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
        self.0.auth.as_ref()
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
        self.0.reason.as_deref()
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
    ///
    /// ```
    /// use concierge_sdk::middleware::ClerkLayer;
    /// use concierge_sdk::{Config, ConfigError};
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
    /// // Networkless: the instance's PEM public key ("JWT public key") verifies every token,
    /// // so neither a secret key nor a JWKS fetch is needed.
    /// let layer = ClerkLayer::from_config(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.jwt_key(PEM))?;
    /// let app: axum::Router = axum::Router::new()
    ///     .route("/", axum::routing::get(|| async { "hi" }))
    ///     .layer(layer);
    /// # let _ = app;
    ///
    /// // The configuration is validated here, once, not on the first request.
    /// let truncated = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0B\n-----END PUBLIC KEY-----";
    /// let error = ClerkLayer::from_config(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.jwt_key(truncated))
    ///     .unwrap_err();
    /// assert!(matches!(error, ConfigError::Key(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
///
/// Any tower service that answers with axum responses can be wrapped, not only a `Router`:
///
/// ```
/// use axum::body::Body;
/// use axum::response::Response;
/// use concierge_sdk::middleware::{AuthState, ClerkLayer, ClerkService};
/// use concierge_sdk::Config;
/// use http::{Request, StatusCode};
/// use std::convert::Infallible;
/// use tower::{service_fn, Layer, ServiceExt};
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
/// let layer = ClerkLayer::from_config(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.jwt_key(PEM))?;
/// let service: ClerkService<_> = layer.layer(service_fn(|request: Request<Body>| async move {
///     let signed_in = request.extensions().get::<AuthState>().is_some_and(|s| s.auth().is_some());
///     let text = if signed_in { "welcome back" } else { "welcome" };
///     Ok::<_, Infallible>(Response::new(Body::from(text)))
/// }));
///
/// // A page load from a browser that must refresh its cookies: the service answers the
/// // handshake redirect itself, and the inner service does not run.
/// let page = Request::get("/dashboard")
///     .header("host", "app.example.test")
///     .header("sec-fetch-dest", "document")
///     .header("cookie", "__client_uat=1760000000")
///     .body(Body::empty())?;
/// let response = service.clone().oneshot(page).await?;
/// assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
/// assert_eq!(response.headers()["cache-control"], "no-store");
/// assert!(response.headers()["location"].to_str()?.starts_with("https://clerk.example.test/v1/client/handshake?"));
///
/// // Otherwise the inner service answers, and the `x-clerk-auth-*` headers are added.
/// let anonymous = Request::get("/").header("host", "app.example.test").body(Body::empty())?;
/// let response = service.oneshot(anonymous).await?;
/// assert_eq!(response.status(), StatusCode::OK);
/// assert_eq!(response.headers()["x-clerk-auth-status"], "signed-out");
/// assert_eq!(axum::body::to_bytes(response.into_body(), 1024).await?, "welcome");
/// # Ok(())
/// # }
/// ```
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
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let clerk = self.clerk.clone();
        // The clone that was polled ready serves this request (tower's usual pattern).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let (parts, body) = request.into_parts();
        // Nearly every request is decided without a network call; only the rest pay for a
        // future that holds the request's head across the decision's awaits.
        match clerk.authenticate_without_network(&parts.method, &parts.uri, &parts.headers) {
            Some(state) => respond(clerk, inner, parts, body, state),
            None => ResponseFuture::network(Box::pin(async move {
                // Only the head is borrowed across the await, so the body need not be `Sync`.
                let state = clerk
                    .authenticate(&parts.method, &parts.uri, &parts.headers)
                    .await;
                respond(clerk, inner, parts, body, state).await
            })),
        }
    }
}

/// The decided request: a handshake (wire §5.1) or a development handshake result that strips
/// its parameters from the URL (§5.3) answers 307 without running the handler; otherwise the
/// handler runs with the outcome in the request's extensions and the decision's headers are
/// added to its response.
fn respond<S, B>(
    clerk: Clerk,
    mut inner: S,
    mut parts: Parts,
    body: B,
    state: RequestState,
) -> ResponseFuture<S::Future, S::Error>
where
    S: Service<Request<B>, Response = Response> + Send + 'static,
    S::Future: Send + 'static,
{
    if matches!(state.status, AuthStatus::Handshake { .. }) || state.location().is_some() {
        return ResponseFuture::ready(redirect(state));
    }
    let RequestState {
        status,
        headers: state_headers,
    } = state;
    let signed_in = matches!(status, AuthStatus::SignedIn(_));
    parts.extensions.insert(AuthState::new(clerk, status));
    ResponseFuture::inner(
        inner.call(Request::from_parts(parts, body)),
        state_headers,
        signed_in,
    )
}

pin_project_lite::pin_project! {
    /// The response future of [`ClerkService`]: the redirect it answers itself, or the wrapped
    /// service's response with the decision's headers added. Requests decided without the
    /// network (nearly all) need no allocation for it.
    ///
    /// ```
    /// use axum::{body::Body, response::Response};
    /// use concierge_sdk::middleware::{ClerkLayer, ResponseFuture};
    /// use concierge_sdk::Config;
    /// use std::convert::Infallible;
    /// use tower::{service_fn, Layer, Service};
    ///
    /// let layer = ClerkLayer::from_config(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// let mut service = layer.layer(service_fn(|_: http::Request<Body>| async {
    ///     Ok::<_, Infallible>(Response::new(Body::empty()))
    /// }));
    /// // What `call` returns is a future of the response, as with any tower service.
    /// let future: ResponseFuture<_, Infallible> = service.call(http::Request::new(Body::empty()));
    /// # drop(future);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct ResponseFuture<F, E> {
        #[pin]
        kind: Kind<F, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProjection]
    enum Kind<F, E> {
        // Answered without the wrapped service (a handshake redirect); `None` once taken.
        Ready { response: Option<Response> },
        // The wrapped service's response, to which the decision's headers are added.
        Inner { #[pin] future: F, headers: HeaderMap, signed_in: bool },
        // A decision that needed the network (a handshake to resolve, a JWKS to fetch).
        Network { future: BoxFuture<Result<Response, E>> },
    }
}

impl<F, E> ResponseFuture<F, E> {
    fn ready(response: Response) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(response),
            },
        }
    }

    fn inner(future: F, headers: HeaderMap, signed_in: bool) -> Self {
        Self {
            kind: Kind::Inner {
                future,
                headers,
                signed_in,
            },
        }
    }

    fn network(future: BoxFuture<Result<Response, E>>) -> Self {
        Self {
            kind: Kind::Network { future },
        }
    }
}

impl<F, E> Future for ResponseFuture<F, E>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            // Polled again after it finished: a contract violation that gets nothing.
            KindProjection::Ready { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => Poll::Pending,
            },
            KindProjection::Network { future } => future.as_mut().poll(cx),
            KindProjection::Inner {
                future,
                headers: state_headers,
                signed_in,
            } => {
                let mut response = ready!(future.poll(cx))?;
                let headers = response.headers_mut();
                // A signed-in decision made without the network leaves its status header here.
                if *signed_in && !state_headers.contains_key(AUTH_STATUS) {
                    headers.insert(AUTH_STATUS, HeaderValue::from_static(SIGNED_IN));
                }
                // Owned iteration names a header once for all its values.
                let mut current = None;
                for (name, value) in std::mem::take(state_headers) {
                    if name.is_some() {
                        current = name;
                    }
                    if let Some(name) = &current {
                        headers.append(name.clone(), value);
                    }
                }
                Poll::Ready(Ok(response))
            }
        }
    }
}

/// Why an extractor or a guard refused a request.
///
/// Each variant answers a Clerk-style JSON error. A handler that extracts
/// `Result<Auth, AuthRejection>` instead of [`Auth`] decides for itself:
///
/// ```
/// use axum::body::Body;
/// use axum::response::{IntoResponse, Response};
/// use axum::{routing::get, Router};
/// use concierge_sdk::middleware::{AuthRejection, ClerkLayer};
/// use concierge_sdk::{Auth, Config};
/// use http::{Request, StatusCode};
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
/// // The default answers: 401, 403 and 500 with a JSON envelope.
/// let forbidden = AuthRejection::Forbidden.into_response();
/// assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
/// assert_eq!(forbidden.headers()["content-type"], "application/json");
/// let body = axum::body::to_bytes(forbidden.into_body(), 1024).await?;
/// let body: serde_json::Value = serde_json::from_slice(&body)?;
/// assert_eq!(body["errors"][0]["code"], "authorization_invalid");
///
/// // A plain-text 401 instead of the envelope; other rejections keep theirs.
/// async fn me(auth: Result<Auth, AuthRejection>) -> Response {
///     match auth {
///         Ok(auth) => auth.user_id.into_response(),
///         Err(AuthRejection::Unauthenticated(reason)) => {
///             let reason = reason.unwrap_or_default();
///             (StatusCode::UNAUTHORIZED, format!("please sign in ({reason})")).into_response()
///         }
///         Err(other) => other.into_response(),
///     }
/// }
///
/// let layer = ClerkLayer::from_config(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.jwt_key(PEM))?;
/// let app = Router::new().route("/me", get(me));
/// let request = || Request::get("/me").header("host", "app.example.test").body(Body::empty());
///
/// let response = app.clone().layer(layer).oneshot(request()?).await?;
/// assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
/// let body = axum::body::to_bytes(response.into_body(), 1024).await?;
/// assert_eq!(body, "please sign in (session-token-and-uat-missing)");
///
/// // Without `ClerkLayer` in front: `MissingLayer`, a configuration mistake answered 500.
/// let response = app.oneshot(request()?).await?;
/// assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// # Ok(())
/// # }
/// ```
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
            .ok_or_else(|| AuthRejection::Unauthenticated(state.reason().map(str::to_owned)))
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
            .ok_or_else(|| AuthRejection::Unauthenticated(state.reason().map(str::to_owned)))?;
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

/// The service [`RequireAuth`] wraps around a route. It reads the [`AuthState`] that
/// [`ClerkLayer`] stored, so it must sit inside that layer.
///
/// ```
/// use axum::body::Body;
/// use axum::response::Response;
/// use concierge_sdk::middleware::{require_role, ClerkLayer, RequireAuthService};
/// use concierge_sdk::Config;
/// use http::{Request, StatusCode};
/// use std::convert::Infallible;
/// use tower::{service_fn, Layer, ServiceBuilder, ServiceExt};
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
/// let admin_area = service_fn(|_: Request<Body>| async {
///     Ok::<_, Infallible>(Response::new(Body::from("admin area")))
/// });
/// let anonymous = || Request::get("/admin").header("host", "app.example.test").body(Body::empty());
///
/// // Authentication first (outermost), then the guard.
/// let layer = ClerkLayer::from_config(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.jwt_key(PEM))?;
/// let app = ServiceBuilder::new()
///     .layer(layer)
///     .layer(require_role("org:admin"))
///     .service(admin_area.clone());
/// let response = app.oneshot(anonymous()?).await?;
/// assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(response.headers()["x-clerk-auth-reason"], "session-token-and-uat-missing");
///
/// // The guard alone has no outcome to read: 500, and the admin area never runs.
/// let guard_only: RequireAuthService<_> = require_role("org:admin").layer(admin_area);
/// let response = guard_only.oneshot(anonymous()?).await?;
/// assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// # Ok(())
/// # }
/// ```
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
