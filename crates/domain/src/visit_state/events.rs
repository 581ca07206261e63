//! Visit events: one payload struct per event type of API.md, schema version 1 unless
//! the macro names another (`v 2`); [`upcast`] brings older payloads to the current one.
//!
//! Payload convention: the command body's fields under API.md's names, plus the id of
//! the entity the event creates (`booking_id`, `car_id`, …), plus every judgement a
//! projection would otherwise recompute (`late`, `cap_fen`, `over_cap`, `level`,
//! `policy_version`).

use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commands::*;
use crate::common::{DomainEvent, Fen, NamedSchema};
use crate::policy_book::{LevelId, PaidBy};

/// `ReceptionRequested`: the whole request, flattened, plus its judgements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReceptionRequested {
    pub visit_id: Uuid,
    /// When the request was filed (the command's `now`).
    pub requested_at: DateTime<FixedOffset>,
    /// V2: arrival under 24 h (7 days foreign) after filing and not expedited.
    pub late: bool,
    /// V22: a level waits for the approvals the policy names. False for requests filed
    /// before approvals existed (schema 1, upcast): they count as approved.
    #[serde(default = "yes")]
    pub approval_required: bool,
    #[serde(flatten)]
    pub request: RequestVisit,
}

fn yes() -> bool {
    true
}

/// `RequestApproved` / `RequestReturned` / `RequestRejected` (V22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RequestDecided {
    /// The approval given (or refused).
    #[serde(rename = "as")]
    pub as_: ApprovalRole,
    pub comments: Option<String>,
    /// Who decided: two approvals of one visit come from two people.
    pub approver: String,
    pub decided_at: DateTime<FixedOffset>,
}

/// `RequestAmended` (V22): the request as amended after a return; earlier approvals
/// lapse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RequestAmended {
    pub reason: Text,
    pub request: RequestVisit,
    pub amended_at: DateTime<FixedOffset>,
}

/// `VisitRescheduled` (V23): the new planned times and party, what they replace, and
/// the dispatched cars whose ready time no longer meets V7.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VisitRescheduled {
    pub reason: Text,
    pub arrival: Arrival,
    pub departure: Departure,
    pub headcount: Headcount,
    pub visitors: Vec<Visitor>,
    pub previous_arrival_at: DateTime<FixedOffset>,
    pub previous_departure_at: DateTime<FixedOffset>,
    pub previous_headcount: Headcount,
    /// Cars now ready later than 15 minutes before their leg (flagged `car_late`).
    pub cars_late: Vec<Uuid>,
    pub rescheduled_at: DateTime<FixedOffset>,
}

/// `TaskCompleted` (V26).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskCompleted {
    pub task: SnakeId,
    pub notes: Option<String>,
    /// The task's due time when it was done, and whether it was done after it.
    pub due: DateTime<FixedOffset>,
    pub late: bool,
    pub completed_at: DateTime<FixedOffset>,
}

/// `StaffChanged` (V27).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StaffChanged {
    pub added: Vec<StaffMember>,
    pub removed: Vec<Text>,
    pub reason: Option<Text>,
    #[serde(rename = "override")]
    pub override_: Option<Override>,
    /// After arrival: flagged "staff changed mid-visit".
    pub mid_visit: bool,
    pub changed_at: DateTime<FixedOffset>,
}

/// `FollowUpAdded` (V28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FollowUpAdded {
    pub follow_up_id: Uuid,
    pub matter_id: Uuid,
    pub owner: Text,
    pub due: DateTime<FixedOffset>,
    pub text: Text,
    pub added_at: DateTime<FixedOffset>,
}

/// `FollowUpCompleted` (V28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FollowUpCompleted {
    pub follow_up_id: Uuid,
    pub notes: Option<String>,
    /// Done after its due time.
    pub late: bool,
    pub completed_at: DateTime<FixedOffset>,
}

/// `MinutesSubmitted` (V28): the talks' minutes, due to the general manager the day
/// after departure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MinutesSubmitted {
    #[serde(rename = "ref")]
    pub ref_: Text,
    pub attendees: Vec<Text>,
    pub submitted_at: DateTime<FixedOffset>,
}

/// `HomeReceptionHeld` (V29).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HomeReceptionHeld {
    pub at: DateTime<FixedOffset>,
    pub staff: Vec<Text>,
}

