//! The local mailbox: where mail goes when no SMTP server is configured (operator contract).

use crate::{Result, Service};
use concierge_core::{InstanceId, MailMessage};

impl Service {
    /// Newest messages first, optionally only those to one address.
    pub async fn list_mailbox(
        &self,
        instance: &InstanceId,
        to: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MailMessage>> {
        let mut conn = self.inner.store.read().await?;
        Ok(conn.list_mail_messages(instance, to, limit).await?)
    }
}
