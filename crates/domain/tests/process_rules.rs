//! The visit rules of DOMAIN.md's second part (V22–V31) and F2, one test per rule id:
//! each shows what the rule accepts and the refusal that names it.

mod support;

use reception_domain::deadlines::{next_step, visit_deadlines, visit_flags, visit_tasks};
use reception_domain::frontdesk::{SignIn, SignInCommand, SignInEvent};
use reception_domain::policy::{PerPersonMeals, Policy, PolicyBook};
use reception_domain::visit::{
    call_complaint_id, upcast, ApprovalStatus, Stage, Visit, VisitEvent,
};
use reception_domain::{Aggregate, DomainCommand, DomainEvent, ErrorKind, Fen, LinkedVisit, Role};
use serde_json::{json, Value};
use support::*;

type G = Given<Visit>;

fn approve(as_: &str) -> Value {
    json!({"decision": "approve", "as": as_})
}

fn step(g: &G) -> String {
    next_step(&g.state, g.now)
        .map(|(s, _)| s)
        .unwrap_or_default()
}

fn expense(category: &str, amount: i64, spent_at: &str) -> Value {
    json!({"category": category, "amount_fen": amount, "receipt_no": "R-1", "paid_by": "company",
           "spent_at": spent_at, "description": "taxi to the plant", "vendor": "Didi"})
}

// ---------------------------------------------------------------- V22

#[test]
fn v22_a_level_waits_for_the_approvals_the_policy_names() {
    let g = G::requested(2);
    assert_eq!(step(&g), "approve_request");
    g.when(
        Role::Reception,
        "assign-level",
        json!({"level": "ordinary"}),
    )
    .then_violation("V22");
    // only approvers approve
    g.when(
        Role::Reception,
        "approve-request",
        approve("department_manager"),
    )
    .then_error(ErrorKind::Forbidden, None);
    let g = g.ok(
        Role::Approver,
        "approve-request",
        approve("department_manager"),
    );
    assert_eq!(step(&g), "assign_level");
    g.when(
        Role::Approver,
        "approve-request",
        approve("department_manager"),
    )
    .then_error(ErrorKind::InvalidState, None);
    g.when(
        Role::Reception,
        "assign-level",
        json!({"level": "ordinary"}),
    )
    .then_single();
    // special also needs the general manager
    let e = g
        .when(Role::Reception, "assign-level", json!({"level": "special"}))
        .then_violation("V22");
    assert!(e.message.contains("general_manager"), "{e:?}");
}

#[test]
fn v22_the_two_approvals_of_a_special_visit_come_from_two_people() {
    let g = G::requested(1).with_user("wang.dm").ok(
        Role::Approver,
        "approve-request",
        approve("department_manager"),
    );
    let e = g
        .when(
            Role::Approver,
            "approve-request",
            approve("general_manager"),
        )
        .then_violation("V22");
    assert_eq!(e.field.as_deref(), Some("as"));
    let g = g
        .with_user("zhao.gm")
        .ok(
            Role::Approver,
            "approve-request",
            approve("general_manager"),
        )
        .with_role_user();
    g.when(Role::Reception, "assign-level", json!({"level": "special"}))
        .then_single();
}

#[test]
fn v22_a_returned_request_is_amended_and_approvals_start_over() {
    let g = G::requested(2).ok(
        Role::Approver,
        "approve-request",
        approve("department_manager"),
    );
    let ret = json!({"decision": "return", "as": "general_manager"});
    g.clone()
        .with_user("gm")
        .when(Role::Approver, "approve-request", ret.clone())
        .then_error(ErrorKind::InvalidInput, Some("comments"));
    let g = g.with_user("gm").ok(
        Role::Approver,
        "approve-request",
        json!({"decision": "return", "as": "general_manager", "comments": "budget too high"}),
    );
    assert_eq!(g.state.approval.status, ApprovalStatus::Returned);
    assert_eq!(step(&g), "amend_request");
    let g = g.with_role_user();
    g.when(
        Role::Reception,
        "assign-level",
        json!({"level": "ordinary"}),
    )
    .then_violation("V22");
    g.when(
        Role::Approver,
        "approve-request",
        approve("general_manager"),
    )
    .then_rule("V22");
    // the amendment keeps V1
    g.when(
        Role::Requester,
        "amend-request",
        json!({"reason": "smaller party", "headcount": 1}),
    )
    .then_rule("V1");
    g.when(
        Role::Requester,
        "amend-request",
        json!({"reason": "nothing"}),
    )
    .then_error(ErrorKind::InvalidInput, Some("body"));
    let g = g.ok(
        Role::Requester,
        "amend-request",
        json!({"reason": "budget cut", "budget_fen": 300_000, "cost_department": "marketing"}),
    );
    assert_eq!(g.state.approval.status, ApprovalStatus::Pending);
    assert!(g.state.approval.given.is_empty(), "approvals lapse");
    let req = g.state.request().unwrap();
    assert_eq!(req.budget_fen, Some(Fen::new(300_000).unwrap()));
    assert_eq!(req.cost_department().as_str(), "marketing");
    g.when(
        Role::Reception,
        "assign-level",
        json!({"level": "ordinary"}),
    )
    .then_violation("V22");
}

