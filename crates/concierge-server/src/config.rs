//! Configuration: defaults < TOML file < `CONCIERGE_*` environment < flags, validated once
//! into typed values.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

/// Default embedded database (operator contract).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./concierge-data/concierge.db";
/// Default Frontend API address.
pub const DEFAULT_FRONTEND_ADDR: &str = "127.0.0.1:4000";
/// Default Backend API address.
pub const DEFAULT_BACKEND_ADDR: &str = "127.0.0.1:4001";

/// The optional TOML file: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `database_url`.
    pub database_url: Option<String>,
    /// `frontend_addr`.
    pub frontend_addr: Option<String>,
    /// `backend_addr`.
    pub backend_addr: Option<String>,
    /// `allowed_origins`.
    pub allowed_origins: Option<Vec<String>>,
    /// `log_format`: `text` (default) or `json`.
    pub log_format: Option<String>,
    /// `[smtp]`: deliver mail through this relay instead of the local mailbox.
    pub smtp: Option<crate::smtp::SmtpConfig>,
    /// `[rate_limits]`.
    pub rate_limits: Option<RateLimitsTable>,
    /// `public_frontend_url`: where browsers reach the Frontend API (emailed links).
    pub public_frontend_url: Option<String>,
}

/// The `[rate_limits]` table: Clerk's documented limits are on by default.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsTable {
    /// `false` turns every limit off (benchmarks, trusted internal deployments).
    pub enabled: Option<bool>,
    /// Backend API requests per 10 seconds per secret key (default 1000; 0 = unlimited).
    pub backend_requests_per_10s: Option<u32>,
    /// Sign-in creations per 10 seconds per client IP (default 5; 0 = unlimited).
    pub sign_ins_per_10s: Option<u32>,
    /// Sign-up creations per 10 seconds per client IP (default 5; 0 = unlimited).
    pub sign_ups_per_10s: Option<u32>,
    /// Password and code attempts per 10 seconds per client IP (default 3; 0 = unlimited).
    pub attempts_per_10s: Option<u32>,
    /// Organization invitation requests per hour per instance (default 250; 0 = unlimited).
    pub organization_invitations_per_hour: Option<u32>,
    /// Bulk organization invitation requests per hour per instance (default 50).
    pub organization_invitation_bulks_per_hour: Option<u32>,
    /// Instance invitation requests per hour per instance (default 100).
    pub invitations_per_hour: Option<u32>,
    /// Bulk instance invitation requests per hour per instance (default 25).
    pub invitation_bulks_per_hour: Option<u32>,
}

/// Values given on the command line or in the environment (clap merges the two, flags winning).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct CommonArgs {
    /// Database URL: sqlite://PATH (embedded default) or postgres://…
    #[arg(long, env = "CONCIERGE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Frontend API listen address.
    #[arg(long, env = "CONCIERGE_FRONTEND_ADDR", global = true)]
    pub frontend_addr: Option<String>,
    /// Backend API listen address.
    #[arg(long, env = "CONCIERGE_BACKEND_ADDR", global = true)]
    pub backend_addr: Option<String>,
    /// Optional TOML configuration file.
    #[arg(long, env = "CONCIERGE_CONFIG", global = true)]
    pub config: Option<String>,
    /// Public URL of the Frontend API for links in emails (default: the frontend listener's URL).
    #[arg(long, env = "CONCIERGE_PUBLIC_FRONTEND_URL", global = true)]
    pub public_frontend_url: Option<String>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the data lives.
    pub database_url: String,
    /// Frontend listener.
    pub frontend_addr: SocketAddr,
    /// Backend listener.
    pub backend_addr: SocketAddr,
    /// Extra origins for the default instance.
    pub allowed_origins: Vec<String>,
    /// JSON logs when true.
    pub json_logs: bool,
    /// SMTP relay; `None` keeps mail in the mailbox.
    pub smtp: Option<crate::smtp::SmtpConfig>,
    /// Rate limits of both APIs.
    pub rate_limits: concierge_http::common::ratelimit::RateLimitSettings,
    /// Public URL of the Frontend API for emailed links (invitation accept links), when it
    /// differs from the listener's (a reverse proxy, an app's `/__clerk` path).
    pub public_frontend_url: Option<String>,
}

fn read_file(path: &str) -> Result<FileConfig> {
    let text = std::fs::read_to_string(Path::new(path))
        .with_context(|| format!("cannot read config file {path}"))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {path}"))
}

fn parse_addr(value: &str, setting: &str) -> Result<SocketAddr> {
    value
        .parse()
        .with_context(|| format!("{setting}: {value:?} is not an address like 127.0.0.1:4000"))
}

