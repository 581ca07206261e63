//! Deadlines: every time limit of DOMAIN.md as a constant, the arithmetic that turns
//! them into due times, and from a visit's state and `now` every due item and whether
//! it is overdue. The rules, the board and the escalation process use them.
//!
//! This module reads the visit's state ([`crate::visit_state`]) and is read by the
//! rules ([`crate::visit`], [`crate::complaint`]), never the other way round.

use chrono::Duration;
use chrono::{DateTime, FixedOffset, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

use crate::visit_state::{
    ApprovalStatus, Leg, PlanStatus, RequestVisit, Stage, TransportMode, Visit,
};

/// V2: a domestic request is late when filed less than this many hours before arrival.
pub const LEAD_TIME_HOURS: i64 = 24;
/// V2: a foreign customer's request is late when filed less than this many days before arrival.
pub const LEAD_TIME_FOREIGN_DAYS: i64 = 7;
/// V4: the plan is due this long after the request.
pub const PLAN_HOURS: i64 = 24;
/// V7: a car is ready this many minutes before arrival/departure.
pub const CAR_READY_MINUTES: i64 = 15;
/// V14: the return call is due this long after the visitors are home.
pub const RETURN_CALL_HOURS: i64 = 24;
/// V14: without a known arrival-home time, home = departure + 4 h.
pub const HOME_AFTER_DEPARTURE_HOURS: i64 = 4;
/// V15: the summary is due this long after departure.
pub const SUMMARY_HOURS: i64 = 48;

/// V26: the confirmation call to the customer is due this long before arrival.
pub const CONFIRMATION_CALL_HOURS: i64 = 1;
/// V26: a foreign customer's visa invitation letter is due this many days before arrival.
pub const VISA_LETTER_DAYS: i64 = 7;

/// C2: a major complaint is reported to the head of department within this many minutes.
pub const REPORT_WITHIN_MINUTES: i64 = 10;
/// C2: a solution is agreed with the customer within this many hours of becoming major.
pub const SOLUTION_WITHIN_HOURS: i64 = 12;
/// C3: feedback to the customer on a minor complaint within this many hours of raising.
pub const FEEDBACK_WITHIN_HOURS: i64 = 24;
/// C3: the responsible department analyses a minor complaint within this many hours of assignment.
pub const ANALYSIS_WITHIN_HOURS: i64 = 1;
/// C4: unresolved this many days after raising, a complaint is escalated to major.
pub const ESCALATE_AFTER_DAYS: i64 = 10;
/// C5: the return visit is due within this many hours after resolution.
pub const RETURN_VISIT_WITHIN_HOURS: i64 = 24;
/// C6: a closed complaint's record is kept at least this many months.
pub const RETAIN_MONTHS: u32 = 24;

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

impl Due {
    /// A due item; `overdue` is computed from `met_at` and `now`.
    pub fn new(
        item: &str,
        rule: &str,
        due_at: DateTime<FixedOffset>,
        met_at: Option<DateTime<FixedOffset>>,
        now: DateTime<FixedOffset>,
    ) -> Due {
        let overdue = match met_at {
            Some(m) => m > due_at,
            None => now > due_at,
        };
        Due {
            item: item.into(),
            rule: rule.into(),
            due_at,
            met_at,
            overdue,
        }
    }
}

/// V4: the first plan draft is due this long after the request.
pub fn plan_due_at(requested_at: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    requested_at + Duration::hours(PLAN_HOURS)
}

/// V5: readiness is due by the start of the arrival day in the arrival's offset (the
/// end of the day before arrival); `None` when that midnight does not exist.
pub fn readiness_due_at(arrival: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
    let midnight = arrival.date_naive().and_time(NaiveTime::MIN);
    arrival.offset().from_local_datetime(&midnight).single()
}

/// V7: a pickup or drop-off car must be ready this long before the arrival or
/// departure it serves.
pub fn car_ready_by(leg_at: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    leg_at - Duration::minutes(CAR_READY_MINUTES)
}

/// V14: when the visitors are estimated home: the departure transport's arrival time
/// when known, else 4 h after the recorded departure, else after the planned one.
pub fn estimated_home_at(
    arrives_home_at: Option<DateTime<FixedOffset>>,
    departed_at: Option<DateTime<FixedOffset>>,
    planned_departure: DateTime<FixedOffset>,
) -> DateTime<FixedOffset> {
    arrives_home_at.unwrap_or_else(|| {
        departed_at.unwrap_or(planned_departure) + Duration::hours(HOME_AFTER_DEPARTURE_HOURS)
    })
}

/// V14: the return call is due this long after the visitors are home.
pub fn return_call_due_at(home: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    home + Duration::hours(RETURN_CALL_HOURS)
}

/// V15: the summary is due this long after the recorded departure.
pub fn summary_due_at(departed_at: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    departed_at + Duration::hours(SUMMARY_HOURS)
}

/// V28: the talks' minutes are due to the general manager by the end of the day after
/// departure (the start of the second day after it, in the departure's offset).
pub fn minutes_due_at(departed_at: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
    readiness_due_at(departed_at + Duration::days(2))
}

/// V26: the preparation tasks of DOMAIN.md, as ids, in the order a desk works them.
pub const TASKS: [&str; 6] = [
    "visa_letter",
    "meeting_room",
    "welcome_sign",
    "return_tickets",
    "parking",
    "confirmation_call",
];

/// V26: the preparation tasks a request calls for, each with its due time: the
/// confirmation call 1 h before arrival; the visa invitation letter 7 days before a
/// foreign customer's arrival when asked; the meeting room, the welcome sign, the
/// return tickets when asked and parking for a self-driving customer by the readiness
/// deadline (V5).
pub fn preparation_tasks(req: &RequestVisit) -> Vec<(&'static str, DateTime<FixedOffset>)> {
    let arrival = req.arrival.at;
    let ready = readiness_due_at(arrival).unwrap_or(arrival);
    let mut out = Vec::new();
    if req.customer.foreign && req.needs.visa_letter {
        out.push(("visa_letter", arrival - Duration::days(VISA_LETTER_DAYS)));
    }
    if req.needs.meeting_room {
        out.push(("meeting_room", ready));
    }
    out.push(("welcome_sign", ready));
    if req.needs.return_tickets {
        out.push(("return_tickets", ready));
    }
    if req.arrival.mode == TransportMode::Car {
        out.push(("parking", ready));
    }
    out.push((
        "confirmation_call",
        arrival - Duration::hours(CONFIRMATION_CALL_HOURS),
    ));
    out
}

/// One preparation task of a visit (V26), as `GET /api/v1/visits/{id}` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub due: DateTime<FixedOffset>,
    pub done_at: Option<DateTime<FixedOffset>>,
    pub notes: Option<String>,
    /// Not done and past due while the visitors are still expected, or done late.
    pub overdue: bool,
}

