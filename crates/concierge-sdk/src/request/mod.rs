//! `authenticate_request`: the decision table of wire §4.5 for one incoming request, framework
//! independent (method, URI, headers in; a [`RequestState`] with the headers to add out).
//!
//! Header path: `Authorization: Bearer <token>` (or a bare value) is verified and nothing else
//! is looked at. Cookie path: handshake resolution first (§5.3; a nonce is redeemed through the
//! Backend API, a `__clerk_handshake` token is verified), then `__client_uat` against
//! `__session` (suffixed or not, §4.3), then verification. Where Clerk would refresh the
//! browser's cookies it answers [`AuthStatus::Handshake`] with the FAPI URL to redirect to,
//! but only for document requests; any other request is signed out with the same reason.
//!
//! Organization sync (row 12): with [`OrganizationSyncOptions`](crate::OrganizationSyncOptions)
//! every handshake URL carries `organization_id` when the request URL names an organization
//! (or the personal account), and a verified cookie session whose active organization differs
//! is sent through the handshake (`active-organization-mismatch`) unless the request is not a
//! document or the redirect counter reached 3, in which case it stays signed in as it is.
//!
//! Not implemented: satellite domains, the `__refresh` cookie (§4.6, not issued by Concierge),
//! and machine tokens (they are refused as `token-type-mismatch`).

use crate::client::SUPPORTED_BAPI_VERSION;
use crate::jwks::VerificationKey;
use crate::jwt::DecodedJwt;
use crate::verify::check_token_type;
use crate::{Auth, Clerk, InstanceType, OrganizationSyncTarget, VerifyError};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Uri};
use smallvec::SmallVec;
use std::borrow::Cow;
#[cfg(test)]
use std::collections::BTreeMap;
use std::sync::OnceLock;
use url::Url;

/// Reason strings (`x-clerk-auth-reason`, `__clerk_hs_reason`) of `@clerk/backend`, besides the
/// token-verification reasons of [`VerifyError::reason`].
///
/// ```
/// use concierge_sdk::{reason, Clerk, Config};
///
/// // Logging that tells an anonymous visitor from a browser whose cookies need attention.
/// fn describe(why: &str) -> &'static str {
///     match why {
///         reason::SESSION_TOKEN_AND_UAT_MISSING => "anonymous visitor",
///         reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT | reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN => {
///             "inconsistent cookies: the browser needs a handshake"
///         }
///         "token-expired" | reason::SESSION_TOKEN_EXPIRED_GET | reason::SESSION_TOKEN_EXPIRED_NON_GET => {
///             "expired session token: the page refreshes it"
///         }
///         _ => "refused",
///     }
/// }
///
/// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
/// let runtime = tokio::runtime::Runtime::new()?;
/// let anonymous = http::Request::get("/").header("host", "app.example.test").body(())?;
/// let state = runtime.block_on(clerk.authenticate_request(&anonymous));
/// assert_eq!(state.reason().map(describe), Some("anonymous visitor"));
/// // The same string is sent to the browser for debugging.
/// assert_eq!(state.headers["x-clerk-auth-reason"], reason::SESSION_TOKEN_AND_UAT_MISSING);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod reason {
    /// A `__client_uat` > 0 but no `__session`: the browser is signed in, the token is missing.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN, "client-uat-but-no-session-token");
    /// ```
    pub const CLIENT_UAT_BUT_NO_SESSION_TOKEN: &str = "client-uat-but-no-session-token";
    /// Development instance without a dev-browser token.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::DEV_BROWSER_MISSING, "dev-browser-missing");
    /// ```
    pub const DEV_BROWSER_MISSING: &str = "dev-browser-missing";
    /// Development instance with `__clerk_db_jwt` in the query.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::DEV_BROWSER_SYNC, "dev-browser-sync");
    /// ```
    pub const DEV_BROWSER_SYNC: &str = "dev-browser-sync";
    /// A document request arriving from another origin on the primary domain.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::PRIMARY_DOMAIN_CROSS_ORIGIN_SYNC, "primary-domain-cross-origin-sync");
    /// ```
    pub const PRIMARY_DOMAIN_CROSS_ORIGIN_SYNC: &str = "primary-domain-cross-origin-sync";
    /// Neither `__client_uat` nor `__session`: an anonymous visitor.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::SESSION_TOKEN_AND_UAT_MISSING, "session-token-and-uat-missing");
    /// ```
    pub const SESSION_TOKEN_AND_UAT_MISSING: &str = "session-token-and-uat-missing";
    /// A handshake produced no `__session` (signed out, or an already used nonce).
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::SESSION_TOKEN_MISSING, "session-token-missing");
    /// ```
    pub const SESSION_TOKEN_MISSING: &str = "session-token-missing";
    /// The token was issued before the last sign-in state change.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT, "session-token-iat-before-client-uat");
    /// ```
    pub const SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT: &str = "session-token-iat-before-client-uat";
    /// `nbf` in the future.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::SESSION_TOKEN_NBF, "session-token-nbf");
    /// ```
    pub const SESSION_TOKEN_NBF: &str = "session-token-nbf";
    /// `iat` in the future.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::SESSION_TOKEN_IAT_IN_THE_FUTURE, "session-token-iat-in-the-future");
    /// ```
    pub const SESSION_TOKEN_IAT_IN_THE_FUTURE: &str = "session-token-iat-in-the-future";
    /// A `__session` without `__client_uat`.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT, "session-token-but-no-client-uat");
    /// ```
    pub const SESSION_TOKEN_BUT_NO_CLIENT_UAT: &str = "session-token-but-no-client-uat";
    /// An expired token on a GET (no `__refresh` support): `session-token-expired-refresh-…`.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::SESSION_TOKEN_EXPIRED_GET, "session-token-expired-refresh-non-eligible-no-refresh-cookie");
    /// ```
    pub const SESSION_TOKEN_EXPIRED_GET: &str =
        "session-token-expired-refresh-non-eligible-no-refresh-cookie";
    /// An expired token on another method.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::SESSION_TOKEN_EXPIRED_NON_GET, "session-token-expired-refresh-non-eligible-non-get");
    /// ```
    pub const SESSION_TOKEN_EXPIRED_NON_GET: &str =
        "session-token-expired-refresh-non-eligible-non-get";
    /// A JWT-template or machine token where a session token was expected.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::TOKEN_TYPE_MISMATCH, "token-type-mismatch");
    /// ```
    pub const TOKEN_TYPE_MISMATCH: &str = "token-type-mismatch";
    /// A verified session whose status is `pending` (treated as signed out by default; this
    /// reason is Concierge's, `@clerk/backend` reports such a request signed in).
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::SESSION_PENDING, "session-pending");
    /// ```
    pub const SESSION_PENDING: &str = "session-pending";
    /// The URL names another organization than the session's active one (organization sync).
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::ACTIVE_ORGANIZATION_MISMATCH, "active-organization-mismatch");
    /// ```
    pub const ACTIVE_ORGANIZATION_MISMATCH: &str = "active-organization-mismatch";
    /// Something unexpected, such as a failed handshake in development.
    ///
    /// ```
    /// assert_eq!(concierge_sdk::reason::UNEXPECTED_ERROR, "unexpected-error");
    /// ```
    pub const UNEXPECTED_ERROR: &str = "unexpected-error";
}