#[test]
fn v22_a_rejected_request_ends_the_visit() {
    let g = G::requested(1).ok(
        Role::Approver,
        "approve-request",
        json!({"decision": "reject", "as": "department_manager", "comments": "not a customer"}),
    );
    assert_eq!(g.state.stage, Stage::Rejected);
    assert!(g.state.is_finished());
    g.when(
        Role::Reception,
        "assign-level",
        json!({"level": "ordinary"}),
    )
    .then_violation("V22");
    g.when(Role::Reception, "cancel", json!({"reason": "x"}))
        .then_violation("V22");
}

#[test]
fn v22_spend_beyond_the_budget_is_flagged_over_budget() {
    let mut body = request_body(2);
    body["budget_fen"] = json!(10_000);
    let g = G::nothing()
        .ok(Role::Requester, "request", body)
        .ok(
            Role::Approver,
            "approve-request",
            approve("department_manager"),
        )
        .ok(
            Role::Reception,
            "assign-level",
            json!({"level": "ordinary"}),
        );
    let now = g.now;
    let g = g.ok(
        Role::Finance,
        "record-expense",
        expense("car", 9_000, FILED),
    );
    assert!(!visit_flags(&g.state, now).contains(&"over_budget".to_string()));
    let g = g.ok(
        Role::Finance,
        "record-expense",
        expense("car", 2_000, FILED),
    );
    assert!(visit_flags(&g.state, now).contains(&"over_budget".to_string()));
    // visitor-paid spend is not the company's budget
    let mut paid = expense("car", 50_000, FILED);
    paid["paid_by"] = json!("visitor");
    let g2 = g.ok(Role::Finance, "record-expense", paid);
    assert_eq!(g2.state.company_spend_fen(), 11_000);
}

#[test]
fn v22_a_store_whose_policy_names_no_approvals_files_requests_that_need_none() {
    let mut v1 = Policy::default_v1();
    for l in &mut v1.levels {
        l.approvals.clear();
    }
    let book = PolicyBook::from_versions(vec![v1]).unwrap();
    let g = G::nothing()
        .with_policies(book)
        .ok(Role::Requester, "request", request_body(1));
    assert!(!g.state.approval.required);
    assert_eq!(step(&g), "assign_level");
    g.when(Role::Reception, "assign-level", json!({"level": "special"}))
        .then_single();
}

// ---------------------------------------------------------------- V23

