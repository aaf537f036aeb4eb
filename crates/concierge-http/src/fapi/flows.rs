//! The client and its flows (wire §6.2–§6.6): `GET|DELETE /v1/client`, sign-ups, sign-ins and
//! the client's sessions (touch, tokens, end, remove, sign out of all).

use super::context::{Fapi, Form};
use super::objects;
use crate::common::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use concierge_core::SessionStatus;
use concierge_service::frontend::{FactorParams, Outcome, SignInParams, SignUpParams};
use serde_json::Value;

type Answer = Result<Response, ApiError>;

/// `GET /v1/client`: the browser's client or `null` (always 200, wire §6.2).
pub async fn get_client(State(app): State<AppState>, fapi: Fapi) -> Answer {
    let snapshot = app.service.get_browser_client(&fapi.browser).await?;
    let now = app.service.now();
    let value = snapshot
        .as_ref()
        .map(|c| objects::client(c, now))
        .unwrap_or(Value::Null);
    let outcome = Outcome {
        response: (),
        client: snapshot,
        new_client_token: None,
    };
    Ok(fapi.respond(&outcome, value, &app.service))
}

/// `DELETE /v1/client` and `DELETE /v1/client/sessions`: signs out of every session.
pub async fn sign_out_all(State(app): State<AppState>, fapi: Fapi) -> Answer {
    let outcome = app.service.sign_out_client(&fapi.browser).await?;
    let now = app.service.now();
    let value = outcome
        .response
        .as_ref()
        .map(|c| objects::client(c, now))
        .unwrap_or(Value::Null);
    Ok(fapi.respond(&outcome, value, &app.service))
}

// ---- sign-ups -------------------------------------------------------------------------------

/// The ticket of `strategy=ticket` (wire §6.3); other strategies carry none.
fn ticket(form: &Form) -> Option<String> {
    form.get("strategy")
        .filter(|s| s == "ticket")
        .and_then(|_| form.get("ticket"))
}

fn sign_up_params(form: &Form) -> Result<SignUpParams, ApiError> {
    Ok(SignUpParams {
        ticket: ticket(form),
        email_address: form.get("email_address"),
        password: form.get("password"),
        first_name: form.get("first_name"),
        last_name: form.get("last_name"),
        username: form.get("username"),
        unsafe_metadata: form.get_json("unsafe_metadata")?,
        legal_accepted: form.get_bool("legal_accepted")?,
        locale: form.get("locale"),
    })
}

fn sign_up_answer(
    app: &AppState,
    fapi: &Fapi,
    outcome: Outcome<concierge_core::SignUp>,
) -> Response {
    let value = objects::sign_up(&outcome.response, app.service.now());
    fapi.respond(&outcome, value, &app.service)
}

/// `POST /v1/client/sign_ups`.
pub async fn create_sign_up(State(app): State<AppState>, fapi: Fapi, form: Form) -> Answer {
    if form
        .get("strategy")
        .is_some_and(|s| s != "email_code" && s != "password" && s != "ticket")
    {
        return Err(concierge_core::CoreError::StrategyNotAllowed.into());
    }
    let params = sign_up_params(&form)?;
    if form.get("strategy").as_deref() == Some("ticket") && params.ticket.is_none() {
        return Err(ApiError::param_missing("ticket"));
    }
    let outcome = app.service.create_sign_up(&fapi.browser, params).await?;
    Ok(sign_up_answer(&app, &fapi, outcome))
}

/// `GET /v1/client/sign_ups/{id}`.
pub async fn get_sign_up(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let outcome = app.service.get_sign_up(&fapi.browser, &id).await?;
    Ok(sign_up_answer(&app, &fapi, outcome))
}

/// `PATCH /v1/client/sign_ups/{id}`.
pub async fn update_sign_up(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let outcome = app
        .service
        .update_sign_up(&fapi.browser, &id, sign_up_params(&form)?)
        .await?;
    Ok(sign_up_answer(&app, &fapi, outcome))
}

/// `POST /v1/client/sign_ups/{id}/prepare_verification`.
pub async fn prepare_sign_up_verification(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let strategy = form.get("strategy").unwrap_or_else(|| "email_code".into());
    let outcome = app
        .service
        .prepare_sign_up_verification(&fapi.browser, &id, &strategy)
        .await?;
    Ok(sign_up_answer(&app, &fapi, outcome))
}

/// `POST /v1/client/sign_ups/{id}/attempt_verification`.
pub async fn attempt_sign_up_verification(
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
        .attempt_sign_up_verification(&fapi.browser, &id, &code)
        .await?;
    Ok(sign_up_answer(&app, &fapi, outcome))
}

// ---- sign-ins -------------------------------------------------------------------------------

fn sign_in_answer(
    app: &AppState,
    fapi: &Fapi,
    outcome: Outcome<concierge_service::frontend::SignInView>,
) -> Response {
    let value = objects::sign_in(&outcome.response, app.service.now());
    fapi.respond(&outcome, value, &app.service)
}

