//! Verified domains of organizations (wire §6.8, §8.2): the Backend API, the browser side with
//! affiliation verification by emailed code and its permission gates, and enrollment through
//! automatic invitations and suggestions, membership requests, limits and isolation.

use concierge_testkit::{Browser, Db, TestServer, START_MS};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(
    bapi_domains_crud_and_validation,
    browser_domains_and_affiliation_verification,
    automatic_invitations,
    automatic_suggestions_and_membership_requests,
);

const PASSWORD: &str = "correct-horse-battery";

fn code_of(body: &Value) -> &str {
    body["errors"][0]["code"].as_str().unwrap_or_default()
}

fn param_of(body: &Value) -> &str {
    body["errors"][0]["meta"]["param_name"]
        .as_str()
        .unwrap_or_default()
}

/// Creates an organization through the Backend API with `creator` as its admin.
async fn organization(srv: &TestServer, name: &str, creator: &Value) -> String {
    let (status, org) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": name, "created_by": creator["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    org["id"].as_str().unwrap().to_owned()
}

async fn add_member(srv: &TestServer, org: &str, user: &Value) {
    let (status, body) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/organizations/{org}/memberships"),
            Some(json!({"user_id": user["id"], "role": "org:member"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A browser sign-up with an emailed code; returns the browser and the new user's id.
async fn signed_up(srv: &TestServer, email: &str) -> (Browser, String) {
    let mut browser = srv.browser();
    let created = browser
        .post(
            "/v1/client/sign_ups",
            &[("email_address", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.body["response"]["id"].as_str().unwrap().to_owned();
    browser
        .post(
            &format!("/v1/client/sign_ups/{id}/prepare_verification"),
            &[("strategy", "email_code")],
        )
        .await;
    let code = srv.mailed_code(&srv.default, email).await;
    let done = browser
        .post(
            &format!("/v1/client/sign_ups/{id}/attempt_verification"),
            &[("strategy", "email_code"), ("code", &code)],
        )
        .await;
    assert_eq!(done.body["response"]["status"], "complete", "{}", done.body);
    let user = done.body["response"]["created_user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (browser, user)
}

async fn bapi_domain(srv: &TestServer, org: &str, body: Value) -> (StatusCode, Value) {
    srv.bapi(
        &srv.default,
        Method::POST,
        &format!("/v1/organizations/{org}/domains"),
        Some(body),
    )
    .await
}

async fn bapi_domains_crud_and_validation(db: Db) {
    let srv = TestServer::spawn(db).await;
    let ada = srv.create_user(&srv.default, "ada@example.com").await;
    let acme = organization(&srv, "Acme", &ada).await;
    let globex = organization(&srv, "Globex", &ada).await;
    let domains = format!("/v1/organizations/{acme}/domains");

    let (status, domain) = bapi_domain(
        &srv,
        &acme,
        json!({"name": "Acme.Test", "enrollment_mode": "manual_invitation"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{domain}");
    let id = domain["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("orgdmn_"), "{id}");
    assert_eq!(
        domain,
        json!({
            "object": "organization_domain", "id": id, "name": "acme.test",
            "organization_id": acme, "enrollment_mode": "manual_invitation",
            "verification": {"status": "verified", "strategy": "admin", "attempts": 0, "expires_at": null},
            "affiliation_email_address": null,
            "total_pending_invitations": 0, "total_pending_suggestions": 0,
            "created_at": START_MS, "updated_at": START_MS,
        }),
        "verified by default, as @clerk/backend sends it"
    );

    // Validation errors in Clerk's envelope, each naming its field.
    for (body, status, code, param) in [
        (
            json!({"enrollment_mode": "manual_invitation"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_missing",
            "name",
        ),
        (
            json!({"name": "not a domain"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_format_invalid",
            "name",
        ),
        (
            json!({"name": "acme.example", "enrollment_mode": "automatic"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_format_invalid",
            "enrollment_mode",
        ),
        (
            json!({"name": "GMAIL.com", "enrollment_mode": "automatic_invitation"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "organization_domain_common",
            "name",
        ),
        (
            json!({"name": "acme.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "organization_domain_already_exists",
            "name",
        ),
    ] {
        let (got, answer) = bapi_domain(&srv, &acme, body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert_eq!(code_of(&answer), code, "{body}");
        assert_eq!(param_of(&answer), param, "{body}");
    }
    // One organization per domain in an instance; another instance is another namespace.
    let (status, taken) = bapi_domain(&srv, &globex, json!({"name": "acme.test"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code_of(&taken), "organization_domain_already_exists");
    let (_, foreign_org) = srv
        .bapi(
            &srv.other,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Acme elsewhere"})),
        )
        .await;
    let foreign_org = foreign_org["id"].as_str().unwrap();
    let (status, foreign) = srv
        .bapi(
            &srv.other,
            Method::POST,
            &format!("/v1/organizations/{foreign_org}/domains"),
            Some(json!({"name": "acme.test"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{foreign}");

    // Unverified on request; lists newest first, filtered and paged.
    srv.clock.advance(1_000);
    let (_, dev) = bapi_domain(
        &srv,
        &acme,
        json!({"name": "acme.dev", "enrollment_mode": "automatic_suggestion", "verified": false}),
    )
    .await;
    assert_eq!(dev["verification"], Value::Null);
    let dev_id = dev["id"].as_str().unwrap().to_owned();
    let (status, page) = srv.bapi(&srv.default, Method::GET, &domains, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"][0]["id"], dev_id.as_str());
    let (_, filtered) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("{domains}?enrollment_mode=manual_invitation&limit=1"),
            None,
        )
        .await;
    assert_eq!(filtered["total_count"], 1);
    assert_eq!(filtered["data"][0]["id"], id.as_str());
    let (_, second) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("{domains}?limit=1&offset=1"),
            None,
        )
        .await;
    assert_eq!(second["data"][0]["id"], id.as_str());
    let (_, none) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/organizations/{globex}/domains"),
            None,
        )
        .await;
    assert_eq!(none, json!({"data": [], "total_count": 0}));

    // Update mode and verification.
    srv.clock.advance(1_000);
    let (status, updated) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("{domains}/{dev_id}"),
            Some(json!({"enrollment_mode": "automatic_invitation", "verified": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["enrollment_mode"], "automatic_invitation");
    assert_eq!(updated["verification"]["status"], "verified");
    assert_eq!(updated["updated_at"], START_MS + 2_000);
    let (status, bad) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("{domains}/{dev_id}"),
            Some(json!({"enrollment_mode": "sometimes"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(param_of(&bad), "enrollment_mode");
    let (_, unverified) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("{domains}/{dev_id}"),
            Some(json!({"verified": false})),
        )
        .await;
    assert_eq!(unverified["verification"], Value::Null);

    // Tenant isolation: another organization's or instance's domain does not exist here.
    let foreign_id = foreign["id"].as_str().unwrap();
    for (instance, path) in [
        (
            &srv.default,
            format!("/v1/organizations/{globex}/domains/{id}"),
        ),
        (&srv.default, format!("{domains}/{foreign_id}")),
        (
            &srv.other,
            format!("/v1/organizations/{foreign_org}/domains/{id}"),
        ),
        (&srv.default, format!("{domains}/orgdmn_nope")),
    ] {
        let (status, _) = srv
            .bapi(
                instance,
                Method::PATCH,
                &path,
                Some(json!({"enrollment_mode": "manual_invitation"})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let (status, _) = srv.bapi(instance, Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = srv
        .bapi(
            &srv.other,
            Method::GET,
            &format!("/v1/organizations/{acme}/domains"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Delete; the name is free again.
    let (status, deleted) = srv
        .bapi(
            &srv.default,
            Method::DELETE,
            &format!("{domains}/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deleted,
        json!({"object": "organization_domain", "id": id, "deleted": true})
    );
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::DELETE,
            &format!("{domains}/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bapi_domain(&srv, &globex, json!({"name": "acme.test"})).await;
    assert_eq!(status, StatusCode::OK);
}

async fn browser_domains_and_affiliation_verification(db: Db) {
    let srv = TestServer::spawn(db).await;
    let ada = srv.create_user(&srv.default, "ada@example.com").await;
    let bob = srv.create_user(&srv.default, "bob@example.com").await;
    srv.create_user(&srv.default, "cy@example.com").await;
    let acme = organization(&srv, "Acme", &ada).await;
    let globex = organization(&srv, "Globex", &ada).await;
    add_member(&srv, &acme, &bob).await;
    let mut admin = srv.signed_in("ada@example.com").await.0;
    let mut member = srv.signed_in("bob@example.com").await.0;
    let mut outsider = srv.signed_in("cy@example.com").await.0;
    let base = format!("/v1/organizations/{acme}/domains");

    let env = admin.get("/v1/environment").await;
    assert_eq!(
        env.body["organization_settings"]["domains"],
        json!({
            "enabled": true,
            "enrollment_modes": ["manual_invitation", "automatic_invitation", "automatic_suggestion"],
            "default_role": "org:member",
        })
    );

    // An admin adds a domain: unverified until affiliation is proven.
    let created = admin.post(&base, &[("name", "acme.test")]).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let domain = &created.body["response"];
    assert_eq!(domain["object"], "organization_domain");
    assert_eq!(domain["verification"], Value::Null);
    assert_eq!(domain["enrollment_mode"], "manual_invitation");
    assert!(created.body["client"]["sessions"].is_array());
    let id = domain["id"].as_str().unwrap().to_owned();
    let one = format!("{base}/{id}");
    let missing = admin.post(&base, &[("name", "")]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(param_of(&missing.body), "name");
    let common = admin.post(&base, &[("name", "outlook.com")]).await;
    assert_eq!(code_of(&common.body), "organization_domain_common");

    // Members read (org:sys_domains:read) but do not manage; outsiders see nothing.
    let listed = member.get(&format!("{base}?limit=10&offset=0")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["response"]["total_count"], 1);
    assert_eq!(listed.body["response"]["data"][0]["id"], id.as_str());
    let got = member.get(&one).await;
    assert_eq!(got.body["response"]["name"], "acme.test");
    for (method, path, form) in [
        (Method::POST, base.clone(), vec![("name", "acme.dev")]),
        (Method::DELETE, one.clone(), vec![]),
        (
            Method::POST,
            format!("{one}/prepare_affiliation_verification"),
            vec![("affiliation_email_address", "bob@acme.test")],
        ),
        (
            Method::POST,
            format!("{one}/attempt_affiliation_verification"),
            vec![("code", "123456")],
        ),
        (
            Method::POST,
            format!("{one}/update_enrollment_mode"),
            vec![("enrollment_mode", "automatic_invitation")],
        ),
    ] {
        let refused = member.send(method.clone(), &path, &form).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(code_of(&refused.body), "not_allowed_access");
        let hidden = outsider.send(method.clone(), &path, &form).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    assert_eq!(outsider.get(&base).await.status, StatusCode::NOT_FOUND);

    // Tenant isolation: another organization's domain is not reachable through this one.
    let other = admin
        .post(
            &format!("/v1/organizations/{globex}/domains"),
            &[("name", "globex.test")],
        )
        .await;
    let other_id = other.body["response"]["id"].as_str().unwrap();
    for path in [
        format!("{base}/{other_id}"),
        format!("/v1/organizations/{globex}/domains/{id}"),
    ] {
        assert_eq!(
            admin.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        let deleted = admin.send(Method::DELETE, &path, &[]).await;
        assert_eq!(deleted.status, StatusCode::NOT_FOUND, "{path}");
    }

    // Affiliation: a code to an address at the domain, a wrong code counts, the right one verifies.
    let early = admin
        .post(
            &format!("{one}/attempt_affiliation_verification"),
            &[("code", "123456")],
        )
        .await;
    assert_eq!(code_of(&early.body), "verification_missing");
    let elsewhere = admin
        .post(
            &format!("{one}/prepare_affiliation_verification"),
            &[("affiliation_email_address", "it@sub.acme.test")],
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(param_of(&elsewhere.body), "affiliation_email_address");
    let prepared = admin
        .post(
            &format!("{one}/prepare_affiliation_verification"),
            &[("affiliation_email_address", "IT@acme.test")],
        )
        .await;
    assert_eq!(prepared.status, StatusCode::OK, "{}", prepared.body);
    assert_eq!(
        prepared.body["response"]["affiliation_email_address"],
        "it@acme.test"
    );
    assert_eq!(
        prepared.body["response"]["verification"],
        json!({"status": "unverified", "strategy": "email_code", "attempts": 0, "expires_at": START_MS + 600_000})
    );
    let code = srv.mailed_code(&srv.default, "it@acme.test").await;
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let wrong = admin
        .post(
            &format!("{one}/attempt_affiliation_verification"),
            &[("code", wrong_code)],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code_of(&wrong.body), "form_code_incorrect");
    assert_eq!(param_of(&wrong.body), "code");
    let after_wrong = admin.get(&one).await;
    assert_eq!(
        after_wrong.body["response"]["verification"]["attempts"], 1,
        "a wrong code is counted"
    );
    assert_eq!(
        after_wrong.body["response"]["verification"]["status"],
        "unverified"
    );
    let verified = admin
        .post(
            &format!("{one}/attempt_affiliation_verification"),
            &[("code", &code)],
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
    assert_eq!(
        verified.body["response"]["verification"]["status"],
        "verified"
    );
    assert_eq!(
        verified.body["response"]["verification"]["strategy"],
        "email_code"
    );
    let again = admin
        .post(
            &format!("{one}/prepare_affiliation_verification"),
            &[("affiliation_email_address", "it@acme.test")],
        )
        .await;
    assert_eq!(code_of(&again.body), "verification_already_verified");

    // Enrollment mode, then deletion.
    let bad = admin
        .post(
            &format!("{one}/update_enrollment_mode"),
            &[("enrollment_mode", "whenever")],
        )
        .await;
    assert_eq!(param_of(&bad.body), "enrollment_mode");
    let mode = admin
        .post(
            &format!("{one}/update_enrollment_mode"),
            &[
                ("enrollment_mode", "automatic_suggestion"),
                ("delete_pending", "false"),
            ],
        )
        .await;
    assert_eq!(mode.status, StatusCode::OK, "{}", mode.body);
    assert_eq!(
        mode.body["response"]["enrollment_mode"],
        "automatic_suggestion"
    );
    let filtered = admin
        .get(&format!("{base}?enrollment_mode=automatic_suggestion"))
        .await;
    assert_eq!(filtered.body["response"]["total_count"], 1);
    let deleted = admin.send(Method::DELETE, &one, &[]).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(
        deleted.body["response"],
        json!({"object": "organization_domain", "id": id, "deleted": true})
    );
    assert_eq!(admin.get(&one).await.status, StatusCode::NOT_FOUND);
}

/// The pending invitations of `browser`'s user, as `<OrganizationSwitcher/>` lists them.
async fn my_invitations(browser: &mut Browser) -> Value {
    let answer = browser
        .get("/v1/me/organization_invitations?status=pending&limit=10&offset=0")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["response"].clone()
}

async fn domain_totals(srv: &TestServer, org: &str) -> (i64, i64) {
    let (_, page) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/organizations/{org}/domains"),
            None,
        )
        .await;
    let d = &page["data"][0];
    (
        d["total_pending_invitations"].as_i64().unwrap(),
        d["total_pending_suggestions"].as_i64().unwrap(),
    )
}

async fn automatic_invitations(db: Db) {
    let srv = TestServer::spawn(db).await;
    let ada = srv.create_user(&srv.default, "ada@example.com").await;
    srv.create_user(&srv.default, "eve@acme.test").await;
    let old_member = srv.create_user(&srv.default, "old@acme.test").await;
    srv.create_user(&srv.default, "bob@example.com").await;
    let acme = organization(&srv, "Acme", &ada).await;
    add_member(&srv, &acme, &old_member).await;

    // A verified domain in automatic_invitation mode invites existing users who are not members.
    let (status, domain) = bapi_domain(
        &srv,
        &acme,
        json!({"name": "acme.test", "enrollment_mode": "automatic_invitation"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{domain}");
    assert_eq!(
        domain["total_pending_invitations"], 1,
        "eve, not the member"
    );
    let domain_id = domain["id"].as_str().unwrap().to_owned();
    let mut eve_browser = srv.signed_in("eve@acme.test").await.0;
    let invitations = my_invitations(&mut eve_browser).await;
    assert_eq!(invitations["total_count"], 1);
    let invitation = &invitations["data"][0];
    assert_eq!(
        invitation["role"], "org:member",
        "the instance's default role"
    );
    assert_eq!(invitation["email_address"], "eve@acme.test");
    assert_eq!(invitation["public_organization_data"]["id"], acme.as_str());
    let mut old_browser = srv.signed_in("old@acme.test").await.0;
    assert_eq!(my_invitations(&mut old_browser).await["total_count"], 0);

    // Eve accepts with the ordinary accept endpoint and becomes a member.
    let accepted = eve_browser
        .post(
            &format!(
                "/v1/me/organization_invitations/{}/accept",
                invitation["id"].as_str().unwrap()
            ),
            &[],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    let memberships = &accepted.body["client"]["sessions"][0]["user"]["organization_memberships"];
    assert_eq!(memberships[0]["organization"]["id"], acme.as_str());
    assert_eq!(memberships[0]["role"], "org:member");
    assert_eq!(domain_totals(&srv, &acme).await, (0, 0));

    // A sign-up at the domain is invited at once.
    let (mut newcomer, _) = signed_up(&srv, "new@acme.test").await;
    let invited = my_invitations(&mut newcomer).await;
    assert_eq!(invited["total_count"], 1);
    assert_eq!(
        invited["data"][0]["public_organization_data"]["name"],
        "Acme"
    );

    // So is a user who verifies a second address at the domain in /v1/me.
    let mut bob = srv.signed_in("bob@example.com").await.0;
    let added = bob
        .post(
            "/v1/me/email_addresses",
            &[("email_address", "bob@acme.test")],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(
        my_invitations(&mut bob).await["total_count"],
        0,
        "not verified yet"
    );
    let email_id = added.body["response"]["id"].as_str().unwrap().to_owned();
    bob.post(
        &format!("/v1/me/email_addresses/{email_id}/prepare_verification"),
        &[("strategy", "email_code")],
    )
    .await;
    let code = srv.mailed_code(&srv.default, "bob@acme.test").await;
    let verified = bob
        .post(
            &format!("/v1/me/email_addresses/{email_id}/attempt_verification"),
            &[("code", &code)],
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
    assert_eq!(my_invitations(&mut bob).await["total_count"], 1);
    assert_eq!(domain_totals(&srv, &acme).await, (2, 0));

    // Switching to manual with delete_pending withdraws them (the admin, in the browser).
    let mut admin = srv.signed_in("ada@example.com").await.0;
    let one = format!("/v1/organizations/{acme}/domains/{domain_id}");
    let manual = admin
        .post(
            &format!("{one}/update_enrollment_mode"),
            &[
                ("enrollment_mode", "manual_invitation"),
                ("delete_pending", "true"),
            ],
        )
        .await;
    assert_eq!(manual.status, StatusCode::OK, "{}", manual.body);
    assert_eq!(manual.body["response"]["total_pending_invitations"], 0);
    assert_eq!(my_invitations(&mut newcomer).await["total_count"], 0);
    assert_eq!(my_invitations(&mut bob).await["total_count"], 0);

    // Back to automatic: existing users are invited again; deleting the domain withdraws them.
    let automatic = admin
        .post(
            &format!("{one}/update_enrollment_mode"),
            &[("enrollment_mode", "automatic_invitation")],
        )
        .await;
    assert_eq!(automatic.body["response"]["total_pending_invitations"], 2);
    assert_eq!(my_invitations(&mut newcomer).await["total_count"], 1);
    let deleted = admin.send(Method::DELETE, &one, &[]).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(my_invitations(&mut newcomer).await["total_count"], 0);
    assert_eq!(my_invitations(&mut bob).await["total_count"], 0);
    let (_, listed) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/organizations/{acme}/invitations?status=revoked"),
            None,
        )
        .await;
    assert_eq!(
        listed["total_count"], 4,
        "withdrawn invitations are revoked"
    );

    // An unverified domain enrolls nobody.
    let (_, unverified) = bapi_domain(
        &srv,
        &acme,
        json!({"name": "acme.test", "enrollment_mode": "automatic_invitation", "verified": false}),
    )
    .await;
    assert_eq!(unverified["total_pending_invitations"], 0);
    let (_, _) = signed_up(&srv, "late@acme.test").await;
    assert_eq!(domain_totals(&srv, &acme).await, (0, 0));
}

async fn suggestions(browser: &mut Browser, query: &str) -> Value {
    let answer = browser
        .get(&format!("/v1/me/organization_suggestions{query}"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["response"].clone()
}

async fn automatic_suggestions_and_membership_requests(db: Db) {
    let srv = TestServer::spawn(db).await;
    let ada = srv.create_user(&srv.default, "ada@example.com").await;
    let bob = srv.create_user(&srv.default, "bob@example.com").await;
    srv.create_user(&srv.default, "zed@acme.test").await;
    let acme = organization(&srv, "Acme", &ada).await;
    let globex = organization(&srv, "Globex", &ada).await;
    add_member(&srv, &acme, &bob).await;
    let (_, domain) = bapi_domain(
        &srv,
        &acme,
        json!({"name": "acme.test", "enrollment_mode": "automatic_suggestion"}),
    )
    .await;
    assert_eq!(domain["total_pending_suggestions"], 1);

    // Zed sees the suggestion (clerk-js's OrganizationSuggestion shape).
    let mut zed = srv.signed_in("zed@acme.test").await.0;
    let page = suggestions(&mut zed, "?limit=10&offset=0").await;
    assert_eq!(page["total_count"], 1);
    let suggestion = page["data"][0].clone();
    let suggestion_id = suggestion["id"].as_str().unwrap().to_owned();
    assert!(suggestion_id.starts_with("orgsugg_"));
    assert_eq!(suggestion["object"], "organization_suggestion");
    assert_eq!(suggestion["status"], "pending");
    assert_eq!(
        suggestion["public_organization_data"],
        json!({"id": acme, "name": "Acme", "slug": "acme", "image_url": "", "has_image": false})
    );
    assert_eq!(suggestion["created_at"], START_MS);
    assert_eq!(
        suggestions(&mut zed, "?status=accepted").await["total_count"],
        0
    );
    let bad_status = zed
        .get("/v1/me/organization_suggestions?status=maybe")
        .await;
    assert_eq!(param_of(&bad_status.body), "status");
    let mut bob_browser = srv.signed_in("bob@example.com").await.0;
    assert_eq!(suggestions(&mut bob_browser, "").await["total_count"], 0);
    let stolen = bob_browser
        .post(
            &format!("/v1/me/organization_suggestions/{suggestion_id}/accept"),
            &[],
        )
        .await;
    assert_eq!(
        stolen.status,
        StatusCode::NOT_FOUND,
        "someone else's suggestion"
    );

    // Accepting asks to join.
    let accepted = zed
        .post(
            &format!("/v1/me/organization_suggestions/{suggestion_id}/accept"),
            &[],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.body["response"]["status"], "accepted");
    let twice = zed
        .post(
            &format!("/v1/me/organization_suggestions/{suggestion_id}/accept"),
            &[],
        )
        .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&twice.body), "organization_suggestion_not_pending");
    assert_eq!(
        suggestions(&mut zed, "?status=pending&status=accepted").await["data"][0]["status"],
        "accepted"
    );

    // The admin sees and accepts the request; members may not.
    let requests = format!("/v1/organizations/{acme}/membership_requests");
    let mut admin = srv.signed_in("ada@example.com").await.0;
    let listed = admin.get(&format!("{requests}?status=pending")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["response"]["total_count"], 1);
    let request = listed.body["response"]["data"][0].clone();
    assert_eq!(request["object"], "organization_membership_request");
    assert_eq!(request["organization_id"], acme.as_str());
    assert_eq!(request["status"], "pending");
    assert_eq!(request["public_user_data"]["identifier"], "zed@acme.test");
    let request_id = request["id"].as_str().unwrap().to_owned();
    let refused = bob_browser.get(&requests).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    for action in ["accept", "reject"] {
        let refused = bob_browser
            .post(&format!("{requests}/{request_id}/{action}"), &[])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{action}");
        assert_eq!(code_of(&refused.body), "not_allowed_access");
        // Through another organization the request does not exist.
        let elsewhere = admin
            .post(
                &format!("/v1/organizations/{globex}/membership_requests/{request_id}/{action}"),
                &[],
            )
            .await;
        assert_eq!(elsewhere.status, StatusCode::NOT_FOUND, "{action}");
    }
    let let_in = admin
        .post(&format!("{requests}/{request_id}/accept"), &[])
        .await;
    assert_eq!(let_in.status, StatusCode::OK, "{}", let_in.body);
    assert_eq!(let_in.body["response"]["status"], "accepted");
    let again = admin
        .post(&format!("{requests}/{request_id}/accept"), &[])
        .await;
    assert_eq!(
        code_of(&again.body),
        "organization_membership_request_not_pending"
    );
    let mine = zed.get("/v1/me/organization_memberships").await;
    assert_eq!(mine.body["response"]["total_count"], 1);
    assert_eq!(
        mine.body["response"]["data"][0]["organization"]["id"],
        acme.as_str()
    );
    assert_eq!(mine.body["response"]["data"][0]["role"], "org:member");
    assert_eq!(
        suggestions(&mut zed, "").await["total_count"],
        0,
        "a joined organization is no longer suggested"
    );

    // A sign-up at the domain gets a suggestion; the admin rejects the request.
    let (mut yan, _) = signed_up(&srv, "yan@acme.test").await;
    let yan_page = suggestions(&mut yan, "?status=pending").await;
    assert_eq!(yan_page["total_count"], 1);
    let yan_suggestion = yan_page["data"][0]["id"].as_str().unwrap().to_owned();
    yan.post(
        &format!("/v1/me/organization_suggestions/{yan_suggestion}/accept"),
        &[],
    )
    .await;
    let pending = admin.get(&format!("{requests}?status=pending")).await;
    let yan_request = pending.body["response"]["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rejected = admin
        .post(&format!("{requests}/{yan_request}/reject"), &[])
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.body);
    assert_eq!(rejected.body["response"]["status"], "rejected");
    let listed = admin.get(&format!("{requests}?status=rejected")).await;
    assert_eq!(listed.body["response"]["total_count"], 1);
    assert_eq!(
        yan.get("/v1/me/organization_memberships").await.body["response"]["total_count"],
        0
    );

    // Membership limits still apply to accepted requests.
    let (mut xia, _) = signed_up(&srv, "xia@acme.test").await;
    let xia_suggestion = suggestions(&mut xia, "").await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    xia.post(
        &format!("/v1/me/organization_suggestions/{xia_suggestion}/accept"),
        &[],
    )
    .await;
    srv.bapi(
        &srv.default,
        Method::PATCH,
        &format!("/v1/organizations/{acme}"),
        Some(json!({"max_allowed_memberships": 3})),
    )
    .await;
    let pending = admin.get(&format!("{requests}?status=pending")).await;
    let xia_request = pending.body["response"]["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let full = admin
        .post(&format!("{requests}/{xia_request}/accept"), &[])
        .await;
    assert_eq!(full.status, StatusCode::FORBIDDEN);
    assert_eq!(
        code_of(&full.body),
        "organization_membership_quota_exceeded"
    );

    // Deleting the domain removes pending suggestions; accepted ones stay answered.
    let (mut wu, _) = signed_up(&srv, "wu@acme.test").await;
    assert_eq!(suggestions(&mut wu, "").await["total_count"], 1);
    let domain_id = domain["id"].as_str().unwrap();
    srv.bapi(
        &srv.default,
        Method::DELETE,
        &format!("/v1/organizations/{acme}/domains/{domain_id}"),
        None,
    )
    .await;
    assert_eq!(suggestions(&mut wu, "").await["total_count"], 0);
    assert_eq!(suggestions(&mut xia, "").await["total_count"], 1);
}
