//! Storage: the one `Store` trait and its SQLite and PostgreSQL implementations.
//!
//! This is the only crate that sees SQL or `sqlx`; no backend error type leaves it
//! (STYLE §2.1, §2.9). Every tenant-data method takes the `InstanceId` first and filters on it.
//! Writes of one use case share one [`Tx`] obtained from [`Store::begin`].
#![forbid(unsafe_code)]

pub mod domains;
pub mod error;
pub mod open;
pub mod postgres;
pub mod query;
pub mod role_sets;
mod sql;
mod sql_domains;
pub mod sqlite;
pub mod testing;

#[cfg(test)]
mod conformance;

use async_trait::async_trait;
use concierge_core::*;

pub use domains::{DomainQuery, DomainTx, MembershipRequestQuery, SuggestionQuery};
pub use error::StoreError;
pub use open::open;
pub use query::*;
pub use role_sets::{RoleSetOrderField, RoleSetQuery, RoleSetTx, RoleUsage, RoleUsageScope};

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file, one process.
    Sqlite,
    /// Shared state for several stateless nodes.
    Postgres,
}

/// What the browser's 50-second token refresh needs, read in one statement
/// ([`Tx::get_browser_token_context`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BrowserTokenContext {
    /// The session the token is for.
    pub session: Session,
    /// Whether the session's user is banned.
    pub user_banned: bool,
    /// The instance's current signing key, if it has one.
    pub current_kid: Option<SigningKeyId>,
    /// The cookie token hash of the session's client (`None` once the client has none).
    pub client_token_hash: Option<Vec<u8>>,
}

/// A database holding every instance's data.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Starts a read-write transaction. Dropping the handle without [`Tx::commit`] rolls back.
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;

    /// A handle for reads outside a transaction (each statement stands alone); a backend may
    /// take a pooled connection only once a statement needs one. Use [`Store::begin`] for
    /// anything that writes.
    async fn read(&self) -> Result<Box<dyn Tx>, StoreError>;

    /// Closes the connection pool, waiting for connections in use to be returned.
    async fn close(&self);
}

/// One connection, inside a transaction (from [`Store::begin`]) or not (from [`Store::read`]).
///
/// Uniqueness is enforced by the database and surfaces as [`StoreError::Conflict`] with a
/// logical constraint name (documented on each insert/update). Role set queries are the
/// [`RoleSetTx`] supertrait (callable on any `dyn Tx`).
#[async_trait]
pub trait Tx: DomainTx + RoleSetTx + Send {
    /// Commits the transaction (a no-op for a [`Store::read`] handle).
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;

    // ---- instances -------------------------------------------------------------------------

    /// Inserts an instance. Conflicts: `instance_name`, `frontend_host`, `secret_key`.
    async fn insert_instance(&mut self, instance: &Instance) -> Result<(), StoreError>;
    /// The instance with this id.
    async fn get_instance(&mut self, id: &InstanceId) -> Result<Instance, StoreError>;
    /// The instance with this unique name.
    async fn find_instance_by_name(&mut self, name: &str) -> Result<Option<Instance>, StoreError>;
    /// The instance whose secret key has this SHA-256 hash (lookup without comparing secrets).
    async fn find_instance_by_secret_key_hash(
        &mut self,
        hash: &[u8],
    ) -> Result<Option<Instance>, StoreError>;
    /// The instance whose frontend host is `host` (case-insensitive).
    async fn find_instance_by_frontend_host(
        &mut self,
        host: &str,
    ) -> Result<Option<Instance>, StoreError>;
    /// All instances, oldest first.
    async fn list_instances(&mut self) -> Result<Vec<Instance>, StoreError>;
    /// Replaces an instance's settings, allowed origins and test-mode flag.
    async fn update_instance(&mut self, instance: &Instance) -> Result<(), StoreError>;

    // ---- signing keys ----------------------------------------------------------------------

