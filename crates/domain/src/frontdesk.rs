//! The front-desk sign-in book (seed 001, rule F1): one `SignIn` aggregate per walk-in
//! party, signed in once and signed out once.
//!
//! Roles: `frontdesk` and `admin` (checked in [`SignIn::decide`]); nobody else writes
//! the book.
//!
//! ```
//! use reception_domain::frontdesk::*;
//! use reception_domain::{Actor, Aggregate, Context, DomainCommand, Role};
//! use reception_domain::policy::PolicyBook;
//! use serde_json::json;
//!
//! let ctx = Context {
//!     now: "2026-11-22T09:00:00+08:00".parse().unwrap(),
//!     actor: Actor { user: "desk.1".into(), role: Role::Frontdesk },
//!     policies: PolicyBook::default(),
//!     entity_id: uuid::Uuid::nil(),
//!     linked_visit: None,
//! };
//! let cmd = SignInCommand::parse("sign-in", json!({
//!     "name": "Zhao Min", "party_size": 2, "reason": "delivery", "host": "Wu Fang"
//! })).unwrap();
//! let book = SignIn::default().decide(cmd, &ctx).unwrap()
//!     .iter().fold(SignIn::default(), |s, e| s.evolve(e));
//! assert!(book.on_site());
//! ```

use chrono::{DateTime, Duration, FixedOffset};
use schemars::{schema_for, JsonSchema};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::Aggregate;
use crate::common::{
    parse_json_body, DomainCommand, DomainError, DomainEvent, NamedSchema, NonEmptyText, Role,
};
use crate::context::Context;

type Time = DateTime<FixedOffset>;

/// How far ahead of the server clock a given `at` may be (clock skew of the desk's PC).
pub const MAX_CLOCK_SKEW_MINUTES: i64 = 5;
/// The largest walk-in party the book accepts.
pub const MAX_PARTY_SIZE: u32 = 500;

/// Number of people in a walk-in party: 1..=500.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct PartySize(u32);

impl PartySize {
    pub fn new(n: u32) -> Result<PartySize, String> {
        if n == 0 || n > MAX_PARTY_SIZE {
            return Err(format!("must be between 1 and {MAX_PARTY_SIZE}, got {n}"));
        }
        Ok(PartySize(n))
    }
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for PartySize {
    type Error = String;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        PartySize::new(n)
    }
}

impl From<PartySize> for u32 {
    fn from(p: PartySize) -> u32 {
        p.0
    }
}

impl JsonSchema for PartySize {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PartySize".into()
    }
    fn json_schema(_gen: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PARTY_SIZE,
        })
    }
}

/// `POST /api/v1/frontdesk/sign-in`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInVisitor {
    /// The visitor signing (for a party, the one who signs).
    pub name: NonEmptyText,
    pub party_size: PartySize,
    pub reason: NonEmptyText,
    /// The employee they come to see.
    pub host: NonEmptyText,
    /// When they came in; defaults to the server clock.
    #[serde(default)]
    pub at: Option<Time>,
    /// F2: the expected visit this party belongs to (it must exist and be open).
    #[serde(default)]
    pub visit_id: Option<Uuid>,
}

/// `POST /api/v1/frontdesk/{id}/sign-out`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOutVisitor {
    /// When they left; defaults to the server clock.
    #[serde(default)]
    pub at: Option<Time>,
}

/// Every command on the sign-in book.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "command", content = "body", rename_all = "kebab-case")]
pub enum SignInCommand {
    SignIn(SignInVisitor),
    SignOut(SignOutVisitor),
}

const DESK: &[Role] = &[Role::Frontdesk, Role::Admin];