#[test]
fn v23_a_delayed_flight_moves_every_deadline_and_can_make_a_car_late() {
    let g = G::at_level("senior", 2).ok(
        Role::Reception,
        "dispatch-car",
        json!({"leg": "pickup", "vehicle_class": "suv", "driver": "Lao Li", "plate": "A1",
               "ready_at": "2026-11-25T09:40:00+08:00", "place": "airport", "number": "MU5101"}),
    );
    let now = g.now;
    assert!(!visit_flags(&g.state, now).contains(&"car_late".to_string()));
    let earlier = json!({"at": "2026-11-25T09:30:00+08:00", "mode": "flight", "number": "MU5099", "place": "airport"});
    g.when(Role::Reception, "reschedule", json!({"arrival": earlier}))
        .then_error(ErrorKind::InvalidInput, Some("reason"));
    g.when(
        Role::Finance,
        "reschedule",
        json!({"reason": "x", "arrival": earlier}),
    )
    .then_error(ErrorKind::Forbidden, None);
    g.when(
        Role::Reception,
        "reschedule",
        json!({"reason": "nothing changes"}),
    )
    .then_rule("V23");
    let ev = g
        .when(
            Role::Requester,
            "reschedule",
            json!({"reason": "flight moved earlier", "arrival": earlier}),
        )
        .then_single();
    let VisitEvent::VisitRescheduled(p) = &ev else {
        panic!("{ev:?}")
    };
    assert_eq!(p.cars_late.len(), 1, "the pickup now comes too late");
    let g = g.ok(
        Role::Requester,
        "reschedule",
        json!({"reason": "flight moved earlier", "arrival": earlier}),
    );
    let flags = visit_flags(&g.state, now);
    assert!(flags.contains(&"car_late".to_string()), "{flags:?}");
    assert!(flags.contains(&"rescheduled".to_string()), "{flags:?}");
    let call = visit_deadlines(&g.state, now)
        .into_iter()
        .find(|d| d.item == "task_confirmation_call")
        .unwrap();
    assert_eq!(call.due_at, t("2026-11-25T08:30:00+08:00"));
    // a later flight gives the car time again
    let later = json!({"at": "2026-11-25T12:00:00+08:00", "mode": "flight", "number": "MU5103", "place": "airport"});
    let g = g.ok(
        Role::Reception,
        "reschedule",
        json!({"reason": "delayed", "arrival": later}),
    );
    assert!(!visit_flags(&g.state, now).contains(&"car_late".to_string()));
    assert_eq!(g.state.reschedules.len(), 2);
}

#[test]
fn v23_headcount_and_visitors_stay_equal_and_times_stay_ordered() {
    let g = G::at_level("senior", 2);
    g.when(
        Role::Reception,
        "reschedule",
        json!({"reason": "one fewer", "headcount": 1}),
    )
    .then_rule("V23");
    let one = json!([{"name": "Wang Lei"}]);
    let ev = g
        .when(
            Role::Reception,
            "reschedule",
            json!({"reason": "one fewer", "visitors": one}),
        )
        .then_single();
    assert!(matches!(ev, VisitEvent::VisitRescheduled(ref p) if p.headcount.get() == 1));
    let late_arrival = json!({"at": "2026-11-28T10:00:00+08:00", "mode": "train"});
    g.when(
        Role::Reception,
        "reschedule",
        json!({"reason": "r", "arrival": late_arrival}),
    )
    .then_rule("V23");
    // the arrival is a fact once recorded; after departure nothing moves
    let arrived = G::arrived("senior", 2);
    arrived
        .when(
            Role::Reception,
            "reschedule",
            json!({"reason": "r", "arrival": late_arrival}),
        )
        .then_error(ErrorKind::InvalidState, Some("arrival"));
    let departed = G::departed("senior", 2);
    departed
        .when(
            Role::Reception,
            "reschedule",
            json!({"reason": "r", "headcount": 2, "visitors": [{"name": "a"}, {"name": "b"}]}),
        )
        .then_error(ErrorKind::InvalidState, None);
}

// ---------------------------------------------------------------- V24

#[test]
fn v24_an_expense_says_what_when_and_from_whom_and_unknown_fields_are_refused() {
    let g = G::at_level("senior", 2);
    let ev = g
        .when(
            Role::Finance,
            "record-expense",
            json!({"category": "gift", "amount_fen": 8_000, "receipt_no": "G-7", "paid_by": "company",
                   "spent_at": "2026-11-19T20:00:00+08:00", "description": "tea for the chairman",
                   "vendor": "Tea House", "subcategory": "tea"}),
        )
        .then_single();
    let VisitEvent::ExpenseRecorded(p) = &ev else {
        panic!("{ev:?}")
    };
    assert_eq!(p.spent_at, t("2026-11-19T20:00:00+08:00"));
    assert_eq!(
        ev.occurred_at(),
        Some(p.spent_at),
        "analyses read the spend time"
    );
    assert_eq!(p.subcategory.as_ref().unwrap().as_str(), "tea");
    let mut typo = expense("car", 100, FILED);
    typo["amout_fen"] = json!(100);
    g.when(Role::Finance, "record-expense", typo)
        .then_error(ErrorKind::InvalidInput, Some("amout_fen"));
    let mut nested = request_body(1);
    nested["arrival"]["gate"] = json!("B");
    G::nothing()
        .when(Role::Requester, "request", nested)
        .then_error(ErrorKind::InvalidInput, Some("arrival.gate"));
    let mut undescribed = expense("car", 100, FILED);
    undescribed.as_object_mut().unwrap().remove("description");
    g.when(Role::Finance, "record-expense", undescribed)
        .then_error(ErrorKind::InvalidInput, Some("description"));
    g.when(
        Role::Finance,
        "record-expense",
        expense("car", 100, "2026-12-31T00:00:00+08:00"),
    )
    .then_rule("V24");
}

