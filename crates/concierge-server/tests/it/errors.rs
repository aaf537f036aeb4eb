//! Bad input gets Clerk's error envelope with the right status, and changes nothing (wire §7).

use concierge_testkit::{Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(
    authentication_errors,
    routing_and_body_errors,
    field_errors_change_nothing
);

async fn authentication_errors(db: Db) {
    let srv = TestServer::spawn(db).await;
    let response = srv
        .http()
        .get(format!("{}/v1/users", srv.backend_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "authentication_invalid");
    let (status, body) = srv
        .bapi_with_key("sk_live_wrong", Method::GET, "/v1/jwks", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("error_invalid_secret_key", body, {".clerk_trace_id" => "[trace_id]"});
    // The same answer where the rate limit looked the key up first.
    let (status, limited) = srv
        .bapi_with_key("sk_live_wrong", Method::GET, "/v1/users", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(limited["errors"], body["errors"]);
}

async fn routing_and_body_errors(db: Db) {
    let srv = TestServer::spawn(db).await;
    let (status, body) = srv
        .bapi(&srv.default, Method::GET, "/v1/nothing_here", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errors"][0]["code"], "resource_not_found");
    let (status, body) = srv
        .bapi(&srv.default, Method::PUT, "/v1/users/count", None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["errors"].is_array());
    let (status, _) = srv
        .bapi(&srv.default, Method::GET, "/v1/users/not-a-user-id", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // `Connection: close`: the server answers a body it refuses before reading it all and then
    // drops the connection, which the client must not put back in its pool for the next request.
    let send = |body: Vec<u8>| {
        srv.http()
            .post(format!("{}/v1/users", srv.backend_url))
            .bearer_auth(&srv.default.secret_key)
            .header("content-type", "application/json")
            .header("connection", "close")
            .body(body)
            .send()
    };
    let response = send(b"{not json".to_vec()).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "malformed_request");
    let huge = format!("{{\"first_name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let response = send(huge.into_bytes()).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "request_body_too_large");
    let (_, count) = srv
        .bapi(&srv.default, Method::GET, "/v1/users/count", None)
        .await;
    assert_eq!(count["total_count"], 0);
}

async fn field_errors_change_nothing(db: Db) {
    let srv = TestServer::spawn(db).await;
    srv.create_user(&srv.default, "taken@example.com").await;
    let cases = [
        (
            json!({"email_address": ["not-an-email"]}),
            "form_param_format_invalid",
            "email_address",
        ),
        (
            json!({"email_address": ["TAKEN@example.com"]}),
            "form_identifier_exists",
            "email_address",
        ),
        (
            json!({"email_address": ["new@example.com", "taken@example.com"]}),
            "form_identifier_exists",
            "email_address",
        ),
        (
            json!({"email_address": ["new@example.com"], "password": "short"}),
            "form_password_length_too_short",
            "password",
        ),
        (
            json!({"email_address": ["new@example.com"], "first_name": 42}),
            "form_param_format_invalid",
            "first_name",
        ),
        (
            json!({"email_address": ["new@example.com"], "username": "x"}),
            "form_param_format_invalid",
            "username",
        ),
        (
            json!({"email_address": ["new@example.com"], "public_metadata": "text"}),
            "form_param_format_invalid",
            "public_metadata",
        ),
        (json!({}), "form_param_missing", "email_address"),
    ];
    for (body, code, param) in cases {
        let (status, err) = srv
            .bapi(&srv.default, Method::POST, "/v1/users", Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert_eq!(err["errors"][0]["code"], code, "{body}");
        assert_eq!(err["errors"][0]["meta"]["param_name"], param, "{body}");
        assert!(err["errors"][0]["long_message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let (_, count) = srv
        .bapi(&srv.default, Method::GET, "/v1/users/count", None)
        .await;
    assert_eq!(count["total_count"], 1, "failed requests created nothing");
    let (_, list) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/users?email_address=new@example.com",
            None,
        )
        .await;
    assert_eq!(list, json!([]));

    let second = srv.create_user(&srv.default, "second@example.com").await;
    let (status, err) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("/v1/users/{}", second["id"].as_str().unwrap()),
            Some(json!({"first_name": "Changed", "username": "!!"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (_, unchanged) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/users/{}", second["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(unchanged, second, "a failed update changes nothing");
}
