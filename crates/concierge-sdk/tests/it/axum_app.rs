//! A small axum application behind `ClerkLayer`, driven with tokens and handshakes from a real
//! Concierge: 401 signed out, 403 without the role, 200 with it, and the handshake redirect.

use crate::support::{clerk, document, sign_in};
use axum::body::Body;
use axum::routing::get;
use axum::Router;
use concierge_sdk::client::UpdateUserParams;
use concierge_sdk::middleware::{
    require_permission, require_role, ClerkLayer, ClerkRequest, CurrentUser, MaybeAuth, RequireAuth,
};
use concierge_sdk::{Auth, Clerk};
use concierge_testkit::{Db, TestServer};
use http::{Request, StatusCode};
use reqwest::Method;
use tower::ServiceExt;

fn app(clerk: Clerk) -> Router {
    Router::new()
        .route(
            "/",
            get(|MaybeAuth(auth): MaybeAuth| async move {
                auth.map_or("anonymous".to_owned(), |a| a.user_id)
            }),
        )
        .route("/me", get(|auth: Auth| async move { auth.user_id }))
        .route(
            "/dashboard",
            get(|| async { "dashboard" }).route_layer(RequireAuth::new()),
        )
        .route(
            "/admin",
            get(|auth: Auth| async move { format!("admin of {}", auth.org_slug.unwrap_or_default()) })
                .route_layer(require_role("org:admin")),
        )
        .route(
            "/reports",
            get(|| async { "reports" }).route_layer(require_permission("org:reports:export")),
        )
        .layer(ClerkLayer::new(clerk))
}

