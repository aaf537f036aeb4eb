//! Query parameters for list methods, in domain terms (no SQL here).

use concierge_core::{ClientId, Millis, OrganizationId, SessionStatus, UserId};

/// Fields users can be ordered by (`order_by` in wire §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserOrderField {
    /// Creation time (the default, newest first).
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Primary email address.
    EmailAddress,
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Username.
    Username,
    /// Last activity.
    LastActiveAt,
    /// Last sign-in.
    LastSignInAt,
    /// Phone number (no phone numbers are stored; falls back to creation time).
    PhoneNumber,
    /// Web3 wallet (none are stored; falls back to creation time).
    Web3Wallet,
}

/// Filters, order and page of a user list. Within one list filter values are OR-ed;
/// different filters are AND-ed. An empty list means "no filter".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    /// Match any of these email addresses (lowercased).
    pub email_addresses: Vec<String>,
    /// Match any of these phone numbers (none are stored, so a non-empty list matches nobody).
    pub phone_numbers: Vec<String>,
    /// Match any of these web3 wallets (none are stored, so a non-empty list matches nobody).
    pub web3_wallets: Vec<String>,
    /// Match any of these usernames (lowercased).
    pub usernames: Vec<String>,
    /// Match any of these ids.
    pub user_ids: Vec<UserId>,
    /// Match any of these external ids.
    pub external_ids: Vec<String>,
    /// Members of any of these organizations.
    pub organization_ids: Vec<String>,
    /// Case-insensitive substring of id, external id, username, names or any email address.
    pub query: Option<String>,
    /// Created strictly before.
    pub created_at_before: Option<Millis>,
    /// Created strictly after.
    pub created_at_after: Option<Millis>,
    /// Last active strictly before.
    pub last_active_at_before: Option<Millis>,
    /// Last active strictly after.
    pub last_active_at_after: Option<Millis>,
    /// Last signed in strictly before.
    pub last_sign_in_at_before: Option<Millis>,
    /// Last signed in strictly after.
    pub last_sign_in_at_after: Option<Millis>,
    /// Sort field.
    pub order_by: UserOrderField,
    /// Descending when true (`-field`), ascending when false (`+field`).
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

impl Default for UserQuery {
    fn default() -> Self {
        Self {
            email_addresses: Vec::new(),
            phone_numbers: Vec::new(),
            web3_wallets: Vec::new(),
            usernames: Vec::new(),
            user_ids: Vec::new(),
            external_ids: Vec::new(),
            organization_ids: Vec::new(),
            query: None,
            created_at_before: None,
            created_at_after: None,
            last_active_at_before: None,
            last_active_at_after: None,
            last_sign_in_at_before: None,
            last_sign_in_at_after: None,
            order_by: UserOrderField::CreatedAt,
            descending: true,
            limit: 10,
            offset: 0,
        }
    }
}

/// Filters and page of a session list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionQuery {
    /// Only sessions of this client.
    pub client_id: Option<ClientId>,
    /// Only sessions of this user.
    pub user_id: Option<UserId>,
    /// Only sessions whose *effective* status at `now` is this one: a stored `active` session
    /// with `expire_at <= now` counts as `expired`, one with `abandon_at <= now` as `abandoned`
    /// (see `Session::effective_status`).
    pub status: Option<SessionStatus>,
    /// The time against which `status` is evaluated.
    pub now: Millis,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

impl Default for SessionQuery {
    fn default() -> Self {
        Self {
            client_id: None,
            user_id: None,
            status: None,
            now: 0,
            limit: 10,
            offset: 0,
        }
    }
}

/// Filters and page of an organization list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrganizationQuery {
    /// Case-insensitive substring of the id, name or slug.
    pub query: Option<String>,
    /// Only these organizations (empty: all).
    pub organization_ids: Vec<OrganizationId>,
    /// Only organizations this user created.
    pub created_by: Option<UserId>,
    /// Oldest first when true; newest first (the default) otherwise.
    pub ascending: bool,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// Filters and page of a membership list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MembershipQuery {
    /// Only memberships of this organization.
    pub organization_id: Option<OrganizationId>,
    /// Only memberships of these users (empty: all).
    pub user_ids: Vec<UserId>,
    /// Only these roles (empty: all).
    pub roles: Vec<String>,
    /// Oldest first when true; newest first (the default) otherwise.
    pub ascending: bool,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// Filters and page of an invitation list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvitationQuery {
    /// Only invitations to this organization.
    pub organization_id: Option<OrganizationId>,
    /// Only invitations to these (normalized) addresses.
    pub email_addresses: Vec<String>,
    /// Only these statuses as of `now` (`pending`, `accepted`, `revoked`, `expired`); empty: all.
    pub statuses: Vec<String>,
    /// The time against which `pending` and `expired` are told apart.
    pub now: Millis,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// What an instance-invitation list is sorted by (`order_by`, wire §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvitationOrderField {
    /// Creation time (the default, newest first).
    #[default]
    CreatedAt,
    /// The invited address.
    EmailAddress,
    /// End of validity.
    ExpiresAt,
}

/// Filters, order and page of an instance-invitation list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceInvitationQuery {
    /// Only these statuses as of `now` (`pending`, `accepted`, `revoked`, `expired`); empty: all.
    pub statuses: Vec<String>,
    /// Only invitations to these (normalized) addresses.
    pub email_addresses: Vec<String>,
    /// Case-insensitive substring of the address or the id.
    pub query: Option<String>,
    /// Sort field.
    pub order_by: InvitationOrderField,
    /// Ascending when true; descending (the default) otherwise.
    pub ascending: bool,
    /// The time against which `pending` and `expired` are told apart.
    pub now: Millis,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}
