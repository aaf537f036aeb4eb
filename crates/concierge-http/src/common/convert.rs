//! Domain entities to wire objects (STYLE §2.5). Shared by both APIs so the shapes cannot drift.

use concierge_core::{EmailAddress, JwtTemplate, Millis, Session};
use concierge_service::clients::ClientView;
use concierge_service::organizations::OrganizationCounts;
use concierge_service::UserView;
use concierge_wire::bapi as wire;
use serde_json::Value;

/// Backend API `user` object.
pub fn user(view: &UserView, now: Millis) -> wire::User {
    let user = &view.user;
    let lock_active = user.locked && user.locked_until.is_none_or(|until| until > now);
    wire::User {
        object: "user".into(),
        id: user.id.to_string(),
        external_id: user.external_id.clone(),
        primary_email_address_id: user
            .primary_email_address_id
            .as_ref()
            .map(ToString::to_string),
        primary_phone_number_id: None,
        primary_web3_wallet_id: None,
        username: user.username.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        image_url: user.image_url.clone().unwrap_or_default(),
        has_image: user.image_url.is_some(),
        password_enabled: user.password_hash.is_some(),
        two_factor_enabled: false,
        totp_enabled: false,
        backup_code_enabled: false,
        banned: user.banned,
        locked: lock_active,
        lockout_expires_in_seconds: user
            .locked_until
            .filter(|_| lock_active)
            .map(|until| ((until - now) / 1000).max(0)),
        verification_attempts_remaining: None,
        public_metadata: user.public_metadata.clone(),
        private_metadata: user.private_metadata.clone(),
        unsafe_metadata: user.unsafe_metadata.clone(),
        email_addresses: view.email_addresses.iter().map(email_address).collect(),
        phone_numbers: Vec::new(),
        web3_wallets: Vec::new(),
        passkeys: Vec::new(),
        external_accounts: Vec::new(),
        saml_accounts: Vec::new(),
        enterprise_accounts: Vec::new(),
        last_sign_in_at: user.last_sign_in_at,
        last_active_at: user.last_active_at,
        legal_accepted_at: user.legal_accepted_at,
        delete_self_enabled: user.delete_self_enabled,
        create_organization_enabled: user.create_organization_enabled,
        create_organizations_limit: user.create_organizations_limit,
        locale: user.locale.clone(),
        mfa_enabled_at: None,
        mfa_disabled_at: None,
        created_at: user.created_at,
        updated_at: user.updated_at,
    }
}

/// Backend API `email_address` object.
pub fn email_address(email: &EmailAddress) -> wire::EmailAddress {
    wire::EmailAddress {
        id: email.id.to_string(),
        object: "email_address".into(),
        email_address: email.email_address.clone(),
        reserved: false,
        verification: Some(wire::Verification {
            object: None,
            status: if email.verified {
                "verified"
            } else {
                "unverified"
            }
            .into(),
            strategy: email
                .verification_strategy
                .clone()
                .unwrap_or_else(|| "email_code".into()),
            attempts: None,
            expire_at: None,
        }),
        linked_to: Vec::new(),
        matches_sso_connection: false,
        created_at: email.created_at,
        updated_at: email.updated_at,
    }
}

/// Backend API `session` object, with its status as of `now`.
pub fn session(session: &Session, now: Millis) -> wire::Session {
    wire::Session {
        object: "session".into(),
        id: session.id.to_string(),
        client_id: session.client_id.to_string(),
        user_id: session.user_id.to_string(),
        status: session.effective_status(now).as_str().into(),
        last_active_organization_id: session.last_active_organization_id.clone(),
        actor: None,
        last_active_at: session.last_active_at,
        expire_at: session.expire_at,
        abandon_at: session.abandon_at,
        created_at: session.created_at,
        updated_at: session.updated_at,
    }
}

/// Backend API `client` object.
pub fn client(view: &ClientView, now: Millis) -> wire::Client {
    wire::Client {
        object: "client".into(),
        id: view.client.id.to_string(),
        session_ids: view.sessions.iter().map(|s| s.id.to_string()).collect(),
        sessions: view.sessions.iter().map(|s| session(s, now)).collect(),
        sign_in_id: view.client.sign_in_id.clone(),
        sign_up_id: view.client.sign_up_id.clone(),
        last_active_session_id: view
            .client
            .last_active_session_id
            .as_ref()
            .map(ToString::to_string),
        last_authentication_strategy: None,
        created_at: view.client.created_at,
        updated_at: view.client.updated_at,
    }
}