async fn call(app: &Router, request: Request<()>) -> (StatusCode, http::HeaderMap, String) {
    let (parts, ()) = request.into_parts();
    let response = app
        .clone()
        .oneshot(Request::from_parts(parts, Body::empty()))
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn layer_extractors_and_guards(db: Db) {
    let srv = TestServer::spawn(db).await;
    let session = sign_in(&srv, "jo@example.com").await;
    let app = app(clerk(&srv));

    // Signed out: the page renders anonymously, protected routes answer 401 JSON.
    let (status, headers, body) = call(&app, document("/", "")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "anonymous"));
    let reported: Vec<_> = headers.get_all("x-clerk-auth-status").iter().collect();
    assert_eq!(reported, ["signed-out"]);
    for path in ["/me", "/dashboard", "/admin", "/reports"] {
        let request = Request::get(path).body(()).unwrap();
        let (status, headers, body) = call(&app, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(headers["content-type"], "application/json");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["errors"][0]["code"], "authentication_invalid");
    }

    // Signed in without an organization: 200 for the user, 403 for the role and permission.
    let me = |path: &str, token: &str| {
        Request::get(path)
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap()
    };
    for path in ["/", "/me"] {
        let (status, headers, body) = call(&app, me(path, &session.token)).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, session.user_id.clone()),
            "{path}"
        );
        // Decided without the network: the layer reports the status itself, exactly once.
        let reported: Vec<_> = headers.get_all("x-clerk-auth-status").iter().collect();
        assert_eq!(reported, ["signed-in"], "{path}");
    }
    let (status, _, body) = call(&app, me("/dashboard", &session.token)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "dashboard"));
    for path in ["/admin", "/reports"] {
        let (status, headers, body) = call(&app, me(path, &session.token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(headers["content-type"], "application/json");
        assert!(body.contains("authorization_invalid"), "{body}");
    }

    // As the admin of an active organization: the role guard lets the request through.
    let (status, org) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(
                serde_json::json!({"name": "Acme", "slug": "acme", "created_by": session.user_id}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let mut browser = session.browser;
    let answer = browser
        .post(
            &format!("/v1/client/sessions/{}/tokens", session.session_id),
            &[("organization_id", org["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let org_token = answer.body["jwt"].as_str().unwrap().to_owned();
    let (status, _, body) = call(&app, me("/admin", &org_token)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "admin of acme"));
    // Admin has system permissions only, and those are never in a token.
    let (status, _, _) = call(&app, me("/reports", &org_token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn handshakes_redirect_and_set_cookies(db: Db) {
    let srv = TestServer::spawn(db).await;
    let mut session = sign_in(&srv, "kay@example.com").await;
    let clerk =
        Clerk::new(crate::support::config(&srv).proxy_url(srv.frontend_url.clone())).unwrap();
    let app = app(clerk);
    let uat = session.browser.cookies["__client_uat"].clone();

    // A document request with `__client_uat` but no `__session`: 307 to the handshake.
    let (status, headers, _) =
        call(&app, document("/dashboard", &format!("__client_uat={uat}"))).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(headers["cache-control"], "no-store");
    let location = headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/v1/client/handshake?", srv.frontend_url)));
    assert!(headers
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("__clerk_redirect_count=1")));
    // The same state from a fetch is a plain 401.
    let fetch = Request::get("/dashboard")
        .header("cookie", format!("__client_uat={uat}"))
        .header("sec-fetch-dest", "empty")
        .body(())
        .unwrap();
    let (status, headers, _) = call(&app, fetch).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers["x-clerk-auth-reason"],
        "client-uat-but-no-session-token"
    );

    // The browser visits FAPI and comes back with the nonce; the app is signed in and the
    // response carries the cookies.
    let url = url::Url::parse(&location).unwrap();
    session
        .browser
        .get(&format!("{}?{}", url.path(), url.query().unwrap()))
        .await;
    let nonce = session.browser.cookies["__clerk_handshake_nonce"].clone();
    let (status, headers, body) = call(
        &app,
        document(
            "/dashboard",
            &format!("__client_uat={uat}; __clerk_handshake_nonce={nonce}"),
        ),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "dashboard"));
    let cookies: Vec<&str> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("__session=ey")),
        "{cookies:?}"
    );
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("__clerk_handshake_nonce=;")));
    let reported: Vec<_> = headers.get_all("x-clerk-auth-status").iter().collect();
    assert_eq!(reported, ["signed-in"]);
}

/// `current_user()` is fetched once per request: a change made through the Backend API in the
/// middle of a request is not seen by later calls in that request, but by the next request.
async fn current_user_is_fetched_once_per_request(db: Db) {
    let srv = TestServer::spawn(db).await;
    let session = sign_in(&srv, "kim@example.com").await;
    let clerk = clerk(&srv);
    let api = clerk.api().unwrap().clone();
    let app = Router::new()
        .route(
            "/profile",
            get(
                |CurrentUser(first): CurrentUser, context: ClerkRequest| async move {
                    let user_id = context.auth().unwrap().user_id.clone();
                    let rename = UpdateUserParams {
                        first_name: Some(format!("{}+", first.first_name.unwrap_or_default())),
                        ..Default::default()
                    };
                    api.update_user(&user_id, &rename).await.unwrap();
                    let again = context.current_user().await.unwrap().unwrap();
                    let third = context.current_user().await.unwrap().unwrap();
                    format!(
                        "{}|{}",
                        again.first_name.clone().unwrap_or_default(),
                        third.first_name.clone().unwrap_or_default()
                    )
                },
            ),
        )
        .route(
            "/maybe",
            get(|context: ClerkRequest| async move {
                match context.current_user().await.unwrap() {
                    Some(user) => user.id.clone(),
                    None => "nobody".to_owned(),
                }
            }),
        )
        .layer(ClerkLayer::new(clerk));

    let request = || {
        http::Request::get("/profile")
            .header("host", "localhost:3000")
            .header("authorization", format!("Bearer {}", session.token))
            .body(())
            .unwrap()
    };
    let (status, _, body) = call(&app, request()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body, "|",
        "the extractor's fetch is reused by both later calls"
    );
    let (_, _, body) = call(&app, request()).await;
    assert_eq!(body, "+|+", "the next request fetches again");

    // Signed out: the extractor answers 401, the context says `None`.
    let anonymous = || {
        http::Request::get("/profile")
            .header("host", "localhost:3000")
            .body(())
            .unwrap()
    };
    let (status, _, body) = call(&app, anonymous()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("authentication_invalid"), "{body}");
    let mut maybe = anonymous();
    *maybe.uri_mut() = "/maybe".parse().unwrap();
    let (status, _, body) = call(&app, maybe).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "nobody"));

    // A user deleted since the token was minted: 500 with an envelope.
    srv.bapi(
        &srv.default,
        Method::DELETE,
        &format!("/v1/users/{}", session.user_id),
        None,
    )
    .await;
    let (status, _, body) = call(&app, request()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(body.contains("internal_clerk_error"), "{body}");
}

crate::both_databases!(
    current_user_is_fetched_once_per_request,
    layer_extractors_and_guards,
    handshakes_redirect_and_set_cookies,
);
