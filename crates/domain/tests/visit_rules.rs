//! One or more given/when/then tests per visit rule V1–V21 of DOMAIN.md, plus roles,
//! parsing and the cap arithmetic at its edges.

mod support;

use reception_domain::deadlines::{next_step, visit_deadlines, visit_flags};
use reception_domain::policy::{Policy, PolicyBook};
use reception_domain::visit::{Stage, Visit, VisitCommand, VisitEvent};
use reception_domain::{DomainCommand, DomainEvent, ErrorKind, Role};
use serde_json::json;
use support::*;

/// The harness over a visit.
type Given = support::Given<Visit>;

fn meal(meal: &str, party: u32, budget_fen: i64) -> serde_json::Value {
    json!({"meal": meal, "at": "2026-11-25T18:00:00+08:00", "venue": "Jade Garden",
           "party_size": party, "budget_fen": budget_fen})
}

fn fun(party: u32, budget_fen: i64) -> serde_json::Value {
    json!({"at": "2026-11-26T14:00:00+08:00", "kind": "lake cruise", "party_size": party, "budget_fen": budget_fen})
}

fn lodging(stars: u8, rate_fen: i64, paid_by: &str) -> serde_json::Value {
    json!({"hotel": "Grand Hotel", "stars": stars, "rooms": 2, "nights": 2, "rate_fen": rate_fen, "paid_by": paid_by})
}

fn car(leg: &str, class: &str, ready_at: &str) -> serde_json::Value {
    json!({"leg": leg, "vehicle_class": class, "driver": "Zhao", "plate": "A12345",
           "ready_at": ready_at, "place": "airport", "number": "MU5101"})
}

fn expense(category: &str, amount: i64, booking: Option<uuid::Uuid>) -> serde_json::Value {
    json!({"spent_at": "2026-11-20T09:00:00+08:00", "description": "test expense", "category": category, "amount_fen": amount, "receipt_no": "R-1", "paid_by": "company", "booking_id": booking})
}

// ---------------------------------------------------------------- V1

#[test]
fn v1_headcount_must_equal_the_visitor_list() {
    let mut body = request_body(2);
    body["headcount"] = json!(3);
    let e = Given::nothing()
        .when(Role::Requester, "request", body)
        .then_error(ErrorKind::InvalidInput, Some("headcount"));
    assert_eq!(e.rule.as_deref(), Some("V1"));
}

#[test]
fn v1_a_request_needs_at_least_one_visitor() {
    let mut body = request_body(1);
    body["visitors"] = json!([]);
    body["headcount"] = json!(1);
    let e = Given::nothing()
        .when(Role::Requester, "request", body)
        .then_error(ErrorKind::InvalidInput, Some("visitors"));
    assert_eq!(e.rule.as_deref(), Some("V1"));
}

#[test]
fn v1_arrival_must_be_before_departure() {
    let mut body = request_body(1);
    body["departure"]["at"] = json!(ARRIVAL);
    let e = Given::nothing()
        .when(Role::Requester, "request", body)
        .then_error(ErrorKind::InvalidInput, Some("departure.at"));
    assert_eq!(e.rule.as_deref(), Some("V1"));
}

#[test]
fn v1_a_request_needs_a_customer_company() {
    let mut body = request_body(1);
    body["customer"]["company"] = json!("  ");
    Given::nothing()
        .when(Role::Requester, "request", body.clone())
        .then_error(ErrorKind::InvalidInput, Some("customer.company"));
    body["customer"].as_object_mut().unwrap().remove("company");
    Given::nothing()
        .when(Role::Requester, "request", body)
        .then_error(ErrorKind::InvalidInput, Some("customer.company"));
}

#[test]
fn v1_a_valid_request_is_accepted_and_carries_the_whole_request() {
    let ev = Given::nothing()
        .when(Role::Requester, "request", request_body(2))
        .then_single();
    let VisitEvent::ReceptionRequested(p) = &ev else {
        panic!("{ev:?}")
    };
    assert_eq!(p.request.headcount.get(), 2);
    let data = ev.to_data();
    assert_eq!(data["customer"]["company"], "Huaxin Dealers Ltd");
    assert_eq!(data["visit_id"], json!(uuid::Uuid::from_u128(1)));
    assert_eq!(data["late"], json!(false));
}

// ---------------------------------------------------------------- V2

fn late_for(foreign: bool, arrival: &str, expedited: bool) -> bool {
    let mut body = request_body(1);
    body["customer"]["foreign"] = json!(foreign);
    body["arrival"]["at"] = json!(arrival);
    if expedited {
        body["expedited"] = json!({"reason": "minister's schedule"});
    }
    let ev = Given::nothing()
        .when(Role::Requester, "request", body)
        .then_single();
    let VisitEvent::ReceptionRequested(p) = ev else {
        panic!()
    };
    p.late
}

#[test]
fn v2_arrival_under_24_hours_after_filing_is_late() {
    assert!(late_for(false, "2026-11-21T08:59:00+08:00", false));
    assert!(!late_for(false, "2026-11-21T09:00:00+08:00", false));
}

#[test]
fn v2_a_foreign_customer_needs_7_days() {
    assert!(late_for(true, "2026-11-26T09:00:00+08:00", false));
    assert!(!late_for(true, "2026-11-27T09:00:00+08:00", false));
}

#[test]
fn v2_an_expedited_request_is_not_late_and_a_late_one_is_flagged() {
    assert!(!late_for(false, "2026-11-20T18:00:00+08:00", true));
    let mut body = request_body(1);
    body["arrival"]["at"] = json!("2026-11-20T18:00:00+08:00");
    let g = Given::nothing().ok(Role::Requester, "request", body);
    assert!(g.state.late);
    assert!(visit_flags(&g.state, g.now).contains(&"late_request".to_string()));
}

// ---------------------------------------------------------------- V3

