//! Organization sync, `@clerk/backend`'s `organizationSyncOptions` (wire §4.5 row 12, §5.1):
//! URL patterns that name an organization (`/orgs/:slug`, `/orgs/:id/(.*)`) or the personal
//! account. When a signed-in document request's URL names an organization other than the
//! session's active one, [`Clerk::authenticate`](crate::Clerk::authenticate) answers a
//! handshake with reason `active-organization-mismatch` and `organization_id=<id or slug>`;
//! the Frontend API switches the session's organization and the browser comes back with a
//! token for it. Personal-account patterns ask for `organization_id=` (empty).
//!
//! Patterns use the syntax of [`PathPattern`]; organization patterns must contain `:id` or
//! `:slug` (`:id` wins when a pattern has both). Organization patterns are tried first.

use crate::matcher::{PathPattern, PatternError};

/// Which organization a URL asks for.
///
/// ```
/// use concierge_sdk::OrganizationSyncTarget;
///
/// let target = OrganizationSyncTarget::Organization { id: Some("org_2x".into()), slug: None };
/// assert_eq!(target.handshake_value(), "org_2x");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganizationSyncTarget {
    /// An organization named by the `:id` or `:slug` parameter.
    Organization {
        /// The `:id` parameter (`org_…`), if the pattern has one.
        id: Option<String>,
        /// The `:slug` parameter, if the pattern has one and no `:id`.
        slug: Option<String>,
    },
    /// The personal account (no active organization).
    PersonalAccount,
}

impl OrganizationSyncTarget {
    /// The handshake's `organization_id` value: the id, else the slug; empty for the
    /// personal account.
    ///
    /// ```
    /// use concierge_sdk::OrganizationSyncTarget;
    ///
    /// let by_slug = OrganizationSyncTarget::Organization { id: None, slug: Some("acme".into()) };
    /// assert_eq!(by_slug.handshake_value(), "acme");
    /// assert_eq!(OrganizationSyncTarget::PersonalAccount.handshake_value(), "");
    /// ```
    pub fn handshake_value(&self) -> &str {
        match self {
            Self::Organization { id: Some(id), .. } => id,
            Self::Organization {
                slug: Some(slug), ..
            } => slug,
            Self::Organization { .. } | Self::PersonalAccount => "",
        }
    }

    /// Whether a session whose active organization is `org_id`/`org_slug` must switch.
    ///
    /// ```
    /// use concierge_sdk::OrganizationSyncTarget;
    ///
    /// let acme = OrganizationSyncTarget::Organization { id: None, slug: Some("acme".into()) };
    /// assert!(!acme.mismatches(Some("org_1"), Some("acme")));
    /// assert!(acme.mismatches(Some("org_2"), Some("globex")));
    /// assert!(OrganizationSyncTarget::PersonalAccount.mismatches(Some("org_1"), Some("acme")));
    /// ```
    pub fn mismatches(&self, org_id: Option<&str>, org_slug: Option<&str>) -> bool {
        match self {
            Self::Organization { id: Some(id), .. } => Some(id.as_str()) != org_id,
            Self::Organization {
                slug: Some(slug), ..
            } => Some(slug.as_str()) != org_slug,
            Self::Organization { .. } => false,
            Self::PersonalAccount => org_id.is_some(),
        }
    }
}

/// Organization and personal-account URL patterns.
///
/// ```
/// use concierge_sdk::{OrganizationSyncOptions, OrganizationSyncTarget};
///
/// let sync = OrganizationSyncOptions::new()
///     .organization_patterns(["/orgs/:slug", "/orgs/:slug/(.*)", "/by-id/:id/(.*)"])?
///     .personal_account_patterns(["/me", "/me/(.*)"])?;
/// assert_eq!(
///     sync.find_target("/orgs/acme/tasks"),
///     Some(OrganizationSyncTarget::Organization { id: None, slug: Some("acme".into()) })
/// );
/// assert_eq!(sync.find_target("/by-id/org_2x/settings").unwrap().handshake_value(), "org_2x");
/// assert_eq!(sync.find_target("/me"), Some(OrganizationSyncTarget::PersonalAccount));
/// assert_eq!(sync.find_target("/pricing"), None);
/// # Ok::<(), concierge_sdk::matcher::PatternError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct OrganizationSyncOptions {
    organization: Vec<PathPattern>,
    personal_account: Vec<PathPattern>,
}

fn compile<I, S>(patterns: I) -> Result<Vec<PathPattern>, PatternError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    patterns
        .into_iter()
        .map(|p| PathPattern::new(p.as_ref()))
        .collect()
}

