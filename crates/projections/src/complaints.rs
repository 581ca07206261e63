//! The complaints read model: every complaint with its clocks (C2–C5, C9), the open
//! list, the monthly analysis of C7 (the domain's [`monthly_analysis_of`] over the
//! facts each document keeps) and the case library (C11).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use chrono_tz::Tz;
use reception_domain::complaint::{
    complaint_clock_deadlines, monthly_analysis_of, ComplaintAddedToCaseLibrary, ComplaintClock,
    ComplaintDeadline, ComplaintDeadlineMissed, ComplaintFacts, ComplaintJudged,
    ComplaintReturnVisitDone, ComplaintWorkLetterAnswered, ComplaintWorkLetterSent, LetterClock,
    RecordedMiss, Severity, YearMonth,
};
use reception_domain::deadlines::Due;
use reception_store::{ReadModel, StoredEvent};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The C7 analysis, as the domain defines it.
pub use reception_domain::complaint::ComplaintReport;

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
    /// C8: `true` valid, `false` unreasonable, absent while not judged.
    #[serde(default)]
    pub valid: Option<bool>,
    #[serde(default)]
    pub judged_at: Option<DateTime<FixedOffset>>,
    /// C9: the work letters sent, in the order sent.
    #[serde(default)]
    pub letters: Vec<LetterDoc>,
    /// C10: the misses the system recorded, in the order recorded.
    #[serde(default)]
    pub missed_deadlines: Vec<MissDoc>,
    /// C11: the satisfaction (1–5) given at the return visit.
    #[serde(default)]
    pub satisfaction: Option<u8>,
    /// C11: the complaint's entry in the case library.
    #[serde(default)]
    pub case: Option<CaseDoc>,
}

/// C9: one work letter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LetterDoc {
    pub letter_id: String,
    pub department: String,
    pub due: DateTime<FixedOffset>,
    pub sent_at: DateTime<FixedOffset>,
    pub answered_at: Option<DateTime<FixedOffset>>,
}

/// C10: one recorded miss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissDoc {
    pub deadline: ComplaintDeadline,
    pub due_at: DateTime<FixedOffset>,
    pub recorded_at: DateTime<FixedOffset>,
    pub reported_to_head: bool,
}

/// C11: a case of the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseDoc {
    pub title: String,
    pub lesson: String,
    pub added_at: DateTime<FixedOffset>,
}

/// The payload of a stored event as the domain's typed event, for the complaint events
/// whose fields the shared [`Payload`] view does not read (few, so decoding them whole
/// costs nothing a rebuild notices); `None` when it does not decode.
fn typed<T: DeserializeOwned>(ev: &StoredEvent) -> Option<T> {
    serde_json::from_slice(ev.data()).ok()
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

    /// What the domain's C7 analysis reads of this complaint. `raised_at` is read on
    /// the wall clock of `tz`, the company's time zone, which decides its month.
    pub fn facts(&self, tz: &Tz) -> ComplaintFacts {
        let mut clock = self.clock();
        clock.raised_at = clock.raised_at.map(|t| t.with_timezone(tz).fixed_offset());
        ComplaintFacts {
            id: self.complaint_id.clone(),
            clock,
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
            satisfaction: self.satisfaction,
            in_case_library: self.case.is_some(),
        }
    }

    /// C9: the ids of the letters not answered by their due time, as of `now`.
    pub fn overdue_letters(&self, now: DateTime<FixedOffset>) -> Vec<String> {
        self.letters
            .iter()
            .filter(|l| l.answered_at.unwrap_or(now) > l.due)
            .map(|l| l.letter_id.clone())
            .collect()
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
            ty::COMPLAINT_RETURN_VISIT_DONE => {
                self.return_visit_at = Some(at);
                self.satisfaction =
                    typed::<ComplaintReturnVisitDone>(ev).and_then(|e| e.satisfaction);
            }
            ty::COMPLAINT_CLOSED => self.closed_at = Some(at),
            _ => self.apply_follow_up(ev, at),
        }
    }

    /// The events of C8–C11.
    fn apply_follow_up(&mut self, ev: &StoredEvent, at: DateTime<FixedOffset>) {
        match ev.event_type.as_str() {
            ty::COMPLAINT_JUDGED => {
                if let Some(e) = typed::<ComplaintJudged>(ev) {
                    self.valid = Some(e.valid);
                    self.judged_at = Some(at);
                }
            }
            ty::COMPLAINT_WORK_LETTER_SENT => {
                if let Some(e) = typed::<ComplaintWorkLetterSent>(ev) {
                    self.letters.push(LetterDoc {
                        letter_id: e.letter_id.to_string(),
                        department: e.department,
                        due: e.due,
                        sent_at: at,
                        answered_at: None,
                    });
                }
            }
            ty::COMPLAINT_WORK_LETTER_ANSWERED => {
                if let Some(e) = typed::<ComplaintWorkLetterAnswered>(ev) {
                    let id = e.letter_id.to_string();
                    if let Some(l) = self.letters.iter_mut().find(|l| l.letter_id == id) {
                        l.answered_at = Some(at);
                    }
                }
            }
            ty::COMPLAINT_DEADLINE_MISSED => {
                if let Some(e) = typed::<ComplaintDeadlineMissed>(ev) {
                    self.missed_deadlines.push(MissDoc {
                        deadline: e.deadline,
                        due_at: e.due_at,
                        recorded_at: at,
                        reported_to_head: e.reported_to_head,
                    });
                }
            }
            ty::COMPLAINT_ADDED_TO_CASE_LIBRARY => {
                if let Some(e) = typed::<ComplaintAddedToCaseLibrary>(ev) {
                    self.case = Some(CaseDoc {
                        title: e.title,
                        lesson: e.lesson,
                        added_at: at,
                    });
                }
            }
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
    /// C9: the ids of the work letters not answered by their due time.
    pub letters_overdue: Vec<String>,
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
            letters_overdue: doc.overdue_letters(now),
        }
    }
}

