//! Logs hold no personal data and no secrets: the real binary serves at `debug` for
//! every crate while visitors' names, phones and their company go through commands,
//! refusals and searches; the whole log is then searched for them.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const VISITOR: &str = "张伟隐私";
const PHONE: &str = "+86 139 2468 1357";
const COMPANY: &str = "隐秘实业有限公司";

fn request(arrival: chrono::DateTime<chrono::FixedOffset>) -> Value {
    let departure = arrival + chrono::Duration::days(2);
    json!({
        "customer": { "company": COMPANY, "country": "CN", "foreign": false },
        "department": "east-sales",
        "visitors": [{ "name": VISITOR, "title": "总经理", "phone": PHONE }],
        "headcount": 1,
        "purpose": "续签经销协议",
        "arrival": { "at": arrival, "mode": "flight", "number": "MU5101", "origin": "上海", "place": "airport" },
        "departure": { "at": departure, "mode": "train", "number": "G7", "place": "station",
                       "arrives_home_at": departure + chrono::Duration::hours(5) },
        "needs": { "pickup": true, "dropoff": true, "lodging": true, "meeting_room": true },
        "expedited": null
    })
}

/// Starts `reception serve` with every crate logging at `debug`; returns the child, its
/// address and the reader of its standard error.
fn serve(data: &std::path::Path) -> (std::process::Child, String, std::process::ChildStderr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reception"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(a) = line.strip_prefix("listening on http://") {
            let addr = a.to_string();
            // keep draining standard output so that the server never blocks on it
            std::thread::spawn(move || lines.for_each(drop));
            return (child, addr, stderr);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not say where it listens");
}

#[test]
fn the_log_at_debug_names_no_visitor_phone_company_or_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, addr, mut stderr) = serve(&data);
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let admin = std::fs::read_to_string(data.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    let base = format!("http://{addr}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let requester = rt.block_on(async {
        let c = reqwest::Client::new();
        let made: Value = c
            .post(format!("{base}/api/v1/tokens"))
            .bearer_auth(&admin)
            .json(&json!({"user": "wang.fang", "role": "requester"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let requester = made["token"].as_str().expect("a token").to_string();
        let arrival = chrono::Utc::now().fixed_offset() + chrono::Duration::days(6);
        let filed = c
            .post(format!("{base}/api/v1/visits"))
            .bearer_auth(&requester)
            .json(&request(arrival))
            .send()
            .await
            .unwrap();
        assert_eq!(filed.status(), 201, "{}", filed.text().await.unwrap());
        // refused input that carries the same personal data
        let mut bad = request(arrival);
        bad["headcount"] = json!("one");
        let refused = c
            .post(format!("{base}/api/v1/visits"))
            .bearer_auth(&requester)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400);
        let found: Value = c
            .get(format!("{base}/api/v1/customers"))
            .query(&[("q", COMPANY), ("min_seq", "3")])
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(found.to_string().contains(COMPANY), "{found}");
        // a wrong token that looks like a phone number
        let wrong = c
            .get(format!("{base}/api/v1/board"))
            .bearer_auth(PHONE)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        requester
    });
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = log.join().unwrap();
    // the log is there and at debug: it is what would leak, if anything did
    assert!(log.contains("http"), "requests are logged: {log}");
    assert!(log.lines().count() > 20, "a debug log: {log}");
    let digits: String = PHONE.chars().filter(char::is_ascii_digit).collect();
    for (what, secret) in [
        ("visitor name", VISITOR),
        ("phone", PHONE),
        ("phone digits", digits.as_str()),
        ("phone tail", "2468 1357"),
        ("company", COMPANY),
        ("admin token", admin.as_str()),
        ("requester token", requester.as_str()),
    ] {
        assert!(
            !log.contains(secret),
            "the log names the {what}: {}",
            log.lines()
                .filter(|l| l.contains(secret))
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
