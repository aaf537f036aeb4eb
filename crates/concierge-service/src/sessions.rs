//! Sessions and their tokens: creation, listing, revocation and RS256 session-token minting
//! with claims v2 (wire §2.2), plus JWT-template tokens (wire §2.6).

use crate::{blocking, Result, Service, ServiceError};
use concierge_core::jwt_templates::render_claims;
use concierge_core::*;
use concierge_store::SessionQuery;
use concierge_tokens as tokens;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tracing::instrument;

/// Header `cat` of JWT-template tokens, so the SDKs refuse them as session tokens (wire §2.1).
const TEMPLATE_TOKEN_CATEGORY: &str = "cl_B7d4PD222AAA";

/// Activity is written at most this often per session, so token refreshes stay cheap.
const ACTIVITY_WRITE_INTERVAL_MS: Millis = 10_000;

/// Longest lifetime a caller may ask for with `expires_in_seconds` (10 years, as a sanity bound).
const MAX_TOKEN_LIFETIME_SECS: i64 = 315_360_000;

impl Service {
    /// The end of the inactivity window for a session active at `now`.
    pub(crate) fn abandon_at(instance: &Instance, now: Millis, expire_at: Millis) -> Millis {
        match instance.settings.session_inactivity_timeout_secs {
            Some(secs) => (now + secs * 1000).min(expire_at),
            None => expire_at,
        }
    }

    /// Creates a signed-in session for a user on a new server-side client (`POST /v1/sessions`).
    #[instrument(skip_all, fields(instance.id = %instance.id, user.id = %user_id))]
    pub async fn create_session(&self, instance: &Instance, user_id: &UserId) -> Result<Session> {
        let now = self.now();
        let mut rng = Self::rng();
        let mut tx = self.inner.store.begin().await?;
        let mut user = tx
            .lock_user(&instance.id, user_id)
            .await
            .map_err(|e| match e {
                concierge_store::StoreError::NotFound => {
                    ServiceError::Core(CoreError::FormatInvalid { param: "user_id" })
                }
                other => other.into(),
            })?;
        if user.banned {
            return Err(CoreError::UserBanned.into());
        }
        let client = Client {
            id: ClientId::generate(&mut rng),
            instance_id: instance.id.clone(),
            token_hash: None,
            last_active_session_id: None,
            sign_in_id: None,
            sign_up_id: None,
            uat: 0,
            created_at: now,
            updated_at: now,
        };
        let expire_at = now + instance.settings.session_max_lifetime_secs * 1000;
        let session = Session {
            id: SessionId::generate(&mut rng),
            instance_id: instance.id.clone(),
            client_id: client.id.clone(),
            user_id: user_id.clone(),
            status: SessionStatus::Active,
            last_active_organization_id: None,
            last_active_at: now,
            expire_at,
            abandon_at: Self::abandon_at(instance, now, expire_at),
            azp: None,
            created_at: now,
            updated_at: now,
        };
        tx.insert_client(&client).await?;
        tx.insert_session(&session).await?;
        let mut client = client;
        client.last_active_session_id = Some(session.id.clone());
        tx.update_client(&client).await?;
        user.last_sign_in_at = Some(now);
        user.last_active_at = Some(now);
        tx.update_user(&user).await?;
        tx.commit().await?;
        tracing::info!(session.id = %session.id, "session created");
        Ok(session)
    }

    /// One session.
    pub async fn get_session(&self, instance: &InstanceId, id: &SessionId) -> Result<Session> {
        let mut conn = self.inner.store.read().await?;
        Ok(conn.get_session(instance, id).await?)
    }

    /// A page of sessions and the total matching the filters.
    pub async fn list_sessions(
        &self,
        instance: &InstanceId,
        mut query: SessionQuery,
    ) -> Result<(Vec<Session>, i64)> {
        query.now = self.now();
        let mut conn = self.inner.store.read().await?;
        let sessions = conn.list_sessions(instance, &query).await?;
        let total = conn.count_sessions(instance, &query).await?;
        Ok((sessions, total))
    }

    /// Revokes an active session; its next token request fails (`POST /v1/sessions/{id}/revoke`).
    #[instrument(skip_all, fields(instance.id = %instance, session.id = %id))]
    pub async fn revoke_session(&self, instance: &InstanceId, id: &SessionId) -> Result<Session> {
        self.finish_session(instance, id, SessionStatus::Revoked)
            .await
    }

