//! Transport (V7): the pickup, a local car each further day and the drop-off, each of a
//! class the level allows (rarely another, on override) and ready ahead of its time;
//! and the readiness check before the arrival.

use chrono::{Duration, NaiveDate};
use rand::seq::IndexedRandom;
use reception_domain::visit::Visit;
use serde_json::{json, Value};

use super::{Books, Script};
use crate::demo::names;
use crate::demo::{at, Flow, Run};

/// A car's class, its override and whether the approver dispatches it.
fn vehicle(run: &mut Run, s: &Script<'_>) -> (String, Value, bool) {
    let lp = &s.lp;
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
}

/// Dispatches the pickup car (or reports none free) when the visitors do not drive.
pub(super) async fn pickup(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    if !s.trip.needs_car {
        return Ok(());
    }
    if run.chance(0.08) {
        run.exec::<Visit>(
            s.trip.prep(0.62),
            s.v,
            "car-unavailable",
            json!({"leg": "pickup", "advised_transport": "airport express bus to the city, then taxi to the hotel"}),
            &s.cast.reception,
        )
        .await?;
    } else {
        let (class, ovr, by_approver) = vehicle(run, s);
        let ready = s.trip.arrival - Duration::minutes(if run.chance(0.08) { 5 } else { 30 });
        let body = json!({"leg": "pickup", "vehicle_class": class, "driver": names::DRIVERS.choose(&mut run.rng),
            "plate": names::plate(&mut run.rng), "ready_at": ready, "place": s.trip.place, "number": s.trip.arrival_no, "override": ovr});
        let who = if by_approver {
            &s.cast.approver
        } else {
            &s.cast.reception
        };
        run.exec::<Visit>(s.trip.prep(0.62), s.v, "dispatch-car", body, who)
            .await?;
        b.cars.push(("pickup", ready));
    }
    Ok(())
}

/// Confirms that hotel, cars, meals and rooms are ready.
pub(super) async fn confirm_readiness(run: &mut Run, s: &Script<'_>) -> Result<(), Flow> {
    run.exec::<Visit>(
        s.trip.prep(0.85),
        s.v,
        "confirm-readiness",
        json!({"notes": "hotel, cars, meals and rooms checked"}),
        &s.cast.reception,
    )
    .await?;
    Ok(())
}

/// The morning car from the hotel on a day after the arrival day.
pub(super) async fn local(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
    date: NaiveDate,
) -> Result<(), Flow> {
    let off = &s.trip.off;
    let (class, ovr, by_approver) = vehicle(run, s);
    let body = json!({"leg": "local", "vehicle_class": class, "driver": names::DRIVERS.choose(&mut run.rng),
        "plate": names::plate(&mut run.rng), "ready_at": at(off, date, 8, 30), "place": "hotel lobby", "override": ovr});
    let who = if by_approver {
        &s.cast.approver
    } else {
        &s.cast.reception
    };
    run.exec::<Visit>(at(off, date, 7, 30), s.v, "dispatch-car", body, who)
        .await?;
    b.cars.push(("local", at(off, date, 8, 30)));
    Ok(())
}

/// The drop-off car to the station or airport, when the visitors do not drive.
pub(super) async fn dropoff(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    if !s.trip.needs_car {
        return Ok(());
    }
    let departure = s.trip.departure;
    let (class, ovr, by_approver) = vehicle(run, s);
    let ready = departure - Duration::minutes(if run.chance(0.06) { 10 } else { 40 });
    let body = json!({"leg": "dropoff", "vehicle_class": class, "driver": names::DRIVERS.choose(&mut run.rng),
        "plate": names::plate(&mut run.rng), "ready_at": ready, "place": "hotel lobby", "number": s.trip.departure_no, "override": ovr});
    let who = if by_approver {
        &s.cast.approver
    } else {
        &s.cast.reception
    };
    run.exec::<Visit>(
        departure - Duration::hours(4),
        s.v,
        "dispatch-car",
        body,
        who,
    )
    .await?;
    b.cars.push(("dropoff", ready));
    Ok(())
}
