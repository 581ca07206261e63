//! The event vocabulary the read side speaks: event type names, stream kinds, and a
//! borrowed view of the payload fields the projections read, each tied to the typed
//! events by tests so that renaming a field here fails a domain test instead of
//! silently emptying a read model.
//!
//! The projections decode a payload once per event into [`Payload`], a borrowed view
//! of just the fields they read (a rebuild decodes millions of events; the typed
//! events would allocate every string and parse every time). [`READS`] says which of
//! those fields each event type carries; the tests check every listed field against
//! the event's JSON Schema (generated from the typed event) and decode real events of
//! every kind, produced by `decide`, through the view.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::aggregate::Aggregate;
use crate::complaint::Complaint;
use crate::frontdesk::SignIn;
use crate::policy::PolicyState;
use crate::visit::Visit;

/// Event type names, as the domain's `DomainEvent::event_type` gives them.
pub mod types {
    pub const RECEPTION_REQUESTED: &str = "ReceptionRequested";
    pub const LEVEL_ASSIGNED: &str = "LevelAssigned";
    pub const LEVEL_CHANGED: &str = "LevelChanged";
    pub const PLAN_DRAFTED: &str = "PlanDrafted";
    pub const PLAN_REVIEWED: &str = "PlanReviewed";
    pub const RECEPTION_UNIT_CONTACTED: &str = "ReceptionUnitContacted";
    pub const READINESS_CONFIRMED: &str = "ReadinessConfirmed";
    pub const STAFF_ASSIGNED: &str = "StaffAssigned";
    pub const HOST_REASSIGNED: &str = "HostReassigned";
    pub const CAR_DISPATCHED: &str = "CarDispatched";
    pub const CAR_UNAVAILABLE: &str = "CarUnavailable";
    pub const LODGING_BOOKED: &str = "LodgingBooked";
    pub const TOUR_HELD: &str = "TourHeld";
    pub const LEADER_MEETING_HELD: &str = "LeaderMeetingHeld";
    pub const MEAL_BOOKED: &str = "MealBooked";
    pub const ENTERTAINMENT_ARRANGED: &str = "EntertainmentArranged";
    pub const SOUVENIR_PLANNED: &str = "SouvenirPlanned";
    pub const SOUVENIR_HANDED: &str = "SouvenirHanded";
    pub const COOPERATION_MATTER_PROPOSED: &str = "CooperationMatterProposed";
    pub const COOPERATION_MATTER_CONFIRMED: &str = "CooperationMatterConfirmed";
    pub const LEADERSHIP_TALKS_HELD: &str = "LeadershipTalksHeld";
    pub const VISITORS_ARRIVED: &str = "VisitorsArrived";
    pub const VISITORS_DEPARTED: &str = "VisitorsDeparted";
    pub const RETURN_CALL_ATTEMPTED: &str = "ReturnCallAttempted";
    pub const RETURN_CALL_DONE: &str = "ReturnCallDone";
    pub const SUMMARY_FILED: &str = "SummaryFiled";
    pub const EXPENSE_RECORDED: &str = "ExpenseRecorded";
    pub const EXPENSE_APPROVED: &str = "ExpenseApproved";
    pub const EXPENSE_REJECTED: &str = "ExpenseRejected";
    pub const ADVANCE_ISSUED: &str = "AdvanceIssued";
    pub const ADVANCE_SETTLED: &str = "AdvanceSettled";
    pub const CUSTOMER_PREFERENCE_NOTED: &str = "CustomerPreferenceNoted";
    pub const VISIT_CANCELLED: &str = "VisitCancelled";
    pub const VISIT_CLOSED: &str = "VisitClosed";
    pub const REQUEST_APPROVED: &str = "RequestApproved";
    pub const REQUEST_RETURNED: &str = "RequestReturned";
    pub const REQUEST_REJECTED: &str = "RequestRejected";
    pub const REQUEST_AMENDED: &str = "RequestAmended";
    pub const VISIT_RESCHEDULED: &str = "VisitRescheduled";
    pub const TASK_COMPLETED: &str = "TaskCompleted";
    pub const STAFF_CHANGED: &str = "StaffChanged";
    pub const FOLLOW_UP_ADDED: &str = "FollowUpAdded";
    pub const FOLLOW_UP_COMPLETED: &str = "FollowUpCompleted";
    pub const MINUTES_SUBMITTED: &str = "MinutesSubmitted";
    pub const HOME_RECEPTION_HELD: &str = "HomeReceptionHeld";

