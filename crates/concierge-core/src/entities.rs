//! Domain entities as the service and the store exchange them.
//!
//! These are not wire types: the Clerk JSON shapes live in `concierge-wire` and are built from
//! these structs in `concierge-http`. Timestamps are Unix milliseconds.

use crate::clock::Millis;
use crate::ids::*;
use serde_json::Value;

/// An isolated tenant: its own users, sessions, keys and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Stable identifier.
    pub id: InstanceId,
    /// Unique human name used by the CLI (`default`).
    pub name: String,
    /// The host encoded in the publishable key; `iss` of session tokens is `https://<host>`.
    pub frontend_host: String,
    /// `pk_live_…` or `pk_test_…`.
    pub publishable_key: String,
    /// `sk_live_…` or `sk_test_…`; stored as-is because `instance show` prints it (STYLE §2.15).
    pub secret_key: String,
    /// Origins (scheme://host[:port]) accepted for browser requests, besides the built-in localhost rule.
    pub allowed_origins: Vec<String>,
    /// Whether `http://localhost:<any>` and `http://127.0.0.1:<any>` are accepted (the default instance).
    pub allow_localhost: bool,
    /// Test mode: `+clerk_test` addresses accept code `424242` (operator contract).
    pub test_mode: bool,
    /// Tunable behaviour (session lifetime and so on).
    pub settings: InstanceSettings,
    /// Creation time.
    pub created_at: Millis,
}

/// Per-instance settings stored as one JSON document so that new settings need no migration.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct InstanceSettings {
    /// Maximum session lifetime in seconds (default 7 days).
    pub session_max_lifetime_secs: i64,
    /// Optional inactivity timeout in seconds; `None` disables it.
    pub session_inactivity_timeout_secs: Option<i64>,
    /// Lifetime of session tokens in seconds (Clerk: 60).
    pub session_token_lifetime_secs: i64,
    /// Whether a client may hold several active sessions.
    pub multi_session: bool,
    /// Minimum password length.
    pub password_min_length: usize,
    /// Name shown by the UI components.
    pub application_name: String,
    /// The application's home page, for the components' links.
    pub home_url: String,
    /// Where the application mounts `<SignIn/>`.
    pub sign_in_url: String,
    /// Where the application mounts `<SignUp/>`.
    pub sign_up_url: String,
    /// The role an organization's creator gets.
    pub organization_creator_role: String,
    /// The role new members get when none is given (invitations, domain enrollment).
    pub organization_default_role: String,
    /// Wrong passwords in a row before the account is locked (Clerk's default: 100).
    pub max_password_attempts: i64,
    /// How long a lockout lasts, in seconds (Clerk's default: one hour).
    pub lockout_secs: i64,
    /// Members a new organization may have when its creator sets no limit (Clerk's default:
    /// 5; 0 = unlimited). Pending invitations count toward it.
    pub organization_max_allowed_memberships: i64,
    /// Organizations one user may create from the browser (0 = unlimited).
    pub organization_create_limit: i64,
}

impl Instance {
    /// Whether browser requests from `origin` (`scheme://host[:port]`) are accepted: one of the
    /// configured origins, or any port of `localhost`/`127.0.0.1` when `allow_localhost` is set.
    pub fn accepts_origin(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.allowed_origins.contains(&origin) {
            return true;
        }
        if !self.allow_localhost {
            return false;
        }
        let Some(rest) = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
        else {
            return false;
        };
        let host = match rest.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                host
            }
            Some(_) => return false,
            None => rest,
        };
        matches!(host, "localhost" | "127.0.0.1" | "[::1]")
    }
}

impl Default for InstanceSettings {
    fn default() -> Self {
        Self {
            session_max_lifetime_secs: 7 * 24 * 3600,
            session_inactivity_timeout_secs: None,
            session_token_lifetime_secs: 60,
            multi_session: false,
            password_min_length: 8,
            application_name: "Concierge".into(),
            home_url: String::new(),
            sign_in_url: String::new(),
            sign_up_url: String::new(),
            organization_creator_role: "org:admin".into(),
            organization_default_role: "org:member".into(),
            max_password_attempts: 100,
            lockout_secs: 3600,
            organization_max_allowed_memberships: 5,
            organization_create_limit: 0,
        }
    }
}

