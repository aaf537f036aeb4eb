//! Tenant isolation: one instance's secret key never reaches another instance's data.

use concierge_testkit::{Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

crate::both_databases!(other_instance_cannot_read_or_change);

async fn other_instance_cannot_read_or_change(db: Db) {
    let srv = TestServer::spawn(db).await;
    let user = srv.create_user(&srv.default, "iso@example.com").await;
    let uid = user["id"].as_str().unwrap();
    let (_, session) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": uid})),
        )
        .await;
    let sid = session["id"].as_str().unwrap();
    let email_id = user["email_addresses"][0]["id"].as_str().unwrap();
    // The baseline is taken after the session, which records the sign-in on the user.
    let (_, user) = srv
        .bapi(&srv.default, Method::GET, &format!("/v1/users/{uid}"), None)
        .await;
    let other = &srv.other;
    for (method, path, body) in [
        (Method::GET, format!("/v1/users/{uid}"), None),
        (
            Method::PATCH,
            format!("/v1/users/{uid}"),
            Some(json!({"first_name": "Mallory"})),
        ),
        (
            Method::PATCH,
            format!("/v1/users/{uid}/metadata"),
            Some(json!({"public_metadata": {"x": 1}})),
        ),
        (Method::POST, format!("/v1/users/{uid}/ban"), None),
        (
            Method::POST,
            format!("/v1/users/{uid}/verify_password"),
            Some(json!({"password": "correct-horse-battery"})),
        ),
        (Method::DELETE, format!("/v1/users/{uid}"), None),
        (Method::GET, format!("/v1/email_addresses/{email_id}"), None),
        (
            Method::DELETE,
            format!("/v1/email_addresses/{email_id}"),
            None,
        ),
        (Method::GET, format!("/v1/sessions/{sid}"), None),
        (Method::POST, format!("/v1/sessions/{sid}/revoke"), None),
        (Method::POST, format!("/v1/sessions/{sid}/tokens"), None),
        (
            Method::GET,
            format!("/v1/clients/{}", session["client_id"].as_str().unwrap()),
            None,
        ),
    ] {
        let (status, body) = srv.bapi(other, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
    }
    let (status, _) = srv
        .bapi(
            other,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": uid})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = srv.bapi(other, Method::GET, "/v1/users", None).await;
    assert_eq!(list, json!([]));
    let (_, count) = srv.bapi(other, Method::GET, "/v1/users/count", None).await;
    assert_eq!(count["total_count"], 0);
    let (_, sessions) = srv
        .bapi(other, Method::GET, "/v1/sessions?paginated=true", None)
        .await;
    assert_eq!(sessions["total_count"], 0);
    // The same email may exist in both instances.
    srv.create_user(other, "iso@example.com").await;
    // Nothing changed in the default instance.
    let (_, unchanged) = srv
        .bapi(&srv.default, Method::GET, &format!("/v1/users/{uid}"), None)
        .await;
    assert_eq!(unchanged, user);
}
