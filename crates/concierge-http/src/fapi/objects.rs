//! Frontend API object shapes (wire §6.9): client, session, user, email address, sign-in,
//! sign-up and verification, all with millisecond timestamps. The user starts from the Backend
//! API shape (one conversion, `common::convert`) minus what browsers must not see.

use crate::common::convert;
use concierge_core::*;
use concierge_service::frontend::{ClientSnapshot, SessionSnapshot, SignInView};
use concierge_service::me::EmailAddressView;
use concierge_service::UserView;
use serde_json::{json, Value};

/// The avatar shown for users without a profile image, served inline so the UI never fetches
/// a placeholder from a third-party host (wire §9 #9).
pub const DEFAULT_AVATAR: &str = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCA2NCA2NCI+PHJlY3Qgd2lkdGg9IjY0IiBoZWlnaHQ9IjY0IiBmaWxsPSIjZDFkNWRiIi8+PGNpcmNsZSBjeD0iMzIiIGN5PSIyNCIgcj0iMTIiIGZpbGw9IiNmZmYiLz48cGF0aCBkPSJNMTAgNTZjMi0xMiAxMS0xOCAyMi0xOHMyMCA2IDIyIDE4eiIgZmlsbD0iI2ZmZiIvPjwvc3ZnPg==";

fn image_url(user: &User) -> String {
    user.image_url
        .clone()
        .unwrap_or_else(|| DEFAULT_AVATAR.to_owned())
}

/// The user as the browser sees it: no private metadata, organization memberships listed.
pub fn user(view: &UserView, now: Millis) -> Value {
    let mut value = serde_json::to_value(convert::user(view, now)).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.remove("private_metadata");
        object.insert("image_url".into(), json!(image_url(&view.user)));
        object.insert("organization_memberships".into(), json!([]));
        object.insert("profile_image_url".into(), json!(image_url(&view.user)));
    }
    value
}

/// The session's user with their organization memberships (the source of the active
/// organization, its role and permissions in clerk-js, wire §6.9).
fn user_with_memberships(snapshot: &SessionSnapshot, now: Millis) -> Value {
    let mut value = user(&snapshot.user, now);
    let memberships: Vec<Value> = snapshot
        .memberships
        .iter()
        .map(|(membership, org, role, counts)| {
            let mut json =
                convert::membership(membership, org, role, &snapshot.user, Some(*counts), false);
            json["public_user_data"]["image_url"] = json!(image_url(&snapshot.user.user));
            json
        })
        .collect();
    value["organization_memberships"] = json!(memberships);
    value
}

/// `public_user_data` of a session.
fn public_user_data(view: &UserView) -> Value {
    let user = &view.user;
    let identifier = view
        .email_addresses
        .iter()
        .find(|e| Some(&e.id) == user.primary_email_address_id.as_ref())
        .map(|e| e.email_address.clone())
        .or_else(|| user.username.clone())
        .unwrap_or_default();
    json!({
        "first_name": user.first_name, "last_name": user.last_name,
        "image_url": image_url(user), "has_image": user.image_url.is_some(),
        "identifier": identifier, "user_id": user.id.as_str(),
    })
}

/// A session; `user` and `last_active_token` when it is one of the client's active sessions.
pub fn session(session: &Session, snapshot: Option<&SessionSnapshot>, now: Millis) -> Value {
    let first_factor_age = (now - session.created_at).max(0) / 60_000;
    json!({
        "object": "session", "id": session.id.as_str(),
        "status": session.effective_status(now).as_str(),
        "expire_at": session.expire_at, "abandon_at": session.abandon_at,
        "last_active_at": session.last_active_at,
        "last_active_organization_id": session.last_active_organization_id,
        "last_active_token": snapshot.map(|s| json!({ "object": "token", "jwt": s.token })),
        "actor": null, "tasks": null,
        "factor_verification_age": [first_factor_age, -1],
        "user": snapshot.map(|s| user_with_memberships(s, now)),
        "public_user_data": snapshot.map(|s| public_user_data(&s.user)),
        "created_at": session.created_at, "updated_at": session.updated_at,
    })
}

/// A session of the user listed by `/v1/me/sessions/active` (no user, activity attached).
pub fn session_with_activity(session: &Session, now: Millis) -> Value {
    let mut value = self::session(session, None, now);
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "latest_activity".into(),
            json!({
                "object": "session_activity", "id": format!("sess_activity_{}", session.id.as_str().trim_start_matches("sess_")),
                "browser_name": null, "browser_version": null, "device_type": null,
                "ip_address": null, "city": null, "country": null, "is_mobile": false,
            }),
        );
    }
    value
}

/// The whole client.
pub fn client(snapshot: &ClientSnapshot, now: Millis) -> Value {
    let client = &snapshot.client;
    json!({
        "object": "client", "id": client.id.as_str(),
        "sessions": snapshot.sessions.iter().map(|s| session(&s.session, Some(s), now)).collect::<Vec<_>>(),
        "sign_in": snapshot.sign_in.as_ref().map(|s| sign_in(s, now)),
        "sign_up": snapshot.sign_up.as_ref().map(|s| sign_up(s, now)),
        "last_active_session_id": client.last_active_session_id.as_ref().map(|s| s.as_str()),
        "last_authentication_strategy": null,
        "cookie_expires_at": null, "captcha_bypass": false,
        "created_at": client.created_at, "updated_at": client.updated_at,
    })
}

