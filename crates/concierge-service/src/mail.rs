//! Outgoing email: verification codes and invitations (organization and instance). Without
//! SMTP every message is kept in the mailbox (operator contract) inside the same transaction as
//! the change that caused it; with SMTP it is sent after that transaction commits.

use crate::{Result, Service};
use concierge_core::*;
use concierge_store::Tx;
use std::sync::Arc;

/// Sends a finished message over SMTP. Implemented in the server crate with `lettre`, so this
/// crate stays free of network clients.
#[async_trait::async_trait]
pub trait SmtpSender: Send + Sync {
    /// Delivers one message; errors are logged by the caller.
    async fn send(&self, message: &MailMessage) -> std::result::Result<(), String>;
}

/// Where mail goes.
#[derive(Clone, Default)]
pub enum Mailer {
    /// The local mailbox (`concierge mailbox --json`).
    #[default]
    Mailbox,
    /// An SMTP relay.
    Smtp(Arc<dyn SmtpSender>),
}

/// Messages staged during a transaction, sent once it commits.
#[derive(Default)]
#[must_use = "call Service::flush_mail after the transaction commits"]
pub(crate) struct Outbox(Vec<MailMessage>);

/// One verification-code email: subject, plain text and HTML.
pub(crate) fn code_message(
    instance: &Instance,
    to: &str,
    code: &str,
    purpose: CodePurpose,
    now: Millis,
) -> MailMessage {
    let app = &instance.settings.application_name;
    let (subject, action) = match purpose {
        CodePurpose::VerifyEmail => (
            format!("{code} is your {app} verification code"),
            "verify your email address",
        ),
        CodePurpose::SignIn => (format!("{code} is your {app} sign-in code"), "sign in"),
        CodePurpose::ResetPassword => (
            format!("{code} is your {app} password reset code"),
            "reset your password",
        ),
    };
    let text = format!(
        "Enter this code to {action} in {app}:\n\n{code}\n\nThe code expires in 10 minutes. \
         If you did not ask for it, you can ignore this email.\n"
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <p>Enter this code to {action} in {app}:</p>\
         <p style=\"font-size:28px;font-weight:bold;letter-spacing:4px\">{code}</p>\
         <p>The code expires in 10 minutes. If you did not ask for it, you can ignore this email.</p>\
         </body></html>",
        action = html_escape(action),
        app = html_escape(app),
        code = html_escape(code),
    );
    MailMessage {
        id: MailMessageId::generate(&mut Service::rng()),
        instance_id: instance.id.clone(),
        to: to.to_owned(),
        subject,
        text,
        html,
        created_at: now,
    }
}

/// The invitation email: who invites, to which organization, and the link to follow.
pub(crate) fn invitation_message(
    instance: &Instance,
    to: &str,
    organization: &str,
    link: &str,
    now: Millis,
) -> MailMessage {
    let app = &instance.settings.application_name;
    let text = format!(
        "You have been invited to join {organization} on {app}.\n\nAccept the invitation: {link}\n\n\
         Sign in or sign up with this email address ({to}) to join. If you did not expect this \
         invitation, you can ignore this email.\n"
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <p>You have been invited to join <strong>{organization}</strong> on {app}.</p>\
         <p><a href=\"{link}\">Accept the invitation</a></p>\
         <p>Sign in or sign up with this email address ({to}) to join. If you did not expect this \
         invitation, you can ignore this email.</p></body></html>",
        organization = html_escape(organization),
        app = html_escape(app),
        link = html_escape(link),
        to = html_escape(to),
    );
    MailMessage {
        id: MailMessageId::generate(&mut Service::rng()),
        instance_id: instance.id.clone(),
        to: to.to_owned(),
        subject: format!("You're invited to join {organization} on {app}"),
        text,
        html,
        created_at: now,
    }
}

/// The instance invitation email: an invitation to create an account, and the link to follow.
pub(crate) fn instance_invitation_message(
    instance: &Instance,
    to: &str,
    link: &str,
    now: Millis,
) -> MailMessage {
    let app = &instance.settings.application_name;
    let text = format!(
        "You have been invited to join {app}.\n\nAccept the invitation: {link}\n\n\
         The link lets you sign up with this email address ({to}). If you did not expect this \
         invitation, you can ignore this email.\n"
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <p>You have been invited to join <strong>{app}</strong>.</p>\
         <p><a href=\"{link}\">Accept the invitation</a></p>\
         <p>The link lets you sign up with this email address ({to}). If you did not expect \
         this invitation, you can ignore this email.</p></body></html>",
        app = html_escape(app),
        link = html_escape(link),
        to = html_escape(to),
    );
    MailMessage {
        id: MailMessageId::generate(&mut Service::rng()),
        instance_id: instance.id.clone(),
        to: to.to_owned(),
        subject: format!("You're invited to join {app}"),
        text,
        html,
        created_at: now,
    }
}

/// Why a code is sent.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CodePurpose {
    VerifyEmail,
    SignIn,
    ResetPassword,
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Service {
    /// Stages a message: into the mailbox now (same transaction), or for SMTP after commit.
    pub(crate) async fn stage_mail(
        &self,
        tx: &mut dyn Tx,
        outbox: &mut Outbox,
        message: MailMessage,
    ) -> Result<()> {
        match &self.inner.mailer {
            Mailer::Mailbox => tx.insert_mail_message(&message).await?,
            Mailer::Smtp(_) => outbox.0.push(message),
        }
        Ok(())
    }

    /// Sends what was staged for SMTP, in the background (a slow relay never holds a request).
    pub(crate) fn flush_mail(&self, outbox: Outbox) {
        let Mailer::Smtp(sender) = &self.inner.mailer else {
            return;
        };
        for message in outbox.0 {
            let sender = Arc::clone(sender);
            tokio::spawn(async move {
                if let Err(error) = sender.send(&message).await {
                    tracing::error!(mail.id = %message.id, %error, "SMTP delivery failed");
                } else {
                    tracing::info!(mail.id = %message.id, "mail sent over SMTP");
                }
            });
        }
    }
}
