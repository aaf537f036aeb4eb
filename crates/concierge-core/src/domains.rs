//! Verified domains of organizations and what they enroll (wire §6.8, §6.9, §8.2): the domain
//! with its enrollment mode and affiliation verification, the suggestions made to users whose
//! verified email address is at such a domain, and users' requests to join. Pure rules only:
//! domain-name checks, the list of public email providers that can never be a domain, and the
//! status machines.

use crate::clock::Millis;
use crate::error::CoreError;
use crate::ids::*;

/// How users with a verified email address at a verified domain are enrolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentMode {
    /// No automatic enrollment; admins invite people themselves.
    ManualInvitation,
    /// Matching users get a pending invitation with the instance's default role.
    AutomaticInvitation,
    /// Matching users get a suggestion, which they may turn into a membership request.
    AutomaticSuggestion,
}

impl EnrollmentMode {
    /// Every mode, as the environment lists them.
    pub const ALL: [EnrollmentMode; 3] = [
        Self::ManualInvitation,
        Self::AutomaticInvitation,
        Self::AutomaticSuggestion,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ManualInvitation => "manual_invitation",
            Self::AutomaticInvitation => "automatic_invitation",
            Self::AutomaticSuggestion => "automatic_suggestion",
        }
    }

    /// Parses a wire or storage name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Parses `enrollment_mode` as given on the wire (422 on `enrollment_mode` otherwise).
    pub fn check(s: &str) -> Result<Self, CoreError> {
        Self::parse(s.trim()).ok_or(CoreError::FormatInvalid {
            param: "enrollment_mode",
        })
    }

    /// Whether the mode enrolls anyone automatically.
    pub fn is_automatic(self) -> bool {
        self != Self::ManualInvitation
    }
}

/// A domain of an organization. A name belongs to at most one organization of an instance.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationDomain {
    /// Stable identifier (`orgdmn_…`).
    pub id: OrganizationDomainId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// The organization.
    pub organization_id: OrganizationId,
    /// Lowercase domain name, such as `example.com`.
    pub name: String,
    /// How matching users are enrolled (only once the domain is verified).
    pub enrollment_mode: EnrollmentMode,
    /// Whether the organization's affiliation with the domain is verified.
    pub verified: bool,
    /// How it was verified: `email_code` (a member proved an address there) or `admin`
    /// (created or marked verified through the Backend API). `None` while unverified.
    pub verification_strategy: Option<String>,
    /// When it was verified.
    pub verified_at: Option<Millis>,
    /// The address at the domain that received (or is to receive) the affiliation code.
    pub affiliation_email_address: Option<String>,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// Where a suggestion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionStatus {
    /// Shown to the user.
    Pending,
    /// The user asked to join (a membership request exists).
    Accepted,
}

impl SuggestionStatus {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "accepted" => Some(Self::Accepted),
            _ => None,
        }
    }
}

/// A suggestion to join an organization, made to a user with a verified address at one of its
/// verified domains whose mode is `automatic_suggestion`. One per user and organization.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationSuggestion {
    /// Stable identifier (`orgsugg_…`).
    pub id: OrganizationSuggestionId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// The organization suggested.
    pub organization_id: OrganizationId,
    /// The user it is shown to.
    pub user_id: UserId,
    /// The domain that made it (cleared when the domain goes).
    pub domain_id: Option<OrganizationDomainId>,
    /// Where it stands.
    pub status: SuggestionStatus,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// Where a membership request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipRequestStatus {
    /// Waiting for an admin.
    Pending,
    /// An admin let the user in.
    Accepted,
    /// An admin turned it down.
    Rejected,
}

impl MembershipRequestStatus {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "accepted" => Some(Self::Accepted),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }
}

/// A user's request to join an organization (from an accepted suggestion). One per user and
/// organization.
#[derive(Debug, Clone, PartialEq)]
pub struct MembershipRequest {
    /// Stable identifier (`orgmbreq_…`).
    pub id: OrganizationMembershipRequestId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// The organization.
    pub organization_id: OrganizationId,
    /// Who asks to join.
    pub user_id: UserId,
    /// Where it stands.
    pub status: MembershipRequestStatus,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// Public email providers: anyone can have an address there, so an address proves no
/// affiliation and none of them can be an organization's domain (Clerk refuses them too).
pub const COMMON_EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "ymail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "zoho.com",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
    "qq.com",
    "163.com",
];

/// Whether `name` (lowercase) is a public email provider.
pub fn is_common_email_domain(name: &str) -> bool {
    COMMON_EMAIL_DOMAINS.contains(&name)
}

/// Checks a domain name given on the wire and returns it lowercased: at least two labels of
/// letters, digits and inner hyphens, at most 253 characters, and not a public email provider.
pub fn check_domain_name(raw: &str) -> Result<String, CoreError> {
    let name = raw.trim().trim_end_matches('.').to_lowercase();
    if name.is_empty() {
        return Err(CoreError::ParamMissing { param: "name" });
    }
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()));
    if name.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok {
        return Err(CoreError::FormatInvalid { param: "name" });
    }
    if is_common_email_domain(&name) {
        return Err(CoreError::DomainCommon);
    }
    Ok(name)
}

/// The domain part of a (normalized) email address.
pub fn email_domain(email: &str) -> Option<&str> {
    email.rsplit_once('@').map(|(_, domain)| domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_checked_and_lowercased() {
        assert_eq!(check_domain_name(" Example.COM. ").unwrap(), "example.com");
        assert_eq!(
            check_domain_name("a-b.example.co").unwrap(),
            "a-b.example.co"
        );
        for bad in [
            "example", "-a.com", "a-.com", "a..com", "a b.com", "1.2.3.4", "@a.com",
        ] {
            assert_eq!(
                check_domain_name(bad),
                Err(CoreError::FormatInvalid { param: "name" }),
                "{bad}"
            );
        }
        assert_eq!(
            check_domain_name(""),
            Err(CoreError::ParamMissing { param: "name" })
        );
        assert_eq!(check_domain_name("GMail.com"), Err(CoreError::DomainCommon));
    }

    #[test]
    fn enrollment_modes_round_trip() {
        for mode in EnrollmentMode::ALL {
            assert_eq!(EnrollmentMode::parse(mode.as_str()), Some(mode));
        }
        assert!(EnrollmentMode::check("automatic").is_err());
        assert!(!EnrollmentMode::ManualInvitation.is_automatic());
        assert!(EnrollmentMode::AutomaticSuggestion.is_automatic());
    }

    #[test]
    fn email_domains() {
        assert_eq!(email_domain("a@acme.test"), Some("acme.test"));
        assert_eq!(email_domain("nobody"), None);
    }
}
