//! Rate limits as Clerk documents them: on the Frontend API per client IP (create sign-in and
//! sign-up: 5 per 10 s; attempt a sign-in factor or a sign-up verification: 3 per 10 s), on the
//! Backend API per secret key (1000 per 10 s for production instances, configurable; the JWKS
//! is never limited), and invitation creation per instance and hour (organization invitations
//! 250 single and 50 bulk requests, instance invitations 100 single and 25 bulk, Clerk's
//! documented system limits; checked by the handlers, which know the instance). Over the
//! limit: 429 `too_many_requests` with `Retry-After`.
//!
//! Every limit is counted in the database (GCRA, one row per bucket,
//! `Service::take_rate_limited`), so every node on one database enforces one limit. The
//! Backend API's per-key limit is on the hot path of every server-side call, so a node takes
//! its admissions from the database in batches (a lease of up to 50, a twentieth of the limit)
//! and hands them out from memory; near the limit it takes them one at a time, and a refusal
//! is remembered until its `Retry-After` has passed. Leased admissions count as used when
//! they are taken, so the nodes together never admit more than the limit plus what each node
//! holds at a time (at most one lease: 5% of the default limit). All of them read the service's
//! clock.

use super::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use concierge_core::{InstanceId, Millis};
use concierge_service::Quota as SharedQuota;
use concierge_service::{retry_after_seconds, Service};
use http::{Method, StatusCode};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Settings of the limits (TOML `[rate_limits]`).
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSettings {
    /// Turns every limit on or off.
    pub enabled: bool,
    /// Backend API requests per 10 seconds per secret key; 0 means unlimited.
    pub backend_per_10s: u32,
    /// Sign-in creations per 10 seconds per client IP; 0 means unlimited.
    pub sign_in_per_10s: u32,
    /// Sign-up creations per 10 seconds per client IP; 0 means unlimited.
    pub sign_up_per_10s: u32,
    /// Factor and code attempts per 10 seconds per client IP; 0 means unlimited.
    pub attempts_per_10s: u32,
    /// Organization invitation requests (one invitation each) per hour per instance, both
    /// APIs together; 0 means unlimited.
    pub organization_invitations_per_hour: u32,
    /// Bulk organization invitation requests per hour per instance; 0 means unlimited.
    pub organization_invitation_bulks_per_hour: u32,
    /// Instance invitation requests per hour per instance; 0 means unlimited.
    pub invitations_per_hour: u32,
    /// Bulk instance invitation requests per hour per instance; 0 means unlimited.
    pub invitation_bulks_per_hour: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            backend_per_10s: 1000,
            sign_in_per_10s: 5,
            sign_up_per_10s: 5,
            attempts_per_10s: 3,
            organization_invitations_per_hour: 250,
            organization_invitation_bulks_per_hour: 50,
            invitations_per_hour: 100,
            invitation_bulks_per_hour: 25,
        }
    }
}

/// The limits' quotas, and this node's leases of Backend API admissions.
pub struct RateLimits {
    settings: RateLimitSettings,
    backend: Option<BackendLimiter>,
}

/// The bucket of the Backend API limit (one per instance, which has one secret key).
const BACKEND_BUCKET: &str = "backend_api";

/// The Backend API limit of every instance on this node: admissions leased from the database.
struct BackendLimiter {
    quota: SharedQuota,
    /// Admissions taken from the database at once.
    batch: u32,
    /// One lease per instance; its lock is held while the lease is refilled, so that the
    /// node's concurrent requests wait for one refill instead of each taking a batch.
    leases: Mutex<HashMap<InstanceId, Arc<tokio::sync::Mutex<Lease>>>>,
}

/// What this node holds of one instance's Backend API limit.
#[derive(Debug, Default)]
struct Lease {
    /// Admissions taken from the database and not yet handed out.
    remaining: u32,
    /// Until when requests are refused without asking the database (the last refusal's wait).
    refused_until: Millis,
    /// Until when the database is asked for one admission at a time (a batch did not fit).
    single_until: Millis,
}

impl BackendLimiter {
    /// `limit` requests per 10 seconds; `None` (unlimited) for 0.
    fn new(limit: u32) -> Option<Self> {
        (limit > 0).then(|| Self {
            quota: SharedQuota::per_ten_seconds(limit),
            batch: (limit / 20).clamp(1, 50),
            leases: Mutex::default(),
        })
    }

