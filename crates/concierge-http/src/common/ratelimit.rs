//! Rate limits as Clerk documents them: on the Frontend API per client IP (create sign-in and
//! sign-up: 5 per 10 s; attempt a sign-in factor or a sign-up verification: 3 per 10 s), on the
//! Backend API per secret key (1000 per 10 s for production instances, configurable; the JWKS
//! is never limited), and invitation creation per instance and hour (organization invitations
//! 250 single and 50 bulk requests, instance invitations 100 single and 25 bulk, Clerk's
//! documented system limits; checked by the handlers, which know the instance). Over the
//! limit: 429 `too_many_requests` with `Retry-After`.
//!
//! The Frontend API and invitation limits are counted in the database (GCRA, one row per
//! bucket, `Service::admit_rate_limited`), so every node on one database enforces one limit.
//! The Backend API's per-key limit, on the hot path of every server-side call, is counted in
//! each node's memory (GCRA from `governor`), so with several nodes it applies per node. All of
//! them read the service's clock.

use super::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use concierge_service::Quota as SharedQuota;
use concierge_service::Service;
use governor::clock::Clock as GovernorClock;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use http::{Method, StatusCode};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The service's clock as `governor` reads it (so tests that move the clock move the limits).
#[derive(Clone)]
struct ServiceClock(Service);

impl GovernorClock for ServiceClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.now()).unwrap_or_default())
    }
}

type Keyed = RateLimiter<
    String,
    HashMapStateStore<String>,
    ServiceClock,
    governor::middleware::NoOpMiddleware<Duration>,
>;

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

/// The limiters: the Backend API's per-key limiter in this node's memory, and the quotas of
/// the limits shared through the database.
pub struct RateLimits {
    settings: RateLimitSettings,
    backend: Option<Keyed>,
    checks: AtomicU64,
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

/// A limiter for `n` per 10 seconds (a burst of `n`, one more every `10 s / n`); `None`
/// (unlimited) for 0.
fn limiter(n: u32, clock: &ServiceClock) -> Option<Keyed> {
    NonZeroU32::new(n).map(|n| {
        let quota = Quota::with_period(Duration::from_secs(10) / n.get())
            .unwrap_or_else(|| Quota::per_second(n))
            .allow_burst(n);
        RateLimiter::hashmap_with_clock(quota, clock.clone())
    })
}

impl RateLimits {
    /// Limiters reading `service`'s clock.
    pub fn new(service: &Service, settings: RateLimitSettings) -> Self {
        let clock = ServiceClock(service.clone());
        Self {
            settings,
            backend: limiter(settings.backend_per_10s, &clock),
            checks: AtomicU64::new(0),
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

    /// This node's Backend API limiter: one request of `key`.
    fn check(&self, limiter: &Keyed, key: String, now: Duration) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            limiter.retain_recent();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(now);
            too_many_requests(wait.as_millis().div_ceil(1000).max(1) as u64)
        })
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

/// Backend API middleware: per secret key, except the JWKS.
pub async fn backend(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &app.limits;
    if let (true, Some(limiter)) = (limits.settings.enabled, &limits.backend) {
        if request.uri().path() != "/v1/jwks" {
            if let Some(key) = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
            {
                let key = concierge_service::key_fingerprint(key);
                let now =
                    Duration::from_millis(u64::try_from(app.service.now()).unwrap_or_default());
                if let Err(error) = limits.check(limiter, key, now) {
                    tracing::warn!("backend rate limit reached");
                    return error.into_response();
                }
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