/// V26: a visit's preparation tasks with what was done.
pub fn visit_tasks(visit: &Visit, now: DateTime<FixedOffset>) -> Vec<Task> {
    let Some(req) = visit.request() else {
        return Vec::new();
    };
    preparation_tasks(req)
        .into_iter()
        .map(|(id, due)| {
            let done = visit.tasks_done.iter().find(|t| t.task.as_str() == id);
            let overdue = match done {
                Some(d) => d.completed_at > due,
                None => !visit.is_finished() && visit.arrived_at.is_none() && now > due,
            };
            Task {
                id: id.to_string(),
                due,
                done_at: done.map(|d| d.completed_at),
                notes: done.and_then(|d| d.notes.clone()),
                overdue,
            }
        })
        .collect()
}

/// V26: the earliest due time among the tasks not done yet.
pub fn first_open_task_due(visit: &Visit) -> Option<DateTime<FixedOffset>> {
    let req = visit.request()?;
    preparation_tasks(req)
        .into_iter()
        .filter(|(id, _)| !visit.tasks_done.iter().any(|t| t.task.as_str() == *id))
        .map(|(_, due)| due)
        .min()
}

/// V28: the earliest due time among the follow-ups not done yet.
pub fn first_open_follow_up_due(visit: &Visit) -> Option<DateTime<FixedOffset>> {
    visit
        .follow_ups
        .iter()
        .filter(|f| f.completed.is_none())
        .map(|f| f.added.due)
        .min()
}

