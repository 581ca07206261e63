//! The real `reception` binary: serve with graceful shutdown on SIGTERM, then verify,
//! history, backup and restore on the data it wrote.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reception"))
}

#[test]
fn serve_bootstraps_answers_and_shuts_down_on_sigterm_then_the_tools_read_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = None;
    let mut token_line = None;
    let started = Instant::now();
    while addr.is_none() && started.elapsed() < Duration::from_secs(30) {
        let Some(Ok(line)) = lines.next() else { break };
        if line.starts_with("admin token written to") {
            token_line = Some(line.clone());
        }
        if let Some(a) = line.strip_prefix("listening on http://") {
            addr = Some(a.to_string());
        }
    }
    let addr = addr.expect("the server says where it listens");
    assert!(token_line
        .expect("it says where the admin token is")
        .contains("admin.token"));
    let token = std::fs::read_to_string(data.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let health = client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let made = client
            .post(format!("http://{addr}/api/v1/tokens"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"user": "li.na", "role": "reception"}))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201);
    });

    // SIGTERM: graceful shutdown, store flushed and closed, exit 0.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status =
        wait_with_timeout(&mut child, Duration::from_secs(20)).expect("exits after SIGTERM");
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );

    // verify: exit 0 on an intact chain.
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
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    let events = report["events_checked"].as_u64().unwrap();
    assert!(events >= 3, "policy, admin token, one more token: {report}");

    // backup → restore into an empty dir → the same chain.
    let backup = dir.path().join("backup.jsonl");
    let out = bin()
        .args(["backup", "--out"])
        .arg(&backup)
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
    // One line per event, then the trailer.
    assert_eq!(
        std::fs::read_to_string(&backup).unwrap().lines().count() as u64,
        events + 1
    );
    let restored = dir.path().join("restored");
    let out = bin()
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--data-dir")
        .arg(&restored)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .arg("verify")
        .arg("--data-dir")
        .arg(&restored)
        .output()
        .unwrap();
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again, report, "the restored chain is the same chain");
    // Restoring into a non-empty dir is refused.
    let out = bin()
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--data-dir")
        .arg(&restored)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));

    // history of an unknown visit fails cleanly; a bad id is a clear error.
    let out = bin()
        .args(["history", "--visit", "nope", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--visit"));
    // rebuild: a bad projection name is a usage error naming the valid ones.
    let out = bin()
        .args(["rebuild", "--projection", "bored", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("board, costs, archive, complaints"),
        "names the valid projections: {err}"
    );
}

#[test]
fn demo_data_is_rebuilt_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = bin()
        .args(["demo", "--visits", "4", "--seed", "7", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(
        &out.stdout[out
            .stdout
            .iter()
            .position(|b| *b == b'{')
            .expect("a JSON summary")..],
    )
    .unwrap();
    assert_eq!(summary["visits"], 4, "{summary}");
    assert!(summary["events"].as_u64().unwrap() > 4);
    // Invalid options are a usage error.
    let out = bin()
        .args(["demo", "--visits", "0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // Export before and after a full rebuild: the same CSV, with a BOM.
    let export = |name: &str| {
        let path = dir.path().join(name);
        let mut all = Vec::new();
        for year in ["2024", "2025", "2026"] {
            let out = bin()
                .args(["export", "costs", "--year", year, "--out"])
                .arg(&path)
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
            let csv = std::fs::read(&path).unwrap();
            assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a BOM");
            all.extend(csv);
        }
        all
    };
    let before = export("before.csv");
    assert!(
        String::from_utf8_lossy(&before).lines().count() > 6,
        "demo costs are exported"
    );
    let out = bin()
        .args(["rebuild", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .args(["rebuild", "--projection", "costs", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        export("after.csv"),
        before,
        "a rebuild gives the same analysis"
    );
}

fn wait_with_timeout(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

/// A dashboard's board stream never hangs up by itself: SIGTERM ends it, so a graceful
/// stop finishes at once instead of waiting out the shutdown deadline.
#[test]
fn sigterm_ends_open_board_streams_and_the_server_stops_without_waiting_for_them() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = bin()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--shutdown-deadline",
            "120",
        ])
        .arg("--data-dir")
        .arg(&data)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("a line").unwrap();
        if let Some(a) = line.strip_prefix("listening on http://") {
            break a.to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let token = std::fs::read_to_string(data.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pid = child.id().to_string();
    let ended = rt.block_on(async {
        let mut stream = reqwest::Client::new()
            .get(format!("http://{addr}/api/v1/board/stream"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        let first = stream
            .chunk()
            .await
            .unwrap()
            .expect("the current board first");
        assert!(String::from_utf8_lossy(&first).contains("event: board"));
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        // the stream ends (a keep-alive may come first), well before the deadline
        tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(_)) = stream.chunk().await {}
        })
        .await
        .is_ok()
    });
    assert!(ended, "SIGTERM must end the open board stream");
    let status = wait_with_timeout(&mut child, Duration::from_secs(60)).expect("the server stops");
    assert!(status.success(), "{status:?}");
    let log = log.join().unwrap();
    assert!(
        !log.contains("did not finish before the deadline"),
        "the stop waited for the stream: {log}"
    );
}
