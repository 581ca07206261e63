//! `reception demo`: realistic, reproducible demo data generated through the app's
//! command path, so the domain judges every command exactly as it judges real ones.
//!
//! Everything is drawn from a ChaCha8 generator seeded by [`DemoOptions::seed`]: a master
//! generator draws the customer pool and one plan per visit (customer, level, fate,
//! request time, a per-visit seed); each visit then runs its whole life (request to
//! close, its complaint if it has one, and a few front-desk walk-ins) with its own
//! generator, as one task. Tasks run concurrently (so the store's group commit
//! batches their appends), and each task's commands depend only on its own seed, so
//! the same seed gives the same streams whatever the scheduling; only the interleaving
//! in the global log, the ids and `recorded_at` differ (see [`canonical_log`]).
//!
//! Commands are issued with a simulated business `now` ([`App::execute_at`]); a command
//! whose `now` would fall after [`DemoOptions::end`] is not issued, which leaves the
//! visits of the last weeks open at every stage. Any rejection is a bug in the generator
//! and ends the run with [`DemoError::Rejected`], which names the command and its body.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use reception_app::{App, AppConfig};
//! use reception_tools::demo::{generate, DemoOptions};
//! let app = App::new(reception_store::Store::open("./data")?, AppConfig::default());
//! let opts = DemoOptions { visits: 500, ..DemoOptions::default() };
//! let summary = generate(&app, opts, &mut |done, total| eprintln!("{done}/{total}")).await?;
//! println!("{} events", summary.events);
//! # Ok(()) }
//! ```

mod canon;
mod names;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Timelike};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reception_app::{App, AppError, CommandOutcome, ExecOptions, Target};
use reception_domain::complaint::Complaint;
use reception_domain::frontdesk::SignIn;
use reception_domain::policy::{CapKind, LevelId, LevelPolicy, PaidBy, PolicyBook};
use reception_domain::visit::Visit;
use reception_domain::{Actor, Aggregate, Role};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::task::JoinSet;
use uuid::Uuid;

pub use canon::{canonical_log, CanonicalEvent, CanonicalStream};
use names::{Company, Person};

/// Business time with its offset.
pub type Time = DateTime<FixedOffset>;

/// The fixed default seed: the same seed always gives the same data.
pub const DEFAULT_SEED: u64 = 20_261_123;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Visits to generate (each with its whole life up to `end`).
    pub visits: usize,
    /// Seed of the generator; [`DEFAULT_SEED`] by default.
    pub seed: u64,
    /// Years of history before `end` (requests are spread over them).
    pub years: u32,
    /// The simulated "now" at the end of the run: nothing happens after it, so visits
    /// requested shortly before it are still open. Default: 2026-11-23 18:00 +08:00
    /// (fixed, for reproducibility; pass the current time for a live dashboard).
    pub end: Time,
    /// Visits generated at the same time (each a tokio task).
    pub concurrency: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            visits: 1000,
            seed: DEFAULT_SEED,
            years: 3,
            end: FixedOffset::east_opt(8 * 3600)
                .expect("valid offset")
                .with_ymd_and_hms(2026, 11, 23, 18, 0, 0)
                .single()
                .expect("valid time"),
            concurrency: 48,
        }
    }
}

/// The kinds of complaint the generator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintKind {
    /// Minor: assigned, analysed, feedback, resolved, phone return visit, closed (C3, C5).
    Minor,
    /// Major from the start: reported, solution agreed, resolved, in-person return visit (C2, C5).
    Major,
    /// Raised minor, escalated by reception (C1: promised service not delivered).
    EscalatedByStaff,
    /// Raised minor, escalated by the system 10 days later (C4).
    EscalatedAutomatically,
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    /// Visits requested.
    pub visits: u64,
    /// Visits that ran to their close (V16).
    pub visits_closed: u64,
    /// Visits cancelled before departure (V19).
    pub visits_cancelled: u64,
    /// Requested but neither closed nor cancelled at `end`.
    pub visits_open: u64,
    /// Visits by their final level.
    pub visits_by_level: BTreeMap<String, u64>,
    /// Complaints raised, by kind.
    pub complaints: BTreeMap<ComplaintKind, u64>,
    /// Front-desk sign-ins.
    pub sign_ins: u64,
    /// Expenses recorded over their cap.
    pub over_cap_expenses: u64,
    /// Commands accepted.
    pub commands: u64,
    /// Events appended.
    pub events: u64,
    /// Events appended, by type.
    pub events_by_type: BTreeMap<String, u64>,
}

impl DemoSummary {
    fn merge(&mut self, o: DemoSummary) {
        self.visits += o.visits;
        self.visits_closed += o.visits_closed;
        self.visits_cancelled += o.visits_cancelled;
        self.visits_open += o.visits_open;
        for (k, v) in o.visits_by_level {
            *self.visits_by_level.entry(k).or_default() += v;
        }
        for (k, v) in o.complaints {
            *self.complaints.entry(k).or_default() += v;
        }
        self.sign_ins += o.sign_ins;
        self.over_cap_expenses += o.over_cap_expenses;
        self.commands += o.commands;
        self.events += o.events;
        for (k, v) in o.events_by_type {
            *self.events_by_type.entry(k).or_default() += v;
        }
    }
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The options cannot produce data.
    #[error("invalid demo options: {0}")]
    Options(String),
    /// The app refused a generated command: a bug in the generator (or in the domain).
    #[error("demo visit #{visit}: command {command:?} on {target} at {at} was rejected: {source}; body: {body}")]
    Rejected {
        visit: usize,
        target: String,
        command: String,
        at: Time,
        body: String,
        #[source]
        source: AppError,
    },
    /// Reading back what was appended failed.
    #[error("demo visit #{visit}: reading the store failed: {message}")]
    Store { visit: usize, message: String },
    /// A generator task panicked or was cancelled.
    #[error("a demo task failed: {0}")]
    Task(String),
}

