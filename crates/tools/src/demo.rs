//! `reception demo`: realistic, reproducible demo data generated through the app's
//! command path, so the domain judges every command exactly as it judges real ones.
//!
//! Everything is drawn from a ChaCha8 generator seeded by [`DemoOptions::seed`]: a master
//! generator draws the customer pool and one plan per visit (customer, level, fate,
//! request time, what goes differently, a per-visit seed); each visit then runs its
//! whole life (request, approvals, preparation, the days on site, follow-up to close
//! and after, its complaint if it has one, and a few front-desk walk-ins) with its own
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
mod complaint;
mod names;
mod script;
mod staff;

use script::visit_script;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reception_app::{App, AppError, CommandOutcome, ExecOptions, Target};
use reception_domain::frontdesk::SignIn;
use reception_domain::policy::PolicyBook;
use reception_domain::{Actor, Aggregate, Role};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::task::JoinSet;
use uuid::Uuid;

pub use canon::{canonical_log, CanonicalEvent, CanonicalStream};
use names::Company;

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
    /// Requests rejected by an approver (V22).
    pub visits_rejected: u64,
    /// Requested but neither closed, cancelled nor rejected at `end`.
    pub visits_open: u64,
    /// Visits whose company spend passed the request's budget (V22).
    pub visits_over_budget: u64,
    /// Visits by their final level.
    pub visits_by_level: BTreeMap<String, u64>,
    /// Complaints raised, by kind.
    pub complaints: BTreeMap<ComplaintKind, u64>,
    /// Front-desk sign-ins.
    pub sign_ins: u64,
    /// Of them, visitors of an expected visit signing in under it (F2).
    pub linked_sign_ins: u64,
    /// Expenses recorded over their cap.
    pub over_cap_expenses: u64,
    /// Expenses recorded after their visit closed or was cancelled (V31).
    pub late_expenses: u64,
    /// Preparation tasks done after their due time (V26).
    pub tasks_late: u64,
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
        self.visits_rejected += o.visits_rejected;
        self.visits_open += o.visits_open;
        self.visits_over_budget += o.visits_over_budget;
        for (k, v) in o.visits_by_level {
            *self.visits_by_level.entry(k).or_default() += v;
        }
        for (k, v) in o.complaints {
            *self.complaints.entry(k).or_default() += v;
        }
        self.sign_ins += o.sign_ins;
        self.linked_sign_ins += o.linked_sign_ins;
        self.over_cap_expenses += o.over_cap_expenses;
        self.late_expenses += o.late_expenses;
        self.tasks_late += o.tasks_late;
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
    let start = opts.end - Duration::days(365 * i64::from(opts.years) + 7);
    staff::register(app, start)
        .await
        .map_err(|e| DemoError::Store {
            visit: 0,
            message: format!("registering the staff directory: {e}"),
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
    /// The request is rejected by an approver (V22).
    Rejected,
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
    /// Returned by an approver with comments, amended, then approved (V22).
    returned: bool,
    /// Rescheduled once before departure (V23).
    rescheduled: bool,
    /// Budgeted below what the visit will cost, so it ends over budget (V22).
    tight_budget: bool,
    /// Expected a few hours after `end`, with its desk behind on the preparation (V26):
    /// see [`plan`].
    tonight: bool,
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
        // Every fifth visit has a complaint (kinds in turn), one in twenty is cancelled,
        // one in forty rejected; one in eight is returned for amendment, another one in
        // eight rescheduled, one in twenty budgeted too tight: so even a small run
        // shows every kind.
        let fate = if index % 5 == 2 {
            Fate::Complaint(COMPLAINT_PATTERN[(index / 5) % 4])
        } else if index % 20 == 13 {
            Fate::Cancelled
        } else if index % 40 == 9 {
            Fate::Rejected
        } else {
            Fate::Normal
        };
        // One visit in fifty of the first thousand is expected tonight, a few hours
        // after the end: requests spread over years leave a small run with hardly a
        // visit in preparation at its end, and the live board is what a demo shows.
        let tonight = fate == Fate::Normal && index % 50 == 11 && index < 1000;
        // Visits whose fate must be seen whole are requested at least 60 days before the end.
        let latest = if fate == Fate::Normal {
            opts.end - Duration::hours(2)
        } else {
            opts.end - Duration::days(60)
        };
        let secs = rng.random_range(0..(latest - start).num_seconds().max(1));
        let requested_at = if tonight {
            let days_before = rng.random_range(4..12);
            business_hours(&mut rng, opts.end - Duration::days(days_before))
        } else {
            business_hours(&mut rng, start + Duration::seconds(secs))
        };
        // Repeat customers: a skewed pick makes the first companies regulars.
        let u: f64 = rng.random();
        let company = ((u * u) * companies.len() as f64) as usize;
        let level = LEVEL_PATTERN[index % LEVEL_PATTERN.len()];
        let first_level = rng.random_bool(0.08).then(|| {
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
            returned: index % 8 == 5,
            rescheduled: index % 8 == 3,
            tight_budget: index % 20 == 7,
            tonight,
            seed: rng.random(),
        });
    }
    Plans { companies, visits }
}