    /// Moves an active session to a final status.
    pub(crate) async fn finish_session(
        &self,
        instance: &InstanceId,
        id: &SessionId,
        status: SessionStatus,
    ) -> Result<Session> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let mut session = tx.get_session(instance, id).await?;
        if session.effective_status(now) != SessionStatus::Active {
            return Err(CoreError::SessionNotActive.into());
        }
        session.status = status;
        session.updated_at = now;
        tx.update_session(&session).await?;
        tx.commit().await?;
        tracing::info!(status = status.as_str(), "session finished");
        Ok(session)
    }

    /// Checks that `token` is a valid session token of this active session (`POST /v1/sessions/{id}/verify`).
    pub async fn verify_session_token(
        &self,
        instance: &InstanceId,
        id: &SessionId,
        token: &str,
    ) -> Result<Session> {
        let now = self.now();
        let keys = {
            let mut conn = self.inner.store.read().await?;
            conn.list_signing_keys(instance).await?
        };
        let claims = tokens::verify_rs256(token, &keys, now, 5_000)
            .map_err(|_| CoreError::FormatInvalid { param: "token" })?;
        if claims.get("sid").and_then(Value::as_str) != Some(id.as_str()) {
            return Err(CoreError::FormatInvalid { param: "token" }.into());
        }
        let session = self.get_session(instance, id).await?;
        if session.effective_status(now) != SessionStatus::Active {
            return Err(CoreError::SessionNotActive.into());
        }
        Ok(session)
    }

    /// Mints a token for an active session: the 60-second session token, or a JWT-template
    /// token when `template` names one. `expires_in_seconds` overrides the lifetime.
    #[instrument(skip_all, fields(instance.id = %instance.id, session.id = %session_id))]
    pub async fn create_session_token(
        &self,
        instance: &Instance,
        session_id: &SessionId,
        template: Option<&str>,
        expires_in_seconds: Option<i64>,
    ) -> Result<String> {
        if let Some(secs) = expires_in_seconds {
            if !(1..=MAX_TOKEN_LIFETIME_SECS).contains(&secs) {
                return Err(CoreError::OutOfRange {
                    param: "expires_in_seconds",
                }
                .into());
            }
        }
        let mut conn = self.inner.store.read().await?;
        // One query for what every token needs; the key pair is parsed once per process.
        let context = conn
            .get_session_token_context(&instance.id, session_id)
            .await?;
        self.mint_session_token(instance, conn, context, template, expires_in_seconds)
            .await
    }

    /// Mints a token from what [`Tx::get_session_token_context`] returned, on the connection
    /// that read it (given back to the pool before signing).
    pub(crate) async fn mint_session_token(
        &self,
        instance: &Instance,
        mut conn: Box<dyn concierge_store::Tx>,
        (session, banned, kid): (Session, bool, Option<concierge_core::SigningKeyId>),
        template: Option<&str>,
        expires_in_seconds: Option<i64>,
    ) -> Result<String> {
        let now = self.now();
        if session.effective_status(now) != SessionStatus::Active {
            return Err(CoreError::SessionNotActive.into());
        }
        if banned {
            return Err(CoreError::UserBanned.into());
        }
        let kid = kid
            .ok_or_else(|| ServiceError::Internal("instance has no current signing key".into()))?;
        let signer = self.signer_for(conn.as_mut(), &instance.id, &kid).await?;
        let token = match template {
            None => {
                let active_org = Self::active_organization(conn.as_mut(), &session).await?;
                drop(conn);
                let lifetime =
                    expires_in_seconds.unwrap_or(instance.settings.session_token_lifetime_secs);
                let mut claims = session_claims(instance, &session, now, lifetime);
                if let Some((org, membership, role)) = active_org {
                    let (claim, features) = organization_claim(&org, &membership, &role);
                    claims.o = Some(claim);
                    claims.fea = features;
                }
                // Signed on the runtime thread: one RS256 signature takes about 0.2 ms, less
                // than the wake-ups a hop to the blocking pool costs (measured with perf under
                // `scripts/bench.sh`); argon2id (tens of ms) still goes to the pool.
                signer.sign_jwt(&Map::new(), &claims)?
            }
            Some(name) => {
                let template = conn
                    .find_jwt_template_by_name(&instance.id, name)
                    .await?
                    .ok_or(CoreError::TemplateNotFound)?;
                let user = Self::load_user(conn.as_mut(), &instance.id, &session.user_id).await?;
                drop(conn);
                let (header, claims) = template_claims(
                    instance,
                    &session,
                    &user,
                    &template,
                    now,
                    expires_in_seconds,
                );
                if template.custom_signing_key {
                    let key = template.signing_key.clone().unwrap_or_default();
                    blocking(move || Ok(tokens::sign_hs256(key.as_bytes(), &header, &claims)?))
                        .await?
                } else {
                    blocking(move || Ok(signer.sign_jwt(&header, &claims)?)).await?
                }
            }
        };
        self.record_activity(instance, session, now).await?;
        Ok(token)
    }

    /// The session's active organization and the user's membership in it, when it still has one.
    pub(crate) async fn active_organization(
        conn: &mut dyn concierge_store::Tx,
        session: &Session,
    ) -> Result<Option<(Organization, OrganizationMembership, Role)>> {
        let Some(Ok(org_id)) = session
            .last_active_organization_id
            .as_deref()
            .map(OrganizationId::parse)
        else {
            return Ok(None);
        };
        let Some(membership) = conn
            .find_membership(&session.instance_id, &org_id, &session.user_id)
            .await?
        else {
            return Ok(None);
        };
        let org = conn.get_organization(&session.instance_id, &org_id).await?;
        let role = Self::role_of(conn, &session.instance_id, &membership.role).await?;
        Ok(Some((org, membership, role)))
    }

    /// Records activity on a session (and slides its inactivity window), at most every 10 s.
    async fn record_activity(
        &self,
        instance: &Instance,
        session: Session,
        now: Millis,
    ) -> Result<()> {
        let recorded =
            |session: &Session| now - session.last_active_at < ACTIVITY_WRITE_INTERVAL_MS;
        if recorded(&session) {
            return Ok(());
        }
        let mut tx = self.inner.store.begin().await?;
        let mut current = tx.get_session(&instance.id, &session.id).await?;
        // Requests of the same session that read it before the first of them recorded the
        // activity all get here (every open tab's refresh, a burst of API calls): only the
        // first writes, the others find its write and commit nothing.
        if !recorded(&current) && current.effective_status(now) == SessionStatus::Active {
            // The user first: transactions lock a user before the user's sessions.
            let mut user = tx.lock_user(&instance.id, &current.user_id).await?;
            current.last_active_at = now;
            current.abandon_at = Self::abandon_at(instance, now, current.expire_at);
            current.updated_at = now;
            tx.update_session(&current).await?;
            user.last_active_at = Some(now);
            tx.update_user(&user).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The header and claims of a JWT-template token: the rendered template plus the claims the
/// server owns, and header `cat` so the SDKs refuse it as a session token.
fn template_claims(
    instance: &Instance,
    session: &Session,
    user: &crate::UserView,
    template: &JwtTemplate,
    now: Millis,
    expires_in_seconds: Option<i64>,
) -> (Map<String, Value>, Map<String, Value>) {
    let context = json!({
        "user": user_context(user),
        "session": { "id": session.id.as_str(), "actor": Value::Null },
    });
    let mut claims = render_claims(&template.claims, &context);
    let iat = now / 1000;
    let lifetime = expires_in_seconds.unwrap_or(template.lifetime);
    claims.insert(
        "iss".into(),
        json!(format!("https://{}", instance.frontend_host)),
    );
    claims.insert("sub".into(), json!(session.user_id.as_str()));
    claims.insert("iat".into(), json!(iat));
    claims.insert("nbf".into(), json!(iat - 10));
    claims.insert("exp".into(), json!(iat + lifetime));
    claims.insert(
        "jti".into(),
        json!(concierge_core::ids::random_base62(&mut Service::rng(), 20)),
    );
    if let Some(azp) = &session.azp {
        claims.insert("azp".into(), json!(azp));
    }
    let mut header = Map::new();
    header.insert("cat".into(), json!(TEMPLATE_TOKEN_CATEGORY));
    (header, claims)
}

/// Session-token claims v2 (wire §2.2): `iss` is the publishable-key host, `nbf` is ten seconds
/// before `iat`, `fva` counts minutes since the first factor (second factor never enrolled).
fn session_claims<'a>(
    instance: &'a Instance,
    session: &'a Session,
    now: Millis,
    lifetime_secs: i64,
) -> SessionClaims<'a> {
    let iat = now / 1000;
    let first_factor_age = (now - session.created_at).max(0) / 60_000;
    SessionClaims {
        azp: session.azp.as_deref(),
        exp: iat + lifetime_secs,
        fea: None,
        fva: [first_factor_age, -1],
        iat,
        iss: Issuer(&instance.frontend_host),
        nbf: iat - 10,
        o: None,
        sid: session.id.as_str(),
        sts: "active",
        sub: session.user_id.as_str(),
        v: 2,
    }
}

