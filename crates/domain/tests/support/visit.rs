//! Visit fixtures for the harness: the standard request and plan, and visits given up
//! to a stage (requested, at a level, arrived, departed).

use reception_domain::visit::Visit;
use reception_domain::Role;
use serde_json::{json, Value};

use super::Given;

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

/// A one-item plan.
pub fn plan_body() -> Value {
    json!({"items": [{"at": ARRIVAL, "kind": "car", "title": "pickup at the airport", "place": "airport"}]})
}

impl Given<Visit> {
    /// The standard request for `n` visitors, filed at [`FILED`].
    pub fn requested(n: usize) -> Given<Visit> {
        Given::nothing().ok(Role::Requester, "request", request_body(n))
    }

    /// Requested for `n` visitors and approved by the department manager and the
    /// general manager, two people (V22: enough for every level of the default policy).
    pub fn approved(n: usize) -> Given<Visit> {
        Given::requested(n)
            .with_user("dept.manager")
            .ok(
                Role::Approver,
                "approve-request",
                json!({"decision": "approve", "as": "department_manager"}),
            )
            .with_user("general.manager")
            .ok(
                Role::Approver,
                "approve-request",
                json!({"decision": "approve", "as": "general_manager"}),
            )
            .with_role_user()
    }

    /// Requested for `n` visitors, approved and assigned `level`.
    pub fn at_level(level: &str, n: usize) -> Given<Visit> {
        Given::approved(n).ok(Role::Reception, "assign-level", json!({"level": level}))
    }

    /// A visit arrived (level assigned, plan approved, staff assigned).
    pub fn arrived(level: &str, n: usize) -> Given<Visit> {
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
    pub fn departed(level: &str, n: usize) -> Given<Visit> {
        Given::arrived(level, n).at(DEPARTURE).ok(
            Role::Reception,
            "record-departure",
            json!({"at": DEPARTURE}),
        )
    }
}
