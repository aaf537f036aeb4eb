//! Role sets (wire §8.2 `/v1/role_sets`): the named collection of roles an organization's
//! members may hold. Every organization uses one set; every instance has exactly one `initial`
//! set, which new organizations get. A set names a default role (for new members) and a creator
//! role (for an organization's creator), both among its roles. The pure rules live here: keys,
//! the key generated from a name, the Primary Role Set every instance starts with.

use crate::clock::Millis;
use crate::error::CoreError;
use crate::ids::{InstanceId, RoleSetId};
use crate::organizations::{ADMIN_ROLE, MEMBER_ROLE};

/// The key of the set every instance starts with.
pub const PRIMARY_ROLE_SET_KEY: &str = "role_set:default";
/// Its display name.
pub const PRIMARY_ROLE_SET_NAME: &str = "Primary Role Set";
/// The most roles one request may name (`roles`, `role_keys`), as Clerk bounds them.
pub const MAX_ROLES_PER_REQUEST: usize = 10;

const KEY_PREFIX: &str = "role_set:";
const MAX_KEY_LEN: usize = 64;

/// A role set of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSet {
    /// Stable identifier (`rs_…`).
    pub id: RoleSetId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// Unique key per instance, `role_set:<name>`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Role keys, in the order they were added.
    pub roles: Vec<String>,
    /// The role members get when none is named; one of `roles`.
    pub default_role: String,
    /// The role an organization's creator gets; one of `roles`.
    pub creator_role: String,
    /// Whether new organizations get this set (exactly one per instance).
    pub initial: bool,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

impl RoleSet {
    /// The Primary Role Set: `org:admin` and `org:member` plus `custom_roles`, with the given
    /// default and creator roles (each falling back to the built-in one when not in the set).
    pub fn primary(
        id: RoleSetId,
        instance_id: InstanceId,
        custom_roles: impl IntoIterator<Item = String>,
        default_role: &str,
        creator_role: &str,
        now: Millis,
    ) -> Self {
        let mut roles = vec![ADMIN_ROLE.to_owned(), MEMBER_ROLE.to_owned()];
        for key in custom_roles {
            if !roles.contains(&key) {
                roles.push(key);
            }
        }
        let pick = |wanted: &str, fallback: &str| {
            if roles.iter().any(|r| r == wanted) {
                wanted.to_owned()
            } else {
                fallback.to_owned()
            }
        };
        Self {
            id,
            instance_id,
            key: PRIMARY_ROLE_SET_KEY.into(),
            name: PRIMARY_ROLE_SET_NAME.into(),
            description: None,
            default_role: pick(default_role, MEMBER_ROLE),
            creator_role: pick(creator_role, ADMIN_ROLE),
            roles,
            initial: true,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether members may hold `role` under this set.
    pub fn contains(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// The wire `type`: `initial` or `custom`.
    pub fn type_name(&self) -> &'static str {
        if self.initial {
            "initial"
        } else {
            "custom"
        }
    }

    /// Whether `role` is this set's default or creator role (which cannot leave the set).
    pub fn requires(&self, role: &str) -> bool {
        self.default_role == role || self.creator_role == role
    }
}

/// Checks a role set key: `role_set:` then 1 or more lowercase letters, digits and `_`, at most
/// 64 characters in all.
pub fn check_role_set_key(key: &str) -> Result<(), CoreError> {
    let ok = key.len() <= MAX_KEY_LEN
        && key.strip_prefix(KEY_PREFIX).is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(CoreError::FormatInvalid { param: "key" })
    }
}

/// The key generated from a name: `role_set:` and the name in lowercase ASCII letters and
/// digits, runs of anything else as one `_`; `role_set:role_set` when nothing is left.
pub fn role_set_key_from_name(name: &str) -> String {
    let mut body = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            body.push(c);
        } else if !body.ends_with('_') {
            body.push('_');
        }
    }
    let body = body.trim_matches('_');
    let body = if body.is_empty() { "role_set" } else { body };
    // Leave room for a `_NN` suffix that makes a taken key unique.
    let max = MAX_KEY_LEN - KEY_PREFIX.len() - 4;
    let body = body.get(..max).unwrap_or(body).trim_end_matches('_');
    format!("{KEY_PREFIX}{body}")
}

/// Checks a role set name: 1 to 256 characters after trimming.
pub fn check_role_set_name(name: &str) -> Result<String, CoreError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::ParamMissing { param: "name" });
    }
    if name.chars().count() > 256 {
        return Err(CoreError::FormatInvalid { param: "name" });
    }
    Ok(name.to_owned())
}

/// Checks the size of a list of role keys given in one request (1 to 10).
pub fn check_role_count(count: usize, param: &'static str) -> Result<(), CoreError> {
    if count == 0 {
        Err(CoreError::ParamMissing { param })
    } else if count > MAX_ROLES_PER_REQUEST {
        Err(CoreError::OutOfRange { param })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (RoleSetId, InstanceId) {
        (
            RoleSetId::from_trusted("rs_1".into()),
            InstanceId::from_trusted("ins_1".into()),
        )
    }

    #[test]
    fn keys_are_checked_and_generated() {
        assert!(check_role_set_key("role_set:pro_tier2").is_ok());
        for bad in [
            "role_set:",
            "pro",
            "role_set:Pro",
            "role_set:a-b",
            "org:admin",
            &format!("role_set:{}", "a".repeat(60)),
        ] {
            assert!(check_role_set_key(bad).is_err(), "{bad}");
        }
        assert_eq!(role_set_key_from_name("Pro Tier!"), "role_set:pro_tier");
        assert_eq!(role_set_key_from_name("  Ünïcode  "), "role_set:n_code");
        assert_eq!(role_set_key_from_name("!!!"), "role_set:role_set");
        let long = role_set_key_from_name(&"x".repeat(200));
        assert!(check_role_set_key(&long).is_ok());
        assert!(check_role_set_key(&format!("{long}_99")).is_ok());
    }

    #[test]
    fn the_primary_set_holds_every_role_and_valid_defaults() {
        let (id, instance) = ids();
        let set = RoleSet::primary(
            id.clone(),
            instance.clone(),
            ["org:analyst".to_owned(), "org:admin".to_owned()],
            "org:analyst",
            "org:gone",
            5,
        );
        assert_eq!(set.roles, ["org:admin", "org:member", "org:analyst"]);
        assert_eq!(set.default_role, "org:analyst");
        assert_eq!(set.creator_role, "org:admin", "unknown roles fall back");
        assert_eq!(set.key, PRIMARY_ROLE_SET_KEY);
        assert_eq!(set.type_name(), "initial");
        assert!(set.contains("org:member") && !set.contains("org:gone"));
        assert!(set.requires("org:analyst") && !set.requires("org:member"));
    }

    #[test]
    fn names_and_counts_are_bounded() {
        assert_eq!(check_role_set_name("  Pro ").unwrap(), "Pro");
        assert!(check_role_set_name(" ").is_err());
        assert!(check_role_count(0, "roles").is_err());
        assert!(check_role_count(10, "roles").is_ok());
        assert!(check_role_count(11, "roles").is_err());
    }
}
