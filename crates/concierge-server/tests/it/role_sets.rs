//! Role sets (wire §8.2 `/v1/role_sets`): every endpoint and its validation, the Primary Role
//! Set of each instance, enforcement of the organization's set on memberships and invitations
//! through the Backend and Frontend APIs, replacing a role or a whole set (members move with
//! it), the instance settings that drive the initial set, and tenant isolation.

use concierge_testkit::{Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(
    primary_role_set_and_crud,
    enforcement_through_both_apis,
    replacing_roles_and_sets_moves_members,
    instance_settings_drive_the_initial_set,
);

fn keys(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect()
}

fn error(body: &Value) -> (&str, &str) {
    (
        body["errors"][0]["code"].as_str().unwrap_or_default(),
        body["errors"][0]["meta"]["param_name"]
            .as_str()
            .unwrap_or_default(),
    )
}

/// Creates a custom role with `extra` body fields.
async fn custom_role(srv: &TestServer, key: &str, name: &str, extra: Value) {
    let mut body = json!({"key": key, "name": name});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, role) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organization_roles",
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
}

async fn create_set(srv: &TestServer, body: Value) -> Value {
    let (status, set) = srv
        .bapi(&srv.default, Method::POST, "/v1/role_sets", Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    set
}

async fn create_org(srv: &TestServer, body: Value) -> String {
    let (status, org) = srv
        .bapi(&srv.default, Method::POST, "/v1/organizations", Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    org["id"].as_str().unwrap().to_owned()
}

async fn add_member(srv: &TestServer, org: &str, user: &Value, role: &str) -> (StatusCode, Value) {
    srv.bapi(
        &srv.default,
        Method::POST,
        &format!("/v1/organizations/{org}/memberships"),
        Some(json!({"user_id": user["id"], "role": role})),
    )
    .await
}

/// Role of each member of `org`, by user id.
async fn roles_in(srv: &TestServer, org: &str) -> Vec<(String, String)> {
    let (_, page) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/organizations/{org}/memberships?limit=100&order_by=+created_at"),
            None,
        )
        .await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["public_user_data"]["user_id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn primary_role_set_and_crud(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;

    // Every instance starts with the Primary Role Set.
    let (status, page) = srv.bapi(d, Method::GET, "/v1/role_sets", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total_count"], 1);
    let primary = page["data"][0].clone();
    insta::assert_json_snapshot!("bapi_primary_role_set", primary, {".id" => "[rs_id]"});
    let primary_id = primary["id"].as_str().unwrap().to_owned();
    assert!(primary_id.starts_with("rs_"));
    let (_, by_key) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:default", None)
        .await;
    assert_eq!(by_key, primary);
    let (_, by_id) = srv
        .bapi(d, Method::GET, &format!("/v1/role_sets/{primary_id}"), None)
        .await;
    assert_eq!(by_id, primary);
    let (status, _) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:nope", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // While only the primary set exists, a new custom role joins it.
    custom_role(
        &srv,
        "org:analyst",
        "Analyst",
        json!({"description": "Reads"}),
    )
    .await;
    let (_, primary) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:default", None)
        .await;
    assert_eq!(
        keys(&primary["roles"]),
        ["org:admin", "org:member", "org:analyst"]
    );
    assert_eq!(primary["roles"][2]["description"], "Reads");
    assert!(primary["roles"][2]["id"]
        .as_str()
        .unwrap()
        .starts_with("role_"));

    // Validation of a new set.
    let good = json!({"name": "Pro Tier", "roles": ["org:admin", "org:analyst"],
        "default_role_key": "org:analyst", "creator_role_key": "org:admin"});
    let with = |patch: Value| {
        let mut body = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let eleven: Vec<String> = (0..11).map(|_| "org:admin".to_owned()).collect();
    for (patch, status, code, param) in [
        (json!({"name": null}), 422, "form_param_missing", "name"),
        (json!({"name": "  "}), 422, "form_param_missing", "name"),
        (json!({"roles": null}), 422, "form_param_missing", "roles"),
        (json!({"roles": []}), 422, "form_param_missing", "roles"),
        (
            json!({"roles": eleven}),
            422,
            "form_param_value_invalid",
            "roles",
        ),
        (
            json!({"roles": ["org:admin", "org:ghost"]}),
            422,
            "form_param_format_invalid",
            "roles",
        ),
        (
            json!({"roles": "org:admin"}),
            422,
            "form_param_format_invalid",
            "roles",
        ),
        (
            json!({"default_role_key": null}),
            422,
            "form_param_missing",
            "default_role_key",
        ),
        (
            json!({"creator_role_key": null}),
            422,
            "form_param_missing",
            "creator_role_key",
        ),
        (
            json!({"default_role_key": "org:member"}),
            422,
            "organization_role_not_in_role_set",
            "default_role_key",
        ),
        (
            json!({"creator_role_key": "org:member"}),
            422,
            "organization_role_not_in_role_set",
            "creator_role_key",
        ),
        (
            json!({"key": "pro"}),
            422,
            "form_param_format_invalid",
            "key",
        ),
        (
            json!({"key": "role_set:Pro"}),
            422,
            "form_param_format_invalid",
            "key",
        ),
        (
            json!({"key": "role_set:default"}),
            422,
            "form_identifier_exists",
            "key",
        ),
        (
            json!({"type": "special"}),
            422,
            "form_param_format_invalid",
            "type",
        ),
    ] {
        let (got, body) = srv
            .bapi(d, Method::POST, "/v1/role_sets", Some(with(patch.clone())))
            .await;
        assert_eq!(got.as_u16(), status, "{patch}: {body}");
        assert_eq!(error(&body), (code, param), "{patch}");
    }
    let (_, page) = srv.bapi(d, Method::GET, "/v1/role_sets", None).await;
    assert_eq!(page["total_count"], 1, "nothing was created");

    // Create: key from the name, then a free one; an explicit key.
    srv.clock.advance(1000);
    let pro = create_set(&srv, with(json!({"description": "Paying customers"}))).await;
    assert_eq!(pro["object"], "role_set");
    assert_eq!(pro["key"], "role_set:pro_tier");
    assert_eq!(pro["type"], "custom");
    assert_eq!(pro["description"], "Paying customers");
    assert_eq!(keys(&pro["roles"]), ["org:admin", "org:analyst"]);
    assert_eq!(pro["default_role"]["key"], "org:analyst");
    assert_eq!(pro["creator_role"]["key"], "org:admin");
    assert_eq!(pro["roles"][0]["object"], "role_set_item");
    assert_eq!(pro["roles"][0]["id"], "role_admin");
    assert_eq!(pro["roles"][0]["members_count"], 0);
    assert_eq!(pro["roles"][0]["has_members"], false);
    srv.clock.advance(1000);
    let again = create_set(&srv, good.clone()).await;
    assert_eq!(again["key"], "role_set:pro_tier_2");
    assert_eq!(again["description"], Value::Null);
    srv.clock.advance(1000);
    let basic = create_set(
        &srv,
        json!({"name": "Basic", "key": "role_set:basic", "roles": ["org:member", "org:member"],
            "default_role_key": "org:member", "creator_role_key": "org:member"}),
    )
    .await;
    assert_eq!(keys(&basic["roles"]), ["org:member"], "no repeats");
    let basic_id = basic["id"].as_str().unwrap().to_owned();

    // List: newest first by default, query by name/key/exact id, order, pages.
    let list = |q: &str| {
        let q = q.to_owned();
        let srv = &srv;
        async move {
            let (status, page) = srv
                .bapi(
                    &srv.default,
                    Method::GET,
                    &format!("/v1/role_sets{q}"),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{q}: {page}");
            (page["total_count"].as_i64().unwrap(), keys(&page["data"]))
        }
    };
    assert_eq!(
        list("").await,
        (
            4,
            vec![
                "role_set:basic".into(),
                "role_set:pro_tier_2".into(),
                "role_set:pro_tier".into(),
                "role_set:default".into()
            ]
        )
    );
    assert_eq!(
        list("?query=pro&order_by=%2Bcreated_at").await.1,
        ["role_set:pro_tier", "role_set:pro_tier_2"]
    );
    assert_eq!(list("?query=PRIMARY").await.1, ["role_set:default"]);
    assert_eq!(
        list(&format!("?query={basic_id}")).await.1,
        ["role_set:basic"]
    );
    assert_eq!(
        list("?order_by=name&limit=2&offset=0").await,
        (4, vec!["role_set:basic".into(), "role_set:default".into()]),
        "Basic, Primary Role Set, then the two Pro Tier sets"
    );
    assert_eq!(
        list("?order_by=-name&limit=2&offset=2").await.1,
        ["role_set:default", "role_set:basic"]
    );
    assert_eq!(
        list("?order_by=-key&limit=1").await.1,
        ["role_set:pro_tier_2"]
    );
    let (status, body) = srv
        .bapi(d, Method::GET, "/v1/role_sets?order_by=roles", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error(&body), ("form_param_format_invalid", "order_by"));

    // Update.
    srv.clock.advance(1000);
    let (status, updated) = srv
        .bapi(
            d,
            Method::PATCH,
            "/v1/role_sets/role_set:pro_tier",
            Some(
                json!({"name": "Pro", "key": "role_set:pro", "description": null,
                "default_role_key": "org:admin", "creator_role_key": null}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (&updated["name"], &updated["key"], &updated["description"]),
        (&json!("Pro"), &json!("role_set:pro"), &Value::Null)
    );
    assert_eq!(updated["default_role"]["key"], "org:admin");
    assert_eq!(updated["creator_role"]["key"], "org:admin");
    assert_eq!(updated["id"], pro["id"]);
    assert!(updated["updated_at"].as_i64() > pro["updated_at"].as_i64());
    for (body, status, code, param) in [
        (
            json!({"default_role_key": "org:member"}),
            422,
            "organization_role_not_in_role_set",
            "default_role_key",
        ),
        (
            json!({"creator_role_key": "org:ghost"}),
            422,
            "form_param_format_invalid",
            "creator_role_key",
        ),
        (
            json!({"key": "role_set:basic"}),
            422,
            "form_identifier_exists",
            "key",
        ),
        (
            json!({"key": "basic"}),
            422,
            "form_param_format_invalid",
            "key",
        ),
        (
            json!({"type": "other"}),
            422,
            "form_param_format_invalid",
            "type",
        ),
    ] {
        let (got, answer) = srv
            .bapi(
                d,
                Method::PATCH,
                "/v1/role_sets/role_set:pro",
                Some(body.clone()),
            )
            .await;
        assert_eq!(got.as_u16(), status, "{body}: {answer}");
        assert_eq!(error(&answer), (code, param), "{body}");
    }
    let (status, body) = srv
        .bapi(
            d,
            Method::PATCH,
            "/v1/role_sets/role_set:default",
            Some(json!({"type": "custom"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error(&body).0, "initial_role_set_required");

    // Making another set initial demotes the primary one; new organizations get it.
    let (_, made) = srv
        .bapi(
            d,
            Method::PATCH,
            "/v1/role_sets/role_set:pro",
            Some(json!({"type": "initial"})),
        )
        .await;
    assert_eq!(made["type"], "initial");
    let (_, primary) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:default", None)
        .await;
    assert_eq!(primary["type"], "custom");
    let ada = srv.create_user(d, "ada@example.com").await;
    let org = create_org(&srv, json!({"name": "Acme", "created_by": ada["id"]})).await;
    let (_, acme) = srv
        .bapi(d, Method::GET, &format!("/v1/organizations/{org}"), None)
        .await;
    assert_eq!(acme["role_set_key"], "role_set:pro");
    assert_eq!(roles_in(&srv, &org).await[0].1, "org:admin");
    let (_, pro_now) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:pro", None)
        .await;
    assert_eq!(pro_now["roles"][0]["members_count"], 1);
    assert_eq!(pro_now["roles"][0]["has_members"], true);

    // Adding roles.
    let (status, added) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/role_sets/role_set:pro/roles",
            Some(
                json!({"role_keys": ["org:member", "org:admin"], "default_role_key": "org:member"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(
        keys(&added["roles"]),
        ["org:admin", "org:analyst", "org:member"]
    );
    assert_eq!(added["default_role"]["key"], "org:member");
    for (body, code, param) in [
        (json!({}), "form_param_missing", "role_keys"),
        (json!({"role_keys": []}), "form_param_missing", "role_keys"),
        (
            json!({"role_keys": ["org:ghost"]}),
            "form_param_format_invalid",
            "role_keys",
        ),
        (
            json!({"role_keys": ["org:member"], "creator_role_key": "org:viewer"}),
            "form_param_format_invalid",
            "creator_role_key",
        ),
    ] {
        let (got, answer) = srv
            .bapi(
                d,
                Method::POST,
                "/v1/role_sets/role_set:basic/roles",
                Some(body.clone()),
            )
            .await;
        assert_eq!(got, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(error(&answer), (code, param), "{body}");
    }
    let (status, answer) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/role_sets/role_set:basic/roles",
            Some(json!({"role_keys": ["org:admin"], "default_role_key": "org:analyst"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error(&answer),
        ("organization_role_not_in_role_set", "default_role_key")
    );
    let (_, basic_now) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:basic", None)
        .await;
    assert_eq!(
        keys(&basic_now["roles"]),
        ["org:member"],
        "a refused change changes nothing"
    );

    // Once other sets exist, new roles still join the primary set only; the flag can say
    // "the initial set" or "none".
    custom_role(&srv, "org:viewer", "Viewer", json!({})).await;
    custom_role(
        &srv,
        "org:auditor",
        "Auditor",
        json!({"include_in_initial_role_set": true}),
    )
    .await;
    custom_role(
        &srv,
        "org:loner",
        "Loner",
        json!({"include_in_initial_role_set": false}),
    )
    .await;
    let (_, page) = srv
        .bapi(d, Method::GET, "/v1/role_sets?order_by=key&limit=10", None)
        .await;
    let by_key: Vec<(String, Vec<String>)> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap().to_owned(), keys(&s["roles"])))
        .collect();
    assert_eq!(
        by_key,
        [
            ("role_set:basic".into(), vec!["org:member".to_owned()]),
            (
                "role_set:default".into(),
                vec![
                    "org:admin".into(),
                    "org:member".into(),
                    "org:analyst".into(),
                    "org:viewer".into()
                ]
            ),
            (
                "role_set:pro".into(),
                vec![
                    "org:admin".into(),
                    "org:analyst".into(),
                    "org:member".into(),
                    "org:auditor".into()
                ]
            ),
            (
                "role_set:pro_tier_2".into(),
                vec!["org:admin".into(), "org:analyst".into()]
            ),
        ]
    );

    // Tenant isolation: the other instance has its own primary set and sees none of these.
    let o = &srv.other;
    let (_, theirs) = srv.bapi(o, Method::GET, "/v1/role_sets", None).await;
    assert_eq!(theirs["total_count"], 1);
    assert_eq!(theirs["data"][0]["key"], "role_set:default");
    assert_eq!(theirs["data"][0]["type"], "initial");
    assert_ne!(theirs["data"][0]["id"], primary["id"]);
    for (method, path, body) in [
        (Method::GET, format!("/v1/role_sets/{basic_id}"), None),
        (Method::GET, "/v1/role_sets/role_set:basic".to_owned(), None),
        (
            Method::PATCH,
            format!("/v1/role_sets/{basic_id}"),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::POST,
            format!("/v1/role_sets/{basic_id}/roles"),
            Some(json!({"role_keys": ["org:admin"]})),
        ),
        (
            Method::POST,
            format!("/v1/role_sets/{basic_id}/replace"),
            Some(json!({"dest_role_set_key": "role_set:default"})),
        ),
    ] {
        let (status, body) = srv.bapi(o, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
    }
    let (status, _) = srv
        .bapi(
            o,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "X", "role_set_key": "role_set:basic"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "another instance's set"
    );
}

async fn enforcement_through_both_apis(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    custom_role(&srv, "org:analyst", "Analyst", json!({})).await;
    custom_role(
        &srv,
        "org:viewer",
        "Viewer",
        json!({"include_in_initial_role_set": false}),
    )
    .await;
    create_set(
        &srv,
        json!({"name": "Basic", "key": "role_set:basic", "roles": ["org:admin", "org:viewer"],
            "default_role_key": "org:viewer", "creator_role_key": "org:admin"}),
    )
    .await;
    let ada = srv.create_user(d, "ada@example.com").await;
    let bob = srv.create_user(d, "bob@example.com").await;
    let cy = srv.create_user(d, "cy@example.com").await;

    // Creating an organization in a set; its creator gets the set's creator role.
    let (status, body) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Nope", "role_set_key": "role_set:ghost"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error(&body), ("form_param_format_invalid", "role_set_key"));
    let (status, org) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Basic Co", "created_by": ada["id"], "role_set_key": "role_set:basic"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["role_set_key"], "role_set:basic");
    let org_id = org["id"].as_str().unwrap().to_owned();

    // Backend API memberships: only roles of the set.
    let (status, body) = add_member(&srv, &org_id, &bob, "org:member").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error(&body), ("organization_role_not_in_role_set", "role"));
    let (status, body) = add_member(&srv, &org_id, &bob, "org:ghost").await;
    assert_eq!(
        error(&body),
        ("form_param_format_invalid", "role"),
        "{status}"
    );
    let (status, body) = add_member(&srv, &org_id, &bob, "org:viewer").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["organization"]["role_set_key"], "role_set:basic");
    let (status, body) = srv
        .bapi(
            d,
            Method::PATCH,
            &format!(
                "/v1/organizations/{org_id}/memberships/{}",
                bob["id"].as_str().unwrap()
            ),
            Some(json!({"role": "org:analyst"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error(&body), ("organization_role_not_in_role_set", "role"));

    // Invitations: the set's default role when none is given; others refused, bulk all-or-none.
    let invitations = format!("/v1/organizations/{org_id}/invitations");
    let (status, inv) = srv
        .bapi(
            d,
            Method::POST,
            &invitations,
            Some(json!({"email_address": "dee@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{inv}");
    assert_eq!(inv["role"], "org:viewer");
    let (status, body) = srv
        .bapi(
            d,
            Method::POST,
            &invitations,
            Some(json!({"email_address": "eve@example.com", "role": "org:member"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error(&body), ("organization_role_not_in_role_set", "role"));
    let (status, _) = srv
        .bapi(
            d,
            Method::POST,
            &format!("{invitations}/bulk"),
            Some(
                json!([{"email_address": "fay@example.com", "role": "org:admin"},
                        {"email_address": "gus@example.com", "role": "org:analyst"}]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, pending) = srv
        .bapi(
            d,
            Method::GET,
            &format!("{invitations}?status=pending"),
            None,
        )
        .await;
    assert_eq!(
        pending["total_count"], 1,
        "the bulk request created nothing"
    );

    // The browser: the role picker lists the set; adding, changing and inviting are enforced.
    let (mut admin, sid) = srv.signed_in("ada@example.com").await;
    let q = format!("?_clerk_session_id={sid}");
    let base = format!("/v1/organizations/{org_id}");
    let roles = admin.get(&format!("{base}/roles{q}")).await;
    assert_eq!(roles.status, StatusCode::OK, "{}", roles.body);
    assert_eq!(
        keys(&roles.body["response"]["data"]),
        ["org:admin", "org:viewer"]
    );
    assert_eq!(roles.body["response"]["total_count"], 2);
    assert_eq!(roles.body["response"]["has_role_set_migration"], false);
    let me = &roles.body["client"]["sessions"][0]["user"]["organization_memberships"][0];
    assert_eq!(me["organization"]["role_set_key"], "role_set:basic");
    let cy_id = cy["id"].as_str().unwrap();
    let bob_id = bob["id"].as_str().unwrap();
    for (method, path, form) in [
        (
            Method::POST,
            format!("{base}/memberships{q}"),
            vec![("user_id", cy_id), ("role", "org:member")],
        ),
        (
            Method::PATCH,
            format!("{base}/memberships/{bob_id}{q}"),
            vec![("role", "org:analyst")],
        ),
        (
            Method::POST,
            format!("{base}/invitations{q}"),
            vec![("email_address", "hal@example.com"), ("role", "org:member")],
        ),
        (
            Method::POST,
            format!("{base}/invitations/bulk{q}"),
            vec![("email_address", "hal@example.com"), ("role", "org:member")],
        ),
    ] {
        let answer = admin.send(method.clone(), &path, &form).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path}: {}",
            answer.body
        );
        assert_eq!(
            error(&answer.body),
            ("organization_role_not_in_role_set", "role")
        );
    }
    let added = admin
        .post(
            &format!("{base}/memberships{q}"),
            &[("user_id", cy_id), ("role", "org:viewer")],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let changed = admin
        .send(
            Method::PATCH,
            &format!("{base}/memberships/{cy_id}{q}"),
            &[("role", "org:admin")],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);

    // An organization created in the browser uses the initial (primary) set.
    let created = admin
        .post(&format!("/v1/organizations{q}"), &[("name", "Primary Co")])
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["response"]["role_set_key"], "role_set:default");
    let primary_org = created.body["response"]["id"].as_str().unwrap().to_owned();
    let roles = admin
        .get(&format!("/v1/organizations/{primary_org}/roles{q}"))
        .await;
    assert_eq!(
        keys(&roles.body["response"]["data"]),
        ["org:admin", "org:member", "org:analyst"]
    );

    // Switching an organization's set: refused while members hold roles it lacks.
    let (status, body) = srv
        .bapi(
            d,
            Method::PATCH,
            &base,
            Some(json!({"role_set_key": "role_set:default"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        error(&body),
        ("role_set_reassignment_required", "role_set_key")
    );
    assert!(body["errors"][0]["long_message"]
        .as_str()
        .unwrap()
        .contains("org:viewer"));
    let (status, body) = srv
        .bapi(
            d,
            Method::PATCH,
            &base,
            Some(json!({"role_set_key": "role_set:ghost"})),
        )
        .await;
    assert_eq!(
        error(&body),
        ("form_param_format_invalid", "role_set_key"),
        "{status}"
    );

    // Acceptance keeps the invitation's role only while the organization's set has it.
    let (status, inv) = srv
        .bapi(
            d,
            Method::POST,
            &format!("/v1/organizations/{primary_org}/invitations"),
            Some(json!({"email_address": "bob@example.com", "role": "org:analyst"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{inv}");
    let (status, moved) = srv
        .bapi(
            d,
            Method::PATCH,
            &format!("/v1/organizations/{primary_org}"),
            Some(json!({"role_set_key": "role_set:basic"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "only an admin is a member: {moved}");
    assert_eq!(moved["role_set_key"], "role_set:basic");
    let (mut bob_browser, bob_sid) = srv.signed_in("bob@example.com").await;
    let accept = bob_browser
        .post(
            &format!(
                "/v1/me/organization_invitations/{}/accept?_clerk_session_id={bob_sid}",
                inv["id"].as_str().unwrap()
            ),
            &[],
        )
        .await;
    assert_eq!(
        accept.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        accept.body
    );
    assert_eq!(
        error(&accept.body),
        ("organization_role_not_in_role_set", "role")
    );
    let (_, back) = srv
        .bapi(
            d,
            Method::PATCH,
            &format!("/v1/organizations/{primary_org}"),
            Some(json!({"role_set_key": "role_set:default"})),
        )
        .await;
    assert_eq!(back["role_set_key"], "role_set:default");
    let accept = bob_browser
        .post(
            &format!(
                "/v1/me/organization_invitations/{}/accept?_clerk_session_id={bob_sid}",
                inv["id"].as_str().unwrap()
            ),
            &[],
        )
        .await;
    assert_eq!(accept.status, StatusCode::OK, "{}", accept.body);
    let memberships = &accept.body["client"]["sessions"][0]["user"]["organization_memberships"];
    let joined: Vec<&str> = memberships
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["organization"]["id"] == primary_org.as_str())
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(joined, ["org:analyst"]);
}

async fn replacing_roles_and_sets_moves_members(db: Db) {
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    custom_role(&srv, "org:analyst", "Analyst", json!({})).await;
    custom_role(
        &srv,
        "org:viewer",
        "Viewer",
        json!({"include_in_initial_role_set": false}),
    )
    .await;
    create_set(
        &srv,
        json!({"name": "Gold", "roles": ["org:admin", "org:analyst", "org:member"],
            "default_role_key": "org:member", "creator_role_key": "org:admin"}),
    )
    .await;
    create_set(
        &srv,
        json!({"name": "Silver", "roles": ["org:admin", "org:viewer"],
            "default_role_key": "org:viewer", "creator_role_key": "org:admin"}),
    )
    .await;
    let users: Vec<Value> = make_users(&srv, 4).await;
    let a = create_org(
        &srv,
        json!({"name": "A", "created_by": users[0]["id"], "role_set_key": "role_set:gold"}),
    )
    .await;
    let b = create_org(
        &srv,
        json!({"name": "B", "created_by": users[0]["id"], "role_set_key": "role_set:gold"}),
    )
    .await;
    let c = create_org(&srv, json!({"name": "C", "created_by": users[0]["id"]})).await;
    assert_eq!(
        add_member(&srv, &a, &users[1], "org:analyst").await.0,
        StatusCode::OK
    );
    assert_eq!(
        add_member(&srv, &a, &users[2], "org:member").await.0,
        StatusCode::OK
    );
    assert_eq!(
        add_member(&srv, &b, &users[3], "org:analyst").await.0,
        StatusCode::OK
    );
    assert_eq!(
        add_member(&srv, &c, &users[1], "org:analyst").await.0,
        StatusCode::OK
    );
    let (status, inv) = srv
        .bapi(
            d,
            Method::POST,
            &format!("/v1/organizations/{a}/invitations"),
            Some(json!({"email_address": "new@example.com", "role": "org:analyst"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{inv}");
    let (_, gold) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:gold", None)
        .await;
    let counts: Vec<i64> = gold["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["members_count"].as_i64().unwrap())
        .collect();
    assert_eq!(
        counts,
        [2, 2, 1],
        "admins of A and B; analysts of A and B; one member"
    );

    // Replacing a role: validation.
    let replace = "/v1/role_sets/role_set:gold/roles/replace";
    for (body, code, param) in [
        (
            json!({"to_role_key": "org:member"}),
            "form_param_missing",
            "role_key",
        ),
        (
            json!({"role_key": "org:analyst"}),
            "form_param_missing",
            "to_role_key",
        ),
        (
            json!({"role_key": "org:viewer", "to_role_key": "org:member"}),
            "organization_role_not_in_role_set",
            "role_key",
        ),
        (
            json!({"role_key": "org:analyst", "to_role_key": "org:viewer"}),
            "organization_role_not_in_role_set",
            "to_role_key",
        ),
        (
            json!({"role_key": "org:analyst", "to_role_key": "org:analyst"}),
            "form_param_format_invalid",
            "to_role_key",
        ),
        (
            json!({"role_key": "org:member", "to_role_key": "org:analyst"}),
            "role_set_role_required",
            "role_key",
        ),
        (
            json!({"role_key": "org:admin", "to_role_key": "org:analyst"}),
            "role_set_role_required",
            "role_key",
        ),
    ] {
        let (status, answer) = srv.bapi(d, Method::POST, replace, Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(error(&answer), (code, param), "{body}");
    }

    // Replacing org:analyst with org:member moves the members of A and B, not of C.
    srv.clock.advance(1000);
    let (status, gold) = srv
        .bapi(
            d,
            Method::POST,
            replace,
            Some(json!({"role_key": "org:analyst", "to_role_key": "org:member"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{gold}");
    assert_eq!(keys(&gold["roles"]), ["org:admin", "org:member"]);
    assert_eq!(gold["roles"][1]["members_count"], 3);
    let role_of = |list: &[(String, String)], user: &Value| {
        list.iter()
            .find(|(id, _)| id == user["id"].as_str().unwrap())
            .map(|(_, role)| role.clone())
            .unwrap()
    };
    assert_eq!(role_of(&roles_in(&srv, &a).await, &users[1]), "org:member");
    assert_eq!(role_of(&roles_in(&srv, &b).await, &users[3]), "org:member");
    assert_eq!(
        role_of(&roles_in(&srv, &c).await, &users[1]),
        "org:analyst",
        "C uses the primary set"
    );
    let (_, inv) = srv
        .bapi(
            d,
            Method::GET,
            &format!(
                "/v1/organizations/{a}/invitations/{}",
                inv["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(inv["role"], "org:member", "the pending invitation follows");
    let (status, body) = add_member(&srv, &a, &users[3], "org:analyst").await;
    assert_eq!(
        error(&body).0,
        "organization_role_not_in_role_set",
        "{status}"
    );

    // Replacing a whole set: validation first.
    let replace_set = "/v1/role_sets/role_set:gold/replace";
    for (body, status, code, param) in [
        (json!({}), 422, "form_param_missing", "dest_role_set_key"),
        (
            json!({"dest_role_set_key": "role_set:ghost"}),
            422,
            "form_param_format_invalid",
            "dest_role_set_key",
        ),
        (
            json!({"dest_role_set_key": "role_set:gold"}),
            422,
            "form_param_format_invalid",
            "dest_role_set_key",
        ),
        (
            json!({"dest_role_set_key": "role_set:silver"}),
            422,
            "role_set_reassignment_required",
            "reassignment_mappings",
        ),
        (
            json!({"dest_role_set_key": "role_set:silver", "reassignment_mappings": {"org:member": "org:member"}}),
            422,
            "organization_role_not_in_role_set",
            "reassignment_mappings",
        ),
    ] {
        let (got, answer) = srv
            .bapi(d, Method::POST, replace_set, Some(body.clone()))
            .await;
        assert_eq!(got.as_u16(), status, "{body}: {answer}");
        assert_eq!(error(&answer), (code, param), "{body}");
    }
    let (status, body) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/role_sets/role_set:default/replace",
            Some(json!({"dest_role_set_key": "role_set:gold"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error(&body).0, "initial_role_set_required");
    assert_eq!(roles_in(&srv, &a).await.len(), 3, "nothing moved");

    // With a mapping, A and B move to Silver; members keep roles Silver has (admin).
    let (_, gold_before) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:gold", None)
        .await;
    let (status, deleted) = srv
        .bapi(
            d,
            Method::POST,
            replace_set,
            Some(json!({"dest_role_set_key": "role_set:silver",
                "reassignment_mappings": {"org:member": "org:viewer", "org:unused": "org:admin"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(
        deleted,
        json!({"object": "role_set", "id": gold_before["id"], "deleted": true})
    );
    let (status, _) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:gold", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for org in [&a, &b] {
        let (_, body) = srv
            .bapi(d, Method::GET, &format!("/v1/organizations/{org}"), None)
            .await;
        assert_eq!(body["role_set_key"], "role_set:silver");
    }
    let a_roles = roles_in(&srv, &a).await;
    assert_eq!(role_of(&a_roles, &users[0]), "org:admin");
    assert_eq!(role_of(&a_roles, &users[1]), "org:viewer");
    assert_eq!(role_of(&a_roles, &users[2]), "org:viewer");
    assert_eq!(role_of(&roles_in(&srv, &b).await, &users[3]), "org:viewer");
    let (_, silver) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:silver", None)
        .await;
    assert_eq!(silver["roles"][0]["members_count"], 2);
    assert_eq!(silver["roles"][1]["members_count"], 3);

    // Deleting roles: not a set's default or creator role; otherwise it leaves every set.
    let (status, body) = srv
        .bapi(d, Method::DELETE, "/v1/organization_roles/org:viewer", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "members hold it: {body}");
    custom_role(&srv, "org:temp", "Temp", json!({})).await;
    let (status, body) = srv
        .bapi(
            d,
            Method::POST,
            "/v1/role_sets/role_set:silver/roles",
            Some(json!({"role_keys": ["org:temp"], "creator_role_key": "org:temp"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = srv
        .bapi(d, Method::DELETE, "/v1/organization_roles/org:temp", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error(&body).0, "role_set_role_required");
    srv.bapi(
        d,
        Method::PATCH,
        "/v1/role_sets/role_set:silver",
        Some(json!({"creator_role_key": "org:admin"})),
    )
    .await;
    let (status, body) = srv
        .bapi(d, Method::DELETE, "/v1/organization_roles/org:temp", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for key in ["role_set:silver", "role_set:default"] {
        let (_, set) = srv
            .bapi(d, Method::GET, &format!("/v1/role_sets/{key}"), None)
            .await;
        assert!(
            !keys(&set["roles"]).contains(&"org:temp".to_owned()),
            "{key}"
        );
    }
}

/// `n` users `u0@example.com`, `u1@…`.
async fn make_users(srv: &TestServer, n: usize) -> Vec<Value> {
    let mut users = Vec::with_capacity(n);
    for i in 0..n {
        users.push(
            srv.create_user(&srv.default, &format!("u{i}@example.com"))
                .await,
        );
    }
    users
}

async fn instance_settings_drive_the_initial_set(db: Db) {
    use concierge_service::instances::SettingsUpdate;
    let srv = TestServer::spawn(db).await;
    let d = &srv.default;
    custom_role(&srv, "org:analyst", "Analyst", json!({})).await;
    custom_role(
        &srv,
        "org:outsider",
        "Outsider",
        json!({"include_in_initial_role_set": false}),
    )
    .await;
    let updated = srv
        .service
        .update_instance_settings(
            d,
            SettingsUpdate {
                organization_default_role: Some("org:analyst".into()),
                ..SettingsUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.settings.organization_default_role, "org:analyst");
    let (_, primary) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:default", None)
        .await;
    assert_eq!(primary["default_role"]["key"], "org:analyst");
    let refused = srv
        .service
        .update_instance_settings(
            d,
            SettingsUpdate {
                organization_creator_role: Some("org:outsider".into()),
                ..SettingsUpdate::default()
            },
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(concierge_service::ServiceError::Core(
                concierge_core::CoreError::RoleNotInRoleSet { .. }
            ))
        ),
        "{refused:?}"
    );

    // Invitations without a role get the default role.
    let ada = srv.create_user(d, "ada@example.com").await;
    let org = create_org(&srv, json!({"name": "Acme", "created_by": ada["id"]})).await;
    let (_, inv) = srv
        .bapi(
            d,
            Method::POST,
            &format!("/v1/organizations/{org}/invitations"),
            Some(json!({"email_address": "bob@example.com"})),
        )
        .await;
    assert_eq!(inv["role"], "org:analyst");

    // The other way round: changing the initial set through the Backend API shows in the
    // environment (which mirrors the instance settings).
    create_set(
        &srv,
        json!({"name": "Lean", "roles": ["org:analyst", "org:admin"], "type": "initial",
            "default_role_key": "org:admin", "creator_role_key": "org:analyst"}),
    )
    .await;
    let mut browser = srv.browser();
    let env = browser.get("/v1/environment").await;
    assert_eq!(
        env.body["organization_settings"]["creator_role"],
        "org:analyst"
    );
    assert_eq!(
        env.body["organization_settings"]["domains"]["default_role"],
        "org:admin"
    );
    let (_, primary) = srv
        .bapi(d, Method::GET, "/v1/role_sets/role_set:default", None)
        .await;
    assert_eq!(primary["type"], "custom");
    let (_, other_env) = srv
        .bapi(
            &srv.other,
            Method::GET,
            "/v1/role_sets/role_set:default",
            None,
        )
        .await;
    assert_eq!(
        other_env["type"], "initial",
        "other instances are untouched"
    );
    let bob = srv.create_user(d, "bob@example.com").await;
    let lean_org = create_org(&srv, json!({"name": "Lean Co", "created_by": bob["id"]})).await;
    assert_eq!(roles_in(&srv, &lean_org).await[0].1, "org:analyst");
}