/// A visit's own deadlines, from its request and what it recorded.
impl Visit {
    /// V5 deadline: the start of the arrival day in the arrival's offset (i.e. the end
    /// of the day before arrival).
    pub fn readiness_due(&self) -> Option<DateTime<FixedOffset>> {
        readiness_due_at(self.request.as_ref()?.arrival.at)
    }

    /// V4 deadline: request + 24 h.
    pub fn plan_due(&self) -> Option<DateTime<FixedOffset>> {
        Some(plan_due_at(self.requested_at?))
    }

    /// V14: when the visitors are estimated home: the departure transport's arrival
    /// time when known, else departure + 4 h (recorded departure, else planned).
    pub fn estimated_home(&self) -> Option<DateTime<FixedOffset>> {
        let dep = &self.request.as_ref()?.departure;
        Some(estimated_home_at(
            dep.arrives_home_at,
            self.departed_at,
            dep.at,
        ))
    }

    /// V14 deadline.
    pub fn return_call_due(&self) -> Option<DateTime<FixedOffset>> {
        Some(return_call_due_at(self.estimated_home()?))
    }

    /// V15 deadline (after the recorded departure).
    pub fn summary_due(&self) -> Option<DateTime<FixedOffset>> {
        Some(summary_due_at(self.departed_at?))
    }
}

/// True when a car for `leg` was dispatched or recorded as unavailable (V7).
fn leg_covered(visit: &Visit, leg: Leg) -> bool {
    visit.cars.iter().any(|c| c.dispatch.leg == leg)
        || visit.cars_unavailable.iter().any(|c| c.leg == leg)
}

