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
        first_name: form.optional("first_name"),
        last_name: form.optional("last_name"),
        username: form.optional("username"),
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

/// The Frontend API's public base URL as the browser reaches it: the app's proxy URL
/// (`Clerk-Proxy-Url`, sent with the secret key) or this listener's own scheme and host.
pub(super) fn public_base(headers: &http::HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("clerk-secret-key").is_some() {
        if let Some(proxy) = header("clerk-proxy-url").filter(|u| u.starts_with("http")) {
            return proxy.trim_end_matches('/').to_owned();
        }
    }
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    let host = header("x-forwarded-host")
        .or_else(|| header(http::header::HOST.as_str()))
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

/// `POST /v1/me/profile_image`: multipart with a `file` part, or the raw image as the body.
pub async fn upload_profile_image(
    State(app): State<AppState>,
    fapi: Fapi,
    request: axum::extract::Request,
) -> Answer {
    let base = public_base(request.headers());
    let bytes = crate::common::upload::read_upload(request).await?.file;
    let outcome = app
        .service
        .set_my_profile_image(&fapi.browser, fapi.session_id.as_deref(), bytes, &base)
        .await?;
    let image = &outcome.response;
    let value = serde_json::json!({
        "object": "image", "id": image.id.as_str(), "name": "profile_image",
        "public_url": format!("{}/v1/images/{}", base, image.id),
    });
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `DELETE /v1/me/profile_image`.
pub async fn delete_profile_image(State(app): State<AppState>, fapi: Fapi) -> Answer {
    let outcome = app
        .service
        .delete_my_profile_image(&fapi.browser, fapi.session_id.as_deref())
        .await?;
    let id = outcome
        .response
        .as_ref()
        .map(|i| i.to_string())
        .unwrap_or_default();
    let value = objects::deleted("image", &id);
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `GET /v1/images/{id}`: an uploaded image (public by its unguessable id).
pub async fn get_image(State(app): State<AppState>, Path(id): Path<String>) -> Answer {
    let image = app.service.get_image(&id).await?;
    let mut response = axum::response::IntoResponse::into_response(image.bytes);
    let headers = response.headers_mut();
    if let Ok(value) = http::HeaderValue::from_str(&image.content_type) {
        headers.insert(http::header::CONTENT_TYPE, value);
    }
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        http::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        http::HeaderValue::from_static("*"),
    );
    Ok(response)
}
