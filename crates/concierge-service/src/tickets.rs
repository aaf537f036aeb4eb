//! Invitation tickets (wire §6.3, §6.4, §6.8): the ticket of every organization and instance
//! invitation, the emailed accept link and where it lands, and redeeming a ticket in a sign-up
//! (`strategy=ticket`, the address arrives verified) or a sign-in (the invited user is signed in
//! directly).
//!
//! A ticket is an RS256 token signed with the instance's key: `st` says which kind of
//! invitation it redeems, `sub` names it, `ins` the instance, and `exp` is the invitation's
//! end of validity. Nothing is stored: a ticket is honoured only while its invitation is
//! pending, so acceptance, revocation and expiry end it, and only the instance's own keys
//! verify it. Being deterministic (PKCS#1 v1.5 over fixed claims), the same link is produced
//! each time an invitation is shown, until the instance's key is rotated.

use crate::frontend::{Browser, Outcome, SignInView};
use crate::{blocking, Result, Service};
use concierge_core::tickets::{landing_url, TicketStatus};
use concierge_core::*;
use concierge_store::{StoreError, Tx};
use concierge_tokens as tokens;
use serde_json::{json, Map, Value};
use tracing::instrument;

/// The invitation a ticket stands for, as read from storage.
#[derive(Debug, Clone)]
pub(crate) enum TicketInvitation {
    /// An organization invitation.
    Organization(OrganizationInvitation),
    /// An instance invitation.
    Instance(Invitation),
}

impl TicketInvitation {
    fn email(&self) -> &str {
        match self {
            Self::Organization(i) => &i.email_address,
            Self::Instance(i) => &i.email_address,
        }
    }

    fn status_at(&self, now: Millis) -> &'static str {
        match self {
            Self::Organization(i) => i.status_at(now),
            Self::Instance(i) => i.status_at(now),
        }
    }

    fn redirect_url(&self) -> Option<&str> {
        match self {
            Self::Organization(i) => i.redirect_url.as_deref(),
            Self::Instance(i) => i.redirect_url.as_deref(),
        }
    }

    fn reference(&self) -> InvitationRef {
        match self {
            Self::Organization(i) => InvitationRef::Organization(i.id.clone()),
            Self::Instance(i) => InvitationRef::Instance(i.id.clone()),
        }
    }

    /// Refuses an invitation that can no longer be redeemed, with Clerk's code for why.
    fn require_pending(&self, now: Millis) -> Result<()> {
        match (self, self.status_at(now)) {
            (_, "pending") => Ok(()),
            (_, "expired") => Err(CoreError::TicketExpired.into()),
            (Self::Organization(_), "revoked") => {
                Err(CoreError::OrganizationInvitationRevoked.into())
            }
            (Self::Organization(_), _) => Err(CoreError::OrganizationInvitationAccepted.into()),
            (Self::Instance(_), _) => Err(CoreError::TicketInvalid.into()),
        }
    }

    /// What a new user takes from the invitation: an instance invitation's public metadata.
    pub(crate) fn prepare_user(&self, user: &mut User) {
        if let Self::Instance(invitation) = self {
            user.public_metadata = invitation.public_metadata.clone();
        }
    }
}

/// One ticket to sign: which invitation, and the times it carries.
pub(crate) struct TicketClaims {
    reference: InvitationRef,
    created_at: Millis,
    expires_at: Millis,
}

impl TicketClaims {
    /// The ticket of an organization invitation.
    pub(crate) fn organization(invitation: &OrganizationInvitation) -> Self {
        Self {
            reference: InvitationRef::Organization(invitation.id.clone()),
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
        }
    }

    /// The ticket of an instance invitation.
    pub(crate) fn instance(invitation: &Invitation) -> Self {
        Self {
            reference: InvitationRef::Instance(invitation.id.clone()),
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
        }
    }
}

fn issuer(instance: &Instance) -> String {
    format!("https://{}", instance.frontend_host)
}

impl Service {
    /// Sets the public base URL of the Frontend API that emailed links use (the first call
    /// wins; `serve` calls it once at start-up). Without it, links use `https://<frontend host>`.
    pub fn set_frontend_url(&self, url: &str) {
        let _ = self
            .inner
            .frontend_url
            .set(url.trim_end_matches('/').to_owned());
    }