#[test]
fn v24_old_expenses_take_their_recording_time_and_old_requests_count_as_approved() {
    let (schema, data) = upcast(
        "ExpenseRecorded",
        1,
        json!({"expense_id": uuid::Uuid::nil(), "category": "car", "amount_fen": 100, "paid_by": "company",
               "receipt_no": "R", "booking_id": null, "reverses": null, "cap_fen": null, "over_cap": false,
               "level": null, "policy_version": null, "recorded_at": "2025-01-03T09:00:00+08:00"}),
    );
    assert_eq!(schema, 2);
    let ev = VisitEvent::from_stored("ExpenseRecorded", &data).unwrap();
    assert!(
        matches!(ev, VisitEvent::ExpenseRecorded(ref p) if p.spent_at == p.recorded_at && p.description.is_none())
    );
    let mut old = serde_json::to_value(request_body(1)).unwrap();
    old["visit_id"] = json!(uuid::Uuid::nil());
    old["requested_at"] = json!(FILED);
    old["late"] = json!(false);
    let (schema, data) = upcast("ReceptionRequested", 1, old);
    assert_eq!(schema, 2);
    let ev = VisitEvent::from_stored("ReceptionRequested", &data).unwrap();
    let v = Visit::default().evolve(&ev);
    assert!(!v.approval.required, "filed before approvals existed");
    // a current payload passes unchanged
    let (schema, same) = upcast("ReceptionRequested", 2, data.clone());
    assert_eq!((schema, same), (2, data));
}

// ---------------------------------------------------------------- V25

#[test]
fn v25_a_gift_over_the_item_cap_needs_an_override() {
    let g = G::at_level("senior", 2);
    let vase = json!({"item": "vase", "unit_cost_fen": 12_000, "quantity": 2});
    let e = g
        .when(Role::Reception, "plan-souvenir", vase.clone())
        .then_violation("V25");
    assert_eq!(e.field.as_deref(), Some("unit_cost_fen"));
    let mut overridden = vase.clone();
    overridden["override"] = json!({"reason": "chairman's gift"});
    g.when(Role::Reception, "plan-souvenir", overridden.clone())
        .then_error(ErrorKind::Forbidden, Some("override"));
    let ev = g
        .when(Role::Approver, "plan-souvenir", overridden)
        .then_single();
    assert!(
        matches!(ev, VisitEvent::SouvenirPlanned(ref p) if p.over_cap && p.item_cap_fen == Some(Fen::from_yuan(100)))
    );
    // a gift expense for a planned souvenir is capped at item cap × quantity
    let g = g.ok(
        Role::Reception,
        "plan-souvenir",
        json!({"item": "tea", "unit_cost_fen": 9_000, "quantity": 2}),
    );
    let sid = g.last_id;
    let mut gift = expense("gift", 20_001, FILED);
    gift["booking_id"] = json!(sid);
    let ev = g
        .when(Role::Finance, "record-expense", gift.clone())
        .then_single();
    assert!(
        matches!(ev, VisitEvent::ExpenseRecorded(ref p) if p.over_cap && p.cap_fen == Some(Fen::from_yuan(200)))
    );
    gift["amount_fen"] = json!(18_000);
    let ev = g.when(Role::Finance, "record-expense", gift).then_single();
    assert!(matches!(ev, VisitEvent::ExpenseRecorded(ref p) if !p.over_cap));
}

