//! Shared support for the integration tests: a real server (the real router on a free
//! loopback port, a real sled store in a temp dir, the real read side following it), a
//! reqwest client, tokens per role and a settable business clock.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, FixedOffset};
use reception_app::{App, AppConfig};
use reception_domain::Role;
use reception_store::Store;
use serde_json::{json, Value};

/// Every answer this client receives is checked against the OpenAPI document.
#[path = "../../crates/api/tests/support/openapi_check.rs"]
pub mod openapi_check;

/// The business clock the server decides with; tests move it.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<DateTime<FixedOffset>>>);

impl TestClock {
    /// A clock standing at `at`.
    pub fn at(at: &str) -> TestClock {
        TestClock(Arc::new(Mutex::new(t(at))))
    }
    /// Now.
    pub fn now(&self) -> DateTime<FixedOffset> {
        *self.0.lock().expect("clock lock")
    }
    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<FixedOffset>) {
        *self.0.lock().expect("clock lock") = at;
    }
    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut g = self.0.lock().expect("clock lock");
        *g += by;
    }
}

/// Parses an RFC 3339 time (test input, known good).
pub fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("bad test time {s:?}: {e}"))
}

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The data dir (store in `store/`, `admin.token`).
    pub dir: PathBuf,
    /// The bootstrap admin token.
    pub admin: String,
    pub clock: TestClock,
    pub client: reqwest::Client,
    store: Store,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    follow: Option<tokio::task::JoinHandle<()>>,
    projections: Option<tokio::task::JoinHandle<()>>,
    /// The read side behind the query routes.
    pub read: reception_projections::ReadSide,
    /// The notifier, when started with one.
    pub notifier: Option<reception_notify::NotifierHandle>,
    /// The two approvers' tokens (department manager, general manager), issued once:
    /// a token is an event in the log, and tests count the log.
    approvers: tokio::sync::OnceCell<(String, String)>,
    _tmp: Option<tempfile::TempDir>,
}

/// An HTTP answer: status and JSON body (`Null` when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    /// Asserts the status, printing the body on failure.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self.body
    }
}

impl Server {
    /// A fresh server in a new temp dir, clock at 2026-11-02 09:00 +08:00.
    pub async fn start() -> Server {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let mut s = Server::start_in(&dir, TestClock::at("2026-11-02T09:00:00+08:00")).await;
        s._tmp = Some(tmp);
        s
    }

    /// A fresh server with the notifier running (issue 20), clock at 2026-11-02 09:00.
    pub async fn start_notifying(cfg: reception_notify::NotifyConfig) -> Server {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let clock = TestClock::at("2026-11-02T09:00:00+08:00");
        let mut s = Server::start_with(&dir, clock, Some(cfg)).await;
        s._tmp = Some(tmp);
        s
    }

    /// A server on an existing data dir (restart), with the given clock.
    pub async fn start_in(dir: &Path, clock: TestClock) -> Server {
        Server::start_with(dir, clock, None).await
    }

