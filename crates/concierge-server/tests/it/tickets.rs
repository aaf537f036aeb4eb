//! Invitation links and tickets (wire §6.3, §6.4, §6.8), instance invitations (§8.2) and the
//! invitation rate limits: the accept link's redirect, sign-up and sign-in with
//! `strategy=ticket`, and every way a ticket is refused.

use concierge_testkit::{Browser, Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(
    organization_ticket_sign_up,
    instance_invitations_and_ticket_sign_up,
    ticket_sign_in_of_an_existing_user,
    refused_tickets,
    accept_link_redirects,
    invitation_rate_limits,
);

const PASSWORD: &str = "correct-horse-battery";

fn code(body: &Value) -> &str {
    body["errors"][0]["code"].as_str().unwrap_or_default()
}

/// The `ticket` query value of an accept link.
fn ticket_of(url: &str) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    assert_eq!(url.path(), "/v1/tickets/accept", "{url}");
    url.query_pairs()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
        .expect("a ticket in the link")
}

/// Follows an accept link the way a mail client does: a plain GET, no cookies, no headers.
async fn follow(url: &str) -> (StatusCode, Option<String>, Value) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(url).send().await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    (
        status,
        location,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// An organization created through the Backend API by `creator`, with no membership cap.
async fn organization(srv: &TestServer, creator: &Value, name: &str) -> String {
    let (status, org) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": name, "created_by": creator["id"], "max_allowed_memberships": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    org["id"].as_str().unwrap().to_owned()
}

async fn invite_to_org(srv: &TestServer, org: &str, body: Value) -> Value {
    let (status, inv) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/organizations/{org}/invitations"),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{inv}");
    inv
}

async fn ticket_sign_up(browser: &mut Browser, ticket: &str, extra: &[(&str, &str)]) -> Value {
    let mut form = vec![("strategy", "ticket"), ("ticket", ticket)];
    form.extend_from_slice(extra);
    let answer = browser.post("/v1/client/sign_ups", &form).await;
    json!({ "status": answer.status.as_u16(), "body": answer.body })
}