    /// The Frontend API's public base URL for links made outside a browser request (emailed
    /// tickets, logos uploaded through the Backend API): the configured one, else the issuer.
    pub fn frontend_base(&self, instance: &Instance) -> String {
        self.inner
            .frontend_url
            .get()
            .cloned()
            .unwrap_or_else(|| issuer(instance))
    }

    /// The accept link of a ticket: `<frontend API>/v1/tickets/accept?ticket=…`.
    fn accept_link(&self, instance: &Instance, ticket: &str) -> String {
        let base = self.frontend_base(instance);
        format!("{base}/v1/tickets/accept?ticket={ticket}")
    }

    /// Signs tickets with the instance's current key (one blocking task for all of them) and
    /// returns their accept links, in order.
    pub(crate) async fn ticket_links(
        &self,
        conn: &mut dyn Tx,
        instance: &Instance,
        tickets: Vec<TicketClaims>,
    ) -> Result<Vec<String>> {
        if tickets.is_empty() {
            return Ok(Vec::new());
        }
        let signer = self.current_signer(conn, &instance.id).await?;
        let iss = issuer(instance);
        let ins = instance.id.to_string();
        let signed = blocking(move || {
            tickets
                .iter()
                .map(|t| {
                    let mut claims = Map::new();
                    claims.insert("iss".into(), json!(iss));
                    claims.insert("sub".into(), json!(t.reference.id()));
                    claims.insert("st".into(), json!(t.reference.ticket_type()));
                    claims.insert("ins".into(), json!(ins));
                    claims.insert("iat".into(), json!(t.created_at / 1000));
                    claims.insert("exp".into(), json!((t.expires_at + 999) / 1000));
                    Ok(signer.sign_jwt(&Map::new(), &claims)?)
                })
                .collect::<Result<Vec<String>>>()
        })
        .await?;
        Ok(signed
            .iter()
            .map(|ticket| self.accept_link(instance, ticket))
            .collect())
    }

    /// The accept links of several invitations, `None` where no ticket is wanted (invitations
    /// that can no longer be redeemed).
    pub(crate) async fn optional_ticket_links(
        &self,
        instance: &Instance,
        tickets: Vec<Option<TicketClaims>>,
    ) -> Result<Vec<Option<String>>> {
        let wanted = tickets.iter().filter(|t| t.is_some()).count();
        if wanted == 0 {
            return Ok(vec![None; tickets.len()]);
        }
        let mut conn = self.inner.store.read().await?;
        let present: Vec<bool> = tickets.iter().map(Option::is_some).collect();
        let mut links = self
            .ticket_links(
                conn.as_mut(),
                instance,
                tickets.into_iter().flatten().collect(),
            )
            .await?
            .into_iter();
        Ok(present
            .into_iter()
            .map(|p| if p { links.next() } else { None })
            .collect())
    }

    /// The `url` of organization invitations on the Backend API: the accept link while the
    /// invitation is pending, else `None`.
    pub async fn organization_invitation_links(
        &self,
        instance: &Instance,
        views: &[crate::invitations::InvitationView],
    ) -> Result<Vec<Option<String>>> {
        let now = self.now();
        let tickets = views
            .iter()
            .map(|v| {
                (v.invitation.status_at(now) == "pending")
                    .then(|| TicketClaims::organization(&v.invitation))
            })
            .collect();
        self.optional_ticket_links(instance, tickets).await
    }

    /// Checks a ticket's signature against `instance`'s keys and loads its invitation, in
    /// whatever state it is. Forged, foreign, malformed or dangling tickets are
    /// `ticket_invalid_code`; a ticket past its `exp` is `ticket_expired_code` unless
    /// `allow_expired` (the accept link still lands an expired invitation's invitee on the
    /// normal flow).
    pub(crate) async fn read_ticket(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        ticket: &str,
        now: Millis,
        allow_expired: bool,
    ) -> Result<TicketInvitation> {
        let keys = tx.list_signing_keys(&instance.id).await?;
        let skew = if allow_expired { Millis::MAX / 4 } else { 0 };
        let claims =
            tokens::verify_rs256(ticket.trim(), &keys, now, skew).map_err(|e| match e {
                tokens::TokenError::Expired => CoreError::TicketExpired,
                _ => CoreError::TicketInvalid,
            })?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
        if text("ins") != instance.id.as_str() || text("iss") != issuer(instance) {
            return Err(CoreError::TicketInvalid.into());
        }
        let reference =
            InvitationRef::from_claims(text("st"), text("sub")).ok_or(CoreError::TicketInvalid)?;
        self.load_ticket_invitation(tx, &instance.id, &reference)
            .await
    }

