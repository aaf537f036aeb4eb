//! Frontend API transport (wire §6.1): `_method` override and trailing slashes before routing,
//! instance resolution, CORS for the instance's origins with credentials, the origin check on
//! cookie-carrying mutations (CSRF), and the `{response, client}` envelope.

use crate::common::ApiError;
use crate::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use concierge_core::Instance;
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};

/// Rewrites what clerk-js puts on the wire into what the routes match: `POST …?_method=PATCH`
/// becomes `PATCH`, and `/v1/me/email_addresses/` matches `/v1/me/email_addresses`.
pub async fn normalize(mut request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        let overridden = request.uri().query().and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "_method")
                .and_then(|(_, v)| match v.to_ascii_uppercase().as_str() {
                    "PATCH" => Some(Method::PATCH),
                    "PUT" => Some(Method::PUT),
                    "DELETE" => Some(Method::DELETE),
                    _ => None,
                })
        });
        if let Some(method) = overridden {
            *request.method_mut() = method;
        }
    }
    let path = request.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let rebuilt = match request.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    next.run(request).await
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The instance a frontend request is for, resolved once by [`resolve_instance`] (shared with
/// the instance cache).
#[derive(Clone)]
pub struct FapiInstance(pub std::sync::Arc<Instance>);

impl<S: Send + Sync> FromRequestParts<S> for FapiInstance {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<FapiInstance>()
            .cloned()
            .ok_or_else(ApiError::no_route)
    }
}

fn is_cors_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn carries_client_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| pair.trim_start().starts_with("__client="))
}

fn origin_invalid() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "origin_invalid",
        "origin invalid",
        "This request's origin is not allowed for this instance. Add it to the instance's allowed origins.",
    )
}

fn add_cors(response: &mut Response, origin: &str) {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, x-country"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// Resolves the instance (wire §1.6: `Clerk-Secret-Key` from the app's proxy, else the `Host`,
/// else the only instance), answers CORS preflights, refuses mutations from foreign origins
/// that carry the client cookie, and adds CORS headers for accepted origins.
pub async fn resolve_instance(
    State(app): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let secret = header_str(headers, "clerk-secret-key").map(str::to_owned);
    let host = header_str(headers, "x-forwarded-host")
        .or_else(|| header_str(headers, header::HOST.as_str()))
        .map(str::to_owned);
    let instance = match app
        .service
        .instance_for_frontend_request(secret.as_deref(), host.as_deref())
        .await
    {
        Ok(instance) => instance,
        Err(err) => return ApiError::from(err).into_response(),
    };
    let origin = header_str(request.headers(), header::ORIGIN.as_str()).map(str::to_owned);
    let accepted = origin
        .as_deref()
        .filter(|o| instance.accepts_origin(o))
        .map(str::to_owned);
    if request.method() == Method::OPTIONS {
        let Some(origin) = accepted else {
            return origin_invalid().into_response();
        };
        let mut response = StatusCode::NO_CONTENT.into_response();
        add_cors(&mut response, &origin);
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
        );
        if let Some(requested) = request
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
        {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
        }
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return response;
    }
    // CSRF: a mutation that carries the client cookie must come from an accepted origin.
    if !is_cors_safe(request.method())
        && carries_client_cookie(request.headers())
        && accepted.is_none()
    {
        tracing::info!(instance.id = %instance.id, "refused a cookie-carrying mutation from a foreign origin");
        return origin_invalid().into_response();
    }
    request.extensions_mut().insert(FapiInstance(instance));
    let mut response = next.run(request).await;
    if let Some(origin) = accepted {
        add_cors(&mut response, &origin);
    }
    response
}

/// `{"response": …, "client": …}`, the envelope of every FAPI resource endpoint.
pub fn envelope(response: serde_json::Value, client: Option<serde_json::Value>) -> Response {
    crate::common::extract::json_response(
        StatusCode::OK,
        &serde_json::json!({ "response": response, "client": client }),
    )
}
