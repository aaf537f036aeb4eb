//! Prefixed identifier newtypes (STYLE §2.6).
//!
//! Every ID has Clerk's form `<prefix>_<27 base62 characters>` and is created only by
//! `generate` (from a random source handed in) or `parse` (which checks the prefix).

use rand::RngCore;
use std::fmt;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LEN: usize = 27;

/// Draws `len` base62 characters from `rng` without modulo bias. Random bytes are drawn in
/// one buffer (an OS-backed generator costs a system call per draw, not per byte).
pub fn random_base62(rng: &mut impl RngCore, len: usize) -> String {
    let mut out = String::with_capacity(len);
    // 248 = 4 * 62: values at or above it would bias the alphabet; ~3% are rejected, so a
    // buffer a quarter larger than needed almost always suffices in one draw.
    let mut buffer = vec![0u8; len + len / 4 + 4];
    while out.len() < len {
        rng.fill_bytes(&mut buffer);
        for byte in &buffer {
            if out.len() == len {
                break;
            }
            if *byte < 248 {
                out.push(ALPHABET[(byte % 62) as usize] as char);
            }
        }
    }
    out
}

/// Why a string is not a valid ID of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {expected} id")]
pub struct InvalidId {
    /// The prefix that was expected, such as `user`.
    pub expected: &'static str,
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The prefix every ID of this kind starts with (without the underscore).
            pub const PREFIX: &'static str = $prefix;

            /// A new random ID.
            pub fn generate(rng: &mut impl RngCore) -> Self {
                Self(format!("{}_{}", $prefix, random_base62(rng, BODY_LEN)))
            }

            /// Checks that `s` has this kind's prefix and a plausible body.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                let body = s
                    .strip_prefix($prefix)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .ok_or(InvalidId { expected: $prefix })?;
                if body.is_empty()
                    || body.len() > 64
                    || !body.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(InvalidId { expected: $prefix });
                }
                Ok(Self(s.to_owned()))
            }

            /// Wraps a value read back from storage, which only ever holds IDs made by `generate`.
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }

            /// The ID as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Serde is for storage documents only (entities kept as JSON); wire input is checked
        // with `parse`.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

prefixed_id!(/// An instance: one isolated tenant.
    InstanceId, "ins");
prefixed_id!(/// A user of one instance.
    UserId, "user");
prefixed_id!(/// An email address belonging to a user.
    EmailAddressId, "idn");
prefixed_id!(/// A client: one browser or device.
    ClientId, "client");
prefixed_id!(/// A session of a user on a client.
    SessionId, "sess");
prefixed_id!(/// A JWT template.
    JwtTemplateId, "jtmp");
prefixed_id!(/// A signing key; its string form is the JWT `kid`.
    SigningKeyId, "kid");
prefixed_id!(/// A message kept in the local mailbox.
    MailMessageId, "msg");
prefixed_id!(/// A sign-in attempt of a client.
    SignInId, "sia");
prefixed_id!(/// A sign-up attempt of a client.
    SignUpId, "sua");
prefixed_id!(/// An uploaded image (profile images).
    ImageId, "img");
prefixed_id!(/// An organization (clerk-js requires the `org_` prefix, wire §6.9).
    OrganizationId, "org");
prefixed_id!(/// A membership of a user in an organization.
    OrganizationMembershipId, "orgmem");
prefixed_id!(/// A verified domain of an organization.
    OrganizationDomainId, "orgdmn");
prefixed_id!(/// A suggestion to join an organization, made from a verified domain.
    OrganizationSuggestionId, "orgsugg");
prefixed_id!(/// A user's request to join an organization.
    OrganizationMembershipRequestId, "orgmbreq");
prefixed_id!(/// A custom organization role.
    RoleId, "role");
prefixed_id!(/// A custom organization permission.
    PermissionId, "perm");
prefixed_id!(/// An invitation to join an organization.
    OrganizationInvitationId, "orginv");
prefixed_id!(/// An invitation to sign up to the instance (wire §8.2, instance-level invitations).
    InvitationId, "inv");
prefixed_id!(/// A role set: the roles an organization's members may hold.
    RoleSetId, "rs");

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generated_ids_parse_back_and_have_clerk_shape() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let id = UserId::generate(&mut rng);
        assert!(id.as_str().starts_with("user_"));
        assert_eq!(id.as_str().len(), "user_".len() + 27);
        assert_eq!(UserId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn parse_rejects_wrong_prefix_and_junk() {
        assert!(UserId::parse("sess_abc").is_err());
        assert!(UserId::parse("user_").is_err());
        assert!(UserId::parse("user_ab'c").is_err());
        assert!(UserId::parse("userabc").is_err());
    }
}
