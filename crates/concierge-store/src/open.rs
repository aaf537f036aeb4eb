//! Opening a store from a database URL.

use crate::{postgres::PostgresStore, sqlite::SqliteStore, Store, StoreError};
use std::sync::Arc;

/// Opens and migrates the database named by `database_url`: `sqlite://PATH` or `postgres://…`.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("sqlite://") || database_url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(database_url).await?))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(database_url).await?))
    } else {
        Err(StoreError::Other(format!(
            "unsupported database URL {database_url:?}: use sqlite://PATH or postgres://…"
        )))
    }
}
