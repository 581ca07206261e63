//! Following a complaint up: the judgement (C8), work letters to other departments
//! (C9), the misses the system records (C10) and the case library (C11).

use crate::common::DomainError;
use crate::complaint::*;
use crate::context::Context;

/// C8: the analysing department judges the complaint valid or unreasonable, once.
pub(crate) fn judge(
    complaint: &Complaint,
    b: JudgeComplaint,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    if complaint.department.is_none() {
        return Err(DomainError::rule(
            "C8",
            "the analysing department judges a complaint: assign it to a department first",
        ));
    }
    if let Some(valid) = complaint.valid {
        let was = if valid { "valid" } else { "unreasonable" };
        return Err(DomainError::state(format!(
            "the complaint was already judged {was}; a judgement is given once"
        )));
    }
    Ok(ComplaintEvent::ComplaintJudged(ComplaintJudged {
        valid: b.valid,
        explanation: b.explanation.into_string(),
        at: ctx.now,
    }))
}

/// C9: a work letter to another department, due after now; its id is the command's
/// entity id.
pub(crate) fn work_letter(
    _complaint: &Complaint,
    b: SendWorkLetter,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    if b.due <= ctx.now {
        return Err(DomainError::rule(
            "C9",
            format!(
                "a work letter's deadline must be in the future (due {}, now {})",
                b.due, ctx.now
            ),
        )
        .with_field("due"));
    }
    Ok(ComplaintEvent::ComplaintWorkLetterSent(
        ComplaintWorkLetterSent {
            letter_id: ctx.entity_id,
            department: b.department.into_string(),
            text: b.text.into_string(),
            due: b.due,
            at: ctx.now,
        },
    ))
}

/// C9: the department's answer to one of the complaint's letters, once; late when
/// after the letter's due time.
pub(crate) fn answer_letter(
    complaint: &Complaint,
    b: AnswerWorkLetter,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let letter = complaint
        .letters
        .iter()
        .find(|l| l.letter_id == b.letter_id)
        .ok_or_else(|| {
            DomainError::not_found(
                "letter_id",
                format!("no work letter {} in this complaint", b.letter_id),
            )
        })?;
    if letter.answered_at.is_some() {
        return Err(DomainError::state(format!(
            "work letter {} was already answered",
            b.letter_id
        )));
    }
    Ok(ComplaintEvent::ComplaintWorkLetterAnswered(
        ComplaintWorkLetterAnswered {
            letter_id: b.letter_id,
            text: b.text.into_string(),
            late: ctx.now > letter.due,
            at: ctx.now,
        },
    ))
}

/// C10: the system records a C2, C3 or C5 deadline that has passed unmet (or was met
/// only after it passed), once per deadline and due time.
pub(crate) fn record_miss(
    complaint: &Complaint,
    b: RecordMissedDeadline,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    let now = ctx.now;
    let item = b.deadline.as_str();
    let due = complaint_deadlines(complaint, now)
        .into_iter()
        .find(|d| d.item == item)
        .ok_or_else(|| {
            DomainError::state(format!("the complaint has no {item} deadline"))
                .with_field("deadline")
        })?;
    if due.due_at != b.due_at {
        return Err(DomainError::state(format!(
            "the {item} deadline is due at {}, not {}: it has moved",
            due.due_at, b.due_at
        ))
        .with_field("due_at"));
    }
    if !due.overdue {
        let why = if due.met_at.is_some() {
            "was met on time"
        } else {
            "has not passed yet"
        };
        return Err(DomainError::rule(
            "C10",
            format!("the {item} deadline (due {}) {why}", due.due_at),
        ));
    }
    if complaint
        .missed_deadlines
        .iter()
        .any(|m| m.deadline == b.deadline && m.due_at == due.due_at)
    {
        return Err(DomainError::state(format!(
            "the miss of the {item} deadline due {} is already recorded",
            due.due_at
        )));
    }
    // seed 003 §5C: a major complaint not solved within 12 hours goes to the head
    let to_head = b.deadline == ComplaintDeadline::ComplaintSolution;
    Ok(ComplaintEvent::ComplaintDeadlineMissed(
        ComplaintDeadlineMissed {
            deadline: b.deadline,
            rule: due.rule,
            due_at: due.due_at,
            reported_to_head: to_head,
            head: complaint.reported_to.clone().filter(|_| to_head),
            at: now,
        },
    ))
}

/// C11: a closed complaint enters the case library, once.
pub(crate) fn add_to_case_library(
    complaint: &Complaint,
    b: AddToCaseLibrary,
    ctx: &Context,
) -> Result<ComplaintEvent, DomainError> {
    if complaint.status() != ComplaintStatus::Closed {
        return Err(DomainError::rule(
            "C11",
            "only a closed complaint enters the case library: close it first",
        ));
    }
    if complaint.case.is_some() {
        return Err(DomainError::state(
            "the complaint is already in the case library",
        ));
    }
    Ok(ComplaintEvent::ComplaintAddedToCaseLibrary(
        ComplaintAddedToCaseLibrary {
            title: b.title.into_string(),
            lesson: b.lesson.into_string(),
            at: ctx.now,
        },
    ))
}