/// A complaint raised in a return call (V30): the complaint stream
/// `complaint-<complaint_id>` is opened from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallComplaintRaised {
    pub complaint_id: Uuid,
    pub severity: CallComplaintSeverity,
    pub category: Text,
    pub description: Text,
}

/// `LevelAssigned` (V3, V20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LevelAssigned {
    pub level: LevelId,
    pub policy_version: u32,
    pub assigned_at: DateTime<FixedOffset>,
}

/// `LevelChanged` (V3, V20): re-stamped with the version in force at the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LevelChanged {
    pub level: LevelId,
    pub previous_level: LevelId,
    pub policy_version: u32,
    pub reason: Text,
    pub changed_at: DateTime<FixedOffset>,
}

/// `PlanDrafted` (V4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanDrafted {
    pub items: Vec<PlanItem>,
    /// 1 for the first draft, 2 for the first redraft, ...
    pub draft_no: u32,
    pub drafted_at: DateTime<FixedOffset>,
}

/// `PlanReviewed` (V4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanReviewed {
    pub approved: bool,
    pub comments: Option<String>,
    pub draft_no: u32,
    pub reviewed_at: DateTime<FixedOffset>,
}

/// `ReceptionUnitContacted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReceptionUnitContacted {
    pub confirmed_headcount: Headcount,
    pub notes: Option<String>,
    pub contacted_at: DateTime<FixedOffset>,
}

/// `ReadinessConfirmed` (V5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReadinessConfirmed {
    pub notes: Option<String>,
    pub confirmed_at: DateTime<FixedOffset>,
    /// Confirmed after the V5 deadline (the day before arrival).
    pub late: bool,
}

/// `StaffAssigned` (V6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StaffAssigned {
    pub host: Text,
    pub accompanying: Vec<StaffMember>,
    #[serde(rename = "override")]
    pub override_: Option<Override>,
    pub assigned_at: DateTime<FixedOffset>,
}

/// `HostReassigned` (V6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostReassigned {
    pub host: Text,
    pub previous_host: Text,
    pub reason: Option<Text>,
    /// After arrival: flagged "staff changed mid-visit".
    pub mid_visit: bool,
    pub reassigned_at: DateTime<FixedOffset>,
}

/// `CarDispatched` (V7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CarDispatched {
    pub car_id: Uuid,
    pub leg: Leg,
    pub vehicle_class: SnakeId,
    pub driver: Text,
    pub plate: Text,
    pub ready_at: DateTime<FixedOffset>,
    pub place: Option<Text>,
    pub number: Option<Text>,
    #[serde(rename = "override")]
    pub override_: Option<Override>,
    /// Latest acceptable ready time: 15 min before arrival (pickup) or departure
    /// (drop-off); `None` for local cars.
    pub ready_by: Option<DateTime<FixedOffset>>,
    /// `ready_at` is after `ready_by` (flagged "car late").
    pub late: bool,
}

/// `CarUnavailable` (V7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CarUnavailable {
    pub leg: Leg,
    pub advised_transport: Text,
}

/// `LodgingBooked` (V8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LodgingBooked {
    pub booking_id: Uuid,
    pub hotel: Text,
    pub stars: u8,
    pub rooms: Count,
    pub nights: Count,
    pub rate_fen: Fen,
    pub paid_by: PaidBy,
    #[serde(rename = "override")]
    pub override_: Option<Override>,
    /// rate × rooms × nights.
    pub total_fen: Fen,
    /// Company-paid: the level's top rate × rooms × nights (0 when the visitor should
    /// pay); visitor-paid: null.
    pub cap_fen: Option<Fen>,
    /// Breaks V8 (accepted only with an override).
    pub over_cap: bool,
    pub level: LevelId,
    pub policy_version: u32,
}

/// `TourHeld`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TourHeld {
    pub at: DateTime<FixedOffset>,
    pub place: Text,
    pub title: Text,
}

/// `LeaderMeetingHeld`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LeaderMeetingHeld {
    pub at: DateTime<FixedOffset>,
    pub place: Text,
    pub leader: Text,
}

