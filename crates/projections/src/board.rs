//! The live visit board: open visits with stage, host, next step and flags (computed
//! against `now` at read time), today's timeline in the company's time zone, open
//! complaints with their clocks, open follow-ups (also of closed visits, V28), and
//! people on site from the front desk.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use chrono_tz::Tz;
use reception_domain::board::{self, BoardFacts, FlagTime};
use reception_domain::deadlines::{self, StepFacts};
use reception_domain::visit::{
    Arrival, Customer, Departure, Headcount, Needs, PlanStatus, RequestVisit, Text, TransportMode,
};
use reception_domain::vocabulary::JourneyView;
use reception_store::{ReadModel, StoredEvent};
use serde::{Deserialize, Serialize};

use crate::complaints::{ComplaintDoc, ComplaintView};
use crate::docs::{Docs, Keyed};
use crate::event::{self, ty, Payload, StreamKind};
use crate::{Changes, Projection, ProjectionError, ReadSideConfig};

const FLAG_COUNT: usize = board::FLAGS.len();

/// One line of today's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineItem {
    pub at: DateTime<FixedOffset>,
    pub visit_id: String,
    pub customer: String,
    /// `arrival`, `pickup`, `meal`, `entertainment`, `tour`, `leader_meeting`, `talks`,
    /// `dropoff`, `departure`, `task` (V26: a preparation task not done, titled by its
    /// id), `follow_up` (V28: an open follow-up, titled by its text).
    pub kind: String,
    pub title: String,
    pub place: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Car {
    leg: String,
    ready_at: Option<DateTime<FixedOffset>>,
    /// The domain's own V7 judgement (`late` in the payload).
    late: bool,
}

/// What the board keeps of an open visit: its row's text and timeline, and the facts
/// the domain's row rules read (`reception_domain::board`, `deadlines::step_of`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct VisitDoc {
    customer: String,
    level: Option<String>,
    requested_at: Option<DateTime<FixedOffset>>,
    late: bool,
    arrival: Option<DateTime<FixedOffset>>,
    departure: Option<DateTime<FixedOffset>>,
    arrives_home_at: Option<DateTime<FixedOffset>>,
    /// The request's `needs.pickup` / `needs.dropoff`.
    needs_pickup: bool,
    needs_dropoff: bool,
    /// The plan's review status.
    plan: PlanStatus,
    /// A plan was drafted at least once.
    plan_drafted_once: bool,
    readiness_confirmed: bool,
    host: Option<String>,
    staff_changed_mid_visit: bool,
    arrived_at: Option<DateTime<FixedOffset>>,
    departed_at: Option<DateTime<FixedOffset>>,
    cars: Vec<Car>,
    /// Legs recorded as `CarUnavailable`.
    legs_unavailable: BTreeSet<String>,
    pending_over_cap: BTreeSet<String>,
    souvenirs_open: BTreeSet<String>,
    /// A `ReturnCallDone` was recorded.
    return_call_done: bool,
    summary_filed: bool,
    /// An advance was issued and not settled.
    advance_unsettled: bool,
    /// V22: the request waits for approvals (schema 1 requests count as approved).
    approval_required: bool,
    /// V22: approvals given since the request was last amended.
    approvals_given: u32,
    /// V22: returned to the requester, who amends it.
    approval_returned: bool,
    /// V22: the request's budget and the company-paid spend, reversals netted (the
    /// domain's `Visit::company_spend_fen`).
    budget_fen: Option<i64>,
    company_spend_fen: i64,
    /// What the domain's task rule reads of the request besides the arrival.
    task_needs: TaskNeeds,
    /// V26: the request's preparation tasks with their due times (recomputed when the
    /// request is amended or rescheduled) and the ids of those done.
    tasks: Vec<(String, DateTime<FixedOffset>)>,
    tasks_done: BTreeSet<String>,
    /// V28: the open follow-ups' due times by follow-up id.
    follow_ups_open: BTreeMap<String, DateTime<FixedOffset>>,
    /// A cooperation matter was confirmed: follow-ups may come, also after closing.
    matter_confirmed: bool,
    /// V23.
    rescheduled: bool,
    timeline: Vec<TimelineItem>,
}

/// What the domain's preparation-task rule (`deadlines::preparation_tasks`) reads of a
/// request besides its arrival, kept so that a reschedule recomputes the due times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct TaskNeeds {
    foreign: bool,
    meeting_room: bool,
    return_tickets: bool,
    visa_letter: bool,
}

impl TaskNeeds {
    fn of(p: &Payload<'_>) -> TaskNeeds {
        let needs = p.needs.clone().unwrap_or_default();
        let foreign = match &p.customer {
            Some(event::CustomerView::Object { foreign, .. }) => foreign.unwrap_or(false),
            _ => false,
        };
        TaskNeeds {
            foreign,
            meeting_room: needs.meeting_room.unwrap_or(false),
            return_tickets: needs.return_tickets.unwrap_or(false),
            visa_letter: needs.visa_letter.unwrap_or(false),
        }
    }

