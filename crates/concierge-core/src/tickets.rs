//! Invitation tickets (wire §6.3, §6.4, §6.8) and instance invitations (§8.2): the instance
//! invitation entity, which invitation a ticket redeems, and where an invitation link lands.
//!
//! A ticket is a token that stands for one pending invitation; the rules for signing and
//! checking it live in the service (only `concierge-tokens` touches keys). This module keeps
//! the pure parts: statuses, the landing page of `GET /v1/tickets/accept`, and the checks on a
//! `redirect_url`.

use crate::clock::Millis;
use crate::entities::Instance;
use crate::error::CoreError;
use crate::ids::*;
use crate::organizations::InvitationStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An invitation to sign up to the instance (`object: "invitation"`, ids `inv_…`).
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    /// Stable identifier.
    pub id: InvitationId,
    /// Owning instance.
    pub instance_id: InstanceId,
    /// Normalized email address of the invitee.
    pub email_address: String,
    /// Copied to the user's public metadata when the invitee signs up.
    pub public_metadata: Value,
    /// Where the invitation link leads (an allowed origin, or a path on the instance's pages).
    pub redirect_url: Option<String>,
    /// Stored status; a pending invitation past `expires_at` reads as `expired`.
    pub status: InvitationStatus,
    /// End of validity.
    pub expires_at: Millis,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

impl Invitation {
    /// The status as of `now` (`expired` for a pending invitation past its validity).
    pub fn status_at(&self, now: Millis) -> &'static str {
        if self.status == InvitationStatus::Pending && now >= self.expires_at {
            "expired"
        } else {
            self.status.as_str()
        }
    }
}

/// Default validity of an instance invitation (30 days, as Clerk).
pub const INSTANCE_INVITATION_LIFETIME_DAYS: i64 = 30;

/// The invitation a ticket stands for; kept on a sign-up started with the ticket strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum InvitationRef {
    /// An invitation to join an organization.
    Organization(OrganizationInvitationId),
    /// An invitation to the instance.
    Instance(InvitationId),
}

impl InvitationRef {
    /// The `st` claim of the ticket (what the token is for).
    pub fn ticket_type(&self) -> &'static str {
        match self {
            Self::Organization(_) => "organization_invitation",
            Self::Instance(_) => "invitation",
        }
    }

    /// The invitation's id as a string (the ticket's `sub`).
    pub fn id(&self) -> &str {
        match self {
            Self::Organization(id) => id.as_str(),
            Self::Instance(id) => id.as_str(),
        }
    }

    /// Reads back the `st` and `sub` claims; `None` for anything that is not a ticket.
    pub fn from_claims(ticket_type: &str, subject: &str) -> Option<Self> {
        match ticket_type {
            "organization_invitation" => OrganizationInvitationId::parse(subject)
                .ok()
                .map(Self::Organization),
            "invitation" => InvitationId::parse(subject).ok().map(Self::Instance),
            _ => None,
        }
    }
}

/// What the invitee should do next (`__clerk_status` of the landing URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    /// No account uses the invited address yet: `<SignUp/>` takes the ticket.
    SignUp,
    /// The address belongs to a user: `<SignIn/>` signs them in with the ticket.
    SignIn,
    /// The invitation was already accepted; nothing is left to redeem.
    Complete,
}

impl TicketStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "sign_up",
            Self::SignIn => "sign_in",
            Self::Complete => "complete",
        }
    }
}

/// Checks a `redirect_url` given when an invitation is created: an absolute http(s) URL on an
/// origin the instance accepts, or a path (`/accept`) resolved against the instance's own
/// pages when the link is followed. Anything else is `form_param_format_invalid`, so that a
/// ticket is never handed to a foreign site.
pub fn check_redirect_url(instance: &Instance, raw: &str) -> Result<String, CoreError> {
    let invalid = CoreError::FormatInvalid {
        param: "redirect_url",
    };
    let raw = raw.trim();
    if raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\') {
        return Ok(raw.to_owned());
    }
    let url = url::Url::parse(raw).map_err(|_| invalid.clone())?;
    if !matches!(url.scheme(), "http" | "https")
        || !instance.accepts_origin(&url.origin().ascii_serialization())
    {
        return Err(invalid);
    }
    Ok(url.to_string())
}

/// The instance's own page for `status` (sign-in page for `sign_in` and `complete`, sign-up
/// page for `sign_up`), else its home page, else its first allowed origin.
fn default_page(instance: &Instance, status: TicketStatus) -> Option<url::Url> {
    let settings = &instance.settings;
    let page = match status {
        TicketStatus::SignUp => &settings.sign_up_url,
        TicketStatus::SignIn | TicketStatus::Complete => &settings.sign_in_url,
    };
    [page, &settings.home_url]
        .into_iter()
        .chain(instance.allowed_origins.iter())
        .filter(|u| !u.is_empty())
        .find_map(|u| url::Url::parse(u).ok())
}