#[test]
fn v3_no_booking_staffing_or_dispatch_before_a_level() {
    let g = Given::requested(2);
    g.when(Role::Reception, "book-meal", meal("dinner", 2, 10_000))
        .then_rule("V3");
    g.when(Role::Reception, "assign-staff", json!({"host": "Li Na"}))
        .then_rule("V3");
    g.when(
        Role::Reception,
        "dispatch-car",
        car("pickup", "suv", "2026-11-25T09:00:00+08:00"),
    )
    .then_rule("V3");
    g.when(
        Role::Reception,
        "book-lodging",
        lodging(3, 30_000, "visitor"),
    )
    .then_rule("V3");
}

#[test]
fn v3_level_changes_before_arrival_with_a_reason_never_after() {
    let g = Given::at_level("ordinary", 2);
    g.when(Role::Reception, "change-level", json!({"level": "senior"}))
        .then_error(ErrorKind::InvalidInput, Some("reason"));
    let ev = g
        .when(
            Role::Reception,
            "change-level",
            json!({"level": "senior", "reason": "CEO joins"}),
        )
        .then_single();
    assert!(
        matches!(ev, VisitEvent::LevelChanged(ref p) if p.level.as_str() == "senior" && p.policy_version == 1)
    );
    let arrived = Given::arrived("ordinary", 2);
    arrived
        .when(
            Role::Reception,
            "change-level",
            json!({"level": "senior", "reason": "late"}),
        )
        .then_rule("V3");
}

#[test]
fn v3_an_unknown_level_is_refused_naming_the_field() {
    Given::requested(1)
        .when(Role::Reception, "assign-level", json!({"level": "royal"}))
        .then_error(ErrorKind::InvalidInput, Some("level"));
}

// ---------------------------------------------------------------- V4

#[test]
fn v4_a_plan_is_reviewed_only_after_a_draft_and_a_returned_plan_is_redrafted() {
    let g = Given::at_level("senior", 2);
    g.when(Role::Approver, "review-plan", json!({"approved": true}))
        .then_rule("V4");
    let g = g.ok(Role::Reception, "draft-plan", plan_body()).ok(
        Role::Approver,
        "review-plan",
        json!({"approved": false, "comments": "add a factory tour"}),
    );
    g.when(Role::Approver, "review-plan", json!({"approved": true}))
        .then_rule("V4");
    let g = g.ok(Role::Reception, "draft-plan", plan_body()).ok(
        Role::Approver,
        "review-plan",
        json!({"approved": true}),
    );
    assert_eq!(g.state.plan.draft_no, 2);
    assert_eq!(
        g.state.plan.status,
        reception_domain::visit::PlanStatus::Approved
    );
}

#[test]
fn v4_the_plan_is_due_24_hours_after_the_request_and_approved_before_arrival() {
    let g = Given::at_level("senior", 2);
    let due = visit_deadlines(&g.state, t("2026-11-21T09:00:01+08:00"));
    let plan = due.iter().find(|d| d.item == "plan_due").expect("plan_due");
    assert_eq!(plan.due_at, t("2026-11-21T09:00:00+08:00"));
    assert!(plan.overdue);
    assert!(visit_flags(&g.state, t("2026-11-21T09:00:01+08:00")).contains(&"plan_overdue".into()));
    assert!(!visit_flags(&g.state, t("2026-11-21T08:59:59+08:00")).contains(&"plan_overdue".into()));
    let arrived =
        Given::at_level("senior", 2).ok(Role::Reception, "record-arrival", json!({"at": ARRIVAL}));
    arrived
        .when(Role::Reception, "draft-plan", plan_body())
        .then_rule("V4");
}

// ---------------------------------------------------------------- V5

#[test]
fn v5_readiness_is_due_by_the_day_before_arrival() {
    let g = Given::at_level("senior", 2);
    let due = visit_deadlines(&g.state, g.now);
    let r = due
        .iter()
        .find(|d| d.item == "readiness")
        .expect("readiness");
    assert_eq!(r.due_at, t("2026-11-25T00:00:00+08:00"));
    let late = g.clone().at("2026-11-25T00:30:00+08:00");
    assert!(visit_flags(&late.state, late.now).contains(&"readiness_overdue".into()));
    let ev = late
        .when(
            Role::Reception,
            "confirm-readiness",
            json!({"notes": "all set"}),
        )
        .then_single();
    assert!(matches!(ev, VisitEvent::ReadinessConfirmed(ref p) if p.late));
    let on_time =
        g.at("2026-11-24T17:00:00+08:00")
            .ok(Role::Reception, "confirm-readiness", json!({}));
    assert!(!visit_flags(&on_time.state, t("2026-11-25T01:00:00+08:00"))
        .contains(&"readiness_overdue".into()));
}

// ---------------------------------------------------------------- V6

#[test]
fn v6_exactly_one_host() {
    let g =
        Given::at_level("senior", 2).ok(Role::Reception, "assign-staff", json!({"host": "Li Na"}));
    let e = g
        .when(Role::Reception, "assign-staff", json!({"host": "Wu Fan"}))
        .then_error(ErrorKind::InvalidState, None);
    assert_eq!(e.rule.as_deref(), Some("V6"));
    g.when(Role::Reception, "assign-staff", json!({}))
        .then_error(ErrorKind::InvalidInput, Some("host"));
}

#[test]
fn v6_accompanying_roles_must_be_the_levels_unless_an_approver_overrides() {
    let g = Given::at_level("ordinary", 2);
    let body = json!({"host": "Li Na", "accompanying": [{"name": "Chen", "role": "salesperson"}, {"name": "Ma", "role": "shareholder"}]});
    let e = g
        .when(Role::Reception, "assign-staff", body.clone())
        .then_rule("V6");
    assert_eq!(e.field.as_deref(), Some("accompanying[1].role"));
    let mut with_override = body.clone();
    with_override["override"] = json!({"reason": "shareholder is an old friend"});
    g.when(Role::Reception, "assign-staff", with_override.clone())
        .then_error(ErrorKind::Forbidden, Some("override"));
    let ev = g
        .when(Role::Approver, "assign-staff", with_override)
        .then_single();
    assert!(matches!(ev, VisitEvent::StaffAssigned(ref p) if p.override_.is_some()));
    assert_eq!(
        ev.to_data()["override"]["reason"],
        "shareholder is an old friend"
    );
}