    /// The domain's preparation tasks of a request with these needs arriving so: the
    /// rule is asked with a request carrying just the fields it reads, so that the
    /// board and `GET /api/v1/visits/{id}` share one definition. Empty without a
    /// readable arrival time.
    fn tasks(self, arrival: &JourneyView<'_>) -> Vec<(String, DateTime<FixedOffset>)> {
        let Some(at) = event::t(&arrival.at) else {
            return Vec::new();
        };
        let mode = match event::s(&arrival.mode) {
            "flight" => TransportMode::Flight,
            "train" => TransportMode::Train,
            "car" => TransportMode::Car,
            _ => TransportMode::Other,
        };
        let (Ok(text), Ok(one)) = (Text::parse("", "-"), Headcount::parse("", 1)) else {
            return Vec::new();
        };
        let req = RequestVisit {
            customer: Customer {
                company: text.clone(),
                country: text.clone(),
                foreign: self.foreign,
            },
            department: text.clone(),
            visitors: Vec::new(),
            headcount: one,
            purpose: text,
            arrival: Arrival {
                at,
                mode,
                number: None,
                origin: None,
                place: None,
            },
            departure: Departure {
                at,
                mode,
                number: None,
                place: None,
                arrives_home_at: None,
            },
            needs: Needs {
                meeting_room: self.meeting_room,
                return_tickets: self.return_tickets,
                visa_letter: self.visa_letter,
                ..Needs::default()
            },
            expedited: None,
            budget_fen: None,
            cost_department: None,
            proposed_level: None,
        };
        deadlines::preparation_tasks(&req)
            .into_iter()
            .map(|(id, due)| (id.to_string(), due))
            .collect()
    }
}

/// An open follow-up action (V28), on the board until it is done, also after its
/// visit closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct FollowUpDoc {
    visit_id: String,
    customer: String,
    owner: String,
    text: String,
    due: Option<DateTime<FixedOffset>>,
}

/// One open follow-up on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpItem {
    pub follow_up_id: String,
    pub visit_id: String,
    pub customer: String,
    pub owner: String,
    pub text: String,
    pub due: Option<DateTime<FixedOffset>>,
    /// Past due at the board's `now`.
    pub overdue: bool,
}

/// One open visit on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardVisit {
    pub visit_id: String,
    pub customer: String,
    pub level: Option<String>,
    /// `requested`, `level_assigned`, `plan_drafted`, `plan_approved`, `ready`,
    /// `on_site`, `departed`.
    pub stage: String,
    pub host: Option<String>,
    /// The next step of the process, exactly as `GET /api/v1/visits/{id}` gives it
    /// (the domain's `deadlines::next_step`): `approve_request`, `amend_request`,
    /// `assign_level`, `draft_plan`,
    /// `review_plan`, `assign_staff`, `confirm_readiness`, `dispatch_pickup`,
    /// `record_arrival`, `dispatch_dropoff`, `hand_souvenir`, `record_departure`,
    /// `return_call`, `file_summary`, `decide_expense`, `settle_advance`, `close`.
    pub next_step: String,
    /// When `next_step` is due, if it has a due time.
    pub next_due: Option<DateTime<FixedOffset>>,
    /// DOMAIN.md's board flags: `late_request`, `plan_overdue`, `readiness_overdue`,
    /// `car_late`, `over_cap_pending`, `souvenir_not_handed`, `return_call_overdue`,
    /// `summary_overdue`, `staff_changed_mid_visit`, `over_budget`, `task_overdue`,
    /// `follow_up_overdue`, `rescheduled` (the domain's `board::FLAGS`).
    pub flags: Vec<String>,
    pub arrival: Option<DateTime<FixedOffset>>,
    pub departure: Option<DateTime<FixedOffset>>,
}

/// A person (party) signed in at the front desk and not yet signed out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnSite {
    pub sign_in_id: String,
    pub name: String,
    pub party_size: i64,
    pub reason: String,
    pub host: String,
    pub since: Option<DateTime<FixedOffset>>,
    /// F2: the visit the party signed in for, and that visit's customer.
    #[serde(default)]
    pub visit_id: Option<String>,
    #[serde(default)]
    pub customer: Option<String>,
}

/// Every stage a board row can show, in process order (what `BoardVisit::stage` holds).
pub use reception_domain::board::BOARD_STAGES;

/// `GET /api/v1/board`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Board {
    pub visits: Vec<BoardVisit>,
    pub today: Vec<TimelineItem>,
    pub complaints: Vec<ComplaintView>,
    pub on_site: Vec<OnSite>,
    /// V28: open follow-ups, also of closed visits, by due time.
    pub follow_ups: Vec<FollowUpItem>,
}