/// `MealBooked` (V9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MealBooked {
    pub booking_id: Uuid,
    pub meal: MealKind,
    pub at: DateTime<FixedOffset>,
    pub venue: Text,
    pub party_size: Headcount,
    pub budget_fen: Fen,
    #[serde(rename = "override")]
    pub override_: Option<Override>,
    pub cap_fen: Option<Fen>,
    pub over_cap: bool,
    pub level: LevelId,
    pub policy_version: u32,
}

/// `EntertainmentArranged` (V9). `cap_fen` is 0 where the level provides none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EntertainmentArranged {
    pub booking_id: Uuid,
    pub at: DateTime<FixedOffset>,
    pub kind: Text,
    pub party_size: Headcount,
    pub budget_fen: Fen,
    #[serde(rename = "override")]
    pub override_: Option<Override>,
    pub cap_fen: Option<Fen>,
    pub over_cap: bool,
    pub level: LevelId,
    pub policy_version: u32,
}

/// `SouvenirPlanned` (V10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SouvenirPlanned {
    pub souvenir_id: Uuid,
    pub item: Text,
    pub unit_cost_fen: Fen,
    pub quantity: Count,
    /// unit cost × quantity.
    pub total_fen: Fen,
    /// V25: the level's cap per item (null: uncapped).
    #[serde(default)]
    pub item_cap_fen: Option<Fen>,
    /// V25: the unit cost is over the item cap (accepted only with an override).
    #[serde(default)]
    pub over_cap: bool,
    #[serde(default, rename = "override")]
    pub override_: Option<Override>,
}

/// `SouvenirHanded` (V10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SouvenirHanded {
    pub souvenir_id: Uuid,
    pub handed_at: DateTime<FixedOffset>,
}

/// `CooperationMatterProposed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CooperationMatterProposed {
    pub matter_id: Uuid,
    pub by: Side,
    pub text: Text,
}

/// `CooperationMatterConfirmed` (V11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CooperationMatterConfirmed {
    pub matter_id: Uuid,
    pub company_confirmed_by: Text,
    pub visitor_confirmed_by: Text,
    pub record_ref: Text,
}

/// `LeadershipTalksHeld` (V12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LeadershipTalksHeld {
    pub at: DateTime<FixedOffset>,
    pub outcome: Text,
    /// V28 (empty for talks recorded before attendees were kept).
    #[serde(default)]
    pub attendees: Vec<Text>,
    #[serde(default)]
    pub minutes_ref: Option<Text>,
}

/// `VisitorsArrived` / `VisitorsDeparted` (V13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AtFact {
    pub at: DateTime<FixedOffset>,
}

/// `ReturnCallAttempted` (V14): a call that did not reach the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReturnCallAttempted {
    pub attempt_id: Uuid,
    /// 1, 2, 3.
    pub attempt_no: u32,
    pub reached: bool,
    pub at: DateTime<FixedOffset>,
}

/// `ReturnCallDone` (V14): reached, or unreachable after three failed attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReturnCallDone {
    pub attempt_id: Uuid,
    pub reached: bool,
    /// Three failed attempts.
    pub unreachable: bool,
    pub products: Option<String>,
    pub corporate_image: Option<String>,
    pub reception: Option<String>,
    pub satisfaction: Option<Satisfaction>,
    /// V30.
    #[serde(default)]
    pub arrived_safely: Option<bool>,
    #[serde(default)]
    pub suggestions: Option<String>,
    #[serde(default)]
    pub complaint: Option<CallComplaintRaised>,
    pub at: DateTime<FixedOffset>,
}

/// `SummaryFiled` (V15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SummaryFiled {
    pub results: Text,
    pub outcomes: Option<String>,
    pub opinions: Option<String>,
    /// As given, plus `general_manager` for a special-level visit.
    pub recipients: Vec<Text>,
    pub to_general_manager: bool,
    pub filed_at: DateTime<FixedOffset>,
}