#[test]
fn v6_a_host_change_after_arrival_needs_a_reason_and_is_flagged() {
    let g = Given::arrived("senior", 2);
    g.when(Role::Reception, "reassign-host", json!({"host": "Wu Fan"}))
        .then_rule("V6");
    let g = g.ok(
        Role::Reception,
        "reassign-host",
        json!({"host": "Wu Fan", "reason": "Li Na is ill"}),
    );
    assert!(g.state.staff_changed_mid_visit);
    assert!(visit_flags(&g.state, g.now).contains(&"staff_changed_mid_visit".into()));
    let before = Given::at_level("senior", 2)
        .ok(Role::Reception, "assign-staff", json!({"host": "Li Na"}))
        .ok(Role::Reception, "reassign-host", json!({"host": "Wu Fan"}));
    assert!(!before.state.staff_changed_mid_visit);
}

// ---------------------------------------------------------------- V7

#[test]
fn v7_the_vehicle_class_must_be_the_levels_unless_overridden() {
    let g = Given::at_level("ordinary", 2);
    let e = g
        .when(
            Role::Reception,
            "dispatch-car",
            car("pickup", "mpv", "2026-11-25T09:00:00+08:00"),
        )
        .then_rule("V7");
    assert_eq!(e.field.as_deref(), Some("vehicle_class"));
    let mut body = car("pickup", "mpv", "2026-11-25T09:00:00+08:00");
    body["override"] = json!({"reason": "six suitcases"});
    g.when(Role::Approver, "dispatch-car", body).then_single();
    g.when(
        Role::Reception,
        "dispatch-car",
        car("pickup", "suv", "2026-11-25T09:00:00+08:00"),
    )
    .then_single();
}

#[test]
fn v7_a_pickup_names_the_flight_or_train_number_and_place() {
    let g = Given::at_level("ordinary", 2);
    let mut body = car("pickup", "suv", "2026-11-25T09:00:00+08:00");
    body.as_object_mut().unwrap().remove("number");
    let e = g
        .when(Role::Reception, "dispatch-car", body)
        .then_rule("V7");
    assert_eq!(e.field.as_deref(), Some("number"));
}

#[test]
fn v7_the_car_is_ready_15_minutes_before_arrival_or_flagged() {
    let g = Given::at_level("ordinary", 2);
    let on_time = g
        .when(
            Role::Reception,
            "dispatch-car",
            car("pickup", "suv", "2026-11-25T09:45:00+08:00"),
        )
        .then_single();
    assert!(matches!(on_time, VisitEvent::CarDispatched(ref p) if !p.late));
    let g = g.ok(
        Role::Reception,
        "dispatch-car",
        car("pickup", "suv", "2026-11-25T09:45:01+08:00"),
    );
    assert!(g.state.cars[0].dispatch.late);
    assert!(visit_flags(&g.state, g.now).contains(&"car_late".into()));
    let due = visit_deadlines(&g.state, g.now);
    let c = due
        .iter()
        .find(|d| d.item == "car_ready")
        .expect("car_ready");
    assert_eq!(c.due_at, t("2026-11-25T09:45:00+08:00"));
    assert!(c.overdue);
}

#[test]
fn v7_a_drop_off_is_ready_15_minutes_before_departure_and_no_car_records_advice() {
    let g = Given::at_level("senior", 2);
    let ev = g
        .when(
            Role::Reception,
            "dispatch-car",
            car("dropoff", "mpv", "2026-11-27T14:50:00+08:00"),
        )
        .then_single();
    assert!(
        matches!(ev, VisitEvent::CarDispatched(ref p) if p.late && p.ready_by == Some(t("2026-11-27T14:45:00+08:00")))
    );
    let g = g.ok(
        Role::Reception,
        "car-unavailable",
        json!({"leg": "pickup", "advised_transport": "airport express to Line 2"}),
    );
    assert_eq!(g.state.cars_unavailable.len(), 1);
    // The pickup is covered by the advice: no missing-car flag at arrival.
    assert!(!visit_flags(&g.state, t("2026-11-25T09:50:00+08:00")).contains(&"car_late".into()));
}

// ---------------------------------------------------------------- V8

#[test]
fn v8_company_paid_lodging_where_the_visitor_pays_is_a_violation() {
    let g = Given::at_level("ordinary", 2);
    let e = g
        .when(
            Role::Reception,
            "book-lodging",
            lodging(4, 40_000, "company"),
        )
        .then_rule("V8");
    assert_eq!(e.field.as_deref(), Some("paid_by"));
    g.when(
        Role::Reception,
        "book-lodging",
        lodging(3, 30_000, "visitor"),
    )
    .then_single();
    let mut body = lodging(4, 40_000, "company");
    body["override"] = json!({"reason": "hotel strike"});
    let ev = g.when(Role::Approver, "book-lodging", body).then_single();
    assert!(
        matches!(ev, VisitEvent::LodgingBooked(ref p) if p.over_cap && p.cap_fen.map(|f| f.fen()) == Some(0))
    );
}

