//! Visit commands: the value types they are made of (parsed, never bad) and one body
//! struct per route of API.md's visit table, with `VisitCommand::parse`.

use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::common::{DomainCommand, DomainError, Fen, NamedSchema, Role};
pub use crate::policy_book::ApprovalRole;
use crate::policy_book::{LevelId, PaidBy};

/// A newtype whose value is checked when parsed. Its JSON Schema is written out, the
/// check included, so that a schema-driven client never sends what the check refuses.
macro_rules! checked_newtype {
    ($(#[$m:meta])* $name:ident($inner:ty), $check:expr, $what:literal, $schema:tt) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = $what, into = $what)]
        pub struct $name($inner);

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_gen: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!($schema)
            }
        }

        impl TryFrom<$inner> for $name {
            type Error = String;
            fn try_from(v: $inner) -> Result<Self, String> {
                let check: fn(&$inner) -> Result<(), String> = $check;
                check(&v)?;
                Ok($name(v))
            }
        }
        impl From<$name> for $inner {
            fn from(v: $name) -> $inner {
                v.0
            }
        }
    };
}

checked_newtype!(
    /// Non-empty text (surrounding whitespace does not count), at most 4,000 characters.
    Text(String),
    |s| {
        if s.trim().is_empty() {
            Err("must not be empty".into())
        } else if s.chars().count() > 4000 {
            Err("must be at most 4000 characters".into())
        } else {
            Ok(())
        }
    },
    "String",
    {
        "description": "Non-empty text (surrounding whitespace does not count), at most 4,000 characters.",
        "type": "string",
        "minLength": 1,
        "maxLength": 4000,
        "pattern": "\\S"
    }
);

impl Text {
    /// Parses non-empty text; `field` names it in the error.
    pub fn parse(field: &str, s: &str) -> Result<Text, DomainError> {
        Text::try_from(s.to_string()).map_err(|m| DomainError::invalid(field, m))
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

checked_newtype!(
    /// A number of people, 1 to 1,000.
    Headcount(u32),
    |n| if (1..=1000).contains(n) { Ok(()) } else { Err(format!("must be between 1 and 1000, got {n}")) },
    "u32",
    {
        "description": "A number of people, 1 to 1,000.",
        "type": "integer",
        "minimum": 1,
        "maximum": 1000
    }
);

impl Headcount {
    /// Parses a headcount; `field` names it in the error.
    pub fn parse(field: &str, n: u32) -> Result<Headcount, DomainError> {
        Headcount::try_from(n).map_err(|m| DomainError::invalid(field, m))
    }
    /// The count.
    pub fn get(&self) -> u32 {
        self.0
    }
}

checked_newtype!(
    /// A positive count of rooms, nights or items, 1 to 10,000.
    Count(u32),
    |n| if (1..=10_000).contains(n) { Ok(()) } else { Err(format!("must be between 1 and 10000, got {n}")) },
    "u32",
    {
        "description": "A positive count of rooms, nights or items, 1 to 10,000.",
        "type": "integer",
        "minimum": 1,
        "maximum": 10000
    }
);

impl Count {
    /// The count.
    pub fn get(&self) -> u32 {
        self.0
    }
}

checked_newtype!(
    /// Customer satisfaction 1 (poor) to 5 (excellent).
    Satisfaction(u8),
    |n| if (1..=5).contains(n) { Ok(()) } else { Err(format!("satisfaction runs from 1 to 5, got {n}")) },
    "u8",
    {
        "description": "Customer satisfaction 1 (poor) to 5 (excellent).",
        "type": "integer",
        "minimum": 1,
        "maximum": 5
    }
);

impl Satisfaction {
    /// The score.
    pub fn get(&self) -> u8 {
        self.0
    }
}

checked_newtype!(
    /// A snake_case id (staff role, vehicle class): 1–40 of `a-z`, `0-9`, `_`.
    SnakeId(String),
    |s| {
        if !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            Ok(())
        } else {
            Err(format!("{s:?} must be a snake_case id (a-z, 0-9, '_')"))
        }
    },
    "String",
    {
        "description": "A snake_case id (staff role, vehicle class): 1-40 of a-z, 0-9, '_'.",
        "type": "string",
        "pattern": "^[a-z0-9_]{1,40}$"
    }
);

impl SnakeId {
    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How visitors travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransportMode {
    Flight,
    Train,
    Car,
    Other,
}

/// A car's leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    Pickup,
    Dropoff,
    Local,
}

/// Meal kinds of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MealKind {
    Lunch,
    Dinner,
}