/// An RSA signing key of an instance. The private key is opaque bytes here: only
/// `concierge-tokens` interprets it (STYLE §1, direction rules).
#[derive(Clone, PartialEq)]
pub struct SigningKey {
    /// The `kid` header value.
    pub id: SigningKeyId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// PKCS#8 DER of the private key.
    pub private_key_der: Vec<u8>,
    /// Base64url modulus for the JWKS.
    pub public_n: String,
    /// Base64url exponent for the JWKS.
    pub public_e: String,
    /// Creation time.
    pub created_at: Millis,
    /// When it stopped signing; retired keys stay in the JWKS so earlier tokens still verify.
    pub retired_at: Option<Millis>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("instance_id", &self.instance_id)
            .field("private_key_der", &"[redacted]")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// A stored password hash: a PHC string (`$argon2id$…`) or a bcrypt digest (`$2b$…`).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(pub String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// A user of one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Stable identifier.
    pub id: UserId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// The application's own identifier for this user, unique per instance when set.
    pub external_id: Option<String>,
    /// Unique (case-insensitive, stored lowercased) username.
    pub username: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Password hash, when the user has a password.
    pub password_hash: Option<PasswordHash>,
    /// Metadata readable by the frontend, writable only by the backend.
    pub public_metadata: Value,
    /// Metadata only the backend sees.
    pub private_metadata: Value,
    /// Metadata the frontend may read and write.
    pub unsafe_metadata: Value,
    /// The primary email address, if any.
    pub primary_email_address_id: Option<EmailAddressId>,
    /// Profile image URL, if one was uploaded.
    pub image_url: Option<String>,
    /// Banned users cannot sign in and their sessions are revoked.
    pub banned: bool,
    /// Locked users cannot sign in until `locked_until`, or indefinitely when `None` and `locked`.
    pub locked: bool,
    /// End of a time-limited lockout.
    pub locked_until: Option<Millis>,
    /// Consecutive failed password attempts, for the lockout rule.
    pub failed_password_attempts: i64,
    /// Last successful sign-in.
    pub last_sign_in_at: Option<Millis>,
    /// Last activity of any session.
    pub last_active_at: Option<Millis>,
    /// When the user accepted the legal terms.
    pub legal_accepted_at: Option<Millis>,
    /// Whether the user may create organizations.
    pub create_organization_enabled: bool,
    /// How many organizations the user may create; `None` = the instance default.
    pub create_organizations_limit: Option<i64>,
    /// Whether the user may delete their own account.
    pub delete_self_enabled: bool,
    /// Preferred locale (BCP 47).
    pub locale: Option<String>,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// An email address with its verification state.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailAddress {
    /// Stable identifier.
    pub id: EmailAddressId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// Owning user.
    pub user_id: UserId,
    /// The address, lowercased.
    pub email_address: String,
    /// Whether the address was verified.
    pub verified: bool,
    /// How it was verified (`email_code`, `admin`, `ticket`, …), if it was.
    pub verification_strategy: Option<String>,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// A client: one browser (identified by the `__client` cookie) or a server-created holder of sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    /// Stable identifier.
    pub id: ClientId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// SHA-256 of the bearer token carried in the `__client` cookie; `None` for server-made clients.
    pub token_hash: Option<Vec<u8>>,
    /// The session last made active on this client.
    pub last_active_session_id: Option<SessionId>,
    /// The sign-in in progress.
    pub sign_in_id: Option<String>,
    /// The sign-up in progress.
    pub sign_up_id: Option<String>,
    /// When its signed-in state last changed (a session added, ended or removed): the value of
    /// the `__client_uat` cookie, in milliseconds; 0 when it never held a session.
    pub uat: Millis,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// Session lifecycle states, named as Clerk names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Signed in.
    Active,
    /// Signed out by the user.
    Ended,
    /// Past its maximum lifetime.
    Expired,
    /// Removed from the client by the user.
    Removed,
    /// Replaced by another session on the same client.
    Replaced,
    /// Revoked by the backend or by a password change.
    Revoked,
    /// Past its inactivity timeout.
    Abandoned,
}

