//! The complaint aggregate (seed 003, rules C1–C11): its commands, events, rules,
//! deadlines and the monthly analysis.
//!
//! A complaint is raised (C1: minor or major), assigned to a department, reported to
//! the head of department and solved with the customer (C2, major), given feedback and
//! analysed (C3, minor), judged valid or unreasonable (C8), escalated to major by hand
//! or by the system after 10 days unresolved (C4), resolved, followed by a return visit
//! with the customer's satisfaction (C5, C11) and closed, after which its record is kept
//! for at least two years (C6) and may enter the case library (C11). A part that
//! belongs to another department goes out as a work letter with a deadline (C9). A C2,
//! C3 or C5 deadline that passes unmet is recorded by the system (C10).
//! [`monthly_analysis`] is C7.
//!
//! Who may do what (checked in [`Complaint::decide`]):
//! - `raise`: `reception`, `requester`, `frontdesk`, `admin` — whoever hears it first.
//! - every handling command (`assign`, `report`, `analyse`, `judge`, `feedback`,
//!   `agree-solution`, `work-letter`, `answer-letter`, `resolve`, `return-visit`,
//!   `close`, `add-to-case-library`): `reception`, `admin` — the reception office owns
//!   the complaint's follow-up and records what the analysing department decides
//!   (`judge`, like `analyse`) and what another department answers (`answer-letter`).
//! - `escalate`: `reception`, `admin`, and `system` (the C4 process, see
//!   [`crate::escalation`]).
//! - `record-missed-deadline`: `system` only (the C10 process); every token is refused.
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

mod analysis;
mod clock;
mod follow_up;
mod handling;
mod resolution;

pub use analysis::{
    monthly_analysis, monthly_analysis_of, ComplaintFacts, ComplaintReport, DeadlineCompliance,
    RecordedMiss,
};
pub use clock::{complaint_clock_deadlines, complaint_deadlines, ComplaintClock, LetterClock};

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

/// The [`Due::item`] of a work letter's deadline (C9).
pub const WORK_LETTER_ITEM: &str = "work_letter";

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

/// C11: the customer's satisfaction at the return visit, 1 (poor) to 5 (excellent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct SatisfactionScore(u8);

impl SatisfactionScore {
    pub fn new(score: u8) -> Result<SatisfactionScore, DomainError> {
        SatisfactionScore::try_from(score).map_err(|m| DomainError::invalid("satisfaction", m))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for SatisfactionScore {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        if (1..=5).contains(&n) {
            Ok(SatisfactionScore(n))
        } else {
            Err(format!("satisfaction runs from 1 to 5, got {n}"))
        }
    }
}

impl From<SatisfactionScore> for u8 {
    fn from(s: SatisfactionScore) -> u8 {
        s.0
    }
}

impl JsonSchema for SatisfactionScore {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SatisfactionScore".into()
    }
    fn json_schema(_gen: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "integer",
            "minimum": 1,
            "maximum": 5,
        })
    }
}

/// C10: the deadlines whose miss the system records as it happens (C2, C3, C5), named
/// as their [`Due::item`]. C4's escalation is its own process, and a work letter's due
/// time (C9) is the other department's, shown as overdue but not recorded.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[allow(clippy::enum_variant_names)]
pub enum ComplaintDeadline {
    /// C2: reported to the head of department within 10 minutes.
    ComplaintReport,
    /// C2: a solution agreed within 12 hours.
    ComplaintSolution,
    /// C3: feedback to the customer within 24 hours.
    ComplaintFeedback,
    /// C3: analysed within 1 hour of assignment.
    ComplaintAnalysis,
    /// C5: the return visit within 24 hours after resolution.
    ComplaintReturnVisit,
}

impl ComplaintDeadline {
    pub const ALL: [ComplaintDeadline; 5] = [
        ComplaintDeadline::ComplaintReport,
        ComplaintDeadline::ComplaintSolution,
        ComplaintDeadline::ComplaintFeedback,
        ComplaintDeadline::ComplaintAnalysis,
        ComplaintDeadline::ComplaintReturnVisit,
    ];

    /// The deadline's [`Due::item`].
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintDeadline::ComplaintReport => "complaint_report",
            ComplaintDeadline::ComplaintSolution => "complaint_solution",
            ComplaintDeadline::ComplaintFeedback => "complaint_feedback",
            ComplaintDeadline::ComplaintAnalysis => "complaint_analysis",
            ComplaintDeadline::ComplaintReturnVisit => "complaint_return_visit",
        }
    }

    /// The deadline of a [`Due::item`], if it is one whose miss is recorded.
    pub fn of_item(item: &str) -> Option<ComplaintDeadline> {
        Self::ALL.into_iter().find(|d| d.as_str() == item)
    }
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

