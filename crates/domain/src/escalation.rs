//! The C4 auto-escalation process as a pure function: from complaint states and `now`,
//! the escalation commands the system must issue.
//!
//! The app runs [`due_escalations`] on a timer, and for each [`EscalationOrder`] loads
//! the complaint, calls `decide` with [`EscalationOrder::actor`] and appends. The
//! process issues each complaint at most once: a complaint already escalated (or
//! raised major), resolved or closed yields nothing, so once the escalation event is
//! applied a second run over the same complaints issues nothing new; and `decide`
//! refuses a second escalation anyway (`invalid_state`).
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
    Complaint, ComplaintCommand, ComplaintStatus, EscalateComplaint, Severity, ESCALATE_AFTER_DAYS,
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
