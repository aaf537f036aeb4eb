//! The browser side (Frontend API, wire §6): the client behind the `__client` cookie, sign-ups
//! with an email code, sign-ins with a password or an email code (and password reset), the
//! client's sessions (touch, tokens, end, remove, sign-out) and the handshake's state.
//!
//! Every mutation returns the whole client afterwards ([`ClientSnapshot`]) with a fresh token
//! for each active session, because clerk-js replaces its state from it (wire §6.1, §9 #25).

use crate::mail::{code_message, CodePurpose, Outbox};
use crate::users::UserView;
use crate::{blocking, password_work, Result, Service, ServiceError};
use concierge_core::validation::{check_name, is_test_email, normalize_email, normalize_username};
use concierge_core::*;
use concierge_store::{SessionQuery, StoreError, Tx, UserQuery};
use concierge_tokens as tokens;
use serde_json::Value;
use tracing::instrument;

/// The code every `+clerk_test` address accepts on an instance in test mode (operator contract).
const TEST_MODE_CODE: &str = "424242";
/// How long a handshake nonce can be redeemed.
const HANDSHAKE_NONCE_LIFETIME_MS: Millis = 60_000;

/// Who is calling: the instance, the `__client` cookie's token if any, and the page origin.
#[derive(Debug, Clone)]
pub struct Browser {
    /// The instance the request resolved to (shared with the instance cache).
    pub instance: std::sync::Arc<Instance>,
    /// Value of the `__client` cookie.
    pub client_token: Option<String>,
    /// The page's origin (`Origin` header), recorded as the sessions' `azp`.
    pub origin: Option<String>,
}

/// An active session with its user and a freshly minted token.
#[derive(Debug, Clone)]
pub struct SessionSnapshot {
    /// The session.
    pub session: Session,
    /// Its user with their email addresses.
    pub user: UserView,
    /// A session token minted for this response (`last_active_token`).
    pub token: String,
    /// The user's organization memberships with their organizations and roles, oldest first.
    pub memberships: Vec<(
        OrganizationMembership,
        Organization,
        Role,
        crate::organizations::OrganizationCounts,
    )>,
}

/// A sign-in with the user it resolved to (for `user_data` and the supported factors).
#[derive(Debug, Clone)]
pub struct SignInView {
    /// The sign-in.
    pub sign_in: SignIn,
    /// The user, once the identifier matched one.
    pub user: Option<UserView>,
}

/// The whole client as clerk-js expects it after every change.
#[derive(Debug, Clone)]
pub struct ClientSnapshot {
    /// The client.
    pub client: Client,
    /// Its active sessions, oldest first.
    pub sessions: Vec<SessionSnapshot>,
    /// The sign-in in progress.
    pub sign_in: Option<SignInView>,
    /// The sign-up in progress.
    pub sign_up: Option<SignUp>,
    /// `__client_uat` in seconds: when the signed-in state last changed, 0 when signed out.
    pub uat_seconds: i64,
}

/// The answer of a Frontend API use case: its own result plus the client after the change.
#[derive(Debug, Clone)]
pub struct Outcome<T> {
    /// What the endpoint returns as `response`.
    pub response: T,
    /// The client afterwards (`None` when the browser has none).
    pub client: Option<ClientSnapshot>,
    /// A new `__client` cookie value to set, when this request created the client.
    pub new_client_token: Option<String>,
}

/// Fields of `POST /v1/client/sign_ups` and `PATCH /v1/client/sign_ups/{id}`; empty strings are
/// already turned into `None` by the caller (wire §6.3).
#[derive(Debug, Clone, Default)]
pub struct SignUpParams {
    /// Email address.
    pub email_address: Option<String>,
    /// Password in plain text.
    pub password: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Metadata the browser may write.
    pub unsafe_metadata: Option<Value>,
    /// Whether the legal terms were accepted.
    pub legal_accepted: Option<bool>,
    /// Browser locale.
    pub locale: Option<String>,
    /// An invitation ticket (`strategy=ticket`): the invited address, verified by the ticket.
    pub ticket: Option<String>,
}

/// Fields of `POST /v1/client/sign_ins`.
#[derive(Debug, Clone, Default)]
pub struct SignInParams {
    /// Email address or username.
    pub identifier: Option<String>,
    /// `password` for an instant password sign-in.
    pub strategy: Option<String>,
    /// The password, with `strategy=password`.
    pub password: Option<String>,
    /// The invitation ticket, with `strategy=ticket`.
    pub ticket: Option<String>,
}

/// Fields of `prepare_first_factor` / `attempt_first_factor`.
#[derive(Debug, Clone, Default)]
pub struct FactorParams {
    /// `password`, `email_code` or `reset_password_email_code`.
    pub strategy: String,
    /// The email address to send a code to.
    pub email_address_id: Option<String>,
    /// The password, for `password`.
    pub password: Option<String>,
    /// The code, for the code strategies.
    pub code: Option<String>,
}

/// What a handshake sets on the app's host (wire §5.2).
#[derive(Debug, Clone)]
pub struct HandshakeState {
    /// A fresh token of the client's active session, if signed in.
    pub session_token: Option<String>,
    /// `__client_uat` in seconds (0 when signed out).
    pub uat_seconds: i64,
}

fn code_hash(code: &str) -> Vec<u8> {
    tokens::sha256(code.as_bytes())
}

/// Whether `code` is the one this verification sent (constant-time on the hashes).
pub(crate) fn code_matches(verification: &Verification, code: &str) -> bool {
    verification
        .code_hash
        .as_deref()
        .is_some_and(|hash| tokens::constant_time_eq(hash, &code_hash(code.trim())))
}

fn not_found_as<T>(result: std::result::Result<T, StoreError>, err: CoreError) -> Result<T> {
    match result {
        Err(StoreError::NotFound) => Err(err.into()),
        other => Ok(other?),
    }
}

impl Browser {
    /// The SHA-256 of the `__client` cookie's token, as clients are stored, if it has one.
    fn client_token_hash(&self) -> Option<Vec<u8>> {
        let token = self.client_token.as_deref().filter(|t| !t.is_empty())?;
        Some(tokens::sha256(token.as_bytes()))
    }
}

/// A new sign-in on `client` for the user an identifier named (email addresses lower-cased).
fn new_sign_in(
    client: &Client,
    identifier: Option<String>,
    user_id: Option<UserId>,
    now: Millis,
) -> SignIn {
    SignIn {
        id: SignInId::generate(&mut Service::rng()),
        instance_id: client.instance_id.clone(),
        client_id: client.id.clone(),
        status: if user_id.is_some() {
            SignInStatus::NeedsFirstFactor
        } else {
            SignInStatus::NeedsIdentifier
        },
        identifier: identifier.map(|i| if i.contains('@') { i.to_lowercase() } else { i }),
        user_id,
        first_factor_verification: None,
        created_session_id: None,
        abandon_at: now + ATTEMPT_LIFETIME_MS,
        created_at: now,
        updated_at: now,
    }
}

/// Why `user` may not attempt a first factor now: banned, or locked out.
fn sign_in_refusal(user: &User, now: Millis) -> Option<ServiceError> {
    if user.banned {
        return Some(CoreError::UserBanned.into());
    }
    if user.locked && user.locked_until.is_none_or(|until| until > now) {
        return Some(CoreError::UserLocked.into());
    }
    None
}

