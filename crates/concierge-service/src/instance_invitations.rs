//! Instance invitations (wire §8.2, `/v1/invitations`): invite an address to sign up, one by
//! one or in bulk (all or nothing), list, revoke and delete. The email carries the accept link
//! with the invitation's ticket; the invitee who signs up with it gets the invitation's public
//! metadata (see `tickets`).

use crate::mail::{instance_invitation_message, Outbox};
use crate::tickets::TicketClaims;
use crate::users::checked_metadata;
use crate::{Result, Service, ServiceError};
use concierge_core::tickets::{check_redirect_url, INSTANCE_INVITATION_LIFETIME_DAYS};
use concierge_core::validation::normalize_email;
use concierge_core::*;
use concierge_store::{InstanceInvitationQuery, Tx};
use serde_json::{json, Value};
use tracing::instrument;

/// Parameters of one instance invitation.
#[derive(Debug, Clone, Default)]
pub struct CreateInstanceInvitation {
    /// The invitee's address.
    pub email_address: String,
    /// Copied to the user's public metadata on sign-up.
    pub public_metadata: Option<Value>,
    /// Where the link leads: an allowed origin, or a path on the instance's pages.
    pub redirect_url: Option<String>,
    /// Whether to email the invitee (default true).
    pub notify: Option<bool>,
    /// Create it even when the address has an account or a pending invitation (default false).
    pub ignore_existing: Option<bool>,
    /// Validity in days (1 to 365, default 30).
    pub expires_in_days: Option<i64>,
}

/// An instance invitation with its accept link (`url`) while it is pending.
#[derive(Debug, Clone)]
pub struct InstanceInvitationView {
    /// The invitation.
    pub invitation: Invitation,
    /// `<frontend API>/v1/tickets/accept?ticket=…`, only while pending.
    pub url: Option<String>,
}

impl Service {
    async fn with_links(
        &self,
        instance: &Instance,
        invitations: Vec<Invitation>,
    ) -> Result<Vec<InstanceInvitationView>> {
        let now = self.now();
        let tickets = invitations
            .iter()
            .map(|i| (i.status_at(now) == "pending").then(|| TicketClaims::instance(i)))
            .collect();
        let links = self.optional_ticket_links(instance, tickets).await?;
        Ok(invitations
            .into_iter()
            .zip(links)
            .map(|(invitation, url)| InstanceInvitationView { invitation, url })
            .collect())
    }

    /// Refuses an address that has an account or a pending invitation, unless told otherwise.
    async fn check_not_invited(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        email: &str,
        now: Millis,
    ) -> Result<()> {
        if tx
            .find_email_address_by_address(instance, email)
            .await?
            .is_some()
        {
            return Err(CoreError::IdentifierExists {
                param: "email_address",
            }
            .into());
        }
        let pending = InstanceInvitationQuery {
            email_addresses: vec![email.to_owned()],
            statuses: vec!["pending".into()],
            now,
            limit: 1,
            ..InstanceInvitationQuery::default()
        };
        if tx.count_instance_invitations(instance, &pending).await? > 0 {
            return Err(CoreError::InvitationExists.into());
        }
        Ok(())
    }

