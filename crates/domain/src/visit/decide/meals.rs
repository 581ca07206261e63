//! Meals and entertainment within the level's caps (V9), per party or per person and
//! for visitors only (V25).

use super::{breach, meal_cap, yuan};
use crate::common::{DomainError, Fen};
use crate::context::Context;
use crate::policy_book::CapKind;
use crate::visit_state::*;

/// V9: a meal within the level's cap for the party, or overridden.
pub(crate) fn book_meal(
    visit: &Visit,
    c: BookMeal,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    visit.not_departed("book a meal")?;
    let (lp, level, version) = visit.level_policy(ctx, "booking a meal")?;
    within_headcount(visit, c.party_size.get())?;
    let kind = meal_cap(c.meal);
    let cap = if lp.meal_capped(kind) {
        Some(lp.cap_for(kind, c.party_size.get()).ok_or_else(|| {
            DomainError::invalid("party_size", "party too large to compute a cap")
        })?)
    } else {
        None
    };
    let over_cap = cap.is_some_and(|cap| c.budget_fen > cap)
        && breach(
            "V9",
            "budget_fen",
            format!(
                "a {level} {:?} for {} visitors is capped at {}; budget {} is over",
                c.meal,
                c.party_size.get(),
                yuan(cap.unwrap_or(Fen::ZERO)),
                yuan(c.budget_fen)
            )
            .to_lowercase(),
            &c.override_,
        )?;
    Ok(VisitEvent::MealBooked(MealBooked {
        booking_id: ctx.entity_id,
        meal: c.meal,
        at: c.at,
        venue: c.venue,
        party_size: c.party_size,
        budget_fen: c.budget_fen,
        override_: c.override_,
        cap_fen: cap,
        over_cap,
        level,
        policy_version: version,
    }))
}

/// V25: a meal's party counts visitors only, at most the headcount.
fn within_headcount(visit: &Visit, party_size: u32) -> Result<(), DomainError> {
    let headcount = visit.request().map_or(0, |r| r.headcount.get());
    if party_size > headcount {
        return Err(DomainError::rule(
            "V25",
            format!("a party of {party_size} visitors exceeds the visit's headcount {headcount}"),
        )
        .with_field("party_size"));
    }
    Ok(())
}

/// V9: entertainment the level provides, within its cap, or overridden.
pub(crate) fn arrange_entertainment(
    visit: &Visit,
    c: ArrangeEntertainment,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    visit.not_departed("arrange entertainment")?;
    let (lp, level, version) = visit.level_policy(ctx, "arranging entertainment")?;
    let (cap, over_cap) = match lp.cap_for(CapKind::Entertainment, c.party_size.get()) {
        None => (
            Fen::ZERO,
            breach(
                "V9",
                "kind",
                format!("level {level} provides no entertainment or sightseeing"),
                &c.override_,
            )?,
        ),
        Some(cap) => (
            cap,
            c.budget_fen > cap
                && breach(
                    "V9",
                    "budget_fen",
                    format!(
                        "{level} entertainment for {} visitors is capped at {}; budget {} is over",
                        c.party_size.get(),
                        yuan(cap),
                        yuan(c.budget_fen)
                    ),
                    &c.override_,
                )?,
        ),
    };
    Ok(VisitEvent::EntertainmentArranged(EntertainmentArranged {
        booking_id: ctx.entity_id,
        at: c.at,
        kind: c.kind,
        party_size: c.party_size,
        budget_fen: c.budget_fen,
        override_: c.override_,
        cap_fen: Some(cap),
        over_cap,
        level,
        policy_version: version,
    }))
}