    pub const COMPLAINT_RAISED: &str = "ComplaintRaised";
    pub const COMPLAINT_ASSIGNED: &str = "ComplaintAssigned";
    pub const COMPLAINT_REPORTED: &str = "ComplaintReported";
    pub const COMPLAINT_ANALYSED: &str = "ComplaintAnalysed";
    pub const COMPLAINT_FEEDBACK_GIVEN: &str = "ComplaintFeedbackGiven";
    pub const COMPLAINT_SOLUTION_AGREED: &str = "ComplaintSolutionAgreed";
    pub const COMPLAINT_ESCALATED: &str = "ComplaintEscalated";
    pub const COMPLAINT_RESOLVED: &str = "ComplaintResolved";
    pub const COMPLAINT_RETURN_VISIT_DONE: &str = "ComplaintReturnVisitDone";
    pub const COMPLAINT_CLOSED: &str = "ComplaintClosed";
    pub const COMPLAINT_JUDGED: &str = "ComplaintJudged";
    pub const COMPLAINT_WORK_LETTER_SENT: &str = "ComplaintWorkLetterSent";
    pub const COMPLAINT_WORK_LETTER_ANSWERED: &str = "ComplaintWorkLetterAnswered";
    pub const COMPLAINT_DEADLINE_MISSED: &str = "ComplaintDeadlineMissed";
    pub const COMPLAINT_ADDED_TO_CASE_LIBRARY: &str = "ComplaintAddedToCaseLibrary";

    pub const VISITOR_SIGNED_IN: &str = "VisitorSignedIn";
    pub const VISITOR_SIGNED_OUT: &str = "VisitorSignedOut";

    pub const POLICY_PUBLISHED: &str = "PolicyPublished";

    pub const STAFF_MEMBER_REGISTERED: &str = "StaffMemberRegistered";
    pub const STAFF_MEMBER_UPDATED: &str = "StaffMemberUpdated";
    pub const STAFF_MEMBER_RETIRED: &str = "StaffMemberRetired";
    pub const NOTIFICATION_RULES_PUBLISHED: &str = "NotificationRulesPublished";

