//! `reception bench http`: an HTTP load generator for the API of a running server.
//!
//! Three phases, each with `connections` concurrent clients (one keep-alive connection
//! each) for `duration`:
//! 1. **commands**: every client files a visit request (`POST /api/v1/visits`) and then
//!    issues eleven follow-up commands on it (approve-request, assign-level, draft-plan,
//!    review-plan, contact-unit, assign-staff, book-lodging, two book-meal,
//!    dispatch-car, note-preference), then starts over. The approval comes first
//!    because the default policy asks the department manager's before a level (V22). A command's answer comes after its events
//!    are durable (the store's group commit), so answered commands/s are durable
//!    commands/s.
//! 2. **board**: `GET /api/v1/board` in a loop.
//! 3. **costs**: `GET /api/v1/costs?year=Y&by=level` in a loop.
//!
//! Latencies (from sending a request to having read its whole answer) go into an HDR
//! histogram (microseconds); only 2xx answers count as ok. Role tokens are made with the
//! admin token through `POST /api/v1/tokens`.
//!
//! The client is hyper's HTTP/1.1 connection API over one keep-alive TCP connection per
//! client (no pool, no redirect or proxy logic), with every header value and every
//! constant request body built once before the phase starts, so that the generator's
//! CPU per request stays small next to the server's on a shared machine. Only `http://`
//! URLs are supported.
//!
//! ```no_run
//! # async fn run() -> Result<(), reception_tools::load::LoadError> {
//! use reception_tools::load::{run, LoadOptions};
//! let token = std::fs::read_to_string("./data/admin.token").unwrap();
//! let report = run("http://127.0.0.1:8080", token.trim(), LoadOptions::default()).await?;
//! println!("{}", report.to_markdown());
//! # Ok(()) }
//! ```

use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{Datelike, FixedOffset, Utc};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::task::JoinSet;

/// How hard and how long to load the server.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Concurrent clients, one connection each.
    pub connections: usize,
    /// Length of each phase.
    pub duration: Duration,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            connections: 64,
            duration: Duration::from_secs(10),
        }
    }
}

/// Why the load generator could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Bad options.
    #[error("invalid load options: {0}")]
    Options(String),
    /// The server refused to make a role token (wrong admin token, no server, ...).
    #[error("could not get a {role} token from {url}: {message}")]
    Token {
        role: String,
        url: String,
        message: String,
    },
    /// Building the HTTP client failed.
    #[error("http client: {0}")]
    Client(String),
    /// A load task panicked.
    #[error("a load task failed: {0}")]
    Task(String),
}

/// The figures of one phase.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PhaseReport {
    /// `commands`, `board` or `costs`.
    pub name: String,
    /// Answers with a 2xx status.
    pub ok: u64,
    /// Answers with another status, or transport errors.
    pub errors: u64,
    /// Wall time of the phase.
    pub seconds: f64,
    /// `ok / seconds`.
    pub per_second: f64,
    /// Latency of successful requests, microseconds.
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Up to five distinct error answers (status and body start), for diagnosis.
    pub error_samples: Vec<String>,
}

/// The result of [`run`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub connections: usize,
    pub phases: Vec<PhaseReport>,
}

impl LoadReport {
    /// The phases as a markdown table (one row per phase), followed by error samples.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "| phase ({} connections) | ok | errors | per second | p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|---:|\n",
            self.connections
        );
        for p in &self.phases {
            s.push_str(&format!(
                "| {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms |\n",
                p.name,
                p.ok,
                p.errors,
                p.per_second,
                p.p50_us as f64 / 1000.0,
                p.p99_us as f64 / 1000.0,
                p.max_us as f64 / 1000.0
            ));
        }
        for p in &self.phases {
            for e in &p.error_samples {
                s.push_str(&format!("\n- {} error: {e}", p.name));
            }
        }
        s
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_markdown())
    }
}

/// Tokens of the roles the load needs.
#[derive(Clone)]
struct Tokens {
    requester: String,
    reception: String,
    approver: String,
    analyst: String,
}

