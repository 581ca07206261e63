//! Lodging within the level's policy (V8).

use super::{breach, yuan};
use crate::common::{DomainError, Fen};
use crate::context::Context;
use crate::policy_book::PaidBy;
use crate::visit_state::*;

/// V8: stars and room rate within the level's lodging policy, or overridden.
pub(crate) fn book_lodging(
    visit: &Visit,
    c: BookLodging,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    visit.not_departed("book lodging")?;
    let (lp, level, version) = visit.level_policy(ctx, "booking lodging")?;
    if !(1..=5).contains(&c.stars) {
        return Err(DomainError::invalid(
            "stars",
            format!("stars run from 1 to 5, got {}", c.stars),
        ));
    }
    let total_fen = c
        .rate_fen
        .checked_mul(i64::from(c.rooms.get()))
        .and_then(|f| f.checked_mul(i64::from(c.nights.get())))
        .ok_or_else(|| DomainError::invalid("rate_fen", "rate × rooms × nights is too large"))?;
    let mut over_cap = false;
    let cap_fen = match c.paid_by {
        PaidBy::Visitor => None,
        PaidBy::Company => {
            let pol = &lp.lodging;
            if pol.paid_by == PaidBy::Visitor {
                over_cap |= breach(
                    "V8",
                    "paid_by",
                    format!("at level {level} the visitor pays lodging; a company-paid booking breaks the policy"),
                    &c.override_,
                )?;
            } else {
                if pol.min_stars.is_some_and(|m| c.stars < m)
                    || pol.max_stars.is_some_and(|m| c.stars > m)
                {
                    over_cap |= breach(
                        "V8",
                        "stars",
                        format!(
                            "level {level} lodging must be {}–{} stars, got {}",
                            pol.min_stars.unwrap_or(1),
                            pol.max_stars.unwrap_or(5),
                            c.stars
                        ),
                        &c.override_,
                    )?;
                }
                let lo = pol.min_rate_fen.unwrap_or(Fen::ZERO);
                let too_high = pol.max_rate_fen.is_some_and(|m| c.rate_fen > m);
                if c.rate_fen < lo || too_high {
                    over_cap |= breach(
                        "V8",
                        "rate_fen",
                        format!(
                            "level {level} room rate must be {}–{} per room-night, got {}",
                            yuan(lo),
                            pol.max_rate_fen.map_or("unbounded".into(), yuan),
                            yuan(c.rate_fen)
                        ),
                        &c.override_,
                    )?;
                }
            }
            lp.lodging_cap(c.rooms.get(), c.nights.get())
        }
    };
    Ok(VisitEvent::LodgingBooked(LodgingBooked {
        booking_id: ctx.entity_id,
        hotel: c.hotel,
        stars: c.stars,
        rooms: c.rooms,
        nights: c.nights,
        rate_fen: c.rate_fen,
        paid_by: c.paid_by,
        override_: c.override_,
        total_fen,
        cap_fen,
        over_cap,
        level,
        policy_version: version,
    }))
}
