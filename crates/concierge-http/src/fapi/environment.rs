//! `GET /v1/environment` (and clerk-js's `POST …?_method=PATCH` for development keys): the
//! complete environment object the UI components need, unwrapped (wire §6.10). Captcha, bot
//! protection, billing and script loaders are off so the browser contacts nobody else.

use super::transport::FapiInstance;
use crate::common::extract::json_response;
use axum::response::Response;
use concierge_core::Instance;
use http::StatusCode;
use serde_json::{json, Value};

fn attribute(
    enabled: bool,
    required: bool,
    first_factors: &[&str],
    verifications: &[&str],
) -> Value {
    json!({
        "enabled": enabled, "required": required,
        "used_for_first_factor": !first_factors.is_empty(), "first_factors": first_factors,
        "used_for_second_factor": false, "second_factors": [],
        "verifications": verifications, "verify_at_sign_up": !verifications.is_empty(),
    })
}

/// The environment of an instance.
pub fn environment_json(instance: &Instance) -> Value {
    let settings = &instance.settings;
    let environment_type = if instance.publishable_key.starts_with("pk_test_") {
        "development"
    } else {
        "production"
    };
    let off = attribute(false, false, &[], &[]);
    json!({
        "object": "environment",
        "id": format!("env_{}", instance.id.as_str().trim_start_matches("ins_")),
        "auth_config": {
            "object": "auth_config", "id": format!("aac_{}", instance.id.as_str().trim_start_matches("ins_")),
            "single_session_mode": !settings.multi_session, "claimed_at": null, "reverification": false,
            "preferred_channels": {}, "session_minter": false,
        },
        "display_config": {
            "object": "display_config", "id": "display_config", "instance_environment_type": environment_type,
            "application_name": settings.application_name, "branded": false, "show_devmode_warning": false,
            "preferred_sign_in_strategy": "password",
            "home_url": settings.home_url, "sign_in_url": settings.sign_in_url, "sign_up_url": settings.sign_up_url,
            "user_profile_url": "", "organization_profile_url": "", "create_organization_url": "", "waitlist_url": "",
            "after_sign_in_url": "", "after_sign_up_url": "", "after_sign_out_one_url": "", "after_sign_out_all_url": "",
            "after_switch_session_url": "", "after_create_organization_url": "", "after_leave_organization_url": "",
            "after_join_waitlist_url": "", "logo_image_url": "", "favicon_image_url": "", "support_email": "",
            "terms_url": "", "privacy_policy_url": "",
            "captcha_public_key": null, "captcha_public_key_invisible": null, "captcha_widget_type": null,
            "captcha_provider": "turnstile", "captcha_oauth_bypass": [], "captcha_heartbeat": false,
            "theme": {
                "general": { "color": "#6c47ff", "background_color": "#ffffff", "font_family": "", "font_color": "#000000",
                             "label_font_weight": "600", "padding": "1em", "border_radius": "0.5em", "box_shadow": "" },
                "buttons": { "font_color": "#ffffff", "font_family": "", "font_weight": "600" },
                "accounts": { "background_color": "#ffffff" },
            },
        },
        "user_settings": {
            "attributes": {
                "email_address": attribute(true, true, &["email_code"], &["email_code"]),
                "password": attribute(true, true, &[], &[]),
                "first_name": attribute(true, false, &[], &[]),
                "last_name": attribute(true, false, &[], &[]),
                "username": off, "phone_number": off, "web3_wallet": off,
                "authenticator_app": off, "backup_code": off, "passkey": off,
            },
            "actions": { "create_organization": true, "delete_self": true },
            "social": {},
            "enterprise_sso": { "enabled": false, "self_serve_sso": false },
            "saml": { "enabled": false },
            "sign_in": { "second_factor": { "required": false, "enabled": false } },
            "sign_up": { "allowlist_only": false, "captcha_enabled": false, "legal_consent_enabled": false,
                         "mode": "public", "progressive": true, "mfa": { "required": false } },
            "password_settings": { "allowed_special_characters": "", "disable_hibp": true,
                                   "min_length": settings.password_min_length.max(8), "max_length": 72,
                                   "require_special_char": false, "require_numbers": false, "require_uppercase": false,
                                   "require_lowercase": false, "show_zxcvbn": false, "min_zxcvbn_strength": 0 },
            "username_settings": { "min_length": 4, "max_length": 64 },
            "passkey_settings": { "allow_autofill": false, "show_sign_in_button": false },
            "attack_protection": { "enumeration_protection": { "enabled": false } },
        },
        "organization_settings": {
            "enabled": true, "max_allowed_memberships": settings.organization_max_allowed_memberships, "force_organization_selection": false, "creator_role": settings.organization_creator_role,
            "actions": { "admin_delete": true },
            // Verified domains with every enrollment mode (wire §6.8); enrollment grants the default role.
            "domains": { "enabled": true,
                         "enrollment_modes": concierge_core::EnrollmentMode::ALL.map(|m| m.as_str()),
                         "default_role": settings.organization_default_role },
            "slug": { "disabled": false }, "organization_creation_defaults": { "enabled": false },
        },
        "commerce_settings": { "billing": { "stripe_publishable_key": null,
                                            "user": { "enabled": false, "has_paid_plans": false },
                                            "organization": { "enabled": false, "has_paid_plans": false } } },
        "api_keys_settings": { "enabled": false, "user_api_keys_enabled": false, "orgs_api_keys_enabled": false },
        "protect_config": { "object": "protect_config", "id": "", "loaders": [] },
        "maintenance_mode": false, "client_debug_mode": false, "partitioned_cookies": false,
    })
}

/// `GET /v1/environment`, also reached as `POST /v1/environment?_method=PATCH`.
pub async fn get_environment(FapiInstance(instance): FapiInstance) -> Response {
    json_response(StatusCode::OK, &environment_json(&instance))
}