/// Expense categories (V17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpenseCategory {
    Meal,
    Lodging,
    Car,
    Entertainment,
    Gift,
    Venue,
    Other,
}

/// Which side of a cooperation matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Company,
    Visitor,
}

/// An approver's override of a policy rule, with the reason kept on the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub reason: Text,
}

/// The customer company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub company: Text,
    /// ISO 3166 country code or name.
    pub country: Text,
    /// Foreign customer: 7 days lead time instead of 24 h (V2).
    #[serde(default)]
    pub foreign: bool,
}

/// One visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Visitor {
    pub name: Text,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// The arrival as planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    pub at: DateTime<FixedOffset>,
    pub mode: TransportMode,
    /// Flight or train number.
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    /// Arrival place (airport, station, ...).
    #[serde(default)]
    pub place: Option<String>,
}

/// The departure as planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Departure {
    pub at: DateTime<FixedOffset>,
    pub mode: TransportMode,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
    /// When the departure transport brings the visitors home (V14).
    #[serde(default)]
    pub arrives_home_at: Option<DateTime<FixedOffset>>,
}

/// What the visitors need.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Needs {
    #[serde(default)]
    pub pickup: bool,
    #[serde(default)]
    pub dropoff: bool,
    #[serde(default)]
    pub lodging: bool,
    #[serde(default)]
    pub meeting_room: bool,
    #[serde(default)]
    pub translation: bool,
    #[serde(default)]
    pub photos: bool,
    #[serde(default)]
    pub minutes: bool,
    /// The customer asks us to book the return tickets (V26).
    #[serde(default)]
    pub return_tickets: bool,
    /// A foreign customer asks for a visa invitation letter (V26).
    #[serde(default)]
    pub visa_letter: bool,
}

/// Marks a short-notice request as expedited (V2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expedited {
    pub reason: Text,
}

/// `POST /api/v1/visits`: the reception request (V1, V2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestVisit {
    pub customer: Customer,
    pub department: Text,
    /// At least one (V1).
    #[schemars(length(min = 1))]
    pub visitors: Vec<Visitor>,
    pub headcount: Headcount,
    pub purpose: Text,
    pub arrival: Arrival,
    pub departure: Departure,
    #[serde(default)]
    pub needs: Needs,
    #[serde(default)]
    pub expedited: Option<Expedited>,
    /// V22: the estimated cost; spend beyond it is flagged `over_budget`. Optional so
    /// that a request filed without one still opens a visit (no budget, no flag).
    #[serde(default)]
    pub budget_fen: Option<Fen>,
    /// V22: the department that bears the cost; the requesting department when absent.
    #[serde(default)]
    pub cost_department: Option<Text>,
    /// V22: the sales manager's judgement of the customer's importance.
    #[serde(default)]
    pub proposed_level: Option<LevelId>,
}

impl RequestVisit {
    /// V22: who bears the cost.
    pub fn cost_department(&self) -> &Text {
        self.cost_department.as_ref().unwrap_or(&self.department)
    }
}

/// `assign-level`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignLevel {
    pub level: LevelId,
}

/// `change-level` (before arrival, with a reason; V3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeLevel {
    pub level: LevelId,
    pub reason: Text,
}

/// One itinerary item of an execution plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanItem {
    pub at: DateTime<FixedOffset>,
    /// lodging, meal, car, tour, meeting, ...
    pub kind: Text,
    pub title: Text,
    #[serde(default)]
    pub place: Option<String>,
}

/// `draft-plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftPlan {
    pub items: Vec<PlanItem>,
}

/// `review-plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewPlan {
    pub approved: bool,
    #[serde(default)]
    pub comments: Option<String>,
}

