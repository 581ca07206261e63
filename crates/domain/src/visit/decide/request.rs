//! The request that opens a visit (V1, V2, V22's budget and cost department).

use chrono::Duration;

use crate::common::DomainError;
use crate::context::Context;
use crate::deadlines::{LEAD_TIME_FOREIGN_DAYS, LEAD_TIME_HOURS};
use crate::visit_state::{
    Arrival, Departure, ReceptionRequested, RequestVisit, VisitEvent, Visitor,
};

/// V1, V2: a well-formed request; `late` when filed inside the lead time and not
/// expedited.
pub(crate) fn request(req: RequestVisit, ctx: &Context) -> Result<Vec<VisitEvent>, DomainError> {
    check_request(&req)?;
    let lead = if req.customer.foreign {
        Duration::days(LEAD_TIME_FOREIGN_DAYS)
    } else {
        Duration::hours(LEAD_TIME_HOURS)
    };
    let late = req.arrival.at - ctx.now < lead && req.expedited.is_none();
    Ok(vec![VisitEvent::ReceptionRequested(ReceptionRequested {
        visit_id: ctx.entity_id,
        requested_at: ctx.now,
        late,
        approval_required: approvals_in_force(ctx),
        request: req,
    })])
}

/// V22: whether the policy in force asks for approvals at all (a store that keeps a
/// policy without them files requests that need none).
fn approvals_in_force(ctx: &Context) -> bool {
    ctx.policies
        .in_force(ctx.now)
        .is_some_and(|p| p.levels.iter().any(|l| !l.approvals.is_empty()))
}

/// V1: visitors, a headcount equal to them, arrival before departure (also for an
/// amended request, V22).
pub(crate) fn check_request(req: &RequestVisit) -> Result<(), DomainError> {
    check_party(req.headcount.get(), &req.visitors)?;
    check_times(&req.arrival, &req.departure)
}

/// V1 (and V23): at least one visitor, as many as the headcount.
pub(crate) fn check_party(headcount: u32, visitors: &[Visitor]) -> Result<(), DomainError> {
    if visitors.is_empty() {
        return Err(
            DomainError::invalid("visitors", "a request needs at least one visitor")
                .with_rule("V1"),
        );
    }
    if headcount as usize != visitors.len() {
        return Err(DomainError::invalid(
            "headcount",
            format!(
                "headcount {headcount} must equal the {} visitors listed",
                visitors.len()
            ),
        )
        .with_rule("V1"));
    }
    Ok(())
}

/// V1 (and V23): arrival before departure, home after departure.
pub(crate) fn check_times(arrival: &Arrival, departure: &Departure) -> Result<(), DomainError> {
    if arrival.at >= departure.at {
        return Err(
            DomainError::invalid("departure.at", "arrival must be before departure")
                .with_rule("V1"),
        );
    }
    if departure.arrives_home_at.is_some_and(|h| h < departure.at) {
        return Err(DomainError::invalid(
            "departure.arrives_home_at",
            "the visitors arrive home after they depart",
        ));
    }
    Ok(())
}
