//! Browser flows of the Frontend API (wire §4, §5, §6.3–§6.7): sign-up with an email code,
//! sign-in with a password, an email code or a password reset, the client's sessions and their
//! tokens, sign-out, the handshake and `/v1/me`, as clerk-js drives them.

use concierge_service::instances::NewInstance;
use concierge_testkit::{claims, Db, TestServer, START_MS};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(
    sign_up_with_email_code,
    codes_fail_after_three_wrong_attempts_and_expire,
    sign_in_with_password_and_email_code,
    password_reset_by_email_code,
    tokens_touch_end_and_sign_out,
    handshake_nonce_and_token,
    me_profile_password_and_email_addresses,
    test_mode_code,
    multi_session_and_inactivity_timeout,
    rate_limits_as_clerk_documents,
    profile_image_upload_and_delete,
    lockout_after_wrong_passwords,
    password_sign_in_in_one_request,
);

const PASSWORD: &str = "correct-horse-battery";

fn error_code(body: &Value) -> &str {
    body["errors"][0]["code"].as_str().unwrap_or_default()
}

async fn sign_up_with_email_code(db: Db) {
    let srv = TestServer::spawn(db).await;
    let mut browser = srv.browser();
    let (status, _) = json_of(browser.get("/v1/client").await);
    assert_eq!(status, StatusCode::OK);

    // clerk-js sends empty optional fields; they mean "not given".
    let created = browser
        .post(
            "/v1/client/sign_ups",
            &[
                ("email_address", "Ada@Example.com"),
                ("password", PASSWORD),
                ("first_name", "Ada"),
                ("last_name", ""),
                ("locale", ""),
                ("unsafe_metadata", r#"{"plan":"pro"}"#),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let client_cookie = browser
        .last_set_cookies
        .iter()
        .find(|c| c.starts_with("__client="))
        .expect("a new client gets the __client cookie");
    assert!(client_cookie.contains("HttpOnly"), "{client_cookie}");
    assert_eq!(browser.cookies["__client_uat"], "0");
    let sign_up = &created.body["response"];
    assert_eq!(sign_up["status"], "missing_requirements");
    assert_eq!(sign_up["email_address"], "ada@example.com");
    assert_eq!(sign_up["unverified_fields"], json!(["email_address"]));
    assert_eq!(sign_up["missing_fields"], json!([]));
    assert_eq!(sign_up["last_name"], Value::Null);
    assert_eq!(
        sign_up["verifications"]["email_address"]["next_action"],
        "needs_prepare"
    );
    assert_eq!(created.body["client"]["sign_up"]["id"], sign_up["id"]);
    let id = sign_up["id"].as_str().unwrap();

    // The address is taken once a user has it.
    srv.create_user(&srv.default, "taken@example.com").await;
    let taken = browser
        .post(
            "/v1/client/sign_ups",
            &[
                ("email_address", "taken@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&taken.body), "form_identifier_exists");
    assert_eq!(
        taken.body["errors"][0]["meta"]["param_name"],
        "email_address"
    );

    let prepared = browser
        .post(
            &format!("/v1/client/sign_ups/{id}/prepare_verification"),
            &[("strategy", "email_code")],
        )
        .await;
    assert_eq!(prepared.status, StatusCode::OK, "{}", prepared.body);
    let verification = &prepared.body["response"]["verifications"]["email_address"];
    assert_eq!(verification["next_action"], "needs_attempt");
    assert_eq!(verification["expire_at"], json!(START_MS + 600_000));
    let mail = srv
        .service
        .list_mailbox(&srv.default.id, Some("ada@example.com"), 5)
        .await
        .unwrap();
    assert_eq!(mail.len(), 1);
    let code = srv.mailed_code(&srv.default, "ada@example.com").await;
    assert!(mail[0].html.contains(&code) && mail[0].subject.contains(&code));

    let wrong = browser
        .post(
            &format!("/v1/client/sign_ups/{id}/attempt_verification"),
            &[("strategy", "email_code"), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&wrong.body), "form_code_incorrect");
    assert_eq!(wrong.body["errors"][0]["meta"]["param_name"], "code");

    srv.clock.advance(2_000);
    let done = browser
        .post(
            &format!("/v1/client/sign_ups/{id}/attempt_verification"),
            &[("strategy", "email_code"), ("code", &code)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let sign_up = &done.body["response"];
    assert_eq!(sign_up["status"], "complete");
    let user_id = sign_up["created_user_id"].as_str().unwrap();
    let sid = sign_up["created_session_id"].as_str().unwrap();
    let client = &done.body["client"];
    assert_eq!(client["last_active_session_id"], sid);
    assert_eq!(client["sign_up"], Value::Null);
    let session = &client["sessions"][0];
    assert_eq!(session["status"], "active");
    assert_eq!(session["user"]["id"], user_id);
    assert_eq!(session["user"]["first_name"], "Ada");
    assert_eq!(session["user"]["unsafe_metadata"], json!({"plan": "pro"}));
    assert!(session["user"].get("private_metadata").is_none());
    assert_eq!(
        session["user"]["email_addresses"][0]["verification"]["status"],
        "verified"
    );
    let token = claims(session["last_active_token"]["jwt"].as_str().unwrap());
    assert_eq!(token["sub"], user_id);
    assert_eq!(token["sid"], sid);
    assert_eq!(token["azp"], "http://localhost:3000");
    let uat: i64 = browser.cookies["__client_uat"].parse().unwrap();
    assert_eq!(uat, (START_MS + 2_000) / 1000);
    assert!(
        uat <= token["iat"].as_i64().unwrap(),
        "__client_uat never ahead of iat"
    );
    let suffix = concierge_service::cookie_suffix(&srv.default.publishable_key);
    assert_eq!(
        browser.cookies[&format!("__client_uat_{suffix}")],
        uat.to_string()
    );

    // The Backend API sees the new user with a verified address and the password.
    let (status, user) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/users/{user_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        user["email_addresses"][0]["email_address"],
        "ada@example.com"
    );
    assert_eq!(user["password_enabled"], true);

    // The finished sign-up cannot be replayed.
    let again = browser
        .post(
            &format!("/v1/client/sign_ups/{id}/attempt_verification"),
            &[("code", &code)],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
}

fn json_of(answer: concierge_testkit::FapiAnswer) -> (StatusCode, Value) {
    (answer.status, answer.body)
}

async fn codes_fail_after_three_wrong_attempts_and_expire(db: Db) {
    let srv = TestServer::spawn(db).await;
    let mut browser = srv.browser();
    let created = browser
        .post(
            "/v1/client/sign_ups",
            &[("email_address", "bob@example.com"), ("password", PASSWORD)],
        )
        .await;
    let id = created.body["response"]["id"].as_str().unwrap().to_owned();
    let prepare = format!("/v1/client/sign_ups/{id}/prepare_verification");
    let attempt = format!("/v1/client/sign_ups/{id}/attempt_verification");
    browser.post(&prepare, &[("strategy", "email_code")]).await;
    let code = srv.mailed_code(&srv.default, "bob@example.com").await;
    for expected in [
        "form_code_incorrect",
        "form_code_incorrect",
        "verification_failed",
    ] {
        let answer = browser.post(&attempt, &[("code", "999999")]).await;
        assert_eq!(error_code(&answer.body), expected);
    }
    // A fourth attempt within 10 seconds is over Clerk's limit (3 per 10 s per IP).
    let answer = browser.post(&attempt, &[("code", &code)]).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.headers.contains_key("retry-after"));
    srv.clock.advance(10_000);
    let answer = browser.post(&attempt, &[("code", &code)]).await;
    assert_eq!(
        error_code(&answer.body),
        "verification_failed",
        "the right code no longer works"
    );

    // A new code restarts the count; it expires after 10 minutes.
    browser.post(&prepare, &[("strategy", "email_code")]).await;
    let code = srv.mailed_code(&srv.default, "bob@example.com").await;
    srv.clock.advance(600_000);
    let answer = browser.post(&attempt, &[("code", &code)]).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&answer.body), "verification_expired");

    // Another browser cannot touch this sign-up.
    let mut stranger = srv.browser();
    stranger.get("/v1/client").await;
    let answer = stranger.post(&prepare, &[("strategy", "email_code")]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let (_, users) = srv.bapi(&srv.default, Method::GET, "/v1/users", None).await;
    assert_eq!(users, json!([]), "no user was created");
}

async fn sign_in_with_password_and_email_code(db: Db) {
    let srv = TestServer::spawn(db).await;
    let user = srv.create_user(&srv.default, "carol@example.com").await;
    let mut browser = srv.browser();

    let unknown = browser
        .post(
            "/v1/client/sign_ins",
            &[("identifier", "nobody@example.com")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&unknown.body), "form_identifier_not_found");
    assert_eq!(
        unknown.body["errors"][0]["meta"]["param_name"],
        "identifier"
    );

    let started = browser
        .post(
            "/v1/client/sign_ins",
            &[("identifier", "carol@example.com"), ("locale", "")],
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let sign_in = &started.body["response"];
    assert_eq!(sign_in["status"], "needs_first_factor");
    let factors: Vec<&str> = sign_in["supported_first_factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(
        factors,
        ["password", "email_code", "reset_password_email_code"]
    );
    assert_eq!(
        sign_in["supported_first_factors"][1]["safe_identifier"],
        "c****@example.com"
    );
    assert!(sign_in["user_data"]["image_url"]
        .as_str()
        .unwrap()
        .starts_with("data:image/svg+xml"));
    let id = sign_in["id"].as_str().unwrap().to_owned();
    let attempt = format!("/v1/client/sign_ins/{id}/attempt_first_factor");

    let wrong = browser
        .post(
            &attempt,
            &[("strategy", "password"), ("password", "not-the-password")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&wrong.body), "form_password_incorrect");
    assert_eq!(browser.cookies["__client_uat"], "0");

    let done = browser
        .post(
            &attempt,
            &[("strategy", "password"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["response"]["status"], "complete");
    assert_eq!(done.body["client"]["sessions"][0]["user"]["id"], user["id"]);

    // Single-session mode: a second sign-in on a signed-in client is refused.
    let again = browser
        .post(
            "/v1/client/sign_ins",
            &[("identifier", "carol@example.com")],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&again.body), "session_exists");

    // Email code on another browser.
    let mut other = srv.browser();
    let started = other
        .post(
            "/v1/client/sign_ins",
            &[("identifier", "carol@example.com")],
        )
        .await;
    let id = started.body["response"]["id"].as_str().unwrap().to_owned();
    let email_id = user["email_addresses"][0]["id"].as_str().unwrap();
    let prepared = other
        .post(
            &format!("/v1/client/sign_ins/{id}/prepare_first_factor"),
            &[("strategy", "email_code"), ("email_address_id", email_id)],
        )
        .await;
    assert_eq!(prepared.status, StatusCode::OK, "{}", prepared.body);
    assert_eq!(
        prepared.body["response"]["first_factor_verification"]["status"],
        "unverified"
    );
    let code = srv.mailed_code(&srv.default, "carol@example.com").await;
    let done = other
        .post(
            &format!("/v1/client/sign_ins/{id}/attempt_first_factor"),
            &[("strategy", "email_code"), ("code", &code)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["response"]["status"], "complete");

    // A banned user cannot sign in.
    let user_id = user["id"].as_str().unwrap();
    srv.bapi(
        &srv.default,
        Method::POST,
        &format!("/v1/users/{user_id}/ban"),
        None,
    )
    .await;
    let mut third = srv.browser();
    let answer = third
        .post(
            "/v1/client/sign_ins",
            &[
                ("identifier", "carol@example.com"),
                ("strategy", "password"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&answer.body), "user_banned");
}

async fn password_reset_by_email_code(db: Db) {
    let srv = TestServer::spawn(db).await;
    srv.create_user(&srv.default, "dan@example.com").await;
    let (mut old_browser, old_sid) = srv.signed_in("dan@example.com").await;
    let mut browser = srv.browser();
    let started = browser
        .post("/v1/client/sign_ins", &[("identifier", "dan@example.com")])
        .await;
    let id = started.body["response"]["id"].as_str().unwrap().to_owned();
    let email_id = started.body["response"]["supported_first_factors"][2]["email_address_id"]
        .as_str()
        .unwrap()
        .to_owned();
    browser
        .post(
            &format!("/v1/client/sign_ins/{id}/prepare_first_factor"),
            &[
                ("strategy", "reset_password_email_code"),
                ("email_address_id", &email_id),
            ],
        )
        .await;
    let code = srv.mailed_code(&srv.default, "dan@example.com").await;
    let verified = browser
        .post(
            &format!("/v1/client/sign_ins/{id}/attempt_first_factor"),
            &[("strategy", "reset_password_email_code"), ("code", &code)],
        )
        .await;
    assert_eq!(
        verified.body["response"]["status"], "needs_new_password",
        "{}",
        verified.body
    );
    let short = browser
        .post(
            &format!("/v1/client/sign_ins/{id}/reset_password"),
            &[("password", "short")],
        )
        .await;
    assert_eq!(error_code(&short.body), "form_password_length_too_short");
    let done = browser
        .post(
            &format!("/v1/client/sign_ins/{id}/reset_password"),
            &[
                ("password", "a-brand-new-password"),
                ("sign_out_of_other_sessions", "true"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["response"]["status"], "complete");
    // The old session was signed out; the new password works.
    let token = old_browser
        .post(&format!("/v1/client/sessions/{old_sid}/tokens"), &[])
        .await;
    assert_eq!(token.status, StatusCode::UNAUTHORIZED);
    let mut fresh = srv.browser();
    let answer = fresh
        .post(
            "/v1/client/sign_ins",
            &[
                ("identifier", "dan@example.com"),
                ("strategy", "password"),
                ("password", "a-brand-new-password"),
            ],
        )
        .await;
    assert_eq!(
        answer.body["response"]["status"], "complete",
        "{}",
        answer.body
    );
}

async fn tokens_touch_end_and_sign_out(db: Db) {
    let srv = TestServer::spawn(db).await;
    srv.create_user(&srv.default, "erin@example.com").await;
    let (mut browser, sid) = srv.signed_in("erin@example.com").await;

    srv.clock.advance(30_000);
    let token = browser
        .post(
            &format!("/v1/client/sessions/{sid}/tokens"),
            &[("organization_id", ""), ("tab_state", "focused")],
        )
        .await;
    assert_eq!(token.status, StatusCode::OK);
    assert_eq!(token.body["object"], "token", "unwrapped");
    let jwt = token.body["jwt"].as_str().unwrap();
    assert_eq!(claims(jwt)["iat"], json!((START_MS + 30_000) / 1000));

    let touched = browser
        .post(
            &format!("/v1/client/sessions/{sid}/touch"),
            &[("active_organization_id", ""), ("intent", "select_session")],
        )
        .await;
    assert_eq!(touched.status, StatusCode::OK, "{}", touched.body);
    assert_eq!(touched.body["response"]["id"], sid);
    assert!(touched.body["response"]["last_active_token"]["jwt"].is_string());
    assert_eq!(
        touched.body["response"]["last_active_at"],
        json!(START_MS + 30_000)
    );

    // Another browser cannot mint tokens for this session.
    let mut stranger = srv.browser();
    stranger.post("/v1/client/sign_ins", &[]).await;
    let answer = stranger
        .post(&format!("/v1/client/sessions/{sid}/tokens"), &[])
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    // Without a client at all: 401, which makes clerk-js re-check its client.
    let answer = srv
        .browser()
        .post(&format!("/v1/client/sessions/{sid}/tokens"), &[])
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&answer.body), "authentication_invalid");
    // A session id that is not one: 404 with a client, 401 without; an unknown session: 401.
    let unknown = format!(
        "{}{}",
        &sid[..sid.len() - 1],
        if sid.ends_with('A') { 'B' } else { 'A' }
    );
    let mut signed_out = srv.browser();
    for (signed_in, id, status) in [
        (true, "sess_not-an-id", StatusCode::NOT_FOUND),
        (false, "sess_not-an-id", StatusCode::UNAUTHORIZED),
        (true, unknown.as_str(), StatusCode::UNAUTHORIZED),
    ] {
        let who = if signed_in {
            &mut browser
        } else {
            &mut signed_out
        };
        let answer = who
            .post(&format!("/v1/client/sessions/{id}/tokens"), &[])
            .await;
        assert_eq!(answer.status, status, "{id}: {}", answer.body);
    }

    // Sign out of everything (clerk-js: POST /v1/client/sessions?_method=DELETE).
    let out = browser
        .post("/v1/client/sessions?_method=DELETE", &[])
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert_eq!(out.body["response"]["sessions"], json!([]));
    assert_eq!(out.body["client"]["last_active_session_id"], Value::Null);
    assert_eq!(browser.cookies["__client_uat"], "0");
    assert!(browser.cookies.contains_key("__client"), "the client stays");
    let answer = browser
        .post(&format!("/v1/client/sessions/{sid}/tokens"), &[])
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let (_, session) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/sessions/{sid}"),
            None,
        )
        .await;
    assert_eq!(session["status"], "removed");

    // End one session; revoke from the Backend API; the lifetime limit.
    let (mut browser, sid) = srv.signed_in("erin@example.com").await;
    let ended = browser
        .post(&format!("/v1/client/sessions/{sid}/end"), &[])
        .await;
    assert_eq!(ended.body["response"]["status"], "ended");
    assert_eq!(browser.cookies["__client_uat"], "0");
    let (mut browser, sid) = srv.signed_in("erin@example.com").await;
    srv.bapi(
        &srv.default,
        Method::POST,
        &format!("/v1/sessions/{sid}/revoke"),
        None,
    )
    .await;
    let answer = browser
        .post(&format!("/v1/client/sessions/{sid}/tokens"), &[])
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let client = browser.get("/v1/client").await;
    assert_eq!(
        client.body["client"]["sessions"],
        json!([]),
        "revoked sessions leave the client"
    );
    let (mut browser, sid) = srv.signed_in("erin@example.com").await;
    srv.clock.advance(7 * 24 * 3600 * 1000);
    let answer = browser
        .post(&format!("/v1/client/sessions/{sid}/tokens"), &[])
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNAUTHORIZED,
        "past the 7-day lifetime"
    );
}

async fn handshake_nonce_and_token(db: Db) {
    let srv = TestServer::spawn(db).await;
    srv.create_user(&srv.default, "fay@example.com").await;
    let (mut browser, sid) = srv.signed_in("fay@example.com").await;
    let redirect = "http%3A%2F%2Flocalhost%3A3000%2Fdashboard%3Fa%3D1";
    let answer = browser
        .get(&format!(
            "/v1/client/handshake?redirect_url={redirect}&format=nonce&suffixed_cookies=false&__clerk_hs_reason=client-uat-but-no-session-token"
        ))
        .await;
    assert_eq!(answer.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        answer.headers["location"],
        "http://localhost:3000/dashboard?a=1"
    );
    let nonce = browser.cookies["__clerk_handshake_nonce"].clone();
    let (status, payload) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/clients/handshake_payload?nonce={nonce}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let directives: Vec<String> = serde_json::from_value(payload["directives"].clone()).unwrap();
    let session = directives
        .iter()
        .find(|d| d.starts_with("__session="))
        .expect("a __session directive");
    let jwt = session
        .trim_start_matches("__session=")
        .split(';')
        .next()
        .unwrap();
    assert_eq!(claims(jwt)["sid"], sid);
    let suffix = concierge_service::cookie_suffix(&srv.default.publishable_key);
    assert!(directives
        .iter()
        .any(|d| d.starts_with(&format!("__session_{suffix}="))));
    assert!(directives
        .iter()
        .any(|d| d.starts_with("__client_uat=") && !d.starts_with("__client_uat=0")));
    assert!(directives
        .iter()
        .any(|d| d.starts_with("__clerk_handshake_nonce=;")));
    // Single use; and another instance cannot redeem it.
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/clients/handshake_payload?nonce={nonce}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Token format: a JWT in the JWKS carrying the directives.
    let answer = browser
        .get(&format!(
            "/v1/client/handshake?redirect_url={redirect}&format=token"
        ))
        .await;
    assert_eq!(answer.status, StatusCode::TEMPORARY_REDIRECT);
    let token = browser.cookies["__clerk_handshake"].clone();
    let handshake = claims(&token)["handshake"].clone();
    assert!(handshake
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d.as_str().unwrap().starts_with("__session=ey")));

    // Signed out: __client_uat=0 and __session expired.
    let mut stranger = srv.browser();
    stranger
        .get(&format!(
            "/v1/client/handshake?redirect_url={redirect}&format=nonce"
        ))
        .await;
    let nonce = stranger.cookies["__clerk_handshake_nonce"].clone();
    let (_, payload) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/clients/handshake_payload?nonce={nonce}"),
            None,
        )
        .await;
    let directives = payload["directives"].as_array().unwrap();
    assert!(directives
        .iter()
        .any(|d| d.as_str().unwrap().starts_with("__client_uat=0;")));
    assert!(directives
        .iter()
        .any(|d| d.as_str().unwrap().starts_with("__session=;")
            && d.as_str().unwrap().contains("Max-Age=0")));

    // Foreign redirect targets are refused.
    let answer = browser
        .get("/v1/client/handshake?redirect_url=https%3A%2F%2Fevil.example%2F&format=nonce")
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.body["errors"][0]["meta"]["param_name"],
        "redirect_url"
    );
}

async fn me_profile_password_and_email_addresses(db: Db) {
    let srv = TestServer::spawn(db).await;
    srv.create_user(&srv.default, "gus@example.com").await;
    let (mut other_device, other_sid) = srv.signed_in("gus@example.com").await;
    let (mut browser, sid) = srv.signed_in("gus@example.com").await;
    let me = format!("?_clerk_session_id={sid}");

    let answer = browser.get(&format!("/v1/me{me}")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let user_id = answer.body["response"]["id"].as_str().unwrap().to_owned();
    let answer = browser
        .post(
            &format!("/v1/me{me}&_method=PATCH"),
            &[("first_name", "Gus"), ("last_name", "Grissom")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["response"]["first_name"], "Gus");
    assert_eq!(
        answer.body["client"]["sessions"][0]["user"]["last_name"],
        "Grissom"
    );
    let answer = browser
        .post(
            &format!("/v1/me/metadata{me}&_method=PATCH"),
            &[("unsafe_metadata", r#"{"theme":"dark"}"#)],
        )
        .await;
    assert_eq!(
        answer.body["response"]["unsafe_metadata"],
        json!({"theme": "dark"})
    );

    let sessions = browser.get(&format!("/v1/me/sessions/active{me}")).await;
    assert_eq!(
        sessions.body.as_array().unwrap().len(),
        2,
        "a bare array of both devices"
    );

    let wrong = browser
        .post(
            &format!("/v1/me/change_password{me}"),
            &[
                ("current_password", "nope"),
                ("new_password", "another-long-password"),
            ],
        )
        .await;
    assert_eq!(error_code(&wrong.body), "form_password_incorrect");
    let changed = browser
        .post(
            &format!("/v1/me/change_password{me}"),
            &[
                ("current_password", PASSWORD),
                ("new_password", "another-long-password"),
                ("sign_out_of_other_sessions", "true"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let answer = other_device
        .post(&format!("/v1/client/sessions/{other_sid}/tokens"), &[])
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNAUTHORIZED,
        "other sessions signed out"
    );
    let answer = browser
        .post(&format!("/v1/client/sessions/{sid}/tokens"), &[])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "this session stays");

    // Add, verify, make primary, remove an email address.
    let added = browser
        .post(
            &format!("/v1/me/email_addresses/{me}"),
            &[("email_address", "gus2@example.com")],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let email_id = added.body["response"]["id"].as_str().unwrap().to_owned();
    browser
        .post(
            &format!("/v1/me/email_addresses/{email_id}/prepare_verification{me}"),
            &[("strategy", "email_code")],
        )
        .await;
    let code = srv.mailed_code(&srv.default, "gus2@example.com").await;
    let verified = browser
        .post(
            &format!("/v1/me/email_addresses/{email_id}/attempt_verification{me}"),
            &[("code", &code)],
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
    assert_eq!(
        verified.body["response"]["verification"]["status"],
        "verified"
    );
    let primary = browser
        .post(
            &format!("/v1/me{me}&_method=PATCH"),
            &[("primary_email_address_id", &email_id)],
        )
        .await;
    assert_eq!(
        primary.body["response"]["primary_email_address_id"],
        email_id.as_str()
    );
    let refused = browser
        .post(
            &format!("/v1/me/email_addresses/{email_id}{me}&_method=DELETE"),
            &[],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "the primary address stays"
    );

    // Delete the account.
    let deleted = browser
        .post(&format!("/v1/me{me}&_method=DELETE"), &[])
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(deleted.body["response"]["deleted"], true);
    assert_eq!(deleted.body["client"]["sessions"], json!([]));
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/users/{user_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let answer = browser.get(&format!("/v1/me{me}")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

async fn test_mode_code(db: Db) {
    let srv = TestServer::spawn(db).await;
    let instance = srv
        .service
        .create_instance(NewInstance {
            name: "testing".into(),
            frontend_host: Some("clerk.testing.test".into()),
            allowed_origins: vec![],
            allow_localhost: true,
            test_mode: true,
        })
        .await
        .unwrap();
    let mut browser = srv.browser_for(&instance);
    let email = "jane+clerk_test@example.com";
    let created = browser
        .post(
            "/v1/client/sign_ups",
            &[("email_address", email), ("password", PASSWORD)],
        )
        .await;
    let id = created.body["response"]["id"].as_str().unwrap().to_owned();
    browser
        .post(
            &format!("/v1/client/sign_ups/{id}/prepare_verification"),
            &[("strategy", "email_code")],
        )
        .await;
    let mail = srv
        .service
        .list_mailbox(&instance.id, None, 10)
        .await
        .unwrap();
    assert!(mail.is_empty(), "no mail for +clerk_test addresses");
    let done = browser
        .post(
            &format!("/v1/client/sign_ups/{id}/attempt_verification"),
            &[("code", "424242")],
        )
        .await;
    assert_eq!(done.body["response"]["status"], "complete", "{}", done.body);

    // The default instance is not in test mode: 424242 is just a wrong code there.
    let mut browser = srv.browser();
    let created = browser
        .post(
            "/v1/client/sign_ups",
            &[("email_address", email), ("password", PASSWORD)],
        )
        .await;
    let id = created.body["response"]["id"].as_str().unwrap().to_owned();
    browser
        .post(
            &format!("/v1/client/sign_ups/{id}/prepare_verification"),
            &[("strategy", "email_code")],
        )
        .await;
    let answer = browser
        .post(
            &format!("/v1/client/sign_ups/{id}/attempt_verification"),
            &[("code", "424242")],
        )
        .await;
    assert_eq!(error_code(&answer.body), "form_code_incorrect");
}

async fn multi_session_and_inactivity_timeout(db: Db) {
    use concierge_service::instances::SettingsUpdate;
    let srv = TestServer::spawn(db).await;
    srv.service
        .update_instance_settings(
            &srv.default,
            SettingsUpdate {
                multi_session: Some(true),
                session_inactivity_timeout_secs: Some(Some(600)),
                ..SettingsUpdate::default()
            },
        )
        .await
        .unwrap();
    srv.create_user(&srv.default, "hal@example.com").await;
    srv.create_user(&srv.default, "ida@example.com").await;
    let (mut browser, first) = srv.signed_in("hal@example.com").await;
    let env = browser.get("/v1/environment").await;
    assert_eq!(env.body["auth_config"]["single_session_mode"], false);

    // A second account on the same browser.
    let second = browser
        .post(
            "/v1/client/sign_ins",
            &[
                ("identifier", "ida@example.com"),
                ("strategy", "password"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let second_sid = second.body["response"]["created_session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = &second.body["client"];
    assert_eq!(client["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(client["last_active_session_id"], second_sid.as_str());

    // Remove the second; the first stays signed in and becomes the active one.
    let removed = browser
        .post(&format!("/v1/client/sessions/{second_sid}/remove"), &[])
        .await;
    assert_eq!(removed.body["response"]["status"], "removed");
    assert_eq!(
        removed.body["client"]["last_active_session_id"],
        first.as_str()
    );
    assert_ne!(browser.cookies["__client_uat"], "0");

    // Activity slides the inactivity window; ten idle minutes end the session.
    srv.clock.advance(500_000);
    let token = browser
        .post(&format!("/v1/client/sessions/{first}/tokens"), &[])
        .await;
    assert_eq!(token.status, StatusCode::OK);
    srv.clock.advance(500_000);
    let token = browser
        .post(&format!("/v1/client/sessions/{first}/tokens"), &[])
        .await;
    assert_eq!(token.status, StatusCode::OK, "still inside the slid window");
    srv.clock.advance(601_000);
    let token = browser
        .post(&format!("/v1/client/sessions/{first}/tokens"), &[])
        .await;
    assert_eq!(
        token.status,
        StatusCode::UNAUTHORIZED,
        "abandoned after inactivity"
    );
    let (_, session) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/sessions/{first}"),
            None,
        )
        .await;
    assert_eq!(session["status"], "abandoned");
}

async fn rate_limits_as_clerk_documents(db: Db) {
    let srv = TestServer::spawn(db).await;
    srv.create_user(&srv.default, "kim@example.com").await;
    let mut browser = srv.browser();
    // Create sign-in: 5 per 10 seconds per IP.
    for _ in 0..5 {
        let answer = browser
            .post("/v1/client/sign_ins", &[("identifier", "kim@example.com")])
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let answer = browser
        .post("/v1/client/sign_ins", &[("identifier", "kim@example.com")])
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&answer.body), "too_many_requests");
    let wait: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&wait), "{wait}");
    // Another IP is not affected; the same IP may go on after waiting.
    let mut other = srv.browser();
    let answer = other
        .post("/v1/client/sign_ins", &[("identifier", "kim@example.com")])
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    srv.clock.advance(i64::try_from(wait).unwrap() * 1000);
    let answer = browser
        .post("/v1/client/sign_ins", &[("identifier", "kim@example.com")])
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    // Reading the client is never limited.
    for _ in 0..20 {
        assert_eq!(browser.get("/v1/client").await.status, StatusCode::OK);
    }

    // Backend API: 1000 requests per 10 seconds per secret key, plus what is left of the
    // batch of 50 the node leased for the user created above, 2 s ago; the JWKS is exempt.
    let mut admitted = 0;
    let body = loop {
        let (status, body) = srv
            .bapi(&srv.default, Method::GET, "/v1/users/count", None)
            .await;
        if status != StatusCode::OK {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            break body;
        }
        admitted += 1;
        assert!(admitted <= 1050, "never more than the limit and one batch");
    };
    assert_eq!(admitted, 1000 + 49, "the limit, and the batch's 49 left");
    assert_eq!(error_code(&body), "too_many_requests");
    let (status, _) = srv.bapi(&srv.default, Method::GET, "/v1/jwks", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = srv
        .bapi(&srv.other, Method::GET, "/v1/users/count", None)
        .await;
    assert_eq!(status, StatusCode::OK, "limits are per secret key");
}

async fn profile_image_upload_and_delete(db: Db) {
    let srv = TestServer::spawn(db).await;
    srv.create_user(&srv.default, "lea@example.com").await;
    let (mut browser, sid) = srv.signed_in("lea@example.com").await;
    let path = format!("/v1/me/profile_image?_clerk_session_id={sid}");
    let png = [
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        &[7u8; 64][..],
    ]
    .concat();

    // Not an image.
    let answer = browser
        .send_body(
            Method::POST,
            &path,
            Some("application/octet-stream"),
            b"hello".to_vec(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["errors"][0]["meta"]["param_name"], "file");

    // Multipart, as <UserProfile/> uploads it.
    let boundary = "----concierge-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let answer = browser
        .send_body(
            Method::POST,
            &path,
            Some(&format!("multipart/form-data; boundary={boundary}")),
            body,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["response"]["object"], "image");
    let url = answer.body["response"]["public_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = &answer.body["client"]["sessions"][0]["user"];
    assert_eq!(user["image_url"], url.as_str());
    assert_eq!(user["has_image"], true);
    let image_path = url
        .split_once("/v1/images/")
        .map(|(_, id)| format!("/v1/images/{id}"))
        .unwrap();
    let fetched = srv
        .http()
        .get(format!("{}{image_path}", srv.frontend_url))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.headers()["content-type"], "image/png");
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), png);

    // Replacing it deletes the old file; deleting returns to the default avatar.
    let answer = browser
        .send_body(
            Method::POST,
            &path,
            Some("application/octet-stream"),
            png.clone(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let gone = srv
        .http()
        .get(format!("{}{image_path}", srv.frontend_url))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let answer = browser
        .send_body(Method::DELETE, &path, None, Vec::new())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let user = &answer.body["client"]["sessions"][0]["user"];
    assert_eq!(user["has_image"], false);
    assert!(user["image_url"]
        .as_str()
        .unwrap()
        .starts_with("data:image/svg+xml"));
}

/// A server whose instance locks an account for 60 s after `attempts` wrong passwords.
async fn server_locking_after(db: Db, attempts: i64) -> TestServer {
    use concierge_service::instances::SettingsUpdate;
    let srv = TestServer::spawn(db).await;
    srv.service
        .update_instance_settings(
            &srv.default,
            SettingsUpdate {
                max_password_attempts: Some(attempts),
                lockout_secs: Some(60),
                ..SettingsUpdate::default()
            },
        )
        .await
        .unwrap();
    srv
}

async fn lockout_after_wrong_passwords(db: Db) {
    let srv = server_locking_after(db, 3).await;
    srv.create_user(&srv.default, "max@example.com").await;
    let mut browser = srv.browser();
    let started = browser
        .post("/v1/client/sign_ins", &[("identifier", "max@example.com")])
        .await;
    let id = started.body["response"]["id"].as_str().unwrap().to_owned();
    let attempt = format!("/v1/client/sign_ins/{id}/attempt_first_factor");
    for _ in 0..3 {
        let answer = browser
            .post(
                &attempt,
                &[("strategy", "password"), ("password", "wrong-password-1")],
            )
            .await;
        assert_eq!(error_code(&answer.body), "form_password_incorrect");
    }
    srv.clock.advance(10_000);
    let answer = browser
        .post(
            &attempt,
            &[("strategy", "password"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert_eq!(error_code(&answer.body), "user_locked");
    let (_, users) = srv.bapi(&srv.default, Method::GET, "/v1/users", None).await;
    assert_eq!(users[0]["locked"], true);
    srv.clock.advance(60_000);
    let answer = browser
        .post(
            &attempt,
            &[("strategy", "password"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "the lockout ends: {}",
        answer.body
    );
    assert_eq!(answer.body["response"]["status"], "complete");
}

/// `signIn.create({identifier, password})`: one request creates and attempts the sign-in. A
/// wrong password leaves the sign-in waiting on the client and counts toward the lockout; the
/// right one completes it with a session and the client's cookie.
async fn password_sign_in_in_one_request(db: Db) {
    let srv = server_locking_after(db, 2).await;
    let user = srv.create_user(&srv.default, "olga@example.com").await;
    let user_id = user["id"].as_str().unwrap();
    let sign_in = |password: &'static str| {
        [
            ("identifier", "Olga@Example.com"),
            ("strategy", "password"),
            ("password", password),
        ]
    };
    let mut browser = srv.browser();
    // The browser has a client already (an identifier-only sign-in started it).
    let first = browser
        .post("/v1/client/sign_ins", &[("identifier", "olga@example.com")])
        .await;
    let first_id = first.body["response"]["id"].as_str().unwrap().to_owned();

    let wrong = browser
        .post("/v1/client/sign_ins", &sign_in("wrong-password-1"))
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    assert_eq!(error_code(&wrong.body), "form_password_incorrect");
    let (_, client) = json_of(browser.get("/v1/client").await);
    let waiting = &client["response"]["sign_in"];
    assert_eq!(waiting["status"], "needs_first_factor");
    assert_eq!(waiting["identifier"], "olga@example.com");
    assert_ne!(
        waiting["id"],
        first_id.as_str(),
        "the new sign-in replaced the first"
    );
    assert_eq!(client["response"]["sessions"], json!([]));

    // The second wrong password locks the account (limit 2); the right one is then refused.
    let wrong = browser
        .post("/v1/client/sign_ins", &sign_in("wrong-password-2"))
        .await;
    assert_eq!(error_code(&wrong.body), "form_password_incorrect");
    let (_, locked) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/users/{user_id}"),
            None,
        )
        .await;
    assert_eq!(locked["locked"], true);
    let refused = browser
        .post("/v1/client/sign_ins", &sign_in(PASSWORD))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(error_code(&refused.body), "user_locked");
    srv.clock.advance(61_000);

    // A new browser signs in in one request: the sign-in is complete, the client has the
    // session, and the response sets the new client's cookie.
    let mut fresh = srv.browser();
    let done = fresh.post("/v1/client/sign_ins", &sign_in(PASSWORD)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let response = &done.body["response"];
    assert_eq!(response["status"], "complete");
    assert_eq!(response["first_factor_verification"]["status"], "verified");
    assert_eq!(
        response["first_factor_verification"]["strategy"],
        "password"
    );
    let session_id = response["created_session_id"].as_str().unwrap();
    let client = &done.body["client"];
    assert_eq!(client["sign_in"], Value::Null);
    assert_eq!(client["last_active_session_id"], session_id);
    assert_eq!(client["sessions"][0]["user"]["id"], user_id);
    assert!(fresh
        .last_set_cookies
        .iter()
        .any(|c| c.starts_with("__client=")));
    assert_ne!(fresh.cookies["__client_uat"], "0");
    let (_, session) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/sessions/{session_id}"),
            None,
        )
        .await;
    assert_eq!(session["status"], "active");
    assert_eq!(session["user_id"], user_id);
    let (_, signed_in) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/users/{user_id}"),
            None,
        )
        .await;
    assert_eq!(signed_in["locked"], false);
    assert!(signed_in["last_sign_in_at"].as_i64().is_some());

    // Single-session mode: the signed-in browser cannot start another; nothing changes.
    let again = fresh.post("/v1/client/sign_ins", &sign_in(PASSWORD)).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&again.body), "session_exists");
    let (_, sessions) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/sessions?user_id={user_id}"),
            None,
        )
        .await;
    assert_eq!(sessions.as_array().unwrap().len(), 1);

    // An unknown identifier creates nothing, not even a client.
    let mut stranger = srv.browser();
    let unknown = stranger
        .post(
            "/v1/client/sign_ins",
            &[
                ("identifier", "nobody@example.com"),
                ("strategy", "password"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(error_code(&unknown.body), "form_identifier_not_found");
    assert!(!stranger
        .last_set_cookies
        .iter()
        .any(|c| c.starts_with("__client=")));
}
