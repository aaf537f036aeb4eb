//! Tenant scoping for sqlx + PostgreSQL (feature `sqlx-postgres`): queries run in a
//! transaction that first sets `app.current_org` (and `app.current_user`) from a verified
//! [`Auth`], so that row-level-security policies filter every table by organization and
//! application code cannot forget the `WHERE org_id = …`.
//!
//! The settings are transaction-local (`set_config(…, true)`), so they vanish at commit or
//! rollback and a pooled connection never carries one request's organization into the next.
//!
//! # Row-level security
//!
//! A policy per tenant table reads the setting. `current_setting(…, true)` is `NULL` (or
//! empty) outside [`scoped`]/[`begin`], which matches no row: a query that bypasses the helper
//! sees nothing and cannot insert. The application must connect as a role that is **not** a
//! superuser and does not have `BYPASSRLS` (superusers skip every policy); `FORCE` makes the
//! policies apply to the table's owner too.
//!
//! ```sql
//! CREATE TABLE tasks (
//!     id         BIGSERIAL PRIMARY KEY,
//!     org_id     TEXT NOT NULL DEFAULT current_setting('app.current_org', true),
//!     title      TEXT NOT NULL,
//!     created_by TEXT NOT NULL DEFAULT current_setting('app.current_user', true)
//! );
//! ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
//! ALTER TABLE tasks FORCE ROW LEVEL SECURITY;
//! CREATE POLICY tasks_of_the_current_org ON tasks
//!     USING (org_id = current_setting('app.current_org', true))
//!     WITH CHECK (org_id = current_setting('app.current_org', true));
//! GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO app;
//! GRANT USAGE ON SEQUENCE tasks_id_seq TO app;
//! ```
//!
//! # Example
//!
//! ```no_run
//! use concierge_sdk::tenant::{self, TenantError};
//! use concierge_sdk::Auth;
//! use sqlx::PgPool;
//!
//! async fn titles(pool: &PgPool, auth: &Auth) -> Result<Vec<String>, TenantError> {
//!     tenant::scoped(pool, auth, |tx| {
//!         Box::pin(async move {
//!             // No organization filter: the policy adds it.
//!             let rows: Vec<(String,)> = sqlx::query_as("SELECT title FROM tasks ORDER BY id")
//!                 .fetch_all(&mut **tx)
//!                 .await?;
//!             Ok(rows.into_iter().map(|(t,)| t).collect())
//!         })
//!     })
//!     .await
//! }
//! ```

use crate::Auth;
use sqlx::{PgPool, Postgres, Transaction};
use std::future::Future;
use std::pin::Pin;

/// The setting policies read for the active organization.
///
/// ```
/// // A policy reads it: `USING (org_id = current_setting('app.current_org', true))`.
/// assert_eq!(concierge_sdk::tenant::CURRENT_ORG, "app.current_org");
/// ```
pub const CURRENT_ORG: &str = "app.current_org";
/// The setting policies may read for the signed-in user.
///
/// ```
/// assert_eq!(concierge_sdk::tenant::CURRENT_USER, "app.current_user");
/// ```
pub const CURRENT_USER: &str = "app.current_user";