/// Checks a sign-in password against the user's hash (off the runtime, one hash per core).
async fn check_password(user: &User, password: Option<String>) -> Result<tokens::PasswordCheck> {
    let hash = user
        .password_hash
        .clone()
        .ok_or(CoreError::StrategyNotAllowed)?;
    let password = password
        .filter(|p| !p.is_empty())
        .ok_or(CoreError::ParamMissing { param: "password" })?;
    password_work(move || Ok(tokens::verify_password(&hash, &password)?)).await
}

/// Counts a wrong password; the instance's limit locks the account for its lockout period.
fn count_wrong_password(user: &mut User, instance: &Instance, now: Millis) {
    user.failed_password_attempts += 1;
    let settings = &instance.settings;
    if user.failed_password_attempts >= settings.max_password_attempts {
        user.locked = true;
        user.locked_until = Some(now + settings.lockout_secs * 1000);
        user.failed_password_attempts = 0;
        tracing::warn!(user.id = %user.id, "account locked after repeated wrong passwords");
    }
    user.updated_at = now;
}

impl Service {
    // ---- the client ------------------------------------------------------------------------

    /// The browser's client, if its cookie names one.
    async fn find_browser_client(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
    ) -> Result<Option<Client>> {
        let Some(hash) = browser.client_token_hash() else {
            return Ok(None);
        };
        Ok(tx
            .find_client_by_token_hash(&browser.instance.id, &hash)
            .await?)
    }

    /// The browser's client for a new sign-up or sign-in: created (with a new cookie token) when
    /// it has none; `session_exists` when it is signed in and the instance is single-session.
    pub(crate) async fn client_for_attempt(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        now: Millis,
        new_token: &mut Option<String>,
    ) -> Result<Client> {
        if let Some(client) = self.find_browser_client(tx, browser).await? {
            self.check_single_session(tx, &browser.instance, &client, now)
                .await?;
            return Ok(client);
        }
        let mut rng = Self::rng();
        let token = tokens::generate_opaque_token(&mut rng);
        let client = Client {
            id: ClientId::generate(&mut rng),
            instance_id: browser.instance.id.clone(),
            token_hash: Some(tokens::sha256(token.as_bytes())),
            last_active_session_id: None,
            sign_in_id: None,
            sign_up_id: None,
            uat: 0,
            created_at: now,
            updated_at: now,
        };
        tx.insert_client(&client).await?;
        *new_token = Some(token);
        tracing::info!(client.id = %client.id, "browser client created");
        Ok(client)
    }

    /// The browser's client, or `authentication_invalid` when it has none.
    async fn require_browser_client(&self, tx: &mut dyn Tx, browser: &Browser) -> Result<Client> {
        self.find_browser_client(tx, browser)
            .await?
            .ok_or_else(|| CoreError::NotSignedIn.into())
    }

    /// Active sessions of a client, oldest first.
    async fn active_client_sessions(
        &self,
        tx: &mut dyn Tx,
        client: &Client,
        now: Millis,
    ) -> Result<Vec<Session>> {
        let query = SessionQuery {
            client_id: Some(client.id.clone()),
            status: Some(SessionStatus::Active),
            limit: 100,
            now,
            ..SessionQuery::default()
        };
        let mut sessions = tx.list_sessions(&client.instance_id, &query).await?;
        sessions.reverse();
        Ok(sessions)
    }

    /// Builds the client as clerk-js expects it, minting a token for each active session.
    pub async fn client_snapshot(
        &self,
        instance: &Instance,
        client: &ClientId,
    ) -> Result<ClientSnapshot> {
        let now = self.now();
        let (client, sessions, sign_in, sign_up) = {
            let mut conn = self.inner.store.read().await?;
            let client = conn.get_client(&instance.id, client).await?;
            let sessions = self
                .active_client_sessions(conn.as_mut(), &client, now)
                .await?;
            let mut with_users = Vec::with_capacity(sessions.len());
            for session in sessions {
                let user = Self::load_user(conn.as_mut(), &instance.id, &session.user_id).await?;
                let query = concierge_store::MembershipQuery {
                    user_ids: vec![session.user_id.clone()],
                    ascending: true,
                    limit: 500,
                    ..Default::default()
                };
                let listed = conn.list_memberships(&instance.id, &query).await?;
                let org_ids: Vec<OrganizationId> =
                    listed.iter().map(|m| m.organization_id.clone()).collect();
                let counts = Self::counts_of(conn.as_mut(), &instance.id, &org_ids, now).await?;
                let mut memberships = Vec::with_capacity(listed.len());
                for (membership, counts) in listed.into_iter().zip(counts) {
                    let org = conn
                        .get_organization(&instance.id, &membership.organization_id)
                        .await?;
                    let role = Self::role_of(conn.as_mut(), &instance.id, &membership.role).await?;
                    memberships.push((membership, org, role, counts));
                }
                with_users.push((session, user, memberships));
            }
            let sign_in = match client.sign_in_id.as_deref().map(SignInId::parse) {
                Some(Ok(id)) => {
                    let sign_in = conn.get_sign_in(&instance.id, &id).await?;
                    let user = match &sign_in.user_id {
                        Some(user_id) => {
                            match Self::load_user(conn.as_mut(), &instance.id, user_id).await {
                                Ok(user) => Some(user),
                                Err(ServiceError::NotFound) => None,
                                Err(e) => return Err(e),
                            }
                        }
                        None => None,
                    };
                    Some(SignInView { sign_in, user })
                }
                _ => None,
            };
            let sign_up = match client.sign_up_id.as_deref().map(SignUpId::parse) {
                Some(Ok(id)) => Some(conn.get_sign_up(&instance.id, &id).await?),
                _ => None,
            };
            (client, with_users, sign_in, sign_up)
        };
        let mut snapshots = Vec::with_capacity(sessions.len());
        for (session, user, memberships) in sessions {
            let token = self
                .create_session_token(instance, &session.id, None, None)
                .await?;
            snapshots.push(SessionSnapshot {
                session,
                user,
                token,
                memberships,
            });
        }
        let uat_seconds = if snapshots.is_empty() {
            0
        } else {
            client.uat / 1000
        };
        Ok(ClientSnapshot {
            client,
            sessions: snapshots,
            sign_in,
            sign_up,
            uat_seconds,
        })
    }

    /// Wraps a result with the client afterwards.
    pub(crate) async fn outcome<T>(
        &self,
        instance: &Instance,
        client: Option<&ClientId>,
        new_client_token: Option<String>,
        response: T,
    ) -> Result<Outcome<T>> {
        let client = match client {
            Some(id) => Some(self.client_snapshot(instance, id).await?),
            None => None,
        };
        Ok(Outcome {
            response,
            client,
            new_client_token,
        })
    }

    /// `GET /v1/client`: the browser's client, or nothing (200 either way, wire §6.2).
    pub async fn get_browser_client(&self, browser: &Browser) -> Result<Option<ClientSnapshot>> {
        let client = {
            let mut conn = self.inner.store.read().await?;
            self.find_browser_client(conn.as_mut(), browser).await?
        };
        match client {
            Some(client) => Ok(Some(
                self.client_snapshot(&browser.instance, &client.id).await?,
            )),
            None => Ok(None),
        }
    }

