//! The complaint aggregate (seed 003, rules C1–C7): its commands, events, rules,
//! deadlines and the monthly analysis.
//!
//! A complaint is raised (C1: minor or major), assigned to a department, reported to
//! the head of department and solved with the customer (C2, major), given feedback and
//! analysed (C3, minor), escalated to major by hand or by the system after 10 days
//! unresolved (C4), resolved, followed by a return visit (C5) and closed, after which
//! its record is kept for at least two years (C6). [`monthly_analysis`] is C7.
//!
//! Who may do what (checked in [`Complaint::decide`]):
//! - `raise`: `reception`, `requester`, `frontdesk`, `admin` — whoever hears it first.
//! - every handling command (`assign`, `report`, `analyse`, `feedback`,
//!   `agree-solution`, `resolve`, `return-visit`, `close`): `reception`, `admin` — the
//!   reception office owns the complaint's follow-up.
//! - `escalate`: `reception`, `admin`, and `system` (the C4 process, see
//!   [`crate::escalation`]).
//! - `auditor`, `analyst`, `approver`, `finance`: never.
//!
//! ```
//! use reception_domain::complaint::*;
//! use reception_domain::{Actor, Aggregate, Context, DomainCommand, Role};
//! use reception_domain::policy::PolicyBook;
//! use serde_json::json;
//!
//! let ctx = Context {
//!     now: "2026-11-22T09:00:00+08:00".parse().unwrap(),
//!     actor: Actor { user: "li.na".into(), role: Role::Reception },
//!     policies: PolicyBook::default(),
//!     entity_id: uuid::Uuid::nil(),
//!     linked_visit: None,
//! };
//! let raise = ComplaintCommand::parse("raise", json!({
//!     "customer": "Huaxin Dealers Ltd", "severity": "minor",
//!     "category": "transport", "description": "pickup car 40 minutes late"
//! })).unwrap();
//! let events = Complaint::default().decide(raise, &ctx).unwrap();
//! let complaint = events.iter().fold(Complaint::default(), |c, e| c.evolve(e));
//! assert_eq!(complaint.severity, Severity::Minor);
//! assert_eq!(complaint.status(), ComplaintStatus::Open);
//! ```

mod handling;
mod resolution;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset};
use schemars::{schema_for, JsonSchema};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::Aggregate;
use crate::common::{
    parse_json_body, DomainCommand, DomainError, DomainEvent, NamedSchema, NonEmptyText, Role,
};
use crate::context::Context;
use crate::deadlines::Due;

/// The complaint deadlines (C2–C6), defined with every other deadline.
pub use crate::deadlines::{
    ANALYSIS_WITHIN_HOURS, ESCALATE_AFTER_DAYS, FEEDBACK_WITHIN_HOURS, REPORT_WITHIN_MINUTES,
    RETAIN_MONTHS, RETURN_VISIT_WITHIN_HOURS, SOLUTION_WITHIN_HOURS,
};

type Time = DateTime<FixedOffset>;

// ---------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------

/// C1: how serious a complaint is.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Minor,
    Major,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Major => "major",
        }
    }
}

/// C5: how the return visit was made. Major complaints need `in_person`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnVisitMode {
    Phone,
    Message,
    InPerson,
}

/// The customer company a complaint is about. The body accepts the company name
/// (`"Huaxin Dealers Ltd"`) or the visit-style object (`{"company": "Huaxin Dealers Ltd", ...}`,
/// other keys ignored); either way only the company name is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct CustomerRef(NonEmptyText);

impl CustomerRef {
    pub fn new(company: impl Into<String>) -> Result<CustomerRef, DomainError> {
        NonEmptyText::new(company)
            .map(CustomerRef)
            .map_err(|m| DomainError::invalid("customer", format!("customer: {m}")))
    }
    pub fn company(&self) -> &str {
        self.0.as_str()
    }
}

impl From<CustomerRef> for String {
    fn from(c: CustomerRef) -> String {
        c.0.into_string()
    }
}

