//! The decision context: what a `decide` may depend on besides state and command (the
//! clock reading, the actor, the policy book, a fresh entity id, a visit it names).

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
    /// F2: the visit a command names in another stream, as the caller looked it up;
    /// `None` when the command names none or no such visit exists.
    pub linked_visit: Option<LinkedVisit>,
}

/// What a command on another aggregate may know of a visit it names (F2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedVisit {
    pub id: Uuid,
    pub customer: String,
    /// Not closed, cancelled or rejected.
    pub open: bool,
}
