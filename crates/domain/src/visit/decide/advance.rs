//! The cash advance: issued before the visit, settled after it (V18).

use super::yuan;
use crate::common::{DomainError, Fen};
use crate::context::Context;
use crate::visit_state::*;

/// V18: one cash advance, before arrival.
pub(crate) fn issue_advance(
    visit: &Visit,
    c: IssueAdvance,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    if c.amount_fen == Fen::ZERO {
        return Err(DomainError::invalid(
            "amount_fen",
            "an advance must be more than 0",
        ));
    }
    if visit.advance.is_some() {
        return Err(DomainError::state("a cash advance was already issued"));
    }
    if visit.arrived_at.is_some() {
        return Err(DomainError::rule(
            "V18",
            "the cash advance is issued before the visit",
        ));
    }
    Ok(VisitEvent::AdvanceIssued(AdvanceIssued {
        amount_fen: c.amount_fen,
        issued_at: now,
    }))
}

/// V18: receipts plus cash returned equal the advance, after departure.
pub(crate) fn settle_advance(
    visit: &Visit,
    c: SettleAdvance,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    let Some(adv) = &visit.advance else {
        return Err(DomainError::rule("V18", "no cash advance was issued"));
    };
    if adv.settlement.is_some() {
        return Err(DomainError::state("the cash advance is already settled"));
    }
    if visit.departed_at.is_none() {
        return Err(DomainError::rule(
            "V18",
            "the advance is settled after departure",
        ));
    }
    let sum = c
        .receipts_fen
        .checked_add(c.cash_returned_fen)
        .ok_or_else(|| DomainError::invalid("receipts_fen", "too large"))?;
    if sum != adv.amount_fen {
        return Err(DomainError::rule(
            "V18",
            format!(
                "receipts {} + cash returned {} = {} must equal the advance {}",
                yuan(c.receipts_fen),
                yuan(c.cash_returned_fen),
                yuan(sum),
                yuan(adv.amount_fen)
            ),
        )
        .with_field("receipts_fen"));
    }
    Ok(VisitEvent::AdvanceSettled(AdvanceSettled {
        advance_fen: adv.amount_fen,
        receipts_fen: c.receipts_fen,
        cash_returned_fen: c.cash_returned_fen,
        returned_items: c.returned_items,
        settled_at: now,
    }))
}