    /// Inserts a signing key.
    async fn insert_signing_key(&mut self, key: &SigningKey) -> Result<(), StoreError>;
    /// Every key of the instance, current and retired, newest first.
    async fn list_signing_keys(
        &mut self,
        instance: &InstanceId,
    ) -> Result<Vec<SigningKey>, StoreError>;
    /// Marks every not-yet-retired key of the instance as retired at `now`.
    async fn retire_signing_keys(
        &mut self,
        instance: &InstanceId,
        now: Millis,
    ) -> Result<(), StoreError>;

    // ---- users -----------------------------------------------------------------------------

    /// Inserts a user. Conflicts: `username`, `external_id`.
    async fn insert_user(&mut self, user: &User) -> Result<(), StoreError>;
    /// The user with this id.
    async fn get_user(&mut self, instance: &InstanceId, id: &UserId) -> Result<User, StoreError>;
    /// The user with this id, read afresh and locked against other transactions' changes to it
    /// until this one ends, for a read-modify-write that must not lose a concurrent one (two
    /// metadata merges, two wrong passwords counted). PostgreSQL locks the row
    /// (`FOR NO KEY UPDATE`); SQLite's write transactions already run one at a time. A
    /// transaction locks the user before it writes the user's sessions, and after the
    /// browser's client when it reads one ([`Tx::get_client`]).
    async fn lock_user(&mut self, instance: &InstanceId, id: &UserId) -> Result<User, StoreError>;
    /// The user with this id and their email addresses (oldest first), in one round trip.
    async fn get_user_with_email_addresses(
        &mut self,
        instance: &InstanceId,
        id: &UserId,
    ) -> Result<(User, Vec<EmailAddress>), StoreError>;
    /// Replaces every mutable column of the user. Conflicts: `username`, `external_id`.
    async fn update_user(&mut self, user: &User) -> Result<(), StoreError>;
    /// Deletes the user with its email addresses and sessions.
    async fn delete_user(&mut self, instance: &InstanceId, id: &UserId) -> Result<(), StoreError>;
    /// Users matching the query, ordered and paginated as it says.
    async fn list_users(
        &mut self,
        instance: &InstanceId,
        query: &UserQuery,
    ) -> Result<Vec<User>, StoreError>;
    /// How many users match the query's filters (ignoring order, limit and offset).
    async fn count_users(
        &mut self,
        instance: &InstanceId,
        query: &UserQuery,
    ) -> Result<i64, StoreError>;

    // ---- email addresses -------------------------------------------------------------------

    /// Inserts an email address. Conflict: `email_address` (unique per instance).
    async fn insert_email_address(&mut self, email: &EmailAddress) -> Result<(), StoreError>;
    /// The email address with this id.
    async fn get_email_address(
        &mut self,
        instance: &InstanceId,
        id: &EmailAddressId,
    ) -> Result<EmailAddress, StoreError>;
    /// The email address record for this (lowercased) address, if any user has it.
    async fn find_email_address_by_address(
        &mut self,
        instance: &InstanceId,
        address: &str,
    ) -> Result<Option<EmailAddress>, StoreError>;
    /// The addresses of these users, oldest first.
    async fn list_email_addresses_for_users(
        &mut self,
        instance: &InstanceId,
        users: &[UserId],
    ) -> Result<Vec<EmailAddress>, StoreError>;
    /// Replaces the mutable columns (verified, verification strategy, updated_at).
    async fn update_email_address(&mut self, email: &EmailAddress) -> Result<(), StoreError>;
    /// Deletes one address.
    async fn delete_email_address(
        &mut self,
        instance: &InstanceId,
        id: &EmailAddressId,
    ) -> Result<(), StoreError>;

    // ---- clients ---------------------------------------------------------------------------

