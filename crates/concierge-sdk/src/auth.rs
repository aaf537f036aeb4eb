//! The signed-in auth object (wire §2.4) built from verified claims, and `has()` with exactly
//! `@clerk/backend`'s rules: roles and permissions need an active organization and compare
//! after normalising to one `org:` prefix; v2 permissions are decoded from `fea` × `o.per` ×
//! `o.fpm`; system permissions (`org:sys_*`) are never in a token, so asking for one is always
//! `false` on the server; every asked dimension must pass, and asking nothing is `false`.

use crate::claims::{Actor, SessionClaims};
use std::sync::Arc;

/// A verified, signed-in session.
///
/// ```
/// use concierge_sdk::{Auth, Check, SessionClaims};
/// use serde_json::json;
///
/// let claims = json!({"sub": "user_1", "sid": "sess_1", "exp": 1760000060, "v": 2,
///     "fea": "o:reports,o:posts",
///     "o": {"id": "org_1", "slg": "acme", "rol": "admin", "per": "export,read,publish", "fpm": "3,6"}});
/// let claims = SessionClaims::from_map(claims.as_object().unwrap().clone()).unwrap();
/// let auth = Auth::from_claims(claims, "eyJ…".into());
/// assert_eq!(auth.org_role.as_deref(), Some("org:admin"));
/// assert!(auth.has(Check::Role("org:admin")));
/// assert!(auth.has(Check::Permission("org:reports:export")));
/// assert!(!auth.has(Check::Permission("org:posts:export")));
/// assert!(!auth.has(Check::Permission("org:sys_memberships:manage")));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Auth {
    /// `sub`.
    pub user_id: String,
    /// `sid`.
    pub session_id: Option<String>,
    /// `sts` (`active` or `pending`).
    pub session_status: Option<String>,
    /// `act`: who is impersonating the user, if anyone.
    pub actor: Option<Actor>,
    /// Active organization id (`o.id` or `org_id`).
    pub org_id: Option<String>,
    /// Active organization slug (`o.slg` or `org_slug`).
    pub org_slug: Option<String>,
    /// Role in the active organization, with the `org:` prefix (`org:admin`).
    pub org_role: Option<String>,
    /// Custom permissions in the active organization (`org:reports:export`); never the system
    /// permissions, which tokens do not carry.
    pub org_permissions: Vec<String>,
    /// `fva`: minutes since the last first- and second-factor verification.
    pub factor_verification_age: Option<[i64; 2]>,
    /// All claims of the token (shared: cloning an `Auth` does not copy them).
    pub session_claims: Arc<SessionClaims>,
    /// The session token itself (to forward to another service).
    pub token: String,
}

/// How recently the user must have verified a factor for [`Check::Reverification`].
///
/// ```
/// use concierge_sdk::{Auth, Check, Reverification, SessionClaims, VerificationLevel};
/// use serde_json::json;
///
/// // `fva`: first factor verified 3 minutes ago, no second factor enrolled (-1).
/// let raw = json!({"sub": "user_1", "exp": 1760000060, "fva": [3, -1]});
/// let auth = Auth::from_claims(SessionClaims::from_map(raw.as_object().unwrap().clone()).unwrap(), String::new());
/// assert!(auth.has(Check::Reverification(Reverification::Strict)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reverification {
    /// Second factor within 10 minutes (multi-factor).
    StrictMfa,
    /// Second factor within 10 minutes.
    Strict,
    /// Second factor within 60 minutes.
    Moderate,
    /// Second factor within 24 hours.
    Lax,
    /// A custom level and age.
    Custom {
        /// Which factor must be fresh.
        level: VerificationLevel,
        /// Maximum age in minutes (must be positive).
        after_minutes: i64,
    },
}

/// The factor a reverification check looks at.
///
/// ```
/// use concierge_sdk::{Auth, Check, Reverification, SessionClaims, VerificationLevel};
/// use serde_json::json;
///
/// // `fva`: first factor verified 3 minutes ago, no second factor enrolled (-1).
/// let raw = json!({"sub": "user_1", "exp": 1760000060, "fva": [3, -1]});
/// let auth = Auth::from_claims(SessionClaims::from_map(raw.as_object().unwrap().clone()).unwrap(), String::new());
/// let recent_first_factor = Reverification::Custom { after_minutes: 5, level: VerificationLevel::FirstFactor };
/// assert!(auth.has(Check::Reverification(recent_first_factor)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationLevel {
    /// The first factor (password, code).
    FirstFactor,
    /// The second factor, or the first when no second factor is enrolled.
    SecondFactor,
    /// Both factors, or the first when no second factor is enrolled.
    MultiFactor,
}