impl SessionStatus {
    /// The lowercase wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Ended => "ended",
            Self::Expired => "expired",
            Self::Removed => "removed",
            Self::Replaced => "replaced",
            Self::Revoked => "revoked",
            Self::Abandoned => "abandoned",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "ended" => Self::Ended,
            "expired" => Self::Expired,
            "removed" => Self::Removed,
            "replaced" => Self::Replaced,
            "revoked" => Self::Revoked,
            "abandoned" => Self::Abandoned,
            _ => return None,
        })
    }
}

/// A session of a user on a client.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Stable identifier.
    pub id: SessionId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// The client holding it.
    pub client_id: ClientId,
    /// The signed-in user.
    pub user_id: UserId,
    /// Stored status; see [`Session::effective_status`] for the status at a given time.
    pub status: SessionStatus,
    /// Active organization, when one is selected.
    pub last_active_organization_id: Option<String>,
    /// Last activity (token refresh or touch).
    pub last_active_at: Millis,
    /// End of the maximum lifetime.
    pub expire_at: Millis,
    /// End of the inactivity window.
    pub abandon_at: Millis,
    /// Origin of the browser that created or last refreshed it (`azp` claim).
    pub azp: Option<String>,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

impl Session {
    /// The status at `now`: a stored `active` session past its lifetime reads as expired or abandoned.
    pub fn effective_status(&self, now: Millis) -> SessionStatus {
        if self.status != SessionStatus::Active {
            self.status
        } else if now >= self.expire_at {
            SessionStatus::Expired
        } else if now >= self.abandon_at {
            SessionStatus::Abandoned
        } else {
            SessionStatus::Active
        }
    }
}

/// A named recipe for custom JWTs (wire §2.6).
#[derive(Debug, Clone, PartialEq)]
pub struct JwtTemplate {
    /// Stable identifier.
    pub id: JwtTemplateId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// Unique name, used in token URLs.
    pub name: String,
    /// Claims with `{{…}}` shortcodes.
    pub claims: Value,
    /// Token lifetime in seconds.
    pub lifetime: i64,
    /// Allowed clock skew in seconds (advertised; verification is the app's).
    pub allowed_clock_skew: i64,
    /// Whether `signing_key` is used instead of the instance key.
    pub custom_signing_key: bool,
    /// `RS256` (the instance key) or `HS256` with a custom key.
    pub signing_algorithm: String,
    /// The custom signing key, when set.
    pub signing_key: Option<String>,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// An email kept in the instance mailbox when no SMTP server is configured.
#[derive(Debug, Clone, PartialEq)]
pub struct MailMessage {
    /// Stable identifier.
    pub id: MailMessageId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Creation time.
    pub created_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(allow_localhost: bool) -> Instance {
        Instance {
            id: InstanceId::from_trusted("ins_x".into()),
            name: "x".into(),
            frontend_host: "clerk.x.test".into(),
            publishable_key: String::new(),
            secret_key: String::new(),
            allowed_origins: vec!["https://app.example.com".into()],
            allow_localhost,
            test_mode: false,
            settings: InstanceSettings::default(),
            created_at: 0,
        }
    }

    #[test]
    fn origins() {
        let local = instance(true);
        for ok in [
            "http://localhost:3000",
            "http://127.0.0.1:4321",
            "http://localhost",
            "https://app.example.com",
            "HTTPS://APP.example.com/",
        ] {
            assert!(local.accepts_origin(ok), "{ok}");
        }
        for bad in [
            "http://evil.test",
            "http://localhost.evil.test",
            "http://localhost:3000.evil",
            "null",
            "https://app.example.com.evil",
        ] {
            assert!(!local.accepts_origin(bad), "{bad}");
        }
        assert!(!instance(false).accepts_origin("http://localhost:3000"));
        assert!(instance(false).accepts_origin("https://app.example.com"));
    }
}

/// An uploaded image, such as a profile picture.
#[derive(Clone, PartialEq)]
pub struct Image {
    /// Stable identifier (unguessable; images are served by id).
    pub id: ImageId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub content_type: String,
    /// The file.
    pub bytes: Vec<u8>,
    /// Upload time.
    pub created_at: Millis,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("id", &self.id)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Largest accepted image (10 MiB, as Clerk).
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// The image type of `bytes` by its signature, if it is one of the accepted formats.
pub fn sniff_image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}