const SESSION: &str = "__session";
const CLIENT_UAT: &str = "__client_uat";
const DEV_BROWSER: &str = "__clerk_db_jwt";
const HANDSHAKE: &str = "__clerk_handshake";
const HANDSHAKE_NONCE: &str = "__clerk_handshake_nonce";
const REDIRECT_COUNT: &str = "__clerk_redirect_count";

/// The authentication outcome of a request.
///
/// ```
/// use concierge_sdk::{reason, AuthStatus, Clerk, Config};
/// use http::{Request, StatusCode};
///
/// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
/// let runtime = tokio::runtime::Runtime::new()?;
///
/// // What an application without the axum layer answers for each outcome.
/// fn status_code(status: &AuthStatus) -> StatusCode {
///     match status {
///         AuthStatus::SignedIn(_) => StatusCode::OK,
///         AuthStatus::SignedOut { .. } => StatusCode::UNAUTHORIZED,
///         AuthStatus::Handshake { .. } => StatusCode::TEMPORARY_REDIRECT,
///     }
/// }
///
/// // An API call whose bearer token is not even a JWT: signed out, with the reason.
/// let api_call = Request::get("/api/me")
///     .header("host", "app.example.test")
///     .header("authorization", "Bearer not-a-jwt")
///     .body(())?;
/// let state = runtime.block_on(clerk.authenticate_request(&api_call));
/// assert!(matches!(&state.status, AuthStatus::SignedOut { reason, .. } if reason == "token-invalid"));
/// assert_eq!(status_code(&state.status), StatusCode::UNAUTHORIZED);
///
/// // A page load from a browser that is signed in but lost its `__session` cookie.
/// let page = Request::get("/dashboard")
///     .header("host", "app.example.test")
///     .header("sec-fetch-dest", "document")
///     .header("cookie", "__client_uat=1760000000")
///     .body(())?;
/// let state = runtime.block_on(clerk.authenticate_request(&page));
/// let AuthStatus::Handshake { location, reason: why } = &state.status else {
///     return Err(format!("expected a handshake, got {:?}", state.status).into());
/// };
/// assert_eq!(why, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);
/// assert!(location.starts_with("https://clerk.example.test/v1/client/handshake?"));
/// assert_eq!(status_code(&state.status), StatusCode::TEMPORARY_REDIRECT);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum AuthStatus {
    /// A verified session.
    SignedIn(Box<Auth>),
    /// No usable session; `reason` says why (see [`reason`] and [`VerifyError::reason`]).
    SignedOut {
        /// Machine-readable reason.
        reason: String,
        /// Human-readable detail (may be empty).
        message: String,
    },
    /// The browser must visit the Frontend API handshake to refresh its cookies: answer
    /// `307 Location: <location>` with `Cache-Control: no-store` (both are in the headers).
    Handshake {
        /// `…/v1/client/handshake?redirect_url=…&format=nonce`.
        location: String,
        /// Why (`client-uat-but-no-session-token`, …).
        reason: String,
    },
}

/// [`AuthStatus`] plus the response headers the application must send: `Set-Cookie`
/// directives from a resolved handshake, the handshake redirect, and `x-clerk-auth-status`,
/// `x-clerk-auth-reason`, `x-clerk-auth-message`.
///
/// ```no_run
/// # async fn run(clerk: concierge_sdk::Clerk, request: http::Request<()>) {
/// let state = clerk.authenticate_request(&request).await;
/// if let Some(location) = state.location() {
///     println!("307 to {location}");
/// } else if let Some(auth) = state.auth() {
///     println!("{} in {:?}", auth.user_id, auth.org_slug);
/// } else {
///     println!("signed out: {:?}", state.reason());
/// }
/// let cookies: Vec<&str> = state.set_cookies().collect();
/// # let _ = cookies; }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RequestState {
    /// The outcome.
    pub status: AuthStatus,
    /// Headers to add to the response.
    pub headers: HeaderMap,
}