async fn organization_ticket_sign_up(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    let ada = srv.create_user(d, "ada@example.com").await;
    let org = organization(&srv, &ada, "Acme").await;
    let inv = invite_to_org(
        &srv,
        &org,
        json!({"email_address": "Bob@Example.com", "role": "org:admin", "public_metadata": {"team": "red"},
               "redirect_url": "http://localhost:3000/sign-up?from=mail"}),
    )
    .await;
    // The Backend API object carries the accept link; the email carries the same link.
    let url = inv["url"].as_str().expect("url while pending").to_owned();
    assert!(url.starts_with(&format!("{}/v1/tickets/accept?ticket=", srv.frontend_url)));
    let ticket = ticket_of(&url);
    let mail = srv
        .service
        .list_mailbox(&d.id, Some("bob@example.com"), 5)
        .await
        .unwrap();
    assert!(mail[0].text.contains(&url), "{}", mail[0].text);
    let (_, listed) = srv
        .bapi(
            d,
            Method::GET,
            &format!("/v1/organizations/{org}/invitations"),
            None,
        )
        .await;
    assert_eq!(
        listed["data"][0]["url"],
        url.as_str(),
        "the same link each time"
    );

    // The link lands on the redirect URL with the ticket, as a sign-up.
    let (status, location, _) = follow(&url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let landed = reqwest::Url::parse(&location).unwrap();
    assert_eq!(
        landed.origin().ascii_serialization(),
        "http://localhost:3000"
    );
    assert_eq!(landed.path(), "/sign-up");
    let query: std::collections::HashMap<_, _> = landed.query_pairs().into_owned().collect();
    assert_eq!(query["from"], "mail");
    assert_eq!(query["__clerk_ticket"], ticket);
    assert_eq!(query["__clerk_status"], "sign_up");

    // <SignUp/> creates the sign-up with the ticket: the address arrives verified.
    let mut browser = srv.browser();
    let created = ticket_sign_up(&mut browser, &ticket, &[]).await;
    assert_eq!(created["status"], 200, "{created}");
    let sign_up = &created["body"]["response"];
    assert_eq!(sign_up["status"], "missing_requirements");
    assert_eq!(sign_up["email_address"], "bob@example.com");
    assert_eq!(sign_up["unverified_fields"], json!([]));
    assert_eq!(sign_up["missing_fields"], json!(["password"]));
    assert_eq!(
        sign_up["verifications"]["email_address"]["status"],
        "verified"
    );
    assert_eq!(
        sign_up["verifications"]["email_address"]["strategy"],
        "ticket"
    );
    // The continue step sends the password (PATCH, as clerk-js 6 does).
    let id = sign_up["id"].as_str().unwrap();
    let done = browser
        .send(
            Method::PATCH,
            &format!("/v1/client/sign_ups/{id}"),
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["response"]["status"], "complete");
    let user = &done.body["client"]["sessions"][0]["user"];
    assert_eq!(
        user["email_addresses"][0]["verification"]["status"],
        "verified"
    );
    let membership = &user["organization_memberships"][0];
    assert_eq!(membership["organization"]["id"], org.as_str());
    assert_eq!(membership["role"], "org:admin");
    assert_eq!(membership["public_metadata"], json!({"team": "red"}));

    // Accepted: no link any more, the ticket is refused, the link says "complete".
    let (_, listed) = srv
        .bapi(
            d,
            Method::GET,
            &format!("/v1/organizations/{org}/invitations"),
            None,
        )
        .await;
    assert_eq!(listed["data"][0]["status"], "accepted");
    assert_eq!(listed["data"][0]["url"], Value::Null);
    let again = ticket_sign_up(&mut srv.browser(), &ticket, &[]).await;
    assert_eq!(again["status"], 400);
    assert_eq!(
        code(&again["body"]),
        "organization_invitation_already_accepted"
    );
    assert_eq!(again["body"]["errors"][0]["meta"]["param_name"], "ticket");
    let (status, location, _) = follow(&url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert!(location.ends_with("__clerk_status=complete"), "{location}");
    assert!(!location.contains("__clerk_ticket"));

    // The membership limit holds for ticket sign-ups too.
    let cap = invite_to_org(&srv, &org, json!({"email_address": "cy@example.com"})).await;
    let (status, _) = srv
        .bapi(
            d,
            Method::PATCH,
            &format!("/v1/organizations/{org}"),
            Some(json!({"max_allowed_memberships": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let ticket = ticket_of(cap["url"].as_str().unwrap());
    let refused = ticket_sign_up(&mut srv.browser(), &ticket, &[("password", PASSWORD)]).await;
    assert_eq!(refused["status"], 403, "{refused}");
    assert_eq!(
        code(&refused["body"]),
        "organization_membership_quota_exceeded"
    );
    let (_, users) = srv
        .bapi(
            d,
            Method::GET,
            "/v1/users?email_address=cy@example.com",
            None,
        )
        .await;
    assert_eq!(users, json!([]), "nothing was created");
}

async fn instance_invitations_and_ticket_sign_up(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    srv.create_user(d, "taken@example.com").await;

    // Create: the object, its link and its email.
    let (status, inv) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/invitations",
            Some(
                json!({"email_address": "Ann@Example.com", "public_metadata": {"plan": "pro"},
                        "redirect_url": "http://localhost:3000/welcome", "expires_in_days": 7}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{inv}");
    assert_eq!(inv["object"], "invitation");
    assert!(inv["id"].as_str().unwrap().starts_with("inv_"));
    assert_eq!(inv["email_address"], "ann@example.com");
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["revoked"], false);
    assert_eq!(inv["public_metadata"], json!({"plan": "pro"}));
    assert_eq!(
        inv["expires_at"].as_i64().unwrap() - inv["created_at"].as_i64().unwrap(),
        7 * 24 * 3600 * 1000
    );
    let url = inv["url"].as_str().unwrap().to_owned();
    let mail = srv
        .service
        .list_mailbox(&d.id, Some("ann@example.com"), 5)
        .await
        .unwrap();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].html.contains("Accept the invitation"));
    assert!(mail[0].text.contains(&url));

    // Refusals: duplicates and existing accounts (unless ignore_existing), bad fields.
    let refusals = [
        (
            json!({"email_address": "ann@example.com"}),
            400,
            "duplicate_record",
        ),
        (
            json!({"email_address": "taken@example.com"}),
            422,
            "form_identifier_exists",
        ),
        (
            json!({"email_address": "not-an-email"}),
            422,
            "form_param_format_invalid",
        ),
        (json!({}), 422, "form_param_missing"),
        (
            json!({"email_address": "x@example.com", "expires_in_days": 0}),
            422,
            "form_param_value_invalid",
        ),
        (
            json!({"email_address": "x@example.com", "redirect_url": "https://evil.example/"}),
            422,
            "form_param_format_invalid",
        ),
    ];
    for (body, status, expected) in refusals {
        let (got, answer) = srv
            .bapi(d, Method::POST, "/v1/invitations", Some(body.clone()))
            .await;
        assert_eq!(got.as_u16(), status, "{body}: {answer}");
        assert_eq!(code(&answer), expected, "{body}");
    }
    let (status, dup) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/invitations",
            Some(json!({"email_address": "ann@example.com", "ignore_existing": true, "notify": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dup}");
    let mail = srv
        .service
        .list_mailbox(&d.id, Some("ann@example.com"), 5)
        .await
        .unwrap();
    assert_eq!(mail.len(), 1, "notify: false sends nothing");

    // Bulk: an array in, an array out, all or nothing.
    let (status, bulk) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/invitations/bulk",
            Some(
                json!([{"email_address": "bea@example.com"}, {"email_address": "cid@example.com"}]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bulk}");
    assert_eq!(bulk.as_array().unwrap().len(), 2);
    let (status, _) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/invitations/bulk",
            Some(
                json!([{"email_address": "dan@example.com"}, {"email_address": "bea@example.com"}]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // List: paginated (what the SDK asks for) or a bare array; status, query, order.
    let (_, page) = srv
        .bapi(
            d,
            Method::GET,
            "/v1/invitations?paginated=true&status=pending&order_by=%2Bemail_address&limit=2",
            None,
        )
        .await;
    assert_eq!(page["total_count"], 4, "{page}");
    assert_eq!(page["data"][0]["email_address"], "ann@example.com");
    assert_eq!(page["data"][1]["email_address"], "ann@example.com");
    let (_, bare) = srv
        .bapi(d, Method::GET, "/v1/invitations?query=bea", None)
        .await;
    assert_eq!(bare.as_array().unwrap().len(), 1, "{bare}");
    let (status, _) = srv
        .bapi(d, Method::GET, "/v1/invitations?order_by=name", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Revoke: once; the link dies with it.
    let bea = bulk[0]["id"].as_str().unwrap();
    let bea_ticket = ticket_of(bulk[0]["url"].as_str().unwrap());
    let (status, revoked) = srv
        .bapi(
            d,
            Method::POST,
            &format!("/v1/invitations/{bea}/revoke"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoked"], true);
    assert_eq!(revoked["url"], Value::Null);
    let (status, again) = srv
        .bapi(
            d,
            Method::POST,
            &format!("/v1/invitations/{bea}/revoke"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&again), "invitation_not_pending");
    let refused = ticket_sign_up(&mut srv.browser(), &bea_ticket, &[]).await;
    assert_eq!(refused["status"], 400);
    assert_eq!(code(&refused["body"]), "ticket_invalid_code");

    // A ticket sign-up with the password at once completes; the metadata reaches the user.
    let mut browser = srv.browser();
    let done = ticket_sign_up(
        &mut browser,
        &ticket_of(&url),
        &[("password", PASSWORD), ("first_name", "Ann")],
    )
    .await;
    assert_eq!(done["status"], 200, "{done}");
    assert_eq!(done["body"]["response"]["status"], "complete");
    let user_id = done["body"]["response"]["created_user_id"]
        .as_str()
        .unwrap();
    let (_, user) = srv
        .bapi(d, Method::GET, &format!("/v1/users/{user_id}"), None)
        .await;
    assert_eq!(user["public_metadata"], json!({"plan": "pro"}));
    assert_eq!(user["first_name"], "Ann");
    let (_, accepted) = srv
        .bapi(d, Method::GET, "/v1/invitations?status=accepted", None)
        .await;
    assert_eq!(accepted[0]["id"], inv["id"]);
    assert_eq!(accepted[0]["url"], Value::Null);

    // The ticket vouches for the invited address only: changing it drops the ticket.
    let (_, eve) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/invitations",
            Some(json!({"email_address": "eve@example.com"})),
        )
        .await;
    let mut browser = srv.browser();
    let started = ticket_sign_up(&mut browser, &ticket_of(eve["url"].as_str().unwrap()), &[]).await;
    let id = started["body"]["response"]["id"].as_str().unwrap();
    let changed = browser
        .send(
            Method::PATCH,
            &format!("/v1/client/sign_ups/{id}"),
            &[
                ("email_address", "mallory@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["response"]["status"], "missing_requirements");
    assert_eq!(
        changed.body["response"]["unverified_fields"],
        json!(["email_address"])
    );

    // Delete: any status; then it is gone.
    let (status, deleted) = srv
        .bapi(d, Method::DELETE, &format!("/v1/invitations/{bea}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deleted,
        json!({"object": "invitation", "id": bea, "deleted": true})
    );
    let (status, _) = srv
        .bapi(d, Method::DELETE, &format!("/v1/invitations/{bea}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nothing crosses instances.
    let (_, others) = srv
        .bapi(
            &srv.other,
            Method::GET,
            "/v1/invitations?paginated=true",
            None,
        )
        .await;
    assert_eq!(others["total_count"], 0);
    let cid = bulk[1]["id"].as_str().unwrap();
    let (status, _) = srv
        .bapi(
            &srv.other,
            Method::POST,
            &format!("/v1/invitations/{cid}/revoke"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn ticket_sign_in_of_an_existing_user(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    let ada = srv.create_user(d, "ada@example.com").await;
    let bob = srv.create_user(d, "bob@example.com").await;
    let org = organization(&srv, &ada, "Acme").await;
    let inv = invite_to_org(
        &srv,
        &org,
        json!({"email_address": "bob@example.com", "redirect_url": "http://localhost:3000/sign-in"}),
    )
    .await;
    let url = inv["url"].as_str().unwrap().to_owned();
    let ticket = ticket_of(&url);
    let (_, location, _) = follow(&url).await;
    assert!(location.unwrap().ends_with("__clerk_status=sign_in"));

    // <SignIn/> posts the ticket: complete at once, with a session and the membership.
    let mut browser = srv.browser();
    let answer = browser
        .post(
            "/v1/client/sign_ins",
            &[("strategy", "ticket"), ("ticket", &ticket)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let sign_in = &answer.body["response"];
    assert_eq!(sign_in["status"], "complete");
    assert_eq!(sign_in["identifier"], "bob@example.com");
    assert_eq!(sign_in["first_factor_verification"]["strategy"], "ticket");
    let session = &answer.body["client"]["sessions"][0];
    assert_eq!(session["id"], sign_in["created_session_id"]);
    assert_eq!(session["user"]["id"], bob["id"]);
    assert_eq!(
        session["user"]["organization_memberships"][0]["organization"]["id"],
        org.as_str()
    );
    assert_eq!(
        session["user"]["organization_memberships"][0]["role"],
        "org:member"
    );
    assert!(browser
        .last_set_cookies
        .iter()
        .any(|c| c.starts_with("__client_uat=") && !c.starts_with("__client_uat=0")));

    // Single-session mode: a second ticket sign-in on this browser is `session_exists`.
    let inv2 = invite_to_org(
        &srv,
        &organization(&srv, &ada, "Beta").await,
        json!({"email_address": "bob@example.com"}),
    )
    .await;
    let answer = browser
        .post(
            "/v1/client/sign_ins",
            &[
                ("strategy", "ticket"),
                ("ticket", &ticket_of(inv2["url"].as_str().unwrap())),
            ],
        )
        .await;
    assert_eq!(code(&answer.body), "session_exists");

    // An invitation to an address without an account: sign up instead.
    let inv3 = invite_to_org(&srv, &org, json!({"email_address": "new@example.com"})).await;
    let answer = srv
        .browser()
        .post(
            "/v1/client/sign_ins",
            &[
                ("strategy", "ticket"),
                ("ticket", &ticket_of(inv3["url"].as_str().unwrap())),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&answer.body), "invitation_account_not_exists");
    // A sign-up with the ticket of an existing account's address is refused too.
    let refused = ticket_sign_up(
        &mut srv.browser(),
        &ticket_of(inv2["url"].as_str().unwrap()),
        &[],
    )
    .await;
    assert_eq!(refused["status"], 422);
    assert_eq!(code(&refused["body"]), "form_identifier_exists");

    // An instance invitation to an existing account (ignore_existing) signs them in too.
    let (_, inst) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/invitations",
            Some(json!({"email_address": "ada@example.com", "ignore_existing": true})),
        )
        .await;
    let answer = srv
        .browser()
        .post(
            "/v1/client/sign_ins",
            &[
                ("strategy", "ticket"),
                ("ticket", &ticket_of(inst["url"].as_str().unwrap())),
            ],
        )
        .await;
    assert_eq!(
        answer.body["response"]["status"], "complete",
        "{}",
        answer.body
    );
    let (_, list) = srv.bapi(d, Method::GET, "/v1/invitations", None).await;
    assert_eq!(list[0]["status"], "accepted");
}

async fn refused_tickets(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    let ada = srv.create_user(d, "ada@example.com").await;
    let org = organization(&srv, &ada, "Acme").await;
    let inv = invite_to_org(&srv, &org, json!({"email_address": "bob@example.com"})).await;
    let ticket = ticket_of(inv["url"].as_str().unwrap());

    let expect = |answer: &Value, status: u16, expected: &str| {
        assert_eq!(answer["status"], status, "{answer}");
        assert_eq!(code(&answer["body"]), expected, "{answer}");
    };
    // Garbage, a tampered ticket, and a session token (same key, not a ticket).
    expect(
        &ticket_sign_up(&mut srv.browser(), "not-a-ticket", &[]).await,
        400,
        "ticket_invalid_code",
    );
    let mut parts: Vec<String> = ticket.split('.').map(str::to_owned).collect();
    let mut claims: Value = serde_json::from_slice(&base64_decode(&parts[1])).unwrap();
    claims["sub"] = json!("orginv_forged");
    parts[1] = base64_encode(&serde_json::to_vec(&claims).unwrap());
    expect(
        &ticket_sign_up(&mut srv.browser(), &parts.join("."), &[]).await,
        400,
        "ticket_invalid_code",
    );
    let (_, session) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": ada["id"]})),
        )
        .await;
    let sid = session["id"].as_str().unwrap();
    let (_, token) = srv
        .bapi(d, Method::POST, &format!("/v1/sessions/{sid}/tokens"), None)
        .await;
    expect(
        &ticket_sign_up(&mut srv.browser(), token["jwt"].as_str().unwrap(), &[]).await,
        400,
        "ticket_invalid_code",
    );
    // The strategy without a ticket.
    let answer = srv
        .browser()
        .post("/v1/client/sign_ups", &[("strategy", "ticket")])
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&answer.body), "form_param_missing");

    // Another instance's ticket, used on this one: its keys do not verify it.
    let (_, other_inv) = srv
        .bapi(
            &srv.other,
            Method::POST,
            "/v1/invitations",
            Some(json!({"email_address": "bob@example.com"})),
        )
        .await;
    let foreign = ticket_of(other_inv["url"].as_str().unwrap());
    expect(
        &ticket_sign_up(&mut srv.browser(), &foreign, &[]).await,
        400,
        "ticket_invalid_code",
    );
    let mut on_other = srv.browser_for(&srv.other);
    on_other.origin = "http://localhost:3000".into();
    let answer = on_other
        .get(&format!("/v1/tickets/accept?ticket={ticket}"))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(code(&answer.body), "ticket_invalid_code");

    // Revoked.
    let revoke = format!(
        "/v1/organizations/{org}/invitations/{}/revoke",
        inv["id"].as_str().unwrap()
    );
    let (status, _) = srv.bapi(d, Method::POST, &revoke, None).await;
    assert_eq!(status, StatusCode::OK);
    expect(
        &ticket_sign_up(&mut srv.browser(), &ticket, &[]).await,
        400,
        "organization_invitation_revoked_code",
    );
    let answer = srv
        .browser()
        .post(
            "/v1/client/sign_ins",
            &[("strategy", "ticket"), ("ticket", &ticket)],
        )
        .await;
    assert_eq!(code(&answer.body), "organization_invitation_revoked_code");

    // Expired (with the invitation: 30 days by default; 1 day here).
    let short = invite_to_org(
        &srv,
        &org,
        json!({"email_address": "cy@example.com", "expires_in_days": 1}),
    )
    .await;
    let short_url = short["url"].as_str().unwrap().to_owned();
    srv.clock.advance(12 * 3600 * 1000);
    let mut browser = srv.browser();
    let started = ticket_sign_up(&mut browser, &ticket_of(&short_url), &[]).await;
    assert_eq!(started["status"], 200);
    srv.clock.advance(12 * 3600 * 1000);
    expect(
        &ticket_sign_up(&mut srv.browser(), &ticket_of(&short_url), &[]).await,
        400,
        "ticket_expired_code",
    );
    // A sign-up started before the expiry cannot complete after it.
    let id = started["body"]["response"]["id"].as_str().unwrap();
    let answer = browser
        .send(
            Method::PATCH,
            &format!("/v1/client/sign_ups/{id}"),
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&answer.body), "ticket_expired_code");
    // The expired link still lands, without the ticket, on the normal sign-up.
    srv.service
        .update_instance_settings(
            d,
            concierge_service::instances::SettingsUpdate {
                sign_up_url: Some("http://localhost:3000/sign-up".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (status, location, _) = follow(&short_url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.unwrap(),
        "http://localhost:3000/sign-up?__clerk_status=sign_up"
    );
    // A deleted organization takes its invitations' tickets with it.
    let live = invite_to_org(&srv, &org, json!({"email_address": "dee@example.com"})).await;
    let (status, _) = srv
        .bapi(d, Method::DELETE, &format!("/v1/organizations/{org}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    expect(
        &ticket_sign_up(
            &mut srv.browser(),
            &ticket_of(live["url"].as_str().unwrap()),
            &[],
        )
        .await,
        400,
        "ticket_invalid_code",
    );
    let (status, _, body) = follow(&format!("{}/v1/tickets/accept", srv.frontend_url)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "form_param_missing");
}

async fn accept_link_redirects(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    // No redirect URL and no page configured: nowhere to land.
    let (_, plain) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/invitations",
            Some(json!({"email_address": "a@example.com"})),
        )
        .await;
    let plain_url = plain["url"].as_str().unwrap().to_owned();
    let (status, _, body) = follow(&plain_url).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["meta"]["param_name"], "redirect_url");
    // With the instance's pages: sign-up for new addresses, sign-in for accounts.
    srv.service
        .update_instance_settings(
            d,
            concierge_service::instances::SettingsUpdate {
                sign_up_url: Some("https://app.example.com/sign-up".into()),
                sign_in_url: Some("https://app.example.com/sign-in".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, location, _) = follow(&plain_url).await;
    let ticket = ticket_of(&plain_url);
    let encoded: String = url::form_urlencoded::byte_serialize(ticket.as_bytes()).collect();
    assert_eq!(
        location.unwrap(),
        format!("https://app.example.com/sign-up?__clerk_ticket={encoded}&__clerk_status=sign_up")
    );
    srv.create_user(d, "b@example.com").await;
    let (_, known) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/invitations",
            Some(json!({"email_address": "b@example.com", "ignore_existing": true, "redirect_url": "/join?x=1"})),
        )
        .await;
    let (_, location, _) = follow(known["url"].as_str().unwrap()).await;
    let location = location.unwrap();
    assert!(
        location.starts_with("https://app.example.com/join?x=1&__clerk_ticket="),
        "a path lands on the instance's page origin: {location}"
    );
    assert!(location.ends_with("&__clerk_status=sign_in"));

    // Through the app's proxy (the request names the instance), the same answer.
    let mut browser = srv.browser();
    let answer = browser
        .get(&format!("/v1/tickets/accept?ticket={encoded}"))
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        answer.headers.get("referrer-policy").unwrap(),
        "no-referrer"
    );

    // A redirect URL on an allowed origin (here any localhost port) is honoured; one whose
    // origin stops being allowed is refused rather than handed the ticket.
    let (status, shop) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/invitations",
            Some(json!({"email_address": "c@example.com", "redirect_url": "http://localhost:5173/invited"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shop}");
    let shop_url = shop["url"].as_str().unwrap().to_owned();
    let (_, location, _) = follow(&shop_url).await;
    assert!(location
        .unwrap()
        .starts_with("http://localhost:5173/invited?__clerk_ticket="));
    let mut tx = srv.db.store.begin().await.unwrap();
    let mut instance = tx.get_instance(&d.id).await.unwrap();
    instance.allow_localhost = false;
    tx.update_instance(&instance).await.unwrap();
    tx.commit().await.unwrap();
    let (status, location, body) = follow(&shop_url).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{location:?}");
    assert_eq!(code(&body), "form_param_value_invalid");
    assert_eq!(body["errors"][0]["meta"]["param_name"], "redirect_url");
}

async fn invitation_rate_limits(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    // Instance invitations in bulk: 25 requests per hour per instance.
    let bulk = |n: usize| json!([{ "email_address": format!("bulk{n}@example.com") }]);
    for n in 0..25 {
        let (status, body) = srv
            .bapi(d, Method::POST, "/v1/invitations/bulk", Some(bulk(n)))
            .await;
        assert_eq!(status, StatusCode::OK, "request {n}: {body}");
    }
    let response = srv
        .http()
        .post(format!("{}/v1/invitations/bulk", srv.backend_url))
        .bearer_auth(&d.secret_key)
        .header("content-type", "application/json")
        .body(bulk(25).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=144).contains(&retry), "{retry}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "too_many_requests");
    // Single invitations and other instances have their own budgets; time refills.
    let (status, _) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/invitations",
            Some(json!({"email_address": "one@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = srv
        .bapi(
            &srv.other,
            Method::POST,
            "/v1/invitations/bulk",
            Some(bulk(99)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    srv.clock.advance(144_000);
    let (status, _) = srv
        .bapi(d, Method::POST, "/v1/invitations/bulk", Some(bulk(26)))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Organization invitations in bulk: 50 per hour, shared by both APIs.
    let ada = srv.create_user(d, "ada@example.com").await;
    let org = organization(&srv, &ada, "Acme").await;
    let path = format!("/v1/organizations/{org}/invitations/bulk");
    for n in 0..50 {
        let (status, body) = srv
            .bapi(
                d,
                Method::POST,
                &path,
                Some(json!([{ "email_address": format!("org{n}@example.com") }])),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "request {n}: {body}");
    }
    let (status, body) = srv
        .bapi(
            d,
            Method::POST,
            &path,
            Some(json!([{ "email_address": "late@example.com" }])),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let mut browser = srv.browser();
    let answer = browser
        .post(
            "/v1/client/sign_ins",
            &[
                ("identifier", "ada@example.com"),
                ("password", PASSWORD),
                ("strategy", "password"),
            ],
        )
        .await;
    let sid = answer.body["response"]["created_session_id"]
        .as_str()
        .unwrap();
    let answer = browser
        .post(
            &format!("{path}?_clerk_session_id={sid}"),
            &[
                ("email_address", "late@example.com"),
                ("role", "org:member"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.headers.contains_key("retry-after"));
    // The single-invitation budget is separate.
    let answer = browser
        .post(
            &format!("/v1/organizations/{org}/invitations?_clerk_session_id={sid}"),
            &[
                ("email_address", "late@example.com"),
                ("role", "org:member"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

fn base64_decode(part: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
