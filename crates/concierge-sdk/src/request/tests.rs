//! The decision table of wire §4.5, branch by branch, with tokens signed by a test key and a
//! PEM configuration (no network).

use super::*;
use crate::testing::{key, other_key, session_claims, TestClock, NOW_MS, PK_LIVE};
use crate::verify::TEMPLATE_TOKEN_CATEGORY;
use crate::Config;
use serde_json::{json, Value};

const SUFFIX: &str = "mygDvuFt";

fn clerk_with(config: impl FnOnce(Config) -> Config) -> Clerk {
    let base = Config::new(PK_LIVE)
        .unwrap()
        .jwt_key(key().pem())
        .clock(TestClock::at(NOW_MS))
        .authorized_parties(["http://localhost:3000"])
        .proxy_url("http://localhost:3000/__clerk");
    Clerk::new(config(base)).unwrap()
}

fn clerk() -> Clerk {
    clerk_with(|c| c)
}

/// A browser navigation to `http://localhost:3000<path>`.
fn document(path: &str, cookies: &str) -> Request<()> {
    let mut builder = Request::get(path)
        .header("host", "localhost:3000")
        .header("sec-fetch-dest", "document")
        .header("accept", "text/html");
    if !cookies.is_empty() {
        builder = builder.header("cookie", cookies);
    }
    builder.body(()).unwrap()
}

/// A `fetch()` from the page.
fn fetch(method: Method, cookies: &str) -> Request<()> {
    Request::builder()
        .method(method)
        .uri("/api/data")
        .header("host", "localhost:3000")
        .header("sec-fetch-dest", "empty")
        .header("accept", "application/json")
        .header("cookie", cookies)
        .body(())
        .unwrap()
}

fn token(changes: Value) -> String {
    let mut claims = session_claims();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    key().sign(&claims)
}

const UAT: i64 = NOW_MS / 1000 - 100;

fn signed_in_cookies() -> String {
    format!("__client_uat={UAT}; __session={}", token(json!({})))
}

fn assert_handshake(state: &RequestState, reason: &str) -> String {
    let AuthStatus::Handshake {
        location,
        reason: got,
    } = &state.status
    else {
        panic!("expected a handshake, got {:?}", state.status);
    };
    assert_eq!(got, reason);
    assert_eq!(state.headers["cache-control"], "no-store");
    assert_eq!(state.location(), Some(location.as_str()));
    assert_eq!(state.headers["x-clerk-auth-status"], "handshake");
    assert_eq!(state.headers["x-clerk-auth-reason"], reason);
    let counter: Vec<&str> = state.set_cookies().collect();
    assert_eq!(
        counter,
        ["__clerk_redirect_count=1; SameSite=Lax; HttpOnly; Max-Age=2"]
    );
    location.clone()
}

fn assert_signed_out(state: &RequestState, reason: &str) {
    let AuthStatus::SignedOut { reason: got, .. } = &state.status else {
        panic!("expected signed out, got {:?}", state.status);
    };
    assert_eq!(got, reason);
    assert_eq!(state.headers["x-clerk-auth-status"], "signed-out");
    assert_eq!(state.headers["x-clerk-auth-reason"], reason);
    assert!(state.location().is_none());
}

