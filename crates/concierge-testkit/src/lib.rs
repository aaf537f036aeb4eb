//! Test helpers (dev-dependency only): an in-process Concierge on random loopback ports over a
//! fresh database and a fixed clock, with a small Backend API client.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use concierge_core::{FixedClock, Instance};
use concierge_service::instances::NewInstance;
use concierge_service::Service;
use concierge_store::testing::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;

/// 2026-01-01T00:00:00Z: where every test clock starts.
pub const START_MS: i64 = 1_767_225_600_000;

/// Which database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the local PostgreSQL server.
    Postgres,
}

/// The listeners of a second node on the server's database ([`TestServer::spawn_second_node`]).
pub struct Node {
    /// `http://127.0.0.1:<port>` of its Backend API.
    pub backend_url: String,
    /// `http://127.0.0.1:<port>` of its Frontend API.
    pub frontend_url: String,
}

/// A running server with two instances, `default` and `other`.
pub struct TestServer {
    /// `http://127.0.0.1:<port>` of the Frontend API.
    pub frontend_url: String,
    /// `http://127.0.0.1:<port>` of the Backend API.
    pub backend_url: String,
    /// The clock the server reads; advance it instead of sleeping.
    pub clock: Arc<FixedClock>,
    /// The service, for direct checks.
    pub service: Service,
    /// The `default` instance.
    pub default: Instance,
    /// A second instance, for isolation checks.
    pub other: Instance,
    /// Keeps the database alive.
    pub db: TestDb,
    stop: tokio::sync::watch::Sender<bool>,
    http: reqwest::Client,
}

impl TestServer {
    /// Starts a server on the given database.
    pub async fn spawn(db: Db) -> Self {
        let db = match db {
            Db::Sqlite => concierge_store::testing::fresh_sqlite().await,
            Db::Postgres => concierge_store::testing::fresh_postgres().await,
        };
        let clock = Arc::new(FixedClock::new(START_MS));
        let service = Service::new(db.store.clone(), clock.clone());
        let default = service
            .create_instance(NewInstance {
                name: "default".into(),
                frontend_host: Some("clerk.default.test".into()),
                allowed_origins: vec![],
                allow_localhost: true,
                test_mode: false,
            })
            .await
            .unwrap();
        let other = service
            .create_instance(NewInstance {
                name: "other".into(),
                frontend_host: Some("clerk.other.test".into()),
                allowed_origins: vec![],
                allow_localhost: false,
                test_mode: false,
            })
            .await
            .unwrap();
        let frontend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let frontend_url = format!("http://{}", frontend.local_addr().unwrap());
        let backend_url = format!("http://{}", backend.local_addr().unwrap());
        // Emailed links (invitation tickets) and logos point at this listener, as `serve` does.
        service.set_frontend_url(&frontend_url);
        let state = concierge_http::AppState::new(service.clone(), Default::default());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut f = stopped.clone();
        tokio::spawn(concierge_http::serve(
            frontend,
            concierge_http::frontend_router(state.clone()),
            async move {
                let _ = f.wait_for(|stop| *stop).await;
            },
        ));
        let mut b = stopped;
        tokio::spawn(concierge_http::serve(
            backend,
            concierge_http::backend_router(state),
            async move {
                let _ = b.wait_for(|stop| *stop).await;
            },
        ));
        Self {
            frontend_url,
            backend_url,
            clock,
            service,
            default,
            other,
            db,
            stop,
            http: reqwest::Client::new(),
        }
    }

