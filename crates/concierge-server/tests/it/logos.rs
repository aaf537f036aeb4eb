//! Organization logos: uploaded through the Backend API (`PUT /v1/organizations/{id}/logo`,
//! multipart with `uploader_user_id`) or from `<OrganizationProfile/>` (clerk-js
//! `organization.setLogo`), served by the Frontend API, replaced and deleted.

use concierge_testkit::{Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::both_databases!(
    backend_logo_upload,
    browser_logo_upload_needs_profile_permission
);

fn png(fill: u8) -> Vec<u8> {
    [
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        &[fill; 48][..],
    ]
    .concat()
}

/// A multipart body with the file and extra text fields, and its content type.
fn multipart(file: &[u8], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "----concierge-logo-test";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn put_logo(
    srv: &TestServer,
    secret_key: &str,
    org: &str,
    file: &[u8],
    fields: &[(&str, &str)],
) -> (StatusCode, Value) {
    let (content_type, body) = multipart(file, fields);
    let res = srv
        .http()
        .put(format!("{}/v1/organizations/{org}/logo", srv.backend_url))
        .bearer_auth(secret_key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// GETs a stored image by the path of its URL on this test server's Frontend API.
async fn fetch_image(srv: &TestServer, url: &str) -> (StatusCode, Vec<u8>) {
    let (_, id) = url.split_once("/v1/images/").unwrap();
    let res = srv
        .http()
        .get(format!("{}/v1/images/{id}", srv.frontend_url))
        .send()
        .await
        .unwrap();
    (res.status(), res.bytes().await.unwrap().to_vec())
}

async fn backend_logo_upload(db: Db) {
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
    let org_id = org["id"].as_str().unwrap();
    assert_eq!(org["has_image"], false);
    let sk = srv.default.secret_key.clone();

    // Not an image; an unknown uploader; an unknown organization; another instance's key.
    let (status, body) = put_logo(&srv, &sk, org_id, b"plain text", &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["meta"]["param_name"], "file");
    let (status, _) = put_logo(
        &srv,
        &sk,
        org_id,
        &png(1),
        &[("uploader_user_id", "user_nobody")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = put_logo(&srv, &sk, "org_missing", &png(1), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = put_logo(&srv, &srv.other.secret_key, org_id, &png(1), &[]).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another instance never sees the organization"
    );
    let (_, unchanged) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/organizations/{org_id}"),
            None,
        )
        .await;
    assert_eq!(
        unchanged["has_image"], false,
        "a failed upload changes nothing"
    );

    // Uploaded: the organization points at an image the Frontend API serves.
    let (status, body) =
        put_logo(&srv, &sk, org_id, &png(1), &[("uploader_user_id", ada_id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["has_image"], true);
    let first = body["image_url"].as_str().unwrap().to_owned();
    assert!(first.starts_with(&srv.frontend_url), "{first}");
    assert_eq!(fetch_image(&srv, &first).await, (StatusCode::OK, png(1)));
    let (_, by_slug) = srv
        .bapi(&srv.default, Method::GET, "/v1/organizations/acme", None)
        .await;
    assert_eq!(by_slug["image_url"], first.as_str());

    // Replaced: the old file is gone.
    let (status, body) = put_logo(&srv, &sk, org_id, &png(2), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let second = body["image_url"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(fetch_image(&srv, &second).await, (StatusCode::OK, png(2)));
    assert_eq!(fetch_image(&srv, &first).await.0, StatusCode::NOT_FOUND);

    // Deleted.
    let (status, body) = srv
        .bapi(
            &srv.default,
            Method::DELETE,
            &format!("/v1/organizations/{org_id}/logo"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["has_image"], false);
    assert_eq!(fetch_image(&srv, &second).await.0, StatusCode::NOT_FOUND);
}

async fn browser_logo_upload_needs_profile_permission(db: Db) {
    let srv = TestServer::spawn(db).await;
    let ada = srv.create_user(&srv.default, "ada@example.com").await;
    let bob = srv.create_user(&srv.default, "bob@example.com").await;
    let (_, org) = srv
        .bapi(
            &srv.default,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": "Globex", "created_by": ada["id"]})),
        )
        .await;
    let org_id = org["id"].as_str().unwrap();
    let (status, _) = srv
        .bapi(
            &srv.default,
            Method::POST,
            &format!("/v1/organizations/{org_id}/memberships"),
            Some(json!({"user_id": bob["id"], "role": "org:member"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let path =
        |sid: &str| format!("/v1/organizations/{org_id}/logo?_method=PUT&_clerk_session_id={sid}");

    // A member lacks org:sys_profile:manage.
    let (mut bob_browser, bob_sid) = srv.signed_in("bob@example.com").await;
    let (content_type, body) = multipart(&png(3), &[]);
    let answer = bob_browser
        .send_body(
            Method::POST,
            &path(&bob_sid),
            Some(&content_type),
            body.clone(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);

    // The admin uploads as <OrganizationProfile/> does (PUT via _method, multipart `file`).
    let (mut ada_browser, ada_sid) = srv.signed_in("ada@example.com").await;
    let answer = ada_browser
        .send_body(Method::POST, &path(&ada_sid), Some(&content_type), body)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["response"]["object"], "organization");
    assert_eq!(answer.body["response"]["has_image"], true);
    let url = answer.body["response"]["image_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fetch_image(&srv, &url).await, (StatusCode::OK, png(3)));
    let (_, seen) = srv
        .bapi(
            &srv.default,
            Method::GET,
            &format!("/v1/organizations/{org_id}"),
            None,
        )
        .await;
    assert_eq!(seen["image_url"], url.as_str());

    // Removed from the browser (`setLogo({ file: null })`).
    let answer = bob_browser
        .send(
            Method::DELETE,
            &format!("/v1/organizations/{org_id}/logo?_clerk_session_id={bob_sid}"),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = ada_browser
        .send(
            Method::DELETE,
            &format!("/v1/organizations/{org_id}/logo?_clerk_session_id={ada_sid}"),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["response"]["has_image"], false);
    assert_eq!(fetch_image(&srv, &url).await.0, StatusCode::NOT_FOUND);
}
