//! Ending a visit: cancelled before departure (V19) or closed when everything is done
//! (V16).

use crate::common::DomainError;
use crate::context::Context;
use crate::visit_state::*;

/// V19: cancelled only before departure.
pub(crate) fn cancel(visit: &Visit, c: Cancel, ctx: &Context) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    if visit.departed_at.is_some() {
        return Err(DomainError::rule(
            "V19",
            "a visit can be cancelled only before departure",
        ));
    }
    Ok(VisitEvent::VisitCancelled(VisitCancelled {
        reason: c.reason,
        cancelled_at: now,
    }))
}

/// V16: closed once departure, return call, summary, expense decisions and advance settlement are done.
pub(crate) fn close(visit: &Visit, _c: Close, ctx: &Context) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    let mut missing = Vec::new();
    if visit.departed_at.is_none() {
        missing.push("departure recorded");
    }
    if visit.return_call.done.is_none() {
        missing.push("return call done");
    }
    if visit.summary.is_none() {
        missing.push("summary filed");
    }
    if visit.expenses.iter().any(Expense::pending_decision) {
        missing.push("every over-cap expense decided");
    }
    if visit
        .advance
        .as_ref()
        .is_some_and(|a| a.settlement.is_none())
    {
        missing.push("cash advance settled");
    }
    if !missing.is_empty() {
        return Err(DomainError::rule(
            "V16",
            format!(
                "the visit cannot close yet; missing: {}",
                missing.join(", ")
            ),
        ));
    }
    Ok(VisitEvent::VisitClosed(VisitClosed { closed_at: now }))
}