/// Why a scoped transaction failed.
///
/// ```
/// use concierge_sdk::tenant::{self, TenantError};
/// use concierge_sdk::{Auth, SessionClaims};
/// use http::StatusCode;
///
/// // How an application might answer each failure.
/// fn status(error: &TenantError) -> StatusCode {
///     match error {
///         // The personal account is active: the user must pick an organization first.
///         TenantError::NoActiveOrganization => StatusCode::FORBIDDEN,
///         TenantError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
///     }
/// }
///
/// // A verified session without an active organization (v2 claims without `o`).
/// let claims = serde_json::json!({"sub": "user_1", "sid": "sess_1", "exp": 4_000_000_000_i64, "v": 2});
/// let claims = SessionClaims::from_map(claims.as_object().cloned().unwrap_or_default()).unwrap();
/// let auth = Auth::from_claims(claims, "eyJ…".into());
///
/// let runtime = tokio::runtime::Runtime::new()?;
/// let error = runtime.block_on(async {
///     // A lazy pool: the request is refused before any connection is attempted.
///     let pool = sqlx::PgPool::connect_lazy("postgres://app@db.example.internal/app")?;
///     Ok::<_, sqlx::Error>(tenant::begin(&pool, &auth).await.err())
/// })?;
/// assert!(matches!(error, Some(TenantError::NoActiveOrganization)));
/// assert_eq!(error.as_ref().map(status), Some(StatusCode::FORBIDDEN));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// The session has no active organization (the personal account): nothing to scope to.
    #[error("the session has no active organization")]
    NoActiveOrganization,
    /// The database refused (connection, query, commit).
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The future a [`scoped`] closure returns, borrowing the transaction.
///
/// Naming it lets the work be a plain function instead of a closure:
///
/// ```no_run
/// use concierge_sdk::tenant::{self, ScopedFuture, TenantError};
/// use sqlx::{Postgres, Transaction};
///
/// fn count_tasks<'c>(tx: &'c mut Transaction<'static, Postgres>) -> ScopedFuture<'c, i64, TenantError> {
///     Box::pin(async move {
///         // The policy limits the count to the active organization's rows.
///         let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM tasks")
///             .fetch_one(&mut **tx)
///             .await?;
///         Ok(count)
///     })
/// }
///
/// # async fn run(pool: sqlx::PgPool, auth: concierge_sdk::Auth) -> Result<(), TenantError> {
/// let count = tenant::scoped(&pool, &auth, count_tasks).await?;
/// println!("{count} tasks in {:?}", auth.org_slug);
/// # Ok(()) }
/// ```
pub type ScopedFuture<'c, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>;

/// Begins a transaction scoped to `auth`'s active organization: `app.current_org` and
/// `app.current_user` are set for its duration. Commit it, or drop it to roll back.
///
/// ```no_run
/// # async fn run(pool: sqlx::PgPool, auth: concierge_sdk::Auth) -> Result<(), concierge_sdk::tenant::TenantError> {
/// let mut tx = concierge_sdk::tenant::begin(&pool, &auth).await?;
/// sqlx::query("INSERT INTO tasks (title) VALUES ($1)")
///     .bind("Ship it")
///     .execute(&mut *tx)
///     .await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub async fn begin(
    pool: &PgPool,
    auth: &Auth,
) -> Result<Transaction<'static, Postgres>, TenantError> {
    let org_id = auth
        .org_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or(TenantError::NoActiveOrganization)?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config($1, $2, true), set_config($3, $4, true)")
        .bind(CURRENT_ORG)
        .bind(org_id)
        .bind(CURRENT_USER)
        .bind(&auth.user_id)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Runs `work` in a transaction scoped to `auth`'s active organization (see [`begin`]);
/// commits when it returns `Ok`, rolls back when it returns `Err`. The closure's error type
/// only needs `From<TenantError>` (and [`TenantError`] itself qualifies), so `?` works on
/// sqlx calls inside it when `E: From<sqlx::Error>`.
///
/// Propagate database errors out of the closure: PostgreSQL aborts a transaction at its first
/// failed statement, and committing an aborted transaction silently rolls it back.
///
/// ```no_run
/// use concierge_sdk::tenant::{scoped, TenantError};
///
/// # async fn run(pool: sqlx::PgPool, auth: concierge_sdk::Auth) -> Result<(), TenantError> {
/// let id: i64 = scoped(&pool, &auth, |tx| {
///     Box::pin(async move {
///         let (id,): (i64,) = sqlx::query_as("INSERT INTO tasks (title) VALUES ($1) RETURNING id")
///             .bind("Write docs")
///             .fetch_one(&mut **tx)
///             .await?;
///         Ok::<_, TenantError>(id)
///     })
/// })
/// .await?;
/// # let _ = id; Ok(()) }
/// ```
pub async fn scoped<T, E, F>(pool: &PgPool, auth: &Auth, work: F) -> Result<T, E>
where
    E: From<TenantError>,
    F: for<'c> FnOnce(&'c mut Transaction<'static, Postgres>) -> ScopedFuture<'c, T, E>,
{
    let mut tx = begin(pool, auth).await.map_err(E::from)?;
    let value = work(&mut tx).await?;
    tx.commit()
        .await
        .map_err(|e| E::from(TenantError::Database(e)))?;
    Ok(value)
}
