//! The one table from errors to the wire (STYLE §2.2, wire §7): status, `code`, `message`,
//! `long_message` and `meta.param_name`. Unexpected errors become a generic 500 whose cause is
//! logged here, once, with the trace id that the client also receives.

use super::trace::current_trace_id;
use axum::response::{IntoResponse, Response};
use concierge_core::CoreError;
use concierge_service::ServiceError;
use concierge_service::StoreError;
use concierge_wire::{ErrorEnvelope, ErrorItem, ErrorMeta};
use http::{header, HeaderValue, StatusCode};

/// An error answer in Clerk's envelope.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine code.
    pub code: &'static str,
    /// Short message.
    pub message: String,
    /// Sentence for people.
    pub long_message: String,
    /// Form field concerned.
    pub param_name: Option<String>,
    /// Seconds to wait, for 429 answers.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// A new error without a field.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        long_message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            long_message: long_message.into(),
            param_name: None,
            retry_after: None,
        }
    }

    /// Attaches the form field the error belongs to.
    pub fn param(mut self, name: impl Into<String>) -> Self {
        self.param_name = Some(name.into());
        self
    }

    /// 404 `resource_not_found`.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            "not found",
            "The requested resource was not found.",
        )
    }

    /// 404 for a path no route serves.
    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            "not found",
            "The requested resource or endpoint does not exist.",
        )
    }

    /// 405 for a known path with another method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed",
            "This endpoint does not support this HTTP method.",
        )
    }

    /// 401 for a missing `Authorization` header on the Backend API.
    pub fn missing_secret_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication_invalid",
            "missing secret key",
            "The request is missing the Authorization header with your secret key (Bearer sk_…).",
        )
    }

    /// 401 for a secret key that matches no instance (the code the SDK maps to `secret-key-invalid`).
    pub fn invalid_secret_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "clerk_key_invalid",
            "secret key invalid",
            "The provided secret key is invalid. Make sure that your secret key is correct.",
        )
    }

    /// 400 for a body that is not valid JSON.
    pub fn malformed_body(detail: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "malformed request body",
            format!("The request body could not be parsed: {detail}."),
        )
    }

    /// 400 for a body over the size limit.
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "request_body_too_large",
            "request body too large",
            format!("The request body exceeds the limit of {limit} bytes."),
        )
    }

    /// 422 `form_param_format_invalid` for one field.
    pub fn format_invalid(param: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_format_invalid",
            "is invalid",
            format!("{} is invalid.", humanize(param)),
        )
        .param(param)
    }

    /// 422 `form_param_missing` for one field.
    pub fn param_missing(param: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_missing",
            "missing data",
            format!("{} is missing.", humanize(param)),
        )
        .param(param)
    }

    /// 422 `incorrect_password` from `POST /v1/users/{id}/verify_password` (wire §8.2).
    pub fn incorrect_password() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "incorrect_password",
            "incorrect password",
            "The password is incorrect.",
        )
        .param("password")
    }

    /// 500 with no detail for the client.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_clerk_error",
            "Oops, an unexpected error occurred",
            "There was an internal error on our servers. The error has been logged with the trace id in this response.",
        )
    }
}