    /// `POST /v1/invitations` and `/v1/invitations/bulk`: creates the invitations in one
    /// transaction and mails those with `notify` (the default).
    #[instrument(skip_all, fields(instance.id = %instance.id))]
    pub async fn create_instance_invitations(
        &self,
        instance: &Instance,
        params: Vec<CreateInstanceInvitation>,
    ) -> Result<Vec<InstanceInvitationView>> {
        if params.is_empty() {
            return Err(CoreError::ParamMissing {
                param: "email_address",
            }
            .into());
        }
        let now = self.now();
        let mut outbox = Outbox::default();
        let mut tx = self.inner.store.begin().await?;
        let mut created = Vec::with_capacity(params.len());
        for p in params {
            let email = normalize_email(&p.email_address)?;
            let days = p
                .expires_in_days
                .unwrap_or(INSTANCE_INVITATION_LIFETIME_DAYS);
            if !(1..=365).contains(&days) {
                return Err(CoreError::OutOfRange {
                    param: "expires_in_days",
                }
                .into());
            }
            if !p.ignore_existing.unwrap_or(false) {
                Self::check_not_invited(tx.as_mut(), &instance.id, &email, now).await?;
            }
            let invitation = Invitation {
                id: InvitationId::generate(&mut Self::rng()),
                instance_id: instance.id.clone(),
                email_address: email,
                public_metadata: checked_metadata(p.public_metadata, "public_metadata")?
                    .unwrap_or_else(|| json!({})),
                redirect_url: p
                    .redirect_url
                    .filter(|u| !u.is_empty())
                    .map(|u| check_redirect_url(instance, &u))
                    .transpose()?,
                status: InvitationStatus::Pending,
                expires_at: now + days * 24 * 3600 * 1000,
                created_at: now,
                updated_at: now,
            };
            tx.insert_instance_invitation(&invitation).await?;
            created.push((invitation, p.notify.unwrap_or(true)));
        }
        let tickets = created
            .iter()
            .map(|(i, _)| TicketClaims::instance(i))
            .collect();
        let links = self.ticket_links(tx.as_mut(), instance, tickets).await?;
        for ((invitation, notify), link) in created.iter().zip(&links) {
            if *notify {
                let message =
                    instance_invitation_message(instance, &invitation.email_address, link, now);
                self.stage_mail(tx.as_mut(), &mut outbox, message).await?;
            }
        }
        tx.commit().await?;
        self.flush_mail(outbox);
        tracing::info!(count = created.len(), "instance invitations created");
        Ok(created
            .into_iter()
            .zip(links)
            .map(|((invitation, _), url)| InstanceInvitationView {
                invitation,
                url: Some(url),
            })
            .collect())
    }

    /// `GET /v1/invitations`: a page of the instance's invitations with the total.
    pub async fn list_instance_invitations(
        &self,
        instance: &Instance,
        mut query: InstanceInvitationQuery,
    ) -> Result<(Vec<InstanceInvitationView>, i64)> {
        query.now = self.now();
        let (list, total) = {
            let mut conn = self.inner.store.read().await?;
            let list = conn.list_instance_invitations(&instance.id, &query).await?;
            let total = conn
                .count_instance_invitations(&instance.id, &query)
                .await?;
            (list, total)
        };
        Ok((self.with_links(instance, list).await?, total))
    }

    /// `POST /v1/invitations/{id}/revoke`: only a pending invitation can be revoked; its link
    /// stops working.
    #[instrument(skip_all, fields(instance.id = %instance.id))]
    pub async fn revoke_instance_invitation(
        &self,
        instance: &Instance,
        id: &str,
    ) -> Result<InstanceInvitationView> {
        let id = InvitationId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let mut invitation = tx.get_instance_invitation(&instance.id, &id).await?;
        if invitation.status_at(now) != "pending" {
            return Err(CoreError::InvitationNotRevocable.into());
        }
        invitation.status = InvitationStatus::Revoked;
        invitation.updated_at = now;
        tx.update_instance_invitation(&invitation).await?;
        tx.commit().await?;
        tracing::info!(invitation.id = %invitation.id, "instance invitation revoked");
        Ok(InstanceInvitationView {
            invitation,
            url: None,
        })
    }

    /// `DELETE /v1/invitations/{id}`: removes an invitation of any status.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn delete_instance_invitation(
        &self,
        instance: &InstanceId,
        id: &str,
    ) -> Result<InvitationId> {
        let id = InvitationId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let mut tx = self.inner.store.begin().await?;
        tx.delete_instance_invitation(instance, &id).await?;
        tx.commit().await?;
        Ok(id)
    }
}
