//! Notifications survive SIGKILL (issue 20): the real server tells a host of every
//! sign-in through a webhook (a real HTTP receiver here, slow enough that deliveries
//! are in flight), is killed with SIGKILL under a steady load of sign-ins, restarted
//! on its data dir, again; at the end every acknowledged sign-in's notification has
//! arrived, and every copy, duplicates included, carries the same id as its
//! idempotency key.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use serde_json::{json, Value};

const ROUNDS: usize = 3;

fn start(data: &Path, hook: &str) -> (Child, String) {
    let bin = std::env::var("RECEPTION_BIN").unwrap_or(env!("CARGO_BIN_EXE_reception").into());
    let mut child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(["--notify-webhook-url", hook, "--notify-backoff-ms", "100"])
        .env("RECEPTION_NOTIFY_WEBHOOK_SECRET", "s3cret")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(a) = line.strip_prefix("listening on http://") {
            return (child, a.to_string());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

/// What the webhook receiver got: (idempotency key, body id) per request.
type Hits = Arc<Mutex<Vec<(String, String)>>>;

async fn receiver() -> (Hits, String) {
    let hits: Hits = Arc::default();
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let h = h.clone();
            async move {
                // slow enough that a kill finds deliveries in flight
                tokio::time::sleep(Duration::from_millis(20)).await;
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let id = v["id"].as_str().unwrap_or("").to_string();
                h.lock().unwrap().push((key, id));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (hits, url)
}

async fn post(
    c: &reqwest::Client,
    addr: &str,
    token: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    match c
        .post(format!("http://{addr}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
    {
        Ok(res) => {
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// Signs visitors in until the server dies; the streams of the acknowledged sign-ins.
async fn sign_in_until_killed(
    addr: String,
    token: String,
    round: usize,
    acked: Arc<Mutex<BTreeSet<String>>>,
) {
    let c = reqwest::Client::new();
    for i in 0.. {
        let body = json!({"name": format!("访客 {round}-{i}"), "party_size": 1, "reason": "拜访", "host": "li.na"});
        let (status, answer) = post(&c, &addr, &token, "/api/v1/frontdesk/sign-in", body).await;
        if status == 0 {
            return;
        }
        if let (201, Some(stream)) = (status, answer["stream"].as_str()) {
            acked.lock().unwrap().insert(stream.to_string());
        }
    }
}

/// The notification ids the host's sign-ins cause: `ev-<event id>.visitor_signed_in.li.na`
/// of each `VisitorSignedIn` in `streams`, read from a backup of the log.
fn notification_ids(data: &Path, dir: &Path, streams: &BTreeSet<String>) -> BTreeSet<String> {
    let bin = std::env::var("RECEPTION_BIN").unwrap_or(env!("CARGO_BIN_EXE_reception").into());
    let file = dir.join("log.jsonl");
    let out = Command::new(bin)
        .args(["backup", "--out"])
        .arg(&file)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "VisitorSignedIn")
        .filter(|e| e["stream"].as_str().is_some_and(|s| streams.contains(s)))
        .map(|e| format!("ev-{}.visitor_signed_in.li.na", e["id"].as_str().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_sign_in_is_notified_across_sigkills_with_stable_ids() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (hits, hook) = receiver().await;
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let c = reqwest::Client::new();
    let mut desk = String::new();
    for round in 0..ROUNDS {
        let (mut child, addr) = start(&data, &hook);
        if desk.is_empty() {
            let admin = std::fs::read_to_string(data.join("admin.token")).unwrap();
            let admin = admin.trim();
            let member = json!({"id": "li.na", "name": "李娜", "roles": ["staff"]});
            assert_eq!(post(&c, &addr, admin, "/api/v1/staff", member).await.0, 201);
            let (status, t) = post(
                &c,
                &addr,
                admin,
                "/api/v1/tokens",
                json!({"user": "desk", "role": "frontdesk"}),
            )
            .await;
            assert_eq!(status, 201, "{t}");
            desk = t["token"].as_str().unwrap().to_string();
        }
        let load = tokio::spawn(sign_in_until_killed(
            addr,
            desk.clone(),
            round,
            acked.clone(),
        ));
        tokio::time::sleep(Duration::from_millis(700 + 300 * round as u64)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        load.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let expected = notification_ids(&data, dir.path(), &acked);
    assert_eq!(
        expected.len(),
        acked.len(),
        "every acknowledged sign-in is in the log"
    );
    assert!(
        expected.len() > 10,
        "the load got answers: {}",
        expected.len()
    );
    // one more start, no load: it sends what was not confirmed
    let (mut child, _addr) = start(&data, &hook);
    let started = Instant::now();
    let missing = loop {
        let got: BTreeSet<String> = hits
            .lock()
            .unwrap()
            .iter()
            .map(|(_, id)| id.clone())
            .collect();
        let missing: Vec<String> = expected.difference(&got).cloned().collect();
        if missing.is_empty() || started.elapsed() > Duration::from_secs(60) {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        missing.is_empty(),
        "acknowledged sign-ins never notified: {missing:?}"
    );
    let hits = hits.lock().unwrap().clone();
    let mut copies: BTreeMap<&str, usize> = BTreeMap::new();
    for (key, id) in &hits {
        assert_eq!(key, id, "the idempotency key is the notification id");
        *copies.entry(id.as_str()).or_default() += 1;
    }
    let duplicates = copies.values().filter(|n| **n > 1).count();
    println!(
        "{} sign-ins acknowledged, {} webhook calls, {} notifications sent more than once (same id)",
        expected.len(),
        hits.len(),
        duplicates
    );
}