impl Config {
    /// Merges the layers and validates them.
    pub fn load(args: &CommonArgs, flag_origins: &[String]) -> Result<Self> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(database_url.starts_with("sqlite://")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("database_url: {database_url:?} must start with sqlite:// or postgres://");
        }
        let frontend_addr = parse_addr(
            args.frontend_addr
                .as_deref()
                .or(file.frontend_addr.as_deref())
                .unwrap_or(DEFAULT_FRONTEND_ADDR),
            "frontend_addr",
        )?;
        let backend_addr = parse_addr(
            args.backend_addr
                .as_deref()
                .or(file.backend_addr.as_deref())
                .unwrap_or(DEFAULT_BACKEND_ADDR),
            "backend_addr",
        )?;
        let allowed_origins = if flag_origins.is_empty() {
            file.allowed_origins.unwrap_or_default()
        } else {
            flag_origins.to_vec()
        };
        let json_logs = match file.log_format.as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => bail!("log_format: {other:?} must be \"text\" or \"json\""),
        };
        let public_frontend_url = match args
            .public_frontend_url
            .clone()
            .or(file.public_frontend_url)
            .filter(|u| !u.is_empty())
        {
            Some(raw) => match url::Url::parse(&raw) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => {
                    Some(raw.trim_end_matches('/').to_owned())
                }
                _ => bail!("public_frontend_url: {raw:?} must be an absolute http(s) URL"),
            },
            None => None,
        };
        if let Some(smtp) = &file.smtp {
            // Validate now, so a bad [smtp] table stops start-up with one clear line.
            crate::smtp::LettreSender::new(smtp)?;
        }
        Ok(Self {
            database_url,
            frontend_addr,
            backend_addr,
            allowed_origins,
            json_logs,
            smtp: file.smtp,
            public_frontend_url,
            rate_limits: {
                let table = file.rate_limits.unwrap_or_default();
                let defaults = concierge_http::common::ratelimit::RateLimitSettings::default();
                concierge_http::common::ratelimit::RateLimitSettings {
                    enabled: table.enabled.unwrap_or(defaults.enabled),
                    backend_per_10s: table
                        .backend_requests_per_10s
                        .unwrap_or(defaults.backend_per_10s),
                    sign_in_per_10s: table.sign_ins_per_10s.unwrap_or(defaults.sign_in_per_10s),
                    sign_up_per_10s: table.sign_ups_per_10s.unwrap_or(defaults.sign_up_per_10s),
                    attempts_per_10s: table.attempts_per_10s.unwrap_or(defaults.attempts_per_10s),
                    organization_invitations_per_hour: table
                        .organization_invitations_per_hour
                        .unwrap_or(defaults.organization_invitations_per_hour),
                    organization_invitation_bulks_per_hour: table
                        .organization_invitation_bulks_per_hour
                        .unwrap_or(defaults.organization_invitation_bulks_per_hour),
                    invitations_per_hour: table
                        .invitations_per_hour
                        .unwrap_or(defaults.invitations_per_hour),
                    invitation_bulks_per_hour: table
                        .invitation_bulks_per_hour
                        .unwrap_or(defaults.invitation_bulks_per_hour),
                }
            },
        })
    }

    /// The Frontend API URL printed for applications.
    pub fn frontend_api_url(&self) -> String {
        format!("http://{}", self.frontend_addr)
    }

    /// Where browsers reach the Frontend API, for links in emails: `public_frontend_url`, else
    /// the listener's URL.
    pub fn public_frontend_url(&self) -> String {
        self.public_frontend_url
            .clone()
            .unwrap_or_else(|| self.frontend_api_url())
    }

    /// The Backend API URL printed for applications.
    pub fn backend_api_url(&self) -> String {
        format!("http://{}", self.backend_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_and_bad_values_name_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "frontend_addr = \"127.0.0.1:5000\"\nbackend_addr = \"127.0.0.1:5001\"\n",
        )
        .unwrap();
        let args = CommonArgs {
            frontend_addr: Some("127.0.0.1:6000".into()),
            config: Some(path.to_string_lossy().into_owned()),
            ..CommonArgs::default()
        };
        let config = Config::load(&args, &[]).unwrap();
        assert_eq!(config.frontend_addr.port(), 6000);
        assert_eq!(config.backend_addr.port(), 5001);
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);

        let bad = CommonArgs {
            backend_addr: Some("nope".into()),
            ..CommonArgs::default()
        };
        assert!(Config::load(&bad, &[])
            .unwrap_err()
            .to_string()
            .contains("backend_addr"));
        let bad = CommonArgs {
            database_url: Some("mysql://x".into()),
            ..CommonArgs::default()
        };
        assert!(Config::load(&bad, &[])
            .unwrap_err()
            .to_string()
            .contains("database_url"));

        std::fs::write(&path, "unknown_key = 1\n").unwrap();
        let args = CommonArgs {
            config: Some(path.to_string_lossy().into_owned()),
            ..CommonArgs::default()
        };
        assert!(Config::load(&args, &[]).is_err());
    }

    #[test]
    fn public_frontend_url_and_invitation_limits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "public_frontend_url = \"https://app.example.com/__clerk/\"\n\
             [rate_limits]\ninvitations_per_hour = 3\norganization_invitation_bulks_per_hour = 0\n",
        )
        .unwrap();
        let args = CommonArgs {
            config: Some(path.to_string_lossy().into_owned()),
            ..CommonArgs::default()
        };
        let config = Config::load(&args, &[]).unwrap();
        assert_eq!(
            config.public_frontend_url(),
            "https://app.example.com/__clerk"
        );
        assert_eq!(config.rate_limits.invitations_per_hour, 3);
        assert_eq!(config.rate_limits.organization_invitation_bulks_per_hour, 0);
        assert_eq!(config.rate_limits.organization_invitations_per_hour, 250);
        assert_eq!(config.rate_limits.invitation_bulks_per_hour, 25);

        let defaults = Config::load(&CommonArgs::default(), &[]).unwrap();
        assert_eq!(defaults.public_frontend_url(), "http://127.0.0.1:4000");
        let bad = CommonArgs {
            public_frontend_url: Some("app.example.com".into()),
            ..CommonArgs::default()
        };
        assert!(Config::load(&bad, &[])
            .unwrap_err()
            .to_string()
            .contains("public_frontend_url"));
    }
}
