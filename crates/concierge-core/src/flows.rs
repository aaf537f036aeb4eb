//! Sign-up and sign-in attempts of a browser client, and the one-time-code verifications they
//! (and email addresses added later) go through. Pure rules: no IO, time handed in.

use crate::clock::Millis;
use crate::entities::PasswordHash;
use crate::error::CoreError;
use crate::ids::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long a one-time code stays valid (10 minutes).
pub const CODE_LIFETIME_MS: Millis = 10 * 60 * 1000;
/// Wrong codes accepted before a verification fails for good.
pub const MAX_CODE_ATTEMPTS: i64 = 3;
/// How long an unfinished sign-in or sign-up stays usable (24 hours).
pub const ATTEMPT_LIFETIME_MS: Millis = 24 * 60 * 60 * 1000;

/// State of one verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// Waiting for the code.
    Unverified,
    /// The code was right.
    Verified,
    /// Too many wrong codes.
    Failed,
    /// The code's lifetime ended.
    Expired,
}

impl VerificationStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unverified => "unverified",
            Self::Verified => "verified",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }
}

/// A one-time-code verification (`email_code`, `reset_password_email_code`) or a password check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// `email_code`, `reset_password_email_code`, `password`, …
    pub strategy: String,
    /// Current state.
    pub status: VerificationStatus,
    /// Codes tried so far.
    pub attempts: i64,
    /// When the code stops being accepted.
    pub expire_at: Option<Millis>,
    /// SHA-256 of the code that was sent (never the code itself).
    pub code_hash: Option<Vec<u8>>,
    /// The email address the code went to.
    pub email_address_id: Option<EmailAddressId>,
}

impl Verification {
    /// A fresh code verification that expires after [`CODE_LIFETIME_MS`].
    pub fn code(
        strategy: &str,
        code_hash: Vec<u8>,
        now: Millis,
        email_address_id: Option<EmailAddressId>,
    ) -> Self {
        Self {
            strategy: strategy.to_owned(),
            status: VerificationStatus::Unverified,
            attempts: 0,
            expire_at: Some(now + CODE_LIFETIME_MS),
            code_hash: Some(code_hash),
            email_address_id,
        }
    }

    /// A completed verification that needed no code (password, admin).
    pub fn verified(strategy: &str) -> Self {
        Self {
            strategy: strategy.to_owned(),
            status: VerificationStatus::Verified,
            attempts: 1,
            expire_at: None,
            code_hash: None,
            email_address_id: None,
        }
    }

    /// The status as of `now` (an unverified code past its lifetime reads as expired).
    pub fn status_at(&self, now: Millis) -> VerificationStatus {
        match (self.status, self.expire_at) {
            (VerificationStatus::Unverified, Some(at)) if now >= at => VerificationStatus::Expired,
            (status, _) => status,
        }
    }

    /// Records one attempt. `matches` tells whether the code given equals the one sent (compared
    /// by the caller in constant time). The verification changes even when the attempt fails
    /// (attempt counter, failed or expired state), so callers persist it before returning the error.
    pub fn attempt(&mut self, matches: bool, now: Millis) -> Result<(), CoreError> {
        match self.status_at(now) {
            VerificationStatus::Verified => return Err(CoreError::VerificationAlreadyVerified),
            VerificationStatus::Failed => return Err(CoreError::VerificationFailed),
            VerificationStatus::Expired => {
                self.status = VerificationStatus::Expired;
                return Err(CoreError::VerificationExpired);
            }
            VerificationStatus::Unverified => {}
        }
        self.attempts += 1;
        if matches {
            self.status = VerificationStatus::Verified;
            self.code_hash = None;
            return Ok(());
        }
        if self.attempts >= MAX_CODE_ATTEMPTS {
            self.status = VerificationStatus::Failed;
            self.code_hash = None;
            return Err(CoreError::VerificationFailed);
        }
        Err(CoreError::CodeIncorrect)
    }
}

/// Where a sign-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignUpStatus {
    /// Fields or verifications are missing.
    MissingRequirements,
    /// The user and session were created.
    Complete,
    /// Given up or past its lifetime.
    Abandoned,
}

impl SignUpStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingRequirements => "missing_requirements",
            Self::Complete => "complete",
            Self::Abandoned => "abandoned",
        }
    }
}

