//! Black-box end-to-end test of replication through NATS JetStream: the real `reception`
//! binary as write node and as read replicas, a real `nats-server`, real HTTP. Covers
//! equal logs and projections on writer and replica, the replica refusing commands, a
//! NATS outage under load, a SIGKILLed writer restarted mid-relay, a SIGKILLed replica
//! resuming on its data dir, and a replica rebuilt from nothing.
//!
//! Needs the binary built (`cargo build -p reception`, or `RECEPTION_BIN=path`) and a
//! nats-server (`$NATS_SERVER_BIN`, PATH or /usr/sbin).

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{json, Value};

/// How long any convergence may take before the test fails.
const CONVERGE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------

/// The `reception` binary: `$RECEPTION_BIN`, else next to the test executable's `deps/`
/// directory (`target/<profile>/reception`, built by `cargo build -p reception`).
fn reception_bin() -> PathBuf {
    if let Some(p) = option_env!("CARGO_BIN_EXE_reception") {
        return PathBuf::from(p);
    }
    if let Ok(p) = std::env::var("RECEPTION_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let bin = profile_dir.join("reception");
    assert!(
        bin.is_file(),
        "the reception binary is not at {}: build it first with `cargo build -p reception` \
         (this package cannot depend on a binary), or set RECEPTION_BIN",
        bin.display()
    );
    bin
}

/// The nats-server binary: `$NATS_SERVER_BIN`, else PATH, else the sbin directories.
fn nats_bin() -> PathBuf {
    if let Ok(p) = std::env::var("NATS_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let path = std::env::var("PATH").unwrap_or_default();
    for dir in path
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/local/bin"])
    {
        let p = Path::new(dir).join("nats-server");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "nats-server not found (looked in $NATS_SERVER_BIN, PATH, /usr/sbin): this test needs a \
         real server; install it, e.g. `apt-get install -y nats-server`"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("local addr")
        .port()
}

/// A child process killed (SIGKILL) on drop; its output goes to a log file whose tail is
/// printed when the test panics.
struct Proc {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl Proc {
    fn start(
        name: &str,
        program: PathBuf,
        args: Vec<String>,
        envs: Vec<(String, String)>,
        log_dir: &Path,
    ) -> Proc {
        let mut p = Proc {
            name: name.to_string(),
            program,
            args,
            envs,
            log: log_dir.join(format!("{name}.log")),
            child: None,
        };
        p.spawn();
        p
    }

    fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open log file");
        let child = Command::new(&self.program)
            .args(&self.args)
            .env("RUST_LOG", "info")
            .envs(self.envs.iter().cloned())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({}): {e}",
                    self.name,
                    self.program.display()
                )
            });
        self.child = Some(child);
    }

    /// SIGKILL (no clean shutdown), and reap.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the same command again (same ports, same directories).
    fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Panics with the log tail when the process has exited.
    fn assert_running(&mut self) {
        if let Some(c) = self.child.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                panic!(
                    "{} exited ({status}); its log ends with:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("---- {} log tail ----\n{}", self.name, self.log_tail());
        }
    }
}