/// `contact-unit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactUnit {
    pub confirmed_headcount: Headcount,
    #[serde(default)]
    pub notes: Option<String>,
}

/// `confirm-readiness`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmReadiness {
    #[serde(default)]
    pub notes: Option<String>,
}

/// One accompanying staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    pub name: Text,
    /// e.g. `regional_manager`, `market_supervisor`.
    pub role: SnakeId,
}

/// `assign-staff` (V6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignStaff {
    pub host: Text,
    #[serde(default)]
    pub accompanying: Vec<StaffMember>,
    #[serde(default, rename = "override")]
    pub override_: Option<Override>,
}

/// `reassign-host` (V6; reason required after arrival).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignHost {
    pub host: Text,
    #[serde(default)]
    pub reason: Option<Text>,
}

/// `dispatch-car` (V7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchCar {
    pub leg: Leg,
    pub vehicle_class: SnakeId,
    pub driver: Text,
    pub plate: Text,
    /// When the car will be at the place.
    pub ready_at: DateTime<FixedOffset>,
    pub place: Option<Text>,
    /// Flight or train number (required for a pickup).
    #[serde(default)]
    pub number: Option<Text>,
    #[serde(default, rename = "override")]
    pub override_: Option<Override>,
}

/// `car-unavailable` (V7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportCarUnavailable {
    pub leg: Leg,
    pub advised_transport: Text,
}

/// `book-lodging` (V8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BookLodging {
    pub hotel: Text,
    pub stars: u8,
    pub rooms: Count,
    pub nights: Count,
    /// Rate per room-night.
    pub rate_fen: Fen,
    pub paid_by: PaidBy,
    #[serde(default, rename = "override")]
    pub override_: Option<Override>,
}

/// `hold-tour`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldTour {
    pub at: DateTime<FixedOffset>,
    pub place: Text,
    pub title: Text,
}

/// `hold-leader-meeting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldLeaderMeeting {
    pub at: DateTime<FixedOffset>,
    pub place: Text,
    pub leader: Text,
}

/// `book-meal` (V9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BookMeal {
    pub meal: MealKind,
    pub at: DateTime<FixedOffset>,
    pub venue: Text,
    /// Visitors at the meal (staff do not count).
    pub party_size: Headcount,
    pub budget_fen: Fen,
    #[serde(default, rename = "override")]
    pub override_: Option<Override>,
}

/// `arrange-entertainment` (V9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArrangeEntertainment {
    pub at: DateTime<FixedOffset>,
    pub kind: Text,
    pub party_size: Headcount,
    pub budget_fen: Fen,
    #[serde(default, rename = "override")]
    pub override_: Option<Override>,
}

/// `plan-souvenir` (V10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSouvenir {
    pub item: Text,
    pub unit_cost_fen: Fen,
    pub quantity: Count,
    /// V25: a unit cost over the level's gift item cap needs an approver's override.
    #[serde(default, rename = "override")]
    pub override_: Option<Override>,
}

/// `hand-souvenir` (V10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandSouvenir {
    pub souvenir_id: Uuid,
}

/// `propose-matter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeMatter {
    pub by: Side,
    pub text: Text,
}

/// `confirm-matter` (V11): both sides and a written record are required; missing ones
/// are refused with rule V11.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmMatter {
    pub matter_id: Uuid,
    #[serde(default)]
    pub company_confirmed_by: Option<String>,
    #[serde(default)]
    pub visitor_confirmed_by: Option<String>,
    #[serde(default)]
    pub record_ref: Option<String>,
}

/// `hold-talks` (V12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldTalks {
    pub at: DateTime<FixedOffset>,
    pub outcome: Text,
    /// V28: who attended (at least one).
    pub attendees: Vec<Text>,
    /// V28: the minutes, when already written.
    #[serde(default)]
    pub minutes_ref: Option<Text>,
}

/// `record-arrival` / `record-departure` (V13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAt {
    pub at: DateTime<FixedOffset>,
}

