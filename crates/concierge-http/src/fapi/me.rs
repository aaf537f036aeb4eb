//! `/v1/me`: the signed-in user's own account (wire §6.7).

use super::context::{Fapi, Form};
use super::objects;
use crate::common::extract::json_response;
use crate::common::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use concierge_core::EmailAddressId;
use concierge_service::frontend::Outcome;
use concierge_service::me::{EmailAddressView, UpdateMe};
use concierge_service::UserView;
use http::StatusCode;
use serde_json::Value;

type Answer = Result<Response, ApiError>;

fn user_answer(app: &AppState, fapi: &Fapi, outcome: Outcome<UserView>) -> Response {
    let value = objects::user(&outcome.response, app.service.now());
    fapi.respond(&outcome, value, &app.service)
}

fn email_answer(app: &AppState, fapi: &Fapi, outcome: Outcome<EmailAddressView>) -> Response {
    let value = objects::email_address(&outcome.response, app.service.now());
    fapi.respond(&outcome, value, &app.service)
}

fn optional_field(form: &Form, key: &str) -> Option<Option<String>> {
    form.has(key).then(|| form.get(key))
}

/// `GET /v1/me`.
pub async fn get_me(State(app): State<AppState>, fapi: Fapi) -> Answer {
    let outcome = app
        .service
        .get_me(&fapi.browser, fapi.session_id.as_deref())
        .await?;
    Ok(user_answer(&app, &fapi, outcome))
}

/// `PATCH /v1/me`.
pub async fn update_me(State(app): State<AppState>, fapi: Fapi, form: Form) -> Answer {
    let primary = form
        .get("primary_email_address_id")
        .map(|id| {
            EmailAddressId::parse(&id)
                .map_err(|_| ApiError::format_invalid("primary_email_address_id"))
        })
        .transpose()?;
    let update = UpdateMe {
        first_name: optional_field(&form, "first_name"),
        last_name: optional_field(&form, "last_name"),
        username: optional_field(&form, "username"),
        primary_email_address_id: primary,
    };
    let outcome = app
        .service
        .update_me(&fapi.browser, fapi.session_id.as_deref(), update)
        .await?;
    Ok(user_answer(&app, &fapi, outcome))
}

/// `PATCH /v1/me/metadata`.
pub async fn update_metadata(State(app): State<AppState>, fapi: Fapi, form: Form) -> Answer {
    let metadata = form
        .get_json("unsafe_metadata")?
        .ok_or_else(|| ApiError::param_missing("unsafe_metadata"))?;
    let outcome = app
        .service
        .update_me_metadata(&fapi.browser, fapi.session_id.as_deref(), metadata)
        .await?;
    Ok(user_answer(&app, &fapi, outcome))
}

/// `POST /v1/me/change_password`.
pub async fn change_password(State(app): State<AppState>, fapi: Fapi, form: Form) -> Answer {
    let new_password = form
        .get("new_password")
        .ok_or_else(|| ApiError::param_missing("new_password"))?;
    let sign_out = form
        .get_bool("sign_out_of_other_sessions")?
        .unwrap_or(false);
    let outcome = app
        .service
        .change_my_password(
            &fapi.browser,
            fapi.session_id.as_deref(),
            form.get("current_password"),
            new_password,
            sign_out,
        )
        .await?;
    Ok(user_answer(&app, &fapi, outcome))
}

/// `DELETE /v1/me`.
pub async fn delete_me(State(app): State<AppState>, fapi: Fapi) -> Answer {
    let outcome = app
        .service
        .delete_me(&fapi.browser, fapi.session_id.as_deref())
        .await?;
    let value = objects::deleted("user", outcome.response.as_str());
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `GET /v1/me/sessions/active`: a bare array (wire §6.1).
pub async fn active_sessions(State(app): State<AppState>, fapi: Fapi) -> Answer {
    let sessions = app
        .service
        .my_active_sessions(&fapi.browser, fapi.session_id.as_deref())
        .await?;
    let now = app.service.now();
    let list: Vec<Value> = sessions
        .iter()
        .map(|s| objects::session_with_activity(s, now))
        .collect();
    Ok(json_response(StatusCode::OK, &list))
}

/// `POST /v1/me/sessions/{id}/revoke`.
pub async fn revoke_session(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let outcome = app
        .service
        .revoke_my_session(&fapi.browser, fapi.session_id.as_deref(), &id)
        .await?;
    let value = objects::session_with_activity(&outcome.response, app.service.now());
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `POST /v1/me/email_addresses`.
pub async fn add_email(State(app): State<AppState>, fapi: Fapi, form: Form) -> Answer {
    let address = form
        .get("email_address")
        .ok_or_else(|| ApiError::param_missing("email_address"))?;
    let outcome = app
        .service
        .add_my_email(&fapi.browser, fapi.session_id.as_deref(), &address)
        .await?;
    Ok(email_answer(&app, &fapi, outcome))
}

/// `GET /v1/me/email_addresses/{id}`.
pub async fn get_email(State(app): State<AppState>, fapi: Fapi, Path(id): Path<String>) -> Answer {
    let outcome = app
        .service
        .get_my_email(&fapi.browser, fapi.session_id.as_deref(), &id)
        .await?;
    Ok(email_answer(&app, &fapi, outcome))
}

/// `POST /v1/me/email_addresses/{id}/prepare_verification`.
pub async fn prepare_email_verification(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let strategy = form.get("strategy").unwrap_or_else(|| "email_code".into());
    let outcome = app
        .service
        .prepare_my_email_verification(&fapi.browser, fapi.session_id.as_deref(), &id, &strategy)
        .await?;
    Ok(email_answer(&app, &fapi, outcome))
}

/// `POST /v1/me/email_addresses/{id}/attempt_verification`.
pub async fn attempt_email_verification(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let code = form
        .get("code")
        .ok_or_else(|| ApiError::param_missing("code"))?;
    let outcome = app
        .service
        .attempt_my_email_verification(&fapi.browser, fapi.session_id.as_deref(), &id, &code)
        .await?;
    Ok(email_answer(&app, &fapi, outcome))
}

/// `DELETE /v1/me/email_addresses/{id}`.
pub async fn delete_email(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let outcome = app
        .service
        .delete_my_email(&fapi.browser, fapi.session_id.as_deref(), &id)
        .await?;
    let value = objects::deleted("email_address", outcome.response.as_str());
    Ok(fapi.respond(&outcome, value, &app.service))
}
