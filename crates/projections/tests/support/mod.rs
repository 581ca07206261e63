//! Test helpers: temp stores, event builders and answer snapshots.

#![allow(dead_code)]

use chrono::{DateTime, FixedOffset, Utc};
use reception_projections::{CostDimension, ReadSide};
use reception_store::{Actor, AppendRequest, Envelope, ExpectedVersion, NewEvent, Store};
use serde_json::{json, Value};
use uuid::Uuid;

pub fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path().join("store")).expect("open store");
    (dir, store)
}

pub fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("test time")
}

pub fn utc(s: &str) -> DateTime<Utc> {
    t(s).with_timezone(&Utc)
}

/// Appends one event to `stream` with business time `at`; returns its seq.
pub fn append(store: &Store, stream: &str, event_type: &str, at: &str, data: Value) -> u64 {
    let role = if event_type == "ComplaintEscalated" {
        "system"
    } else {
        "reception"
    };
    let req = AppendRequest {
        stream: stream.to_string(),
        expected: ExpectedVersion::Any,
        events: vec![NewEvent {
            id: Uuid::now_v7(),
            event_type: event_type.to_string(),
            schema: 1,
            data,
            occurred_at: Some(t(at)),
            actor: Actor {
                user: "li.na".into(),
                role: role.into(),
            },
            correlation_id: Uuid::nil(),
            causation_id: Uuid::nil(),
        }],
        idempotency: None,
    };
    store.append_blocking(req).expect("append").events[0].seq
}