/// One dimension of an authorization question, as in Clerk's `has({...})`.
///
/// ```
/// use concierge_sdk::{Auth, Check, SessionClaims};
/// use serde_json::json;
///
/// let raw = json!({"sub": "user_1", "exp": 1760000060, "v": 2, "fea": "u:exports", "pla": "u:pro"});
/// let auth = Auth::from_claims(SessionClaims::from_map(raw.as_object().unwrap().clone()).unwrap(), String::new());
/// assert!(auth.has(Check::Feature("user:exports")));
/// assert!(auth.has(Check::Plan("pro")));
/// assert!(!auth.has(Check::Role("org:admin")), "no active organization");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check<'a> {
    /// The active organization role (`org:admin`; the prefix is optional).
    Role(&'a str),
    /// A custom permission in the active organization (`org:reports:export`).
    Permission(&'a str),
    /// A feature: `x` (organization or user), `o:x`/`org:x`/`organization:x`, `u:x`/`user:x`.
    Feature(&'a str),
    /// A plan, with the same scopes as features.
    Plan(&'a str),
    /// How recently a factor was verified.
    Reverification(Reverification),
}

fn prefix_with_org(value: &str) -> String {
    let mut rest = value;
    while let Some(stripped) = rest.strip_prefix("org:") {
        rest = stripped;
    }
    format!("org:{rest}")
}

/// Splits a `fea`/`pla` claim into organization and user entries (Clerk's `splitByScope`):
/// scope `o` → organization, `u` → user, `ou`/`uo` → both. `None` if an entry has no `:`.
fn split_by_scope(claim: Option<&str>) -> Option<(Vec<String>, Vec<String>)> {
    let (mut org, mut user) = (Vec::new(), Vec::new());
    let Some(claim) = claim.filter(|c| !c.is_empty()) else {
        return Some((org, user));
    };
    for part in claim.split(',') {
        let (scope, value) = part.trim().split_once(':')?;
        match scope {
            "o" => org.push(value.to_owned()),
            "u" => user.push(value.to_owned()),
            "ou" | "uo" => {
                org.push(value.to_owned());
                user.push(value.to_owned());
            }
            _ => {}
        }
    }
    Some((org, user))
}

/// Bits of a non-negative decimal of any length, least-significant first; `None` if the text
/// is not all digits (such an entry grants nothing).
fn decimal_bits(decimal: &str) -> Option<Vec<bool>> {
    if decimal.is_empty() || !decimal.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: Vec<u8> = decimal.bytes().map(|b| b - b'0').collect();
    let mut bits = Vec::new();
    while digits.iter().any(|&d| d != 0) {
        let mut remainder = 0;
        for digit in digits.iter_mut() {
            let value = remainder * 10 + *digit;
            *digit = value / 2;
            remainder = value % 2;
        }
        bits.push(remainder == 1);
    }
    Some(bits)
}

/// The v2 organization permissions: for the i-th organization feature of `fea`, bit j of the
/// i-th `fpm` entry grants `org:<feature>:<per[j]>` (wire §2.4).
fn v2_permissions(claims: &SessionClaims) -> Vec<String> {
    let Some(org) = &claims.organization else {
        return Vec::new();
    };
    let (Some(per), Some(fpm)) = (
        org.permissions.as_deref().filter(|p| !p.is_empty()),
        org.feature_permission_map
            .as_deref()
            .filter(|f| !f.is_empty()),
    ) else {
        return Vec::new();
    };
    let Some((features, _)) = split_by_scope(claims.features.as_deref()) else {
        return Vec::new();
    };
    let actions: Vec<&str> = per.split(',').map(str::trim).collect();
    let masks: Vec<&str> = fpm.split(',').map(str::trim).collect();
    let mut permissions = Vec::new();
    for (feature, mask) in features.iter().zip(masks) {
        let Some(bits) = decimal_bits(mask) else {
            continue;
        };
        for (action, granted) in actions.iter().zip(bits) {
            if granted {
                permissions.push(format!("org:{feature}:{action}"));
            }
        }
    }
    permissions
}

impl Auth {
    /// Maps verified claims to the auth object (wire §2.4), v2 or v1 by the `v` claim.
    ///
    /// ```
    /// use concierge_sdk::{Auth, Check, SessionClaims};
    /// use serde_json::json;
    ///
    /// let claims = json!({"sub": "user_1", "exp": 1760000060, "org_id": "org_1", "org_role": "org:member",
    ///     "org_permissions": ["org:reports:read"]});
    /// let claims = SessionClaims::from_map(claims.as_object().unwrap().clone()).unwrap();
    /// let auth = Auth::from_claims(claims, "eyJ…".into());
    /// assert_eq!(auth.org_id.as_deref(), Some("org_1"), "v1 claims: org_id at the top level");
    /// assert_eq!(auth.token, "eyJ…");
    /// ```
    pub fn from_claims(claims: SessionClaims, token: String) -> Self {
        let (org_id, org_slug, org_role, org_permissions) = if claims.is_v2() {
            match &claims.organization {
                Some(org) => (
                    org.id.clone(),
                    org.slug.clone(),
                    org.role
                        .as_deref()
                        .filter(|r| !r.is_empty())
                        .map(|r| format!("org:{r}")),
                    v2_permissions(&claims),
                ),
                None => (None, None, None, Vec::new()),
            }
        } else {
            (
                claims.org_id.clone(),
                claims.org_slug.clone(),
                claims.org_role.clone(),
                claims.org_permissions.clone().unwrap_or_default(),
            )
        };
        Self {
            user_id: claims.sub.clone(),
            session_id: claims.sid.clone(),
            session_status: claims.session_status.clone(),
            actor: claims.actor.clone(),
            factor_verification_age: claims.factor_verification_age,
            org_id: org_id.filter(|id| !id.is_empty()),
            org_slug,
            org_role,
            org_permissions,
            session_claims: Arc::new(claims),
            token,
        }
    }

    /// One authorization check (`has({ role: 'org:admin' })`).
    ///
    /// ```
    /// use concierge_sdk::{Auth, Check, SessionClaims};
    /// use serde_json::json;
    ///
    /// let claims = json!({"sub": "user_1", "exp": 1760000060, "org_id": "org_1", "org_role": "org:member",
    ///     "org_permissions": ["org:reports:read"]});
    /// let claims = SessionClaims::from_map(claims.as_object().unwrap().clone()).unwrap();
    /// let auth = Auth::from_claims(claims, "eyJ…".into());
    /// assert!(auth.has(Check::Role("member")), "the org: prefix is optional");
    /// assert!(!auth.has(Check::Role("org:admin")));
    /// ```
    pub fn has(&self, check: Check<'_>) -> bool {
        self.has_all(&[check])
    }

    /// Several checks that must all pass (`has({ role, permission, … })`); an empty list is
    /// `false`, as `has({})`.
    ///
    /// ```
    /// use concierge_sdk::{Auth, Check, SessionClaims};
    /// use serde_json::json;
    ///
    /// let claims = json!({"sub": "user_1", "exp": 1760000060, "org_id": "org_1", "org_role": "org:member",
    ///     "org_permissions": ["org:reports:read"]});
    /// let claims = SessionClaims::from_map(claims.as_object().unwrap().clone()).unwrap();
    /// let auth = Auth::from_claims(claims, "eyJ…".into());
    /// assert!(auth.has_all(&[Check::Role("org:member"), Check::Permission("org:reports:read")]));
    /// assert!(!auth.has_all(&[Check::Role("org:member"), Check::Permission("org:reports:export")]));
    /// assert!(!auth.has_all(&[]), "asking nothing is false");
    /// ```
    pub fn has_all(&self, checks: &[Check<'_>]) -> bool {
        !self.user_id.is_empty() && !checks.is_empty() && checks.iter().all(|c| self.passes(*c))
    }

    fn passes(&self, check: Check<'_>) -> bool {
        match check {
            Check::Role(role) => {
                self.org_id.is_some()
                    && self
                        .org_role
                        .as_deref()
                        .is_some_and(|own| prefix_with_org(own) == prefix_with_org(role))
            }
            Check::Permission(permission) => {
                self.org_id.is_some() && {
                    let wanted = prefix_with_org(permission);
                    self.org_permissions.contains(&wanted)
                }
            }
            Check::Feature(feature) => entitled(self.session_claims.features.as_deref(), feature),
            Check::Plan(plan) => entitled(self.session_claims.plans.as_deref(), plan),
            Check::Reverification(reverification) => {
                fresh_enough(self.factor_verification_age, reverification)
            }
        }
    }
}

/// Clerk's `checkForFeatureOrPlan`: `x` searches both lists, an explicit scope one of them; an
/// unknown scope or a malformed claim fails.
fn entitled(claim: Option<&str>, wanted: &str) -> bool {
    let Some(claim) = claim.filter(|c| !c.is_empty()) else {
        return false;
    };
    let Some((org, user)) = split_by_scope(Some(claim)) else {
        return false;
    };
    let mut parts = wanted.split(':');
    let first = parts.next().unwrap_or_default();
    match parts.next() {
        None => org.iter().chain(&user).any(|f| f == first),
        Some(id) => {
            let id = if id.is_empty() { first } else { id };
            match first {
                "o" | "org" | "organization" => org.iter().any(|f| f == id),
                "u" | "user" => user.iter().any(|f| f == id),
                _ => false,
            }
        }
    }
}

/// Reverification per wire §2.4: a factor is fresh if its age is not -1 and below the limit;
/// second and multi factor fall back to the first when no second factor is enrolled.
fn fresh_enough(ages: Option<[i64; 2]>, reverification: Reverification) -> bool {
    let Some([first, second]) = ages else {
        return false;
    };
    if !(first == -1 || first >= 0) || !(second == -1 || second >= 0) {
        return false;
    }
    let (level, after) = match reverification {
        Reverification::StrictMfa => (VerificationLevel::MultiFactor, 10),
        Reverification::Strict => (VerificationLevel::SecondFactor, 10),
        Reverification::Moderate => (VerificationLevel::SecondFactor, 60),
        Reverification::Lax => (VerificationLevel::SecondFactor, 1_440),
        Reverification::Custom {
            level,
            after_minutes,
        } => (level, after_minutes),
    };
    if after <= 0 {
        return false;
    }
    let first_fresh = first != -1 && after > first;
    let second_fresh = second != -1 && after > second;
    match level {
        VerificationLevel::FirstFactor => first_fresh,
        VerificationLevel::SecondFactor if second == -1 => first_fresh,
        VerificationLevel::SecondFactor => second_fresh,
        VerificationLevel::MultiFactor if second == -1 => first_fresh,
        VerificationLevel::MultiFactor => first_fresh && second_fresh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn auth(claims: Value) -> Auth {
        let claims = SessionClaims::from_map(claims.as_object().unwrap().clone()).unwrap();
        Auth::from_claims(claims, "token".into())
    }

    /// Appendix A: v2 claims with an active organization.
    fn appendix_a() -> Auth {
        auth(json!({
            "iss": "https://clerk.example.test", "sub": "user_2abc", "sid": "sess_2abc",
            "azp": "http://localhost:3000", "iat": 1760000000, "nbf": 1759999990, "exp": 1760000060,
            "v": 2, "sts": "active", "fva": [0, -1], "fea": "o:reports,o:posts",
            "o": { "id": "org_2abc", "slg": "acme", "rol": "admin", "per": "export,read,publish", "fpm": "3,6" }
        }))
    }

    #[test]
    fn v2_claims_map_to_the_auth_object() {
        let auth = appendix_a();
        assert_eq!(auth.user_id, "user_2abc");
        assert_eq!(auth.session_id.as_deref(), Some("sess_2abc"));
        assert_eq!(auth.session_status.as_deref(), Some("active"));
        assert_eq!(auth.org_id.as_deref(), Some("org_2abc"));
        assert_eq!(auth.org_slug.as_deref(), Some("acme"));
        assert_eq!(auth.org_role.as_deref(), Some("org:admin"));
        assert_eq!(
            auth.org_permissions,
            [
                "org:reports:export",
                "org:reports:read",
                "org:posts:read",
                "org:posts:publish"
            ]
        );
        assert_eq!(auth.factor_verification_age, Some([0, -1]));
        assert_eq!(auth.token, "token");
    }

    #[test]
    fn fpm_bits_are_least_significant_first() {
        // wire §2.4's example.
        let auth = auth(json!({"sub": "u", "exp": 1, "v": 2,
            "fea": "o:impersonation,o:memberships",
            "o": {"id": "org_1", "rol": "member", "per": "read,manage", "fpm": "1,3"}}));
        assert_eq!(
            auth.org_permissions,
            [
                "org:impersonation:read",
                "org:memberships:read",
                "org:memberships:manage"
            ]
        );
    }

    #[test]
    fn fea_gates_which_features_the_masks_apply_to() {
        let base = |fea: Value, fpm: &str| {
            auth(json!({"sub": "u", "exp": 1, "v": 2, "fea": fea,
                "o": {"id": "org_1", "rol": "admin", "per": "read,write", "fpm": fpm}}))
        };
        // User-scoped features are skipped; `ou` counts for the organization.
        let a = base(json!("u:billing,o:reports,ou:docs"), "1,2");
        assert_eq!(a.org_permissions, ["org:reports:read", "org:docs:write"]);
        // No fea, or masks without features: nothing.
        assert!(base(json!(null), "3").org_permissions.is_empty());
        // More masks than features, fewer masks than features.
        assert_eq!(base(json!("o:a"), "1,3").org_permissions, ["org:a:read"]);
        assert_eq!(base(json!("o:a,o:b"), "2").org_permissions, ["org:a:write"]);
        // Non-decimal masks grant nothing; bits beyond `per` are ignored; huge masks decode.
        assert_eq!(
            base(json!("o:a,o:b"), "x,0x3").org_permissions,
            Vec::<String>::new()
        );
        assert_eq!(
            base(json!("o:a"), "7").org_permissions,
            ["org:a:read", "org:a:write"]
        );
        assert_eq!(
            base(json!("o:a"), "340282366920938463463374607431768211457").org_permissions,
            ["org:a:read"]
        );
        // A malformed fea (an entry without a scope) grants nothing.
        assert!(base(json!("reports"), "1").org_permissions.is_empty());
        // per or fpm missing: no permissions, the role still counts.
        let no_fpm = auth(json!({"sub": "u", "exp": 1, "v": 2, "fea": "o:a",
            "o": {"id": "org_1", "rol": "admin", "per": "read"}}));
        assert!(no_fpm.org_permissions.is_empty());
        assert!(no_fpm.has(Check::Role("admin")));
    }

    #[test]
    fn roles_compare_with_one_org_prefix() {
        let auth = appendix_a();
        for role in ["org:admin", "admin", "org:org:admin"] {
            assert!(auth.has(Check::Role(role)), "{role}");
        }
        for role in ["org:member", "member", "Admin", ""] {
            assert!(!auth.has(Check::Role(role)), "{role}");
        }
    }

    #[test]
    fn permissions_need_the_exact_key_and_system_permissions_are_never_present() {
        let auth = appendix_a();
        assert!(auth.has(Check::Permission("org:reports:export")));
        assert!(auth.has(Check::Permission("reports:export")));
        assert!(!auth.has(Check::Permission("org:posts:export")));
        for system in [
            "org:sys_memberships:manage",
            "org:sys_memberships:read",
            "org:sys_profile:manage",
            "org:sys_profile:delete",
            "org:sys_domains:manage",
        ] {
            assert!(!auth.has(Check::Permission(system)), "{system}");
        }
        // Even a v1 token that lists a system permission does not make a v2-style grant for
        // other keys; what is listed is what counts.
        let v1 = auth_v1(json!(["org:reports:export"]));
        assert!(!v1.has(Check::Permission("org:sys_memberships:manage")));
    }

    fn auth_v1(permissions: Value) -> Auth {
        auth(
            json!({"sub": "user_1", "exp": 1, "org_id": "org_1", "org_slug": "acme",
            "org_role": "org:admin", "org_permissions": permissions}),
        )
    }

    #[test]
    fn v1_claims() {
        let v1 = auth_v1(json!(["org:reports:export"]));
        assert_eq!(v1.org_id.as_deref(), Some("org_1"));
        assert_eq!(v1.org_slug.as_deref(), Some("acme"));
        assert_eq!(v1.org_role.as_deref(), Some("org:admin"));
        assert!(v1.has(Check::Role("org:admin")));
        assert!(v1.has(Check::Permission("org:reports:export")));
        assert!(!v1.has(Check::Permission("org:reports:read")));
        // v1 ignores the v2 claims, and v2 ignores the v1 ones.
        let mixed = auth_with(json!({"o": {"id": "org_2", "rol": "member"}}));
        assert_eq!(mixed.org_id.as_deref(), Some("org_1"));
        let v2 =
            auth(json!({"sub": "u", "exp": 1, "v": 2, "org_id": "org_1", "org_role": "org:admin"}));
        assert_eq!(v2.org_id, None);
        assert!(!v2.has(Check::Role("org:admin")));
    }

    fn auth_with(extra: Value) -> Auth {
        let mut claims =
            json!({"sub": "user_1", "exp": 1, "org_id": "org_1", "org_role": "org:admin"});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        auth(claims)
    }

    #[test]
    fn personal_workspace_has_no_org_rights() {
        let personal = auth(json!({"sub": "user_1", "exp": 1, "v": 2, "fea": "u:export"}));
        assert_eq!(personal.org_id, None);
        assert_eq!(personal.org_role, None);
        assert!(!personal.has(Check::Role("org:admin")));
        assert!(!personal.has(Check::Permission("org:reports:export")));
        // A role without an organization id does not count either (v1).
        let orphan = auth(json!({"sub": "u", "exp": 1, "org_role": "org:admin"}));
        assert!(!orphan.has(Check::Role("org:admin")));
    }

    #[test]
    fn every_asked_dimension_must_pass() {
        let auth = appendix_a();
        assert!(!auth.has_all(&[]));
        assert!(auth.has_all(&[
            Check::Role("org:admin"),
            Check::Permission("org:posts:publish")
        ]));
        assert!(!auth.has_all(&[
            Check::Role("org:admin"),
            Check::Permission("org:posts:delete")
        ]));
        assert!(!auth.has_all(&[
            Check::Role("org:member"),
            Check::Permission("org:posts:read")
        ]));
        let mut nobody = auth.clone();
        nobody.user_id.clear();
        assert!(!nobody.has(Check::Role("org:admin")));
    }

    #[test]
    fn features_and_plans_by_scope() {
        let entitled = auth(json!({"sub": "u", "exp": 1, "v": 2,
            "fea": "o:reports,u:export,ou:docs", "pla": "o:pro,u:free",
            "o": {"id": "org_1", "rol": "admin"}}));
        for (feature, expected) in [
            ("reports", true),
            ("export", true),
            ("docs", true),
            ("o:reports", true),
            ("org:reports", true),
            ("organization:reports", true),
            ("u:reports", false),
            ("user:export", true),
            ("o:export", false),
            ("x:reports", false),
            ("missing", false),
        ] {
            assert_eq!(entitled.has(Check::Feature(feature)), expected, "{feature}");
        }
        assert!(entitled.has(Check::Plan("pro")));
        assert!(entitled.has(Check::Plan("u:free")));
        assert!(!entitled.has(Check::Plan("o:free")));
        let none = appendix_a();
        assert!(!none.has(Check::Plan("pro")));
        let malformed = auth_with(json!({"fea": "reports"}));
        assert!(!malformed.has(Check::Feature("reports")));
    }

    #[test]
    fn reverification_levels() {
        let with_fva = |fva: Value| auth_with(json!({ "fva": fva }));
        let fresh = with_fva(json!([5, -1]));
        assert!(fresh.has(Check::Reverification(Reverification::Strict)));
        assert!(fresh.has(Check::Reverification(Reverification::StrictMfa)));
        let stale = with_fva(json!([30, -1]));
        assert!(!stale.has(Check::Reverification(Reverification::Strict)));
        assert!(stale.has(Check::Reverification(Reverification::Moderate)));
        assert!(stale.has(Check::Reverification(Reverification::Lax)));
        let two = with_fva(json!([30, 5]));
        assert!(two.has(Check::Reverification(Reverification::Strict)));
        assert!(!two.has(Check::Reverification(Reverification::StrictMfa)));
        let custom = |level, after_minutes| {
            Check::Reverification(Reverification::Custom {
                level,
                after_minutes,
            })
        };
        assert!(two.has(custom(VerificationLevel::FirstFactor, 31)));
        assert!(!two.has(custom(VerificationLevel::FirstFactor, 30)));
        assert!(!two.has(custom(VerificationLevel::FirstFactor, 0)));
        assert!(!with_fva(json!([-1, -1])).has(custom(VerificationLevel::FirstFactor, 10)));
        assert!(!auth_with(json!({})).has(Check::Reverification(Reverification::Lax)));
        assert!(!with_fva(json!([-5, 1])).has(Check::Reverification(Reverification::Lax)));
    }
}