/// The first instant of the local day `date` in `tz` (None when midnight falls in a
/// gap; callers then compare dates the slow way).
fn day_start(tz: &Tz, date: chrono::NaiveDate) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The visit events (besides the request, close and cancel) that change a board row.
const VISIT_TYPES: &[&str] = &[
    ty::REQUEST_APPROVED,
    ty::REQUEST_RETURNED,
    ty::REQUEST_AMENDED,
    ty::VISIT_RESCHEDULED,
    ty::TASK_COMPLETED,
    ty::STAFF_CHANGED,
    ty::COOPERATION_MATTER_CONFIRMED,
    ty::LEVEL_ASSIGNED,
    ty::LEVEL_CHANGED,
    ty::PLAN_DRAFTED,
    ty::PLAN_REVIEWED,
    ty::READINESS_CONFIRMED,
    ty::STAFF_ASSIGNED,
    ty::HOST_REASSIGNED,
    ty::CAR_DISPATCHED,
    ty::MEAL_BOOKED,
    ty::ENTERTAINMENT_ARRANGED,
    ty::TOUR_HELD,
    ty::LEADER_MEETING_HELD,
    ty::LEADERSHIP_TALKS_HELD,
    ty::SOUVENIR_PLANNED,
    ty::SOUVENIR_HANDED,
    ty::VISITORS_ARRIVED,
    ty::VISITORS_DEPARTED,
    ty::RETURN_CALL_DONE,
    ty::SUMMARY_FILED,
    ty::EXPENSE_RECORDED,
    ty::EXPENSE_APPROVED,
    ty::EXPENSE_REJECTED,
    ty::CAR_UNAVAILABLE,
    ty::ADVANCE_ISSUED,
    ty::ADVANCE_SETTLED,
];

/// The board's time-independent part, computed once per change of the model and
/// shared by the queries until the next change.
struct Precomputed {
    /// Rows in board order (next due first, then visit id) with their flag times.
    visits: Vec<(BoardVisit, [FlagTime; FLAG_COUNT])>,
    /// Every open visit's timeline, ordered by (time, visit id, kind).
    timeline: Vec<TimelineItem>,
    /// Open complaints ordered by (raised at, complaint id).
    complaints: Vec<ComplaintDoc>,
    /// People on site ordered by (since, sign-in id).
    on_site: Vec<OnSite>,
    /// Open follow-ups ordered by (due, follow-up id).
    follow_ups: Vec<FollowUpItem>,
}

impl VisitDoc {
    /// The facts of the domain's next step rules ([`deadlines::step_of`]) and board
    /// stage, with `arrival` / `departure` given for a request that had none readable.
    fn step_facts_or(
        &self,
        arrival: DateTime<FixedOffset>,
        departure: DateTime<FixedOffset>,
    ) -> StepFacts {
        let uncovered = |leg: &str| {
            !self.cars.iter().any(|c| c.leg == leg) && !self.legs_unavailable.contains(leg)
        };
        StepFacts {
            // closed and cancelled visits leave the board
            finished: false,
            requested_at: self.requested_at,
            arrival: self.arrival.unwrap_or(arrival),
            departure: self.departure.unwrap_or(departure),
            arrives_home_at: self.arrives_home_at,
            level_assigned: self.level.is_some(),
            // the domain's `StepFacts::of` over `RequestApproval`
            approval_pending: self.approval_required
                && self.approvals_given == 0
                && !self.approval_returned,
            approval_returned: self.approval_required && self.approval_returned,
            plan: self.plan,
            host_assigned: self.host.is_some(),
            readiness_confirmed: self.readiness_confirmed,
            pickup_uncovered: self.needs_pickup && uncovered("pickup"),
            dropoff_uncovered: self.needs_dropoff && uncovered("dropoff"),
            arrived: self.arrived_at.is_some(),
            departed_at: self.departed_at,
            souvenir_unhanded: !self.souvenirs_open.is_empty(),
            return_call_done: self.return_call_done,
            summary_filed: self.summary_filed,
            expense_pending_decision: !self.pending_over_cap.is_empty(),
            advance_unsettled: self.advance_unsettled,
        }
    }

    /// The facts of the domain's board rules; `None` when the request gave no
    /// readable arrival or departure.
    fn facts(&self) -> Option<BoardFacts> {
        let (arrival, departure) = (self.arrival?, self.departure?);
        let ready_at = |leg: &str| {
            self.cars
                .iter()
                .filter(|c| c.leg == leg)
                .filter_map(|c| c.ready_at)
                .max()
        };
        Some(BoardFacts {
            step: self.step_facts_or(arrival, departure),
            late: self.late,
            plan_drafted_once: self.plan_drafted_once,
            pickup_ready_at: ready_at("pickup"),
            dropoff_ready_at: ready_at("dropoff"),
            staff_changed_mid_visit: self.staff_changed_mid_visit,
            over_budget: self.over_budget(),
            open_task_due: self.open_tasks().map(|(_, due)| *due).min(),
            open_follow_up_due: self.follow_ups_open.values().min().copied(),
            rescheduled: self.rescheduled,
        })
    }

    /// V22, as the domain's `Visit::over_budget`.
    fn over_budget(&self) -> bool {
        self.budget_fen
            .is_some_and(|budget| self.company_spend_fen > budget)
    }

    /// The preparation tasks not done yet (V26).
    fn open_tasks(&self) -> impl Iterator<Item = &(String, DateTime<FixedOffset>)> {
        self.tasks
            .iter()
            .filter(|(id, _)| !self.tasks_done.contains(id))
    }

