//! Crash rounds: the real server under concurrent HTTP writers, killed with SIGKILL at
//! a random moment, restarted, again and again. Afterwards every command that was
//! answered 2xx is there, the log is gap-free and its chain verifies, and the board
//! holds exactly the visits of the log, before and after an offline rebuild.
//!
//! CI runs 3 rounds; the documented run is 20 or more, on the release server:
//! `cargo build --release -p reception && RECEPTION_BIN=target/release/reception \
//!  RECEPTION_CRASH_ROUNDS=20 cargo test -p reception --test crash -- --nocapture`

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const WRITERS: usize = 8;

/// The binary under test: `$RECEPTION_BIN` (e.g. a release build) or this build's.
fn bin() -> Command {
    Command::new(std::env::var("RECEPTION_BIN").unwrap_or(env!("CARGO_BIN_EXE_reception").into()))
}

fn start(data: &Path) -> (Child, String) {
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
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

fn request(n: u64) -> Value {
    let arrival = chrono::Utc::now().fixed_offset() + chrono::Duration::days(10);
    let departure = arrival + chrono::Duration::days(2);
    json!({
        "customer": { "company": format!("Crash Test Co {n}"), "country": "CN", "foreign": false },
        "department": "east-sales",
        "visitors": [{ "name": "Visitor", "title": "Manager", "phone": "+86 138 0000 0001" }],
        "headcount": 1,
        "purpose": "crash round",
        "arrival": { "at": arrival, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport" },
        "departure": { "at": departure, "mode": "train", "number": "G7", "place": "station",
                       "arrives_home_at": departure + chrono::Duration::hours(5) },
        "needs": { "pickup": true, "dropoff": true, "lodging": false, "meeting_room": false },
        "expedited": null
    })
}

/// Files visits from `WRITERS` tasks until the server dies; answers the acknowledged
/// visit ids.
async fn write_until_killed(
    addr: String,
    token: String,
    round: u64,
    acked: Arc<Mutex<Vec<String>>>,
) {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for w in 0..WRITERS as u64 {
        let (client, acked) = (client.clone(), acked.clone());
        let (url, token) = (format!("http://{addr}/api/v1/visits"), token.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0u64.. {
                let n = round * 1_000_000 + w * 100_000 + i;
                let sent = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("crash-{n}"))
                    .json(&request(n))
                    .send()
                    .await;
                let Ok(res) = sent else { return };
                if !res.status().is_success() {
                    continue;
                }
                let Ok(body) = res.json::<Value>().await else {
                    return;
                };
                let id = body["id"].as_str().expect("a 2xx answer names the visit");
                acked.lock().unwrap().push(id.to_string());
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn get(client: &reqwest::Client, addr: &str, token: &str, path: &str) -> (u16, Value) {
    let res = client
        .get(format!("http://{addr}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Visit ids in the log, from a backup of it.
fn logged_visits(data: &Path, dir: &Path) -> BTreeSet<String> {
    let file = dir.join("log.jsonl");
    let out = bin()
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
        .filter(|l| l.contains("\"type\":\"ReceptionRequested\""))
        .filter_map(|l| l.split("\"stream\":\"visit-").nth(1))
        .filter_map(|r| r.split('"').next().map(str::to_string))
        .collect()
}

/// Visit ids on the board of a freshly started server, once it has caught up.
/// The board's visits once the read side has applied the log up to `head` (ready means
/// "close enough", not "caught up").
async fn board_visits(data: &Path, token: &str, head: u64) -> BTreeSet<String> {
    let (mut child, addr) = start(data);
    let client = reqwest::Client::new();
    let started = Instant::now();
    while get(&client, &addr, token, "/readyz").await.0 != 200 {
        assert!(started.elapsed() < Duration::from_secs(60), "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, board) = get(
        &client,
        &addr,
        token,
        &format!("/api/v1/board?min_seq={head}"),
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, 200, "{board}");
    board["visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["visit_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_commands_survive_sigkill_rounds() {
    let rounds: u64 = std::env::var("RECEPTION_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut token = String::new();
    for round in 0..rounds {
        let (mut child, addr) = start(&data);
        if token.is_empty() {
            token = std::fs::read_to_string(data.join("admin.token"))
                .unwrap()
                .trim()
                .to_string();
        }
        let writers = tokio::spawn(write_until_killed(
            addr.clone(),
            token.clone(),
            round,
            acked.clone(),
        ));
        // A moment from 100 ms to ~1.3 s into the load, varying per round.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64;
        tokio::time::sleep(Duration::from_millis(100 + nanos % 1_200)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        writers.await.unwrap();
        println!(
            "round {}: killed; {} commands acknowledged so far",
            round + 1,
            acked.lock().unwrap().len()
        );
    }
    let acked: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(
        !acked.is_empty(),
        "the writers got answers before the kills"
    );

    // The chain verifies: gap-free and unaltered up to its head.
    let out = bin()
        .arg("verify")
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let head = report["events_checked"].as_u64().unwrap();

    // Nothing acknowledged is lost.
    let logged = logged_visits(&data, dir.path());
    let lost: Vec<_> = acked.difference(&logged).collect();
    assert!(lost.is_empty(), "acknowledged but not in the log: {lost:?}");

    // The read models agree with the log, and with a rebuild from it.
    assert_eq!(
        board_visits(&data, &token, head).await,
        logged,
        "board after the crashes"
    );
    let out = bin()
        .arg("rebuild")
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        board_visits(&data, &token, head).await,
        logged,
        "board after a rebuild"
    );
    println!(
        "{rounds} rounds: {} acknowledged, {} in the log, {} events verified",
        acked.len(),
        logged.len(),
        report["events_checked"]
    );
}
