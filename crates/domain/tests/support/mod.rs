//! One given/when/then harness for every aggregate (visit, complaint, front-desk
//! sign-in, policy), included by each test file with `mod support;`:
//!
//! ```text
//! given::<Visit>(&events).at(ARRIVAL).when(Role::Reception, "book-meal", body).then_rule("V9");
//! Given::<Complaint>::nothing().ok(Role::Reception, "raise", body)   // a history built by commands
//!     .when(Role::Reception, "resolve", body).then_single();
//! ```
//!
//! `given` folds events through `evolve`; `ok` runs a command that must be accepted and
//! keeps its events; `when` decides a command without changing anything; the [`Then`]
//! methods judge the outcome. Fixtures of one aggregate live in a file of their own
//! (`support/visit.rs`).
#![allow(dead_code)]

pub mod visit;

pub use visit::*;

use chrono::{DateTime, FixedOffset};
use reception_domain::policy::PolicyBook;
use reception_domain::{Actor, Aggregate, Context, DomainCommand, DomainError, ErrorKind, Role};
use serde_json::Value;
use uuid::Uuid;

pub type Time = DateTime<FixedOffset>;

/// Parses an RFC 3339 time.
pub fn t(s: &str) -> Time {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("bad time {s}: {e}"))
}

/// Where the ids of the entities a command creates come from.
#[derive(Clone, Copy)]
enum Ids {
    /// 1, 2, 3, ... one per accepted command.
    Counter(u128),
    /// The same id for every command.
    Fixed(Uuid),
}

/// An aggregate built from events, with the clock, policies, actor name and entity ids
/// the next command sees.
#[derive(Clone)]
pub struct Given<A: Aggregate> {
    pub state: A,
    pub events: Vec<A::Event>,
    pub now: Time,
    pub policies: PolicyBook,
    /// The actor's user name; `<role>.user` when `None`.
    pub user: Option<String>,
    ids: Ids,
    /// The entity id the last accepted command got.
    pub last_id: Uuid,
}

/// Given these events (folded through `evolve`); the clock at [`FILED`], the default
/// policy, entity ids counting from 1.
pub fn given<A: Aggregate>(events: &[A::Event]) -> Given<A> {
    Given {
        state: events.iter().fold(A::default(), |s, e| s.evolve(e)),
        events: events.to_vec(),
        now: t(FILED),
        policies: PolicyBook::with_default(),
        user: None,
        ids: Ids::Counter(1),
        last_id: Uuid::nil(),
    }
}

impl<A: Aggregate> Given<A> {
    /// No aggregate yet.
    pub fn nothing() -> Given<A> {
        given(&[])
    }

    /// Moves the clock.
    pub fn at(self, now: &str) -> Given<A> {
        self.at_time(t(now))
    }

    /// Moves the clock.
    pub fn at_time(mut self, now: Time) -> Given<A> {
        self.now = now;
        self
    }

    /// Uses another policy book.
    pub fn with_policies(mut self, policies: PolicyBook) -> Given<A> {
        self.policies = policies;
        self
    }

    /// Names the actor `user` whatever the role.
    pub fn with_user(mut self, user: &str) -> Given<A> {
        self.user = Some(user.into());
        self
    }

    /// Back to the role's default actor name.
    pub fn with_role_user(mut self) -> Given<A> {
        self.user = None;
        self
    }

    /// Gives every command the same entity id.
    pub fn with_entity(mut self, id: Uuid) -> Given<A> {
        self.ids = Ids::Fixed(id);
        self
    }

    fn next_id(&self) -> Uuid {
        match self.ids {
            Ids::Counter(n) => Uuid::from_u128(n),
            Ids::Fixed(id) => id,
        }
    }

    /// The context the next command gets.
    pub fn ctx(&self, role: Role) -> Context {
        Context {
            now: self.now,
            actor: Actor {
                user: self
                    .user
                    .clone()
                    .unwrap_or_else(|| format!("{}.user", role.as_str())),
                role,
            },
            policies: self.policies.clone(),
            entity_id: self.next_id(),
            linked_visit: None,
        }
    }

    /// When: decides `name` with `body` as `role`, without changing the given state.
    pub fn when(&self, role: Role, name: &str, body: Value) -> Result<Vec<A::Event>, DomainError> {
        self.when_command(role, A::Command::parse(name, body)?)
    }

    /// When, at another time: decides `name` with `body` as `role` at `at`.
    pub fn when_at(
        &self,
        role: Role,
        at: Time,
        name: &str,
        body: Value,
    ) -> Result<Vec<A::Event>, DomainError> {
        self.clone().at_time(at).when(role, name, body)
    }