/// Backend API `jwt_template` object (the custom signing key is never returned).
pub fn jwt_template(template: &JwtTemplate) -> wire::JwtTemplate {
    wire::JwtTemplate {
        object: "jwt_template".into(),
        id: template.id.to_string(),
        name: template.name.clone(),
        claims: template.claims.clone(),
        lifetime: template.lifetime,
        allowed_clock_skew: template.allowed_clock_skew,
        custom_signing_key: template.custom_signing_key,
        signing_algorithm: template.signing_algorithm.clone(),
        created_at: template.created_at,
        updated_at: template.updated_at,
    }
}

/// `{"object": kind, "id": id, "deleted": true}`.
pub fn deleted(kind: &str, id: &str) -> wire::DeletedObject {
    wire::DeletedObject {
        object: kind.into(),
        id: id.into(),
        deleted: true,
    }
}

/// `{"object":"token","jwt":…}`.
pub fn token(jwt: String) -> wire::Token {
    wire::Token {
        object: "token".into(),
        jwt,
    }
}

/// A list answer: `{data, total_count}` when the SDK sent `paginated=true`, a bare array
/// otherwise (wire §8.1).
pub fn list_response<T: serde::Serialize>(
    data: Vec<T>,
    total_count: i64,
    paginated: bool,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if paginated {
        super::ClerkJson(wire::Paginated { data, total_count }).into_response()
    } else {
        super::ClerkJson(data).into_response()
    }
}

/// Metadata or `{}` when null.
pub fn object_or_empty(value: Option<Value>) -> Value {
    value.unwrap_or_else(|| Value::Object(serde_json::Map::new()))
}

/// An organization; the Backend API (`private = true`) also shows private metadata and the creator.
/// The counts are shown when given (always in the Frontend API, on request in the Backend API).
pub fn organization(
    org: &concierge_core::Organization,
    counts: Option<OrganizationCounts>,
    private: bool,
) -> Value {
    let mut value = serde_json::json!({
        "object": "organization", "id": org.id.as_str(), "name": org.name, "slug": org.slug,
        "image_url": org.image_url.clone().unwrap_or_default(), "has_image": org.image_url.is_some(),
        "public_metadata": org.public_metadata,
        "max_allowed_memberships": org.max_allowed_memberships,
        "admin_delete_enabled": org.admin_delete_enabled,
        "self_serve_sso_enabled": false,
        "role_set_key": org.role_set_key,
        "created_at": org.created_at, "updated_at": org.updated_at,
    });
    if let Some(counts) = counts {
        value["members_count"] = serde_json::json!(counts.members);
        value["pending_invitations_count"] = serde_json::json!(counts.pending_invitations);
    }
    if private {
        value["private_metadata"] = org.private_metadata.clone();
        value["created_by"] = serde_json::json!(org.created_by.as_ref().map(|u| u.as_str()));
    }
    value
}

/// What anyone in an organization may see of a user: id, primary identifier, names, image.
pub fn public_user_data(user: &UserView) -> Value {
    let identifier = user
        .email_addresses
        .iter()
        .find(|e| Some(&e.id) == user.user.primary_email_address_id.as_ref())
        .map(|e| e.email_address.clone())
        .or_else(|| user.user.username.clone())
        .unwrap_or_default();
    serde_json::json!({
        "user_id": user.user.id.as_str(), "identifier": identifier,
        "first_name": user.user.first_name, "last_name": user.user.last_name,
        "image_url": user.user.image_url.clone().unwrap_or_default(),
        "has_image": user.user.image_url.is_some(),
    })
}

