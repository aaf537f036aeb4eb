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
                }
            },
        })
    }

    /// The Frontend API URL printed for applications.
    pub fn frontend_api_url(&self) -> String {
        format!("http://{}", self.frontend_addr)
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
}
