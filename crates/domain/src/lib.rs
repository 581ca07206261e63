//! The reception domain: commands, events and rules of `shared/spec/DOMAIN.md`.
//!
//! Invariant: no I/O, no async, no clock, no sled/axum/nats. Everything time-dependent
//! takes `now` from the [`Context`].
//!
//! Shared vocabulary lives in [`common`]; each aggregate has its own module.

pub mod common;
pub mod complaint;
pub mod deadlines;
pub mod escalation;
pub mod frontdesk;
pub mod policy;
pub mod schemas;
pub mod visit;

pub use common::*;