/// A membership with its organization and the member's public data; the role's full permission
/// list (system permissions included) as the components expect it (wire §2.4, §6.8).
pub fn membership(
    membership: &concierge_core::OrganizationMembership,
    org: &concierge_core::Organization,
    role: &concierge_core::Role,
    user: &UserView,
    counts: Option<OrganizationCounts>,
    private: bool,
) -> Value {
    let mut value = serde_json::json!({
        "object": "organization_membership", "id": membership.id.as_str(),
        "organization": organization(org, counts, private),
        "role": membership.role,
        "role_name": role.name,
        "permissions": role.permissions,
        "public_metadata": membership.public_metadata,
        "public_user_data": public_user_data(user),
        "created_at": membership.created_at, "updated_at": membership.updated_at,
    });
    if private {
        value["private_metadata"] = membership.private_metadata.clone();
    }
    value
}

/// An organization invitation; with `public_organization_data` for the invitee's own list, and
/// private metadata for the Backend API.
pub fn invitation(
    view: &concierge_service::invitations::InvitationView,
    now: Millis,
    private: bool,
) -> Value {
    let inv = &view.invitation;
    let org = &view.organization;
    let mut value = serde_json::json!({
        "object": "organization_invitation", "id": inv.id.as_str(),
        "email_address": inv.email_address, "organization_id": org.id.as_str(),
        "role": inv.role, "role_name": view.role.name, "status": inv.status_at(now),
        "public_metadata": inv.public_metadata, "url": Value::Null,
        "expires_at": inv.expires_at, "created_at": inv.created_at, "updated_at": inv.updated_at,
        "public_organization_data": {
            "id": org.id.as_str(), "name": org.name, "slug": org.slug,
            "image_url": org.image_url.clone().unwrap_or_default(), "has_image": org.image_url.is_some(),
        },
    });
    if private {
        value["private_metadata"] = inv.private_metadata.clone();
        value["inviter_user_id"] =
            serde_json::json!(inv.inviter_user_id.as_ref().map(|u| u.as_str()));
        value["redirect_url"] = serde_json::json!(inv.redirect_url);
    }
    value
}

/// A Backend API `invitation` (instance invitation, wire §8.2): `url` is the accept link while
/// the invitation is pending.
pub fn instance_invitation(
    view: &concierge_service::instance_invitations::InstanceInvitationView,
    now: Millis,
) -> Value {
    let inv = &view.invitation;
    let status = inv.status_at(now);
    serde_json::json!({
        "object": "invitation", "id": inv.id.as_str(),
        "email_address": inv.email_address, "public_metadata": inv.public_metadata,
        "revoked": status == "revoked", "status": status,
        "url": view.url, "redirect_url": inv.redirect_url,
        "expires_at": inv.expires_at, "created_at": inv.created_at, "updated_at": inv.updated_at,
    })
}

/// A stored custom permission (`type: "user"`).
pub fn permission(p: &concierge_core::Permission) -> Value {
    serde_json::json!({
        "object": "permission", "id": p.id.as_str(), "key": p.key, "name": p.name,
        "description": p.description, "type": "user",
        "created_at": p.created_at, "updated_at": p.updated_at,
    })
}

/// A permission known only by its key: a stable id derived from the key, `type: "system"` for
/// `org:sys_*` and `"user"` for a custom one.
pub fn system_permission(key: &str) -> Value {
    let kind = if key.starts_with("org:sys_") {
        "system"
    } else {
        "user"
    };
    serde_json::json!({
        "object": "permission", "id": format!("perm_{}", key.trim_start_matches("org:").replace(':', "_")),
        "key": key, "name": key, "description": "", "type": kind,
        "created_at": 0, "updated_at": 0,
    })
}

/// A `role` object, shared by the Backend API's role endpoints and the Frontend API's role
/// list; permissions found in `permissions` are listed with their records.
pub fn role(
    id: &str,
    role: &concierge_core::Role,
    permissions: &[concierge_core::Permission],
    created_at: i64,
    updated_at: i64,
) -> Value {
    let listed: Vec<Value> = role
        .permissions
        .iter()
        .map(|key| match permissions.iter().find(|p| &p.key == key) {
            Some(p) => permission(p),
            None => system_permission(key),
        })
        .collect();
    serde_json::json!({
        "object": "role", "id": id, "key": role.key, "name": role.name,
        "description": role.description, "is_creator_eligible": true,
        "permissions": listed, "created_at": created_at, "updated_at": updated_at,
    })
}