    /// When: decides an already built command as `role`.
    pub fn when_command(
        &self,
        role: Role,
        command: A::Command,
    ) -> Result<Vec<A::Event>, DomainError> {
        self.state.decide(command, &self.ctx(role))
    }

    /// Applies a command that must be accepted (panics with the error otherwise).
    pub fn ok(mut self, role: Role, name: &str, body: Value) -> Given<A> {
        if let Err(e) = self.try_cmd(role, name, body) {
            panic!("given: {name} was rejected: {e:?}");
        }
        self
    }

    /// Applies a command that must be accepted, at `at` (the clock stays there).
    pub fn ok_at(self, role: Role, at: Time, name: &str, body: Value) -> Given<A> {
        self.at_time(at).ok(role, name, body)
    }

    /// Applies a command when accepted; on rejection leaves everything as it was.
    pub fn try_cmd(
        &mut self,
        role: Role,
        name: &str,
        body: Value,
    ) -> Result<Vec<A::Event>, DomainError> {
        let events = self.when(role, name, body)?;
        self.last_id = self.next_id();
        if let Ids::Counter(n) = &mut self.ids {
            *n += 1;
        }
        for e in &events {
            self.state = self.state.clone().evolve(e);
            self.events.push(e.clone());
        }
        Ok(events)
    }
}

/// Then: what a `when` gave.
pub trait Then<E> {
    /// Accepted with exactly these events.
    fn then_events(self, expected: &[E]) -> Vec<E>;
    /// Accepted with exactly one event, returned.
    fn then_single(self) -> E;
    /// Refused naming `rule` (whatever the kind: V1 is an invalid input with a rule).
    fn then_rule(self, rule: &str) -> DomainError;
    /// Refused as a rule violation (409) naming `rule`.
    fn then_violation(self, rule: &str) -> DomainError;
    /// Refused with this kind (and field, when given).
    fn then_error(self, kind: ErrorKind, field: Option<&str>) -> DomainError;
}

impl<E: std::fmt::Debug + PartialEq> Then<E> for Result<Vec<E>, DomainError> {
    #[track_caller]
    fn then_events(self, expected: &[E]) -> Vec<E> {
        let events = self.unwrap_or_else(|e| panic!("expected acceptance, got {e:?}"));
        assert_eq!(events, expected, "other events than expected");
        events
    }

    #[track_caller]
    fn then_single(self) -> E {
        single(self)
    }

    #[track_caller]
    fn then_rule(self, rule: &str) -> DomainError {
        assert_rule(self, rule)
    }

    #[track_caller]
    fn then_violation(self, rule: &str) -> DomainError {
        let err = self.expect_err("the command should have been rejected");
        assert_eq!(err.kind, ErrorKind::RuleViolation, "{err:?}");
        assert_eq!(err.rule.as_deref(), Some(rule), "{err:?}");
        err
    }

    #[track_caller]
    fn then_error(self, kind: ErrorKind, field: Option<&str>) -> DomainError {
        assert_err(self, kind, field)
    }
}

/// Then: the command was refused with this rule (see [`Then::then_rule`]).
#[track_caller]
pub fn assert_rule<T: std::fmt::Debug>(res: Result<T, DomainError>, rule: &str) -> DomainError {
    match res {
        Ok(v) => panic!("expected a {rule} rejection, got accepted: {v:?}"),
        Err(e) => {
            assert_eq!(e.rule.as_deref(), Some(rule), "wrong rule in {e:?}");
            e
        }
    }
}

/// Then: the command was refused with this kind (and field, when given).
#[track_caller]
pub fn assert_err<T: std::fmt::Debug>(
    res: Result<T, DomainError>,
    kind: ErrorKind,
    field: Option<&str>,
) -> DomainError {
    match res {
        Ok(v) => panic!("expected a {kind:?} rejection, got accepted: {v:?}"),
        Err(e) => {
            assert_eq!(e.kind, kind, "wrong kind in {e:?}");
            if let Some(f) = field {
                assert_eq!(e.field.as_deref(), Some(f), "wrong field in {e:?}");
            }
            e
        }
    }
}

/// Then: exactly one event, returned.
#[track_caller]
pub fn single<E: std::fmt::Debug>(res: Result<Vec<E>, DomainError>) -> E {
    let events = res.unwrap_or_else(|e| panic!("expected acceptance, got {e:?}"));
    assert_eq!(events.len(), 1, "expected one event, got {events:?}");
    events.into_iter().next().expect("one event")
}
