//! A visit's life as the demo plays it, one module per stage in the order the domain's
//! stages follow: request, level, plan, staffing, the cash advance, lodging, meals,
//! souvenirs, transport, the days on site with their cooperation matters, departure,
//! expenses and closing.
//!
//! Every stage draws from the visit's own generator in a fixed order, and the same seed
//! must give the same commands: moving a draw from one place to another changes the
//! demo data (`canonical_log` of two builds tells).

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
mod souvenirs;
mod staffing;
mod transport;

use chrono::{Duration, FixedOffset};
use reception_app::Target;
use reception_domain::policy::{LevelPolicy, PolicyBook};
use reception_domain::Actor;
use serde_json::Value;
use uuid::Uuid;

use super::names::{Company, Person};
use super::{Fate, Flow, Run, Time, VisitLife, VisitSpec};
use expenses::Exp;

/// What the request settled about the trip.
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
    arrival_no: Option<String>,
    departure_no: Option<String>,
    expedited: Option<Value>,
    purpose: &'static str,
}

impl Trip<'_> {
    /// The time `f` of the way from the request to the arrival (the preparation window).
    fn prep(&self, f: f64) -> Time {
        let window = self.arrival - self.t0;
        self.t0 + Duration::seconds((window.num_seconds() as f64 * f) as i64)
    }
}

/// Who issues the visit's commands.
struct Cast {
    reception: Actor,
    approver: Actor,
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
}

/// What the stages booked, planned and spent so far, for the stages after them.
#[derive(Default)]
struct Books {
    /// The meals of the itinerary: kind and time.
    meal_times: Vec<(&'static str, Time)>,
    /// The arrival day's tour: place and title.
    tour: (&'static str, &'static str),
    host: &'static str,
    advance: Option<i64>,
    /// Booking, total, paid by the company.
    lodging: Option<(Uuid, i64, bool)>,
    meals: Vec<Meal>,
    /// The first meal whose bill is not recorded yet.
    next_meal: usize,
    /// Booking, budget, time.
    entertainment: Option<(Uuid, i64, Time)>,
    /// Souvenir and its total cost.
    souvenirs: Vec<(Uuid, i64)>,
    expenses: Vec<Exp>,
    /// Cars dispatched, one car bill each.
    cars: u32,
    matters: Vec<Uuid>,
    confirmed: u32,
    arrived: Option<Time>,
}

/// A booked meal.
#[derive(Clone, Copy)]
struct Meal {
    at: Time,
    booking: Uuid,
    budget: i64,
}

/// The visit's whole life, stage after stage, up to the end of the run.
pub(super) async fn visit_script(
    run: &mut Run,
    book: &PolicyBook,
    spec: &VisitSpec,
    company: &Company,
    life: &mut VisitLife,
) -> Result<(), Flow> {
    let (trip, cast, id) = request::request(run, spec, company).await?;
    life.id = Some(id);
    let v = Target::Id(id);
    let lp = level::level(run, book, spec, &trip, &cast, v).await?;
    let s = Script {
        spec,
        company,
        v,
        trip,
        cast,
        lp,
    };
    let mut b = Books::default();
    plan::plan(run, &s, &mut b).await?;
    staffing::staff(run, &s, &mut b).await?;
    expenses::advance(run, &s, &mut b).await?;
    lodging::lodging(run, &s, &mut b).await?;
    meals::meals(run, &s, &mut b).await?;
    meals::entertainment(run, &s, &mut b).await?;
    souvenirs::plan(run, &s, &mut b).await?;
    if spec.fate == Fate::Cancelled {
        closing::cancel(run, &s, &mut b).await?;
        life.cancelled = true;
        return Ok(());
    }
    transport::pickup(run, &s, &mut b).await?;
    transport::confirm_readiness(run, &s).await?;
    onsite::on_site(run, &s, &mut b, life).await?;
    departure::departure(run, &s, &mut b).await?;
    expenses::after_visit(run, &s, &mut b).await?;
    expenses::correction(run, &s, &mut b).await?;
    closing::return_call(run, &s).await?;
    closing::summary(run, &s, &b).await?;
    closing::decide_over_cap(run, &s, &b).await?;
    closing::settle(run, &s, &b).await?;
    closing::close(run, &s).await?;
    life.closed = true;
    Ok(())
}
