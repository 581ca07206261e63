//! `reception bench http`: an HTTP load generator for the API of a running server.
//!
//! Three phases, each with `connections` concurrent clients (one keep-alive connection
//! each) for `duration`:
//! 1. **commands**: every client files a visit request (`POST /api/v1/visits`) and then
//!    issues ten follow-up commands on it (assign-level, draft-plan, review-plan,
//!    contact-unit, assign-staff, book-lodging, two book-meal, dispatch-car,
//!    note-preference), then starts over. A command's answer comes after its events
//!    are durable (the store's group commit), so answered commands/s are durable
//!    commands/s.
//! 2. **board**: `GET /api/v1/board` in a loop.
//! 3. **costs**: `GET /api/v1/costs?year=Y&by=level` in a loop.
//!
//! Latencies go into an HDR histogram (microseconds). Role tokens are made with the
//! admin token through `POST /api/v1/tokens`.
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

use chrono::{Datelike, FixedOffset, Utc};
use hdrhistogram::Histogram;
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

/// Runs the three phases against `base_url` (e.g. `http://127.0.0.1:8080`).
pub async fn run(
    base_url: &str,
    admin_token: &str,
    opts: LoadOptions,
) -> Result<LoadReport, LoadError> {
    if opts.connections == 0 {
        return Err(LoadError::Options("connections must be at least 1".into()));
    }
    if opts.duration.is_zero() {
        return Err(LoadError::Options("duration must be more than 0".into()));
    }
    let base = base_url.trim_end_matches('/').to_string();
    let client = client()?;
    let tokens = Tokens {
        requester: token(&client, &base, admin_token, "requester").await?,
        reception: token(&client, &base, admin_token, "reception").await?,
        approver: token(&client, &base, admin_token, "approver").await?,
        analyst: token(&client, &base, admin_token, "analyst").await?,
    };
    let year = Utc::now().year();
    let mut phases = Vec::new();
    phases.push(phase("commands", &base, &tokens, &opts, Kind::Commands).await?);
    phases.push(
        phase(
            "board",
            &base,
            &tokens,
            &opts,
            Kind::Get("/api/v1/board".into()),
        )
        .await?,
    );
    phases.push(
        phase(
            "costs",
            &base,
            &tokens,
            &opts,
            Kind::Get(format!("/api/v1/costs?year={year}&by=level")),
        )
        .await?,
    );
    Ok(LoadReport {
        connections: opts.connections,
        phases,
    })
}

/// Runs only the commands phase (e.g. when the queries are measured with `wrk`).
pub async fn run_commands(
    base_url: &str,
    admin_token: &str,
    opts: LoadOptions,
) -> Result<LoadReport, LoadError> {
    if opts.connections == 0 {
        return Err(LoadError::Options("connections must be at least 1".into()));
    }
    if opts.duration.is_zero() {
        return Err(LoadError::Options("duration must be more than 0".into()));
    }
    let base = base_url.trim_end_matches('/').to_string();
    let client = client()?;
    let tokens = Tokens {
        requester: token(&client, &base, admin_token, "requester").await?,
        reception: token(&client, &base, admin_token, "reception").await?,
        approver: token(&client, &base, admin_token, "approver").await?,
        analyst: String::new(),
    };
    let phases = vec![phase("commands", &base, &tokens, &opts, Kind::Commands).await?];
    Ok(LoadReport {
        connections: opts.connections,
        phases,
    })
}

/// Runs only the two query phases (board, costs), e.g. against a store filled by the
/// demo generator, where the board shows a realistic number of open visits (the
/// commands phase of [`run`] leaves every visit it files open on the board).
pub async fn run_queries(
    base_url: &str,
    admin_token: &str,
    opts: LoadOptions,
) -> Result<LoadReport, LoadError> {
    if opts.connections == 0 {
        return Err(LoadError::Options("connections must be at least 1".into()));
    }
    if opts.duration.is_zero() {
        return Err(LoadError::Options("duration must be more than 0".into()));
    }
    let base = base_url.trim_end_matches('/').to_string();
    let analyst = token(&client()?, &base, admin_token, "analyst").await?;
    let tokens = Tokens {
        requester: String::new(),
        reception: String::new(),
        approver: String::new(),
        analyst,
    };
    let year = Utc::now().year();
    let phases = vec![
        phase(
            "board",
            &base,
            &tokens,
            &opts,
            Kind::Get("/api/v1/board".into()),
        )
        .await?,
        phase(
            "costs",
            &base,
            &tokens,
            &opts,
            Kind::Get(format!("/api/v1/costs?year={year}&by=level")),
        )
        .await?,
    ];
    Ok(LoadReport {
        connections: opts.connections,
        phases,
    })
}

fn client() -> Result<reqwest::Client, LoadError> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| LoadError::Client(e.to_string()))
}

