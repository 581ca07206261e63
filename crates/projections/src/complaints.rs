//! The complaints read model: every complaint with its clocks (C2–C5), the open
//! list and the monthly analysis of C7.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use chrono_tz::Tz;
use reception_domain::complaint::{complaint_clock_deadlines, ComplaintClock, Severity};
use reception_domain::deadlines::Due;
use reception_store::{ReadModel, StoredEvent};
use serde::{Deserialize, Serialize};

use crate::event::{self, ty, DepartmentView, Payload, StreamKind};
use crate::{Changes, Projection, ProjectionError, ReadSideConfig};

/// One complaint as the read side knows it (times are business times).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplaintDoc {
    pub complaint_id: String,
    pub visit_id: Option<String>,
    pub customer: String,
    /// Current severity (`minor` / `major`), after any escalation.
    pub severity: String,
    /// Severity when raised.
    pub raised_severity: String,
    pub category: String,
    /// The responsible department: from the assignment, else the visit's requesting department.
    pub department: Option<String>,
    pub description: String,
    pub raised_at: Option<DateTime<FixedOffset>>,
    pub assigned_at: Option<DateTime<FixedOffset>>,
    pub reported_at: Option<DateTime<FixedOffset>>,
    pub analysed_at: Option<DateTime<FixedOffset>>,
    pub feedback_at: Option<DateTime<FixedOffset>>,
    pub solution_at: Option<DateTime<FixedOffset>>,
    pub escalated_at: Option<DateTime<FixedOffset>>,
    /// True when the escalation was the automatic one of C4 (actor `system`).
    pub escalated_automatically: bool,
    pub resolved_at: Option<DateTime<FixedOffset>>,
    pub return_visit_at: Option<DateTime<FixedOffset>>,
    pub closed_at: Option<DateTime<FixedOffset>>,
}

impl ComplaintDoc {
    /// Open until resolved (a resolved complaint still owes its return visit, shown in the clocks).
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none() && self.closed_at.is_none()
    }

    /// `open`, `resolved` or `closed`.
    pub fn status(&self) -> &'static str {
        if self.closed_at.is_some() {
            "closed"
        } else if self.resolved_at.is_some() {
            "resolved"
        } else {
            "open"
        }
    }

    /// The instants the domain's deadline rules need.
    pub fn clock(&self) -> ComplaintClock {
        let severity = |s: &str| {
            if s == "major" {
                Severity::Major
            } else {
                Severity::Minor
            }
        };
        ComplaintClock {
            severity: severity(&self.severity),
            raised_severity: severity(&self.raised_severity),
            raised_at: self.raised_at,
            escalated_at: self.escalated_at,
            assigned_at: self.assigned_at,
            reported_at: self.reported_at,
            analysed_at: self.analysed_at,
            feedback_at: self.feedback_at,
            solution_agreed_at: self.solution_at,
            resolved_at: self.resolved_at,
            return_visit_at: self.return_visit_at,
        }
    }

    /// Every clock of the complaint against `now`, as the domain defines them
    /// ([`complaint_clock_deadlines`]: C2 for major complaints, C3 and C4 for minor ones,
    /// C5 once resolved), in the order they fall due.
    pub fn deadlines(&self, now: DateTime<FixedOffset>) -> Vec<Due> {
        complaint_clock_deadlines(&self.clock(), now)
    }

    pub(crate) fn apply(
        &mut self,
        ev: &StoredEvent,
        d: &Payload<'_>,
        id: &str,
        visit_department: impl Fn(&str) -> Option<String>,
    ) {
        let at = event::at(ev, d);
        match ev.event_type.as_str() {
            ty::COMPLAINT_RAISED => {
                self.complaint_id = id.to_string();
                self.visit_id = event::opt_s(&d.visit_id);
                self.customer = d.company();
                self.severity = event::s(&d.severity).to_string();
                self.raised_severity = self.severity.clone();
                self.category = event::s(&d.category).to_string();
                self.description = event::s(&d.description).to_string();
                self.department = event::opt_s(&d.department)
                    .or_else(|| self.visit_id.as_deref().and_then(&visit_department));
                self.raised_at = Some(at);
            }
            ty::COMPLAINT_ASSIGNED => {
                self.assigned_at = Some(at);
                if let Some(dep) = event::opt_s(&d.department) {
                    self.department = Some(dep);
                }
            }
            ty::COMPLAINT_REPORTED => self.reported_at = Some(at),
            ty::COMPLAINT_ANALYSED => self.analysed_at = Some(at),
            ty::COMPLAINT_FEEDBACK_GIVEN => self.feedback_at = Some(at),
            ty::COMPLAINT_SOLUTION_AGREED => self.solution_at = Some(at),
            ty::COMPLAINT_ESCALATED => {
                self.severity = "major".into();
                self.escalated_at = Some(at);
                self.escalated_automatically =
                    d.automatic.unwrap_or(false) || ev.actor_role == "system";
            }
            ty::COMPLAINT_RESOLVED => self.resolved_at = Some(at),
            ty::COMPLAINT_RETURN_VISIT_DONE => self.return_visit_at = Some(at),
            ty::COMPLAINT_CLOSED => self.closed_at = Some(at),
            _ => {}
        }
    }
}

