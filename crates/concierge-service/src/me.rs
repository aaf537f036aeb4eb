//! `/v1/me`: the signed-in user managing their own account from the browser (wire §6.7).
//! Every call acts as one session of the browser's client (`_clerk_session_id`, else the
//! client's last active session), which must be active.

use crate::frontend::{Browser, Outcome};
use crate::mail::{CodePurpose, Outbox};
use crate::users::{MetadataUpdate, UpdateUser, UserView};
use crate::{password_work, Result, Service, ServiceError};
use concierge_core::validation::normalize_email;
use concierge_core::*;
use concierge_store::{SessionQuery, Tx};
use concierge_tokens as tokens;
use serde_json::Value;
use tracing::instrument;

/// Profile fields of `PATCH /v1/me`; `None` leaves a field unchanged, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UpdateMe {
    /// Given name.
    pub first_name: Option<Option<String>>,
    /// Family name.
    pub last_name: Option<Option<String>>,
    /// Username.
    pub username: Option<Option<String>>,
    /// New primary email address.
    pub primary_email_address_id: Option<EmailAddressId>,
}

/// An email address with its pending code verification, if any.
#[derive(Debug, Clone)]
pub struct EmailAddressView {
    /// The address.
    pub email: EmailAddress,
    /// The verification in progress.
    pub verification: Option<Verification>,
}

/// The signed-in context of a `/v1/me` call.
pub(crate) struct Me {
    pub(crate) client: Client,
    pub(crate) session: Session,
}

