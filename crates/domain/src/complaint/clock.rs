//! A complaint's deadlines (C2–C5, and its work letters' of C9) from the instants they
//! depend on: the one home of these rules, called by the aggregate, the C10 process
//! and the read side alike.

use chrono::Duration;

use crate::complaint::*;

/// C9: the facts of one work letter its deadline depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LetterClock {
    pub due: Time,
    pub answered_at: Option<Time>,
}

/// The facts of a complaint its deadlines (C2–C5, C9) depend on: what
/// [`complaint_clock_deadlines`] needs, for read models that keep these instants
/// rather than a whole [`Complaint`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplaintClock {
    /// Current severity (after any escalation).
    pub severity: Severity,
    /// Severity as raised.
    pub raised_severity: Severity,
    pub raised_at: Option<Time>,
    pub escalated_at: Option<Time>,
    pub assigned_at: Option<Time>,
    pub reported_at: Option<Time>,
    pub analysed_at: Option<Time>,
    pub feedback_at: Option<Time>,
    pub solution_agreed_at: Option<Time>,
    pub resolved_at: Option<Time>,
    pub return_visit_at: Option<Time>,
    /// C9: the work letters sent, in the order sent.
    pub letters: Vec<LetterClock>,
}

impl Complaint {
    /// The instants its deadlines depend on.
    pub fn clock(&self) -> ComplaintClock {
        ComplaintClock {
            severity: self.severity,
            raised_severity: self.raised_severity,
            raised_at: self.raised_at,
            escalated_at: self.escalated_at,
            assigned_at: self.assigned_at,
            reported_at: self.reported_at,
            analysed_at: self.analysed_at,
            feedback_at: self.feedback_at,
            solution_agreed_at: self.solution_agreed_at,
            resolved_at: self.resolved_at,
            return_visit_at: self.return_visit_at,
            letters: self
                .letters
                .iter()
                .map(|l| LetterClock {
                    due: l.due,
                    answered_at: l.answered_at,
                })
                .collect(),
        }
    }
}

/// Every deadline of a complaint as of `now`: [`complaint_clock_deadlines`] of its
/// [`Complaint::clock`].
pub fn complaint_deadlines(c: &Complaint, now: Time) -> Vec<Due> {
    complaint_clock_deadlines(&c.clock(), now)
}

/// Every deadline of a complaint as of `now`, in the order they fall due:
/// - major (raised major, or since its escalation): `complaint_report` (C2, 10 min)
///   and `complaint_solution` (C2, 12 h);
/// - raised minor: `complaint_feedback` (C3, 24 h after raising), `complaint_analysis`
///   (C3, 1 h after the latest assignment, once assigned) and `complaint_escalation`
///   (C4, 10 days after raising; met by resolving it);
/// - resolved: `complaint_return_visit` (C5, 24 h after resolution);
/// - one `work_letter` per work letter sent (C9, due when the letter says; met by its
///   answer).
///
/// A complaint not raised yet has none. The one home of these rules: the aggregate and
/// the read side both call it.
pub fn complaint_clock_deadlines(c: &ComplaintClock, now: Time) -> Vec<Due> {
    let Some(raised_at) = c.raised_at else {
        return Vec::new();
    };
    let major_since = match (c.severity, c.raised_severity) {
        (Severity::Major, Severity::Major) => c.raised_at,
        (Severity::Major, Severity::Minor) => c.escalated_at,
        _ => None,
    };
    let mut out = Vec::new();
    if let Some(since) = major_since {
        out.push(Due::new(
            "complaint_report",
            "C2",
            since + Duration::minutes(REPORT_WITHIN_MINUTES),
            c.reported_at,
            now,
        ));
        out.push(Due::new(
            "complaint_solution",
            "C2",
            since + Duration::hours(SOLUTION_WITHIN_HOURS),
            c.solution_agreed_at,
            now,
        ));
    }
    if c.raised_severity == Severity::Minor {
        out.push(Due::new(
            "complaint_feedback",
            "C3",
            raised_at + Duration::hours(FEEDBACK_WITHIN_HOURS),
            c.feedback_at,
            now,
        ));
        if let Some(assigned_at) = c.assigned_at {
            let analysed = c.analysed_at.filter(|a| *a >= assigned_at);
            out.push(Due::new(
                "complaint_analysis",
                "C3",
                assigned_at + Duration::hours(ANALYSIS_WITHIN_HOURS),
                analysed,
                now,
            ));
        }
        out.push(Due::new(
            "complaint_escalation",
            "C4",
            raised_at + Duration::days(ESCALATE_AFTER_DAYS),
            c.resolved_at,
            now,
        ));
    }
    if let Some(resolved_at) = c.resolved_at {
        out.push(Due::new(
            "complaint_return_visit",
            "C5",
            resolved_at + Duration::hours(RETURN_VISIT_WITHIN_HOURS),
            c.return_visit_at,
            now,
        ));
    }
    for letter in &c.letters {
        out.push(Due::new(
            WORK_LETTER_ITEM,
            "C9",
            letter.due,
            letter.answered_at,
            now,
        ));
    }
    // stable: letters due at the same instant as another item stay after it
    out.sort_by_key(|d| d.due_at);
    out
}