#[test]
fn v8_special_lodging_is_4_stars_or_better_at_400_to_700_yuan() {
    let g = Given::at_level("special", 2);
    g.when(
        Role::Reception,
        "book-lodging",
        lodging(3, 50_000, "company"),
    )
    .then_rule("V8");
    g.when(
        Role::Reception,
        "book-lodging",
        lodging(4, 70_001, "company"),
    )
    .then_rule("V8");
    g.when(
        Role::Reception,
        "book-lodging",
        lodging(5, 39_999, "company"),
    )
    .then_rule("V8");
    for (stars, rate) in [(4, 40_000), (5, 70_000)] {
        let ev = g
            .when(
                Role::Reception,
                "book-lodging",
                lodging(stars, rate, "company"),
            )
            .then_single();
        let VisitEvent::LodgingBooked(p) = ev else {
            panic!()
        };
        assert!(!p.over_cap);
        // cap = 700 yuan × 2 rooms × 2 nights
        assert_eq!(p.cap_fen.unwrap().fen(), 280_000);
        assert_eq!(p.total_fen.fen(), rate * 4);
    }
}

// ---------------------------------------------------------------- V9 and the cap edges

#[test]
fn v9_ordinary_dinner_for_four_is_capped_at_500_yuan() {
    let g = Given::at_level("ordinary", 4);
    let ev = g
        .when(Role::Reception, "book-meal", meal("dinner", 4, 50_000))
        .then_single();
    assert!(
        matches!(ev, VisitEvent::MealBooked(ref p) if p.cap_fen.unwrap().fen() == 50_000 && !p.over_cap)
    );
    let e = g
        .when(Role::Reception, "book-meal", meal("dinner", 4, 50_001))
        .then_rule("V9");
    assert_eq!(e.field.as_deref(), Some("budget_fen"));
    assert!(e.message.contains("500.00 yuan"), "{}", e.message);
}

#[test]
fn v9_entertainment_only_where_the_level_provides_it() {
    let g = Given::at_level("ordinary", 2);
    g.when(Role::Reception, "arrange-entertainment", fun(2, 1))
        .then_rule("V9");
    let mut body = fun(2, 10_000);
    body["override"] = json!({"reason": "customer's birthday"});
    let ev = g
        .when(Role::Approver, "arrange-entertainment", body)
        .then_single();
    assert!(
        matches!(ev, VisitEvent::EntertainmentArranged(ref p) if p.over_cap && p.cap_fen.unwrap().fen() == 0)
    );
}

#[test]
fn v9_an_over_cap_booking_with_an_approvers_override_is_kept_with_the_reason() {
    let g = Given::at_level("senior", 3);
    let mut body = meal("lunch", 3, 70_000);
    body["override"] = json!({"reason": "partner delegation"});
    let g = g.ok(Role::Approver, "book-meal", body);
    let b = &g.state.bookings.meals[0];
    assert!(b.over_cap);
    assert_eq!(b.cap_fen.unwrap().fen(), 60_000);
    assert_eq!(
        b.override_.as_ref().unwrap().reason.as_str(),
        "partner delegation"
    );
}

