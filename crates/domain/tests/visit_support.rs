//! Given/when/then helpers for the visit tests (included by `visit_*.rs` with `#[path]`).
#![allow(dead_code)]

use chrono::{DateTime, FixedOffset};
use reception_domain::policy::PolicyBook;
use reception_domain::visit::{Visit, VisitCommand, VisitEvent};
use reception_domain::{Actor, Aggregate, Context, DomainCommand, DomainError, ErrorKind, Role};
use serde_json::{json, Value};
use uuid::Uuid;

/// Parses an RFC 3339 time.
pub fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("bad time {s}: {e}"))
}

/// When the standard request is filed: 5 days before arrival.
pub const FILED: &str = "2026-11-20T09:00:00+08:00";
pub const ARRIVAL: &str = "2026-11-25T10:00:00+08:00";
pub const DEPARTURE: &str = "2026-11-27T15:00:00+08:00";
pub const HOME: &str = "2026-11-27T18:00:00+08:00";

/// A valid request body for `n` visitors, arriving [`ARRIVAL`], leaving [`DEPARTURE`].
pub fn request_body(n: usize) -> Value {
    let visitors: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("Visitor {i}"), "title": "Manager", "phone": "+86 138 0000 0000"}))
        .collect();
    json!({
        "customer": {"company": "Huaxin Dealers Ltd", "country": "CN", "foreign": false},
        "department": "east-sales",
        "visitors": visitors,
        "headcount": n,
        "purpose": "dealership renewal",
        "arrival": {"at": ARRIVAL, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport"},
        "departure": {"at": DEPARTURE, "mode": "train", "number": "G7", "place": "station", "arrives_home_at": HOME},
        "needs": {"pickup": true, "dropoff": true, "lodging": true, "meeting_room": true},
        "expedited": null
    })
}

/// Builds a decision context.
pub fn ctx_with(
    role: Role,
    now: DateTime<FixedOffset>,
    policies: PolicyBook,
    entity: Uuid,
) -> Context {
    Context {
        now,
        actor: Actor {
            user: format!("{}.user", role.as_str()),
            role,
        },
        policies,
        entity_id: entity,
    }
}

/// A visit built from events, with the clock and policies the next command sees.
#[derive(Clone)]
pub struct Given {
    pub visit: Visit,
    pub events: Vec<VisitEvent>,
    pub now: DateTime<FixedOffset>,
    pub policies: PolicyBook,
    next_id: u128,
    pub last_id: Uuid,
}

impl Given {
    /// No visit yet; the clock at [`FILED`]; the default policy.
    pub fn nothing() -> Given {
        Given {
            visit: Visit::default(),
            events: Vec::new(),
            now: t(FILED),
            policies: PolicyBook::with_default(),
            next_id: 1,
            last_id: Uuid::nil(),
        }
    }

    /// The standard request for `n` visitors, filed at [`FILED`].
    pub fn requested(n: usize) -> Given {
        Given::nothing().ok(Role::Requester, "request", request_body(n))
    }

    /// Requested for `n` visitors and assigned `level`.
    pub fn at_level(level: &str, n: usize) -> Given {
        Given::requested(n).ok(Role::Reception, "assign-level", json!({"level": level}))
    }

    /// Moves the clock.
    pub fn at(mut self, now: &str) -> Given {
        self.now = t(now);
        self
    }

    /// Uses another policy book.
    pub fn with_policies(mut self, policies: PolicyBook) -> Given {
        self.policies = policies;
        self
    }

    /// The context the next command gets.
    pub fn ctx(&self, role: Role) -> Context {
        ctx_with(
            role,
            self.now,
            self.policies.clone(),
            Uuid::from_u128(self.next_id),
        )
    }

    /// When: decides `name` with `body` as `role`, without changing the given state.
    pub fn when(
        &self,
        role: Role,
        name: &str,
        body: Value,
    ) -> Result<Vec<VisitEvent>, DomainError> {
        let cmd = VisitCommand::parse(name, body)?;
        self.visit.decide(cmd, &self.ctx(role))
    }

    /// Applies a command that must be accepted (panics with the error otherwise).
    pub fn ok(mut self, role: Role, name: &str, body: Value) -> Given {
        let events = self
            .when(role, name, body)
            .unwrap_or_else(|e| panic!("given: {name} was rejected: {e:?}"));
        self.last_id = Uuid::from_u128(self.next_id);
        self.next_id += 1;
        for e in events {
            self.visit = self.visit.clone().evolve(&e);
            self.events.push(e);
        }
        self
    }

    /// Applies a command when accepted; on rejection leaves everything as it was.
    pub fn try_cmd(
        &mut self,
        role: Role,
        name: &str,
        body: Value,
    ) -> Result<Vec<VisitEvent>, DomainError> {
        let events = self.when(role, name, body)?;
        self.last_id = Uuid::from_u128(self.next_id);
        self.next_id += 1;
        for e in &events {
            self.visit = self.visit.clone().evolve(e);
            self.events.push(e.clone());
        }
        Ok(events)
    }

    /// A visit arrived (level assigned, plan approved, staff assigned).
    pub fn arrived(level: &str, n: usize) -> Given {
        Given::at_level(level, n)
            .ok(Role::Reception, "draft-plan", plan_body())
            .ok(
                Role::Approver,
                "review-plan",
                json!({"approved": true, "comments": "fine"}),
            )
            .ok(
                Role::Reception,
                "assign-staff",
                json!({"host": "Li Na", "accompanying": []}),
            )
            .at("2026-11-25T10:05:00+08:00")
            .ok(
                Role::Reception,
                "record-arrival",
                json!({"at": "2026-11-25T10:05:00+08:00"}),
            )
    }

    /// A visit whose visitors departed at [`DEPARTURE`].
    pub fn departed(level: &str, n: usize) -> Given {
        Given::arrived(level, n).at(DEPARTURE).ok(
            Role::Reception,
            "record-departure",
            json!({"at": DEPARTURE}),
        )
    }
}

/// A one-item plan.
pub fn plan_body() -> Value {
    json!({"items": [{"at": ARRIVAL, "kind": "car", "title": "pickup at the airport", "place": "airport"}]})
}

/// Then: the command was refused with this rule.
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
pub fn single(res: Result<Vec<VisitEvent>, DomainError>) -> VisitEvent {
    let events = res.unwrap_or_else(|e| panic!("expected acceptance, got {e:?}"));
    assert_eq!(events.len(), 1, "expected one event, got {events:?}");
    events.into_iter().next().expect("one event")
}