/// `return-visit`: C5, with the customer's satisfaction and suggestions (C11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordReturnVisit {
    pub mode: ReturnVisitMode,
    #[serde(default)]
    pub notes: Option<NonEmptyText>,
    /// C11: 1 (poor) to 5 (excellent); absent when the customer gives none.
    #[serde(default)]
    pub satisfaction: Option<SatisfactionScore>,
    /// C11: what the customer suggests.
    #[serde(default)]
    pub suggestions: Option<NonEmptyText>,
}

/// `judge`: C8, the analysing department's judgement, valid (有效投诉) or unreasonable
/// (无理投诉), with the explanation given to the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgeComplaint {
    pub valid: bool,
    pub explanation: NonEmptyText,
}

/// `work-letter`: C9, a work letter (工作联系函) to the department the complaint belongs
/// to: what to resolve, by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendWorkLetter {
    pub department: NonEmptyText,
    /// What the department is to resolve.
    pub text: NonEmptyText,
    /// The deadline; after the command's time.
    pub due: Time,
}

/// `answer-letter`: C9, the department's answer to a work letter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerWorkLetter {
    /// The `entity_id` the `work-letter` command answered.
    pub letter_id: Uuid,
    pub text: NonEmptyText,
}

/// `record-missed-deadline`: C10, issued by the system as a deadline passes unmet
/// ([`crate::escalation::due_misses`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordMissedDeadline {
    pub deadline: ComplaintDeadline,
    /// The due time the process saw; refused when the deadline has moved since.
    pub due_at: Time,
}

/// `add-to-case-library`: C11, a closed complaint kept as a case (案例库) with the
/// lesson learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddToCaseLibrary {
    pub title: NonEmptyText,
    pub lesson: NonEmptyText,
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
    Judge(JudgeComplaint),
    WorkLetter(SendWorkLetter),
    AnswerLetter(AnswerWorkLetter),
    RecordMissedDeadline(RecordMissedDeadline),
    AddToCaseLibrary(AddToCaseLibrary),
}

const RAISERS: &[Role] = &[
    Role::Reception,
    Role::Requester,
    Role::Frontdesk,
    Role::Admin,
];
const HANDLERS: &[Role] = &[Role::Reception, Role::Admin];
const ESCALATORS: &[Role] = &[Role::Reception, Role::Admin, Role::System];
const SYSTEM_ONLY: &[Role] = &[Role::System];

impl ComplaintCommand {
    /// Every route name, in process order.
    pub const NAMES: [&'static str; 15] = [
        "raise",
        "assign",
        "report",
        "analyse",
        "judge",
        "feedback",
        "agree-solution",
        "work-letter",
        "answer-letter",
        "escalate",
        "record-missed-deadline",
        "resolve",
        "return-visit",
        "close",
        "add-to-case-library",
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
            "judge" => ComplaintCommand::Judge(parse_json_body(body)?),
            "work-letter" => ComplaintCommand::WorkLetter(parse_json_body(body)?),
            "answer-letter" => ComplaintCommand::AnswerLetter(parse_json_body(body)?),
            "record-missed-deadline" => {
                ComplaintCommand::RecordMissedDeadline(parse_json_body(body)?)
            }
            "add-to-case-library" => ComplaintCommand::AddToCaseLibrary(parse_json_body(body)?),
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
            ComplaintCommand::Judge(_) => "judge",
            ComplaintCommand::WorkLetter(_) => "work-letter",
            ComplaintCommand::AnswerLetter(_) => "answer-letter",
            ComplaintCommand::RecordMissedDeadline(_) => "record-missed-deadline",
            ComplaintCommand::AddToCaseLibrary(_) => "add-to-case-library",
        }
    }

    /// A work letter is an entity of the complaint: its id is the answer's `entity_id`.
    fn creates_entity(&self) -> bool {
        matches!(self, ComplaintCommand::WorkLetter(_))
    }

    fn allowed_roles(&self) -> &'static [Role] {
        match self {
            ComplaintCommand::Raise(_) => RAISERS,
            ComplaintCommand::Escalate(_) => ESCALATORS,
            ComplaintCommand::RecordMissedDeadline(_) => SYSTEM_ONLY,
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
            cmd::<JudgeComplaint>("judge"),
            cmd::<SendWorkLetter>("work-letter"),
            cmd::<AnswerWorkLetter>("answer-letter"),
            cmd::<RecordMissedDeadline>("record-missed-deadline"),
            cmd::<AddToCaseLibrary>("add-to-case-library"),
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

/// The return visit after resolution was made (C5), with the customer's satisfaction
/// and suggestions (C11). Both are absent from return visits recorded before C11, and
/// from one where the customer gave none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintReturnVisitDone {
    pub mode: ReturnVisitMode,
    pub notes: Option<String>,
    /// 1 (poor) to 5 (excellent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 5))]
    pub satisfaction: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<String>,
    pub at: Time,
}

