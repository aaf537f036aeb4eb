//! `GET /v1/client/handshake` (wire §5.2) and `GET /v1/client/touch` (§5.3): browser
//! navigations that come back to the app with fresh cookies for the app's host.
//!
//! The handshake computes the cookie directives for the app (`__session` with a fresh token
//! and `__client_uat`, or their signed-out values), keeps them under a single-use nonce (or
//! signs them into a token with `format=token`) and redirects 307 to `redirect_url` with the
//! carrier cookie. The app's backend redeems the nonce through the Backend API. An
//! `organization_id` parameter (an SDK's organization sync) switches the active session's
//! organization first, so the fresh token carries it.

use super::context::{set_cookies, Fapi};
use crate::common::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

/// How long the carrier cookie lives on the app host.
const CARRIER_MAX_AGE: i64 = 60;

/// The validated `redirect_url`: absolute http(s) and on one of the instance's origins.
fn redirect_target(fapi: &Fapi) -> Result<String, ApiError> {
    let raw = fapi
        .query
        .get("redirect_url")
        .ok_or_else(|| ApiError::param_missing("redirect_url"))?;
    let url = url::Url::parse(raw).map_err(|_| ApiError::format_invalid("redirect_url"))?;
    let origin = url.origin().ascii_serialization();
    if !matches!(url.scheme(), "http" | "https") || !fapi.browser.instance.accepts_origin(&origin) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "form_param_value_invalid",
            "redirect_url is not allowed",
            "The redirect URL is not on one of this instance's allowed origins.",
        )
        .param("redirect_url"));
    }
    Ok(url.to_string())
}

fn redirect(location: &str, cookies: Vec<String>) -> Response {
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    set_cookies(&mut response, cookies);
    response
}

/// `GET /v1/client/handshake`.
pub async fn handshake(State(app): State<AppState>, fapi: Fapi) -> Result<Response, ApiError> {
    let target = redirect_target(&fapi)?;
    // Organization sync (wire §5.1): present-but-empty selects the personal workspace.
    let organization = fapi
        .query
        .contains("organization_id")
        .then(|| fapi.query.get("organization_id").map(str::to_owned));
    let state = app
        .service
        .handshake_state(&fapi.browser, organization)
        .await?;
    let attributes = if fapi.secure {
        "; Path=/; SameSite=Lax; Secure"
    } else {
        "; Path=/; SameSite=Lax"
    };
    let names = ["".to_owned(), format!("_{}", fapi.suffix)];
    let mut directives = Vec::new();
    for suffix in &names {
        match &state.session_token {
            Some(token) => directives.push(format!("__session{suffix}={token}{attributes}")),
            None => directives.push(format!("__session{suffix}={attributes}; Max-Age=0")),
        }
    }
    directives.extend(fapi.uat_cookies(state.uat_seconds));
    let format = fapi.query.get("format").unwrap_or("token");
    let carrier = if format == "nonce" {
        directives.push(format!("__clerk_handshake_nonce={attributes}; Max-Age=0"));
        let nonce = app
            .service
            .store_handshake_nonce(&fapi.browser.instance.id, &directives)
            .await?;
        format!("__clerk_handshake_nonce={nonce}{attributes}; HttpOnly; Max-Age={CARRIER_MAX_AGE}")
    } else {
        directives.push(format!("__clerk_handshake={attributes}; Max-Age=0"));
        let token = app
            .service
            .sign_handshake_token(&fapi.browser.instance.id, &directives)
            .await?;
        format!("__clerk_handshake={token}{attributes}; HttpOnly; Max-Age={CARRIER_MAX_AGE}")
    };
    tracing::info!(
        instance.id = %fapi.browser.instance.id,
        signed_in = state.session_token.is_some(),
        reason = fapi.query.get("__clerk_hs_reason").unwrap_or_default(),
        "handshake"
    );
    Ok(redirect(&target, vec![carrier]))
}

/// `GET /v1/client/touch`: refreshes the `__client` cookie's lifetime and goes back.
pub async fn touch(fapi: Fapi) -> Result<Response, ApiError> {
    let target = redirect_target(&fapi)?;
    let mut cookies = Vec::new();
    if let Some(token) = fapi.browser.client_token.as_deref() {
        cookies.extend(fapi.client_cookies(None, Some(token)));
    }
    Ok(redirect(&target, cookies))
}