/// One case of the library (C11), as answered by `GET /api/v1/complaints/cases`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseView {
    pub complaint_id: String,
    pub title: String,
    pub lesson: String,
    pub added_at: DateTime<FixedOffset>,
    pub customer: String,
    pub category: String,
    pub severity: String,
    pub description: String,
    pub department: Option<String>,
    /// C8: the judgement, when given.
    pub valid: Option<bool>,
    pub raised_at: Option<DateTime<FixedOffset>>,
    pub closed_at: Option<DateTime<FixedOffset>>,
}

impl CaseView {
    fn of(doc: &ComplaintDoc, case: &CaseDoc) -> CaseView {
        CaseView {
            complaint_id: doc.complaint_id.clone(),
            title: case.title.clone(),
            lesson: case.lesson.clone(),
            added_at: case.added_at,
            customer: doc.customer.clone(),
            category: doc.category.clone(),
            severity: doc.severity.clone(),
            description: doc.description.clone(),
            department: doc.department.clone(),
            valid: doc.valid,
            raised_at: doc.raised_at,
            closed_at: doc.closed_at,
        }
    }

    /// Case-insensitive: `needle` (lowercase) is part of the title, lesson,
    /// description, customer or category.
    fn matches(&self, needle: &str) -> bool {
        [
            &self.title,
            &self.lesson,
            &self.description,
            &self.customer,
            &self.category,
        ]
        .iter()
        .any(|field| field.to_lowercase().contains(needle))
    }
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

    /// C7 of the complaints raised in `year`-`month` (company time zone): the domain's
    /// analysis of their facts, as of `now`.
    pub(crate) fn report(&self, year: i32, month: u32, now: DateTime<Utc>) -> ComplaintReport {
        let Ok(ym) = YearMonth::new(year, month) else {
            return ComplaintReport {
                month: format!("{year:04}-{month:02}"),
                ..ComplaintReport::default()
            };
        };
        let facts = self
            .by_month
            .get(&(year, month))
            .into_iter()
            .flatten()
            .filter_map(|id| self.complaints.get(id))
            .map(|c| c.facts(&self.tz));
        monthly_analysis_of(facts, ym, event::fixed(now))
    }

    /// C11: the case library, newest first; with `q`, the cases whose title, lesson,
    /// description, customer or category contain it, whatever the case of letters.
    pub(crate) fn cases(&self, q: Option<&str>) -> Vec<CaseView> {
        let needle = q.map(|q| q.trim().to_lowercase()).unwrap_or_default();
        let mut out: Vec<CaseView> = self
            .complaints
            .map
            .values()
            .filter_map(|c| c.case.as_ref().map(|case| CaseView::of(c, case)))
            .filter(|v| needle.is_empty() || v.matches(&needle))
            .collect();
        out.sort_by(|a, b| (b.added_at, &b.complaint_id).cmp(&(a.added_at, &a.complaint_id)));
        out
    }
}

impl Projection for ComplaintsProjection {
    const NAME: &'static str = "complaints";
    /// 2: the documents keep the facts of C8–C11 (judgement, letters, recorded misses,
    /// satisfaction, case); a model written before, which skipped those events, is
    /// rebuilt.
    const VERSION: u32 = 2;

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
