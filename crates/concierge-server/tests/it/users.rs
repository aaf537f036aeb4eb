//! `/v1/users` and `/v1/email_addresses` end to end.

use concierge_testkit::{Db, TestServer, START_MS};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(
    create_and_get_user,
    list_filters_order_and_count,
    update_and_metadata,
    verify_password_and_bcrypt_import,
    ban_lock_and_delete,
    email_address_lifecycle,
);

async fn create_and_get_user(db: Db) {
    let srv = TestServer::spawn(db).await;
    let (status, user) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/users",
            Some(json!({"email_address": ["Jane@Example.com"], "password": "correct-horse-battery",
                        "first_name": "Jane", "last_name": "Doe", "external_id": "ext-1", "username": "jane_doe",
                        "public_metadata": {"plan": "pro"}, "private_metadata": {"secret": 1}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let id = user["id"].as_str().unwrap();
    let (status, fetched) = srv
        .bapi(&srv.default, Method::GET, &format!("/v1/users/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, user);
    insta::assert_json_snapshot!("bapi_user", fetched, {
        ".id" => "[user_id]",
        ".primary_email_address_id" => "[email_id]",
        ".email_addresses[].id" => "[email_id]",
    });
    assert_eq!(fetched["created_at"], json!(START_MS));
}

async fn list_filters_order_and_count(db: Db) {
    let srv = TestServer::spawn(db).await;
    let mut ids = Vec::new();
    for (i, (email, name)) in [
        ("ann@a.test", "Ann"),
        ("bob@b.test", "Bob"),
        ("cat@c.test", "Cat"),
    ]
    .iter()
    .enumerate()
    {
        srv.clock.advance(1000);
        let (status, user) = srv
            .bapi(
                &srv.default,
                Method::POST,
                "/v1/users",
                Some(json!({"email_address": [email], "first_name": name, "external_id": format!("x{i}")})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{user}");
        ids.push(user["id"].as_str().unwrap().to_owned());
    }
    let names = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| u["first_name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (_, list) = srv.bapi(&srv.default, Method::GET, "/v1/users", None).await;
    assert_eq!(
        names(&list),
        ["Cat", "Bob", "Ann"],
        "default order is newest first"
    );
    let (_, list) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/users?order_by=%2Bcreated_at&limit=2",
            None,
        )
        .await;
    assert_eq!(names(&list), ["Ann", "Bob"]);
    let (_, list) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/users?order_by=-first_name&offset=1",
            None,
        )
        .await;
    assert_eq!(names(&list), ["Bob", "Ann"]);
    let (_, list) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/users?email_address=ann@a.test&email_address=cat@c.test&order_by=first_name",
            None,
        )
        .await;
    assert_eq!(names(&list), ["Ann", "Cat"]);
    let (_, list) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/users?user_id={}", ids[1]),
            None,
        )
        .await;
    assert_eq!(names(&list), ["Bob"]);
    let (_, list) = srv
        .bapi(&srv.default, Method::GET, "/v1/users?external_id=x2", None)
        .await;
    assert_eq!(names(&list), ["Cat"]);
    let (_, list) = srv
        .bapi(&srv.default, Method::GET, "/v1/users?query=B.TE", None)
        .await;
    assert_eq!(names(&list), ["Bob"]);
    let (_, list) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/users?created_at_after={}", START_MS + 1500),
            None,
        )
        .await;
    assert_eq!(names(&list), ["Cat", "Bob"]);
    let (_, list) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/users?phone_number=%2B15555550100",
            None,
        )
        .await;
    assert_eq!(list, json!([]));
    let (_, count) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/users/count?query=a.test",
            None,
        )
        .await;
    assert_eq!(count, json!({"object": "total_count", "total_count": 1}));
    let (_, count) = srv
        .bapi(&srv.default, Method::GET, "/v1/users/count", None)
        .await;
    assert_eq!(count["total_count"], 3);
    let (status, err) = srv
        .bapi(&srv.default, Method::GET, "/v1/users?limit=501", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["meta"]["param_name"], "limit");
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::GET,
            "/v1/users?order_by=shoe_size",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn update_and_metadata(db: Db) {
    let srv = TestServer::spawn(db).await;
    let user = srv.create_user(&srv.default, "meta@example.com").await;
    let id = user["id"].as_str().unwrap();
    srv.clock.advance(5000);
    let (status, updated) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(json!({"first_name": "Meta", "username": "Meta_User"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["first_name"], "Meta");
    assert_eq!(updated["username"], "meta_user");
    assert_eq!(updated["updated_at"], json!(START_MS + 5000));
    let (_, updated) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(json!({"first_name": null})),
        )
        .await;
    assert_eq!(updated["first_name"], Value::Null);

    let path = format!("/v1/users/{id}/metadata");
    let (_, merged) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &path,
            Some(json!({"public_metadata": {"a": 1, "nested": {"x": 1, "y": 2}}})),
        )
        .await;
    assert_eq!(
        merged["public_metadata"],
        json!({"a": 1, "nested": {"x": 1, "y": 2}})
    );
    let (_, merged) = srv
        .bapi(&srv.default, Method::PATCH, &path, Some(json!({"public_metadata": {"a": null, "nested": {"y": 3}}, "private_metadata": {"p": true}})))
        .await;
    assert_eq!(
        merged["public_metadata"],
        json!({"nested": {"x": 1, "y": 3}})
    );
    assert_eq!(merged["private_metadata"], json!({"p": true}));
    let (_, replaced) = srv
        .bapi(
            &srv.default,
            Method::PUT,
            &path,
            Some(json!({"public_metadata": {"only": "this"}})),
        )
        .await;
    assert_eq!(replaced["public_metadata"], json!({"only": "this"}));
    assert_eq!(
        replaced["private_metadata"],
        json!({"p": true}),
        "PUT leaves omitted documents alone"
    );
    let (status, err) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &path,
            Some(json!({"public_metadata": [1, 2]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["meta"]["param_name"], "public_metadata");

    // Merges sent at the same moment (from several app servers, say) all land: each reads the
    // user with its row locked, so none writes back a copy from before another's change.
    let merge = |i: u8| {
        let body = json!({"public_metadata": {format!("k{i}"): i}});
        srv.bapi(&srv.default, Method::PATCH, &path, Some(body))
    };
    let answers = tokio::join!(merge(0), merge(1), merge(2), merge(3));
    for (status, body) in [answers.0, answers.1, answers.2, answers.3] {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, user) = srv
        .bapi(&srv.default, Method::GET, &format!("/v1/users/{id}"), None)
        .await;
    let keys = user["public_metadata"].as_object().map(|m| m.len());
    assert_eq!(keys, Some(5), "{}", user["public_metadata"]);
}

async fn verify_password_and_bcrypt_import(db: Db) {
    let srv = TestServer::spawn(db).await;
    let user = srv.create_user(&srv.default, "pw@example.com").await;
    let id = user["id"].as_str().unwrap();
    let path = format!("/v1/users/{id}/verify_password");
    let (status, body) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &path,
            Some(json!({"password": "correct-horse-battery"})),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"verified": true})));
    let (status, body) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &path,
            Some(json!({"password": "wrong-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "incorrect_password");

    // bcrypt of "imported-pass-1" with cost 4.
    let digest = "$2b$04$mnQLnR1XN/O9Rfc559O9W.scACJva6Qim29rxegeJgRxinRdLbssq";
    let (status, imported) = srv
        .bapi(&srv.default, Method::POST, "/v1/users", Some(json!({"email_address": ["old@example.com"], "password_digest": digest, "password_hasher": "bcrypt"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(imported["password_enabled"], true);
    let path = format!(
        "/v1/users/{}/verify_password",
        imported["id"].as_str().unwrap()
    );
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &path,
            Some(json!({"password": "imported-pass-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "bcrypt import verifies");
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &path,
            Some(json!({"password": "imported-pass-2"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &path,
            Some(json!({"password": "imported-pass-1"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "and still verifies after the argon2id upgrade"
    );
    let imported_id = concierge_core::UserId::parse(imported["id"].as_str().unwrap()).unwrap();
    let mut conn = srv.db.store.read().await.unwrap();
    let stored = conn.get_user(&srv.default.id, &imported_id).await.unwrap();
    assert!(
        stored.password_hash.unwrap().0.starts_with("$argon2id$"),
        "bcrypt digest upgraded on first success"
    );
    let (status, err) = srv
        .bapi(&srv.default, Method::POST, "/v1/users", Some(json!({"email_address": ["bad@example.com"], "password_digest": "nope", "password_hasher": "bcrypt"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["meta"]["param_name"], "password_digest");
}

async fn ban_lock_and_delete(db: Db) {
    let srv = TestServer::spawn(db).await;
    let user = srv.create_user(&srv.default, "ban@example.com").await;
    let id = user["id"].as_str().unwrap();
    let (_, session) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/sessions",
            Some(json!({"user_id": id})),
        )
        .await;
    let (_, banned) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/users/{id}/ban"),
            None,
        )
        .await;
    assert_eq!(banned["banned"], true);
    let (_, revoked) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/sessions/{}", session["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(revoked["status"], "revoked", "banning revokes sessions");
    let (_, unbanned) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/users/{id}/unban"),
            None,
        )
        .await;
    assert_eq!(unbanned["banned"], false);
    let (_, locked) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/users/{id}/lock"),
            None,
        )
        .await;
    assert_eq!(locked["locked"], true);
    let (_, unlocked) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/users/{id}/unlock"),
            None,
        )
        .await;
    assert_eq!(unlocked["locked"], false);
    let (status, deleted) = srv
        .bapi(
            &srv.default,
            Method::DELETE,
            &format!("/v1/users/{id}"),
            None,
        )
        .await;
    assert_eq!(
        (status, deleted),
        (
            StatusCode::OK,
            json!({"object": "user", "id": id, "deleted": true})
        )
    );
    let (status, err) = srv
        .bapi(&srv.default, Method::GET, &format!("/v1/users/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["errors"][0]["code"], "resource_not_found");
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/sessions/{}", session["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "sessions go with the user");
}

async fn email_address_lifecycle(db: Db) {
    let srv = TestServer::spawn(db).await;
    let user = srv.create_user(&srv.default, "first@example.com").await;
    let id = user["id"].as_str().unwrap();
    let (status, email) = srv
        .bapi(&srv.default, Method::POST, "/v1/email_addresses", Some(json!({"user_id": id, "email_address": "second@example.com", "verified": true, "primary": true})))
        .await;
    assert_eq!(status, StatusCode::OK, "{email}");
    let email_id = email["id"].as_str().unwrap();
    assert_eq!(email["verification"]["status"], "verified");
    let (_, user) = srv
        .bapi(&srv.default, Method::GET, &format!("/v1/users/{id}"), None)
        .await;
    assert_eq!(user["primary_email_address_id"], email_id);
    assert_eq!(user["email_addresses"].as_array().unwrap().len(), 2);
    let (_, updated) = srv
        .bapi(
            &srv.default,
            Method::PATCH,
            &format!("/v1/email_addresses/{email_id}"),
            Some(json!({"verified": false})),
        )
        .await;
    assert_eq!(updated["verification"]["status"], "unverified");
    let (_, fetched) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/email_addresses/{email_id}"),
            None,
        )
        .await;
    assert_eq!(fetched, updated);
    let (status, err) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/email_addresses",
            Some(json!({"user_id": id, "email_address": "FIRST@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["code"], "form_identifier_exists");
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::DELETE,
            &format!("/v1/email_addresses/{email_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, user) = srv
        .bapi(&srv.default, Method::GET, &format!("/v1/users/{id}"), None)
        .await;
    assert_eq!(user["email_addresses"].as_array().unwrap().len(), 1);
    assert_eq!(
        user["primary_email_address_id"], user["email_addresses"][0]["id"],
        "primary falls back to the remaining address"
    );
}
