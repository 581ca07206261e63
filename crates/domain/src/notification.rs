//! Notifications and reminders (issue 20), the pure part: the versioned rules of who is
//! told what ([`rules`], published in the single stream `notification-rules` like the
//! policy), the facts events and deadlines make ([`facts`]), the decision of who gets
//! which notification with which stable id ([`plan`]) and its words ([`text`]).
//! Delivery (SMTP, webhooks, retries) is the `reception-notify` crate's.

pub mod facts;
pub mod plan;
pub mod rules;
pub mod text;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

pub use facts::{complaint_people, deadline_facts, facts_of_event, visit_people, EventRef};
pub use plan::{after_quiet_hours, plan, Fact, People, Planned};
pub use rules::{Channel, FactKind, NotificationRules, Recipient, Reminder, Rule};

use crate::aggregate::Aggregate;
use crate::common::{DomainCommand, DomainError, DomainEvent, NamedSchema, Role};
use crate::context::Context;

/// `POST /api/v1/notification-rules`: a full new version (admin only).
#[derive(Debug, Clone, PartialEq)]
pub enum RulesCommand {
    Publish(NotificationRules),
}

impl DomainCommand for RulesCommand {
    fn parse(name: &str, body: serde_json::Value) -> Result<Self, DomainError> {
        match name {
            "publish" => Ok(RulesCommand::Publish(crate::common::parse_json_body(body)?)),
            other => Err(DomainError::not_found(
                "command",
                format!("no notification-rules command named {other:?}"),
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
            schema: schemars::schema_for!(NotificationRules),
        }]
    }
}

/// Events of the `notification-rules` stream.
#[derive(Debug, Clone, PartialEq)]
pub enum RulesEvent {
    NotificationRulesPublished(NotificationRules),
}

impl DomainEvent for RulesEvent {
    fn event_type(&self) -> &'static str {
        "NotificationRulesPublished"
    }
    fn schema(&self) -> u32 {
        1
    }
    fn to_data(&self) -> serde_json::Value {
        let RulesEvent::NotificationRulesPublished(r) = self;
        serde_json::to_value(r).expect("rules serialise")
    }
    fn from_stored(event_type: &str, data: &serde_json::Value) -> Result<Self, String> {
        match event_type {
            "NotificationRulesPublished" => NotificationRules::deserialize(data)
                .map(RulesEvent::NotificationRulesPublished)
                .map_err(|e| format!("NotificationRulesPublished: {e}")),
            other => Err(format!("unknown notification-rules event type {other:?}")),
        }
    }
    fn occurred_at(&self) -> Option<DateTime<FixedOffset>> {
        None
    }
    fn schemas() -> Vec<NamedSchema> {
        vec![NamedSchema {
            name: "NotificationRulesPublished",
            version: 1,
            schema: schemars::schema_for!(NotificationRules),
        }]
    }
}

/// The rules stream: every published version, the last in force.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RulesState {
    pub versions: Vec<NotificationRules>,
    #[serde(skip)]
    version: u64,
}

impl RulesState {
    /// The rules in force: the last published, or the default version 1.
    pub fn in_force(&self) -> NotificationRules {
        self.versions
            .last()
            .cloned()
            .unwrap_or_else(NotificationRules::default_v1)
    }
}

impl Aggregate for RulesState {
    type Command = RulesCommand;
    type Event = RulesEvent;
    const KIND: &'static str = "notification-rules";

    fn version(&self) -> u64 {
        self.version
    }
    fn exists(&self) -> bool {
        true
    }
    fn decide(&self, command: RulesCommand, ctx: &Context) -> Result<Vec<RulesEvent>, DomainError> {
        if !command.allowed_roles().contains(&ctx.actor.role) {
            return Err(DomainError::forbidden(format!(
                "role {} may not publish notification rules (admin only)",
                ctx.actor.role.as_str()
            )));
        }
        let RulesCommand::Publish(r) = command;
        // the default in force before any publication is version 1
        r.check_next(Some(self.versions.last().map_or(1, |v| v.version)))?;
        Ok(vec![RulesEvent::NotificationRulesPublished(r)])
    }
    fn evolve(mut self, event: &RulesEvent) -> Self {
        let RulesEvent::NotificationRulesPublished(r) = event;
        self.versions.push(r.clone());
        self.version += 1;
        self
    }
}

#[cfg(test)]
mod tests;