async fn token(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    role: &str,
) -> Result<String, LoadError> {
    let url = format!("{base}/api/v1/tokens");
    let fail = |message: String| LoadError::Token {
        role: role.into(),
        url: url.clone(),
        message,
    };
    let resp = client
        .post(&url)
        .bearer_auth(admin)
        .json(&json!({"user": format!("bench.{role}"), "role": role}))
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .map_err(|e| fail(format!("{status}: {e}")))?;
    if !status.is_success() {
        return Err(fail(format!("{status}: {body}")));
    }
    body.get("token")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| fail(format!("no token in {body}")))
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

    /// Sends a request, times it and returns the JSON body of a 2xx answer.
    async fn send(&mut self, req: reqwest::RequestBuilder) -> Option<Value> {
        let started = Instant::now();
        let result = req.send().await;
        let outcome = match result {
            Ok(resp) => {
                let status = resp.status();
                let bytes = resp.bytes().await;
                match bytes {
                    Ok(b) if status.is_success() => Ok(b),
                    Ok(b) => Err(format!(
                        "{status}: {}",
                        String::from_utf8_lossy(&b[..b.len().min(200)])
                    )),
                    Err(e) => Err(format!("{status}: {e}")),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        let micros = started.elapsed().as_micros().min(120_000_000) as u64;
        match outcome {
            Ok(b) => {
                self.ok += 1;
                let _ = self.hist.record(micros.max(1));
                Some(serde_json::from_slice(&b).unwrap_or(Value::Null))
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
    base: &str,
    tokens: &Tokens,
    opts: &LoadOptions,
    kind: Kind,
) -> Result<PhaseReport, LoadError> {
    let started = Instant::now();
    let deadline = started + opts.duration;
    let mut set = JoinSet::new();
    for worker in 0..opts.connections {
        let (base, tokens, kind, client) =
            (base.to_string(), tokens.clone(), kind.clone(), client()?);
        set.spawn(async move {
            let mut tally = Tally::new();
            match kind {
                Kind::Commands => {
                    let mut round = 0u64;
                    while Instant::now() < deadline {
                        visit_round(&client, &base, &tokens, &mut tally, worker, round, deadline)
                            .await;
                        round += 1;
                    }
                }
                Kind::Get(path) => {
                    let url = format!("{base}{path}");
                    while Instant::now() < deadline {
                        tally
                            .send(client.get(&url).bearer_auth(&tokens.analyst))
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

/// Files one visit and issues its follow-up commands (stops at the deadline).
async fn visit_round(
    client: &reqwest::Client,
    base: &str,
    t: &Tokens,
    tally: &mut Tally,
    worker: usize,
    round: u64,
    deadline: Instant,
) {
    let cst = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    let now = Utc::now().with_timezone(&cst);
    let arrival = now + chrono::Duration::days(10);
    let departure = arrival + chrono::Duration::days(2);
    let body = json!({
        "customer": {"company": format!("Bench Customer {worker} Co., Ltd."), "country": "CN", "foreign": false},
        "department": "east-sales",
        "visitors": [{"name": "Wang Lei", "title": "General Manager", "phone": "+86 138 0000 0000"},
                     {"name": "李娜", "title": "采购经理"}],
        "headcount": 2, "purpose": format!("load test round {round}"),
        "arrival": {"at": arrival, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport"},
        "departure": {"at": departure, "mode": "train", "number": "G7", "place": "station"},
        "needs": {"pickup": true, "dropoff": true, "lodging": true, "meeting_room": true},
    });
    let Some(answer) = tally
        .send(
            client
                .post(format!("{base}/api/v1/visits"))
                .bearer_auth(&t.requester)
                .json(&body),
        )
        .await
    else {
        return;
    };
    let Some(id) = answer.get("id").and_then(Value::as_str).map(String::from) else {
        return;
    };
    let lunch = arrival + chrono::Duration::hours(3);
    let steps: [(&str, &str, Value); 10] = [
        ("assign-level", &t.reception, json!({"level": "senior"})),
        (
            "draft-plan",
            &t.reception,
            json!({"items": [{"at": arrival, "kind": "car", "title": "pickup", "place": "airport"}]}),
        ),
        ("review-plan", &t.approver, json!({"approved": true})),
        (
            "contact-unit",
            &t.reception,
            json!({"confirmed_headcount": 2, "notes": "confirmed"}),
        ),
        (
            "assign-staff",
            &t.reception,
            json!({"host": "Li Na", "accompanying": [{"name": "Xu Li", "role": "regional_manager"}]}),
        ),
        (
            "book-lodging",
            &t.reception,
            json!({"hotel": "Ji Hotel", "stars": 3, "rooms": 1, "nights": 2, "rate_fen": 32000, "paid_by": "visitor"}),
        ),
        (
            "book-meal",
            &t.reception,
            json!({"meal": "lunch", "at": lunch, "venue": "Company canteen", "party_size": 2, "budget_fen": 40000}),
        ),
        (
            "book-meal",
            &t.reception,
            json!({"meal": "dinner", "at": lunch + chrono::Duration::hours(6), "venue": "全聚德", "party_size": 2, "budget_fen": 45000}),
        ),
        (
            "dispatch-car",
            &t.reception,
            json!({"leg": "pickup", "vehicle_class": "suv", "driver": "Driver Qian", "plate": "鲁A·B1234",
            "ready_at": arrival - chrono::Duration::minutes(30), "place": "airport", "number": "MU5101"}),
        ),
        (
            "note-preference",
            &t.requester,
            json!({"subject": "Wang Lei", "kind": "diet", "text": "no spicy food"}),
        ),
    ];
    for (command, token, body) in steps {
        if Instant::now() >= deadline {
            return;
        }
        let url = format!("{base}/api/v1/visits/{id}/{command}");
        tally
            .send(client.post(url).bearer_auth(token).json(&body))
            .await;
    }
}