impl<'de> Deserialize<'de> for CustomerRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Object { company: String },
        }
        let raw = Raw::deserialize(d).map_err(|e: D::Error| {
            if e.to_string().starts_with("missing field") {
                e // the whole `customer` is missing: keep serde's wording, which names it
            } else {
                serde::de::Error::custom(
                    "expected the customer company's name, or an object with a \"company\" name",
                )
            }
        })?;
        let name = match raw {
            Raw::Name(n) | Raw::Object { company: n } => n,
        };
        NonEmptyText::new(name)
            .map(CustomerRef)
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for CustomerRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CustomerRef".into()
    }
    fn json_schema(gen: &mut schemars::SchemaGenerator) -> schemars::Schema {
        #[derive(JsonSchema)]
        #[allow(dead_code)]
        struct CustomerObject {
            company: NonEmptyText,
        }
        #[derive(JsonSchema)]
        #[serde(untagged)]
        #[allow(dead_code)]
        enum CustomerRef {
            Name(NonEmptyText),
            Object(CustomerObject),
        }
        <CustomerRef as JsonSchema>::json_schema(gen)
    }
}

/// A calendar month (`"2026-11"`), the period of the C7 analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    /// `month` is 1..=12.
    pub fn new(year: i32, month: u32) -> Result<YearMonth, DomainError> {
        if !(1..=12).contains(&month) {
            return Err(DomainError::invalid("month", "month: must be 01..12"));
        }
        Ok(YearMonth { year, month })
    }
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Result<YearMonth, DomainError> {
        let bad = || DomainError::invalid("month", format!("month: expected YYYY-MM, got {s:?}"));
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year = y.parse().map_err(|_| bad())?;
        let month = m.parse().map_err(|_| bad())?;
        YearMonth::new(year, month)
    }
    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u32 {
        self.month
    }
    /// True when `t`, read on the wall clock of its own offset, falls in this month.
    pub fn contains(self, t: Time) -> bool {
        let local = t.naive_local();
        local.year() == self.year && local.month() == self.month
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for YearMonth {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        YearMonth::parse(s)
    }
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

/// `POST /api/v1/complaints`: C1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseComplaint {
    /// The visit it arose from, if any.
    #[serde(default)]
    pub visit_id: Option<Uuid>,
    pub customer: CustomerRef,
    pub severity: Severity,
    pub category: NonEmptyText,
    pub description: NonEmptyText,
    /// The responsible department when already known.
    #[serde(default)]
    pub department: Option<NonEmptyText>,
}

/// `assign`: the responsible department and the person handling it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignComplaint {
    pub department: NonEmptyText,
    pub assignee: NonEmptyText,
}

/// `report`: C2, the complaint reported to the head of department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportComplaint {
    /// The head of department told.
    pub to: NonEmptyText,
}

/// `analyse`: C3, the responsible department's analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyseComplaint {
    pub analysis: NonEmptyText,
}

/// `feedback`: C3, feedback given to the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GiveFeedback {
    pub text: NonEmptyText,
}

/// `agree-solution`: C2, a solution agreed with the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreeSolution {
    pub solution: NonEmptyText,
}

/// `escalate`: C1/C4, minor → major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateComplaint {
    pub reason: NonEmptyText,
}

/// `resolve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveComplaint {
    pub resolution: NonEmptyText,
}

/// `return-visit`: C5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordReturnVisit {
    pub mode: ReturnVisitMode,
    #[serde(default)]
    pub notes: Option<NonEmptyText>,
}

/// `close`: empty body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseComplaint {}

/// Every command on a complaint, by route name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "command", content = "body", rename_all = "kebab-case")]
pub enum ComplaintCommand {
    Raise(RaiseComplaint),
    Assign(AssignComplaint),
    Report(ReportComplaint),
    Analyse(AnalyseComplaint),
    Feedback(GiveFeedback),
    AgreeSolution(AgreeSolution),
    Escalate(EscalateComplaint),
    Resolve(ResolveComplaint),
    ReturnVisit(RecordReturnVisit),
    Close(CloseComplaint),
}

