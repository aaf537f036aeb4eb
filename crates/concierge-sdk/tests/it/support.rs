//! Shared helpers: an SDK configured for a test server's instance, and signed-in browsers.

use concierge_core::Clock as _;
use concierge_sdk::{Clerk, Config};
use concierge_testkit::{Browser, TestServer};
use reqwest::{Method, StatusCode};
use std::sync::Arc;

/// The password `TestServer::create_user` sets.
pub const PASSWORD: &str = "correct-horse-battery";

/// The SDK reads the server's fixed clock.
pub struct ServerClock(pub Arc<concierge_core::FixedClock>);

impl concierge_sdk::Clock for ServerClock {
    fn now_ms(&self) -> i64 {
        self.0.now_ms()
    }
}

/// The configuration an application of the `default` instance would use.
pub fn config(srv: &TestServer) -> Config {
    Config::new(&srv.default.publishable_key)
        .unwrap()
        .secret_key(srv.default.secret_key.as_str())
        .api_url(&srv.backend_url)
        .authorized_parties(["http://localhost:3000"])
        .clock(Arc::new(ServerClock(srv.clock.clone())))
}

/// The SDK for the `default` instance, verifying with the Backend API JWKS.
pub fn clerk(srv: &TestServer) -> Clerk {
    Clerk::new(config(srv)).unwrap()
}

/// A signed-in browser session on the `default` instance.
pub struct SignedIn {
    /// The browser (its jar holds `__client` and `__client_uat`).
    pub browser: Browser,
    /// The user id.
    pub user_id: String,
    /// The session id.
    pub session_id: String,
    /// The session token clerk-js would write to `__session`.
    pub token: String,
}

impl SignedIn {
    /// The `Cookie` header the application receives: `__client_uat` from FAPI and `__session`
    /// as clerk-js writes it.
    pub fn cookies(&self) -> String {
        format!(
            "__client_uat={}; __session={}",
            self.browser.cookies["__client_uat"], self.token
        )
    }
}

/// Creates a user and signs it in with a password, as clerk-js does.
pub async fn sign_in(srv: &TestServer, email: &str) -> SignedIn {
    let user = srv.create_user(&srv.default, email).await;
    let mut browser = srv.browser();
    let answer = browser
        .post(
            "/v1/client/sign_ins",
            &[
                ("identifier", email),
                ("password", PASSWORD),
                ("strategy", "password"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let session = &answer.body["client"]["sessions"][0];
    SignedIn {
        user_id: user["id"].as_str().unwrap().to_owned(),
        session_id: session["id"].as_str().unwrap().to_owned(),
        token: session["last_active_token"]["jwt"]
            .as_str()
            .unwrap()
            .to_owned(),
        browser,
    }
}

/// A session token of another instance, minted through its Backend API.
pub async fn other_instance_token(srv: &TestServer) -> String {
    let user = srv.create_user(&srv.other, "stranger@example.com").await;
    let (status, session) = srv
        .bapi(
            &srv.other,
            Method::POST,
            "/v1/sessions",
            Some(serde_json::json!({"user_id": user["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let path = format!("/v1/sessions/{}/tokens", session["id"].as_str().unwrap());
    let (status, token) = srv.bapi(&srv.other, Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    token["jwt"].as_str().unwrap().to_owned()
}

/// A browser navigation to `http://localhost:3000<path>` carrying `cookies`.
pub fn document(path: &str, cookies: &str) -> http::Request<()> {
    let mut request = http::Request::get(path)
        .header("host", "localhost:3000")
        .header("sec-fetch-dest", "document")
        .header("accept", "text/html");
    if !cookies.is_empty() {
        request = request.header("cookie", cookies);
    }
    request.body(()).unwrap()
}

/// An API call with a bearer token.
pub fn bearer(token: &str) -> http::Request<()> {
    http::Request::get("/api/me")
        .header("host", "localhost:3000")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap()
}