    /// The visit's board row without its flags, and when each flag of
    /// [`board::FLAGS`] holds: all of it the domain's rules over the visit's facts.
    /// Everything but the flags is independent of `now` (the next step does not read
    /// the clock).
    fn row(&self, id: &str) -> (BoardVisit, [FlagTime; FLAG_COUNT]) {
        let facts = self.facts();
        let (stage, when, next) = match &facts {
            Some(f) => (
                board::board_stage(&f.step),
                board::flag_times(f),
                deadlines::step_of(&f.step),
            ),
            None => {
                // a request without readable times (never written by the domain):
                // only the flags that read no time
                let never = DateTime::<FixedOffset>::MIN_UTC.fixed_offset();
                let mut when = [FlagTime::Never; FLAG_COUNT];
                for (flag, w) in [
                    ("late_request", FlagTime::of(self.late)),
                    (
                        "over_cap_pending",
                        FlagTime::of(!self.pending_over_cap.is_empty()),
                    ),
                    (
                        "staff_changed_mid_visit",
                        FlagTime::of(self.staff_changed_mid_visit),
                    ),
                    ("over_budget", FlagTime::of(self.over_budget())),
                    ("rescheduled", FlagTime::of(self.rescheduled)),
                ] {
                    if let Some(i) = board::FLAGS.iter().position(|f| *f == flag) {
                        when[i] = w;
                    }
                }
                (
                    board::board_stage(&self.step_facts_or(never, never)),
                    when,
                    None,
                )
            }
        };
        let (next_step, next_due) = next.unwrap_or(("close", None));
        let row = BoardVisit {
            visit_id: id.to_string(),
            customer: self.customer.clone(),
            level: self.level.clone(),
            stage: stage.into(),
            host: self.host.clone(),
            next_step: next_step.to_string(),
            next_due,
            flags: Vec::new(),
            arrival: self.arrival,
            departure: self.departure,
        };
        (row, when)
    }

    /// The planned arrival and departure (a request, its amendment or a reschedule):
    /// the times the rules read, the preparation tasks' due times and the timeline's
    /// arrival and departure items.
    fn plan_journeys(&mut self, visit_id: &str, arrival: &JourneyView, departure: &JourneyView) {
        self.arrival = event::t(&arrival.at);
        self.departure = event::t(&departure.at);
        self.arrives_home_at = event::t(&departure.arrives_home_at);
        self.tasks = self.task_needs.tasks(arrival);
        self.timeline
            .retain(|t| !matches!(t.kind.as_str(), "arrival" | "departure"));
        let (a, dep) = (self.arrival, self.departure);
        self.push_timeline(
            visit_id,
            a,
            "arrival",
            event::s(&arrival.number).to_string(),
            event::s(&arrival.place).to_string(),
        );
        self.push_timeline(
            visit_id,
            dep,
            "departure",
            event::s(&departure.number).to_string(),
            event::s(&departure.place).to_string(),
        );
    }

    /// The request's own fields the board keeps (as filed or amended, V22).
    fn take_request(&mut self, visit_id: &str, d: &Payload<'_>) {
        let customer = d.company();
        if customer != self.customer {
            for t in &mut self.timeline {
                t.customer.clone_from(&customer);
            }
            self.customer = customer;
        }
        let needs = d.needs.clone().unwrap_or_default();
        self.needs_pickup = needs.pickup.unwrap_or(false);
        self.needs_dropoff = needs.dropoff.unwrap_or(false);
        self.budget_fen = d.budget_fen;
        self.task_needs = TaskNeeds::of(d);
        let arrival = d.arrival.clone().unwrap_or_default();
        let departure = d.departure.clone().unwrap_or_default();
        self.plan_journeys(visit_id, &arrival, &departure);
    }

    fn push_timeline(
        &mut self,
        visit_id: &str,
        at: Option<DateTime<FixedOffset>>,
        kind: &str,
        title: String,
        place: String,
    ) {
        if let Some(at) = at {
            self.timeline.push(TimelineItem {
                at,
                visit_id: visit_id.into(),
                customer: self.customer.clone(),
                kind: kind.into(),
                title,
                place,
            });
        }
    }
}

pub(crate) struct BoardProjection {
    tz: Tz,
    visits: Docs<VisitDoc>,
    complaints: Docs<ComplaintDoc>,
    on_site: Docs<OnSite>,
    /// V28: open follow-ups by follow-up id.
    follow_ups: Docs<FollowUpDoc>,
    /// The customer of each finished visit with a confirmed cooperation matter: it may
    /// still get follow-ups (V28), which the board lists with the customer's name.
    finished: Keyed<String>,
    /// The precomputed board; cleared by every change of the model.
    cache: Mutex<Option<Arc<Precomputed>>>,
}

