//! The visit on site: arrival, tours, leader meetings, souvenirs (V10, V25's item cap),
//! home reception (V29) and the customer's preferences.

use super::{breach, yuan};
use crate::common::{DomainError, Fen};
use crate::context::Context;
use crate::visit_state::*;

/// The visitors arrived (once).
pub(crate) fn record_arrival(
    visit: &Visit,
    c: RecordAt,
    _ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    if visit.arrived_at.is_some() {
        return Err(DomainError::state("the arrival is already recorded"));
    }
    Ok(VisitEvent::VisitorsArrived(AtFact { at: c.at }))
}

/// A factory tour held.
pub(crate) fn hold_tour(
    _visit: &Visit,
    c: HoldTour,
    _ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    Ok(VisitEvent::TourHeld(TourHeld {
        at: c.at,
        place: c.place,
        title: c.title,
    }))
}

/// A meeting with a company leader held.
pub(crate) fn hold_leader_meeting(
    _visit: &Visit,
    c: HoldLeaderMeeting,
    _ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    Ok(VisitEvent::LeaderMeetingHeld(LeaderMeetingHeld {
        at: c.at,
        place: c.place,
        leader: c.leader,
    }))
}

/// V10: souvenirs only for levels that get them.
pub(crate) fn plan_souvenir(
    visit: &Visit,
    c: PlanSouvenir,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    visit.not_departed("plan a souvenir")?;
    let (lp, level, _) = visit.level_policy(ctx, "planning souvenirs")?;
    if !lp.souvenirs {
        return Err(DomainError::rule(
            "V10",
            format!("level {level} gets no souvenirs"),
        ));
    }
    let total_fen = c
        .unit_cost_fen
        .checked_mul(i64::from(c.quantity.get()))
        .ok_or_else(|| {
            DomainError::invalid("unit_cost_fen", "unit cost × quantity is too large")
        })?;
    let item_cap_fen = lp.gift_item_cap_fen;
    let over_cap = item_cap_fen.is_some_and(|cap| c.unit_cost_fen > cap)
        && breach(
            "V25",
            "unit_cost_fen",
            format!(
                "a {level} gift is capped at {} per item; {} is over",
                yuan(item_cap_fen.unwrap_or(Fen::ZERO)),
                yuan(c.unit_cost_fen)
            ),
            &c.override_,
        )?;
    Ok(VisitEvent::SouvenirPlanned(SouvenirPlanned {
        souvenir_id: ctx.entity_id,
        item: c.item,
        unit_cost_fen: c.unit_cost_fen,
        quantity: c.quantity,
        total_fen,
        item_cap_fen,
        over_cap,
        override_: c.override_,
    }))
}

/// V29: home reception by senior staff, only where the level provides it, with a
/// staff count within its bounds.
pub(crate) fn hold_home_reception(
    visit: &Visit,
    c: HoldHomeReception,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let (lp, level, _) = visit.level_policy(ctx, "holding a home reception")?;
    let Some(bounds) = lp.home_reception else {
        return Err(DomainError::rule(
            "V29",
            format!("level {level} provides no home reception"),
        ));
    };
    let n = c.staff.len();
    if n < usize::from(bounds.min_staff) || n > usize::from(bounds.max_staff) {
        return Err(DomainError::rule(
            "V29",
            format!(
                "a {level} home reception takes {} to {} senior staff, not {n}",
                bounds.min_staff, bounds.max_staff
            ),
        )
        .with_field("staff"));
    }
    Ok(VisitEvent::HomeReceptionHeld(HomeReceptionHeld {
        at: c.at,
        staff: c.staff,
    }))
}

/// V10: a planned souvenir handed over, once.
pub(crate) fn hand_souvenir(
    visit: &Visit,
    c: HandSouvenir,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    let s = visit
        .souvenirs
        .iter()
        .find(|s| s.planned.souvenir_id == c.souvenir_id)
        .ok_or_else(|| {
            DomainError::not_found(
                "souvenir_id",
                format!("no souvenir {} in this visit", c.souvenir_id),
            )
        })?;
    if s.handed_at.is_some() {
        return Err(DomainError::state("this souvenir was already handed over"));
    }
    Ok(VisitEvent::SouvenirHanded(SouvenirHanded {
        souvenir_id: c.souvenir_id,
        handed_at: now,
    }))
}

/// A customer preference for the archive, under the customer's company.
pub(crate) fn note_preference(
    visit: &Visit,
    c: NotePreference,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let req = visit.request().expect("an existing visit has its request");
    let now = ctx.now;
    Ok(VisitEvent::CustomerPreferenceNoted(
        CustomerPreferenceNoted {
            subject: c.subject,
            kind: c.kind,
            text: c.text,
            company: req.customer.company.clone(),
            noted_at: now,
        },
    ))
}
