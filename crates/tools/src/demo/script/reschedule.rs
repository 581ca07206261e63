//! Rescheduling (V23): the party changes before the plan is drawn up (a visitor more or
//! less, a day longer), or on the travel day the flight is delayed or an earlier one
//! taken; an earlier arrival after the pickup car was dispatched leaves that car late
//! (`car_late` until the visitors are in).

use chrono::{Duration, Timelike};
use rand::RngExt;
use reception_domain::visit::Visit;
use serde_json::json;

use super::{Books, Script};
use crate::demo::names;
use crate::demo::{at, Flow, Run, VisitSpec};

/// How a visit is rescheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Weeks ahead: the delegation or the length of the stay changes.
    Party,
    /// On the travel day: a delayed flight (or train, or traffic for a car).
    Delayed,
    /// On the travel day: an earlier flight, after the pickup car was dispatched.
    Earlier,
}

/// Draws the change of a rescheduled visit: a third change the party, the rest the
/// travel day (tonight's visit always comes earlier, so the board shows a late car).
pub(super) fn draw(run: &mut Run, spec: &VisitSpec) -> Option<Change> {
    if !spec.rescheduled {
        return None;
    }
    let u: f64 = run.rng.random();
    Some(if spec.tonight {
        Change::Earlier
    } else if u < 0.3 {
        Change::Party
    } else if u < 0.7 {
        Change::Delayed
    } else {
        Change::Earlier
    })
}

/// A new flight or train number for the changed leg.
fn new_number(run: &mut Run, mode: &str) -> Option<String> {
    match mode {
        "flight" => Some(names::flight(&mut run.rng)),
        "train" => Some(names::train(&mut run.rng)),
        _ => None,
    }
}

/// The party changes before the plan: one visitor more or less, sometimes a day longer.
pub(super) async fn party(run: &mut Run, s: &mut Script<'_>) -> Result<(), Flow> {
    if s.change != Some(Change::Party) {
        return Ok(());
    }
    let trip = &mut s.trip;
    let newcomer = s
        .company
        .people
        .iter()
        .find(|p| !trip.visitors.iter().any(|v| v.name == p.name));
    let mut reasons = Vec::new();
    if trip.visitors.len() > 1 && (newcomer.is_none() || run.chance(0.5)) {
        let left = trip.visitors.pop().expect("more than one");
        reasons.push(format!("{} cannot travel", left.name));
    } else if let Some(p) = newcomer {
        trip.visitors.push(p);
        reasons.push(format!("{} ({}) joins the delegation", p.name, p.title));
    }
    trip.headcount = trip.visitors.len();
    let longer = reasons.is_empty() || run.chance(0.4);
    let mut body = json!({"headcount": trip.headcount, "visitors": trip.visitors_json()});
    if longer {
        trip.stay_days += 1;
        trip.departure += Duration::days(1);
        trip.home = trip.home.map(|h| h + Duration::days(1));
        reasons.push("the customer stays a day longer for a second plant".into());
        body["departure"] = trip.departure_json();
    }
    body["reason"] = json!(reasons.join("; "));
    let when = trip.prep(0.08);
    run.exec::<Visit>(when, s.v, "reschedule", body, &s.cast.sales)
        .await?;
    Ok(())
}

/// On the travel day, hours before the arrival: the arrival moves later or earlier,
/// with its new flight or train number; now and then a visitor stays behind.
pub(super) async fn travel_day(
    run: &mut Run,
    s: &mut Script<'_>,
    b: &mut Books,
) -> Result<(), Flow> {
    let Some(mut change) = s.change.filter(|c| *c != Change::Party) else {
        return Ok(());
    };
    let old = s.trip.arrival;
    let pickup_sent = b.cars.iter().any(|(leg, _)| *leg == "pickup");
    // A delay must leave the arrival day's evening (and its booked entertainment) in
    // place; a visit arriving late already comes earlier instead.
    let evening = at(&s.trip.off, old.date_naive(), 19, 30);
    let room = (evening - old).num_minutes();
    if change == Change::Earlier && !pickup_sent || change == Change::Delayed && room < 60 {
        change = if change == Change::Earlier && room >= 60 {
            Change::Delayed
        } else {
            Change::Earlier
        };
    }
    let when = old - Duration::minutes(run.rng.random_range(5 * 60..9 * 60));
    let shift = run.rng.random_range(4..=8) * 15;
    let new_arrival = match change {
        Change::Delayed => old + Duration::minutes(shift.min(room / 15 * 15)),
        _ => old - Duration::minutes(shift),
    };
    let old_no = s
        .trip
        .arrival_no
        .clone()
        .unwrap_or_else(|| "the car".into());
    let new_no = new_number(run, s.trip.mode);
    let reason = match (change, &new_no) {
        (Change::Delayed, Some(n)) => format!("{old_no} delayed; the customer rebooked on {n}"),
        (Change::Delayed, None) => "held up in traffic on the expressway".to_string(),
        (_, Some(n)) => format!("the customer caught the earlier {n} instead of {old_no}"),
        (_, None) => "the customer set off earlier".to_string(),
    };
    let trip = &mut s.trip;
    trip.arrival = at(
        &trip.off,
        new_arrival.date_naive(),
        new_arrival.hour(),
        new_arrival.minute(),
    );
    trip.arrival_no = new_no.or(trip.arrival_no.take());
    let mut body = json!({"reason": reason, "arrival": trip.arrival_json(s.company.origin)});
    if trip.visitors.len() > 1 && run.chance(0.2) {
        let left = trip.visitors.pop().expect("more than one");
        trip.headcount = trip.visitors.len();
        body["reason"] = json!(format!("{reason}; {} stays behind", left.name));
        body["headcount"] = json!(trip.headcount);
        body["visitors"] = trip.visitors_json();
    }
    // Meals that now fall before the visitors are in are not eaten (nor billed).
    let first_meal = trip.arrival + Duration::minutes(45);
    b.meals.retain(|m| m.at > first_meal);
    run.exec::<Visit>(when, s.v, "reschedule", body, &s.cast.reception)
        .await?;
    Ok(())
}