/// Generates `opts.visits` visits through `app`, calling `progress(done, total)` (in
/// visits) as they finish. Returns what was generated; the first rejected command
/// stops the run (tasks still running are aborted).
pub async fn generate(
    app: &App,
    opts: DemoOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DemoSummary, DemoError> {
    if opts.visits == 0 {
        return Err(DemoError::Options("visits must be at least 1".into()));
    }
    if !(1..=20).contains(&opts.years) {
        return Err(DemoError::Options(format!(
            "years must be 1 to 20, got {}",
            opts.years
        )));
    }
    if opts.concurrency == 0 {
        return Err(DemoError::Options("concurrency must be at least 1".into()));
    }
    let book = app.policies().map_err(|e| DemoError::Store {
        visit: 0,
        message: e.to_string(),
    })?;
    let plans = plan(&opts);
    let total = plans.visits.len() as u64;
    let companies = std::sync::Arc::new(plans.companies);
    let mut summary = DemoSummary::default();
    let mut set: JoinSet<Result<DemoSummary, DemoError>> = JoinSet::new();
    let mut queue = plans.visits.into_iter();
    let mut done = 0u64;
    progress(0, total);
    loop {
        while set.len() < opts.concurrency {
            let Some(spec) = queue.next() else { break };
            let (app, book, companies, end) =
                (app.clone(), book.clone(), companies.clone(), opts.end);
            set.spawn(async move {
                let company = &companies[spec.company];
                run_visit(app, &book, spec, company, end).await
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let part = joined.map_err(|e| DemoError::Task(e.to_string()))??;
        summary.merge(part);
        done += 1;
        progress(done, total);
    }
    Ok(summary)
}

/// How a visit's life goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Normal,
    Cancelled,
    Complaint(ComplaintKind),
}

/// One visit as planned by the master generator.
#[derive(Debug, Clone)]
struct VisitSpec {
    index: usize,
    company: usize,
    level: &'static str,
    /// A different level first assigned, then changed to `level` (V3).
    first_level: Option<&'static str>,
    fate: Fate,
    requested_at: Time,
    seed: u64,
}

struct Plans {
    companies: Vec<Company>,
    visits: Vec<VisitSpec>,
}

/// Ordinary half the time, senior 30 %, special 20 %, in every run of ten visits.
const LEVEL_PATTERN: [&str; 10] = [
    "ordinary", "senior", "ordinary", "special", "ordinary", "senior", "ordinary", "senior",
    "special", "ordinary",
];
const COMPLAINT_PATTERN: [ComplaintKind; 4] = [
    ComplaintKind::Minor,
    ComplaintKind::Major,
    ComplaintKind::EscalatedByStaff,
    ComplaintKind::EscalatedAutomatically,
];

fn plan(opts: &DemoOptions) -> Plans {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let companies = names::companies(&mut rng, (opts.visits / 3).clamp(4, 5000));
    let span = Duration::days(365 * i64::from(opts.years));
    let start = opts.end - span;
    let mut visits = Vec::with_capacity(opts.visits);
    for index in 0..opts.visits {
        // Every fifth visit has a complaint (kinds in turn), one in twenty is cancelled:
        // so even a small run shows every kind.
        let fate = if index % 5 == 2 {
            Fate::Complaint(COMPLAINT_PATTERN[(index / 5) % 4])
        } else if index % 20 == 13 {
            Fate::Cancelled
        } else {
            Fate::Normal
        };
        // Visits whose fate must be seen whole are requested at least 60 days before the end.
        let latest = if fate == Fate::Normal {
            opts.end - Duration::hours(2)
        } else {
            opts.end - Duration::days(60)
        };
        let secs = rng.gen_range(0..(latest - start).num_seconds().max(1));
        let requested_at = business_hours(&mut rng, start + Duration::seconds(secs));
        // Repeat customers: a skewed pick makes the first companies regulars.
        let u: f64 = rng.gen();
        let company = ((u * u) * companies.len() as f64) as usize;
        let level = LEVEL_PATTERN[index % LEVEL_PATTERN.len()];
        let first_level = rng.gen_bool(0.08).then(|| {
            *["ordinary", "senior", "special"]
                .iter()
                .find(|l| **l != level)
                .expect("three levels")
        });
        visits.push(VisitSpec {
            index,
            company,
            level,
            first_level,
            fate,
            requested_at,
            seed: rng.gen(),
        });
    }
    Plans { companies, visits }
}

/// Moves a time into office hours (09:00–17:59) of its day, at a whole minute.
fn business_hours(rng: &mut ChaCha8Rng, t: Time) -> Time {
    at(
        t.offset(),
        t.date_naive(),
        rng.gen_range(9..18),
        rng.gen_range(0..60),
    )
}

fn at(off: &FixedOffset, date: NaiveDate, h: u32, m: u32) -> Time {
    off.from_local_datetime(&date.and_hms_opt(h, m, 0).expect("valid time"))
        .single()
        .expect("fixed offsets are unambiguous")
}

/// A money amount rounded to the yuan, in fen.
fn round_yuan(fen: f64) -> i64 {
    ((fen / 100.0).round() as i64).max(1) * 100
}

/// A money amount rounded to 10 yuan, in fen.
fn round10(fen: f64) -> i64 {
    ((fen / 1000.0).round() as i64).max(1) * 1000
}

/// Why a script stopped early.
enum Flow {
    /// The next command would happen after the end of the run.
    End,
    Fail(Box<DemoError>),
}

impl From<DemoError> for Flow {
    fn from(e: DemoError) -> Self {
        Flow::Fail(Box::new(e))
    }
}

fn actor(user: &str, role: Role) -> Actor {
    Actor {
        user: user.into(),
        role,
    }
}

/// One task's runner: issues commands with a monotone simulated clock.
struct Run {
    app: App,
    rng: ChaCha8Rng,
    end: Time,
    clock: Time,
    visit: usize,
    summary: DemoSummary,
}

impl Run {
    /// Issues one command at business time `when` (moved to just after the previous
    /// command when earlier); `Flow::End` when that is after the end of the run.
    async fn exec<A: Aggregate + Send + Sync + 'static>(
        &mut self,
        when: Time,
        target: Target,
        name: &str,
        body: Value,
        who: &Actor,
    ) -> Result<CommandOutcome, Flow> {
        let now = if when <= self.clock {
            self.clock + Duration::minutes(1)
        } else {
            when
        };
        if now > self.end {
            return Err(Flow::End);
        }
        self.clock = now;
        match self
            .app
            .execute_at::<A>(now, target, name, body.clone(), who, ExecOptions::default())
            .await
        {
            Ok(o) => {
                self.summary.commands += 1;
                self.summary.events += o.events.len() as u64;
                for e in &o.events {
                    *self
                        .summary
                        .events_by_type
                        .entry(e.event_type.clone())
                        .or_default() += 1;
                }
                Ok(o)
            }
            Err(source) => Err(Flow::from(DemoError::Rejected {
                visit: self.visit,
                target: match target {
                    Target::Id(id) => format!("{}-{id}", A::KIND),
                    _ => format!("new {}", A::KIND),
                },
                command: name.into(),
                at: now,
                body: body.to_string(),
                source,
            })),
        }
    }

    /// The stored payload of the last event a command appended.
    fn last_data(&self, o: &CommandOutcome) -> Result<Value, Flow> {
        let seq = o.last_seq();
        match self.app.store().read_all(seq, 1).next() {
            Some(Ok(env)) => Ok(env.data),
            Some(Err(e)) => Err(Flow::from(DemoError::Store {
                visit: self.visit,
                message: e.to_string(),
            })),
            None => Err(Flow::from(DemoError::Store {
                visit: self.visit,
                message: format!("event {seq} is missing"),
            })),
        }
    }

    /// The id of the entity a command created (booking, expense, matter, ...), read
    /// from the stored event's `field`, so it is the id the domain really recorded.
    fn entity(&self, o: &CommandOutcome, field: &str) -> Result<Uuid, Flow> {
        let data = self.last_data(o)?;
        data.get(field)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .ok_or_else(|| {
                Flow::from(DemoError::Store {
                    visit: self.visit,
                    message: format!("event {} has no {field}", o.last_seq()),
                })
            })
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn minutes(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::minutes(self.rng.gen_range(lo..=hi))
    }
}

/// Runs a whole visit: its life, its complaint, and a few walk-ins around it.
async fn run_visit(
    app: App,
    book: &PolicyBook,
    spec: VisitSpec,
    company: &Company,
    end: Time,
) -> Result<DemoSummary, DemoError> {
    let mut run = Run {
        app,
        rng: ChaCha8Rng::seed_from_u64(spec.seed),
        end,
        clock: spec.requested_at - Duration::minutes(1),
        visit: spec.index,
        summary: DemoSummary::default(),
    };
    let mut life = VisitLife::default();
    let outcome = visit_script(&mut run, book, &spec, company, &mut life).await;
    match outcome {
        Ok(()) | Err(Flow::End) => {}
        Err(Flow::Fail(e)) => return Err(*e),
    }
    run.summary.visits += 1;
    if life.closed {
        run.summary.visits_closed += 1;
    } else if life.cancelled {
        run.summary.visits_cancelled += 1;
    } else {
        run.summary.visits_open += 1;
    }
    *run.summary
        .visits_by_level
        .entry(spec.level.to_string())
        .or_default() += 1;
    if let (Fate::Complaint(kind), Some(id), Some(arrived)) = (spec.fate, life.id, life.arrived_at)
    {
        let raised = arrived + run.minutes(120, 30 * 60);
        run.clock = raised - Duration::minutes(1);
        match complaint_script(&mut run, kind, id, company, raised).await {
            Ok(()) | Err(Flow::End) => {}
            Err(Flow::Fail(e)) => return Err(*e),
        }
    }
    let walk_ins = if run.chance(0.7) { 1 } else { 2 };
    for _ in 0..walk_ins {
        let day = spec.requested_at + Duration::days(run.rng.gen_range(0..10));
        let t = business_hours(&mut run.rng, day);
        run.clock = t - Duration::minutes(1);
        match walk_in(&mut run, t).await {
            Ok(()) | Err(Flow::End) => {}
            Err(Flow::Fail(e)) => return Err(*e),
        }
    }
    Ok(run.summary)
}

/// What the visit script learned, for the complaint and the summary.
#[derive(Default)]
struct VisitLife {
    id: Option<Uuid>,
    arrived_at: Option<Time>,
    closed: bool,
    cancelled: bool,
}

/// An expense as the generator tracks it.
struct Exp {
    id: Uuid,
    category: &'static str,
    amount: i64,
    booking: Option<Uuid>,
    company: bool,
    over_cap: bool,
    reversed: bool,
    reversal: bool,
}

struct Meal {
    at: Time,
    booking: Uuid,
    budget: i64,
}

async fn visit_script(
    run: &mut Run,
    book: &PolicyBook,
    spec: &VisitSpec,
    company: &Company,
    life: &mut VisitLife,
) -> Result<(), Flow> {
    let off = *spec.requested_at.offset();
    let t0 = spec.requested_at;
    // ---- the request (V1, V2) ----
    let short = run.chance(0.1);
    let lead_hours = match (company.foreign, short) {
        (true, true) => run.rng.gen_range(72..160),
        (true, false) => run.rng.gen_range(8 * 24..40 * 24),
        (false, true) => run.rng.gen_range(8..20),
        (false, false) => run.rng.gen_range(40..14 * 24),
    };
    let mut arrival = t0 + Duration::hours(lead_hours);
    if !(8..20).contains(&arrival.hour()) {
        arrival = at(&off, arrival.date_naive(), run.rng.gen_range(9..19), 0);
        if arrival <= t0 + Duration::hours(4) {
            arrival += Duration::days(1);
        }
    }
    let arrival = at(
        &off,
        arrival.date_naive(),
        arrival.hour(),
        [0, 15, 30, 45][run.rng.gen_range(0..4)],
    );
    let stay_days = match spec.level {
        "ordinary" => run.rng.gen_range(1..=3),
        "senior" => run.rng.gen_range(2..=4),
        _ => run.rng.gen_range(2..=5),
    };
    let departure = at(
        &off,
        arrival.date_naive() + Duration::days(stay_days),
        run.rng.gen_range(13..18),
        30,
    );
    let mode = if company.foreign {
        "flight"
    } else {
        *["flight", "flight", "train", "train", "car"]
            .choose(&mut run.rng)
            .expect("non-empty")
    };
    let number = |rng: &mut ChaCha8Rng| match mode {
        "flight" => Some(names::flight(rng)),
        "train" => Some(names::train(rng)),
        _ => None,
    };
    let place = match mode {
        "flight" => Some("Jinan Yaoqiang International Airport"),
        "train" => Some("Jinan West Railway Station"),
        _ => None,
    };
    let headcount = run.rng.gen_range(1..=company.people.len().min(5));
    let visitors: Vec<&Person> = company
        .people
        .choose_multiple(&mut run.rng, headcount)
        .collect();
    let home = (mode != "car" && run.chance(0.7))
        .then(|| departure + Duration::hours(run.rng.gen_range(2..7)));
    let needs_car = mode != "car";
    let needs_lodging = run.chance(0.92);
    let arrival_no = number(&mut run.rng);
    let departure_no = number(&mut run.rng);
    let expedited = (short && run.chance(0.5))
        .then(|| json!({"reason": "the customer's chairman can only come this week"}));
    let purpose = *[
        "dealership renewal",
        "product inspection before a fleet order",
        "technical training",
        "factory audit",
        "annual cooperation talks",
        "new model launch",
    ]
    .choose(&mut run.rng)
    .expect("non-empty");
    let body = json!({
        "customer": {"company": company.name, "country": company.country, "foreign": company.foreign},
        "department": company.department,
        "visitors": visitors.iter().map(|p| json!({"name": p.name, "title": p.title, "phone": p.phone})).collect::<Vec<_>>(),
        "headcount": headcount,
        "purpose": purpose,
        "arrival": {"at": arrival, "mode": mode, "number": arrival_no, "origin": company.origin, "place": place},
        "departure": {"at": departure, "mode": mode, "number": departure_no, "place": place, "arrives_home_at": home},
        "needs": {"pickup": needs_car, "dropoff": needs_car, "lodging": needs_lodging, "meeting_room": run.chance(0.7),
                  "translation": company.foreign, "photos": run.chance(0.5), "minutes": run.chance(0.6)},
        "expedited": expedited,
    });
    let sales = actor(&format!("sales.{}", company.department), Role::Requester);
    let reception = actor(
        HOST_USERS[run.rng.gen_range(0..HOST_USERS.len())],
        Role::Reception,
    );
    let approver = actor("chen.jing", Role::Approver);
    let finance = actor("zhou.min", Role::Finance);
    let filer = if run.chance(0.8) {
        sales.clone()
    } else {
        reception.clone()
    };
    let o = run
        .exec::<Visit>(t0, Target::Create, "request", body, &filer)
        .await?;
    let id = o.id;
    life.id = Some(id);
    let v = Target::Id(id);
    let window = arrival - t0;
    let prep = |f: f64| t0 + Duration::seconds((window.num_seconds() as f64 * f) as i64);

    // ---- level (V3, V20) ----
    let first = spec.first_level.unwrap_or(spec.level);
    run.exec::<Visit>(
        prep(0.04),
        v,
        "assign-level",
        json!({"level": first}),
        &reception,
    )
    .await?;
    if spec.first_level.is_some() {
        let reason = if spec.level == "special" {
            "the delegation now includes the customer's chairman"
        } else {
            "the delegation changed; level reviewed by the reception office"
        };
        run.exec::<Visit>(
            prep(0.07),
            v,
            "change-level",
            json!({"level": spec.level, "reason": reason}),
            &reception,
        )
        .await?;
    }
    let lp: LevelPolicy = book
        .in_force(run.clock)
        .and_then(|p| p.level(&LevelId::parse(spec.level).ok()?).cloned())
        .ok_or_else(|| {
            Flow::from(DemoError::Options(format!(
                "the policy in force has no level {}",
                spec.level
            )))
        })?;

    // ---- itinerary and execution plan (V4) ----
    let mut meal_times = Vec::new();
    for d in 0..=stay_days {
        let date = arrival.date_naive() + Duration::days(d);
        for (kind, h, m) in [("lunch", 12, 0), ("dinner", 18, 30)] {
            let t = at(&off, date, h, m);
            if t > arrival + Duration::minutes(45) && t < departure - Duration::minutes(90) {
                meal_times.push((kind, t));
            }
        }
    }
    let venue_for =
        |rng: &mut ChaCha8Rng| names::VENUES.choose(rng).expect("non-empty").to_string();
    let mut items = vec![json!({"at": arrival, "kind": "car", "title": "pickup", "place": place})];
    for (kind, t) in &meal_times {
        items.push(
            json!({"at": t, "kind": "meal", "title": kind, "place": venue_for(&mut run.rng)}),
        );
    }
    let (tour_place, tour_title) = *names::TOURS.choose(&mut run.rng).expect("non-empty");
    items.push(json!({"at": arrival + Duration::hours(2), "kind": "tour", "title": tour_title, "place": tour_place}));
    items.push(json!({"at": departure, "kind": "car", "title": "drop-off", "place": place}));
    run.exec::<Visit>(
        prep(0.10),
        v,
        "draft-plan",
        json!({"items": items}),
        &reception,
    )
    .await?;
    if run.chance(0.15) {
        let comments = *[
            "add a factory tour on day two",
            "the dinner venue is too far from the hotel",
            "too many meals for the level",
        ]
        .choose(&mut run.rng)
        .expect("non-empty");
        run.exec::<Visit>(
            prep(0.13),
            v,
            "review-plan",
            json!({"approved": false, "comments": comments}),
            &approver,
        )
        .await?;
        items.push(json!({"at": arrival + Duration::hours(3), "kind": "meeting", "title": "product briefing", "place": "Meeting room 3"}));
        run.exec::<Visit>(
            prep(0.17),
            v,
            "draft-plan",
            json!({"items": items}),
            &reception,
        )
        .await?;
    }
    run.exec::<Visit>(
        prep(0.2),
        v,
        "review-plan",
        json!({"approved": true, "comments": null}),
        &approver,
    )
    .await?;
    run.exec::<Visit>(
        prep(0.25),
        v,
        "contact-unit",
        json!({"confirmed_headcount": headcount, "notes": "headcount, flights and needs confirmed by phone"}),
        &reception,
    )
    .await?;

    // ---- staff (V6) ----
    let host = names::HOSTS[run.rng.gen_range(0..names::HOSTS.len())];
    let n_roles = run.rng.gen_range(1..=2);
    let roles: Vec<&String> = lp
        .accompanying_roles
        .choose_multiple(&mut run.rng, n_roles)
        .collect();
    let mut accompanying: Vec<Value> = roles
        .iter()
        .map(|r| json!({"name": names::staff_for_role(r), "role": r}))
        .collect();
    let staff_override = run.chance(0.04);
    if staff_override {
        let extra = ["shareholder", "marketing_general_manager", "salesperson"]
            .into_iter()
            .find(|r| !lp.allows_role(r));
        if let Some(r) = extra {
            accompanying.push(json!({"name": names::staff_for_role(r), "role": r}));
        }
    }
    let (who, ovr) = if staff_override {
        (
            &approver,
            json!({"reason": "the customer asked for this person by name"}),
        )
    } else {
        (&reception, Value::Null)
    };
    run.exec::<Visit>(
        prep(0.3),
        v,
        "assign-staff",
        json!({"host": host, "accompanying": accompanying, "override": ovr}),
        who,
    )
    .await?;

    // ---- cash advance (V18) ----
    let advance = (lp.lodging.paid_by == PaidBy::Company || run.chance(0.7)).then(|| {
        let per_day = match spec.level {
            "ordinary" => 1500,
            "senior" => 3000,
            _ => 6000,
        };
        (stay_days + 1) * per_day * 100
    });
    if let Some(amount) = advance {
        run.exec::<Visit>(
            prep(0.33),
            v,
            "issue-advance",
            json!({"amount_fen": amount}),
            &finance,
        )
        .await?;
    }

    // ---- lodging (V8) ----
    let mut lodging = None;
    if needs_lodging {
        let rooms = headcount.div_ceil(2) as u32;
        let nights = stay_days as u32;
        let company_pays = lp.lodging.paid_by == PaidBy::Company;
        let breach = run.chance(if company_pays { 0.05 } else { 0.04 });
        let (hotel, stars, rate, paid_by) = if company_pays {
            let (h, s) = *names::HOTELS_PREMIUM
                .choose(&mut run.rng)
                .expect("non-empty");
            let lo = lp.lodging.min_rate_fen.map_or(40_000, |f| f.fen());
            let hi = lp.lodging.max_rate_fen.map_or(70_000, |f| f.fen());
            let rate = if breach {
                hi + 10_000
            } else {
                run.rng.gen_range(lo / 1000..=hi / 1000) * 1000
            };
            (h, s, rate, "company")
        } else if breach {
            let (h, s) = names::HOTELS_BUDGET[3];
            (h, s, 38_000, "company")
        } else {
            let (h, s) = *names::HOTELS_BUDGET
                .choose(&mut run.rng)
                .expect("non-empty");
            (h, s, run.rng.gen_range(18..45) * 1000, "visitor")
        };
        let (who, ovr) = if breach {
            (
                &approver,
                json!({"reason": "no rooms in policy hotels during the trade fair"}),
            )
        } else {
            (&reception, Value::Null)
        };
        let o = run
            .exec::<Visit>(
                prep(0.38),
                v,
                "book-lodging",
                json!({"hotel": hotel, "stars": stars, "rooms": rooms, "nights": nights, "rate_fen": rate, "paid_by": paid_by, "override": ovr}),
                who,
            )
            .await?;
        lodging = Some((
            run.entity(&o, "booking_id")?,
            rate * i64::from(rooms) * i64::from(nights),
            paid_by == "company",
        ));
    }

    // ---- meals (V9) ----
    let mut meals = Vec::new();
    for (i, (kind, t)) in meal_times.iter().enumerate() {
        let cap_kind = if *kind == "lunch" {
            CapKind::Lunch
        } else {
            CapKind::Dinner
        };
        let cap = lp
            .cap_for(cap_kind, headcount as u32)
            .map_or(40_000, |f| f.fen());
        let over = run.chance(0.06);
        let budget = if over {
            round10(cap as f64 * 1.3)
        } else {
            round10(cap as f64 * run.rng.gen_range(0.55..0.95)).min(cap)
        };
        let (who, ovr) = if over {
            (
                &approver,
                json!({"reason": "banquet with the customer's board"}),
            )
        } else {
            (&reception, Value::Null)
        };
        let venue = venue_for(&mut run.rng);
        let o = run
            .exec::<Visit>(
                prep(0.42 + 0.01 * i as f64),
                v,
                "book-meal",
                json!({"meal": kind, "at": t, "venue": venue, "party_size": headcount, "budget_fen": budget, "override": ovr}),
                who,
            )
            .await?;
        meals.push(Meal {
            at: *t,
            booking: run.entity(&o, "booking_id")?,
            budget,
        });
    }

    // ---- entertainment (V9) ----
    let mut entertainment = None;
    let ent_time = at(
        &off,
        arrival.date_naive() + Duration::days(i64::from(stay_days > 1)),
        20,
        0,
    );
    if ent_time > arrival && ent_time < departure - Duration::hours(12) {
        let provided = lp.entertainment.is_some();
        let want = if provided {
            run.chance(0.5)
        } else {
            run.chance(0.03)
        };
        if want {
            let cap = lp
                .cap_for(CapKind::Entertainment, headcount as u32)
                .map_or(0, |f| f.fen());
            let over = !provided || run.chance(0.08);
            let budget = if !provided {
                50_000
            } else if over {
                round10(cap as f64 * 1.25)
            } else {
                round10(cap as f64 * run.rng.gen_range(0.5..0.95)).min(cap)
            };
            let (who, ovr) = if over {
                (
                    &approver,
                    json!({"reason": "the customer's general manager asked for the show"}),
                )
            } else {
                (&reception, Value::Null)
            };
            let kind = *names::ENTERTAINMENT
                .choose(&mut run.rng)
                .expect("non-empty");
            let o = run
                .exec::<Visit>(
                    prep(0.55),
                    v,
                    "arrange-entertainment",
                    json!({"at": ent_time, "kind": kind, "party_size": headcount, "budget_fen": budget, "override": ovr}),
                    who,
                )
                .await?;
            entertainment = Some((run.entity(&o, "booking_id")?, budget, ent_time));
        }
    }

    // ---- souvenirs (V10) ----
    let mut souvenirs = Vec::new();
    if lp.souvenirs {
        let n = run.rng.gen_range(1..=3);
        let picks: Vec<(&str, i64)> = names::SOUVENIRS
            .choose_multiple(&mut run.rng, n)
            .copied()
            .collect();
        for (item, yuan) in picks {
            let o = run
                .exec::<Visit>(
                    prep(0.58),
                    v,
                    "plan-souvenir",
                    json!({"item": item, "unit_cost_fen": yuan * 100, "quantity": headcount}),
                    &reception,
                )
                .await?;
            souvenirs.push((
                run.entity(&o, "souvenir_id")?,
                yuan * 100 * headcount as i64,
            ));
        }
    }

    // ---- cancellation (V19) ----
    let mut expenses: Vec<Exp> = Vec::new();
    if spec.fate == Fate::Cancelled {
        if run.chance(0.5) {
            record_expense(
                run,
                prep(0.6),
                v,
                &finance,
                &mut expenses,
                "venue",
                200_000,
                None,
                true,
            )
            .await?;
        }
        let reason = *[
            "the customer postponed the trip indefinitely",
            "flights cancelled by the typhoon",
            "the delegation's visa was refused",
        ]
        .choose(&mut run.rng)
        .expect("non-empty");
        run.exec::<Visit>(
            prep(0.65),
            v,
            "cancel",
            json!({"reason": reason}),
            &reception,
        )
        .await?;
        life.cancelled = true;
        return Ok(());
    }

    // ---- cars (V7) ----
    let vehicle = |run: &mut Run| -> (String, Value, bool) {
        if run.chance(0.04) {
            let off_list = ["mpv", "suv", "business_car"]
                .into_iter()
                .find(|c| !lp.allows_vehicle(c))
                .unwrap_or("mpv");
            (
                off_list.to_string(),
                json!({"reason": "the only car free that day"}),
                true,
            )
        } else {
            (
                lp.vehicle_classes
                    .choose(&mut run.rng)
                    .cloned()
                    .unwrap_or_else(|| "taxi".into()),
                Value::Null,
                false,
            )
        }
    };
    let mut cars = 0;
    if needs_car {
        if run.chance(0.08) {
            run.exec::<Visit>(
                prep(0.62),
                v,
                "car-unavailable",
                json!({"leg": "pickup", "advised_transport": "airport express bus to the city, then taxi to the hotel"}),
                &reception,
            )
            .await?;
        } else {
            let (class, ovr, by_approver) = vehicle(run);
            let ready = arrival - Duration::minutes(if run.chance(0.08) { 5 } else { 30 });
            let body = json!({"leg": "pickup", "vehicle_class": class, "driver": names::DRIVERS.choose(&mut run.rng),
                "plate": names::plate(&mut run.rng), "ready_at": ready, "place": place, "number": arrival_no, "override": ovr});
            let who = if by_approver { &approver } else { &reception };
            run.exec::<Visit>(prep(0.62), v, "dispatch-car", body, who)
                .await?;
            cars += 1;
        }
    }
    run.exec::<Visit>(
        prep(0.85),
        v,
        "confirm-readiness",
        json!({"notes": "hotel, cars, meals and rooms checked"}),
        &reception,
    )
    .await?;

    // ---- on site (V13) ----
    let arrived = arrival + run.minutes(0, 40);
    run.exec::<Visit>(
        arrived,
        v,
        "record-arrival",
        json!({"at": arrived}),
        &reception,
    )
    .await?;
    life.arrived_at = Some(arrived);
    let tour_at = arrived + Duration::hours(2);
    if tour_at < departure - Duration::hours(2) {
        run.exec::<Visit>(
            tour_at + Duration::hours(2),
            v,
            "hold-tour",
            json!({"at": tour_at, "place": tour_place, "title": tour_title}),
            &reception,
        )
        .await?;
    }
    let mut meal_iter = meals.iter().peekable();
    let mut matters: Vec<Uuid> = Vec::new();
    let mut confirmed = 0;
    let business_day = i64::from(stay_days > 1);
    for d in 0..stay_days {
        let date = arrival.date_naive() + Duration::days(d);
        let day_end = at(&off, date, 23, 0).min(departure - Duration::hours(1));
        // meals of the day and their expenses
        if d >= 1 {
            let (class, ovr, by_approver) = vehicle(run);
            let body = json!({"leg": "local", "vehicle_class": class, "driver": names::DRIVERS.choose(&mut run.rng),
                "plate": names::plate(&mut run.rng), "ready_at": at(&off, date, 8, 30), "place": "hotel lobby", "override": ovr});
            let who = if by_approver { &approver } else { &reception };
            run.exec::<Visit>(at(&off, date, 7, 30), v, "dispatch-car", body, who)
                .await?;
            cars += 1;
        }
        if d == business_day {
            // the business day: leader meeting, cooperation matters, talks
            let meet_at = (at(&off, date, 10, 0)).max(arrived + Duration::hours(1));
            if meet_at < day_end {
                let leader = *names::LEADERS.choose(&mut run.rng).expect("non-empty");
                run.exec::<Visit>(
                    meet_at + Duration::hours(1),
                    v,
                    "hold-leader-meeting",
                    json!({"at": meet_at, "place": "Board room", "leader": leader}),
                    &reception,
                )
                .await?;
                let n = run.rng.gen_range(1..=3);
                let picks: Vec<&str> = names::MATTERS
                    .choose_multiple(&mut run.rng, n)
                    .copied()
                    .collect();
                for text in picks {
                    let by = if run.chance(0.5) {
                        "company"
                    } else {
                        "visitor"
                    };
                    let o = run
                        .exec::<Visit>(
                            meet_at + Duration::hours(2),
                            v,
                            "propose-matter",
                            json!({"by": by, "text": text}),
                            &reception,
                        )
                        .await?;
                    matters.push(run.entity(&o, "matter_id")?);
                }
                for (k, m) in matters.iter().enumerate() {
                    if k == 0 || run.chance(0.5) {
                        let body = json!({"matter_id": m, "company_confirmed_by": "马骏", "visitor_confirmed_by": visitors[0].name,
                            "record_ref": format!("MEMO-{}-{:04}", date.year(), run.rng.gen_range(1..9999))});
                        run.exec::<Visit>(
                            meet_at + Duration::hours(5),
                            v,
                            "confirm-matter",
                            body,
                            &reception,
                        )
                        .await?;
                        confirmed += 1;
                    }
                }
                if confirmed > 0 && run.chance(0.6) {
                    let talks_at = meet_at + Duration::hours(6);
                    run.exec::<Visit>(
                        talks_at + Duration::minutes(30),
                        v,
                        "hold-talks",
                        json!({"at": talks_at, "outcome": "framework agreement signed"}),
                        &reception,
                    )
                    .await?;
                }
            }
        }
        if d >= 1 {
            let (place, title) = *names::TOURS.choose(&mut run.rng).expect("non-empty");
            let t = at(&off, date, 15, 0);
            run.exec::<Visit>(
                t + Duration::hours(2),
                v,
                "hold-tour",
                json!({"at": t, "place": place, "title": title}),
                &reception,
            )
            .await?;
        }
        while let Some(m) = meal_iter.next_if(|m| m.at < day_end - Duration::hours(1)) {
            let amount = round_yuan(m.budget as f64 * run.rng.gen_range(0.75..1.12));
            let company_pays = run.chance(0.95);
            let who = if run.chance(0.4) {
                &finance
            } else {
                &reception
            };
            record_expense(
                run,
                m.at + Duration::minutes(100),
                v,
                who,
                &mut expenses,
                "meal",
                amount,
                Some(m.booking),
                company_pays,
            )
            .await?;
            // A separate bill for drinks, judged against the same booking's cap.
            if company_pays && run.chance(0.4) {
                let drinks = round_yuan(m.budget as f64 * run.rng.gen_range(0.1..0.3));
                record_expense(
                    run,
                    m.at + Duration::minutes(110),
                    v,
                    who,
                    &mut expenses,
                    "meal",
                    drinks,
                    Some(m.booking),
                    true,
                )
                .await?;
            }
        }
        if d == 0 {
            let n = run.rng.gen_range(1..=3);
            let picks: Vec<(&str, &str)> = names::PREFERENCES
                .choose_multiple(&mut run.rng, n)
                .copied()
                .collect();
            for (kind, text) in picks {
                let subject = if run.chance(0.6) {
                    visitors[0].name.clone()
                } else {
                    company.name.clone()
                };
                run.exec::<Visit>(
                    day_end - Duration::minutes(30),
                    v,
                    "note-preference",
                    json!({"subject": subject, "kind": kind, "text": text}),
                    &reception,
                )
                .await?;
            }
            if run.chance(0.03) {
                let new_host = names::HOSTS
                    .iter()
                    .find(|h| **h != host)
                    .expect("several hosts");
                run.exec::<Visit>(
                    day_end - Duration::minutes(20),
                    v,
                    "reassign-host",
                    json!({"host": new_host, "reason": "the host fell ill"}),
                    &reception,
                )
                .await?;
            }
        }
    }
    // ---- departure day (V7, V10, V13) ----
    for (sid, _) in &souvenirs {
        if run.chance(0.92) {
            run.exec::<Visit>(
                departure - Duration::hours(3),
                v,
                "hand-souvenir",
                json!({"souvenir_id": sid}),
                &reception,
            )
            .await?;
        }
    }
    if needs_car {
        let (class, ovr, by_approver) = vehicle(run);
        let ready = departure - Duration::minutes(if run.chance(0.06) { 10 } else { 40 });
        let body = json!({"leg": "dropoff", "vehicle_class": class, "driver": names::DRIVERS.choose(&mut run.rng),
            "plate": names::plate(&mut run.rng), "ready_at": ready, "place": "hotel lobby", "number": departure_no, "override": ovr});
        let who = if by_approver { &approver } else { &reception };
        run.exec::<Visit>(departure - Duration::hours(4), v, "dispatch-car", body, who)
            .await?;
        cars += 1;
    }
    run.exec::<Visit>(
        departure,
        v,
        "record-departure",
        json!({"at": departure}),
        &reception,
    )
    .await?;

    // ---- expenses after the visit (V17) ----
    let after = departure + Duration::hours(2);
    for m in meal_iter {
        let amount = round_yuan(m.budget as f64 * run.rng.gen_range(0.75..1.12));
        record_expense(
            run,
            after,
            v,
            &finance,
            &mut expenses,
            "meal",
            amount,
            Some(m.booking),
            true,
        )
        .await?;
    }
    if let Some((booking, total, company_pays)) = lodging {
        if company_pays {
            record_expense(
                run,
                after,
                v,
                &finance,
                &mut expenses,
                "lodging",
                total,
                Some(booking),
                true,
            )
            .await?;
        }
    }
    if let Some((booking, budget, _)) = entertainment {
        let amount = round_yuan(budget as f64 * run.rng.gen_range(0.8..1.05));
        record_expense(
            run,
            after,
            v,
            &finance,
            &mut expenses,
            "entertainment",
            amount,
            Some(booking),
            true,
        )
        .await?;
    }
    for _ in 0..cars {
        let amount = run.rng.gen_range(200..1500) * 100;
        record_expense(
            run,
            after,
            v,
            &finance,
            &mut expenses,
            "car",
            amount,
            None,
            true,
        )
        .await?;
    }
    for (_, total) in &souvenirs {
        record_expense(
            run,
            after,
            v,
            &finance,
            &mut expenses,
            "gift",
            *total,
            None,
            true,
        )
        .await?;
    }
    if run.chance(0.15) {
        let amount = run.rng.gen_range(15..50) * 10_000;
        record_expense(
            run,
            after,
            v,
            &finance,
            &mut expenses,
            "venue",
            amount,
            None,
            true,
        )
        .await?;
    }
    if run.chance(0.25) {
        let amount = run.rng.gen_range(100..800) * 100;
        record_expense(
            run,
            after,
            v,
            &finance,
            &mut expenses,
            "other",
            amount,
            None,
            true,
        )
        .await?;
    }
    // a correction: a reversing expense and the right amount (V17)
    if run.chance(0.1) {
        if let Some(k) = expenses.iter().position(|e| !e.reversal && !e.reversed) {
            let (category, amount, booking, company_pays, orig) = (
                expenses[k].category,
                expenses[k].amount,
                expenses[k].booking,
                expenses[k].company,
                expenses[k].id,
            );
            let body = json!({"category": category, "amount_fen": amount, "receipt_no": format!("RV-{}", run.rng.gen_range(100_000..999_999)),
                "paid_by": if company_pays { "company" } else { "visitor" }, "booking_id": booking, "reverses": orig});
            let o = run
                .exec::<Visit>(
                    after + Duration::hours(20),
                    v,
                    "record-expense",
                    body,
                    &finance,
                )
                .await?;
            expenses[k].reversed = true;
            let id = run.entity(&o, "expense_id")?;
            expenses.push(Exp {
                id,
                category,
                amount,
                booking,
                company: company_pays,
                over_cap: false,
                reversed: false,
                reversal: true,
            });
            let corrected = (amount * 9 / 10 / 100).max(1) * 100;
            record_expense(
                run,
                after + Duration::hours(21),
                v,
                &finance,
                &mut expenses,
                category,
                corrected,
                booking,
                company_pays,
            )
            .await?;
        }
    }

    // ---- return call (V14) ----
    let home_at = home.unwrap_or(departure + Duration::hours(4));
    let mut call_at = home_at + run.minutes(120, 18 * 60);
    let failures = if run.chance(0.04) {
        3
    } else if run.chance(0.25) {
        1
    } else {
        0
    };
    for _ in 0..failures {
        run.exec::<Visit>(
            call_at,
            v,
            "return-call",
            json!({"reached": false}),
            &reception,
        )
        .await?;
        call_at += run.minutes(180, 360);
    }
    if failures < 3 {
        let satisfaction = *[5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1]
            .choose(&mut run.rng)
            .expect("non-empty");
        let body = json!({"reached": true, "products": "the new series meets their needs", "corporate_image": "professional, well organised",
            "reception": if satisfaction >= 4 { "warm and attentive" } else { "the schedule was too tight" }, "satisfaction": satisfaction});
        run.exec::<Visit>(call_at, v, "return-call", body, &reception)
            .await?;
    }

    // ---- summary (V15) ----
    let summary_at = departure
        + Duration::hours(if run.chance(0.05) {
            run.rng.gen_range(50..70)
        } else {
            run.rng.gen_range(8..40)
        });
    run.exec::<Visit>(
        summary_at,
        v,
        "file-summary",
        json!({"results": format!("visit for {purpose} completed"), "outcomes": format!("{confirmed} cooperation matters confirmed"),
            "opinions": "customer satisfied overall", "recipients": ["reception office", company.department]}),
        &reception,
    )
    .await?;

    // ---- over-cap decisions (V17) ----
    let decide_at = departure + Duration::hours(run.rng.gen_range(24..72));
    let to_decide: Vec<Uuid> = expenses
        .iter()
        .filter(|e| e.over_cap && !e.reversed && !e.reversal)
        .map(|e| e.id)
        .collect();
    for id in to_decide {
        {
            let body = if run.chance(0.75) {
                json!({"expense_id": id, "approved": true, "comments": "approved: customer's board attended"})
            } else {
                json!({"expense_id": id, "approved": false, "comments": "rejected: over the cap without reason; the host reimburses"})
            };
            run.exec::<Visit>(decide_at, v, "decide-expense", body, &approver)
                .await?;
        }
    }

    // ---- settlement (V18) ----
    if let Some(amount) = advance {
        let spent: i64 = expenses
            .iter()
            .filter(|e| e.company && !e.reversed && !e.reversal)
            .map(|e| e.amount)
            .sum();
        let receipts = spent.min(amount);
        let returned_items: Vec<&str> = if run.chance(0.2) {
            vec!["2 bottles of Moutai"]
        } else {
            vec![]
        };
        let settle_at = departure + Duration::hours(run.rng.gen_range(48..120));
        run.exec::<Visit>(
            settle_at,
            v,
            "settle-advance",
            json!({"receipts_fen": receipts, "cash_returned_fen": amount - receipts, "returned_items": returned_items}),
            &finance,
        )
        .await?;
    }

    // ---- close (V16) ----
    let close_at = run.clock + run.minutes(60, 600);
    run.exec::<Visit>(close_at, v, "close", json!({}), &reception)
        .await?;
    life.closed = true;
    Ok(())
}

/// Reception staff users.
const HOST_USERS: &[&str] = &["li.na", "zhang.wei", "wang.fang", "liu.yang"];

#[allow(clippy::too_many_arguments)]
async fn record_expense(
    run: &mut Run,
    when: Time,
    v: Target,
    who: &Actor,
    expenses: &mut Vec<Exp>,
    category: &'static str,
    amount: i64,
    booking: Option<Uuid>,
    company: bool,
) -> Result<(), Flow> {
    let receipt = format!(
        "FP{}{:08}",
        when.year(),
        run.rng.gen_range(0..100_000_000u32)
    );
    let body = json!({"category": category, "amount_fen": amount, "receipt_no": receipt,
        "paid_by": if company { "company" } else { "visitor" }, "booking_id": booking});
    let o = run
        .exec::<Visit>(when, v, "record-expense", body, who)
        .await?;
    let data = run.last_data(&o)?;
    let over_cap = data
        .get("over_cap")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let id = data
        .get("expense_id")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_else(Uuid::nil);
    if over_cap {
        run.summary.over_cap_expenses += 1;
    }
    expenses.push(Exp {
        id,
        category,
        amount,
        booking,
        company,
        over_cap,
        reversed: false,
        reversal: false,
    });
    Ok(())
}

/// A complaint's whole life by kind (C1–C5).
async fn complaint_script(
    run: &mut Run,
    kind: ComplaintKind,
    visit_id: Uuid,
    company: &Company,
    raised: Time,
) -> Result<(), Flow> {
    let reception = actor("li.na", Role::Reception);
    let major = kind == ComplaintKind::Major;
    let (category, description) = if major {
        *names::COMPLAINTS_MAJOR
            .choose(&mut run.rng)
            .expect("non-empty")
    } else {
        *names::COMPLAINTS_MINOR
            .choose(&mut run.rng)
            .expect("non-empty")
    };
    let department = *["reception-office", "logistics", "catering", "hotel-liaison"]
        .choose(&mut run.rng)
        .expect("non-empty");
    let body = json!({"visit_id": visit_id, "customer": company.name, "severity": if major { "major" } else { "minor" },
        "category": category, "description": description});
    let o = run
        .exec::<Complaint>(raised, Target::Create, "raise", body, &reception)
        .await?;
    *run.summary.complaints.entry(kind).or_default() += 1;
    let c = Target::Id(o.id);
    let mut t = raised;
    if major {
        t += run.minutes(3, 9);
        run.exec::<Complaint>(
            t,
            c,
            "report",
            json!({"to": "head of the reception office"}),
            &reception,
        )
        .await?;
    }
    t += run.minutes(15, 50);
    run.exec::<Complaint>(
        t,
        c,
        "assign",
        json!({"department": department, "assignee": names::HOSTS[1]}),
        &reception,
    )
    .await?;
    if !major {
        t += run.minutes(15, 50);
        run.exec::<Complaint>(
            t,
            c,
            "analyse",
            json!({"analysis": "dispatch planned without traffic margin"}),
            &reception,
        )
        .await?;
    }
    match kind {
        ComplaintKind::Minor => {
            t += run.minutes(120, 20 * 60);
            run.exec::<Complaint>(
                t,
                c,
                "feedback",
                json!({"text": "apologised and explained the measures taken"}),
                &reception,
            )
            .await?;
        }
        ComplaintKind::Major => {}
        ComplaintKind::EscalatedByStaff => {
            t += run.minutes(120, 10 * 60);
            run.exec::<Complaint>(
                t,
                c,
                "feedback",
                json!({"text": "first answer given to the customer"}),
                &reception,
            )
            .await?;
            t += run.minutes(2 * 24 * 60, 5 * 24 * 60);
            run.exec::<Complaint>(
                t,
                c,
                "escalate",
                json!({"reason": "the promised service was not delivered after repeated requests"}),
                &reception,
            )
            .await?;
        }
        ComplaintKind::EscalatedAutomatically => {
            t = raised + Duration::days(10) + run.minutes(1, 60);
            run.exec::<Complaint>(
                t,
                c,
                "escalate",
                json!({"reason": "C4: unresolved 10 days after it was raised"}),
                &Actor::system(),
            )
            .await?;
        }
    }
    if kind != ComplaintKind::Minor {
        if !major {
            t += run.minutes(3, 9);
            run.exec::<Complaint>(
                t,
                c,
                "report",
                json!({"to": "head of the reception office"}),
                &reception,
            )
            .await?;
        }
        t += run.minutes(180, 11 * 60);
        run.exec::<Complaint>(t, c, "agree-solution", json!({"solution": "free service visit and a written apology from the general manager"}), &reception)
            .await?;
    }
    t += run.minutes(24 * 60, 4 * 24 * 60);
    run.exec::<Complaint>(
        t,
        c,
        "resolve",
        json!({"resolution": "measures agreed with the customer carried out"}),
        &reception,
    )
    .await?;
    t += run.minutes(120, 20 * 60);
    let mode = if kind == ComplaintKind::Minor {
        "phone"
    } else {
        "in_person"
    };
    run.exec::<Complaint>(
        t,
        c,
        "return-visit",
        json!({"mode": mode, "notes": "customer accepts the resolution"}),
        &reception,
    )
    .await?;
    t += run.minutes(30, 120);
    run.exec::<Complaint>(t, c, "close", json!({}), &reception)
        .await?;
    Ok(())
}

/// A front-desk walk-in: sign in, sign out a few hours later (F1).
async fn walk_in(run: &mut Run, t: Time) -> Result<(), Flow> {
    let desk = actor("desk.1", Role::Frontdesk);
    let hanzi = run.chance(0.5);
    let body = json!({"name": names::person(&mut run.rng, hanzi), "party_size": run.rng.gen_range(1..=4),
        "reason": names::WALK_IN_REASONS.choose(&mut run.rng), "host": names::HOSTS.choose(&mut run.rng), "at": t});
    let o = run
        .exec::<SignIn>(t, Target::Create, "sign-in", body, &desk)
        .await?;
    run.summary.sign_ins += 1;
    let out = t + run.minutes(30, 300);
    run.exec::<SignIn>(out, Target::Id(o.id), "sign-out", json!({"at": out}), &desk)
        .await?;
    Ok(())
}
