//! Organization sync with a real Frontend API (wire §4.5 row 12, §5): a URL naming another
//! organization sends the browser through the handshake with `organization_id`, FAPI switches
//! the session, and the redeemed token carries the new organization. Also: a role change
//! reaches the application with the next token.

use crate::support::{config, document, sign_in};
use concierge_sdk::client::{BackendApi, CreateOrganizationParams};
use concierge_sdk::{reason, AuthStatus, Check, Clerk, OrganizationSyncOptions, RequestState};
use concierge_testkit::{Db, TestServer};
use reqwest::StatusCode;

fn path_of(location: &str) -> String {
    let url = url::Url::parse(location).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

fn handshake_location(state: &RequestState, expected_reason: &str) -> String {
    let AuthStatus::Handshake { location, reason } = &state.status else {
        panic!("expected a handshake, got {:?}", state.status);
    };
    assert_eq!(reason, expected_reason);
    location.clone()
}

/// The `__session` value a redeemed handshake sets.
fn session_directive(state: &RequestState) -> String {
    state
        .set_cookies()
        .find_map(|d| d.strip_prefix("__session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn organization_switch_through_the_url(db: Db) {
    let srv = TestServer::spawn(db).await;
    let mut session = sign_in(&srv, "ola@example.com").await;
    let api = BackendApi::new(&srv.backend_url, srv.default.secret_key.as_str()).unwrap();
    let other = srv.create_user(&srv.default, "pat@example.com").await;
    let mut orgs = Vec::new();
    for (name, creator) in [
        ("Acme", session.user_id.clone()),
        ("Globex", session.user_id.clone()),
        ("Initech", other["id"].as_str().unwrap().to_owned()),
    ] {
        let org = api
            .create_organization(&CreateOrganizationParams {
                created_by: Some(creator),
                ..CreateOrganizationParams::new(name)
            })
            .await
            .unwrap();
        orgs.push(org);
    }
    let clerk = Clerk::new(
        config(&srv)
            .proxy_url(srv.frontend_url.clone())
            .organization_sync(
                OrganizationSyncOptions::new()
                    .organization_patterns(["/orgs/:slug", "/orgs/:slug/(.*)"])
                    .unwrap()
                    .personal_account_patterns(["/personal(.*)"])
                    .unwrap(),
            ),
    )
    .unwrap();

    // clerk-js activates Acme (`setActive`); its token is in `__session`.
    let touched = session
        .browser
        .post(
            &format!("/v1/client/sessions/{}/touch", session.session_id),
            &[("active_organization_id", &orgs[0].id)],
        )
        .await;
    assert_eq!(touched.status, StatusCode::OK, "{}", touched.body);
    session.token = touched.body["response"]["last_active_token"]["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let uat = session.browser.cookies["__client_uat"].clone();
    let state = clerk
        .authenticate_request(&document("/orgs/acme/tasks", &session.cookies()))
        .await;
    assert_eq!(state.auth().unwrap().org_slug.as_deref(), Some("acme"));

    // 1. The URL names Globex: handshake with organization_id=globex.
    let state = clerk
        .authenticate_request(&document("/orgs/globex/tasks", &session.cookies()))
        .await;
    let location = handshake_location(&state, reason::ACTIVE_ORGANIZATION_MISMATCH);
    assert!(location.contains("organization_id=globex"), "{location}");
    // 2. The browser visits FAPI, which switches the session and sets the nonce.
    let answer = session.browser.get(&path_of(&location)).await;
    assert_eq!(
        answer.status,
        StatusCode::TEMPORARY_REDIRECT,
        "{}",
        answer.body
    );
    assert_eq!(
        answer.headers["location"],
        "http://localhost:3000/orgs/globex/tasks"
    );
    let nonce = session.browser.cookies["__clerk_handshake_nonce"].clone();
    // 3. The app redeems it: signed in with Globex active.
    let state = clerk
        .authenticate_request(&document(
            "/orgs/globex/tasks",
            &format!("__client_uat={uat}; __clerk_handshake_nonce={nonce}"),
        ))
        .await;
    let auth = state.auth().expect("signed in by the handshake");
    assert_eq!(auth.org_id.as_deref(), Some(orgs[1].id.as_str()));
    assert_eq!(auth.org_slug.as_deref(), Some("globex"));
    assert!(auth.has(Check::Role("org:admin")));
    session.token = session_directive(&state);
    let session_json = api.get_session(&session.session_id).await.unwrap();
    assert_eq!(
        session_json.last_active_organization_id.as_deref(),
        Some(orgs[1].id.as_str())
    );
    // 4. The next navigation is signed in without a redirect.
    let state = clerk
        .authenticate_request(&document("/orgs/globex", &session.cookies()))
        .await;
    assert_eq!(state.auth().unwrap().org_slug.as_deref(), Some("globex"));

    // A personal-account URL asks for organization_id= (empty) and drops the organization.
    let state = clerk
        .authenticate_request(&document("/personal", &session.cookies()))
        .await;
    let location = handshake_location(&state, reason::ACTIVE_ORGANIZATION_MISMATCH);
    let asked = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "organization_id")
        .map(|(_, v)| v.into_owned());
    assert_eq!(asked.as_deref(), Some(""), "present but empty");
    session.browser.get(&path_of(&location)).await;
    let nonce = session.browser.cookies["__clerk_handshake_nonce"].clone();
    let state = clerk
        .authenticate_request(&document(
            "/personal",
            &format!("__client_uat={uat}; __clerk_handshake_nonce={nonce}"),
        ))
        .await;
    assert_eq!(state.auth().unwrap().org_id, None);
    session.token = session_directive(&state);

    // An organization the user is not in: FAPI changes nothing; once the redirect counter
    // reaches 3 the SDK stops asking and leaves the decision to the application.
    let state = clerk
        .authenticate_request(&document("/orgs/initech", &session.cookies()))
        .await;
    let location = handshake_location(&state, reason::ACTIVE_ORGANIZATION_MISMATCH);
    session.browser.get(&path_of(&location)).await;
    let nonce = session.browser.cookies["__clerk_handshake_nonce"].clone();
    let state = clerk
        .authenticate_request(&document(
            "/orgs/initech",
            &format!("__client_uat={uat}; __clerk_handshake_nonce={nonce}"),
        ))
        .await;
    assert_eq!(state.auth().unwrap().org_id, None, "unchanged");
    let state = clerk
        .authenticate_request(&document(
            "/orgs/initech",
            &format!("{}; __clerk_redirect_count=3", session.cookies()),
        ))
        .await;
    let auth = state.auth().expect("still signed in");
    assert_eq!(auth.org_id, None);
}

async fn role_change_reaches_the_next_token(db: Db) {
    let srv = TestServer::spawn(db).await;
    let mut session = sign_in(&srv, "quin@example.com").await;
    let api = BackendApi::new(&srv.backend_url, srv.default.secret_key.as_str()).unwrap();
    let owner = srv.create_user(&srv.default, "rae@example.com").await;
    let org = api
        .create_organization(&CreateOrganizationParams {
            created_by: Some(owner["id"].as_str().unwrap().to_owned()),
            ..CreateOrganizationParams::new("Acme")
        })
        .await
        .unwrap();
    api.create_organization_membership(&org.id, &session.user_id, "org:member")
        .await
        .unwrap();
    let clerk = Clerk::new(config(&srv)).unwrap();
    let sid = session.session_id.clone();
    let touched = session
        .browser
        .post(
            &format!("/v1/client/sessions/{sid}/touch"),
            &[("active_organization_id", &org.id)],
        )
        .await;
    session.token = touched.body["response"]["last_active_token"]["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let state = clerk
        .authenticate_request(&document("/admin", &session.cookies()))
        .await;
    let auth = state.auth().unwrap();
    assert!(auth.has(Check::Role("org:member")));
    assert!(!auth.has(Check::Role("org:admin")));

    api.update_organization_membership(&org.id, &session.user_id, "org:admin")
        .await
        .unwrap();
    // The token the browser holds still says member until clerk-js refreshes it.
    let state = clerk
        .authenticate_request(&document("/admin", &session.cookies()))
        .await;
    assert!(!state.auth().unwrap().has(Check::Role("org:admin")));
    srv.clock.advance(1_000);
    let refreshed = session
        .browser
        .post(&format!("/v1/client/sessions/{sid}/tokens"), &[])
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    session.token = refreshed.body["jwt"].as_str().unwrap().to_owned();
    let state = clerk
        .authenticate_request(&document("/admin", &session.cookies()))
        .await;
    let auth = state.auth().unwrap();
    assert!(auth.has(Check::Role("org:admin")));
    assert_eq!(auth.org_role.as_deref(), Some("org:admin"));
}

crate::both_databases!(
    organization_switch_through_the_url,
    role_change_reaches_the_next_token,
);
