//! Use cases: every operation of the APIs, the CLI and the admin console, each orchestrating
//! store, tokens and clock inside one transaction.
//!
//! Handlers in `concierge-http` call exactly one function here; no rule lives in a handler.
//! This crate does not know about HTTP, JSON shapes of the wire, or SQL.
#![forbid(unsafe_code)]

pub mod clients;
pub mod domains;
pub mod email_addresses;
pub mod error;
pub mod frontend;
pub mod frontend_domains;
pub mod frontend_organizations;
pub mod instance_invitations;
pub mod instances;
pub mod invitations;
pub mod jwt_templates;
pub mod keys;
pub mod mail;
pub mod mailbox;
pub mod me;
pub mod organizations;
pub mod rate_limits;
pub mod role_sets;
pub mod roles;
pub mod sessions;
pub mod tickets;
pub mod users;

use concierge_core::Clock;
use concierge_store::Store;
use std::sync::Arc;

pub use concierge_store::{
    DomainQuery, InstanceInvitationQuery, InvitationOrderField, InvitationQuery, MembershipQuery,
    OrganizationQuery, RoleSetOrderField, RoleSetQuery, SessionQuery, StoreError, UserOrderField,
    UserQuery,
};
pub use concierge_tokens::cookie_suffix;
pub use error::ServiceError;
pub use rate_limits::{retry_after_seconds, Quota};
pub use users::UserView;

/// The result type of every use case.
pub type Result<T> = std::result::Result<T, ServiceError>;

/// The reading of the system clock used outside tests (STYLE §2.7: the only place allowed to read it).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now_ms(&self) -> concierge_core::Millis {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
    }
}

/// Everything the use cases need, shared by all requests; cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: keys::KeyCache,
    instances: instances::InstanceCache,
    mailer: mail::Mailer,
    /// Public base URL of the Frontend API for emailed links, set once at start-up.
    frontend_url: std::sync::OnceLock<String>,
    /// Rate-limit admissions made by this node (every few hundred purge passed buckets).
    rate_limit_admissions: std::sync::atomic::AtomicU64,
}

impl Service {
    /// Builds the service over a store and a clock.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self::with_mailer(store, clock, mail::Mailer::Mailbox)
    }

    /// Builds the service with a chosen mail destination (SMTP or the mailbox).
    pub fn with_mailer(store: Arc<dyn Store>, clock: Arc<dyn Clock>, mailer: mail::Mailer) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                keys: keys::KeyCache::default(),
                instances: instances::InstanceCache::default(),
                mailer,
                frontend_url: std::sync::OnceLock::new(),
                rate_limit_admissions: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// The store, for start-up tasks such as closing the pool.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The current time in Unix milliseconds.
    pub fn now(&self) -> concierge_core::Millis {
        self.inner.clock.now_ms()
    }

    fn rng() -> rand::rngs::OsRng {
        rand::rngs::OsRng
    }
}

/// Runs argon2id work (about 19 MiB and tens of milliseconds per hash) with at most one hash
/// per core at a time. More in parallel would only fight over memory bandwidth and caches, and
/// a burst of sign-ins could otherwise fill the blocking pool with hundreds of hashes.
/// Waiters are served in arrival order (tokio's semaphore is fair).
pub(crate) async fn password_work<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    static PERMITS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });
    let _permit = PERMITS
        .acquire()
        .await
        .map_err(|_| ServiceError::Internal("password hashing stopped".into()))?;
    blocking(work).await
}

/// Runs CPU-heavy work (argon2id, an RSA signature that is not on a hot path) off the async
/// runtime (STYLE §2.15).
pub(crate) async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ServiceError::Internal(format!("blocking task failed: {e}")))?
}
