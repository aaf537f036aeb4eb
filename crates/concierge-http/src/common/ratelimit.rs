//! Rate limits as Clerk documents them: on the Frontend API per client IP (create sign-in and
//! sign-up: 5 per 10 s; attempt a sign-in factor or a sign-up verification: 3 per 10 s), on the
//! Backend API per secret key (1000 per 10 s for production instances, configurable; the JWKS
//! is never limited), and invitation creation per instance and hour (organization invitations
//! 250 single and 50 bulk requests, instance invitations 100 single and 25 bulk, Clerk's
//! documented system limits; checked by the handlers, which know the instance). Over the
//! limit: 429 `too_many_requests` with `Retry-After`.
//!
//! Counters live in each node's memory (GCRA from `governor`, reading the service's clock), so
//! with several nodes the effective limit is per node.

use super::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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

/// The limiters of one node.
pub struct RateLimits {
    settings: RateLimitSettings,
    create_sign_in: Option<Keyed>,
    create_sign_up: Option<Keyed>,
    attempt_sign_in: Option<Keyed>,
    attempt_sign_up: Option<Keyed>,
    backend: Option<Keyed>,
    organization_invitations: Option<Keyed>,
    organization_invitation_bulks: Option<Keyed>,
    invitations: Option<Keyed>,
    invitation_bulks: Option<Keyed>,
    clock: ServiceClock,
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

/// `n` requests per 10 seconds: a burst of `n`, one more every `10 s / n`.
fn per_ten_seconds(n: NonZeroU32, clock: &ServiceClock) -> Keyed {
    let quota = Quota::with_period(Duration::from_secs(10) / n.get())
        .unwrap_or_else(|| Quota::per_second(n))
        .allow_burst(n);
    RateLimiter::hashmap_with_clock(quota, clock.clone())
}

/// A limiter for `n` per 10 seconds; `None` (unlimited) for 0.
fn limiter(n: u32, clock: &ServiceClock) -> Option<Keyed> {
    NonZeroU32::new(n).map(|n| per_ten_seconds(n, clock))
}

/// A limiter for `n` per hour (a burst of `n`, one more every `1 h / n`); `None` for 0.
fn hourly(n: u32, clock: &ServiceClock) -> Option<Keyed> {
    NonZeroU32::new(n).map(|n| {
        let quota = Quota::with_period(Duration::from_secs(3600) / n.get())
            .unwrap_or_else(|| Quota::per_hour(n))
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
            create_sign_in: limiter(settings.sign_in_per_10s, &clock),
            create_sign_up: limiter(settings.sign_up_per_10s, &clock),
            attempt_sign_in: limiter(settings.attempts_per_10s, &clock),
            attempt_sign_up: limiter(settings.attempts_per_10s, &clock),
            backend: limiter(settings.backend_per_10s, &clock),
            organization_invitations: hourly(settings.organization_invitations_per_hour, &clock),
            organization_invitation_bulks: hourly(
                settings.organization_invitation_bulks_per_hour,
                &clock,
            ),
            invitations: hourly(settings.invitations_per_hour, &clock),
            invitation_bulks: hourly(settings.invitation_bulks_per_hour, &clock),
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one invitation-creation request of `instance` against its hourly limit.
    pub fn check_invitations(
        &self,
        kind: InvitationLimit,
        instance: &concierge_core::InstanceId,
    ) -> Result<(), ApiError> {
        if !self.settings.enabled {
            return Ok(());
        }
        let limiter = match kind {
            InvitationLimit::Organization => &self.organization_invitations,
            InvitationLimit::OrganizationBulk => &self.organization_invitation_bulks,
            InvitationLimit::Instance => &self.invitations,
            InvitationLimit::InstanceBulk => &self.invitation_bulks,
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        self.check(limiter, instance.to_string(), self.clock.now())
            .inspect_err(|_| {
                tracing::warn!(instance.id = %instance, limit = ?kind, "invitation rate limit reached");
            })
    }

    fn check(&self, limiter: &Keyed, key: String, now: Duration) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            limiter.retain_recent();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(now);
            too_many_requests(wait.as_millis().div_ceil(1000).max(1) as u64)
        })
    }

    /// Which Frontend API limiter a request falls under.
    fn frontend_limiter(&self, method: &Method, path: &str) -> Option<&Keyed> {
        if method != Method::POST {
            return None;
        }
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        match parts.as_slice() {
            ["", "v1", "client", "sign_ins"] => self.create_sign_in.as_ref(),
            ["", "v1", "client", "sign_ups"] => self.create_sign_up.as_ref(),
            ["", "v1", "client", "sign_ins", _, "attempt_first_factor" | "attempt_second_factor"] => {
                self.attempt_sign_in.as_ref()
            }
            ["", "v1", "client", "sign_ups", _, "attempt_verification"] => {
                self.attempt_sign_up.as_ref()
            }
            _ => None,
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
pub async fn frontend(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &app.limits;
    if limits.settings.enabled {
        if let Some(limiter) = limits.frontend_limiter(request.method(), request.uri().path()) {
            let instance = request
                .extensions()
                .get::<crate::fapi::transport::FapiInstance>()
                .map(|i| i.0.id.to_string())
                .unwrap_or_default();
            let key = format!("{instance} {}", client_ip(&request));
            let now = Duration::from_millis(u64::try_from(app.service.now()).unwrap_or_default());
            if let Err(error) = limits.check(limiter, key, now) {
                tracing::warn!(path = request.uri().path(), "frontend rate limit reached");
                return error.into_response();
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
