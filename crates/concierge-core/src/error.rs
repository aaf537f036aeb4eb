//! Domain refusals. Each variant maps to exactly one Clerk error code in `concierge-http`.

/// A rule of the domain refused the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// A field is malformed (`form_param_format_invalid`).
    #[error("{param} is invalid")]
    FormatInvalid {
        /// The offending parameter, as named on the wire.
        param: &'static str,
    },
    /// A required field is missing (`form_param_missing`).
    #[error("{param} is missing")]
    ParamMissing {
        /// The missing parameter.
        param: &'static str,
    },
    /// An identifier (email, username, external id) is already taken (`form_identifier_exists`).
    #[error("{param} is taken")]
    IdentifierExists {
        /// The parameter that collided.
        param: &'static str,
    },
    /// Password shorter than the policy minimum.
    #[error("password too short")]
    PasswordTooShort {
        /// The minimum length.
        min: usize,
    },
    /// Password over 72 bytes.
    #[error("password too long")]
    PasswordTooLong,
    /// The password is wrong.
    #[error("password incorrect")]
    PasswordIncorrect,
    /// The user has no password.
    #[error("user has no password")]
    NoPasswordSet,
    /// A hash digest given on import is not understood.
    #[error("password digest invalid")]
    PasswordDigestInvalid,
    /// The session is not active (ended, revoked, expired, …).
    #[error("session is not active")]
    SessionNotActive,
    /// The user is banned.
    #[error("user is banned")]
    UserBanned,
    /// The user is locked.
    #[error("user is locked")]
    UserLocked,
    /// A JWT template name is unknown.
    #[error("template not found")]
    TemplateNotFound,
    /// A value is out of its allowed range.
    #[error("{param} is out of range")]
    OutOfRange {
        /// The offending parameter.
        param: &'static str,
    },
    /// A one-time code is wrong (`form_code_incorrect`).
    #[error("code incorrect")]
    CodeIncorrect,
    /// A one-time code's lifetime ended (`verification_expired`).
    #[error("verification expired")]
    VerificationExpired,
    /// Too many wrong codes (`verification_failed`).
    #[error("verification failed")]
    VerificationFailed,
    /// The verification already succeeded.
    #[error("already verified")]
    VerificationAlreadyVerified,
    /// A code was tried before one was sent.
    #[error("verification not prepared")]
    VerificationNotPrepared,
    /// No user has this identifier (`form_identifier_not_found`).
    #[error("identifier not found")]
    IdentifierNotFound,
    /// Single-session mode and the client is already signed in (`session_exists`).
    #[error("session exists")]
    SessionExists,
    /// The strategy cannot be used for this user or step (`strategy_for_user_invalid`).
    #[error("strategy not allowed")]
    StrategyNotAllowed,
    /// The browser has no client or no active session (`authentication_invalid`).
    #[error("not signed in")]
    NotSignedIn,
    /// The sign-in or sign-up is complete or abandoned and cannot go on.
    #[error("flow finished")]
    FlowFinished,
    /// The new password equals the current one.
    #[error("new password matches current")]
    NewPasswordMatchesCurrent,
    /// The last identification of a user cannot be removed.
    #[error("last identification")]
    LastIdentification,
    /// Self-service deletion is disabled for this user.
    #[error("delete self disabled")]
    DeleteSelfDisabled,
    /// The user is already a member of the organization.
    #[error("already a member")]
    AlreadyMember,
    /// The organization has reached its membership limit.
    #[error("membership limit reached")]
    MembershipLimitReached,
    /// The user has created as many organizations as the instance allows.
    #[error("organization create limit reached")]
    OrganizationCreateLimitReached,
    /// The member's role lacks the system permission this action needs.
    #[error("not allowed")]
    PermissionDenied,
    /// The action would leave the organization without an admin.
    #[error("last admin")]
    LastAdmin,
    /// The invitation was already accepted, revoked or has expired.
    #[error("invitation not pending")]
    InvitationNotPending,
    /// The domain is a public email provider (`organization_domain_common`).
    #[error("common email domain")]
    DomainCommon,
    /// Another organization of the instance (or this one) already has the domain
    /// (`organization_domain_already_exists`).
    #[error("domain exists")]
    DomainExists,
    /// The suggestion was already accepted.
    #[error("suggestion not pending")]
    SuggestionNotPending,
    /// The membership request was already accepted or rejected.
    #[error("membership request not pending")]
    MembershipRequestNotPending,
    /// A ticket is malformed, forged, for another instance or for no invitation (`ticket_invalid_code`).
    #[error("ticket invalid")]
    TicketInvalid,
    /// The ticket's invitation has expired (`ticket_expired_code`).
    #[error("ticket expired")]
    TicketExpired,
    /// The ticket's organization invitation was revoked.
    #[error("organization invitation revoked")]
    OrganizationInvitationRevoked,
    /// The ticket's organization invitation was already accepted.
    #[error("organization invitation already accepted")]
    OrganizationInvitationAccepted,
    /// A sign-in ticket names an address no user has (`invitation_account_not_exists`).
    #[error("invitation account does not exist")]
    InvitationAccountNotExists,
    /// A pending invitation to this address already exists (`duplicate_record`).
    #[error("invitation exists")]
    InvitationExists,
    /// An invitation's absolute `redirect_url` is not on an origin the instance accepts.
    #[error("redirect url not allowed")]
    RedirectUrlNotAllowed,
    /// An invitation link has nowhere to land: no `redirect_url` and no page configured.
    #[error("no redirect target")]
    NoRedirectTarget,
    /// Only a pending instance invitation can be revoked.
    #[error("invitation not revocable")]
    InvitationNotRevocable,
    /// The role is not one of the organization's role set (or of the role set being changed).
    #[error("{param} is not in the role set")]
    RoleNotInRoleSet {
        /// The parameter that named the role.
        param: &'static str,
    },
    /// The role is a role set's default or creator role, which must stay in the set.
    #[error("role required by a role set")]
    RoleRequiredByRoleSet {
        /// The parameter that named the role.
        param: &'static str,
    },
    /// The initial role set can be neither replaced nor made custom.
    #[error("initial role set")]
    InitialRoleSet,
    /// Members hold a role that the target role set lacks and no reassignment was given.
    #[error("reassignment needed for {role}")]
    RoleReassignmentMissing {
        /// The role that needs a mapping.
        role: String,
        /// The parameter that chose the target role set.
        param: &'static str,
    },
}