/// The analysing department judged the complaint valid or unreasonable (C8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintJudged {
    pub valid: bool,
    /// The explanation for the customer.
    pub explanation: String,
    pub at: Time,
}

/// A work letter went to the department the complaint belongs to (C9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintWorkLetterSent {
    /// The letter's id (the command's `entity_id`).
    pub letter_id: Uuid,
    pub department: String,
    /// What the department is to resolve.
    pub text: String,
    /// The letter's deadline.
    pub due: Time,
    pub at: Time,
}

/// The department answered a work letter (C9); `late` when after the letter's due time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintWorkLetterAnswered {
    pub letter_id: Uuid,
    pub text: String,
    pub late: bool,
    pub at: Time,
}

/// A C2, C3 or C5 deadline passed unmet, recorded by the system when it saw it pass
/// (`at`, at or after `due_at`) (C10). A major complaint's missed 12-hour solution is
/// reported to the head of department: `reported_to_head`, addressed to `head`, the
/// head the complaint was reported to under C2 when it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintDeadlineMissed {
    pub deadline: ComplaintDeadline,
    /// The rule the deadline comes from (`C2`, `C3`, `C5`).
    pub rule: String,
    pub due_at: Time,
    pub reported_to_head: bool,
    pub head: Option<String>,
    pub at: Time,
}

/// The closed complaint was added to the case library (C11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintAddedToCaseLibrary {
    pub title: String,
    /// The lesson learned.
    pub lesson: String,
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
    ComplaintJudged(ComplaintJudged),
    ComplaintWorkLetterSent(ComplaintWorkLetterSent),
    ComplaintWorkLetterAnswered(ComplaintWorkLetterAnswered),
    ComplaintDeadlineMissed(ComplaintDeadlineMissed),
    ComplaintAddedToCaseLibrary(ComplaintAddedToCaseLibrary),
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
            ComplaintEvent::ComplaintJudged(e) => e.at,
            ComplaintEvent::ComplaintWorkLetterSent(e) => e.at,
            ComplaintEvent::ComplaintWorkLetterAnswered(e) => e.at,
            ComplaintEvent::ComplaintDeadlineMissed(e) => e.at,
            ComplaintEvent::ComplaintAddedToCaseLibrary(e) => e.at,
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
            ComplaintEvent::ComplaintJudged(_) => "ComplaintJudged",
            ComplaintEvent::ComplaintWorkLetterSent(_) => "ComplaintWorkLetterSent",
            ComplaintEvent::ComplaintWorkLetterAnswered(_) => "ComplaintWorkLetterAnswered",
            ComplaintEvent::ComplaintDeadlineMissed(_) => "ComplaintDeadlineMissed",
            ComplaintEvent::ComplaintAddedToCaseLibrary(_) => "ComplaintAddedToCaseLibrary",
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
            ComplaintEvent::ComplaintJudged(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintWorkLetterSent(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintWorkLetterAnswered(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintDeadlineMissed(e) => serde_json::to_value(e),
            ComplaintEvent::ComplaintAddedToCaseLibrary(e) => serde_json::to_value(e),
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
            "ComplaintJudged" => ComplaintEvent::ComplaintJudged(de(event_type, data)?),
            "ComplaintWorkLetterSent" => {
                ComplaintEvent::ComplaintWorkLetterSent(de(event_type, data)?)
            }
            "ComplaintWorkLetterAnswered" => {
                ComplaintEvent::ComplaintWorkLetterAnswered(de(event_type, data)?)
            }
            "ComplaintDeadlineMissed" => {
                ComplaintEvent::ComplaintDeadlineMissed(de(event_type, data)?)
            }
            "ComplaintAddedToCaseLibrary" => {
                ComplaintEvent::ComplaintAddedToCaseLibrary(de(event_type, data)?)
            }
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
            ev::<ComplaintJudged>("ComplaintJudged"),
            ev::<ComplaintWorkLetterSent>("ComplaintWorkLetterSent"),
            ev::<ComplaintWorkLetterAnswered>("ComplaintWorkLetterAnswered"),
            ev::<ComplaintDeadlineMissed>("ComplaintDeadlineMissed"),
            ev::<ComplaintAddedToCaseLibrary>("ComplaintAddedToCaseLibrary"),
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
    /// C11: 1 (poor) to 5 (excellent), when the customer gave one.
    pub return_visit_satisfaction: Option<u8>,
    /// C11: the customer's suggestions at the return visit.
    pub return_visit_suggestions: Option<String>,
    pub closed_at: Option<Time>,
    /// C6: keep the record at least until then.
    pub retain_until: Option<Time>,
    /// C8: `Some(true)` valid, `Some(false)` unreasonable, `None` not judged.
    pub valid: Option<bool>,
    /// C8: the explanation for the customer.
    pub judgement: Option<String>,
    pub judged_at: Option<Time>,
    /// C9: the work letters sent, in the order sent.
    pub letters: Vec<WorkLetter>,
    /// C10: the misses the system recorded, in the order recorded.
    pub missed_deadlines: Vec<MissedDeadline>,
    /// C11: the complaint's entry in the case library.
    pub case: Option<CaseEntry>,
}

/// C9: one work letter of a complaint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkLetter {
    pub letter_id: Uuid,
    pub department: String,
    pub text: String,
    pub due: Time,
    pub sent_at: Time,
    pub answer: Option<String>,
    pub answered_at: Option<Time>,
}

impl WorkLetter {
    /// Not answered by its due time: unanswered past it, or answered after it.
    pub fn overdue(&self, now: Time) -> bool {
        self.answered_at.unwrap_or(now) > self.due
    }
}

/// C10: one recorded miss.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissedDeadline {
    pub deadline: ComplaintDeadline,
    pub rule: String,
    pub due_at: Time,
    /// When the system recorded it.
    pub recorded_at: Time,
    pub reported_to_head: bool,
    pub head: Option<String>,
}