impl OrganizationSyncOptions {
    /// No patterns: nothing is synced.
    ///
    /// ```
    /// use concierge_sdk::OrganizationSyncOptions;
    ///
    /// assert!(OrganizationSyncOptions::new().find_target("/orgs/acme").is_none());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// URL patterns naming an organization with `:id` or `:slug` (replaces earlier ones).
    ///
    /// ```
    /// use concierge_sdk::OrganizationSyncOptions;
    ///
    /// let sync = OrganizationSyncOptions::new().organization_patterns(["/orgs/:slug/(.*)"])?;
    /// assert_eq!(sync.find_target("/orgs/acme/tasks").unwrap().handshake_value(), "acme");
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn organization_patterns<I, S>(mut self, patterns: I) -> Result<Self, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.organization = compile(patterns)?;
        Ok(self)
    }

    /// URL patterns of the personal account (replaces earlier ones).
    ///
    /// ```
    /// use concierge_sdk::OrganizationSyncOptions;
    ///
    /// use concierge_sdk::OrganizationSyncTarget;
    ///
    /// let sync = OrganizationSyncOptions::new().personal_account_patterns(["/me(.*)"])?;
    /// assert_eq!(sync.find_target("/me/settings"), Some(OrganizationSyncTarget::PersonalAccount));
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn personal_account_patterns<I, S>(mut self, patterns: I) -> Result<Self, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.personal_account = compile(patterns)?;
        Ok(self)
    }

    /// What the URL path asks for: the first matching organization pattern that yields an id
    /// or slug, else a matching personal-account pattern, else `None`.
    ///
    /// ```
    /// use concierge_sdk::OrganizationSyncOptions;
    ///
    /// let sync = OrganizationSyncOptions::new().organization_patterns(["/by-id/:id"])?;
    /// assert_eq!(sync.find_target("/by-id/org_2x").unwrap().handshake_value(), "org_2x");
    /// assert_eq!(sync.find_target("/pricing"), None);
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn find_target(&self, path: &str) -> Option<OrganizationSyncTarget> {
        for pattern in &self.organization {
            let Some(params) = pattern.captures(path) else {
                continue;
            };
            let id = params.get("id").filter(|v| !v.is_empty()).cloned();
            let slug = params.get("slug").filter(|v| !v.is_empty()).cloned();
            match (id, slug) {
                (Some(id), _) => {
                    return Some(OrganizationSyncTarget::Organization {
                        id: Some(id),
                        slug: None,
                    })
                }
                (None, Some(slug)) => {
                    return Some(OrganizationSyncTarget::Organization {
                        id: None,
                        slug: Some(slug),
                    })
                }
                (None, None) => tracing::warn!(
                    pattern = pattern.as_str(),
                    "organization pattern matched without an :id or :slug parameter"
                ),
            }
            // Like @clerk/backend, a match without parameters falls through to the
            // personal-account patterns.
            break;
        }
        self.personal_account
            .iter()
            .any(|p| p.is_match(path))
            .then_some(OrganizationSyncTarget::PersonalAccount)
    }

    /// Whether any pattern is configured.
    ///
    /// ```
    /// use concierge_sdk::OrganizationSyncOptions;
    ///
    /// assert!(OrganizationSyncOptions::new().is_empty());
    /// assert!(!OrganizationSyncOptions::new().organization_patterns(["/orgs/:slug"])?.is_empty());
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.organization.is_empty() && self.personal_account.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync() -> OrganizationSyncOptions {
        OrganizationSyncOptions::new()
            .organization_patterns(["/orgs/:slug", "/orgs/:slug/(.*)", "/ids/:id/:slug"])
            .unwrap()
            .personal_account_patterns(["/personal", "/personal/(.*)"])
            .unwrap()
    }

    #[test]
    fn targets() {
        let slug = |s: &str| OrganizationSyncTarget::Organization {
            id: None,
            slug: Some(s.into()),
        };
        assert_eq!(sync().find_target("/orgs/acme"), Some(slug("acme")));
        assert_eq!(sync().find_target("/orgs/acme/"), Some(slug("acme")));
        assert_eq!(sync().find_target("/orgs/acme/tasks/1"), Some(slug("acme")));
        assert_eq!(
            sync().find_target("/ids/org_1/acme"),
            Some(OrganizationSyncTarget::Organization {
                id: Some("org_1".into()),
                slug: None
            }),
            ":id wins over :slug"
        );
        assert_eq!(
            sync().find_target("/personal/settings"),
            Some(OrganizationSyncTarget::PersonalAccount)
        );
        assert_eq!(sync().find_target("/orgs"), None);
        assert_eq!(sync().find_target("/"), None);
        assert!(OrganizationSyncOptions::new()
            .find_target("/orgs/a")
            .is_none());
        assert!(OrganizationSyncOptions::new()
            .organization_patterns(["/orgs/(unclosed"])
            .is_err());
    }

    #[test]
    fn a_match_without_parameters_falls_through_to_personal_patterns() {
        let sync = OrganizationSyncOptions::new()
            .organization_patterns(["/home"])
            .unwrap()
            .personal_account_patterns(["/home"])
            .unwrap();
        assert_eq!(
            sync.find_target("/home"),
            Some(OrganizationSyncTarget::PersonalAccount)
        );
    }

    #[test]
    fn mismatch_rules() {
        let by_slug = OrganizationSyncTarget::Organization {
            id: None,
            slug: Some("acme".into()),
        };
        assert!(!by_slug.mismatches(Some("org_1"), Some("acme")));
        assert!(by_slug.mismatches(Some("org_1"), Some("globex")));
        assert!(by_slug.mismatches(None, None));
        assert_eq!(by_slug.handshake_value(), "acme");
        let by_id = OrganizationSyncTarget::Organization {
            id: Some("org_1".into()),
            slug: None,
        };
        assert!(!by_id.mismatches(Some("org_1"), None));
        assert!(by_id.mismatches(Some("org_2"), Some("acme")));
        let personal = OrganizationSyncTarget::PersonalAccount;
        assert!(personal.mismatches(Some("org_1"), None));
        assert!(!personal.mismatches(None, None));
        assert_eq!(personal.handshake_value(), "");
    }
}
