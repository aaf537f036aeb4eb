//! The embedded SQLite backend: one file in WAL mode synced at every commit, a
//! single-connection writer pool (so transactions never fight over the write lock) and a reader
//! pool, plus synchronous readers for the hot point reads (`fast.rs`).

mod fast;

use crate::sql::{impl_tx, logical_constraint, secret_hash};
use crate::{Backend, Store, Tx};
use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// The SQLite store.
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// `None` for an in-memory database, which other connections cannot see.
    fast: Option<fast::Pool>,
}

/// Maps a sqlx error to the storage error.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            match logical_constraint(db.message()) {
                Some(constraint) => StoreError::Conflict { constraint },
                None => StoreError::Other(db.message().to_owned()),
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(err.to_string()),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `url` (`sqlite://PATH`) and migrates it.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(|e| StoreError::Other(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A committed write survives an operating-system crash or a power loss too: the
            // WAL is synced at every commit (one fsync, about 0.2 ms on the development VM).
            // `NORMAL` would only survive a crash of this process, and could undo a revocation
            // or a password change after a power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // Connections are checked when used; a ping on every acquire would double the round
        // trips of a one-query request.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {path}: {e}")))?;
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        let readers = std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .clamp(2, 16);
        let reader = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(u32::try_from(readers).unwrap_or(4))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {path}: {e}")))?;
        let fast = if url.contains(":memory:") || url.contains("mode=memory") {
            None
        } else {
            // One synchronous reader per thread that may run a request at once (the runtime's
            // workers), plus a spare; when all are busy a read goes through `reader`.
            let readers = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
            let size = u32::try_from(readers).unwrap_or(3);
            let path = path.to_owned();
            let opened = tokio::task::spawn_blocking(move || fast::open(&path, size))
                .await
                .map_err(|e| StoreError::Other(format!("opening the readers failed: {e}")))??;
            Some(opened)
        };
        Ok(Self {
            writer,
            reader,
            fast,
        })
    }
}

/// A SQLite connection: a writer transaction or a plain read handle.
pub enum SqliteTx {
    /// From [`Store::begin`].
    Write(Transaction<'static, Sqlite>),
    /// From [`Store::read`].
    Read(ReadHandle),
}

/// A plain read handle: the hot point reads go to the synchronous readers, anything else to a
/// sqlx reader taken from the pool on first use (sqlx pings a connection on its way back to the
/// pool, one more hand-off, so a handle that never needs one never takes one).
pub struct ReadHandle {
    pool: SqlitePool,
    conn: Option<PoolConnection<Sqlite>>,
    fast: Option<fast::Pool>,
}

impl SqliteTx {
    /// Whether this handle is a transaction from [`Store::begin`] (reads there lock what a
    /// read-modify-write will write back).
    fn in_transaction(&self) -> bool {
        matches!(self, Self::Write(_))
    }

    async fn conn(&mut self) -> Result<&mut SqliteConnection, StoreError> {
        match self {
            Self::Write(tx) => Ok(tx),
            Self::Read(read) => {
                let conn = match &mut read.conn {
                    Some(conn) => conn,
                    empty => empty.insert(read.pool.acquire().await.map_err(map_err)?),
                };
                Ok(conn)
            }
        }
    }

    async fn finish(self) -> Result<(), StoreError> {
        match self {
            Self::Write(tx) => tx.commit().await.map_err(map_err),
            Self::Read(_) => Ok(()),
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(SqliteTx::Write(
            self.writer.begin().await.map_err(map_err)?,
        )))
    }

    async fn read(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(SqliteTx::Read(ReadHandle {
            pool: self.reader.clone(),
            conn: None,
            fast: self.fast.clone(),
        })))
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// SQLite has no row locks and needs none: write transactions run one at a time on the single
/// writer connection, so what one reads holds until it commits.
const LOCK_ROW: &str = "";

impl_tx!(SqliteTx, Sqlite);
crate::sql_domains::impl_domain_tx!(SqliteTx, Sqlite);
crate::role_sets::impl_role_set_tx!(SqliteTx, Sqlite);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use concierge_core::{InstanceId, UserId};

    /// Commits are durable beyond a crash of the process: the writer syncs the WAL at every
    /// commit (`synchronous = FULL`, 2).
    #[tokio::test]
    async fn the_writer_syncs_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/concierge.db", dir.path().display());
        let store = SqliteStore::open(&url).await.unwrap();
        let (level,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&store.writer)
            .await
            .unwrap();
        assert_eq!(level, 2);
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&store.writer)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    /// With every synchronous reader taken, point reads go through sqlx and answer the same.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn point_reads_fall_back_to_sqlx_when_the_readers_are_busy() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/concierge.db", dir.path().display());
        let store = SqliteStore::open(&url).await.unwrap();
        let pool = store
            .fast
            .clone()
            .expect("a file database has synchronous readers");
        let instance = InstanceId::generate(&mut rand::rngs::OsRng);
        let user = UserId::generate(&mut rand::rngs::OsRng);
        let mut conn = store.read().await.unwrap();
        assert!(matches!(
            conn.get_user(&instance, &user).await,
            Err(StoreError::NotFound)
        ));
        let taken: Vec<_> = (0..pool.max_size()).map(|_| pool.get().unwrap()).collect();
        assert!(pool.try_get().is_none());
        assert!(matches!(
            conn.get_user(&instance, &user).await,
            Err(StoreError::NotFound)
        ));
        assert!(conn
            .find_client_by_token_hash(&instance, &[1; 32])
            .await
            .unwrap()
            .is_none());
        drop(taken);
        assert!(pool.try_get().is_some());
    }

    /// An in-memory database is only visible to its own connections: no synchronous readers.
    #[tokio::test]
    async fn in_memory_databases_read_through_sqlx_only() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        assert!(store.fast.is_none());
    }
}