#[test]
fn v25_meals_capped_per_person_or_uncapped_and_never_for_more_than_the_headcount() {
    let mut v2 = Policy::default_v1();
    v2.version = 2;
    v2.effective_from = t("2026-01-01T00:00:00+08:00");
    for l in &mut v2.levels {
        l.meals.per_person_fen = Some(PerPersonMeals {
            lunch: Some(Fen::from_yuan(50)),
            dinner: None,
        });
    }
    let book = PolicyBook::from_versions(vec![Policy::default_v1(), v2]).unwrap();
    let g = G::approved(3).with_policies(book).ok(
        Role::Reception,
        "assign-level",
        json!({"level": "senior"}),
    );
    let meal = |kind: &str, party: u32, budget: i64| json!({"meal": kind, "at": ARRIVAL, "venue": "canteen", "party_size": party, "budget_fen": budget});
    let ev = g
        .when(Role::Reception, "book-meal", meal("lunch", 3, 15_000))
        .then_single();
    assert!(
        matches!(ev, VisitEvent::MealBooked(ref p) if p.cap_fen == Some(Fen::from_yuan(150)) && !p.over_cap)
    );
    g.when(Role::Reception, "book-meal", meal("lunch", 3, 15_001))
        .then_violation("V9");
    let ev = g
        .when(Role::Reception, "book-meal", meal("dinner", 3, 9_000_000))
        .then_single();
    assert!(matches!(ev, VisitEvent::MealBooked(ref p) if p.cap_fen.is_none() && !p.over_cap));
    let e = g
        .when(Role::Reception, "book-meal", meal("lunch", 4, 100))
        .then_violation("V25");
    assert_eq!(e.field.as_deref(), Some("party_size"));
}

// ---------------------------------------------------------------- V26

#[test]
fn v26_preparation_tasks_follow_the_request_and_overdue_ones_are_flagged() {
    let mut body = request_body(1);
    body["customer"]["foreign"] = json!(true);
    body["needs"]["visa_letter"] = json!(true);
    body["needs"]["return_tickets"] = json!(true);
    body["arrival"]["mode"] = json!("car");
    let g = G::nothing()
        .at("2026-11-10T09:00:00+08:00")
        .ok(Role::Requester, "request", body);
    let ids: Vec<String> = visit_tasks(&g.state, g.now)
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(
        ids,
        [
            "visa_letter",
            "meeting_room",
            "welcome_sign",
            "return_tickets",
            "parking",
            "confirmation_call"
        ]
    );
    let tasks = visit_tasks(&g.state, g.now);
    assert_eq!(
        tasks[0].due,
        t("2026-11-18T10:00:00+08:00"),
        "7 days before arrival"
    );
    assert_eq!(
        tasks[5].due,
        t("2026-11-25T09:00:00+08:00"),
        "1 h before arrival"
    );
    // the visa letter is overdue after its due time
    let late = t("2026-11-19T09:00:00+08:00");
    assert!(visit_flags(&g.state, late).contains(&"task_overdue".to_string()));
    g.when(Role::Reception, "complete-task", json!({"task": "lunch"}))
        .then_rule("V26");
    let ev = g
        .when_at(
            Role::Reception,
            late,
            "complete-task",
            json!({"task": "visa_letter", "notes": "sent by DHL"}),
        )
        .then_single();
    assert!(matches!(ev, VisitEvent::TaskCompleted(ref p) if p.late));
    let g = g.ok(
        Role::Reception,
        "complete-task",
        json!({"task": "visa_letter"}),
    );
    g.when(
        Role::Reception,
        "complete-task",
        json!({"task": "visa_letter"}),
    )
    .then_error(ErrorKind::InvalidState, None);
    g.when(Role::Requester, "complete-task", json!({"task": "parking"}))
        .then_error(ErrorKind::Forbidden, None);
    assert!(!visit_flags(&g.state, late).contains(&"task_overdue".to_string()));
    // a request without the needs has only the standing tasks
    let plain = G::requested(1);
    let ids: Vec<String> = visit_tasks(&plain.state, plain.now)
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["meeting_room", "welcome_sign", "confirmation_call"]);
}

// ---------------------------------------------------------------- V27

