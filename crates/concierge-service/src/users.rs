//! Users: creation (with password or imported digest), reads, updates, metadata, deletion,
//! password checks, bans and locks.

use crate::{password_work, Result, Service};
use concierge_core::metadata::{check_metadata, deep_merge};
use concierge_core::validation::{
    check_name, check_password_policy, normalize_email, normalize_username,
};
use concierge_core::*;
use concierge_store::{SessionQuery, Tx, UserQuery};
use concierge_tokens as tokens;
use serde_json::{json, Value};
use std::collections::HashMap;
use tracing::instrument;

/// A user with their email addresses: what every API returns for a user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserView {
    /// The user.
    pub user: User,
    /// Their email addresses, oldest first.
    pub email_addresses: Vec<EmailAddress>,
}

/// Parameters of `POST /v1/users`, already decoded from the wire.
#[derive(Debug, Clone, Default)]
pub struct CreateUser {
    /// Email addresses; the first becomes primary. Created verified, as Clerk's Backend API does.
    pub email_addresses: Vec<String>,
    /// Username.
    pub username: Option<String>,
    /// Plain password to hash.
    pub password: Option<String>,
    /// Imported digest: (`password_hasher`, `password_digest`).
    pub password_digest: Option<(String, String)>,
    /// Skip the password policy (length checks still guard against empty passwords).
    pub skip_password_checks: bool,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Application id.
    pub external_id: Option<String>,
    /// Public metadata.
    pub public_metadata: Option<Value>,
    /// Private metadata.
    pub private_metadata: Option<Value>,
    /// Unsafe metadata.
    pub unsafe_metadata: Option<Value>,
    /// Backdated creation time (imports).
    pub created_at: Option<Millis>,
    /// Legal acceptance time.
    pub legal_accepted_at: Option<Millis>,
    /// Organization creation allowed.
    pub create_organization_enabled: Option<bool>,
    /// Organization creation limit.
    pub create_organizations_limit: Option<i64>,
    /// Self-deletion allowed.
    pub delete_self_enabled: Option<bool>,
    /// Locale.
    pub locale: Option<String>,
    /// Create as banned.
    pub banned: Option<bool>,
}

/// Parameters of `PATCH /v1/users/{id}`; `None` leaves a field unchanged, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UpdateUser {
    /// Given name.
    pub first_name: Option<Option<String>>,
    /// Family name.
    pub last_name: Option<Option<String>>,
    /// Username.
    pub username: Option<Option<String>>,
    /// Application id.
    pub external_id: Option<Option<String>>,
    /// New password.
    pub password: Option<String>,
    /// Imported digest.
    pub password_digest: Option<(String, String)>,
    /// Skip the password policy.
    pub skip_password_checks: bool,
    /// Sign out the user's other sessions when the password changes.
    pub sign_out_of_other_sessions: bool,
    /// With `sign_out_of_other_sessions`: the session that stays signed in (the caller's own).
    pub keep_session: Option<SessionId>,
    /// New primary email address (must belong to the user).
    pub primary_email_address_id: Option<EmailAddressId>,
    /// Public metadata (replaces).
    pub public_metadata: Option<Value>,
    /// Private metadata (replaces).
    pub private_metadata: Option<Value>,
    /// Unsafe metadata (replaces).
    pub unsafe_metadata: Option<Value>,
    /// Legal acceptance time.
    pub legal_accepted_at: Option<Millis>,
    /// Organization creation allowed.
    pub create_organization_enabled: Option<bool>,
    /// Organization creation limit.
    pub create_organizations_limit: Option<Option<i64>>,
    /// Self-deletion allowed.
    pub delete_self_enabled: Option<bool>,
    /// Locale.
    pub locale: Option<Option<String>>,
}

/// The three metadata documents; `None` leaves one untouched.
#[derive(Debug, Clone, Default)]
pub struct MetadataUpdate {
    /// Public metadata.
    pub public_metadata: Option<Value>,
    /// Private metadata.
    pub private_metadata: Option<Value>,
    /// Unsafe metadata.
    pub unsafe_metadata: Option<Value>,
}