/// A ReceptionRequested payload.
pub fn request(
    visit: &str,
    company: &str,
    department: &str,
    arrival: &str,
    departure: &str,
    headcount: u32,
    late: bool,
) -> Value {
    let visitors: Vec<Value> = (0..headcount)
        .map(|i| json!({"name": format!("Wang Lei{}", if i == 0 { String::new() } else { format!(" {i}") }), "title": "GM", "phone": "+86 138 0000 0000"}))
        .collect();
    json!({
        "visit_id": visit, "requested_at": "2026-01-01T00:00:00+08:00", "late": late,
        "customer": {"company": company, "country": "CN", "foreign": false},
        "department": department, "visitors": visitors, "headcount": headcount, "purpose": "renewal",
        "arrival": {"at": arrival, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport"},
        "departure": {"at": departure, "mode": "train", "number": "G7", "place": "station", "arrives_home_at": null},
        "needs": {}, "expedited": null
    })
}

#[allow(clippy::too_many_arguments)]
pub fn expense(
    id: &str,
    category: &str,
    amount: i64,
    paid_by: &str,
    booking: Option<&str>,
    cap: Option<i64>,
    over: bool,
    reverses: Option<&str>,
) -> Value {
    json!({"expense_id": id, "category": category, "amount_fen": amount, "paid_by": paid_by, "receipt_no": "R1",
        "booking_id": booking, "reverses": reverses, "cap_fen": cap, "over_cap": over, "level": "senior", "policy_version": 1})
}

pub fn all_events(store: &Store) -> Vec<Envelope> {
    store
        .read_all(1, usize::MAX)
        .collect::<Result<_, _>>()
        .expect("read all")
}

/// Every answer of the read side, serialized: what must be identical after a rebuild.
pub fn snapshot(read: &ReadSide, now: DateTime<Utc>) -> String {
    let mut out = Vec::new();
    out.push(serde_json::to_value(read.board(now)).expect("board"));
    for year in 2023..=2027 {
        for dim in CostDimension::ALL {
            out.push(serde_json::to_value(read.costs(year, dim)).expect("costs"));
        }
        out.push(Value::String(
            String::from_utf8(read.costs_csv(year)).expect("utf-8"),
        ));
        for month in 1..=12 {
            out.push(
                serde_json::to_value(read.complaint_report(year, month, now)).expect("report"),
            );
        }
    }
    let customers = read.search_customers("");
    out.push(serde_json::to_value(&customers).expect("search"));
    for c in &customers {
        out.push(serde_json::to_value(read.customer(&c.customer_id, false)).expect("profile"));
    }
    out.push(serde_json::to_value(read.complaints(false, now)).expect("complaints"));
    serde_json::to_string_pretty(&out).expect("snapshot")
}

/// A visit driven through the real domain (`decide`), its events appended to the
/// store as the service appends them (`occurred_at` the event's own time, else the
/// command's).
pub struct Driven {
    pub visit: reception_domain::visit::Visit,
    pub stream: String,
    pub id: String,
}

impl Driven {
    /// Files `body` (a request per API.md) as a requester at `at`.
    pub fn request(store: &Store, at: &str, body: Value) -> Driven {
        let id = Uuid::new_v4().to_string();
        let mut d = Driven {
            visit: Default::default(),
            stream: format!("visit-{id}"),
            id,
        };
        d.run(
            store,
            reception_domain::Role::Requester,
            at,
            "request",
            body,
        );
        d
    }

    /// Runs a command as `role` at `at`; panics when the domain refuses it. Returns the
    /// id of the entity it creates (booking, expense, matter, follow-up, ...).
    pub fn run(
        &mut self,
        store: &Store,
        role: reception_domain::Role,
        at: &str,
        name: &str,
        body: Value,
    ) -> String {
        self.try_run(store, role, at, name, body)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"))
    }

    /// [`Driven::run`], answering the domain's refusal.
    pub fn try_run(
        &mut self,
        store: &Store,
        role: reception_domain::Role,
        at: &str,
        name: &str,
        body: Value,
    ) -> Result<String, reception_domain::DomainError> {
        use reception_domain::{Aggregate, DomainCommand, DomainEvent};
        // two approvals of one visit come from two people (V22)
        let user = body["as"].as_str().unwrap_or("li.na").to_string();
        let ctx = reception_domain::Context {
            now: t(at),
            actor: reception_domain::Actor {
                user: user.clone(),
                role,
            },
            policies: reception_domain::policy::PolicyBook::with_default(),
            entity_id: if name == "request" {
                self.id.parse().expect("visit id")
            } else {
                Uuid::new_v4()
            },
            linked_visit: None,
        };
        let command = <reception_domain::visit::Visit as Aggregate>::Command::parse(name, body)?;
        let events = self.visit.decide(command, &ctx)?;
        let new_events = events
            .iter()
            .map(|e| NewEvent {
                id: Uuid::now_v7(),
                event_type: e.event_type().to_string(),
                schema: e.schema(),
                data: e.to_data(),
                occurred_at: e.occurred_at().or(Some(ctx.now)),
                actor: Actor {
                    user: user.clone(),
                    role: role.as_str().into(),
                },
                correlation_id: Uuid::nil(),
                causation_id: Uuid::nil(),
            })
            .collect();
        store
            .append_blocking(AppendRequest {
                stream: self.stream.clone(),
                expected: ExpectedVersion::Any,
                events: new_events,
                idempotency: None,
            })
            .expect("append");
        for e in &events {
            self.visit = self.visit.clone().evolve(e);
        }
        Ok(ctx.entity_id.to_string())
    }
}

/// A request body per API.md: one visitor (two with `party` 2), by flight, the
/// fields of `extra` on top.
pub fn domain_request(company: &str, arrival: &str, departure: &str, extra: Value) -> Value {
    let mut body = json!({
        "customer": {"company": company, "country": "CN", "foreign": false},
        "department": "east-sales",
        "visitors": [{"name": "Wang Lei", "title": "GM", "phone": "+86 138 0000 0000"}],
        "headcount": 1, "purpose": "renewal",
        "arrival": {"at": arrival, "mode": "flight", "number": "MU5101", "place": "airport"},
        "departure": {"at": departure, "mode": "train", "number": "G7", "place": "station"},
        "needs": {"pickup": true}
    });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    body
}
