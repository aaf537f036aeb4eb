//! `axum-dashboard`: a small server-rendered multi-tenant application on `concierge-sdk`.
//!
//! - `/__clerk/*` forwards to the Frontend API (Concierge's frontend listener, or Clerk), so
//!   clerk-js, `@clerk/ui` and their cookies live on this origin (`proxy.rs`).
//! - `/sign-in` mounts `<SignIn/>` from clerk-js; `/` shows the user (`current_user()`) and
//!   their organizations.
//! - `/orgs/:slug/tasks` lists and adds the organization's tasks. Organization sync makes the
//!   URL's organization the session's active one (through the handshake), and every query
//!   runs through `concierge_sdk::tenant`, so PostgreSQL row-level security scopes it.
//! - `/orgs/:slug/admin` is for `org:admin` only (403 for members), and
//!   `POST /orgs/:slug/invite` invites someone (401 signed out, 403 non-admin, 400 bad input,
//!   200 with the invitation).
//!
//! Configuration is read from the environment once at start (see `Settings::from_env`).

mod pages;
mod proxy;
mod routes;
mod tasks;

use anyhow::Context as _;
use concierge_sdk::middleware::ClerkLayer;
use concierge_sdk::{Clerk, Config, OrganizationSyncOptions};
use std::net::SocketAddr;

/// Everything the dashboard reads from the environment.
#[derive(Debug)]
pub struct Settings {
    /// `CLERK_PUBLISHABLE_KEY` (required).
    pub publishable_key: String,
    /// `CLERK_SECRET_KEY` (required).
    pub secret_key: String,
    /// `CLERK_API_URL`: the Backend API (Concierge's backend listener); default Clerk's.
    pub api_url: String,
    /// `CLERK_FAPI_URL`: where `/__clerk` forwards; default `https://<publishable key host>`.
    pub fapi_url: String,
    /// `DATABASE_URL` (required): PostgreSQL; the database is created if missing.
    pub database_url: String,
    /// `DASHBOARD_DB_ROLE`: role requests `SET ROLE` to (default `axum_dashboard_app`, created
    /// by the migration); empty to use the connecting user as is.
    pub database_role: String,
    /// `DASHBOARD_ADDR`: listen address (default `127.0.0.1:3000`).
    pub addr: SocketAddr,
    /// `DASHBOARD_PUBLIC_URL`: the origin browsers use (default `http://localhost:<port>`).
    pub public_url: String,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &str) -> anyhow::Result<String> {
    env(name).with_context(|| format!("set {name}"))
}

impl Settings {
    /// Reads and validates the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let publishable_key = required("CLERK_PUBLISHABLE_KEY")?;
        let key = concierge_sdk::PublishableKey::parse(&publishable_key)
            .context("CLERK_PUBLISHABLE_KEY")?;
        let addr: SocketAddr = env("DASHBOARD_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .context("DASHBOARD_ADDR")?;
        let public_url = env("DASHBOARD_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://localhost:{}", addr.port()))
            .trim_end_matches('/')
            .to_owned();
        url::Url::parse(&public_url).context("DASHBOARD_PUBLIC_URL")?;
        let fapi_url = env("CLERK_FAPI_URL")
            .unwrap_or_else(|| format!("https://{}", key.frontend_api()))
            .trim_end_matches('/')
            .to_owned();
        url::Url::parse(&fapi_url).context("CLERK_FAPI_URL")?;
        Ok(Self {
            publishable_key,
            secret_key: required("CLERK_SECRET_KEY")?,
            api_url: env("CLERK_API_URL")
                .unwrap_or_else(|| concierge_sdk::client::DEFAULT_API_URL.into()),
            fapi_url,
            database_url: required("DATABASE_URL")?,
            database_role: std::env::var("DASHBOARD_DB_ROLE")
                .unwrap_or_else(|_| "axum_dashboard_app".into()),
            addr,
            public_url,
        })
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct App {
    /// The SDK (its Backend API client invites and lists members).
    pub clerk: Clerk,
    /// Requests' pool (connections run as the dashboard's RLS-bound role).
    pub pool: sqlx::PgPool,
    /// Frontend API forwarding.
    pub proxy: proxy::FrontendApiProxy,
    /// The publishable key, for the pages that load clerk-js.
    pub publishable_key: String,
    /// The public origin.
    pub public_url: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let settings = Settings::from_env()?;
    let pool = tasks::connect(&settings.database_url, &settings.database_role).await?;
    let sync = OrganizationSyncOptions::new()
        .organization_patterns(["/orgs/:slug", "/orgs/:slug/(.*)"])?
        .personal_account_patterns(["/me", "/me/(.*)"])?;
    let clerk = Clerk::new(
        Config::new(&settings.publishable_key)?
            .secret_key(settings.secret_key.as_str())
            .api_url(&settings.api_url)
            .authorized_parties([settings.public_url.clone()])
            .proxy_url(proxy::PROXY_PATH)
            .organization_sync(sync),
    )?;
    let app = App {
        proxy: proxy::FrontendApiProxy::new(
            &settings.fapi_url,
            &format!("{}{}", settings.public_url, proxy::PROXY_PATH),
            &settings.secret_key,
        )?,
        clerk: clerk.clone(),
        pool,
        publishable_key: settings.publishable_key.clone(),
        public_url: settings.public_url.clone(),
    };
    let router = routes::router(app.clone())
        .layer(ClerkLayer::new(clerk))
        .merge(proxy::router(app));
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("listen on {}", settings.addr))?;
    tracing::info!(addr = %settings.addr, public_url = %settings.public_url, "axum-dashboard listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
