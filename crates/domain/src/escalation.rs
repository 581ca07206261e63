//! The complaint processes as pure functions: from complaint states and `now`, the
//! commands the system must issue — the C4 auto-escalation ([`due_escalations`]) and
//! the C10 record of every C2, C3 or C5 deadline that passed unmet ([`due_misses`]).
//!
//! The app runs both on a timer, and for each order loads the complaint, calls `decide`
//! with the order's actor (the system) and appends, under the order's idempotency key.
//! The C4 process issues each complaint at most once: a complaint already escalated (or
//! raised major), resolved or closed yields nothing, so once the escalation event is
//! applied a second run over the same complaints issues nothing new; and `decide`
//! refuses a second escalation anyway (`invalid_state`). The C10 process issues each
//! deadline (a complaint's deadline item at its due time) at most once in the same way:
//! a recorded miss is in the state, and `decide` refuses to record it twice.
//!
//! ```
//! use reception_domain::complaint::*;
//! use reception_domain::escalation::due_escalations;
//! use reception_domain::{Aggregate, DomainEvent};
//!
//! let raised: chrono::DateTime<chrono::FixedOffset> = "2026-11-01T09:00:00+08:00".parse().unwrap();
//! let id = uuid::Uuid::from_u128(7);
//! let complaint = Complaint::default().evolve(&ComplaintEvent::ComplaintRaised(ComplaintRaised {
//!     complaint_id: id, visit_id: None, customer: "Huaxin".into(), severity: Severity::Minor,
//!     category: "meals".into(), description: "cold soup".into(), department: None, at: raised,
//! }));
//! let nine_days = raised + chrono::Duration::days(9);
//! assert!(due_escalations([(id, &complaint)], nine_days).is_empty());
//! let ten_days = raised + chrono::Duration::days(10);
//! assert_eq!(due_escalations([(id, &complaint)], ten_days).len(), 1);
//! ```

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use crate::common::{Actor, NonEmptyText};
use crate::complaint::{
    complaint_deadlines, Complaint, ComplaintCommand, ComplaintDeadline, ComplaintStatus,
    EscalateComplaint, RecordMissedDeadline, Severity, ESCALATE_AFTER_DAYS,
};

/// One escalation to issue: the command, on stream `complaint-<complaint_id>`, as the
/// system actor.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationOrder {
    pub complaint_id: Uuid,
    pub command: ComplaintCommand,
    pub actor: Actor,
}

/// C4: true when `c` is open, still minor, and `now` is at least 10 days after it
/// was raised.
pub fn needs_escalation(c: &Complaint, now: DateTime<FixedOffset>) -> bool {
    c.status() == ComplaintStatus::Open
        && c.severity == Severity::Minor
        && c.escalated_at.is_none()
        && c.escalation_due_at().is_some_and(|due| now >= due)
}

/// C4: the escalations due at `now`, one per complaint id at most (a repeated id is
/// issued once), in the order given. `complaints` pairs each state with its stream's id.
pub fn due_escalations<'a, I>(complaints: I, now: DateTime<FixedOffset>) -> Vec<EscalationOrder>
where
    I: IntoIterator<Item = (Uuid, &'a Complaint)>,
{
    let mut issued = BTreeSet::new();
    let mut out = Vec::new();
    for (id, c) in complaints {
        if !needs_escalation(c, now) || !issued.insert(id) {
            continue;
        }
        let reason = NonEmptyText::new(format!(
            "C4: unresolved {ESCALATE_AFTER_DAYS} days after it was raised"
        ))
        .expect("the reason is not empty");
        out.push(EscalationOrder {
            complaint_id: id,
            command: ComplaintCommand::Escalate(EscalateComplaint { reason }),
            actor: Actor::system(),
        });
    }
    out
}

/// One miss to record (C10): the command, on stream `complaint-<complaint_id>`, as the
/// system actor.
#[derive(Debug, Clone, PartialEq)]
pub struct MissOrder {
    pub complaint_id: Uuid,
    pub deadline: ComplaintDeadline,
    pub due_at: DateTime<FixedOffset>,
    pub command: ComplaintCommand,
    pub actor: Actor,
}

impl MissOrder {
    /// The idempotency key of the append: one per complaint, deadline and due time, so
    /// the miss is stored once across passes, restarts and concurrent runners.
    pub fn idempotency_key(&self) -> String {
        format!(
            "missed-{}-{}-{}",
            self.complaint_id,
            self.deadline.as_str(),
            self.due_at.timestamp()
        )
    }
}

/// C10: the deadlines of `c` whose miss is to be recorded at `now`: the C2, C3 and C5
/// deadlines that have passed unmet, or were met only after they passed (the process
/// was not running at the time: late is still a miss), and are not recorded yet. A
/// closed complaint accepts nothing more, so it has none.
pub fn unrecorded_misses(
    c: &Complaint,
    now: DateTime<FixedOffset>,
) -> Vec<(ComplaintDeadline, DateTime<FixedOffset>)> {
    if !matches!(
        c.status(),
        ComplaintStatus::Open | ComplaintStatus::Resolved
    ) {
        return Vec::new();
    }
    complaint_deadlines(c, now)
        .into_iter()
        .filter(|d| d.overdue)
        .filter_map(|d| ComplaintDeadline::of_item(&d.item).map(|k| (k, d.due_at)))
        .filter(|(k, due_at)| {
            !c.missed_deadlines
                .iter()
                .any(|m| m.deadline == *k && m.due_at == *due_at)
        })
        .collect()
}

/// C10: the misses to record at `now`, in the order given and, per complaint, in the
/// order the deadlines fell due; a repeated complaint id is looked at once.
pub fn due_misses<'a, I>(complaints: I, now: DateTime<FixedOffset>) -> Vec<MissOrder>
where
    I: IntoIterator<Item = (Uuid, &'a Complaint)>,
{
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (id, c) in complaints {
        if !seen.insert(id) {
            continue;
        }
        for (deadline, due_at) in unrecorded_misses(c, now) {
            out.push(MissOrder {
                complaint_id: id,
                deadline,
                due_at,
                command: ComplaintCommand::RecordMissedDeadline(RecordMissedDeadline {
                    deadline,
                    due_at,
                }),
                actor: Actor::system(),
            });
        }
    }
    out
}
