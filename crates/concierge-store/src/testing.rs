//! Fresh databases for tests of any crate: a temporary SQLite file, or a uniquely named
//! database on the local PostgreSQL server (`CONCIERGE_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`) that is dropped when the handle is dropped.
#![allow(clippy::expect_used, clippy::panic)]

use crate::Store;
use sqlx::Connection;
use std::sync::Arc;

/// A database that lives as long as this handle.
pub struct TestDb {
    /// The store over it.
    pub store: Arc<dyn Store>,
    /// Its URL, for starting a server process on the same data.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

/// The PostgreSQL server tests use.
pub fn postgres_server_url() -> String {
    std::env::var("CONCIERGE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A store over a new SQLite file in a temporary folder.
pub async fn fresh_sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}/concierge.db", dir.path().display());
    let store = crate::open(&url).await.expect("open SQLite");
    TestDb {
        store,
        url,
        _dir: Some(dir),
        pg_name: None,
    }
}

/// Creates a uniquely named empty PostgreSQL database and returns its URL and name.
pub async fn create_postgres_database() -> (String, String) {
    let server = postgres_server_url();
    let mut conn = sqlx::PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed at {server} ({e}). Start it with: \
             pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            )
        });
    let name = format!(
        "concierge_test_{}",
        concierge_core::ids::random_base62(&mut rand::rngs::OsRng, 16).to_lowercase()
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    (format!("{base}/{name}"), name)
}

/// A store over a new PostgreSQL database.
pub async fn fresh_postgres() -> TestDb {
    let (url, name) = create_postgres_database().await;
    let store = crate::open(&url).await.expect("open PostgreSQL");
    TestDb {
        store,
        url,
        _dir: None,
        pg_name: Some(name),
    }
}

/// Drops a test database, disconnecting whoever still uses it.
pub async fn drop_postgres_database(name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_server_url()).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Drop runs inside or outside a runtime; a private one on a helper thread works in both.
            let _ = std::thread::spawn(move || {
                if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    runtime.block_on(drop_postgres_database(&name));
                }
            })
            .join();
        }
    }
}