    /// Every name above (a test checks it equals the domain's own list).
    pub const ALL: &[&str] = &[
        RECEPTION_REQUESTED,
        LEVEL_ASSIGNED,
        LEVEL_CHANGED,
        PLAN_DRAFTED,
        PLAN_REVIEWED,
        RECEPTION_UNIT_CONTACTED,
        READINESS_CONFIRMED,
        STAFF_ASSIGNED,
        HOST_REASSIGNED,
        CAR_DISPATCHED,
        CAR_UNAVAILABLE,
        LODGING_BOOKED,
        TOUR_HELD,
        LEADER_MEETING_HELD,
        MEAL_BOOKED,
        ENTERTAINMENT_ARRANGED,
        SOUVENIR_PLANNED,
        SOUVENIR_HANDED,
        COOPERATION_MATTER_PROPOSED,
        COOPERATION_MATTER_CONFIRMED,
        LEADERSHIP_TALKS_HELD,
        VISITORS_ARRIVED,
        VISITORS_DEPARTED,
        RETURN_CALL_ATTEMPTED,
        RETURN_CALL_DONE,
        SUMMARY_FILED,
        EXPENSE_RECORDED,
        EXPENSE_APPROVED,
        EXPENSE_REJECTED,
        ADVANCE_ISSUED,
        ADVANCE_SETTLED,
        CUSTOMER_PREFERENCE_NOTED,
        VISIT_CANCELLED,
        VISIT_CLOSED,
        REQUEST_APPROVED,
        REQUEST_RETURNED,
        REQUEST_REJECTED,
        REQUEST_AMENDED,
        VISIT_RESCHEDULED,
        TASK_COMPLETED,
        STAFF_CHANGED,
        FOLLOW_UP_ADDED,
        FOLLOW_UP_COMPLETED,
        MINUTES_SUBMITTED,
        HOME_RECEPTION_HELD,
        COMPLAINT_RAISED,
        COMPLAINT_ASSIGNED,
        COMPLAINT_REPORTED,
        COMPLAINT_ANALYSED,
        COMPLAINT_FEEDBACK_GIVEN,
        COMPLAINT_SOLUTION_AGREED,
        COMPLAINT_ESCALATED,
        COMPLAINT_RESOLVED,
        COMPLAINT_RETURN_VISIT_DONE,
        COMPLAINT_CLOSED,
        COMPLAINT_JUDGED,
        COMPLAINT_WORK_LETTER_SENT,
        COMPLAINT_WORK_LETTER_ANSWERED,
        COMPLAINT_DEADLINE_MISSED,
        COMPLAINT_ADDED_TO_CASE_LIBRARY,
        VISITOR_SIGNED_IN,
        VISITOR_SIGNED_OUT,
        POLICY_PUBLISHED,
        STAFF_MEMBER_REGISTERED,
        STAFF_MEMBER_UPDATED,
        STAFF_MEMBER_RETIRED,
        NOTIFICATION_RULES_PUBLISHED,
    ];
}

/// The aggregate kind of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Visit,
    Complaint,
    FrontDesk,
    Policy,
    /// Any other stream (tokens, ...).
    Other,
}

/// Splits a stream name into its kind and the aggregate id: `visit-<id>` →
/// (Visit, "<id>"), the single `policy` stream → (Policy, ""), anything else →
/// (Other, the whole name). The prefixes are the aggregates' [`Aggregate::KIND`].
pub fn stream_kind(stream: &str) -> (StreamKind, &str) {
    let id_of = |kind: &str| stream.strip_prefix(kind)?.strip_prefix('-');
    if let Some(id) = id_of(Visit::KIND) {
        (StreamKind::Visit, id)
    } else if let Some(id) = id_of(Complaint::KIND) {
        (StreamKind::Complaint, id)
    } else if let Some(id) = id_of(SignIn::KIND) {
        (StreamKind::FrontDesk, id)
    } else if stream == PolicyState::KIND {
        (StreamKind::Policy, "")
    } else {
        (StreamKind::Other, stream)
    }
}

/// The stream of aggregate `A` with id `id` (`visit-<id>`).
pub fn stream_of<A: Aggregate>(id: &str) -> String {
    format!("{}-{id}", A::KIND)
}

/// An optional borrowed string field.
pub type Str<'a> = Option<Cow<'a, str>>;

/// `customer`: a company name (complaints), or a request's object with `company`,
/// `country`, `foreign`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CustomerView<'a> {
    Name(#[serde(borrow)] Cow<'a, str>),
    Object {
        #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
        company: Str<'a>,
        #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
        country: Str<'a>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        foreign: Option<bool>,
    },
}

/// A request's `needs` (what the board's next step and preparation tasks read).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NeedsView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropoff: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_room: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_tickets: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visa_letter: Option<bool>,
}

/// A request's `arrival` / `departure`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JourneyView<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub at: Str<'a>,
    /// `flight`, `train`, `car`, `other` (V26: a self-driving customer needs parking).
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub mode: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub number: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub place: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub arrives_home_at: Str<'a>,
}

/// One of a request's `visitors`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VisitorView<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub name: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub title: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub phone: Str<'a>,
}

