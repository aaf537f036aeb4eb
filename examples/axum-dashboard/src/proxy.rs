//! `/__clerk/*` → the Frontend API, the equivalent of `clerkFrontendApiProxy` from
//! `@clerk/backend/proxy` (wire §1.6): the browser talks to one origin, so clerk-js's cookies
//! (`__client`, `__client_uat`, `__session`) are first-party and the handshake comes back here.
//!
//! Forwarded: method, path after the prefix, query, body, and every request header except
//! hop-by-hop ones and `Host`. Added: `Clerk-Proxy-Url` (this origin + prefix, which FAPI uses
//! for the URLs it hands out), `Clerk-Secret-Key` (how FAPI picks the instance), and
//! `X-Forwarded-For`/`-Host`/`-Proto`. The answer keeps its status and every `Set-Cookie`;
//! redirects are passed to the browser, with a `Location` on the FAPI host rewritten to go
//! through the proxy.

use crate::App;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use std::net::SocketAddr;

/// Where the Frontend API is mounted on this origin.
pub const PROXY_PATH: &str = "/__clerk";

/// Largest request body forwarded (profile images are the biggest).
const MAX_BODY: usize = 10 * 1024 * 1024;

const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// The forwarding client and its fixed headers.
#[derive(Clone)]
pub struct FrontendApiProxy {
    http: reqwest::Client,
    fapi_url: String,
    proxy_url: String,
    secret_key: HeaderValue,
}

impl FrontendApiProxy {
    /// A proxy to `fapi_url` announced to FAPI as `proxy_url`.
    pub fn new(fapi_url: &str, proxy_url: &str, secret_key: &str) -> anyhow::Result<Self> {
        let mut secret_key = HeaderValue::from_str(secret_key)?;
        secret_key.set_sensitive(true);
        Ok(Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            fapi_url: fapi_url.trim_end_matches('/').to_owned(),
            proxy_url: proxy_url.trim_end_matches('/').to_owned(),
            secret_key,
        })
    }

    fn request_headers(&self, incoming: &HeaderMap, client: SocketAddr) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in incoming {
            if !HOP_BY_HOP.contains(&name.as_str()) && name != header::ACCEPT_ENCODING {
                headers.append(name.clone(), value.clone());
            }
        }
        let set = |headers: &mut HeaderMap, name: &'static str, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        };
        set(&mut headers, "clerk-proxy-url", &self.proxy_url);
        headers.insert(
            HeaderName::from_static("clerk-secret-key"),
            self.secret_key.clone(),
        );
        // Bodies are relayed as they are, so ask for them uncompressed.
        set(&mut headers, "accept-encoding", "identity");
        let forwarded_for = incoming
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| client.ip().to_string());
        set(&mut headers, "x-forwarded-for", &forwarded_for);
        if let Ok(public) = url::Url::parse(&self.proxy_url) {
            if !incoming.contains_key("x-forwarded-host") {
                if let Some(host) = public.host_str() {
                    let host = match public.port() {
                        Some(port) => format!("{host}:{port}"),
                        None => host.to_owned(),
                    };
                    set(&mut headers, "x-forwarded-host", &host);
                }
            }
            if !incoming.contains_key("x-forwarded-proto") {
                set(&mut headers, "x-forwarded-proto", public.scheme());
            }
        }
        headers
    }

    /// Forwards one request.
    async fn forward(&self, request: Request, client: SocketAddr) -> Response {
        let (parts, body) = request.into_parts();
        let rest = parts
            .uri
            .path()
            .strip_prefix(PROXY_PATH)
            .unwrap_or_default();
        let rest = if rest.is_empty() { "/" } else { rest };
        let target = match parts.uri.query() {
            Some(query) => format!("{}{rest}?{query}", self.fapi_url),
            None => format!("{}{rest}", self.fapi_url),
        };
        let body: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(body) => body,
            Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response(),
        };
        let answer = self
            .http
            .request(parts.method.clone(), &target)
            .headers(self.request_headers(&parts.headers, client))
            .body(body)
            .send()
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                tracing::error!(error = %error, "Frontend API unreachable");
                return (StatusCode::BAD_GATEWAY, "Frontend API unreachable").into_response();
            }
        };
        let status = answer.status();
        let mut headers = HeaderMap::new();
        for (name, value) in answer.headers() {
            if HOP_BY_HOP.contains(&name.as_str())
                || name == header::CONTENT_ENCODING
                || name == header::CONTENT_LENGTH
            {
                continue;
            }
            headers.append(name.clone(), value.clone());
        }
        if let Some(location) = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.strip_prefix(&self.fapi_url))
            .map(|rest| format!("{}{rest}", self.proxy_url))
        {
            if let Ok(value) = HeaderValue::from_str(&location) {
                headers.insert(header::LOCATION, value);
            }
        }
        let bytes = match answer.bytes().await {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::error!(error = %error, "Frontend API answer cut short");
                return (StatusCode::BAD_GATEWAY, "Frontend API answer cut short").into_response();
            }
        };
        let mut response = Response::new(Body::from(bytes));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
    }
}

async fn forward(
    State(app): State<App>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    app.proxy.forward(request, client).await
}

/// The proxy routes (outside `ClerkLayer`: FAPI authenticates these requests itself).
pub fn router(app: App) -> Router {
    Router::new()
        .route(PROXY_PATH, any(forward))
        .route(&format!("{PROXY_PATH}/{{*rest}}"), any(forward))
        .with_state(app)
}
