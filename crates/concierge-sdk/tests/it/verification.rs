//! Session tokens minted by a real Concierge, verified by the SDK with the Backend API JWKS
//! and with the instance's PEM key (wire §2.3, §3, §4.5).

use crate::support::{bearer, clerk, document, other_instance_token, sign_in, ServerClock};
use base64::Engine;
use concierge_sdk::{reason, AuthStatus, Clerk};
use concierge_testkit::{Db, TestServer};
use reqwest::{Method, StatusCode};
use std::sync::Arc;

async fn signed_in_via_header_and_via_cookie(db: Db) {
    let srv = TestServer::spawn(db).await;
    let session = sign_in(&srv, "ada@example.com").await;
    let clerk = clerk(&srv);

    let claims = clerk.verify_token(&session.token).await.unwrap();
    assert_eq!(claims.sub, session.user_id);
    assert_eq!(claims.sid.as_deref(), Some(session.session_id.as_str()));
    assert_eq!(claims.iss.as_deref(), Some("https://clerk.default.test"));
    assert!(claims.is_v2());

    let state = clerk.authenticate_request(&bearer(&session.token)).await;
    let auth = state.auth().expect("signed in through the header");
    assert_eq!(auth.user_id, session.user_id);
    assert_eq!(
        auth.session_id.as_deref(),
        Some(session.session_id.as_str())
    );
    assert_eq!(auth.org_id, None);

    let state = clerk
        .authenticate_request(&document("/dashboard", &session.cookies()))
        .await;
    assert_eq!(state.auth().unwrap().user_id, session.user_id);
    assert_eq!(state.headers["x-clerk-auth-status"], "signed-in");
    assert_eq!(state.set_cookies().count(), 0);
}

async fn signed_out_without_cookies(db: Db) {
    let srv = TestServer::spawn(db).await;
    let state = clerk(&srv).authenticate_request(&document("/", "")).await;
    assert_eq!(state.reason(), Some(reason::SESSION_TOKEN_AND_UAT_MISSING));
    assert!(state.location().is_none());
}

async fn expired_tokens_are_refused_and_documents_go_to_the_handshake(db: Db) {
    let srv = TestServer::spawn(db).await;
    let session = sign_in(&srv, "bob@example.com").await;
    let clerk = clerk(&srv);
    assert!(clerk.verify_token(&session.token).await.is_ok());
    srv.clock.advance(2 * 60 * 1000);

    let error = clerk.verify_token(&session.token).await.unwrap_err();
    assert_eq!(error.reason(), "token-expired");
    let state = clerk.authenticate_request(&bearer(&session.token)).await;
    assert_eq!(state.reason(), Some(reason::SESSION_TOKEN_EXPIRED_GET));
    assert!(matches!(state.status, AuthStatus::SignedOut { .. }));
    let state = clerk
        .authenticate_request(&document("/dashboard", &session.cookies()))
        .await;
    let AuthStatus::Handshake { location, reason } = &state.status else {
        panic!("expected a handshake, got {:?}", state.status);
    };
    assert_eq!(reason, reason::SESSION_TOKEN_EXPIRED_GET);
    assert!(location.starts_with("https://clerk.default.test/v1/client/handshake?"));
}

async fn tampered_and_foreign_tokens_are_refused(db: Db) {
    let srv = TestServer::spawn(db).await;
    let session = sign_in(&srv, "cy@example.com").await;
    let clerk = clerk(&srv);

    let mut parts: Vec<&str> = session.token.split('.').collect();
    let forged = base64_url(&format!(
        r#"{{"sub":"user_admin","exp":{},"iss":"https://clerk.default.test"}}"#,
        i64::MAX / 1000
    ));
    parts[1] = &forged;
    let error = clerk.verify_token(&parts.join(".")).await.unwrap_err();
    assert_eq!(error.reason(), "token-invalid-signature");

    let foreign = other_instance_token(&srv).await;
    let error = clerk.verify_token(&foreign).await.unwrap_err();
    assert_eq!(error.reason(), "jwk-kid-mismatch");
    let state = clerk
        .authenticate_request(&document(
            "/",
            &format!("__client_uat=1; __session={foreign}"),
        ))
        .await;
    // Wire §4.3 rule 2: an un-suffixed `__session` from another issuer is not ours, so the
    // suffixed family is read, and it is empty.
    assert_eq!(state.reason(), Some(reason::SESSION_TOKEN_AND_UAT_MISSING));
    let state = clerk.authenticate_request(&bearer(&foreign)).await;
    assert_eq!(state.reason(), Some("jwk-kid-mismatch"));
}

async fn template_tokens_are_not_session_tokens(db: Db) {
    let srv = TestServer::spawn(db).await;
    let session = sign_in(&srv, "dee@example.com").await;
    let (status, template) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/jwt_templates",
            Some(serde_json::json!({"name": "api", "claims": {"aud": "api"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{template}");
    let path = format!("/v1/sessions/{}/tokens/api", session.session_id);
    let (status, token) = srv.bapi(&srv.default, Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let jwt = token["jwt"].as_str().unwrap();
    let error = clerk(&srv).verify_token(jwt).await.unwrap_err();
    assert_eq!(error.reason(), "token-type-mismatch");
}

async fn networkless_with_the_pem_key(db: Db) {
    let srv = TestServer::spawn(db).await;
    let session = sign_in(&srv, "eve@example.com").await;
    let pem = srv
        .service
        .current_public_key_pem(&srv.default.id)
        .await
        .unwrap();
    // No secret key at all: the Backend API is never called.
    let networkless = concierge_sdk::Config::new(&srv.default.publishable_key)
        .unwrap()
        .jwt_key(pem)
        .clock(Arc::new(ServerClock(srv.clock.clone())));
    let clerk = Clerk::new(networkless).unwrap();
    let claims = clerk.verify_token(&session.token).await.unwrap();
    assert_eq!(claims.sub, session.user_id);
    let foreign = other_instance_token(&srv).await;
    let error = clerk.verify_token(&foreign).await.unwrap_err();
    assert_eq!(error.reason(), "token-invalid-signature");
}

fn base64_url(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

crate::both_databases!(
    signed_in_via_header_and_via_cookie,
    signed_out_without_cookies,
    expired_tokens_are_refused_and_documents_go_to_the_handshake,
    tampered_and_foreign_tokens_are_refused,
    template_tokens_are_not_session_tokens,
    networkless_with_the_pem_key,
);
