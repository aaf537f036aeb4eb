//! Several nodes on one PostgreSQL database behave as one server: what one node writes, the
//! others read at once, including key rotations and session revocations, and the rate limits
//! (Frontend API per IP, Backend API per secret key) count every node's requests.

use concierge_testkit::{Db, TestServer};

crate::both_databases!(
    rate_limits_count_every_node,
    backend_limit_counts_every_node,
    backend_limit_holds_under_concurrency
);
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

/// The Backend API's 1000 requests per 10 s per secret key hold for the nodes together: each
/// node leases admissions in batches of 50 from the database, and near the limit takes them
/// one at a time, so that none is handed out twice and a node with nothing left refuses.
async fn backend_limit_counts_every_node(db: Db) {
    let srv = TestServer::spawn(db).await;
    let node_b = srv.spawn_second_node().await.backend_url;
    let node_a = srv.backend_url.clone();
    let key = srv.default.secret_key.as_str();
    let srv = &srv;
    let count = |node: &str| {
        let node = node.to_owned();
        async move {
            srv.bapi_at(&node, key, Method::GET, "/v1/users/count", None)
                .await
        }
    };
    // 600 requests on one node and 400 on the other, interleaved: all within the limit.
    for i in 0..1000 {
        let node = if i % 5 < 3 { &node_a } else { &node_b };
        let (status, body) = count(node).await;
        assert_eq!(status, StatusCode::OK, "request {i}: {body}");
    }
    for node in [&node_a, &node_b] {
        let (status, body) = count(node).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{node}: {body}");
        assert_eq!(body["errors"][0]["code"], "too_many_requests");
    }
    // Another instance's limit is its own.
    let (status, _) = srv
        .bapi_at(
            &node_b,
            &srv.other.secret_key,
            Method::GET,
            "/v1/users/count",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // 10 ms later one request fits (no batch does): one node gets it, then both refuse.
    srv.clock.advance(10);
    assert_eq!(count(&node_b).await.0, StatusCode::OK);
    for node in [&node_a, &node_b] {
        assert_eq!(count(node).await.0, StatusCode::TOO_MANY_REQUESTS);
    }

    // A second later, 100 more: each node leases a batch of 50, and not one more is admitted.
    srv.clock.advance(1_000);
    let mut admitted = 0;
    for i in 0..150 {
        let node = if i % 2 == 0 { &node_a } else { &node_b };
        if count(node).await.0 == StatusCode::OK {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 100, "the 100 freed, in two batches of 50");
}

/// 1100 concurrent Backend API requests, half on each node: never more than the limit is
/// admitted (each node refills one lease at a time, and the database hands out every
/// admission once); at most one node's last batch goes unused when its requests run out.
async fn backend_limit_holds_under_concurrency(db: Db) {
    let srv = TestServer::spawn(db).await;
    let node_b = srv.spawn_second_node().await.backend_url;
    let http = reqwest::Client::new();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..1100 {
        let url = if i % 2 == 0 {
            srv.backend_url.clone()
        } else {
            node_b.clone()
        };
        let (http, gate) = (http.clone(), gate.clone());
        let key = srv.default.secret_key.clone();
        requests.spawn(async move {
            let _turn = gate.acquire_owned().await.unwrap();
            http.get(format!("{url}/v1/users/count"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let (mut admitted, mut refused) = (0, 0);
    while let Some(status) = requests.join_next().await {
        match status.unwrap() {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(admitted + refused, 1100);
    assert!(
        (950..=1000).contains(&admitted),
        "the limit, less at most one unused batch: {admitted}"
    );
}
