//! The `policy` aggregate (stream `policy`) that publishes new versions (V20); the
//! policy data itself (levels, caps, the book of versions) is [`crate::policy_book`],
//! re-exported here.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

pub use crate::policy_book::*;

use crate::aggregate::Aggregate;
use crate::common::{DomainCommand, DomainError, DomainEvent, NamedSchema, Role};
use crate::context::Context;

/// Commands on the policy stream.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyCommand {
    /// `POST /api/v1/policy`: a full new version (admin or system only).
    Publish(Policy),
}

impl DomainCommand for PolicyCommand {
    fn parse(name: &str, body: serde_json::Value) -> Result<Self, DomainError> {
        match name {
            "publish" => {
                let p: Policy = serde_path_to_error::deserialize(body).map_err(|e| {
                    let path = e.path().to_string();
                    DomainError::invalid(
                        if path == "." { "body" } else { &path },
                        e.inner().to_string(),
                    )
                })?;
                Ok(PolicyCommand::Publish(p))
            }
            other => Err(DomainError::not_found(
                "command",
                format!("no policy command named {other:?}"),
            )),
        }
    }
    fn name(&self) -> &'static str {
        "publish"
    }
    fn allowed_roles(&self) -> &'static [Role] {
        &[Role::Admin, Role::System]
    }
    fn schemas() -> Vec<NamedSchema> {
        vec![NamedSchema {
            name: "publish",
            version: 1,
            schema: schemars::schema_for!(Policy),
        }]
    }
}

/// Events of the policy stream.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyEvent {
    /// A new version; its payload is the full policy.
    PolicyPublished(Policy),
}

impl DomainEvent for PolicyEvent {
    fn event_type(&self) -> &'static str {
        "PolicyPublished"
    }
    fn schema(&self) -> u32 {
        1
    }
    fn to_data(&self) -> serde_json::Value {
        match self {
            PolicyEvent::PolicyPublished(p) => serde_json::to_value(p).expect("policy serialises"),
        }
    }
    fn from_stored(event_type: &str, data: &serde_json::Value) -> Result<Self, String> {
        match event_type {
            "PolicyPublished" => Policy::deserialize(data)
                .map(PolicyEvent::PolicyPublished)
                .map_err(|e| format!("PolicyPublished: {e}")),
            other => Err(format!("unknown policy event type {other:?}")),
        }
    }
    fn occurred_at(&self) -> Option<DateTime<FixedOffset>> {
        None
    }
    fn schemas() -> Vec<NamedSchema> {
        vec![NamedSchema {
            name: "PolicyPublished",
            version: 1,
            schema: schemars::schema_for!(Policy),
        }]
    }
}

/// The policy aggregate (stream `policy`): holds every published version.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicyState {
    pub book: PolicyBook,
    #[serde(skip)]
    version: u64,
}

impl PolicyState {
    /// The book to decide with: the published versions, or the default version 1
    /// when nothing was published yet.
    pub fn book_or_default(&self) -> PolicyBook {
        if self.book.latest().is_some() {
            self.book.clone()
        } else {
            PolicyBook::with_default()
        }
    }
}

impl Aggregate for PolicyState {
    type Command = PolicyCommand;
    type Event = PolicyEvent;
    const KIND: &'static str = "policy";

    fn version(&self) -> u64 {
        self.version
    }
    /// The policy stream always "exists": publishing version 1 creates it.
    fn exists(&self) -> bool {
        true
    }
    fn decide(
        &self,
        command: PolicyCommand,
        ctx: &Context,
    ) -> Result<Vec<PolicyEvent>, DomainError> {
        if !command.allowed_roles().contains(&ctx.actor.role) {
            return Err(DomainError::forbidden(format!(
                "role {} may not publish a policy (admin only)",
                ctx.actor.role.as_str()
            )));
        }
        let PolicyCommand::Publish(p) = command;
        self.book.check_next(&p)?;
        Ok(vec![PolicyEvent::PolicyPublished(p)])
    }
    fn evolve(mut self, event: &PolicyEvent) -> Self {
        let PolicyEvent::PolicyPublished(p) = event;
        self.book.push(p.clone());
        self.version += 1;
        self
    }
}
