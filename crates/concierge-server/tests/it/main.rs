//! End-to-end tests of the real server over HTTP (STYLE §2.12): one binary, one module per area.
//! Every behaviour runs against SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bundles;
mod cli;
mod domains;
mod errors;
mod fapi;
mod flows;
mod isolation;
mod logos;
mod nodes;
mod organizations;
mod role_sets;
mod sessions;
mod smtp;
mod tickets;
mod tokens;
mod users;

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
