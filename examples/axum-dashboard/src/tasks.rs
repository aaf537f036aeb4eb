//! The organization's tasks in PostgreSQL. No query here mentions an organization: each runs
//! through `concierge_sdk::tenant::scoped`, which sets `app.current_org` from the verified
//! session, and the row-level-security policy of `migrations/0001_tasks.sql` does the rest.

use anyhow::Context as _;
use concierge_sdk::tenant::{self, TenantError};
use concierge_sdk::Auth;
use sqlx::migrate::MigrateDatabase as _;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor as _, PgPool, Postgres};

const MIGRATION: &str = include_str!("../migrations/0001_tasks.sql");

/// Creates the database if missing, applies the migration, and opens the requests' pool, whose
/// connections `SET ROLE` to `role` (a role without superuser or BYPASSRLS) unless it is empty.
pub async fn connect(database_url: &str, role: &str) -> anyhow::Result<PgPool> {
    if !Postgres::database_exists(database_url)
        .await
        .context("DATABASE_URL")?
    {
        Postgres::create_database(database_url)
            .await
            .context("create the database")?;
    }
    let owner = PgPool::connect(database_url)
        .await
        .context("connect to DATABASE_URL")?;
    sqlx::raw_sql(MIGRATION)
        .execute(&owner)
        .await
        .context("apply migrations/0001_tasks.sql")?;
    owner.close().await;
    let set_role = (!role.is_empty()).then(|| format!("SET ROLE \"{}\"", role.replace('"', "")));
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .after_connect(move |conn, _| {
            let set_role = set_role.clone();
            Box::pin(async move {
                if let Some(statement) = set_role {
                    conn.execute(statement.as_str()).await?;
                }
                Ok(())
            })
        })
        .connect(database_url)
        .await?;
    Ok(pool)
}

/// One task.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Task {
    /// Row id.
    pub id: i64,
    /// What to do.
    pub title: String,
    /// Who added it (`user_…`).
    pub created_by: String,
}

/// The active organization's tasks, oldest first.
pub async fn list(pool: &PgPool, auth: &Auth) -> Result<Vec<Task>, TenantError> {
    tenant::scoped(pool, auth, |tx| {
        Box::pin(async move {
            let tasks =
                sqlx::query_as::<_, Task>("SELECT id, title, created_by FROM tasks ORDER BY id")
                    .fetch_all(&mut **tx)
                    .await?;
            Ok(tasks)
        })
    })
    .await
}

/// Adds a task to the active organization (the policy fills in and checks `org_id`).
pub async fn add(pool: &PgPool, auth: &Auth, title: &str) -> Result<(), TenantError> {
    let title = title.to_owned();
    tenant::scoped(pool, auth, |tx| {
        Box::pin(async move {
            sqlx::query("INSERT INTO tasks (title) VALUES ($1)")
                .bind(title)
                .execute(&mut **tx)
                .await?;
            Ok(())
        })
    })
    .await
}
