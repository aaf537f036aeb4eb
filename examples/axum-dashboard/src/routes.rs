//! The application's routes, all behind `ClerkLayer` (see `main.rs`): pages read the session
//! from `MaybeAuth`/`Auth`, the signed-in user from `ClerkRequest::current_user` (one Backend
//! API call per request however often it is read), and the organization from the URL, which
//! organization sync has already made the session's active one.

use crate::{pages, tasks, App};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use concierge_sdk::client::{
    ApiError, CreateOrganizationInvitationParams, OrganizationInvitationListParams, PageParams,
};
use concierge_sdk::middleware::{require_role, ClerkRequest, MaybeAuth};
use concierge_sdk::{Auth, Check};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

/// Roles an admin may hand out through the invite endpoint.
const INVITABLE_ROLES: [&str; 2] = ["org:member", "org:admin"];

/// A refusal or failure, as an HTML page (pages) or a JSON body (the invite endpoint).
enum Failure {
    Page(StatusCode, String),
    Json(StatusCode, serde_json::Value),
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Self::Page(status, html) => (status, Html(html)).into_response(),
            Self::Json(status, body) => (status, Json(body)).into_response(),
        }
    }
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Failure {
    Failure::Json(
        status,
        json!({ "errors": [{ "code": code, "message": message }] }),
    )
}

fn unexpected(app: &App, error: impl std::fmt::Display) -> Failure {
    tracing::error!(error = %error, "request failed");
    Failure::Page(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::message(&app.publishable_key, "Error", "Something went wrong."),
    )
}

/// The session, for a page under `/orgs/:slug`: 401 when signed out, 404 when the URL's
/// organization could not be activated (organization sync left the session as it was, which
/// happens when the user is not a member).
fn org_session(app: &App, auth: Option<Auth>, slug: &str) -> Result<Auth, Failure> {
    let auth = auth.ok_or_else(|| {
        Failure::Page(
            StatusCode::UNAUTHORIZED,
            pages::message(
                &app.publishable_key,
                "Signed out",
                "Sign in to see this page.",
            ),
        )
    })?;
    if auth.org_slug.as_deref() != Some(slug) {
        return Err(Failure::Page(
            StatusCode::NOT_FOUND,
            pages::message(
                &app.publishable_key,
                "Not found",
                &format!("You are not a member of {slug}."),
            ),
        ));
    }
    Ok(auth)
}

async fn home(State(app): State<App>, clerk: ClerkRequest) -> Result<Html<String>, Failure> {
    let user = clerk
        .current_user()
        .await
        .map_err(|e| unexpected(&app, e))?;
    let memberships = match (user, app.clerk.api()) {
        (Some(user), Some(api)) => {
            api.list_user_organization_memberships(&user.id, PageParams::default())
                .await
                .map_err(|e| unexpected(&app, e))?
                .data
        }
        _ => Vec::new(),
    };
    Ok(Html(pages::home(&app.publishable_key, user, &memberships)))
}

async fn sign_in(State(app): State<App>) -> Html<String> {
    Html(pages::sign_in(&app.publishable_key))
}

async fn tasks_page(
    State(app): State<App>,
    MaybeAuth(auth): MaybeAuth,
    clerk: ClerkRequest,
    Path(slug): Path<String>,
) -> Result<Html<String>, Failure> {
    let auth = org_session(&app, auth, &slug)?;
    let tasks = tasks::list(&app.pool, &auth)
        .await
        .map_err(|e| unexpected(&app, e))?;
    let user = clerk
        .current_user()
        .await
        .map_err(|e| unexpected(&app, e))?;
    let email = user
        .and_then(|u| u.primary_email_address())
        .unwrap_or_default();
    Ok(Html(pages::tasks(
        &app.publishable_key,
        &slug,
        auth.org_role.as_deref().unwrap_or_default(),
        email,
        &tasks,
    )))
}

#[derive(Deserialize)]
struct NewTask {
    title: String,
}

async fn add_task(
    State(app): State<App>,
    MaybeAuth(auth): MaybeAuth,
    Path(slug): Path<String>,
    Form(form): Form<NewTask>,
) -> Result<Redirect, Failure> {
    let auth = org_session(&app, auth, &slug)?;
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(Failure::Page(
            StatusCode::BAD_REQUEST,
            pages::message(
                &app.publishable_key,
                "Bad request",
                "A task needs a title of at most 200 characters.",
            ),
        ));
    }
    tasks::add(&app.pool, &auth, title)
        .await
        .map_err(|e| unexpected(&app, e))?;
    Ok(Redirect::to(&format!("/orgs/{slug}/tasks")))
}