    fn lease(&self, instance: &InstanceId) -> Arc<tokio::sync::Mutex<Lease>> {
        let mut leases = self.leases.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lease) = leases.get(instance) {
            return lease.clone();
        }
        leases.entry(instance.clone()).or_default().clone()
    }

    /// Admits one request of `instance`: from the lease, else from the database. `Ok(None)`
    /// when admitted, `Ok(Some(ms))` when refused with the wait.
    async fn admit(
        &self,
        service: &Service,
        instance: &InstanceId,
    ) -> Result<Option<Millis>, ApiError> {
        let lease = self.lease(instance);
        let mut lease = lease.lock().await;
        if lease.remaining > 0 {
            lease.remaining -= 1;
            return Ok(None);
        }
        let now = service.now();
        if now < lease.refused_until {
            return Ok(Some(lease.refused_until - now));
        }
        if now >= lease.single_until && self.batch > 1 {
            match service
                .take_rate_limited(instance, BACKEND_BUCKET, self.quota, self.batch)
                .await?
            {
                None => {
                    lease.remaining = self.batch - 1;
                    return Ok(None);
                }
                // Near the limit: one at a time until a batch would have room again.
                Some(_) => {
                    lease.single_until = now + self.quota.interval() * Millis::from(self.batch);
                }
            }
        }
        let refused = service
            .take_rate_limited(instance, BACKEND_BUCKET, self.quota, 1)
            .await?;
        if let Some(wait) = refused {
            lease.refused_until = now + wait;
        }
        Ok(refused)
    }
}

/// Which invitation-creation limit a request falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationLimit {
    /// `POST …/organizations/{id}/invitations` (Backend or Frontend API).
    Organization,
    /// `POST …/organizations/{id}/invitations/bulk`.
    OrganizationBulk,
    /// `POST /v1/invitations`.
    Instance,
    /// `POST /v1/invitations/bulk`.
    InstanceBulk,
}

impl InvitationLimit {
    /// The bucket name of this limit (one per instance).
    fn bucket(self) -> &'static str {
        match self {
            Self::Organization => "organization_invitations",
            Self::OrganizationBulk => "organization_invitation_bulks",
            Self::Instance => "invitations",
            Self::InstanceBulk => "invitation_bulks",
        }
    }
}

/// A Frontend API limit: what it counts, per client IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrontendLimit {
    CreateSignIn,
    CreateSignUp,
    AttemptSignIn,
    AttemptSignUp,
}

impl FrontendLimit {
    fn name(self) -> &'static str {
        match self {
            Self::CreateSignIn => "create_sign_in",
            Self::CreateSignUp => "create_sign_up",
            Self::AttemptSignIn => "attempt_sign_in",
            Self::AttemptSignUp => "attempt_sign_up",
        }
    }

    /// Which limit a Frontend API request falls under, if any.
    fn of(method: &Method, path: &str) -> Option<Self> {
        if method != Method::POST {
            return None;
        }
        let mut parts = path.trim_end_matches('/').split('/');
        let (Some(""), Some("v1"), Some("client"), Some(kind)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let (id, action, rest) = (parts.next(), parts.next(), parts.next());
        match (kind, id, action, rest) {
            ("sign_ins", None, None, None) => Some(Self::CreateSignIn),
            ("sign_ups", None, None, None) => Some(Self::CreateSignUp),
            ("sign_ins", Some(_), Some("attempt_first_factor" | "attempt_second_factor"), None) => {
                Some(Self::AttemptSignIn)
            }
            ("sign_ups", Some(_), Some("attempt_verification"), None) => Some(Self::AttemptSignUp),
            _ => None,
        }
    }
}

impl RateLimits {
    /// The limits of `settings`.
    pub fn new(settings: RateLimitSettings) -> Self {
        Self {
            settings,
            backend: BackendLimiter::new(settings.backend_per_10s),
        }
    }

    fn frontend_quota(&self, limit: FrontendLimit) -> SharedQuota {
        let s = &self.settings;
        SharedQuota::per_ten_seconds(match limit {
            FrontendLimit::CreateSignIn => s.sign_in_per_10s,
            FrontendLimit::CreateSignUp => s.sign_up_per_10s,
            FrontendLimit::AttemptSignIn | FrontendLimit::AttemptSignUp => s.attempts_per_10s,
        })
    }

    fn invitation_quota(&self, kind: InvitationLimit) -> SharedQuota {
        let s = &self.settings;
        SharedQuota::per_hour(match kind {
            InvitationLimit::Organization => s.organization_invitations_per_hour,
            InvitationLimit::OrganizationBulk => s.organization_invitation_bulks_per_hour,
            InvitationLimit::Instance => s.invitations_per_hour,
            InvitationLimit::InstanceBulk => s.invitation_bulks_per_hour,
        })
    }

    /// Counts one invitation-creation request of `instance` against its hourly limit, for
    /// every node on the database.
    pub async fn check_invitations(
        &self,
        service: &Service,
        kind: InvitationLimit,
        instance: &concierge_core::InstanceId,
    ) -> Result<(), ApiError> {
        if !self.settings.enabled {
            return Ok(());
        }
        let quota = self.invitation_quota(kind);
        match service
            .admit_rate_limited(instance, kind.bucket(), quota)
            .await?
        {
            None => Ok(()),
            Some(wait) => {
                tracing::warn!(instance.id = %instance, limit = ?kind, "invitation rate limit reached");
                Err(too_many_requests(wait))
            }
        }
    }
}