/// Every payload field any projection reads, borrowed from the payload's bytes (all
/// optional: which event types carry which field is [`READS`]). Unknown fields are
/// skipped unread.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Payload<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub at: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerView<'a>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub department: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub purpose: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headcount: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub visitors: Option<Vec<VisitorView<'a>>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<JourneyView<'a>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub departure: Option<JourneyView<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<NeedsView>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub level: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<bool>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub host: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid_visit: Option<bool>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub leg: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub ready_at: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub vehicle_class: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub plate: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub number: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub place: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub meal: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub venue: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub kind: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub title: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub leader: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub outcome: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub souvenir_id: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub expense_id: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_cap: Option<bool>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub reverses: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_fen: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub category: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub paid_by: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub booking_id: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_fen: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub visit_id: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub severity: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub description: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic: Option<bool>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub name: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rooms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nights: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub reason: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub subject: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub text: Str<'a>,
    /// V22: whether the request waits for approvals (absent in schema 1 requests,
    /// which count as approved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_fen: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub cost_department: Str<'a>,
    /// `RequestAmended`: the whole request as amended (the request's own field names).
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub request: Option<Box<Payload<'a>>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub task: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub follow_up_id: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub matter_id: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub owner: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub due: Str<'a>,
    /// V24: when an expense's money was spent (schema 1: absent, the event's time).
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub spent_at: Str<'a>,
    /// V24: who was paid and the expense's subcategory id.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub vendor: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub subcategory: Str<'a>,
}

impl<'a> Payload<'a> {
    /// Decodes a payload; fields of an unexpected type (and anything in a payload that
    /// is not an object) read as absent.
    pub fn parse(bytes: &'a [u8]) -> Payload<'a> {
        serde_json::from_slice(bytes).unwrap_or_else(|_| Payload::lenient(bytes))
    }

    /// The slow path for a payload the typed decode refused: keeps the fields that
    /// decode on their own.
    fn lenient(bytes: &[u8]) -> Payload<'static> {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
            return Payload::default();
        };
        let kept: Map<String, Value> = map
            .into_iter()
            .filter(|(k, v)| {
                let one = Value::Object(Map::from_iter([(k.clone(), v.clone())]));
                Payload::deserialize(one).is_ok()
            })
            .collect();
        Payload::deserialize(Value::Object(kept)).unwrap_or_default()
    }

    /// The customer's company name (`customer` given as a string or as `{company}`).
    pub fn company(&self) -> String {
        company_of(&self.customer)
    }

    /// `arrival.at` as a time.
    pub fn arrival_at(&self) -> Option<DateTime<FixedOffset>> {
        journey_at(&self.arrival)
    }

    /// `departure.at` as a time.
    pub fn departure_at(&self) -> Option<DateTime<FixedOffset>> {
        journey_at(&self.departure)
    }
}

/// The fields the cost analyses read: a narrower [`Payload`] (the same names, a test
/// checks they decode alike), so a cost rebuild skips the rest of a payload unread.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CostView<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub at: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerView<'a>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub department: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headcount: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub visitors: Option<Vec<VisitorView<'a>>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<JourneyView<'a>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub departure: Option<JourneyView<'a>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub level: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub expense_id: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_fen: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub reverses: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_cap: Option<bool>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub category: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub paid_by: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub booking_id: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_fen: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub spent_at: Str<'a>,
    /// V22: who bears the visit's cost (absent: the requesting `department`).
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub cost_department: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_fen: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub host: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub description: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub vendor: Str<'a>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub subcategory: Str<'a>,
    /// A booking's cap basis (the what-if analysis): meal, party size, rooms and
    /// nights; a souvenir's id and quantity.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub meal: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rooms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nights: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub souvenir_id: Str<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// `RequestAmended`: the request as amended.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub request: Option<Box<CostView<'a>>>,
}

impl<'a> CostView<'a> {
    /// Like [`Payload::parse`]: a payload the narrow decode refuses (a field of an
    /// unexpected type) takes [`Payload`]'s lenient path, which keeps the fields that
    /// decode on their own.
    pub fn parse(bytes: &'a [u8]) -> CostView<'a> {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| CostView::of_payload(Payload::parse(bytes)))
    }

