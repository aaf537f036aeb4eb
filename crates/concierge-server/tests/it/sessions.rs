//! `/v1/sessions` and `/v1/clients` end to end.

use concierge_testkit::{Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

crate::both_databases!(
    session_lifecycle_and_listing,
    session_max_lifetime,
    clients_list_and_get
);

async fn session_lifecycle_and_listing(db: Db) {
    let srv = TestServer::spawn(db).await;
    let user = srv.create_user(&srv.default, "s@example.com").await;
    let uid = user["id"].as_str().unwrap();
    let (status, session) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": uid})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["status"], "active");
    assert_eq!(session["user_id"], uid);
    let sid = session["id"].as_str().unwrap().to_owned();
    insta::assert_json_snapshot!("bapi_session", session, {".id" => "[sid]", ".client_id" => "[client_id]", ".user_id" => "[user_id]"});
    let (_, second) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": uid})),
        )
        .await;

    let (_, page) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/sessions?user_id={uid}&paginated=true"),
            None,
        )
        .await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let (_, bare) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/sessions?user_id={uid}&limit=1"),
            None,
        )
        .await;
    assert_eq!(
        bare.as_array().unwrap().len(),
        1,
        "unpaginated list is a bare array"
    );

    let (status, revoked) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/revoke"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revoked["status"], "revoked");
    let (status, err) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/revoke"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["code"], "session_not_active");
    let (_, active) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/sessions?user_id={uid}&status=active&paginated=true"),
            None,
        )
        .await;
    assert_eq!(active["total_count"], 1);
    assert_eq!(active["data"][0]["id"], second["id"]);
    let (status, err) = srv
        .bapi(&srv.default, Method::POST, "/v1/sessions", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["meta"]["param_name"], "user_id");
    let (status, err) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": "user_doesnotexist"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
}

async fn session_max_lifetime(db: Db) {
    let srv = TestServer::spawn(db).await;
    let user = srv.create_user(&srv.default, "life@example.com").await;
    let (_, session) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": user["id"]})),
        )
        .await;
    let sid = session["id"].as_str().unwrap();
    assert_eq!(
        session["expire_at"].as_i64().unwrap() - session["created_at"].as_i64().unwrap(),
        7 * 24 * 3600 * 1000,
        "default max lifetime is 7 days"
    );
    let token_path = format!("/v1/sessions/{sid}/tokens");
    let (status, _) = srv
        .bapi(&srv.default, Method::POST, &token_path, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    srv.clock.advance(7 * 24 * 3600 * 1000);
    let (_, expired) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/sessions/{sid}"),
            None,
        )
        .await;
    assert_eq!(expired["status"], "expired");
    let (status, err) = srv
        .bapi(&srv.default, Method::POST, &token_path, None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no token after the max lifetime: {err}"
    );
}

async fn clients_list_and_get(db: Db) {
    let srv = TestServer::spawn(db).await;
    let user = srv.create_user(&srv.default, "c@example.com").await;
    let (_, session) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": user["id"]})),
        )
        .await;
    let client_id = session["client_id"].as_str().unwrap();
    let (status, client) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/clients/{client_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(client["object"], "client");
    assert_eq!(client["session_ids"], json!([session["id"]]));
    assert_eq!(client["last_active_session_id"], session["id"]);
    let (_, page) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/clients?paginated=true",
            None,
        )
        .await;
    assert_eq!(page["total_count"], 1);
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/clients/verify",
            Some(json!({"token": "not-a-client-token"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