/// Every due item of a visit at `now` (empty for a cancelled or not-yet-requested one):
///
/// - `plan_due` (V4): first draft within 24 h of the request;
/// - `plan_approved` (V4): approval before the planned arrival;
/// - `readiness` (V5): confirmed by the start of the arrival day;
/// - `car_ready` (V7): one per dispatched pickup/drop-off car (met at its `ready_at`,
///   overdue when that is less than 15 min before arrival/departure), and one per
///   needed pickup/drop-off with neither a car nor a recorded "no car";
/// - `return_call` (V14) and `summary` (V15), once departed.
///
/// ```
/// # use reception_domain::{deadlines::visit_deadlines, visit::Visit};
/// # let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap();
/// assert!(visit_deadlines(&Visit::default(), now).is_empty());
/// ```
pub fn visit_deadlines(visit: &Visit, now: DateTime<FixedOffset>) -> Vec<Due> {
    let Some(req) = visit.request() else {
        return Vec::new();
    };
    if visit.stage == Stage::Cancelled {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(due) = visit.plan_due() {
        out.push(Due::new(
            "plan_due",
            "V4",
            due,
            visit.plan.first_drafted_at,
            now,
        ));
    }
    out.push(Due::new(
        "plan_approved",
        "V4",
        req.arrival.at,
        visit.plan.approved_at,
        now,
    ));
    if let Some(due) = visit.readiness_due() {
        out.push(Due::new(
            "readiness",
            "V5",
            due,
            visit.readiness_confirmed_at,
            now,
        ));
    }
    for car in &visit.cars {
        let leg_at = match car.dispatch.leg {
            Leg::Pickup => Some(req.arrival.at),
            Leg::Dropoff => Some(req.departure.at),
            Leg::Local => None,
        };
        if let Some(at) = leg_at {
            out.push(Due::new(
                "car_ready",
                "V7",
                car_ready_by(at),
                Some(car.dispatch.ready_at),
                now,
            ));
        }
    }
    if req.needs.pickup && !leg_covered(visit, Leg::Pickup) && visit.arrived_at.is_none() {
        out.push(Due::new(
            "car_ready",
            "V7",
            car_ready_by(req.arrival.at),
            None,
            now,
        ));
    }
    if req.needs.dropoff && !leg_covered(visit, Leg::Dropoff) && visit.departed_at.is_none() {
        out.push(Due::new(
            "car_ready",
            "V7",
            car_ready_by(req.departure.at),
            None,
            now,
        ));
    }
    for t in visit_tasks(visit, now) {
        let mut due = Due::new(&format!("task_{}", t.id), "V26", t.due, t.done_at, now);
        // a task left undone stops being owed once the visitors are here
        due.overdue = t.overdue;
        out.push(due);
    }
    for f in &visit.follow_ups {
        let done = f.completed.as_ref().map(|c| c.completed_at);
        out.push(Due::new("follow_up", "V28", f.added.due, done, now));
    }
    if let (Some(left), false) = (visit.departed_at, visit.talks.is_empty()) {
        if let Some(due) = minutes_due_at(left) {
            let met = visit.minutes.as_ref().map(|m| m.submitted_at);
            out.push(Due::new("minutes", "V28", due, met, now));
        }
    }
    if visit.departed_at.is_some() {
        if let Some(due) = visit.return_call_due() {
            let met = visit.return_call.done.as_ref().map(|d| d.at);
            out.push(Due::new("return_call", "V14", due, met, now));
        }
        if let Some(due) = visit.summary_due() {
            out.push(Due::new(
                "summary",
                "V15",
                due,
                visit.summary.as_ref().map(|s| s.filed_at),
                now,
            ));
        }
    }
    out
}

/// The board flags of DOMAIN.md's "Read side", as stable snake_case ids, in this order:
/// `late_request`, `plan_overdue`, `readiness_overdue`, `car_late`, `over_cap_pending`,
/// `souvenir_not_handed`, `return_call_overdue`, `summary_overdue`,
/// `staff_changed_mid_visit`, `over_budget`, `task_overdue`, `follow_up_overdue`,
/// `rescheduled`. A closed or cancelled visit keeps only the flags that describe its
/// history (`late_request`, `over_cap_pending`, `staff_changed_mid_visit`,
/// `over_budget`) and its overdue follow-ups, which outlive it (V28).
pub fn visit_flags(visit: &Visit, now: DateTime<FixedOffset>) -> Vec<String> {
    let Some(req) = visit.request() else {
        return Vec::new();
    };
    let active = !visit.is_finished();
    let arrived = visit.arrived_at.is_some();
    let departed = visit.departed_at.is_some();
    let mut flags: Vec<&str> = Vec::new();
    if visit.late {
        flags.push("late_request");
    }
    let plan_approved = visit.plan.status == PlanStatus::Approved;
    let no_draft_in_time =
        visit.plan.first_drafted_at.is_none() && visit.plan_due().is_some_and(|d| now > d);
    if active && !plan_approved && (no_draft_in_time || now > req.arrival.at || arrived) {
        flags.push("plan_overdue");
    }
    if active
        && !arrived
        && visit.readiness_confirmed_at.is_none()
        && visit.readiness_due().is_some_and(|d| now > d)
    {
        flags.push("readiness_overdue");
    }
    // V23: judged against the current planned times, so a reschedule moves it.
    let dispatched_late = visit.cars.iter().any(|c| match c.dispatch.leg {
        Leg::Pickup => c.dispatch.ready_at > car_ready_by(req.arrival.at) && !arrived,
        Leg::Dropoff => c.dispatch.ready_at > car_ready_by(req.departure.at) && !departed,
        Leg::Local => false,
    });
    let pickup_missing = req.needs.pickup
        && !arrived
        && !leg_covered(visit, Leg::Pickup)
        && now > car_ready_by(req.arrival.at);
    let dropoff_missing = req.needs.dropoff
        && !departed
        && !leg_covered(visit, Leg::Dropoff)
        && now > car_ready_by(req.departure.at);
    if active && (dispatched_late || pickup_missing || dropoff_missing) {
        flags.push("car_late");
    }
    if visit.expenses.iter().any(|e| e.pending_decision()) {
        flags.push("over_cap_pending");
    }
    if active && departed && visit.souvenirs.iter().any(|s| s.handed_at.is_none()) {
        flags.push("souvenir_not_handed");
    }
    if active
        && departed
        && visit.return_call.done.is_none()
        && visit.return_call_due().is_some_and(|d| now > d)
    {
        flags.push("return_call_overdue");
    }
    if active && visit.summary.is_none() && visit.summary_due().is_some_and(|d| now > d) {
        flags.push("summary_overdue");
    }
    if visit.staff_changed_mid_visit {
        flags.push("staff_changed_mid_visit");
    }
    if visit.over_budget() {
        flags.push("over_budget");
    }
    if active && !arrived && first_open_task_due(visit).is_some_and(|d| now > d) {
        flags.push("task_overdue");
    }
    if first_open_follow_up_due(visit).is_some_and(|d| now > d) {
        flags.push("follow_up_overdue");
    }
    if active && !visit.reschedules.is_empty() {
        flags.push("rescheduled");
    }
    flags.into_iter().map(String::from).collect()
}

/// The facts of a visit that decide its next step (see [`step_of`]): a small plain
/// copy of the parts of a [`Visit`] the step rules read, so that a read model which
/// does not keep the whole aggregate (the board) can fill it from stored events and
/// answer the same step as `GET /api/v1/visits/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepFacts {
    /// Closed or cancelled.
    pub finished: bool,
    /// When the request was filed (V4's plan deadline counts from it).
    pub requested_at: Option<DateTime<FixedOffset>>,
    /// The planned arrival and departure of the request.
    pub arrival: DateTime<FixedOffset>,
    pub departure: DateTime<FixedOffset>,
    /// The departure transport's arrival home, when the request gave it (V14).
    pub arrives_home_at: Option<DateTime<FixedOffset>>,
    pub level_assigned: bool,
    /// V22: no approval given yet (and approvals are required).
    pub approval_pending: bool,
    /// V22: returned to the requester for amendment.
    pub approval_returned: bool,
    pub plan: PlanStatus,
    pub host_assigned: bool,
    pub readiness_confirmed: bool,
    /// A pickup is needed and neither dispatched nor recorded as unavailable (V7).
    pub pickup_uncovered: bool,
    /// A drop-off is needed and neither dispatched nor recorded as unavailable (V7).
    pub dropoff_uncovered: bool,
    pub arrived: bool,
    /// The recorded departure.
    pub departed_at: Option<DateTime<FixedOffset>>,
    /// A planned souvenir is not handed yet.
    pub souvenir_unhanded: bool,
    pub return_call_done: bool,
    pub summary_filed: bool,
    /// An over-cap expense waits for a decision (not decided, not reversed).
    pub expense_pending_decision: bool,
    /// A cash advance was issued and is not settled.
    pub advance_unsettled: bool,
}

