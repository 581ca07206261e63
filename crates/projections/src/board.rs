//! The live visit board: open visits with stage, host, next step and flags (computed
//! against `now` at read time), today's timeline in the company's time zone, open
//! complaints with their clocks, and people on site from the front desk.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use chrono_tz::Tz;
use reception_domain::board::{self, BoardFacts, FlagTime};
use reception_domain::deadlines::{self, StepFacts};
use reception_domain::visit::PlanStatus;
use reception_store::{ReadModel, StoredEvent};
use serde::{Deserialize, Serialize};

use crate::complaints::{ComplaintDoc, ComplaintView};
use crate::docs::Docs;
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
    /// `dropoff`, `departure`.
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
    timeline: Vec<TimelineItem>,
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
    /// (the domain's `deadlines::next_step`): `assign_level`, `draft_plan`,
    /// `review_plan`, `assign_staff`, `confirm_readiness`, `dispatch_pickup`,
    /// `record_arrival`, `dispatch_dropoff`, `hand_souvenir`, `record_departure`,
    /// `return_call`, `file_summary`, `decide_expense`, `settle_advance`, `close`.
    pub next_step: String,
    /// When `next_step` is due, if it has a due time.
    pub next_due: Option<DateTime<FixedOffset>>,
    /// DOMAIN.md's board flags: `late_request`, `plan_overdue`, `readiness_overdue`,
    /// `car_late`, `over_cap_pending`, `souvenir_not_handed`, `return_call_overdue`,
    /// `summary_overdue`, `staff_changed_mid_visit`.
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
            approval_pending: false,
            approval_returned: false,
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
            over_budget: false,
            open_task_due: None,
            open_follow_up_due: None,
            rescheduled: false,
        })
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
                when[0] = FlagTime::of(self.late);
                when[4] = FlagTime::of(!self.pending_over_cap.is_empty());
                when[8] = FlagTime::of(self.staff_changed_mid_visit);
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
    /// The precomputed board; cleared by every change of the model.
    cache: Mutex<Option<Arc<Precomputed>>>,
}

impl BoardProjection {
    fn on_visit(&mut self, ev: &StoredEvent, id: &str) {
        let ty = ev.event_type.as_str();
        if matches!(ty, ty::VISIT_CLOSED | ty::VISIT_CANCELLED) {
            self.visits.remove(id);
            return;
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
            ty::HOST_REASSIGNED => {
                v.host = event::opt_s(&d.host);
                // the domain judged it (after arrival) when it reassigned
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
            ty::EXPENSE_RECORDED => {
                // a reversed expense waits for no decision any more (the domain's
                // `Expense::pending_decision`)
                if let Some(orig) = event::opt_s(&d.reverses) {
                    v.pending_over_cap.remove(&orig);
                }
                if d.over_cap.unwrap_or(false) {
                    v.pending_over_cap.insert(str_of(&d.expense_id));
                }
            }
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
            .values()
            .flat_map(|v| v.timeline.iter())
            .cloned()
            .collect();
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
        Board {
            visits,
            today: today_items,
            complaints,
            on_site: pre.on_site.clone(),
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
    const VERSION: u32 = 2;

    fn new(cfg: &ReadSideConfig) -> Self {
        BoardProjection {
            tz: cfg.tz,
            visits: Docs::new("v/"),
            complaints: Docs::new("c/"),
            on_site: Docs::new("f/"),
            cache: Mutex::new(None),
        }
    }

    fn load(&mut self, rm: &ReadModel) -> Result<(), ProjectionError> {
        self.invalidate();
        self.visits.load(rm)?;
        self.complaints.load(rm)?;
        self.on_site.load(rm)
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
        Ok(())
    }

    fn set_tracking(&mut self, on: bool) {
        self.visits.set_tracking(on);
        self.complaints.set_tracking(on);
        self.on_site.set_tracking(on);
    }
}

/// A visit's first board document, from its `ReceptionRequested`: arrival and
/// departure as today's timeline items.
fn requested(ev: &StoredEvent, id: &str, data: &Payload<'_>) -> VisitDoc {
    let arrival = data.arrival.clone().unwrap_or_default();
    let departure = data.departure.clone().unwrap_or_default();
    let needs = data.needs.clone().unwrap_or_default();
    let mut v = VisitDoc {
        customer: data.company(),
        // the envelope's time is the payload's `requested_at` (the domain's
        // `occurred_at` of the event)
        requested_at: Some(ev.occurred_at),
        needs_pickup: needs.pickup.unwrap_or(false),
        needs_dropoff: needs.dropoff.unwrap_or(false),
        late: data.late.unwrap_or(false),
        arrival: event::t(&arrival.at),
        departure: event::t(&departure.at),
        arrives_home_at: event::t(&departure.arrives_home_at),
        ..VisitDoc::default()
    };
    let (a, dep) = (v.arrival, v.departure);
    v.push_timeline(
        id,
        a,
        "arrival",
        event::s(&arrival.number).to_string(),
        event::s(&arrival.place).to_string(),
    );
    v.push_timeline(
        id,
        dep,
        "departure",
        event::s(&departure.number).to_string(),
        event::s(&departure.place).to_string(),
    );
    v
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
