//! A delayed flight or a changed party (V23): new planned times, headcount and
//! visitors; every deadline that reads them moves with them.

use super::request::{check_party, check_times};
use crate::common::DomainError;
use crate::context::Context;
use crate::deadlines::car_ready_by;
use crate::visit_state::*;

/// V23: before departure, any of arrival (not once arrived), departure, headcount and
/// visitors, with a reason; headcount and visitors stay equal (V1). Dispatched cars now
/// ready too late are named in the event.
pub(crate) fn reschedule(
    visit: &Visit,
    c: Reschedule,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    visit.not_departed("reschedule")?;
    let req = visit.request().expect("an existing visit has its request");
    if c.arrival.is_none() && c.departure.is_none() && c.headcount.is_none() && c.visitors.is_none()
    {
        return Err(DomainError::invalid(
            "body",
            "a reschedule changes at least one of arrival, departure, headcount, visitors",
        )
        .with_rule("V23"));
    }
    if c.arrival.is_some() && visit.arrived_at.is_some() {
        return Err(DomainError::state(
            "the visitors have arrived; their arrival is a recorded fact",
        )
        .with_rule("V23")
        .with_field("arrival"));
    }
    let arrival = c.arrival.unwrap_or_else(|| req.arrival.clone());
    let departure = c.departure.unwrap_or_else(|| req.departure.clone());
    let visitors = c.visitors.unwrap_or_else(|| req.visitors.clone());
    let headcount = match c.headcount {
        Some(h) => h,
        None => Headcount::parse("headcount", visitors.len() as u32)?,
    };
    check_party(headcount.get(), &visitors).map_err(|e| e.with_rule("V23"))?;
    check_times(&arrival, &departure).map_err(|e| e.with_rule("V23"))?;
    let cars_late = visit
        .cars
        .iter()
        .filter(|car| match car.dispatch.leg {
            Leg::Pickup => car.dispatch.ready_at > car_ready_by(arrival.at),
            Leg::Dropoff => car.dispatch.ready_at > car_ready_by(departure.at),
            Leg::Local => false,
        })
        .map(|car| car.dispatch.car_id)
        .collect();
    Ok(VisitEvent::VisitRescheduled(VisitRescheduled {
        reason: c.reason,
        previous_arrival_at: req.arrival.at,
        previous_departure_at: req.departure.at,
        previous_headcount: req.headcount.clone(),
        arrival,
        departure,
        headcount,
        visitors,
        cars_late,
        rescheduled_at: ctx.now,
    }))
}
