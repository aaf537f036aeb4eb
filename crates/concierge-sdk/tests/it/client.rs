//! The typed Backend API client against a real Concierge: users, sessions, tokens, JWKS and
//! Clerk's error envelope (wire §7, §8).

use crate::support::sign_in;
use concierge_sdk::client::{
    ApiError, BackendApi, CreateUserParams, SessionListParams, UpdateUserParams, UserListParams,
};
use concierge_testkit::{Db, TestServer};
use http::StatusCode;

fn api(srv: &TestServer) -> BackendApi {
    BackendApi::new(&srv.backend_url, srv.default.secret_key.as_str()).unwrap()
}

async fn users_round_trip(db: Db) {
    let srv = TestServer::spawn(db).await;
    let api = api(&srv);
    let created = api
        .create_user(&CreateUserParams {
            email_address: vec!["lin@example.com".into()],
            password: Some("correct-horse-battery".into()),
            first_name: Some("Lin".into()),
            external_id: Some("ext-1".into()),
            public_metadata: Some(serde_json::json!({"plan": "pro"})),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(created.id.starts_with("user_"));
    assert_eq!(created.primary_email_address(), Some("lin@example.com"));
    assert_eq!(created.public_metadata["plan"], "pro");
    assert!(created.password_enabled);
    assert_eq!(created.other["object"], "user");

    let fetched = api.get_user(&created.id).await.unwrap();
    assert_eq!(fetched.first_name.as_deref(), Some("Lin"));
    api.create_user(&CreateUserParams {
        email_address: vec!["max@example.com".into()],
        ..Default::default()
    })
    .await
    .unwrap();

    let by_email = UserListParams {
        email_address: vec!["lin@example.com".into()],
        ..Default::default()
    };
    let found = api.list_users(&by_email).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, created.id);
    assert_eq!(api.count_users(&by_email).await.unwrap(), 1);
    let all = api.list_users(&UserListParams::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let page = api
        .list_users(&UserListParams {
            limit: Some(1),
            order_by: Some("-created_at".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    let by_external = UserListParams {
        external_id: vec!["ext-1".into()],
        ..Default::default()
    };
    assert_eq!(api.count_users(&by_external).await.unwrap(), 1);

    let updated = api
        .update_user(
            &created.id,
            &UpdateUserParams {
                last_name: Some("Lovelace".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(updated.first_name.as_deref(), Some("Lin"));

    let deleted = api.delete_user(&created.id).await.unwrap();
    assert_eq!(
        (deleted.id.as_str(), deleted.deleted),
        (created.id.as_str(), true)
    );
    let error = api.get_user(&created.id).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(error.code(), Some("resource_not_found"));
}

async fn errors_carry_the_envelope(db: Db) {
    let srv = TestServer::spawn(db).await;
    let error = api(&srv)
        .create_user(&CreateUserParams {
            email_address: vec!["not an email".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    let ApiError::Response {
        status,
        errors,
        clerk_trace_id,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(errors[0].code, "form_param_format_invalid");
    assert_eq!(errors[0].meta.param_name.as_deref(), Some("email_address"));
    assert!(errors[0].long_message.is_some());
    assert!(clerk_trace_id.is_some());
    assert!(error.to_string().contains("form_param_format_invalid"));

    let wrong_key = BackendApi::new(&srv.backend_url, "sk_live_wrong").unwrap();
    let error = wrong_key.jwks().await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    // Ids cannot walk to another endpoint.
    assert!(matches!(
        api(&srv).get_user("../jwks").await.unwrap_err(),
        ApiError::InvalidUrl(_)
    ));
}

async fn sessions_tokens_and_jwks(db: Db) {
    let srv = TestServer::spawn(db).await;
    let session = sign_in(&srv, "mo@example.com").await;
    let api = api(&srv);

    let fetched = api.get_session(&session.session_id).await.unwrap();
    assert_eq!(fetched.user_id, session.user_id);
    assert_eq!(fetched.status, "active");
    let page = api
        .list_sessions(&SessionListParams {
            user_id: Some(session.user_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total_count, 1);
    assert_eq!(page.data[0].id, session.session_id);

    let token = api.create_session_token(&session.session_id).await.unwrap();
    let clerk = crate::support::clerk(&srv);
    let claims = clerk.verify_token(&token.jwt).await.unwrap();
    assert_eq!(claims.sid.as_deref(), Some(session.session_id.as_str()));

    let jwks = api.jwks().await.unwrap();
    assert_eq!(jwks.keys[0].kty, "RSA");
    assert!(jwks.keys[0].kid.is_some());

    let revoked = api.revoke_session(&session.session_id).await.unwrap();
    assert_eq!(revoked.status, "revoked");
    let error = api
        .create_session_token(&session.session_id)
        .await
        .unwrap_err();
    assert!(
        error.status().is_some_and(|s| s.is_client_error()),
        "{error:?}"
    );
    let active = api
        .list_sessions(&SessionListParams {
            user_id: Some(session.user_id.clone()),
            status: Some("active".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(active.total_count, 0);
}

async fn template_tokens(db: Db) {
    let srv = TestServer::spawn(db).await;
    let session = sign_in(&srv, "nia@example.com").await;
    let (status, _) = srv
        .bapi(
            &srv.default,
            reqwest::Method::POST,
            "/v1/jwt_templates",
            Some(serde_json::json!({"name": "supabase", "claims": {"role": "authenticated"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = api(&srv)
        .create_template_token(&session.session_id, "supabase", Some(120))
        .await
        .unwrap();
    let jwt = concierge_sdk::jwt::decode(&token.jwt).unwrap();
    assert_eq!(jwt.claims()["role"], "authenticated");
    let lifetime = jwt.claims()["exp"].as_i64().unwrap() - jwt.claims()["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 120);
    assert_eq!(jwt.header_str("cat"), Some("cl_B7d4PD222AAA"));
}

crate::both_databases!(
    users_round_trip,
    errors_carry_the_envelope,
    sessions_tokens_and_jwks,
    template_tokens,
);