impl StepFacts {
    /// The facts of `visit`; `None` for a visit that was never requested.
    pub fn of(visit: &Visit) -> Option<StepFacts> {
        let req = visit.request()?;
        Some(StepFacts {
            finished: visit.is_finished(),
            requested_at: visit.requested_at,
            arrival: req.arrival.at,
            departure: req.departure.at,
            arrives_home_at: req.departure.arrives_home_at,
            level_assigned: visit.level.is_some(),
            approval_pending: visit.approval.required
                && visit.approval.given.is_empty()
                && visit.approval.status == ApprovalStatus::Pending,
            approval_returned: visit.approval.required
                && visit.approval.status == ApprovalStatus::Returned,
            plan: visit.plan.status,
            host_assigned: visit.host.is_some(),
            readiness_confirmed: visit.readiness_confirmed_at.is_some(),
            pickup_uncovered: req.needs.pickup && !leg_covered(visit, Leg::Pickup),
            dropoff_uncovered: req.needs.dropoff && !leg_covered(visit, Leg::Dropoff),
            arrived: visit.arrived_at.is_some(),
            departed_at: visit.departed_at,
            souvenir_unhanded: visit.souvenirs.iter().any(|s| s.handed_at.is_none()),
            return_call_done: visit.return_call.done.is_some(),
            summary_filed: visit.summary.is_some(),
            expense_pending_decision: visit.expenses.iter().any(|e| e.pending_decision()),
            advance_unsettled: visit
                .advance
                .as_ref()
                .is_some_and(|a| a.settlement.is_none()),
        })
    }
}

