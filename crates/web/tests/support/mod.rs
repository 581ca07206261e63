//! Support for the browser tests: the real API and dashboard routers over a real sled
//! store in a temp dir (with the real read side and, when asked, demo data), an HTTP
//! server that can be stopped and started again on the same port, and the chromium
//! driver in [`cdp`].

pub mod cdp;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{FixedOffset, Utc};
use reception_app::{App, AppConfig};
use reception_store::Store;
use serde_json::{json, Value};
use tokio::runtime::Runtime;

/// The browser tests run one at a time: each starts chromium and a server, and the
/// machine is small.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// chromium's path, or `None` after saying loudly why the browser tests do not run.
/// On CI (`CI` set) a missing browser is a failure, not a skip.
pub fn chromium_or_skip() -> Option<PathBuf> {
    match cdp::chromium_path() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!("chromium is not installed (ops/test.sh installs it with apt-get)")
        }
        None => {
            eprintln!(
                "\n!!!!!!!! SKIPPING BROWSER TEST: /usr/bin/chromium is missing; \
                 install it with `apt-get install -y chromium` (ops/test.sh does) !!!!!!!!\n"
            );
            None
        }
    }
}

/// Where each run's screenshots go for review: `target/screenshots/` (a chosen few are
/// committed under `crates/web/screenshots/`). `SCREENSHOT_DIR` overrides.
pub fn screenshot_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SCREENSHOT_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots")
}

/// The application side: store, app, read side and their tasks, on their own runtime
/// (so that the HTTP side can be killed and restarted without touching them).
pub struct Backend {
    pub rt: Runtime,
    pub state: reception_api::AppState,
    pub admin: String,
    _tmp: tempfile::TempDir,
}

impl Backend {
    /// A fresh store; with `demo_visits > 0`, a year of generated visits ending now.
    pub fn start(demo_visits: usize) -> Backend {
        Backend::start_years(demo_visits, 1)
    }

    /// A fresh store with `demo_visits` generated over the `years` ending now.
    pub fn start_years(demo_visits: usize, years: u32) -> Backend {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let (state, admin) = rt.block_on(async move {
            let store = Store::open(dir.join("store")).expect("open store");
            let config = AppConfig {
                tz: chrono_tz::Asia::Shanghai,
                clock: None,
            };
            let app = App::new(store.clone(), config);
            let boot = app.clone();
            let boot_dir = dir.clone();
            tokio::task::spawn_blocking(move || boot.bootstrap(&boot_dir))
                .await
                .expect("join")
                .expect("bootstrap");
            let admin = std::fs::read_to_string(dir.join("admin.token"))
                .expect("admin.token")
                .trim()
                .to_string();
            if demo_visits > 0 {
                let end = Utc::now().with_timezone(&FixedOffset::east_opt(8 * 3600).expect("+8"));
                let opts = reception_tools::demo::DemoOptions {
                    visits: demo_visits,
                    years,
                    end,
                    concurrency: 8,
                    ..Default::default()
                };
                reception_tools::demo::generate(&app, opts, &mut |_, _| {})
                    .await
                    .expect("demo data");
            }
            tokio::spawn(app.clone().follow_tokens());
            let read = reception_projections::ReadSide::open(
                &store,
                reception_projections::ReadSideConfig {
                    tz: chrono_tz::Asia::Shanghai,
                    ..Default::default()
                },
            )
            .expect("open the read side");
            read.spawn();
            let head = store.head().0;
            assert!(
                read.wait_for(head, Duration::from_secs(120)).await,
                "the read side caught up"
            );
            // the notifier, as `serve` runs it (no channel: the dashboard only)
            let notifier = reception_notify::Notifier::spawn(
                app.clone(),
                reception_notify::NotifyConfig::default(),
            )
            .expect("start the notifier");
            let state = reception_api::AppState::new(app)
                .with_read_side(read)
                .with_notifier(notifier);
            (state, admin)
        });
        Backend {
            rt,
            state,
            admin,
            _tmp: tmp,
        }
    }

