//! A store written by the release before the process rules V22–V31 (commit 19c9488):
//! the current binary verifies and rebuilds it, and the current service, reading it
//! through the domain's upcaster, counts its requests as approved, takes its expenses'
//! recording time as when they were spent, and keeps its policy until an admin
//! publishes a new one. How the fixture was made: `tests/fixtures/README.md`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use reception_app::{App, AppConfig};
use reception_store::{Store, StoreOptions};
use serde_json::{json, Value};

/// The store as release 19c9488 left it (`admin.token` and `store/`).
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/store-19c9488.tar.gz"
);
/// The fixture's one visit that was only requested (no level): filed through the old
/// API after the demo data.
const REQUESTED_ONLY: &str = "01a24563-9343-72b6-8106-0e89e1e40ec7";
/// A business time just after the fixture was written (2026-12-05), so that the
/// requested-only visit is still ahead and the answers do not depend on the day the
/// test runs.
const NOW: &str = "2026-12-06T10:00:00+08:00";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reception"))
}

/// The fixture unpacked into a fresh temp dir; returns the dir and its data dir.
fn unpack() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(FIXTURE)
        .arg("-C")
        .arg(&data)
        .output()
        .expect("tar is needed to unpack the fixture");
    assert!(
        out.status.success(),
        "unpacking {FIXTURE}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, data)
}

/// Runs the binary on `data`; asserts it exits 0 and returns its stdout.
fn run(args: &[&str], data: &Path) -> String {
    let out = bin()
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "reception {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_previous_release_s_store_verifies_rebuilds_and_replays_with_the_current_binary() {
    let (_dir, data) = unpack();
    let report: Value = serde_json::from_str(&run(&["verify"], &data)).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let checked = report["events_checked"].as_u64().unwrap();
    assert!(checked > 1_000, "the demo's events and more: {report}");

    // The read models the old release left, caught up by the current one, and the read
    // models the current one rebuilds from the old log give the same cost analyses.
    let years = ["2025", "2026"];
    let costs = |data: &Path| years.map(|y| run(&["export", "costs", "--year", y], data));
    let before = costs(&data);
    run(&["rebuild"], &data);
    let after = costs(&data);
    for (year, csv) in years.iter().zip(&after) {
        assert!(csv.lines().count() > 2, "{year}: the old expenses: {csv}");
    }
    assert_eq!(
        after, before,
        "a rebuild from the old log gives the same analyses"
    );

    // Replay through the upcaster: the old request reads at the current schema.
    let history: Value =
        serde_json::from_str(&run(&["history", "--visit", REQUESTED_ONLY], &data)).unwrap();
    let events = history["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{history}");
    assert_eq!(events[0]["type"], "ReceptionRequested");
    assert_eq!(events[0]["schema"], 2, "upcast on read: {}", events[0]);
    assert_eq!(events[0]["data"]["approval_required"], false);
    assert_eq!(history["state"]["approval"]["required"], false, "{history}");

    // Reading changed nothing stored: the chain still verifies, event for event.
    let again: Value = serde_json::from_str(&run(&["verify"], &data)).unwrap();
    assert_eq!(again["ok"], true, "{again}");
    assert_eq!(again["events_checked"], report["events_checked"]);
    assert_eq!(again["head_hash"], report["head_hash"]);
}

/// The current service on the unpacked store, as `reception serve` opens it (with the
/// domain's upcaster), on a loopback port, deciding at [`NOW`].
struct Service {
    base: String,
    admin: String,
    client: reqwest::Client,
    store: Store,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Service {
    async fn start(data: &Path) -> Service {
        let store = Store::open_with(
            data.join("store"),
            StoreOptions {
                upcaster: Some(reception_app::upcaster()),
                ..StoreOptions::default()
            },
        )
        .unwrap();
        let now: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(NOW).unwrap();
        let app = App::new(
            store.clone(),
            AppConfig {
                tz: chrono_tz::Asia::Shanghai,
                clock: Some(Arc::new(move || now)),
            },
        );
        let boot = app.clone();
        let dir = data.to_path_buf();
        let token_file = tokio::task::spawn_blocking(move || boot.bootstrap(&dir))
            .await
            .unwrap()
            .unwrap();
        assert!(
            token_file.is_none(),
            "the old store has its admin; no second one"
        );
        let admin = std::fs::read_to_string(data.join("admin.token"))
            .unwrap()
            .trim()
            .to_string();
        let follow = tokio::spawn(app.clone().follow_tokens());
        let read = reception_projections::ReadSide::open(
            &store,
            reception_projections::ReadSideConfig {
                tz: chrono_tz::Asia::Shanghai,
                ..Default::default()
            },
        )
        .unwrap();
        let projections = read.spawn();
        let state = reception_api::AppState::new(app).with_read_side(read);
        let router = reception_api::router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Service {
            base,
            admin,
            client: reqwest::Client::new(),
            store,
            tasks: vec![follow, projections, server],
        }
    }

    async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.client.get(url),
            _ => self.client.post(url).json(&body.unwrap_or(Value::Null)),
        };
        let res = req.bearer_auth(token).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let (status, body) = self.call(token, "GET", path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(token, "POST", path, Some(body)).await
    }