impl RequestState {
    /// The auth object when signed in.
    ///
    /// ```
    /// use concierge_sdk::{reason, Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// // An anonymous visitor: no cookie, no bearer token (decided without any network call).
    /// let request = http::Request::get("/").header("host", "app.example.test").body(())?;
    /// let state = runtime.block_on(clerk.authenticate_request(&request));
    /// assert!(state.auth().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn auth(&self) -> Option<&Auth> {
        match &self.status {
            AuthStatus::SignedIn(auth) => Some(auth.as_ref()),
            _ => None,
        }
    }

    /// Whether the request is signed in.
    ///
    /// ```
    /// use concierge_sdk::{reason, Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// // An anonymous visitor: no cookie, no bearer token (decided without any network call).
    /// let request = http::Request::get("/").header("host", "app.example.test").body(())?;
    /// let state = runtime.block_on(clerk.authenticate_request(&request));
    /// assert!(!state.is_signed_in());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_signed_in(&self) -> bool {
        self.auth().is_some()
    }

    /// The reason when signed out or redirected to the handshake.
    ///
    /// ```
    /// use concierge_sdk::{reason, Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// // An anonymous visitor: no cookie, no bearer token (decided without any network call).
    /// let request = http::Request::get("/").header("host", "app.example.test").body(())?;
    /// let state = runtime.block_on(clerk.authenticate_request(&request));
    /// assert_eq!(state.reason(), Some(reason::SESSION_TOKEN_AND_UAT_MISSING));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reason(&self) -> Option<&str> {
        match &self.status {
            AuthStatus::SignedIn(_) => None,
            AuthStatus::SignedOut { reason, .. } | AuthStatus::Handshake { reason, .. } => {
                Some(reason)
            }
        }
    }

    /// The `Set-Cookie` directives to send back.
    ///
    /// ```
    /// use concierge_sdk::{reason, Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// // An anonymous visitor: no cookie, no bearer token (decided without any network call).
    /// let request = http::Request::get("/").header("host", "app.example.test").body(())?;
    /// let state = runtime.block_on(clerk.authenticate_request(&request));
    /// assert_eq!(state.set_cookies().count(), 0, "nothing to set without a handshake");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_cookies(&self) -> impl Iterator<Item = &str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
    }

    /// `Location` to redirect to, if any (the handshake; or, for development instances, the
    /// same URL without the handshake parameters).
    ///
    /// ```
    /// use concierge_sdk::{reason, Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// // A signed-in browser whose session token is missing: a document request gets the handshake.
    /// let request = http::Request::get("/dashboard")
    ///     .header("host", "app.example.test")
    ///     .header("sec-fetch-dest", "document")
    ///     .header("cookie", "__client_uat=1760000000")
    ///     .body(())?;
    /// let state = runtime.block_on(clerk.authenticate_request(&request));
    /// assert_eq!(state.reason(), Some(reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN));
    /// let location = state.location().unwrap();
    /// assert!(location.starts_with("https://clerk.example.test/v1/client/handshake?"), "{location}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
}

/// Everything the table reads from one request (`@clerk/backend`'s `AuthenticateContext`).
/// It borrows the request's head; the public URL is only built when a decision needs it.
struct Context<'a> {
    clerk: &'a Clerk,
    method: &'a Method,
    uri: &'a Uri,
    url: OnceLock<Option<Url>>,
    headers: &'a HeaderMap,
    cookies: Cookies<'a>,
    suffixed: bool,
    suffix: &'a str,
    token_in_header: Option<&'a str>,
    /// The chosen family's `__session`, decoded once (`None` when there is none).
    session_jwt: Option<Result<DecodedJwt, VerifyError>>,
    client_uat: i64,
    dev_browser_token: Option<String>,
    handshake_token: Option<String>,
    handshake_nonce: Option<String>,
    redirect_count: i64,
    organization_target: Option<OrganizationSyncTarget>,
    /// Whether a signed-in decision carries its `x-clerk-auth-status` header (the layer adds
    /// it to the response itself, so its requests skip building a header map).
    debug_headers: bool,
}

/// Cookies of all `Cookie` headers; the first occurrence of a name wins, values are
/// percent-decoded when possible.
#[cfg(test)]
pub(crate) fn parse_cookies(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut cookies = BTreeMap::new();
    for (name, value) in cookie_pairs(headers) {
        cookies
            .entry(name.to_owned())
            .or_insert_with(|| value.into_owned());
    }
    cookies
}

/// The cookies of a request, in order: a browser's usual handful (the session, the client
/// timestamp, their suffixed twins, a few of the application's) are kept inline.
type Cookies<'a> = SmallVec<[(&'a str, Cow<'a, str>); 8]>;

/// Every `name=value` pair of all `Cookie` headers in order (look-ups take the first), values
/// percent-decoded when possible; borrowed from the headers unless decoding changed them.
fn cookie_pairs(headers: &HeaderMap) -> Cookies<'_> {
    let mut cookies = Cookies::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            let decoded = if value.contains('%') {
                percent_decode(value).map_or(Cow::Borrowed(value), Cow::Owned)
            } else {
                Cow::Borrowed(value)
            };
            cookies.push((name.trim(), decoded));
        }
    }
    cookies
}

fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The name of a `Set-Cookie` directive.
fn directive_name(directive: &str) -> &str {
    let first = directive.split(';').next().unwrap_or_default();
    first.split_once('=').map_or(first, |(name, _)| name).trim()
}

/// The value of a `Set-Cookie` directive: after the first `=`, up to the first `;` (§5.2).
fn directive_value(directive: &str) -> &str {
    let first = directive.split(';').next().unwrap_or_default();
    first.split_once('=').map_or("", |(_, value)| value).trim()
}

/// JavaScript's `parseInt(v) || 0`.
fn parse_int(value: Option<&str>) -> i64 {
    let value = value.unwrap_or_default().trim();
    let (sign, digits) = match value.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, value.strip_prefix('+').unwrap_or(value)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().map(|n| sign * n).unwrap_or(0)
}

fn first_header_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The public URL of the request, from forwarded headers like `@clerk/backend`'s `clerkUrl`.
fn public_url(uri: &Uri, headers: &HeaderMap) -> Option<Url> {
    let proto = first_header_value(headers, "cloudfront-forwarded-proto")
        .or_else(|| first_header_value(headers, "x-forwarded-proto"))
        .or_else(|| uri.scheme_str())
        .unwrap_or("http");
    let host = first_header_value(headers, "x-forwarded-host")
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
        .or_else(|| uri.authority().map(|a| a.as_str()))?;
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Url::parse(&format!("{proto}://{host}{path}")).ok()
}

fn without_params(url: &Url, names: &[&str]) -> Url {
    let mut url = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !names.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url
}

