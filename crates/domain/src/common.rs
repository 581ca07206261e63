//! Vocabulary shared by every aggregate: money, roles, actors, the error type and the
//! `DomainEvent` / `DomainCommand` traits. The decision context is [`crate::context`],
//! the `Aggregate` trait [`crate::aggregate`]; both are re-exported at the crate root.
//!
//! THIS FILE IS A CONTRACT shared by the domain helpers and the app/api/projections
//! crates; extend it, do not rename what is here without telling the team.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// Money in integer fen (1 yuan = 100 fen). Never negative.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Fen(i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);
    pub fn new(fen: i64) -> Result<Fen, DomainError> {
        if fen < 0 {
            return Err(DomainError::invalid("amount", "money must not be negative"));
        }
        Ok(Fen(fen))
    }
    pub const fn from_yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }
    pub fn fen(self) -> i64 {
        self.0
    }
    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }
    pub fn checked_mul(self, n: i64) -> Option<Fen> {
        if n < 0 {
            return None;
        }
        self.0.checked_mul(n).map(Fen)
    }
}

impl TryFrom<i64> for Fen {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        if v < 0 {
            Err("money must not be negative".into())
        } else {
            Ok(Fen(v))
        }
    }
}

impl From<Fen> for i64 {
    fn from(f: Fen) -> i64 {
        f.0
    }
}

/// The roles of API.md plus `System` for processes (auto-escalation, default policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Requester,
    Reception,
    Approver,
    Finance,
    Frontdesk,
    Auditor,
    Analyst,
    System,
}

impl Role {
    pub const ALL_HUMAN: [Role; 8] = [
        Role::Admin,
        Role::Requester,
        Role::Reception,
        Role::Approver,
        Role::Finance,
        Role::Frontdesk,
        Role::Auditor,
        Role::Analyst,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Requester => "requester",
            Role::Reception => "reception",
            Role::Approver => "approver",
            Role::Finance => "finance",
            Role::Frontdesk => "frontdesk",
            Role::Auditor => "auditor",
            Role::Analyst => "analyst",
            Role::System => "system",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

/// Who issues a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub role: Role,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            user: "system".into(),
            role: Role::System,
        }
    }
}

/// What kind of failure, which decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 400 `invalid_input`: malformed or missing fields, out-of-range values, V1.
    InvalidInput,
    /// 409 `rule_violation` with `rule`.
    RuleViolation,
    /// 409 `invalid_state`: command does not fit the aggregate's state.
    InvalidState,
    /// 403 `forbidden`: the actor's role may not issue this command (or an override).
    Forbidden,
    /// 404 `not_found`: e.g. a booking/expense/souvenir id unknown in this visit, or the aggregate does not exist.
    NotFound,
}