    async fn load_ticket_invitation(
        &self,
        tx: &mut dyn Tx,
        instance: &InstanceId,
        reference: &InvitationRef,
    ) -> Result<TicketInvitation> {
        let loaded = match reference {
            InvitationRef::Organization(id) => tx
                .get_invitation(instance, id)
                .await
                .map(TicketInvitation::Organization),
            InvitationRef::Instance(id) => tx
                .get_instance_invitation(instance, id)
                .await
                .map(TicketInvitation::Instance),
        };
        match loaded {
            // The organization (and with it the invitation) may have been deleted.
            Err(StoreError::NotFound) => Err(CoreError::TicketInvalid.into()),
            other => Ok(other?),
        }
    }

    /// The invitation of a sign-up's ticket, still pending (checked again at completion).
    pub(crate) async fn pending_invitation(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        reference: &InvitationRef,
        now: Millis,
    ) -> Result<TicketInvitation> {
        let invitation = self
            .load_ticket_invitation(tx, &instance.id, reference)
            .await?;
        invitation.require_pending(now)?;
        Ok(invitation)
    }

    /// `GET /v1/tickets/accept?ticket=…`: where the invitee's browser goes next (wire §6.8).
    /// The instance is the one the request names (proxy key or host), else the ticket's own;
    /// either way only that instance's keys verify it. A pending invitation lands with
    /// `__clerk_ticket` and `__clerk_status=sign_in|sign_up`; an accepted one with
    /// `__clerk_status=complete`; a revoked or expired one without a ticket, so that the
    /// invitee goes through the normal flow.
    #[instrument(skip_all)]
    pub async fn ticket_landing(
        &self,
        requested: Option<std::sync::Arc<Instance>>,
        ticket: &str,
    ) -> Result<String> {
        let now = self.now();
        let mut conn = self.inner.store.read().await?;
        let instance = match requested {
            Some(instance) => instance,
            None => {
                let claims = tokens::decode_unverified_claims(ticket.trim())
                    .map_err(|_| CoreError::TicketInvalid)?;
                let id = claims
                    .get("ins")
                    .and_then(Value::as_str)
                    .and_then(|s| InstanceId::parse(s).ok())
                    .ok_or(CoreError::TicketInvalid)?;
                match conn.get_instance(&id).await {
                    Err(StoreError::NotFound) => return Err(CoreError::TicketInvalid.into()),
                    other => std::sync::Arc::new(other?),
                }
            }
        };
        let invitation = self
            .read_ticket(conn.as_mut(), &instance, ticket, now, true)
            .await?;
        let has_account = conn
            .find_email_address_by_address(&instance.id, invitation.email())
            .await?
            .is_some();
        let by_account = if has_account {
            TicketStatus::SignIn
        } else {
            TicketStatus::SignUp
        };
        let (status, carried) = match invitation.status_at(now) {
            "pending" => (by_account, Some(ticket.trim())),
            "accepted" => (TicketStatus::Complete, None),
            _ => (by_account, None),
        };
        let target = landing_url(&instance, invitation.redirect_url(), status, carried)?;
        tracing::info!(instance.id = %instance.id, status = status.as_str(), "invitation link followed");
        Ok(target)
    }

    /// Applies a ticket to a sign-up: its address becomes the invitation's, verified by the
    /// ticket, and the invitation is redeemed when the sign-up completes.
    pub(crate) async fn apply_sign_up_ticket(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        sign_up: &mut SignUp,
        ticket: &str,
        now: Millis,
    ) -> Result<()> {
        let invitation = self.read_ticket(tx, instance, ticket, now, false).await?;
        invitation.require_pending(now)?;
        let email = invitation.email().to_owned();
        if tx
            .find_email_address_by_address(&instance.id, &email)
            .await?
            .is_some()
        {
            return Err(CoreError::IdentifierExists {
                param: "email_address",
            }
            .into());
        }
        sign_up.email_address = Some(email);
        sign_up.email_verification = Some(Verification::verified("ticket"));
        sign_up.ticket = Some(invitation.reference());
        sign_up.updated_at = now;
        Ok(())
    }