    /// The cost fields of a decoded [`Payload`] (the lenient path, and a nested
    /// amended request).
    fn of_payload(p: Payload<'a>) -> CostView<'a> {
        CostView {
            at: p.at,
            customer: p.customer,
            department: p.department,
            headcount: p.headcount,
            visitors: p.visitors,
            arrival: p.arrival,
            departure: p.departure,
            level: p.level,
            expense_id: p.expense_id,
            amount_fen: p.amount_fen,
            reverses: p.reverses,
            over_cap: p.over_cap,
            category: p.category,
            paid_by: p.paid_by,
            booking_id: p.booking_id,
            cap_fen: p.cap_fen,
            spent_at: p.spent_at,
            cost_department: p.cost_department,
            budget_fen: p.budget_fen,
            host: p.host,
            description: p.description,
            vendor: p.vendor,
            subcategory: p.subcategory,
            meal: p.meal,
            party_size: p.party_size,
            rooms: p.rooms,
            nights: p.nights,
            souvenir_id: p.souvenir_id,
            quantity: p.quantity,
            request: p.request.map(|r| Box::new(CostView::of_payload(*r))),
        }
    }

    /// See [`Payload::company`].
    pub fn company(&self) -> String {
        company_of(&self.customer)
    }

    /// `arrival.at` as a time.
    pub fn arrival_at(&self) -> Option<DateTime<FixedOffset>> {
        journey_at(&self.arrival)
    }

    /// `departure.at` as a time.
    pub fn departure_at(&self) -> Option<DateTime<FixedOffset>> {
        journey_at(&self.departure)
    }
}

/// The one field of a request the complaint reports read (its `department`), the rest
/// skipped unread.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DepartmentView<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub department: Str<'a>,
}

/// The company name of a `customer` field (a string or `{company}`).
fn company_of(customer: &Option<CustomerView<'_>>) -> String {
    match customer {
        Some(CustomerView::Name(c)) => c.to_string(),
        Some(CustomerView::Object { company, .. }) => company.as_deref().unwrap_or("").to_string(),
        None => String::new(),
    }
}

/// A journey's `at` as a time.
fn journey_at(j: &Option<JourneyView<'_>>) -> Option<DateTime<FixedOffset>> {
    j.as_ref()
        .and_then(|j| j.at.as_deref())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
}

