//! The SQL of every `Tx` method, written once and instantiated for each backend by
//! [`impl_tx!`]. Statements use `$N` placeholders, which both SQLite and PostgreSQL accept, and
//! only portable SQL (no `ILIKE`, no `RETURNING`). Each backend module supplies `map_err`
//! (backend error → [`crate::StoreError`]) and a `conn()` accessor; nothing else differs.

use crate::StoreError;
use crate::{MembershipQuery, SessionQuery};
use concierge_core::{
    Client, ClientId, EmailAddress, InstanceId, OrganizationMembership, Session, SessionId,
    SessionStatus, SigningKeyId, User, UserId,
};
use std::sync::LazyLock;

/// JSON text of a value (metadata, settings, claims).
pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, crate::StoreError> {
    serde_json::to_string(value).map_err(|e| crate::StoreError::Other(format!("json encode: {e}")))
}

/// Parses JSON text read back from a row.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<T, crate::StoreError> {
    serde_json::from_str(text).map_err(|e| crate::StoreError::Other(format!("json decode: {e}")))
}

/// Turns "0 rows affected" into `NotFound`.
pub(crate) fn affected(rows: u64) -> Result<(), crate::StoreError> {
    if rows == 0 {
        Err(crate::StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Portable lowercase `LIKE` pattern for a substring search (`%`, `_` and `\` escaped).
pub(crate) fn like_pattern(needle: &str) -> String {
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub(crate) const INSTANCE_COLUMNS: &str = "id, name, frontend_host, publishable_key, secret_key, allowed_origins, allow_localhost, test_mode, settings, created_at";
pub(crate) const USER_COLUMNS: &str = "u.id, u.instance_id, u.external_id, u.username, u.first_name, u.last_name, u.password_hash, u.public_metadata, u.private_metadata, u.unsafe_metadata, u.primary_email_address_id, u.image_url, u.banned, u.locked, u.locked_until, u.failed_password_attempts, u.last_sign_in_at, u.last_active_at, u.legal_accepted_at, u.create_organization_enabled, u.create_organizations_limit, u.delete_self_enabled, u.locale, u.created_at, u.updated_at";
pub(crate) const EMAIL_COLUMNS: &str = "id, instance_id, user_id, email_address, verified, verification_strategy, created_at, updated_at";
pub(crate) const CLIENT_COLUMNS: &str = "id, instance_id, token_hash, last_active_session_id, sign_in_id, sign_up_id, uat, created_at, updated_at";
pub(crate) const SESSION_COLUMNS: &str = "id, instance_id, client_id, user_id, status, last_active_organization_id, last_active_at, expire_at, abandon_at, azp, created_at, updated_at";
pub(crate) const SESSION_COLUMNS_S: &str = "s.id, s.instance_id, s.client_id, s.user_id, s.status, s.last_active_organization_id, s.last_active_at, s.expire_at, s.abandon_at, s.azp, s.created_at, s.updated_at";
pub(crate) const ORG_COLUMNS: &str = "id, instance_id, name, slug, image_url, public_metadata, private_metadata, max_allowed_memberships, admin_delete_enabled, created_by, role_set_id, (SELECT rs.key FROM role_sets rs WHERE rs.id = organizations.role_set_id) AS role_set_key, created_at, updated_at";
pub(crate) const MEMBERSHIP_COLUMNS: &str = "id, instance_id, organization_id, user_id, role, public_metadata, private_metadata, created_at, updated_at";
pub(crate) const TEMPLATE_COLUMNS: &str = "id, instance_id, name, claims, lifetime, allowed_clock_skew, custom_signing_key, signing_algorithm, signing_key, created_at, updated_at";

/// The point reads on the hot request paths (a user with its addresses for `GET /v1/users/{id}`,
/// a client by its cookie and a session's token context for every token), shared by the sqlx
/// statements below and the SQLite backend's synchronous reader (`sqlite/fast.rs`).
pub(crate) static USER_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {USER_COLUMNS} FROM users u WHERE u.instance_id = $1 AND u.id = $2")
});
pub(crate) static USER_WITH_EMAILS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {USER_COLUMNS}, e.id AS e_id, e.email_address AS e_email_address, e.verified AS e_verified, \
         e.verification_strategy AS e_verification_strategy, e.created_at AS e_created_at, e.updated_at AS e_updated_at \
         FROM users u LEFT JOIN email_addresses e ON e.instance_id = u.instance_id AND e.user_id = u.id \
         WHERE u.instance_id = $1 AND u.id = $2 ORDER BY e.created_at, e.id"
    )
});
pub(crate) static CLIENT_BY_TOKEN_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE instance_id = $1 AND token_hash = $2")
});
/// The session, its user's ban, the current signing key, and `extra` columns.
fn token_context_sql(extra: &str) -> String {
    format!(
        "SELECT {SESSION_COLUMNS_S}, u.banned AS user_banned, \
         (SELECT k.id FROM signing_keys k WHERE k.instance_id = s.instance_id AND k.retired_at IS NULL \
          ORDER BY k.created_at DESC, k.id DESC LIMIT 1) AS current_kid{extra} \
         FROM sessions s JOIN users u ON u.instance_id = s.instance_id AND u.id = s.user_id \
         WHERE s.instance_id = $1 AND s.id = $2"
    )
}
pub(crate) static TOKEN_CONTEXT_SQL: LazyLock<String> = LazyLock::new(|| token_context_sql(""));
/// [`TOKEN_CONTEXT_SQL`] plus the cookie token hash of the session's client.
pub(crate) static BROWSER_TOKEN_CONTEXT_SQL: LazyLock<String> = LazyLock::new(|| {
    token_context_sql(
        ", (SELECT c.token_hash FROM clients c WHERE c.instance_id = s.instance_id AND c.id = s.client_id) \
         AS client_token_hash",
    )
});

/// The reads of a browser's client as the Frontend API returns it (every `GET /v1/client`, every
/// sign-in and sign-up answer): the client by id, an address for a sign-in identifier, the
/// client's active sessions and one user's memberships. The last two are the list statements
/// `list_sessions` and `list_memberships` build for exactly those filters, written out
/// (`tests` in the conformance suite hold the two to the same rows).
pub(crate) static CLIENT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE instance_id = $1 AND id = $2")
});
pub(crate) static EMAIL_BY_ADDRESS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {EMAIL_COLUMNS} FROM email_addresses WHERE instance_id = $1 AND email_address = $2"
    )
});
pub(crate) static ACTIVE_CLIENT_SESSIONS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE instance_id = $1 AND client_id = $2 \
         AND status = 'active' AND expire_at > $3 AND abandon_at > $4 \
         ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6"
    )
});
fn user_memberships_sql(order: &str) -> String {
    format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM organization_memberships WHERE instance_id = $1 \
         AND user_id IN ($2) ORDER BY created_at {order}, id {order} LIMIT $3 OFFSET $4"
    )
}
pub(crate) static USER_MEMBERSHIPS_ASC_SQL: LazyLock<String> =
    LazyLock::new(|| user_memberships_sql("ASC"));
pub(crate) static USER_MEMBERSHIPS_DESC_SQL: LazyLock<String> =
    LazyLock::new(|| user_memberships_sql("DESC"));

/// Whether `list_sessions` with `query` is [`ACTIVE_CLIENT_SESSIONS_SQL`]: the client's
/// active sessions. Every field is named, so that a new filter cannot be skipped here unseen.
pub(crate) fn is_active_client_sessions(query: &SessionQuery) -> Option<&ClientId> {
    match query {
        SessionQuery {
            client_id: Some(client),
            user_id: None,
            status: Some(SessionStatus::Active),
            now: _,
            limit: _,
            offset: _,
        } => Some(client),
        _ => None,
    }
}

/// Whether `list_memberships` with `query` is one of the `USER_MEMBERSHIPS_*_SQL`: one user's
/// memberships. Every field is named, as above.
pub(crate) fn is_user_memberships(query: &MembershipQuery) -> Option<&UserId> {
    match query {
        MembershipQuery {
            organization_id: None,
            user_ids,
            roles,
            ascending: _,
            limit: _,
            offset: _,
        } if roles.is_empty() && user_ids.len() == 1 => user_ids.first(),
        _ => None,
    }
}

/// The point reads a backend may answer synchronously instead of through its async driver:
/// `None` means "not here, run the statement". The SQLite backend answers them on plain read
/// connections from its rusqlite reader pool (sqlx-sqlite would hand every statement to a
/// connection thread and back); PostgreSQL never does.
pub(crate) trait FastReads {
    fn fast_user(&mut self, _: &InstanceId, _: &UserId) -> Option<Result<User, StoreError>> {
        None
    }
    fn fast_user_with_email_addresses(
        &mut self,
        _: &InstanceId,
        _: &UserId,
    ) -> Option<Result<(User, Vec<EmailAddress>), StoreError>> {
        None
    }
    fn fast_client_by_token_hash(
        &mut self,
        _: &InstanceId,
        _: &[u8],
    ) -> Option<Result<Option<Client>, StoreError>> {
        None
    }
    #[allow(clippy::type_complexity)]
    fn fast_session_token_context(
        &mut self,
        _: &InstanceId,
        _: &SessionId,
    ) -> Option<Result<(Session, bool, Option<SigningKeyId>), StoreError>> {
        None
    }
    fn fast_browser_token_context(
        &mut self,
        _: &InstanceId,
        _: &SessionId,
    ) -> Option<Result<crate::BrowserTokenContext, StoreError>> {
        None
    }
    fn fast_client(&mut self, _: &InstanceId, _: &ClientId) -> Option<Result<Client, StoreError>> {
        None
    }
    fn fast_email_by_address(
        &mut self,
        _: &InstanceId,
        _: &str,
    ) -> Option<Result<Option<EmailAddress>, StoreError>> {
        None
    }
    fn fast_active_client_sessions(
        &mut self,
        _: &InstanceId,
        _: &SessionQuery,
    ) -> Option<Result<Vec<Session>, StoreError>> {
        None
    }
    fn fast_user_memberships(
        &mut self,
        _: &InstanceId,
        _: &MembershipQuery,
    ) -> Option<Result<Vec<OrganizationMembership>, StoreError>> {
        None
    }
}

/// Row mappers written once against a `col(row, name)` function and a `DbRow` type that the
/// invoking module defines (sqlx rows in [`impl_tx!`], rusqlite rows in `sqlite/fast.rs`).
macro_rules! row_mappers {
    () => {
        fn user_row(row: &DbRow) -> Result<User, StoreError> {
            Ok(User {
                id: UserId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                external_id: col(row, "external_id")?,
                username: col(row, "username")?,
                first_name: col(row, "first_name")?,
                last_name: col(row, "last_name")?,
                password_hash: col::<Option<String>>(row, "password_hash")?.map(PasswordHash),
                public_metadata: from_json(&col::<String>(row, "public_metadata")?)?,
                private_metadata: from_json(&col::<String>(row, "private_metadata")?)?,
                unsafe_metadata: from_json(&col::<String>(row, "unsafe_metadata")?)?,
                primary_email_address_id: col::<Option<String>>(row, "primary_email_address_id")?
                    .map(EmailAddressId::from_trusted),
                image_url: col(row, "image_url")?,
                banned: col(row, "banned")?,
                locked: col(row, "locked")?,
                locked_until: col(row, "locked_until")?,
                failed_password_attempts: col(row, "failed_password_attempts")?,
                last_sign_in_at: col(row, "last_sign_in_at")?,
                last_active_at: col(row, "last_active_at")?,
                legal_accepted_at: col(row, "legal_accepted_at")?,
                create_organization_enabled: col(row, "create_organization_enabled")?,
                create_organizations_limit: col(row, "create_organizations_limit")?,
                delete_self_enabled: col(row, "delete_self_enabled")?,
                locale: col(row, "locale")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        /// The address on a row of [`USER_WITH_EMAILS_SQL`](crate::sql::USER_WITH_EMAILS_SQL)
        /// (none for a user without addresses: the LEFT JOIN's NULLs).
        fn joined_email_row(row: &DbRow, user: &User) -> Result<Option<EmailAddress>, StoreError> {
            let Some(email_id) = col::<Option<String>>(row, "e_id")? else {
                return Ok(None);
            };
            Ok(Some(EmailAddress {
                id: EmailAddressId::from_trusted(email_id),
                instance_id: user.instance_id.clone(),
                user_id: user.id.clone(),
                email_address: col(row, "e_email_address")?,
                verified: col(row, "e_verified")?,
                verification_strategy: col(row, "e_verification_strategy")?,
                created_at: col(row, "e_created_at")?,
                updated_at: col(row, "e_updated_at")?,
            }))
        }

        fn client_row(row: &DbRow) -> Result<Client, StoreError> {
            Ok(Client {
                id: ClientId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                token_hash: col(row, "token_hash")?,
                last_active_session_id: col::<Option<String>>(row, "last_active_session_id")?
                    .map(SessionId::from_trusted),
                sign_in_id: col(row, "sign_in_id")?,
                sign_up_id: col(row, "sign_up_id")?,
                uat: col(row, "uat")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn session_row(row: &DbRow) -> Result<Session, StoreError> {
            let status: String = col(row, "status")?;
            Ok(Session {
                id: SessionId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                client_id: ClientId::from_trusted(col(row, "client_id")?),
                user_id: UserId::from_trusted(col(row, "user_id")?),
                status: SessionStatus::parse(&status)
                    .ok_or_else(|| StoreError::Other(format!("unknown session status {status}")))?,
                last_active_organization_id: col(row, "last_active_organization_id")?,
                last_active_at: col(row, "last_active_at")?,
                expire_at: col(row, "expire_at")?,
                abandon_at: col(row, "abandon_at")?,
                azp: col(row, "azp")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn email_row(row: &DbRow) -> Result<EmailAddress, StoreError> {
            Ok(EmailAddress {
                id: EmailAddressId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                user_id: UserId::from_trusted(col(row, "user_id")?),
                email_address: col(row, "email_address")?,
                verified: col(row, "verified")?,
                verification_strategy: col(row, "verification_strategy")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn membership_row(row: &DbRow) -> Result<OrganizationMembership, StoreError> {
            Ok(OrganizationMembership {
                id: OrganizationMembershipId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                organization_id: OrganizationId::from_trusted(col(row, "organization_id")?),
                user_id: UserId::from_trusted(col(row, "user_id")?),
                role: col(row, "role")?,
                public_metadata: from_json(&col::<String>(row, "public_metadata")?)?,
                private_metadata: from_json(&col::<String>(row, "private_metadata")?)?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        /// A row of [`TOKEN_CONTEXT_SQL`](crate::sql::TOKEN_CONTEXT_SQL).
        fn token_context_row(
            row: &DbRow,
        ) -> Result<(Session, bool, Option<SigningKeyId>), StoreError> {
            let kid = col::<Option<String>>(row, "current_kid")?.map(SigningKeyId::from_trusted);
            Ok((session_row(row)?, col(row, "user_banned")?, kid))
        }

        /// A row of [`BROWSER_TOKEN_CONTEXT_SQL`](crate::sql::BROWSER_TOKEN_CONTEXT_SQL).
        fn browser_token_context_row(
            row: &DbRow,
        ) -> Result<$crate::BrowserTokenContext, StoreError> {
            let (session, banned, kid) = token_context_row(row)?;
            Ok($crate::BrowserTokenContext {
                session,
                user_banned: banned,
                current_kid: kid,
                client_token_hash: col(row, "client_token_hash")?,
            })
        }
    };
}
pub(crate) use row_mappers;

/// Implements [`crate::Tx`] for `$tx` over database `$db`; expects `map_err`,
/// `$tx::conn(&mut self)`, `$tx::in_transaction(&self)` and `LOCK_ROW` (what a `SELECT` ends with to lock the rows it reads
/// until the transaction ends) in the invoking module.
macro_rules! impl_tx {
    ($tx:ty, $db:ty) => {
        use $crate::sql::{affected, from_json, like_pattern, to_json, CLIENT_COLUMNS, EMAIL_COLUMNS, INSTANCE_COLUMNS, MEMBERSHIP_COLUMNS, ORG_COLUMNS, SESSION_COLUMNS, TEMPLATE_COLUMNS, USER_COLUMNS};
        use $crate::{InvitationQuery, MembershipQuery, OrganizationQuery, SessionQuery, StoreError, UserOrderField, UserQuery};
        use concierge_core::*;
        use sqlx::{QueryBuilder, Row};

        type DbRow = <$db as sqlx::Database>::Row;

        fn col<'r, T>(row: &'r DbRow, name: &str) -> Result<T, StoreError>
        where
            T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
        {
            row.try_get::<T, _>(name).map_err(map_err)
        }

        $crate::sql::row_mappers!();

        fn instance_row(row: &DbRow) -> Result<Instance, StoreError> {
            Ok(Instance {
                id: InstanceId::from_trusted(col(row, "id")?),
                name: col(row, "name")?,
                frontend_host: col(row, "frontend_host")?,
                publishable_key: col(row, "publishable_key")?,
                secret_key: col(row, "secret_key")?,
                allowed_origins: from_json(&col::<String>(row, "allowed_origins")?)?,
                allow_localhost: col(row, "allow_localhost")?,
                test_mode: col(row, "test_mode")?,
                settings: from_json(&col::<String>(row, "settings")?)?,
                created_at: col(row, "created_at")?,
            })
        }

        fn key_row(row: &DbRow) -> Result<SigningKey, StoreError> {
            Ok(SigningKey {
                id: SigningKeyId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                private_key_der: col(row, "private_key_der")?,
                public_n: col(row, "public_n")?,
                public_e: col(row, "public_e")?,
                created_at: col(row, "created_at")?,
                retired_at: col(row, "retired_at")?,
            })
        }

        fn org_row(row: &DbRow) -> Result<Organization, StoreError> {
            Ok(Organization {
                id: OrganizationId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                name: col(row, "name")?,
                slug: col(row, "slug")?,
                image_url: col(row, "image_url")?,
                public_metadata: from_json(&col::<String>(row, "public_metadata")?)?,
                private_metadata: from_json(&col::<String>(row, "private_metadata")?)?,
                max_allowed_memberships: col(row, "max_allowed_memberships")?,
                admin_delete_enabled: col(row, "admin_delete_enabled")?,
                created_by: col::<Option<String>>(row, "created_by")?.map(UserId::from_trusted),
                role_set_id: col::<Option<String>>(row, "role_set_id")?.map(RoleSetId::from_trusted),
                role_set_key: col(row, "role_set_key")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn role_row(row: &DbRow) -> Result<CustomRole, StoreError> {
            Ok(CustomRole {
                id: RoleId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                key: col(row, "key")?,
                name: col(row, "name")?,
                description: col(row, "description")?,
                permissions: from_json(&col::<String>(row, "permissions")?)?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn invitation_row(row: &DbRow) -> Result<OrganizationInvitation, StoreError> {
            let status: String = col(row, "status")?;
            Ok(OrganizationInvitation {
                id: OrganizationInvitationId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                organization_id: OrganizationId::from_trusted(col(row, "organization_id")?),
                email_address: col(row, "email_address")?,
                role: col(row, "role")?,
                status: InvitationStatus::parse(&status).ok_or_else(|| StoreError::Other(format!("unknown invitation status {status}")))?,
                inviter_user_id: col::<Option<String>>(row, "inviter_user_id")?.map(UserId::from_trusted),
                public_metadata: from_json(&col::<String>(row, "public_metadata")?)?,
                private_metadata: from_json(&col::<String>(row, "private_metadata")?)?,
                redirect_url: col(row, "redirect_url")?,
                expires_at: col(row, "expires_at")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn push_invitation_filters<'a>(qb: &mut QueryBuilder<'a, $db>, query: &'a InvitationQuery) {
            if let Some(org) = &query.organization_id {
                qb.push(" AND organization_id = ");
                qb.push_bind(org.as_str());
            }
            if !query.email_addresses.is_empty() {
                qb.push(" AND email_address IN (");
                let mut list = qb.separated(", ");
                for email in &query.email_addresses {
                    list.push_bind(email.as_str());
                }
                qb.push(")");
            }
            push_invitation_status_filter(qb, &query.statuses, query.now);
        }

        /// `AND (status is one of these as of now)`; `pending` and `expired` are told apart by
        /// `expires_at`. Nothing is added for an empty list.
        fn push_invitation_status_filter<'a>(qb: &mut QueryBuilder<'a, $db>, statuses: &'a [String], now: Millis) {
            if statuses.is_empty() {
                return;
            }
            qb.push(" AND (1 = 0");
            for status in statuses {
                match status.as_str() {
                    "pending" => {
                        qb.push(" OR (status = 'pending' AND expires_at > ");
                        qb.push_bind(now);
                        qb.push(")");
                    }
                    "expired" => {
                        qb.push(" OR (status = 'pending' AND expires_at <= ");
                        qb.push_bind(now);
                        qb.push(")");
                    }
                    "accepted" => { qb.push(" OR status = 'accepted'"); }
                    "revoked" => { qb.push(" OR status = 'revoked'"); }
                    _ => {}
                }
            }
            qb.push(")");
        }

        fn instance_invitation_row(row: &DbRow) -> Result<Invitation, StoreError> {
            let status: String = col(row, "status")?;
            Ok(Invitation {
                id: InvitationId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                email_address: col(row, "email_address")?,
                public_metadata: from_json(&col::<String>(row, "public_metadata")?)?,
                redirect_url: col(row, "redirect_url")?,
                status: InvitationStatus::parse(&status).ok_or_else(|| StoreError::Other(format!("unknown invitation status {status}")))?,
                expires_at: col(row, "expires_at")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn push_instance_invitation_filters<'a>(qb: &mut QueryBuilder<'a, $db>, query: &'a $crate::InstanceInvitationQuery) {
            if !query.email_addresses.is_empty() {
                qb.push(" AND email_address IN (");
                let mut list = qb.separated(", ");
                for email in &query.email_addresses {
                    list.push_bind(email.as_str());
                }
                qb.push(")");
            }
            if let Some(text) = &query.query {
                let pattern = like_pattern(text);
                qb.push(" AND (LOWER(email_address) LIKE ");
                qb.push_bind(pattern.clone());
                qb.push(" ESCAPE '\\' OR LOWER(id) LIKE ");
                qb.push_bind(pattern);
                qb.push(" ESCAPE '\\')");
            }
            push_invitation_status_filter(qb, &query.statuses, query.now);
        }

        fn push_org_filters<'a>(qb: &mut QueryBuilder<'a, $db>, query: &'a OrganizationQuery) {
            if let Some(text) = &query.query {
                let pattern = like_pattern(text);
                qb.push(" AND (LOWER(id) LIKE ");
                qb.push_bind(pattern.clone());
                qb.push(" ESCAPE '\\' OR LOWER(name) LIKE ");
                qb.push_bind(pattern.clone());
                qb.push(" ESCAPE '\\' OR LOWER(slug) LIKE ");
                qb.push_bind(pattern);
                qb.push(" ESCAPE '\\')");
            }
            if let Some(user) = &query.created_by {
                qb.push(" AND created_by = ");
                qb.push_bind(user.as_str());
            }
            if !query.organization_ids.is_empty() {
                qb.push(" AND id IN (");
                let mut list = qb.separated(", ");
                for id in &query.organization_ids {
                    list.push_bind(id.as_str());
                }
                qb.push(")");
            }
        }

        fn push_membership_filters<'a>(qb: &mut QueryBuilder<'a, $db>, query: &'a MembershipQuery) {
            if let Some(org) = &query.organization_id {
                qb.push(" AND organization_id = ");
                qb.push_bind(org.as_str());
            }
            if !query.user_ids.is_empty() {
                qb.push(" AND user_id IN (");
                let mut list = qb.separated(", ");
                for id in &query.user_ids {
                    list.push_bind(id.as_str());
                }
                qb.push(")");
            }
            if !query.roles.is_empty() {
                qb.push(" AND role IN (");
                let mut list = qb.separated(", ");
                for role in &query.roles {
                    list.push_bind(role.as_str());
                }
                qb.push(")");
            }
        }

        fn template_row(row: &DbRow) -> Result<JwtTemplate, StoreError> {
            Ok(JwtTemplate {
                id: JwtTemplateId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                name: col(row, "name")?,
                claims: from_json(&col::<String>(row, "claims")?)?,
                lifetime: col(row, "lifetime")?,
                allowed_clock_skew: col(row, "allowed_clock_skew")?,
                custom_signing_key: col(row, "custom_signing_key")?,
                signing_algorithm: col(row, "signing_algorithm")?,
                signing_key: col(row, "signing_key")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn mail_row(row: &DbRow) -> Result<MailMessage, StoreError> {
            Ok(MailMessage {
                id: MailMessageId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                to: col(row, "to_address")?,
                subject: col(row, "subject")?,
                text: col(row, "text_body")?,
                html: col(row, "html_body")?,
                created_at: col(row, "created_at")?,
            })
        }

        /// Appends the WHERE conditions of a user query (after `WHERE u.instance_id = $1`).
        fn push_user_filters<'a>(qb: &mut QueryBuilder<'a, $db>, query: &'a UserQuery) {
            if !query.email_addresses.is_empty() {
                qb.push(" AND u.id IN (SELECT e.user_id FROM email_addresses e WHERE e.instance_id = u.instance_id AND e.email_address IN (");
                let mut list = qb.separated(", ");
                for email in &query.email_addresses {
                    list.push_bind(email.as_str());
                }
                qb.push("))");
            }
            let in_list = |qb: &mut QueryBuilder<'a, $db>, column: &str, values: Vec<&'a str>| {
                if values.is_empty() {
                    return;
                }
                qb.push(format!(" AND {column} IN ("));
                let mut list = qb.separated(", ");
                for value in values {
                    list.push_bind(value);
                }
                qb.push(")");
            };
            in_list(qb, "u.username", query.usernames.iter().map(String::as_str).collect());
            in_list(qb, "u.id", query.user_ids.iter().map(|id| id.as_str()).collect());
            in_list(qb, "u.external_id", query.external_ids.iter().map(String::as_str).collect());
            if !query.phone_numbers.is_empty() || !query.web3_wallets.is_empty() {
                // Nothing of these kinds is stored, so no user can match.
                qb.push(" AND 1 = 0");
            }
            if !query.organization_ids.is_empty() {
                qb.push(" AND u.id IN (SELECT m.user_id FROM organization_memberships m WHERE m.instance_id = u.instance_id AND m.organization_id IN (");
                let mut list = qb.separated(", ");
                for id in &query.organization_ids {
                    list.push_bind(id.as_str());
                }
                qb.push("))");
            }
            if let Some(needle) = &query.query {
                let pattern = like_pattern(needle);
                qb.push(" AND (");
                for (i, column) in ["u.id", "u.external_id", "u.username", "u.first_name", "u.last_name"].iter().enumerate() {
                    if i > 0 {
                        qb.push(" OR ");
                    }
                    qb.push(format!("LOWER(COALESCE({column}, '')) LIKE "));
                    qb.push_bind(pattern.clone());
                    qb.push(" ESCAPE '\\'");
                }
                qb.push(" OR u.id IN (SELECT e.user_id FROM email_addresses e WHERE e.instance_id = u.instance_id AND e.email_address LIKE ");
                qb.push_bind(pattern);
                qb.push(" ESCAPE '\\'))");
            }
            for (column, op, value) in [
                ("u.created_at", "<", query.created_at_before),
                ("u.created_at", ">", query.created_at_after),
                ("u.last_active_at", "<", query.last_active_at_before),
                ("u.last_active_at", ">", query.last_active_at_after),
                ("u.last_sign_in_at", "<", query.last_sign_in_at_before),
                ("u.last_sign_in_at", ">", query.last_sign_in_at_after),
            ] {
                if let Some(value) = value {
                    qb.push(format!(" AND {column} {op} "));
                    qb.push_bind(value);
                }
            }
        }

        /// The effective-status condition of a session query (see `Session::effective_status`).
        fn push_session_filters<'a>(qb: &mut QueryBuilder<'a, $db>, query: &'a SessionQuery) {
            if let Some(client) = &query.client_id {
                qb.push(" AND client_id = ");
                qb.push_bind(client.as_str());
            }
            if let Some(user) = &query.user_id {
                qb.push(" AND user_id = ");
                qb.push_bind(user.as_str());
            }
            match query.status {
                None => {}
                Some(SessionStatus::Active) => {
                    qb.push(" AND status = 'active' AND expire_at > ");
                    qb.push_bind(query.now);
                    qb.push(" AND abandon_at > ");
                    qb.push_bind(query.now);
                }
                Some(SessionStatus::Expired) => {
                    qb.push(" AND (status = 'expired' OR (status = 'active' AND expire_at <= ");
                    qb.push_bind(query.now);
                    qb.push("))");
                }
                Some(SessionStatus::Abandoned) => {
                    qb.push(" AND (status = 'abandoned' OR (status = 'active' AND expire_at > ");
                    qb.push_bind(query.now);
                    qb.push(" AND abandon_at <= ");
                    qb.push_bind(query.now);
                    qb.push("))");
                }
                Some(other) => {
                    qb.push(" AND status = ");
                    qb.push_bind(other.as_str());
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::Tx for $tx {
            async fn commit(self: Box<Self>) -> Result<(), StoreError> {
                self.finish().await
            }

            async fn insert_instance(&mut self, i: &Instance) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO instances (id, name, frontend_host, publishable_key, secret_key, secret_key_hash, allowed_origins, allow_localhost, test_mode, settings, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                    .bind(i.id.as_str()).bind(&i.name).bind(i.frontend_host.to_ascii_lowercase()).bind(&i.publishable_key)
                    .bind(&i.secret_key).bind(secret_hash(&i.secret_key)).bind(to_json(&i.allowed_origins)?)
                    .bind(i.allow_localhost).bind(i.test_mode).bind(to_json(&i.settings)?).bind(i.created_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_instance(&mut self, id: &InstanceId) -> Result<Instance, StoreError> {
                let row = sqlx::query(&format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = $1"))
                    .bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(instance_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn find_instance_by_name(&mut self, name: &str) -> Result<Option<Instance>, StoreError> {
                let row = sqlx::query(&format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE name = $1"))
                    .bind(name).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(instance_row).transpose()
            }

            async fn find_instance_by_secret_key_hash(&mut self, hash: &[u8]) -> Result<Option<Instance>, StoreError> {
                let row = sqlx::query(&format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE secret_key_hash = $1"))
                    .bind(hash.to_vec()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(instance_row).transpose()
            }

            async fn find_instance_by_frontend_host(&mut self, host: &str) -> Result<Option<Instance>, StoreError> {
                let row = sqlx::query(&format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE frontend_host = $1"))
                    .bind(host.to_ascii_lowercase()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(instance_row).transpose()
            }

            async fn list_instances(&mut self) -> Result<Vec<Instance>, StoreError> {
                let rows = sqlx::query(&format!("SELECT {INSTANCE_COLUMNS} FROM instances ORDER BY created_at, id"))
                    .fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(instance_row).collect()
            }

            async fn update_instance(&mut self, i: &Instance) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE instances SET allowed_origins = $1, allow_localhost = $2, test_mode = $3, settings = $4 WHERE id = $5")
                    .bind(to_json(&i.allowed_origins)?).bind(i.allow_localhost).bind(i.test_mode).bind(to_json(&i.settings)?).bind(i.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn insert_signing_key(&mut self, k: &SigningKey) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO signing_keys (id, instance_id, private_key_der, public_n, public_e, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(k.id.as_str()).bind(k.instance_id.as_str()).bind(k.private_key_der.clone()).bind(&k.public_n)
                    .bind(&k.public_e).bind(k.created_at).bind(k.retired_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn list_signing_keys(&mut self, instance: &InstanceId) -> Result<Vec<SigningKey>, StoreError> {
                let rows = sqlx::query("SELECT id, instance_id, private_key_der, public_n, public_e, created_at, retired_at FROM signing_keys WHERE instance_id = $1 ORDER BY created_at DESC, id DESC")
                    .bind(instance.as_str()).fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(key_row).collect()
            }

            async fn retire_signing_keys(&mut self, instance: &InstanceId, now: Millis) -> Result<(), StoreError> {
                sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE instance_id = $2 AND retired_at IS NULL")
                    .bind(now).bind(instance.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn insert_user(&mut self, u: &User) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO users (id, instance_id, external_id, username, first_name, last_name, password_hash, public_metadata, private_metadata, unsafe_metadata, primary_email_address_id, image_url, banned, locked, locked_until, failed_password_attempts, last_sign_in_at, last_active_at, legal_accepted_at, create_organization_enabled, create_organizations_limit, delete_self_enabled, locale, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)")
                    .bind(u.id.as_str()).bind(u.instance_id.as_str()).bind(&u.external_id).bind(&u.username)
                    .bind(&u.first_name).bind(&u.last_name).bind(u.password_hash.as_ref().map(|h| h.0.clone()))
                    .bind(to_json(&u.public_metadata)?).bind(to_json(&u.private_metadata)?).bind(to_json(&u.unsafe_metadata)?)
                    .bind(u.primary_email_address_id.as_ref().map(|id| id.to_string())).bind(&u.image_url)
                    .bind(u.banned).bind(u.locked).bind(u.locked_until).bind(u.failed_password_attempts)
                    .bind(u.last_sign_in_at).bind(u.last_active_at).bind(u.legal_accepted_at)
                    .bind(u.create_organization_enabled).bind(u.create_organizations_limit).bind(u.delete_self_enabled)
                    .bind(&u.locale).bind(u.created_at).bind(u.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn lock_user(&mut self, instance: &InstanceId, id: &UserId) -> Result<User, StoreError> {
                let row = sqlx::query(&format!("{}{LOCK_ROW}", $crate::sql::USER_SQL.as_str()))
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(user_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn get_user(&mut self, instance: &InstanceId, id: &UserId) -> Result<User, StoreError> {
                if let Some(done) = $crate::sql::FastReads::fast_user(self, instance, id) {
                    return done;
                }
                let row = sqlx::query(&$crate::sql::USER_SQL)
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(user_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn get_user_with_email_addresses(&mut self, instance: &InstanceId, id: &UserId) -> Result<(User, Vec<EmailAddress>), StoreError> {
                if let Some(done) = $crate::sql::FastReads::fast_user_with_email_addresses(self, instance, id) {
                    return done;
                }
                let rows = sqlx::query(&$crate::sql::USER_WITH_EMAILS_SQL)
                    .bind(instance.as_str()).bind(id.as_str()).fetch_all(self.conn().await?).await.map_err(map_err)?;
                let user = rows.first().map(user_row).transpose()?.ok_or(StoreError::NotFound)?;
                let mut emails = Vec::with_capacity(rows.len());
                for row in &rows {
                    emails.extend(joined_email_row(row, &user)?);
                }
                Ok((user, emails))
            }

            async fn update_user(&mut self, u: &User) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE users SET external_id = $1, username = $2, first_name = $3, last_name = $4, password_hash = $5, public_metadata = $6, private_metadata = $7, unsafe_metadata = $8, primary_email_address_id = $9, image_url = $10, banned = $11, locked = $12, locked_until = $13, failed_password_attempts = $14, last_sign_in_at = $15, last_active_at = $16, legal_accepted_at = $17, create_organization_enabled = $18, create_organizations_limit = $19, delete_self_enabled = $20, locale = $21, updated_at = $22 WHERE instance_id = $23 AND id = $24")
                    .bind(&u.external_id).bind(&u.username).bind(&u.first_name).bind(&u.last_name)
                    .bind(u.password_hash.as_ref().map(|h| h.0.clone()))
                    .bind(to_json(&u.public_metadata)?).bind(to_json(&u.private_metadata)?).bind(to_json(&u.unsafe_metadata)?)
                    .bind(u.primary_email_address_id.as_ref().map(|id| id.to_string())).bind(&u.image_url)
                    .bind(u.banned).bind(u.locked).bind(u.locked_until).bind(u.failed_password_attempts)
                    .bind(u.last_sign_in_at).bind(u.last_active_at).bind(u.legal_accepted_at)
                    .bind(u.create_organization_enabled).bind(u.create_organizations_limit).bind(u.delete_self_enabled)
                    .bind(&u.locale).bind(u.updated_at).bind(u.instance_id.as_str()).bind(u.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn delete_user(&mut self, instance: &InstanceId, id: &UserId) -> Result<(), StoreError> {
                // Sessions and email addresses go by foreign-key cascade; clients left without
                // sessions are kept (a browser may sign in again on them).
                let result = sqlx::query("DELETE FROM users WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn list_users(&mut self, instance: &InstanceId, query: &UserQuery) -> Result<Vec<User>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.instance_id = "));
                qb.push_bind(instance.as_str());
                push_user_filters(&mut qb, query);
                let direction = if query.descending { "DESC" } else { "ASC" };
                let order = match query.order_by {
                    UserOrderField::CreatedAt | UserOrderField::PhoneNumber | UserOrderField::Web3Wallet => "u.created_at".to_owned(),
                    UserOrderField::UpdatedAt => "u.updated_at".to_owned(),
                    UserOrderField::FirstName => "LOWER(COALESCE(u.first_name, ''))".to_owned(),
                    UserOrderField::LastName => "LOWER(COALESCE(u.last_name, ''))".to_owned(),
                    UserOrderField::Username => "COALESCE(u.username, '')".to_owned(),
                    UserOrderField::LastActiveAt => "COALESCE(u.last_active_at, 0)".to_owned(),
                    UserOrderField::LastSignInAt => "COALESCE(u.last_sign_in_at, 0)".to_owned(),
                    UserOrderField::EmailAddress => "COALESCE((SELECT e.email_address FROM email_addresses e WHERE e.id = u.primary_email_address_id), '')".to_owned(),
                };
                qb.push(format!(" ORDER BY {order} {direction}, u.id {direction} LIMIT "));
                qb.push_bind(query.limit);
                qb.push(" OFFSET ");
                qb.push_bind(query.offset);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(user_row).collect()
            }

            async fn count_users(&mut self, instance: &InstanceId, query: &UserQuery) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM users u WHERE u.instance_id = ");
                qb.push_bind(instance.as_str());
                push_user_filters(&mut qb, query);
                let row = qb.build().fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }

            async fn insert_email_address(&mut self, e: &EmailAddress) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO email_addresses (id, instance_id, user_id, email_address, verified, verification_strategy, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(e.id.as_str()).bind(e.instance_id.as_str()).bind(e.user_id.as_str()).bind(e.email_address.to_lowercase())
                    .bind(e.verified).bind(&e.verification_strategy).bind(e.created_at).bind(e.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_email_address(&mut self, instance: &InstanceId, id: &EmailAddressId) -> Result<EmailAddress, StoreError> {
                let row = sqlx::query(&format!("SELECT {EMAIL_COLUMNS} FROM email_addresses WHERE instance_id = $1 AND id = $2"))
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(email_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn find_email_address_by_address(&mut self, instance: &InstanceId, address: &str) -> Result<Option<EmailAddress>, StoreError> {
                if let Some(done) = $crate::sql::FastReads::fast_email_by_address(self, instance, address) {
                    return done;
                }
                let row = sqlx::query(&$crate::sql::EMAIL_BY_ADDRESS_SQL)
                    .bind(instance.as_str()).bind(address.to_lowercase()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(email_row).transpose()
            }

            async fn list_email_addresses_for_users(&mut self, instance: &InstanceId, users: &[UserId]) -> Result<Vec<EmailAddress>, StoreError> {
                if users.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {EMAIL_COLUMNS} FROM email_addresses WHERE instance_id = "));
                qb.push_bind(instance.as_str());
                qb.push(" AND user_id IN (");
                let mut list = qb.separated(", ");
                for user in users {
                    list.push_bind(user.as_str());
                }
                qb.push(") ORDER BY created_at, id");
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(email_row).collect()
            }

            async fn update_email_address(&mut self, e: &EmailAddress) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE email_addresses SET verified = $1, verification_strategy = $2, updated_at = $3 WHERE instance_id = $4 AND id = $5")
                    .bind(e.verified).bind(&e.verification_strategy).bind(e.updated_at).bind(e.instance_id.as_str()).bind(e.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn delete_email_address(&mut self, instance: &InstanceId, id: &EmailAddressId) -> Result<(), StoreError> {
                let result = sqlx::query("DELETE FROM email_addresses WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn insert_client(&mut self, c: &Client) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO clients (id, instance_id, token_hash, last_active_session_id, sign_in_id, sign_up_id, uat, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(c.id.as_str()).bind(c.instance_id.as_str()).bind(c.token_hash.clone())
                    .bind(c.last_active_session_id.as_ref().map(|s| s.to_string())).bind(&c.sign_in_id).bind(&c.sign_up_id)
                    .bind(c.uat).bind(c.created_at).bind(c.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_client(&mut self, instance: &InstanceId, id: &ClientId) -> Result<Client, StoreError> {
                if let Some(done) = $crate::sql::FastReads::fast_client(self, instance, id) {
                    return done;
                }
                let sql: std::borrow::Cow<'_, str> = if self.in_transaction() && !LOCK_ROW.is_empty() {
                    format!("{}{LOCK_ROW}", $crate::sql::CLIENT_SQL.as_str()).into()
                } else {
                    $crate::sql::CLIENT_SQL.as_str().into()
                };
                let row = sqlx::query(&sql)
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(client_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn find_client_by_token_hash(&mut self, instance: &InstanceId, hash: &[u8]) -> Result<Option<Client>, StoreError> {
                if let Some(done) = $crate::sql::FastReads::fast_client_by_token_hash(self, instance, hash) {
                    return done;
                }
                // Inside a transaction the client is read to be written back: hold its row.
                let sql: std::borrow::Cow<'_, str> = if self.in_transaction() && !LOCK_ROW.is_empty() {
                    format!("{}{LOCK_ROW}", $crate::sql::CLIENT_BY_TOKEN_SQL.as_str()).into()
                } else {
                    $crate::sql::CLIENT_BY_TOKEN_SQL.as_str().into()
                };
                let row = sqlx::query(&sql)
                    .bind(instance.as_str()).bind(hash.to_vec()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(client_row).transpose()
            }

            async fn update_client(&mut self, c: &Client) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE clients SET token_hash = $1, last_active_session_id = $2, sign_in_id = $3, sign_up_id = $4, uat = $5, updated_at = $6 WHERE instance_id = $7 AND id = $8")
                    .bind(c.token_hash.clone()).bind(c.last_active_session_id.as_ref().map(|s| s.to_string()))
                    .bind(&c.sign_in_id).bind(&c.sign_up_id).bind(c.uat).bind(c.updated_at).bind(c.instance_id.as_str()).bind(c.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn list_clients(&mut self, instance: &InstanceId, limit: i64, offset: i64) -> Result<Vec<Client>, StoreError> {
                let rows = sqlx::query(&format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE instance_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"))
                    .bind(instance.as_str()).bind(limit).bind(offset).fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(client_row).collect()
            }

            async fn admit_rate_limited(&mut self, instance: &InstanceId, bucket: &str, now: Millis, interval: Millis, tolerance: Millis) -> Result<Option<Millis>, StoreError> {
                // One statement, so concurrent nodes serialise on the row: the insert admits a
                // bucket without a row, the update admits only within the tolerance.
                let admitted = sqlx::query(
                    "INSERT INTO rate_limits (instance_id, bucket, tat) VALUES ($1, $2, $3 + $4) \
                     ON CONFLICT (instance_id, bucket) DO UPDATE \
                     SET tat = (CASE WHEN rate_limits.tat > $3 THEN rate_limits.tat ELSE $3 END) + $4 \
                     WHERE (CASE WHEN rate_limits.tat > $3 THEN rate_limits.tat ELSE $3 END) + $4 - $3 <= $5 \
                     RETURNING tat",
                )
                .bind(instance.as_str()).bind(bucket).bind(now).bind(interval).bind(tolerance)
                .fetch_optional(self.conn().await?).await.map_err(map_err)?;
                if admitted.is_some() {
                    return Ok(None);
                }
                let row = sqlx::query("SELECT tat FROM rate_limits WHERE instance_id = $1 AND bucket = $2")
                    .bind(instance.as_str()).bind(bucket).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                Ok(Some(row.as_ref().map(|r| col::<i64>(r, "tat")).transpose()?.unwrap_or(now)))
            }

            async fn purge_rate_limits(&mut self, instance: &InstanceId, now: Millis) -> Result<u64, StoreError> {
                let result = sqlx::query("DELETE FROM rate_limits WHERE instance_id = $1 AND tat < $2")
                    .bind(instance.as_str()).bind(now).execute(self.conn().await?).await.map_err(map_err)?;
                Ok(result.rows_affected())
            }

            async fn count_clients(&mut self, instance: &InstanceId) -> Result<i64, StoreError> {
                let row = sqlx::query("SELECT COUNT(*) AS n FROM clients WHERE instance_id = $1")
                    .bind(instance.as_str()).fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }

            async fn insert_session(&mut self, s: &Session) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO sessions (id, instance_id, client_id, user_id, status, last_active_organization_id, last_active_at, expire_at, abandon_at, azp, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                    .bind(s.id.as_str()).bind(s.instance_id.as_str()).bind(s.client_id.as_str()).bind(s.user_id.as_str())
                    .bind(s.status.as_str()).bind(&s.last_active_organization_id).bind(s.last_active_at).bind(s.expire_at)
                    .bind(s.abandon_at).bind(&s.azp).bind(s.created_at).bind(s.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_session(&mut self, instance: &InstanceId, id: &SessionId) -> Result<Session, StoreError> {
                let row = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE instance_id = $1 AND id = $2"))
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(session_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn get_session_token_context(&mut self, instance: &InstanceId, id: &SessionId) -> Result<(Session, bool, Option<SigningKeyId>), StoreError> {
                if let Some(done) = $crate::sql::FastReads::fast_session_token_context(self, instance, id) {
                    return done;
                }
                let row = sqlx::query(&$crate::sql::TOKEN_CONTEXT_SQL)
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                token_context_row(&row.ok_or(StoreError::NotFound)?)
            }

            async fn get_browser_token_context(&mut self, instance: &InstanceId, id: &SessionId) -> Result<$crate::BrowserTokenContext, StoreError> {
                if let Some(done) = $crate::sql::FastReads::fast_browser_token_context(self, instance, id) {
                    return done;
                }
                let row = sqlx::query(&$crate::sql::BROWSER_TOKEN_CONTEXT_SQL)
                    .bind(instance.as_str()).bind(id.as_str())
                    .fetch_optional(self.conn().await?).await.map_err(map_err)?;
                browser_token_context_row(&row.ok_or(StoreError::NotFound)?)
            }

            async fn update_session(&mut self, s: &Session) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE sessions SET status = CASE WHEN status = 'active' THEN $1 ELSE status END, last_active_organization_id = $2, last_active_at = $3, expire_at = $4, abandon_at = $5, azp = $6, updated_at = $7 WHERE instance_id = $8 AND id = $9")
                    .bind(s.status.as_str()).bind(&s.last_active_organization_id).bind(s.last_active_at).bind(s.expire_at)
                    .bind(s.abandon_at).bind(&s.azp).bind(s.updated_at).bind(s.instance_id.as_str()).bind(s.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn list_sessions(&mut self, instance: &InstanceId, query: &SessionQuery) -> Result<Vec<Session>, StoreError> {
                if let Some(done) = $crate::sql::FastReads::fast_active_client_sessions(self, instance, query) {
                    return done;
                }
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE instance_id = "));
                qb.push_bind(instance.as_str());
                push_session_filters(&mut qb, query);
                qb.push(" ORDER BY created_at DESC, id DESC LIMIT ");
                qb.push_bind(query.limit);
                qb.push(" OFFSET ");
                qb.push_bind(query.offset);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(session_row).collect()
            }

            async fn count_sessions(&mut self, instance: &InstanceId, query: &SessionQuery) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM sessions WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_session_filters(&mut qb, query);
                let row = qb.build().fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }

            async fn end_user_sessions(&mut self, instance: &InstanceId, user: &UserId, status: SessionStatus, keep: Option<&SessionId>, now: Millis) -> Result<Vec<SessionId>, StoreError> {
                let keep = keep.map(|k| k.as_str()).unwrap_or("");
                let rows = sqlx::query("SELECT id FROM sessions WHERE instance_id = $1 AND user_id = $2 AND status = 'active' AND id <> $3")
                    .bind(instance.as_str()).bind(user.as_str()).bind(keep).fetch_all(self.conn().await?).await.map_err(map_err)?;
                let ids = rows.iter().map(|r| col::<String>(r, "id").map(SessionId::from_trusted)).collect::<Result<Vec<_>, _>>()?;
                sqlx::query("UPDATE sessions SET status = $1, updated_at = $2 WHERE instance_id = $3 AND user_id = $4 AND status = 'active' AND id <> $5")
                    .bind(status.as_str()).bind(now).bind(instance.as_str()).bind(user.as_str()).bind(keep)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(ids)
            }

            async fn insert_jwt_template(&mut self, t: &JwtTemplate) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO jwt_templates (id, instance_id, name, claims, lifetime, allowed_clock_skew, custom_signing_key, signing_algorithm, signing_key, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                    .bind(t.id.as_str()).bind(t.instance_id.as_str()).bind(&t.name).bind(to_json(&t.claims)?)
                    .bind(t.lifetime).bind(t.allowed_clock_skew).bind(t.custom_signing_key).bind(&t.signing_algorithm)
                    .bind(&t.signing_key).bind(t.created_at).bind(t.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_jwt_template(&mut self, instance: &InstanceId, id: &JwtTemplateId) -> Result<JwtTemplate, StoreError> {
                let row = sqlx::query(&format!("SELECT {TEMPLATE_COLUMNS} FROM jwt_templates WHERE instance_id = $1 AND id = $2"))
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(template_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn find_jwt_template_by_name(&mut self, instance: &InstanceId, name: &str) -> Result<Option<JwtTemplate>, StoreError> {
                let row = sqlx::query(&format!("SELECT {TEMPLATE_COLUMNS} FROM jwt_templates WHERE instance_id = $1 AND name = $2"))
                    .bind(instance.as_str()).bind(name).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(template_row).transpose()
            }

            async fn list_jwt_templates(&mut self, instance: &InstanceId, limit: i64, offset: i64) -> Result<Vec<JwtTemplate>, StoreError> {
                let rows = sqlx::query(&format!("SELECT {TEMPLATE_COLUMNS} FROM jwt_templates WHERE instance_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3"))
                    .bind(instance.as_str()).bind(limit).bind(offset).fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(template_row).collect()
            }

            async fn count_jwt_templates(&mut self, instance: &InstanceId) -> Result<i64, StoreError> {
                let row = sqlx::query("SELECT COUNT(*) AS n FROM jwt_templates WHERE instance_id = $1")
                    .bind(instance.as_str()).fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }

            async fn update_jwt_template(&mut self, t: &JwtTemplate) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE jwt_templates SET name = $1, claims = $2, lifetime = $3, allowed_clock_skew = $4, custom_signing_key = $5, signing_algorithm = $6, signing_key = $7, updated_at = $8 WHERE instance_id = $9 AND id = $10")
                    .bind(&t.name).bind(to_json(&t.claims)?).bind(t.lifetime).bind(t.allowed_clock_skew).bind(t.custom_signing_key)
                    .bind(&t.signing_algorithm).bind(&t.signing_key).bind(t.updated_at).bind(t.instance_id.as_str()).bind(t.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn delete_jwt_template(&mut self, instance: &InstanceId, id: &JwtTemplateId) -> Result<(), StoreError> {
                let result = sqlx::query("DELETE FROM jwt_templates WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn insert_sign_up(&mut self, s: &SignUp) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO sign_ups (id, instance_id, client_id, document, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(s.id.as_str()).bind(s.instance_id.as_str()).bind(s.client_id.as_str()).bind(to_json(s)?).bind(s.created_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_sign_up(&mut self, instance: &InstanceId, id: &SignUpId) -> Result<SignUp, StoreError> {
                let row = sqlx::query("SELECT document FROM sign_ups WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                let row = row.ok_or(StoreError::NotFound)?;
                from_json(&col::<String>(&row, "document")?)
            }

            async fn update_sign_up(&mut self, s: &SignUp) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE sign_ups SET document = $1 WHERE instance_id = $2 AND id = $3")
                    .bind(to_json(s)?).bind(s.instance_id.as_str()).bind(s.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn insert_sign_in(&mut self, s: &SignIn) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO sign_ins (id, instance_id, client_id, document, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(s.id.as_str()).bind(s.instance_id.as_str()).bind(s.client_id.as_str()).bind(to_json(s)?).bind(s.created_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_sign_in(&mut self, instance: &InstanceId, id: &SignInId) -> Result<SignIn, StoreError> {
                let row = sqlx::query("SELECT document FROM sign_ins WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                let row = row.ok_or(StoreError::NotFound)?;
                from_json(&col::<String>(&row, "document")?)
            }

            async fn update_sign_in(&mut self, s: &SignIn) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE sign_ins SET document = $1 WHERE instance_id = $2 AND id = $3")
                    .bind(to_json(s)?).bind(s.instance_id.as_str()).bind(s.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn put_verification(&mut self, instance: &InstanceId, target: &str, v: &Verification) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO verifications (instance_id, target_id, document) VALUES ($1, $2, $3) ON CONFLICT (instance_id, target_id) DO UPDATE SET document = excluded.document")
                    .bind(instance.as_str()).bind(target).bind(to_json(v)?)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_verification(&mut self, instance: &InstanceId, target: &str) -> Result<Option<Verification>, StoreError> {
                let row = sqlx::query("SELECT document FROM verifications WHERE instance_id = $1 AND target_id = $2")
                    .bind(instance.as_str()).bind(target).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.map(|row| from_json(&col::<String>(&row, "document")?)).transpose()
            }

            async fn delete_verification(&mut self, instance: &InstanceId, target: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM verifications WHERE instance_id = $1 AND target_id = $2")
                    .bind(instance.as_str()).bind(target).execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn insert_handshake_nonce(&mut self, instance: &InstanceId, nonce_hash: &[u8], directives: &[String], expire_at: Millis) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO handshake_nonces (nonce_hash, instance_id, directives, expire_at) VALUES ($1, $2, $3, $4)")
                    .bind(nonce_hash.to_vec()).bind(instance.as_str()).bind(to_json(&directives)?).bind(expire_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn take_handshake_nonce(&mut self, instance: &InstanceId, nonce_hash: &[u8], now: Millis) -> Result<Option<Vec<String>>, StoreError> {
                let row = sqlx::query("SELECT directives, expire_at FROM handshake_nonces WHERE instance_id = $1 AND nonce_hash = $2")
                    .bind(instance.as_str()).bind(nonce_hash.to_vec()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                let Some(row) = row else { return Ok(None) };
                let directives: String = col(&row, "directives")?;
                let expire_at: Millis = col(&row, "expire_at")?;
                // Single use: only the request whose delete removed the row gets the directives.
                let deleted = sqlx::query("DELETE FROM handshake_nonces WHERE instance_id = $1 AND nonce_hash = $2")
                    .bind(instance.as_str()).bind(nonce_hash.to_vec()).execute(self.conn().await?).await.map_err(map_err)?;
                sqlx::query("DELETE FROM handshake_nonces WHERE expire_at <= $1")
                    .bind(now).execute(self.conn().await?).await.map_err(map_err)?;
                if deleted.rows_affected() == 0 || expire_at <= now {
                    return Ok(None);
                }
                Ok(Some(from_json(&directives)?))
            }

            async fn insert_image(&mut self, i: &Image) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO images (id, instance_id, content_type, bytes, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(i.id.as_str()).bind(i.instance_id.as_str()).bind(&i.content_type).bind(i.bytes.clone()).bind(i.created_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_image(&mut self, id: &ImageId) -> Result<Image, StoreError> {
                let row = sqlx::query("SELECT id, instance_id, content_type, bytes, created_at FROM images WHERE id = $1")
                    .bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                let row = row.ok_or(StoreError::NotFound)?;
                Ok(Image {
                    id: ImageId::from_trusted(col(&row, "id")?),
                    instance_id: InstanceId::from_trusted(col(&row, "instance_id")?),
                    content_type: col(&row, "content_type")?,
                    bytes: col(&row, "bytes")?,
                    created_at: col(&row, "created_at")?,
                })
            }

            async fn delete_image(&mut self, instance: &InstanceId, id: &ImageId) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM images WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn insert_organization(&mut self, o: &Organization) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO organizations (id, instance_id, name, slug, image_url, public_metadata, private_metadata, max_allowed_memberships, admin_delete_enabled, created_by, role_set_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
                    .bind(o.id.as_str()).bind(o.instance_id.as_str()).bind(&o.name).bind(&o.slug).bind(&o.image_url)
                    .bind(to_json(&o.public_metadata)?).bind(to_json(&o.private_metadata)?).bind(o.max_allowed_memberships)
                    .bind(o.admin_delete_enabled).bind(o.created_by.as_ref().map(|u| u.to_string()))
                    .bind(o.role_set_id.as_ref().map(|r| r.to_string())).bind(o.created_at).bind(o.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_organization(&mut self, instance: &InstanceId, id: &OrganizationId) -> Result<Organization, StoreError> {
                let row = sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM organizations WHERE instance_id = $1 AND id = $2"))
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(org_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn lock_organization(&mut self, instance: &InstanceId, id: &OrganizationId) -> Result<Organization, StoreError> {
                let row = sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM organizations WHERE instance_id = $1 AND id = $2{LOCK_ROW}"))
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(org_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn find_organization_by_slug(&mut self, instance: &InstanceId, slug: &str) -> Result<Option<Organization>, StoreError> {
                let row = sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM organizations WHERE instance_id = $1 AND slug = $2"))
                    .bind(instance.as_str()).bind(slug).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(org_row).transpose()
            }

            async fn update_organization(&mut self, o: &Organization) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE organizations SET name = $1, slug = $2, image_url = $3, public_metadata = $4, private_metadata = $5, max_allowed_memberships = $6, admin_delete_enabled = $7, role_set_id = $8, updated_at = $9 WHERE instance_id = $10 AND id = $11")
                    .bind(&o.name).bind(&o.slug).bind(&o.image_url).bind(to_json(&o.public_metadata)?).bind(to_json(&o.private_metadata)?)
                    .bind(o.max_allowed_memberships).bind(o.admin_delete_enabled).bind(o.role_set_id.as_ref().map(|r| r.to_string()))
                    .bind(o.updated_at).bind(o.instance_id.as_str()).bind(o.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn delete_organization(&mut self, instance: &InstanceId, id: &OrganizationId) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM organization_memberships WHERE instance_id = $1 AND organization_id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                let result = sqlx::query("DELETE FROM organizations WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn list_organizations(&mut self, instance: &InstanceId, query: &OrganizationQuery) -> Result<Vec<Organization>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {ORG_COLUMNS} FROM organizations WHERE instance_id = "));
                qb.push_bind(instance.as_str());
                push_org_filters(&mut qb, query);
                qb.push(if query.ascending { " ORDER BY created_at ASC, id ASC LIMIT " } else { " ORDER BY created_at DESC, id DESC LIMIT " });
                qb.push_bind(query.limit);
                qb.push(" OFFSET ");
                qb.push_bind(query.offset);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(org_row).collect()
            }

            async fn count_organizations(&mut self, instance: &InstanceId, query: &OrganizationQuery) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM organizations WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_org_filters(&mut qb, query);
                let row = qb.build().fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }

            async fn insert_membership(&mut self, m: &OrganizationMembership) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO organization_memberships (id, instance_id, organization_id, user_id, role, public_metadata, private_metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(m.id.as_str()).bind(m.instance_id.as_str()).bind(m.organization_id.as_str()).bind(m.user_id.as_str())
                    .bind(&m.role).bind(to_json(&m.public_metadata)?).bind(to_json(&m.private_metadata)?).bind(m.created_at).bind(m.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn find_membership(&mut self, instance: &InstanceId, org: &OrganizationId, user: &UserId) -> Result<Option<OrganizationMembership>, StoreError> {
                let row = sqlx::query(&format!("SELECT {MEMBERSHIP_COLUMNS} FROM organization_memberships WHERE instance_id = $1 AND organization_id = $2 AND user_id = $3"))
                    .bind(instance.as_str()).bind(org.as_str()).bind(user.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(membership_row).transpose()
            }

            async fn update_membership(&mut self, m: &OrganizationMembership) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE organization_memberships SET role = $1, public_metadata = $2, private_metadata = $3, updated_at = $4 WHERE instance_id = $5 AND id = $6")
                    .bind(&m.role).bind(to_json(&m.public_metadata)?).bind(to_json(&m.private_metadata)?).bind(m.updated_at)
                    .bind(m.instance_id.as_str()).bind(m.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn delete_membership(&mut self, instance: &InstanceId, org: &OrganizationId, user: &UserId) -> Result<(), StoreError> {
                let result = sqlx::query("DELETE FROM organization_memberships WHERE instance_id = $1 AND organization_id = $2 AND user_id = $3")
                    .bind(instance.as_str()).bind(org.as_str()).bind(user.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn list_memberships(&mut self, instance: &InstanceId, query: &MembershipQuery) -> Result<Vec<OrganizationMembership>, StoreError> {
                if let Some(done) = $crate::sql::FastReads::fast_user_memberships(self, instance, query) {
                    return done;
                }
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {MEMBERSHIP_COLUMNS} FROM organization_memberships WHERE instance_id = "));
                qb.push_bind(instance.as_str());
                push_membership_filters(&mut qb, query);
                qb.push(if query.ascending { " ORDER BY created_at ASC, id ASC LIMIT " } else { " ORDER BY created_at DESC, id DESC LIMIT " });
                qb.push_bind(query.limit);
                qb.push(" OFFSET ");
                qb.push_bind(query.offset);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(membership_row).collect()
            }

            async fn count_memberships(&mut self, instance: &InstanceId, query: &MembershipQuery) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM organization_memberships WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_membership_filters(&mut qb, query);
                let row = qb.build().fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }

            async fn insert_permission(&mut self, p: &Permission) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO organization_permissions (id, instance_id, key, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(p.id.as_str()).bind(p.instance_id.as_str()).bind(&p.key).bind(&p.name).bind(&p.description)
                    .bind(p.created_at).bind(p.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn list_permissions(&mut self, instance: &InstanceId) -> Result<Vec<Permission>, StoreError> {
                let rows = sqlx::query("SELECT id, instance_id, key, name, description, created_at, updated_at FROM organization_permissions WHERE instance_id = $1 ORDER BY created_at, id")
                    .bind(instance.as_str()).fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(|row| Ok(Permission {
                    id: PermissionId::from_trusted(col(row, "id")?),
                    instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                    key: col(row, "key")?,
                    name: col(row, "name")?,
                    description: col(row, "description")?,
                    created_at: col(row, "created_at")?,
                    updated_at: col(row, "updated_at")?,
                })).collect()
            }

            async fn update_permission(&mut self, p: &Permission) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE organization_permissions SET name = $1, description = $2, updated_at = $3 WHERE instance_id = $4 AND id = $5")
                    .bind(&p.name).bind(&p.description).bind(p.updated_at).bind(p.instance_id.as_str()).bind(p.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn delete_permission(&mut self, instance: &InstanceId, id: &PermissionId) -> Result<(), StoreError> {
                let result = sqlx::query("DELETE FROM organization_permissions WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn insert_role(&mut self, r: &CustomRole) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO organization_roles (id, instance_id, key, name, description, permissions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(r.id.as_str()).bind(r.instance_id.as_str()).bind(&r.key).bind(&r.name).bind(&r.description)
                    .bind(to_json(&r.permissions)?).bind(r.created_at).bind(r.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn list_roles(&mut self, instance: &InstanceId) -> Result<Vec<CustomRole>, StoreError> {
                let rows = sqlx::query("SELECT id, instance_id, key, name, description, permissions, created_at, updated_at FROM organization_roles WHERE instance_id = $1 ORDER BY created_at, id")
                    .bind(instance.as_str()).fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(role_row).collect()
            }

            async fn find_role_by_key(&mut self, instance: &InstanceId, key: &str) -> Result<Option<CustomRole>, StoreError> {
                let row = sqlx::query("SELECT id, instance_id, key, name, description, permissions, created_at, updated_at FROM organization_roles WHERE instance_id = $1 AND key = $2")
                    .bind(instance.as_str()).bind(key).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(role_row).transpose()
            }

            async fn update_role(&mut self, r: &CustomRole) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE organization_roles SET name = $1, description = $2, permissions = $3, updated_at = $4 WHERE instance_id = $5 AND id = $6")
                    .bind(&r.name).bind(&r.description).bind(to_json(&r.permissions)?).bind(r.updated_at)
                    .bind(r.instance_id.as_str()).bind(r.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn delete_role(&mut self, instance: &InstanceId, id: &RoleId) -> Result<(), StoreError> {
                let result = sqlx::query("DELETE FROM organization_roles WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn insert_invitation(&mut self, i: &OrganizationInvitation) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO organization_invitations (id, instance_id, organization_id, email_address, role, status, inviter_user_id, public_metadata, private_metadata, redirect_url, expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
                    .bind(i.id.as_str()).bind(i.instance_id.as_str()).bind(i.organization_id.as_str()).bind(&i.email_address)
                    .bind(&i.role).bind(i.status.as_str()).bind(i.inviter_user_id.as_ref().map(|u| u.to_string()))
                    .bind(to_json(&i.public_metadata)?).bind(to_json(&i.private_metadata)?).bind(&i.redirect_url)
                    .bind(i.expires_at).bind(i.created_at).bind(i.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_invitation(&mut self, instance: &InstanceId, id: &OrganizationInvitationId) -> Result<OrganizationInvitation, StoreError> {
                let row = sqlx::query("SELECT * FROM organization_invitations WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(invitation_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn update_invitation(&mut self, i: &OrganizationInvitation) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE organization_invitations SET status = $1, public_metadata = $2, private_metadata = $3, updated_at = $4 WHERE instance_id = $5 AND id = $6")
                    .bind(i.status.as_str()).bind(to_json(&i.public_metadata)?).bind(to_json(&i.private_metadata)?).bind(i.updated_at)
                    .bind(i.instance_id.as_str()).bind(i.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn list_invitations(&mut self, instance: &InstanceId, query: &InvitationQuery) -> Result<Vec<OrganizationInvitation>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT * FROM organization_invitations WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_invitation_filters(&mut qb, query);
                qb.push(" ORDER BY created_at DESC, id DESC LIMIT ");
                qb.push_bind(query.limit);
                qb.push(" OFFSET ");
                qb.push_bind(query.offset);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(invitation_row).collect()
            }

            async fn count_invitations(&mut self, instance: &InstanceId, query: &InvitationQuery) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM organization_invitations WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_invitation_filters(&mut qb, query);
                let row = qb.build().fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }

            async fn organization_counts(&mut self, instance: &InstanceId, organizations: &[OrganizationId], now: Millis) -> Result<Vec<(OrganizationId, i64, i64)>, StoreError> {
                if organizations.is_empty() {
                    return Ok(Vec::new());
                }
                let pending = ["pending".to_owned()];
                let mut qb = QueryBuilder::<$db>::new("SELECT o.id AS id, \
                    (SELECT COUNT(*) FROM organization_memberships m WHERE m.instance_id = o.instance_id AND m.organization_id = o.id) AS members, \
                    (SELECT COUNT(*) FROM organization_invitations i WHERE i.instance_id = o.instance_id AND i.organization_id = o.id");
                // The same definition of `pending` as the invitation lists and counts.
                push_invitation_status_filter(&mut qb, &pending, now);
                qb.push(") AS pending FROM organizations o WHERE o.instance_id = ");
                qb.push_bind(instance.as_str());
                qb.push(" AND o.id IN (");
                let mut list = qb.separated(", ");
                for id in organizations {
                    list.push_bind(id.as_str());
                }
                qb.push(")");
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter()
                    .map(|row| Ok((OrganizationId::from_trusted(col(row, "id")?), col(row, "members")?, col(row, "pending")?)))
                    .collect()
            }

            async fn insert_mail_message(&mut self, m: &MailMessage) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO mail_messages (id, instance_id, to_address, subject, text_body, html_body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(m.id.as_str()).bind(m.instance_id.as_str()).bind(&m.to).bind(&m.subject).bind(&m.text).bind(&m.html).bind(m.created_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn list_mail_messages(&mut self, instance: &InstanceId, to: Option<&str>, limit: i64) -> Result<Vec<MailMessage>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT id, instance_id, to_address, subject, text_body, html_body, created_at FROM mail_messages WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                if let Some(to) = to {
                    qb.push(" AND LOWER(to_address) = ");
                    qb.push_bind(to.to_lowercase());
                }
                qb.push(" ORDER BY created_at DESC, id DESC LIMIT ");
                qb.push_bind(limit);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(mail_row).collect()
            }

            async fn insert_instance_invitation(&mut self, i: &Invitation) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO invitations (id, instance_id, email_address, public_metadata, redirect_url, status, expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(i.id.as_str()).bind(i.instance_id.as_str()).bind(&i.email_address)
                    .bind(to_json(&i.public_metadata)?).bind(&i.redirect_url).bind(i.status.as_str())
                    .bind(i.expires_at).bind(i.created_at).bind(i.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_instance_invitation(&mut self, instance: &InstanceId, id: &InvitationId) -> Result<Invitation, StoreError> {
                let row = sqlx::query("SELECT * FROM invitations WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(instance_invitation_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn update_instance_invitation(&mut self, i: &Invitation) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE invitations SET status = $1, public_metadata = $2, updated_at = $3 WHERE instance_id = $4 AND id = $5")
                    .bind(i.status.as_str()).bind(to_json(&i.public_metadata)?).bind(i.updated_at)
                    .bind(i.instance_id.as_str()).bind(i.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn delete_instance_invitation(&mut self, instance: &InstanceId, id: &InvitationId) -> Result<(), StoreError> {
                let result = sqlx::query("DELETE FROM invitations WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn list_instance_invitations(&mut self, instance: &InstanceId, query: &$crate::InstanceInvitationQuery) -> Result<Vec<Invitation>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT * FROM invitations WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_instance_invitation_filters(&mut qb, query);
                let column = match query.order_by {
                    $crate::InvitationOrderField::CreatedAt => "created_at",
                    $crate::InvitationOrderField::EmailAddress => "email_address",
                    $crate::InvitationOrderField::ExpiresAt => "expires_at",
                };
                let direction = if query.ascending { "ASC" } else { "DESC" };
                qb.push(format!(" ORDER BY {column} {direction}, id {direction} LIMIT "));
                qb.push_bind(query.limit);
                qb.push(" OFFSET ");
                qb.push_bind(query.offset);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(instance_invitation_row).collect()
            }

            async fn count_instance_invitations(&mut self, instance: &InstanceId, query: &$crate::InstanceInvitationQuery) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM invitations WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_instance_invitation_filters(&mut qb, query);
                let row = qb.build().fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }
        }
    };
}

pub(crate) use impl_tx;

/// SHA-256 of a secret key, the lookup column for `find_instance_by_secret_key_hash`.
pub(crate) fn secret_hash(secret_key: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(secret_key.as_bytes()).to_vec()
}

/// Maps a backend's unique-violation to the logical constraint names of the trait docs.
pub(crate) fn logical_constraint(index_or_message: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &str, &str)] = &[
        ("instances_name_key", "instances.name", "instance_name"),
        (
            "instances_frontend_host_key",
            "instances.frontend_host",
            "frontend_host",
        ),
        (
            "instances_secret_key_hash_key",
            "instances.secret_key_hash",
            "secret_key",
        ),
        ("users_username_key", "users.username", "username"),
        ("users_external_id_key", "users.external_id", "external_id"),
        (
            "email_addresses_address_key",
            "email_addresses.email_address",
            "email_address",
        ),
        ("organizations_slug_key", "organizations.slug", "slug"),
        (
            "organization_permissions_key_key",
            "organization_permissions.key",
            "key",
        ),
        (
            "organization_roles_key_key",
            "organization_roles.key",
            "key",
        ),
        ("role_sets_key_key", "role_sets.key", "key"),
        // SQLite names only the column of a partial index: keep this after `role_sets.key`.
        ("role_sets_initial_key", "role_sets.instance_id", "type"),
        (
            "organization_memberships_member_key",
            "organization_memberships.organization_id",
            "organization_membership",
        ),
        (
            "organization_domains_name_key",
            "organization_domains.name",
            "organization_domain",
        ),
        (
            "organization_suggestions_user_key",
            "organization_suggestions.organization_id",
            "organization_suggestion",
        ),
        (
            "organization_membership_requests_user_key",
            "organization_membership_requests.organization_id",
            "organization_membership_request",
        ),
        (
            "jwt_templates_name_key",
            "jwt_templates.name",
            "jwt_template_name",
        ),
    ];
    TABLE
        .iter()
        .find(|(index, column, _)| index_or_message == *index || index_or_message.contains(column))
        .map(|(_, _, logical)| *logical)
}