impl<'a> Context<'a> {
    fn new(clerk: &'a Clerk, method: &'a Method, uri: &'a Uri, headers: &'a HeaderMap) -> Self {
        let mut context = Self {
            clerk,
            method,
            uri,
            url: OnceLock::new(),
            headers,
            cookies: cookie_pairs(headers),
            suffixed: false,
            suffix: clerk.publishable_key().suffix(),
            token_in_header: None,
            session_jwt: None,
            client_uat: 0,
            dev_browser_token: None,
            handshake_token: None,
            handshake_nonce: None,
            redirect_count: 0,
            organization_target: None,
            debug_headers: true,
        };
        context.token_in_header = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|value| match value.split_once(' ') {
                None => Some(value).filter(|v| !v.is_empty()),
                Some(("Bearer", token)) => {
                    Some(token.split(' ').next().unwrap_or_default()).filter(|t| !t.is_empty())
                }
                Some(_) => None,
            });
        if context.token_in_header.is_some() {
            // The header path reads nothing else.
            return context;
        }
        let (suffixed, session_jwt) = context.uses_suffixed_cookies();
        context.suffixed = suffixed;
        context.session_jwt = session_jwt;
        context.client_uat = parse_int(context.family_cookie(CLIENT_UAT));
        context.dev_browser_token = context
            .query(DEV_BROWSER)
            .or_else(|| context.family_cookie(DEV_BROWSER).map(str::to_owned));
        context.handshake_token = context
            .query(HANDSHAKE)
            .or_else(|| context.cookie(HANDSHAKE).map(str::to_owned));
        context.handshake_nonce = context
            .query(HANDSHAKE_NONCE)
            .or_else(|| context.cookie(HANDSHAKE_NONCE).map(str::to_owned));
        context.redirect_count = context
            .cookie(REDIRECT_COUNT)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let sync = &clerk.inner.config.organization_sync;
        if !sync.is_empty() {
            context.organization_target =
                context.url().and_then(|url| sync.find_target(url.path()));
        }
        context
    }

    /// The public URL of the request (built on first use).
    fn url(&self) -> Option<&Url> {
        self.url
            .get_or_init(|| public_url(self.uri, self.headers))
            .as_ref()
    }

    fn is_development(&self) -> bool {
        self.clerk.publishable_key().instance_type() == InstanceType::Development
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }

    /// `<name>_<suffix>`, matched without building the name.
    fn suffixed_cookie(&self, name: &str) -> Option<&str> {
        let suffix = self.suffix;
        self.cookies
            .iter()
            .find(|(k, _)| {
                k.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .is_some_and(|rest| rest == suffix)
            })
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }

    fn family_cookie(&self, name: &str) -> Option<&str> {
        if self.suffixed {
            self.suffixed_cookie(name)
        } else {
            self.cookie(name)
        }
    }

    /// The chosen family's `__session` cookie.
    fn session_in_cookie(&self) -> Option<&str> {
        self.family_cookie(SESSION)
    }

    /// A non-empty query parameter of the request URI.
    fn query(&self, name: &str) -> Option<String> {
        let query = self.uri.query()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Wire §4.3: which cookie family (suffixed or not) to read, and that family's `__session`
    /// decoded (each token is decoded once per request).
    fn uses_suffixed_cookies(&self) -> (bool, Option<Result<DecodedJwt, VerifyError>>) {
        let decode = |token: Option<&str>| token.map(crate::jwt::decode);
        let session_jwt = decode(self.cookie(SESSION));
        let suffixed_jwt = decode(self.suffixed_cookie(SESSION));
        if self.family_is_suffixed(session_jwt.as_ref(), suffixed_jwt.as_ref()) {
            (true, suffixed_jwt)
        } else {
            (false, session_jwt)
        }
    }

    fn family_is_suffixed(
        &self,
        session_jwt: Option<&Result<DecodedJwt, VerifyError>>,
        suffixed_jwt: Option<&Result<DecodedJwt, VerifyError>>,
    ) -> bool {
        let suffixed_uat = self.suffixed_cookie(CLIENT_UAT);
        let uat = self.cookie(CLIENT_UAT);
        let suffixed_session = self.suffixed_cookie(SESSION).unwrap_or_default();
        let session = self.cookie(SESSION).unwrap_or_default();
        let session_jwt = session_jwt.and_then(|r| r.as_ref().ok());
        let suffixed_jwt = suffixed_jwt.and_then(|r| r.as_ref().ok());
        if !session.is_empty() {
            let iss = session_jwt
                .as_ref()
                .and_then(|jwt| jwt.payload.iss.as_str());
            match iss.filter(|iss| !iss.is_empty()) {
                // Rule 1: no issuer, use un-suffixed (and end up signed out).
                None => return false,
                // Rule 2: another instance's token, trust the suffixed family.
                Some(iss) => {
                    let host = iss
                        .strip_prefix("https://")
                        .or_else(|| iss.strip_prefix("http://"))
                        .unwrap_or(iss);
                    if host != self.clerk.publishable_key().frontend_api() {
                        return true;
                    }
                }
            }
        }
        if suffixed_uat.is_none() && suffixed_session.is_empty() {
            return false;
        }
        let iat = |jwt: Option<&DecodedJwt>| jwt.and_then(|j| j.payload.iat.seconds()).unwrap_or(0);
        if suffixed_uat != Some("0") && uat != Some("0") && iat(session_jwt) > iat(suffixed_jwt) {
            return false;
        }
        if suffixed_uat == Some("0") && uat != Some("0") {
            return false;
        }
        if self.is_development() && suffixed_uat != Some("0") && uat == Some("0") {
            let expired = suffixed_jwt.is_some_and(|jwt| {
                jwt.payload
                    .exp
                    .seconds()
                    .is_some_and(|exp| exp <= self.clerk.now_ms() / 1000)
            });
            if expired {
                return false;
            }
        }
        if suffixed_uat.is_none() && !suffixed_session.is_empty() {
            return false;
        }
        true
    }

    /// Wire §4.5: GET, and a document (or iframe) navigation.
    fn is_eligible_for_handshake(&self) -> bool {
        if self.method != Method::GET {
            return false;
        }
        match self.header("sec-fetch-dest") {
            Some(dest) => dest == "document" || dest == "iframe",
            None => self
                .header("accept")
                .is_some_and(|accept| accept.starts_with("text/html")),
        }
    }

    /// The Frontend API base for the handshake: the proxy URL (a relative one resolved against
    /// the request's origin) or `https://<publishable-key host>` (wire §1.3, §5.1).
    fn frontend_api(&self) -> Option<String> {
        match &self.clerk.inner.config.proxy_url {
            Some(proxy) if proxy.starts_with('/') => {
                let origin = self.url()?.origin().ascii_serialization();
                Some(format!("{origin}{proxy}"))
            }
            Some(proxy) => Some(proxy.clone()),
            None => Some(self.clerk.publishable_key().frontend_api().to_owned()),
        }
    }

    fn handshake_location(&self, reason: &str) -> Option<String> {
        let fapi = self.frontend_api()?;
        let base = if fapi.starts_with("http") {
            fapi
        } else {
            format!("https://{fapi}")
        };
        let base = format!("{}/", base.trim_end_matches('/'));
        let mut location = Url::parse(&base).ok()?.join("v1/client/handshake").ok()?;
        let redirect = without_params(self.url()?, &[DEV_BROWSER, "__dev_session"]);
        {
            let mut query = location.query_pairs_mut();
            query
                .append_pair("redirect_url", redirect.as_str())
                .append_pair("__clerk_api_version", SUPPORTED_BAPI_VERSION)
                .append_pair(
                    "suffixed_cookies",
                    if self.suffixed { "true" } else { "false" },
                )
                .append_pair("__clerk_hs_reason", reason)
                .append_pair("format", "nonce");
            if let Some(token) = self.session_in_cookie().or(self.token_in_header) {
                query.append_pair(SESSION, token);
            }
            if self.is_development() {
                if let Some(token) = &self.dev_browser_token {
                    query.append_pair(DEV_BROWSER, token);
                }
            }
            // Wire §5.1: present-but-empty asks for the personal account.
            if let Some(target) = &self.organization_target {
                query.append_pair("organization_id", target.handshake_value());
            }
        }
        Some(location.to_string())
    }

    /// Wire §2.3/§4.5: "from the referrer of another site that is not the Frontend API".
    fn is_cross_origin_foreign_referrer(&self) -> bool {
        let (Some(referrer), Some(url)) = (self.header("referer"), self.url()) else {
            return false;
        };
        let Ok(referrer) = Url::parse(referrer) else {
            return false;
        };
        if referrer.origin() == url.origin() {
            return false;
        }
        let host = referrer.host_str().unwrap_or_default();
        let fapi_host = match &self.clerk.inner.config.proxy_url {
            Some(proxy) if proxy.starts_with("http") => Url::parse(proxy)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
            Some(_) => url.host_str().unwrap_or_default().to_owned(),
            None => self.clerk.publishable_key().frontend_api().to_owned(),
        };
        let known = host == fapi_host
            || host.starts_with("accounts.")
            || [".accounts.dev", ".accountsstage.dev", ".lclclerk.com"]
                .iter()
                .any(|suffix| host.ends_with(suffix));
        !known
    }
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn append_set_cookie(headers: &mut HeaderMap, directive: &str) {
    if let Ok(value) = HeaderValue::from_str(directive) {
        headers.append(header::SET_COOKIE, value);
    }
}

/// The debug header that reports the decision, and its value for a signed-in one (the layer
/// sets the pair on the response itself for decisions made without the network).
pub(crate) const AUTH_STATUS: HeaderName = HeaderName::from_static("x-clerk-auth-status");
pub(crate) const SIGNED_IN: &str = "signed-in";

fn with_debug_headers(status: AuthStatus, mut headers: HeaderMap) -> RequestState {
    let (label, reason, message) = match &status {
        AuthStatus::SignedIn(_) => (SIGNED_IN, "", ""),
        AuthStatus::SignedOut { reason, message } => {
            ("signed-out", reason.as_str(), message.as_str())
        }
        AuthStatus::Handshake { reason, .. } => ("handshake", reason.as_str(), ""),
    };
    headers.insert(AUTH_STATUS, HeaderValue::from_static(label));
    if !reason.is_empty() {
        set(
            &mut headers,
            HeaderName::from_static("x-clerk-auth-reason"),
            reason,
        );
    }
    if !message.is_empty() {
        set(
            &mut headers,
            HeaderName::from_static("x-clerk-auth-message"),
            message,
        );
    }
    RequestState { status, headers }
}

fn signed_out(reason: &str, message: &str, headers: HeaderMap) -> RequestState {
    with_debug_headers(
        AuthStatus::SignedOut {
            reason: reason.to_owned(),
            message: message.to_owned(),
        },
        headers,
    )
}

impl Clerk {
    /// Authenticates an `http::Request` (the body is not read). See [`Clerk::authenticate`].
    ///
    /// ```
    /// use concierge_sdk::{reason, Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// // Any body type will do: only the method, the URI and the headers are read.
    /// let request = http::Request::post("/api/tasks")
    ///     .header("host", "app.example.test")
    ///     .header("content-type", "application/json")
    ///     .body(r#"{"title": "Ship it"}"#.to_owned())?;
    /// let state = tokio::runtime::Runtime::new()?.block_on(clerk.authenticate_request(&request));
    /// assert!(!state.is_signed_in());
    /// // The headers to copy onto the response, whatever the outcome.
    /// assert_eq!(state.headers["x-clerk-auth-status"], "signed-out");
    /// assert_eq!(state.headers["x-clerk-auth-reason"], reason::SESSION_TOKEN_AND_UAT_MISSING);
    /// assert_eq!(request.body(), r#"{"title": "Ship it"}"#, "the request is only borrowed");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn authenticate_request<B>(&self, request: &Request<B>) -> RequestState {
        self.authenticate(request.method(), request.uri(), request.headers())
            .await
    }

    /// Runs the decision table of wire §4.5 for a request given by its method, URI (path and
    /// query; the public origin comes from `X-Forwarded-Proto`/`X-Forwarded-Host`/`Host`) and
    /// headers.
    ///
    /// ```no_run
    /// use concierge_sdk::{AuthStatus, Clerk};
    ///
    /// # async fn run(clerk: Clerk, request: http::Request<()>) {
    /// let state = clerk.authenticate_request(&request).await;
    /// match &state.status {
    ///     AuthStatus::SignedIn(auth) => println!("user {}", auth.user_id),
    ///     AuthStatus::SignedOut { reason, .. } => println!("signed out: {reason}"),
    ///     AuthStatus::Handshake { location, .. } => println!("307 to {location}"),
    /// }
    /// for cookie in state.set_cookies() {
    ///     println!("Set-Cookie: {cookie}");
    /// }
    /// # }
    /// ```
    pub async fn authenticate(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> RequestState {
        let mut context = Context::new(self, method, uri, headers);
        // Nearly every request is decided here, without awaiting anything; the network path
        // (a handshake to resolve, a JWKS to fetch) is boxed so that it does not size the
        // future of every request.
        match self.authenticate_now(&mut context) {
            Some(state) => state,
            None => Box::pin(self.authenticate_with_network(context)).await,
        }
    }

    /// [`Clerk::authenticate`] when it can be decided without a network call (nearly every
    /// request: a PEM key or a fresh JWKS entry, no handshake carrier); `None` when it cannot,
    /// and then only [`Clerk::authenticate`] decides. Lets a caller skip building a future.
    /// A signed-in outcome comes without its `x-clerk-auth-status` header, which the caller
    /// (the layer) sets on the response.
    pub(crate) fn authenticate_without_network(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Option<RequestState> {
        let mut context = Context::new(self, method, uri, headers);
        context.debug_headers = false;
        self.authenticate_now(&mut context)
    }

    /// The decision when it needs no network call: `None` when a handshake carrier must be
    /// resolved or the token's key is not at hand (PEM key, or a fresh JWKS cache entry).
    fn authenticate_now(&self, context: &mut Context<'_>) -> Option<RequestState> {
        if let Some(token) = context.token_in_header {
            let jwt = match crate::jwt::decode(token).and_then(|jwt| {
                crate::verify::check_token_type(&jwt)?;
                Ok(jwt)
            }) {
                Ok(jwt) => jwt,
                Err(error) => return Some(self.token_error(context, &error)),
            };
            let key = self.key_now(jwt.header.kid.as_str())?;
            let skew = self.inner.options.clock_skew_ms;
            return Some(match self.verify_with_key(jwt, &key, skew) {
                Ok((claims, token)) => {
                    self.signed_in(claims, token, HeaderMap::new(), context.debug_headers)
                }
                Err(error) => self.token_error(context, &error),
            });
        }
        if context.handshake_nonce.is_some() || context.handshake_token.is_some() {
            return None;
        }
        self.cookie_rows(context, |kid| self.key_now(kid).map(Ok))
    }

    /// The whole decision, fetching what [`Clerk::authenticate_now`] could not do without.
    async fn authenticate_with_network(&self, mut context: Context<'_>) -> RequestState {
        if let Some(token) = context.token_in_header {
            let verified = self
                .verify_token_with_skew(token, self.inner.options.clock_skew_ms)
                .await;
            return match verified {
                Ok((claims, token)) => self.signed_in(claims, token, HeaderMap::new(), true),
                Err(error) => self.token_error(&context, &error),
            };
        }
        // Row 1: a handshake carrier wins over everything else.
        if context.handshake_nonce.is_some() || context.handshake_token.is_some() {
            match self.resolve_handshake(&context).await {
                Ok(state) => return state,
                Err(error) if context.is_development() => {
                    return signed_out(
                        reason::UNEXPECTED_ERROR,
                        &error.to_string(),
                        HeaderMap::new(),
                    );
                }
                Err(error) => {
                    // Production: the carrier may belong to another app on the same site;
                    // continue so that a fresh handshake can fix it.
                    tracing::warn!(error = %error, "unable to resolve the handshake");
                }
            }
        }
        let mut wanted = None;
        let state = self.cookie_rows(&mut context, |kid| {
            let key = self.key_now(kid);
            if key.is_none() {
                wanted = Some(kid.map(str::to_owned));
            }
            key.map(Ok)
        });
        if let Some(state) = state {
            return state;
        }
        let fetched = self.key_for(wanted.flatten().as_deref()).await;
        // With the key given, the rows always decide.
        self.cookie_rows(&mut context, |_| Some(fetched))
            .unwrap_or_else(|| signed_out(reason::UNEXPECTED_ERROR, "", HeaderMap::new()))
    }

    /// The signed-in decision; `debug_headers` false leaves `x-clerk-auth-status` to the
    /// caller (the layer, which adds it to the response).
    fn signed_in(
        &self,
        claims: crate::SessionClaims,
        token: String,
        headers: HeaderMap,
        debug_headers: bool,
    ) -> RequestState {
        if self.inner.config.treat_pending_as_signed_out
            && claims.session_status.as_deref() == Some("pending")
        {
            return signed_out(reason::SESSION_PENDING, "", headers);
        }
        let status = AuthStatus::SignedIn(Box::new(Auth::from_claims(claims, token)));
        if debug_headers {
            with_debug_headers(status, headers)
        } else {
            RequestState { status, headers }
        }
    }

    /// `handleMaybeHandshakeStatus`: a handshake for eligible requests, otherwise signed out;
    /// signed out too once the redirect counter reaches 3.
    fn maybe_handshake(&self, context: &Context<'_>, reason: &str, message: &str) -> RequestState {
        if !context.is_eligible_for_handshake() {
            return signed_out(reason, message, HeaderMap::new());
        }
        let Some(location) = context.handshake_location(reason) else {
            return signed_out(reason, message, HeaderMap::new());
        };
        if context.redirect_count >= 3 {
            tracing::warn!(
                reason,
                "handshake redirect loop; check that the publishable and secret keys belong to the same instance"
            );
            return signed_out(reason, message, HeaderMap::new());
        }
        let mut headers = HeaderMap::new();
        set(&mut headers, header::LOCATION, &location);
        set(&mut headers, header::CACHE_CONTROL, "no-store");
        append_set_cookie(
            &mut headers,
            &format!(
                "{REDIRECT_COUNT}={}; SameSite=Lax; HttpOnly; Max-Age=2",
                context.redirect_count + 1
            ),
        );
        with_debug_headers(
            AuthStatus::Handshake {
                location,
                reason: reason.to_owned(),
            },
            headers,
        )
    }

    /// `handleSessionTokenError`: time errors become a handshake, others sign out.
    fn token_error(&self, context: &Context<'_>, error: &VerifyError) -> RequestState {
        let message = error.to_string();
        match error {
            VerifyError::Expired { .. } => {
                // No `__refresh` support (wire §4.6): report it as not eligible.
                let reason = if context.method == Method::GET {
                    reason::SESSION_TOKEN_EXPIRED_GET
                } else {
                    reason::SESSION_TOKEN_EXPIRED_NON_GET
                };
                self.maybe_handshake(context, reason, &message)
            }
            VerifyError::NotActiveYet(_) => {
                self.maybe_handshake(context, reason::SESSION_TOKEN_NBF, &message)
            }
            VerifyError::IatInTheFuture(_) => {
                self.maybe_handshake(context, reason::SESSION_TOKEN_IAT_IN_THE_FUTURE, &message)
            }
            other => signed_out(other.reason(), &message, HeaderMap::new()),
        }
    }

    /// Rows 4 to 15 of the decision table, with `key` giving the token's key by `kid`; `None`
    /// only when `key` does (the key must be fetched first).
    fn cookie_rows(
        &self,
        context: &mut Context<'_>,
        key: impl FnOnce(Option<&str>) -> Option<Result<VerificationKey, VerifyError>>,
    ) -> Option<RequestState> {
        let session_jwt = context.session_jwt.take();
        let context = &*context;
        // Rows 4 and 5: development instances need a dev-browser token.
        if context.is_development() && context.query(DEV_BROWSER).is_some() {
            return Some(self.maybe_handshake(context, reason::DEV_BROWSER_SYNC, ""));
        }
        if context.is_development() && context.dev_browser_token.is_none() {
            return Some(self.maybe_handshake(context, reason::DEV_BROWSER_MISSING, ""));
        }
        let has_client = context.client_uat != 0;
        let Some(token) = context.session_in_cookie() else {
            // Rows 6 and 8.
            return Some(if has_client {
                self.maybe_handshake(context, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN, "")
            } else {
                signed_out(reason::SESSION_TOKEN_AND_UAT_MISSING, "", HeaderMap::new())
            });
        };
        // Row 7.
        if !has_client {
            return Some(self.maybe_handshake(
                context,
                reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT,
                "",
            ));
        }
        // Rows 9 and 10 (the token was decoded when its cookie family was chosen).
        let jwt = match session_jwt.unwrap_or_else(|| crate::jwt::decode(token)) {
            Ok(jwt) => jwt,
            Err(error) => return Some(self.token_error(context, &error)),
        };
        if let Err(error) = check_token_type(&jwt) {
            return Some(signed_out(
                reason::TOKEN_TYPE_MISMATCH,
                &error.to_string(),
                HeaderMap::new(),
            ));
        }
        // Row 11.
        if jwt
            .payload
            .iat
            .seconds()
            .is_some_and(|iat| iat < context.client_uat)
        {
            return Some(self.maybe_handshake(
                context,
                reason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT,
                "",
            ));
        }
        // Rows 12 to 15.
        let verified = key(jwt.header.kid.as_str())?
            .and_then(|key| self.verify_with_key(jwt, &key, self.inner.options.clock_skew_ms));
        Some(match verified {
            Ok((claims, token)) => {
                if context.header("sec-fetch-dest") == Some("document")
                    && context.redirect_count == 0
                    && context.is_cross_origin_foreign_referrer()
                {
                    return Some(self.maybe_handshake(
                        context,
                        reason::PRIMARY_DOMAIN_CROSS_ORIGIN_SYNC,
                        "Cross-origin request from satellite domain requires handshake",
                    ));
                }
                let state = self.signed_in(claims, token, HeaderMap::new(), context.debug_headers);
                let mismatch = match (&context.organization_target, state.auth()) {
                    (Some(target), Some(auth)) => {
                        target.mismatches(auth.org_id.as_deref(), auth.org_slug.as_deref())
                    }
                    _ => false,
                };
                if mismatch {
                    return Some(self.organization_sync_handshake(context).unwrap_or(state));
                }
                state
            }
            Err(error) => self.token_error(context, &error),
        })
    }

    /// `handleMaybeOrganizationSyncHandshake`: a handshake that activates the URL's
    /// organization, or `None` (stay signed in as is) when the request cannot take one or the
    /// redirect counter shows earlier attempts failed (the user is not a member, say).
    fn organization_sync_handshake(&self, context: &Context<'_>) -> Option<RequestState> {
        if context.redirect_count >= 3 {
            tracing::warn!(
                "organization activation handshake loop; is the organization id or slug in the URL valid for this user?"
            );
            return None;
        }
        if !context.is_eligible_for_handshake() {
            return None;
        }
        let state = self.maybe_handshake(context, reason::ACTIVE_ORGANIZATION_MISMATCH, "");
        matches!(state.status, AuthStatus::Handshake { .. }).then_some(state)
    }

    /// Wire §5.3: collects the directives of a nonce (Backend API) or a handshake token, sets
    /// them on the response, and authenticates with the `__session` they carry.
    async fn resolve_handshake(&self, context: &Context<'_>) -> Result<RequestState, VerifyError> {
        let mut headers = HeaderMap::new();
        set(&mut headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, "null");
        set(
            &mut headers,
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            "true",
        );
        let directives = match (&context.handshake_nonce, &context.handshake_token) {
            (Some(nonce), _) => match self.api() {
                Some(api) => match api.handshake_payload(nonce).await {
                    Ok(payload) => payload.directives,
                    Err(error) => {
                        // A used or unknown nonce: the request ends up signed out.
                        tracing::warn!(error = %error, "handshake payload unavailable");
                        Vec::new()
                    }
                },
                None => {
                    tracing::warn!("a handshake nonce needs a secret key to be redeemed");
                    Vec::new()
                }
            },
            (None, Some(token)) => self.verify_handshake_token(token).await?,
            (None, None) => Vec::new(),
        };
        let mut session = String::new();
        for directive in &directives {
            append_set_cookie(&mut headers, directive);
            if directive_name(directive).starts_with(SESSION) {
                session = directive_value(directive).to_owned();
            }
        }
        if context.is_development() {
            if let Some(url) = context.url() {
                let clean = without_params(
                    url,
                    &[HANDSHAKE, "__clerk_help", DEV_BROWSER, HANDSHAKE_NONCE],
                );
                set(&mut headers, header::LOCATION, clean.as_str());
                set(&mut headers, header::CACHE_CONTROL, "no-store");
            }
        }
        if session.is_empty() {
            return Ok(signed_out(reason::SESSION_TOKEN_MISSING, "", headers));
        }
        match self.verify_token(&session).await {
            Ok(claims) => Ok(self.signed_in(claims, session, headers, true)),
            Err(
                VerifyError::Expired { .. }
                | VerifyError::NotActiveYet(_)
                | VerifyError::IatInTheFuture(_),
            ) if context.is_development() => {
                // Development tolerates a skewed local clock once (wire §2.3).
                tracing::warn!("clock skew detected while resolving a handshake");
                let (claims, _) = self.verify_token_with_skew(&session, 86_400_000).await?;
                Ok(self.signed_in(claims, session, headers, true))
            }
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests;