/// A rejected command. Names the rule id (`V9`) and/or the field, with a message a
/// person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct DomainError {
    pub kind: ErrorKind,
    pub rule: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl DomainError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        DomainError {
            kind: ErrorKind::InvalidInput,
            rule: None,
            field: Some(field.into()),
            message: message.into(),
        }
    }
    pub fn rule(rule: &str, message: impl Into<String>) -> Self {
        DomainError {
            kind: ErrorKind::RuleViolation,
            rule: Some(rule.into()),
            field: None,
            message: message.into(),
        }
    }
    pub fn state(message: impl Into<String>) -> Self {
        DomainError {
            kind: ErrorKind::InvalidState,
            rule: None,
            field: None,
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        DomainError {
            kind: ErrorKind::Forbidden,
            rule: None,
            field: None,
            message: message.into(),
        }
    }
    pub fn not_found(field: &str, message: impl Into<String>) -> Self {
        DomainError {
            kind: ErrorKind::NotFound,
            rule: None,
            field: Some(field.into()),
            message: message.into(),
        }
    }
    pub fn with_rule(mut self, rule: &str) -> Self {
        self.rule = Some(rule.into());
        self
    }
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// A domain event as stored: a stable past-tense type name, a payload schema version
/// and a JSON payload (the envelope's `data`).
pub trait DomainEvent: Sized + Clone + std::fmt::Debug {
    /// e.g. "LevelAssigned"
    fn event_type(&self) -> &'static str;
    /// Payload schema version of this type.
    fn schema(&self) -> u32;
    /// The payload as stored in the envelope's `data`.
    fn to_data(&self) -> serde_json::Value;
    /// Rebuilds the event from a stored (already upcast) envelope's type and data.
    fn from_stored(event_type: &str, data: &serde_json::Value) -> Result<Self, String>;
    /// Business time of the event when the payload carries one (e.g. arrival `at`).
    fn occurred_at(&self) -> Option<DateTime<FixedOffset>> {
        None
    }
    /// JSON Schemas of every event type's payload, for `schemas/`.
    fn schemas() -> Vec<NamedSchema>;
}

/// A generated JSON Schema: `name` is the event type (`"LevelAssigned"`) or the command
/// route name (`"assign-level"`); `version` the payload schema version (commands: 1).
#[derive(Debug, Clone)]
pub struct NamedSchema {
    pub name: &'static str,
    pub version: u32,
    pub schema: schemars::Schema,
}

/// A command the HTTP layer can build from a route name and a JSON body.
pub trait DomainCommand: Sized {
    /// Parses `POST .../<name>` with its JSON body. Unknown name → `NotFound` on field
    /// "command"; bad body → `InvalidInput` naming the field (use serde_path_to_error
    /// style paths like "arrival.at").
    fn parse(name: &str, body: serde_json::Value) -> Result<Self, DomainError>;
    /// The route name (`"assign-level"`).
    fn name(&self) -> &'static str;
    /// True when the command creates an entity inside the stream (booking, souvenir,
    /// matter, expense, attempt): the answer then carries `entity_id` = `Context::entity_id`.
    fn creates_entity(&self) -> bool {
        false
    }
    /// Roles allowed to issue it (checked in `decide`, exposed for docs and tests).
    fn allowed_roles(&self) -> &'static [Role];
    /// JSON Schemas of every command body of this aggregate, for `schemas/` and OpenAPI.
    fn schemas() -> Vec<NamedSchema>;
}

/// Free text that is not blank: a name, a reason, a description. Surrounding whitespace
/// is trimmed when parsed; an empty or all-blank string is refused, so a body field of
/// this type names itself in the error (`"category: must not be empty"`).
///
/// ```
/// use reception_domain::NonEmptyText;
/// assert_eq!(NonEmptyText::new("  late car ").unwrap().as_str(), "late car");
/// assert!(NonEmptyText::new("   ").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NonEmptyText(String);

impl NonEmptyText {
    /// Trims `text`; refuses it when nothing is left.
    pub fn new(text: impl Into<String>) -> Result<NonEmptyText, String> {
        let text: String = text.into();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(NonEmptyText(trimmed.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for NonEmptyText {
    type Error = String;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        NonEmptyText::new(v)
    }
}

impl From<NonEmptyText> for String {
    fn from(t: NonEmptyText) -> String {
        t.0
    }
}

impl std::fmt::Display for NonEmptyText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl schemars::JsonSchema for NonEmptyText {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NonEmptyText".into()
    }
    fn json_schema(_gen: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "minLength": 1,
        })
    }
}

/// Parses a command body into `T`, naming the offending field in the error
/// (`"arrival.at"`, also for a missing field); a missing body (`null`) is read as `{}`.
pub fn parse_json_body<T: serde::de::DeserializeOwned>(
    body: serde_json::Value,
) -> Result<T, DomainError> {
    let body = if body.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        body
    };
    serde_path_to_error::deserialize(body).map_err(|e| {
        // an unknown key "" has an empty path (or one ending in a dot): name the body
        // or the object holding it, never an empty field
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let parent = path.trim_end_matches('.').to_string();
        let field = match inner
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            Some(missing) if parent.is_empty() => missing.to_string(),
            Some(missing) => format!("{parent}.{missing}"),
            None if parent.is_empty() => "body".to_string(),
            None => parent,
        };
        DomainError::invalid(&field, format!("{field}: {inner}"))
    })
}
