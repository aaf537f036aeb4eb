//! Tenant isolation: one instance's secret key never reaches another instance's data, and an
//! organization is invisible to everyone but its members.

use concierge_testkit::{Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(
    other_instance_cannot_read_or_change,
    organizations_are_isolated
);

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

/// What an organization looks like through the Backend API of its own instance: the
/// organization, its memberships, invitations, domains and the instance's roles.
async fn organization_state(srv: &TestServer, org: &str) -> Vec<Value> {
    let mut state = Vec::new();
    for path in [
        format!("/v1/organizations/{org}"),
        format!("/v1/organizations/{org}/memberships"),
        format!("/v1/organizations/{org}/invitations"),
        format!("/v1/organizations/{org}/domains"),
        "/v1/organization_roles".to_owned(),
    ] {
        let (status, body) = srv.bapi(&srv.default, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        state.push(body);
    }
    state
}

async fn organizations_are_isolated(db: Db) {
    let srv = TestServer::spawn(db).await;
    let ada = srv.create_user(&srv.default, "ada@example.com").await;
    let carl = srv.create_user(&srv.default, "carl@example.com").await;
    let (_, org) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Private Co", "created_by": ada["id"]})),
        )
        .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let (status, role) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organization_roles",
            Some(json!({"key": "org:auditor", "name": "Auditor"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    let role_id = role["id"].as_str().unwrap().to_owned();
    let (status, invitation) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/organizations/{org_id}/invitations"),
            Some(json!({"email_address": "new@example.com", "role": "org:member"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{invitation}");
    let invitation_id = invitation["id"].as_str().unwrap().to_owned();
    let before = organization_state(&srv, &org_id).await;

    // Another instance's secret key: nothing is found, nothing changes.
    let ada_id = ada["id"].as_str().unwrap();
    let other = &srv.other;
    for (method, path, body) in [
        (Method::GET, format!("/v1/organizations/{org_id}"), None),
        (
            Method::PATCH,
            format!("/v1/organizations/{org_id}"),
            Some(json!({"name": "Taken"})),
        ),
        (
            Method::PATCH,
            format!("/v1/organizations/{org_id}/metadata"),
            Some(json!({"public_metadata": {"x": 1}})),
        ),
        (Method::DELETE, format!("/v1/organizations/{org_id}"), None),
        (
            Method::GET,
            format!("/v1/organizations/{org_id}/memberships"),
            None,
        ),
        (
            Method::PATCH,
            format!("/v1/organizations/{org_id}/memberships/{ada_id}"),
            Some(json!({"role": "org:member"})),
        ),
        (
            Method::DELETE,
            format!("/v1/organizations/{org_id}/memberships/{ada_id}"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/organizations/{org_id}/invitations"),
            Some(json!({"email_address": "x@example.com", "role": "org:member"})),
        ),
        (
            Method::GET,
            format!("/v1/organizations/{org_id}/invitations/{invitation_id}"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/organizations/{org_id}/invitations/{invitation_id}/revoke"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/v1/organizations/{org_id}/domains"),
            Some(json!({"name": "private.example", "enrollment_mode": "automatic_invitation"})),
        ),
        (
            Method::GET,
            format!("/v1/organization_roles/{role_id}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/v1/organization_roles/{role_id}"),
            None,
        ),
    ] {
        let (status, answer) = srv.bapi(other, method.clone(), &path, body).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{method} {path} with another instance's key: {answer}"
        );
    }
    let (_, listed) = srv
        .bapi(other, Method::GET, "/v1/organizations", None)
        .await;
    assert_eq!(listed["total_count"], 0, "{listed}");
    let (_, roles) = srv
        .bapi(other, Method::GET, "/v1/organization_roles", None)
        .await;
    assert!(
        !roles.to_string().contains("org:auditor"),
        "another instance's custom roles are not listed: {roles}"
    );
    let (_, memberships) = srv
        .bapi(other, Method::GET, "/v1/organization_memberships", None)
        .await;
    assert_eq!(memberships["total_count"], 0, "{memberships}");

    // A signed-in user of the same instance who is not a member: 404 everywhere.
    let (mut carl_browser, sid) = srv.signed_in("carl@example.com").await;
    let q = format!("?_clerk_session_id={sid}");
    let base = format!("/v1/organizations/{org_id}");
    let carl_id = carl["id"].as_str().unwrap();
    for (method, path, form) in [
        (Method::GET, format!("{base}{q}"), vec![]),
        (
            Method::PATCH,
            format!("{base}{q}"),
            vec![("name", "Mine now")],
        ),
        (Method::DELETE, format!("{base}{q}"), vec![]),
        (Method::GET, format!("{base}/memberships{q}"), vec![]),
        (
            Method::POST,
            format!("{base}/memberships{q}"),
            vec![("user_id", carl_id), ("role", "org:admin")],
        ),
        (
            Method::PATCH,
            format!("{base}/memberships/{ada_id}{q}"),
            vec![("role", "org:member")],
        ),
        (Method::GET, format!("{base}/invitations{q}"), vec![]),
        (
            Method::POST,
            format!("{base}/invitations{q}"),
            vec![
                ("email_address", "friend@example.com"),
                ("role", "org:member"),
            ],
        ),
        (
            Method::POST,
            format!("{base}/invitations/{invitation_id}/revoke{q}"),
            vec![],
        ),
        (Method::GET, format!("{base}/domains{q}"), vec![]),
        (Method::GET, format!("{base}/roles{q}"), vec![]),
        (
            Method::GET,
            format!("{base}/membership_requests{q}"),
            vec![],
        ),
    ] {
        let answer = carl_browser.send(method.clone(), &path, &form).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {path} as a non-member: {}",
            answer.body
        );
    }
    // Nor can the organization become the non-member's active one.
    let answer = carl_browser
        .post(
            &format!("/v1/client/sessions/{sid}/touch"),
            &[("active_organization_id", org_id.as_str())],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    let answer = carl_browser
        .post(
            &format!("/v1/client/sessions/{sid}/tokens"),
            &[("organization_id", org_id.as_str())],
        )
        .await;
    assert_ne!(answer.status, StatusCode::OK, "{}", answer.body);

    // Nothing changed.
    assert_eq!(organization_state(&srv, &org_id).await, before);
}