impl DomainCommand for SignInCommand {
    fn parse(name: &str, body: serde_json::Value) -> Result<Self, DomainError> {
        match name {
            "sign-in" => Ok(SignInCommand::SignIn(parse_json_body(body)?)),
            "sign-out" => Ok(SignInCommand::SignOut(parse_json_body(body)?)),
            other => Err(DomainError::not_found(
                "command",
                format!("no front-desk command {other:?}; expected sign-in or sign-out"),
            )),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            SignInCommand::SignIn(_) => "sign-in",
            SignInCommand::SignOut(_) => "sign-out",
        }
    }

    fn allowed_roles(&self) -> &'static [Role] {
        DESK
    }

    fn schemas() -> Vec<NamedSchema> {
        vec![
            NamedSchema {
                name: "sign-in",
                version: 1,
                schema: schema_for!(SignInVisitor),
            },
            NamedSchema {
                name: "sign-out",
                version: 1,
                schema: schema_for!(SignOutVisitor),
            },
        ]
    }
}

/// A walk-in visitor signed in (F1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VisitorSignedIn {
    /// The sign-in's id: the app's `Context::entity_id`, also the stream's uuid.
    pub sign_in_id: Uuid,
    pub name: String,
    pub party_size: u32,
    pub reason: String,
    pub host: String,
    pub at: Time,
    /// F2: the visit the party belongs to, and its customer for the on-site list.
    #[serde(default)]
    pub visit_id: Option<Uuid>,
    #[serde(default)]
    pub customer: Option<String>,
}

/// The visitor signed out (F1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VisitorSignedOut {
    pub at: Time,
}

/// Every event of a front-desk stream. Serialized as `{"type": ..., "data": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum SignInEvent {
    VisitorSignedIn(VisitorSignedIn),
    VisitorSignedOut(VisitorSignedOut),
}

impl DomainEvent for SignInEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SignInEvent::VisitorSignedIn(_) => "VisitorSignedIn",
            SignInEvent::VisitorSignedOut(_) => "VisitorSignedOut",
        }
    }

    fn schema(&self) -> u32 {
        1
    }

    fn to_data(&self) -> serde_json::Value {
        match self {
            SignInEvent::VisitorSignedIn(e) => serde_json::to_value(e),
            SignInEvent::VisitorSignedOut(e) => serde_json::to_value(e),
        }
        .expect("front-desk payloads are plain data and always serialize")
    }

    fn from_stored(event_type: &str, data: &serde_json::Value) -> Result<Self, String> {
        let bad = |e: serde_json::Error| format!("{event_type} payload: {e}");
        match event_type {
            "VisitorSignedIn" => Ok(SignInEvent::VisitorSignedIn(
                VisitorSignedIn::deserialize(data).map_err(bad)?,
            )),
            "VisitorSignedOut" => Ok(SignInEvent::VisitorSignedOut(
                VisitorSignedOut::deserialize(data).map_err(bad)?,
            )),
            other => Err(format!("unknown front-desk event type {other:?}")),
        }
    }

    fn occurred_at(&self) -> Option<Time> {
        Some(match self {
            SignInEvent::VisitorSignedIn(e) => e.at,
            SignInEvent::VisitorSignedOut(e) => e.at,
        })
    }

    fn schemas() -> Vec<NamedSchema> {
        vec![
            NamedSchema {
                name: "VisitorSignedIn",
                version: 1,
                schema: schema_for!(VisitorSignedIn),
            },
            NamedSchema {
                name: "VisitorSignedOut",
                version: 1,
                schema: schema_for!(VisitorSignedOut),
            },
        ]
    }
}

/// F2: the customer of the open visit `id` a sign-in names, as the caller looked it up.
fn linked_customer(id: Uuid, ctx: &Context) -> Result<String, DomainError> {
    let Some(v) = ctx.linked_visit.as_ref().filter(|v| v.id == id) else {
        return Err(
            DomainError::not_found("visit_id", format!("no visit {id} to sign in for"))
                .with_rule("F2"),
        );
    };
    if !v.open {
        return Err(DomainError::rule(
            "F2",
            format!("visit {id} is closed, cancelled or rejected; it expects no visitors"),
        )
        .with_field("visit_id"));
    }
    Ok(v.customer.clone())
}