const RAISERS: &[Role] = &[
    Role::Reception,
    Role::Requester,
    Role::Frontdesk,
    Role::Admin,
];
const HANDLERS: &[Role] = &[Role::Reception, Role::Admin];
const ESCALATORS: &[Role] = &[Role::Reception, Role::Admin, Role::System];

impl ComplaintCommand {
    /// Every route name, in process order.
    pub const NAMES: [&'static str; 10] = [
        "raise",
        "assign",
        "report",
        "analyse",
        "feedback",
        "agree-solution",
        "escalate",
        "resolve",
        "return-visit",
        "close",
    ];
}

impl DomainCommand for ComplaintCommand {
    fn parse(name: &str, body: serde_json::Value) -> Result<Self, DomainError> {
        Ok(match name {
            "raise" => ComplaintCommand::Raise(parse_json_body(body)?),
            "assign" => ComplaintCommand::Assign(parse_json_body(body)?),
            "report" => ComplaintCommand::Report(parse_json_body(body)?),
            "analyse" => ComplaintCommand::Analyse(parse_json_body(body)?),
            "feedback" => ComplaintCommand::Feedback(parse_json_body(body)?),
            "agree-solution" => ComplaintCommand::AgreeSolution(parse_json_body(body)?),
            "escalate" => ComplaintCommand::Escalate(parse_json_body(body)?),
            "resolve" => ComplaintCommand::Resolve(parse_json_body(body)?),
            "return-visit" => ComplaintCommand::ReturnVisit(parse_json_body(body)?),
            "close" => ComplaintCommand::Close(parse_json_body(body)?),
            other => {
                return Err(DomainError::not_found(
                    "command",
                    format!(
                        "no complaint command {other:?}; expected one of {}",
                        Self::NAMES.join(", ")
                    ),
                ))
            }
        })
    }

    fn name(&self) -> &'static str {
        match self {
            ComplaintCommand::Raise(_) => "raise",
            ComplaintCommand::Assign(_) => "assign",
            ComplaintCommand::Report(_) => "report",
            ComplaintCommand::Analyse(_) => "analyse",
            ComplaintCommand::Feedback(_) => "feedback",
            ComplaintCommand::AgreeSolution(_) => "agree-solution",
            ComplaintCommand::Escalate(_) => "escalate",
            ComplaintCommand::Resolve(_) => "resolve",
            ComplaintCommand::ReturnVisit(_) => "return-visit",
            ComplaintCommand::Close(_) => "close",
        }
    }

    fn allowed_roles(&self) -> &'static [Role] {
        match self {
            ComplaintCommand::Raise(_) => RAISERS,
            ComplaintCommand::Escalate(_) => ESCALATORS,
            _ => HANDLERS,
        }
    }

    fn schemas() -> Vec<NamedSchema> {
        fn cmd<T: JsonSchema>(name: &'static str) -> NamedSchema {
            NamedSchema {
                name,
                version: 1,
                schema: schema_for!(T),
            }
        }
        vec![
            cmd::<RaiseComplaint>("raise"),
            cmd::<AssignComplaint>("assign"),
            cmd::<ReportComplaint>("report"),
            cmd::<AnalyseComplaint>("analyse"),
            cmd::<GiveFeedback>("feedback"),
            cmd::<AgreeSolution>("agree-solution"),
            cmd::<EscalateComplaint>("escalate"),
            cmd::<ResolveComplaint>("resolve"),
            cmd::<RecordReturnVisit>("return-visit"),
            cmd::<CloseComplaint>("close"),
        ]
    }
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/// A complaint was raised (C1). `at` is when it was raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintRaised {
    /// The complaint's id: the app's `Context::entity_id`, which is also the stream's uuid.
    pub complaint_id: Uuid,
    pub visit_id: Option<Uuid>,
    /// The customer company's name.
    pub customer: String,
    pub severity: Severity,
    pub category: String,
    pub description: String,
    pub department: Option<String>,
    pub at: Time,
}