    /// Redeems a pending invitation for `user`: an organization invitation makes them a member
    /// with its role (within the organization's membership limit; nothing to add when they
    /// already are one), and either kind becomes `accepted`.
    pub(crate) async fn redeem_invitation(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        invitation: TicketInvitation,
        user: &UserId,
        now: Millis,
    ) -> Result<()> {
        match invitation {
            TicketInvitation::Organization(mut invitation) => {
                let organization = tx
                    .lock_organization(&instance.id, &invitation.organization_id)
                    .await?;
                if tx
                    .find_membership(&instance.id, &organization.id, user)
                    .await?
                    .is_none()
                {
                    // The role must still be one the organization's role set allows.
                    let role_set = Self::role_set_of(tx, &organization).await?;
                    Self::role_in_set(tx, &role_set, &invitation.role, "role").await?;
                    Self::check_membership_room(tx, &organization).await?;
                    tx.insert_membership(&OrganizationMembership {
                        id: OrganizationMembershipId::generate(&mut Self::rng()),
                        instance_id: instance.id.clone(),
                        organization_id: organization.id.clone(),
                        user_id: user.clone(),
                        role: invitation.role.clone(),
                        public_metadata: invitation.public_metadata.clone(),
                        private_metadata: json!({}),
                        created_at: now,
                        updated_at: now,
                    })
                    .await?;
                }
                invitation.status = InvitationStatus::Accepted;
                invitation.updated_at = now;
                tx.update_invitation(&invitation).await?;
                tracing::info!(org.id = %organization.id, user.id = %user, "organization invitation redeemed with a ticket");
            }
            TicketInvitation::Instance(mut invitation) => {
                invitation.status = InvitationStatus::Accepted;
                invitation.updated_at = now;
                tx.update_instance_invitation(&invitation).await?;
                tracing::info!(user.id = %user, "instance invitation redeemed with a ticket");
            }
        }
        Ok(())
    }

    /// `POST /v1/client/sign_ins` with `strategy=ticket` (wire §6.4): the invited address's user
    /// is signed in at once (status `complete`, a new session under the single/multi-session
    /// rules) and the invitation is redeemed. An address without an account is
    /// `invitation_account_not_exists`, which sends the components to sign-up.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub(crate) async fn sign_in_with_ticket(
        &self,
        browser: &Browser,
        ticket: &str,
    ) -> Result<Outcome<SignInView>> {
        let instance = &browser.instance;
        let now = self.now();
        let mut new_token = None;
        let mut tx = self.inner.store.begin().await?;
        let mut client = self
            .client_for_attempt(tx.as_mut(), browser, now, &mut new_token)
            .await?;
        let invitation = self
            .read_ticket(tx.as_mut(), instance, ticket, now, false)
            .await?;
        invitation.require_pending(now)?;
        let mut address = tx
            .find_email_address_by_address(&instance.id, invitation.email())
            .await?
            .ok_or(CoreError::InvitationAccountNotExists)?;
        let mut user = tx.lock_user(&instance.id, &address.user_id).await?;
        if user.locked && user.locked_until.is_none_or(|until| until > now) {
            return Err(CoreError::UserLocked.into());
        }
        if !address.verified {
            // The ticket came to this mailbox: it proves the address.
            address.verified = true;
            address.verification_strategy = Some("ticket".into());
            address.updated_at = now;
            tx.update_email_address(&address).await?;
        }
        self.redeem_invitation(tx.as_mut(), instance, invitation, &user.id, now)
            .await?;
        let mut sign_in = SignIn {
            id: SignInId::generate(&mut Self::rng()),
            instance_id: instance.id.clone(),
            client_id: client.id.clone(),
            status: SignInStatus::NeedsFirstFactor,
            identifier: Some(address.email_address.clone()),
            user_id: Some(user.id.clone()),
            first_factor_verification: Some(Verification::verified("ticket")),
            created_session_id: None,
            abandon_at: now + ATTEMPT_LIFETIME_MS,
            created_at: now,
            updated_at: now,
        };
        self.complete_sign_in(
            tx.as_mut(),
            browser,
            &mut client,
            &mut sign_in,
            &mut user,
            now,
        )
        .await?;
        tx.insert_sign_in(&sign_in).await?;
        tx.update_client(&client).await?;
        tx.commit().await?;
        tracing::info!(sign_in.id = %sign_in.id, user.id = %user.id, "signed in with a ticket");
        let view = self.sign_in_view(instance, sign_in).await?;
        self.outcome(instance, Some(&client.id), new_token, view)
            .await
    }
}
