//! The PostgreSQL backend: shared state for several stateless `serve` nodes. Uniqueness is
//! enforced by the database's indexes, so concurrent nodes cannot both win a race.

use crate::sql::{impl_tx, logical_constraint, secret_hash};
use crate::{Backend, Store, Tx};
use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: PgPool,
    idle_reads: Arc<IdleReads>,
}

/// The connections of finished read handles, kept for the next read handle instead of going
/// back into the pool. sqlx checks every connection back into its pool with a round trip (a
/// `Sync` and its `ReadyForQuery`, in a spawned task): a second round trip for a request that
/// reads one row. A healthy read connection needs no such check between two handles: sqlx's
/// executor flushes and drains whatever a connection still has pending before each statement.
/// Write transactions still go through the pool (its check also rolls back an abandoned one).
#[derive(Default)]
struct IdleReads(Mutex<Vec<PoolConnection<Postgres>>>);

/// The pool's size.
const MAX_CONNECTIONS: u32 = 16;

/// At most this many idle read connections are kept (they count in the pool's size).
const IDLE_READS: usize = 8;

/// Counts the errors statements have returned. A read handle keeps its connection only when
/// this did not move while it held it: a connection that may be broken goes back through the
/// pool, whose check closes it if it is.
static STATEMENT_ERRORS: AtomicU64 = AtomicU64::new(0);

/// A read handle's pooled connection, kept in [`IdleReads`] when the handle is dropped.
pub struct ReadConn {
    conn: Option<PoolConnection<Postgres>>,
    pool: PgPool,
    idle: Arc<IdleReads>,
    errors_when_taken: u64,
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // Nothing left unsent (a statement abandoned half-written) and no error anywhere
        // meanwhile: keep it; otherwise the pool checks it on the way back.
        let healthy = !conn.should_flush()
            && !conn.is_in_transaction()
            && STATEMENT_ERRORS.load(Ordering::Relaxed) == self.errors_when_taken;
        // Every connection out and none idle in the pool: requests may be queued in the pool
        // for one, so it goes back there (kept here, it would serve whoever asks next while
        // they wait, without bound).
        let exhausted = self.pool.num_idle() == 0 && self.pool.size() >= MAX_CONNECTIONS;
        if healthy && !exhausted {
            if let Ok(mut idle) = self.idle.0.lock() {
                if idle.len() < IDLE_READS {
                    idle.push(conn);
                }
            }
        }
    }
}

/// Maps a sqlx error to the storage error.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    if !matches!(err, sqlx::Error::RowNotFound) {
        STATEMENT_ERRORS.fetch_add(1, Ordering::Relaxed);
    }
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
            .max_connections(MAX_CONNECTIONS)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        Ok(Self {
            pool,
            idle_reads: Arc::default(),
        })
    }
}

/// A PostgreSQL connection: inside a transaction or not.
pub enum PostgresTx {
    /// From [`Store::begin`].
    Write(Transaction<'static, Postgres>),
    /// From [`Store::read`].
    Read(ReadConn),
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
            Self::Read(read) => read
                .conn
                .as_mut()
                .ok_or_else(|| StoreError::Other("read connection already released".into()))?,
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
        let idle = self
            .idle_reads
            .0
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop());
        let errors_when_taken = STATEMENT_ERRORS.load(Ordering::Relaxed);
        let conn = match idle {
            Some(conn) => conn,
            None => self.pool.acquire().await.map_err(map_err)?,
        };
        Ok(Box::new(PostgresTx::Read(ReadConn {
            conn: Some(conn),
            pool: self.pool.clone(),
            idle: self.idle_reads.clone(),
            errors_when_taken,
        })))
    }

    async fn close(&self) {
        // Idle read connections are checked out of the pool, which waits for them to close.
        let idle = self
            .idle_reads
            .0
            .lock()
            .map(|mut idle| std::mem::take(&mut *idle))
            .unwrap_or_default();
        drop(idle);
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