    /// Refuses a new sign-in or sign-up on a signed-in client in single-session mode.
    pub(crate) async fn check_single_session(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        client: &Client,
        now: Millis,
    ) -> Result<()> {
        if !instance.settings.multi_session
            && !self
                .active_client_sessions(tx, client, now)
                .await?
                .is_empty()
        {
            return Err(CoreError::SessionExists.into());
        }
        Ok(())
    }

    /// Creates a signed-in session on a browser client and makes it the client's active one.
    async fn start_browser_session(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        client: &mut Client,
        user: &mut User,
        now: Millis,
    ) -> Result<Session> {
        if user.banned {
            return Err(CoreError::UserBanned.into());
        }
        self.check_single_session(tx, &browser.instance, client, now)
            .await?;
        self.open_browser_session(tx, browser, client, user, now)
            .await
    }

    /// [`Self::start_browser_session`] once the single-session rule has been checked in this
    /// transaction.
    async fn open_browser_session(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        client: &mut Client,
        user: &mut User,
        now: Millis,
    ) -> Result<Session> {
        if user.banned {
            return Err(CoreError::UserBanned.into());
        }
        let settings = &browser.instance.settings;
        let expire_at = now + settings.session_max_lifetime_secs * 1000;
        let session = Session {
            id: SessionId::generate(&mut Self::rng()),
            instance_id: browser.instance.id.clone(),
            client_id: client.id.clone(),
            user_id: user.id.clone(),
            status: SessionStatus::Active,
            last_active_organization_id: None,
            last_active_at: now,
            expire_at,
            abandon_at: Self::abandon_at(&browser.instance, now, expire_at),
            azp: browser.origin.clone(),
            created_at: now,
            updated_at: now,
        };
        tx.insert_session(&session).await?;
        client.last_active_session_id = Some(session.id.clone());
        client.uat = now;
        client.updated_at = now;
        user.last_sign_in_at = Some(now);
        user.last_active_at = Some(now);
        user.failed_password_attempts = 0;
        user.updated_at = now;
        tx.update_user(user).await?;
        tracing::info!(session.id = %session.id, user.id = %user.id, "browser session created");
        Ok(session)
    }

    /// A one-time code for `email`: `424242` without mail for `+clerk_test` addresses of an
    /// instance in test mode, else six random digits mailed to the address.
    pub(crate) async fn issue_code(
        &self,
        tx: &mut dyn Tx,
        outbox: &mut Outbox,
        instance: &Instance,
        email: &str,
        purpose: CodePurpose,
        now: Millis,
    ) -> Result<Vec<u8>> {
        if instance.test_mode && is_test_email(email) {
            return Ok(code_hash(TEST_MODE_CODE));
        }
        let code = tokens::generate_numeric_code(&mut Self::rng(), 6);
        let message = code_message(instance, email, &code, purpose, now);
        self.stage_mail(tx, outbox, message).await?;
        Ok(code_hash(&code))
    }

    // ---- sign-ups --------------------------------------------------------------------------

    async fn apply_sign_up_params(
        &self,
        tx: &mut dyn Tx,
        instance: &Instance,
        sign_up: &mut SignUp,
        params: SignUpParams,
        now: Millis,
    ) -> Result<()> {
        if let Some(email) = params.email_address {
            let email = normalize_email(&email)?;
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
            if sign_up.email_address.as_deref() != Some(email.as_str()) {
                sign_up.email_verification = None;
                // A ticket vouches for the invited address only.
                sign_up.ticket = None;
            }
            sign_up.email_address = Some(email);
        }
        if let Some(username) = params.username {
            let username = normalize_username(&username)?;
            let query = UserQuery {
                usernames: vec![username.clone()],
                limit: 1,
                ..UserQuery::default()
            };
            if !tx.list_users(&instance.id, &query).await?.is_empty() {
                return Err(CoreError::IdentifierExists { param: "username" }.into());
            }
            sign_up.username = Some(username);
        }
        if let Some(first) = params.first_name {
            check_name(&first, "first_name")?;
            sign_up.first_name = Some(first);
        }
        if let Some(last) = params.last_name {
            check_name(&last, "last_name")?;
            sign_up.last_name = Some(last);
        }
        if let Some(metadata) = params.unsafe_metadata {
            concierge_core::metadata::check_metadata(&metadata, "unsafe_metadata")?;
            sign_up.unsafe_metadata = metadata;
        }
        if params.legal_accepted == Some(true) {
            sign_up.legal_accepted_at = Some(now);
        }
        if let Some(locale) = params.locale {
            sign_up.locale = Some(locale);
        }
        Ok(())
    }