    /// Starts a second, independent node (its own pool, caches and listeners) on the same
    /// database, as a second `serve` process would be.
    pub async fn spawn_second_node(&self) -> Node {
        let store = concierge_store::open(&self.db.url).await.unwrap();
        let service = Service::new(store, self.clock.clone());
        let state = concierge_http::AppState::new(service, Default::default());
        let mut urls = Vec::new();
        for router in [
            concierge_http::backend_router(state.clone()),
            concierge_http::frontend_router(state),
        ] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            urls.push(format!("http://{}", listener.local_addr().unwrap()));
            let mut stopped = self.stop.subscribe();
            tokio::spawn(concierge_http::serve(listener, router, async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }));
        }
        let frontend_url = urls.pop().unwrap();
        let backend_url = urls.pop().unwrap();
        Node {
            backend_url,
            frontend_url,
        }
    }

    /// A Backend API request as `instance`, returning status and parsed JSON (`Null` when empty).
    pub async fn bapi(
        &self,
        instance: &Instance,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.bapi_with_key(&instance.secret_key, method, path, body)
            .await
    }

    /// A Backend API request with an arbitrary secret key.
    pub async fn bapi_with_key(
        &self,
        secret_key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.bapi_at(&self.backend_url, secret_key, method, path, body)
            .await
    }

    /// A Backend API request to the node at `base_url` (see [`TestServer::spawn_second_node`]).
    pub async fn bapi_at(
        &self,
        base_url: &str,
        secret_key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{base_url}{path}"))
            .bearer_auth(secret_key)
            .header("content-type", "application/json");
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        if text.is_empty() {
            return (status, Value::Null);
        }
        assert_eq!(
            content_type.as_deref(),
            Some("application/json"),
            "exact content type on {path}"
        );
        (status, serde_json::from_str(&text).unwrap())
    }

    /// A raw request to any URL (for malformed bodies and odd headers).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Creates a user in `instance` and returns its JSON.
    pub async fn create_user(&self, instance: &Instance, email: &str) -> Value {
        let (status, user) = self
            .bapi(
                instance,
                Method::POST,
                "/v1/users",
                Some(serde_json::json!({"email_address": [email], "password": "correct-horse-battery"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{user}");
        user
    }
}

/// The claims of a JWT, decoded without verification (tests check what a token says).
pub fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// A browser talking to the Frontend API the way clerk-js does: form bodies, credentials
/// (a cookie jar fed by `Set-Cookie`), the page's `Origin`, and the instance's host.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    host: String,
    secret_key: String,
    /// The address the app's proxy reports for this browser (`X-Forwarded-For`).
    pub ip: String,
    /// The page origin sent as `Origin`.
    pub origin: String,
    /// Cookies by name (what the browser would send back).
    pub cookies: std::collections::BTreeMap<String, String>,
    /// Every `Set-Cookie` of the last response, verbatim.
    pub last_set_cookies: Vec<String>,
}

/// A Frontend API answer.
#[derive(Debug)]
pub struct FapiAnswer {
    /// Status.
    pub status: StatusCode,
    /// Parsed body (`Null` when empty).
    pub body: Value,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Browser {
    /// Sends the following requests to the Frontend API at `frontend_url` (another node), with
    /// the same cookies and address.
    pub fn switch_to(&mut self, frontend_url: &str) {
        self.base = frontend_url.to_owned();
    }

    /// Sends one request; `form` is url-encoded as clerk-js does.
    pub async fn send(&mut self, method: Method, path: &str, form: &[(&str, &str)]) -> FapiAnswer {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let content_type = (method != Method::GET).then_some("application/x-www-form-urlencoded");
        self.send_body(method, path, content_type, body.into_bytes())
            .await
    }

    /// Sends one request with an arbitrary body (uploads).
    pub async fn send_body(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> FapiAnswer {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path))
            .header("x-forwarded-host", &self.host)
            .header("origin", &self.origin)
            // As an app's `/__clerk` proxy forwards it (wire §1.6).
            .header("clerk-secret-key", &self.secret_key)
            .header("x-forwarded-for", &self.ip);
        if !self.cookies.is_empty() {
            let jar = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header("cookie", jar);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        self.last_set_cookies = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for directive in self.last_set_cookies.clone() {
            self.apply_cookie(&directive);
        }
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        FapiAnswer {
            status,
            body,
            headers,
        }
    }

    /// Applies one `Set-Cookie` directive to the jar (`Max-Age=0` deletes).
    pub fn apply_cookie(&mut self, directive: &str) {
        let first = directive.split(';').next().unwrap_or_default();
        let Some((name, value)) = first.split_once('=') else {
            return;
        };
        let expired = directive
            .split(';')
            .any(|attr| attr.trim().eq_ignore_ascii_case("Max-Age=0"));
        if expired {
            self.cookies.remove(name.trim());
        } else {
            self.cookies
                .insert(name.trim().to_owned(), value.to_owned());
        }
    }

    /// `GET`.
    pub async fn get(&mut self, path: &str) -> FapiAnswer {
        self.send(Method::GET, path, &[]).await
    }

    /// `POST` with a form body.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> FapiAnswer {
        self.send(Method::POST, path, form).await
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl TestServer {
    /// A fresh browser (no cookies) on the `default` instance, page origin `http://localhost:3000`.
    pub fn browser(&self) -> Browser {
        self.browser_for(&self.default)
    }

    /// A fresh browser for `instance`.
    pub fn browser_for(&self, instance: &Instance) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.frontend_url.clone(),
            host: instance.frontend_host.clone(),
            secret_key: instance.secret_key.clone(),
            ip: {
                static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
            },
            origin: "http://localhost:3000".into(),
            cookies: Default::default(),
            last_set_cookies: Vec::new(),
        }
    }

    /// A browser on the `default` instance signed in with the password [`TestServer::create_user`]
    /// sets, and the id of its new session.
    pub async fn signed_in(&self, email: &str) -> (Browser, String) {
        let mut browser = self.browser();
        let answer = browser
            .post(
                "/v1/client/sign_ins",
                &[
                    ("identifier", email),
                    ("password", "correct-horse-battery"),
                    ("strategy", "password"),
                ],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let sid = answer.body["response"]["created_session_id"]
            .as_str()
            .unwrap()
            .to_owned();
        (browser, sid)
    }

    /// The newest 6-digit code mailed to `to` in `instance`.
    pub async fn mailed_code(&self, instance: &Instance, to: &str) -> String {
        let messages = self
            .service
            .list_mailbox(&instance.id, Some(to), 1)
            .await
            .unwrap();
        let message = messages.first().expect("a message was sent");
        message
            .text
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a 6-digit code in the text")
            .to_owned()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
