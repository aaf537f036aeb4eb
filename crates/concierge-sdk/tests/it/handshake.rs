//! The handshake round trip of wire §5 / Appendix B with a real Frontend API: the SDK asks for
//! a handshake, the browser visits FAPI, comes back with a nonce (or a token), and the SDK
//! redeems it and hands the cookie directives to the application.

use crate::support::{clerk, config, document, sign_in};
use concierge_sdk::{reason, AuthStatus, Clerk};
use concierge_testkit::{Db, TestServer};
use reqwest::StatusCode;

/// The path and query of an absolute URL (the browser helper takes paths).
fn path_of(location: &str) -> String {
    let url = url::Url::parse(location).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

async fn nonce_round_trip(db: Db) {
    let srv = TestServer::spawn(db).await;
    let mut session = sign_in(&srv, "hal@example.com").await;
    // The application proxies FAPI; here the proxy URL is the FAPI listener itself.
    let clerk = Clerk::new(config(&srv).proxy_url(srv.frontend_url.clone())).unwrap();
    let uat = session.browser.cookies["__client_uat"].clone();

    // 1. `__client_uat` but no `__session`: go to the handshake.
    let state = clerk
        .authenticate_request(&document(
            "/dashboard?tab=1",
            &format!("__client_uat={uat}"),
        ))
        .await;
    let AuthStatus::Handshake { location, reason } = &state.status else {
        panic!("expected a handshake, got {:?}", state.status);
    };
    assert_eq!(reason, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);
    assert!(location.starts_with(&format!("{}/v1/client/handshake?", srv.frontend_url)));
    assert!(location.contains("redirect_url=http%3A%2F%2Flocalhost%3A3000%2Fdashboard%3Ftab%3D1"));
    assert!(location.ends_with("&format=nonce"));
    assert_eq!(state.headers["cache-control"], "no-store");

    // 2. The browser follows it; FAPI answers 307 back with the nonce cookie.
    let answer = session.browser.get(&path_of(location)).await;
    assert_eq!(
        answer.status,
        StatusCode::TEMPORARY_REDIRECT,
        "{}",
        answer.body
    );
    assert_eq!(
        answer.headers["location"],
        "http://localhost:3000/dashboard?tab=1"
    );
    let nonce = session.browser.cookies["__clerk_handshake_nonce"].clone();

    // 3. The app request carries the nonce: the SDK redeems it and is signed in.
    let cookies = format!("__client_uat={uat}; __clerk_handshake_nonce={nonce}");
    let state = clerk
        .authenticate_request(&document("/dashboard?tab=1", &cookies))
        .await;
    let auth = state.auth().expect("signed in by the handshake");
    assert_eq!(auth.user_id, session.user_id);
    assert_eq!(
        auth.session_id.as_deref(),
        Some(session.session_id.as_str())
    );
    let directives: Vec<String> = state.set_cookies().map(str::to_owned).collect();
    let suffix = clerk.publishable_key().cookie_suffix();
    for prefix in [
        "__session=ey".to_owned(),
        format!("__session_{suffix}=ey"),
        format!("__client_uat={uat}"),
        "__clerk_handshake_nonce=;".to_owned(),
    ] {
        assert!(
            directives.iter().any(|d| d.starts_with(&prefix)),
            "{prefix} in {directives:?}"
        );
    }
    assert_eq!(state.headers["access-control-allow-origin"], "null");

    // 4. The browser stores them; the next request is signed in by its cookies.
    for directive in &directives {
        session.browser.apply_cookie(directive);
    }
    let jar = session
        .browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let state = clerk
        .authenticate_request(&document("/dashboard", &jar))
        .await;
    assert_eq!(state.auth().unwrap().user_id, session.user_id);
    assert_eq!(state.set_cookies().count(), 0);

    // A nonce is single use: replaying it signs the request out.
    let state = clerk
        .authenticate_request(&document("/dashboard", &cookies))
        .await;
    assert_eq!(state.reason(), Some(reason::SESSION_TOKEN_MISSING));
}

async fn token_format_and_signed_out_handshakes(db: Db) {
    let srv = TestServer::spawn(db).await;
    let mut session = sign_in(&srv, "ivy@example.com").await;
    let clerk = clerk(&srv);
    let redirect = "http%3A%2F%2Flocalhost%3A3000%2F";

    // Token format: a JWT verified with the JWKS.
    let answer = session
        .browser
        .get(&format!(
            "/v1/client/handshake?redirect_url={redirect}&format=token"
        ))
        .await;
    assert_eq!(answer.status, StatusCode::TEMPORARY_REDIRECT);
    let token = session.browser.cookies["__clerk_handshake"].clone();
    let state = clerk
        .authenticate_request(&document("/", &format!("__clerk_handshake={token}")))
        .await;
    assert_eq!(state.auth().unwrap().user_id, session.user_id);
    assert!(state
        .set_cookies()
        .any(|d| d.starts_with("__clerk_handshake=;")));

    // A browser that never signed in gets signed-out directives.
    let mut stranger = srv.browser();
    stranger
        .get(&format!(
            "/v1/client/handshake?redirect_url={redirect}&format=nonce"
        ))
        .await;
    let nonce = stranger.cookies["__clerk_handshake_nonce"].clone();
    let state = clerk
        .authenticate_request(&document(&format!("/?__clerk_handshake_nonce={nonce}"), ""))
        .await;
    assert_eq!(state.reason(), Some(reason::SESSION_TOKEN_MISSING));
    assert!(state.set_cookies().any(|d| d.starts_with("__client_uat=0")));
}

crate::both_databases!(nonce_round_trip, token_format_and_signed_out_handshakes,);
