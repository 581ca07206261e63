//! C7: the monthly complaint analysis, over the facts of each complaint
//! ([`ComplaintFacts`]) so that the aggregate's states and the complaints read model
//! answer through this one definition.

use std::collections::{BTreeMap, BTreeSet};

use crate::complaint::*;

/// One recorded miss (C10) as the analysis counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedMiss {
    pub deadline: ComplaintDeadline,
    /// The miss went to the head of department (a major complaint's 12-hour solution).
    pub reported_to_head: bool,
}

/// What the C7 analysis reads of one complaint: [`Complaint::facts`], or built by a
/// read model that keeps these facts rather than whole complaints (the one behind
/// `GET /api/v1/complaints/report`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplaintFacts {
    /// Identifies the complaint: one listed twice is counted once.
    pub id: String,
    /// Its deadlines' instants; `clock.raised_at`, read on the wall clock of its own
    /// offset, decides the month.
    pub clock: ComplaintClock,
    pub category: String,
    /// The responsible department; counted as `"unassigned"` when unknown.
    pub department: Option<String>,
    pub escalated_automatically: bool,
    pub closed_at: Option<Time>,
    /// C8: `Some(true)` valid, `Some(false)` unreasonable, `None` not judged (yet).
    pub valid: Option<bool>,
    /// C10: the misses the system recorded.
    pub misses: Vec<RecordedMiss>,
    /// C11: the satisfaction given at the return visit.
    pub satisfaction: Option<u8>,
    /// C11: added to the case library.
    pub in_case_library: bool,
}

impl Complaint {
    /// What the C7 analysis reads of this complaint.
    pub fn facts(&self) -> ComplaintFacts {
        ComplaintFacts {
            id: self.id.map(|id| id.to_string()).unwrap_or_default(),
            clock: self.clock(),
            category: self.category.clone(),
            department: self.department.clone(),
            escalated_automatically: self.escalated_automatically,
            closed_at: self.closed_at,
            valid: self.valid,
            misses: self
                .missed_deadlines
                .iter()
                .map(|m| RecordedMiss {
                    deadline: m.deadline,
                    reported_to_head: m.reported_to_head,
                })
                .collect(),
            satisfaction: self.return_visit_satisfaction,
            in_case_library: self.case.is_some(),
        }
    }
}

/// How one kind of deadline was kept over a month's complaints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineCompliance {
    /// Deadlines that have fallen due or were met.
    pub due: u32,
    /// Met no later than due.
    pub on_time: u32,
    /// Met late, or unmet and past due.
    pub missed: u32,
}

/// C7: the monthly complaint analysis. Every ratio is a per-mille integer and the mean
/// satisfaction a thousandth, so that the report holds no float; each is `None` when
/// there is nothing to divide by (nothing due is not 100 % compliance).
///
/// Deadline figures (`deadlines`, `deadlines_due`, `deadlines_met_on_time`,
/// `deadline_compliance_permille`, `missed_deadlines_recorded`, `missed_by_deadline`,
/// `misses_reported_to_head`) count the valid complaints only (C8); a complaint not
/// judged yet counts as valid, so that a deadline missed before the judgement is never
/// dropped from the figures. Every other figure counts every complaint of the month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintReport {
    /// `YYYY-MM`.
    pub month: String,
    /// Complaints raised in the month.
    pub total: u32,
    /// By current severity (`minor`, `major`).
    pub by_severity: BTreeMap<String, u32>,
    pub by_category: BTreeMap<String, u32>,
    /// By responsible department; `"unassigned"` when none is known.
    pub by_department: BTreeMap<String, u32>,
    /// C8: judged valid (有效投诉).
    pub valid: u32,
    /// C8: judged unreasonable (无理投诉).
    pub unreasonable: u32,
    /// C8: not judged yet (counted as valid for the deadline figures).
    pub unjudged: u32,
    /// Per deadline item (`complaint_report`, ..., `work_letter`): due, on time, missed.
    pub deadlines: BTreeMap<String, DeadlineCompliance>,
    /// Every deadline item together: fallen due or met.
    pub deadlines_due: u32,
    /// Every deadline item together: met no later than due.
    pub deadlines_met_on_time: u32,
    /// `deadlines_met_on_time` per mille of `deadlines_due`; `None` when nothing was due.
    pub deadline_compliance_permille: Option<u32>,
    /// C10: misses the system recorded as their deadlines passed.
    pub missed_deadlines_recorded: u32,
    /// C10: recorded misses per deadline item.
    pub missed_by_deadline: BTreeMap<String, u32>,
    /// C10: recorded misses reported to the head of department.
    pub misses_reported_to_head: u32,
    /// Escalated to major, by hand or by the system.
    pub escalated: u32,
    /// Escalated by the system (C4).
    pub escalated_automatically: u32,
    pub resolved: u32,
    pub closed: u32,
    /// C5: resolved complaints whose return visit was made.
    pub return_visits_done: u32,
    /// C5 (target 1000): return visits done per mille of resolved complaints.
    pub return_visit_rate_permille: Option<u32>,
    /// C11: return visits that recorded the customer's satisfaction.
    pub satisfaction_given: u32,
    /// C11: their mean satisfaction (1–5) in thousandths (4250 = 4.25).
    pub mean_satisfaction_milli: Option<u32>,
    /// C9: work letters sent.
    pub letters_sent: u32,
    /// C9: work letters answered.
    pub letters_answered: u32,
    /// C9: work letters answered after their due time, or unanswered past it.
    pub letters_overdue: u32,
    /// C11: complaints added to the case library.
    pub cases_added: u32,
    /// Mean seconds from raising to resolution over the resolved ones.
    pub mean_time_to_resolve_secs: Option<i64>,
}

