//! Deadlines: from an aggregate's state and `now`, every due item and whether it is
//! overdue. The board and the escalation process use them.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// One deadline of a visit or complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    /// Stable id of the item, e.g. "plan_due", "readiness", "car_ready", "return_call",
    /// "summary", "complaint_report", "complaint_solution", "complaint_feedback",
    /// "complaint_analysis", "complaint_escalation", "complaint_return_visit".
    pub item: String,
    /// The rule it comes from ("V4", "C2", ...).
    pub rule: String,
    pub due_at: DateTime<FixedOffset>,
    /// When it was met, if it was.
    pub met_at: Option<DateTime<FixedOffset>>,
    /// Not met and `now` is past `due_at`, or met after `due_at`.
    pub overdue: bool,
}