/// Where to connect and what to send as `Host`.
#[derive(Clone)]
struct Target {
    /// `host:port` for the TCP connection.
    addr: String,
    host: HeaderValue,
}

impl Target {
    fn parse(base_url: &str) -> Result<Target, LoadError> {
        let rest = base_url
            .trim_end_matches('/')
            .strip_prefix("http://")
            .ok_or_else(|| {
                LoadError::Options(format!("only http:// URLs are supported: {base_url:?}"))
            })?;
        if rest.contains('/') {
            return Err(LoadError::Options(format!(
                "the URL must be the server's root, without a path: {base_url:?}"
            )));
        }
        if rest.is_empty() {
            return Err(LoadError::Options(format!("no host in {base_url:?}")));
        }
        let addr = if rest.contains(':') {
            rest.to_string()
        } else {
            format!("{rest}:80")
        };
        let host = HeaderValue::from_str(rest)
            .map_err(|e| LoadError::Options(format!("bad host in {base_url:?}: {e}")))?;
        Ok(Target { addr, host })
    }
}

fn bearer(token: &str) -> Result<HeaderValue, LoadError> {
    HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|e| LoadError::Client(format!("token is not a header value: {e}")))
}

/// One keep-alive HTTP/1.1 connection (reconnected after a transport error).
struct Conn {
    target: Target,
    send: Option<SendRequest<Full<Bytes>>>,
}

/// A finished exchange: status and whole body, or a transport error.
type Exchange = Result<(hyper::StatusCode, Bytes), String>;

impl Conn {
    fn new(target: Target) -> Conn {
        Conn { target, send: None }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let tcp = tokio::net::TcpStream::connect(&self.target.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.target.addr))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(send)
    }

    /// Sends one request and reads its whole answer (30 s limit).
    async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        auth: &HeaderValue,
        body: Option<Bytes>,
    ) -> Exchange {
        if self.send.as_ref().is_none_or(|s| s.is_closed()) {
            self.send = Some(self.connect().await?);
        }
        let send = self.send.as_mut().expect("connected above");
        send.ready().await.map_err(|e| {
            self.send = None;
            format!("connection: {e}")
        })?;
        let send = self.send.as_mut().expect("still connected");
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.target.host.clone())
            .header(AUTHORIZATION, auth.clone());
        let body = match body {
            Some(b) => {
                req = req.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                b
            }
            None => Bytes::new(),
        };
        let req = req.body(Full::new(body)).map_err(|e| e.to_string())?;
        let answer = async {
            let resp = send.send_request(req).await.map_err(|e| e.to_string())?;
            let status = resp.status();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("{status}: reading the body: {e}"))?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        match tokio::time::timeout(Duration::from_secs(30), answer).await {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(e)) => {
                self.send = None;
                Err(e)
            }
            Err(_) => {
                self.send = None;
                Err("no answer within 30 s".into())
            }
        }
    }
}

/// Makes a token of `role` with the admin token.
async fn token(target: &Target, admin: &str, role: &str) -> Result<String, LoadError> {
    let fail = |message: String| LoadError::Token {
        role: role.into(),
        url: format!("http://{}/api/v1/tokens", target.addr),
        message,
    };
    let body = json!({"user": format!("bench.{role}"), "role": role}).to_string();
    let mut conn = Conn::new(target.clone());
    let (status, bytes) = conn
        .exchange(
            Method::POST,
            "/api/v1/tokens",
            &bearer(admin)?,
            Some(Bytes::from(body)),
        )
        .await
        .map_err(fail)?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| fail(format!("{status}: {e}")))?;
    if !status.is_success() {
        return Err(fail(format!("{status}: {body}")));
    }
    body.get("token")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| fail(format!("no token in {body}")))
}

async fn tokens(
    target: &Target,
    admin: &str,
    commands: bool,
    queries: bool,
) -> Result<Tokens, LoadError> {
    let mut t = Tokens {
        requester: String::new(),
        reception: String::new(),
        approver: String::new(),
        analyst: String::new(),
    };
    if commands {
        t.requester = token(target, admin, "requester").await?;
        t.reception = token(target, admin, "reception").await?;
        t.approver = token(target, admin, "approver").await?;
    }
    if queries {
        t.analyst = token(target, admin, "analyst").await?;
    }
    Ok(t)
}