/// C11: a case in the library.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseEntry {
    pub title: String,
    pub lesson: String,
    pub added_at: Time,
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

    /// C9: the work letters not answered by their due time, as of `now`.
    pub fn overdue_letters(&self, now: Time) -> impl Iterator<Item = &WorkLetter> {
        self.letters.iter().filter(move |l| l.overdue(now))
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
        if let ComplaintCommand::AddToCaseLibrary(b) = command {
            return Ok(vec![follow_up::add_to_case_library(self, b, ctx)?]);
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
            ComplaintCommand::Judge(b) => follow_up::judge(self, b, ctx)?,
            ComplaintCommand::WorkLetter(b) => follow_up::work_letter(self, b, ctx)?,
            ComplaintCommand::AnswerLetter(b) => follow_up::answer_letter(self, b, ctx)?,
            ComplaintCommand::RecordMissedDeadline(b) => follow_up::record_miss(self, b, ctx)?,
            ComplaintCommand::AddToCaseLibrary(_) => unreachable!("handled above"),
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
                self.return_visit_satisfaction = e.satisfaction;
                self.return_visit_suggestions = e.suggestions.clone();
                self.return_visit_at = Some(e.at);
            }
            ComplaintEvent::ComplaintClosed(e) => {
                self.closed_at = Some(e.at);
                self.retain_until = Some(e.retain_until);
            }
            ComplaintEvent::ComplaintJudged(e) => {
                self.valid = Some(e.valid);
                self.judgement = Some(e.explanation.clone());
                self.judged_at = Some(e.at);
            }
            ComplaintEvent::ComplaintWorkLetterSent(e) => self.letters.push(WorkLetter {
                letter_id: e.letter_id,
                department: e.department.clone(),
                text: e.text.clone(),
                due: e.due,
                sent_at: e.at,
                answer: None,
                answered_at: None,
            }),
            ComplaintEvent::ComplaintWorkLetterAnswered(e) => {
                if let Some(l) = self.letters.iter_mut().find(|l| l.letter_id == e.letter_id) {
                    l.answer = Some(e.text.clone());
                    l.answered_at = Some(e.at);
                }
            }
            ComplaintEvent::ComplaintDeadlineMissed(e) => {
                self.missed_deadlines.push(MissedDeadline {
                    deadline: e.deadline,
                    rule: e.rule.clone(),
                    due_at: e.due_at,
                    recorded_at: e.at,
                    reported_to_head: e.reported_to_head,
                    head: e.head.clone(),
                })
            }
            ComplaintEvent::ComplaintAddedToCaseLibrary(e) => {
                self.case = Some(CaseEntry {
                    title: e.title.clone(),
                    lesson: e.lesson.clone(),
                    added_at: e.at,
                })
            }
        }
        self
    }
}