impl BoardProjection {
    fn on_visit(&mut self, ev: &StoredEvent, id: &str) {
        let ty = ev.event_type.as_str();
        match ty {
            // a rejected request ends the visit like a cancellation (V22)
            ty::VISIT_CLOSED | ty::VISIT_CANCELLED | ty::REQUEST_REJECTED => {
                if let Some(v) = self.visits.remove(id) {
                    if v.matter_confirmed {
                        *self.finished.entry(id) = v.customer;
                    }
                }
                return;
            }
            // follow-ups outlive the visit's closing (V28)
            ty::FOLLOW_UP_ADDED | ty::FOLLOW_UP_COMPLETED => {
                self.on_follow_up(ev, id);
                return;
            }
            _ => {}
        }
        if ty != ty::RECEPTION_REQUESTED
            && (!VISIT_TYPES.contains(&ty) || self.visits.get(id).is_none())
        {
            return;
        }
        // events the board takes only the type and time of: their payloads (a plan's
        // items, a summary, a return call's answers) are not decoded
        let data = if matches!(
            ty,
            ty::PLAN_DRAFTED
                | ty::READINESS_CONFIRMED
                | ty::RETURN_CALL_DONE
                | ty::SUMMARY_FILED
                | ty::ADVANCE_ISSUED
                | ty::ADVANCE_SETTLED
                | ty::REQUEST_APPROVED
                | ty::REQUEST_RETURNED
                | ty::COOPERATION_MATTER_CONFIRMED
        ) {
            Payload::default()
        } else {
            Payload::parse(ev.data())
        };
        if ty == ty::RECEPTION_REQUESTED {
            *self.visits.entry(id) = requested(ev, id, &data);
            return;
        }
        let Some(v) = self.visits.get_mut(id) else {
            return;
        };
        let at = event::at(ev, &data);
        let d = &data;
        let str_of = |k: &event::Str<'_>| event::s(k).to_string();
        match ty {
            ty::REQUEST_APPROVED => v.approvals_given += 1,
            ty::REQUEST_RETURNED => v.approval_returned = true,
            ty::REQUEST_AMENDED => {
                // the amended request replaces the filed one; the approvals start over
                if let Some(req) = &d.request {
                    v.take_request(id, req);
                }
                v.approvals_given = 0;
                v.approval_returned = false;
            }
            ty::VISIT_RESCHEDULED => {
                // V23: new planned times; what was recorded stays
                let arrival = d.arrival.clone().unwrap_or_default();
                let departure = d.departure.clone().unwrap_or_default();
                v.plan_journeys(id, &arrival, &departure);
                v.rescheduled = true;
            }
            ty::TASK_COMPLETED => {
                v.tasks_done.insert(str_of(&d.task));
            }
            ty::COOPERATION_MATTER_CONFIRMED => v.matter_confirmed = true,
            ty::LEVEL_ASSIGNED | ty::LEVEL_CHANGED => v.level = event::opt_s(&d.level),
            ty::PLAN_DRAFTED => {
                v.plan = PlanStatus::Drafted;
                v.plan_drafted_once = true;
            }
            ty::PLAN_REVIEWED => {
                if d.approved.unwrap_or(false) {
                    v.plan = PlanStatus::Approved;
                } else {
                    v.plan = PlanStatus::Returned;
                }
            }
            ty::READINESS_CONFIRMED => v.readiness_confirmed = true,
            ty::STAFF_ASSIGNED => v.host = event::opt_s(&d.host),
            ty::HOST_REASSIGNED | ty::STAFF_CHANGED => {
                if ty == ty::HOST_REASSIGNED {
                    v.host = event::opt_s(&d.host);
                }
                // the domain judged it (after arrival) when it changed the staff
                v.staff_changed_mid_visit |= d.mid_visit.unwrap_or(false);
            }
            ty::CAR_DISPATCHED => car_dispatched(v, id, d),
            ty::MEAL_BOOKED => v.push_timeline(
                id,
                event::t(&d.at),
                "meal",
                str_of(&d.meal),
                str_of(&d.venue),
            ),
            ty::ENTERTAINMENT_ARRANGED => v.push_timeline(
                id,
                event::t(&d.at),
                "entertainment",
                str_of(&d.kind),
                String::new(),
            ),
            ty::TOUR_HELD => {
                v.push_timeline(id, Some(at), "tour", str_of(&d.title), str_of(&d.place))
            }
            ty::LEADER_MEETING_HELD => v.push_timeline(
                id,
                Some(at),
                "leader_meeting",
                str_of(&d.leader),
                str_of(&d.place),
            ),
            ty::LEADERSHIP_TALKS_HELD => {
                v.push_timeline(id, Some(at), "talks", str_of(&d.outcome), String::new())
            }
            ty::SOUVENIR_PLANNED => {
                v.souvenirs_open.insert(str_of(&d.souvenir_id));
            }
            ty::SOUVENIR_HANDED => {
                v.souvenirs_open.remove(event::s(&d.souvenir_id));
            }
            ty::VISITORS_ARRIVED => v.arrived_at = Some(at),
            ty::VISITORS_DEPARTED => v.departed_at = Some(at),
            ty::RETURN_CALL_DONE => v.return_call_done = true,
            ty::SUMMARY_FILED => v.summary_filed = true,
            ty::EXPENSE_RECORDED => expense_recorded(v, d),
            ty::EXPENSE_APPROVED | ty::EXPENSE_REJECTED => {
                v.pending_over_cap.remove(event::s(&d.expense_id));
            }
            ty::CAR_UNAVAILABLE => {
                v.legs_unavailable.insert(str_of(&d.leg));
            }
            ty::ADVANCE_ISSUED => v.advance_unsettled = true,
            ty::ADVANCE_SETTLED => v.advance_unsettled = false,
            _ => {}
        }
    }