fn empty_object() -> Value {
    json!({})
}

pub(crate) fn checked_metadata(value: Option<Value>, param: &'static str) -> Result<Option<Value>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            check_metadata(&v, param)?;
            Ok(Some(v))
        }
    }
}

fn clean_optional(value: Option<String>, param: &'static str) -> Result<Option<String>> {
    match value {
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => {
            check_name(&v, param)?;
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

fn clean_external_id(value: Option<String>) -> Result<Option<String>> {
    match value {
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.len() > 255 || v.chars().any(char::is_control) => {
            Err(CoreError::FormatInvalid {
                param: "external_id",
            }
            .into())
        }
        other => Ok(other),
    }
}

impl Service {
    pub(crate) async fn hash_new_password(
        &self,
        password: String,
        skip_checks: bool,
        min: usize,
    ) -> Result<PasswordHash> {
        if skip_checks {
            if password.is_empty() {
                return Err(CoreError::PasswordTooShort { min: 1 }.into());
            }
            if password.len() > 72 {
                return Err(CoreError::PasswordTooLong.into());
            }
        } else {
            check_password_policy(&password, min)?;
        }
        password_work(move || Ok(tokens::hash_password(&password, &mut Self::rng())?)).await
    }

    /// The hash to store for a password given in plain text or as an imported digest
    /// (a digest wins when both are given, as in Clerk's Backend API).
    async fn password_hash_from(
        &self,
        instance: &Instance,
        password: Option<String>,
        digest: Option<(String, String)>,
        skip_checks: bool,
    ) -> Result<Option<PasswordHash>> {
        Ok(match (password, digest) {
            (_, Some((hasher, digest))) => Some(tokens::import_password_digest(&hasher, &digest)?),
            (Some(password), None) => Some(
                self.hash_new_password(
                    password,
                    skip_checks,
                    instance.settings.password_min_length,
                )
                .await?,
            ),
            (None, None) => None,
        })
    }

    /// Loads a user and their email addresses.
    pub(crate) async fn load_user(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        id: &UserId,
    ) -> Result<UserView> {
        let (user, email_addresses) = tx.get_user_with_email_addresses(instance, id).await?;
        Ok(UserView {
            user,
            email_addresses,
        })
    }

    /// [`Self::load_user`] in a writing transaction, the user's row locked first
    /// (`Tx::lock_user`): this read-modify-write and a concurrent one cannot overwrite each
    /// other's changes.
    pub(crate) async fn load_user_for_update(
        tx: &mut dyn Tx,
        instance: &InstanceId,
        id: &UserId,
    ) -> Result<UserView> {
        tx.lock_user(instance, id).await?;
        Self::load_user(tx, instance, id).await
    }

    /// Creates a user (`POST /v1/users`).
    #[instrument(skip_all, fields(instance.id = %instance.id))]
    pub async fn create_user(&self, instance: &Instance, params: CreateUser) -> Result<UserView> {
        let emails = params
            .email_addresses
            .iter()
            .map(|e| normalize_email(e))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let username = params
            .username
            .as_deref()
            .map(normalize_username)
            .transpose()?;
        if emails.is_empty() && username.is_none() && params.external_id.is_none() {
            return Err(CoreError::ParamMissing {
                param: "email_address",
            }
            .into());
        }
        let first_name = clean_optional(params.first_name, "first_name")?;
        let last_name = clean_optional(params.last_name, "last_name")?;
        let external_id = clean_external_id(params.external_id)?;
        let public_metadata = checked_metadata(params.public_metadata, "public_metadata")?;
        let private_metadata = checked_metadata(params.private_metadata, "private_metadata")?;
        let unsafe_metadata = checked_metadata(params.unsafe_metadata, "unsafe_metadata")?;
        let password_hash = self
            .password_hash_from(
                instance,
                params.password,
                params.password_digest,
                params.skip_password_checks,
            )
            .await?;
        let now = self.now();
        let created_at = params.created_at.unwrap_or(now);
        let mut rng = Self::rng();
        let user_id = UserId::generate(&mut rng);
        let email_addresses: Vec<EmailAddress> = emails
            .iter()
            .map(|address| EmailAddress {
                id: EmailAddressId::generate(&mut rng),
                instance_id: instance.id.clone(),
                user_id: user_id.clone(),
                email_address: address.clone(),
                verified: true,
                verification_strategy: Some("admin".into()),
                created_at: now,
                updated_at: now,
            })
            .collect();
        let user = User {
            id: user_id.clone(),
            instance_id: instance.id.clone(),
            external_id,
            username,
            first_name,
            last_name,
            password_hash,
            public_metadata: public_metadata.unwrap_or_else(empty_object),
            private_metadata: private_metadata.unwrap_or_else(empty_object),
            unsafe_metadata: unsafe_metadata.unwrap_or_else(empty_object),
            primary_email_address_id: email_addresses.first().map(|e| e.id.clone()),
            image_url: None,
            banned: params.banned.unwrap_or(false),
            locked: false,
            locked_until: None,
            failed_password_attempts: 0,
            last_sign_in_at: None,
            last_active_at: None,
            legal_accepted_at: params.legal_accepted_at,
            create_organization_enabled: params.create_organization_enabled.unwrap_or(true),
            create_organizations_limit: params.create_organizations_limit,
            delete_self_enabled: params.delete_self_enabled.unwrap_or(true),
            locale: params.locale,
            created_at,
            updated_at: now,
        };
        let mut seen = std::collections::HashSet::new();
        if !emails.iter().all(|e| seen.insert(e)) {
            return Err(CoreError::IdentifierExists {
                param: "email_address",
            }
            .into());
        }
        let mut tx = self.inner.store.begin().await?;
        tx.insert_user(&user).await?;
        for email in &email_addresses {
            tx.insert_email_address(email).await?;
        }
        tx.commit().await?;
        tracing::info!(user.id = %user.id, "user created");
        Ok(UserView {
            user,
            email_addresses,
        })
    }

    /// One user with their addresses.
    pub async fn get_user(&self, instance: &InstanceId, id: &UserId) -> Result<UserView> {
        let mut conn = self.inner.store.read().await?;
        Self::load_user(conn.as_mut(), instance, id).await
    }

    /// A page of users with their addresses.
    pub async fn list_users(
        &self,
        instance: &InstanceId,
        query: &UserQuery,
    ) -> Result<Vec<UserView>> {
        let mut conn = self.inner.store.read().await?;
        let users = conn.list_users(instance, query).await?;
        let ids: Vec<UserId> = users.iter().map(|u| u.id.clone()).collect();
        let mut by_user: HashMap<UserId, Vec<EmailAddress>> = HashMap::new();
        for email in conn.list_email_addresses_for_users(instance, &ids).await? {
            by_user
                .entry(email.user_id.clone())
                .or_default()
                .push(email);
        }
        Ok(users
            .into_iter()
            .map(|user| {
                let email_addresses = by_user.remove(&user.id).unwrap_or_default();
                UserView {
                    user,
                    email_addresses,
                }
            })
            .collect())
    }

    /// How many users match the filters.
    pub async fn count_users(&self, instance: &InstanceId, query: &UserQuery) -> Result<i64> {
        let mut conn = self.inner.store.read().await?;
        Ok(conn.count_users(instance, query).await?)
    }

    /// Applies `PATCH /v1/users/{id}`.
    #[instrument(skip_all, fields(instance.id = %instance.id, user.id = %id))]
    pub async fn update_user(
        &self,
        instance: &Instance,
        id: &UserId,
        params: UpdateUser,
    ) -> Result<UserView> {
        let new_hash = self
            .password_hash_from(
                instance,
                params.password,
                params.password_digest,
                params.skip_password_checks,
            )
            .await?;
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let UserView {
            mut user,
            email_addresses,
        } = Self::load_user_for_update(tx.as_mut(), &instance.id, id).await?;
        if let Some(v) = params.first_name {
            user.first_name = clean_optional(v, "first_name")?;
        }
        if let Some(v) = params.last_name {
            user.last_name = clean_optional(v, "last_name")?;
        }
        if let Some(v) = params.username {
            user.username = v
                .filter(|s| !s.is_empty())
                .as_deref()
                .map(normalize_username)
                .transpose()?;
        }
        if let Some(v) = params.external_id {
            user.external_id = clean_external_id(v)?;
        }
        if let Some(primary) = params.primary_email_address_id {
            if !email_addresses.iter().any(|e| e.id == primary) {
                return Err(CoreError::FormatInvalid {
                    param: "primary_email_address_id",
                }
                .into());
            }
            user.primary_email_address_id = Some(primary);
        }
        if let Some(v) = checked_metadata(params.public_metadata, "public_metadata")? {
            user.public_metadata = v;
        }
        if let Some(v) = checked_metadata(params.private_metadata, "private_metadata")? {
            user.private_metadata = v;
        }
        if let Some(v) = checked_metadata(params.unsafe_metadata, "unsafe_metadata")? {
            user.unsafe_metadata = v;
        }
        if let Some(v) = params.legal_accepted_at {
            user.legal_accepted_at = Some(v);
        }
        if let Some(v) = params.create_organization_enabled {
            user.create_organization_enabled = v;
        }
        if let Some(v) = params.create_organizations_limit {
            user.create_organizations_limit = v;
        }
        if let Some(v) = params.delete_self_enabled {
            user.delete_self_enabled = v;
        }
        if let Some(v) = params.locale {
            user.locale = v;
        }
        let password_changed = new_hash.is_some();
        if let Some(hash) = new_hash {
            user.password_hash = Some(hash);
        }
        user.updated_at = now;
        tx.update_user(&user).await?;
        if password_changed && params.sign_out_of_other_sessions {
            tx.end_user_sessions(
                &instance.id,
                id,
                SessionStatus::Revoked,
                params.keep_session.as_ref(),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(UserView {
            user,
            email_addresses,
        })
    }

    /// Merges (`PATCH`) or replaces (`PUT`) the user's metadata documents.
    #[instrument(skip_all, fields(instance.id = %instance, user.id = %id))]
    pub async fn update_user_metadata(
        &self,
        instance: &InstanceId,
        id: &UserId,
        update: MetadataUpdate,
        merge: bool,
    ) -> Result<UserView> {
        let apply = |current: &Value, new: Option<Value>, param: &'static str| -> Result<Value> {
            match new {
                None => Ok(current.clone()),
                Some(new) if merge => {
                    let merged = deep_merge(current, &new);
                    check_metadata(&merged, param)?;
                    Ok(merged)
                }
                Some(Value::Null) => Ok(empty_object()),
                Some(new) => {
                    check_metadata(&new, param)?;
                    Ok(new)
                }
            }
        };
        let mut tx = self.inner.store.begin().await?;
        let UserView {
            mut user,
            email_addresses,
        } = Self::load_user_for_update(tx.as_mut(), instance, id).await?;
        user.public_metadata = apply(
            &user.public_metadata,
            update.public_metadata,
            "public_metadata",
        )?;
        user.private_metadata = apply(
            &user.private_metadata,
            update.private_metadata,
            "private_metadata",
        )?;
        user.unsafe_metadata = apply(
            &user.unsafe_metadata,
            update.unsafe_metadata,
            "unsafe_metadata",
        )?;
        user.updated_at = self.now();
        tx.update_user(&user).await?;
        tx.commit().await?;
        Ok(UserView {
            user,
            email_addresses,
        })
    }

    /// Deletes a user with their addresses and sessions.
    #[instrument(skip_all, fields(instance.id = %instance, user.id = %id))]
    pub async fn delete_user(&self, instance: &InstanceId, id: &UserId) -> Result<()> {
        let mut tx = self.inner.store.begin().await?;
        tx.delete_user(instance, id).await?;
        tx.commit().await?;
        tracing::info!("user deleted");
        Ok(())
    }

    /// Checks a password for a user without signing in (`POST /v1/users/{id}/verify_password`).
    /// Returns whether it matched; a bcrypt or outdated hash is upgraded to argon2id on a match.
    #[instrument(skip_all, fields(instance.id = %instance, user.id = %id))]
    pub async fn verify_user_password(
        &self,
        instance: &InstanceId,
        id: &UserId,
        password: String,
    ) -> Result<bool> {
        let user = {
            let mut conn = self.inner.store.read().await?;
            conn.get_user(instance, id).await?
        };
        let hash = user.password_hash.clone().ok_or(CoreError::NoPasswordSet)?;
        let (check, password) = password_work(move || {
            let check = tokens::verify_password(&hash, &password)?;
            Ok((check, password))
        })
        .await?;
        if check.matches && check.needs_rehash {
            self.upgrade_password_hash(instance, id, &user, password)
                .await?;
        }
        Ok(check.matches)
    }

    /// Re-hashes a verified password with argon2id, unless the hash changed meanwhile.
    pub(crate) async fn upgrade_password_hash(
        &self,
        instance: &InstanceId,
        id: &UserId,
        seen: &User,
        password: String,
    ) -> Result<()> {
        let new_hash =
            password_work(move || Ok(tokens::hash_password(&password, &mut Self::rng())?)).await?;
        let mut tx = self.inner.store.begin().await?;
        let mut user = tx.lock_user(instance, id).await?;
        if user.password_hash == seen.password_hash {
            user.password_hash = Some(new_hash);
            tx.update_user(&user).await?;
            tx.commit().await?;
            tracing::info!("password hash upgraded to argon2id");
        }
        Ok(())
    }

    /// Bans or unbans a user; banning revokes every active session.
    #[instrument(skip_all, fields(instance.id = %instance, user.id = %id))]
    pub async fn set_user_banned(
        &self,
        instance: &InstanceId,
        id: &UserId,
        banned: bool,
    ) -> Result<UserView> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let UserView {
            mut user,
            email_addresses,
        } = Self::load_user_for_update(tx.as_mut(), instance, id).await?;
        user.banned = banned;
        user.updated_at = now;
        tx.update_user(&user).await?;
        if banned {
            tx.end_user_sessions(instance, id, SessionStatus::Revoked, None, now)
                .await?;
        }
        tx.commit().await?;
        Ok(UserView {
            user,
            email_addresses,
        })
    }

    /// Locks (indefinitely, until unlocked) or unlocks a user; unlocking resets failed attempts.
    #[instrument(skip_all, fields(instance.id = %instance, user.id = %id))]
    pub async fn set_user_locked(
        &self,
        instance: &InstanceId,
        id: &UserId,
        locked: bool,
    ) -> Result<UserView> {
        let mut tx = self.inner.store.begin().await?;
        let UserView {
            mut user,
            email_addresses,
        } = Self::load_user_for_update(tx.as_mut(), instance, id).await?;
        user.locked = locked;
        user.locked_until = None;
        if !locked {
            user.failed_password_attempts = 0;
        }
        user.updated_at = self.now();
        tx.update_user(&user).await?;
        tx.commit().await?;
        Ok(UserView {
            user,
            email_addresses,
        })
    }

    /// Active sessions of a user (used by ban checks and the user views).
    pub async fn count_active_sessions(&self, instance: &InstanceId, user: &UserId) -> Result<i64> {
        let mut conn = self.inner.store.read().await?;
        let query = SessionQuery {
            user_id: Some(user.clone()),
            status: Some(SessionStatus::Active),
            now: self.now(),
            ..SessionQuery::default()
        };
        Ok(conn.count_sessions(instance, &query).await?)
    }
}