fn check(opts: &LoadOptions) -> Result<(), LoadError> {
    if opts.connections == 0 {
        return Err(LoadError::Options("connections must be at least 1".into()));
    }
    if opts.duration.is_zero() {
        return Err(LoadError::Options("duration must be more than 0".into()));
    }
    Ok(())
}

/// Runs the three phases against `base_url` (e.g. `http://127.0.0.1:8080`).
pub async fn run(
    base_url: &str,
    admin_token: &str,
    opts: LoadOptions,
) -> Result<LoadReport, LoadError> {
    run_phases(base_url, admin_token, opts, true, true).await
}

/// Runs only the commands phase (e.g. when the queries are measured with `wrk`).
pub async fn run_commands(
    base_url: &str,
    admin_token: &str,
    opts: LoadOptions,
) -> Result<LoadReport, LoadError> {
    run_phases(base_url, admin_token, opts, true, false).await
}

/// Runs only the two query phases (board, costs), e.g. against a store filled by the
/// demo generator, where the board shows a realistic number of open visits (the
/// commands phase of [`run`] leaves every visit it files open on the board).
pub async fn run_queries(
    base_url: &str,
    admin_token: &str,
    opts: LoadOptions,
) -> Result<LoadReport, LoadError> {
    run_phases(base_url, admin_token, opts, false, true).await
}

/// The commands phase and/or the query phases, in that order.
async fn run_phases(
    base_url: &str,
    admin_token: &str,
    opts: LoadOptions,
    commands: bool,
    queries: bool,
) -> Result<LoadReport, LoadError> {
    check(&opts)?;
    let target = Target::parse(base_url)?;
    let tokens = tokens(&target, admin_token, commands, queries).await?;
    let mut kinds = Vec::new();
    if commands {
        kinds.push(("commands", Kind::Commands));
    }
    if queries {
        let year = Utc::now().year();
        kinds.push(("board", Kind::Get("/api/v1/board".into())));
        kinds.push((
            "costs",
            Kind::Get(format!("/api/v1/costs?year={year}&by=level")),
        ));
    }
    let mut phases = Vec::with_capacity(kinds.len());
    for (name, kind) in kinds {
        phases.push(phase(name, &target, &tokens, &opts, kind).await?);
    }
    Ok(LoadReport {
        connections: opts.connections,
        phases,
    })
}

#[derive(Clone)]
enum Kind {
    Commands,
    Get(String),
}

/// One client's tally.
struct Tally {
    hist: Histogram<u64>,
    ok: u64,
    errors: u64,
    samples: Vec<String>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            hist: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds"),
            ok: 0,
            errors: 0,
            samples: Vec::new(),
        }
    }

    /// Sends a request, times it from send to the whole answer read, and returns the
    /// body of a 2xx answer.
    async fn send(
        &mut self,
        conn: &mut Conn,
        method: Method,
        path: &str,
        auth: &HeaderValue,
        body: Option<Bytes>,
    ) -> Option<Bytes> {
        let started = Instant::now();
        let outcome = conn.exchange(method, path, auth, body).await;
        let micros = started.elapsed().as_micros().min(120_000_000) as u64;
        let outcome = match outcome {
            Ok((status, b)) if status.is_success() => Ok(b),
            Ok((status, b)) => Err(format!(
                "{status}: {}",
                String::from_utf8_lossy(&b[..b.len().min(200)])
            )),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(b) => {
                self.ok += 1;
                let _ = self.hist.record(micros.max(1));
                Some(b)
            }
            Err(e) => {
                self.errors += 1;
                if self.samples.len() < 3 {
                    self.samples.push(e);
                }
                None
            }
        }
    }
}