    /// V28: a follow-up added or done, on an open visit or a finished one.
    fn on_follow_up(&mut self, ev: &StoredEvent, visit_id: &str) {
        let d = Payload::parse(ev.data());
        let Some(fid) = event::opt_s(&d.follow_up_id) else {
            return;
        };
        if ev.event_type == ty::FOLLOW_UP_COMPLETED {
            self.follow_ups.remove(&fid);
            if let Some(v) = self.visits.get_mut(visit_id) {
                v.follow_ups_open.remove(&fid);
            }
            return;
        }
        let due = event::t(&d.due);
        let customer = match self.visits.get_mut(visit_id) {
            Some(v) => {
                if let Some(due) = due {
                    v.follow_ups_open.insert(fid.clone(), due);
                }
                v.customer.clone()
            }
            None => self.finished.get(visit_id).cloned().unwrap_or_default(),
        };
        *self.follow_ups.entry_owned(fid) = FollowUpDoc {
            visit_id: visit_id.to_string(),
            customer,
            owner: event::s(&d.owner).to_string(),
            text: event::s(&d.text).to_string(),
            due,
        };
    }

    fn invalidate(&mut self) {
        *self.cache.get_mut().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The precomputed board, computing it when the model changed since the last query.
    fn precomputed(&self) -> Arc<Precomputed> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pre) = cache.as_ref() {
            return Arc::clone(pre);
        }
        let mut visits: Vec<(BoardVisit, [FlagTime; FLAG_COUNT])> =
            self.visits.map.iter().map(|(id, v)| v.row(id)).collect();
        visits.sort_by(|(a, _), (b, _)| {
            (a.next_due.is_none(), a.next_due, &a.visit_id).cmp(&(
                b.next_due.is_none(),
                b.next_due,
                &b.visit_id,
            ))
        });
        let mut timeline: Vec<TimelineItem> = self
            .visits
            .map
            .iter()
            .flat_map(|(id, v)| v.timeline.iter().cloned().chain(task_items(id, v)))
            .collect();
        let mut follow_ups: Vec<FollowUpItem> = self
            .follow_ups
            .map
            .iter()
            .map(|(id, f)| FollowUpItem {
                follow_up_id: id.clone(),
                visit_id: f.visit_id.clone(),
                customer: f.customer.clone(),
                owner: f.owner.clone(),
                text: f.text.clone(),
                due: f.due,
                overdue: false,
            })
            .collect();
        follow_ups.sort_by(|a, b| {
            (a.due.is_none(), a.due, &a.follow_up_id).cmp(&(
                b.due.is_none(),
                b.due,
                &b.follow_up_id,
            ))
        });
        timeline.extend(follow_ups.iter().filter_map(|f| {
            Some(TimelineItem {
                at: f.due?,
                visit_id: f.visit_id.clone(),
                customer: f.customer.clone(),
                kind: "follow_up".into(),
                title: f.text.clone(),
                place: String::new(),
            })
        }));
        timeline.sort_by(|a, b| (a.at, &a.visit_id, &a.kind).cmp(&(b.at, &b.visit_id, &b.kind)));
        let mut complaints: Vec<ComplaintDoc> = self
            .complaints
            .map
            .values()
            .filter(|c| c.is_open())
            .cloned()
            .collect();
        complaints
            .sort_by(|a, b| (a.raised_at, &a.complaint_id).cmp(&(b.raised_at, &b.complaint_id)));
        let mut on_site: Vec<OnSite> = self.on_site.map.values().cloned().collect();
        on_site.sort_by(|a, b| (a.since, &a.sign_in_id).cmp(&(b.since, &b.sign_in_id)));
        let pre = Arc::new(Precomputed {
            visits,
            timeline,
            complaints,
            on_site,
            follow_ups,
        });
        *cache = Some(Arc::clone(&pre));
        pre
    }

    pub(crate) fn board(&self, now: DateTime<Utc>) -> Board {
        let pre = self.precomputed();
        let fixed = event::fixed(now);
        let visits = pre
            .visits
            .iter()
            .map(|(row, when)| {
                let mut v = row.clone();
                v.flags = board::FLAGS
                    .iter()
                    .zip(when)
                    .filter(|(_, w)| w.holds(fixed))
                    .map(|(name, _)| (*name).to_string())
                    .collect();
                v
            })
            .collect();
        let today = now.with_timezone(&self.tz).date_naive();
        // "today" as an interval of instants: a range of the time-ordered timeline
        let bounds =
            day_start(&self.tz, today).zip(today.succ_opt().and_then(|t| day_start(&self.tz, t)));
        let today_items = match bounds {
            Some((start, end)) => {
                let lo = pre.timeline.partition_point(|t| t.at < start);
                let hi = pre.timeline.partition_point(|t| t.at < end);
                pre.timeline[lo..hi.max(lo)].to_vec()
            }
            None => pre
                .timeline
                .iter()
                .filter(|t| t.at.with_timezone(&self.tz).date_naive() == today)
                .cloned()
                .collect(),
        };
        let complaints = pre
            .complaints
            .iter()
            .map(|c| ComplaintView::of(c, fixed))
            .collect();
        let follow_ups = pre
            .follow_ups
            .iter()
            .map(|f| FollowUpItem {
                // as the domain's `Due` of an unmet follow-up (V28)
                overdue: f.due.is_some_and(|due| fixed > due),
                ..f.clone()
            })
            .collect();
        Board {
            visits,
            today: today_items,
            complaints,
            on_site: pre.on_site.clone(),
            follow_ups,
        }
    }

    /// [`BoardProjection::board`] and the first instant at which the same model may give
    /// another board: the earliest flag or complaint clock still to turn overdue, or the
    /// start of the next day. For every `now'` in `[now, until)`, `board(now')` equals
    /// the board returned (while the model does not change).
    pub(crate) fn board_until(&self, now: DateTime<Utc>) -> (Board, DateTime<Utc>) {
        let board = self.board(now);
        let pre = self.precomputed();
        let fixed = event::fixed(now);
        let today = now.with_timezone(&self.tz).date_naive();
        let mut until = today
            .succ_opt()
            .and_then(|t| day_start(&self.tz, t))
            .filter(|t| *t > now)
            .unwrap_or(now);
        for (_, when) in &pre.visits {
            for w in when {
                if let FlagTime::After(t) = w {
                    let t = t.with_timezone(&Utc);
                    if t >= now {
                        until = until.min(t);
                    }
                }
            }
        }
        for due in pre.follow_ups.iter().filter_map(|f| f.due) {
            let t = due.with_timezone(&Utc);
            if t >= now {
                until = until.min(t);
            }
        }
        for c in &pre.complaints {
            for due in c.deadlines(fixed) {
                let t = due.due_at.with_timezone(&Utc);
                if due.met_at.is_none() && t >= now {
                    until = until.min(t);
                }
            }
        }
        (board, until)
    }
}

