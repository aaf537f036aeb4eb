//! `tenant` against the real PostgreSQL (`CONCIERGE_TEST_POSTGRES_URL`, default the local
//! server): a throwaway database with the documented RLS policy and a non-superuser role, so the
//! policy actually applies. Without the helper a query sees nothing and cannot insert; with it
//! a query sees exactly the active organization's rows.

use concierge_sdk::tenant::{self, TenantError};
use concierge_sdk::{Auth, SessionClaims};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};
use std::str::FromStr;

/// The policy of the `tenant` module docs (and of the example's migration).
const SCHEMA: &str = "
CREATE TABLE tasks (
    id         BIGSERIAL PRIMARY KEY,
    org_id     TEXT NOT NULL DEFAULT current_setting('app.current_org', true),
    title      TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT current_setting('app.current_user', true)
);
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks FORCE ROW LEVEL SECURITY;
CREATE POLICY tasks_of_the_current_org ON tasks
    USING (org_id = current_setting('app.current_org', true))
    WITH CHECK (org_id = current_setting('app.current_org', true));
";

fn admin_url() -> String {
    std::env::var("CONCIERGE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn auth(org: Option<(&str, &str)>) -> Auth {
    let mut claims = json!({"sub": "user_1", "sid": "sess_1", "exp": 4_000_000_000_i64, "v": 2});
    if let Some((id, slug)) = org {
        claims["o"] = json!({"id": id, "slg": slug, "rol": "admin"});
    }
    let claims = SessionClaims::from_map(claims.as_object().unwrap().clone()).unwrap();
    Auth::from_claims(claims, "token".into())
}

/// A database and a login role, both dropped at the end.
struct Scratch {
    admin: PgConnection,
    database: String,
    role: String,
}

impl Scratch {
    async fn new() -> Self {
        let mut admin = PgConnection::connect(&admin_url()).await.expect(
            "PostgreSQL at CONCIERGE_TEST_POSTGRES_URL (default 127.0.0.1:5432, user postgres)",
        );
        let unique = format!(
            "{}_{}",
            std::process::id(),
            std::time::SystemTime::UNIX_EPOCH
                .elapsed()
                .unwrap()
                .as_nanos()
        );
        let database = format!("sdk_tenant_{unique}");
        let role = format!("sdk_app_{unique}");
        // One statement per query: CREATE DATABASE cannot run inside a transaction block.
        for statement in [
            format!("CREATE DATABASE {database}"),
            format!("CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"),
        ] {
            sqlx::raw_sql(&statement).execute(&mut admin).await.unwrap();
        }
        Self {
            admin,
            database,
            role,
        }
    }

    fn options(&self, user: Option<&str>) -> PgConnectOptions {
        let mut options = PgConnectOptions::from_str(&admin_url())
            .unwrap()
            .database(&self.database);
        if let Some(user) = user {
            options = options.username(user);
        }
        options
    }

    async fn drop(mut self) {
        for statement in [
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
            format!("DROP ROLE IF EXISTS {}", self.role),
        ] {
            sqlx::raw_sql(&statement)
                .execute(&mut self.admin)
                .await
                .unwrap();
        }
    }
}

async fn titles(tx: &mut sqlx::PgConnection) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT title FROM tasks ORDER BY id")
        .fetch_all(tx)
        .await?;
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

#[tokio::test]
async fn row_level_security_follows_the_active_organization() {
    let scratch = Scratch::new().await;
    // As the owner (a superuser, which bypasses RLS): schema, grants and rows of two orgs.
    let mut owner = scratch.options(None).connect().await.unwrap();
    sqlx::raw_sql(SCHEMA).execute(&mut owner).await.unwrap();
    sqlx::raw_sql(&format!(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO {role};
         GRANT USAGE ON SEQUENCE tasks_id_seq TO {role};
         INSERT INTO tasks (org_id, title, created_by) VALUES
             ('org_a', 'a1', 'user_x'), ('org_b', 'b1', 'user_x'), ('org_a', 'a2', 'user_x');",
        role = scratch.role
    ))
    .execute(&mut owner)
    .await
    .unwrap();
    owner.close().await.unwrap();

    // One pooled connection as the application role: settings must not leak between uses.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(scratch.options(Some(&scratch.role)))
        .await
        .unwrap();
    let (is_superuser,): (bool,) =
        sqlx::query_as("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!is_superuser, "RLS only applies to non-superusers");

    // Without the helper: nothing visible, nothing insertable.
    let mut conn = pool.acquire().await.unwrap();
    assert!(titles(&mut conn).await.unwrap().is_empty());
    assert!(sqlx::query("INSERT INTO tasks (title) VALUES ('stray')")
        .execute(&mut *conn)
        .await
        .is_err());
    drop(conn);

    // With it: exactly the active organization's rows.
    let org_a = auth(Some(("org_a", "a")));
    let seen = tenant::scoped(&pool, &org_a, |tx| {
        Box::pin(async move { Ok::<_, TenantError>(titles(tx).await?) })
    })
    .await
    .unwrap();
    assert_eq!(seen, ["a1", "a2"]);
    let org_b = auth(Some(("org_b", "b")));
    // Writing into another organization is refused by WITH CHECK.
    let foreign: Result<(), TenantError> = tenant::scoped(&pool, &org_b, |tx| {
        Box::pin(async move {
            sqlx::query("INSERT INTO tasks (org_id, title) VALUES ('org_a', 'x')")
                .execute(&mut **tx)
                .await?;
            Ok(())
        })
    })
    .await;
    let Err(TenantError::Database(error)) = foreign else {
        panic!("{foreign:?}");
    };
    assert_eq!(
        error.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501"),
        "row-level security violation: {error}"
    );
    let inserted = tenant::scoped(&pool, &org_b, |tx| {
        Box::pin(async move {
            let row: (String, String) = sqlx::query_as(
                "INSERT INTO tasks (title) VALUES ('b2') RETURNING org_id, created_by",
            )
            .fetch_one(&mut **tx)
            .await?;
            Ok::<_, TenantError>(row)
        })
    })
    .await
    .unwrap();
    assert_eq!(inserted, ("org_b".to_owned(), "user_1".to_owned()));
    let seen = tenant::scoped(&pool, &org_b, |tx| {
        Box::pin(async move { Ok::<_, TenantError>(titles(tx).await?) })
    })
    .await
    .unwrap();
    assert_eq!(seen, ["b1", "b2"]);

    // An error from the closure rolls back.
    let failed: Result<(), TenantError> = tenant::scoped(&pool, &org_a, |tx| {
        Box::pin(async move {
            sqlx::query("INSERT INTO tasks (title) VALUES ('rolled back')")
                .execute(&mut **tx)
                .await?;
            Err(TenantError::NoActiveOrganization)
        })
    })
    .await;
    assert!(failed.is_err());
    let mut tx = tenant::begin(&pool, &org_a).await.unwrap();
    assert_eq!(titles(&mut tx).await.unwrap(), ["a1", "a2"]);
    drop(tx);

    // The settings were transaction-local: the same pooled connection sees nothing again.
    let mut conn = pool.acquire().await.unwrap();
    assert!(titles(&mut conn).await.unwrap().is_empty());
    drop(conn);

    // The personal account has no organization to scope to.
    let personal = tenant::begin(&pool, &auth(None)).await;
    assert!(matches!(personal, Err(TenantError::NoActiveOrganization)));

    pool.close().await;
    scratch.drop().await;
}