/// A complaint with its clocks, as answered by `GET /api/v1/complaints`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplaintView {
    #[serde(flatten)]
    pub complaint: ComplaintDoc,
    pub status: &'static str,
    pub deadlines: Vec<Due>,
    /// True when any clock is overdue.
    pub overdue: bool,
}

impl ComplaintView {
    pub(crate) fn of(doc: &ComplaintDoc, now: DateTime<FixedOffset>) -> ComplaintView {
        let deadlines = doc.deadlines(now);
        let overdue = deadlines.iter().any(|d| d.overdue);
        ComplaintView {
            complaint: doc.clone(),
            status: doc.status(),
            deadlines,
            overdue,
        }
    }
}

/// The monthly analysis of C7 for complaints raised in one month (company time zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintReport {
    /// `YYYY-MM`.
    pub month: String,
    pub total: u64,
    /// Counts by current severity (after escalation).
    pub by_severity: BTreeMap<String, u64>,
    pub by_category: BTreeMap<String, u64>,
    /// `"unassigned"` when no department is known.
    pub by_department: BTreeMap<String, u64>,
    /// Escalated to major automatically (C4).
    pub escalated: u64,
    /// Deadlines that are decided: met (on time or late) or already past due.
    pub deadlines_due: u64,
    pub deadlines_met_on_time: u64,
    /// `deadlines_met_on_time ÷ deadlines_due` in per mille (1000 when nothing was due).
    pub deadline_compliance_permille: u64,
    pub resolved: u64,
    pub return_visits_done: u64,
    /// Return visits ÷ resolved complaints in per mille (target 1000; 1000 when none resolved).
    pub return_visit_rate_permille: u64,
    /// Mean raised→resolved time over resolved complaints, in whole seconds.
    pub mean_time_to_resolve_secs: Option<i64>,
}

/// Per-visit facts the complaints model needs (the department for unassigned complaints).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct VisitDept {
    pub department: String,
}

pub(crate) struct ComplaintsProjection {
    tz: Tz,
    complaints: crate::docs::Docs<ComplaintDoc>,
    visits: crate::docs::Docs<VisitDept>,
    /// (year, month) of raising → complaint ids; derived, not persisted.
    by_month: BTreeMap<(i32, u32), BTreeSet<String>>,
}

impl ComplaintsProjection {
    fn index(&mut self, doc_id: &str) {
        if let Some(raised) = self.complaints.get(doc_id).and_then(|c| c.raised_at) {
            let local = raised.with_timezone(&self.tz);
            self.by_month
                .entry((local.year(), local.month()))
                .or_default()
                .insert(doc_id.to_string());
        }
    }

    pub(crate) fn list(&self, open_only: bool, now: DateTime<Utc>) -> Vec<ComplaintView> {
        let now = event::fixed(now);
        let mut out: Vec<ComplaintView> = self
            .complaints
            .map
            .values()
            .filter(|c| !open_only || c.is_open())
            .map(|c| ComplaintView::of(c, now))
            .collect();
        out.sort_by(|a, b| {
            (a.complaint.raised_at, &a.complaint.complaint_id)
                .cmp(&(b.complaint.raised_at, &b.complaint.complaint_id))
        });
        out
    }

