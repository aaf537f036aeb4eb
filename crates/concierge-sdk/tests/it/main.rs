//! End-to-end tests of the SDK against a real Concierge started in-process (STYLE §2.12): one
//! binary, one module per area, every behaviour on SQLite and PostgreSQL. Tokens come from the
//! server's own sign-in flow and the SDK reads the server's clock, so expiry is tested by
//! advancing it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "axum")]
mod axum_app;
mod client;
mod handshake;
mod organization_sync;
mod organizations;
mod support;
mod tenant;
mod verification;

/// Instantiates an `async fn(Db)` test for both databases.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(concierge_testkit::Db::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(concierge_testkit::Db::Postgres).await })*
        }
    };
}
