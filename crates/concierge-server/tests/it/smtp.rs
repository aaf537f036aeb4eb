//! Email over SMTP: with an `[smtp]` table the real binary hands verification codes to the relay
//! (multipart text + HTML) instead of keeping them in the mailbox.
//!
//! The relay is a minimal SMTP receiver written here: it speaks the protocol (greeting, EHLO,
//! MAIL, RCPT, DATA, QUIT) and records what it was given, so `lettre` runs for real.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpListener;

const BIN: &str = env!("CARGO_BIN_EXE_concierge");

/// Accepts SMTP sessions and sends each received message's DATA to `delivered`.
async fn run_relay(
    listener: TcpListener,
    delivered: tokio::sync::mpsc::UnboundedSender<(String, String)>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let delivered = delivered.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = AsyncBufReader::new(read).lines();
            let _ = write.write_all(b"220 relay.test ESMTP\r\n").await;
            let mut rcpt = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                let upper = line.to_ascii_uppercase();
                if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                    let _ = write.write_all(b"250-relay.test\r\n250 8BITMIME\r\n").await;
                } else if upper.starts_with("RCPT TO:") {
                    rcpt = line[8..].trim().trim_matches(['<', '>']).to_owned();
                    let _ = write.write_all(b"250 OK\r\n").await;
                } else if upper.starts_with("DATA") {
                    let _ = write.write_all(b"354 go ahead\r\n").await;
                    let mut data = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line == "." {
                            break;
                        }
                        data.push_str(&line);
                        data.push('\n');
                    }
                    let _ = delivered.send((rcpt.clone(), data));
                    let _ = write.write_all(b"250 queued\r\n").await;
                } else if upper.starts_with("QUIT") {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                } else {
                    let _ = write.write_all(b"250 OK\r\n").await;
                }
            }
        });
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_codes_go_to_the_smtp_relay() {
    let relay = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_port = relay.local_addr().unwrap().port();
    let (tx, mut delivered) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(run_relay(relay, tx));

    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/concierge.db", dir.path().display());
    let config = dir.path().join("concierge.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {relay_port}\nsecurity = \"none\"\nfrom = \"Concierge <no-reply@concierge.test>\"\n"
        ),
    )
    .unwrap();
    let (front, back) = (free_port(), free_port());
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--frontend-addr",
            &format!("127.0.0.1:{front}"),
            "--backend-addr",
            &format!("127.0.0.1:{back}"),
        ])
        .arg("--config")
        .arg(&config)
        .env("CONCIERGE_DATABASE_URL", &db_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = ready_tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = ready_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("serve printed its ready line");
        if line.starts_with("concierge ready") {
            break;
        }
    }

    let http = reqwest::Client::new();
    let fapi = format!("http://127.0.0.1:{front}");
    let created = http
        .post(format!("{fapi}/v1/client/sign_ups"))
        .header("origin", "http://localhost:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email_address=smtp%40example.com&password=correct-horse-battery")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let cookie = created
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("__client="))
        .unwrap();
    let body: serde_json::Value = created.json().await.unwrap();
    let id = body["response"]["id"].as_str().unwrap();
    let prepared = http
        .post(format!(
            "{fapi}/v1/client/sign_ups/{id}/prepare_verification"
        ))
        .header("origin", "http://localhost:3000")
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("strategy=email_code")
        .send()
        .await
        .unwrap();
    assert_eq!(prepared.status(), 200);

    let (to, data) = tokio::time::timeout(Duration::from_secs(20), delivered.recv())
        .await
        .expect("the relay received a message")
        .unwrap();
    assert_eq!(to, "smtp@example.com");
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(
        data.contains("text/plain") && data.contains("text/html"),
        "{data}"
    );
    assert!(
        data.contains("From: Concierge <no-reply@concierge.test>"),
        "{data}"
    );
    let code = data
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );

    // Nothing went to the mailbox, and the code works.
    let mailbox = Command::new(BIN)
        .args(["mailbox", "--json"])
        .env("CONCIERGE_DATABASE_URL", &db_url)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&mailbox.stdout).trim(), "[]");
    let done = http
        .post(format!(
            "{fapi}/v1/client/sign_ups/{id}/attempt_verification"
        ))
        .header("origin", "http://localhost:3000")
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("code={code}"))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = done.json().await.unwrap();
    assert_eq!(body["response"]["status"], "complete", "{body}");

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_bad_smtp_table_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("concierge.toml");
    std::fs::write(
        &config,
        "[smtp]\nhost = \"127.0.0.1\"\nsecurity = \"carrier-pigeon\"\nfrom = \"a@b.test\"\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args([
            "serve",
            "--frontend-addr",
            "127.0.0.1:0",
            "--backend-addr",
            "127.0.0.1:0",
        ])
        .arg("--config")
        .arg(&config)
        .env(
            "CONCIERGE_DATABASE_URL",
            format!("sqlite://{}/c.db", dir.path().display()),
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("smtp.security"), "{stderr}");
}
