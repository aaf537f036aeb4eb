//! Instances: creation with keys, lookup by secret key, key rotation and the JWKS.

use crate::{blocking, Result, Service, ServiceError};
use concierge_core::{CoreError, Instance, InstanceId, InstanceSettings};
use concierge_tokens as tokens;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::instrument;

/// How long a secret-key lookup is trusted before the database is asked again.
/// Short, because settings changed on another node must show up soon.
const INSTANCE_CACHE_TTL: Duration = Duration::from_secs(5);

/// Cached instances by key, each with the time it was read.
type Entries<K> = Mutex<HashMap<K, (Arc<Instance>, Instant)>>;

/// In-process cache of instances by secret-key hash; every node keeps its own and the database
/// stays the source of truth.
#[derive(Default)]
pub(crate) struct InstanceCache {
    by_secret_hash: Entries<Vec<u8>>,
    /// Frontend requests without a proxy key, by their `Host` (whether it matched an
    /// instance's frontend host or fell back to the only instance).
    by_host: Entries<String>,
}

impl InstanceCache {
    fn get<K>(map: &Entries<K::Owned>, key: &K) -> Option<Arc<Instance>>
    where
        K: std::hash::Hash + Eq + ToOwned + ?Sized,
        K::Owned: std::hash::Hash + Eq + std::borrow::Borrow<K>,
    {
        let cache = map.lock().ok()?;
        let (instance, at) = cache.get(key)?;
        (at.elapsed() < INSTANCE_CACHE_TTL).then(|| instance.clone())
    }

    fn put<K: std::hash::Hash + Eq>(map: &Entries<K>, key: K, instance: &Arc<Instance>) {
        if let Ok(mut cache) = map.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(key, (instance.clone(), Instant::now()));
        }
    }

    /// Forgets everything (after a change made on this node).
    pub(crate) fn clear(&self) {
        if let Ok(mut cache) = self.by_secret_hash.lock() {
            cache.clear();
        }
        if let Ok(mut cache) = self.by_host.lock() {
            cache.clear();
        }
    }
}

/// Changes to an instance's settings (`instance configure`); `None` leaves one unchanged.
#[derive(Debug, Clone, Default)]
pub struct SettingsUpdate {
    /// Several active sessions per client.
    pub multi_session: Option<bool>,
    /// Maximum session lifetime in seconds (at least 60).
    pub session_max_lifetime_secs: Option<i64>,
    /// Inactivity timeout in seconds; `Some(None)` turns it off.
    pub session_inactivity_timeout_secs: Option<Option<i64>>,
    /// Name shown by the UI components.
    pub application_name: Option<String>,
    /// Role of an organization's creator: becomes the initial role set's creator role (a role
    /// of that set).
    pub organization_creator_role: Option<String>,
    /// Default role of new organization members: becomes the initial role set's default role
    /// (a role of that set).
    pub organization_default_role: Option<String>,
    /// Wrong passwords before a lockout (at least 1).
    pub max_password_attempts: Option<i64>,
    /// Lockout duration in seconds (at least 60).
    pub lockout_secs: Option<i64>,
    /// The application's home page (absolute http(s) URL; empty clears it).
    pub home_url: Option<String>,
    /// Where the application mounts `<SignIn/>` (absolute http(s) URL; empty clears it).
    pub sign_in_url: Option<String>,
    /// Where the application mounts `<SignUp/>` (absolute http(s) URL; empty clears it).
    pub sign_up_url: Option<String>,
    /// Members a new organization may have (0 = unlimited).
    pub organization_max_allowed_memberships: Option<i64>,
    /// Organizations one user may create from the browser (0 = unlimited).
    pub organization_create_limit: Option<i64>,
}

/// What `instance create` (and `serve` on an empty database) needs.
#[derive(Debug, Clone)]
pub struct NewInstance {
    /// Unique name: 1 to 63 characters of lowercase letters, digits and `-`.
    pub name: String,
    /// Host to encode in the publishable key; must contain a dot. Defaults to `<name>.concierge.test`.
    pub frontend_host: Option<String>,
    /// Origins accepted for browser requests.
    pub allowed_origins: Vec<String>,
    /// Whether any `http://localhost:<port>` / `http://127.0.0.1:<port>` origin is accepted.
    pub allow_localhost: bool,
    /// Test mode (operator contract).
    pub test_mode: bool,
}

