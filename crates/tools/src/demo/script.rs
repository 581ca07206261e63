//! A visit's life as the demo plays it, one module per stage in the order the domain's
//! stages follow: request and its approval, level, a reschedule, plan, preparation
//! tasks, staffing, the cash advance, lodging, meals, souvenirs, transport, the days on
//! site with their cooperation matters, departure, minutes, expenses, closing, and what
//! outlives the close (follow-ups, late invoices).
//!
//! Every stage draws from the visit's own generator in a fixed order, and the same seed
//! must give the same commands: moving a draw from one place to another changes the
//! demo data (`canonical_log` of two builds tells).

mod after_close;
mod approval;
mod closing;
mod departure;
mod expenses;
mod level;
mod lodging;
mod matters;
mod meals;
mod onsite;
mod plan;
mod request;
mod reschedule;
mod souvenirs;
mod staffing;
mod tasks;
mod transport;

use chrono::{Duration, FixedOffset};
use reception_app::Target;
use reception_domain::policy::{LevelPolicy, PolicyBook};
use reception_domain::Actor;
use serde_json::{json, Value};
use uuid::Uuid;

use super::names::{Company, Person};
use super::{Fate, Flow, Run, Time, VisitLife, VisitSpec};
use expenses::Exp;

/// What the request settled about the trip; a reschedule (V23) and an amendment (V22)
/// change it, and every later stage reads the trip as it is then.
struct Trip<'a> {
    off: FixedOffset,
    /// When the request was filed.
    t0: Time,
    arrival: Time,
    departure: Time,
    stay_days: i64,
    /// "flight", "train" or "car".
    mode: &'static str,
    place: Option<&'static str>,
    headcount: usize,
    visitors: Vec<&'a Person>,
    home: Option<Time>,
    needs_car: bool,
    needs_lodging: bool,
    meeting_room: bool,
    photos: bool,
    minutes: bool,
    /// V26: the customer asks us to book the return tickets.
    return_tickets: bool,
    /// V26: a foreign customer asks for a visa invitation letter.
    visa_letter: bool,
    arrival_no: Option<String>,
    departure_no: Option<String>,
    expedited: Option<Value>,
    purpose: String,
    /// V22: the estimated cost, in fen.
    budget: i64,
    cost_department: &'static str,
}

impl Trip<'_> {
    /// The time `f` of the way from the request to the arrival (the preparation window).
    fn prep(&self, f: f64) -> Time {
        let window = self.arrival - self.t0;
        self.t0 + Duration::seconds((window.num_seconds() as f64 * f) as i64)
    }

    fn visitors_json(&self) -> Value {
        self.visitors
            .iter()
            .map(|p| json!({"name": p.name, "title": p.title, "phone": p.phone}))
            .collect()
    }

    fn arrival_json(&self, origin: &str) -> Value {
        json!({"at": self.arrival, "mode": self.mode, "number": self.arrival_no, "origin": origin, "place": self.place})
    }

    fn departure_json(&self) -> Value {
        json!({"at": self.departure, "mode": self.mode, "number": self.departure_no, "place": self.place, "arrives_home_at": self.home})
    }
}

/// Who issues the visit's commands.
struct Cast {
    /// The salesperson who requested the visit (amendments, V22).
    sales: Actor,
    reception: Actor,
    /// The reception office's approver: plan reviews, overrides, over-cap decisions.
    approver: Actor,
    /// V22: the requesting department's manager and the general manager.
    manager: Actor,
    general_manager: Actor,
    finance: Actor,
}

/// What every stage reads: the visit as planned, requested and levelled.
struct Script<'a> {
    spec: &'a VisitSpec,
    company: &'a Company,
    /// The visit's stream.
    v: Target,
    trip: Trip<'a>,
    cast: Cast,
    /// The level's policy in force when the level was assigned.
    lp: LevelPolicy,
    /// How the visit is rescheduled, when it is (V23).
    change: Option<reschedule::Change>,
}