/// The claims of a session token (wire §2.2, version 2), serialized in this order (the order
/// of the keys' names) without building a map first.
#[derive(Serialize)]
struct SessionClaims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    azp: Option<&'a str>,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    fea: Option<String>,
    fva: [i64; 2],
    iat: i64,
    iss: Issuer<'a>,
    nbf: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    o: Option<Value>,
    sid: &'a str,
    sts: &'static str,
    sub: &'a str,
    v: u8,
}

/// `https://<frontend host>`, written without building the string.
struct Issuer<'a>(&'a str);

impl Serialize for Issuer<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("https://{}", self.0))
    }
}

/// The `user` object JWT-template shortcodes read (`{{user.first_name}}`, …).
fn user_context(view: &crate::UserView) -> Value {
    let user = &view.user;
    let primary = view
        .email_addresses
        .iter()
        .find(|e| Some(&e.id) == user.primary_email_address_id.as_ref());
    let full_name = match (&user.first_name, &user.last_name) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(f), None) => Some(f.clone()),
        (None, Some(l)) => Some(l.clone()),
        (None, None) => None,
    };
    json!({
        "id": user.id.as_str(),
        "external_id": user.external_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "full_name": full_name,
        "username": user.username,
        "primary_email_address": primary.map(|e| e.email_address.clone()),
        "email_verified": primary.map(|e| e.verified).unwrap_or(false),
        "image_url": user.image_url.clone().unwrap_or_default(),
        "has_image": user.image_url.is_some(),
        "public_metadata": user.public_metadata,
        "unsafe_metadata": user.unsafe_metadata,
        "created_at": user.created_at / 1000,
        "updated_at": user.updated_at / 1000,
        "two_factor_enabled": false,
        "phone_number_verified": false,
        "primary_phone_number": Value::Null,
    })
}