fn humanize(param: &str) -> String {
    let mut text = param.replace('_', " ");
    if let Some(first) = text.get(0..1) {
        let upper = first.to_uppercase();
        text.replace_range(0..1, &upper);
    }
    text
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        use StatusCode as S;
        match err {
            CoreError::FormatInvalid { param } => ApiError::format_invalid(param),
            CoreError::ParamMissing { param } => ApiError::param_missing(param),
            CoreError::IdentifierExists { param } => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "form_identifier_exists",
                "is taken",
                format!(
                    "That {} is taken. Please try another.",
                    humanize(param).to_lowercase()
                ),
            )
            .param(param),
            CoreError::PasswordTooShort { min } => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "form_password_length_too_short",
                "is too short",
                format!("Passwords must be {min} characters or more."),
            )
            .param("password"),
            CoreError::PasswordTooLong => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "form_password_size_in_bytes_exceeded",
                "is too long",
                "Passwords may be at most 72 bytes long.",
            )
            .param("password"),
            CoreError::PasswordIncorrect => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "form_password_incorrect",
                "is incorrect",
                "Password is incorrect. Try again, or use another method.",
            )
            .param("password"),
            CoreError::NoPasswordSet => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "no_password_set",
                "no password set",
                "This user has no password set.",
            )
            .param("password"),
            CoreError::PasswordDigestInvalid => ApiError::format_invalid("password_digest"),
            CoreError::SessionNotActive => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "session_not_active",
                "session is not active",
                "This session is no longer active: it has ended, expired or been revoked.",
            ),
            CoreError::UserBanned => ApiError::new(
                S::FORBIDDEN,
                "user_banned",
                "user is banned",
                "This account is banned.",
            ),
            CoreError::UserLocked => ApiError::new(
                S::FORBIDDEN,
                "user_locked",
                "account locked",
                "Your account is locked. You will be able to try again later.",
            ),
            CoreError::TemplateNotFound => ApiError::new(
                S::NOT_FOUND,
                "resource_not_found",
                "not found",
                "JWT template not found.",
            )
            .param("template_name"),
            CoreError::CodeIncorrect => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "form_code_incorrect",
                "is incorrect",
                "Incorrect code. Check the code in your email and try again.",
            )
            .param("code"),
            CoreError::VerificationExpired => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "verification_expired",
                "expired",
                "This verification code has expired. Request a new code.",
            )
            .param("code"),
            CoreError::VerificationFailed => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "verification_failed",
                "too many failed attempts",
                "Too many failed attempts. Request a new code.",
            )
            .param("code"),
            CoreError::VerificationAlreadyVerified => ApiError::new(
                S::BAD_REQUEST,
                "verification_already_verified",
                "already verified",
                "This has already been verified.",
            )
            .param("code"),
            CoreError::VerificationNotPrepared => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "verification_missing",
                "no code was sent",
                "No verification code was sent yet. Request a code first.",
            )
            .param("code"),
            CoreError::IdentifierNotFound => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "form_identifier_not_found",
                "Couldn't find your account.",
                "Couldn't find your account.",
            )
            .param("identifier"),
            CoreError::SessionExists => ApiError::new(
                S::BAD_REQUEST,
                "session_exists",
                "You're already signed in.",
                "You're already signed in.",
            ),
            CoreError::StrategyNotAllowed => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "strategy_for_user_invalid",
                "strategy not allowed",
                "This verification strategy is not available for this account.",
            )
            .param("strategy"),
            CoreError::NotSignedIn => ApiError::new(
                S::UNAUTHORIZED,
                "authentication_invalid",
                "Unauthenticated",
                "You are not signed in, or your session is no longer active.",
            ),
            CoreError::FlowFinished => ApiError::new(
                S::BAD_REQUEST,
                "client_state_invalid",
                "cannot continue",
                "This sign-in or sign-up can no longer be continued. Start again.",
            ),
            CoreError::NewPasswordMatchesCurrent => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "form_new_password_matches_current",
                "matches current password",
                "Your new password must be different from your current one.",
            )
            .param("new_password"),
            CoreError::LastIdentification => ApiError::new(
                S::FORBIDDEN,
                "last_required_identification_deletion_failed",
                "cannot delete the last identification",
                "You cannot delete your last email address.",
            ),
            CoreError::DeleteSelfDisabled => ApiError::new(
                S::FORBIDDEN,
                "not_allowed_access",
                "not allowed",
                "Deleting your own account is disabled.",
            ),
            CoreError::AlreadyMember => ApiError::new(
                S::BAD_REQUEST,
                "already_a_member_in_organization",
                "already a member",
                "This user is already a member of the organization.",
            )
            .param("user_id"),
            CoreError::OrganizationCreateLimitReached => ApiError::new(
                S::FORBIDDEN,
                "organization_creation_limit_exceeded",
                "organization limit reached",
                "You have reached the maximum number of organizations you can create.",
            ),
            CoreError::MembershipLimitReached => ApiError::new(
                S::FORBIDDEN,
                "organization_membership_quota_exceeded",
                "membership limit reached",
                "The organization has reached its maximum number of members.",
            ),
            CoreError::PermissionDenied => ApiError::new(
                S::FORBIDDEN,
                "not_allowed_access",
                "not allowed",
                "You do not have permission to perform this action in this organization.",
            ),
            CoreError::LastAdmin => ApiError::new(
                S::FORBIDDEN,
                "organization_minimum_permissions_needed",
                "an admin is required",
                "There has to be at least one organization member with the administrator role.",
            ),
            CoreError::InvitationNotPending => ApiError::new(
                S::BAD_REQUEST,
                "organization_invitation_not_pending",
                "invitation is not pending",
                "This invitation was already accepted, revoked, or it has expired.",
            ),
            CoreError::DomainCommon => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "organization_domain_common",
                "common email domain",
                "This is a common email provider domain. Please use a different one.",
            )
            .param("name"),
            CoreError::DomainExists => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "organization_domain_already_exists",
                "organization domain already exists",
                "This domain is already used by an organization.",
            )
            .param("name"),
            CoreError::SuggestionNotPending => ApiError::new(
                S::BAD_REQUEST,
                "organization_suggestion_not_pending",
                "suggestion is not pending",
                "This suggestion was already accepted.",
            ),
            CoreError::MembershipRequestNotPending => ApiError::new(
                S::BAD_REQUEST,
                "organization_membership_request_not_pending",
                "membership request is not pending",
                "This membership request was already accepted or rejected.",
            ),
            CoreError::RoleNotInRoleSet { param } => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "organization_role_not_in_role_set",
                "role not in role set",
                format!(
                    "{} must be one of the roles of the role set.",
                    humanize(param)
                ),
            )
            .param(param),
            CoreError::RoleRequiredByRoleSet { param } => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "role_set_role_required",
                "role required by a role set",
                "This role is the default or creator role of a role set. Choose another default and creator role first.",
            )
            .param(param),
            CoreError::InitialRoleSet => ApiError::new(
                S::BAD_REQUEST,
                "initial_role_set_required",
                "the initial role set must stay",
                "The initial role set can neither be replaced nor made custom. Make another role set initial first.",
            ),
            CoreError::RoleReassignmentMissing { role, param } => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "role_set_reassignment_required",
                "members need another role",
                format!(
                    "Members hold the role {role}, which the target role set does not have. Reassign them to one of its roles first."
                ),
            )
            .param(param),
            CoreError::OutOfRange { param } => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "form_param_value_invalid",
                "is out of range",
                format!("{} is out of the allowed range.", humanize(param)),
            )
            .param(param),
            // Ticket refusals (wire §7; Clerk's Frontend API error index).
            CoreError::TicketInvalid => ApiError::new(
                S::BAD_REQUEST,
                "ticket_invalid_code",
                "ticket is invalid",
                "This ticket is invalid. Make sure you're using a valid ticket generated by Clerk.",
            )
            .param("ticket"),
            CoreError::TicketExpired => ApiError::new(
                S::BAD_REQUEST,
                "ticket_expired_code",
                "ticket has expired",
                "This ticket has expired and cannot be used anymore.",
            )
            .param("ticket"),
            CoreError::OrganizationInvitationRevoked => ApiError::new(
                S::BAD_REQUEST,
                "organization_invitation_revoked_code",
                "invitation has been revoked",
                "This invitation has been revoked and cannot be used anymore.",
            )
            .param("ticket"),
            CoreError::OrganizationInvitationAccepted => ApiError::new(
                S::BAD_REQUEST,
                "organization_invitation_already_accepted",
                "invitation has already been accepted",
                "This invitation has already been accepted. Sign in instead.",
            )
            .param("ticket"),
            CoreError::InvitationAccountNotExists => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "invitation_account_not_exists",
                "no account for this invitation",
                "There is no account with the invited email address. Sign up instead.",
            )
            .param("ticket"),
            CoreError::InvitationExists => ApiError::new(
                S::BAD_REQUEST,
                "duplicate_record",
                "duplicate invitation",
                "There is already a pending invitation for this email address.",
            )
            .param("email_address"),
            CoreError::RedirectUrlNotAllowed => ApiError::new(
                S::BAD_REQUEST,
                "form_param_value_invalid",
                "redirect_url is not allowed",
                "The invitation's redirect URL is not on one of this instance's allowed origins.",
            )
            .param("redirect_url"),
            CoreError::NoRedirectTarget => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "form_param_missing",
                "no redirect URL",
                "The invitation has no redirect URL, and the instance has no sign-up, sign-in or home URL or allowed origin to send the invitee to.",
            )
            .param("redirect_url"),
            CoreError::InvitationNotRevocable => ApiError::new(
                S::BAD_REQUEST,
                "invitation_not_pending",
                "invitation is not pending",
                "Only pending invitations can be revoked; this one was already accepted, revoked, or it has expired.",
            ),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Core(core) => core.into(),
            ServiceError::Unauthenticated => ApiError::invalid_secret_key(),
            ServiceError::NotFound => ApiError::not_found(),
            ServiceError::Store(StoreError::Unavailable(cause)) => {
                tracing::error!(trace_id = current_trace_id().unwrap_or_default(), cause = %cause, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "service unavailable",
                    "The service is temporarily unavailable. Try again shortly.",
                )
            }
            other => {
                tracing::error!(trace_id = current_trace_id().unwrap_or_default(), error = %other, "unexpected error");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let envelope = ErrorEnvelope {
            errors: vec![ErrorItem {
                code: self.code.to_owned(),
                message: self.message,
                long_message: self.long_message,
                meta: ErrorMeta {
                    param_name: self.param_name,
                    session_id: None,
                },
            }],
            meta: serde_json::Map::new(),
            clerk_trace_id: current_trace_id(),
        };
        let mut response = super::extract::json_response(self.status, &envelope);
        if let Some(secs) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}
