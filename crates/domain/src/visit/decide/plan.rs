//! Preparing the visit: the execution plan and its review (V4), the reception unit's
//! contact, readiness (V5).

use crate::common::DomainError;
use crate::context::Context;
use crate::visit_state::*;

/// V4: a (re)draft of the execution plan before arrival.
pub(crate) fn draft_plan(
    visit: &Visit,
    c: DraftPlan,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    if c.items.is_empty() {
        return Err(DomainError::invalid(
            "items",
            "a plan needs at least one item",
        ));
    }
    if visit.arrived_at.is_some() {
        return Err(DomainError::rule(
            "V4",
            "the plan must be approved before arrival; the visitors have arrived",
        ));
    }
    if visit.plan.status == PlanStatus::Approved {
        return Err(DomainError::state("the plan is already approved"));
    }
    Ok(VisitEvent::PlanDrafted(PlanDrafted {
        items: c.items,
        draft_no: visit.plan.draft_no + 1,
        drafted_at: now,
    }))
}

/// V4: the approver approves the drafted plan or returns it with comments.
pub(crate) fn review_plan(
    visit: &Visit,
    c: ReviewPlan,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    match visit.plan.status {
        PlanStatus::None => return Err(DomainError::rule("V4", "no plan has been drafted yet")),
        PlanStatus::Returned => {
            return Err(DomainError::rule(
                "V4",
                "a returned plan must be redrafted before it is reviewed again",
            ))
        }
        PlanStatus::Approved => return Err(DomainError::state("the plan is already approved")),
        PlanStatus::Drafted => {}
    }
    if visit.arrived_at.is_some() {
        return Err(DomainError::rule(
            "V4",
            "the plan must be approved before arrival; the visitors have arrived",
        ));
    }
    if !c.approved && c.comments.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(DomainError::invalid(
            "comments",
            "a returned plan needs comments saying what to change",
        ));
    }
    Ok(VisitEvent::PlanReviewed(PlanReviewed {
        approved: c.approved,
        comments: c.comments,
        draft_no: visit.plan.draft_no,
        reviewed_at: now,
    }))
}

/// The reception unit confirmed the headcount (any time before departure).
pub(crate) fn contact_unit(
    visit: &Visit,
    c: ContactUnit,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    visit.not_departed("contact the reception unit")?;
    Ok(VisitEvent::ReceptionUnitContacted(ReceptionUnitContacted {
        confirmed_headcount: c.confirmed_headcount,
        notes: c.notes,
        contacted_at: now,
    }))
}

/// V5: readiness before arrival; `late` once past the start of the arrival day.
pub(crate) fn confirm_readiness(
    visit: &Visit,
    c: ConfirmReadiness,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    if visit.arrived_at.is_some() {
        return Err(DomainError::rule(
            "V5",
            "readiness is confirmed before arrival; the visitors have arrived",
        ));
    }
    if visit.readiness_confirmed_at.is_some() {
        return Err(DomainError::state("readiness is already confirmed"));
    }
    let late = visit.readiness_due().is_some_and(|due| now > due);
    Ok(VisitEvent::ReadinessConfirmed(ReadinessConfirmed {
        notes: c.notes,
        confirmed_at: now,
        late,
    }))
}