fn permille(part: u32, whole: u32) -> Option<u32> {
    (whole > 0).then(|| ((u64::from(part) * 1000) / u64::from(whole)) as u32)
}

/// The sums the means are made of.
#[derive(Default)]
struct Sums {
    resolve_secs: Vec<i64>,
    satisfaction: u32,
}

impl ComplaintReport {
    /// Counts one complaint of the month.
    fn count(&mut self, f: &ComplaintFacts, raised_at: Time, now: Time, sums: &mut Sums) {
        let c = &f.clock;
        self.total += 1;
        *self
            .by_severity
            .entry(c.severity.as_str().to_string())
            .or_default() += 1;
        *self.by_category.entry(f.category.clone()).or_default() += 1;
        let dept = f.department.as_deref().unwrap_or("unassigned");
        *self.by_department.entry(dept.to_string()).or_default() += 1;
        match f.valid {
            Some(true) => self.valid += 1,
            Some(false) => self.unreasonable += 1,
            None => self.unjudged += 1,
        }
        if c.escalated_at.is_some() {
            self.escalated += 1;
            if f.escalated_automatically {
                self.escalated_automatically += 1;
            }
        }
        if let Some(resolved_at) = c.resolved_at {
            self.resolved += 1;
            sums.resolve_secs
                .push((resolved_at - raised_at).num_seconds());
            if c.return_visit_at.is_some() {
                self.return_visits_done += 1;
            }
        }
        if let Some(s) = f.satisfaction {
            self.satisfaction_given += 1;
            sums.satisfaction += u32::from(s);
        }
        if f.closed_at.is_some() {
            self.closed += 1;
        }
        if f.in_case_library {
            self.cases_added += 1;
        }
        for letter in &c.letters {
            self.letters_sent += 1;
            if letter.answered_at.is_some() {
                self.letters_answered += 1;
            }
            if letter.answered_at.unwrap_or(now) > letter.due {
                self.letters_overdue += 1;
            }
        }
        if f.valid != Some(false) {
            self.count_deadlines(f, now);
        }
    }

    /// The deadline figures of one valid (or not yet judged) complaint.
    fn count_deadlines(&mut self, f: &ComplaintFacts, now: Time) {
        for d in complaint_clock_deadlines(&f.clock, now) {
            if d.met_at.is_none() && !d.overdue {
                continue; // still running
            }
            let entry = self.deadlines.entry(d.item).or_default();
            entry.due += 1;
            if d.overdue {
                entry.missed += 1;
            } else {
                entry.on_time += 1;
            }
        }
        for m in &f.misses {
            self.missed_deadlines_recorded += 1;
            *self
                .missed_by_deadline
                .entry(m.deadline.as_str().to_string())
                .or_default() += 1;
            if m.reported_to_head {
                self.misses_reported_to_head += 1;
            }
        }
    }

    /// The totals and means, once every complaint is counted.
    fn finish(mut self, sums: Sums) -> ComplaintReport {
        let (due, on_time) = self
            .deadlines
            .values()
            .fold((0, 0), |(d, o), c| (d + c.due, o + c.on_time));
        self.deadlines_due = due;
        self.deadlines_met_on_time = on_time;
        self.deadline_compliance_permille = permille(on_time, due);
        self.return_visit_rate_permille = permille(self.return_visits_done, self.resolved);
        self.mean_satisfaction_milli = permille(sums.satisfaction, self.satisfaction_given);
        if !sums.resolve_secs.is_empty() {
            self.mean_time_to_resolve_secs =
                Some(sums.resolve_secs.iter().sum::<i64>() / sums.resolve_secs.len() as i64);
        }
        self
    }
}

/// C7: the analysis of the complaints raised in `month` (read on the wall clock of each
/// complaint's own offset), as of `now` (which decides what is overdue). Complaints
/// raised in other months, and empty ones, are ignored, so the whole set may be passed.
pub fn monthly_analysis(complaints: &[Complaint], month: YearMonth, now: Time) -> ComplaintReport {
    monthly_analysis_of(complaints.iter().map(Complaint::facts), month, now)
}

/// C7 over the facts of each complaint: [`monthly_analysis`] for read models that keep
/// [`ComplaintFacts`] rather than whole complaints.
pub fn monthly_analysis_of<I>(facts: I, month: YearMonth, now: Time) -> ComplaintReport
where
    I: IntoIterator<Item = ComplaintFacts>,
{
    let mut r = ComplaintReport {
        month: month.to_string(),
        ..Default::default()
    };
    let mut sums = Sums::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for f in facts {
        let Some(raised_at) = f.clock.raised_at else {
            continue;
        };
        if !month.contains(raised_at) || !seen.insert(f.id.clone()) {
            continue;
        }
        r.count(&f, raised_at, now, &mut sums);
    }
    r.finish(sums)
}