    /// [`Server::start_in`], with a notifier when `notify` is given.
    pub async fn start_with(
        dir: &Path,
        clock: TestClock,
        notify: Option<reception_notify::NotifyConfig>,
    ) -> Server {
        // A stopped server's last handles may take a moment to drop.
        let mut tries = 0;
        let store = loop {
            match Store::open(dir.join("store")) {
                Ok(s) => break s,
                Err(reception_store::StoreError::Locked { .. }) if tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("open store: {e}"),
            }
        };
        let c = clock.clone();
        let config = AppConfig {
            tz: chrono_tz::Asia::Shanghai,
            clock: Some(Arc::new(move || c.now())),
        };
        let app = App::new(store.clone(), config);
        let boot = app.clone();
        let boot_dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || boot.bootstrap(&boot_dir))
            .await
            .expect("join")
            .expect("bootstrap");
        let admin = std::fs::read_to_string(dir.join("admin.token"))
            .expect("admin.token")
            .trim()
            .to_string();
        let follow = tokio::spawn(app.clone().follow_tokens());
        let read = reception_projections::ReadSide::open(
            &store,
            reception_projections::ReadSideConfig {
                tz: chrono_tz::Asia::Shanghai,
                ..reception_projections::ReadSideConfig::default()
            },
        )
        .expect("open the read side");
        let projections = read.spawn();
        let notifier = notify.map(|cfg| {
            reception_notify::Notifier::spawn(app.clone(), cfg).expect("start the notifier")
        });
        let mut state = reception_api::AppState::new(app).with_read_side(read.clone());
        if let Some(n) = &notifier {
            state = state.with_notifier(n.clone());
        }
        // the dashboard is served beside the API, as the binary does
        let router = reception_api::router_with(state, reception_web::router());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
            .expect("server");
        });
        Server {
            base: format!("http://{addr}"),
            dir: dir.to_path_buf(),
            admin,
            clock,
            client: reqwest::Client::new(),
            store,
            stop: Some(tx),
            task: Some(task),
            follow: Some(follow),
            projections: Some(projections),
            read,
            notifier,
            approvers: tokio::sync::OnceCell::new(),
            _tmp: None,
        }
    }

    /// Graceful stop: finishes requests, closes the store. Keeps the temp dir alive in
    /// the returned guard so that a restart can reuse it.
    pub async fn stop(mut self) -> (PathBuf, TestClock, Option<tempfile::TempDir>) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(follow) = self.follow.take() {
            follow.abort();
            let _ = follow.await;
        }
        if let Some(projections) = self.projections.take() {
            projections.abort();
            let _ = projections.await;
        }
        if let Some(n) = self.notifier.take() {
            n.abort();
        }
        self.store.close().expect("close store");
        (self.dir.clone(), self.clock.clone(), self._tmp.take())
    }

    /// The store (for reading the log directly).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Issues a token for `role` (user `<role>.user`).
    pub async fn token(&self, role: Role) -> String {
        self.token_for(&format!("{}.user", role.as_str()), role)
            .await
    }

    /// Issues a token for a user in a role.
    pub async fn token_for(&self, user: &str, role: Role) -> String {
        let a = self
            .post(
                &self.admin,
                "/api/v1/tokens",
                json!({ "user": user, "role": role }),
            )
            .await;
        let body = a.expect(201);
        body["token"].as_str().expect("token").to_string()
    }

    /// Two approvers' tokens, two different users (V22: the department manager's and the
    /// general manager's approvals of a special visit are given by two people). Issued
    /// on first use, then the same tokens.
    pub async fn approvers(&self) -> &(String, String) {
        self.approvers
            .get_or_init(|| async {
                (
                    self.token_for("dept.manager", Role::Approver).await,
                    self.token_for("general.manager", Role::Approver).await,
                )
            })
            .await
    }

    /// V22: approves visit `visit`'s request for `level` under the default policy: the
    /// department manager's approval, and for `special` also the general manager's,
    /// each from its own approver. Returns the last command's answer.
    pub async fn approve_request(&self, visit: &str, level: &str) -> Value {
        let (dept, general) = self.approvers().await.clone();
        let mut approvals = vec![(dept, "department_manager")];
        if level == "special" {
            approvals.push((general, "general_manager"));
        }
        let mut last = Value::Null;
        for (token, as_) in approvals {
            last = self
                .post(
                    &token,
                    &format!("/api/v1/visits/{visit}/approve-request"),
                    json!({ "decision": "approve", "as": as_ }),
                )
                .await
                .expect(200);
        }
        last
    }

    /// V22, V3: approves the request for `level` and assigns it as `reception`; returns
    /// the assign-level answer.
    pub async fn approve_and_assign(&self, reception: &str, visit: &str, level: &str) -> Value {
        self.approve_request(visit, level).await;
        self.post(
            reception,
            &format!("/api/v1/visits/{visit}/assign-level"),
            json!({ "level": level }),
        )
        .await
        .expect(200)
    }

    /// POST with a bearer token and a JSON body.
    pub async fn post(&self, token: &str, path: &str, body: Value) -> Answer {
        self.post_with(token, path, body.to_string(), &[]).await
    }

    /// POST raw text with extra headers.
    pub async fn post_with(
        &self,
        token: &str,
        path: &str,
        body: String,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer("POST", path, req.send().await.expect("request")).await
    }

    /// GET with a bearer token (empty: none).
    pub async fn get(&self, token: &str, path: &str) -> Answer {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        answer("GET", path, req.send().await.expect("request")).await
    }

    /// DELETE with a bearer token.
    pub async fn delete(&self, token: &str, path: &str) -> Answer {
        let req = self
            .client
            .delete(format!("{}{path}", self.base))
            .bearer_auth(token);
        answer("DELETE", path, req.send().await.expect("request")).await
    }

    /// Seq of the last event in the global log.
    pub fn head(&self) -> u64 {
        self.store.head().0
    }
}

/// The answer, after checking it against the OpenAPI document.
async fn answer(method: &str, path: &str, res: reqwest::Response) -> Answer {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = res.text().await.unwrap_or_default();
    openapi_check::check(
        reception_api::openapi::document(),
        method,
        path,
        status,
        content_type.as_deref(),
        &text,
    );
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, body }
}

/// A visit request body per API.md, arriving `arrive_in_days` after `now`.
pub fn visit_request(now: DateTime<FixedOffset>, arrive_in_days: i64, visitors: usize) -> Value {
    let arrival = now + Duration::days(arrive_in_days);
    let departure = arrival + Duration::days(2);
    let visitors: Vec<Value> = (0..visitors)
        .map(|i| json!({ "name": format!("Visitor {i}"), "title": "General Manager", "phone": format!("+86 138 0000 {i:04}") }))
        .collect();
    json!({
        "customer": { "company": "Huaxin Dealers Ltd", "country": "CN", "foreign": false },
        "department": "east-sales",
        "visitors": visitors,
        "headcount": visitors.len(),
        "purpose": "dealership renewal",
        "arrival": { "at": arrival, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport" },
        "departure": { "at": departure, "mode": "train", "number": "G7", "place": "station",
                       "arrives_home_at": departure + Duration::hours(5) },
        "needs": { "pickup": true, "dropoff": true, "lodging": true, "meeting_room": true },
        "expedited": null
    })
}
