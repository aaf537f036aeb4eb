//! The command line (operator contract): `serve`, `instance create|show|configure|rotate-keys`, `mailbox`.

use crate::config::{CommonArgs, Config};
use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use concierge_core::{Clock, Instance};
use concierge_service::instances::NewInstance;
use concierge_service::{Service, ServiceError, SystemClock};
use serde_json::json;
use std::sync::Arc;

/// Concierge: a self-hosted authentication server that speaks Clerk's wire protocol.
#[derive(Debug, Parser)]
#[command(name = "concierge", version)]
pub struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run; boxing the big `instance configure` variant would only obscure clap's
// derive.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Frontend API and Backend API listeners.
    Serve {
        /// Extra origin the default instance accepts (repeatable), when `serve` creates it.
        #[arg(
            long = "allowed-origin",
            env = "CONCIERGE_ALLOWED_ORIGINS",
            value_delimiter = ','
        )]
        allowed_origins: Vec<String>,
    },
    /// Manage instances.
    Instance {
        #[command(subcommand)]
        command: InstanceCommand,
    },
    /// Print the local mailbox (mail kept when no SMTP server is configured).
    Mailbox {
        /// Only messages to this address.
        #[arg(long)]
        to: Option<String>,
        /// Instance name.
        #[arg(long, default_value = "default")]
        instance: String,
        /// Print JSON (the only format).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum InstanceCommand {
    /// Create another instance in the same database.
    Create {
        /// Unique name (lowercase letters, digits, dashes).
        #[arg(long)]
        name: String,
        /// Host encoded in the publishable key (must contain a dot).
        #[arg(long)]
        frontend_host: Option<String>,
        /// Origin the instance accepts (repeatable).
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
        /// Accept code 424242 for +clerk_test addresses.
        #[arg(long)]
        test_mode: bool,
        /// Print the instance as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print an instance's keys and URLs.
    Show {
        /// Instance name.
        #[arg(default_value = "default")]
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change an instance's session and display settings; prints the settings as JSON.
    Configure {
        /// Instance name.
        #[arg(default_value = "default")]
        name: String,
        /// Allow several signed-in accounts per browser (multi-session mode).
        #[arg(long)]
        multi_session: Option<bool>,
        /// Maximum session lifetime in seconds (default 604800, 7 days).
        #[arg(long)]
        session_max_lifetime: Option<i64>,
        /// Sign sessions out after this many seconds without activity; 0 turns it off.
        #[arg(long)]
        session_inactivity_timeout: Option<i64>,
        /// Application name shown by the components and in emails.
        #[arg(long)]
        application_name: Option<String>,
        /// Role an organization's creator gets: the creator role of the initial role set (default
        /// org:admin); must be a role of that set.
        #[arg(long)]
        organization_creator_role: Option<String>,
        /// Role new organization members get when none is given: the default role of the initial
        /// role set (default org:member); must be a role of that set.
        #[arg(long)]
        organization_default_role: Option<String>,
        /// Wrong passwords in a row before an account is locked (default 100).
        #[arg(long)]
        max_password_attempts: Option<i64>,
        /// How long a lockout lasts, in seconds (default 3600).
        #[arg(long)]
        lockout_duration: Option<i64>,
        /// The application's home page (an empty value clears it).
        #[arg(long)]
        home_url: Option<String>,
        /// The application's sign-in page, where invitation links of existing users land.
        #[arg(long)]
        sign_in_url: Option<String>,
        /// The application's sign-up page, where invitation links of new users land.
        #[arg(long)]
        sign_up_url: Option<String>,
        /// Members a new organization may have, pending invitations included (default 5;
        /// 0 = unlimited).
        #[arg(long)]
        organization_max_members: Option<i64>,
        /// Organizations one user may create from the browser (default 0 = unlimited).
        #[arg(long)]
        organization_create_limit: Option<i64>,
    },
    /// Replace the signing key; the old public key stays in the JWKS.
    RotateKeys {
        /// Instance name.
        #[arg(default_value = "default")]
        name: String,
    },
}

/// Opens the database and builds the service over the system clock.
pub async fn open_service(config: &Config) -> Result<Service> {
    let store = concierge_store::open(&config.database_url)
        .await
        .map_err(|e| anyhow!("database_url: {e}"))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mailer = match &config.smtp {
        Some(smtp) => {
            concierge_service::mail::Mailer::Smtp(Arc::new(crate::smtp::LettreSender::new(smtp)?))
        }
        None => concierge_service::mail::Mailer::Mailbox,
    };
    Ok(Service::with_mailer(store, clock, mailer))
}

/// The `instance show --json` object (operator contract).
pub fn instance_json(instance: &Instance, config: &Config) -> serde_json::Value {
    json!({
        "id": instance.id.as_str(),
        "name": instance.name,
        "publishable_key": instance.publishable_key,
        "secret_key": instance.secret_key,
        "frontend_host": instance.frontend_host,
        "frontend_api_url": config.frontend_api_url(),
        "backend_api_url": config.backend_api_url(),
        "jwks_url": format!("{}/v1/jwks", config.backend_api_url()),
    })
}

fn print_instance(instance: &Instance, config: &Config, as_json: bool) -> Result<()> {
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&instance_json(instance, config))?
        );
    } else {
        println!("instance:          {} ({})", instance.name, instance.id);
        println!("publishable key:   {}", instance.publishable_key);
        println!("secret key:        {}", instance.secret_key);
        println!("frontend host:     {}", instance.frontend_host);
        println!("frontend API URL:  {}", config.frontend_api_url());
        println!("backend API URL:   {}", config.backend_api_url());
    }
    Ok(())
}