/// The v2 `o` claim (wire §2.2, §2.4): id, slug and role without the `org:` prefix, with the
/// role's custom permissions as `per` (actions) and `fpm` (one bitmask per feature), and the
/// features for the separate `fea` claim. System permissions are never encoded.
fn organization_claim(
    org: &Organization,
    membership: &OrganizationMembership,
    role: &Role,
) -> (Value, Option<String>) {
    let short = membership
        .role
        .strip_prefix("org:")
        .unwrap_or(&membership.role);
    let mut claim = json!({ "id": org.id.as_str(), "slg": org.slug, "rol": short });
    match concierge_core::organizations::encode_permissions(&role.permissions) {
        Some((features, actions, masks)) => {
            claim["per"] = json!(actions);
            claim["fpm"] = json!(masks);
            (claim, Some(features))
        }
        None => (claim, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The session token's claims as a map, built key by key (what the typed claims replace).
    fn claims_map(instance: &Instance, s: &Session, now: Millis, lifetime: i64) -> Value {
        let iat = now / 1000;
        let mut claims = json!({
            "exp": iat + lifetime, "fva": [(now - s.created_at).max(0) / 60_000, -1], "iat": iat,
            "iss": format!("https://{}", instance.frontend_host), "nbf": iat - 10,
            "sid": s.id.as_str(), "sts": "active", "sub": s.user_id.as_str(), "v": 2,
        });
        if let Some(azp) = &s.azp {
            claims["azp"] = json!(azp);
        }
        claims
    }

    #[test]
    fn typed_session_claims_serialize_as_the_map_did() {
        let mut rng = rand::thread_rng();
        let instance = Instance {
            id: InstanceId::generate(&mut rng),
            name: "default".into(),
            frontend_host: "clerk.example.test".into(),
            publishable_key: String::new(),
            secret_key: String::new(),
            allowed_origins: vec![],
            allow_localhost: true,
            test_mode: false,
            settings: InstanceSettings::default(),
            created_at: 0,
        };
        let mut session = Session {
            id: SessionId::generate(&mut rng),
            instance_id: instance.id.clone(),
            client_id: ClientId::generate(&mut rng),
            user_id: UserId::generate(&mut rng),
            status: SessionStatus::Active,
            last_active_organization_id: None,
            last_active_at: 1_760_000_000_000,
            expire_at: 1_760_600_000_000,
            abandon_at: 1_760_600_000_000,
            azp: Some("http://localhost:3000".into()),
            created_at: 1_759_999_000_000,
            updated_at: 1_760_000_000_000,
        };
        let now = 1_760_000_123_456;
        for azp in [Some("http://localhost:3000"), None] {
            session.azp = azp.map(str::to_owned);
            let typed = session_claims(&instance, &session, now, 60);
            // Same members, values and order (the map's keys are sorted, as the fields are).
            assert_eq!(
                serde_json::to_string(&typed).unwrap(),
                serde_json::to_string(&claims_map(&instance, &session, now, 60)).unwrap()
            );
        }
        let mut typed = session_claims(&instance, &session, now, 60);
        typed.o = Some(json!({"id": "org_1", "slg": "acme", "rol": "admin"}));
        typed.fea = Some("o:reports".into());
        let mut expected = claims_map(&instance, &session, now, 60);
        expected["o"] = json!({"id": "org_1", "slg": "acme", "rol": "admin"});
        expected["fea"] = json!("o:reports");
        assert_eq!(
            serde_json::to_string(&typed).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
    }
}