    async fn token(&self, user: &str, role: &str) -> String {
        let (status, body) = self
            .post(
                &self.admin,
                "/api/v1/tokens",
                json!({ "user": user, "role": role }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// A new request (arriving 10 days after [`NOW`]) filed as `token`; returns its id.
async fn file(s: &Service, token: &str, company: &str) -> String {
    let (status, body) = s
        .post(
            token,
            "/api/v1/visits",
            json!({
                "customer": { "company": company, "country": "CN", "foreign": false },
                "department": "east-sales",
                "visitors": [{ "name": "Zhou Ping", "title": "Buyer" }],
                "headcount": 1,
                "purpose": "after the upgrade",
                "arrival": { "at": "2026-12-16T10:00:00+08:00", "mode": "train" },
                "departure": { "at": "2026-12-18T10:00:00+08:00", "mode": "train" },
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn old_requests_count_as_approved_old_expenses_were_spent_when_recorded_and_the_policy_stays()
{
    let (_dir, data) = unpack();
    let s = Service::start(&data).await;
    let reception = s.token("li.na", "reception").await;
    let auditor = s.token("audit.or", "auditor").await;

    // The policy in the store is the old one: version 1 without approvals.
    let policy = s.get(&auditor, "/api/v1/policy").await;
    assert_eq!(policy["in_force"]["version"], 1, "{policy}");
    assert_eq!(policy["versions"].as_array().unwrap().len(), 1, "{policy}");
    for level in policy["in_force"]["levels"].as_array().unwrap() {
        assert!(
            level["approvals"].as_array().is_none_or(|a| a.is_empty()),
            "no approvals in the stored policy: {level}"
        );
    }

    // V22: the old request counts as approved: its level is assigned without approval.
    let old = s
        .get(&auditor, &format!("/api/v1/visits/{REQUESTED_ONLY}"))
        .await;
    assert_eq!(old["stage"], "requested", "{old}");
    assert_eq!(old["approval"]["required"], false, "{old}");
    let (status, body) = s
        .post(
            &reception,
            &format!("/api/v1/visits/{REQUESTED_ONLY}/assign-level"),
            json!({ "level": "senior" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"][0]["type"], "LevelAssigned");

    // V24: an old expense (schema 1, no spent_at) is served with its recording time.
    let (visit, expense_id, recorded_at) = s
        .store
        .read_all_raw(1, usize::MAX)
        .map(|e| e.unwrap())
        .find(|e| e.event_type == "ExpenseRecorded" && e.schema == 1)
        .map(|e| {
            let visit = e.stream.strip_prefix("visit-").unwrap().to_string();
            let data = &e.data;
            assert!(data.get("spent_at").is_none(), "stored as it was: {data}");
            (
                visit,
                data["expense_id"].as_str().unwrap().to_string(),
                data["recorded_at"].as_str().unwrap().to_string(),
            )
        })
        .expect("the fixture has old expenses");
    let state = s.get(&auditor, &format!("/api/v1/visits/{visit}")).await;
    let served = state["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["expense_id"] == expense_id.as_str())
        .unwrap_or_else(|| panic!("expense {expense_id} in {state}"))
        .clone();
    let instant = |v: &Value| DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(
        instant(&served["spent_at"]),
        instant(&json!(recorded_at)),
        "{served}"
    );
    assert_eq!(served["recorded_at"], served["spent_at"], "{served}");

    // A request filed now under the stored policy needs no approval either.
    let filed_before = file(&s, &reception, "Before Publish Ltd").await;
    let (status, body) = s
        .post(
            &reception,
            &format!("/api/v1/visits/{filed_before}/assign-level"),
            json!({ "level": "ordinary" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // The admin publishes the current default (with approvals) as version 2: from now
    // on a request waits for its approval (V22).
    let mut v2 = serde_json::to_value(reception_domain::policy::Policy::default_v1()).unwrap();
    v2["version"] = json!(2);
    v2["effective_from"] = json!(NOW);
    let (status, body) = s.post(&s.admin, "/api/v1/policy", v2).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let policy = s.get(&auditor, "/api/v1/policy").await;
    assert_eq!(policy["in_force"]["version"], 2, "{policy}");
    let filed_after = file(&s, &reception, "After Publish Ltd").await;
    let (status, body) = s
        .post(
            &reception,
            &format!("/api/v1/visits/{filed_after}/assign-level"),
            json!({ "level": "ordinary" }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["rule"], "V22", "{body}");
    let approver = s.token("dept.manager", "approver").await;
    let (status, body) = s
        .post(
            &approver,
            &format!("/api/v1/visits/{filed_after}/approve-request"),
            json!({ "decision": "approve", "as": "department_manager" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s
        .post(
            &reception,
            &format!("/api/v1/visits/{filed_after}/assign-level"),
            json!({ "level": "ordinary" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        s.get(&auditor, &format!("/api/v1/visits/{filed_after}"))
            .await["policy_version"],
        2
    );

    // The old and the new events verify as one chain.
    let verify = s.get(&auditor, "/api/v1/audit/verify").await;
    assert_eq!(verify["ok"], true, "{verify}");
    s.stop();
}