/// The next step of a visit with these facts, with its due time when it has one (the
/// rules behind [`next_step`]; see there for the vocabulary). `None` when finished.
pub fn step_of(f: &StepFacts) -> Option<(&'static str, Option<DateTime<FixedOffset>>)> {
    if f.finished {
        return None;
    }
    let plan_due = f.requested_at.map(plan_due_at);
    let readiness_due = readiness_due_at(f.arrival);
    let step = |s: &'static str, due: Option<DateTime<FixedOffset>>| Some((s, due));
    if !f.level_assigned && !f.arrived {
        if f.approval_returned {
            return step("amend_request", None);
        }
        if f.approval_pending {
            return step("approve_request", plan_due);
        }
        return step("assign_level", plan_due);
    }
    if !f.arrived {
        match f.plan {
            PlanStatus::None => return step("draft_plan", plan_due),
            PlanStatus::Returned => return step("draft_plan", Some(f.arrival)),
            PlanStatus::Drafted => return step("review_plan", Some(f.arrival)),
            PlanStatus::Approved => {}
        }
        if !f.host_assigned {
            return step("assign_staff", readiness_due);
        }
        if !f.readiness_confirmed {
            return step("confirm_readiness", readiness_due);
        }
        if f.pickup_uncovered {
            return step("dispatch_pickup", Some(car_ready_by(f.arrival)));
        }
        return step("record_arrival", Some(f.arrival));
    }
    let Some(departed_at) = f.departed_at else {
        if f.dropoff_uncovered {
            return step("dispatch_dropoff", Some(car_ready_by(f.departure)));
        }
        if f.souvenir_unhanded {
            return step("hand_souvenir", Some(f.departure));
        }
        return step("record_departure", Some(f.departure));
    };
    if !f.return_call_done {
        let home = estimated_home_at(f.arrives_home_at, Some(departed_at), f.departure);
        return step("return_call", Some(return_call_due_at(home)));
    }
    if !f.summary_filed {
        return step("file_summary", Some(summary_due_at(departed_at)));
    }
    if f.expense_pending_decision {
        return step("decide_expense", None);
    }
    if f.advance_unsettled {
        return step("settle_advance", None);
    }
    step("close", None)
}

/// The next step of the process for the board, with its due time when it has one:
/// `approve_request`, `amend_request`, `assign_level`, `draft_plan`, `review_plan`, `assign_staff`, `confirm_readiness`,
/// `dispatch_pickup`, `record_arrival`, `dispatch_dropoff`, `hand_souvenir`,
/// `record_departure`, `return_call`, `file_summary`, `decide_expense`,
/// `settle_advance`, `close`. `None` for a closed, cancelled or unknown visit.
/// The rules are [`step_of`] over [`StepFacts::of`] the visit.
pub fn next_step(
    visit: &Visit,
    now: DateTime<FixedOffset>,
) -> Option<(String, Option<DateTime<FixedOffset>>)> {
    let _ = now; // the order of steps does not depend on the clock; kept for symmetry.
    let facts = StepFacts::of(visit)?;
    step_of(&facts).map(|(step, due)| (step.to_string(), due))
}
