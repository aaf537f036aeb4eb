//! SMTP delivery with `lettre`, configured by the TOML `[smtp]` table. Without it, mail goes to
//! the local mailbox (operator contract).

use anyhow::{bail, Context, Result};
use concierge_core::MailMessage;
use concierge_service::mail::SmtpSender;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

/// The `[smtp]` table of the configuration file.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Relay host name.
    pub host: String,
    /// Port (default: 587 for `starttls`, 465 for `tls`, 25 for `none`).
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit TLS) or `none` (plain, local relays only).
    pub security: Option<String>,
    /// Login, if the relay needs one.
    pub username: Option<String>,
    /// Password for `username`. Never logged.
    pub password: Option<String>,
    /// Sender, e.g. `"Acme <no-reply@acme.test>"`.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("from", &self.from)
            .finish()
    }
}

/// Sends mail through one relay; connections are opened per message.
pub struct LettreSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl LettreSender {
    /// Builds the transport; fails on a bad host, security mode or sender.
    pub fn new(config: &SmtpConfig) -> Result<Self> {
        let from: Mailbox = config
            .from
            .parse()
            .with_context(|| format!("smtp.from: {:?} is not an address", config.from))?;
        let security = config.security.as_deref().unwrap_or("starttls");
        let mut builder = match security {
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .with_context(|| format!("smtp.host: {:?}", config.host))?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                .with_context(|| format!("smtp.host: {:?}", config.host))?,
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            other => bail!("smtp.security: {other:?} must be \"starttls\", \"tls\" or \"none\""),
        };
        if let Some(port) = config.port {
            builder = builder.port(port);
        }
        match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            (None, None) => {}
            _ => bail!("smtp: username and password go together"),
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait::async_trait]
impl SmtpSender for LettreSender {
    async fn send(&self, message: &MailMessage) -> std::result::Result<(), String> {
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|e| format!("recipient is not an address: {e}"))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(message.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(message.html.clone()),
                    ),
            )
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| format!("relay refused or unreachable: {e}"))
    }
}