/// Per event type, the top-level payload fields the read side reads through
/// [`Payload`] (board, costs, complaints, archive). Event types the read side takes
/// only the type and time of are absent.
pub const READS: &[(&str, &[&str])] = {
    use types::*;
    &[
        (
            RECEPTION_REQUESTED,
            &[
                "customer",
                "department",
                "purpose",
                "headcount",
                "visitors",
                "arrival",
                "departure",
                "late",
                "needs",
                "approval_required",
                "budget_fen",
                "cost_department",
            ],
        ),
        (REQUEST_AMENDED, &["request"]),
        (
            VISIT_RESCHEDULED,
            &["arrival", "departure", "headcount", "visitors"],
        ),
        (TASK_COMPLETED, &["task"]),
        (STAFF_CHANGED, &["mid_visit"]),
        (
            FOLLOW_UP_ADDED,
            &["follow_up_id", "matter_id", "owner", "due", "text"],
        ),
        (FOLLOW_UP_COMPLETED, &["follow_up_id"]),
        (LEVEL_ASSIGNED, &["level"]),
        (LEVEL_CHANGED, &["level"]),
        (PLAN_REVIEWED, &["approved"]),
        (STAFF_ASSIGNED, &["host"]),
        (HOST_REASSIGNED, &["host", "mid_visit"]),
        (
            CAR_DISPATCHED,
            &[
                "leg",
                "ready_at",
                "late",
                "vehicle_class",
                "plate",
                "number",
                "place",
            ],
        ),
        (CAR_UNAVAILABLE, &["leg"]),
        (
            MEAL_BOOKED,
            &["at", "meal", "venue", "booking_id", "party_size"],
        ),
        (
            ENTERTAINMENT_ARRANGED,
            &["at", "kind", "booking_id", "party_size"],
        ),
        (LODGING_BOOKED, &["booking_id", "rooms", "nights"]),
        (TOUR_HELD, &["at", "title", "place"]),
        (LEADER_MEETING_HELD, &["at", "leader", "place"]),
        (LEADERSHIP_TALKS_HELD, &["at", "outcome"]),
        (SOUVENIR_PLANNED, &["souvenir_id", "quantity"]),
        (SOUVENIR_HANDED, &["souvenir_id"]),
        (VISITORS_ARRIVED, &["at"]),
        (VISITORS_DEPARTED, &["at"]),
        (
            EXPENSE_RECORDED,
            &[
                "expense_id",
                "amount_fen",
                "reverses",
                "over_cap",
                "category",
                "paid_by",
                "booking_id",
                "cap_fen",
                "level",
                "spent_at",
                "description",
                "vendor",
                "subcategory",
            ],
        ),
        (EXPENSE_APPROVED, &["expense_id"]),
        (EXPENSE_REJECTED, &["expense_id"]),
        (CUSTOMER_PREFERENCE_NOTED, &["subject", "kind", "text"]),
        (
            COMPLAINT_RAISED,
            &[
                "at",
                "visit_id",
                "customer",
                "severity",
                "category",
                "description",
                "department",
            ],
        ),
        (COMPLAINT_ASSIGNED, &["at", "department"]),
        (COMPLAINT_REPORTED, &["at"]),
        (COMPLAINT_ANALYSED, &["at"]),
        (COMPLAINT_FEEDBACK_GIVEN, &["at"]),
        (COMPLAINT_SOLUTION_AGREED, &["at"]),
        (COMPLAINT_ESCALATED, &["at", "automatic"]),
        (COMPLAINT_RESOLVED, &["at"]),
        (COMPLAINT_RETURN_VISIT_DONE, &["at"]),
        (COMPLAINT_CLOSED, &["at"]),
        (
            VISITOR_SIGNED_IN,
            &[
                "at",
                "name",
                "party_size",
                "reason",
                "host",
                "visit_id",
                "customer",
            ],
        ),
    ]
};

/// The fields of a request's nested objects that [`Payload`] reads, by the top-level
/// field holding them.
pub const NESTED_READS: &[(&str, &[&str])] = &[
    ("customer", &["company", "country", "foreign"]),
    ("visitors", &["name", "title", "phone"]),
    ("arrival", &["at", "mode", "number", "place"]),
    ("departure", &["at", "number", "place", "arrives_home_at"]),
    (
        "needs",
        &[
            "pickup",
            "dropoff",
            "meeting_room",
            "return_tickets",
            "visa_letter",
        ],
    ),
    (
        "request",
        &[
            "customer",
            "department",
            "headcount",
            "visitors",
            "arrival",
            "departure",
            "needs",
            "budget_fen",
            "cost_department",
        ],
    ),
];

/// The fields of a plan item (`PlanDrafted.items[]`) the customer archive keeps.
pub const PLAN_ITEM_FIELDS: &[&str] = &["at", "kind", "title", "place"];

