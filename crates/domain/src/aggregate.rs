//! The `Aggregate` trait every event-sourced aggregate implements: all business logic
//! in `decide`, none in `evolve`.

use serde::Serialize;

use crate::common::{DomainCommand, DomainError, DomainEvent};
use crate::context::Context;

/// An event-sourced aggregate: all business logic in `decide`, none in `evolve`.
pub trait Aggregate: Default + Clone + std::fmt::Debug + Serialize {
    type Command: DomainCommand;
    type Event: DomainEvent;
    /// Stream prefix: `"visit"` → streams `"visit-<uuid>"`; `"policy"` is a single stream.
    const KIND: &'static str;
    /// Version of the stream (number of events applied).
    fn version(&self) -> u64;
    /// True once created (a command on a missing aggregate that does not create it is `NotFound`).
    fn exists(&self) -> bool;
    fn decide(
        &self,
        command: Self::Command,
        ctx: &Context,
    ) -> Result<Vec<Self::Event>, DomainError>;
    /// Records what happened; must also advance `version()` by one.
    fn evolve(self, event: &Self::Event) -> Self;
}
