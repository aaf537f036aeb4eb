//! What every browser-flow handler needs from the request (the instance, the `__client`
//! cookie, the page origin, `_clerk_session_id`, form fields) and how its answer carries the
//! client cookies back (`__client`, `__client_uat` and its suffixed twin, wire §4).

use super::objects;
use super::transport::{envelope, FapiInstance};
use crate::common::extract::QueryParams;
use crate::common::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::Response;
use concierge_service::frontend::{Browser, ClientSnapshot, Outcome};
use concierge_service::Service;
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue};
use serde_json::Value;

/// One year, the lifetime of the client cookies.
const COOKIE_MAX_AGE: i64 = 31_536_000;

/// Reads one cookie from the request (the last one wins when repeated).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .next_back()
}

/// The browser-side context of a Frontend API request.
#[derive(Debug, Clone)]
pub struct Fapi {
    /// Instance, client cookie and origin, for the service.
    pub browser: Browser,
    /// `_clerk_session_id`: the session clerk-js acts as (wire §6.1).
    pub session_id: Option<String>,
    /// Whether cookies get `Secure` (the app is served over https).
    pub secure: bool,
    /// The publishable key's cookie suffix.
    pub suffix: String,
    /// The query string.
    pub query: QueryParams,
}

impl<S: Send + Sync> FromRequestParts<S> for Fapi {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let FapiInstance(instance) = FapiInstance::from_request_parts(parts, state).await?;
        let headers = &parts.headers;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let secure = header("clerk-proxy-url").is_some_and(|u| u.starts_with("https://"))
            || header("x-forwarded-proto") == Some("https");
        let origin = header(header::ORIGIN.as_str())
            .filter(|o| instance.accepts_origin(o))
            .map(str::to_owned);
        let query = QueryParams::parse(parts.uri.query().unwrap_or_default());
        let suffix = concierge_service::cookie_suffix(&instance.publishable_key);
        Ok(Self {
            session_id: query.get("_clerk_session_id").map(str::to_owned),
            browser: Browser {
                client_token: cookie(headers, "__client").map(str::to_owned),
                instance,
                origin,
            },
            secure,
            suffix,
            query,
        })
    }
}

impl Fapi {
    fn cookie_attributes(&self) -> &'static str {
        if self.secure {
            "; Path=/; SameSite=Lax; Secure"
        } else {
            "; Path=/; SameSite=Lax"
        }
    }

    /// `__client_uat` and its suffixed twin with the same value (wire §4.3 recommendation).
    pub fn uat_cookies(&self, seconds: i64) -> Vec<String> {
        let attributes = self.cookie_attributes();
        vec![
            format!("__client_uat={seconds}{attributes}; Max-Age={COOKIE_MAX_AGE}"),
            format!(
                "__client_uat_{}={seconds}{attributes}; Max-Age={COOKIE_MAX_AGE}",
                self.suffix
            ),
        ]
    }

    /// The `Set-Cookie` values an answer carries: a new `__client` and the current `__client_uat`.
    pub fn client_cookies(
        &self,
        client: Option<&ClientSnapshot>,
        new_token: Option<&str>,
    ) -> Vec<String> {
        let mut cookies = Vec::new();
        if let Some(token) = new_token {
            cookies.push(format!(
                "__client={token}{}; HttpOnly; Max-Age={COOKIE_MAX_AGE}",
                self.cookie_attributes()
            ));
        }
        if let Some(client) = client {
            cookies.extend(self.uat_cookies(client.uat_seconds));
        }
        cookies
    }

    /// `{response, client}` with the client cookies.
    pub fn respond<T>(&self, outcome: &Outcome<T>, response: Value, service: &Service) -> Response {
        let now = service.now();
        let client = outcome.client.as_ref().map(|c| objects::client(c, now));
        let mut answer = envelope(response, client);
        set_cookies(
            &mut answer,
            self.client_cookies(outcome.client.as_ref(), outcome.new_client_token.as_deref()),
        );
        answer
    }
}

/// Appends `Set-Cookie` headers.
pub fn set_cookies(response: &mut Response, cookies: Vec<String>) {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

/// A form-encoded body (clerk-js sends every mutation as `application/x-www-form-urlencoded`,
/// wire §6.1); an empty value counts as absent.
#[derive(Debug, Clone, Default)]
pub struct Form(pub QueryParams);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::malformed_body("the body could not be read"))?;
        if is_json {
            // Accept JSON objects too (flat fields), for API clients other than clerk-js.
            let value: serde_json::Map<String, Value> = crate::common::extract::parse_json(&bytes)?;
            let pairs = value
                .into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    format!(
                        "{}={}",
                        url::form_urlencoded::byte_serialize(k.as_bytes()).collect::<String>(),
                        url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
                    )
                })
                .collect::<Vec<_>>()
                .join("&");
            return Ok(Self(QueryParams::parse(&pairs)));
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| ApiError::malformed_body("the body is not UTF-8"))?;
        Ok(Self(QueryParams::parse(text)))
    }
}

impl Form {
    /// A non-empty field.
    pub fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).map(str::to_owned)
    }

    /// A boolean field (`true`/`false`).
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        self.0.get_bool(key)
    }

    /// A JSON field (`unsafe_metadata={"a":1}`).
    pub fn get_json(&self, key: &str) -> Result<Option<Value>, ApiError> {
        self.0
            .get(key)
            .map(|raw| serde_json::from_str(raw).map_err(|_| ApiError::format_invalid(key)))
            .transpose()
    }

    /// Whether the key was sent at all (even empty), for "clear this field".
    pub fn has(&self, key: &str) -> bool {
        self.0.contains(key)
    }

    /// A field that distinguishes absent (`None`) from present-but-empty (`Some(None)`).
    pub fn optional(&self, key: &str) -> Option<Option<String>> {
        self.has(key).then(|| self.get(key))
    }
}