/// One walk-in party's line in the sign-in book.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SignIn {
    version: u64,
    pub id: Option<Uuid>,
    pub name: String,
    pub party_size: u32,
    pub reason: String,
    pub host: String,
    pub signed_in_at: Option<Time>,
    pub signed_out_at: Option<Time>,
    /// F2: the visit the party belongs to and its customer.
    pub visit_id: Option<Uuid>,
    pub customer: Option<String>,
}

impl SignIn {
    /// Signed in and not yet signed out: the board's "people on site".
    pub fn on_site(&self) -> bool {
        self.signed_in_at.is_some() && self.signed_out_at.is_none()
    }
}

fn not_in_future(at: Time, now: Time) -> Result<Time, DomainError> {
    if at > now + Duration::minutes(MAX_CLOCK_SKEW_MINUTES) {
        return Err(DomainError::invalid(
            "at",
            format!("at: {at} is in the future (server time {now})"),
        ));
    }
    Ok(at)
}

impl Aggregate for SignIn {
    type Command = SignInCommand;
    type Event = SignInEvent;
    const KIND: &'static str = "frontdesk";

    fn version(&self) -> u64 {
        self.version
    }

    fn exists(&self) -> bool {
        self.id.is_some()
    }

    fn decide(
        &self,
        command: SignInCommand,
        ctx: &Context,
    ) -> Result<Vec<SignInEvent>, DomainError> {
        if !command.allowed_roles().contains(&ctx.actor.role) {
            return Err(DomainError::forbidden(format!(
                "role {} may not {} (allowed: frontdesk, admin)",
                ctx.actor.role.as_str(),
                command.name()
            )));
        }
        match command {
            SignInCommand::SignIn(b) => {
                if self.exists() {
                    return Err(DomainError::state("this visitor has already signed in"));
                }
                let at = not_in_future(b.at.unwrap_or(ctx.now), ctx.now)?;
                let customer = b.visit_id.map(|id| linked_customer(id, ctx)).transpose()?;
                Ok(vec![SignInEvent::VisitorSignedIn(VisitorSignedIn {
                    sign_in_id: ctx.entity_id,
                    name: b.name.into_string(),
                    party_size: b.party_size.get(),
                    reason: b.reason.into_string(),
                    host: b.host.into_string(),
                    at,
                    visit_id: b.visit_id,
                    customer,
                })])
            }
            SignInCommand::SignOut(b) => {
                let Some(signed_in_at) = self.signed_in_at else {
                    return Err(DomainError::not_found("id", "no such sign-in"));
                };
                if let Some(out) = self.signed_out_at {
                    return Err(DomainError::rule(
                        "F1",
                        format!("this visitor already signed out at {out}"),
                    ));
                }
                let at = not_in_future(b.at.unwrap_or(ctx.now), ctx.now)?;
                if at < signed_in_at {
                    return Err(DomainError::rule(
                        "F1",
                        format!("sign-out at {at} is before the sign-in at {signed_in_at}"),
                    )
                    .with_field("at"));
                }
                Ok(vec![SignInEvent::VisitorSignedOut(VisitorSignedOut { at })])
            }
        }
    }

    fn evolve(mut self, event: &SignInEvent) -> SignIn {
        self.version += 1;
        match event {
            SignInEvent::VisitorSignedIn(e) => {
                self.id = Some(e.sign_in_id);
                self.name = e.name.clone();
                self.party_size = e.party_size;
                self.reason = e.reason.clone();
                self.host = e.host.clone();
                self.signed_in_at = Some(e.at);
                self.visit_id = e.visit_id;
                self.customer = e.customer.clone();
            }
            SignInEvent::VisitorSignedOut(e) => {
                self.signed_out_at = Some(e.at);
            }
        }
        self
    }
}