impl Projection for BoardProjection {
    const NAME: &'static str = "board";
    /// 2: the visit document keeps the facts of the domain's board rules (`reception_domain::board`).
    /// 3: approvals, budget and spend, tasks, follow-ups and reschedules (V22–V28), the
    /// follow-ups of finished visits, sign-ins' visits (F2).
    const VERSION: u32 = 3;

    fn new(cfg: &ReadSideConfig) -> Self {
        BoardProjection {
            tz: cfg.tz,
            visits: Docs::new("v/"),
            complaints: Docs::new("c/"),
            on_site: Docs::new("f/"),
            follow_ups: Docs::new("u/"),
            finished: Keyed::new("n/"),
            cache: Mutex::new(None),
        }
    }

    fn load(&mut self, rm: &ReadModel) -> Result<(), ProjectionError> {
        self.invalidate();
        self.visits.load(rm)?;
        self.complaints.load(rm)?;
        self.on_site.load(rm)?;
        self.follow_ups.load(rm)?;
        self.finished.load(rm)
    }

    fn apply(&mut self, ev: &StoredEvent) {
        self.invalidate();
        match event::stream_kind(&ev.stream) {
            (StreamKind::Visit, id) => self.on_visit(ev, id),
            (StreamKind::Complaint, id) => {
                if matches!(
                    ev.event_type.as_str(),
                    ty::COMPLAINT_RESOLVED | ty::COMPLAINT_CLOSED
                ) {
                    self.complaints.remove(id);
                } else if ev.event_type == ty::COMPLAINT_RAISED || self.complaints.get(id).is_some()
                {
                    let data = Payload::parse(ev.data());
                    self.complaints.entry(id).apply(ev, &data, id, |_| None);
                }
            }
            (StreamKind::FrontDesk, id) => match ev.event_type.as_str() {
                ty::VISITOR_SIGNED_IN => {
                    let data = Payload::parse(ev.data());
                    *self.on_site.entry(id) = OnSite {
                        sign_in_id: id.to_string(),
                        name: event::s(&data.name).to_string(),
                        party_size: data.party_size.unwrap_or(0).max(1),
                        reason: event::s(&data.reason).to_string(),
                        host: event::s(&data.host).to_string(),
                        since: Some(event::at(ev, &data)),
                        visit_id: event::opt_s(&data.visit_id),
                        customer: Some(data.company()).filter(|c| !c.is_empty()),
                    };
                }
                ty::VISITOR_SIGNED_OUT => {
                    self.on_site.remove(id);
                }
                _ => {}
            },
            _ => {}
        }
    }