    /// Inserts a client.
    async fn insert_client(&mut self, client: &Client) -> Result<(), StoreError>;
    /// The client with this id. Inside a transaction (from [`Store::begin`]) the client is
    /// read to be written back, so its row stays locked until the transaction ends
    /// (`FOR NO KEY UPDATE` on PostgreSQL; SQLite's write transactions already run one at a
    /// time): concurrent requests of one browser lose none of each other's client changes.
    /// A transaction locks the browser's client before any user.
    async fn get_client(
        &mut self,
        instance: &InstanceId,
        id: &ClientId,
    ) -> Result<Client, StoreError>;
    /// The client whose bearer token has this SHA-256 hash; locked inside a transaction as
    /// [`Tx::get_client`] is.
    async fn find_client_by_token_hash(
        &mut self,
        instance: &InstanceId,
        hash: &[u8],
    ) -> Result<Option<Client>, StoreError>;
    /// Replaces the mutable columns of a client.
    async fn update_client(&mut self, client: &Client) -> Result<(), StoreError>;
    /// Clients, newest first, paginated.
    async fn list_clients(
        &mut self,
        instance: &InstanceId,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Client>, StoreError>;
    /// How many clients the instance has.
    async fn count_clients(&mut self, instance: &InstanceId) -> Result<i64, StoreError>;

    // ---- sessions --------------------------------------------------------------------------

    /// Inserts a session.
    async fn insert_session(&mut self, session: &Session) -> Result<(), StoreError>;
    /// The session with this id.
    async fn get_session(
        &mut self,
        instance: &InstanceId,
        id: &SessionId,
    ) -> Result<Session, StoreError>;
    /// What minting a session token reads, in one round trip: the session, whether its user is
    /// banned, and the id of the instance's current signing key (if it has one).
    async fn get_session_token_context(
        &mut self,
        instance: &InstanceId,
        id: &SessionId,
    ) -> Result<(Session, bool, Option<SigningKeyId>), StoreError>;
    /// What the browser's token refresh reads, in one round trip: the token context of
    /// [`Tx::get_session_token_context`] and the cookie token hash of the session's client,
    /// for the caller to compare with the browser's.
    async fn get_browser_token_context(
        &mut self,
        instance: &InstanceId,
        id: &SessionId,
    ) -> Result<BrowserTokenContext, StoreError>;
    /// Replaces the mutable columns of a session (status, activity, expiry, organization, azp).
    /// A session that has ended (stored status other than `active`) keeps its status: a writer
    /// holding a copy read before a concurrent revocation or sign-out cannot make it active
    /// again.
    async fn update_session(&mut self, session: &Session) -> Result<(), StoreError>;
    /// Sessions matching the query, newest first.
    async fn list_sessions(
        &mut self,
        instance: &InstanceId,
        query: &SessionQuery,
    ) -> Result<Vec<Session>, StoreError>;
    /// How many sessions match the query's filters.
    async fn count_sessions(
        &mut self,
        instance: &InstanceId,
        query: &SessionQuery,
    ) -> Result<i64, StoreError>;
    /// Sets every stored-`active` session of the user to `status` at `now`, except `keep` if given.
    /// Returns the ids changed.
    async fn end_user_sessions(
        &mut self,
        instance: &InstanceId,
        user: &UserId,
        status: SessionStatus,
        keep: Option<&SessionId>,
        now: Millis,
    ) -> Result<Vec<SessionId>, StoreError>;

    // ---- JWT templates ---------------------------------------------------------------------

    /// Inserts a template. Conflict: `jwt_template_name`.
    async fn insert_jwt_template(&mut self, template: &JwtTemplate) -> Result<(), StoreError>;
    /// The template with this id.
    async fn get_jwt_template(
        &mut self,
        instance: &InstanceId,
        id: &JwtTemplateId,
    ) -> Result<JwtTemplate, StoreError>;
    /// The template with this name.
    async fn find_jwt_template_by_name(
        &mut self,
        instance: &InstanceId,
        name: &str,
    ) -> Result<Option<JwtTemplate>, StoreError>;
    /// Templates, oldest first, paginated.
    async fn list_jwt_templates(
        &mut self,
        instance: &InstanceId,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<JwtTemplate>, StoreError>;
    /// How many templates the instance has.
    async fn count_jwt_templates(&mut self, instance: &InstanceId) -> Result<i64, StoreError>;
    /// Replaces the mutable columns. Conflict: `jwt_template_name`.
    async fn update_jwt_template(&mut self, template: &JwtTemplate) -> Result<(), StoreError>;
    /// Deletes a template.
    async fn delete_jwt_template(
        &mut self,
        instance: &InstanceId,
        id: &JwtTemplateId,
    ) -> Result<(), StoreError>;

    // ---- browser flows ---------------------------------------------------------------------

    /// Inserts a sign-up.
    async fn insert_sign_up(&mut self, sign_up: &SignUp) -> Result<(), StoreError>;
    /// The sign-up with this id.
    async fn get_sign_up(
        &mut self,
        instance: &InstanceId,
        id: &SignUpId,
    ) -> Result<SignUp, StoreError>;
    /// Replaces a sign-up.
    async fn update_sign_up(&mut self, sign_up: &SignUp) -> Result<(), StoreError>;
    /// Inserts a sign-in.
    async fn insert_sign_in(&mut self, sign_in: &SignIn) -> Result<(), StoreError>;
    /// The sign-in with this id.
    async fn get_sign_in(
        &mut self,
        instance: &InstanceId,
        id: &SignInId,
    ) -> Result<SignIn, StoreError>;
    /// Replaces a sign-in.
    async fn update_sign_in(&mut self, sign_in: &SignIn) -> Result<(), StoreError>;
    /// Stores (or replaces) the verification of `target` (an email address id).
    async fn put_verification(
        &mut self,
        instance: &InstanceId,
        target: &str,
        verification: &Verification,
    ) -> Result<(), StoreError>;
    /// The verification of `target`, if one was started.
    async fn get_verification(
        &mut self,
        instance: &InstanceId,
        target: &str,
    ) -> Result<Option<Verification>, StoreError>;
    /// Forgets the verification of `target`.
    async fn delete_verification(
        &mut self,
        instance: &InstanceId,
        target: &str,
    ) -> Result<(), StoreError>;
    /// Keeps handshake cookie directives under the SHA-256 of a nonce until `expire_at`.
    async fn insert_handshake_nonce(
        &mut self,
        instance: &InstanceId,
        nonce_hash: &[u8],
        directives: &[String],
        expire_at: Millis,
    ) -> Result<(), StoreError>;
    /// Redeems a nonce once: returns its directives and deletes it (and every expired nonce).
    /// `None` when unknown, already redeemed or expired.
    async fn take_handshake_nonce(
        &mut self,
        instance: &InstanceId,
        nonce_hash: &[u8],
        now: Millis,
    ) -> Result<Option<Vec<String>>, StoreError>;

    // ---- images ----------------------------------------------------------------------------

    /// Stores an image.
    async fn insert_image(&mut self, image: &Image) -> Result<(), StoreError>;
    /// The image with this id, in any instance (images are public by their unguessable id).
    async fn get_image(&mut self, id: &ImageId) -> Result<Image, StoreError>;
    /// Deletes an image of the instance (no error when already gone).
    async fn delete_image(&mut self, instance: &InstanceId, id: &ImageId)
        -> Result<(), StoreError>;

    // ---- organizations ---------------------------------------------------------------------

    /// Inserts an organization. Conflict: `slug`.
    async fn insert_organization(&mut self, org: &Organization) -> Result<(), StoreError>;
    /// The organization with this id.
    async fn get_organization(
        &mut self,
        instance: &InstanceId,
        id: &OrganizationId,
    ) -> Result<Organization, StoreError>;
    /// The organization with this id, read afresh and locked against other transactions'
    /// changes to it until this one ends: a check of its memberships made after this (a seat
    /// left, an admin left) still holds at commit. PostgreSQL locks the row
    /// (`FOR NO KEY UPDATE`);
    /// SQLite's write transactions already run one at a time on its single writer. On a read
    /// handle it is a plain read.
    async fn lock_organization(
        &mut self,
        instance: &InstanceId,
        id: &OrganizationId,
    ) -> Result<Organization, StoreError>;
    /// The organization with this slug.
    async fn find_organization_by_slug(
        &mut self,
        instance: &InstanceId,
        slug: &str,
    ) -> Result<Option<Organization>, StoreError>;
    /// Replaces the mutable columns. Conflict: `slug`.
    async fn update_organization(&mut self, org: &Organization) -> Result<(), StoreError>;
    /// Deletes an organization and (by cascade) its memberships.
    async fn delete_organization(
        &mut self,
        instance: &InstanceId,
        id: &OrganizationId,
    ) -> Result<(), StoreError>;
    /// Organizations matching the query.
    async fn list_organizations(
        &mut self,
        instance: &InstanceId,
        query: &OrganizationQuery,
    ) -> Result<Vec<Organization>, StoreError>;
    /// How many organizations match the query's filters.
    async fn count_organizations(
        &mut self,
        instance: &InstanceId,
        query: &OrganizationQuery,
    ) -> Result<i64, StoreError>;
    /// Inserts a membership. Conflict: `organization_membership` (already a member).
    async fn insert_membership(
        &mut self,
        membership: &OrganizationMembership,
    ) -> Result<(), StoreError>;
    /// The membership of `user` in `org`, if any.
    async fn find_membership(
        &mut self,
        instance: &InstanceId,
        org: &OrganizationId,
        user: &UserId,
    ) -> Result<Option<OrganizationMembership>, StoreError>;
    /// Replaces the role, metadata and updated_at of a membership.
    async fn update_membership(
        &mut self,
        membership: &OrganizationMembership,
    ) -> Result<(), StoreError>;
    /// Deletes the membership of `user` in `org`.
    async fn delete_membership(
        &mut self,
        instance: &InstanceId,
        org: &OrganizationId,
        user: &UserId,
    ) -> Result<(), StoreError>;
    /// Memberships matching the query.
    async fn list_memberships(
        &mut self,
        instance: &InstanceId,
        query: &MembershipQuery,
    ) -> Result<Vec<OrganizationMembership>, StoreError>;
    /// How many memberships match the query's filters.
    async fn count_memberships(
        &mut self,
        instance: &InstanceId,
        query: &MembershipQuery,
    ) -> Result<i64, StoreError>;

    // ---- custom roles and permissions ------------------------------------------------------

    /// Inserts a permission. Conflict: `key`.
    async fn insert_permission(&mut self, permission: &Permission) -> Result<(), StoreError>;
    /// Every custom permission of the instance, oldest first.
    async fn list_permissions(
        &mut self,
        instance: &InstanceId,
    ) -> Result<Vec<Permission>, StoreError>;
    /// Replaces name and description.
    async fn update_permission(&mut self, permission: &Permission) -> Result<(), StoreError>;
    /// Deletes a permission.
    async fn delete_permission(
        &mut self,
        instance: &InstanceId,
        id: &PermissionId,
    ) -> Result<(), StoreError>;
    /// Inserts a role. Conflict: `key`.
    async fn insert_role(&mut self, role: &CustomRole) -> Result<(), StoreError>;
    /// Every custom role of the instance, oldest first.
    async fn list_roles(&mut self, instance: &InstanceId) -> Result<Vec<CustomRole>, StoreError>;
    /// The custom role with this key.
    async fn find_role_by_key(
        &mut self,
        instance: &InstanceId,
        key: &str,
    ) -> Result<Option<CustomRole>, StoreError>;
    /// Replaces name, description and permissions.
    async fn update_role(&mut self, role: &CustomRole) -> Result<(), StoreError>;
    /// Deletes a role.
    async fn delete_role(&mut self, instance: &InstanceId, id: &RoleId) -> Result<(), StoreError>;

    // ---- organization invitations ----------------------------------------------------------

    /// Inserts an invitation.
    async fn insert_invitation(
        &mut self,
        invitation: &OrganizationInvitation,
    ) -> Result<(), StoreError>;
    /// The invitation with this id.
    async fn get_invitation(
        &mut self,
        instance: &InstanceId,
        id: &OrganizationInvitationId,
    ) -> Result<OrganizationInvitation, StoreError>;
    /// Replaces status, metadata and updated_at.
    async fn update_invitation(
        &mut self,
        invitation: &OrganizationInvitation,
    ) -> Result<(), StoreError>;
    /// Invitations matching the query, newest first.
    async fn list_invitations(
        &mut self,
        instance: &InstanceId,
        query: &InvitationQuery,
    ) -> Result<Vec<OrganizationInvitation>, StoreError>;
    /// How many invitations match the query's filters.
    async fn count_invitations(
        &mut self,
        instance: &InstanceId,
        query: &InvitationQuery,
    ) -> Result<i64, StoreError>;
    /// For each of these organizations of the instance (others are left out): its members and
    /// its invitations pending as of `now`, in one query.
    async fn organization_counts(
        &mut self,
        instance: &InstanceId,
        organizations: &[OrganizationId],
        now: Millis,
    ) -> Result<Vec<(OrganizationId, i64, i64)>, StoreError>;

    // ---- mailbox ---------------------------------------------------------------------------

    /// Keeps one outgoing message.
    async fn insert_mail_message(&mut self, message: &MailMessage) -> Result<(), StoreError>;
    /// Newest first; optionally only those sent to `to` (case-insensitive).
    async fn list_mail_messages(
        &mut self,
        instance: &InstanceId,
        to: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MailMessage>, StoreError>;

    // ---- instance invitations --------------------------------------------------------------

    /// Inserts an instance invitation.
    async fn insert_instance_invitation(
        &mut self,
        invitation: &Invitation,
    ) -> Result<(), StoreError>;
    /// The instance invitation with this id.
    async fn get_instance_invitation(
        &mut self,
        instance: &InstanceId,
        id: &InvitationId,
    ) -> Result<Invitation, StoreError>;
    /// Replaces status, public metadata and updated_at.
    async fn update_instance_invitation(
        &mut self,
        invitation: &Invitation,
    ) -> Result<(), StoreError>;
    /// Deletes an instance invitation.
    async fn delete_instance_invitation(
        &mut self,
        instance: &InstanceId,
        id: &InvitationId,
    ) -> Result<(), StoreError>;
    /// Instance invitations matching the query, in its order.
    async fn list_instance_invitations(
        &mut self,
        instance: &InstanceId,
        query: &InstanceInvitationQuery,
    ) -> Result<Vec<Invitation>, StoreError>;
    /// How many instance invitations match the query's filters.
    async fn count_instance_invitations(
        &mut self,
        instance: &InstanceId,
        query: &InstanceInvitationQuery,
    ) -> Result<i64, StoreError>;

    // ---- rate limits -----------------------------------------------------------------------

    /// Admits one request of `bucket` under the generic cell rate algorithm, atomically for
    /// every node on the database: with `tat` the bucket's stored theoretical arrival time
    /// (`now` when it has none or it has passed), the request is admitted when
    /// `tat + interval - now <= tolerance`, and the bucket's time becomes `tat + interval`.
    /// Returns `None` when admitted, else the bucket's current time (nothing is written).
    async fn admit_rate_limited(
        &mut self,
        instance: &InstanceId,
        bucket: &str,
        now: Millis,
        interval: Millis,
        tolerance: Millis,
    ) -> Result<Option<Millis>, StoreError>;
    /// Deletes the instance's buckets whose time has passed (they admit like absent ones);
    /// returns how many.
    async fn purge_rate_limits(
        &mut self,
        instance: &InstanceId,
        now: Millis,
    ) -> Result<u64, StoreError>;
}
