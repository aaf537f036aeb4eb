//! Organizations, memberships and roles: the entities and the pure rules (slugs, built-in
//! roles and their system permissions, which permissions may enter a session token).

use crate::clock::Millis;
use crate::error::CoreError;
use crate::ids::*;
use serde_json::Value;

/// An organization of one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// Stable identifier (`org_…`; clerk-js treats anything else as a slug, wire §6.9).
    pub id: OrganizationId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// Display name.
    pub name: String,
    /// URL-safe name, unique per instance.
    pub slug: String,
    /// Logo URL, when one was uploaded.
    pub image_url: Option<String>,
    /// Public metadata (readable by members).
    pub public_metadata: Value,
    /// Private metadata (Backend API only).
    pub private_metadata: Value,
    /// Membership cap; 0 means unlimited.
    pub max_allowed_memberships: i64,
    /// Whether admins may delete the organization.
    pub admin_delete_enabled: bool,
    /// The user who created it.
    pub created_by: Option<UserId>,
    /// The role set its members' roles come from. Every organization the service creates has
    /// one; `None` (a row written without one) reads as the instance's initial set.
    pub role_set_id: Option<RoleSetId>,
    /// The key of that role set, read back by the store (ignored on writes).
    pub role_set_key: Option<String>,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// A user's membership in an organization, with exactly one role.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationMembership {
    /// Stable identifier.
    pub id: OrganizationMembershipId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The member.
    pub user_id: UserId,
    /// Role key, such as `org:admin`.
    pub role: String,
    /// Public metadata.
    pub public_metadata: Value,
    /// Private metadata.
    pub private_metadata: Value,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Waiting for the invitee.
    Pending,
    /// The invitee joined.
    Accepted,
    /// Withdrawn by an admin.
    Revoked,
}

impl InvitationStatus {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "accepted" => Self::Accepted,
            "revoked" => Self::Revoked,
            _ => return None,
        })
    }
}

/// An invitation of an email address to an organization, with the role the invitee will get.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationInvitation {
    /// Stable identifier.
    pub id: OrganizationInvitationId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// The organization.
    pub organization_id: OrganizationId,
    /// Normalized email address of the invitee.
    pub email_address: String,
    /// Role given on acceptance.
    pub role: String,
    /// Stored status; a pending invitation past `expires_at` reads as `expired`.
    pub status: InvitationStatus,
    /// Who sent it.
    pub inviter_user_id: Option<UserId>,
    /// Public metadata (copied to the membership on acceptance).
    pub public_metadata: Value,
    /// Private metadata.
    pub private_metadata: Value,
    /// Where the invitation email's link leads.
    pub redirect_url: Option<String>,
    /// End of validity.
    pub expires_at: Millis,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

impl OrganizationInvitation {
    /// The status as of `now` (`expired` for a pending invitation past its validity).
    pub fn status_at(&self, now: Millis) -> &'static str {
        if self.status == InvitationStatus::Pending && now >= self.expires_at {
            "expired"
        } else {
            self.status.as_str()
        }
    }
}

/// Default validity of an invitation (30 days, as Clerk).
pub const INVITATION_LIFETIME_DAYS: i64 = 30;

/// The role an organization's creator gets.
pub const ADMIN_ROLE: &str = "org:admin";
/// The role new members get by default.
pub const MEMBER_ROLE: &str = "org:member";

/// Every system permission (`org:sys_*`). They gate the components' own actions and are listed
/// on Frontend API memberships, but never enter a session token (wire §2.4).
pub const SYSTEM_PERMISSIONS: &[&str] = &[
    "org:sys_profile:manage",
    "org:sys_profile:delete",
    "org:sys_memberships:read",
    "org:sys_memberships:manage",
    "org:sys_domains:read",
    "org:sys_domains:manage",
    "org:sys_billing:read",
    "org:sys_billing:manage",
];