/// Moves a time into office hours (09:00–17:59) of its day, at a whole minute.
fn business_hours(rng: &mut ChaCha8Rng, t: Time) -> Time {
    at(
        t.offset(),
        t.date_naive(),
        rng.random_range(9..18),
        rng.random_range(0..60),
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
        self.exec_with::<A>(when, target, name, body, who, ExecOptions::default())
            .await
    }

    /// [`Run::exec`] with options (F2: the visit a sign-in names).
    async fn exec_with<A: Aggregate + Send + Sync + 'static>(
        &mut self,
        when: Time,
        target: Target,
        name: &str,
        body: Value,
        who: &Actor,
        opts: ExecOptions,
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
            .execute_at::<A>(now, target, name, body.clone(), who, opts)
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

    /// The id of the entity a command created (booking, expense, matter, ...): the
    /// command's answer carries the id the domain recorded, so no read-back is needed.
    fn entity(&self, o: &CommandOutcome) -> Result<Uuid, Flow> {
        o.entity_id.ok_or_else(|| {
            self.store_error(format!("command at seq {} created no entity", o.last_seq()))
        })
    }

    fn store_error(&self, message: impl std::fmt::Display) -> Flow {
        Flow::from(DemoError::Store {
            visit: self.visit,
            message: message.to_string(),
        })
    }

    /// Counts the events of `stream` in the summary: for a stream the app opened on
    /// its own (V30: the complaint a return call raises), not by a demo command.
    fn count_stream<A: Aggregate>(&mut self, stream: &str) -> Result<(), Flow> {
        let loaded = self
            .app
            .load::<A>(stream, None)
            .map_err(|e| self.store_error(e))?;
        self.summary.events += loaded.events.len() as u64;
        for e in &loaded.events {
            *self
                .summary
                .events_by_type
                .entry(e.event_type.clone())
                .or_default() += 1;
        }
        Ok(())
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn minutes(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::minutes(self.rng.random_range(lo..=hi))
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
    } else if life.rejected {
        run.summary.visits_rejected += 1;
    } else {
        run.summary.visits_open += 1;
    }
    run.summary.visits_over_budget += u64::from(life.over_budget);
    *run.summary
        .visits_by_level
        .entry(spec.level.to_string())
        .or_default() += 1;
    if let (Fate::Complaint(kind), Some(id)) = (spec.fate, life.id) {
        let opening = match life.call_complaint {
            Some((cid, at)) => Some((complaint::Opening::ByReturnCall(cid), at)),
            None => match life.arrived_at {
                Some(arrived) => {
                    let (category, description) = complaint::pick(&mut run, kind);
                    let raised = arrived + run.minutes(120, 30 * 60);
                    let opening = complaint::Opening::Raise {
                        category,
                        description,
                    };
                    Some((opening, raised))
                }
                None => None,
            },
        };
        if let Some((opening, raised)) = opening {
            run.clock = raised - Duration::minutes(1);
            match complaint::complaint_script(&mut run, kind, id, company, raised, opening).await {
                Ok(()) | Err(Flow::End) => {}
                Err(Flow::Fail(e)) => return Err(*e),
            }
        }
    }
    let walk_ins = if run.chance(0.7) { 1 } else { 2 };
    for _ in 0..walk_ins {
        let day = spec.requested_at + Duration::days(run.rng.random_range(0..10));
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
    /// V30: the complaint the return call raised, and when.
    call_complaint: Option<(Uuid, Time)>,
    closed: bool,
    cancelled: bool,
    rejected: bool,
    over_budget: bool,
}

/// A front-desk walk-in: sign in, sign out a few hours later (F1).
async fn walk_in(run: &mut Run, t: Time) -> Result<(), Flow> {
    let desk = actor("desk.1", Role::Frontdesk);
    let hanzi = run.chance(0.5);
    let body = json!({"name": names::person(&mut run.rng, hanzi), "party_size": run.rng.random_range(1..=4),
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