#[test]
fn v27_support_staff_need_no_override_and_changes_after_arrival_need_a_reason() {
    let g = G::at_level("ordinary", 1);
    g.when(
        Role::Reception,
        "assign-staff",
        json!({"host": "Li Na", "accompanying": [{"name": "Xu", "role": "photographer"}, {"name": "Ma", "role": "minute_taker"}]}),
    )
    .then_single();
    g.when(
        Role::Reception,
        "change-staff",
        json!({"add": [{"name": "Xu", "role": "photographer"}]}),
    )
    .then_error(ErrorKind::InvalidState, None);
    let g = g.ok(
        Role::Reception,
        "assign-staff",
        json!({"host": "Li Na", "accompanying": [{"name": "Xu", "role": "photographer"}]}),
    );
    g.when(
        Role::Reception,
        "change-staff",
        json!({"add": [{"name": "Gu", "role": "shareholder"}]}),
    )
    .then_violation("V6");
    g.when(
        Role::Reception,
        "change-staff",
        json!({"remove": ["Nobody"]}),
    )
    .then_error(ErrorKind::InvalidInput, Some("remove[0]"));
    let g = g.ok(
        Role::Reception,
        "change-staff",
        json!({"add": [{"name": "Ma", "role": "interpreter"}], "remove": ["Xu"]}),
    );
    let names: Vec<&str> = g
        .state
        .accompanying
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["Ma"]);
    assert!(!g.state.staff_changed_mid_visit);
    let g = g
        .at("2026-11-25T10:05:00+08:00")
        .ok(Role::Reception, "draft-plan", plan_body())
        .ok(Role::Approver, "review-plan", json!({"approved": true}))
        .ok(
            Role::Reception,
            "record-arrival",
            json!({"at": "2026-11-25T10:05:00+08:00"}),
        );
    g.when(Role::Reception, "change-staff", json!({"remove": ["Ma"]}))
        .then_violation("V27");
    let g = g.ok(
        Role::Reception,
        "change-staff",
        json!({"remove": ["Ma"], "reason": "interpreter fell ill"}),
    );
    assert!(visit_flags(&g.state, g.now).contains(&"staff_changed_mid_visit".to_string()));
}

// ---------------------------------------------------------------- V28

/// A visit on site with one confirmed matter; returns it and the matter's id.
fn with_confirmed_matter() -> (G, uuid::Uuid) {
    let g = G::arrived("senior", 2).ok(
        Role::Reception,
        "propose-matter",
        json!({"by": "visitor", "text": "exclusive dealership in Anhui"}),
    );
    let mid = g.last_id;
    let g = g.ok(
        Role::Reception,
        "confirm-matter",
        json!({"matter_id": mid, "company_confirmed_by": "Zhou", "visitor_confirmed_by": "Wang", "record_ref": "MOU-7"}),
    );
    (g, mid)
}

#[test]
fn v28_talks_keep_attendees_and_minutes_are_due_the_day_after_departure() {
    let (g, _) = with_confirmed_matter();
    g.when(
        Role::Reception,
        "hold-talks",
        json!({"at": ARRIVAL, "outcome": "signed", "attendees": []}),
    )
    .then_error(ErrorKind::InvalidInput, Some("attendees"));
    g.when(
        Role::Reception,
        "submit-minutes",
        json!({"ref": "M-1", "attendees": ["Zhou"]}),
    )
    .then_violation("V28");
    let g = g
        .ok(
            Role::Reception,
            "hold-talks",
            json!({"at": ARRIVAL, "outcome": "MOU signed", "attendees": ["Zhou", "Wang"]}),
        )
        .at(DEPARTURE)
        .ok(
            Role::Reception,
            "record-departure",
            json!({"at": DEPARTURE}),
        );
    let due = visit_deadlines(&g.state, g.now)
        .into_iter()
        .find(|d| d.item == "minutes")
        .expect("minutes are due after talks");
    assert_eq!(due.due_at, t("2026-11-29T00:00:00+08:00"));
    assert!(due.met_at.is_none());
    let g = g.ok(
        Role::Reception,
        "submit-minutes",
        json!({"ref": "M-1", "attendees": ["Zhou", "Wang"]}),
    );
    g.when(
        Role::Reception,
        "submit-minutes",
        json!({"ref": "M-2", "attendees": ["Zhou"]}),
    )
    .then_error(ErrorKind::InvalidState, None);
    let met = visit_deadlines(&g.state, g.now)
        .into_iter()
        .find(|d| d.item == "minutes")
        .unwrap();
    assert!(met.met_at.is_some() && !met.overdue);
}

