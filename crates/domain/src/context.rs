//! The decision context: what a `decide` may depend on besides state and command (the
//! clock reading, the actor, the policy book, a fresh entity id).

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use crate::common::Actor;
use crate::policy_book::PolicyBook;

/// Everything a decision may depend on besides state and command.
#[derive(Debug, Clone)]
pub struct Context {
    /// The server's clock reading for this command.
    pub now: DateTime<FixedOffset>,
    pub actor: Actor,
    /// Every published policy version; `policies.in_force(now)` is the one in force.
    pub policies: PolicyBook,
    /// A fresh id the decision may use for an entity it creates (booking, expense, ...).
    pub entity_id: Uuid,
}