/// The payload fields the customer archive keeps, as JSON, of a visit event (with the
/// entry's id field first where it has one), or None for an event it does not keep so.
pub fn archived_fields(event_type: &str) -> Option<&'static [&'static str]> {
    use types::*;
    Some(match event_type {
        PLAN_DRAFTED => &["items"],
        STAFF_ASSIGNED => &["host", "accompanying"],
        LODGING_BOOKED => &[
            "booking_id",
            "hotel",
            "stars",
            "rooms",
            "nights",
            "rate_fen",
            "paid_by",
        ],
        MEAL_BOOKED => &[
            "booking_id",
            "meal",
            "at",
            "venue",
            "party_size",
            "budget_fen",
        ],
        ENTERTAINMENT_ARRANGED => &["booking_id", "at", "kind", "party_size", "budget_fen"],
        TOUR_HELD | LEADER_MEETING_HELD | LEADERSHIP_TALKS_HELD => &[
            "at",
            "place",
            "title",
            "leader",
            "outcome",
            "attendees",
            "minutes_ref",
        ],
        SOUVENIR_PLANNED => &["souvenir_id", "item", "unit_cost_fen", "quantity"],
        SOUVENIR_HANDED => &["souvenir_id"],
        COOPERATION_MATTER_PROPOSED => &["matter_id", "by", "text"],
        COOPERATION_MATTER_CONFIRMED => &[
            "matter_id",
            "company_confirmed_by",
            "visitor_confirmed_by",
            "record_ref",
        ],
        RETURN_CALL_DONE => &[
            "reached",
            "products",
            "corporate_image",
            "reception",
            "satisfaction",
            "arrived_safely",
            "suggestions",
        ],
        MINUTES_SUBMITTED => &["ref", "attendees", "submitted_at"],
        HOME_RECEPTION_HELD => &["at", "staff"],
        STAFF_CHANGED => &["added", "removed", "reason", "mid_visit", "changed_at"],
        FOLLOW_UP_ADDED => &["follow_up_id", "matter_id", "owner", "due", "text"],
        FOLLOW_UP_COMPLETED => &["follow_up_id", "notes", "late", "completed_at"],
        _ => return None,
    })
}