#[tokio::test]
async fn header_path() {
    let clerk = clerk();
    let bearer = |value: String| {
        Request::get("/api")
            .header("authorization", value)
            .body(())
            .unwrap()
    };
    let state = clerk
        .authenticate_request(&bearer(format!("Bearer {}", token(json!({})))))
        .await;
    assert_eq!(state.auth().unwrap().user_id, "user_1");
    assert_eq!(state.headers["x-clerk-auth-status"], "signed-in");
    assert!(state.headers.get("x-clerk-auth-reason").is_none());
    // A bare value is a token too; other schemes are ignored (then the cookie path runs).
    let state = clerk.authenticate_request(&bearer(token(json!({})))).await;
    assert!(state.is_signed_in());
    let state = clerk
        .authenticate_request(&bearer("Basic dXNlcjpwdw==".into()))
        .await;
    assert_signed_out(&state, reason::SESSION_TOKEN_AND_UAT_MISSING);
    // The header wins over cookies.
    let mut request = bearer(format!("Bearer {}", other_key().sign(&session_claims())));
    request
        .headers_mut()
        .insert("cookie", signed_in_cookies().parse().unwrap());
    // (PEM mode: any kid uses the one key, so the foreign signature fails.)
    assert_signed_out(
        &clerk.authenticate_request(&request).await,
        "token-invalid-signature",
    );
    // Errors: template tokens, expired tokens (an API call, so signed out).
    let template =
        key().sign_with_header(json!({"cat": TEMPLATE_TOKEN_CATEGORY}), &session_claims());
    let state = clerk
        .authenticate_request(&bearer(format!("Bearer {template}")))
        .await;
    assert_signed_out(&state, reason::TOKEN_TYPE_MISMATCH);
    let expired = token(json!({"exp": NOW_MS / 1000 - 60}));
    let state = clerk
        .authenticate_request(&bearer(format!("Bearer {expired}")))
        .await;
    assert_signed_out(&state, reason::SESSION_TOKEN_EXPIRED_GET);
    assert!(state.headers["x-clerk-auth-message"]
        .to_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn row_6_anonymous_visitors_are_signed_out_without_redirect() {
    let state = clerk().authenticate_request(&document("/", "")).await;
    assert_signed_out(&state, reason::SESSION_TOKEN_AND_UAT_MISSING);
    let state = clerk()
        .authenticate_request(&document("/", "__client_uat=0"))
        .await;
    assert_signed_out(&state, reason::SESSION_TOKEN_AND_UAT_MISSING);
}

#[tokio::test]
async fn row_7_and_8_one_cookie_without_the_other() {
    let clerk = clerk();
    let session_only = format!("__session={}", token(json!({})));
    let state = clerk
        .authenticate_request(&document("/", &session_only))
        .await;
    assert_handshake(&state, reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT);
    let state = clerk
        .authenticate_request(&document("/", &format!("__client_uat=0; {session_only}")))
        .await;
    assert_handshake(&state, reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT);

    // Appendix B, step 1.
    let state = clerk
        .authenticate_request(&document("/dashboard", "__client_uat=1760000000"))
        .await;
    let location = assert_handshake(&state, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);
    assert_eq!(
        location,
        "http://localhost:3000/__clerk/v1/client/handshake?redirect_url=http%3A%2F%2Flocalhost%3A3000%2Fdashboard&__clerk_api_version=2026-05-12&suffixed_cookies=false&__clerk_hs_reason=client-uat-but-no-session-token&format=nonce"
    );
    // Not a document request: signed out with the same reason.
    let state = clerk
        .authenticate_request(&fetch(Method::GET, "__client_uat=1760000000"))
        .await;
    assert_signed_out(&state, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);
}

#[tokio::test]
async fn handshake_eligibility() {
    let clerk = clerk();
    let with = |method: Method, headers: &[(&str, &str)]| {
        let mut builder = Request::builder()
            .method(method)
            .uri("/page")
            .header("host", "localhost:3000")
            .header("cookie", "__client_uat=1");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    };
    for (method, headers, eligible) in [
        (Method::GET, vec![("sec-fetch-dest", "document")], true),
        (Method::GET, vec![("sec-fetch-dest", "iframe")], true),
        (
            Method::GET,
            vec![("accept", "text/html,application/xhtml+xml")],
            true,
        ),
        (
            Method::GET,
            vec![("sec-fetch-dest", "empty"), ("accept", "text/html")],
            false,
        ),
        (Method::GET, vec![("accept", "application/json")], false),
        (Method::GET, vec![], false),
        (Method::POST, vec![("sec-fetch-dest", "document")], false),
    ] {
        let state = clerk
            .authenticate_request(&with(method.clone(), &headers))
            .await;
        assert_eq!(
            matches!(state.status, AuthStatus::Handshake { .. }),
            eligible,
            "{method} {headers:?}"
        );
    }
}

#[tokio::test]
async fn rows_9_to_11_token_shape_and_uat() {
    let clerk = clerk();
    let state = clerk
        .authenticate_request(&document("/", "__client_uat=1; __session=garbage"))
        .await;
    assert_signed_out(&state, "token-invalid");
    let template =
        key().sign_with_header(json!({"cat": TEMPLATE_TOKEN_CATEGORY}), &session_claims());
    let state = clerk
        .authenticate_request(&document(
            "/",
            &format!("__client_uat=1; __session={template}"),
        ))
        .await;
    assert_signed_out(&state, reason::TOKEN_TYPE_MISMATCH);
    // A token older than the last sign-in state change.
    let uat = NOW_MS / 1000 + 1;
    let state = clerk
        .authenticate_request(&document(
            "/",
            &format!("__client_uat={uat}; __session={}", token(json!({}))),
        ))
        .await;
    assert_handshake(&state, reason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT);
}

#[tokio::test]
async fn row_12_signed_in() {
    let state = clerk()
        .authenticate_request(&document("/", &signed_in_cookies()))
        .await;
    let auth = state.auth().unwrap();
    assert_eq!(auth.user_id, "user_1");
    assert_eq!(auth.session_id.as_deref(), Some("sess_1"));
    assert_eq!(state.headers["x-clerk-auth-status"], "signed-in");
    assert_eq!(state.set_cookies().count(), 0);
    // A fetch is signed in the same way.
    let state = clerk()
        .authenticate_request(&fetch(Method::POST, &signed_in_cookies()))
        .await;
    assert!(state.is_signed_in());
}

#[tokio::test]
async fn rows_13_to_15_verification_errors() {
    let clerk = clerk();
    let cookies = |token: String| format!("__client_uat={UAT}; __session={token}");
    let expired = cookies(token(json!({"exp": NOW_MS / 1000 - 60})));
    let state = clerk.authenticate_request(&document("/", &expired)).await;
    assert_handshake(&state, reason::SESSION_TOKEN_EXPIRED_GET);
    let state = clerk
        .authenticate_request(&fetch(Method::POST, &expired))
        .await;
    assert_signed_out(&state, reason::SESSION_TOKEN_EXPIRED_NON_GET);
    let early = cookies(token(json!({"nbf": NOW_MS / 1000 + 60})));
    let state = clerk.authenticate_request(&document("/", &early)).await;
    assert_handshake(&state, reason::SESSION_TOKEN_NBF);
    let future = cookies(token(json!({"iat": NOW_MS / 1000 + 60, "nbf": null})));
    let state = clerk.authenticate_request(&document("/", &future)).await;
    assert_handshake(&state, reason::SESSION_TOKEN_IAT_IN_THE_FUTURE);
    let mut tampered: Vec<String> = token(json!({})).split('.').map(str::to_owned).collect();
    tampered[1] = token(json!({"sub": "user_admin"}))
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let state = clerk
        .authenticate_request(&document("/", &cookies(tampered.join("."))))
        .await;
    assert_signed_out(&state, "token-invalid-signature");
    let foreign = cookies(token(json!({"azp": "https://evil.test"})));
    let state = clerk.authenticate_request(&document("/", &foreign)).await;
    assert_signed_out(&state, "token-invalid-authorized-parties");
}

#[tokio::test]
async fn redirect_loops_stop_at_three() {
    let clerk = clerk();
    let state = clerk
        .authenticate_request(&document("/", "__client_uat=1; __clerk_redirect_count=2"))
        .await;
    assert!(matches!(state.status, AuthStatus::Handshake { .. }));
    assert_eq!(
        state.set_cookies().collect::<Vec<_>>(),
        ["__clerk_redirect_count=3; SameSite=Lax; HttpOnly; Max-Age=2"]
    );
    let state = clerk
        .authenticate_request(&document("/", "__client_uat=1; __clerk_redirect_count=3"))
        .await;
    assert_signed_out(&state, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);
}

#[tokio::test]
async fn suffixed_cookies_are_selected_per_section_4_3() {
    let clerk = clerk();
    let good = token(json!({}));
    // Only suffixed cookies.
    let state = clerk
        .authenticate_request(&document(
            "/",
            &format!("__client_uat_{SUFFIX}={UAT}; __session_{SUFFIX}={good}"),
        ))
        .await;
    assert!(state.is_signed_in());
    // Suffixed uat but no suffixed session: handshake asks for suffixed cookies.
    let state = clerk
        .authenticate_request(&document("/", &format!("__client_uat_{SUFFIX}={UAT}")))
        .await;
    let location = assert_handshake(&state, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);
    assert!(location.contains("suffixed_cookies=true"), "{location}");
    // Rule 2: the un-suffixed session belongs to another instance, the suffixed one wins.
    let foreign = other_key().sign(&json!({"sub": "user_x", "exp": NOW_MS / 1000 + 60,
        "iss": "https://clerk.other.test", "iat": NOW_MS / 1000}));
    let state = clerk
        .authenticate_request(&document(
            "/",
            &format!(
                "__client_uat={UAT}; __session={foreign}; __client_uat_{SUFFIX}={UAT}; __session_{SUFFIX}={good}"
            ),
        ))
        .await;
    assert_eq!(state.auth().unwrap().user_id, "user_1");
    // Rule 1: an un-suffixed session without iss forces un-suffixed (and signs out).
    let no_iss = token(json!({"iss": null}));
    let state = clerk
        .authenticate_request(&document(
            "/",
            &format!(
                "__client_uat={UAT}; __session={no_iss}; __client_uat_{SUFFIX}={UAT}; __session_{SUFFIX}={good}"
            ),
        ))
        .await;
    assert_signed_out(&state, "token-invalid-issuer");
    // Rule 5: suffixed uat 0 but un-suffixed signed in: un-suffixed.
    let state = clerk
        .authenticate_request(&document(
            "/",
            &format!("__client_uat={UAT}; __session={good}; __client_uat_{SUFFIX}=0"),
        ))
        .await;
    assert!(state.is_signed_in());
    // Rule 4: both signed in, the un-suffixed token is newer.
    let older = token(json!({"iat": NOW_MS / 1000 - 30, "sub": "user_old"}));
    let state = clerk
        .authenticate_request(&document(
            "/",
            &format!(
                "__client_uat={UAT}; __session={good}; __client_uat_{SUFFIX}={UAT}; __session_{SUFFIX}={older}"
            ),
        ))
        .await;
    assert_eq!(state.auth().unwrap().user_id, "user_1");
    // Rule 7: a suffixed session without its uat: un-suffixed.
    let state = clerk
        .authenticate_request(&document(
            "/",
            &format!("__client_uat={UAT}; __session={good}; __session_{SUFFIX}={older}"),
        ))
        .await;
    assert_eq!(state.auth().unwrap().user_id, "user_1");
    // Rule 8: otherwise suffixed, even when the un-suffixed family says signed out.
    let state = clerk
        .authenticate_request(&document(
            "/",
            &format!("__client_uat=0; __client_uat_{SUFFIX}={UAT}; __session_{SUFFIX}={good}"),
        ))
        .await;
    assert!(state.is_signed_in());
}

#[tokio::test]
async fn handshake_token_resolution() {
    let clerk = clerk();
    let session = token(json!({}));
    let directives = json!({"handshake": [
        format!("__session={session}; Path=/; SameSite=Lax"),
        format!("__session_{SUFFIX}={session}; Path=/; SameSite=Lax"),
        format!("__client_uat={UAT}; Path=/; SameSite=Lax; Max-Age=31536000"),
        "__clerk_handshake=; Path=/; Max-Age=0",
    ]});
    let handshake = key().sign(&directives);
    // As a cookie (production) and as a query parameter.
    for request in [
        document("/dashboard", &format!("__clerk_handshake={handshake}")),
        document(&format!("/dashboard?__clerk_handshake={handshake}"), ""),
    ] {
        let state = clerk.authenticate_request(&request).await;
        assert_eq!(state.auth().unwrap().user_id, "user_1");
        let cookies: Vec<&str> = state.set_cookies().collect();
        assert_eq!(cookies.len(), 4);
        assert!(cookies[0].starts_with("__session=ey"));
        assert_eq!(state.headers["access-control-allow-origin"], "null");
        assert_eq!(state.headers["access-control-allow-credentials"], "true");
        assert!(state.location().is_none(), "production: no redirect");
    }
    // A signed-out handshake.
    let signed_out = key().sign(&json!({"handshake": [
        "__session=; Path=/; Max-Age=0", "__client_uat=0; Path=/",
    ]}));
    let state = clerk
        .authenticate_request(&document("/", &format!("__clerk_handshake={signed_out}")))
        .await;
    assert_signed_out(&state, reason::SESSION_TOKEN_MISSING);
    assert_eq!(state.set_cookies().count(), 2);
    // A forged handshake token: ignored in production, the table continues.
    let forged = other_key().sign_with_header(json!({"kid": key().kid}), &directives);
    let state = clerk
        .authenticate_request(&document("/", &format!("__clerk_handshake={forged}")))
        .await;
    assert_signed_out(&state, reason::SESSION_TOKEN_AND_UAT_MISSING);
    assert_eq!(state.set_cookies().count(), 0);
}

#[tokio::test]
async fn pending_sessions_are_signed_out_unless_configured() {
    let cookies = format!(
        "__client_uat={UAT}; __session={}",
        token(json!({"sts": "pending"}))
    );
    let state = clerk().authenticate_request(&document("/", &cookies)).await;
    assert_signed_out(&state, reason::SESSION_PENDING);
    let lenient = clerk_with(|c| c.treat_pending_as_signed_out(false));
    let state = lenient.authenticate_request(&document("/", &cookies)).await;
    assert_eq!(
        state.auth().unwrap().session_status.as_deref(),
        Some("pending")
    );
}

#[tokio::test]
async fn cross_origin_document_requests_sync_once() {
    let clerk = clerk();
    let with_referrer = |referrer: &str, extra: &str| {
        let mut request = document("/", &format!("{}{extra}", signed_in_cookies()));
        request
            .headers_mut()
            .insert("referer", referrer.parse().unwrap());
        request
    };
    let state = clerk
        .authenticate_request(&with_referrer("https://satellite.test/page", ""))
        .await;
    assert_handshake(&state, reason::PRIMARY_DOMAIN_CROSS_ORIGIN_SYNC);
    for known in [
        "http://localhost:3000/other",
        "https://accounts.example.test/sign-in",
    ] {
        let state = clerk.authenticate_request(&with_referrer(known, "")).await;
        assert!(state.is_signed_in(), "{known}");
    }
    let state = clerk
        .authenticate_request(&with_referrer(
            "https://satellite.test/page",
            "; __clerk_redirect_count=1",
        ))
        .await;
    assert!(state.is_signed_in(), "not again inside a handshake");
}

#[tokio::test]
async fn handshake_urls_follow_the_configuration() {
    // No proxy: the publishable key's host over https.
    let direct = clerk_with(|c| Config {
        proxy_url: None,
        ..c
    });
    let state = direct
        .authenticate_request(&document("/a?b=1&__clerk_db_jwt=x", "__client_uat=1"))
        .await;
    let location = assert_handshake(&state, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);
    assert!(location.starts_with("https://clerk.example.test/v1/client/handshake?redirect_url=http%3A%2F%2Flocalhost%3A3000%2Fa%3Fb%3D1&"), "{location}");
    // A relative proxy, behind a TLS-terminating reverse proxy.
    let relative = clerk_with(|c| c.proxy_url("/__clerk"));
    let mut request = document("/a", "__client_uat=1");
    let headers = request.headers_mut();
    headers.insert("x-forwarded-proto", "https".parse().unwrap());
    headers.insert(
        "x-forwarded-host",
        "app.example.test, internal".parse().unwrap(),
    );
    let state = relative.authenticate_request(&request).await;
    let location = assert_handshake(&state, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);
    assert!(
        location.starts_with("https://app.example.test/__clerk/v1/client/handshake?redirect_url=https%3A%2F%2Fapp.example.test%2Fa&"),
        "{location}"
    );
    // The current token travels along.
    let expired = token(json!({"exp": NOW_MS / 1000 - 60}));
    let state = relative
        .authenticate_request(&document(
            "/",
            &format!("__client_uat={UAT}; __session={expired}"),
        ))
        .await;
    let location = assert_handshake(&state, reason::SESSION_TOKEN_EXPIRED_GET);
    assert!(
        location.ends_with(&format!("&format=nonce&__session={expired}")),
        "{location}"
    );
}

#[tokio::test]
async fn development_instances_need_a_dev_browser() {
    let dev = clerk_with(|c| Config {
        publishable_key: crate::PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA")
            .unwrap(),
        ..c
    });
    let state = dev
        .authenticate_request(&document("/", &signed_in_cookies()))
        .await;
    assert_handshake(&state, reason::DEV_BROWSER_MISSING);
    let state = dev
        .authenticate_request(&document(
            "/",
            &format!("{}; __clerk_db_jwt=dvb_1", signed_in_cookies()),
        ))
        .await;
    assert!(state.is_signed_in());
    let state = dev
        .authenticate_request(&document("/?__clerk_db_jwt=dvb_1", &signed_in_cookies()))
        .await;
    let location = assert_handshake(&state, reason::DEV_BROWSER_SYNC);
    assert!(location.ends_with("&__clerk_db_jwt=dvb_1"), "{location}");
    // Handshake results redirect once more to strip the carrier from the URL.
    let handshake =
        key().sign(&json!({"handshake": [format!("__session={}; Path=/", token(json!({})))]}));
    let state = dev
        .authenticate_request(&document(
            &format!("/p?x=1&__clerk_handshake={handshake}"),
            "",
        ))
        .await;
    assert!(state.is_signed_in());
    assert_eq!(state.location(), Some("http://localhost:3000/p?x=1"));
}

#[test]
fn cookie_and_directive_parsing() {
    let mut headers = HeaderMap::new();
    headers.append("cookie", "a=1; b=x%3Dy; a=2".parse().unwrap());
    headers.append("cookie", "c=\"q\"; bad; d=%zz".parse().unwrap());
    let cookies = parse_cookies(&headers);
    assert_eq!(cookies["a"], "1");
    assert_eq!(cookies["b"], "x=y");
    assert_eq!(cookies["c"], "q");
    assert_eq!(cookies["d"], "%zz");
    assert_eq!(directive_name("__session_x=ab=c; Path=/"), "__session_x");
    assert_eq!(directive_value("__session_x=ab=c; Path=/"), "ab=c");
    assert_eq!(directive_value("__session=; Max-Age=0"), "");
    assert_eq!(parse_int(Some("1760000000")), 1_760_000_000);
    assert_eq!(parse_int(Some("12abc")), 12);
    assert_eq!(parse_int(Some("abc")), 0);
    assert_eq!(parse_int(None), 0);
}

fn synced_clerk() -> Clerk {
    clerk_with(|c| {
        c.organization_sync(
            crate::OrganizationSyncOptions::new()
                .organization_patterns(["/orgs/:slug", "/orgs/:slug/(.*)", "/ids/:id/(.*)"])
                .unwrap()
                .personal_account_patterns(["/me", "/me/(.*)"])
                .unwrap(),
        )
    })
}

fn org_cookies(org: Value) -> String {
    format!(
        "__client_uat={UAT}; __session={}",
        token(json!({ "o": org }))
    )
}

fn query_of(location: &str) -> Vec<(String, String)> {
    Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn organization_sync_mismatch_goes_through_the_handshake() {
    let clerk = synced_clerk();
    let acme = org_cookies(json!({"id": "org_1", "slg": "acme", "rol": "admin"}));

    // The URL's organization is the active one, or the URL names none: signed in.
    for path in ["/orgs/acme", "/orgs/acme/tasks", "/ids/org_1/x", "/pricing"] {
        let state = clerk.authenticate_request(&document(path, &acme)).await;
        assert!(state.is_signed_in(), "{path}: {:?}", state.status);
    }
    // Another slug, another id, or the personal account while an organization is active.
    for (path, wanted) in [
        ("/orgs/globex/tasks", "globex"),
        ("/ids/org_2/settings", "org_2"),
        ("/me", ""),
    ] {
        let state = clerk.authenticate_request(&document(path, &acme)).await;
        let location = assert_handshake(&state, reason::ACTIVE_ORGANIZATION_MISMATCH);
        let query = query_of(&location);
        assert!(
            query.contains(&("organization_id".into(), wanted.into())),
            "{path}: {query:?}"
        );
        assert!(query.contains(&(
            "redirect_url".into(),
            format!("http://localhost:3000{path}")
        )));
        assert_eq!(
            state.set_cookies().collect::<Vec<_>>(),
            ["__clerk_redirect_count=1; SameSite=Lax; HttpOnly; Max-Age=2"]
        );
    }
    // The personal account with no organization active is a match.
    let personal = format!("__client_uat={UAT}; __session={}", token(json!({})));
    let state = clerk
        .authenticate_request(&document("/me/settings", &personal))
        .await;
    assert!(state.is_signed_in());
    let state = clerk
        .authenticate_request(&document("/orgs/acme", &personal))
        .await;
    assert_handshake(&state, reason::ACTIVE_ORGANIZATION_MISMATCH);
    // v1 claims are compared the same way.
    let v1 = format!(
        "__client_uat={UAT}; __session={}",
        token(json!({"v": null, "org_id": "org_1", "org_slug": "acme", "org_role": "org:admin"}))
    );
    assert!(clerk
        .authenticate_request(&document("/orgs/acme", &v1))
        .await
        .is_signed_in());
    let state = clerk
        .authenticate_request(&document("/orgs/globex", &v1))
        .await;
    assert_handshake(&state, reason::ACTIVE_ORGANIZATION_MISMATCH);
}

#[tokio::test]
async fn organization_sync_never_signs_out() {
    let clerk = synced_clerk();
    let acme = org_cookies(json!({"id": "org_1", "slg": "acme", "rol": "admin"}));

    // After three attempts (the organization cannot be activated) the request stays signed in
    // with the session's organization, for the application to refuse.
    let looped = format!("{acme}; __clerk_redirect_count=3");
    let state = clerk
        .authenticate_request(&document("/orgs/globex", &looped))
        .await;
    assert_eq!(state.auth().unwrap().org_slug.as_deref(), Some("acme"));
    // Not a document: no handshake, still signed in.
    let state = clerk
        .authenticate_request(
            &Request::get("/orgs/globex/api")
                .header("host", "localhost:3000")
                .header("sec-fetch-dest", "empty")
                .header("cookie", &acme)
                .body(())
                .unwrap(),
        )
        .await;
    assert!(state.is_signed_in());
    // The header path does not sync organizations (as @clerk/backend).
    let bearer = Request::get("/orgs/globex")
        .header("host", "localhost:3000")
        .header(
            "authorization",
            format!(
                "Bearer {}",
                token(json!({"o": {"id": "org_1", "slg": "acme"}}))
            ),
        )
        .body(())
        .unwrap();
    assert!(clerk.authenticate_request(&bearer).await.is_signed_in());
    // Without options nothing is synced.
    assert!(super::tests::clerk()
        .authenticate_request(&document("/orgs/globex", &acme))
        .await
        .is_signed_in());
}

#[tokio::test]
async fn every_handshake_carries_the_urls_organization() {
    let clerk = synced_clerk();
    // Another reason (no `__session`), on an organization URL: the handshake asks for it too.
    let state = clerk
        .authenticate_request(&document(
            "/orgs/acme/tasks",
            &format!("__client_uat={UAT}"),
        ))
        .await;
    let location = assert_handshake(&state, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);
    assert!(query_of(&location).contains(&("organization_id".into(), "acme".into())));
    let state = clerk
        .authenticate_request(&document("/pricing", &format!("__client_uat={UAT}")))
        .await;
    let location = assert_handshake(&state, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);
    assert!(!location.contains("organization_id"), "{location}");
}