#[test]
fn v28_follow_ups_belong_to_confirmed_matters_and_outlive_the_visit() {
    let g = G::arrived("senior", 2).ok(
        Role::Reception,
        "propose-matter",
        json!({"by": "company", "text": "joint fair"}),
    );
    let unconfirmed = g.last_id;
    let follow = |m: uuid::Uuid, due: &str| json!({"matter_id": m, "owner": "Chen", "due": due, "text": "send the price list"});
    g.when(
        Role::Reception,
        "add-follow-up",
        follow(unconfirmed, "2026-12-10T18:00:00+08:00"),
    )
    .then_violation("V28");
    let (g, mid) = with_confirmed_matter();
    g.when(
        Role::Reception,
        "add-follow-up",
        follow(mid, "2026-11-01T18:00:00+08:00"),
    )
    .then_rule("V28");
    let g = g.ok(
        Role::Reception,
        "add-follow-up",
        follow(mid, "2026-12-10T18:00:00+08:00"),
    );
    let fid = g.last_id;
    let g = g.at(DEPARTURE).ok(
        Role::Reception,
        "record-departure",
        json!({"at": DEPARTURE}),
    );
    // closed, the follow-up is still owed and shows once overdue
    let g = g
        .ok(
            Role::Reception,
            "return-call",
            json!({"reached": true, "satisfaction": 4}),
        )
        .ok(
            Role::Reception,
            "file-summary",
            json!({"results": "fair agreed"}),
        )
        .ok(Role::Reception, "close", json!({}));
    assert_eq!(g.state.stage, Stage::Closed);
    let after = t("2026-12-11T09:00:00+08:00");
    assert!(visit_flags(&g.state, after).contains(&"follow_up_overdue".to_string()));
    let ev = g
        .when_at(
            Role::Reception,
            after,
            "complete-follow-up",
            json!({"follow_up_id": fid, "notes": "sent"}),
        )
        .then_single();
    assert!(matches!(ev, VisitEvent::FollowUpCompleted(ref p) if p.late));
    let g = g.ok(
        Role::Reception,
        "complete-follow-up",
        json!({"follow_up_id": fid}),
    );
    assert!(!visit_flags(&g.state, after).contains(&"follow_up_overdue".to_string()));
    g.when(
        Role::Reception,
        "complete-follow-up",
        json!({"follow_up_id": fid}),
    )
    .then_error(ErrorKind::InvalidState, None);
}

// ---------------------------------------------------------------- V29

#[test]
fn v29_home_reception_only_where_the_level_provides_it_within_its_staff_bounds() {
    let body = |staff: Value| json!({"at": "2026-11-26T19:00:00+08:00", "staff": staff});
    G::arrived("ordinary", 1)
        .when(
            Role::Reception,
            "hold-home-reception",
            body(json!(["Zhou"])),
        )
        .then_violation("V29");
    let g = G::arrived("senior", 1);
    let e = g
        .when(
            Role::Reception,
            "hold-home-reception",
            body(json!(["Zhou", "Sun", "Gu"])),
        )
        .then_violation("V29");
    assert_eq!(e.field.as_deref(), Some("staff"));
    g.when(Role::Reception, "hold-home-reception", body(json!([])))
        .then_violation("V29");
    g.when(
        Role::Reception,
        "hold-home-reception",
        body(json!(["Zhou", "Sun"])),
    )
    .then_single();
}

// ---------------------------------------------------------------- V30