/// Where `GET /v1/tickets/accept` sends the browser (wire §6.8, "accept invitation (email
/// link)"): the invitation's `redirect_url` (a path is resolved against the instance's page for
/// `status`), else that page, with `__clerk_status` and, while the invitation can still be
/// redeemed, `__clerk_ticket` added to the query. An absolute `redirect_url` whose origin the
/// instance no longer accepts is refused rather than followed.
pub fn landing_url(
    instance: &Instance,
    redirect_url: Option<&str>,
    status: TicketStatus,
    ticket: Option<&str>,
) -> Result<String, CoreError> {
    let redirect_url = redirect_url.map(str::trim).filter(|u| !u.is_empty());
    let mut target = match redirect_url {
        Some(raw) if raw.starts_with('/') => {
            let base = default_page(instance, status).ok_or(CoreError::NoRedirectTarget)?;
            base.join(raw)
                .map_err(|_| CoreError::RedirectUrlNotAllowed)?
        }
        Some(raw) => {
            let url = url::Url::parse(raw).map_err(|_| CoreError::RedirectUrlNotAllowed)?;
            if !matches!(url.scheme(), "http" | "https")
                || !instance.accepts_origin(&url.origin().ascii_serialization())
            {
                return Err(CoreError::RedirectUrlNotAllowed);
            }
            url
        }
        None => default_page(instance, status).ok_or(CoreError::NoRedirectTarget)?,
    };
    let kept: Vec<(String, String)> = target
        .query_pairs()
        .filter(|(k, _)| k != "__clerk_ticket" && k != "__clerk_status")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut query = target.query_pairs_mut();
        query.clear();
        query.extend_pairs(kept);
        if let Some(ticket) = ticket {
            query.append_pair("__clerk_ticket", ticket);
        }
        query.append_pair("__clerk_status", status.as_str());
    }
    Ok(target.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::InstanceSettings;

    fn instance(origins: &[&str], localhost: bool) -> Instance {
        Instance {
            id: InstanceId::from_trusted("ins_1".into()),
            name: "default".into(),
            frontend_host: "clerk.example.test".into(),
            publishable_key: String::new(),
            secret_key: String::new(),
            allowed_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            allow_localhost: localhost,
            test_mode: false,
            settings: InstanceSettings::default(),
            created_at: 0,
        }
    }

    #[test]
    fn redirect_urls_must_stay_on_accepted_origins() {
        let inst = instance(&["https://app.example.com"], true);
        assert_eq!(
            check_redirect_url(&inst, "https://app.example.com/join?x=1").unwrap(),
            "https://app.example.com/join?x=1"
        );
        assert_eq!(
            check_redirect_url(&inst, "http://localhost:3000/sign-up").unwrap(),
            "http://localhost:3000/sign-up"
        );
        assert_eq!(check_redirect_url(&inst, "/accept").unwrap(), "/accept");
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "javascript:alert(1)",
            "app.example.com/join",
        ] {
            assert!(check_redirect_url(&inst, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn landing_adds_ticket_and_status() {
        let inst = instance(&["https://app.example.com"], false);
        let url = landing_url(
            &inst,
            Some("https://app.example.com/join?__clerk_ticket=old&x=1"),
            TicketStatus::SignUp,
            Some("t.k.n"),
        )
        .unwrap();
        assert_eq!(
            url,
            "https://app.example.com/join?x=1&__clerk_ticket=t.k.n&__clerk_status=sign_up"
        );
    }

    #[test]
    fn landing_falls_back_to_the_instance_pages() {
        let mut inst = instance(&["https://app.example.com"], false);
        assert_eq!(
            landing_url(&inst, None, TicketStatus::Complete, None).unwrap(),
            "https://app.example.com/?__clerk_status=complete"
        );
        inst.settings.sign_in_url = "https://app.example.com/sign-in".into();
        inst.settings.sign_up_url = "https://app.example.com/sign-up".into();
        assert_eq!(
            landing_url(&inst, None, TicketStatus::SignIn, Some("t")).unwrap(),
            "https://app.example.com/sign-in?__clerk_ticket=t&__clerk_status=sign_in"
        );
        assert_eq!(
            landing_url(&inst, Some("/welcome"), TicketStatus::SignUp, Some("t")).unwrap(),
            "https://app.example.com/welcome?__clerk_ticket=t&__clerk_status=sign_up"
        );
    }

    #[test]
    fn landing_refuses_foreign_or_missing_targets() {
        let inst = instance(&[], true);
        assert_eq!(
            landing_url(
                &inst,
                Some("https://evil.example/"),
                TicketStatus::SignUp,
                None
            ),
            Err(CoreError::RedirectUrlNotAllowed)
        );
        assert_eq!(
            landing_url(&inst, None, TicketStatus::SignUp, None),
            Err(CoreError::NoRedirectTarget)
        );
        assert!(landing_url(
            &inst,
            Some("http://localhost:5173/x"),
            TicketStatus::SignUp,
            None
        )
        .is_ok());
    }

    #[test]
    fn ticket_claims_round_trip() {
        let id = InvitationId::from_trusted("inv_abc".into());
        let reference = InvitationRef::Instance(id);
        assert_eq!(
            InvitationRef::from_claims(reference.ticket_type(), reference.id()),
            Some(reference)
        );
        assert_eq!(InvitationRef::from_claims("invitation", "orginv_abc"), None);
        assert_eq!(InvitationRef::from_claims("session", "inv_abc"), None);
    }
}
