//! The reception domain: commands, events and rules of `shared/spec/DOMAIN.md`.
//!
//! Invariant: no I/O, no async, no clock, no sled/axum/nats. Everything time-dependent
//! takes `now` from the [`Context`].
//!
//! Shared vocabulary lives in [`common`]; each aggregate has its own module. Modules
//! only import modules below them: [`common`], then [`policy_book`], [`context`] and
//! [`aggregate`]; the visit's data [`visit_state`], then [`deadlines`]; the aggregates
//! [`visit`], [`complaint`], [`frontdesk`], [`policy`] and [`staff`]; [`escalation`],
//! [`notification`] and [`schemas`] on top.
//!
//! # A whole visit, request to close
//!
//! Every step is `decide` (may refuse, naming the rule) then `evolve` (records what
//! happened). The caller supplies the clock, the actor and the policy book.
//!
//! ```
//! use chrono::DateTime;
//! use reception_domain::deadlines::{next_step, visit_flags};
//! use reception_domain::policy::PolicyBook;
//! use reception_domain::visit::{Stage, Visit, VisitCommand};
//! use reception_domain::{Actor, Aggregate, Context, DomainCommand, Role};
//! use serde_json::json;
//!
//! let mut visit = Visit::default();
//! let run = |visit: &mut Visit, role: Role, now: &str, name: &str, body: serde_json::Value| {
//!     let ctx = Context {
//!         now: DateTime::parse_from_rfc3339(now).unwrap(),
//!         actor: Actor { user: "demo".into(), role },
//!         policies: PolicyBook::with_default(),
//!         entity_id: uuid::Uuid::new_v4(),
//!         linked_visit: None,
//!     };
//!     let command = VisitCommand::parse(name, body)?;
//!     for event in visit.decide(command, &ctx)? {
//!         *visit = visit.clone().evolve(&event);
//!     }
//!     Ok::<_, reception_domain::DomainError>(ctx.entity_id)
//! };
//! let day = |d: u32, hm: &str| format!("2026-11-{d:02}T{hm}:00+08:00");
//!
//! run(&mut visit, Role::Requester, &day(20, "09:00"), "request", json!({
//!     "customer": {"company": "Huaxin Dealers Ltd", "country": "CN", "foreign": false},
//!     "department": "east-sales",
//!     "visitors": [{"name": "Wang Lei", "title": "General Manager"}, {"name": "Liu Yang"}],
//!     "headcount": 2, "purpose": "dealership renewal",
//!     "arrival": {"at": day(25, "10:00"), "mode": "train", "number": "G7", "place": "station"},
//!     "departure": {"at": day(26, "16:00"), "mode": "train", "number": "G8", "place": "station"},
//!     "needs": {"pickup": false, "dropoff": false}
//! }))?;
//! // V22: the department manager approves before reception assigns the level.
//! run(&mut visit, Role::Approver, &day(20, "09:30"), "approve-request",
//!     json!({"decision": "approve", "as": "department_manager"}))?;
//! run(&mut visit, Role::Reception, &day(20, "10:00"), "assign-level", json!({"level": "ordinary"}))?;
//! run(&mut visit, Role::Reception, &day(20, "11:00"), "draft-plan", json!({"items": [
//!     {"at": day(25, "12:00"), "kind": "meal", "title": "welcome lunch"}]}))?;
//! run(&mut visit, Role::Approver, &day(20, "14:00"), "review-plan", json!({"approved": true}))?;
//! run(&mut visit, Role::Reception, &day(21, "09:00"), "assign-staff", json!({"host": "Li Na",
//!     "accompanying": [{"name": "Chen", "role": "regional_manager"}]}))?;
//! run(&mut visit, Role::Reception, &day(24, "16:00"), "complete-task", json!({"task": "welcome_sign"}))?;
//! run(&mut visit, Role::Reception, &day(24, "17:00"), "confirm-readiness", json!({}))?;
//! run(&mut visit, Role::Reception, &day(25, "08:30"), "complete-task", json!({"task": "confirmation_call"}))?;
//! run(&mut visit, Role::Reception, &day(25, "10:00"), "record-arrival", json!({"at": day(25, "10:00")}))?;
//!
//! // V9: an ordinary lunch for 2 is capped at 300 yuan; 350 needs an approver's override.
//! let refused = run(&mut visit, Role::Reception, &day(25, "10:30"), "book-meal", json!({"meal": "lunch",
//!     "at": day(25, "12:00"), "venue": "canteen", "party_size": 2, "budget_fen": 35_000}));
//! assert_eq!(refused.unwrap_err().rule.as_deref(), Some("V9"));
//! let lunch = run(&mut visit, Role::Reception, &day(25, "10:30"), "book-meal", json!({"meal": "lunch",
//!     "at": day(25, "12:00"), "venue": "canteen", "party_size": 2, "budget_fen": 30_000}))?;
//! run(&mut visit, Role::Finance, &day(25, "13:00"), "record-expense", json!({"category": "meal",
//!     "amount_fen": 28_000, "receipt_no": "F-001",
//!     "spent_at": day(25, "12:30"), "description": "welcome lunch", "paid_by": "company", "booking_id": lunch}))?;
//!
//! run(&mut visit, Role::Reception, &day(26, "16:00"), "record-departure", json!({"at": day(26, "16:00")}))?;
//! run(&mut visit, Role::Reception, &day(27, "10:00"), "return-call", json!({"reached": true, "satisfaction": 5}))?;
//! run(&mut visit, Role::Reception, &day(27, "15:00"), "file-summary", json!({"results": "renewed"}))?;
//! assert_eq!(next_step(&visit, DateTime::parse_from_rfc3339(&day(27, "15:00")).unwrap()).unwrap().0, "close");
//! run(&mut visit, Role::Reception, &day(27, "15:05"), "close", json!({}))?;
//!
//! assert_eq!(visit.stage, Stage::Closed);
//! assert_eq!(visit.policy_version, Some(1));
//! assert!(visit_flags(&visit, DateTime::parse_from_rfc3339(&day(27, "15:05")).unwrap()).is_empty());
//! # Ok::<(), reception_domain::DomainError>(())
//! ```

pub mod access;
pub mod aggregate;
pub mod board;
pub mod bounds;
pub mod common;
pub mod complaint;
pub mod context;
pub mod deadlines;
pub mod escalation;
pub mod frontdesk;
pub mod notification;
pub mod policy;
pub mod policy_book;
pub mod schemas;
pub mod staff;
pub mod visit;
pub mod visit_state;
pub mod vocabulary;

pub use aggregate::Aggregate;
pub use common::*;
pub use context::{Context, LinkedVisit};