/// `return-call` (V14): one attempt; when `reached`, the feedback and satisfaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnCall {
    pub reached: bool,
    #[serde(default)]
    pub products: Option<String>,
    #[serde(default)]
    pub corporate_image: Option<String>,
    #[serde(default)]
    pub reception: Option<String>,
    /// Required when `reached`.
    #[serde(default)]
    pub satisfaction: Option<Satisfaction>,
    /// V30: the visitors confirmed they arrived home safely.
    #[serde(default)]
    pub arrived_safely: Option<bool>,
    /// V30: the customer's suggestions.
    #[serde(default)]
    pub suggestions: Option<String>,
    /// V30: a complaint raised in the same call, linked to the visit.
    #[serde(default)]
    pub complaint: Option<CallComplaint>,
}

/// C1's severity of a complaint raised during a return call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallComplaintSeverity {
    Minor,
    Major,
}

/// V30: a complaint raised during the return call (C1's severity, a category and what
/// went wrong).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallComplaint {
    pub severity: CallComplaintSeverity,
    pub category: Text,
    pub description: Text,
}

/// `file-summary` (V15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSummary {
    pub results: Text,
    #[serde(default)]
    pub outcomes: Option<String>,
    #[serde(default)]
    pub opinions: Option<String>,
    #[serde(default)]
    pub recipients: Vec<Text>,
}

/// `record-expense` (V17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordExpense {
    pub category: ExpenseCategory,
    /// Must be > 0; a correction is a reversing expense, never a negative one.
    pub amount_fen: Fen,
    pub receipt_no: Text,
    pub paid_by: PaidBy,
    /// Required for meal, entertainment and lodging: the booking whose cap judges it.
    #[serde(default)]
    pub booking_id: Option<Uuid>,
    /// The expense this one reverses (a correction).
    #[serde(default)]
    pub reverses: Option<Uuid>,
    /// V24: when the money was spent (analyses count the year of this, not of the
    /// recording).
    pub spent_at: DateTime<FixedOffset>,
    /// V24: what was bought, for the year-end review.
    pub description: Text,
    #[serde(default)]
    pub vendor: Option<Text>,
    /// V24: e.g. `liquor`, `tobacco`, `tea`, `fruit`, `flowers`, `tickets`.
    #[serde(default)]
    pub subcategory: Option<SnakeId>,
}

/// `decide-expense` (V17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideExpense {
    pub expense_id: Uuid,
    pub approved: bool,
    #[serde(default)]
    pub comments: Option<String>,
}

/// `issue-advance` (V18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueAdvance {
    pub amount_fen: Fen,
}

/// `settle-advance` (V18): receipts + cash returned must equal the advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleAdvance {
    pub receipts_fen: Fen,
    pub cash_returned_fen: Fen,
    /// Unused gifts or liquor returned.
    #[serde(default)]
    pub returned_items: Vec<String>,
}

/// `note-preference`: for the customer archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotePreference {
    /// A visitor's name or the company.
    pub subject: Text,
    /// diet, religion, room, taboo, ...
    pub kind: Text,
    pub text: Text,
}

/// `cancel` (V19).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cancel {
    pub reason: Text,
}

/// An approver's decision on a request (V22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestDecision {
    Approve,
    Return,
    Reject,
}

/// `approve-request` (V22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    pub decision: RequestDecision,
    #[serde(default)]
    pub comments: Option<String>,
    /// The approval given.
    #[serde(rename = "as")]
    pub as_: ApprovalRole,
}

/// `amend-request` (V22): the request fields that change, after a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendRequest {
    pub reason: Text,
    #[serde(default)]
    pub customer: Option<Customer>,
    #[serde(default)]
    pub department: Option<Text>,
    #[serde(default)]
    pub visitors: Option<Vec<Visitor>>,
    #[serde(default)]
    pub headcount: Option<Headcount>,
    #[serde(default)]
    pub purpose: Option<Text>,
    #[serde(default)]
    pub arrival: Option<Arrival>,
    #[serde(default)]
    pub departure: Option<Departure>,
    #[serde(default)]
    pub needs: Option<Needs>,
    #[serde(default)]
    pub expedited: Option<Expedited>,
    #[serde(default)]
    pub budget_fen: Option<Fen>,
    #[serde(default)]
    pub cost_department: Option<Text>,
    #[serde(default)]
    pub proposed_level: Option<LevelId>,
}