impl Service {
    pub(crate) async fn me(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        session_id: Option<&str>,
    ) -> Result<Me> {
        let now = self.now();
        let token = browser.client_token.as_deref().filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(CoreError::NotSignedIn.into());
        };
        let client = tx
            .find_client_by_token_hash(&browser.instance.id, &tokens::sha256(token.as_bytes()))
            .await?
            .ok_or(CoreError::NotSignedIn)?;
        let id = match session_id.filter(|s| !s.is_empty()) {
            Some(id) => SessionId::parse(id).map_err(|_| CoreError::NotSignedIn)?,
            None => client
                .last_active_session_id
                .clone()
                .ok_or(CoreError::NotSignedIn)?,
        };
        let session = match tx.get_session(&browser.instance.id, &id).await {
            Ok(session) => session,
            Err(concierge_store::StoreError::NotFound) => return Err(CoreError::NotSignedIn.into()),
            Err(e) => return Err(e.into()),
        };
        if session.client_id != client.id || session.effective_status(now) != SessionStatus::Active
        {
            return Err(CoreError::NotSignedIn.into());
        }
        Ok(Me { client, session })
    }

    pub(crate) async fn me_read(&self, browser: &Browser, session_id: Option<&str>) -> Result<Me> {
        let mut conn = self.inner.store.read().await?;
        self.me(conn.as_mut(), browser, session_id).await
    }

    pub(crate) async fn me_outcome<T>(
        &self,
        browser: &Browser,
        me: &Me,
        response: T,
    ) -> Result<Outcome<T>> {
        let client = self
            .client_snapshot(&browser.instance, &me.client.id)
            .await?;
        Ok(Outcome {
            response,
            client: Some(client),
            new_client_token: None,
        })
    }

    /// `GET /v1/me`.
    pub async fn get_me(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
    ) -> Result<Outcome<UserView>> {
        let me = self.me_read(browser, session_id).await?;
        let user = self
            .get_user(&browser.instance.id, &me.session.user_id)
            .await?;
        self.me_outcome(browser, &me, user).await
    }

    /// `PATCH /v1/me`: names, username, primary email address.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn update_me(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        update: UpdateMe,
    ) -> Result<Outcome<UserView>> {
        let me = self.me_read(browser, session_id).await?;
        if let Some(primary) = &update.primary_email_address_id {
            let email = self
                .get_email_address(&browser.instance.id, primary)
                .await?;
            if !email.verified {
                return Err(CoreError::FormatInvalid {
                    param: "primary_email_address_id",
                }
                .into());
            }
        }
        let params = UpdateUser {
            first_name: update.first_name,
            last_name: update.last_name,
            username: update.username,
            primary_email_address_id: update.primary_email_address_id,
            ..UpdateUser::default()
        };
        let user = self
            .update_user(&browser.instance, &me.session.user_id, params)
            .await?;
        self.me_outcome(browser, &me, user).await
    }

    /// `PATCH /v1/me/metadata`: deep-merges `unsafe_metadata`.
    pub async fn update_me_metadata(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        unsafe_metadata: Value,
    ) -> Result<Outcome<UserView>> {
        let me = self.me_read(browser, session_id).await?;
        let update = MetadataUpdate {
            unsafe_metadata: Some(unsafe_metadata),
            ..MetadataUpdate::default()
        };
        let user = self
            .update_user_metadata(&browser.instance.id, &me.session.user_id, update, true)
            .await?;
        self.me_outcome(browser, &me, user).await
    }

    /// `POST /v1/me/change_password`: checks the current password (when the user has one),
    /// sets the new one and optionally signs out every other session.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn change_my_password(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        current_password: Option<String>,
        new_password: String,
        sign_out_of_other_sessions: bool,
    ) -> Result<Outcome<UserView>> {
        let me = self.me_read(browser, session_id).await?;
        let user = self
            .get_user(&browser.instance.id, &me.session.user_id)
            .await?;
        if let Some(hash) = user.user.password_hash.clone() {
            let current =
                current_password
                    .filter(|p| !p.is_empty())
                    .ok_or(CoreError::ParamMissing {
                        param: "current_password",
                    })?;
            let new = new_password.clone();
            let (matches, same) = password_work(move || {
                let current_ok = tokens::verify_password(&hash, &current)?.matches;
                let same = tokens::verify_password(&hash, &new)?.matches;
                Ok((current_ok, same))
            })
            .await?;
            if !matches {
                return Err(CoreError::PasswordIncorrect.into());
            }
            if same {
                return Err(CoreError::NewPasswordMatchesCurrent.into());
            }
        }
        let params = UpdateUser {
            password: Some(new_password),
            sign_out_of_other_sessions,
            keep_session: Some(me.session.id.clone()),
            ..UpdateUser::default()
        };
        let user = match self
            .update_user(&browser.instance, &me.session.user_id, params)
            .await
        {
            Err(ServiceError::Core(CoreError::PasswordTooShort { min })) => {
                return Err(CoreError::PasswordTooShort { min }.into())
            }
            other => other?,
        };
        self.me_outcome(browser, &me, user).await
    }

    /// `DELETE /v1/me`: deletes the account when the user may delete themselves.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn delete_me(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
    ) -> Result<Outcome<UserId>> {
        let me = self.me_read(browser, session_id).await?;
        let user = self
            .get_user(&browser.instance.id, &me.session.user_id)
            .await?;
        if !user.user.delete_self_enabled {
            return Err(CoreError::DeleteSelfDisabled.into());
        }
        self.delete_user(&browser.instance.id, &user.user.id)
            .await?;
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let mut client = tx.get_client(&browser.instance.id, &me.client.id).await?;
        client.last_active_session_id = None;
        client.uat = now;
        client.updated_at = now;
        tx.update_client(&client).await?;
        tx.commit().await?;
        self.me_outcome(browser, &me, user.user.id).await
    }

    /// `GET /v1/me/sessions/active`: the user's active sessions on every client.
    pub async fn my_active_sessions(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
    ) -> Result<Vec<Session>> {
        let me = self.me_read(browser, session_id).await?;
        let query = SessionQuery {
            user_id: Some(me.session.user_id.clone()),
            status: Some(SessionStatus::Active),
            limit: 100,
            now: self.now(),
            ..SessionQuery::default()
        };
        let mut conn = self.inner.store.read().await?;
        Ok(conn.list_sessions(&browser.instance.id, &query).await?)
    }

    /// `POST /v1/me/sessions/{id}/revoke`: revokes another session of the same user.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn revoke_my_session(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        target: &str,
    ) -> Result<Outcome<Session>> {
        let me = self.me_read(browser, session_id).await?;
        let target = SessionId::parse(target).map_err(|_| ServiceError::NotFound)?;
        let session = self.get_session(&browser.instance.id, &target).await?;
        if session.user_id != me.session.user_id {
            return Err(ServiceError::NotFound);
        }
        let session = self.revoke_session(&browser.instance.id, &target).await?;
        self.me_outcome(browser, &me, session).await
    }

    // ---- profile image ---------------------------------------------------------------------

    /// `POST /v1/me/profile_image`: stores the image and points the user's `image_url` at
    /// `<public_base>/v1/images/<id>` (the Frontend API as the browser reaches it); the previous
    /// uploaded image is deleted.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn set_my_profile_image(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        bytes: Vec<u8>,
        public_base: &str,
    ) -> Result<Outcome<Image>> {
        let now = self.now();
        let image = self.new_image(&browser.instance.id, bytes)?;
        let mut tx = self.inner.store.begin().await?;
        let me = self.me(tx.as_mut(), browser, session_id).await?;
        let mut user = tx
            .lock_user(&browser.instance.id, &me.session.user_id)
            .await?;
        if let Some(previous) = user.image_url.as_deref().and_then(uploaded_image_id) {
            tx.delete_image(&browser.instance.id, &previous).await?;
        }
        tx.insert_image(&image).await?;
        user.image_url = Some(image_url(public_base, &image.id));
        user.updated_at = now;
        tx.update_user(&user).await?;
        tx.commit().await?;
        self.me_outcome(browser, &me, image).await
    }

    /// `DELETE /v1/me/profile_image`: back to the default avatar.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn delete_my_profile_image(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
    ) -> Result<Outcome<Option<ImageId>>> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let me = self.me(tx.as_mut(), browser, session_id).await?;
        let mut user = tx
            .lock_user(&browser.instance.id, &me.session.user_id)
            .await?;
        let previous = user.image_url.as_deref().and_then(uploaded_image_id);
        if let Some(id) = &previous {
            tx.delete_image(&browser.instance.id, id).await?;
        }
        user.image_url = None;
        user.updated_at = now;
        tx.update_user(&user).await?;
        tx.commit().await?;
        self.me_outcome(browser, &me, previous).await
    }

    /// An uploaded image, for `GET /v1/images/{id}`.
    pub async fn get_image(&self, id: &str) -> Result<Image> {
        let id = ImageId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let mut conn = self.inner.store.read().await?;
        Ok(conn.get_image(&id).await?)
    }

    // ---- email addresses -------------------------------------------------------------------

    async fn my_email(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        me: &Me,
        id: &str,
    ) -> Result<EmailAddress> {
        let id = EmailAddressId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let email = tx.get_email_address(&browser.instance.id, &id).await?;
        if email.user_id != me.session.user_id {
            return Err(ServiceError::NotFound);
        }
        Ok(email)
    }

    /// `POST /v1/me/email_addresses`: adds an unverified address.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn add_my_email(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        address: &str,
    ) -> Result<Outcome<EmailAddressView>> {
        let me = self.me_read(browser, session_id).await?;
        let address = normalize_email(address)?;
        let now = self.now();
        let email = EmailAddress {
            id: EmailAddressId::generate(&mut Self::rng()),
            instance_id: browser.instance.id.clone(),
            user_id: me.session.user_id.clone(),
            email_address: address,
            verified: false,
            verification_strategy: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.inner.store.begin().await?;
        tx.insert_email_address(&email).await?;
        tx.commit().await?;
        let view = EmailAddressView {
            email,
            verification: None,
        };
        self.me_outcome(browser, &me, view).await
    }

    /// `GET /v1/me/email_addresses/{id}`.
    pub async fn get_my_email(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        id: &str,
    ) -> Result<Outcome<EmailAddressView>> {
        let (me, view) = {
            let mut conn = self.inner.store.read().await?;
            let me = self.me(conn.as_mut(), browser, session_id).await?;
            let email = self.my_email(conn.as_mut(), browser, &me, id).await?;
            let verification = conn
                .get_verification(&browser.instance.id, email.id.as_str())
                .await?;
            (
                me,
                EmailAddressView {
                    email,
                    verification,
                },
            )
        };
        self.me_outcome(browser, &me, view).await
    }

    /// `POST /v1/me/email_addresses/{id}/prepare_verification` with `strategy=email_code`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn prepare_my_email_verification(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        id: &str,
        strategy: &str,
    ) -> Result<Outcome<EmailAddressView>> {
        if strategy != "email_code" {
            return Err(CoreError::StrategyNotAllowed.into());
        }
        let now = self.now();
        let mut outbox = Outbox::default();
        let mut tx = self.inner.store.begin().await?;
        let me = self.me(tx.as_mut(), browser, session_id).await?;
        let email = self.my_email(tx.as_mut(), browser, &me, id).await?;
        if email.verified {
            return Err(CoreError::VerificationAlreadyVerified.into());
        }
        let hash = self
            .issue_code(
                tx.as_mut(),
                &mut outbox,
                &browser.instance,
                &email.email_address,
                CodePurpose::VerifyEmail,
                now,
            )
            .await?;
        let verification = Verification::code("email_code", hash, now, Some(email.id.clone()));
        tx.put_verification(&browser.instance.id, email.id.as_str(), &verification)
            .await?;
        tx.commit().await?;
        self.flush_mail(outbox);
        let view = EmailAddressView {
            email,
            verification: Some(verification),
        };
        self.me_outcome(browser, &me, view).await
    }

    /// `POST /v1/me/email_addresses/{id}/attempt_verification`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn attempt_my_email_verification(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        id: &str,
        code: &str,
    ) -> Result<Outcome<EmailAddressView>> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let me = self.me(tx.as_mut(), browser, session_id).await?;
        let mut email = self.my_email(tx.as_mut(), browser, &me, id).await?;
        let mut verification = tx
            .get_verification(&browser.instance.id, email.id.as_str())
            .await?
            .ok_or(CoreError::VerificationNotPrepared)?;
        let matches = crate::frontend::code_matches(&verification, code);
        let attempt = verification.attempt(matches, now);
        tx.put_verification(&browser.instance.id, email.id.as_str(), &verification)
            .await?;
        if let Err(refusal) = attempt {
            tx.commit().await?;
            return Err(refusal.into());
        }
        email.verified = true;
        email.verification_strategy = Some("email_code".into());
        email.updated_at = now;
        tx.update_email_address(&email).await?;
        // A verified address at an organization's verified domain enrolls (wire §6.8).
        self.enroll_by_domain(tx.as_mut(), &browser.instance, &email, now)
            .await?;
        let mut user = tx.lock_user(&browser.instance.id, &email.user_id).await?;
        if user.primary_email_address_id.is_none() {
            user.primary_email_address_id = Some(email.id.clone());
            user.updated_at = now;
            tx.update_user(&user).await?;
        }
        tx.commit().await?;
        let view = EmailAddressView {
            email,
            verification: Some(verification),
        };
        self.me_outcome(browser, &me, view).await
    }

    /// `DELETE /v1/me/email_addresses/{id}`: the primary address cannot be removed.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn delete_my_email(
        &self,
        browser: &Browser,
        session_id: Option<&str>,
        id: &str,
    ) -> Result<Outcome<EmailAddressId>> {
        let mut tx = self.inner.store.begin().await?;
        let me = self.me(tx.as_mut(), browser, session_id).await?;
        let email = self.my_email(tx.as_mut(), browser, &me, id).await?;
        let user = tx.get_user(&browser.instance.id, &email.user_id).await?;
        if user.primary_email_address_id.as_ref() == Some(&email.id) {
            return Err(CoreError::LastIdentification.into());
        }
        tx.delete_email_address(&browser.instance.id, &email.id)
            .await?;
        tx.delete_verification(&browser.instance.id, email.id.as_str())
            .await?;
        tx.commit().await?;
        self.me_outcome(browser, &me, email.id).await
    }
}

/// The id of an image this server stored, from a user's `image_url`.
/// The id of an image this server stored, when `url` points at one (else an outside URL).
pub(crate) fn uploaded_image_id(url: &str) -> Option<ImageId> {
    let (_, tail) = url.rsplit_once("/v1/images/")?;
    ImageId::parse(tail).ok()
}

/// Where browsers fetch a stored image: `<public_base>/v1/images/<id>` on the Frontend API.
pub(crate) fn image_url(public_base: &str, id: &ImageId) -> String {
    format!("{}/v1/images/{}", public_base.trim_end_matches('/'), id)
}

impl Service {
    /// Checks an upload (size, PNG/JPEG/GIF/WebP by its bytes) and makes it an image.
    pub(crate) fn new_image(&self, instance: &InstanceId, bytes: Vec<u8>) -> Result<Image> {
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(CoreError::OutOfRange { param: "file" }.into());
        }
        let content_type =
            sniff_image_type(&bytes).ok_or(CoreError::FormatInvalid { param: "file" })?;
        Ok(Image {
            id: ImageId::generate(&mut Self::rng()),
            instance_id: instance.clone(),
            content_type: content_type.to_owned(),
            bytes,
            created_at: self.now(),
        })
    }
}