/// Behind `require_role("org:admin")`: members get 403 before reaching it.
async fn admin_page(
    State(app): State<App>,
    MaybeAuth(auth): MaybeAuth,
    Path(slug): Path<String>,
) -> Result<Html<String>, Failure> {
    let auth = org_session(&app, auth, &slug)?;
    let org_id = auth.org_id.clone().unwrap_or_default();
    let api = app
        .clerk
        .api()
        .ok_or_else(|| unexpected(&app, "no secret key"))?;
    let members = api
        .list_organization_memberships(&org_id, &Default::default())
        .await
        .map_err(|e| unexpected(&app, e))?;
    let invitations = api
        .list_organization_invitations(
            &org_id,
            &OrganizationInvitationListParams {
                status: vec!["pending".into()],
                ..Default::default()
            },
        )
        .await
        .map_err(|e| unexpected(&app, e))?;
    Ok(Html(pages::admin(
        &app.publishable_key,
        &slug,
        &members.data,
        &invitations.data,
    )))
}

#[derive(Deserialize)]
struct InviteBody {
    email_address: Option<String>,
    role: Option<String>,
}

/// `POST /orgs/:slug/invite` with JSON `{email_address, role?}`: 401 signed out, 403 unless
/// an admin of the URL's organization (which must be the active one), 400 for bad input
/// (including an address the Backend API refuses), 200 with the created invitation.
async fn invite(
    State(app): State<App>,
    MaybeAuth(auth): MaybeAuth,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Failure> {
    let auth = auth.ok_or_else(|| {
        json_error(
            StatusCode::UNAUTHORIZED,
            "authentication_invalid",
            "Sign in first.",
        )
    })?;
    if auth.org_slug.as_deref() != Some(slug.as_str()) || !auth.has(Check::Role("org:admin")) {
        return Err(json_error(
            StatusCode::FORBIDDEN,
            "authorization_invalid",
            "Only admins of this organization can invite.",
        ));
    }
    let body: InviteBody = serde_json::from_slice(&body).map_err(|_| {
        json_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Send JSON: {\"email_address\": …, \"role\": …}.",
        )
    })?;
    let email = body
        .email_address
        .map(|e| e.trim().to_owned())
        .filter(|e| e.contains('@'))
        .ok_or_else(|| {
            json_error(
                StatusCode::BAD_REQUEST,
                "form_param_missing",
                "email_address must be an email address.",
            )
        })?;
    let role = body.role.unwrap_or_else(|| "org:member".into());
    if !INVITABLE_ROLES.contains(&role.as_str()) {
        return Err(json_error(
            StatusCode::BAD_REQUEST,
            "form_param_value_invalid",
            "role must be org:member or org:admin.",
        ));
    }
    let api = app.clerk.api().ok_or_else(|| {
        json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "no secret key",
        )
    })?;
    let params = CreateOrganizationInvitationParams {
        inviter_user_id: Some(auth.user_id.clone()),
        redirect_url: Some(format!("{}/sign-in", app.public_url)),
        ..CreateOrganizationInvitationParams::new(email, role)
    };
    let org_id = auth.org_id.clone().unwrap_or_default();
    match api.create_organization_invitation(&org_id, &params).await {
        Ok(invitation) => Ok(Json(serde_json::to_value(invitation).unwrap_or_default())),
        Err(error @ ApiError::Response { .. })
            if error.status().is_some_and(|s| s.is_client_error()) =>
        {
            let ApiError::Response { errors, .. } = &error else {
                return Err(json_error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "refused",
                ));
            };
            Err(Failure::Json(
                StatusCode::BAD_REQUEST,
                json!({ "errors": errors }),
            ))
        }
        Err(error) => {
            tracing::error!(error = %error, "invitation failed");
            Err(json_error(
                StatusCode::BAD_GATEWAY,
                "unexpected_error",
                "The invitation could not be sent.",
            ))
        }
    }
}

/// The routes behind `ClerkLayer`.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(sign_in))
        .route("/sign-in/{*rest}", get(sign_in))
        .route("/orgs/{slug}/tasks", get(tasks_page).post(add_task))
        .route(
            "/orgs/{slug}/admin",
            get(admin_page).route_layer(require_role("org:admin")),
        )
        .route("/orgs/{slug}/invite", post(invite))
        .with_state(app)
}