fn wait_listening(proc_: &mut Proc, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        proc_.assert_running();
        assert!(
            Instant::now() < deadline,
            "{} did not listen on port {port} within 10 s",
            proc_.name
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `nats-server -js -sd <dir>` on a free port.
fn start_nats(dir: &Path) -> (Proc, u16) {
    let port = free_port();
    let store = dir.join("nats-store");
    let mut p = Proc::start(
        "nats-server",
        nats_bin(),
        vec![
            "-a".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
            "-js".into(),
            "-sd".into(),
            store.display().to_string(),
        ],
        Vec::new(),
        dir,
    );
    wait_listening(&mut p, port);
    (p, port)
}

// ---------------------------------------------------------------------------------------
// Nodes over HTTP
// ---------------------------------------------------------------------------------------

/// A running `reception` node and a client for it.
struct Node {
    proc_: Proc,
    base: String,
    port: u16,
    client: reqwest::Client,
}

/// An HTTP answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    #[track_caller]
    fn ok(self, what: &str) -> Value {
        assert!(
            (200..300).contains(&self.status),
            "{what}: expected success, got {} {}",
            self.status,
            self.body
        );
        self.body
    }
}

impl Node {
    fn writer(dir: &Path, data: &Path, nats_url: &str) -> Node {
        let port = free_port();
        let args = vec![
            "serve".into(),
            "--data-dir".into(),
            data.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--nats".into(),
            nats_url.to_string(),
        ];
        Node::start("writer", args, Vec::new(), port, dir)
    }

    fn replica(name: &str, dir: &Path, data: &Path, nats_url: &str, writer: &str) -> Node {
        let port = free_port();
        let args = vec![
            "read-node".into(),
            "--nats".into(),
            nats_url.to_string(),
            "--data-dir".into(),
            data.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--write-node".into(),
            writer.to_string(),
        ];
        // Two replicas on this one host: the default durable consumer name must differ
        // by data dir (no HOSTNAME override).
        let envs = Vec::new();
        Node::start(name, args, envs, port, dir)
    }

    fn start(
        name: &str,
        args: Vec<String>,
        envs: Vec<(String, String)>,
        port: u16,
        dir: &Path,
    ) -> Node {
        let proc_ = Proc::start(name, reception_bin(), args, envs, dir);
        Node {
            proc_,
            base: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
        }
    }

    /// Waits until `/healthz` answers 200.
    async fn wait_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.proc_.assert_running();
            if let Ok(r) = self
                .client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
            {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer /healthz on port {} within 30 s",
                self.proc_.name,
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn get(&self, token: &str, path: &str) -> Answer {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} GET {path}: {e}", self.proc_.name));
        answer(r).await
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> Answer {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} POST {path}: {e}", self.proc_.name));
        answer(r).await
    }

    /// The seq of the last event of the node's local log.
    async fn head(&self, token: &str) -> u64 {
        let b = self
            .get(token, "/api/v1/events?after=0&limit=1")
            .await
            .ok(&format!("{} events head", self.proc_.name));
        b["head"]
            .as_u64()
            .unwrap_or_else(|| panic!("events answer without a numeric head: {b}"))
    }

    /// The whole global log, paged.
    async fn log(&self, token: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after = 0u64;
        loop {
            let b = self
                .get(token, &format!("/api/v1/events?after={after}&limit=1000"))
                .await
                .ok(&format!("{} events page", self.proc_.name));
            let page = b["events"].as_array().expect("events array").clone();
            if page.is_empty() {
                return out;
            }
            after = page.last().unwrap()["seq"].as_u64().expect("seq");
            out.extend(page);
        }
    }
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// Waits until the replica's log head equals the writer's (and is at least `at_least`).
async fn converge(writer: &mut Node, replica: &mut Node, token: &str, at_least: u64) -> u64 {
    let deadline = Instant::now() + CONVERGE;
    loop {
        writer.proc_.assert_running();
        replica.proc_.assert_running();
        let w = writer.head(token).await;
        // Until the replica has applied the token's issuance it cannot know the token.
        let answer = replica.get(token, "/api/v1/events?after=0&limit=1").await;
        let r = match answer.status {
            200 => answer.body["head"].as_u64().expect("numeric head"),
            401 => 0,
            _ => panic!(
                "{} events head: {} {}",
                replica.proc_.name, answer.status, answer.body
            ),
        };
        assert!(
            r <= w,
            "{} is ahead of the writer ({r} > {w}): duplicated or foreign events",
            replica.proc_.name
        );
        if w == r && w >= at_least {
            return w;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not catch up within {CONVERGE:?}: writer head {w}, replica head {r} \
             (expected at least {at_least}; replica answered {} {})",
            replica.proc_.name,
            answer.status,
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts two logs are the same envelopes, in order, gap-free from 1, ids unique.
fn assert_same_log(what: &str, writer: &[Value], replica: &[Value]) {
    for (i, e) in writer.iter().enumerate() {
        assert_eq!(
            e["seq"].as_u64(),
            Some(i as u64 + 1),
            "{what}: writer log not gap-free at index {i}"
        );
    }
    let mut ids: Vec<&str> = writer.iter().filter_map(|e| e["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), writer.len(), "{what}: duplicated event ids");
    for (i, (w, r)) in writer.iter().zip(replica).enumerate() {
        assert_eq!(w, r, "{what}: envelope {} differs", i + 1);
    }
    assert_eq!(
        writer.len(),
        replica.len(),
        "{what}: log lengths differ (writer {}, replica {})",
        writer.len(),
        replica.len()
    );
}

/// Drops fields computed from the reading node's clock at read time (the visit state's
/// `now`); both nodes compute every other field from the same events.
fn without_read_time(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("now");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// Percent-encodes a path segment or query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The read answers compared between two nodes, all with `min_seq` = `head`.
async fn read_views(node: &Node, token: &str, head: u64, visit: &str) -> Vec<(String, Value)> {
    let year = now8().format("%Y").to_string();
    let arrival_year = (now8() + chrono::Duration::days(5))
        .format("%Y")
        .to_string();
    let paths = vec![
        format!("/api/v1/board?min_seq={head}"),
        format!("/api/v1/costs?year={year}&by=level&min_seq={head}"),
        format!("/api/v1/costs?year={arrival_year}&by=category&min_seq={head}"),
        format!("/api/v1/customers?q=huaxin&min_seq={head}"),
        format!("/api/v1/complaints?status=open&min_seq={head}"),
        format!("/api/v1/visits/{visit}?min_seq={head}"),
        format!("/api/v1/audit/verify?min_seq={head}"),
    ];
    let mut out = Vec::new();
    for p in paths {
        let body = node
            .get(token, &p)
            .await
            .ok(&format!("{} GET {p}", node.proc_.name));
        out.push((p, without_read_time(body)));
    }
    // The customer profile named by the search.
    let search = &out[3].1;
    let hits = search
        .as_array()
        .or_else(|| search["customers"].as_array())
        .or_else(|| search["results"].as_array())
        .unwrap_or_else(|| panic!("customer search answer has no list: {search}"));
    let id = hits
        .iter()
        .find_map(|h| h["customer_id"].as_str().or_else(|| h["id"].as_str()))
        .unwrap_or_else(|| panic!("customer search found nothing for huaxin: {search}"))
        .to_string();
    let p = format!("/api/v1/customers/{}?min_seq={head}", enc(&id));
    let body = node
        .get(token, &p)
        .await
        .ok(&format!("{} GET {p}", node.proc_.name));
    out.push((p, without_read_time(body)));
    out
}

fn assert_same_views(what: &str, a: &[(String, Value)], b: &[(String, Value)]) {
    assert_eq!(a.len(), b.len());
    for ((pa, va), (_, vb)) in a.iter().zip(b) {
        assert_eq!(va, vb, "{what}: GET {pa} differs");
    }
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

fn now8() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&FixedOffset::east_opt(8 * 3600).expect("+08:00"))
}

fn visit_body(company: &str, visitor: &str) -> Value {
    let arrival = now8() + chrono::Duration::days(5);
    let departure = arrival + chrono::Duration::days(2);
    json!({
        "customer": { "company": company, "country": "CN", "foreign": false },
        "department": "east-sales",
        "visitors": [{ "name": visitor, "title": "General Manager", "phone": "+86 138 0000 0001" }],
        "headcount": 1,
        "purpose": "dealership renewal",
        "arrival": { "at": arrival, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport" },
        "departure": { "at": departure, "mode": "train", "number": "G7", "place": "station",
                       "arrives_home_at": departure + chrono::Duration::hours(5) },
        "needs": { "pickup": true, "dropoff": true, "lodging": false, "meeting_room": true },
        "expedited": null
    })
}

/// Tokens per role, issued by the writer's admin.
struct Tokens {
    requester: String,
    reception: String,
    frontdesk: String,
    /// V22: two approvers, two people (a special visit needs both).
    dept_manager: String,
    general_manager: String,
}

impl Tokens {
    async fn issue(writer: &Node, admin: &str) -> Tokens {
        Tokens {
            requester: issue(writer, admin, "requester").await,
            reception: issue(writer, admin, "reception").await,
            frontdesk: issue(writer, admin, "frontdesk").await,
            dept_manager: issue_as(writer, admin, "dept.manager", "approver").await,
            general_manager: issue_as(writer, admin, "general.manager", "approver").await,
        }
    }
}

async fn issue(writer: &Node, admin: &str, role: &str) -> String {
    issue_as(writer, admin, &format!("{role}.user"), role).await
}

async fn issue_as(writer: &Node, admin: &str, user: &str, role: &str) -> String {
    let b = writer
        .post(
            admin,
            "/api/v1/tokens",
            &json!({ "user": user, "role": role }),
        )
        .await
        .ok(&format!("issue a {role} token"));
    b["token"].as_str().expect("token").to_string()
}

/// Files a visit with a level, a meal within its cap and an over-cap meal expense, a gift
/// expense; returns the visit id.
async fn realistic_visit(
    w: &Node,
    t: &Tokens,
    company: &str,
    visitor: &str,
    level: &str,
) -> String {
    let filed = w
        .post(
            &t.requester,
            "/api/v1/visits",
            &visit_body(company, visitor),
        )
        .await
        .ok("file a visit");
    let v = filed["id"].as_str().expect("visit id").to_string();
    let path = |c: &str| format!("/api/v1/visits/{v}/{c}");
    // V22: the default policy's approvals, the general manager's for special only
    let mut approvals = vec![(&t.dept_manager, "department_manager")];
    if level == "special" {
        approvals.push((&t.general_manager, "general_manager"));
    }
    for (token, as_) in approvals {
        w.post(
            token,
            &path("approve-request"),
            &json!({ "decision": "approve", "as": as_ }),
        )
        .await
        .ok("approve-request");
    }
    w.post(
        &t.reception,
        &path("assign-level"),
        &json!({ "level": level }),
    )
    .await
    .ok("assign-level");
    let at = now8() + chrono::Duration::days(5) + chrono::Duration::hours(8);
    let meal = w
        .post(
            &t.reception,
            &path("book-meal"),
            &json!({ "meal": "dinner", "at": at, "venue": "Jade Garden", "party_size": 1, "budget_fen": 30_000 }),
        )
        .await
        .ok("book-meal");
    let meal_id = meal["entity_id"]
        .as_str()
        .expect("meal entity_id")
        .to_string();
    let over = w
        .post(
            &t.reception,
            &path("record-expense"),
            &json!({ "category": "meal", "amount_fen": 500_000, "receipt_no": "M-1",
                     "paid_by": "company", "booking_id": meal_id, "spent_at": now8(),
                     "description": "dinner" }),
        )
        .await
        .ok("record an over-cap expense");
    assert!(over["entity_id"].is_string(), "{over}");
    w.post(
        &t.reception,
        &path("record-expense"),
        &json!({ "category": "gift", "amount_fen": 20_000, "receipt_no": "G-1", "paid_by": "company",
                 "spent_at": now8(), "description": "tea set" }),
    )
    .await
    .ok("record a gift expense");
    v
}

/// One cheap command (a front-desk sign-in); returns the highest seq it answered.
async fn sign_in(w: &Node, t: &Tokens, n: usize) -> u64 {
    let b = w
        .post(
            &t.frontdesk,
            "/api/v1/frontdesk/sign-in",
            &json!({ "name": format!("Guest {n}"), "party_size": 1, "reason": "delivery", "host": "Zhang Min" }),
        )
        .await
        .ok(&format!("sign-in {n}"));
    max_seq(&b)
}

fn max_seq(answer: &Value) -> u64 {
    answer["events"]
        .as_array()
        .and_then(|e| e.iter().filter_map(|e| e["seq"].as_u64()).max())
        .unwrap_or_else(|| panic!("a command answer names its events: {answer}"))
}

/// Sign-ins one after another until `stop`; every one must succeed. Returns the highest
/// seq answered, the slowest command and how many ran.
async fn background_sign_ins(
    client: reqwest::Client,
    base: String,
    token: String,
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> (u64, Duration, usize) {
    let (mut last, mut slowest, mut n) = (0, Duration::ZERO, 0);
    while !stop.load(Ordering::SeqCst) {
        let t0 = Instant::now();
        let r = client
            .post(format!("{base}/api/v1/frontdesk/sign-in"))
            .bearer_auth(&token)
            .json(&json!({ "name": format!("Walk-in {n}"), "party_size": 1, "reason": "delivery", "host": "Zhang Min" }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("background sign-in {n}: {e}"));
        let b = answer(r).await.ok(&format!("background sign-in {n}"));
        slowest = slowest.max(t0.elapsed());
        last = last.max(max_seq(&b));
        n += 1;
        done.store(n, Ordering::SeqCst);
    }
    (last, slowest, n)
}

/// Sign-ins until the writer stops answering (it is SIGKILLed): every answer received
/// must be a success; a transport error ends the loop. Returns the highest seq answered.
async fn sign_ins_until_killed(
    client: reqwest::Client,
    base: String,
    token: String,
    worker: usize,
    done: Arc<AtomicUsize>,
) -> u64 {
    let mut last = 0;
    for n in 0.. {
        let sent = client
            .post(format!("{base}/api/v1/frontdesk/sign-in"))
            .bearer_auth(&token)
            .json(&json!({ "name": format!("Rush {worker}-{n}"), "party_size": 1, "reason": "delivery", "host": "Zhang Min" }))
            .send()
            .await;
        let Ok(r) = sent else { break };
        let status = r.status().as_u16();
        let Ok(text) = r.text().await else { break };
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        assert_eq!(status, 201, "sign-in {worker}-{n} before the crash: {body}");
        last = last.max(max_seq(&body));
        done.fetch_add(1, Ordering::SeqCst);
    }
    last
}

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_follow_the_writer_through_nats_outage_writer_crash_and_rebuild() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let (mut nats, nats_port) = start_nats(dir);
    let nats_url = format!("nats://127.0.0.1:{nats_port}");

    let writer_data = dir.join("writer");
    let mut writer = Node::writer(dir, &writer_data, &nats_url);
    writer.wait_up().await;
    let admin = admin_token(&writer_data);
    let mut replica = Node::replica(
        "replica-1",
        dir,
        &dir.join("replica-1"),
        &nats_url,
        &writer.base,
    );
    replica.wait_up().await;

    // --- 1. A realistic day on the writer; the replica follows. -------------------------
    let t = Tokens::issue(&writer, &admin).await;
    let v1 = realistic_visit(&writer, &t, "Huaxin Dealers Ltd", "Wang Lei", "ordinary").await;
    let v2 = realistic_visit(&writer, &t, "Huaxin Dealers Ltd", "Li Qiang", "senior").await;
    let _v3 = realistic_visit(&writer, &t, "Nanshan Motors", "Zhao Min", "special").await;
    writer
        .post(
            &t.requester,
            "/api/v1/visits",
            &visit_body("Nanshan Motors", "Sun Hao"),
        )
        .await
        .ok("a visit without a level yet");
    writer
        .post(
            &t.reception,
            &format!("/api/v1/visits/{v2}/note-preference"),
            &json!({ "subject": "Li Qiang", "kind": "diet", "text": "no pork" }),
        )
        .await
        .ok("note-preference");
    writer
        .post(
            &t.reception,
            "/api/v1/complaints",
            &json!({ "visit_id": v1, "customer": "Huaxin Dealers Ltd", "severity": "minor",
                     "category": "meals", "description": "the soup was cold" }),
        )
        .await
        .ok("raise a complaint");
    let last = sign_in(&writer, &t, 0).await;

    let head = converge(&mut writer, &mut replica, &admin, last).await;
    let wlog = writer.log(&admin).await;
    assert_same_log(
        "after the first commands",
        &wlog,
        &replica.log(&admin).await,
    );
    let types: Vec<&str> = wlog.iter().filter_map(|e| e["type"].as_str()).collect();
    for ty in [
        "LevelAssigned",
        "MealBooked",
        "ExpenseRecorded",
        "ComplaintRaised",
        "VisitorSignedIn",
    ] {
        assert!(types.contains(&ty), "the log holds a {ty}: {types:?}");
    }
    let wv = read_views(&writer, &admin, head, &v1).await;
    let rv = read_views(&replica, &admin, head, &v1).await;
    assert_same_views("writer vs replica-1", &wv, &rv);
    assert!(
        wlog.iter()
            .any(|e| e["type"] == "ExpenseRecorded" && e["data"]["over_cap"] == true),
        "one expense is over its cap"
    );
    let costs = &wv[1].1;
    assert!(
        costs["total_fen"].as_i64().unwrap_or(0) >= 3 * 520_000,
        "the cost report sees the expenses: {costs}"
    );
    assert!(
        costs["over_cap_fen"].as_i64().unwrap_or(0) > 0,
        "the cost report sees the over-cap expense: {costs}"
    );
    assert_eq!(wv[6].1["ok"], true, "the chain verifies: {}", wv[6].1);
    // The compared answers are not empty: the projections saw the day on both nodes.
    let board = &wv[0].1;
    let len = |v: &Value| v.as_array().map_or(0, Vec::len);
    assert_eq!(
        len(&board["visits"]),
        4,
        "four open visits on the board: {board}"
    );
    assert_eq!(len(&board["on_site"]), 1, "one visitor on site: {board}");
    assert_eq!(len(&board["complaints"]), 1, "one open complaint: {board}");
    assert_eq!(
        len(&wv[4].1["complaints"]),
        1,
        "the open complaint listed: {}",
        wv[4].1
    );
    let profile = &wv[7].1;
    assert_eq!(
        len(&profile["visits"]),
        2,
        "Huaxin's two visits in its archive: {profile}"
    );
    assert_eq!(wv[5].1["level"], "ordinary", "visit state: {}", wv[5].1);

    // The replica reports itself ready at the writer's head.
    let deadline = Instant::now() + CONVERGE;
    loop {
        let r = replica
            .client
            .get(format!("{}/readyz", replica.base))
            .send()
            .await
            .expect("replica /readyz");
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status == 200 && body["head_seq"].as_u64() == Some(head) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replica /readyz not ready at head {head} within {CONVERGE:?}: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // --- 2. The replica refuses commands and accepts the writer's tokens. ----------------
    let refused = replica
        .post(
            &t.requester,
            "/api/v1/visits",
            &visit_body("Huaxin Dealers Ltd", "Wang Lei"),
        )
        .await;
    assert_eq!(
        refused.status, 503,
        "a replica refuses commands: {}",
        refused.body
    );
    assert_eq!(
        refused.body["error"]["code"], "read_replica",
        "{}",
        refused.body
    );
    assert!(
        refused.body.to_string().contains(&writer.base)
            || refused
                .body
                .to_string()
                .contains(&format!("127.0.0.1:{}", writer.port)),
        "the refusal names the write node {}: {}",
        writer.base,
        refused.body
    );
    assert_eq!(
        replica.head(&admin).await,
        head,
        "a refused command stores nothing"
    );
    // Tokens issued on the writer after the replica started are accepted there.
    replica
        .get(&t.reception, "/api/v1/board")
        .await
        .ok("replica board with a reception token");
    let unknown = replica.get("not-a-token", "/api/v1/board").await;
    assert_eq!(
        unknown.status, 401,
        "an unknown token is refused: {}",
        unknown.body
    );

    // --- 3. NATS stopped under load, restarted: the writer never fails a command. ------
    // A steady background load of sign-ins runs across the whole outage, beside visit
    // commands from the main task.
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(background_sign_ins(
        writer.client.clone(),
        writer.base.clone(),
        t.frontdesk.clone(),
        done.clone(),
        stop.clone(),
    ));
    let wait_done = |n: usize| {
        let done = done.clone();
        async move {
            let deadline = Instant::now() + CONVERGE;
            while done.load(Ordering::SeqCst) < n {
                assert!(
                    Instant::now() < deadline,
                    "the background load stalled before {n} commands"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_done(10).await;
    nats.kill();
    let outage_started = done.load(Ordering::SeqCst);
    let mut last = head;
    let mut slowest = Duration::ZERO;
    for n in 0..10 {
        let t0 = Instant::now();
        let b = writer
            .post(
                &t.reception,
                &format!("/api/v1/visits/{v1}/note-preference"),
                &json!({ "subject": "Wang Lei", "kind": "room", "text": format!("note {n}") }),
            )
            .await
            .ok("a command while NATS is down");
        slowest = slowest.max(t0.elapsed());
        last = last.max(max_seq(&b));
    }
    wait_done(outage_started + 30).await;
    nats.restart();
    wait_listening(&mut nats, nats_port);
    let restarted = done.load(Ordering::SeqCst);
    wait_done(restarted + 10).await;
    stop.store(true, Ordering::SeqCst);
    let (load_last, load_slowest, load_count) = load.await.expect("background load");
    last = last.max(load_last);
    slowest = slowest.max(load_slowest);
    eprintln!(
        "NATS outage: {load_count} background sign-ins and 10 visit commands, all succeeded; \
         slowest command {slowest:?}"
    );
    assert!(
        slowest < Duration::from_secs(3),
        "appends must not wait for NATS: a command took {slowest:?} during the outage"
    );
    let catch_up = Instant::now();
    converge(&mut writer, &mut replica, &admin, last).await;
    assert_same_log(
        "after the NATS outage",
        &writer.log(&admin).await,
        &replica.log(&admin).await,
    );
    eprintln!(
        "replica caught up {:?} after NATS came back",
        catch_up.elapsed()
    );

    // --- 4. Writer SIGKILLed mid-relay, restarted on the same data dir. -----------------
    // Eight clients keep signing visitors in; the writer is killed while they run, so
    // commands are in flight and the relay is (most likely) behind.
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            tokio::spawn(sign_ins_until_killed(
                writer.client.clone(),
                writer.base.clone(),
                t.frontdesk.clone(),
                w,
                done.clone(),
            ))
        })
        .collect();
    let deadline = Instant::now() + CONVERGE;
    while done.load(Ordering::SeqCst) < 150 {
        assert!(Instant::now() < deadline, "the crash load stalled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let replica_at_kill = replica.head(&admin).await;
    writer.proc_.kill();
    let mut acked = 0;
    for w in workers {
        acked = acked.max(w.await.expect("crash load worker"));
    }
    eprintln!(
        "writer killed with {} commands acknowledged (highest seq {acked}); replica had {replica_at_kill}",
        done.load(Ordering::SeqCst)
    );
    writer.proc_.restart();
    writer.wait_up().await;
    let restarted_head = writer.head(&admin).await;
    assert!(
        restarted_head >= acked,
        "every acknowledged command survives SIGKILL: head {restarted_head} < {acked}"
    );
    let after_restart = sign_in(&writer, &t, 999).await;
    converge(&mut writer, &mut replica, &admin, after_restart).await;
    assert_same_log(
        "after the writer crash",
        &writer.log(&admin).await,
        &replica.log(&admin).await,
    );

    // --- 4b. The replica SIGKILLed, commands go on, it restarts on its data dir. --------
    replica.proc_.kill();
    let mut last = 0;
    for n in 0..20 {
        last = last.max(sign_in(&writer, &t, 1000 + n).await);
    }
    replica.proc_.restart();
    replica.wait_up().await;
    let head = converge(&mut writer, &mut replica, &admin, last).await;
    let wlog = writer.log(&admin).await;
    assert_same_log(
        "after the replica restart",
        &wlog,
        &replica.log(&admin).await,
    );
    let wv = read_views(&writer, &admin, head, &v1).await;
    let rv = read_views(&replica, &admin, head, &v1).await;
    assert_same_views("writer vs replica-1 after both crashes", &wv, &rv);

    // --- 5. A replica from nothing equals the one that followed live. -------------------
    let mut fresh = Node::replica(
        "replica-2",
        dir,
        &dir.join("replica-2"),
        &nats_url,
        &writer.base,
    );
    fresh.wait_up().await;
    converge(&mut writer, &mut fresh, &admin, head).await;
    assert_same_log("rebuilt replica", &wlog, &fresh.log(&admin).await);
    let fv = read_views(&fresh, &admin, head, &v1).await;
    assert_same_views("replica-1 vs rebuilt replica-2", &rv, &fv);
    // The live replica still has everything (the new one did not take its messages).
    assert_eq!(replica.head(&admin).await, head);

    eprintln!("replication end-to-end took {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------
// A three-node JetStream cluster
// ---------------------------------------------------------------------------------------

/// Whether the nats-server binary is 2.10 or newer (`sync_interval`, current clustering).
fn nats_is_current() -> bool {
    let out = Command::new(nats_bin()).arg("--version").output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let version = text.split('v').nth(1).unwrap_or("");
    let mut parts = version
        .trim()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 10)
}

/// Three nats-servers clustered on localhost, JetStream on each, with the runbook's
/// `sync_interval: always` where the server knows it (ops/nats-cluster/).
fn start_nats_cluster(dir: &Path) -> (Vec<(Proc, u16)>, String) {
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let sync = if nats_is_current() {
        "sync_interval: always"
    } else {
        ""
    };
    let mut nodes = Vec::new();
    for (i, (client, cluster)) in ports.iter().enumerate() {
        let routes: Vec<String> = ports
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, (_, c))| format!("nats://127.0.0.1:{c}"))
            .collect();
        let conf = dir.join(format!("nats-{i}.conf"));
        std::fs::write(
            &conf,
            format!(
                "server_name: n{i}\nlisten: 127.0.0.1:{client}\n\
                 jetstream {{ store_dir: \"{}\", {sync} }}\n\
                 cluster {{ name: reception, listen: 127.0.0.1:{cluster}, routes: [{}] }}\n",
                dir.join(format!("nats-{i}")).display(),
                routes.join(", ")
            ),
        )
        .expect("write a nats config");
        let mut p = Proc::start(
            &format!("nats-{i}"),
            nats_bin(),
            vec!["-c".into(), conf.display().to_string()],
            Vec::new(),
            dir,
        );
        wait_listening(&mut p, *client);
        nodes.push((p, *client));
    }
    let urls: Vec<String> = ports
        .iter()
        .map(|(c, _)| format!("nats://127.0.0.1:{c}"))
        .collect();
    (nodes, urls.join(","))
}

/// Starts a node, restarting it while it exits at start (the cluster may still be
/// electing its JetStream leader), until `/healthz` answers.
async fn start_when_cluster_ready(node: &mut Node) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let exited = node
            .proc_
            .child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
        if exited {
            assert!(
                Instant::now() < deadline,
                "{} kept exiting at start; its log ends with:\n{}",
                node.proc_.name,
                node.proc_.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
            node.proc_.restart();
            continue;
        }
        if let Ok(r) = node
            .client
            .get(format!("{}/healthz", node.base))
            .send()
            .await
        {
            if r.status().is_success() {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never came up",
            node.proc_.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_three_node_jetstream_cluster_loses_nothing_when_a_node_or_the_replica_dies() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let (mut nats, urls) = start_nats_cluster(dir);

    let writer_data = dir.join("writer");
    let port = free_port();
    let args = vec![
        "serve".into(),
        "--data-dir".into(),
        writer_data.display().to_string(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--nats".into(),
        urls.clone(),
        "--nats-stream-replicas".into(),
        "3".into(),
    ];
    let mut writer = Node::start("writer", args, Vec::new(), port, dir);
    start_when_cluster_ready(&mut writer).await;
    let admin = admin_token(&writer_data);
    let mut replica = Node::replica("replica", dir, &dir.join("replica"), &urls, &writer.base);
    start_when_cluster_ready(&mut replica).await;

    let t = Tokens::issue(&writer, &admin).await;
    let v1 = realistic_visit(&writer, &t, "Huaxin Dealers Ltd", "Wang Lei", "senior").await;

    // Load across both failures.
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(background_sign_ins(
        writer.client.clone(),
        writer.base.clone(),
        t.frontdesk.clone(),
        done.clone(),
        stop.clone(),
    ));
    let wait_done = |n: usize| {
        let done = done.clone();
        async move {
            let deadline = Instant::now() + CONVERGE;
            while done.load(Ordering::SeqCst) < n {
                assert!(
                    Instant::now() < deadline,
                    "the load stalled before {n} commands"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_done(20).await;
    // One NATS node dies and comes back.
    nats[1].0.kill();
    let at = done.load(Ordering::SeqCst);
    wait_done(at + 40).await;
    nats[1].0.restart();
    let port1 = nats[1].1;
    wait_listening(&mut nats[1].0, port1);
    // The replica dies and comes back on its data dir.
    let at = done.load(Ordering::SeqCst);
    wait_done(at + 20).await;
    replica.proc_.kill();
    let at = done.load(Ordering::SeqCst);
    wait_done(at + 40).await;
    replica.proc_.restart();
    start_when_cluster_ready(&mut replica).await;
    let at = done.load(Ordering::SeqCst);
    wait_done(at + 20).await;
    stop.store(true, Ordering::SeqCst);
    let (last, _, count) = load.await.expect("load");

    let head = converge(&mut writer, &mut replica, &admin, last).await;
    assert_same_log(
        "cluster: after a NATS node and the replica died",
        &writer.log(&admin).await,
        &replica.log(&admin).await,
    );
    let wv = read_views(&writer, &admin, head, &v1).await;
    let rv = read_views(&replica, &admin, head, &v1).await;
    assert_same_views("cluster: writer vs replica", &wv, &rv);
    assert!(
        wv[1].1["total_fen"].as_i64().unwrap_or(0) > 0,
        "the cost answers compared are not empty: {}",
        wv[1].1
    );
    eprintln!("cluster: {count} sign-ins under load, head {head}, logs and answers equal");
}

/// Deletes one message of the stream `RECEPTION` through the NATS protocol itself (the
/// JetStream API is request/reply over plain subjects), as a lost message would look.
fn delete_stream_message(nats_port: u16, stream_seq: u64) {
    let payload = format!("{{\"seq\":{stream_seq},\"no_erase\":true}}");
    let reply = nats_request(
        nats_port,
        "$JS.API.STREAM.MSG.DELETE.RECEPTION",
        payload.as_bytes(),
    );
    assert!(
        reply.contains("\"success\":true"),
        "delete refused: {reply}"
    );
}

/// One request over the plain NATS protocol (as any client allowed on the server
/// could send it); answers the reply's payload line.
fn nats_request(nats_port: u16, subject: &str, payload: &[u8]) -> String {
    use std::io::{BufRead as _, BufReader as StdBufReader, Write as _};
    let mut conn = TcpStream::connect(("127.0.0.1", nats_port)).expect("connect to NATS");
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = StdBufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap(); // INFO
    write!(
        conn,
        "CONNECT {{\"verbose\":false}}\r\nSUB _INBOX.req 1\r\nPUB {subject} _INBOX.req {}\r\n",
        payload.len()
    )
    .unwrap();
    conn.write_all(payload).unwrap();
    conn.write_all(b"\r\n").unwrap();
    conn.flush().unwrap();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("a reply from NATS");
        if line.starts_with("MSG _INBOX.req") {
            line.clear();
            reader.read_line(&mut line).unwrap();
            return line;
        }
        if line.starts_with("PING") {
            conn.write_all(b"PONG\r\n").unwrap();
        }
    }
}

/// The admin token a write node made on its first start.
fn admin_token(data: &Path) -> String {
    std::fs::read_to_string(data.join("admin.token"))
        .expect("admin token")
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gap_jetstream_cannot_fill_makes_a_replica_unready_or_is_healed_from_the_writer() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let (_nats, nats_port) = start_nats(dir);
    let nats_url = format!("nats://127.0.0.1:{nats_port}");
    let writer_data = dir.join("writer");
    let mut writer = Node::writer(dir, &writer_data, &nats_url);
    writer.wait_up().await;
    let admin = admin_token(&writer_data);
    let t = Tokens::issue(&writer, &admin).await;
    let mut last = 0;
    for n in 0..20 {
        last = sign_in(&writer, &t, n).await;
    }
    // Wait until the relay has published everything, then lose message 12.
    let deadline = Instant::now() + CONVERGE;
    loop {
        let r = writer
            .client
            .get(format!("{}/readyz", writer.base))
            .send()
            .await;
        let body: Value = match r {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        if body.to_string().contains(&format!("\"cursor\":{last},")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the relay did not publish up to {last}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    delete_stream_message(nats_port, 12);

    let mut replica = Node::replica(
        "replica",
        dir,
        &dir.join("replica"),
        &nats_url,
        &writer.base,
    );
    replica.wait_up().await;
    let deadline = Instant::now() + CONVERGE;
    loop {
        replica.proc_.assert_running();
        let r = replica
            .client
            .get(format!("{}/readyz", replica.base))
            .send()
            .await
            .expect("replica /readyz");
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let text = body.to_string();
        if status == 503 && text.contains("stuck on a gap: waiting for seq 12") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never reported its gap: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A replica that may read the write node's feed fills the gap from it (each event
    // checked against the hash chain) and goes on with the stream.
    let token_file = dir.join("feed.token");
    std::fs::write(&token_file, &admin).unwrap();
    let port = free_port();
    let args = vec![
        "read-node".into(),
        "--nats".into(),
        nats_url.clone(),
        "--data-dir".into(),
        dir.join("healing").display().to_string(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--write-node".into(),
        writer.base.clone(),
        "--write-node-token-file".into(),
        token_file.display().to_string(),
    ];
    let mut healing = Node::start("healing", args, Vec::new(), port, dir);
    healing.wait_up().await;
    let last = last.max(sign_in(&writer, &t, 100).await);
    converge(&mut writer, &mut healing, &admin, last).await;
    assert_same_log(
        "healed from the write node's feed",
        &writer.log(&admin).await,
        &healing.log(&admin).await,
    );
    assert!(
        healing
            .proc_
            .log_tail()
            .contains("filled a gap from the write node"),
        "the heal is logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_whose_cursor_is_ahead_of_a_jetstream_that_lost_its_store_republishes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let (mut nats, nats_port) = start_nats(dir);
    let nats_url = format!("nats://127.0.0.1:{nats_port}");
    let writer_data = dir.join("writer");
    let mut writer = Node::writer(dir, &writer_data, &nats_url);
    writer.wait_up().await;
    let admin = admin_token(&writer_data);
    let t = Tokens::issue(&writer, &admin).await;
    let mut last = 0;
    for n in 0..20 {
        last = sign_in(&writer, &t, n).await;
    }
    let published = |cursor: u64| {
        let (client, base) = (writer.client.clone(), writer.base.clone());
        async move {
            let deadline = Instant::now() + CONVERGE;
            loop {
                let body: Value = match client.get(format!("{base}/readyz")).send().await {
                    Ok(r) => r.json().await.unwrap_or(Value::Null),
                    Err(_) => Value::Null,
                };
                if body.to_string().contains(&format!("\"cursor\":{cursor},")) {
                    return;
                }
                assert!(Instant::now() < deadline, "relay not at {cursor}: {body}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    published(last).await;
    // The NATS server loses its whole store and comes back empty.
    nats.kill();
    std::fs::remove_dir_all(dir.join("nats-store")).expect("remove the NATS store");
    nats.restart();
    wait_listening(&mut nats, nats_port);
    let last = last.max(sign_in(&writer, &t, 100).await);
    published(last).await;

    // A new replica gets the whole log from the stream alone (no write-node feed).
    let mut replica = Node::replica(
        "replica",
        dir,
        &dir.join("replica"),
        &nats_url,
        &writer.base,
    );
    replica.wait_up().await;
    converge(&mut writer, &mut replica, &admin, last).await;
    assert_same_log(
        "after JetStream lost its store",
        &writer.log(&admin).await,
        &replica.log(&admin).await,
    );
}

/// Publishes `payload` on `subject` with the plain NATS protocol (as anyone allowed to
/// publish to the stream could) and waits for JetStream's acknowledgement.
fn publish_raw(nats_port: u16, subject: &str, payload: &[u8]) {
    let ack = nats_request(nats_port, subject, payload);
    assert!(ack.contains("\"seq\""), "JetStream did not store it: {ack}");
}

/// A `TokenIssued` granting admin to `token`, continuing the chain after `last` (link
/// and hash right), signed by a key of the forger's own.
fn forged_admin_token(last: &Value, token: &str) -> reception_store::Envelope {
    let last: reception_store::Envelope = serde_json::from_value(last.clone()).unwrap();
    let mut env = last.clone();
    env.seq += 1;
    env.stream = "tokens".into();
    env.version = 99;
    env.id = uuid::Uuid::now_v7();
    env.event_type = "TokenIssued".into();
    env.data = json!({
        "token_hash": blake3::hash(token.as_bytes()).to_hex().to_string(),
        "user": "intruder",
        "role": "admin",
    });
    env.prev_hash = last.hash.clone();
    env.hash = String::new();
    env.sig = None;
    let mut h = blake3::Hasher::new();
    h.update(env.prev_hash.as_bytes());
    h.update(&serde_json::to_vec(&env).unwrap());
    env.hash = h.finalize().to_hex().to_string();
    let forger = reception_store::signing::Signer::generate().unwrap();
    env.sig = Some(forger.sign(&env.hash));
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forged_token_injected_into_jetstream_is_refused_and_the_replica_keeps_serving() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let (_nats, nats_port) = start_nats(dir);
    let nats_url = format!("nats://127.0.0.1:{nats_port}");
    let writer_data = dir.join("writer");
    let mut writer = Node::writer(dir, &writer_data, &nats_url);
    writer.wait_up().await;
    let admin = admin_token(&writer_data);
    let t = Tokens::issue(&writer, &admin).await;
    let mut last = sign_in(&writer, &t, 0).await;
    let log = writer.log(&admin).await;
    let adoption = log
        .iter()
        .find(|e| e["type"] == "SigningKeyAdopted")
        .expect("the write node's log adopted a signing key");
    let writer_key = adoption["data"]["public_key"].as_str().unwrap().to_string();

    let port = free_port();
    let args = vec![
        "read-node".into(),
        "--nats".into(),
        nats_url.clone(),
        "--data-dir".into(),
        dir.join("replica").display().to_string(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--writer-key".into(),
        writer_key,
    ];
    let mut replica = Node::start("replica", args, Vec::new(), port, dir);
    replica.wait_up().await;
    converge(&mut writer, &mut replica, &admin, last).await;

    let forged_token = "forged-admin-token-0123456789";
    let forged = forged_admin_token(log.last().unwrap(), forged_token);
    publish_raw(
        nats_port,
        "reception.events.tokens",
        &serde_json::to_vec(&forged).unwrap(),
    );
    // the refusal is reported on /readyz, by its seq and reason
    let deadline = Instant::now() + CONVERGE;
    loop {
        replica.proc_.assert_running();
        let body: Value = replica
            .client
            .get(format!("{}/readyz", replica.base))
            .send()
            .await
            .expect("replica /readyz")
            .json()
            .await
            .unwrap_or(Value::Null);
        if body.to_string().contains("signature") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the forgery was not reported: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = replica.get(forged_token, "/api/v1/board").await;
    assert_eq!(refused.status, 401, "the forged token opens nothing");

    // the writer's own events go on arriving and being served
    for n in 1..4 {
        last = sign_in(&writer, &t, n).await;
    }
    converge(&mut writer, &mut replica, &admin, last).await;
    assert_same_log(
        "after a refused forgery",
        &writer.log(&admin).await,
        &replica.log(&admin).await,
    );
    let board = replica.get(&admin, "/api/v1/board").await;
    assert_eq!(board.status, 200);
}