/// A custom permission `org:<feature>:<action>` defined by the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// Stable identifier.
    pub id: PermissionId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// Key, such as `org:reports:export`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// A custom role `org:<name>` with a set of permissions (custom keys only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRole {
    /// Stable identifier.
    pub id: RoleId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// Key, such as `org:billing_manager`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Permission keys.
    pub permissions: Vec<String>,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

impl From<&CustomRole> for Role {
    fn from(role: &CustomRole) -> Self {
        Role {
            key: role.key.clone(),
            name: role.name.clone(),
            description: role.description.clone(),
            permissions: role.permissions.clone(),
        }
    }
}

fn is_key_part(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 64
        && part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks a custom permission key: `org:<feature>:<action>`, lowercase letters, digits and
/// `_`; features starting with `sys_` are reserved for system permissions.
pub fn check_permission_key(key: &str) -> Result<(), CoreError> {
    let mut parts = key.split(':');
    let ok = matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("org"), Some(feature), Some(action), None)
            if is_key_part(feature) && is_key_part(action) && !feature.starts_with("sys_")
    );
    if ok {
        Ok(())
    } else {
        Err(CoreError::FormatInvalid { param: "key" })
    }
}

/// Checks a custom role key: `org:<name>`, not one of the built-in roles.
pub fn check_role_key(key: &str) -> Result<(), CoreError> {
    let ok = key
        .strip_prefix("org:")
        .is_some_and(|name| is_key_part(name) && !name.starts_with("sys_"));
    if !ok {
        return Err(CoreError::FormatInvalid { param: "key" });
    }
    if find_role(key).is_some() {
        return Err(CoreError::IdentifierExists { param: "key" });
    }
    Ok(())
}

/// The v2 token encoding of a role's custom permissions (wire §2.4): the org features (`fea`,
/// each `o:<feature>`), the action names (`per`) and, per feature, a decimal bitmask over the
/// actions (`fpm`). System permissions are skipped. `None` when there is nothing to encode.
pub fn encode_permissions(permissions: &[String]) -> Option<(String, String, String)> {
    let mut features: Vec<&str> = Vec::new();
    let mut actions: Vec<&str> = Vec::new();
    let mut pairs = Vec::new();
    for key in permissions {
        if is_system_permission(key) {
            continue;
        }
        let mut parts = key.split(':');
        let (Some("org"), Some(feature), Some(action), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if !features.contains(&feature) {
            features.push(feature);
        }
        if !actions.contains(&action) {
            actions.push(action);
        }
        pairs.push((feature, action));
    }
    if pairs.is_empty() || actions.len() > 63 {
        return None;
    }
    let masks: Vec<String> = features
        .iter()
        .map(|feature| {
            let mask: u64 = pairs
                .iter()
                .filter(|(f, _)| f == feature)
                .filter_map(|(_, a)| actions.iter().position(|x| x == a))
                .fold(0, |acc, bit| acc | (1u64 << bit));
            mask.to_string()
        })
        .collect();
    Some((
        features
            .iter()
            .map(|f| format!("o:{f}"))
            .collect::<Vec<_>>()
            .join(","),
        actions.join(","),
        masks.join(","),
    ))
}

/// A role as the APIs show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Key such as `org:admin`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Permission keys, system and custom.
    pub permissions: Vec<String>,
}

/// The built-in roles of the default role set: admin (every system permission) and member
/// (the read-only system permissions).
pub fn builtin_roles() -> Vec<Role> {
    vec![
        Role {
            key: ADMIN_ROLE.into(),
            name: "Admin".into(),
            description: "Can manage the organization, its members and its domains.".into(),
            permissions: SYSTEM_PERMISSIONS.iter().map(|p| (*p).to_owned()).collect(),
        },
        Role {
            key: MEMBER_ROLE.into(),
            name: "Member".into(),
            description: "Can see the organization and its members.".into(),
            permissions: SYSTEM_PERMISSIONS
                .iter()
                .filter(|p| p.ends_with(":read"))
                .map(|p| (*p).to_owned())
                .collect(),
        },
    ]
}