async fn phase(
    name: &str,
    target: &Target,
    tokens: &Tokens,
    opts: &LoadOptions,
    kind: Kind,
) -> Result<PhaseReport, LoadError> {
    let headers = Headers {
        requester: bearer(&tokens.requester)?,
        reception: bearer(&tokens.reception)?,
        approver: bearer(&tokens.approver)?,
        analyst: bearer(&tokens.analyst)?,
    };
    let started = Instant::now();
    let deadline = started + opts.duration;
    let mut set = JoinSet::new();
    for worker in 0..opts.connections {
        let (headers, kind) = (headers.clone(), kind.clone());
        let mut conn = Conn::new(target.clone());
        set.spawn(async move {
            let mut tally = Tally::new();
            match kind {
                Kind::Commands => {
                    let plan = VisitPlan::new(worker);
                    let mut round = 0u64;
                    while Instant::now() < deadline {
                        plan.round(&mut conn, &headers, &mut tally, round, deadline)
                            .await;
                        round += 1;
                    }
                }
                Kind::Get(path) => {
                    while Instant::now() < deadline {
                        tally
                            .send(&mut conn, Method::GET, &path, &headers.analyst, None)
                            .await;
                    }
                }
            }
            tally
        });
    }
    let mut hist =
        Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds");
    let (mut ok, mut errors, mut samples) = (0, 0, Vec::new());
    while let Some(t) = set.join_next().await {
        let t = t.map_err(|e| LoadError::Task(e.to_string()))?;
        hist.add(&t.hist)
            .map_err(|e| LoadError::Task(e.to_string()))?;
        ok += t.ok;
        errors += t.errors;
        for s in t.samples {
            if samples.len() < 5 && !samples.contains(&s) {
                samples.push(s);
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(PhaseReport {
        name: name.into(),
        ok,
        errors,
        seconds,
        per_second: ok as f64 / seconds,
        p50_us: hist.value_at_quantile(0.50),
        p99_us: hist.value_at_quantile(0.99),
        max_us: hist.max(),
        error_samples: samples,
    })
}

/// `Authorization` header values, built once per phase.
#[derive(Clone)]
struct Headers {
    requester: HeaderValue,
    reception: HeaderValue,
    approver: HeaderValue,
    analyst: HeaderValue,
}

/// Who sends a follow-up command.
#[derive(Clone, Copy)]
enum Who {
    Requester,
    Reception,
    Approver,
}

impl Headers {
    fn of(&self, who: Who) -> &HeaderValue {
        match who {
            Who::Requester => &self.requester,
            Who::Reception => &self.reception,
            Who::Approver => &self.approver,
        }
    }
}

/// One client's pre-built request bodies: the filing body around its round number and
/// the eleven follow-up commands (their times are ten days after the client started, so
/// they stay in the future for the whole run).
struct VisitPlan {
    /// The filing body up to the round number of its `purpose`, and after it.
    file_head: Bytes,
    file_tail: Bytes,
    steps: Vec<(&'static str, Who, Bytes)>,
}

/// The answer of a filing; only the id is read.
#[derive(serde::Deserialize)]
struct Filed {
    id: String,
}

impl VisitPlan {
    fn new(worker: usize) -> VisitPlan {
        let cst = FixedOffset::east_opt(8 * 3600).expect("valid offset");
        let now = Utc::now().with_timezone(&cst);
        let arrival = now + chrono::Duration::days(10);
        let departure = arrival + chrono::Duration::days(2);
        const MARK: &str = "\u{0}ROUND\u{0}";
        let body = json!({
            "customer": {"company": format!("Bench Customer {worker} Co., Ltd."), "country": "CN", "foreign": false},
            "department": "east-sales",
            "visitors": [{"name": "Wang Lei", "title": "General Manager", "phone": "+86 138 0000 0000"},
                         {"name": "李娜", "title": "采购经理"}],
            "headcount": 2, "purpose": format!("load test round {MARK}"),
            "arrival": {"at": arrival, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport"},
            "departure": {"at": departure, "mode": "train", "number": "G7", "place": "station"},
            "needs": {"pickup": true, "dropoff": true, "lodging": true, "meeting_room": true},
        })
        .to_string();
        // serde_json escapes the NULs of the mark as \u0000.
        let mark = "\\u0000ROUND\\u0000";
        let at = body.find(mark).expect("the round mark is in the body");
        let file_head = Bytes::copy_from_slice(&body.as_bytes()[..at]);
        let file_tail = Bytes::copy_from_slice(&body.as_bytes()[at + mark.len()..]);
        let lunch = arrival + chrono::Duration::hours(3);
        let steps: [(&'static str, Who, Value); 11] = [
            // V22: a senior visit needs the department manager's approval (the default
            // policy's); the bench approver gives it
            (
                "approve-request",
                Who::Approver,
                json!({"decision": "approve", "as": "department_manager"}),
            ),
            ("assign-level", Who::Reception, json!({"level": "senior"})),
            (
                "draft-plan",
                Who::Reception,
                json!({"items": [{"at": arrival, "kind": "car", "title": "pickup", "place": "airport"}]}),
            ),
            ("review-plan", Who::Approver, json!({"approved": true})),
            (
                "contact-unit",
                Who::Reception,
                json!({"confirmed_headcount": 2, "notes": "confirmed"}),
            ),
            (
                "assign-staff",
                Who::Reception,
                json!({"host": "Li Na", "accompanying": [{"name": "Xu Li", "role": "regional_manager"}]}),
            ),
            (
                "book-lodging",
                Who::Reception,
                json!({"hotel": "Ji Hotel", "stars": 3, "rooms": 1, "nights": 2, "rate_fen": 32000, "paid_by": "visitor"}),
            ),
            (
                "book-meal",
                Who::Reception,
                json!({"meal": "lunch", "at": lunch, "venue": "Company canteen", "party_size": 2, "budget_fen": 40000}),
            ),
            (
                "book-meal",
                Who::Reception,
                json!({"meal": "dinner", "at": lunch + chrono::Duration::hours(6), "venue": "全聚德", "party_size": 2, "budget_fen": 45000}),
            ),
            (
                "dispatch-car",
                Who::Reception,
                json!({"leg": "pickup", "vehicle_class": "suv", "driver": "Driver Qian", "plate": "鲁A·B1234",
                "ready_at": arrival - chrono::Duration::minutes(30), "place": "airport", "number": "MU5101"}),
            ),
            (
                "note-preference",
                Who::Requester,
                json!({"subject": "Wang Lei", "kind": "diet", "text": "no spicy food"}),
            ),
        ];
        VisitPlan {
            file_head,
            file_tail,
            steps: steps
                .into_iter()
                .map(|(c, who, v)| (c, who, Bytes::from(v.to_string())))
                .collect(),
        }
    }

    fn file_body(&self, round: u64) -> Bytes {
        let round = round.to_string();
        let mut b = Vec::with_capacity(self.file_head.len() + round.len() + self.file_tail.len());
        b.extend_from_slice(&self.file_head);
        b.extend_from_slice(round.as_bytes());
        b.extend_from_slice(&self.file_tail);
        Bytes::from(b)
    }

    /// Files one visit and issues its follow-up commands (stops at the deadline).
    async fn round(
        &self,
        conn: &mut Conn,
        h: &Headers,
        tally: &mut Tally,
        round: u64,
        deadline: Instant,
    ) {
        let Some(answer) = tally
            .send(
                conn,
                Method::POST,
                "/api/v1/visits",
                &h.requester,
                Some(self.file_body(round)),
            )
            .await
        else {
            return;
        };
        let Ok(Filed { id }) = serde_json::from_slice::<Filed>(&answer) else {
            tally.errors += 1;
            if tally.samples.len() < 3 {
                tally.samples.push(format!(
                    "a filing answer without an id: {}",
                    String::from_utf8_lossy(&answer[..answer.len().min(200)])
                ));
            }
            return;
        };
        let mut path = String::with_capacity(64);
        for (command, who, body) in &self.steps {
            if Instant::now() >= deadline {
                return;
            }
            path.clear();
            path.push_str("/api/v1/visits/");
            path.push_str(&id);
            path.push('/');
            path.push_str(command);
            tally
                .send(conn, Method::POST, &path, h.of(*who), Some(body.clone()))
                .await;
        }
    }
}
