//! The request (V1, V2): the trip's dates, transport, visitors and needs, filed by sales
//! or reception.

use chrono::{Duration, Timelike};
use rand::seq::IndexedRandom;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use reception_app::Target;
use reception_domain::visit::Visit;
use reception_domain::Role;
use serde_json::json;
use uuid::Uuid;

use super::{Cast, Trip};
use crate::demo::names::{self, Company, Person};
use crate::demo::{actor, at, Flow, Run, VisitSpec};

/// Reception staff users.
const HOST_USERS: &[&str] = &["li.na", "zhang.wei", "wang.fang", "liu.yang"];

/// Files the request; returns the trip, who acts on the visit, and the visit's id.
pub(super) async fn request<'a>(
    run: &mut Run,
    spec: &VisitSpec,
    company: &'a Company,
) -> Result<(Trip<'a>, Cast, Uuid), Flow> {
    let trip = draw_trip(run, spec, company);
    let body = json!({
        "customer": {"company": company.name, "country": company.country, "foreign": company.foreign},
        "department": company.department,
        "visitors": trip.visitors.iter().map(|p| json!({"name": p.name, "title": p.title, "phone": p.phone})).collect::<Vec<_>>(),
        "headcount": trip.headcount,
        "purpose": trip.purpose,
        "arrival": {"at": trip.arrival, "mode": trip.mode, "number": trip.arrival_no, "origin": company.origin, "place": trip.place},
        "departure": {"at": trip.departure, "mode": trip.mode, "number": trip.departure_no, "place": trip.place, "arrives_home_at": trip.home},
        "needs": {"pickup": trip.needs_car, "dropoff": trip.needs_car, "lodging": trip.needs_lodging, "meeting_room": run.chance(0.7),
                  "translation": company.foreign, "photos": run.chance(0.5), "minutes": run.chance(0.6)},
        "expedited": trip.expedited,
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
        reception,
        approver,
        finance,
    };
    Ok((trip, cast, o.id))
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
        arrival_no,
        departure_no,
        expedited,
        purpose,
    }
}
