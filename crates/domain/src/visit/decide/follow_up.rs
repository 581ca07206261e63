//! After the talks (V28): the minutes for the general manager and the follow-up
//! actions (督办) on confirmed cooperation matters, which outlive the visit's closing.

use crate::common::DomainError;
use crate::context::Context;
use crate::visit_state::*;

/// V28: a follow-up action with an owner and a due date on a confirmed matter.
pub(crate) fn add_follow_up(
    visit: &Visit,
    c: AddFollowUp,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let matter = visit.matter(c.matter_id)?;
    if matter.confirmation.is_none() {
        return Err(DomainError::rule(
            "V28",
            "follow-up actions belong to a matter confirmed by both sides",
        )
        .with_field("matter_id"));
    }
    if c.due <= ctx.now {
        return Err(
            DomainError::invalid("due", "a follow-up is due in the future").with_rule("V28"),
        );
    }
    Ok(VisitEvent::FollowUpAdded(FollowUpAdded {
        follow_up_id: ctx.entity_id,
        matter_id: c.matter_id,
        owner: c.owner,
        due: c.due,
        text: c.text,
        added_at: ctx.now,
    }))
}

/// V28: a follow-up done, once (also after the visit closed).
pub(crate) fn complete_follow_up(
    visit: &Visit,
    c: CompleteFollowUp,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let f = visit
        .follow_ups
        .iter()
        .find(|f| f.added.follow_up_id == c.follow_up_id)
        .ok_or_else(|| {
            DomainError::not_found(
                "follow_up_id",
                format!("no follow-up {} in this visit", c.follow_up_id),
            )
        })?;
    if f.completed.is_some() {
        return Err(DomainError::state("this follow-up is already done"));
    }
    Ok(VisitEvent::FollowUpCompleted(FollowUpCompleted {
        follow_up_id: c.follow_up_id,
        notes: c.notes,
        late: ctx.now > f.added.due,
        completed_at: ctx.now,
    }))
}

/// V28: the talks' minutes with who attended, after the talks, once.
pub(crate) fn submit_minutes(
    visit: &Visit,
    c: SubmitMinutes,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    if visit.talks.is_empty() {
        return Err(DomainError::rule(
            "V28",
            "minutes record leadership talks; none were held",
        ));
    }
    if visit.minutes.is_some() {
        return Err(DomainError::state("the minutes are already submitted"));
    }
    if c.attendees.is_empty() {
        return Err(
            DomainError::invalid("attendees", "the minutes name who attended").with_rule("V28"),
        );
    }
    Ok(VisitEvent::MinutesSubmitted(MinutesSubmitted {
        ref_: c.ref_,
        attendees: c.attendees,
        submitted_at: ctx.now,
    }))
}
