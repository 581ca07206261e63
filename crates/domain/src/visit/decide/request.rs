//! The request that opens a visit (V1, V2).

use chrono::Duration;

use crate::common::DomainError;
use crate::context::Context;
use crate::deadlines::{LEAD_TIME_FOREIGN_DAYS, LEAD_TIME_HOURS};
use crate::visit_state::{ReceptionRequested, RequestVisit, VisitEvent};

/// V1, V2: a well-formed request; `late` when filed inside the lead time and not
/// expedited.
pub(crate) fn request(req: RequestVisit, ctx: &Context) -> Result<Vec<VisitEvent>, DomainError> {
    if req.visitors.is_empty() {
        return Err(
            DomainError::invalid("visitors", "a request needs at least one visitor")
                .with_rule("V1"),
        );
    }
    if req.headcount.get() as usize != req.visitors.len() {
        return Err(DomainError::invalid(
            "headcount",
            format!(
                "headcount {} must equal the {} visitors listed",
                req.headcount.get(),
                req.visitors.len()
            ),
        )
        .with_rule("V1"));
    }
    if req.arrival.at >= req.departure.at {
        return Err(
            DomainError::invalid("departure.at", "arrival must be before departure")
                .with_rule("V1"),
        );
    }
    if req
        .departure
        .arrives_home_at
        .is_some_and(|h| h < req.departure.at)
    {
        return Err(DomainError::invalid(
            "departure.arrives_home_at",
            "the visitors arrive home after they depart",
        ));
    }
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
        request: req,
    })])
}