/// The complaint was assigned to a department and a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintAssigned {
    pub department: String,
    pub assignee: String,
    pub at: Time,
}

/// The complaint was reported to the head of department (C2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintReported {
    pub to: String,
    pub at: Time,
}

/// The responsible department analysed the complaint (C3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintAnalysed {
    pub analysis: String,
    pub at: Time,
}

/// Feedback was given to the customer (C3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintFeedbackGiven {
    pub text: String,
    pub at: Time,
}

/// A solution was agreed with the customer (C2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintSolutionAgreed {
    pub solution: String,
    pub at: Time,
}

/// The complaint's severity was raised (C1, C4). `automatic` is true when the system
/// escalated it because it stayed unresolved for 10 days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintEscalated {
    pub reason: String,
    pub automatic: bool,
    pub from: Severity,
    pub to: Severity,
    pub at: Time,
}

/// The complaint was resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintResolved {
    pub resolution: String,
    pub at: Time,
}

/// The return visit after resolution was made (C5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintReturnVisitDone {
    pub mode: ReturnVisitMode,
    pub notes: Option<String>,
    pub at: Time,
}

/// The complaint was closed; its record must be kept until `retain_until` (C6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintClosed {
    pub retain_until: Time,
    pub at: Time,
}

/// Every event of a complaint stream. Serialized as `{"type": ..., "data": ...}`;
/// the store uses [`DomainEvent::to_data`] / [`DomainEvent::from_stored`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
#[allow(clippy::enum_variant_names)]
pub enum ComplaintEvent {
    ComplaintRaised(ComplaintRaised),
    ComplaintAssigned(ComplaintAssigned),
    ComplaintReported(ComplaintReported),
    ComplaintAnalysed(ComplaintAnalysed),
    ComplaintFeedbackGiven(ComplaintFeedbackGiven),
    ComplaintSolutionAgreed(ComplaintSolutionAgreed),
    ComplaintEscalated(ComplaintEscalated),
    ComplaintResolved(ComplaintResolved),
    ComplaintReturnVisitDone(ComplaintReturnVisitDone),
    ComplaintClosed(ComplaintClosed),
}

impl ComplaintEvent {
    /// Business time of the event (every complaint event carries `at`).
    pub fn at(&self) -> Time {
        match self {
            ComplaintEvent::ComplaintRaised(e) => e.at,
            ComplaintEvent::ComplaintAssigned(e) => e.at,
            ComplaintEvent::ComplaintReported(e) => e.at,
            ComplaintEvent::ComplaintAnalysed(e) => e.at,
            ComplaintEvent::ComplaintFeedbackGiven(e) => e.at,
            ComplaintEvent::ComplaintSolutionAgreed(e) => e.at,
            ComplaintEvent::ComplaintEscalated(e) => e.at,
            ComplaintEvent::ComplaintResolved(e) => e.at,
            ComplaintEvent::ComplaintReturnVisitDone(e) => e.at,
            ComplaintEvent::ComplaintClosed(e) => e.at,
        }
    }
}