/// `reschedule` (V23): any of the planned times, the headcount and the visitors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reschedule {
    pub reason: Text,
    #[serde(default)]
    pub arrival: Option<Arrival>,
    #[serde(default)]
    pub departure: Option<Departure>,
    #[serde(default)]
    pub headcount: Option<Headcount>,
    #[serde(default)]
    pub visitors: Option<Vec<Visitor>>,
}

/// `complete-task` (V26).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteTask {
    /// An id from the visit's `tasks`.
    pub task: SnakeId,
    #[serde(default)]
    pub notes: Option<String>,
}

/// `change-staff` (V27).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeStaff {
    #[serde(default)]
    pub add: Vec<StaffMember>,
    /// Names of accompanying staff to remove.
    #[serde(default)]
    pub remove: Vec<Text>,
    /// Required after arrival.
    #[serde(default)]
    pub reason: Option<Text>,
    #[serde(default, rename = "override")]
    pub override_: Option<Override>,
}

/// `add-follow-up` (V28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddFollowUp {
    pub matter_id: Uuid,
    pub owner: Text,
    pub due: DateTime<FixedOffset>,
    pub text: Text,
}

/// `complete-follow-up` (V28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteFollowUp {
    pub follow_up_id: Uuid,
    #[serde(default)]
    pub notes: Option<String>,
}

/// `submit-minutes` (V28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitMinutes {
    #[serde(rename = "ref")]
    pub ref_: Text,
    pub attendees: Vec<Text>,
}

/// `hold-home-reception` (V29).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldHomeReception {
    pub at: DateTime<FixedOffset>,
    /// The senior staff taking part.
    pub staff: Vec<Text>,
}

/// `close` (V16): no body fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Close {}

macro_rules! visit_commands {
    ($( $route:literal => $variant:ident($body:ty) [$($role:ident),*] $(creates $creates:literal)? ;)*) => {
        /// A command on a visit: `POST /api/v1/visits` ("request") or
        /// `POST /api/v1/visits/{id}/<route>`.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum VisitCommand {
            $( #[doc = concat!("`", $route, "`")] $variant($body), )*
        }

        impl VisitCommand {
            /// Every route name, in API.md order.
            pub const NAMES: &'static [&'static str] = &[$($route),*];
        }

        impl DomainCommand for VisitCommand {
            fn parse(name: &str, body: serde_json::Value) -> Result<Self, DomainError> {
                match name {
                    $( $route => Ok(VisitCommand::$variant(parse_body(body)?)), )*
                    other => Err(DomainError::not_found("command", format!("no visit command named {other:?}"))),
                }
            }
            fn name(&self) -> &'static str {
                match self { $( VisitCommand::$variant(_) => $route, )* }
            }
            fn creates_entity(&self) -> bool {
                match self { $( VisitCommand::$variant(_) => false $(|| $creates)?, )* }
            }
            fn allowed_roles(&self) -> &'static [Role] {
                match self { $( VisitCommand::$variant(_) => &[Role::Admin, $(Role::$role),*], )* }
            }
            fn schemas() -> Vec<NamedSchema> {
                vec![$( NamedSchema { name: $route, version: 1, schema: schemars::schema_for!($body) }, )*]
            }
        }
    };
}