async fn find_instance(service: &Service, name: &str) -> Result<Instance> {
    service.instance_by_name(name).await.map_err(|e| match e {
        ServiceError::NotFound => anyhow!("no instance named {name:?}"),
        other => anyhow!("{other}"),
    })
}

/// Runs one command.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve { allowed_origins } => {
            let config = Config::load(&cli.common, &allowed_origins)?;
            crate::serve::serve(config).await
        }
        Command::Instance { command } => {
            let config = Config::load(&cli.common, &[])?;
            let service = open_service(&config).await?;
            let result = match command {
                InstanceCommand::Create {
                    name,
                    frontend_host,
                    allowed_origins,
                    test_mode,
                    json,
                } => {
                    let instance = service
                        .create_instance(NewInstance {
                            name,
                            frontend_host,
                            allowed_origins,
                            allow_localhost: false,
                            test_mode,
                        })
                        .await
                        .map_err(|e| anyhow!("cannot create instance: {e}"))?;
                    print_instance(&instance, &config, json)
                }
                InstanceCommand::Show { name, json } => {
                    let instance = find_instance(&service, &name).await?;
                    print_instance(&instance, &config, json)
                }
                InstanceCommand::Configure {
                    name,
                    multi_session,
                    session_max_lifetime,
                    session_inactivity_timeout,
                    application_name,
                    organization_creator_role,
                    organization_default_role,
                    max_password_attempts,
                    lockout_duration,
                    home_url,
                    sign_in_url,
                    sign_up_url,
                    organization_max_members,
                    organization_create_limit,
                } => {
                    let instance = find_instance(&service, &name).await?;
                    let update = concierge_service::instances::SettingsUpdate {
                        multi_session,
                        session_max_lifetime_secs: session_max_lifetime,
                        session_inactivity_timeout_secs: session_inactivity_timeout
                            .map(|secs| (secs > 0).then_some(secs)),
                        application_name,
                        organization_creator_role,
                        organization_default_role,
                        max_password_attempts,
                        lockout_secs: lockout_duration,
                        home_url,
                        sign_in_url,
                        sign_up_url,
                        organization_max_allowed_memberships: organization_max_members,
                        organization_create_limit,
                    };
                    let updated = service
                        .update_instance_settings(&instance, update)
                        .await
                        .map_err(|e| anyhow!("cannot configure instance: {e}"))?;
                    println!("{}", serde_json::to_string_pretty(&updated.settings)?);
                    Ok(())
                }
                InstanceCommand::RotateKeys { name } => {
                    let instance = find_instance(&service, &name).await?;
                    let kid = service
                        .rotate_signing_key(&instance)
                        .await
                        .map_err(|e| anyhow!("cannot rotate keys: {e}"))?;
                    println!("new signing key: {kid}");
                    Ok(())
                }
            };
            service.store().close().await;
            result
        }
        Command::Mailbox {
            to,
            instance,
            json: _,
        } => {
            let config = Config::load(&cli.common, &[])?;
            let service = open_service(&config).await?;
            let instance = find_instance(&service, &instance).await?;
            let messages = service
                .list_mailbox(&instance.id, to.as_deref(), 100)
                .await
                .context("cannot read the mailbox")?;
            let list: Vec<_> = messages
                .iter()
                .map(|m| {
                    json!({ "id": m.id.as_str(), "to": m.to, "subject": m.subject, "text": m.text,
                            "html": m.html, "created_at": m.created_at })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
            service.store().close().await;
            Ok(())
        }
    }
}
