//! `concierge serve`: opens the database, makes the default instance on first start, binds both
//! listeners, prints readiness, and drains in-flight requests on SIGTERM/SIGINT.

use crate::cli::{instance_json, open_service};
use crate::config::Config;
use anyhow::{anyhow, Context, Result};
use concierge_http::AppState;
use concierge_service::instances::NewInstance;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

fn init_tracing(json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless, so its error is ignored.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn bind(addr: std::net::SocketAddr, setting: &str) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("{setting}: cannot listen on {addr}"))
}

/// Runs the server until a shutdown signal.
pub async fn serve(mut config: Config) -> Result<()> {
    init_tracing(config.json_logs);
    let service = open_service(&config).await?;
    let frontend = bind(config.frontend_addr, "frontend_addr").await?;
    let backend = bind(config.backend_addr, "backend_addr").await?;
    config.frontend_addr = frontend.local_addr()?;
    config.backend_addr = backend.local_addr()?;

    let existing = service
        .list_instances()
        .await
        .map_err(|e| anyhow!("database_url: {e}"))?;
    if existing.is_empty() {
        let instance = service
            .create_instance(NewInstance {
                name: "default".into(),
                frontend_host: None,
                allowed_origins: config.allowed_origins.clone(),
                allow_localhost: true,
                test_mode: false,
            })
            .await
            .map_err(|e| anyhow!("cannot create the default instance: {e}"))?;
        let json = instance_json(&instance, &config);
        println!("Created instance \"default\".");
        println!("  publishable key:  {}", instance.publishable_key);
        println!("  secret key:       {}", instance.secret_key);
        println!("  frontend API URL: {}", config.frontend_api_url());
        println!("  backend API URL:  {}", config.backend_api_url());
        println!();
        println!("Environment for an application (same-origin /__clerk proxy):");
        println!(
            "  PUBLIC_CLERK_PUBLISHABLE_KEY={}",
            instance.publishable_key
        );
        println!(
            "  NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY={}",
            instance.publishable_key
        );
        println!("  CLERK_SECRET_KEY={}", instance.secret_key);
        println!("  CLERK_API_URL={}", config.backend_api_url());
        println!("  CLERK_FAPI_URL={}", config.frontend_api_url());
        println!("  PUBLIC_CLERK_PROXY_URL=/__clerk");
        println!("  NEXT_PUBLIC_CLERK_PROXY_URL=/__clerk");
        tracing::debug!(instance = %json, "default instance");
    }

    service.set_frontend_url(&config.public_frontend_url());
    let state = AppState::new(service.clone(), config.rate_limits);
    let frontend_app = concierge_http::frontend_router(state.clone());
    let backend_app = concierge_http::backend_router(state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wait_stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let frontend_server = concierge_http::serve(frontend, frontend_app, wait_stop(stop_rx.clone()));
    let backend_server = concierge_http::serve(backend, backend_app, wait_stop(stop_rx));
    println!(
        "concierge ready: frontend {} backend {}",
        config.frontend_api_url(),
        config.backend_api_url()
    );
    tracing::info!(frontend = %config.frontend_addr, backend = %config.backend_addr, "listening");
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = stop_tx.send(true);
    });
    let (front, back) = tokio::join!(frontend_server, backend_server);
    signal.abort();
    front.context("frontend listener failed")?;
    back.context("backend listener failed")?;
    service.store().close().await;
    tracing::info!("stopped");
    Ok(())
}
