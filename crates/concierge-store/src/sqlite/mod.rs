//! The embedded SQLite backend: one file in WAL mode, a single-connection writer pool (so
//! transactions never fight over the write lock) and a reader pool.

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
            .synchronous(SqliteSynchronous::Normal)
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
        Ok(Self { writer, reader })
    }
}

/// A SQLite connection: a writer transaction or a pooled reader.
pub enum SqliteTx {
    /// From [`Store::begin`].
    Write(Transaction<'static, Sqlite>),
    /// From [`Store::read`].
    Read(PoolConnection<Sqlite>),
}

impl SqliteTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        match self {
            Self::Write(tx) => tx,
            Self::Read(conn) => conn,
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
        Ok(Box::new(SqliteTx::Read(
            self.reader.acquire().await.map_err(map_err)?,
        )))
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

impl_tx!(SqliteTx, Sqlite);
crate::sql_domains::impl_domain_tx!(SqliteTx, Sqlite);
crate::role_sets::impl_role_set_tx!(SqliteTx, Sqlite);
