//! Email addresses managed through the Backend API.

use crate::{Result, Service};
use concierge_core::validation::normalize_email;
use concierge_core::*;
use tracing::instrument;

/// Parameters of `POST /v1/email_addresses`.
#[derive(Debug, Clone, Default)]
pub struct CreateEmailAddress {
    /// Owner.
    pub user_id: Option<UserId>,
    /// The address.
    pub email_address: String,
    /// Created verified (default false, as in Clerk).
    pub verified: bool,
    /// Make it the primary address.
    pub primary: bool,
}

impl Service {
    /// Adds an address to a user.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn create_email_address(
        &self,
        instance: &InstanceId,
        params: CreateEmailAddress,
    ) -> Result<EmailAddress> {
        let user_id = params
            .user_id
            .ok_or(CoreError::ParamMissing { param: "user_id" })?;
        let address = normalize_email(&params.email_address)?;
        let now = self.now();
        let email = EmailAddress {
            id: EmailAddressId::generate(&mut Self::rng()),
            instance_id: instance.clone(),
            user_id: user_id.clone(),
            email_address: address,
            verified: params.verified,
            verification_strategy: params.verified.then(|| "admin".to_owned()),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.inner.store.begin().await?;
        let mut user = tx.lock_user(instance, &user_id).await?;
        tx.insert_email_address(&email).await?;
        if params.primary || user.primary_email_address_id.is_none() {
            user.primary_email_address_id = Some(email.id.clone());
            user.updated_at = now;
            tx.update_user(&user).await?;
        }
        tx.commit().await?;
        Ok(email)
    }

    /// One address.
    pub async fn get_email_address(
        &self,
        instance: &InstanceId,
        id: &EmailAddressId,
    ) -> Result<EmailAddress> {
        let mut conn = self.inner.store.read().await?;
        Ok(conn.get_email_address(instance, id).await?)
    }

    /// Changes verification and primary flags.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn update_email_address(
        &self,
        instance: &InstanceId,
        id: &EmailAddressId,
        verified: Option<bool>,
        primary: Option<bool>,
    ) -> Result<EmailAddress> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let mut email = tx.get_email_address(instance, id).await?;
        if let Some(verified) = verified {
            email.verified = verified;
            email.verification_strategy = verified.then(|| "admin".to_owned());
            email.updated_at = now;
            tx.update_email_address(&email).await?;
        }
        if primary == Some(true) {
            let mut user = tx.lock_user(instance, &email.user_id).await?;
            user.primary_email_address_id = Some(email.id.clone());
            user.updated_at = now;
            tx.update_user(&user).await?;
        }
        tx.commit().await?;
        Ok(email)
    }

    /// Removes an address; if it was primary, the oldest remaining one becomes primary.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn delete_email_address(
        &self,
        instance: &InstanceId,
        id: &EmailAddressId,
    ) -> Result<()> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let email = tx.get_email_address(instance, id).await?;
        let mut user = tx.lock_user(instance, &email.user_id).await?;
        tx.delete_email_address(instance, id).await?;
        if user.primary_email_address_id.as_ref() == Some(id) {
            let remaining = tx
                .list_email_addresses_for_users(instance, std::slice::from_ref(&user.id))
                .await?;
            user.primary_email_address_id = remaining.first().map(|e| e.id.clone());
            user.updated_at = now;
            tx.update_user(&user).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
