//! The request (V1, V2, V22): the trip's dates, transport, visitors and needs, its
//! budget and the department that bears it, filed by sales or reception.

use chrono::{Duration, Timelike};
use rand::seq::IndexedRandom;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use reception_app::Target;
use reception_domain::policy::{CapKind, LevelId, LevelPolicy, PaidBy, PolicyBook};
use reception_domain::visit::Visit;
use reception_domain::Role;
use serde_json::json;
use uuid::Uuid;

use super::{Cast, Trip};
use crate::demo::names::{self, Company, Person};
use crate::demo::{actor, at, Flow, Run, Time, VisitSpec};

/// Reception staff users.
const HOST_USERS: &[&str] = &["li.na", "zhang.wei", "wang.fang", "liu.yang"];

/// Files the request; returns the trip, who acts on the visit, and the visit's id.
pub(super) async fn request<'a>(
    run: &mut Run,
    book: &PolicyBook,
    spec: &VisitSpec,
    company: &'a Company,
) -> Result<(Trip<'a>, Cast, Uuid), Flow> {
    let mut trip = draw_trip(run, spec, company);
    let lp = book
        .in_force(trip.t0)
        .and_then(|p| p.level(&LevelId::parse(spec.level).ok()?).cloned());
    // Most budgets leave a margin over the estimate; a tight one is what the sales
    // department hoped, and the visit ends over it.
    let factor = if spec.tight_budget {
        run.rng.random_range(0.55..0.8)
    } else {
        run.rng.random_range(1.15..1.6)
    };
    let estimate = lp.as_ref().map_or(800_000, |lp| estimate_fen(lp, &trip));
    trip.budget = ((estimate as f64 * factor / 10_000.0).round() as i64).max(1) * 10_000;
    // The sales manager proposes a level on some requests, now and then one above
    // what reception assigns.
    let proposed = run.chance(0.4).then(|| {
        if run.chance(0.8) {
            spec.level
        } else if spec.level == "ordinary" {
            "senior"
        } else {
            "special"
        }
    });
    let body = json!({
        "customer": {"company": company.name, "country": company.country, "foreign": company.foreign},
        "department": company.department,
        "visitors": trip.visitors_json(),
        "headcount": trip.headcount,
        "purpose": trip.purpose,
        "arrival": trip.arrival_json(company.origin),
        "departure": trip.departure_json(),
        "needs": {"pickup": trip.needs_car, "dropoff": trip.needs_car, "lodging": trip.needs_lodging, "meeting_room": trip.meeting_room,
                  "translation": company.foreign, "photos": trip.photos, "minutes": trip.minutes,
                  "return_tickets": trip.return_tickets, "visa_letter": trip.visa_letter},
        "expedited": trip.expedited,
        "budget_fen": trip.budget,
        "cost_department": trip.cost_department,
        "proposed_level": proposed,
    });
    let sales = actor(&format!("sales.{}", company.department), Role::Requester);
    let reception = actor(
        HOST_USERS[run.rng.random_range(0..HOST_USERS.len())],
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
        .exec::<Visit>(trip.t0, Target::Create, "request", body, &filer)
        .await?;
    let cast = Cast {
        sales,
        manager: actor(
            names::department_manager(company.department),
            Role::Approver,
        ),
        general_manager: actor(names::GENERAL_MANAGER, Role::Approver),
        reception,
        approver,
        finance,
    };
    Ok((trip, cast, o.id))
}

/// What the visit will cost the company, from the level's caps and the generator's
/// habits (meals near 80 % of their cap, a car a day, company-paid rooms, gifts, small
/// purchases): the base of the request's budget.
fn estimate_fen(lp: &LevelPolicy, trip: &Trip<'_>) -> i64 {
    let party = trip.headcount as u32;
    let cap = |k| lp.cap_for(k, party).map_or(40_000, |f| f.fen());
    let days = trip.stay_days;
    let meals = days * (cap(CapKind::Lunch) + cap(CapKind::Dinner)) * 8 / 10;
    let cars = (days + 1) * 90_000;
    let rooms = trip.headcount.div_ceil(2) as i64;
    let lodging = match (trip.needs_lodging, lp.lodging.paid_by) {
        (true, PaidBy::Company) => {
            lp.lodging.max_rate_fen.map_or(60_000, |f| f.fen()) * rooms * days * 9 / 10
        }
        _ => 0,
    };
    let entertainment = lp
        .cap_for(CapKind::Entertainment, party)
        .map_or(0, |f| f.fen() / 2);
    let gifts = if lp.souvenirs {
        lp.gift_item_cap_fen.map_or(10_000, |f| f.fen()) * trip.headcount as i64 * 3 / 2
    } else {
        0
    };
    meals + cars + lodging + entertainment + gifts + 120_000
}

/// An arrival three to five hours after `end`, at a quarter hour.
fn tonight(run: &mut Run, end: Time) -> Time {
    let t = end + Duration::hours(run.rng.random_range(3..=5));
    at(
        t.offset(),
        t.date_naive(),
        t.hour(),
        [0, 15, 30, 45][run.rng.random_range(0..4)],
    )
}

/// The flight or train number of one leg.
fn number(mode: &str, rng: &mut ChaCha8Rng) -> Option<String> {
    match mode {
        "flight" => Some(names::flight(rng)),
        "train" => Some(names::train(rng)),
        _ => None,
    }
}

/// Draws the trip: lead time, arrival, stay, transport, visitors and needs.
fn draw_trip<'a>(run: &mut Run, spec: &VisitSpec, company: &'a Company) -> Trip<'a> {
    let off = *spec.requested_at.offset();
    let t0 = spec.requested_at;
    let short = run.chance(0.1);
    let lead_hours = match (company.foreign, short) {
        (true, true) => run.rng.random_range(72..160),
        (true, false) => run.rng.random_range(8 * 24..40 * 24),
        (false, true) => run.rng.random_range(8..20),
        (false, false) => run.rng.random_range(40..14 * 24),
    };
    let mut arrival = t0 + Duration::hours(lead_hours);
    if !(8..20).contains(&arrival.hour()) {
        arrival = at(&off, arrival.date_naive(), run.rng.random_range(9..19), 0);
        if arrival <= t0 + Duration::hours(4) {
            arrival += Duration::days(1);
        }
    }
    let arrival = at(
        &off,
        arrival.date_naive(),
        arrival.hour(),
        [0, 15, 30, 45][run.rng.random_range(0..4)],
    );
    // Expected tonight: an evening flight a few hours after the end of the run.
    let arrival = if spec.tonight {
        tonight(run, run.end)
    } else {
        arrival
    };
    let stay_days = match spec.level {
        "ordinary" => run.rng.random_range(1..=3),
        "senior" => run.rng.random_range(2..=4),
        _ => run.rng.random_range(2..=5),
    };
    let departure = at(
        &off,
        arrival.date_naive() + Duration::days(stay_days),
        run.rng.random_range(13..18),
        30,
    );
    let mode = if company.foreign {
        "flight"
    } else {
        *["flight", "flight", "train", "train", "car"]
            .choose(&mut run.rng)
            .expect("non-empty")
    };
    let place = match mode {
        "flight" => Some("Jinan Yaoqiang International Airport"),
        "train" => Some("Jinan West Railway Station"),
        _ => None,
    };
    let headcount = run.rng.random_range(1..=company.people.len().min(5));
    let visitors: Vec<&Person> = company.people.sample(&mut run.rng, headcount).collect();
    let home = (mode != "car" && run.chance(0.7))
        .then(|| departure + Duration::hours(run.rng.random_range(2..7)));
    let needs_car = mode != "car";
    let needs_lodging = run.chance(0.92);
    let arrival_no = number(mode, &mut run.rng);
    let departure_no = number(mode, &mut run.rng);
    let expedited = (short && run.chance(0.5))
        .then(|| json!({"reason": "the customer's chairman can only come this week"}));
    let meeting_room = run.chance(0.7);
    let photos = run.chance(0.5);
    let minutes = run.chance(0.6);
    let return_tickets = mode != "car" && run.chance(0.3);
    let visa_letter = company.foreign && run.chance(0.6);
    // Another department bears the cost now and then: a project's or the export side's.
    let cost_department = if run.chance(0.2) {
        *names::COST_DEPARTMENTS
            .iter()
            .filter(|d| **d != company.department)
            .collect::<Vec<_>>()
            .choose(&mut run.rng)
            .expect("several departments")
    } else {
        company.department
    };
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
    Trip {
        off,
        t0,
        arrival,
        departure,
        stay_days,
        mode,
        place,
        headcount,
        visitors,
        home,
        needs_car,
        needs_lodging,
        meeting_room,
        photos,
        minutes,
        return_tickets,
        visa_letter,
        arrival_no,
        departure_no,
        expedited,
        purpose: purpose.to_string(),
        budget: 0,
        cost_department,
    }
}
