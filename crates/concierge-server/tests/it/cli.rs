//! The operator contract, driven through the real binary: `serve`, `instance`, readiness,
//! clean shutdown, and one-line errors on bad configuration.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_concierge");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn concierge(db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("CONCIERGE_DATABASE_URL", db_url)
        .env_remove("CONCIERGE_FRONTEND_ADDR")
        .env_remove("CONCIERGE_BACKEND_ADDR")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_instance_commands_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/data/concierge.db", dir.path().display());
    let (front, back) = (free_port(), free_port());
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--frontend-addr",
            &format!("127.0.0.1:{front}"),
            "--backend-addr",
            &format!("127.0.0.1:{back}"),
        ])
        .env("CONCIERGE_DATABASE_URL", &db_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = Vec::new();
    while !printed
        .iter()
        .any(|l: &String| l.starts_with("concierge ready"))
    {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("serve printed its ready line");
        printed.push(line);
    }
    let text = printed.join("\n");
    assert!(text.contains("publishable key:  pk_live_"), "{text}");
    assert!(text.contains("CLERK_SECRET_KEY=sk_live_"), "{text}");
    for port in [front, back] {
        let status = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }

    let flags = [
        "--frontend-addr",
        &format!("127.0.0.1:{front}"),
        "--backend-addr",
        &format!("127.0.0.1:{back}"),
    ];
    let mut args = vec!["instance", "show", "--json"];
    args.extend(flags);
    let out = concierge(&db_url, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["name"], "default");
    assert!(shown["id"].as_str().unwrap().starts_with("ins_"));
    assert_eq!(shown["backend_api_url"], format!("http://127.0.0.1:{back}"));
    assert_eq!(
        shown["jwks_url"],
        format!("http://127.0.0.1:{back}/v1/jwks")
    );
    assert!(text.contains(shown["secret_key"].as_str().unwrap()));

    let mut args = vec![
        "instance",
        "create",
        "--name",
        "second",
        "--frontend-host",
        "clerk.second.test",
        "--json",
    ];
    args.extend(flags);
    let out = concierge(&db_url, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        created["publishable_key"],
        "pk_live_Y2xlcmsuc2Vjb25kLnRlc3Qk"
    );
    // The new instance's key works against the running server at once.
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{back}/v1/users"))
        .bearer_auth(created["secret_key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let out = concierge(&db_url, &["instance", "create", "--name", "second"]);
    assert!(
        !out.status.success(),
        "duplicate instance names are refused"
    );
    let out = concierge(&db_url, &["instance", "rotate-keys", "second"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "SIGTERM exits 0, got {status}");
}

#[test]
fn bad_configuration_exits_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/c.db", dir.path().display());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "serve".into(),
                "--backend-addr".into(),
                "not-an-address".into(),
            ],
            "backend_addr",
        ),
        (
            vec!["serve".into(), "--database-url".into(), "mysql://x".into()],
            "database_url",
        ),
        (
            vec![
                "serve".into(),
                "--database-url".into(),
                "postgres://postgres@127.0.0.1:1/nope".into(),
            ],
            "database_url",
        ),
        (
            vec![
                "instance".into(),
                "show".into(),
                "missing".into(),
                "--json".into(),
            ],
            "no instance named",
        ),
    ];
    for (args, needle) in cases {
        let out = Command::new(BIN)
            .args(&args)
            .env("CONCIERGE_DATABASE_URL", &db_url)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line, got {stderr}");
        assert!(lines[0].contains(needle), "{args:?}: {stderr}");
    }
    // A port already in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--frontend-addr",
            &addr,
            "--backend-addr",
            "127.0.0.1:0",
        ])
        .env("CONCIERGE_DATABASE_URL", &db_url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("frontend_addr"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn instance_configure_changes_session_settings() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/c.db", dir.path().display());
    let out = concierge(&db_url, &["instance", "create", "--name", "shop", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = concierge(
        &db_url,
        &[
            "instance",
            "configure",
            "shop",
            "--multi-session",
            "true",
            "--session-inactivity-timeout",
            "900",
            "--session-max-lifetime",
            "86400",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let settings: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(settings["multi_session"], true);
    assert_eq!(settings["session_inactivity_timeout_secs"], 900);
    assert_eq!(settings["session_max_lifetime_secs"], 86400);
    let out = concierge(
        &db_url,
        &[
            "instance",
            "configure",
            "shop",
            "--session-inactivity-timeout",
            "0",
        ],
    );
    let settings: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(settings["session_inactivity_timeout_secs"], Value::Null);
    assert_eq!(settings["multi_session"], true, "other settings kept");
    let out = concierge(
        &db_url,
        &[
            "instance",
            "configure",
            "shop",
            "--session-max-lifetime",
            "5",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("session_max_lifetime"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_configure_sets_the_initial_role_set_roles() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/c.db", dir.path().display());
    let out = concierge(&db_url, &["instance", "create", "--name", "shop", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let instance: Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = concierge(
        &db_url,
        &[
            "instance",
            "configure",
            "shop",
            "--organization-default-role",
            "org:admin",
            "--organization-creator-role",
            "org:member",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let settings: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(settings["organization_default_role"], "org:admin");
    assert_eq!(settings["organization_creator_role"], "org:member");
    let out = concierge(
        &db_url,
        &[
            "instance",
            "configure",
            "shop",
            "--organization-default-role",
            "org:nope",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("organization_default_role"), "{stderr}");

    // The flags changed the instance's initial role set (the Primary Role Set).
    let store = concierge_store::open(&db_url).await.unwrap();
    let mut conn = store.read().await.unwrap();
    let id = concierge_core::InstanceId::parse(instance["id"].as_str().unwrap()).unwrap();
    let set = conn.find_initial_role_set(&id).await.unwrap().unwrap();
    assert_eq!(set.key, "role_set:default");
    assert_eq!(
        (set.default_role.as_str(), set.creator_role.as_str()),
        ("org:admin", "org:member")
    );
    drop(conn);
    store.close().await;
}
