//! Handling a complaint: assignment, the report to the head of department (C2),
//! analysis and feedback (C3), the agreed solution (C2) and escalation (C4).

use crate::common::{DomainError, NonEmptyText, Role};
use crate::complaint::*;
use crate::context::Context;

/// C1: a new complaint, minor or major, under the customer's company.
pub(crate) fn raise(b: RaiseComplaint, ctx: &Context) -> ComplaintEvent {
    ComplaintEvent::ComplaintRaised(ComplaintRaised {
        complaint_id: ctx.entity_id,
        visit_id: b.visit_id,
        customer: b.customer.company().to_string(),
        severity: b.severity,
        category: b.category.into_string(),
        description: b.description.into_string(),
        department: b.department.map(NonEmptyText::into_string),
        at: ctx.now,
    })
}

/// The complaint is assigned to a department and a person.
pub(crate) fn assign(
    complaint: &Complaint,
    b: AssignComplaint,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let now = ctx.now;
    complaint.require_open("be assigned")?;
    Ok(ComplaintEvent::ComplaintAssigned(ComplaintAssigned {
        department: b.department.into_string(),
        assignee: b.assignee.into_string(),
        at: now,
    }))
}

/// C2: a major complaint reported to the head of department.
pub(crate) fn report(
    complaint: &Complaint,
    b: ReportComplaint,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let now = ctx.now;
    complaint.require_open("be reported")?;
    Ok(ComplaintEvent::ComplaintReported(ComplaintReported {
        to: b.to.into_string(),
        at: now,
    }))
}

/// C3: the responsible department analyses the complaint once it is assigned.
pub(crate) fn analyse(
    complaint: &Complaint,
    b: AnalyseComplaint,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let now = ctx.now;
    complaint.require_open("be analysed")?;
    if complaint.assigned_at.is_none() {
        return Err(DomainError::rule(
            "C3",
            "the responsible department analyses a complaint once it is assigned: assign it first",
        ));
    }
    Ok(ComplaintEvent::ComplaintAnalysed(ComplaintAnalysed {
        analysis: b.analysis.into_string(),
        at: now,
    }))
}

/// C3: feedback given to the customer.
pub(crate) fn feedback(
    complaint: &Complaint,
    b: GiveFeedback,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let now = ctx.now;
    complaint.require_open("get feedback")?;
    Ok(ComplaintEvent::ComplaintFeedbackGiven(
        ComplaintFeedbackGiven {
            text: b.text.into_string(),
            at: now,
        },
    ))
}

/// C2: a solution agreed with the customer.
pub(crate) fn agree_solution(
    complaint: &Complaint,
    b: AgreeSolution,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let now = ctx.now;
    complaint.require_open("get a solution")?;
    Ok(ComplaintEvent::ComplaintSolutionAgreed(
        ComplaintSolutionAgreed {
            solution: b.solution.into_string(),
            at: now,
        },
    ))
}

/// C4: a minor complaint made major; by the system only once it is due.
pub(crate) fn escalate(
    complaint: &Complaint,
    b: EscalateComplaint,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let role = ctx.actor.role;
    let now = ctx.now;
    complaint.require_open("be escalated")?;
    if complaint.severity == Severity::Major {
        return Err(DomainError::state(
            "the complaint is already major; there is nothing to escalate",
        ));
    }
    let automatic = role == Role::System;
    if automatic {
        let due = complaint
            .escalation_due_at()
            .expect("raised complaints have raised_at");
        if now < due {
            return Err(DomainError::rule(
                "C4",
                format!(
                    "the system escalates a complaint only when it is unresolved {ESCALATE_AFTER_DAYS} days after it was raised (due {due})"
                ),
            ));
        }
    }
    Ok(ComplaintEvent::ComplaintEscalated(ComplaintEscalated {
        reason: b.reason.into_string(),
        automatic,
        from: complaint.severity,
        to: Severity::Major,
        at: now,
    }))
}
