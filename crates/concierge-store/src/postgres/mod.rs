//! The PostgreSQL backend: shared state for several stateless `serve` nodes. Uniqueness is
//! enforced by the database's indexes, so concurrent nodes cannot both win a race.

use crate::sql::{impl_tx, logical_constraint, secret_hash};
use crate::{Backend, Store, Tx};
use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: PgPool,
}

/// Maps a sqlx error to the storage error.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            match db
                .constraint()
                .and_then(logical_constraint)
                .or_else(|| logical_constraint(db.message()))
            {
                Some(constraint) => StoreError::Conflict { constraint },
                None => StoreError::Other(db.message().to_owned()),
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Other(err.to_string()),
    }
}

impl PostgresStore {
    /// Connects to `url` and migrates the database (migrations take an advisory lock, so nodes
    /// starting together apply them once).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("invalid PostgreSQL URL: {e}")))?;
        // Broken connections surface as errors on use and are dropped by the pool; a ping on
        // every acquire would double the round trips of a one-query request.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        Ok(Self { pool })
    }
}

/// A PostgreSQL connection: inside a transaction or not.
pub enum PostgresTx {
    /// From [`Store::begin`].
    Write(Transaction<'static, Postgres>),
    /// From [`Store::read`].
    Read(PoolConnection<Postgres>),
}

impl PostgresTx {
    /// Whether this handle is a transaction from [`Store::begin`] (reads there lock what a
    /// read-modify-write will write back).
    fn in_transaction(&self) -> bool {
        matches!(self, Self::Write(_))
    }

    async fn conn(&mut self) -> Result<&mut PgConnection, StoreError> {
        Ok(match self {
            Self::Write(tx) => tx,
            Self::Read(conn) => conn,
        })
    }

    async fn finish(self) -> Result<(), StoreError> {
        match self {
            Self::Write(tx) => tx.commit().await.map_err(map_err),
            Self::Read(_) => Ok(()),
        }
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(PostgresTx::Write(
            self.pool.begin().await.map_err(map_err)?,
        )))
    }

    async fn read(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(PostgresTx::Read(
            self.pool.acquire().await.map_err(map_err)?,
        )))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// Every statement goes through sqlx (no synchronous path for a networked database).
impl crate::sql::FastReads for PostgresTx {}

/// Row locks for [`Tx::lock_organization`]: transactions that lock the same row wait for each
/// other (`NO KEY`: rows that only reference it, such as new memberships, are not held up).
const LOCK_ROW: &str = " FOR NO KEY UPDATE";

impl_tx!(PostgresTx, Postgres);
crate::sql_domains::impl_domain_tx!(PostgresTx, Postgres);
crate::role_sets::impl_role_set_tx!(PostgresTx, Postgres);