fn factor_params(form: &Form) -> Result<FactorParams, ApiError> {
    Ok(FactorParams {
        strategy: form
            .get("strategy")
            .ok_or_else(|| ApiError::param_missing("strategy"))?,
        email_address_id: form.get("email_address_id"),
        password: form.get("password"),
        code: form.get("code"),
    })
}

/// `POST /v1/client/sign_ins`.
pub async fn create_sign_in(State(app): State<AppState>, fapi: Fapi, form: Form) -> Answer {
    let params = SignInParams {
        identifier: form.get("identifier"),
        strategy: form.get("strategy"),
        password: form.get("password"),
        ticket: form.get("ticket"),
    };
    let outcome = app.service.create_sign_in(&fapi.browser, params).await?;
    Ok(sign_in_answer(&app, &fapi, outcome))
}

/// `GET /v1/client/sign_ins/{id}`.
pub async fn get_sign_in(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let outcome = app.service.get_sign_in(&fapi.browser, &id).await?;
    Ok(sign_in_answer(&app, &fapi, outcome))
}

/// `POST /v1/client/sign_ins/{id}/prepare_first_factor`.
pub async fn prepare_first_factor(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let outcome = app
        .service
        .prepare_first_factor(&fapi.browser, &id, factor_params(&form)?)
        .await?;
    Ok(sign_in_answer(&app, &fapi, outcome))
}

/// `POST /v1/client/sign_ins/{id}/attempt_first_factor`.
pub async fn attempt_first_factor(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let outcome = app
        .service
        .attempt_first_factor(&fapi.browser, &id, factor_params(&form)?)
        .await?;
    Ok(sign_in_answer(&app, &fapi, outcome))
}

/// `POST /v1/client/sign_ins/{id}/reset_password`.
pub async fn reset_password(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let password = form
        .get("password")
        .ok_or_else(|| ApiError::param_missing("password"))?;
    let sign_out = form
        .get_bool("sign_out_of_other_sessions")?
        .unwrap_or(false);
    let outcome = app
        .service
        .reset_password(&fapi.browser, &id, password, sign_out)
        .await?;
    Ok(sign_in_answer(&app, &fapi, outcome))
}

// ---- the client's sessions ----------------------------------------------------------------

fn session_answer(
    app: &AppState,
    fapi: &Fapi,
    outcome: Outcome<concierge_core::Session>,
) -> Response {
    let now = app.service.now();
    let snapshot = outcome.client.as_ref().and_then(|c| {
        c.sessions
            .iter()
            .find(|s| s.session.id == outcome.response.id)
    });
    let value = objects::session(&outcome.response, snapshot, now);
    fapi.respond(&outcome, value, &app.service)
}

/// `GET /v1/client/sessions/{id}`.
pub async fn get_session(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let outcome = app.service.get_client_session(&fapi.browser, &id).await?;
    Ok(session_answer(&app, &fapi, outcome))
}

/// `POST /v1/client/sessions/{id}/touch`.
pub async fn touch_session(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let organization = form.optional("active_organization_id");
    let outcome = app
        .service
        .touch_session(&fapi.browser, &id, organization)
        .await?;
    Ok(session_answer(&app, &fapi, outcome))
}

/// `POST /v1/client/sessions/{id}/end`.
pub async fn end_session(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let outcome = app
        .service
        .finish_client_session(&fapi.browser, &id, SessionStatus::Ended)
        .await?;
    Ok(session_answer(&app, &fapi, outcome))
}

/// `POST /v1/client/sessions/{id}/remove`.
pub async fn remove_session(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
) -> Answer {
    let outcome = app
        .service
        .finish_client_session(&fapi.browser, &id, SessionStatus::Removed)
        .await?;
    Ok(session_answer(&app, &fapi, outcome))
}

/// `{"object":"token","jwt":…}`, the Backend API's token object.
fn token_answer(jwt: String) -> Response {
    crate::common::extract::json_response(http::StatusCode::OK, &crate::common::convert::token(jwt))
}

/// `POST /v1/client/sessions/{id}/tokens`: `{"object":"token","jwt":…}`, unwrapped. With
/// `organization_id` the session switches organization first (wire §6.5).
pub async fn session_token(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    form: Form,
) -> Answer {
    let organization = form.optional("organization_id");
    let jwt = app
        .service
        .browser_session_token(&fapi.browser, &id, None, organization)
        .await?;
    Ok(token_answer(jwt))
}

/// `POST /v1/client/sessions/{id}/tokens/{template}`.
pub async fn template_token(
    State(app): State<AppState>,
    fapi: Fapi,
    Path((id, template)): Path<(String, String)>,
) -> Answer {
    let jwt = app
        .service
        .browser_session_token(&fapi.browser, &id, Some(&template), None)
        .await?;
    Ok(token_answer(jwt))
}