    /// `POST /v1/client/sign_ups`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn create_sign_up(
        &self,
        browser: &Browser,
        mut params: SignUpParams,
    ) -> Result<Outcome<SignUp>> {
        let instance = &browser.instance;
        let password_hash = match params.password.take() {
            Some(password) => Some(
                self.hash_new_password(password, false, instance.settings.password_min_length)
                    .await?,
            ),
            None => None,
        };
        let now = self.now();
        let mut new_token = None;
        let mut tx = self.inner.store.begin().await?;
        let mut client = self
            .client_for_attempt(tx.as_mut(), browser, now, &mut new_token)
            .await?;
        let mut sign_up = SignUp {
            id: SignUpId::generate(&mut Self::rng()),
            instance_id: instance.id.clone(),
            client_id: client.id.clone(),
            status: SignUpStatus::MissingRequirements,
            email_address: None,
            username: None,
            first_name: None,
            last_name: None,
            password_hash,
            unsafe_metadata: serde_json::json!({}),
            legal_accepted_at: None,
            locale: None,
            email_verification: None,
            created_user_id: None,
            created_session_id: None,
            abandon_at: now + ATTEMPT_LIFETIME_MS,
            created_at: now,
            updated_at: now,
            ticket: None,
        };
        let ticket = params.ticket.take();
        self.apply_sign_up_params(tx.as_mut(), instance, &mut sign_up, params, now)
            .await?;
        if let Some(ticket) = ticket {
            self.apply_sign_up_ticket(tx.as_mut(), instance, &mut sign_up, &ticket, now)
                .await?;
        }
        tx.insert_sign_up(&sign_up).await?;
        client.sign_up_id = Some(sign_up.id.to_string());
        client.updated_at = now;
        tx.update_client(&client).await?;
        // A ticket verifies the address: with a password given too, the sign-up is complete.
        let sign_up = self
            .maybe_complete_sign_up(tx.as_mut(), browser, client.clone(), sign_up, now)
            .await?;
        tx.update_sign_up(&sign_up).await?;
        tx.commit().await?;
        tracing::info!(sign_up.id = %sign_up.id, "sign-up started");
        self.outcome(instance, Some(&client.id), new_token, sign_up)
            .await
    }

    /// Loads a sign-up of this browser's client that can still change.
    async fn open_sign_up(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        id: &str,
        now: Millis,
    ) -> Result<(Client, SignUp)> {
        let client = self.require_browser_client(tx, browser).await?;
        let id = SignUpId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let sign_up = tx.get_sign_up(&browser.instance.id, &id).await?;
        if sign_up.client_id != client.id {
            return Err(ServiceError::NotFound);
        }
        if sign_up.status != SignUpStatus::MissingRequirements || now >= sign_up.abandon_at {
            return Err(CoreError::FlowFinished.into());
        }
        Ok((client, sign_up))
    }

    /// `GET /v1/client/sign_ups/{id}`.
    pub async fn get_sign_up(&self, browser: &Browser, id: &str) -> Result<Outcome<SignUp>> {
        let (client, sign_up) = {
            let mut conn = self.inner.store.read().await?;
            let client = self.require_browser_client(conn.as_mut(), browser).await?;
            let id = SignUpId::parse(id).map_err(|_| ServiceError::NotFound)?;
            let sign_up = conn.get_sign_up(&browser.instance.id, &id).await?;
            if sign_up.client_id != client.id {
                return Err(ServiceError::NotFound);
            }
            (client, sign_up)
        };
        self.outcome(&browser.instance, Some(&client.id), None, sign_up)
            .await
    }

    /// `PATCH /v1/client/sign_ups/{id}`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn update_sign_up(
        &self,
        browser: &Browser,
        id: &str,
        mut params: SignUpParams,
    ) -> Result<Outcome<SignUp>> {
        let instance = &browser.instance;
        let password_hash = match params.password.take() {
            Some(password) => Some(
                self.hash_new_password(password, false, instance.settings.password_min_length)
                    .await?,
            ),
            None => None,
        };
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let (client, mut sign_up) = self.open_sign_up(tx.as_mut(), browser, id, now).await?;
        let ticket = params.ticket.take();
        self.apply_sign_up_params(tx.as_mut(), instance, &mut sign_up, params, now)
            .await?;
        if let Some(ticket) = ticket {
            self.apply_sign_up_ticket(tx.as_mut(), instance, &mut sign_up, &ticket, now)
                .await?;
        }
        if password_hash.is_some() {
            sign_up.password_hash = password_hash;
        }
        sign_up.updated_at = now;
        let sign_up = self
            .maybe_complete_sign_up(tx.as_mut(), browser, client.clone(), sign_up, now)
            .await?;
        tx.update_sign_up(&sign_up).await?;
        tx.commit().await?;
        self.outcome(instance, Some(&client.id), None, sign_up)
            .await
    }

    /// `POST /v1/client/sign_ups/{id}/prepare_verification` with `strategy=email_code`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn prepare_sign_up_verification(
        &self,
        browser: &Browser,
        id: &str,
        strategy: &str,
    ) -> Result<Outcome<SignUp>> {
        if strategy != "email_code" {
            return Err(CoreError::StrategyNotAllowed.into());
        }
        let instance = &browser.instance;
        let now = self.now();
        let mut outbox = Outbox::default();
        let mut tx = self.inner.store.begin().await?;
        let (client, mut sign_up) = self.open_sign_up(tx.as_mut(), browser, id, now).await?;
        let email = sign_up
            .email_address
            .clone()
            .ok_or(CoreError::ParamMissing {
                param: "email_address",
            })?;
        let hash = self
            .issue_code(
                tx.as_mut(),
                &mut outbox,
                instance,
                &email,
                CodePurpose::VerifyEmail,
                now,
            )
            .await?;
        sign_up.email_verification = Some(Verification::code("email_code", hash, now, None));
        sign_up.updated_at = now;
        tx.update_sign_up(&sign_up).await?;
        tx.commit().await?;
        self.flush_mail(outbox);
        self.outcome(instance, Some(&client.id), None, sign_up)
            .await
    }

    /// `POST /v1/client/sign_ups/{id}/attempt_verification`: a right code verifies the email
    /// address and, when nothing else is missing, creates the user and a session.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn attempt_sign_up_verification(
        &self,
        browser: &Browser,
        id: &str,
        code: &str,
    ) -> Result<Outcome<SignUp>> {
        let instance = &browser.instance;
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let (client, mut sign_up) = self.open_sign_up(tx.as_mut(), browser, id, now).await?;
        let mut verification = sign_up
            .email_verification
            .clone()
            .ok_or(CoreError::VerificationNotPrepared)?;
        let matches = code_matches(&verification, code);
        let attempt = verification.attempt(matches, now);
        sign_up.email_verification = Some(verification);
        sign_up.updated_at = now;
        if let Err(refusal) = attempt {
            // The attempt counts even though it failed.
            tx.update_sign_up(&sign_up).await?;
            tx.commit().await?;
            return Err(refusal.into());
        }
        let sign_up = self
            .maybe_complete_sign_up(tx.as_mut(), browser, client.clone(), sign_up, now)
            .await?;
        tx.update_sign_up(&sign_up).await?;
        tx.commit().await?;
        self.outcome(instance, Some(&client.id), None, sign_up)
            .await
    }

    /// Creates the user and the session once every requirement is met.
    async fn maybe_complete_sign_up(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        mut client: Client,
        mut sign_up: SignUp,
        now: Millis,
    ) -> Result<SignUp> {
        if !sign_up.is_ready() {
            return Ok(sign_up);
        }
        let instance = &browser.instance;
        // The ticket's invitation must still be pending when the user is created (wire §6.3).
        let invitation = match &sign_up.ticket {
            Some(reference) => Some(
                self.pending_invitation(tx, instance, reference, now)
                    .await?,
            ),
            None => None,
        };
        let mut rng = Self::rng();
        let user_id = UserId::generate(&mut rng);
        let strategy = sign_up
            .email_verification
            .as_ref()
            .map_or("email_code", |v| v.strategy.as_str())
            .to_owned();
        let email = sign_up.email_address.clone().map(|address| EmailAddress {
            id: EmailAddressId::generate(&mut rng),
            instance_id: instance.id.clone(),
            user_id: user_id.clone(),
            email_address: address,
            verified: true,
            verification_strategy: Some(strategy),
            created_at: now,
            updated_at: now,
        });
        let mut user = User {
            id: user_id,
            instance_id: instance.id.clone(),
            external_id: None,
            username: sign_up.username.clone(),
            first_name: sign_up.first_name.clone(),
            last_name: sign_up.last_name.clone(),
            password_hash: sign_up.password_hash.clone(),
            public_metadata: serde_json::json!({}),
            private_metadata: serde_json::json!({}),
            unsafe_metadata: sign_up.unsafe_metadata.clone(),
            primary_email_address_id: email.as_ref().map(|e| e.id.clone()),
            image_url: None,
            banned: false,
            locked: false,
            locked_until: None,
            failed_password_attempts: 0,
            last_sign_in_at: None,
            last_active_at: None,
            legal_accepted_at: sign_up.legal_accepted_at,
            create_organization_enabled: true,
            create_organizations_limit: None,
            delete_self_enabled: true,
            locale: sign_up.locale.clone(),
            created_at: now,
            updated_at: now,
        };
        if let Some(invitation) = &invitation {
            invitation.prepare_user(&mut user);
        }
        tx.insert_user(&user).await?;
        if let Some(email) = &email {
            tx.insert_email_address(email).await?;
            // A verified address at an organization's verified domain enrolls (wire §6.8).
            self.enroll_by_domain(tx, instance, email, now).await?;
        }
        if let Some(invitation) = invitation {
            self.redeem_invitation(tx, instance, invitation, &user.id, now)
                .await?;
        }
        let session = self
            .start_browser_session(tx, browser, &mut client, &mut user, now)
            .await?;
        client.sign_up_id = None;
        tx.update_client(&client).await?;
        sign_up.status = SignUpStatus::Complete;
        sign_up.created_user_id = Some(user.id.clone());
        sign_up.created_session_id = Some(session.id);
        tracing::info!(user.id = %user.id, "user signed up");
        Ok(sign_up)
    }

    // ---- sign-ins --------------------------------------------------------------------------

    /// The user an identifier (email address or username) names.
    async fn user_by_identifier(
        &self,
        tx: &mut dyn Tx,
        instance: &InstanceId,
        identifier: &str,
    ) -> Result<Option<User>> {
        let user_id = if identifier.contains('@') {
            let Ok(email) = normalize_email(identifier) else {
                return Ok(None);
            };
            match tx.find_email_address_by_address(instance, &email).await? {
                Some(address) => address.user_id,
                None => return Ok(None),
            }
        } else {
            let query = UserQuery {
                usernames: vec![identifier.trim().to_lowercase()],
                limit: 1,
                ..UserQuery::default()
            };
            match tx.list_users(instance, &query).await?.into_iter().next() {
                Some(user) => user.id,
                None => return Ok(None),
            }
        };
        Ok(Some(tx.get_user(instance, &user_id).await?))
    }

    /// `POST /v1/client/sign_ins`: resolves the identifier; with `strategy=password` also checks
    /// the password at once ("instant password", wire §6.4).
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn create_sign_in(
        &self,
        browser: &Browser,
        params: SignInParams,
    ) -> Result<Outcome<SignInView>> {
        if params.strategy.as_deref() == Some("ticket") {
            let ticket = params
                .ticket
                .filter(|t| !t.is_empty())
                .ok_or(CoreError::ParamMissing { param: "ticket" })?;
            return self.sign_in_with_ticket(browser, &ticket).await;
        }
        let instance = &browser.instance;
        let now = self.now();
        let identifier = params
            .identifier
            .map(|i| i.trim().to_owned())
            .filter(|i| !i.is_empty());
        if params.strategy.as_deref() == Some("password") {
            let password = params.password.clone().filter(|p| !p.is_empty());
            if let (Some(identifier), Some(password)) = (&identifier, password) {
                return self.password_sign_in(browser, identifier, password).await;
            }
        }
        let mut new_token = None;
        let mut tx = self.inner.store.begin().await?;
        let mut client = self
            .client_for_attempt(tx.as_mut(), browser, now, &mut new_token)
            .await?;
        let user = match &identifier {
            Some(identifier) => Some(
                self.user_by_identifier(tx.as_mut(), &instance.id, identifier)
                    .await?
                    .ok_or(CoreError::IdentifierNotFound)?,
            ),
            None => None,
        };
        let sign_in = new_sign_in(&client, identifier, user.map(|u| u.id), now);
        tx.insert_sign_in(&sign_in).await?;
        client.sign_in_id = Some(sign_in.id.to_string());
        client.updated_at = now;
        tx.update_client(&client).await?;
        tx.commit().await?;
        tracing::info!(sign_in.id = %sign_in.id, "sign-in started");
        if params.strategy.as_deref() == Some("password") {
            if let Some(password) = params.password {
                let factor = FactorParams {
                    strategy: "password".into(),
                    password: Some(password),
                    ..FactorParams::default()
                };
                // The client may have been created just now: act with its new cookie.
                let mut acting = browser.clone();
                if let Some(token) = &new_token {
                    acting.client_token = Some(token.clone());
                }
                let mut outcome = self
                    .attempt_first_factor(&acting, sign_in.id.as_str(), factor)
                    .await?;
                outcome.new_client_token = new_token;
                return Ok(outcome);
            }
        }
        let view = self.sign_in_view(instance, sign_in).await?;
        self.outcome(instance, Some(&client.id), new_token, view)
            .await
    }

    /// `POST /v1/client/sign_ins` with an identifier and `strategy=password`: the sign-in is
    /// created and attempted in one write transaction, after the password has been checked on
    /// a plain read (the slow hash never holds the writer). It leaves what a create followed by
    /// an attempt would: on success a complete sign-in and a new session, otherwise the sign-in
    /// waiting for its first factor (and a wrong password counted) before the error.
    async fn password_sign_in(
        &self,
        browser: &Browser,
        identifier: &str,
        password: String,
    ) -> Result<Outcome<SignInView>> {
        let instance = &browser.instance;
        let now = self.now();
        let (user_id, check) = {
            let mut conn = self.inner.store.read().await?;
            // Refused before the slow hash, in the order a create would refuse; the
            // transaction below checks again (`client_for_attempt`), authoritatively.
            if let Some(client) = self.find_browser_client(conn.as_mut(), browser).await? {
                self.check_single_session(conn.as_mut(), instance, &client, now)
                    .await?;
            }
            let user = self
                .user_by_identifier(conn.as_mut(), &instance.id, identifier)
                .await?
                .ok_or(CoreError::IdentifierNotFound)?;
            // A refusal (banned, locked, no password) is answered after the sign-in is kept.
            let check = match sign_in_refusal(&user, now) {
                Some(refusal) => Err(refusal),
                None => check_password(&user, Some(password.clone())).await,
            };
            (user.id, check)
        };
        let mut new_token = None;
        let mut tx = self.inner.store.begin().await?;
        let mut client = self
            .client_for_attempt(tx.as_mut(), browser, now, &mut new_token)
            .await?;
        let mut user = tx.lock_user(&instance.id, &user_id).await?;
        let mut sign_in = new_sign_in(&client, Some(identifier.to_owned()), Some(user_id), now);
        let verdict = match check {
            Ok(check) if check.matches => {
                sign_in.first_factor_verification = Some(Verification::verified("password"));
                let session = self
                    .open_browser_session(tx.as_mut(), browser, &mut client, &mut user, now)
                    .await?;
                sign_in.status = SignInStatus::Complete;
                sign_in.created_session_id = Some(session.id);
                Ok(check)
            }
            Ok(_) => {
                count_wrong_password(&mut user, instance, now);
                tx.update_user(&user).await?;
                Err(CoreError::PasswordIncorrect.into())
            }
            Err(refusal) => Err(refusal),
        };
        tx.insert_sign_in(&sign_in).await?;
        client.sign_in_id =
            (sign_in.status != SignInStatus::Complete).then(|| sign_in.id.to_string());
        client.updated_at = now;
        tx.update_client(&client).await?;
        tx.commit().await?;
        tracing::info!(sign_in.id = %sign_in.id, "sign-in started");
        if verdict?.needs_rehash {
            self.upgrade_password_hash(&instance.id, &user.id, &user, password)
                .await?;
        }
        let view = self.sign_in_view(instance, sign_in).await?;
        self.outcome(instance, Some(&client.id), new_token, view)
            .await
    }

    async fn open_sign_in(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        id: &str,
        now: Millis,
    ) -> Result<(Client, SignIn)> {
        let client = self.require_browser_client(tx, browser).await?;
        let id = SignInId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let sign_in = tx.get_sign_in(&browser.instance.id, &id).await?;
        if sign_in.client_id != client.id {
            return Err(ServiceError::NotFound);
        }
        if matches!(
            sign_in.status,
            SignInStatus::Complete | SignInStatus::Abandoned
        ) || now >= sign_in.abandon_at
        {
            return Err(CoreError::FlowFinished.into());
        }
        Ok((client, sign_in))
    }

    pub(crate) async fn sign_in_view(
        &self,
        instance: &Instance,
        sign_in: SignIn,
    ) -> Result<SignInView> {
        let user = match &sign_in.user_id {
            Some(id) => match self.get_user(&instance.id, id).await {
                Ok(user) => Some(user),
                Err(ServiceError::NotFound) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        Ok(SignInView { sign_in, user })
    }

    /// `GET /v1/client/sign_ins/{id}`.
    pub async fn get_sign_in(&self, browser: &Browser, id: &str) -> Result<Outcome<SignInView>> {
        let (client, sign_in) = {
            let mut conn = self.inner.store.read().await?;
            let client = self.require_browser_client(conn.as_mut(), browser).await?;
            let id = SignInId::parse(id).map_err(|_| ServiceError::NotFound)?;
            let sign_in = conn.get_sign_in(&browser.instance.id, &id).await?;
            if sign_in.client_id != client.id {
                return Err(ServiceError::NotFound);
            }
            (client, sign_in)
        };
        let view = self.sign_in_view(&browser.instance, sign_in).await?;
        self.outcome(&browser.instance, Some(&client.id), None, view)
            .await
    }

    /// `POST /v1/client/sign_ins/{id}/prepare_first_factor`: sends a code for `email_code` or
    /// `reset_password_email_code` to one of the user's addresses.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn prepare_first_factor(
        &self,
        browser: &Browser,
        id: &str,
        params: FactorParams,
    ) -> Result<Outcome<SignInView>> {
        let purpose = match params.strategy.as_str() {
            "email_code" => CodePurpose::SignIn,
            "reset_password_email_code" => CodePurpose::ResetPassword,
            _ => return Err(CoreError::StrategyNotAllowed.into()),
        };
        let instance = &browser.instance;
        let now = self.now();
        let mut outbox = Outbox::default();
        let mut tx = self.inner.store.begin().await?;
        let (client, mut sign_in) = self.open_sign_in(tx.as_mut(), browser, id, now).await?;
        let user_id = sign_in.user_id.clone().ok_or(CoreError::ParamMissing {
            param: "identifier",
        })?;
        let user = Self::load_user(tx.as_mut(), &instance.id, &user_id).await?;
        let wanted = params
            .email_address_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| {
                EmailAddressId::parse(s).map_err(|_| CoreError::FormatInvalid {
                    param: "email_address_id",
                })
            })
            .transpose()?;
        let address = user
            .email_addresses
            .iter()
            .filter(|e| e.verified)
            .find(|e| match &wanted {
                Some(id) => &e.id == id,
                None => Some(&e.id) == user.user.primary_email_address_id.as_ref(),
            })
            .ok_or(CoreError::FormatInvalid {
                param: "email_address_id",
            })?;
        let hash = self
            .issue_code(
                tx.as_mut(),
                &mut outbox,
                instance,
                &address.email_address,
                purpose,
                now,
            )
            .await?;
        sign_in.first_factor_verification = Some(Verification::code(
            &params.strategy,
            hash,
            now,
            Some(address.id.clone()),
        ));
        sign_in.status = SignInStatus::NeedsFirstFactor;
        sign_in.updated_at = now;
        tx.update_sign_in(&sign_in).await?;
        tx.commit().await?;
        self.flush_mail(outbox);
        let view = self.sign_in_view(instance, sign_in).await?;
        self.outcome(instance, Some(&client.id), None, view).await
    }

    /// `POST /v1/client/sign_ins/{id}/attempt_first_factor`.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn attempt_first_factor(
        &self,
        browser: &Browser,
        id: &str,
        params: FactorParams,
    ) -> Result<Outcome<SignInView>> {
        let instance = &browser.instance;
        let now = self.now();
        // Reads first: a password check is slow and must not hold the write transaction.
        let (user, password_ok) = {
            let mut conn = self.inner.store.read().await?;
            let (_, sign_in) = self.open_sign_in(conn.as_mut(), browser, id, now).await?;
            let user_id = sign_in.user_id.clone().ok_or(CoreError::ParamMissing {
                param: "identifier",
            })?;
            let user = conn.get_user(&instance.id, &user_id).await?;
            if let Some(refusal) = sign_in_refusal(&user, now) {
                return Err(refusal);
            }
            let password_ok = if params.strategy == "password" {
                Some(check_password(&user, params.password.clone()).await?)
            } else {
                None
            };
            (user, password_ok)
        };
        let mut tx = self.inner.store.begin().await?;
        let (mut client, mut sign_in) = self.open_sign_in(tx.as_mut(), browser, id, now).await?;
        let mut user = tx.lock_user(&instance.id, &user.id).await?;
        match params.strategy.as_str() {
            "password" => {
                let check = password_ok.ok_or(CoreError::StrategyNotAllowed)?;
                if !check.matches {
                    count_wrong_password(&mut user, instance, now);
                    tx.update_user(&user).await?;
                    tx.commit().await?;
                    return Err(CoreError::PasswordIncorrect.into());
                }
                sign_in.first_factor_verification = Some(Verification::verified("password"));
                self.complete_sign_in(
                    tx.as_mut(),
                    browser,
                    &mut client,
                    &mut sign_in,
                    &mut user,
                    now,
                )
                .await?;
            }
            "email_code" | "reset_password_email_code" => {
                let mut verification = sign_in
                    .first_factor_verification
                    .clone()
                    .filter(|v| v.strategy == params.strategy)
                    .ok_or(CoreError::VerificationNotPrepared)?;
                let code = params.code.clone().unwrap_or_default();
                let attempt = verification.attempt(code_matches(&verification, &code), now);
                sign_in.first_factor_verification = Some(verification);
                sign_in.updated_at = now;
                if let Err(refusal) = attempt {
                    tx.update_sign_in(&sign_in).await?;
                    tx.commit().await?;
                    return Err(refusal.into());
                }
                if params.strategy == "email_code" {
                    self.complete_sign_in(
                        tx.as_mut(),
                        browser,
                        &mut client,
                        &mut sign_in,
                        &mut user,
                        now,
                    )
                    .await?;
                } else {
                    sign_in.status = SignInStatus::NeedsNewPassword;
                }
            }
            _ => return Err(CoreError::StrategyNotAllowed.into()),
        }
        sign_in.updated_at = now;
        tx.update_sign_in(&sign_in).await?;
        tx.update_client(&client).await?;
        tx.commit().await?;
        if let Some(check) = password_ok {
            if check.matches && check.needs_rehash {
                if let Some(password) = params.password {
                    self.upgrade_password_hash(&instance.id, &user.id, &user, password)
                        .await?;
                }
            }
        }
        let view = self.sign_in_view(instance, sign_in).await?;
        self.outcome(instance, Some(&client.id), None, view).await
    }

    pub(crate) async fn complete_sign_in(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        client: &mut Client,
        sign_in: &mut SignIn,
        user: &mut User,
        now: Millis,
    ) -> Result<()> {
        let session = self
            .start_browser_session(tx, browser, client, user, now)
            .await?;
        sign_in.status = SignInStatus::Complete;
        sign_in.created_session_id = Some(session.id);
        client.sign_in_id = None;
        Ok(())
    }

    /// `POST /v1/client/sign_ins/{id}/reset_password`: after a verified reset code, sets the new
    /// password (optionally signing out every other session) and signs in.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn reset_password(
        &self,
        browser: &Browser,
        id: &str,
        password: String,
        sign_out_of_other_sessions: bool,
    ) -> Result<Outcome<SignInView>> {
        let instance = &browser.instance;
        let hash = self
            .hash_new_password(password, false, instance.settings.password_min_length)
            .await?;
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let (mut client, mut sign_in) = self.open_sign_in(tx.as_mut(), browser, id, now).await?;
        if sign_in.status != SignInStatus::NeedsNewPassword {
            return Err(CoreError::StrategyNotAllowed.into());
        }
        let user_id = sign_in.user_id.clone().ok_or(CoreError::ParamMissing {
            param: "identifier",
        })?;
        let mut user = tx.lock_user(&instance.id, &user_id).await?;
        user.password_hash = Some(hash);
        user.locked = false;
        user.locked_until = None;
        if sign_out_of_other_sessions {
            tx.end_user_sessions(&instance.id, &user.id, SessionStatus::Revoked, None, now)
                .await?;
        }
        self.complete_sign_in(
            tx.as_mut(),
            browser,
            &mut client,
            &mut sign_in,
            &mut user,
            now,
        )
        .await?;
        sign_in.updated_at = now;
        tx.update_sign_in(&sign_in).await?;
        tx.update_client(&client).await?;
        tx.commit().await?;
        tracing::info!(user.id = %user.id, "password reset");
        let view = self.sign_in_view(instance, sign_in).await?;
        self.outcome(instance, Some(&client.id), None, view).await
    }

    // ---- the client's sessions -------------------------------------------------------------

    /// A session of this browser's client.
    async fn client_session(
        &self,
        tx: &mut dyn Tx,
        browser: &Browser,
        id: &str,
    ) -> Result<(Client, Session)> {
        let client = self.require_browser_client(tx, browser).await?;
        let id = SessionId::parse(id).map_err(|_| ServiceError::NotFound)?;
        let session = not_found_as(
            tx.get_session(&browser.instance.id, &id).await,
            CoreError::NotSignedIn,
        )?;
        if session.client_id != client.id {
            return Err(ServiceError::NotFound);
        }
        Ok((client, session))
    }

    /// `GET /v1/client/sessions/{id}`.
    pub async fn get_client_session(
        &self,
        browser: &Browser,
        id: &str,
    ) -> Result<Outcome<Session>> {
        let (client, session) = {
            let mut conn = self.inner.store.read().await?;
            self.client_session(conn.as_mut(), browser, id).await?
        };
        self.outcome(&browser.instance, Some(&client.id), None, session)
            .await
    }

    /// `POST /v1/client/sessions/{id}/touch`: marks the session active and the client's current one.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn touch_session(
        &self,
        browser: &Browser,
        id: &str,
        active_organization: Option<Option<String>>,
    ) -> Result<Outcome<Session>> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let (mut client, mut session) = self.client_session(tx.as_mut(), browser, id).await?;
        if session.effective_status(now) != SessionStatus::Active {
            return Err(CoreError::NotSignedIn.into());
        }
        Self::select_organization(tx.as_mut(), &mut session, active_organization).await?;
        session.last_active_at = now;
        session.abandon_at = Self::abandon_at(&browser.instance, now, session.expire_at);
        session.updated_at = now;
        tx.update_session(&session).await?;
        if client.last_active_session_id.as_ref() != Some(&session.id) {
            client.last_active_session_id = Some(session.id.clone());
            client.updated_at = now;
            tx.update_client(&client).await?;
        }
        tx.commit().await?;
        self.outcome(&browser.instance, Some(&client.id), None, session)
            .await
    }

    /// `POST /v1/client/sessions/{id}/tokens[/{template}]`: a token for a session of this client.
    pub async fn browser_session_token(
        &self,
        browser: &Browser,
        id: &str,
        template: Option<&str>,
        organization: Option<Option<String>>,
    ) -> Result<String> {
        // The 50-second refresh: everything the token needs and the token hash of the session's
        // client in one statement (two with an active organization), unless the organization
        // changes. The client is read by its cookie token only when they differ, to tell a
        // signed-out browser from another client's session.
        let mut conn = self.inner.store.read().await?;
        let hash = browser.client_token_hash().ok_or(CoreError::NotSignedIn)?;
        let session_id = SessionId::parse(id).ok();
        let found = match &session_id {
            Some(session_id) => Some(
                conn.get_browser_token_context(&browser.instance.id, session_id)
                    .await,
            ),
            None => None,
        };
        let ours = |found: &concierge_store::BrowserTokenContext| {
            found
                .client_token_hash
                .as_deref()
                .is_some_and(|stored| tokens::constant_time_eq(stored, &hash))
        };
        let (session_id, found) = match (session_id, found) {
            (Some(session_id), Some(Ok(found))) if ours(&found) => (session_id, found),
            // What reading the client first would answer: signed out without a client, then
            // not found for a malformed id or another client's session, and signed out for an
            // unknown session.
            (_, other) => {
                self.require_browser_client(conn.as_mut(), browser).await?;
                return Err(match other {
                    None | Some(Ok(_)) => ServiceError::NotFound,
                    Some(Err(concierge_store::StoreError::NotFound)) => {
                        CoreError::NotSignedIn.into()
                    }
                    Some(Err(error)) => error.into(),
                });
            }
        };
        let context = (found.session, found.user_banned, found.current_kid);
        let session = &context.0;
        // Only a change is written (wire §6.5: absent keeps, empty is the personal workspace).
        let switch = organization
            .map(|wanted| wanted.filter(|s| !s.is_empty()))
            .filter(|wanted| *wanted != session.last_active_organization_id);
        let minted = match switch {
            None => {
                self.mint_session_token(&browser.instance, conn, context, template, None)
                    .await
            }
            Some(wanted) => {
                drop(conn);
                let mut tx = self.inner.store.begin().await?;
                let mut current = tx.get_session(&browser.instance.id, &session_id).await?;
                Self::select_organization(tx.as_mut(), &mut current, Some(wanted)).await?;
                current.updated_at = self.now();
                tx.update_session(&current).await?;
                tx.commit().await?;
                self.create_session_token(&browser.instance, &session_id, template, None)
                    .await
            }
        };
        match minted {
            Err(ServiceError::Core(CoreError::SessionNotActive)) => {
                Err(CoreError::NotSignedIn.into())
            }
            other => other,
        }
    }

    /// Sets the session's active organization: `None` keeps it, `Some(None)` or an empty id
    /// selects the personal workspace, an id or slug selects that organization if the user is a
    /// member (else `resource_not_found`).
    async fn select_organization(
        tx: &mut dyn Tx,
        session: &mut Session,
        wanted: Option<Option<String>>,
    ) -> Result<()> {
        let Some(wanted) = wanted else {
            return Ok(());
        };
        session.last_active_organization_id = match wanted.filter(|s| !s.is_empty()) {
            None => None,
            Some(id_or_slug) => {
                let org = Self::load_organization(tx, &session.instance_id, &id_or_slug).await?;
                tx.find_membership(&session.instance_id, &org.id, &session.user_id)
                    .await?
                    .ok_or(ServiceError::NotFound)?;
                Some(org.id.to_string())
            }
        };
        Ok(())
    }

    /// Ends (`end`) or removes (`remove`) one session of this client.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn finish_client_session(
        &self,
        browser: &Browser,
        id: &str,
        status: SessionStatus,
    ) -> Result<Outcome<Session>> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let (mut client, mut session) = self.client_session(tx.as_mut(), browser, id).await?;
        if session.effective_status(now) == SessionStatus::Active {
            session.status = status;
            session.updated_at = now;
            tx.update_session(&session).await?;
        }
        let remaining = self
            .active_client_sessions(tx.as_mut(), &client, now)
            .await?;
        if client.last_active_session_id.as_ref() == Some(&session.id) {
            client.last_active_session_id = remaining.last().map(|s| s.id.clone());
        }
        client.uat = now;
        client.updated_at = now;
        tx.update_client(&client).await?;
        tx.commit().await?;
        tracing::info!(session.id = %session.id, status = status.as_str(), "browser session finished");
        self.outcome(&browser.instance, Some(&client.id), None, session)
            .await
    }

    /// `DELETE /v1/client/sessions` (sign out of everything) and `DELETE /v1/client`: removes
    /// every session of this client; returns the client afterwards.
    #[instrument(skip_all, fields(instance.id = %browser.instance.id))]
    pub async fn sign_out_client(
        &self,
        browser: &Browser,
    ) -> Result<Outcome<Option<ClientSnapshot>>> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let Some(mut client) = self.find_browser_client(tx.as_mut(), browser).await? else {
            return Ok(Outcome {
                response: None,
                client: None,
                new_client_token: None,
            });
        };
        for mut session in self
            .active_client_sessions(tx.as_mut(), &client, now)
            .await?
        {
            session.status = SessionStatus::Removed;
            session.updated_at = now;
            tx.update_session(&session).await?;
        }
        client.last_active_session_id = None;
        client.sign_in_id = None;
        client.sign_up_id = None;
        client.uat = now;
        client.updated_at = now;
        tx.update_client(&client).await?;
        tx.commit().await?;
        tracing::info!(client.id = %client.id, "browser signed out");
        let snapshot = self.client_snapshot(&browser.instance, &client.id).await?;
        Ok(Outcome {
            response: Some(snapshot.clone()),
            client: Some(snapshot),
            new_client_token: None,
        })
    }

    // ---- handshake -------------------------------------------------------------------------

    /// What a handshake should set on the app host for this browser (wire §5.2). With
    /// `organization` (`organization_id` of an SDK's organization sync, wire §5.1) the active
    /// session first switches to that organization (id or slug; `Some(None)` or an empty value
    /// is the personal workspace). An unknown organization, or one the user is not a member of,
    /// leaves the session as it is: the handshake is a navigation and must not fail, and the
    /// SDK stops asking after its redirect limit.
    pub async fn handshake_state(
        &self,
        browser: &Browser,
        organization: Option<Option<String>>,
    ) -> Result<HandshakeState> {
        if let Some(wanted) = organization {
            self.handshake_select_organization(browser, wanted).await?;
        }
        let Some(snapshot) = self.get_browser_client(browser).await? else {
            return Ok(HandshakeState {
                session_token: None,
                uat_seconds: 0,
            });
        };
        let active = snapshot
            .sessions
            .iter()
            .find(|s| Some(&s.session.id) == snapshot.client.last_active_session_id.as_ref())
            .or_else(|| snapshot.sessions.last());
        Ok(HandshakeState {
            session_token: active.map(|s| s.token.clone()),
            uat_seconds: if active.is_some() {
                snapshot.uat_seconds
            } else {
                0
            },
        })
    }

    /// Switches the client's active session to `wanted` for a handshake, if it is a change
    /// and allowed; see [`Service::handshake_state`].
    async fn handshake_select_organization(
        &self,
        browser: &Browser,
        wanted: Option<String>,
    ) -> Result<()> {
        let wanted = wanted.filter(|s| !s.is_empty());
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let Some(client) = self.find_browser_client(tx.as_mut(), browser).await? else {
            return Ok(());
        };
        let Some(session_id) = client.last_active_session_id.clone() else {
            return Ok(());
        };
        let mut session = tx.get_session(&browser.instance.id, &session_id).await?;
        if session.effective_status(now) != SessionStatus::Active {
            return Ok(());
        }
        let before = session.last_active_organization_id.clone();
        match Self::select_organization(tx.as_mut(), &mut session, Some(wanted)).await {
            Ok(()) => {}
            Err(ServiceError::NotFound) => {
                tracing::info!(
                    instance.id = %browser.instance.id,
                    session.id = %session.id,
                    "handshake asked for an organization the user cannot activate"
                );
                return Ok(());
            }
            Err(other) => return Err(other),
        }
        if session.last_active_organization_id != before {
            session.updated_at = now;
            tx.update_session(&session).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Keeps handshake directives under a new single-use nonce; returns the nonce.
    pub async fn store_handshake_nonce(
        &self,
        instance: &InstanceId,
        directives: &[String],
    ) -> Result<String> {
        let nonce = tokens::generate_opaque_token(&mut Self::rng());
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        tx.insert_handshake_nonce(
            instance,
            &tokens::sha256(nonce.as_bytes()),
            directives,
            now + HANDSHAKE_NONCE_LIFETIME_MS,
        )
        .await?;
        tx.commit().await?;
        Ok(nonce)
    }

    /// A handshake token (`format=token`, wire §5.2): `{"handshake": [directives]}` signed with
    /// the instance's current key, verifiable through the JWKS.
    pub async fn sign_handshake_token(
        &self,
        instance: &InstanceId,
        directives: &[String],
    ) -> Result<String> {
        let mut conn = self.inner.store.read().await?;
        let signer = self.current_signer(conn.as_mut(), instance).await?;
        drop(conn);
        let mut claims = serde_json::Map::new();
        claims.insert("handshake".into(), serde_json::json!(directives));
        blocking(move || Ok(signer.sign_jwt(&serde_json::Map::new(), &claims)?)).await
    }

    /// Redeems a handshake nonce (`GET /v1/clients/handshake_payload`); single use.
    pub async fn redeem_handshake_nonce(
        &self,
        instance: &InstanceId,
        nonce: &str,
    ) -> Result<Vec<String>> {
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let directives = tx
            .take_handshake_nonce(instance, &tokens::sha256(nonce.as_bytes()), now)
            .await?;
        tx.commit().await?;
        directives.ok_or(ServiceError::NotFound)
    }
}