/// `ExpenseRecorded` (V17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExpenseRecorded {
    pub expense_id: Uuid,
    pub category: ExpenseCategory,
    pub amount_fen: Fen,
    pub paid_by: PaidBy,
    pub receipt_no: Text,
    pub booking_id: Option<Uuid>,
    /// The expense this one reverses; its amount counts negatively in totals.
    pub reverses: Option<Uuid>,
    /// The cap judging it (null when no cap applies).
    pub cap_fen: Option<Fen>,
    /// Company spending on the booking, this one included, exceeds `cap_fen`.
    pub over_cap: bool,
    /// Null when no level was assigned yet.
    pub level: Option<LevelId>,
    pub policy_version: Option<u32>,
    pub recorded_at: DateTime<FixedOffset>,
    /// V24: when the money was spent (schema 1 events, upcast: when recorded).
    pub spent_at: DateTime<FixedOffset>,
    /// V24 (null for expenses recorded before descriptions were kept).
    pub description: Option<Text>,
    #[serde(default)]
    pub vendor: Option<Text>,
    #[serde(default)]
    pub subcategory: Option<SnakeId>,
    /// V31: recorded on a closed or cancelled visit.
    #[serde(default)]
    pub after_close: bool,
}

/// `ExpenseApproved` / `ExpenseRejected` (V17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExpenseDecided {
    pub expense_id: Uuid,
    pub comments: Option<String>,
    pub decided_at: DateTime<FixedOffset>,
}

/// `AdvanceIssued` (V18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AdvanceIssued {
    pub amount_fen: Fen,
    pub issued_at: DateTime<FixedOffset>,
}

/// `AdvanceSettled` (V18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AdvanceSettled {
    pub advance_fen: Fen,
    pub receipts_fen: Fen,
    pub cash_returned_fen: Fen,
    pub returned_items: Vec<String>,
    pub settled_at: DateTime<FixedOffset>,
}

/// `CustomerPreferenceNoted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CustomerPreferenceNoted {
    pub subject: Text,
    pub kind: Text,
    pub text: Text,
    pub company: Text,
    pub noted_at: DateTime<FixedOffset>,
}

/// `VisitCancelled` (V19).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VisitCancelled {
    pub reason: Text,
    pub cancelled_at: DateTime<FixedOffset>,
}

/// `VisitClosed` (V16).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VisitClosed {
    pub closed_at: DateTime<FixedOffset>,
}

macro_rules! visit_events {
    ($( $variant:ident($payload:ty) $(v $schema:literal)? => |$p:ident| $at:expr ;)*) => {
        /// Every event of a visit stream.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum VisitEvent {
            $( #[doc = concat!("`", stringify!($variant), "`")] $variant($payload), )*
        }

        impl VisitEvent {
            /// Every event type name.
            pub const TYPES: &'static [&'static str] = &[$(stringify!($variant)),*];
        }

        impl DomainEvent for VisitEvent {
            fn event_type(&self) -> &'static str {
                match self { $( VisitEvent::$variant(_) => stringify!($variant), )* }
            }
            fn schema(&self) -> u32 {
                match self { $( VisitEvent::$variant(_) => 1 $(- 1 + $schema)?, )* }
            }
            fn to_data(&self) -> serde_json::Value {
                match self {
                    $( VisitEvent::$variant(p) => serde_json::to_value(p).expect("visit payloads serialise"), )*
                }
            }
            fn from_stored(event_type: &str, data: &serde_json::Value) -> Result<Self, String> {
                match event_type {
                    $( stringify!($variant) => <$payload>::deserialize(data)
                        .map(VisitEvent::$variant)
                        .map_err(|e| format!("{}: {e}", stringify!($variant))), )*
                    other => Err(format!("unknown visit event type {other:?}")),
                }
            }
            fn occurred_at(&self) -> Option<DateTime<FixedOffset>> {
                match self { $( VisitEvent::$variant($p) => $at, )* }
            }
            fn schemas() -> Vec<NamedSchema> {
                vec![$( NamedSchema { name: stringify!($variant), version: 1 $(- 1 + $schema)?, schema: schemars::schema_for!($payload) }, )*]
            }
        }
    };
}

