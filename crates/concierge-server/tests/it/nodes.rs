//! Several nodes on one PostgreSQL database behave as one server: what one node writes, the
//! others read at once, including key rotations and session revocations, and the Frontend API's
//! rate limits count every node's requests.

use concierge_testkit::{Db, TestServer};

crate::both_databases!(rate_limits_count_every_node);
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn kid(jwt: &str) -> Value {
    use base64::Engine;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwt.split('.').next().unwrap())
        .unwrap();
    serde_json::from_slice::<Value>(&header).unwrap()["kid"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_postgres_database() {
    let srv = TestServer::spawn(Db::Postgres).await;
    let node_a = srv.backend_url.clone();
    let node_b = srv.spawn_second_node().await.backend_url;
    let key = srv.default.secret_key.as_str();

    let (status, user) = srv
        .bapi_at(
            &node_a,
            key,
            Method::POST,
            "/v1/users",
            Some(json!({"email_address": ["n@example.com"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let uid = user["id"].as_str().unwrap();
    let (status, seen) = srv
        .bapi_at(&node_b, key, Method::GET, &format!("/v1/users/{uid}"), None)
        .await;
    assert_eq!(
        (status, seen["id"].clone()),
        (StatusCode::OK, user["id"].clone())
    );

    let (status, dup) = srv
        .bapi_at(
            &node_b,
            key,
            Method::POST,
            "/v1/users",
            Some(json!({"email_address": ["n@example.com"]})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "uniqueness holds across nodes: {dup}"
    );

    let (_, session) = srv
        .bapi_at(
            &node_b,
            key,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": uid})),
        )
        .await;
    let sid = session["id"].as_str().unwrap();
    let (_, before) = srv
        .bapi_at(
            &node_a,
            key,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens"),
            None,
        )
        .await;
    // A rotation made through one node is used by every node on its very next token.
    srv.service.rotate_signing_key(&srv.default).await.unwrap();
    let (_, after) = srv
        .bapi_at(
            &node_b,
            key,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens"),
            None,
        )
        .await;
    let (_, after_a) = srv
        .bapi_at(
            &node_a,
            key,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens"),
            None,
        )
        .await;
    assert_ne!(
        kid(before["jwt"].as_str().unwrap()),
        kid(after["jwt"].as_str().unwrap())
    );
    assert_eq!(
        kid(after["jwt"].as_str().unwrap()),
        kid(after_a["jwt"].as_str().unwrap())
    );

    let (status, _) = srv
        .bapi_at(
            &node_a,
            key,
            Method::POST,
            &format!("/v1/sessions/{sid}/revoke"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = srv
        .bapi_at(
            &node_b,
            key,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a revocation on one node stops tokens on the other"
    );
}

/// Create-sign-in is limited to 5 per 10 s per IP, whichever node the requests reach: three on
/// one node and two on the other use the quota up, and the next is refused on both.
async fn rate_limits_count_every_node(db: Db) {
    let srv = TestServer::spawn(db).await;
    let node_b = srv.spawn_second_node().await;
    srv.create_user(&srv.default, "nodes@example.com").await;
    let sign_in = [("identifier", "nodes@example.com")];
    let mut browser = srv.browser();
    for i in 0..5 {
        if i == 3 {
            browser.switch_to(&node_b.frontend_url);
        }
        let answer = browser.post("/v1/client/sign_ins", &sign_in).await;
        assert_eq!(answer.status, StatusCode::OK, "{i}: {}", answer.body);
    }
    let answer = browser.post("/v1/client/sign_ins", &sign_in).await;
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        answer.body
    );
    assert_eq!(answer.headers["retry-after"], "2");
    browser.switch_to(&srv.frontend_url);
    let answer = browser.post("/v1/client/sign_ins", &sign_in).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);

    // Another address is not affected, on either node; after the wait, the first goes on.
    let mut other = srv.browser();
    other.switch_to(&node_b.frontend_url);
    let answer = other.post("/v1/client/sign_ins", &sign_in).await;
    assert_eq!(answer.status, StatusCode::OK);
    srv.clock.advance(2_000);
    browser.switch_to(&node_b.frontend_url);
    let answer = browser.post("/v1/client/sign_ins", &sign_in).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}
