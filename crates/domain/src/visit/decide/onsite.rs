//! The visit on site: arrival, tours, leader meetings, souvenirs (V10) and the
//! customer's preferences.

use crate::common::DomainError;
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
    Ok(VisitEvent::SouvenirPlanned(SouvenirPlanned {
        souvenir_id: ctx.entity_id,
        item: c.item,
        unit_cost_fen: c.unit_cost_fen,
        quantity: c.quantity,
        total_fen,
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