fn too_many_requests(retry_after: u64) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "Too many requests",
        "Too many requests. Please wait a moment and try again.",
    );
    error.retry_after = Some(retry_after);
    error
}

/// The client's IP: the first `X-Forwarded-For` entry when the request came through an app's
/// proxy that proved itself with the secret key, else the connection's peer address.
fn client_ip(request: &Request) -> String {
    let headers = request.headers();
    if headers.contains_key("clerk-secret-key") {
        if let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return first.trim().to_owned();
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_default()
}

/// Frontend API middleware; runs after instance resolution (a wrong proxy key never gets here).
/// The counts are shared by every node on the database.
pub async fn frontend(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &app.limits;
    let limit = limits
        .settings
        .enabled
        .then(|| FrontendLimit::of(request.method(), request.uri().path()))
        .flatten();
    if let Some(limit) = limit {
        // Only the few limited routes look at the instance; every other request passes as is.
        let instance = request
            .extensions()
            .get::<crate::fapi::transport::FapiInstance>()
            .map(|i| i.0.id.clone());
        if let Some(instance) = instance {
            let bucket = format!("{} {}", limit.name(), client_ip(&request));
            match app
                .service
                .admit_rate_limited(&instance, &bucket, limits.frontend_quota(limit))
                .await
            {
                Ok(None) => {}
                Ok(Some(wait)) => {
                    tracing::warn!(path = request.uri().path(), "frontend rate limit reached");
                    return too_many_requests(wait).into_response();
                }
                Err(error) => return ApiError::from(error).into_response(),
            }
        }
    }
    next.run(request).await
}

/// Backend API middleware: per instance (its secret key), except the JWKS. The instance it
/// resolves is handed to the handler's `BapiInstance`; a request whose key resolves to none
/// goes on to be refused there.
pub async fn backend(State(app): State<AppState>, mut request: Request, next: Next) -> Response {
    let limits = &app.limits;
    if let (true, Some(limiter)) = (limits.settings.enabled, &limits.backend) {
        if request.uri().path() != "/v1/jwks" {
            let key = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(crate::bapi::bearer_key);
            let instance = match key {
                Some(key) => match app.service.authenticate_secret_key(key).await {
                    Ok(instance) => Some(instance),
                    // The handler answers 401 without looking the key up a second time.
                    Err(concierge_service::ServiceError::Unauthenticated) => {
                        request
                            .extensions_mut()
                            .insert(crate::bapi::RefusedSecretKey);
                        None
                    }
                    Err(_) => None,
                },
                None => None,
            };
            if let Some(instance) = instance {
                match limiter.admit(&app.service, &instance.id).await {
                    Ok(None) => {}
                    Ok(Some(wait)) => {
                        tracing::warn!(instance.id = %instance.id, "backend rate limit reached");
                        return too_many_requests(retry_after_seconds(wait)).into_response();
                    }
                    Err(error) => return error.into_response(),
                }
                request
                    .extensions_mut()
                    .insert(crate::bapi::BapiInstance(instance));
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontend_limits_by_route() {
        let of = |method: Method, path: &str| FrontendLimit::of(&method, path);
        assert_eq!(
            of(Method::POST, "/v1/client/sign_ins"),
            Some(FrontendLimit::CreateSignIn)
        );
        assert_eq!(
            of(Method::POST, "/v1/client/sign_ins/"),
            Some(FrontendLimit::CreateSignIn)
        );
        assert_eq!(
            of(Method::POST, "/v1/client/sign_ups"),
            Some(FrontendLimit::CreateSignUp)
        );
        assert_eq!(
            of(
                Method::POST,
                "/v1/client/sign_ins/sia_1/attempt_first_factor"
            ),
            Some(FrontendLimit::AttemptSignIn)
        );
        assert_eq!(
            of(
                Method::POST,
                "/v1/client/sign_ins/sia_1/attempt_second_factor"
            ),
            Some(FrontendLimit::AttemptSignIn)
        );
        assert_eq!(
            of(
                Method::POST,
                "/v1/client/sign_ups/sua_1/attempt_verification"
            ),
            Some(FrontendLimit::AttemptSignUp)
        );
        for (method, path) in [
            (Method::GET, "/v1/client/sign_ins"),
            (Method::POST, "/v1/client"),
            (Method::POST, "/v1/client/sign_ins/sia_1"),
            (
                Method::POST,
                "/v1/client/sign_ins/sia_1/prepare_first_factor",
            ),
            (
                Method::POST,
                "/v1/client/sign_ups/sua_1/attempt_verification/x",
            ),
            (Method::POST, "/v2/client/sign_ins"),
        ] {
            assert_eq!(of(method.clone(), path), None, "{method} {path}");
        }
    }
}
