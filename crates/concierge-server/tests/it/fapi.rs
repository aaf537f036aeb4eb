//! Frontend API transport and `Clerk.load()`'s first calls (wire §6.1, §6.2, §6.10).

use concierge_testkit::{Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(environment_and_client, cors_and_origin_checks);

async fn fapi(
    srv: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = srv
        .http()
        .request(method, format!("{}{}", srv.frontend_url, path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    assert_eq!(response.headers()["content-type"], "application/json");
    (status, response.json().await.unwrap())
}

async fn environment_and_client(db: Db) {
    let srv = TestServer::spawn(db).await;
    let host = [("x-forwarded-host", "clerk.default.test")];
    let (status, env) = json_of(
        fapi(
            &srv,
            Method::GET,
            "/v1/environment?__clerk_api_version=2026-05-12&_clerk_js_version=6.40.0",
            &host,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(env["object"], "environment", "unwrapped");
    assert_eq!(
        env["display_config"]["instance_environment_type"],
        "production"
    );
    assert_eq!(env["display_config"]["captcha_public_key"], Value::Null);
    assert_eq!(env["user_settings"]["sign_up"]["captcha_enabled"], false);
    assert_eq!(env["auth_config"]["session_minter"], false);
    assert_eq!(env["protect_config"]["loaders"], json!([]));
    let attributes = env["user_settings"]["attributes"].as_object().unwrap();
    for key in [
        "email_address",
        "phone_number",
        "username",
        "web3_wallet",
        "first_name",
        "last_name",
        "password",
        "authenticator_app",
        "backup_code",
        "passkey",
    ] {
        assert!(attributes.contains_key(key), "attribute {key}");
    }
    let (status, patched) =
        json_of(fapi(&srv, Method::POST, "/v1/environment?_method=PATCH", &host).await).await;
    assert_eq!(
        (status, &patched),
        (StatusCode::OK, &env),
        "development keys PATCH the environment"
    );

    // The app's proxy names the instance with its secret key (wire §1.6).
    let other_key = [("clerk-secret-key", srv.other.secret_key.as_str())];
    let (_, other_env) =
        json_of(fapi(&srv, Method::GET, "/v1/environment", &other_key).await).await;
    assert_ne!(other_env["id"], env["id"]);
    let (status, err) = json_of(
        fapi(
            &srv,
            Method::GET,
            "/v1/environment",
            &[("clerk-secret-key", "sk_live_wrong")],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(err["errors"].is_array());
    let (status, _) = json_of(
        fapi(
            &srv,
            Method::GET,
            "/v1/environment",
            &[("x-forwarded-host", "unknown.example.com")],
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "two instances: an unknown host matches neither"
    );

    let (status, client) = json_of(
        fapi(
            &srv,
            Method::GET,
            "/v1/client/?_clerk_js_version=6.40.0",
            &host,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, client),
        (StatusCode::OK, json!({"response": null, "client": null})),
        "no client yet, trailing slash accepted"
    );
    let (status, client) = json_of(
        fapi(
            &srv,
            Method::GET,
            "/v1/client",
            &[
                ("x-forwarded-host", "clerk.default.test"),
                ("cookie", "__client=unknown"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, client["client"].clone()),
        (StatusCode::OK, Value::Null)
    );
    let (status, err) = json_of(fapi(&srv, Method::GET, "/v1/nothing", &host).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["errors"][0]["code"], "resource_not_found");
}

async fn cors_and_origin_checks(db: Db) {
    let srv = TestServer::spawn(db).await;
    let host = ("x-forwarded-host", "clerk.default.test");
    let response = fapi(
        &srv,
        Method::GET,
        "/v1/environment",
        &[host, ("origin", "http://localhost:3000")],
    )
    .await;
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );
    let response = fapi(
        &srv,
        Method::GET,
        "/v1/environment",
        &[host, ("origin", "http://evil.test")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "foreign origins cannot read"
    );

    let preflight = [
        host,
        ("origin", "http://127.0.0.1:4321"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let response = fapi(&srv, Method::OPTIONS, "/v1/client/sign_ins", &preflight).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://127.0.0.1:4321"
    );
    assert_eq!(
        response.headers()["access-control-allow-headers"],
        "content-type"
    );
    let response = fapi(
        &srv,
        Method::OPTIONS,
        "/v1/client/sign_ins",
        &[host, ("origin", "http://evil.test")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // CSRF: a mutation carrying the client cookie must come from an accepted origin.
    let cookie = ("cookie", "__client=abc; other=1");
    let (status, err) = json_of(
        fapi(
            &srv,
            Method::POST,
            "/v1/environment?_method=PATCH",
            &[host, cookie, ("origin", "http://evil.test")],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["errors"][0]["code"], "origin_invalid");
    let (status, _) = json_of(
        fapi(
            &srv,
            Method::POST,
            "/v1/environment?_method=PATCH",
            &[host, cookie],
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "no origin at all is refused too"
    );
    let (status, _) = json_of(
        fapi(
            &srv,
            Method::POST,
            "/v1/environment?_method=PATCH",
            &[host, cookie, ("origin", "http://localhost:3000")],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = json_of(
        fapi(
            &srv,
            Method::POST,
            "/v1/environment?_method=PATCH",
            &[host, ("origin", "http://evil.test")],
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "without the cookie there is no ambient authority to abuse"
    );
    // The `other` instance accepts no localhost origin.
    let response = fapi(
        &srv,
        Method::GET,
        "/v1/environment",
        &[
            ("x-forwarded-host", "clerk.other.test"),
            ("origin", "http://localhost:3000"),
        ],
    )
    .await;
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}
