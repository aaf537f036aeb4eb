//! The official browser bundles served from the Frontend API listener (`/npm/@clerk/…`). They
//! touch no database, so these tests run on SQLite only.

use concierge_testkit::{Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::Value;

// The pinned versions; scripts/update-bundles.sh rewrites these lines.
const CLERK_JS_6: &str = "6.40.0";
const CLERK_JS_5: &str = "5.128.0";
const CLERK_UI_1: &str = "1.34.0";

const JS: &str = "application/javascript; charset=utf-8";

async fn fetch(srv: &TestServer, method: Method, path: &str) -> reqwest::Response {
    srv.http()
        .request(method, format!("{}{}", srv.frontend_url, path))
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

/// GETs a bundle file, checks the headers every file carries, and returns its text.
async fn script(srv: &TestServer, path: &str, cache_control: &str) -> String {
    let response = fetch(srv, Method::GET, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert_eq!(header(&response, "content-type"), JS, "{path}");
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        "*",
        "{path}"
    );
    assert_eq!(header(&response, "cache-control"), cache_control, "{path}");
    let text = response.text().await.unwrap();
    assert!(!text.is_empty(), "{path}");
    text
}

/// The name of the chunk `name` as the bundle's webpack runtime computes it:
/// `<name>_<bundle>_<first 6 of the build hash>_<version>.js`.
fn chunk_name(entry: &str, name: &str, bundle: &str, version: &str) -> String {
    let marker = ".h=()=>\"";
    let at = entry
        .find(marker)
        .expect("the webpack runtime names its build hash");
    let hash = &entry[at + marker.len()..][..6];
    format!("{name}_{bundle}_{hash}_{version}.js")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_are_served_by_major() {
    let srv = TestServer::spawn(Db::Sqlite).await;
    let short = "public, max-age=300";
    let immutable = "public, max-age=31536000, immutable";

    let clerk = script(&srv, "/npm/@clerk/clerk-js@6/dist/clerk.browser.js", short).await;
    assert!(clerk.contains(CLERK_JS_6), "clerk-js 6 names its version");
    let latest = script(
        &srv,
        "/npm/@clerk/clerk-js@latest/dist/clerk.browser.js",
        short,
    )
    .await;
    assert_eq!(latest, clerk, "any other version is 6.x");

    // The chunks the bundle lazy-loads, under its exact version.
    let chunk = chunk_name(&clerk, "vendors", "clerk.browser", CLERK_JS_6);
    script(
        &srv,
        &format!("/npm/@clerk/clerk-js@{CLERK_JS_6}/dist/{chunk}"),
        immutable,
    )
    .await;

    let ui = script(&srv, "/npm/@clerk/ui@1/dist/ui.browser.js", short).await;
    assert!(ui.contains(CLERK_UI_1), "@clerk/ui names its version");
    let chunk = chunk_name(&ui, "vendors", "ui", CLERK_UI_1);
    script(
        &srv,
        &format!("/npm/@clerk/ui@{CLERK_UI_1}/dist/{chunk}"),
        immutable,
    )
    .await;

    let core2 = script(&srv, "/npm/@clerk/clerk-js@5/dist/clerk.browser.js", short).await;
    assert!(core2.contains(CLERK_JS_5), "clerk-js 5 names its version");
    assert!(!core2.contains(&format!("_{CLERK_JS_6}.js")));
    let pinned = script(
        &srv,
        &format!("/npm/@clerk/clerk-js@{CLERK_JS_5}/dist/clerk.browser.js"),
        immutable,
    )
    .await;
    assert_eq!(pinned, core2);

    // HEAD: the same headers and length, no body.
    let head = fetch(
        &srv,
        Method::HEAD,
        "/npm/@clerk/clerk-js@6/dist/clerk.browser.js",
    )
    .await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-type"), JS);
    assert_eq!(header(&head, "content-length"), clerk.len().to_string());
    assert!(head.bytes().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_bundle_files_are_404_envelopes() {
    let srv = TestServer::spawn(Db::Sqlite).await;
    for path in [
        "/npm/@clerk/clerk-js@6/dist/no-such-file.js",
        "/npm/@clerk/ui@1/dist/clerk.browser.js",
        "/npm/@clerk/backend@2/dist/index.js",
        "/npm/@clerk/clerk-js@6/package.json",
        "/npm/@clerk/clerk-js@6/dist/../package.json",
        "/npm/@clerk/clerk-js@6/dist/%2e%2e/package.json",
    ] {
        let response = fetch(&srv, Method::GET, path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            header(&response, "content-type"),
            "application/json",
            "{path}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "resource_not_found", "{path}");
    }
}