/// A verification (`first_factor_verification`, email verifications).
pub fn verification(v: &Verification, now: Millis) -> Value {
    json!({
        "object": "verification",
        "status": v.status_at(now).as_str(), "strategy": v.strategy,
        "attempts": v.attempts, "expire_at": v.expire_at,
        "verified_at_client": null, "error": null,
    })
}

/// A sign-in with the factors its user can use.
pub fn sign_in(view: &SignInView, now: Millis) -> Value {
    let sign_in = &view.sign_in;
    let mut factors = Vec::new();
    if let Some(user) = &view.user {
        if user.user.password_hash.is_some() {
            factors.push(json!({ "strategy": "password" }));
        }
        let primary = user
            .email_addresses
            .iter()
            .filter(|e| e.verified)
            .find(|e| Some(&e.id) == user.user.primary_email_address_id.as_ref());
        if let Some(email) = primary {
            for strategy in ["email_code", "reset_password_email_code"] {
                factors.push(json!({
                    "strategy": strategy, "safe_identifier": safe_identifier(&email.email_address),
                    "email_address_id": email.id.as_str(), "primary": true,
                }));
            }
        }
    }
    let user_data = view.user.as_ref().map(|u| {
        json!({
            "first_name": u.user.first_name, "last_name": u.user.last_name,
            "image_url": image_url(&u.user), "has_image": u.user.image_url.is_some(),
        })
    });
    json!({
        "object": "sign_in", "id": sign_in.id.as_str(), "status": sign_in.status.as_str(),
        "identifier": sign_in.identifier,
        "supported_identifiers": ["email_address"],
        "supported_first_factors": factors,
        "supported_second_factors": null,
        "first_factor_verification": sign_in.first_factor_verification.as_ref().map(|v| verification(v, now)),
        "second_factor_verification": null,
        "user_data": user_data,
        "created_session_id": sign_in.created_session_id.as_ref().map(|s| s.as_str()),
        "abandon_at": sign_in.abandon_at, "client_trust_state": null,
    })
}

/// A sign-up with its requirements and the email verification's next step.
pub fn sign_up(sign_up: &SignUp, now: Millis) -> Value {
    let email_verification =
        sign_up
            .email_address
            .as_ref()
            .map(|_| match &sign_up.email_verification {
                Some(v) => {
                    let mut value = verification(v, now);
                    let next = if v.status_at(now) == VerificationStatus::Unverified {
                        "needs_attempt"
                    } else {
                        ""
                    };
                    value["next_action"] = json!(next);
                    value["supported_strategies"] = json!(["email_code"]);
                    value
                }
                // No strategy until a code is sent: @clerk/ui takes `email_code` to mean
                // "the code was sent" and would skip `prepare_verification`.
                None => json!({
                    "object": "verification", "status": "unverified", "strategy": null,
                    "attempts": 0, "expire_at": null, "next_action": "needs_prepare",
                    "supported_strategies": ["email_code"], "error": null,
                }),
            });
    json!({
        "object": "sign_up", "id": sign_up.id.as_str(), "status": sign_up.status.as_str(),
        "required_fields": ["email_address", "password"],
        "optional_fields": ["first_name", "last_name"],
        "missing_fields": sign_up.missing_fields(),
        "unverified_fields": sign_up.unverified_fields(),
        "verifications": {
            "email_address": email_verification,
            "phone_number": null, "web3_wallet": null, "external_account": null,
        },
        "username": sign_up.username, "email_address": sign_up.email_address,
        "phone_number": null, "web3_wallet": null,
        "first_name": sign_up.first_name, "last_name": sign_up.last_name,
        "has_password": sign_up.password_hash.is_some(), "password_enabled": true,
        "unsafe_metadata": sign_up.unsafe_metadata, "public_metadata": {},
        "custom_action": false, "external_id": null,
        "created_session_id": sign_up.created_session_id.as_ref().map(|s| s.as_str()),
        "created_user_id": sign_up.created_user_id.as_ref().map(|s| s.as_str()),
        "abandon_at": sign_up.abandon_at, "legal_accepted_at": sign_up.legal_accepted_at,
        "locale": sign_up.locale,
    })
}

/// An email address of the signed-in user, with a pending verification when one was prepared.
pub fn email_address(view: &EmailAddressView, now: Millis) -> Value {
    let mut value =
        serde_json::to_value(convert::email_address(&view.email)).unwrap_or(Value::Null);
    if let (false, Some(v)) = (view.email.verified, &view.verification) {
        value["verification"] = verification(v, now);
    }
    if !view.email.verified && view.verification.is_none() {
        value["verification"] = Value::Null;
    }
    value
}

/// `{object, id, deleted: true}`.
pub fn deleted(object: &str, id: &str) -> Value {
    json!({ "object": object, "id": id, "deleted": true })
}
