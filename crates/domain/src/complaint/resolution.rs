//! Ending a complaint: resolution (C2, C3), the return visit with the customer's
//! satisfaction (C5, C11) and closing with the retention date (C6).

use chrono::Months;

use crate::common::{DomainError, NonEmptyText};
use crate::complaint::*;
use crate::context::Context;

/// C2, C3: resolved once a major one is reported and has a solution, a minor one has feedback.
pub(crate) fn resolve(
    complaint: &Complaint,
    b: ResolveComplaint,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let now = ctx.now;
    complaint.require_open("be resolved")?;
    match complaint.severity {
        Severity::Major => {
            if complaint.reported_at.is_none() {
                return Err(DomainError::rule(
                    "C2",
                    "a major complaint must be reported to the head of department before it is resolved",
                ));
            }
            if complaint.solution_agreed_at.is_none() {
                return Err(DomainError::rule(
                    "C2",
                    "a major complaint needs a solution agreed with the customer before it is resolved",
                ));
            }
        }
        Severity::Minor => {
            if complaint.feedback_at.is_none() {
                return Err(DomainError::rule(
                    "C3",
                    "a minor complaint needs feedback to the customer before it is resolved",
                ));
            }
        }
    }
    Ok(ComplaintEvent::ComplaintResolved(ComplaintResolved {
        resolution: b.resolution.into_string(),
        at: now,
    }))
}

/// C5: the return visit after resolution, in person for a major complaint.
pub(crate) fn return_visit(
    complaint: &Complaint,
    b: RecordReturnVisit,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let now = ctx.now;
    if complaint.resolved_at.is_none() {
        return Err(DomainError::rule(
            "C5",
            "the return visit follows the resolution: resolve the complaint first",
        ));
    }
    if complaint.return_visit_at.is_some() {
        return Err(DomainError::state(
            "the return visit has already been recorded",
        ));
    }
    if complaint.severity == Severity::Major && b.mode != ReturnVisitMode::InPerson {
        return Err(
            DomainError::rule("C5", "a major complaint's return visit is made in person")
                .with_field("mode"),
        );
    }
    Ok(ComplaintEvent::ComplaintReturnVisitDone(
        ComplaintReturnVisitDone {
            mode: b.mode,
            notes: b.notes.map(NonEmptyText::into_string),
            satisfaction: b.satisfaction.map(SatisfactionScore::get),
            suggestions: b.suggestions.map(NonEmptyText::into_string),
            at: now,
        },
    ))
}

/// C5, C6: closed after the return visit and once every work letter is answered (C9);
/// the record is kept until `retain_until`.
pub(crate) fn close(
    complaint: &Complaint,
    _b: CloseComplaint,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let now = ctx.now;
    if complaint.resolved_at.is_none() {
        return Err(DomainError::state(
            "the complaint is not resolved yet: resolve it before closing",
        ));
    }
    if complaint.return_visit_at.is_none() {
        return Err(DomainError::rule(
            "C5",
            "the return visit must be made before the complaint is closed",
        ));
    }
    if let Some(open) = complaint.letters.iter().find(|l| l.answered_at.is_none()) {
        return Err(DomainError::rule(
            "C9",
            format!(
                "work letter {} to {} is not answered yet: record its answer before closing",
                open.letter_id, open.department
            ),
        ));
    }
    let retain_until = now
        .checked_add_months(Months::new(RETAIN_MONTHS))
        .ok_or_else(|| DomainError::invalid("now", "the retention date is out of range"))?;
    Ok(ComplaintEvent::ComplaintClosed(ComplaintClosed {
        retain_until,
        at: now,
    }))
}
