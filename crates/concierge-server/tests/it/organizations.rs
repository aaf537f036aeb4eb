//! Organizations and memberships through the Backend API (wire §8.2), the active organization
//! of a browser session, and the v2 `o` claim of its tokens (wire §2.2, §2.4).

use concierge_testkit::{claims, Browser, Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(
    organizations_crud,
    memberships_and_roles,
    active_organization_in_tokens,
    browser_organizations_and_system_permissions,
    custom_roles_and_permissions_in_tokens,
    custom_permissions_on_builtin_roles,
    invitations_by_email,
    membership_and_creation_limits,
    handshake_switches_the_active_organization,
);

/// Makes `org_id` the session's active organization (`setActive`); the claims of the token the
/// answer carries.
async fn activate(browser: &mut Browser, sid: &str, org_id: &str) -> Value {
    let touched = browser
        .post(
            &format!("/v1/client/sessions/{sid}/touch"),
            &[("active_organization_id", org_id)],
        )
        .await;
    claims(
        touched.body["response"]["last_active_token"]["jwt"]
            .as_str()
            .unwrap(),
    )
}

/// The claims of a freshly minted session token (the browser's refresh).
async fn fresh_claims(browser: &mut Browser, sid: &str) -> Value {
    let answer = browser
        .post(&format!("/v1/client/sessions/{sid}/tokens"), &[])
        .await;
    claims(answer.body["jwt"].as_str().unwrap())
}

async fn organizations_crud(db: Db) {
    let srv = TestServer::spawn(db).await;
    let ada = srv.create_user(&srv.default, "ada@example.com").await;
    let ada_id = ada["id"].as_str().unwrap();
    let (status, org) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Acme Inc.", "created_by": ada_id, "public_metadata": {"plan": "pro"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["object"], "organization");
    assert!(org["id"].as_str().unwrap().starts_with("org_"));
    assert_eq!(org["slug"], "acme-inc", "slug from the name");
    assert_eq!(org["members_count"], 1, "the creator is a member");
    assert_eq!(org["created_by"], ada_id);
    assert_eq!(org["max_allowed_memberships"], 5, "the instance default");
    let id = org["id"].as_str().unwrap().to_owned();

    // Same name again: a free slug; an explicit taken slug is refused.
    let (_, second) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Acme Inc."})),
        )
        .await;
    assert_eq!(second["slug"], "acme-inc-2");
    let (status, body) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Other", "slug": "acme-inc"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "form_identifier_exists");
    assert_eq!(body["errors"][0]["meta"]["param_name"], "slug");
    let (status, body) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"slug": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["meta"]["param_name"], "name");

    // Read by id and by slug; list with a query and member counts.
    let (_, by_slug) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/organizations/acme-inc",
            None,
        )
        .await;
    assert_eq!(by_slug["id"], id.as_str());
    let (_, page) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/organizations?query=acme&include_members_count=true&limit=1",
            None,
        )
        .await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert!(page["data"][0]["members_count"].is_number());

    // Update, metadata merge then replace.
    let (_, updated) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("/v1/organizations/{id}"),
            Some(json!({"name": "Acme", "slug": "acme", "max_allowed_memberships": 5})),
        )
        .await;
    assert_eq!(
        (updated["name"].as_str(), updated["slug"].as_str()),
        (Some("Acme"), Some("acme"))
    );
    let (_, merged) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("/v1/organizations/{id}/metadata"),
            Some(json!({"public_metadata": {"seats": 3}, "private_metadata": {"crm": "x1"}})),
        )
        .await;
    assert_eq!(
        merged["public_metadata"],
        json!({"plan": "pro", "seats": 3})
    );
    assert_eq!(merged["private_metadata"], json!({"crm": "x1"}));
    let (_, replaced) = srv
        .bapi(
            &srv.default,
            Method::PUT,
            &format!("/v1/organizations/{id}/metadata"),
            Some(json!({"public_metadata": {"seats": 4}})),
        )
        .await;
    assert_eq!(replaced["public_metadata"], json!({"seats": 4}));

    // Tenant isolation, then delete.
    let (status, _) = srv
        .bapi(
            &srv.other,
            Method::GET,
            &format!("/v1/organizations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, deleted) = srv
        .bapi(
            &srv.default,
            Method::DELETE,
            &format!("/v1/organizations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deleted,
        json!({"object": "organization", "id": id, "deleted": true})
    );
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/organizations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn memberships_and_roles(db: Db) {
    let srv = TestServer::spawn(db).await;
    let ada = srv.create_user(&srv.default, "ada@example.com").await;
    let bob = srv.create_user(&srv.default, "bob@example.com").await;
    let cy = srv.create_user(&srv.default, "cy@example.com").await;
    let (ada_id, bob_id, cy_id) = (
        ada["id"].as_str().unwrap(),
        bob["id"].as_str().unwrap(),
        cy["id"].as_str().unwrap(),
    );
    let (_, org) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Acme", "created_by": ada_id, "max_allowed_memberships": 2})),
        )
        .await;
    let id = org["id"].as_str().unwrap().to_owned();
    let members = format!("/v1/organizations/{id}/memberships");

    let (status, membership) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &members,
            Some(json!({"user_id": bob_id, "role": "org:member"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{membership}");
    assert_eq!(membership["object"], "organization_membership");
    assert_eq!(membership["role"], "org:member");
    assert_eq!(membership["role_name"], "Member");
    assert_eq!(membership["organization"]["id"], id.as_str());
    assert_eq!(membership["public_user_data"]["user_id"], bob_id);
    assert_eq!(
        membership["public_user_data"]["identifier"],
        "bob@example.com"
    );
    assert!(membership["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("org:sys_memberships:read")));

    let (status, body) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &members,
            Some(json!({"user_id": bob_id, "role": "org:member"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0]["code"],
        "already_a_member_in_organization"
    );
    let (status, body) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &members,
            Some(json!({"user_id": cy_id, "role": "org:member"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "limit of 2 reached");
    assert_eq!(
        body["errors"][0]["code"],
        "organization_membership_quota_exceeded"
    );
    let (status, body) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &members,
            Some(json!({"user_id": cy_id, "role": "org:owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["meta"]["param_name"], "role");

    let (_, page) = srv.bapi(&srv.default, Method::GET, &members, None).await;
    assert_eq!(page["total_count"], 2);
    let (_, admins) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("{members}?role=org:admin"),
            None,
        )
        .await;
    assert_eq!(admins["total_count"], 1);
    assert_eq!(admins["data"][0]["public_user_data"]["user_id"], ada_id);
    assert_eq!(
        admins["data"][0]["permissions"].as_array().unwrap().len(),
        8,
        "admins hold every system permission"
    );

    let (_, promoted) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("{members}/{bob_id}"),
            Some(json!({"role": "org:admin"})),
        )
        .await;
    assert_eq!(promoted["role"], "org:admin");
    let (_, with_meta) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("{members}/{bob_id}/metadata"),
            Some(json!({"public_metadata": {"team": "red"}})),
        )
        .await;
    assert_eq!(with_meta["public_metadata"], json!({"team": "red"}));

    let (_, of_user) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/users/{bob_id}/organization_memberships"),
            None,
        )
        .await;
    assert_eq!(of_user["total_count"], 1);
    let (_, members_of) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/users?organization_id={id}"),
            None,
        )
        .await;
    let mut ids: Vec<&str> = members_of
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = vec![ada_id, bob_id];
    expected.sort_unstable();
    assert_eq!(ids, expected, "users filtered by organization");
    let (_, count) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/users/count?organization_id={id}"),
            None,
        )
        .await;
    assert_eq!(count["total_count"], 2);
    let (_, all) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/organization_memberships",
            None,
        )
        .await;
    assert_eq!(all["total_count"], 2);
    let (_, none) = srv
        .bapi(
            &srv.other,
            Method::GET,
            "/v1/organization_memberships",
            None,
        )
        .await;
    assert_eq!(none["total_count"], 0);

    let (status, removed) = srv
        .bapi(
            &srv.default,
            Method::DELETE,
            &format!("{members}/{bob_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(removed["public_user_data"]["user_id"], bob_id);
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::DELETE,
            &format!("{members}/{bob_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn active_organization_in_tokens(db: Db) {
    let srv = TestServer::spawn(db).await;
    let ada = srv.create_user(&srv.default, "ada@example.com").await;
    let ada_id = ada["id"].as_str().unwrap();
    let (_, org) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Acme", "created_by": ada_id})),
        )
        .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let (_, foreign) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Globex"})),
        )
        .await;

    let mut browser = srv.browser();
    let signed = browser
        .post(
            "/v1/client/sign_ins",
            &[
                ("identifier", "ada@example.com"),
                ("password", "correct-horse-battery"),
                ("strategy", "password"),
            ],
        )
        .await;
    let sid = signed.body["response"]["created_session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let memberships = &signed.body["client"]["sessions"][0]["user"]["organization_memberships"];
    assert_eq!(memberships[0]["organization"]["id"], org_id.as_str());
    assert!(
        memberships[0]["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("org:sys_memberships:manage")),
        "FAPI memberships list system permissions for the components"
    );
    assert!(memberships[0]["organization"]
        .get("private_metadata")
        .is_none());
    let token = claims(
        signed.body["client"]["sessions"][0]["last_active_token"]["jwt"]
            .as_str()
            .unwrap(),
    );
    assert!(token.get("o").is_none(), "personal workspace at first");

    // setActive({organization}): touch, then tokens with organization_id.
    let touched = browser
        .post(
            &format!("/v1/client/sessions/{sid}/touch"),
            &[
                ("active_organization_id", &org_id),
                ("intent", "select_org"),
            ],
        )
        .await;
    assert_eq!(touched.status, StatusCode::OK, "{}", touched.body);
    assert_eq!(
        touched.body["response"]["last_active_organization_id"],
        org_id.as_str()
    );
    let jwt = touched.body["response"]["last_active_token"]["jwt"]
        .as_str()
        .unwrap();
    assert_eq!(
        claims(jwt)["o"],
        json!({"id": org_id, "slg": "acme", "rol": "admin"})
    );

    // A role change reaches the next token; system permissions never do.
    srv.bapi(
        &srv.default,
        Method::PATCH,
        &format!("/v1/organizations/{org_id}/memberships/{ada_id}"),
        Some(json!({"role": "org:member"})),
    )
    .await;
    let answer = browser
        .post(
            &format!("/v1/client/sessions/{sid}/tokens"),
            &[("organization_id", &org_id)],
        )
        .await;
    let o = claims(answer.body["jwt"].as_str().unwrap())["o"].clone();
    assert_eq!(o["rol"], "member");
    assert!(o.get("per").is_none() && o.get("fpm").is_none());

    // Personal workspace (empty id), a foreign organization (refused), a removed membership.
    let answer = browser
        .post(
            &format!("/v1/client/sessions/{sid}/tokens"),
            &[("organization_id", "")],
        )
        .await;
    assert!(claims(answer.body["jwt"].as_str().unwrap())
        .get("o")
        .is_none());
    let answer = browser
        .post(
            &format!("/v1/client/sessions/{sid}/touch"),
            &[("active_organization_id", foreign["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    browser
        .post(
            &format!("/v1/client/sessions/{sid}/touch"),
            &[("active_organization_id", "acme")],
        )
        .await;
    srv.bapi(
        &srv.default,
        Method::DELETE,
        &format!("/v1/organizations/{org_id}/memberships/{ada_id}"),
        None,
    )
    .await;
    let answer = browser
        .post(&format!("/v1/client/sessions/{sid}/tokens"), &[])
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        claims(answer.body["jwt"].as_str().unwrap())
            .get("o")
            .is_none(),
        "no longer a member"
    );
}

async fn browser_organizations_and_system_permissions(db: Db) {
    let srv = TestServer::spawn(db).await;
    srv.create_user(&srv.default, "ada@example.com").await;
    let bob = srv.create_user(&srv.default, "bob@example.com").await;
    let cy = srv.create_user(&srv.default, "cy@example.com").await;
    let (bob_id, cy_id) = (bob["id"].as_str().unwrap(), cy["id"].as_str().unwrap());
    let (mut ada, ada_sid) = srv.signed_in("ada@example.com").await;
    let q = format!("?_clerk_session_id={ada_sid}");
    let env = ada.get("/v1/environment").await;
    assert_eq!(env.body["organization_settings"]["enabled"], true);

    // <CreateOrganization/>: the creator is admin, and the client lists the membership.
    let created = ada
        .post(
            &format!("/v1/organizations{q}"),
            &[("name", "Acme"), ("slug", "acme")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let org_id = created.body["response"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["response"]["members_count"], 1);
    assert!(created.body["response"].get("private_metadata").is_none());
    let memberships = &created.body["client"]["sessions"][0]["user"]["organization_memberships"];
    assert_eq!(memberships[0]["role"], "org:admin");
    let base = format!("/v1/organizations/{org_id}");

    // The admin adds members; lists them, the roles and (empty) invitations.
    for user in [bob_id, cy_id] {
        let added = ada
            .post(
                &format!("{base}/memberships{q}"),
                &[("user_id", user), ("role", "org:member")],
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    }
    let page = ada
        .get(&format!(
            "{base}/memberships{q}&limit=10&offset=0&paginated=true"
        ))
        .await;
    assert_eq!(page.body["response"]["total_count"], 3);
    assert!(
        page.body["client"]["sessions"].is_array(),
        "the client comes along"
    );
    let roles = ada.get(&format!("{base}/roles{q}")).await;
    let keys: Vec<&str> = roles.body["response"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["org:admin", "org:member"]);
    let invitations = ada
        .get(&format!("{base}/invitations{q}&status=pending"))
        .await;
    assert_eq!(
        invitations.body["response"],
        json!({"data": [], "total_count": 0})
    );

    // A member cannot manage members or the profile; they can leave.
    let (mut bob_browser, bob_sid) = srv.signed_in("bob@example.com").await;
    let bq = format!("?_clerk_session_id={bob_sid}");
    let mine = bob_browser
        .get(&format!(
            "/v1/me/organization_memberships{bq}&limit=10&offset=0"
        ))
        .await;
    assert_eq!(mine.body["response"]["total_count"], 1);
    assert_eq!(
        mine.body["response"]["data"][0]["organization"]["slug"],
        "acme"
    );
    for (method, path, form) in [
        (
            Method::POST,
            format!("{base}/memberships{bq}"),
            vec![("user_id", cy_id), ("role", "org:member")],
        ),
        (
            Method::PATCH,
            format!("{base}/memberships/{cy_id}{bq}"),
            vec![("role", "org:admin")],
        ),
        (
            Method::DELETE,
            format!("{base}/memberships/{cy_id}{bq}"),
            vec![],
        ),
        (
            Method::PATCH,
            format!("{base}{bq}"),
            vec![("name", "Hijacked")],
        ),
        (Method::DELETE, format!("{base}{bq}"), vec![]),
    ] {
        let answer = bob_browser.send(method.clone(), &path, &form).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            answer.body
        );
        assert_eq!(answer.body["errors"][0]["code"], "not_allowed_access");
    }
    let members = bob_browser.get(&format!("{base}/memberships{bq}")).await;
    assert_eq!(
        members.status,
        StatusCode::OK,
        "members may read the member list"
    );

    // The last admin can be neither demoted nor removed, and cannot leave.
    let ada_id = memberships[0]["public_user_data"]["user_id"]
        .as_str()
        .unwrap();
    let demote = ada
        .send(
            Method::PATCH,
            &format!("{base}/memberships/{ada_id}{q}"),
            &[("role", "org:member")],
        )
        .await;
    assert_eq!(demote.status, StatusCode::FORBIDDEN);
    assert_eq!(
        demote.body["errors"][0]["code"],
        "organization_minimum_permissions_needed"
    );
    let leave = ada
        .send(
            Method::DELETE,
            &format!("/v1/me/organization_memberships/{org_id}{q}"),
            &[],
        )
        .await;
    assert_eq!(
        leave.body["errors"][0]["code"],
        "organization_minimum_permissions_needed"
    );
    // With a second admin, the first may leave.
    ada.send(
        Method::PATCH,
        &format!("{base}/memberships/{bob_id}{q}"),
        &[("role", "org:admin")],
    )
    .await;
    // Two admins demoting each other at the same moment: the rules are checked in the writing
    // transaction with the organization locked, so one change wins, the other is refused (its
    // author is no longer an admin) and the organization keeps an admin.
    let demote = [("role", "org:member")];
    let (bob_path, ada_path) = (
        format!("{base}/memberships/{bob_id}{q}"),
        format!("{base}/memberships/{ada_id}{bq}"),
    );
    let (ada_demotes_bob, bob_demotes_ada) = tokio::join!(
        ada.send(Method::PATCH, &bob_path, &demote),
        bob_browser.send(Method::PATCH, &ada_path, &demote),
    );
    let statuses = [ada_demotes_bob.status, bob_demotes_ada.status];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::FORBIDDEN),
        "{} / {}",
        ada_demotes_bob.body,
        bob_demotes_ada.body
    );
    let (winner, winner_q, loser_id) = if ada_demotes_bob.status == StatusCode::OK {
        (&mut ada, &q, bob_id)
    } else {
        (&mut bob_browser, &bq, ada_id)
    };
    let admins = winner
        .get(&format!(
            "{base}/memberships{winner_q}&role=org:admin&paginated=true"
        ))
        .await;
    assert_eq!(admins.body["response"]["total_count"], 1, "{}", admins.body);
    let promoted = winner
        .send(
            Method::PATCH,
            &format!("{base}/memberships/{loser_id}{winner_q}"),
            &[("role", "org:admin")],
        )
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);
    let leave = ada
        .send(
            Method::DELETE,
            &format!("/v1/me/organization_memberships/{org_id}{q}"),
            &[],
        )
        .await;
    assert_eq!(leave.status, StatusCode::OK, "{}", leave.body);
    assert_eq!(
        leave.body["client"]["sessions"][0]["user"]["organization_memberships"],
        json!([])
    );
    let gone = ada.get(&format!("{base}{q}")).await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "non-members do not see the organization"
    );

    // The new admin renames and deletes it.
    let renamed = bob_browser
        .send(Method::PATCH, &format!("{base}{bq}"), &[("name", "Acme 2")])
        .await;
    assert_eq!(renamed.body["response"]["name"], "Acme 2");
    let deleted = bob_browser
        .send(Method::DELETE, &format!("{base}{bq}"), &[])
        .await;
    assert_eq!(deleted.body["response"]["deleted"], true);
}

async fn custom_roles_and_permissions_in_tokens(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    for key in [
        "org:reports:export",
        "org:reports:read",
        "org:posts:publish",
    ] {
        let (status, body) = srv
            .bapi(
                d,
                Method::POST,
                "/v1/organization_permissions",
                Some(json!({"key": key, "name": key})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["type"], "user");
    }
    let (status, body) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organization_permissions",
            Some(json!({"key": "org:reports:read"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "form_identifier_exists");
    let (status, _) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organization_permissions",
            Some(json!({"key": "org:sys_x:read"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "system names are reserved"
    );

    let (status, role) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organization_roles",
            Some(json!({"key": "org:analyst", "name": "Analyst", "permissions": ["org:reports:export", "org:reports:read"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    let role_id = role["id"].as_str().unwrap().to_owned();
    assert_eq!(role["permissions"].as_array().unwrap().len(), 2);
    let (_, roles) = srv
        .bapi(d, Method::GET, "/v1/organization_roles", None)
        .await;
    let keys: Vec<&str> = roles["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["org:admin", "org:member", "org:analyst"]);
    let (status, _) = srv
        .bapi(
            d,
            Method::PATCH,
            "/v1/organization_roles/org:admin",
            Some(json!({"name": "Boss"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "built-in roles are fixed");

    let ada = srv.create_user(d, "ada@example.com").await;
    let bob = srv.create_user(d, "bob@example.com").await;
    let (_, org) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Acme", "created_by": ada["id"]})),
        )
        .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let (status, membership) = srv
        .bapi(
            d,
            Method::POST,
            &format!("/v1/organizations/{org_id}/memberships"),
            Some(json!({"user_id": bob["id"], "role": "org:analyst"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{membership}");
    assert_eq!(membership["role_name"], "Analyst");
    assert_eq!(
        membership["permissions"],
        json!(["org:reports:export", "org:reports:read"])
    );

    let (mut browser, sid) = srv.signed_in("bob@example.com").await;
    let token = activate(&mut browser, &sid, &org_id).await;
    assert_eq!(token["o"]["rol"], "analyst");
    assert_eq!(token["o"]["per"], "export,read");
    assert_eq!(token["o"]["fpm"], "3");
    assert_eq!(token["fea"], "o:reports");

    // A permission added to the role reaches the next token.
    let (status, _) = srv
        .bapi(
            d,
            Method::POST,
            &format!("/v1/organization_roles/{role_id}/permissions/org:posts:publish"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = fresh_claims(&mut browser, &sid).await;
    assert_eq!(token["fea"], "o:reports,o:posts");
    assert_eq!(token["o"]["per"], "export,read,publish");
    assert_eq!(token["o"]["fpm"], "3,4");

    // A role in use cannot be deleted; a deleted permission leaves every role.
    let (status, _) = srv
        .bapi(
            d,
            Method::DELETE,
            &format!("/v1/organization_roles/{role_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    srv.bapi(
        d,
        Method::DELETE,
        "/v1/organization_permissions/org:reports:export",
        None,
    )
    .await;
    let (_, role) = srv
        .bapi(
            d,
            Method::GET,
            &format!("/v1/organization_roles/{role_id}"),
            None,
        )
        .await;
    let keys: Vec<&str> = role["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["org:reports:read", "org:posts:publish"]);

    // Instance settings: the creator's role must exist; organizations then start with it.
    use concierge_service::instances::SettingsUpdate;
    let refused = srv
        .service
        .update_instance_settings(
            d,
            SettingsUpdate {
                organization_creator_role: Some("org:nope".into()),
                ..SettingsUpdate::default()
            },
        )
        .await;
    assert!(refused.is_err());
    srv.service
        .update_instance_settings(
            d,
            SettingsUpdate {
                organization_creator_role: Some("org:analyst".into()),
                ..SettingsUpdate::default()
            },
        )
        .await
        .unwrap();
    let env = browser.get("/v1/environment").await;
    assert_eq!(
        env.body["organization_settings"]["creator_role"],
        "org:analyst"
    );
    let (_, second) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Beta", "created_by": bob["id"]})),
        )
        .await;
    let (_, members) = srv
        .bapi(
            d,
            Method::GET,
            &format!(
                "/v1/organizations/{}/memberships",
                second["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(members["data"][0]["role"], "org:analyst");
}

/// Keys of a role object's `permissions`.
fn permission_keys(role: &Value) -> Vec<&str> {
    role["permissions"]
        .as_array()
        .map(|list| list.iter().filter_map(|p| p["key"].as_str()).collect())
        .unwrap_or_default()
}

async fn custom_permissions_on_builtin_roles(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    let (status, permission) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organization_permissions",
            Some(json!({"key": "org:reports:export", "name": "Export reports"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{permission}");
    let permission_id = permission["id"].as_str().unwrap().to_owned();
    let ada = srv.create_user(d, "ada@example.com").await;
    let bob = srv.create_user(d, "bob@example.com").await;
    let (_, org) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Acme", "created_by": ada["id"]})),
        )
        .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    srv.bapi(
        d,
        Method::POST,
        &format!("/v1/organizations/{org_id}/memberships"),
        Some(json!({"user_id": bob["id"], "role": "org:member"})),
    )
    .await;
    let (mut browser, sid) = srv.signed_in("bob@example.com").await;
    let token = activate(&mut browser, &sid, &org_id).await;
    assert_eq!(token["o"]["rol"], "member");
    assert!(token["o"].get("per").is_none(), "{token}");

    // Attach by the built-in role's id; the role keeps its system permissions.
    let (status, role) = srv
        .bapi(
            d,
            Method::POST,
            &format!("/v1/organization_roles/role_member/permissions/{permission_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    assert_eq!(role["id"], "role_member");
    assert_eq!(role["key"], "org:member");
    let keys = permission_keys(&role);
    assert!(keys.contains(&"org:sys_memberships:read"), "{keys:?}");
    assert!(keys.contains(&"org:reports:export"), "{keys:?}");
    let (status, fetched) = srv
        .bapi(d, Method::GET, "/v1/organization_roles/role_member", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(permission_keys(&fetched), keys);
    let (_, roles) = srv
        .bapi(d, Method::GET, "/v1/organization_roles", None)
        .await;
    let listed: Vec<&str> = roles["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["org:admin", "org:member"], "no extra role appears");
    assert!(permission_keys(&roles["data"][1]).contains(&"org:reports:export"));
    assert!(!permission_keys(&roles["data"][0]).contains(&"org:reports:export"));

    // Only custom permissions can be attached; built-in roles still cannot be renamed.
    let (status, _) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organization_roles/org:member/permissions/org:sys_memberships:manage",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = srv
        .bapi(
            d,
            Method::PATCH,
            "/v1/organization_roles/role_member",
            Some(json!({"name": "Peon"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The next token and the Frontend API membership carry it.
    let token = fresh_claims(&mut browser, &sid).await;
    assert_eq!(token["o"]["per"], "export", "{token}");
    assert_eq!(token["fea"], "o:reports");
    let client = browser.get("/v1/client").await;
    let memberships = &client.body["response"]["sessions"][0]["user"]["organization_memberships"];
    let permissions = memberships[0]["permissions"].as_array().unwrap();
    assert!(
        permissions.contains(&json!("org:reports:export")),
        "{memberships}"
    );
    assert!(permissions.contains(&json!("org:sys_memberships:read")));

    // Detached (by key): gone from the next token.
    let (status, role) = srv
        .bapi(
            d,
            Method::DELETE,
            "/v1/organization_roles/org:member/permissions/org:reports:export",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    assert!(!permission_keys(&role).contains(&"org:reports:export"));
    let token = fresh_claims(&mut browser, &sid).await;
    assert!(token["o"].get("per").is_none(), "{token}");

    // Attached again, then the permission is deleted: it leaves the built-in role too.
    srv.bapi(
        d,
        Method::POST,
        "/v1/organization_roles/org:member/permissions/org:reports:export",
        None,
    )
    .await;
    srv.bapi(
        d,
        Method::DELETE,
        &format!("/v1/organization_permissions/{permission_id}"),
        None,
    )
    .await;
    let (_, role) = srv
        .bapi(d, Method::GET, "/v1/organization_roles/org:member", None)
        .await;
    assert!(!permission_keys(&role).contains(&"org:reports:export"));
}

async fn invitations_by_email(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    let ada = srv.create_user(d, "ada@example.com").await;
    let (_, org) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Acme", "created_by": ada["id"]})),
        )
        .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let base = format!("/v1/organizations/{org_id}/invitations");

    // Backend API: one, a duplicate, bulk, list, revoke.
    let (status, inv) = srv
        .bapi(
            d,
            Method::POST,
            &base,
            Some(json!({"email_address": "Bob@Example.com", "role": "org:member", "inviter_user_id": ada["id"], "public_metadata": {"team": "red"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{inv}");
    assert_eq!(inv["object"], "organization_invitation");
    assert_eq!(inv["email_address"], "bob@example.com");
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["role_name"], "Member");
    let mail = srv
        .service
        .list_mailbox(&d.id, Some("bob@example.com"), 5)
        .await
        .unwrap();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].subject.contains("Acme") && mail[0].html.contains("Acme"));
    let (status, body) = srv
        .bapi(
            d,
            Method::POST,
            &base,
            Some(json!({"email_address": "bob@example.com", "role": "org:member"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "one pending invitation per address"
    );
    assert_eq!(body["errors"][0]["code"], "form_identifier_exists");
    let (status, body) = srv
        .bapi(
            d,
            Method::POST,
            &base,
            Some(json!({"email_address": "ada@example.com", "role": "org:member"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "already a member: {body}");
    let (status, bulk) = srv
        .bapi(
            d,
            Method::POST,
            &format!("{base}/bulk"),
            Some(json!([{"email_address": "cy@example.com", "role": "org:admin"}, {"email_address": "dee@example.com"}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bulk}");
    assert_eq!(bulk["total_count"], 2);
    assert_eq!(bulk["data"][1]["role"], "org:member", "the default role");
    let cy_inv = bulk["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, revoked) = srv
        .bapi(d, Method::POST, &format!("{base}/{cy_inv}/revoke"), None)
        .await;
    assert_eq!(revoked["status"], "revoked");
    let (status, body) = srv
        .bapi(d, Method::POST, &format!("{base}/{cy_inv}/revoke"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0]["code"],
        "organization_invitation_not_pending"
    );
    let (_, pending) = srv
        .bapi(d, Method::GET, &format!("{base}?status=pending"), None)
        .await;
    assert_eq!(pending["total_count"], 2);

    // The browser: an admin invites; the invitee sees and accepts it.
    let (mut admin, admin_sid) = srv.signed_in("ada@example.com").await;
    let q = format!("?_clerk_session_id={admin_sid}");
    let answer = admin
        .post(
            &format!("{base}/bulk{q}"),
            &[("email_address", "eve@example.com"), ("role", "org:member")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body["response"][0]["email_address"],
        "eve@example.com"
    );
    let list = admin.get(&format!("{base}{q}&status=pending")).await;
    assert_eq!(list.body["response"]["total_count"], 3);

    srv.create_user(d, "bob@example.com").await;
    let (mut bob, bob_sid) = srv.signed_in("bob@example.com").await;
    let bq = format!("?_clerk_session_id={bob_sid}");
    let mine = bob
        .get(&format!(
            "/v1/me/organization_invitations{bq}&status=pending"
        ))
        .await;
    assert_eq!(mine.body["response"]["total_count"], 1);
    assert_eq!(
        mine.body["response"]["data"][0]["public_organization_data"]["slug"],
        "acme"
    );
    let inv_id = mine.body["response"]["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let accepted = bob
        .post(
            &format!("/v1/me/organization_invitations/{inv_id}/accept{bq}"),
            &[],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.body["response"]["status"], "accepted");
    let memberships = &accepted.body["client"]["sessions"][0]["user"]["organization_memberships"];
    assert_eq!(memberships[0]["organization"]["id"], org_id.as_str());
    assert_eq!(memberships[0]["public_metadata"], json!({"team": "red"}));
    let again = bob
        .post(
            &format!("/v1/me/organization_invitations/{inv_id}/accept{bq}"),
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    // Members without the manage permission cannot invite; others cannot accept someone else's.
    let answer = bob
        .post(
            &format!("{base}{bq}"),
            &[("email_address", "zed@example.com"), ("role", "org:member")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let dee_inv = bulk["data"][1]["id"].as_str().unwrap();
    let answer = bob
        .post(
            &format!("/v1/me/organization_invitations/{dee_inv}/accept{bq}"),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);

    // Invitations expire after 30 days.
    srv.clock.advance(31 * 24 * 3600 * 1000);
    let (_, expired) = srv
        .bapi(d, Method::GET, &format!("{base}?status=expired"), None)
        .await;
    assert_eq!(expired["total_count"], 2);
}

/// Limits (issue: members per organization, default 5, pending invitations counted; the
/// organizations one user may create from the browser).
async fn membership_and_creation_limits(db: Db) {
    use concierge_service::instances::SettingsUpdate;
    let srv = TestServer::spawn(db).await;
    let ada = srv.create_user(&srv.default, "ada@example.com").await;
    let ada_id = ada["id"].as_str().unwrap();

    // The instance default applies when no limit is given, and the environment shows it.
    let (_, org) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Default Limit", "created_by": ada_id})),
        )
        .await;
    assert_eq!(org["max_allowed_memberships"], 5);
    let (mut browser, sid) = srv.signed_in("ada@example.com").await;
    let env = browser.get("/v1/environment").await;
    assert_eq!(
        env.body["organization_settings"]["max_allowed_memberships"],
        5
    );

    // Members plus pending invitations may not pass the limit; a refused batch creates nothing.
    let (_, small) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Small", "created_by": ada_id, "max_allowed_memberships": 3})),
        )
        .await;
    let small_id = small["id"].as_str().unwrap();
    let srv_ref = &srv;
    let invite = |emails: Vec<&str>| {
        let body: Vec<Value> = emails
            .iter()
            .map(|e| json!({"email_address": e, "role": "org:member"}))
            .collect();
        let path = format!("/v1/organizations/{small_id}/invitations/bulk");
        async move {
            srv_ref
                .bapi(
                    &srv_ref.default,
                    Method::POST,
                    &path,
                    Some(Value::Array(body)),
                )
                .await
        }
    };
    let (status, body) = invite(vec!["b@example.com", "c@example.com", "d@example.com"]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["errors"][0]["code"],
        "organization_membership_quota_exceeded"
    );
    let (_, listed) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/organizations/{small_id}/invitations"),
            None,
        )
        .await;
    assert_eq!(listed["total_count"], 0, "a refused batch creates nothing");
    let (status, created) = invite(vec!["b@example.com", "c@example.com"]).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let (status, _) = invite(vec!["d@example.com"]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "two pending invitations fill the third seat"
    );
    let first = created["data"][0]["id"].as_str().unwrap();
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/organizations/{small_id}/invitations/{first}/revoke"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = invite(vec!["d@example.com"]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a revoked invitation frees its seat"
    );
    // Both APIs show the counts the components compare with the limit.
    let (_, counted) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/organizations/{small_id}?include_members_count=true"),
            None,
        )
        .await;
    assert_eq!(counted["members_count"], 1, "{counted}");
    assert_eq!(counted["pending_invitations_count"], 2, "{counted}");
    let mine = browser
        .get(&format!(
            "/v1/organizations/{small_id}?_clerk_session_id={sid}"
        ))
        .await;
    assert_eq!(mine.body["response"]["members_count"], 1, "{}", mine.body);
    assert_eq!(mine.body["response"]["pending_invitations_count"], 2);
    // clerk-js reads the active organization from the client's memberships.
    let client = browser.get("/v1/client").await;
    let memberships = client.body["response"]["sessions"][0]["user"]["organization_memberships"]
        .as_array()
        .unwrap();
    let small_membership = memberships
        .iter()
        .find(|m| m["organization"]["id"] == small_id)
        .unwrap();
    assert_eq!(small_membership["organization"]["members_count"], 1);
    assert_eq!(
        small_membership["organization"]["pending_invitations_count"],
        2
    );

    // At most three organizations created per user (two exist already, made for ada).
    srv.service
        .update_instance_settings(
            &srv.default,
            SettingsUpdate {
                organization_create_limit: Some(3),
                organization_max_allowed_memberships: Some(0),
                ..SettingsUpdate::default()
            },
        )
        .await
        .unwrap();
    let path = format!("/v1/organizations?_clerk_session_id={sid}");
    let answer = browser.post(&path, &[("name", "Third")]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body["response"]["max_allowed_memberships"], 0,
        "0 = unlimited"
    );
    let answer = browser.post(&path, &[("name", "Fourth")]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert_eq!(
        answer.body["errors"][0]["code"],
        "organization_creation_limit_exceeded"
    );
    // One more allowed, asked for twice at the same moment from two browsers: the limit is
    // counted with the creator locked, so exactly one gets it.
    srv.service
        .update_instance_settings(
            &srv.default,
            SettingsUpdate {
                organization_create_limit: Some(4),
                ..SettingsUpdate::default()
            },
        )
        .await
        .unwrap();
    let (mut other, other_sid) = srv.signed_in("ada@example.com").await;
    let other_path = format!("/v1/organizations?_clerk_session_id={other_sid}");
    let (one, two) = tokio::join!(
        browser.post(&path, &[("name", "Race A")]),
        other.post(&other_path, &[("name", "Race B")]),
    );
    let mut statuses = [one.status, two.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::FORBIDDEN],
        "{} / {}",
        one.body,
        two.body
    );
    let refused = srv
        .service
        .update_instance_settings(
            &srv.default,
            SettingsUpdate {
                organization_create_limit: Some(-1),
                ..SettingsUpdate::default()
            },
        )
        .await;
    assert!(refused.is_err());
}

/// The `__session` token a format=token handshake hands to the app, after asking for
/// `organization_id` (`None`: parameter absent).
async fn handshake_token(
    browser: &mut concierge_testkit::Browser,
    organization_id: Option<&str>,
) -> Value {
    let mut path =
        "/v1/client/handshake?redirect_url=http%3A%2F%2Flocalhost%3A3000%2Forgs&format=token"
            .to_owned();
    if let Some(org) = organization_id {
        path.push_str(&format!("&organization_id={org}"));
    }
    let answer = browser.get(&path).await;
    assert_eq!(
        answer.status,
        StatusCode::TEMPORARY_REDIRECT,
        "{}",
        answer.body
    );
    let carrier = browser.cookies["__clerk_handshake"].clone();
    let directives = claims(&carrier)["handshake"].clone();
    let session = directives
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find_map(|d| d.strip_prefix("__session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    claims(&session)
}

/// Organization sync (wire §5.1/§5.2): `organization_id` on the handshake switches the active
/// session's organization by slug or id, empty selects the personal workspace, and an
/// organization the user cannot activate changes nothing (the navigation still succeeds).
async fn handshake_switches_the_active_organization(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    let ada = srv.create_user(d, "ada@example.com").await;
    let bob = srv.create_user(d, "bob@example.com").await;
    let mut org_ids = Vec::new();
    for (name, creator) in [("Acme", &ada), ("Globex", &ada), ("Initech", &bob)] {
        let (status, org) = srv
            .bapi(
                d,
                Method::POST,
                "/v1/organizations",
                Some(json!({"name": name, "created_by": creator["id"]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{org}");
        org_ids.push(org["id"].as_str().unwrap().to_owned());
    }
    let (mut browser, sid) = srv.signed_in("ada@example.com").await;

    let token = handshake_token(&mut browser, None).await;
    assert!(token.get("o").is_none(), "no organization yet: {token}");
    let token = handshake_token(&mut browser, Some("acme")).await;
    assert_eq!(token["o"]["slg"], "acme");
    assert_eq!(token["o"]["rol"], "admin");
    let token = handshake_token(&mut browser, Some(&org_ids[1])).await;
    assert_eq!(token["o"]["id"], org_ids[1].as_str());
    let (_, session) = srv
        .bapi(d, Method::GET, &format!("/v1/sessions/{sid}"), None)
        .await;
    assert_eq!(session["last_active_organization_id"], org_ids[1].as_str());

    // Not a member, or no such organization: unchanged.
    let token = handshake_token(&mut browser, Some("initech")).await;
    assert_eq!(token["o"]["slg"], "globex");
    let token = handshake_token(&mut browser, Some("no-such-org")).await;
    assert_eq!(token["o"]["slg"], "globex");
    // Absent keeps it; present-but-empty is the personal workspace.
    let token = handshake_token(&mut browser, None).await;
    assert_eq!(token["o"]["slg"], "globex");
    let token = handshake_token(&mut browser, Some("")).await;
    assert!(token.get("o").is_none(), "{token}");
    let (_, session) = srv
        .bapi(d, Method::GET, &format!("/v1/sessions/{sid}"), None)
        .await;
    assert_eq!(session["last_active_organization_id"], Value::Null);

    // A signed-out browser with an organization_id still gets its signed-out directives.
    let mut stranger = srv.browser();
    let answer = stranger
        .get("/v1/client/handshake?redirect_url=http%3A%2F%2Flocalhost%3A3000%2F&format=nonce&organization_id=acme")
        .await;
    assert_eq!(answer.status, StatusCode::TEMPORARY_REDIRECT);
}