visit_commands! {
    "request" => Request(RequestVisit) [Requester, Reception] creates true;
    "assign-level" => AssignLevel(AssignLevel) [Reception];
    "change-level" => ChangeLevel(ChangeLevel) [Reception];
    "draft-plan" => DraftPlan(DraftPlan) [Reception];
    "review-plan" => ReviewPlan(ReviewPlan) [Approver];
    "contact-unit" => ContactUnit(ContactUnit) [Reception];
    "confirm-readiness" => ConfirmReadiness(ConfirmReadiness) [Reception];
    "assign-staff" => AssignStaff(AssignStaff) [Reception];
    "reassign-host" => ReassignHost(ReassignHost) [Reception];
    "dispatch-car" => DispatchCar(DispatchCar) [Reception] creates true;
    "car-unavailable" => CarUnavailable(ReportCarUnavailable) [Reception];
    "book-lodging" => BookLodging(BookLodging) [Reception] creates true;
    "hold-tour" => HoldTour(HoldTour) [Reception];
    "hold-leader-meeting" => HoldLeaderMeeting(HoldLeaderMeeting) [Reception];
    "book-meal" => BookMeal(BookMeal) [Reception] creates true;
    "arrange-entertainment" => ArrangeEntertainment(ArrangeEntertainment) [Reception] creates true;
    "plan-souvenir" => PlanSouvenir(PlanSouvenir) [Reception] creates true;
    "hand-souvenir" => HandSouvenir(HandSouvenir) [Reception];
    "propose-matter" => ProposeMatter(ProposeMatter) [Reception] creates true;
    "confirm-matter" => ConfirmMatter(ConfirmMatter) [Reception];
    "hold-talks" => HoldTalks(HoldTalks) [Reception];
    "record-arrival" => RecordArrival(RecordAt) [Reception];
    "record-departure" => RecordDeparture(RecordAt) [Reception];
    "return-call" => ReturnCall(ReturnCall) [Reception] creates true;
    "file-summary" => FileSummary(FileSummary) [Reception];
    "record-expense" => RecordExpense(RecordExpense) [Reception, Finance] creates true;
    "decide-expense" => DecideExpense(DecideExpense) [Approver];
    "issue-advance" => IssueAdvance(IssueAdvance) [Finance];
    "settle-advance" => SettleAdvance(SettleAdvance) [Finance];
    "note-preference" => NotePreference(NotePreference) [Reception, Requester];
    "cancel" => Cancel(Cancel) [Reception];
    "close" => Close(Close) [Reception];
    "approve-request" => ApproveRequest(ApproveRequest) [Approver];
    "amend-request" => AmendRequest(AmendRequest) [Requester];
    "reschedule" => Reschedule(Reschedule) [Requester, Reception];
    "complete-task" => CompleteTask(CompleteTask) [Reception];
    "change-staff" => ChangeStaff(ChangeStaff) [Reception];
    "add-follow-up" => AddFollowUp(AddFollowUp) [Reception] creates true;
    "complete-follow-up" => CompleteFollowUp(CompleteFollowUp) [Reception];
    "submit-minutes" => SubmitMinutes(SubmitMinutes) [Reception];
    "hold-home-reception" => HoldHomeReception(HoldHomeReception) [Reception];
}

impl VisitCommand {
    /// The approver's override carried by the command, if it can carry one and does.
    pub fn override_(&self) -> Option<&Override> {
        match self {
            VisitCommand::AssignStaff(c) => c.override_.as_ref(),
            VisitCommand::DispatchCar(c) => c.override_.as_ref(),
            VisitCommand::BookLodging(c) => c.override_.as_ref(),
            VisitCommand::BookMeal(c) => c.override_.as_ref(),
            VisitCommand::ArrangeEntertainment(c) => c.override_.as_ref(),
            VisitCommand::ChangeStaff(c) => c.override_.as_ref(),
            VisitCommand::PlanSouvenir(c) => c.override_.as_ref(),
            _ => None,
        }
    }
}

/// Deserialises a body, naming the failing field path (`arrival.at`) in the error.
fn parse_body<T: DeserializeOwned>(body: serde_json::Value) -> Result<T, DomainError> {
    // A missing body (JSON null) counts as `{}` so that `close` needs none.
    let body = if body.is_null() {
        serde_json::json!({})
    } else {
        body
    };
    serde_path_to_error::deserialize(body).map_err(|e| {
        // An unknown key "" has an empty path (or one ending in a dot): name the body
        // or the object holding it, never an empty field.
        let path = match e.path().to_string().trim_end_matches('.') {
            "" => ".".to_string(),
            p => p.to_string(),
        };
        let inner = e.into_inner().to_string();
        // serde reports a missing field at the parent path (an unknown one at its own);
        // name the field itself.
        let missing = inner
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next());
        let field = match missing {
            Some(name) if path == "." => name.to_string(),
            Some(name) => format!("{path}.{name}"),
            None if path == "." => "body".to_string(),
            None => path,
        };
        DomainError::invalid(&field, format!("{field}: {inner}"))
    })
}