    pub(crate) fn report(&self, year: i32, month: u32, now: DateTime<Utc>) -> ComplaintReport {
        let now = event::fixed(now);
        let mut r = ComplaintReport {
            month: format!("{year:04}-{month:02}"),
            total: 0,
            by_severity: BTreeMap::new(),
            by_category: BTreeMap::new(),
            by_department: BTreeMap::new(),
            escalated: 0,
            deadlines_due: 0,
            deadlines_met_on_time: 0,
            deadline_compliance_permille: 1000,
            resolved: 0,
            return_visits_done: 0,
            return_visit_rate_permille: 1000,
            mean_time_to_resolve_secs: None,
        };
        let mut resolve_secs: i64 = 0;
        for id in self.by_month.get(&(year, month)).into_iter().flatten() {
            let Some(c) = self.complaints.get(id) else {
                continue;
            };
            r.total += 1;
            *r.by_severity.entry(c.severity.clone()).or_default() += 1;
            *r.by_category.entry(c.category.clone()).or_default() += 1;
            *r.by_department
                .entry(c.department.clone().unwrap_or_else(|| "unassigned".into()))
                .or_default() += 1;
            if c.escalated_automatically {
                r.escalated += 1;
            }
            for d in c.deadlines(now) {
                if d.met_at.is_some() || d.overdue {
                    r.deadlines_due += 1;
                    if d.met_at.is_some() && !d.overdue {
                        r.deadlines_met_on_time += 1;
                    }
                }
            }
            if let (Some(raised), Some(resolved)) = (c.raised_at, c.resolved_at) {
                r.resolved += 1;
                resolve_secs += (resolved - raised).num_seconds();
                if c.return_visit_at.is_some() {
                    r.return_visits_done += 1;
                }
            }
        }
        if let Some(p) = (r.deadlines_met_on_time * 1000).checked_div(r.deadlines_due) {
            r.deadline_compliance_permille = p;
        }
        if let Some(p) = (r.return_visits_done * 1000).checked_div(r.resolved) {
            r.return_visit_rate_permille = p;
            r.mean_time_to_resolve_secs = Some(resolve_secs / r.resolved as i64);
        }
        r
    }
}

impl Projection for ComplaintsProjection {
    const NAME: &'static str = "complaints";
    const VERSION: u32 = 1;

    fn new(cfg: &ReadSideConfig) -> Self {
        ComplaintsProjection {
            tz: cfg.tz,
            complaints: crate::docs::Docs::new("c/"),
            visits: crate::docs::Docs::new("v/"),
            by_month: BTreeMap::new(),
        }
    }

    fn load(&mut self, rm: &ReadModel) -> Result<(), ProjectionError> {
        self.complaints.load(rm)?;
        self.visits.load(rm)?;
        self.by_month.clear();
        let ids: Vec<String> = self.complaints.map.keys().cloned().collect();
        for id in ids {
            self.index(&id);
        }
        Ok(())
    }

    fn apply(&mut self, ev: &StoredEvent) {
        let (kind, id) = event::stream_kind(&ev.stream);
        match kind {
            StreamKind::Visit if ev.event_type == ty::RECEPTION_REQUESTED => {
                let department = serde_json::from_slice::<DepartmentView<'_>>(ev.data())
                    .ok()
                    .and_then(|r| r.department)
                    .unwrap_or_default();
                self.visits.entry(id).department = department.into_owned();
            }
            StreamKind::Complaint => {
                let data = Payload::parse(ev.data());
                let visits = &self.visits;
                let doc = self.complaints.entry(id);
                doc.apply(ev, &data, id, |v| {
                    visits
                        .get(v)
                        .map(|d| d.department.clone())
                        .filter(|d| !d.is_empty())
                });
                if ev.event_type == ty::COMPLAINT_RAISED {
                    self.index(id);
                }
            }
            _ => {}
        }
    }

    fn drain(&mut self, out: &mut Changes, all: bool) -> Result<(), ProjectionError> {
        self.complaints.drain(out, all)?;
        self.visits.drain(out, all)?;
        Ok(())
    }

    fn set_tracking(&mut self, on: bool) {
        self.complaints.set_tracking(on);
        self.visits.set_tracking(on);
    }
}