/// The wire id of a built-in role (they have no stored record): `role_admin`, `role_member`.
pub fn builtin_role_id(key: &str) -> String {
    format!("role_{}", key.trim_start_matches("org:"))
}

/// The role with this key, if it exists.
pub fn find_role(key: &str) -> Option<Role> {
    builtin_roles().into_iter().find(|r| r.key == key)
}

/// Checks a role key given on the wire.
pub fn check_role(key: &str) -> Result<Role, CoreError> {
    find_role(key).ok_or(CoreError::FormatInvalid { param: "role" })
}

/// Whether a permission is a system permission (never put in tokens).
pub fn is_system_permission(key: &str) -> bool {
    key.starts_with("org:sys_")
}

/// A slug from a name: lowercase ASCII letters and digits, runs of anything else become one
/// `-`, trimmed; empty names give `org`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-').to_owned();
    if slug.is_empty() {
        "org".into()
    } else {
        slug
    }
}

/// Checks a slug given on the wire: 1 to 64 of lowercase letters, digits, `-` and `_`.
pub fn check_slug(slug: &str) -> Result<String, CoreError> {
    let slug = slug.trim().to_lowercase();
    let ok = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(slug)
    } else {
        Err(CoreError::FormatInvalid { param: "slug" })
    }
}

/// Checks an organization name: 1 to 256 characters after trimming.
pub fn check_org_name(name: &str) -> Result<String, CoreError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::ParamMissing { param: "name" });
    }
    if name.chars().count() > 256 {
        return Err(CoreError::FormatInvalid { param: "name" });
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_names() {
        assert_eq!(slugify("Acme Inc."), "acme-inc");
        assert_eq!(slugify("  Über  Café!! 2 "), "ber-caf-2");
        assert_eq!(slugify("!!!"), "org");
        assert_eq!(check_slug("Acme-1").unwrap(), "acme-1");
        assert!(check_slug("a b").is_err());
        assert!(check_slug("").is_err());
    }

    #[test]
    fn custom_permissions_encode_as_clerk_decodes_them() {
        let perms: Vec<String> = [
            "org:sys_memberships:manage",
            "org:reports:export",
            "org:reports:read",
            "org:posts:read",
            "org:posts:publish",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let (fea, per, fpm) = encode_permissions(&perms).unwrap();
        assert_eq!(fea, "o:reports,o:posts");
        assert_eq!(per, "export,read,publish");
        // reports: export(bit 0) + read(bit 1) = 3; posts: read(bit 1) + publish(bit 2) = 6.
        assert_eq!(fpm, "3,6");
        assert_eq!(
            encode_permissions(&["org:sys_profile:manage".to_owned()]),
            None
        );
    }

    #[test]
    fn keys_are_checked() {
        assert!(check_permission_key("org:reports:export").is_ok());
        for bad in [
            "reports:export",
            "org:sys_x:read",
            "org:Reports:x",
            "org:a:b:c",
            "org::x",
        ] {
            assert!(check_permission_key(bad).is_err(), "{bad}");
        }
        assert!(check_role_key("org:billing").is_ok());
        assert!(check_role_key("org:admin").is_err());
        assert!(check_role_key("billing").is_err());
    }

    #[test]
    fn builtin_roles_have_system_permissions_only() {
        let admin = check_role("org:admin").unwrap();
        assert_eq!(admin.permissions.len(), SYSTEM_PERMISSIONS.len());
        let member = check_role("org:member").unwrap();
        assert!(member.permissions.iter().all(|p| p.ends_with(":read")));
        assert!(member
            .permissions
            .contains(&"org:sys_memberships:read".to_owned()));
        assert!(admin.permissions.iter().all(|p| is_system_permission(p)));
        assert!(check_role("org:owner").is_err());
    }
}