/// The event types [`archived_fields`] knows (for the tests).
pub const ARCHIVED_TYPES: &[&str] = {
    use types::*;
    &[
        PLAN_DRAFTED,
        STAFF_ASSIGNED,
        LODGING_BOOKED,
        MEAL_BOOKED,
        ENTERTAINMENT_ARRANGED,
        TOUR_HELD,
        LEADER_MEETING_HELD,
        LEADERSHIP_TALKS_HELD,
        SOUVENIR_PLANNED,
        SOUVENIR_HANDED,
        COOPERATION_MATTER_PROPOSED,
        COOPERATION_MATTER_CONFIRMED,
        RETURN_CALL_DONE,
        MINUTES_SUBMITTED,
        HOME_RECEPTION_HELD,
        STAFF_CHANGED,
        FOLLOW_UP_ADDED,
        FOLLOW_UP_COMPLETED,
    ]
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::common::{DomainEvent, NamedSchema};
    use crate::complaint::ComplaintEvent;
    use crate::frontdesk::SignInEvent;
    use crate::policy::PolicyEvent;
    use crate::visit::VisitEvent;

    fn all_schemas() -> Vec<NamedSchema> {
        let mut all = VisitEvent::schemas();
        all.extend(ComplaintEvent::schemas());
        all.extend(SignInEvent::schemas());
        all.extend(PolicyEvent::schemas());
        all.extend(crate::staff::StaffEvent::schemas());
        all.extend(crate::notification::RulesEvent::schemas());
        all
    }

    #[test]
    fn the_type_names_are_the_domains_own() {
        let domain: BTreeSet<&str> = all_schemas().iter().map(|s| s.name).collect();
        let ours: BTreeSet<&str> = types::ALL.iter().copied().collect();
        assert_eq!(ours, domain);
        assert_eq!(ours.len(), types::ALL.len(), "a name is listed twice");
    }

    /// The top-level property names of an event type's schema (flattened structs
    /// included).
    fn properties(schema: &NamedSchema) -> BTreeSet<String> {
        let json = serde_json::to_value(&schema.schema).unwrap();
        let mut out = BTreeSet::new();
        collect_properties(&json, &json, &mut out);
        out
    }

    fn collect_properties(root: &Value, at: &Value, out: &mut BTreeSet<String>) {
        if let Some(Value::String(r)) = at.get("$ref") {
            let name = r.rsplit('/').next().unwrap_or_default();
            if let Some(def) = root.get("$defs").and_then(|d| d.get(name)) {
                collect_properties(root, def, out);
            }
        }
        if let Some(Value::Object(props)) = at.get("properties") {
            out.extend(props.keys().cloned());
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(parts)) = at.get(key) {
                for p in parts {
                    collect_properties(root, p, out);
                }
            }
        }
    }

    #[test]
    fn every_field_the_read_side_reads_is_in_its_events_schema() {
        let schemas = all_schemas();
        let of = |ty: &str| {
            let s = schemas.iter().find(|s| s.name == ty).expect(ty);
            properties(s)
        };
        let archived = ARCHIVED_TYPES
            .iter()
            .map(|ty| (*ty, archived_fields(ty).unwrap()));
        for (ty, fields) in READS.iter().copied().chain(archived) {
            let props = of(ty);
            for field in fields {
                // the tour, meeting and talks share one list: each has its own subset
                if matches!(
                    ty,
                    types::TOUR_HELD | types::LEADER_MEETING_HELD | types::LEADERSHIP_TALKS_HELD
                ) && READS.iter().all(|(t, f)| *t != ty || !f.contains(field))
                {
                    continue;
                }
                assert!(
                    props.contains(*field),
                    "{ty} has no field {field:?}: {props:?}"
                );
            }
        }
    }

    #[test]
    fn every_field_read_is_a_field_of_the_view() {
        // a one-field payload of the right shape comes back through the view
        let sample = |field: &str| -> Value {
            match field {
                "customer" => serde_json::json!({"company": "x"}),
                "visitors" => serde_json::json!([{"name": "x"}]),
                "arrival" | "departure" => serde_json::json!({"at": "x"}),
                "needs" => serde_json::json!({"pickup": true}),
                "request" => serde_json::json!({"department": "x"}),
                "late" | "approved" | "mid_visit" | "over_cap" | "automatic"
                | "approval_required" => Value::Bool(true),
                "headcount" | "amount_fen" | "cap_fen" | "party_size" | "budget_fen" | "rooms"
                | "nights" | "quantity" => Value::from(1),
                _ => Value::from("x"),
            }
        };
        for (ty, fields) in READS {
            for field in *fields {
                let one = serde_json::json!({ *field: sample(field) }).to_string();
                let back = serde_json::to_value(Payload::parse(one.as_bytes())).unwrap();
                assert!(
                    back.get(*field).is_some(),
                    "{ty}.{field} is not read by the view"
                );
            }
        }
    }

    #[test]
    fn streams_are_named_by_the_aggregates_kinds() {
        assert_eq!(
            stream_kind(&stream_of::<Visit>("a-1")),
            (StreamKind::Visit, "a-1")
        );
        assert_eq!(
            stream_kind(&stream_of::<Complaint>("b")),
            (StreamKind::Complaint, "b")
        );
        assert_eq!(
            stream_kind(&stream_of::<SignIn>("c")),
            (StreamKind::FrontDesk, "c")
        );
        assert_eq!(stream_kind("policy"), (StreamKind::Policy, ""));
        assert_eq!(stream_kind("tokens"), (StreamKind::Other, "tokens"));
        assert_eq!(stream_kind("visitors"), (StreamKind::Other, "visitors"));
    }

    #[test]
    fn fields_of_an_unexpected_type_read_as_absent_and_the_rest_is_kept() {
        let p = Payload::parse(
            br#"{"late": "yes", "host": "Li Na", "amount_fen": 1.5, "party_size": 3}"#,
        );
        assert_eq!(
            (p.late, p.host.as_deref(), p.amount_fen, p.party_size),
            (None, Some("Li Na"), None, Some(3))
        );
        assert!(Payload::parse(b"[1, 2]").host.is_none());
        let p = Payload::parse(
            br#"{"customer": "ACME", "arrival": {"at": "2026-11-22T09:00:00+08:00"}}"#,
        );
        assert_eq!(p.company(), "ACME");
        assert!(p.arrival_at().is_some() && p.departure_at().is_none());
        let p = Payload::parse(br#"{"customer": {"company": "Huaxin \"Q\"", "foreign": true}}"#);
        assert_eq!(p.company(), "Huaxin \"Q\"");
    }
}