/// What the stages booked, planned and spent so far, for the stages after them.
#[derive(Default)]
struct Books {
    /// The meals of the itinerary: kind and time.
    meal_times: Vec<(&'static str, Time)>,
    /// The arrival day's tour: place and title.
    tour: (&'static str, &'static str),
    host: &'static str,
    /// The accompanying staff: name and role.
    staff: Vec<(&'static str, String)>,
    advance: Option<i64>,
    lodging: Option<Lodging>,
    meals: Vec<Meal>,
    /// The first meal whose bill is not recorded yet.
    next_meal: usize,
    /// Booking, budget, time, kind.
    entertainment: Option<(Uuid, i64, Time, &'static str)>,
    souvenirs: Vec<Souvenir>,
    expenses: Vec<Exp>,
    /// Cars dispatched, one car bill each: leg and ready time.
    cars: Vec<(&'static str, Time)>,
    /// Preparation tasks left for the last hours before the arrival: when, and id.
    late_tasks: Vec<(Time, &'static str)>,
    matters: Vec<Uuid>,
    confirmed: Vec<Uuid>,
    /// The talks: when, and who attended (V28).
    talks: Option<(Time, Vec<String>)>,
    /// Follow-ups on confirmed matters: id and due (V28).
    follow_ups: Vec<(Uuid, Time)>,
    /// A linked front-desk sign-in still to sign out: its id and when they left (F2).
    sign_out: Option<(Uuid, Time)>,
    arrived: Option<Time>,
    closed_at: Option<Time>,
}

/// A booked meal.
#[derive(Clone)]
struct Meal {
    at: Time,
    booking: Uuid,
    budget: i64,
    kind: &'static str,
    venue: String,
    party: usize,
}

/// The rooms booked.
struct Lodging {
    booking: Uuid,
    total: i64,
    company_pays: bool,
    hotel: &'static str,
}

/// A planned souvenir.
struct Souvenir {
    id: Uuid,
    item: &'static str,
    unit_fen: i64,
    quantity: usize,
    planned_at: Time,
}

impl Books {
    /// Company spend so far, reversals netted out, as V22's budget check counts it.
    fn company_spend(&self) -> i64 {
        self.expenses
            .iter()
            .filter(|e| e.company)
            .map(|e| if e.reversal { -e.amount } else { e.amount })
            .sum()
    }
}

/// The visit's whole life, stage after stage, up to the end of the run.
pub(super) async fn visit_script(
    run: &mut Run,
    book: &PolicyBook,
    spec: &VisitSpec,
    company: &Company,
    life: &mut VisitLife,
) -> Result<(), Flow> {
    let (mut trip, cast, id) = request::request(run, book, spec, company).await?;
    life.id = Some(id);
    let v = Target::Id(id);
    if !approval::approve(run, book, spec, &mut trip, &cast, v).await? {
        life.rejected = true;
        return Ok(());
    }
    let lp = level::level(run, book, spec, &trip, &cast, v).await?;
    let change = reschedule::draw(run, spec);
    let mut s = Script {
        spec,
        company,
        v,
        trip,
        cast,
        lp,
        change,
    };
    let mut b = Books::default();
    let outcome = stages(run, &mut s, &mut b, life).await;
    life.over_budget = b.company_spend() > s.trip.budget;
    outcome
}

/// The stages after the level: preparation, the visit, the follow-up and the close.
async fn stages(
    run: &mut Run,
    s: &mut Script<'_>,
    b: &mut Books,
    life: &mut VisitLife,
) -> Result<(), Flow> {
    reschedule::party(run, s).await?;
    plan::plan(run, s, b).await?;
    tasks::visa_letter(run, s).await?;
    staffing::staff(run, s, b).await?;
    expenses::advance(run, s, b).await?;
    lodging::lodging(run, s, b).await?;
    meals::meals(run, s, b).await?;
    meals::entertainment(run, s, b).await?;
    souvenirs::plan(run, s, b).await?;
    if s.spec.fate == Fate::Cancelled {
        closing::cancel(run, s, b).await?;
        life.cancelled = true;
        return after_close::cancellation_fee(run, s, b).await;
    }
    transport::pickup(run, s, b).await?;
    tasks::desk(run, s, b).await?;
    staffing::change_before_arrival(run, s, b).await?;
    transport::confirm_readiness(run, s).await?;
    reschedule::travel_day(run, s, b).await?;
    tasks::last_hours(run, s, b).await?;
    onsite::on_site(run, s, b, life).await?;
    departure::departure(run, s, b).await?;
    matters::minutes(run, s, b, true).await?;
    expenses::after_visit(run, s, b).await?;
    expenses::correction(run, s, b).await?;
    closing::return_call(run, s, life).await?;
    closing::summary(run, s, b).await?;
    matters::minutes(run, s, b, false).await?;
    closing::decide_over_cap(run, s, b).await?;
    closing::settle(run, s, b).await?;
    closing::close(run, s, b).await?;
    life.closed = true;
    after_close::after_close(run, s, b).await
}