#[test]
fn v30_the_return_call_confirms_safe_arrival_and_may_raise_a_complaint() {
    let g = G::departed("senior", 2);
    g.when(
        Role::Reception,
        "return-call",
        json!({"reached": false, "arrived_safely": true}),
    )
    .then_error(ErrorKind::InvalidInput, Some("arrived_safely"));
    g.when(
        Role::Reception,
        "return-call",
        json!({"reached": true, "satisfaction": 2, "complaint": {"severity": "huge", "category": "car", "description": "late"}}),
    )
    .then_error(ErrorKind::InvalidInput, Some("complaint.severity"));
    let events = g
        .when(
            Role::Reception,
            "return-call",
            json!({"reached": true, "satisfaction": 2, "arrived_safely": true, "suggestions": "a quieter hotel",
                   "complaint": {"severity": "minor", "category": "car", "description": "the pickup was late"}}),
        )
        .unwrap();
    let (VisitEvent::ReturnCallAttempted(a), VisitEvent::ReturnCallDone(d)) =
        (&events[0], &events[1])
    else {
        panic!("{events:?}")
    };
    assert_eq!(d.arrived_safely, Some(true));
    assert_eq!(d.suggestions.as_deref(), Some("a quieter hotel"));
    let raised = d
        .complaint
        .as_ref()
        .expect("the complaint travels with the call");
    assert_eq!(raised.complaint_id, call_complaint_id(a.attempt_id));
    assert_ne!(raised.complaint_id, a.attempt_id);
    assert_eq!(
        raised.complaint_id.get_version_num(),
        a.attempt_id.get_version_num()
    );
}

// ---------------------------------------------------------------- V31

#[test]
fn v31_a_closed_visit_takes_a_late_invoice_judged_as_usual() {
    let g = G::arrived("senior", 2).ok(
        Role::Reception,
        "book-meal",
        json!({"meal": "dinner", "at": DEPARTURE, "venue": "v", "party_size": 2, "budget_fen": 40_000}),
    );
    let meal = g.last_id;
    let g = g
        .at(DEPARTURE)
        .ok(
            Role::Reception,
            "record-departure",
            json!({"at": DEPARTURE}),
        )
        .ok(
            Role::Reception,
            "return-call",
            json!({"reached": true, "satisfaction": 5}),
        )
        .ok(Role::Reception, "file-summary", json!({"results": "ok"}))
        .ok(Role::Reception, "close", json!({}));
    let mut invoice = expense("meal", 60_000, DEPARTURE);
    invoice["booking_id"] = json!(meal);
    let g = g.ok(Role::Finance, "record-expense", invoice);
    let late = &g.state.expenses[0].recorded;
    assert!(
        late.after_close && late.over_cap,
        "judged by the booking's cap"
    );
    let eid = late.expense_id;
    let g = g.ok(
        Role::Approver,
        "decide-expense",
        json!({"expense_id": eid, "approved": false, "comments": "host pays the difference"}),
    );
    assert_eq!(g.state.stage, Stage::Closed, "deciding does not reopen");
    g.when(
        Role::Reception,
        "book-meal",
        json!({"meal": "lunch", "at": DEPARTURE, "venue": "v", "party_size": 1, "budget_fen": 1}),
    )
    .then_violation("V21");
}

// ---------------------------------------------------------------- F2

#[test]
fn f2_a_sign_in_may_name_an_open_visit_and_carries_its_customer() {
    let visit_id = uuid::Uuid::from_u128(77);
    let linked = |open: bool| LinkedVisit {
        id: visit_id,
        customer: "Huaxin Dealers Ltd".into(),
        open,
    };
    let body = json!({"name": "Wang Lei", "party_size": 2, "reason": "visit", "host": "Li Na", "visit_id": visit_id});
    let g = Given::<SignIn>::nothing();
    let mut ctx = g.ctx(Role::Frontdesk);
    let decide = |ctx: &reception_domain::Context| {
        let cmd = SignInCommand::parse("sign-in", body.clone()).unwrap();
        SignIn::default().decide(cmd, ctx)
    };
    let e = decide(&ctx).unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::NotFound, Some("visit_id"))
    );
    ctx.linked_visit = Some(linked(false));
    let e = decide(&ctx).unwrap_err();
    assert_eq!(
        (e.kind, e.rule.as_deref()),
        (ErrorKind::RuleViolation, Some("F2"))
    );
    ctx.linked_visit = Some(linked(true));
    let events = decide(&ctx).unwrap();
    let SignInEvent::VisitorSignedIn(p) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(p.customer.as_deref(), Some("Huaxin Dealers Ltd"));
    assert_eq!(p.visit_id, Some(visit_id));
}
