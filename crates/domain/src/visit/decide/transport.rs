//! Cars for pickup, drop-off and local trips (V7).

use super::breach;
use crate::common::DomainError;
use crate::context::Context;
use crate::deadlines::car_ready_by;
use crate::visit_state::*;

/// V7: the vehicle class the level allows, ready 15 minutes before the leg.
pub(crate) fn dispatch_car(
    visit: &Visit,
    c: DispatchCar,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let req = visit.request().expect("an existing visit has its request");
    visit.not_departed("dispatch a car")?;
    let (lp, level, _) = visit.level_policy(ctx, "dispatching a car")?;
    if c.leg == Leg::Pickup {
        if c.number.is_none() {
            return Err(
                DomainError::rule("V7", "a pickup names the flight or train number")
                    .with_field("number"),
            );
        }
        if c.place.is_none() {
            return Err(DomainError::rule("V7", "a pickup names the place").with_field("place"));
        }
    }
    if !lp.allows_vehicle(c.vehicle_class.as_str()) {
        breach(
            "V7",
            "vehicle_class",
            format!(
                "vehicle class {} is not allowed for a {level} visit (allowed: {})",
                c.vehicle_class.as_str(),
                lp.vehicle_classes.join(", ")
            ),
            &c.override_,
        )?;
    }
    let ready_by = match c.leg {
        Leg::Pickup => Some(car_ready_by(req.arrival.at)),
        Leg::Dropoff => Some(car_ready_by(req.departure.at)),
        Leg::Local => None,
    };
    let late = ready_by.is_some_and(|by| c.ready_at > by);
    Ok(VisitEvent::CarDispatched(CarDispatched {
        car_id: ctx.entity_id,
        leg: c.leg,
        vehicle_class: c.vehicle_class,
        driver: c.driver,
        plate: c.plate,
        ready_at: c.ready_at,
        place: c.place,
        number: c.number,
        override_: c.override_,
        ready_by,
        late,
    }))
}

/// V7: no car for a leg; the transport advised instead.
pub(crate) fn car_unavailable(
    visit: &Visit,
    c: ReportCarUnavailable,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    visit.not_departed("record a missing car")?;
    visit.level_policy(ctx, "dispatching a car")?;
    Ok(VisitEvent::CarUnavailable(CarUnavailable {
        leg: c.leg,
        advised_transport: c.advised_transport,
    }))
}
