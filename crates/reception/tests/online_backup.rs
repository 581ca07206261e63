//! `reception backup --url`: a backup taken from the running server while writers keep
//! filing commands restores to the identical chain up to the backup's head; a token
//! that is not an admin's is refused; a backup whose connection is cut leaves no file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reception"))
}

fn run(args: &[&str], data: &Path) -> Output {
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
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The real server on `data`; answers it and its address.
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

/// Kills the server when the test ends, also when it fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `reception backup --url` (blocking: run it on a blocking thread).
fn online_backup(url: &str, token_file: &Path, out: &Path) -> Output {
    bin()
        .args(["backup", "--url", url, "--token-file"])
        .arg(token_file)
        .arg("--out")
        .arg(out)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn visit(n: u64) -> Value {
    let arrival = chrono::Utc::now().fixed_offset() + chrono::Duration::days(10);
    let departure = arrival + chrono::Duration::days(2);
    json!({
        "customer": { "company": format!("Online Backup Co {n}"), "country": "CN", "foreign": false },
        "department": "east-sales",
        "visitors": [{ "name": "Visitor", "title": "Manager", "phone": "+86 138 0000 0001" }],
        "headcount": 1,
        "purpose": "online backup",
        "arrival": { "at": arrival, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport" },
        "departure": { "at": departure, "mode": "train", "number": "G7", "place": "station",
                       "arrives_home_at": departure + chrono::Duration::hours(5) },
        "needs": { "pickup": true, "dropoff": true, "lodging": false, "meeting_room": false },
        "expedited": null
    })
}

/// Files visits from 4 tasks until `stop`; counts the 2xx answers.
fn writers(
    addr: &str,
    token: &str,
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let client = reqwest::Client::new();
    (0..4u64)
        .map(|w| {
            let (client, stop, acked) = (client.clone(), stop.clone(), acked.clone());
            let (url, token) = (format!("http://{addr}/api/v1/visits"), token.to_string());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let res = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&visit(w * 1_000_000 + i))
                        .send()
                        .await
                        .expect("the server answers while the backup runs");
                    assert!(res.status().is_success(), "{}", res.status());
                    acked.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect()
}

/// (seq, id, type, stream, hash) of every event of the server's feed up to `head`.
async fn feed(addr: &str, token: &str, head: u64) -> Vec<(u64, String, String, String, String)> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    let mut after = 0;
    while after < head {
        let page: Value = client
            .get(format!(
                "http://{addr}/api/v1/events?after={after}&limit=1000"
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = page["events"].as_array().unwrap();
        assert!(!events.is_empty(), "the feed reaches {head}");
        for e in events {
            let seq = e["seq"].as_u64().unwrap();
            if seq > head {
                break;
            }
            out.push(key_of(e));
        }
        after = page["next_after"].as_u64().unwrap();
    }
    out
}

fn key_of(e: &Value) -> (u64, String, String, String, String) {
    let s = |k: &str| e[k].as_str().unwrap().to_string();
    (
        e["seq"].as_u64().unwrap(),
        s("id"),
        s("type"),
        s("stream"),
        s("hash"),
    )
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_online_backup_taken_under_load_restores_to_the_servers_log_up_to_its_head() {
    let dir = tempfile::tempdir().unwrap();
    let (data, restored) = (dir.path().join("data"), dir.path().join("restored"));
    let out_dir = dir.path().join("backups");
    std::fs::create_dir(&out_dir).unwrap();
    let backup = out_dir.join("nightly.jsonl");
    run(&["demo", "--visits", "150"], &data);
    let (child, addr) = start(&data);
    let _server = Server(child);
    let token_file = data.join("admin.token");
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_string();

    let (stop, acked) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let tasks = writers(&addr, &token, stop.clone(), acked.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = acked.load(Ordering::Relaxed);
    let started = Instant::now();
    let (url, tf, b) = (format!("http://{addr}"), token_file.clone(), backup.clone());
    let out = tokio::task::spawn_blocking(move || online_backup(&url, &tf, &b))
        .await
        .unwrap();
    let took = started.elapsed();
    let during = acked.load(Ordering::Relaxed) - before;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(during > 0, "commands were answered while the backup ran");

    let text = std::fs::read_to_string(&backup).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let head = last["trailer"]["head_seq"].as_u64().unwrap();
    let lines = text.lines().count() as u64 - 1;
    assert_eq!(last["trailer"]["events"].as_u64(), Some(lines));
    assert_eq!(head, lines, "the backup holds seq 1 to its head");
    println!(
        "online backup: {lines} events in {:.2} s; {during} commands answered meanwhile",
        took.as_secs_f64()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "a backup is readable by its owner only"
        );
    }
    assert_eq!(
        files_in(&out_dir),
        vec![backup.clone()],
        "no temporary file is left"
    );

    // The writers went on past the backup's head; the backup stops at it.
    let server_head = feed_head(&addr, &token).await;
    assert!(
        server_head > head,
        "the log grew past the backup ({server_head} > {head})"
    );

    run(&["restore", "--from", backup.to_str().unwrap()], &restored);
    let report: Value = serde_json::from_slice(&run(&["verify"], &restored).stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["events_checked"].as_u64(), Some(head));
    assert_eq!(report["head_hash"], last["trailer"]["head_hash"]);

    let backed_up: Vec<_> = text
        .lines()
        .take(lines as usize)
        .map(|l| key_of(&serde_json::from_str(l).unwrap()))
        .collect();
    assert_eq!(
        backed_up,
        feed(&addr, &token, head).await,
        "the server's feed up to the head"
    );
}

async fn feed_head(addr: &str, token: &str) -> u64 {
    let page: Value = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/events?limit=1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["head"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_admin_token_or_a_cut_connection_yields_no_backup_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out_dir = dir.path().join("backups");
    std::fs::create_dir(&out_dir).unwrap();
    run(&["demo", "--visits", "60"], &data);
    let (child, addr) = start(&data);
    let _server = Server(child);
    let token = std::fs::read_to_string(data.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();

    // A reception clerk's token: 403, exit 3 as any operational failure, no file.
    let issued: Value = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&json!({ "user": "clerk", "role": "reception" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let clerk = dir.path().join("clerk.token");
    std::fs::write(&clerk, issued["token"].as_str().unwrap()).unwrap();
    let out_file = out_dir.join("b.jsonl");
    let (url, f) = (format!("http://{addr}"), out_file.clone());
    let out = tokio::task::spawn_blocking(move || online_backup(&url, &clerk, &f))
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("403") && err.contains("admin"), "{err}");
    assert!(
        files_in(&out_dir).is_empty(),
        "nothing written: {:?}",
        files_in(&out_dir)
    );

    // Through a proxy that cuts the connection after 100 KB of the answer.
    let proxy = cutting_proxy(&addr, 100_000);
    let (url, f, tf) = (
        format!("http://{proxy}"),
        out_file.clone(),
        data.join("admin.token"),
    );
    let out = tokio::task::spawn_blocking(move || online_backup(&url, &tf, &f))
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("cut"),
        "the message says the stream was cut: {err}"
    );
    assert!(
        files_in(&out_dir).is_empty(),
        "nothing written: {:?}",
        files_in(&out_dir)
    );

    // The same server, not cut: a whole backup.
    let (url, f, tf) = (
        format!("http://{addr}"),
        out_file.clone(),
        data.join("admin.token"),
    );
    let out = tokio::task::spawn_blocking(move || online_backup(&url, &tf, &f))
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::metadata(&out_file).unwrap().len() > 100_000,
        "the store is larger than the cut"
    );
}

/// A TCP proxy to `upstream` for one connection that passes the request through and
/// closes both sides after `limit` bytes of the answer.
fn cutting_proxy(upstream: &str, limit: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let upstream = upstream.to_string();
    std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let mut server = TcpStream::connect(&upstream).unwrap();
        let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut c2, &mut s2);
        });
        let mut buf = [0u8; 8192];
        let mut passed = 0;
        while passed < limit {
            let n = match server.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n.min(limit - passed),
            };
            if client.write_all(&buf[..n]).is_err() {
                break;
            }
            passed += n;
        }
        let _ = client.shutdown(std::net::Shutdown::Both);
        let _ = server.shutdown(std::net::Shutdown::Both);
    });
    addr
}