    /// A POST through the running server; panics unless it answers 2xx.
    pub fn post(&self, http: &Http, token: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", http.base());
        self.rt.block_on(async {
            let res = reqwest::Client::new()
                .post(&url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("POST");
            let status = res.status();
            let v: Value = res.json().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "POST {path}: {status} {v}");
            v
        })
    }

    /// A GET through the running server.
    pub fn get(&self, http: &Http, token: &str, path: &str) -> Value {
        let url = format!("{}{path}", http.base());
        self.rt.block_on(async {
            let res = reqwest::Client::new()
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .expect("GET");
            assert!(res.status().is_success(), "GET {path}: {}", res.status());
            res.json().await.expect("JSON")
        })
    }

    /// A token for a new user in `role`.
    pub fn token(&self, http: &Http, user: &str, role: &str) -> String {
        let v = self.post(
            http,
            &self.admin,
            "/api/v1/tokens",
            json!({ "user": user, "role": role }),
        );
        v["token"].as_str().expect("token").to_string()
    }

    /// V22: approves visit `visit`'s request for `level` under the default policy: the
    /// department manager's approval, and for `special` also the general manager's,
    /// each by its own approver (two people).
    pub fn approve_request(&self, http: &Http, visit: &str, level: &str) {
        let mut approvals = vec![("dept.manager", "department_manager")];
        if level == "special" {
            approvals.push(("general.manager", "general_manager"));
        }
        for (user, as_) in approvals {
            let approver = self.token(http, user, "approver");
            self.post(
                http,
                &approver,
                &format!("/api/v1/visits/{visit}/approve-request"),
                json!({ "decision": "approve", "as": as_ }),
            );
        }
    }

    /// Files a visit request for `company`, arriving in `days` days; returns its id.
    pub fn file_visit(&self, http: &Http, token: &str, company: &str, days: i64) -> String {
        let now = Utc::now().with_timezone(&FixedOffset::east_opt(8 * 3600).expect("+8"));
        let arrival = now + chrono::Duration::days(days);
        let departure = arrival + chrono::Duration::days(2);
        let body = json!({
            "customer": { "company": company, "country": "CN", "foreign": false },
            "department": "east-sales",
            "visitors": [{ "name": "王磊", "title": "总经理", "phone": "+86 138 0000 0001" }],
            "headcount": 1,
            "purpose": "dealership renewal",
            "arrival": { "at": arrival, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport" },
            "departure": { "at": departure, "mode": "train", "number": "G7", "place": "station",
                           "arrives_home_at": departure + chrono::Duration::hours(5) },
            "needs": { "pickup": true, "dropoff": true, "lodging": false, "meeting_room": true },
            "expedited": null
        });
        let v = self.post(http, token, "/api/v1/visits", body);
        v["stream"]
            .as_str()
            .and_then(|s| s.strip_prefix("visit-"))
            .expect("visit stream")
            .to_string()
    }
}

/// The HTTP side: the API router with the dashboard merged, as the binary serves it,
/// on its own runtime so that [`Http::stop`] drops every connection at once (a server
/// that died, as the board's stream sees it).
pub struct Http {
    rt: Option<Runtime>,
    pub addr: SocketAddr,
}

impl Http {
    /// Serves `backend` on `addr` (port 0: any free port).
    pub fn start(backend: &Backend, addr: SocketAddr) -> Http {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let router = reception_api::router_with(backend.state.clone(), reception_web::router());
        let listener = rt.block_on(async {
            // The port of a server just stopped may take a moment to be free again.
            for _ in 0..100 {
                match tokio::net::TcpListener::bind(addr).await {
                    Ok(l) => return l,
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
            panic!("cannot bind {addr}");
        });
        let addr = listener.local_addr().expect("addr");
        rt.spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Http { rt: Some(rt), addr }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the server and every open connection.
    pub fn stop(mut self) -> SocketAddr {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
        self.addr
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
