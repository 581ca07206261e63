//! A whole special-level visit from request to close, as the reception office lives it.

mod support;

use reception_domain::deadlines::{next_step, visit_deadlines, visit_flags};
use reception_domain::visit::{PlanStatus, Stage, Visit, VisitEvent};
use reception_domain::{Aggregate, DomainEvent, Role};
use serde_json::json;
use support::*;

/// The harness over a visit.
type Given = support::Given<Visit>;

fn step(g: &Given) -> String {
    next_step(&g.state, g.now)
        .map(|(s, _)| s)
        .unwrap_or_default()
}

#[test]
fn a_special_level_visit_from_request_to_close() {
    // Monday: the salesperson files the request for three visitors, five days ahead.
    let g = Given::nothing().ok(Role::Requester, "request", request_body(3));
    assert_eq!(g.state.stage, Stage::Requested);
    assert!(!g.state.late);
    assert_eq!(step(&g), "approve_request");

    // V22: the department manager approves; a special visit also needs the general
    // manager, another person, before reception assigns the level.
    let g = g.with_user("dept.manager").ok(
        Role::Approver,
        "approve-request",
        json!({"decision": "approve", "as": "department_manager"}),
    );
    assert_eq!(step(&g), "assign_level");
    let g = g.with_role_user();
    g.when(Role::Reception, "assign-level", json!({"level": "special"}))
        .then_rule("V22");
    let g = g
        .with_user("general.manager")
        .ok(
            Role::Approver,
            "approve-request",
            json!({"decision": "approve", "as": "general_manager", "comments": "important dealer"}),
        )
        .with_role_user();

    // The reception office assigns the special level; policy version 1 is stamped.
    let g = g.ok(Role::Reception, "assign-level", json!({"level": "special"}));
    assert_eq!(
        (
            g.state.level.as_ref().unwrap().as_str(),
            g.state.policy_version
        ),
        ("special", Some(1))
    );
    assert_eq!(step(&g), "draft_plan");

    // The plan is drafted, returned once, redrafted and approved.
    let g = g
        .at("2026-11-20T15:00:00+08:00")
        .ok(Role::Reception, "draft-plan", plan_body())
        .ok(Role::Approver, "review-plan", json!({"approved": false, "comments": "add the factory tour"}))
        .ok(
            Role::Reception,
            "draft-plan",
            json!({"items": [
                {"at": ARRIVAL, "kind": "car", "title": "pickup", "place": "airport"},
                {"at": "2026-11-26T09:00:00+08:00", "kind": "tour", "title": "factory tour", "place": "plant 2"}
            ]}),
        )
        .ok(Role::Approver, "review-plan", json!({"approved": true, "comments": "good"}));
    assert_eq!(g.state.plan.status, PlanStatus::Approved);

    // The unit is contacted, staff assigned within the level's roles, readiness confirmed,
    // and finance issues a cash advance of 10,000 yuan.
    let g = g
        .ok(Role::Reception, "contact-unit", json!({"confirmed_headcount": 3, "notes": "one vegetarian"}))
        .ok(
            Role::Reception,
            "assign-staff",
            json!({"host": "Li Na", "accompanying": [
                {"name": "Zhou", "role": "marketing_general_manager"}, {"name": "Sun", "role": "shareholder"}]}),
        )
        .at("2026-11-24T16:00:00+08:00")
        .ok(Role::Reception, "complete-task", json!({"task": "meeting_room", "notes": "room 301"}))
        .ok(Role::Reception, "complete-task", json!({"task": "welcome_sign"}))
        .ok(Role::Reception, "confirm-readiness", json!({"notes": "all departments ready"}))
        .ok(Role::Finance, "issue-advance", json!({"amount_fen": 1_000_000}));
    assert_eq!(step(&g), "dispatch_pickup");
    // V26: the confirmation call is the last task, an hour before arrival
    let g = g.at("2026-11-25T08:30:00+08:00").ok(
        Role::Reception,
        "complete-task",
        json!({"task": "confirmation_call", "notes": "meet at gate B"}),
    );

    // A business car waits at the airport 30 minutes early; lodging in a 5-star hotel.
    let g = g
        .ok(
            Role::Reception,
            "dispatch-car",
            json!({"leg": "pickup", "vehicle_class": "business_car", "driver": "Zhao", "plate": "A88888",
                   "ready_at": "2026-11-25T09:30:00+08:00", "place": "airport T2", "number": "MU5101"}),
        )
        .ok(
            Role::Reception,
            "book-lodging",
            json!({"hotel": "Grand Hyatt", "stars": 5, "rooms": 3, "nights": 2, "rate_fen": 68_000, "paid_by": "company"}),
        );
    let lodging_id = g.last_id;
    assert_eq!(
        g.state.bookings.lodging[0].cap_fen.unwrap().fen(),
        70_000 * 6
    );
    assert_eq!(step(&g), "record_arrival");
    assert!(
        visit_flags(&g.state, g.now).is_empty(),
        "{:?}",
        visit_flags(&g.state, g.now)
    );

    // Wednesday: the visitors land.
    let g = g.at("2026-11-25T10:10:00+08:00").ok(
        Role::Reception,
        "record-arrival",
        json!({"at": "2026-11-25T10:10:00+08:00"}),
    );
    assert_eq!(g.state.stage, Stage::OnSite);

    // Dinner for three (cap 1,000 + 100 = 1,100 yuan), sightseeing (cap 1,200 + 250 = 1,450).
    let g = g
        .ok(
            Role::Reception,
            "book-meal",
            json!({"meal": "dinner", "at": "2026-11-25T18:30:00+08:00", "venue": "Jade Garden", "party_size": 3, "budget_fen": 110_000}),
        );
    let dinner_id = g.last_id;
    let g = g.ok(
        Role::Reception,
        "arrange-entertainment",
        json!({"at": "2026-11-26T15:00:00+08:00", "kind": "West Lake cruise", "party_size": 3, "budget_fen": 140_000}),
    );
    let cruise_id = g.last_id;

    // Tours, the leader meeting, a cooperation matter confirmed in writing, then the talks.
    let g = g
        .ok(
            Role::Reception,
            "hold-tour",
            json!({"at": "2026-11-26T09:00:00+08:00", "place": "plant 2", "title": "factory tour"}),
        )
        .ok(
            Role::Reception,
            "hold-leader-meeting",
            json!({"at": "2026-11-26T11:00:00+08:00", "place": "HQ", "leader": "Chairman Liu"}),
        )
        .ok(
            Role::Reception,
            "propose-matter",
            json!({"by": "visitor", "text": "exclusive dealership for Zhejiang"}),
        );
    let matter = g.last_id;
    let g = g
        .ok(
            Role::Reception,
            "confirm-matter",
            json!({"matter_id": matter, "company_confirmed_by": "VP Sales Zhang", "visitor_confirmed_by": "Wang Lei", "record_ref": "MOU-2026-11"}),
        )
        .ok(Role::Reception, "hold-talks", json!({"at": "2026-11-26T16:00:00+08:00", "outcome": "MOU signed", "attendees": ["Li Na"]}))
        .ok(Role::Reception, "plan-souvenir", json!({"item": "celadon tea set", "unit_cost_fen": 18_000, "quantity": 3}));
    let souvenir = g.last_id;

    // Expenses: lodging and the cruise within cap, the dinner 50 yuan over.
    let g = g
        .ok(Role::Finance, "record-expense", json!({"spent_at": "2026-11-20T09:00:00+08:00", "description": "test expense", "category": "lodging", "amount_fen": 408_000, "receipt_no": "H-1", "paid_by": "company", "booking_id": lodging_id}))
        .ok(Role::Finance, "record-expense", json!({"spent_at": "2026-11-20T09:00:00+08:00", "description": "test expense", "category": "entertainment", "amount_fen": 139_000, "receipt_no": "E-1", "paid_by": "company", "booking_id": cruise_id}))
        .ok(Role::Finance, "record-expense", json!({"spent_at": "2026-11-20T09:00:00+08:00", "description": "test expense", "category": "meal", "amount_fen": 115_000, "receipt_no": "M-1", "paid_by": "company", "booking_id": dinner_id}));
    let dinner_expense = g.last_id;
    assert_eq!(
        g.state
            .expenses
            .iter()
            .filter(|e| e.recorded.over_cap)
            .count(),
        1
    );
    assert!(visit_flags(&g.state, g.now).contains(&"over_cap_pending".into()));
    let g = g.ok(
        Role::Approver,
        "decide-expense",
        json!({"expense_id": dinner_expense, "approved": true, "comments": "the chairman joined"}),
    );

    // Friday: drop-off, souvenirs handed, departure.
    let g = g
        .at("2026-11-27T13:00:00+08:00")
        .ok(
            Role::Reception,
            "dispatch-car",
            json!({"leg": "dropoff", "vehicle_class": "business_car", "driver": "Zhao", "plate": "A88888",
                   "ready_at": "2026-11-27T14:00:00+08:00", "place": "station"}),
        )
        .ok(Role::Reception, "hand-souvenir", json!({"souvenir_id": souvenir}))
        .at(DEPARTURE)
        .ok(Role::Reception, "record-departure", json!({"at": DEPARTURE}))
        .ok(Role::Finance, "record-expense", json!({"spent_at": "2026-11-20T09:00:00+08:00", "description": "test expense", "category": "car", "amount_fen": 120_000, "receipt_no": "C-1", "paid_by": "company"}));
    assert_eq!(step(&g), "return_call");

    // Saturday: the return call, the summary (which also goes to the general manager),
    // the advance settled, a preference noted for next time, and the visit closes.
    let g = g
        .at("2026-11-28T10:00:00+08:00")
        .ok(
            Role::Reception,
            "return-call",
            json!({"reached": true, "products": "impressed", "corporate_image": "modern", "reception": "warm", "satisfaction": 5}),
        )
        .ok(Role::Reception, "file-summary", json!({"results": "MOU signed", "recipients": ["sales_director"]}))
        .ok(Role::Finance, "settle-advance", json!({"receipts_fen": 782_000, "cash_returned_fen": 218_000, "returned_items": ["1 tea set"]}))
        .ok(Role::Reception, "note-preference", json!({"subject": "Wang Lei", "kind": "diet", "text": "vegetarian"}));
    assert!(g.state.summary.as_ref().unwrap().to_general_manager);
    assert_eq!(step(&g), "close");
    let g = g.ok(Role::Reception, "close", json!({}));

    assert_eq!(g.state.stage, Stage::Closed);
    assert_eq!(next_step(&g.state, g.now), None);
    assert!(visit_flags(&g.state, g.now).is_empty());
    assert!(
        visit_deadlines(&g.state, g.now).iter().all(|d| !d.overdue),
        "{:?}",
        visit_deadlines(&g.state, g.now)
    );

    // The stored history replays to the same state, and the state serves as JSON.
    let replayed = g.events.iter().fold(Visit::default(), |v, e| {
        v.evolve(&VisitEvent::from_stored(e.event_type(), &e.to_data()).unwrap())
    });
    assert_eq!(replayed, g.state);
    assert_eq!(replayed.version(), g.events.len() as u64);
    let json = serde_json::to_value(&g.state).unwrap();
    assert_eq!(json["stage"], "closed");
    assert_eq!(json["customer"]["company"], "Huaxin Dealers Ltd");
    assert_eq!(json["expenses"][2]["over_cap"], true);
    assert_eq!(json["expenses"][2]["decision"]["approved"], true);
}