fn check_instance_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(CoreError::FormatInvalid { param: "name" }.into())
    }
}

fn check_frontend_host(host: &str) -> Result<String> {
    let host = host.trim().to_ascii_lowercase();
    let ok = host.contains('.')
        && !host.contains('$')
        && !host.contains("://")
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    if ok {
        Ok(host)
    } else {
        Err(CoreError::FormatInvalid {
            param: "frontend_host",
        }
        .into())
    }
}

/// Checks an origin of the form `scheme://host[:port]` and returns it normalised (no trailing slash).
pub fn normalize_origin(origin: &str) -> Result<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains('/') && !host.contains('?') => Ok(origin),
        _ => Err(CoreError::FormatInvalid {
            param: "allowed_origin",
        }
        .into()),
    }
}

/// Generates an RSA signing key off the async runtime (key generation takes a while).
async fn new_signing_key(
    instance: &InstanceId,
    now: concierge_core::Millis,
) -> Result<concierge_core::SigningKey> {
    let instance = instance.clone();
    blocking(move || {
        Ok(tokens::generate_signing_key(
            &instance,
            &mut Service::rng(),
            now,
        )?)
    })
    .await
}

impl Service {
    /// Creates an instance with fresh keys: publishable key, secret key and an RSA-2048 signing key.
    #[instrument(skip_all, fields(instance.name = %new.name))]
    pub async fn create_instance(&self, new: NewInstance) -> Result<Instance> {
        check_instance_name(&new.name)?;
        let frontend_host = check_frontend_host(
            new.frontend_host
                .as_deref()
                .unwrap_or(&format!("{}.concierge.test", new.name)),
        )?;
        let allowed_origins = new
            .allowed_origins
            .iter()
            .map(|o| normalize_origin(o))
            .collect::<Result<Vec<_>>>()?;
        let now = self.now();
        let id = InstanceId::generate(&mut Self::rng());
        let instance = Instance {
            id: id.clone(),
            name: new.name,
            publishable_key: tokens::encode_publishable_key(&frontend_host, true),
            frontend_host,
            secret_key: tokens::generate_secret_key(&mut Self::rng(), true),
            allowed_origins,
            allow_localhost: new.allow_localhost,
            test_mode: new.test_mode,
            settings: InstanceSettings::default(),
            created_at: now,
        };
        let signing_key = new_signing_key(&id, now).await?;
        let mut tx = self.inner.store.begin().await?;
        tx.insert_instance(&instance).await.map_err(|e| match e {
            concierge_store::StoreError::Conflict { constraint } => {
                let param = match constraint {
                    "frontend_host" => "frontend_host",
                    _ => "name",
                };
                ServiceError::Core(CoreError::IdentifierExists { param })
            }
            other => other.into(),
        })?;
        tx.insert_signing_key(&signing_key).await?;
        Self::insert_primary_role_set(tx.as_mut(), &instance).await?;
        tx.commit().await?;
        // "The only instance" no longer holds for hosts resolved that way.
        self.inner.instances.clear();
        tracing::info!(instance.id = %instance.id, "instance created");
        Ok(instance)
    }

