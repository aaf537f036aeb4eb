//! Session tokens, JWT templates and the JWKS end to end (wire §2, §3).

use base64::Engine;
use concierge_testkit::{Db, TestServer, START_MS};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(
    session_token_claims,
    template_tokens,
    jwks_and_rotation,
    revoked_session_gets_no_token
);

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn signing_keys(srv: &TestServer) -> Vec<concierge_core::SigningKey> {
    let mut conn = srv.db.store.read().await.unwrap();
    conn.list_signing_keys(&srv.default.id).await.unwrap()
}

async fn session_for(srv: &TestServer, email: &str) -> (String, String) {
    let user = srv.create_user(&srv.default, email).await;
    let (_, session) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": user["id"]})),
        )
        .await;
    (
        user["id"].as_str().unwrap().to_owned(),
        session["id"].as_str().unwrap().to_owned(),
    )
}

async fn session_token_claims(db: Db) {
    let srv = TestServer::spawn(db).await;
    let (uid, sid) = session_for(&srv, "t@example.com").await;
    let (status, token) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["object"], "token");
    let jwt = token["jwt"].as_str().unwrap();
    let header = decode_part(jwt, 0);
    let keys = signing_keys(&srv).await;
    assert_eq!(
        header,
        json!({"alg": "RS256", "kid": keys[0].id.as_str(), "typ": "JWT"})
    );
    let claims = concierge_tokens::verify_rs256(jwt, &keys, START_MS, 5000).unwrap();
    let iat = START_MS / 1000;
    assert_eq!(
        Value::Object(claims),
        json!({"exp": iat + 60, "fva": [0, -1], "iat": iat, "iss": "https://clerk.default.test", "nbf": iat - 10,
               "sid": sid, "sts": "active", "sub": uid, "v": 2})
    );
    let (_, token) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens"),
            Some(json!({"expires_in_seconds": 3600})),
        )
        .await;
    let claims = decode_part(token["jwt"].as_str().unwrap(), 1);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens"),
            Some(json!({"expires_in_seconds": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, verified) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/verify"),
            Some(json!({"token": jwt})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verified["id"], sid);
    srv.clock.advance(120_000);
    assert!(
        concierge_tokens::verify_rs256(
            jwt,
            &keys,
            concierge_core::Clock::now_ms(srv.clock.as_ref()),
            5000
        )
        .is_err(),
        "expired after 60 s"
    );
}

async fn template_tokens(db: Db) {
    let srv = TestServer::spawn(db).await;
    let (uid, sid) = session_for(&srv, "tmpl@example.com").await;
    let (_, user) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("/v1/users/{uid}/metadata"),
            Some(json!({"public_metadata": {"plan": "pro"}})),
        )
        .await;
    assert_eq!(user["public_metadata"]["plan"], "pro");
    let (status, template) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/jwt_templates",
            Some(json!({"name": "supabase", "lifetime": 120,
                        "claims": {"role": "authenticated", "email": "{{user.primary_email_address}}",
                                   "plan": "{{user.public_metadata.plan || 'free'}}", "sub": "ignored"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{template}");
    assert_eq!(template["object"], "jwt_template");
    let (status, dup) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/jwt_templates",
            Some(json!({"name": "supabase", "claims": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{dup}");
    let (status, token) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens/supabase"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let jwt = token["jwt"].as_str().unwrap();
    assert_eq!(decode_part(jwt, 0)["cat"], "cl_B7d4PD222AAA");
    let claims =
        concierge_tokens::verify_rs256(jwt, &signing_keys(&srv).await, START_MS, 5000).unwrap();
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["email"], "tmpl@example.com");
    assert_eq!(claims["plan"], "pro");
    assert_eq!(claims["sub"], uid.as_str(), "templates cannot override sub");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens/missing"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let tid = template["id"].as_str().unwrap();
    let (_, updated) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("/v1/jwt_templates/{tid}"),
            Some(json!({"lifetime": 300})),
        )
        .await;
    assert_eq!(updated["lifetime"], 300);
    let (_, page) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/jwt_templates?paginated=true",
            None,
        )
        .await;
    assert_eq!(page["total_count"], 1);
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::DELETE,
            &format!("/v1/jwt_templates/{tid}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/jwt_templates/{tid}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn jwks_and_rotation(db: Db) {
    let srv = TestServer::spawn(db).await;
    let (_, sid) = session_for(&srv, "rot@example.com").await;
    let (status, jwks) = srv.bapi(&srv.default, Method::GET, "/v1/jwks", None).await;
    assert_eq!(status, StatusCode::OK);
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (
            keys[0]["kty"].as_str(),
            keys[0]["alg"].as_str(),
            keys[0]["use"].as_str(),
            keys[0]["e"].as_str()
        ),
        (Some("RSA"), Some("RS256"), Some("sig"), Some("AQAB"))
    );
    let public: Value = srv
        .http()
        .get(format!("{}/.well-known/jwks.json", srv.frontend_url))
        .header("host", "clerk.default.test")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        public, jwks,
        "the public well-known JWKS matches the Backend API's"
    );

    let (_, before) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens"),
            None,
        )
        .await;
    srv.service.rotate_signing_key(&srv.default).await.unwrap();
    let (_, after) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens"),
            None,
        )
        .await;
    let kid_before = decode_part(before["jwt"].as_str().unwrap(), 0)["kid"].clone();
    let kid_after = decode_part(after["jwt"].as_str().unwrap(), 0)["kid"].clone();
    assert_ne!(kid_before, kid_after);
    let (_, jwks) = srv.bapi(&srv.default, Method::GET, "/v1/jwks", None).await;
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert!(
        kids.contains(&&kid_before) && kids.contains(&&kid_after),
        "retired key stays published"
    );
    let keys = signing_keys(&srv).await;
    for token in [&before, &after] {
        assert!(concierge_tokens::verify_rs256(
            token["jwt"].as_str().unwrap(),
            &keys,
            START_MS,
            5000
        )
        .is_ok());
    }
    let (_, other_jwks) = srv.bapi(&srv.other, Method::GET, "/v1/jwks", None).await;
    assert!(
        !other_jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid_before),
        "instances have their own keys"
    );
}

async fn revoked_session_gets_no_token(db: Db) {
    let srv = TestServer::spawn(db).await;
    let (_, sid) = session_for(&srv, "rev@example.com").await;
    srv.bapi(
        &srv.default,
        Method::POST,
        &format!("/v1/sessions/{sid}/revoke"),
        None,
    )
    .await;
    let (status, err) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/sessions/{sid}/tokens"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["code"], "session_not_active");
}