/// Caps from DOMAIN.md's table (yuan): (level, lunch, dinner, meal surcharge,
/// entertainment cap and surcharge).
/// (level, lunch, dinner, meal surcharge, entertainment (cap, surcharge)).
type Row = (&'static str, i64, i64, i64, Option<(i64, i64)>);
const TABLE: [Row; 3] = [
    ("ordinary", 300, 400, 50, None),
    ("senior", 500, 500, 100, Some((700, 200))),
    ("special", 1000, 1000, 100, Some((1200, 250))),
];

#[test]
fn v9_cap_edges_for_every_level_and_party_size() {
    for (level, lunch, dinner, meal_s, ent) in TABLE {
        for n in [1u32, 2, 3, 10] {
            let extra = i64::from(n.saturating_sub(2));
            let g = Given::at_level(level, n as usize);
            let kinds: Vec<(&str, i64)> = vec![
                ("lunch", lunch + meal_s * extra),
                ("dinner", dinner + meal_s * extra),
            ];
            for (kind, cap_yuan) in kinds {
                let cap = cap_yuan * 100;
                let ev = g
                    .when(Role::Reception, "book-meal", meal(kind, n, cap))
                    .then_single();
                assert!(
                    matches!(ev, VisitEvent::MealBooked(ref p) if p.cap_fen.unwrap().fen() == cap && !p.over_cap),
                    "{level} {kind} for {n} at cap {cap}"
                );
                g.when(Role::Reception, "book-meal", meal(kind, n, cap + 1))
                    .then_rule("V9");
            }
            match ent {
                None => {
                    g.when(Role::Reception, "arrange-entertainment", fun(n, 0))
                        .then_rule("V9");
                }
                Some((c, s)) => {
                    let cap = (c + s * extra) * 100;
                    g.when(Role::Reception, "arrange-entertainment", fun(n, cap))
                        .then_single();
                    g.when(Role::Reception, "arrange-entertainment", fun(n, cap + 1))
                        .then_rule("V9");
                }
            }
        }
    }
}

// ---------------------------------------------------------------- V10

fn souvenir() -> serde_json::Value {
    json!({"item": "porcelain vase", "unit_cost_fen": 10_000, "quantity": 2})
}

#[test]
fn v10_souvenirs_only_where_the_level_allows_them() {
    Given::at_level("ordinary", 2)
        .when(Role::Reception, "plan-souvenir", souvenir())
        .then_rule("V10");
    let ev = Given::at_level("senior", 2)
        .when(Role::Reception, "plan-souvenir", souvenir())
        .then_single();
    assert!(matches!(ev, VisitEvent::SouvenirPlanned(ref p) if p.total_fen.fen() == 20_000));
}

#[test]
fn v10_a_souvenir_not_handed_by_departure_is_flagged() {
    let g = Given::arrived("senior", 2).ok(Role::Reception, "plan-souvenir", souvenir());
    let sid = g.last_id;
    let left = g.clone().ok(
        Role::Reception,
        "record-departure",
        json!({"at": DEPARTURE}),
    );
    assert!(visit_flags(&left.state, left.now).contains(&"souvenir_not_handed".into()));
    let handed = g
        .ok(
            Role::Reception,
            "hand-souvenir",
            json!({"souvenir_id": sid}),
        )
        .ok(
            Role::Reception,
            "record-departure",
            json!({"at": DEPARTURE}),
        );
    assert!(!visit_flags(&handed.state, handed.now).contains(&"souvenir_not_handed".into()));
    handed
        .when(
            Role::Reception,
            "hand-souvenir",
            json!({"souvenir_id": uuid::Uuid::nil()}),
        )
        .then_error(ErrorKind::NotFound, Some("souvenir_id"));
}

// ---------------------------------------------------------------- V11, V12

#[test]
fn v11_a_matter_is_confirmed_by_both_sides_with_a_written_record() {
    let g = Given::arrived("senior", 2).ok(
        Role::Reception,
        "propose-matter",
        json!({"by": "visitor", "text": "exclusive region"}),
    );
    let mid = g.last_id;
    let all = json!({"matter_id": mid, "company_confirmed_by": "Zhang (sales VP)", "visitor_confirmed_by": "Wang Lei", "record_ref": "MEMO-7"});
    for missing in ["company_confirmed_by", "visitor_confirmed_by", "record_ref"] {
        let mut body = all.clone();
        body.as_object_mut().unwrap().remove(missing);
        let e = g
            .when(Role::Reception, "confirm-matter", body)
            .then_rule("V11");
        assert_eq!(e.field.as_deref(), Some(missing));
    }
    g.when(Role::Reception, "confirm-matter", all).then_single();
}

#[test]
fn v12_leadership_talks_only_after_a_confirmed_matter() {
    let g = Given::arrived("senior", 2).ok(
        Role::Reception,
        "propose-matter",
        json!({"by": "company", "text": "joint showroom"}),
    );
    let talks =
        json!({"at": "2026-11-26T10:00:00+08:00", "outcome": "signed", "attendees": ["Li Na"]});
    g.when(Role::Reception, "hold-talks", talks.clone())
        .then_rule("V12");
    let mid = g.last_id;
    let g = g.ok(
        Role::Reception,
        "confirm-matter",
        json!({"matter_id": mid, "company_confirmed_by": "Zhang", "visitor_confirmed_by": "Wang", "record_ref": "MEMO-8"}),
    );
    g.when(Role::Reception, "hold-talks", talks).then_single();
}

// ---------------------------------------------------------------- V13

#[test]
fn v13_departure_only_after_arrival() {
    let g = Given::at_level("senior", 2);
    g.when(
        Role::Reception,
        "record-departure",
        json!({"at": DEPARTURE}),
    )
    .then_rule("V13");
    let g = g.ok(Role::Reception, "record-arrival", json!({"at": ARRIVAL}));
    let e = g
        .when(
            Role::Reception,
            "record-departure",
            json!({"at": "2026-11-25T09:00:00+08:00"}),
        )
        .then_rule("V13");
    assert_eq!(e.field.as_deref(), Some("at"));
    let g = g.ok(
        Role::Reception,
        "record-departure",
        json!({"at": DEPARTURE}),
    );
    assert_eq!(g.state.stage, Stage::Departed);
}

// ---------------------------------------------------------------- V14

#[test]
fn v14_the_return_call_follows_departure_and_is_due_24_hours_after_home() {
    Given::arrived("senior", 2)
        .when(
            Role::Reception,
            "return-call",
            json!({"reached": true, "satisfaction": 5}),
        )
        .then_rule("V14");
    let g = Given::departed("senior", 2);
    let due = visit_deadlines(&g.state, g.now);
    let rc = due
        .iter()
        .find(|d| d.item == "return_call")
        .expect("return_call");
    assert_eq!(rc.due_at, t("2026-11-28T18:00:00+08:00")); // arrives home 18:00 + 24 h
    assert!(visit_flags(&g.state, t("2026-11-28T18:00:01+08:00"))
        .contains(&"return_call_overdue".into()));
    // Without a known home time: departure + 4 h + 24 h.
    let mut body = request_body(1);
    body["departure"]["arrives_home_at"] = json!(null);
    let g2 = Given::nothing().ok(Role::Requester, "request", body);
    assert_eq!(
        g2.state.return_call_due(),
        Some(t("2026-11-28T19:00:00+08:00"))
    );
    g.when(Role::Reception, "return-call", json!({"reached": true}))
        .then_error(ErrorKind::InvalidInput, Some("satisfaction"));
    g.when(
        Role::Reception,
        "return-call",
        json!({"reached": true, "satisfaction": 6}),
    )
    .then_error(ErrorKind::InvalidInput, Some("satisfaction"));
}

#[test]
fn v14_three_failed_attempts_count_as_done() {
    let mut g = Given::departed("senior", 2);
    for i in 1..=2 {
        g = g.ok(Role::Reception, "return-call", json!({"reached": false}));
        assert!(g.state.return_call.done.is_none(), "attempt {i}");
    }
    let events = g
        .when(Role::Reception, "return-call", json!({"reached": false}))
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(matches!(events[1], VisitEvent::ReturnCallDone(ref p) if p.unreachable && !p.reached));
}

// ---------------------------------------------------------------- V15

fn summary() -> serde_json::Value {
    json!({"results": "renewed", "outcomes": "2 matters", "opinions": "good", "recipients": ["sales_director"]})
}

#[test]
fn v15_the_summary_is_due_48_hours_after_departure_and_goes_to_the_gm_for_special() {
    Given::arrived("special", 2)
        .when(Role::Reception, "file-summary", summary())
        .then_rule("V15");
    let special = Given::departed("special", 2);
    assert_eq!(
        special.state.summary_due(),
        Some(t("2026-11-29T15:00:00+08:00"))
    );
    assert!(visit_flags(&special.state, t("2026-11-29T15:00:01+08:00"))
        .contains(&"summary_overdue".into()));
    let ev = special
        .when(Role::Reception, "file-summary", summary())
        .then_single();
    let VisitEvent::SummaryFiled(p) = ev else {
        panic!()
    };
    assert!(p.to_general_manager);
    assert!(p.recipients.iter().any(|r| r.as_str() == "general_manager"));
    let ev = Given::departed("senior", 2)
        .when(Role::Reception, "file-summary", summary())
        .then_single();
    let VisitEvent::SummaryFiled(p) = ev else {
        panic!()
    };
    assert!(!p.to_general_manager);
    assert_eq!(p.recipients.len(), 1);
}

// ---------------------------------------------------------------- V16

#[test]
fn v16_a_visit_closes_only_when_everything_is_done() {
    let g = Given::departed("senior", 2).ok(
        Role::Finance,
        "record-expense",
        expense("car", 30_000, None),
    );
    let e = g.when(Role::Reception, "close", json!({})).then_rule("V16");
    assert!(
        e.message.contains("return call") && e.message.contains("summary"),
        "{}",
        e.message
    );
    let g = g
        .ok(
            Role::Reception,
            "return-call",
            json!({"reached": true, "satisfaction": 4}),
        )
        .ok(Role::Reception, "file-summary", summary());
    let ev = g
        .when(Role::Reception, "close", serde_json::Value::Null)
        .then_single();
    assert!(matches!(ev, VisitEvent::VisitClosed(_)));
    // a pending over-cap expense blocks closing until an approver decides it
    let g3 =
        Given::arrived("senior", 2).ok(Role::Reception, "book-meal", meal("dinner", 2, 50_000));
    let bid = g3.last_id;
    let g3 = g3.ok(
        Role::Finance,
        "record-expense",
        expense("meal", 50_001, Some(bid)),
    );
    let eid = g3.last_id;
    let g3 = g3
        .ok(
            Role::Reception,
            "record-departure",
            json!({"at": DEPARTURE}),
        )
        .ok(
            Role::Reception,
            "return-call",
            json!({"reached": true, "satisfaction": 4}),
        )
        .ok(Role::Reception, "file-summary", summary());
    let e = g3
        .when(Role::Reception, "close", json!({}))
        .then_rule("V16");
    assert!(e.message.contains("over-cap"), "{}", e.message);
    let g3 = g3.ok(
        Role::Approver,
        "decide-expense",
        json!({"expense_id": eid, "approved": true}),
    );
    g3.when(Role::Reception, "close", json!({})).then_single();
}

#[test]
fn v16_an_unsettled_advance_blocks_closing() {
    let g = Given::at_level("senior", 2)
        .ok(
            Role::Finance,
            "issue-advance",
            json!({"amount_fen": 100_000}),
        )
        .ok(Role::Reception, "record-arrival", json!({"at": ARRIVAL}))
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
        .ok(Role::Reception, "file-summary", summary());
    assert!(g
        .when(Role::Reception, "close", json!({}))
        .then_rule("V16")
        .message
        .contains("advance"));
    let g = g.ok(
        Role::Finance,
        "settle-advance",
        json!({"receipts_fen": 80_000, "cash_returned_fen": 20_000}),
    );
    g.when(Role::Reception, "close", json!({})).then_single();
}

// ---------------------------------------------------------------- V17

#[test]
fn v17_an_expense_has_a_positive_amount_and_names_its_booking() {
    let g = Given::arrived("senior", 2);
    let e = g
        .when(Role::Finance, "record-expense", expense("car", 0, None))
        .then_error(ErrorKind::InvalidInput, Some("amount_fen"));
    assert_eq!(e.rule.as_deref(), Some("V17"));
    g.when(Role::Finance, "record-expense", expense("car", -5, None))
        .then_error(ErrorKind::InvalidInput, Some("amount_fen"));
    let e = g
        .when(Role::Finance, "record-expense", expense("meal", 100, None))
        .then_error(ErrorKind::InvalidInput, Some("booking_id"));
    assert_eq!(e.rule.as_deref(), Some("V17"));
    g.when(
        Role::Finance,
        "record-expense",
        expense("meal", 100, Some(uuid::Uuid::nil())),
    )
    .then_error(ErrorKind::NotFound, Some("booking_id"));
    let ev = g
        .when(
            Role::Reception,
            "record-expense",
            expense("car", 12_000, None),
        )
        .then_single();
    assert!(matches!(ev, VisitEvent::ExpenseRecorded(ref p) if p.cap_fen.is_none() && !p.over_cap));
}

#[test]
fn v17_an_over_cap_expense_is_stored_flagged_and_decided_by_an_approver() {
    let g = Given::arrived("senior", 4).ok(Role::Reception, "book-meal", meal("dinner", 4, 60_000));
    let bid = g.last_id;
    // cap: 500 + 100 × 2 = 700 yuan; 400 + 300.01 = over
    let g = g.ok(
        Role::Finance,
        "record-expense",
        expense("meal", 40_000, Some(bid)),
    );
    assert!(!g.state.expenses[0].recorded.over_cap);
    let g = g.ok(
        Role::Finance,
        "record-expense",
        expense("meal", 30_001, Some(bid)),
    );
    let eid = g.last_id;
    let x = &g.state.expenses[1].recorded;
    assert!(x.over_cap);
    assert_eq!(x.cap_fen.unwrap().fen(), 70_000);
    assert_eq!(x.level.as_ref().unwrap().as_str(), "senior");
    assert_eq!(x.policy_version, Some(1));
    assert!(visit_flags(&g.state, g.now).contains(&"over_cap_pending".into()));
    g.when(
        Role::Reception,
        "decide-expense",
        json!({"expense_id": eid, "approved": true}),
    )
    .then_error(ErrorKind::Forbidden, None);
    let first = g.state.expenses[0].recorded.expense_id;
    g.when(
        Role::Approver,
        "decide-expense",
        json!({"expense_id": first, "approved": true}),
    )
    .then_error(ErrorKind::InvalidState, None);
    let rejected = g.clone().ok(
        Role::Approver,
        "decide-expense",
        json!({"expense_id": eid, "approved": false, "comments": "host pays back"}),
    );
    assert!(matches!(
        rejected.events.last(),
        Some(VisitEvent::ExpenseRejected(_))
    ));
    assert!(!visit_flags(&rejected.state, rejected.now).contains(&"over_cap_pending".into()));
}

#[test]
fn v17_company_paid_lodging_where_the_visitor_should_pay_is_over_cap() {
    let g = Given::arrived("senior", 2).ok(
        Role::Reception,
        "book-lodging",
        lodging(3, 30_000, "visitor"),
    );
    let bid = g.last_id;
    let ev = g
        .when(
            Role::Finance,
            "record-expense",
            expense("lodging", 120_000, Some(bid)),
        )
        .then_single();
    assert!(
        matches!(ev, VisitEvent::ExpenseRecorded(ref p) if p.over_cap && p.cap_fen.unwrap().fen() == 0)
    );
    g.when(
        Role::Finance,
        "record-expense",
        expense("meal", 100, Some(bid)),
    )
    .then_error(ErrorKind::InvalidInput, Some("booking_id"));
}

#[test]
fn v17_a_correction_is_a_reversing_expense() {
    let g = Given::arrived("senior", 2).ok(
        Role::Finance,
        "record-expense",
        expense("car", 12_000, None),
    );
    let orig = g.last_id;
    let mut rev = expense("car", 11_000, None);
    rev["reverses"] = json!(orig);
    g.when(Role::Finance, "record-expense", rev.clone())
        .then_error(ErrorKind::InvalidInput, Some("amount_fen"));
    rev["amount_fen"] = json!(12_000);
    let g = g.ok(Role::Finance, "record-expense", rev.clone());
    assert_eq!(g.state.expenses[0].reversed_by, Some(g.last_id));
    assert_eq!(
        g.state.expenses[0].recorded.amount_fen.fen(),
        12_000,
        "never edited"
    );
    g.when(Role::Finance, "record-expense", rev)
        .then_error(ErrorKind::InvalidInput, Some("reverses"));
}

// ---------------------------------------------------------------- V18

#[test]
fn v18_the_advance_is_issued_before_the_visit_and_settles_to_the_fen() {
    let g = Given::at_level("senior", 2).ok(
        Role::Finance,
        "issue-advance",
        json!({"amount_fen": 100_000}),
    );
    g.when(
        Role::Finance,
        "settle-advance",
        json!({"receipts_fen": 100_000, "cash_returned_fen": 0}),
    )
    .then_rule("V18");
    let g = g
        .ok(Role::Reception, "record-arrival", json!({"at": ARRIVAL}))
        .ok(
            Role::Reception,
            "record-departure",
            json!({"at": DEPARTURE}),
        );
    let e = g
        .when(
            Role::Finance,
            "settle-advance",
            json!({"receipts_fen": 80_000, "cash_returned_fen": 19_999}),
        )
        .then_rule("V18");
    assert!(e.message.contains("999.99 yuan"), "{}", e.message);
    let ev = g.when(
        Role::Finance,
        "settle-advance",
        json!({"receipts_fen": 80_000, "cash_returned_fen": 20_000, "returned_items": ["2 bottles of baijiu"]}),
    ).then_single();
    assert!(matches!(ev, VisitEvent::AdvanceSettled(ref p) if p.returned_items.len() == 1));
    Given::arrived("senior", 2)
        .when(Role::Finance, "issue-advance", json!({"amount_fen": 100}))
        .then_rule("V18");
    Given::departed("senior", 2)
        .when(
            Role::Finance,
            "settle-advance",
            json!({"receipts_fen": 0, "cash_returned_fen": 0}),
        )
        .then_rule("V18");
}

// ---------------------------------------------------------------- V19

#[test]
fn v19_a_visit_is_cancelled_before_departure_with_a_reason_and_keeps_its_expenses() {
    Given::departed("senior", 2)
        .when(Role::Reception, "cancel", json!({"reason": "too late"}))
        .then_rule("V19");
    let g = Given::arrived("senior", 2).ok(
        Role::Finance,
        "record-expense",
        expense("car", 5_000, None),
    );
    g.when(Role::Reception, "cancel", json!({}))
        .then_error(ErrorKind::InvalidInput, Some("reason"));
    let g = g.ok(Role::Reception, "cancel", json!({"reason": "typhoon"}));
    assert_eq!(g.state.stage, Stage::Cancelled);
    assert_eq!(g.state.expenses.len(), 1);
}

// ---------------------------------------------------------------- V20

fn v2_policy() -> Policy {
    let mut p = Policy::default_v1();
    p.version = 2;
    p.effective_from = t("2026-12-01T00:00:00+08:00");
    for l in &mut p.levels {
        l.meals.dinner_cap_fen = Some(reception_domain::Fen::from_yuan(800));
    }
    p
}

#[test]
fn v20_a_visit_is_judged_by_the_version_stamped_at_level_assignment() {
    let book = PolicyBook::from_versions(vec![Policy::default_v1(), v2_policy()]).unwrap();
    // assigned in November under v1: ordinary dinner for 2 capped at 400 even in December
    let g = Given::approved(2).with_policies(book.clone()).ok(
        Role::Reception,
        "assign-level",
        json!({"level": "ordinary"}),
    );
    assert_eq!(g.state.policy_version, Some(1));
    let dec = g.at("2026-12-02T09:00:00+08:00");
    dec.when(Role::Reception, "book-meal", meal("dinner", 2, 40_001))
        .then_rule("V9");
    // assigned in December: v2 is in force, dinner cap 800
    let g2 = Given::approved(2)
        .with_policies(book)
        .at("2026-12-01T00:00:00+08:00");
    let g2 = g2.ok(
        Role::Reception,
        "assign-level",
        json!({"level": "ordinary"}),
    );
    assert_eq!(g2.state.policy_version, Some(2));
    let ev = g2
        .when(Role::Reception, "book-meal", meal("dinner", 2, 80_000))
        .then_single();
    assert!(matches!(ev, VisitEvent::MealBooked(ref p) if p.policy_version == 2 && !p.over_cap));
}

// ---------------------------------------------------------------- V21

#[test]
fn v21_a_closed_or_cancelled_visit_rejects_commands_except_expenses() {
    let cancelled =
        Given::arrived("senior", 2).ok(Role::Reception, "book-meal", meal("dinner", 2, 50_000));
    let bid = cancelled.last_id;
    let cancelled = cancelled
        .ok(
            Role::Finance,
            "record-expense",
            expense("meal", 60_000, Some(bid)),
        )
        .ok(Role::Reception, "cancel", json!({"reason": "typhoon"}));
    let eid = cancelled.state.expenses[0].recorded.expense_id;
    cancelled
        .when(Role::Reception, "book-meal", meal("dinner", 2, 100))
        .then_rule("V21");
    // V31: a late expense (a cancellation fee) is still recorded, marked as such
    let fee = cancelled
        .when(Role::Finance, "record-expense", expense("car", 100, None))
        .then_single();
    assert!(matches!(fee, VisitEvent::ExpenseRecorded(ref p) if p.after_close));
    cancelled
        .when(
            Role::Approver,
            "decide-expense",
            json!({"expense_id": eid, "approved": true}),
        )
        .then_single();
    let closed = Given::departed("senior", 2)
        .ok(
            Role::Reception,
            "return-call",
            json!({"reached": true, "satisfaction": 5}),
        )
        .ok(Role::Reception, "file-summary", summary())
        .ok(Role::Reception, "close", json!({}));
    assert_eq!(closed.state.stage, Stage::Closed);
    closed
        .when(
            Role::Reception,
            "note-preference",
            json!({"subject": "Wang", "kind": "diet", "text": "no pork"}),
        )
        .then_rule("V21");
    closed
        .when(Role::Reception, "close", json!({}))
        .then_rule("V21");
    assert_eq!(next_step(&closed.state, closed.now), None);
}

// ---------------------------------------------------------------- roles and parsing

#[test]
fn roles_follow_the_api_table_and_admin_may_do_everything() {
    let g = Given::approved(1);
    g.when(Role::Requester, "assign-level", json!({"level": "senior"}))
        .then_error(ErrorKind::Forbidden, None);
    g.when(Role::Auditor, "assign-level", json!({"level": "senior"}))
        .then_error(ErrorKind::Forbidden, None);
    g.when(
        Role::Analyst,
        "note-preference",
        json!({"subject": "W", "kind": "diet", "text": "x"}),
    )
    .then_error(ErrorKind::Forbidden, None);
    g.when(Role::Admin, "assign-level", json!({"level": "senior"}))
        .then_single();
    g.when(
        Role::Requester,
        "note-preference",
        json!({"subject": "W", "kind": "diet", "text": "halal"}),
    )
    .then_single();
    g.when(Role::Reception, "issue-advance", json!({"amount_fen": 100}))
        .then_error(ErrorKind::Forbidden, None);
    Given::nothing()
        .when(Role::Frontdesk, "request", request_body(1))
        .then_error(ErrorKind::Forbidden, None);
    for name in VisitCommand::NAMES {
        let cmd = VisitCommand::parse(name, serde_json::Value::Null);
        if let Ok(c) = cmd {
            assert!(c.allowed_roles().contains(&Role::Admin));
            assert!(!c.allowed_roles().contains(&Role::Auditor));
        }
    }
}

#[test]
fn commands_on_a_missing_visit_are_not_found() {
    Given::nothing()
        .when(Role::Reception, "assign-level", json!({"level": "senior"}))
        .then_error(ErrorKind::NotFound, Some("visit"));
    Given::requested(1)
        .when(Role::Requester, "request", request_body(1))
        .then_error(ErrorKind::InvalidState, None);
}

#[test]
fn parse_errors_name_the_field_path_and_unknown_commands_are_not_found() {
    assert_err(
        VisitCommand::parse("fly-to-moon", json!({})),
        ErrorKind::NotFound,
        Some("command"),
    );
    let mut body = request_body(1);
    body["arrival"]["at"] = json!("tomorrow");
    assert_err(
        VisitCommand::parse("request", body),
        ErrorKind::InvalidInput,
        Some("arrival.at"),
    );
    let mut body = request_body(1);
    body["arrival"].as_object_mut().unwrap().remove("at");
    assert_err(
        VisitCommand::parse("request", body),
        ErrorKind::InvalidInput,
        Some("arrival.at"),
    );
    assert_err(
        VisitCommand::parse("book-meal", json!({"meal": "brunch"})),
        ErrorKind::InvalidInput,
        Some("meal"),
    );
    assert_err(
        VisitCommand::parse("request", json!([1])),
        ErrorKind::InvalidInput,
        None,
    );
    assert_eq!(VisitCommand::NAMES.len(), 41);
}

#[test]
fn every_event_type_round_trips_through_its_stored_form_and_has_a_schema() {
    let schemas = <VisitEvent as DomainEvent>::schemas();
    assert_eq!(schemas.len(), VisitEvent::TYPES.len());
    assert_eq!(schemas.len(), 45);
    assert_eq!(<VisitCommand as DomainCommand>::schemas().len(), 41);
    let g = Given::departed("special", 2).ok(
        Role::Reception,
        "return-call",
        json!({"reached": true, "satisfaction": 5, "products": "good"}),
    );
    for e in &g.events {
        let back = VisitEvent::from_stored(e.event_type(), &e.to_data()).unwrap();
        assert_eq!(&back, e);
        // V22, V24 changed the request's and the expense's payloads (upcast from 1)
        let current = match e.event_type() {
            "ReceptionRequested" | "ExpenseRecorded" => 2,
            _ => 1,
        };
        assert_eq!(e.schema(), current, "{}", e.event_type());
    }
    assert!(VisitEvent::from_stored("Nope", &json!({})).is_err());
}
