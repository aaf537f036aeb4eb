//! `GET /v1/tickets/accept?ticket=…` (wire §6.8, "accept invitation (email link)"): the link in
//! an invitation email. It answers 303 to the invitation's landing page with `__clerk_ticket`
//! and `__clerk_status`, where `<SignUp/>` or `<SignIn/>` redeem the ticket.
//!
//! The route sits outside the instance resolution of the other Frontend API routes: the link
//! is opened straight from a mailbox, so when the request names no instance (no proxy key, no
//! known host) the ticket's own instance is used, and only that instance's keys verify it.

use crate::common::{ApiError, QueryParams};
use crate::AppState;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use concierge_service::ServiceError;
use http::{header, HeaderValue, StatusCode};

fn header_str<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `GET /v1/tickets/accept`.
pub async fn accept(State(app): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let params = QueryParams::parse(request.uri().query().unwrap_or_default());
    let ticket = params
        .get("ticket")
        .ok_or_else(|| ApiError::param_missing("ticket"))?;
    let host = header_str(&request, "x-forwarded-host")
        .or_else(|| header_str(&request, header::HOST.as_str()));
    let requested = match app
        .service
        .instance_for_frontend_request(header_str(&request, "clerk-secret-key"), host)
        .await
    {
        Ok(instance) => Some(instance),
        Err(ServiceError::NotFound) => None,
        Err(other) => return Err(other.into()),
    };
    let target = app.service.ticket_landing(requested, ticket).await?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&target).map_err(|_| ApiError::internal())?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The ticket is in this URL and the next: keep both out of Referer headers.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}
