//! Backend API objects as `@clerk/backend` 3.x deserialises them (wire §8.2).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `user` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Always `"user"`.
    pub object: String,
    /// `user_…`.
    pub id: String,
    /// Application-provided id.
    pub external_id: Option<String>,
    /// Primary email address id.
    pub primary_email_address_id: Option<String>,
    /// Always `null`: phone numbers are not supported yet.
    pub primary_phone_number_id: Option<String>,
    /// Always `null`: web3 wallets are not supported.
    pub primary_web3_wallet_id: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Avatar URL (empty when none).
    pub image_url: String,
    /// Whether an image was uploaded.
    pub has_image: bool,
    /// Whether the user has a password.
    pub password_enabled: bool,
    /// Second factors (none yet).
    pub two_factor_enabled: bool,
    /// TOTP enrolled.
    pub totp_enabled: bool,
    /// Backup codes enrolled.
    pub backup_code_enabled: bool,
    /// Banned flag.
    pub banned: bool,
    /// Locked flag.
    pub locked: bool,
    /// Seconds until a time-limited lock ends.
    pub lockout_expires_in_seconds: Option<i64>,
    /// Password attempts left before the lockout.
    pub verification_attempts_remaining: Option<i64>,
    /// Public metadata.
    pub public_metadata: Value,
    /// Private metadata.
    pub private_metadata: Value,
    /// Unsafe metadata.
    pub unsafe_metadata: Value,
    /// Email addresses, oldest first.
    pub email_addresses: Vec<EmailAddress>,
    /// Always empty.
    pub phone_numbers: Vec<Value>,
    /// Always empty.
    pub web3_wallets: Vec<Value>,
    /// Always empty.
    pub passkeys: Vec<Value>,
    /// Always empty.
    pub external_accounts: Vec<Value>,
    /// Always empty.
    pub saml_accounts: Vec<Value>,
    /// Always empty.
    pub enterprise_accounts: Vec<Value>,
    /// Last sign-in (ms).
    pub last_sign_in_at: Option<i64>,
    /// Last activity (ms).
    pub last_active_at: Option<i64>,
    /// Legal acceptance (ms).
    pub legal_accepted_at: Option<i64>,
    /// Whether the user may delete themselves.
    pub delete_self_enabled: bool,
    /// Whether the user may create organizations.
    pub create_organization_enabled: bool,
    /// Organization creation limit.
    pub create_organizations_limit: Option<i64>,
    /// Locale.
    pub locale: Option<String>,
    /// MFA enabled time (none yet).
    pub mfa_enabled_at: Option<i64>,
    /// MFA disabled time (none yet).
    pub mfa_disabled_at: Option<i64>,
    /// Creation (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// The `email_address` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailAddress {
    /// `idn_…`.
    pub id: String,
    /// Always `"email_address"`.
    pub object: String,
    /// The address.
    pub email_address: String,
    /// Always false.
    pub reserved: bool,
    /// Verification state, `null` only for unverified addresses never sent a code.
    pub verification: Option<Verification>,
    /// Linked identifications; always present (the SDK maps it without a null check).
    pub linked_to: Vec<Value>,
    /// Always false.
    pub matches_sso_connection: bool,
    /// Creation (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A verification's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// Always `"verification_email_code"` or similar; kept for parity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// `verified` or `unverified`.
    pub status: String,
    /// How it was (or will be) verified.
    pub strategy: String,
    /// Attempts made.
    pub attempts: Option<i64>,
    /// Expiry (ms).
    pub expire_at: Option<i64>,
}

/// The `session` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Always `"session"`.
    pub object: String,
    /// `sess_…`.
    pub id: String,
    /// Holding client.
    pub client_id: String,
    /// Signed-in user.
    pub user_id: String,
    /// `active`, `ended`, `revoked`, …
    pub status: String,
    /// Active organization.
    pub last_active_organization_id: Option<String>,
    /// Impersonation actor.
    pub actor: Option<Value>,
    /// Last activity (ms).
    pub last_active_at: i64,
    /// Maximum lifetime end (ms).
    pub expire_at: i64,
    /// Inactivity end (ms).
    pub abandon_at: i64,
    /// Creation (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// The `client` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    /// Always `"client"`.
    pub object: String,
    /// `client_…`.
    pub id: String,
    /// Ids of its sessions.
    pub session_ids: Vec<String>,
    /// Its sessions.
    pub sessions: Vec<Session>,
    /// Sign-in in progress.
    pub sign_in_id: Option<String>,
    /// Sign-up in progress.
    pub sign_up_id: Option<String>,
    /// Last active session.
    pub last_active_session_id: Option<String>,
    /// Last authentication strategy.
    pub last_authentication_strategy: Option<String>,
    /// Creation (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// `{"object":"token","jwt":"…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// Always `"token"`.
    pub object: String,
    /// The compact JWT.
    pub jwt: String,
}

/// The `jwt_template` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JwtTemplate {
    /// Always `"jwt_template"`.
    pub object: String,
    /// `jtmp_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Claims with shortcodes.
    pub claims: Value,
    /// Lifetime in seconds.
    pub lifetime: i64,
    /// Allowed clock skew in seconds.
    pub allowed_clock_skew: i64,
    /// Whether a custom key signs it.
    pub custom_signing_key: bool,
    /// Signing algorithm.
    pub signing_algorithm: String,
    /// Creation (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// `{"object":"<kind>","id":"…","deleted":true}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletedObject {
    /// The deleted object's kind.
    pub object: String,
    /// Its id.
    pub id: String,
    /// Always true.
    pub deleted: bool,
}

/// `{"object":"total_count","total_count":N}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotalCount {
    /// Always `"total_count"`.
    pub object: String,
    /// The count.
    pub total_count: i64,
}

/// `{"data":[…],"total_count":N}` — the paginated list shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paginated<T> {
    /// This page.
    pub data: Vec<T>,
    /// Rows matching the filters in all pages.
    pub total_count: i64,
}

/// `POST /v1/users/{id}/verify_password` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordVerified {
    /// Always true (a wrong password is an error).
    pub verified: bool,
}