visit_events! {
    ReceptionRequested(ReceptionRequested) v 2 => |p| Some(p.requested_at);
    LevelAssigned(LevelAssigned) => |p| Some(p.assigned_at);
    LevelChanged(LevelChanged) => |p| Some(p.changed_at);
    PlanDrafted(PlanDrafted) => |p| Some(p.drafted_at);
    PlanReviewed(PlanReviewed) => |p| Some(p.reviewed_at);
    ReceptionUnitContacted(ReceptionUnitContacted) => |p| Some(p.contacted_at);
    ReadinessConfirmed(ReadinessConfirmed) => |p| Some(p.confirmed_at);
    StaffAssigned(StaffAssigned) => |p| Some(p.assigned_at);
    HostReassigned(HostReassigned) => |p| Some(p.reassigned_at);
    CarDispatched(CarDispatched) => |_p| None;
    CarUnavailable(CarUnavailable) => |_p| None;
    LodgingBooked(LodgingBooked) => |_p| None;
    TourHeld(TourHeld) => |p| Some(p.at);
    LeaderMeetingHeld(LeaderMeetingHeld) => |p| Some(p.at);
    MealBooked(MealBooked) => |_p| None;
    EntertainmentArranged(EntertainmentArranged) => |_p| None;
    SouvenirPlanned(SouvenirPlanned) => |_p| None;
    SouvenirHanded(SouvenirHanded) => |p| Some(p.handed_at);
    CooperationMatterProposed(CooperationMatterProposed) => |_p| None;
    CooperationMatterConfirmed(CooperationMatterConfirmed) => |_p| None;
    LeadershipTalksHeld(LeadershipTalksHeld) => |p| Some(p.at);
    VisitorsArrived(AtFact) => |p| Some(p.at);
    VisitorsDeparted(AtFact) => |p| Some(p.at);
    ReturnCallAttempted(ReturnCallAttempted) => |p| Some(p.at);
    ReturnCallDone(ReturnCallDone) => |p| Some(p.at);
    SummaryFiled(SummaryFiled) => |p| Some(p.filed_at);
    ExpenseRecorded(ExpenseRecorded) v 2 => |p| Some(p.spent_at);
    ExpenseApproved(ExpenseDecided) => |p| Some(p.decided_at);
    ExpenseRejected(ExpenseDecided) => |p| Some(p.decided_at);
    AdvanceIssued(AdvanceIssued) => |p| Some(p.issued_at);
    AdvanceSettled(AdvanceSettled) => |p| Some(p.settled_at);
    CustomerPreferenceNoted(CustomerPreferenceNoted) => |p| Some(p.noted_at);
    VisitCancelled(VisitCancelled) => |p| Some(p.cancelled_at);
    VisitClosed(VisitClosed) => |p| Some(p.closed_at);
    RequestApproved(RequestDecided) => |p| Some(p.decided_at);
    RequestReturned(RequestDecided) => |p| Some(p.decided_at);
    RequestRejected(RequestDecided) => |p| Some(p.decided_at);
    RequestAmended(RequestAmended) => |p| Some(p.amended_at);
    VisitRescheduled(VisitRescheduled) => |p| Some(p.rescheduled_at);
    TaskCompleted(TaskCompleted) => |p| Some(p.completed_at);
    StaffChanged(StaffChanged) => |p| Some(p.changed_at);
    FollowUpAdded(FollowUpAdded) => |p| Some(p.added_at);
    FollowUpCompleted(FollowUpCompleted) => |p| Some(p.completed_at);
    MinutesSubmitted(MinutesSubmitted) => |p| Some(p.submitted_at);
    HomeReceptionHeld(HomeReceptionHeld) => |p| Some(p.at);
}

/// Whether [`upcast`] changes visit events of this type and schema.
pub fn upcast_rewrites(event_type: &str, schema: u32) -> bool {
    schema < 2 && matches!(event_type, "ReceptionRequested" | "ExpenseRecorded")
}

/// Brings a stored visit payload to its current schema:
/// - `ReceptionRequested` 1 → 2: filed before approvals existed, so it counts as
///   approved (`approval_required: false`, V22);
/// - `ExpenseRecorded` 1 → 2: spent when it was recorded (`spent_at = recorded_at`),
///   no description (V24).
///
/// Other events are returned as they are.
pub fn upcast(
    event_type: &str,
    schema: u32,
    mut data: serde_json::Value,
) -> (u32, serde_json::Value) {
    if !upcast_rewrites(event_type, schema) {
        return (schema, data);
    }
    if let Some(obj) = data.as_object_mut() {
        match event_type {
            "ReceptionRequested" => {
                obj.insert("approval_required".into(), false.into());
            }
            "ExpenseRecorded" => {
                let recorded = obj.get("recorded_at").cloned().unwrap_or_default();
                obj.entry("spent_at").or_insert(recorded);
                obj.entry("description").or_insert(serde_json::Value::Null);
            }
            _ => {}
        }
    }
    (2, data)
}