    /// The instance with this name, or `NotFound`.
    pub async fn instance_by_name(&self, name: &str) -> Result<Instance> {
        let mut conn = self.inner.store.read().await?;
        conn.find_instance_by_name(name)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// The instance serving a frontend request: the one whose secret key an app's proxy sent
    /// (`Clerk-Secret-Key`, wire §1.6), else the one whose frontend host is `host`, else the only
    /// instance of the database; `NotFound` when none applies. A wrong proxy key is refused.
    pub async fn instance_for_frontend_request(
        &self,
        proxy_secret_key: Option<&str>,
        host: Option<&str>,
    ) -> Result<Arc<Instance>> {
        if let Some(secret_key) = proxy_secret_key {
            return self.authenticate_secret_key(secret_key).await;
        }
        let host = host.map(str::to_ascii_lowercase);
        let cache = &self.inner.instances.by_host;
        if let Some(instance) = InstanceCache::get(cache, host.as_deref().unwrap_or_default()) {
            return Ok(instance);
        }
        let mut conn = self.inner.store.read().await?;
        let mut found = None;
        if let Some(host) = &host {
            found = conn.find_instance_by_frontend_host(host).await?;
        }
        if found.is_none() {
            let mut all = conn.list_instances().await?;
            if all.len() == 1 {
                found = all.pop();
            }
        }
        let instance = Arc::new(found.ok_or(ServiceError::NotFound)?);
        InstanceCache::put(cache, host.unwrap_or_default(), &instance);
        Ok(instance)
    }

    /// Applies settings changes. Running nodes pick them up within the instance cache's lifetime
    /// (5 seconds); the node that made the change at once.
    pub async fn update_instance_settings(
        &self,
        instance: &Instance,
        update: SettingsUpdate,
    ) -> Result<Instance> {
        let mut tx = self.inner.store.begin().await?;
        let mut current = tx.get_instance(&instance.id).await?;
        let settings = &mut current.settings;
        if let Some(v) = update.multi_session {
            settings.multi_session = v;
        }
        if let Some(v) = update.session_max_lifetime_secs {
            if v < 60 {
                return Err(CoreError::OutOfRange {
                    param: "session_max_lifetime",
                }
                .into());
            }
            settings.session_max_lifetime_secs = v;
        }
        if let Some(v) = update.session_inactivity_timeout_secs {
            if v.is_some_and(|secs| secs < 60) {
                return Err(CoreError::OutOfRange {
                    param: "session_inactivity_timeout",
                }
                .into());
            }
            settings.session_inactivity_timeout_secs = v;
        }
        if let Some(n) = update.max_password_attempts {
            if n < 1 {
                return Err(CoreError::OutOfRange {
                    param: "max_password_attempts",
                }
                .into());
            }
            settings.max_password_attempts = n;
        }
        if let Some(secs) = update.lockout_secs {
            if secs < 60 {
                return Err(CoreError::OutOfRange {
                    param: "lockout_duration",
                }
                .into());
            }
            settings.lockout_secs = secs;
        }
        for (wanted, slot, param) in [
            (
                update.organization_max_allowed_memberships,
                &mut settings.organization_max_allowed_memberships,
                "organization_max_allowed_memberships",
            ),
            (
                update.organization_create_limit,
                &mut settings.organization_create_limit,
                "organization_create_limit",
            ),
        ] {
            if let Some(n) = wanted {
                if n < 0 {
                    return Err(CoreError::OutOfRange { param }.into());
                }
                *slot = n;
            }
        }
        if let Some(name) = update.application_name {
            settings.application_name = name;
        }
        for (wanted, slot, param) in [
            (update.home_url, &mut settings.home_url, "home_url"),
            (update.sign_in_url, &mut settings.sign_in_url, "sign_in_url"),
            (update.sign_up_url, &mut settings.sign_up_url, "sign_up_url"),
        ] {
            if let Some(url) = wanted {
                let url = url.trim();
                let absolute = url.starts_with("https://") || url.starts_with("http://");
                if !url.is_empty() && (!absolute || url.contains(char::is_whitespace)) {
                    return Err(CoreError::FormatInvalid { param }.into());
                }
                *slot = url.to_owned();
            }
        }
        // The organization roles are the initial role set's creator and default roles (the
        // settings mirror them for the environment); each must already be in that set.
        if update.organization_creator_role.is_some() || update.organization_default_role.is_some()
        {
            let mut set = Self::initial_role_set(tx.as_mut(), &instance.id).await?;
            if let Some(key) = update.organization_creator_role {
                Self::role_in_set(tx.as_mut(), &set, &key, "organization_creator_role").await?;
                set.creator_role = key.clone();
                settings.organization_creator_role = key;
            }
            if let Some(key) = update.organization_default_role {
                Self::role_in_set(tx.as_mut(), &set, &key, "organization_default_role").await?;
                set.default_role = key.clone();
                settings.organization_default_role = key;
            }
            set.updated_at = self.now();
            tx.update_role_set(&set).await?;
        }
        tx.update_instance(&current).await?;
        tx.commit().await?;
        self.forget_cached_instances();
        tracing::info!(instance.id = %current.id, "instance settings changed");
        Ok(current)
    }

    /// Empties this node's instance cache, so changed settings show at once here.
    pub(crate) fn forget_cached_instances(&self) {
        self.inner.instances.clear();
    }

    /// Every instance, oldest first.
    pub async fn list_instances(&self) -> Result<Vec<Instance>> {
        let mut conn = self.inner.store.read().await?;
        Ok(conn.list_instances().await?)
    }

    /// Resolves a Backend API secret key to its instance, or `Unauthenticated`.
    ///
    /// The lookup is by SHA-256 of the presented key, so no stored secret is compared byte by
    /// byte; the cached entry is then compared in constant time.
    pub async fn authenticate_secret_key(&self, secret_key: &str) -> Result<Arc<Instance>> {
        if secret_key.is_empty() || secret_key.len() > 256 {
            return Err(ServiceError::Unauthenticated);
        }
        let hash = tokens::sha256(secret_key.as_bytes());
        let cache = &self.inner.instances.by_secret_hash;
        if let Some(instance) = InstanceCache::get(cache, hash.as_slice()) {
            if tokens::constant_time_eq(instance.secret_key.as_bytes(), secret_key.as_bytes()) {
                return Ok(instance);
            }
        }
        let mut conn = self.inner.store.read().await?;
        let instance = conn
            .find_instance_by_secret_key_hash(&hash)
            .await?
            .filter(|i| tokens::constant_time_eq(i.secret_key.as_bytes(), secret_key.as_bytes()))
            .map(Arc::new)
            .ok_or(ServiceError::Unauthenticated)?;
        InstanceCache::put(cache, hash, &instance);
        Ok(instance)
    }

    /// Retires the instance's signing keys and makes a new one. Retired keys stay in the JWKS,
    /// so tokens signed before the rotation keep verifying until they expire (wire §3).
    #[instrument(skip_all, fields(instance.id = %instance.id))]
    pub async fn rotate_signing_key(&self, instance: &Instance) -> Result<String> {
        let now = self.now();
        let signing_key = new_signing_key(&instance.id, now).await?;
        let mut tx = self.inner.store.begin().await?;
        tx.retire_signing_keys(&instance.id, now).await?;
        tx.insert_signing_key(&signing_key).await?;
        tx.commit().await?;
        tracing::info!(kid = %signing_key.id, "signing key rotated");
        Ok(signing_key.id.to_string())
    }

    /// The JSON Web Key Set of the instance: current and retired public keys.
    pub async fn jwks(&self, instance: &InstanceId) -> Result<serde_json::Value> {
        let mut conn = self.inner.store.read().await?;
        let keys = conn.list_signing_keys(instance).await?;
        Ok(tokens::jwks(&keys))
    }

    /// The PEM public key of the current signing key (for SDKs' networkless `jwtKey`).
    pub async fn current_public_key_pem(&self, instance: &InstanceId) -> Result<String> {
        let mut conn = self.inner.store.read().await?;
        let keys = conn.list_signing_keys(instance).await?;
        let current = keys
            .iter()
            .find(|k| k.retired_at.is_none())
            .ok_or_else(|| ServiceError::Internal("instance has no current signing key".into()))?;
        Ok(tokens::public_key_pem(current)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hosts_and_origins_are_checked() {
        assert!(check_instance_name("default").is_ok());
        assert!(check_instance_name("Bad Name").is_err());
        assert_eq!(
            check_frontend_host("Clerk.Example.test").unwrap(),
            "clerk.example.test"
        );
        assert!(check_frontend_host("localhost:3000").is_err());
        assert!(check_frontend_host("https://a.b").is_err());
        assert_eq!(
            normalize_origin("http://localhost:3000/").unwrap(),
            "http://localhost:3000"
        );
        assert!(normalize_origin("ftp://x").is_err());
    }
}