    fn drain(&mut self, out: &mut Changes, all: bool) -> Result<(), ProjectionError> {
        self.visits.drain(out, all)?;
        self.complaints.drain(out, all)?;
        self.on_site.drain(out, all)?;
        self.follow_ups.drain(out, all)?;
        self.finished.drain(out, all)?;
        Ok(())
    }

    fn set_tracking(&mut self, on: bool) {
        self.visits.set_tracking(on);
        self.complaints.set_tracking(on);
        self.on_site.set_tracking(on);
        self.follow_ups.set_tracking(on);
        self.finished.set_tracking(on);
    }
}

/// A visit's first board document, from its `ReceptionRequested`: arrival and
/// departure as today's timeline items.
fn requested(ev: &StoredEvent, id: &str, data: &Payload<'_>) -> VisitDoc {
    let mut v = VisitDoc {
        // the envelope's time is the payload's `requested_at` (the domain's
        // `occurred_at` of the event)
        requested_at: Some(ev.occurred_at),
        late: data.late.unwrap_or(false),
        // a request of schema 1 counts as approved (the domain's upcaster)
        approval_required: data.approval_required.unwrap_or(ev.schema >= 2),
        ..VisitDoc::default()
    };
    v.take_request(id, data);
    v
}

/// An expense on the board: its decision pending when over cap (V17) and the
/// company's spend against the budget (V22).
fn expense_recorded(v: &mut VisitDoc, d: &Payload<'_>) {
    // a reversed expense waits for no decision any more (the domain's
    // `Expense::pending_decision`)
    let reverses = event::opt_s(&d.reverses);
    if let Some(orig) = &reverses {
        v.pending_over_cap.remove(orig);
    }
    if d.over_cap.unwrap_or(false) {
        v.pending_over_cap
            .insert(event::s(&d.expense_id).to_string());
    }
    // as `Visit::company_spend_fen`: company-paid amounts, reversals subtracted
    if event::s(&d.paid_by) == "company" {
        let amount = d.amount_fen.unwrap_or(0);
        v.company_spend_fen = v
            .company_spend_fen
            .saturating_add(event::signed_amount(amount, reverses.is_some()));
    }
}

/// Today's timeline items of a visit's preparation tasks not done (V26): owed until the
/// visitors are here.
fn task_items<'v>(id: &'v str, v: &'v VisitDoc) -> impl Iterator<Item = TimelineItem> + 'v {
    let owed = v.arrived_at.is_none();
    v.open_tasks()
        .filter(move |_| owed)
        .map(move |(task, due)| TimelineItem {
            at: *due,
            visit_id: id.to_string(),
            customer: v.customer.clone(),
            kind: "task".into(),
            title: task.clone(),
            place: String::new(),
        })
}

/// A car on the board: its leg, readiness and lateness (V7), and a timeline item.
fn car_dispatched(v: &mut VisitDoc, id: &str, d: &Payload<'_>) {
    let str_of = |k: &event::Str<'_>| event::s(k).to_string();
    let leg = str_of(&d.leg);
    let ready_at = event::t(&d.ready_at);
    // the domain's V7 judgement; an event written without it is judged by
    // the same rule (ready later than `car_ready_by` the leg's time)
    let leg_at = match leg.as_str() {
        "pickup" => v.arrival,
        "dropoff" => v.departure,
        _ => None,
    };
    let late = d.late.unwrap_or_else(
        || matches!((ready_at, leg_at), (Some(r), Some(t)) if r > deadlines::car_ready_by(t)),
    );
    v.cars.push(Car {
        leg: leg.clone(),
        ready_at,
        late,
    });
    let title = format!(
        "{} {} {}",
        str_of(&d.vehicle_class),
        str_of(&d.plate),
        str_of(&d.number)
    )
    .trim()
    .to_string();
    v.push_timeline(id, ready_at, &leg, title, str_of(&d.place));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_the_domains_rules_over_the_kept_facts() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
        let doc = VisitDoc {
            customer: "Huaxin".into(),
            level: Some("senior".into()),
            requested_at: Some(t("2026-06-01T09:00:00+08:00")),
            arrival: Some(t("2026-06-10T10:00:00+08:00")),
            departure: Some(t("2026-06-12T10:00:00+08:00")),
            plan: PlanStatus::Approved,
            plan_drafted_once: true,
            readiness_confirmed: true,
            host: Some("li.na".into()),
            arrived_at: Some(t("2026-06-10T10:00:00+08:00")),
            departed_at: Some(t("2026-06-12T10:00:00+08:00")),
            souvenirs_open: BTreeSet::from(["s1".to_string()]),
            return_call_done: true,
            ..VisitDoc::default()
        };
        let (row, when) = doc.row("v");
        let due = deadlines::summary_due_at(doc.departed_at.unwrap());
        assert_eq!(
            (row.stage.as_str(), row.next_step.as_str()),
            ("departed", "file_summary")
        );
        assert_eq!(row.next_due, Some(due));
        // an unhanded souvenir of a departed visit is flagged at once
        assert_eq!(when[5], FlagTime::Always);
        assert_eq!(when[7], FlagTime::After(due));
    }
}