/// A sign-up in progress on a client. Kept as one document in storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignUp {
    /// Stable identifier.
    pub id: SignUpId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// The browser client it belongs to.
    pub client_id: ClientId,
    /// Current state.
    pub status: SignUpStatus,
    /// Normalized email address, if given.
    pub email_address: Option<String>,
    /// Normalized username, if given.
    pub username: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// argon2id hash of the chosen password.
    pub password_hash: Option<PasswordHash>,
    /// Metadata the browser may write.
    pub unsafe_metadata: Value,
    /// When the legal terms were accepted.
    pub legal_accepted_at: Option<Millis>,
    /// Browser locale.
    pub locale: Option<String>,
    /// Verification of the email address.
    pub email_verification: Option<Verification>,
    /// The user created on completion.
    pub created_user_id: Option<UserId>,
    /// The session created on completion.
    pub created_session_id: Option<SessionId>,
    /// When it is abandoned if not completed.
    pub abandon_at: Millis,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
    /// The invitation whose ticket verified the email address (ticket strategy), redeemed
    /// when the sign-up completes.
    #[serde(default)]
    pub ticket: Option<crate::tickets::InvitationRef>,
}

impl SignUp {
    /// Fields the instance requires that are still empty (wire `missing_fields`).
    pub fn missing_fields(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.email_address.is_none() {
            missing.push("email_address");
        }
        if self.password_hash.is_none() {
            missing.push("password");
        }
        missing
    }

    /// Fields given but not yet verified (wire `unverified_fields`).
    pub fn unverified_fields(&self) -> Vec<&'static str> {
        let verified = self
            .email_verification
            .as_ref()
            .is_some_and(|v| v.status == VerificationStatus::Verified);
        if self.email_address.is_some() && !verified {
            vec!["email_address"]
        } else {
            Vec::new()
        }
    }

    /// Whether everything needed to create the user is present and verified.
    pub fn is_ready(&self) -> bool {
        self.missing_fields().is_empty() && self.unverified_fields().is_empty()
    }
}

/// Where a sign-in stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInStatus {
    /// No identifier yet.
    NeedsIdentifier,
    /// Waiting for a password or a code.
    NeedsFirstFactor,
    /// A reset code was verified; a new password is expected.
    NeedsNewPassword,
    /// The session was created.
    Complete,
    /// Given up or past its lifetime.
    Abandoned,
}

impl SignInStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NeedsIdentifier => "needs_identifier",
            Self::NeedsFirstFactor => "needs_first_factor",
            Self::NeedsNewPassword => "needs_new_password",
            Self::Complete => "complete",
            Self::Abandoned => "abandoned",
        }
    }
}

/// A sign-in in progress on a client. Kept as one document in storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignIn {
    /// Stable identifier.
    pub id: SignInId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// The browser client it belongs to.
    pub client_id: ClientId,
    /// Current state.
    pub status: SignInStatus,
    /// What the person typed (email address or username), normalized.
    pub identifier: Option<String>,
    /// The user the identifier resolved to.
    pub user_id: Option<UserId>,
    /// The factor being verified.
    pub first_factor_verification: Option<Verification>,
    /// The session created on completion.
    pub created_session_id: Option<SessionId>,
    /// When it is abandoned if not completed.
    pub abandon_at: Millis,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// Masks an email address for display in a sign-in (`ada@example.com` → `a**@example.com`).
pub fn safe_identifier(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let mut chars = local.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            format!("{first}{}@{domain}", "*".repeat(chars.count().max(1)))
        }
        None => email.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> Verification {
        Verification::code("email_code", vec![1, 2, 3], 1_000, None)
    }

    #[test]
    fn right_code_verifies_once() {
        let mut v = fresh();
        assert_eq!(v.attempt(true, 2_000), Ok(()));
        assert_eq!(v.status, VerificationStatus::Verified);
        assert_eq!(
            v.attempt(true, 3_000),
            Err(CoreError::VerificationAlreadyVerified)
        );
    }

    #[test]
    fn three_wrong_codes_fail_for_good() {
        let mut v = fresh();
        assert_eq!(v.attempt(false, 2_000), Err(CoreError::CodeIncorrect));
        assert_eq!(v.attempt(false, 2_000), Err(CoreError::CodeIncorrect));
        assert_eq!(v.attempt(false, 2_000), Err(CoreError::VerificationFailed));
        assert_eq!(v.attempt(true, 2_000), Err(CoreError::VerificationFailed));
        assert_eq!(v.attempts, 3);
    }

    #[test]
    fn code_expires_after_ten_minutes() {
        let mut v = fresh();
        let late = 1_000 + CODE_LIFETIME_MS;
        assert_eq!(v.status_at(late - 1), VerificationStatus::Unverified);
        assert_eq!(v.attempt(true, late), Err(CoreError::VerificationExpired));
        assert_eq!(v.status, VerificationStatus::Expired);
    }

    #[test]
    fn masks_email() {
        assert_eq!(safe_identifier("ada@example.com"), "a**@example.com");
        assert_eq!(safe_identifier("a@x.test"), "a*@x.test");
    }
}