impl DomainEvent for ComplaintEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ComplaintEvent::ComplaintRaised(_) => "ComplaintRaised",
            ComplaintEvent::ComplaintAssigned(_) => "ComplaintAssigned",
            ComplaintEvent::ComplaintReported(_) => "ComplaintReported",
            ComplaintEvent::ComplaintAnalysed(_) => "ComplaintAnalysed",
            ComplaintEvent::ComplaintFeedbackGiven(_) => "ComplaintFeedbackGiven",
            ComplaintEvent::ComplaintSolutionAgreed(_) => "ComplaintSolutionAgreed",
            ComplaintEvent::ComplaintEscalated(_) => "ComplaintEscalated",
            ComplaintEvent::ComplaintResolved(_) => "ComplaintResolved",
            ComplaintEvent::ComplaintReturnVisitDone(_) => "ComplaintReturnVisitDone",
            ComplaintEvent::ComplaintClosed(_) => "ComplaintClosed",
        }
    }

    fn schema(&self) -> u32 {
        1
    }

    fn to_data(&self) -> serde_json::Value {
        let data = match self {
            ComplaintEvent::ComplaintRaised(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintAssigned(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintReported(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintAnalysed(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintFeedbackGiven(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintSolutionAgreed(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintEscalated(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintResolved(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintReturnVisitDone(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintClosed(e) => serde_json::to_value(e),
        };
        data.expect("complaint payloads are plain data and always serialize")
    }

    fn from_stored(event_type: &str, data: &serde_json::Value) -> Result<Self, String> {
        fn de<T: serde::de::DeserializeOwned>(
            t: &str,
            data: &serde_json::Value,
        ) -> Result<T, String> {
            T::deserialize(data).map_err(|e| format!("{t} payload: {e}"))
        }
        Ok(match event_type {
            "ComplaintRaised" => ComplaintEvent::ComplaintRaised(de(event_type, data)?),
            "ComplaintAssigned" => ComplaintEvent::ComplaintAssigned(de(event_type, data)?),
            "ComplaintReported" => ComplaintEvent::ComplaintReported(de(event_type, data)?),
            "ComplaintAnalysed" => ComplaintEvent::ComplaintAnalysed(de(event_type, data)?),
            "ComplaintFeedbackGiven" => {
                ComplaintEvent::ComplaintFeedbackGiven(de(event_type, data)?)
            }
            "ComplaintSolutionAgreed" => {
                ComplaintEvent::ComplaintSolutionAgreed(de(event_type, data)?)
            }
            "ComplaintEscalated" => ComplaintEvent::ComplaintEscalated(de(event_type, data)?),
            "ComplaintResolved" => ComplaintEvent::ComplaintResolved(de(event_type, data)?),
            "ComplaintReturnVisitDone" => {
                ComplaintEvent::ComplaintReturnVisitDone(de(event_type, data)?)
            }
            "ComplaintClosed" => ComplaintEvent::ComplaintClosed(de(event_type, data)?),
            other => return Err(format!("unknown complaint event type {other:?}")),
        })
    }

    fn occurred_at(&self) -> Option<Time> {
        Some(self.at())
    }

    fn schemas() -> Vec<NamedSchema> {
        fn ev<T: JsonSchema>(name: &'static str) -> NamedSchema {
            NamedSchema {
                name,
                version: 1,
                schema: schema_for!(T),
            }
        }
        vec![
            ev::<ComplaintRaised>("ComplaintRaised"),
            ev::<ComplaintAssigned>("ComplaintAssigned"),
            ev::<ComplaintReported>("ComplaintReported"),
            ev::<ComplaintAnalysed>("ComplaintAnalysed"),
            ev::<ComplaintFeedbackGiven>("ComplaintFeedbackGiven"),
            ev::<ComplaintSolutionAgreed>("ComplaintSolutionAgreed"),
            ev::<ComplaintEscalated>("ComplaintEscalated"),
            ev::<ComplaintResolved>("ComplaintResolved"),
            ev::<ComplaintReturnVisitDone>("ComplaintReturnVisitDone"),
            ev::<ComplaintClosed>("ComplaintClosed"),
        ]
    }
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/// Where a complaint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComplaintStatus {
    /// Not raised yet (the empty aggregate).
    New,
    Open,
    Resolved,
    Closed,
}

/// A complaint's state, built only by [`Complaint::evolve`]. Fields are public for
/// reading; build one by folding events.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Complaint {
    version: u64,
    pub id: Option<Uuid>,
    pub visit_id: Option<Uuid>,
    pub customer: String,
    pub category: String,
    pub description: String,
    /// Current severity (after any escalation).
    pub severity: Severity,
    /// Severity as raised.
    pub raised_severity: Severity,
    pub department: Option<String>,
    pub assignee: Option<String>,
    pub raised_at: Option<Time>,
    pub assigned_at: Option<Time>,
    pub reported_at: Option<Time>,
    pub reported_to: Option<String>,
    pub analysed_at: Option<Time>,
    pub analysis: Option<String>,
    pub feedback_at: Option<Time>,
    pub feedback: Option<String>,
    pub solution_agreed_at: Option<Time>,
    pub solution: Option<String>,
    pub escalated_at: Option<Time>,
    pub escalation_reason: Option<String>,
    pub escalated_automatically: bool,
    pub resolved_at: Option<Time>,
    pub resolution: Option<String>,
    pub return_visit_at: Option<Time>,
    pub return_visit_mode: Option<ReturnVisitMode>,
    pub return_visit_notes: Option<String>,
    pub closed_at: Option<Time>,
    /// C6: keep the record at least until then.
    pub retain_until: Option<Time>,
}

impl Complaint {
    pub fn status(&self) -> ComplaintStatus {
        if self.id.is_none() {
            ComplaintStatus::New
        } else if self.closed_at.is_some() {
            ComplaintStatus::Closed
        } else if self.resolved_at.is_some() {
            ComplaintStatus::Resolved
        } else {
            ComplaintStatus::Open
        }
    }

    /// When the complaint became major: raised as major, or escalated.
    pub fn major_since(&self) -> Option<Time> {
        match (self.severity, self.raised_severity) {
            (Severity::Major, Severity::Major) => self.raised_at,
            (Severity::Major, Severity::Minor) => self.escalated_at,
            _ => None,
        }
    }

    /// C4: when the automatic escalation falls due (raised + 10 days).
    pub fn escalation_due_at(&self) -> Option<Time> {
        self.raised_at
            .map(|t| t + Duration::days(ESCALATE_AFTER_DAYS))
    }

    fn require_open(&self, what: &str) -> Result<(), DomainError> {
        match self.status() {
            ComplaintStatus::Open => Ok(()),
            ComplaintStatus::Resolved => Err(DomainError::state(format!(
                "the complaint is already resolved; it cannot {what} any more (next: return-visit, then close)"
            ))),
            ComplaintStatus::Closed | ComplaintStatus::New => unreachable!("checked before"),
        }
    }
}

impl Aggregate for Complaint {
    type Command = ComplaintCommand;
    type Event = ComplaintEvent;
    const KIND: &'static str = "complaint";

    fn version(&self) -> u64 {
        self.version
    }

    fn exists(&self) -> bool {
        self.id.is_some()
    }

    fn decide(
        &self,
        command: ComplaintCommand,
        ctx: &Context,
    ) -> Result<Vec<ComplaintEvent>, DomainError> {
        let role = ctx.actor.role;
        if !command.allowed_roles().contains(&role) {
            let allowed: Vec<&str> = command.allowed_roles().iter().map(|r| r.as_str()).collect();
            return Err(DomainError::forbidden(format!(
                "role {} may not {} a complaint (allowed: {})",
                role.as_str(),
                command.name(),
                allowed.join(", ")
            )));
        }
        if let ComplaintCommand::Raise(b) = command {
            if self.exists() {
                return Err(DomainError::state("this complaint has already been raised"));
            }
            return Ok(vec![handling::raise(b, ctx)]);
        }
        if !self.exists() {
            return Err(DomainError::not_found(
                "complaint",
                "no such complaint: raise it first",
            ));
        }
        if self.status() == ComplaintStatus::Closed {
            return Err(DomainError::state(format!(
                "the complaint is closed; it cannot {} any more",
                command.name()
            )));
        }
        let event = match command {
            ComplaintCommand::Raise(_) => unreachable!("handled above"),
            ComplaintCommand::Assign(b) => handling::assign(self, b, ctx)?,
            ComplaintCommand::Report(b) => handling::report(self, b, ctx)?,
            ComplaintCommand::Analyse(b) => handling::analyse(self, b, ctx)?,
            ComplaintCommand::Feedback(b) => handling::feedback(self, b, ctx)?,
            ComplaintCommand::AgreeSolution(b) => handling::agree_solution(self, b, ctx)?,
            ComplaintCommand::Escalate(b) => handling::escalate(self, b, ctx)?,
            ComplaintCommand::Resolve(b) => resolution::resolve(self, b, ctx)?,
            ComplaintCommand::ReturnVisit(b) => resolution::return_visit(self, b, ctx)?,
            ComplaintCommand::Close(b) => resolution::close(self, b, ctx)?,
        };
        Ok(vec![event])
    }

    fn evolve(mut self, event: &ComplaintEvent) -> Complaint {
        self.version += 1;
        match event {
            ComplaintEvent::ComplaintRaised(e) => {
                self.id = Some(e.complaint_id);
                self.visit_id = e.visit_id;
                self.customer = e.customer.clone();
                self.category = e.category.clone();
                self.description = e.description.clone();
                self.severity = e.severity;
                self.raised_severity = e.severity;
                self.department = e.department.clone();
                self.raised_at = Some(e.at);
            }
            ComplaintEvent::ComplaintAssigned(e) => {
                self.department = Some(e.department.clone());
                self.assignee = Some(e.assignee.clone());
                self.assigned_at = Some(e.at);
            }
            ComplaintEvent::ComplaintReported(e) => {
                self.reported_to = Some(e.to.clone());
                self.reported_at = Some(e.at);
            }
            ComplaintEvent::ComplaintAnalysed(e) => {
                self.analysis = Some(e.analysis.clone());
                self.analysed_at = Some(e.at);
            }
            ComplaintEvent::ComplaintFeedbackGiven(e) => {
                self.feedback = Some(e.text.clone());
                self.feedback_at = Some(e.at);
            }
            ComplaintEvent::ComplaintSolutionAgreed(e) => {
                self.solution = Some(e.solution.clone());
                self.solution_agreed_at = Some(e.at);
            }
            ComplaintEvent::ComplaintEscalated(e) => {
                self.severity = e.to;
                self.escalated_at = Some(e.at);
                self.escalation_reason = Some(e.reason.clone());
                self.escalated_automatically = e.automatic;
            }
            ComplaintEvent::ComplaintResolved(e) => {
                self.resolution = Some(e.resolution.clone());
                self.resolved_at = Some(e.at);
            }
            ComplaintEvent::ComplaintReturnVisitDone(e) => {
                self.return_visit_mode = Some(e.mode);
                self.return_visit_notes = e.notes.clone();
                self.return_visit_at = Some(e.at);
            }
            ComplaintEvent::ComplaintClosed(e) => {
                self.closed_at = Some(e.at);
                self.retain_until = Some(e.retain_until);
            }
        }
        self
    }
}

// ---------------------------------------------------------------------------
// Deadlines (C2–C5)
// ---------------------------------------------------------------------------

fn due(item: &str, rule: &str, due_at: Time, met_at: Option<Time>, now: Time) -> Due {
    let overdue = match met_at {
        Some(met) => met > due_at,
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

/// The facts of a complaint its deadlines (C2–C5) depend on: what
/// [`complaint_clock_deadlines`] needs, for read models that keep these instants
/// rather than a whole [`Complaint`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
/// - resolved: `complaint_return_visit` (C5, 24 h after resolution).
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
        out.push(due(
            "complaint_report",
            "C2",
            since + Duration::minutes(REPORT_WITHIN_MINUTES),
            c.reported_at,
            now,
        ));
        out.push(due(
            "complaint_solution",
            "C2",
            since + Duration::hours(SOLUTION_WITHIN_HOURS),
            c.solution_agreed_at,
            now,
        ));
    }
    if c.raised_severity == Severity::Minor {
        out.push(due(
            "complaint_feedback",
            "C3",
            raised_at + Duration::hours(FEEDBACK_WITHIN_HOURS),
            c.feedback_at,
            now,
        ));
        if let Some(assigned_at) = c.assigned_at {
            let analysed = c.analysed_at.filter(|a| *a >= assigned_at);
            out.push(due(
                "complaint_analysis",
                "C3",
                assigned_at + Duration::hours(ANALYSIS_WITHIN_HOURS),
                analysed,
                now,
            ));
        }
        out.push(due(
            "complaint_escalation",
            "C4",
            raised_at + Duration::days(ESCALATE_AFTER_DAYS),
            c.resolved_at,
            now,
        ));
    }
    if let Some(resolved_at) = c.resolved_at {
        out.push(due(
            "complaint_return_visit",
            "C5",
            resolved_at + Duration::hours(RETURN_VISIT_WITHIN_HOURS),
            c.return_visit_at,
            now,
        ));
    }
    out.sort_by_key(|d| d.due_at);
    out
}

// ---------------------------------------------------------------------------
// Monthly analysis (C7)
// ---------------------------------------------------------------------------

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

/// C7: the monthly complaint analysis. Every ratio is a per-mille integer so that the
/// report holds no float (`None` when there is nothing to divide by).
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
    /// Per deadline item (`complaint_report`, ...): due, on time, missed.
    pub deadlines: BTreeMap<String, DeadlineCompliance>,
    /// All deadline items together: on time per mille of due.
    pub deadline_compliance_permille: Option<u32>,
    pub escalated: u32,
    pub escalated_automatically: u32,
    pub resolved: u32,
    pub closed: u32,
    /// C5: resolved complaints whose return visit was made.
    pub return_visits_done: u32,
    /// C5 (target 1000): return visits done per mille of resolved complaints.
    pub return_visit_rate_permille: Option<u32>,
    /// Mean seconds from raising to resolution over the resolved ones.
    pub mean_time_to_resolve_secs: Option<i64>,
}

fn permille(part: u32, whole: u32) -> Option<u32> {
    (whole > 0).then(|| ((u64::from(part) * 1000) / u64::from(whole)) as u32)
}

/// C7: the analysis of the complaints raised in `month` (read on the wall clock of each
/// complaint's own offset), as of `now` (which decides what is overdue). Complaints
/// raised in other months, and empty ones, are ignored, so the whole set may be passed.
pub fn monthly_analysis(complaints: &[Complaint], month: YearMonth, now: Time) -> ComplaintReport {
    let mut r = ComplaintReport {
        month: month.to_string(),
        ..Default::default()
    };
    let mut resolve_secs: Vec<i64> = Vec::new();
    let mut seen: BTreeSet<Uuid> = BTreeSet::new();
    for c in complaints {
        let (Some(id), Some(raised_at)) = (c.id, c.raised_at) else {
            continue;
        };
        if !month.contains(raised_at) || !seen.insert(id) {
            continue;
        }
        r.total += 1;
        *r.by_severity
            .entry(c.severity.as_str().to_string())
            .or_default() += 1;
        *r.by_category.entry(c.category.clone()).or_default() += 1;
        let dept = c
            .department
            .clone()
            .unwrap_or_else(|| "unassigned".to_string());
        *r.by_department.entry(dept).or_default() += 1;
        if c.escalated_at.is_some() {
            r.escalated += 1;
            if c.escalated_automatically {
                r.escalated_automatically += 1;
            }
        }
        if let Some(resolved_at) = c.resolved_at {
            r.resolved += 1;
            resolve_secs.push((resolved_at - raised_at).num_seconds());
            if c.return_visit_at.is_some() {
                r.return_visits_done += 1;
            }
        }
        if c.closed_at.is_some() {
            r.closed += 1;
        }
        for d in complaint_deadlines(c, now) {
            if d.met_at.is_none() && !d.overdue {
                continue; // still running
            }
            let entry = r.deadlines.entry(d.item).or_default();
            entry.due += 1;
            if d.overdue {
                entry.missed += 1;
            } else {
                entry.on_time += 1;
            }
        }
    }
    let (due, on_time) = r
        .deadlines
        .values()
        .fold((0, 0), |(d, o), c| (d + c.due, o + c.on_time));
    r.deadline_compliance_permille = permille(on_time, due);
    r.return_visit_rate_permille = permille(r.return_visits_done, r.resolved);
    if !resolve_secs.is_empty() {
        r.mean_time_to_resolve_secs =
            Some(resolve_secs.iter().sum::<i64>() / resolve_secs.len() as i64);
    }
    r
}
