//! The read side against real sled stores: each projection's answers, idempotence,
//! restart from the checkpoint, the company time zone, CSV, search, phone redaction,
//! and incremental-vs-rebuild equality under concurrent appends.

mod support;

use std::time::Duration;

use reception_bench::synth;
use reception_projections::{rebuild, CostDimension, ReadSide, ReadSideConfig};
use serde_json::json;
use support::*;

const V1: &str = "visit-11111111-1111-4111-8111-111111111111";

/// A senior visit with two meal expenses (one over cap), lodging paid by the visitor,
/// a car, an approval, a rejection and a reversal.
fn cost_scenario(store: &reception_store::Store) {
    append(
        store,
        V1,
        "ReceptionRequested",
        "2026-03-01T10:00:00+08:00",
        request(
            "v1",
            "Huaxin Dealers Ltd",
            "east-sales",
            "2026-03-10T10:00:00+08:00",
            "2026-03-12T10:00:00+08:00",
            2,
            false,
        ),
    );
    append(
        store,
        V1,
        "LevelAssigned",
        "2026-03-01T11:00:00+08:00",
        json!({"level": "senior", "policy_version": 1}),
    );
    append(
        store,
        V1,
        "ExpenseRecorded",
        "2026-03-10T13:00:00+08:00",
        expense(
            "e1",
            "meal",
            40_000,
            "company",
            Some("b1"),
            Some(50_000),
            false,
            None,
        ),
    );
    append(
        store,
        V1,
        "ExpenseRecorded",
        "2026-03-10T20:00:00+08:00",
        expense(
            "e2",
            "meal",
            60_000,
            "company",
            Some("b2"),
            Some(50_000),
            true,
            None,
        ),
    );
    append(
        store,
        V1,
        "ExpenseRecorded",
        "2026-03-11T09:00:00+08:00",
        expense("e3", "lodging", 80_000, "visitor", None, None, false, None),
    );
    append(
        store,
        V1,
        "ExpenseRecorded",
        "2026-03-11T09:30:00+08:00",
        expense(
            "e4",
            "entertainment",
            90_000,
            "company",
            Some("b3"),
            Some(70_000),
            true,
            None,
        ),
    );
    append(
        store,
        V1,
        "ExpenseRecorded",
        "2026-03-12T09:00:00+08:00",
        expense("e5", "car", 30_000, "company", None, None, false, None),
    );
    append(
        store,
        V1,
        "ExpenseApproved",
        "2026-03-13T09:00:00+08:00",
        json!({"expense_id": "e2"}),
    );
    append(
        store,
        V1,
        "ExpenseRejected",
        "2026-03-13T09:05:00+08:00",
        json!({"expense_id": "e4"}),
    );
    // the car expense was wrong: reversed
    append(
        store,
        V1,
        "ExpenseRecorded",
        "2026-04-02T09:00:00+08:00",
        expense(
            "e6",
            "car",
            30_000,
            "company",
            None,
            None,
            false,
            Some("e5"),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_report_totals_split_by_payer_cap_and_decision_with_reversals_netting_out() {
    let (_dir, store) = store();
    cost_scenario(&store);
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    let h = read.spawn();
    assert!(read.wait_for(store.head().0, Duration::from_secs(5)).await);

    let r = read.costs(2026, CostDimension::Category);
    let expected_total = 40_000 + 60_000 + 80_000 + 90_000;
    assert_eq!(r.total_fen, expected_total, "reversed car expense nets out");
    assert_eq!(r.count, 4);
    assert_eq!(r.visitor_paid_fen, 80_000);
    assert_eq!(r.company_paid_fen, expected_total - 80_000);
    assert_eq!(r.over_cap_fen, 150_000);
    assert_eq!(r.over_cap_approved_fen, 60_000);
    assert_eq!(r.over_cap_rejected_fen, 90_000);
    assert_eq!(r.over_cap_pending_fen, 0);
    assert_eq!(r.within_cap_fen, 120_000);
    assert_eq!(r.cap_total_fen, 50_000 + 50_000 + 70_000);
    assert_eq!(r.capped_spent_fen, 40_000 + 60_000 + 90_000);
    assert_eq!(r.cap_utilisation_permille, Some(190_000 * 1000 / 170_000));
    // 2 visitors × 2 days
    assert_eq!(r.visitor_days, 4);
    assert_eq!(r.cost_per_visitor_day_fen, Some(expected_total / 4));
    let car = r.groups.iter().find(|g| g.key == "car").expect("car group");
    assert_eq!((car.total_fen, car.count), (0, 0));
    let meal = r
        .groups
        .iter()
        .find(|g| g.key == "meal")
        .expect("meal group");
    assert_eq!(
        (meal.total_fen, meal.count, meal.over_cap_fen),
        (100_000, 2, 60_000)
    );

    let by_month = read.costs(2026, CostDimension::Month);
    assert_eq!(
        by_month
            .groups
            .iter()
            .map(|g| g.key.joined())
            .collect::<Vec<_>>(),
        vec!["2026-03"],
        "the reversal counts in the original's month"
    );
    let by_customer = read.costs(2026, CostDimension::Customer);
    assert_eq!(by_customer.groups[0].key, "Huaxin Dealers Ltd");
    assert_eq!(
        read.costs(2026, CostDimension::Level).groups[0].key,
        "senior"
    );
    assert_eq!(
        read.costs(2026, CostDimension::Department).groups[0].key,
        "east-sales"
    );
    assert_eq!(
        read.costs(2027, CostDimension::Level)
            .previous_year_total_fen,
        expected_total
    );
    h.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_after_reversal_keeps_the_pair_netted() {
    let (_dir, store) = store();
    append(
        &store,
        V1,
        "ReceptionRequested",
        "2026-03-01T10:00:00+08:00",
        request(
            "v1",
            "Huaxin",
            "east",
            "2026-03-10T10:00:00+08:00",
            "2026-03-11T10:00:00+08:00",
            1,
            false,
        ),
    );
    append(
        &store,
        V1,
        "ExpenseRecorded",
        "2026-03-10T13:00:00+08:00",
        expense(
            "e1",
            "meal",
            70_000,
            "company",
            Some("b1"),
            Some(50_000),
            true,
            None,
        ),
    );
    append(
        &store,
        V1,
        "ExpenseRecorded",
        "2026-03-10T14:00:00+08:00",
        expense(
            "e2",
            "meal",
            70_000,
            "company",
            Some("b1"),
            Some(50_000),
            false,
            Some("e1"),
        ),
    );
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.apply_batch(&all_events(&store)).unwrap();
    let before = read.costs(2026, CostDimension::Level);
    assert_eq!(
        (before.total_fen, before.over_cap_pending_fen, before.count),
        (0, 0, 0)
    );
    append(
        &store,
        V1,
        "ExpenseApproved",
        "2026-03-12T09:00:00+08:00",
        json!({"expense_id": "e1"}),
    );
    read.apply_batch(&all_events(&store)).unwrap();
    let after = read.costs(2026, CostDimension::Level);
    assert_eq!(
        (
            after.total_fen,
            after.over_cap_approved_fen,
            after.over_cap_pending_fen
        ),
        (0, 0, 0)
    );
}

#[test]
fn expense_year_is_decided_by_the_company_time_zone() {
    let (_dir, store) = store();
    append(
        &store,
        V1,
        "ReceptionRequested",
        "2025-12-01T10:00:00+08:00",
        request(
            "v1",
            "Huaxin",
            "east",
            "2025-12-30T10:00:00+08:00",
            "2026-01-02T10:00:00+08:00",
            1,
            false,
        ),
    );
    // 23:30 Shanghai on 31 December, written in UTC: 2025 in Shanghai
    append(
        &store,
        V1,
        "ExpenseRecorded",
        "2025-12-31T15:30:00Z",
        expense("e1", "meal", 10_000, "company", None, None, false, None),
    );
    // 00:30 Shanghai on 1 January, written in UTC: still 2025 in UTC, 2026 in Shanghai
    append(
        &store,
        V1,
        "ExpenseRecorded",
        "2025-12-31T16:30:00Z",
        expense("e2", "meal", 20_000, "company", None, None, false, None),
    );
    let events = all_events(&store);

    let shanghai = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    shanghai.apply_batch(&events).unwrap();
    assert_eq!(shanghai.costs(2025, CostDimension::Month).total_fen, 10_000);
    assert_eq!(shanghai.costs(2026, CostDimension::Month).total_fen, 20_000);
    assert_eq!(
        shanghai.costs(2026, CostDimension::Month).groups[0].key,
        "2026-01"
    );

    let (_dir2, store2) = support::store();
    for e in &events {
        store2.append_replicated(e).unwrap();
    }
    let utc = ReadSide::open(
        &store2,
        ReadSideConfig {
            tz: chrono_tz::UTC,
            ..ReadSideConfig::default()
        },
    )
    .unwrap();
    utc.apply_batch(&events).unwrap();
    assert_eq!(utc.costs(2025, CostDimension::Month).total_fen, 30_000);
    assert_eq!(utc.costs(2026, CostDimension::Month).total_fen, 0);
}

#[test]
fn csv_export_starts_with_a_bom_and_keeps_chinese_names() {
    let (_dir, store) = store();
    append(
        &store,
        V1,
        "ReceptionRequested",
        "2026-03-01T10:00:00+08:00",
        request(
            "v1",
            "华信汽车销售有限公司",
            "east",
            "2026-03-10T10:00:00+08:00",
            "2026-03-11T10:00:00+08:00",
            1,
            false,
        ),
    );
    append(
        &store,
        V1,
        "ExpenseRecorded",
        "2026-03-10T13:00:00+08:00",
        expense("e1", "meal", 12_345, "company", None, None, false, None),
    );
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.apply_batch(&all_events(&store)).unwrap();
    let csv = read.costs_csv(2026);
    assert_eq!(&csv[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.starts_with("year,dimension,key,total_fen"), "{text}");
    assert!(
        text.contains("2026,customer,华信汽车销售有限公司,12345,123.45,12345,0,0,1"),
        "{text}"
    );
}

#[test]
fn applying_a_batch_twice_changes_nothing() {
    let (_dir, store) = store();
    cost_scenario(&store);
    let events = all_events(&store);
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.apply_batch(&events).unwrap();
    let now = utc("2026-03-11T12:00:00+08:00");
    let once = snapshot(&read, now);
    read.apply_batch(&events).unwrap();
    read.apply_batch(&events[3..5]).unwrap();
    assert_eq!(snapshot(&read, now), once);
    assert_eq!(read.applied_seq(), events.len() as u64);
    // and a second handle loading the persisted models answers the same
    let reopened = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    assert_eq!(snapshot(&reopened, now), once);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_from_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let now = utc("2026-11-23T12:00:00+08:00");
    let first_head;
    {
        let store = reception_store::Store::open(&path).unwrap();
        for i in 0..40 {
            for req in synth::visit_requests(7, i, 80, now) {
                store.append_blocking(req).unwrap();
            }
        }
        let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
        let h = read.spawn();
        first_head = store.head().0;
        assert!(read.wait_for(first_head, Duration::from_secs(10)).await);
        h.abort();
        let _ = h.await;
        store.close().unwrap();
    }
    let store = reception_store::Store::open(&path).unwrap();
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    assert_eq!(read.applied_seq(), first_head, "checkpoint persisted");
    for i in 40..80 {
        for req in synth::visit_requests(7, i, 80, now) {
            store.append_blocking(req).unwrap();
        }
    }
    assert_eq!(read.lag(), store.head().0 - first_head);
    let h = read.spawn();
    assert!(read.wait_for(store.head().0, Duration::from_secs(10)).await);
    assert_eq!(read.lag(), 0);
    let resumed = snapshot(&read, now);
    h.abort();
    let _ = h.await;
    rebuild(&store, &ReadSideConfig::default(), None, &mut |_, _| {}).unwrap();
    let rebuilt = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    assert_eq!(snapshot(&rebuilt, now), resumed);
}

#[test]
fn search_forgives_case_spacing_and_punctuation_and_analysts_see_no_phones() {
    let (_dir, store) = store();
    append(
        &store,
        V1,
        "ReceptionRequested",
        "2026-03-01T10:00:00+08:00",
        request(
            "v1",
            "Huaxin Dealers, Ltd",
            "east",
            "2026-03-10T10:00:00+08:00",
            "2026-03-11T10:00:00+08:00",
            1,
            false,
        ),
    );
    append(
        &store,
        "visit-2",
        "ReceptionRequested",
        "2026-05-01T10:00:00+08:00",
        request(
            "v2",
            "HUAXIN  dealers ltd",
            "east",
            "2026-05-10T10:00:00+08:00",
            "2026-05-11T10:00:00+08:00",
            1,
            false,
        ),
    );
    append(
        &store,
        "visit-3",
        "ReceptionRequested",
        "2026-05-01T10:00:00+08:00",
        request(
            "v3",
            "Nordic Motors",
            "export",
            "2026-05-10T10:00:00+08:00",
            "2026-05-11T10:00:00+08:00",
            1,
            false,
        ),
    );
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.apply_batch(&all_events(&store)).unwrap();
    for q in [
        "huaxin dealers",
        "  HuaXin   Dealers  ",
        "huaxin-dealers ltd",
        "HUAXINDEALERS",
    ] {
        let hits = read.search_customers(q);
        assert_eq!(hits.len(), 1, "query {q:?}");
        assert_eq!(hits[0].customer_id, "huaxindealersltd");
        assert_eq!(hits[0].visits, 2, "both spellings are one customer");
    }
    let by_visitor = read.search_customers("wang  LEI");
    assert_eq!(by_visitor.len(), 2);
    assert!(read.search_customers("nothing like it").is_empty());
    let full = read.customer("huaxindealersltd", false).unwrap();
    assert_eq!(full.visitors[0].phone.as_deref(), Some("+86 138 0000 0000"));
    let analyst = read.customer("huaxindealersltd", true).unwrap();
    assert!(analyst.visitors.iter().all(|v| v.phone.is_none()));
    assert!(!serde_json::to_string(&analyst).unwrap().contains("+86"));
    assert!(!serde_json::to_string(&read.search_customers("huaxin"))
        .unwrap()
        .contains("+86"));
}

#[test]
fn customer_profile_remembers_the_visit_and_digests_last_time() {
    let (_dir, store) = store();
    append(
        &store,
        V1,
        "ReceptionRequested",
        "2026-03-01T10:00:00+08:00",
        request(
            "v1",
            "Huaxin",
            "east",
            "2026-03-10T10:00:00+08:00",
            "2026-03-11T10:00:00+08:00",
            1,
            false,
        ),
    );
    append(
        &store,
        V1,
        "LevelAssigned",
        "2026-03-01T11:00:00+08:00",
        json!({"level": "special", "policy_version": 1}),
    );
    append(
        &store,
        V1,
        "StaffAssigned",
        "2026-03-02T11:00:00+08:00",
        json!({"host": "li.na", "accompanying": [{"name": "Zhou", "role": "shareholder"}]}),
    );
    append(
        &store,
        V1,
        "LodgingBooked",
        "2026-03-02T12:00:00+08:00",
        json!({"booking_id": "b1", "hotel": "Jinjiang", "stars": 5, "rooms": 1, "nights": 1, "rate_fen": 50000, "paid_by": "company"}),
    );
    append(
        &store,
        V1,
        "MealBooked",
        "2026-03-02T12:00:00+08:00",
        json!({"booking_id": "b2", "meal": "dinner", "at": "2026-03-10T19:00:00+08:00", "venue": "Jade Garden", "party_size": 1, "budget_fen": 50000}),
    );
    append(
        &store,
        V1,
        "SouvenirPlanned",
        "2026-03-02T12:00:00+08:00",
        json!({"souvenir_id": "s1", "item": "tea set", "unit_cost_fen": 20000, "quantity": 1}),
    );
    append(
        &store,
        V1,
        "CooperationMatterProposed",
        "2026-03-02T12:00:00+08:00",
        json!({"matter_id": "m1", "by": "visitor", "text": "exclusive region"}),
    );
    append(
        &store,
        V1,
        "VisitorsArrived",
        "2026-03-10T10:05:00+08:00",
        json!({"at": "2026-03-10T10:05:00+08:00"}),
    );
    append(
        &store,
        V1,
        "SouvenirHanded",
        "2026-03-11T09:00:00+08:00",
        json!({"souvenir_id": "s1"}),
    );
    append(
        &store,
        V1,
        "VisitorsDeparted",
        "2026-03-11T10:00:00+08:00",
        json!({"at": "2026-03-11T10:00:00+08:00"}),
    );
    append(
        &store,
        V1,
        "ReturnCallDone",
        "2026-03-12T10:00:00+08:00",
        json!({"reached": true, "products": "good", "satisfaction": 4}),
    );
    append(
        &store,
        V1,
        "CustomerPreferenceNoted",
        "2026-03-12T11:00:00+08:00",
        json!({"subject": "Wang Lei", "kind": "diet", "text": "no pork"}),
    );
    append(
        &store,
        "complaint-c1",
        "ComplaintRaised",
        "2026-03-12T12:00:00+08:00",
        json!({"complaint_id": "c1", "visit_id": "11111111-1111-4111-8111-111111111111", "customer": "Huaxin", "severity": "minor", "category": "food", "description": "cold soup"}),
    );
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.apply_batch(&all_events(&store)).unwrap();
    let p = read.customer("huaxin", false).unwrap();
    assert_eq!(p.visits.len(), 1);
    let v = &p.visits[0];
    assert_eq!(v.level.as_deref(), Some("special"));
    assert_eq!(v.host.as_deref(), Some("li.na"));
    assert_eq!(v.accompanying[0]["role"], "shareholder");
    assert_eq!(v.lodging[0].fields.get("hotel").unwrap(), "Jinjiang");
    assert_eq!(v.gifts[0].fields.get("handed").unwrap(), true);
    assert_eq!(v.complaint_ids, vec!["c1".to_string()]);
    assert_eq!(p.preferences[0].text, "no pork");
    let last = p.last_time.unwrap();
    assert_eq!(last.venues, vec!["Jade Garden".to_string()]);
    assert_eq!(last.gifts, vec!["tea set".to_string()]);
    assert_eq!(last.satisfaction, Some(4));
    assert_eq!(
        last.open_issues,
        vec![
            "unconfirmed matter: exclusive region".to_string(),
            "open minor complaint: cold soup".to_string()
        ]
    );
}

#[test]
fn board_shows_stage_flags_next_step_today_complaints_and_people_on_site() {
    let (_dir, store) = store();
    // filed late, arrives today at 10:00 Shanghai
    append(
        &store,
        V1,
        "ReceptionRequested",
        "2026-11-23T06:00:00+08:00",
        request(
            "v1",
            "Huaxin",
            "east",
            "2026-11-23T10:00:00+08:00",
            "2026-11-24T10:00:00+08:00",
            2,
            true,
        ),
    );
    append(
        &store,
        V1,
        "LevelAssigned",
        "2026-11-23T06:10:00+08:00",
        json!({"level": "senior", "policy_version": 1}),
    );
    append(
        &store,
        V1,
        "StaffAssigned",
        "2026-11-23T06:20:00+08:00",
        json!({"host": "li.na", "accompanying": []}),
    );
    append(
        &store,
        V1,
        "CarDispatched",
        "2026-11-23T06:30:00+08:00",
        json!({"car_id": "car1", "leg": "pickup", "vehicle_class": "suv", "ready_at": "2026-11-23T09:50:00+08:00", "place": "airport"}),
    );
    append(
        &store,
        V1,
        "MealBooked",
        "2026-11-23T06:40:00+08:00",
        json!({"booking_id": "b1", "meal": "lunch", "at": "2026-11-23T12:00:00+08:00", "venue": "Jade Garden", "party_size": 2, "budget_fen": 30000}),
    );
    append(
        &store,
        V1,
        "MealBooked",
        "2026-11-23T06:41:00+08:00",
        json!({"booking_id": "b2", "meal": "dinner", "at": "2026-11-24T19:00:00+08:00", "venue": "Peony", "party_size": 2, "budget_fen": 30000}),
    );
    append(
        &store,
        V1,
        "ExpenseRecorded",
        "2026-11-23T06:50:00+08:00",
        expense(
            "e1",
            "meal",
            90_000,
            "company",
            Some("b1"),
            Some(50_000),
            true,
            None,
        ),
    );
    // a closed visit leaves the board
    append(
        &store,
        "visit-2",
        "ReceptionRequested",
        "2026-11-01T06:00:00+08:00",
        request(
            "v2",
            "Nordic",
            "east",
            "2026-11-05T10:00:00+08:00",
            "2026-11-06T10:00:00+08:00",
            1,
            false,
        ),
    );
    append(
        &store,
        "visit-2",
        "VisitClosed",
        "2026-11-10T06:00:00+08:00",
        json!({}),
    );
    append(
        &store,
        "complaint-c1",
        "ComplaintRaised",
        "2026-11-23T08:00:00+08:00",
        json!({"complaint_id": "c1", "customer": "Nordic", "severity": "major", "category": "transport", "description": "no car"}),
    );
    append(
        &store,
        "frontdesk-f1",
        "VisitorSignedIn",
        "2026-11-23T08:30:00+08:00",
        json!({"sign_in_id": "f1", "name": "Chen Jun", "party_size": 3, "reason": "delivery", "host": "sun.yue", "at": "2026-11-23T08:30:00+08:00"}),
    );
    append(
        &store,
        "frontdesk-f2",
        "VisitorSignedIn",
        "2026-11-23T08:35:00+08:00",
        json!({"sign_in_id": "f2", "name": "Gone Already", "party_size": 1, "reason": "x", "host": "y", "at": "2026-11-23T08:35:00+08:00"}),
    );
    append(
        &store,
        "frontdesk-f2",
        "VisitorSignedOut",
        "2026-11-23T08:45:00+08:00",
        json!({"at": "2026-11-23T08:45:00+08:00"}),
    );
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.apply_batch(&all_events(&store)).unwrap();

    let now = utc("2026-11-23T09:00:00+08:00");
    let b = read.board(now);
    assert_eq!(b.visits.len(), 1);
    let v = &b.visits[0];
    assert_eq!(v.stage, "level_assigned");
    assert_eq!(v.host.as_deref(), Some("li.na"));
    // plan, readiness (due at local midnight) and car (ready 9:50 > 9:45)
    for f in [
        "late_request",
        "readiness_overdue",
        "car_late",
        "over_cap_pending",
    ] {
        assert!(
            v.flags.contains(&f.to_string()),
            "{f} missing from {:?}",
            v.flags
        );
    }
    assert!(
        !v.flags.contains(&"plan_overdue".to_string()),
        "{:?}",
        v.flags
    );
    // the domain's next step: no plan drafted yet, due 24 h after the request
    assert_eq!(v.next_step, "draft_plan");
    assert_eq!(v.next_due, Some(t("2026-11-24T06:00:00+08:00")));
    // V26: the preparation tasks due today are on the timeline too (the welcome sign
    // by the readiness deadline, the confirmation call 1 h before arrival), and the
    // welcome sign is overdue
    assert_eq!(
        b.today
            .iter()
            .map(|t| (t.kind.as_str(), t.title.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("task", "welcome_sign"),
            ("task", "confirmation_call"),
            ("pickup", "suv"),
            ("arrival", "MU5101"),
            ("meal", "lunch")
        ]
    );
    assert!(v.flags.contains(&"task_overdue".to_string()));
    assert_eq!(b.complaints.len(), 1);
    let report = b.complaints[0]
        .deadlines
        .iter()
        .find(|d| d.item == "complaint_report")
        .unwrap();
    assert!(
        report.overdue,
        "major complaint not reported within 10 minutes"
    );
    assert_eq!(
        b.on_site
            .iter()
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Chen Jun"]
    );

    // "today" is Shanghai's date: at 2026-11-23T17:00Z it is already the 24th there
    let tomorrow = read.board(utc("2026-11-24T01:00:00+08:00"));
    assert_eq!(
        tomorrow
            .today
            .iter()
            .map(|t| t.kind.as_str())
            .collect::<Vec<_>>(),
        vec!["departure", "meal"]
    );
    assert!(tomorrow.visits[0]
        .flags
        .contains(&"plan_overdue".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn board_changes_are_announced() {
    let (_dir, store) = store();
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    let mut rx = read.changes();
    let h = read.spawn();
    // the board computed (and cached) before the change must not outlive it
    assert!(read
        .board(utc("2026-11-23T07:00:00+08:00"))
        .visits
        .is_empty());
    let seq = append(
        &store,
        V1,
        "ReceptionRequested",
        "2026-11-23T06:00:00+08:00",
        request(
            "v1",
            "Huaxin",
            "east",
            "2026-11-25T10:00:00+08:00",
            "2026-11-26T10:00:00+08:00",
            1,
            false,
        ),
    );
    let got = tokio::time::timeout(Duration::from_secs(1), rx.recv())
        .await
        .expect("within one second")
        .unwrap();
    assert_eq!(got, seq);
    assert_eq!(read.board(utc("2026-11-23T07:00:00+08:00")).visits.len(), 1);
    assert!(
        !read.wait_for(seq + 1, Duration::from_millis(50)).await,
        "nothing at seq+1 yet"
    );
    h.abort();
}

#[test]
fn complaints_list_and_monthly_analysis() {
    let (_dir, store) = store();
    append(
        &store,
        V1,
        "ReceptionRequested",
        "2026-03-01T10:00:00+08:00",
        request(
            "v1",
            "Huaxin",
            "east-sales",
            "2026-03-10T10:00:00+08:00",
            "2026-03-11T10:00:00+08:00",
            1,
            false,
        ),
    );
    let vid = "11111111-1111-4111-8111-111111111111";
    // minor, analysed in time, feedback in time, resolved after 2 days, return visit done
    append(
        &store,
        "complaint-a",
        "ComplaintRaised",
        "2026-03-12T09:00:00+08:00",
        json!({"complaint_id": "a", "visit_id": vid, "customer": "Huaxin", "severity": "minor", "category": "food", "description": "cold"}),
    );
    append(
        &store,
        "complaint-a",
        "ComplaintAssigned",
        "2026-03-12T09:10:00+08:00",
        json!({"department": "catering", "assignee": "x"}),
    );
    append(
        &store,
        "complaint-a",
        "ComplaintAnalysed",
        "2026-03-12T09:40:00+08:00",
        json!({"analysis": "x"}),
    );
    append(
        &store,
        "complaint-a",
        "ComplaintFeedbackGiven",
        "2026-03-12T15:00:00+08:00",
        json!({"text": "x"}),
    );
    append(
        &store,
        "complaint-a",
        "ComplaintResolved",
        "2026-03-14T09:00:00+08:00",
        json!({"resolution": "x"}),
    );
    append(
        &store,
        "complaint-a",
        "ComplaintReturnVisitDone",
        "2026-03-14T12:00:00+08:00",
        json!({"mode": "phone"}),
    );
    // major, reported late, no solution, unassigned: department from the visit
    append(
        &store,
        "complaint-b",
        "ComplaintRaised",
        "2026-03-31T23:00:00+08:00",
        json!({"complaint_id": "b", "visit_id": vid, "customer": "Huaxin", "severity": "major", "category": "transport", "description": "no car"}),
    );
    append(
        &store,
        "complaint-b",
        "ComplaintReported",
        "2026-03-31T23:30:00+08:00",
        json!({"to": "head"}),
    );
    // minor, escalated automatically after 10 days; raised in April local time
    append(
        &store,
        "complaint-c",
        "ComplaintRaised",
        "2026-03-31T16:30:00Z",
        json!({"complaint_id": "c", "customer": "Nordic", "severity": "minor", "category": "food", "description": "slow"}),
    );
    append(
        &store,
        "complaint-c",
        "ComplaintEscalated",
        "2026-04-11T01:00:00+08:00",
        json!({"reason": "C4", "automatic": true, "from": "minor", "to": "major"}),
    );
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.apply_batch(&all_events(&store)).unwrap();
    let now = utc("2026-04-20T00:00:00+08:00");

    let open = read.complaints(true, now);
    assert_eq!(
        open.iter()
            .map(|c| c.complaint.complaint_id.as_str())
            .collect::<Vec<_>>(),
        vec!["b", "c"]
    );
    assert_eq!(read.complaints(false, now).len(), 3);
    assert_eq!(open[1].complaint.severity, "major");

    let march = read.complaint_report(2026, 3, now);
    assert_eq!(march.total, 2);
    assert_eq!(march.by_severity.get("minor"), Some(&1));
    assert_eq!(march.by_severity.get("major"), Some(&1));
    assert_eq!(march.by_department.get("catering"), Some(&1));
    assert_eq!(march.by_department.get("east-sales"), Some(&1));
    // the domain's clocks (complaint_clock_deadlines): a: feedback, analysis, C4 (met by
    // resolving within ten days), return visit, all on time (4); b: report late, solution
    // overdue (0 of 2)
    assert_eq!((march.deadlines_due, march.deadlines_met_on_time), (6, 4));
    assert_eq!(march.deadline_compliance_permille, Some(666));
    assert_eq!(
        (
            march.resolved,
            march.return_visits_done,
            march.return_visit_rate_permille
        ),
        (1, 1, Some(1000))
    );
    assert_eq!(march.mean_time_to_resolve_secs, Some(2 * 24 * 3600));

    let april = read.complaint_report(2026, 4, now);
    assert_eq!((april.total, april.escalated), (1, 1));
    assert_eq!(april.by_department.get("unassigned"), Some(&1));
}

/// The key property: projections built incrementally while events arrive answer
/// exactly as projections rebuilt from scratch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_build_under_concurrent_appends_equals_a_rebuild() {
    let (_dir, store) = store();
    let now = chrono::Utc::now();
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    let follower = read.spawn();
    let writer = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || synth::populate(&store, 300, 42, now).unwrap())
    };
    // read while writing, so that batches are cut at arbitrary places
    let mut reads = 0;
    while !writer.is_finished() {
        let _ = read.board(now);
        let _ = read.costs(2025, CostDimension::Customer);
        reads += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let appended = writer.await.unwrap();
    assert!(appended > 5_000, "only {appended} events");
    assert!(reads > 0);
    assert!(read.wait_for(store.head().0, Duration::from_secs(20)).await);
    let incremental = snapshot(&read, now);
    follower.abort();
    let _ = follower.await;

    // the answers are not trivial
    let costs = read.costs(2025, CostDimension::Level);
    assert!(costs.total_fen > 0 && costs.groups.len() == 3, "{costs:?}");
    assert!(read.complaints(false, now).len() > 5);

    // rebuild into the same read models (cleared) ...
    let mut calls = 0;
    let mut last = (0, 0);
    rebuild(
        &store,
        &ReadSideConfig::default(),
        None,
        &mut |done, total| {
            calls += 1;
            last = (done, total);
        },
    )
    .unwrap();
    assert!(calls >= 2);
    assert_eq!(last, (store.head().0, store.head().0));
    let rebuilt = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    let again = snapshot(&rebuilt, now);
    assert!(again == incremental, "rebuild differs");

    // ... and into a fresh directory holding the same (deterministic) events, appended
    // sequentially this time
    let (_dir2, copy) = support::store();
    let c = copy.clone();
    let copied = tokio::task::spawn_blocking(move || synth::populate(&c, 300, 42, now).unwrap())
        .await
        .unwrap();
    assert_eq!(copied, appended);
    let fresh = ReadSide::open(&copy, ReadSideConfig::default()).unwrap();
    fresh.rebuild(None, &mut |_, _| {}).unwrap();
    assert_eq!(snapshot(&fresh, now), incremental);

    // a single projection can be rebuilt alone
    rebuild(
        &store,
        &ReadSideConfig::default(),
        Some("costs"),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(
        snapshot(
            &ReadSide::open(&store, ReadSideConfig::default()).unwrap(),
            now
        ),
        incremental
    );
    assert!(matches!(
        rebuild(
            &store,
            &ReadSideConfig::default(),
            Some("nope"),
            &mut |_, _| {}
        ),
        Err(reception_projections::ProjectionError::UnknownProjection(_))
    ));
}

/// The log of `store` copied into a fresh store and followed there incrementally: the
/// reference an online rebuild must equal.
async fn incremental_copy(
    store: &reception_store::Store,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let (_dir, copy) = support::store();
    let log: Vec<_> = store
        .read_all_raw(1, usize::MAX)
        .collect::<Result<_, _>>()
        .unwrap();
    for run in log.chunks(500) {
        copy.append_replicated_batch(run).unwrap();
    }
    // batch by batch, whatever the gap
    let cfg = ReadSideConfig {
        bulk_catch_up_min: u64::MAX,
        ..ReadSideConfig::default()
    };
    let read = ReadSide::open(&copy, cfg).unwrap();
    let follower = read.spawn();
    assert!(read.wait_for(copy.head().0, Duration::from_secs(30)).await);
    let snap = snapshot(&read, now);
    follower.abort();
    let _ = follower.await;
    snap
}

/// A read side far behind the log (here: never applied anything) catches up by a
/// rebuild, which swaps in the other keyspace generation, and then answers exactly as
/// one that followed batch by batch; later appends are followed as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_side_far_behind_catches_up_by_a_rebuild_and_answers_the_same() {
    let (_dir, store) = store();
    let now = chrono::Utc::now();
    let s = store.clone();
    let appended = tokio::task::spawn_blocking(move || synth::populate(&s, 120, 21, now).unwrap())
        .await
        .unwrap();
    assert!(appended > 2_000, "only {appended} events");
    let active = store.read_model("read-side.active").unwrap();
    let cfg = ReadSideConfig {
        bulk_catch_up_min: 1_000,
        ..ReadSideConfig::default()
    };
    assert!(reception_projections::bulk_catch_up(0, appended, 1_000));
    assert!(!reception_projections::bulk_catch_up(
        appended - 999,
        appended,
        1_000
    ));
    // a gap over the minimum but under a fifth of the log is followed batch by batch
    assert!(!reception_projections::bulk_catch_up(
        98 * appended,
        100 * appended,
        appended
    ));
    let read = ReadSide::open(&store, cfg).unwrap();
    let before = active.get(b"board").unwrap();
    let follower = read.spawn();
    assert!(read.wait_for(store.head().0, Duration::from_secs(30)).await);
    let after = active.get(b"board").unwrap();
    assert_ne!(
        before, after,
        "caught up by a rebuild into the other generation"
    );
    assert_eq!(snapshot(&read, now), incremental_copy(&store, now).await);
    // and then it follows new appends batch by batch
    let s = store.clone();
    tokio::task::spawn_blocking(move || synth::populate(&s, 10, 22, now).unwrap())
        .await
        .unwrap();
    assert!(read.wait_for(store.head().0, Duration::from_secs(30)).await);
    assert_eq!(active.get(b"board").unwrap(), after, "no second rebuild");
    assert_eq!(snapshot(&read, now), incremental_copy(&store, now).await);
    follower.abort();
    let _ = follower.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_rebuild_keeps_answering_while_appends_continue_then_swaps_in_an_equal_model() {
    let (_dir, store) = store();
    let now = chrono::Utc::now();
    let s = store.clone();
    tokio::task::spawn_blocking(move || synth::populate(&s, 150, 7, now).unwrap())
        .await
        .unwrap();
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    let follower = read.spawn();
    assert!(read.wait_for(store.head().0, Duration::from_secs(30)).await);
    let customers_before = read.search_customers("").len();
    assert!(customers_before > 20);

    // more visits are appended while the rebuild runs
    let writer = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || synth::populate(&store, 150, 8, now).unwrap())
    };
    let rebuilding = {
        let read = read.clone();
        tokio::task::spawn_blocking(move || {
            let mut calls = 0u64;
            read.rebuild(None, &mut |_, _| calls += 1).map(|()| calls)
        })
    };
    // queries answer throughout, and never from a half-built model: customers are only
    // ever added, so their number never goes down
    let mut seen = customers_before;
    let mut queries = 0;
    while !rebuilding.is_finished() || !writer.is_finished() {
        let n = read.search_customers("").len();
        assert!(
            n >= seen,
            "{n} customers after {seen}: a half-built model was served"
        );
        seen = n;
        let _ = read.board(now);
        let _ = read.costs(2025, CostDimension::Level);
        queries += 1;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(queries > 0);
    assert!(rebuilding.await.unwrap().unwrap() >= 2);
    writer.await.unwrap();
    // the follower kept applying to the served (new) models
    assert!(read.wait_for(store.head().0, Duration::from_secs(30)).await);
    let online = snapshot(&read, now);
    follower.abort();
    let _ = follower.await;
    assert!(read.search_customers("").len() > customers_before);
    assert!(
        online == incremental_copy(&store, now).await,
        "online rebuild differs"
    );
    // the swap is on disk: a reopened read side serves the rebuilt models
    let reopened = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    assert!(snapshot(&reopened, now) == online, "reopened differs");
    // a second rebuild switches back to the other keyspace, with the same answers
    reopened.rebuild(Some("archive"), &mut |_, _| {}).unwrap();
    assert!(snapshot(&reopened, now) == online);
    let again = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    assert!(snapshot(&again, now) == online);
}

#[test]
fn a_shadow_left_by_a_crashed_rebuild_is_never_served_and_is_cleared_by_the_next() {
    let (_dir, store) = store();
    let now = chrono::Utc::now();
    synth::populate(&store, 40, 3, now).unwrap();
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.rebuild(None, &mut |_, _| {}).unwrap();
    let good = snapshot(&read, now);
    drop(read);
    // a rebuild that crashed while writing its shadow keyspaces: some documents and a
    // checkpoint are there, but the switch never happened
    for shadow in ["board.2", "costs.2", "archive.2", "complaints.2"] {
        let rm = store.read_model(shadow).unwrap();
        rm.commit(
            store.head().0,
            vec![(
                b"v/bogus".to_vec(),
                Some(b"{\"customer\":\"ghost\"}".to_vec()),
            )],
        )
        .unwrap();
    }
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    assert!(snapshot(&read, now) == good, "a shadow keyspace was served");
    read.rebuild(None, &mut |_, _| {}).unwrap();
    assert!(snapshot(&read, now) == good);
    assert!(
        snapshot(
            &ReadSide::open(&store, ReadSideConfig::default()).unwrap(),
            now
        ) == good
    );
    // the first rebuild's keyspaces (generation 1) are emptied once replaced
    assert_eq!(
        store.read_model("board.1").unwrap().checkpoint().unwrap(),
        0
    );
}

#[test]
fn repeated_rebuilds_keep_nothing_of_the_replaced_generation_and_write_no_blob_files() {
    let (_dir, store) = store();
    let now = chrono::Utc::now();
    // enough visits that packs of 256 archive documents (the old layout) exceed sled's
    // inline limit and become blob files
    synth::populate(&store, 600, 9, now).unwrap();
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.rebuild(None, &mut |_, _| {}).unwrap();
    let good = snapshot(&read, now);
    let active = store.read_model("read-side.active").unwrap();
    for round in 0..4 {
        read.rebuild(None, &mut |_, _| {}).unwrap();
        assert!(
            snapshot(&read, now) == good,
            "round {round}: answers changed"
        );
        for name in ["board", "costs", "archive", "complaints"] {
            let serving = String::from_utf8(active.get(name.as_bytes()).unwrap().unwrap()).unwrap();
            let other = if serving == format!("{name}.1") {
                format!("{name}.2")
            } else {
                format!("{name}.1")
            };
            let served = store.read_model(&serving).unwrap();
            assert!(served.scan_prefix(b"").count() > 0, "{serving} is served");
            assert_eq!(served.checkpoint().unwrap(), store.head().0);
            let replaced = store.read_model(&other).unwrap();
            assert_eq!(
                (
                    replaced.scan_prefix(b"").count(),
                    replaced.checkpoint().unwrap()
                ),
                (0, 0),
                "round {round}: {other} keeps the replaced generation"
            );
        }
        // sled 0.34 writes a leaf larger than an eighth of a segment as a blob file
        // and does not always remove it when the leaf is replaced: the read models'
        // records are kept small enough that no leaf becomes one
        let blobs = std::fs::read_dir(store.path().join("blobs"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(blobs, 0, "round {round}: blob files");
    }
}

#[test]
fn c2_c3_c4_c5_complaint_clocks_are_the_domains_deadlines_of_the_same_events() {
    use reception_domain::complaint::{complaint_deadlines, Complaint, ComplaintEvent};
    use reception_domain::{Aggregate, DomainEvent};

    let (_dir, store) = store();
    let now = chrono::Utc::now();
    synth::populate(&store, 400, 11, now).unwrap();
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.rebuild(None, &mut |_, _| {}).unwrap();
    let fixed = now.fixed_offset();
    let views = read.complaints(false, now);
    let mut compared = 0;
    for name in store.streams("complaint-") {
        let name = name.unwrap();
        let mut domain = Complaint::default();
        for env in store.read_stream(&name, 1, None) {
            let env = env.unwrap();
            let event = ComplaintEvent::from_stored(&env.event_type, &env.data).unwrap();
            domain = domain.evolve(&event);
        }
        let id = name.strip_prefix("complaint-").unwrap();
        let view = views
            .iter()
            .find(|v| v.complaint.complaint_id == id)
            .expect("every complaint is listed");
        assert_eq!(
            view.deadlines,
            complaint_deadlines(&domain, fixed),
            "{name}"
        );
        // also on the board, for the open ones
        compared += 1;
    }
    assert!(compared > 10, "only {compared} complaints");
    let board = read.board(now);
    for c in &board.complaints {
        let listed = views
            .iter()
            .find(|v| v.complaint.complaint_id == c.complaint.complaint_id)
            .unwrap();
        assert_eq!(c.deadlines, listed.deadlines);
    }
}

/// A visit stream named after `n`, requested at `at` (payload `requested_at` = the
/// envelope's time, as the app writes it) with the given `needs`; payloads are the
/// domain's, so the stream folds through its `evolve`.
fn step_visit(
    store: &reception_store::Store,
    n: u32,
    at: &str,
    arrival: &str,
    departure: &str,
    needs: serde_json::Value,
) -> String {
    let visit_id = format!("00000000-0000-4000-8000-{n:012}");
    let stream = format!("visit-{visit_id}");
    append(
        store,
        &stream,
        "ReceptionRequested",
        at,
        json!({
            "visit_id": visit_id, "requested_at": at, "late": false,
            "customer": {"company": format!("Step Co {n}"), "country": "CN", "foreign": false},
            "department": "east-sales", "visitors": [{"name": "Wang Lei", "title": "GM", "phone": "+86 138 0000 0000"}],
            "headcount": 1, "purpose": "renewal",
            "arrival": {"at": arrival, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport"},
            "departure": {"at": departure, "mode": "train", "number": "G7", "place": "station", "arrives_home_at": null},
            "needs": needs, "expedited": null
        }),
    );
    stream
}

/// The domain payload of `event_type` at `at` for the step scenarios.
fn step_event(event_type: &str, at: &str, n: u32) -> serde_json::Value {
    let id = |k: u32| format!("00000000-0000-4000-9000-{:012}", n * 10 + k);
    match event_type {
        "LevelAssigned" => json!({"level": "senior", "policy_version": 1, "assigned_at": at}),
        "PlanDrafted" => json!({"items": [], "draft_no": 1, "drafted_at": at}),
        "PlanApproved" => {
            json!({"approved": true, "comments": null, "draft_no": 1, "reviewed_at": at})
        }
        "PlanReturned" => {
            json!({"approved": false, "comments": "more detail", "draft_no": 1, "reviewed_at": at})
        }
        "StaffAssigned" => {
            json!({"host": "li.na", "accompanying": [], "override": null, "assigned_at": at})
        }
        "ReadinessConfirmed" => json!({"notes": null, "confirmed_at": at, "late": false}),
        "PickupUnavailable" => json!({"leg": "pickup", "advised_transport": "taxi"}),
        "DropoffUnavailable" => json!({"leg": "dropoff", "advised_transport": "metro"}),
        "VisitorsArrived" | "VisitorsDeparted" => json!({"at": at}),
        "ReturnCallDone" => {
            json!({"attempt_id": id(1), "reached": true, "unreachable": false, "products": "good",
            "corporate_image": "professional", "reception": "warm", "satisfaction": 4, "at": at})
        }
        "SummaryFiled" => {
            json!({"results": "renewed", "outcomes": null, "opinions": null, "recipients": ["sales"],
            "to_general_manager": false, "filed_at": at})
        }
        "OverCapExpense" => {
            json!({"expense_id": id(2), "category": "car", "amount_fen": 90_000, "paid_by": "company",
            "receipt_no": "R1", "booking_id": null, "reverses": null, "cap_fen": 50_000, "over_cap": true,
            "level": "senior", "policy_version": 1, "recorded_at": at})
        }
        "Reversal" => {
            json!({"expense_id": id(3), "category": "car", "amount_fen": 90_000, "paid_by": "company",
            "receipt_no": "R1-REV", "booking_id": null, "reverses": id(2), "cap_fen": 50_000, "over_cap": false,
            "level": "senior", "policy_version": 1, "recorded_at": at})
        }
        "SouvenirPlanned" => {
            json!({"souvenir_id": id(4), "item": "tea set", "unit_cost_fen": 20_000,
            "quantity": 1, "total_fen": 20_000})
        }
        "AdvanceIssued" => json!({"amount_fen": 100_000, "issued_at": at}),
        "AdvanceSettled" => {
            json!({"advance_fen": 100_000, "receipts_fen": 80_000, "cash_returned_fen": 20_000,
            "returned_items": [], "settled_at": at})
        }
        other => panic!("no step event {other}"),
    }
}

/// A visit at each step, above all those synth's streams seldom or never stop at: a
/// returned plan, no host, a needed pickup or drop-off without a car, cars recorded
/// as unavailable, an unhanded souvenir, a reversed over-cap expense, an open and a
/// settled advance.
fn step_scenarios(store: &reception_store::Store) {
    let prepared = [
        ("LevelAssigned", "2026-06-01T10:00:00+08:00"),
        ("PlanDrafted", "2026-06-01T12:00:00+08:00"),
        ("PlanApproved", "2026-06-01T14:00:00+08:00"),
        ("StaffAssigned", "2026-06-02T10:00:00+08:00"),
        ("ReadinessConfirmed", "2026-06-09T10:00:00+08:00"),
    ];
    let followed_up = [
        ("VisitorsArrived", "2026-06-10T10:00:00+08:00"),
        ("VisitorsDeparted", "2026-06-12T10:00:00+08:00"),
        ("ReturnCallDone", "2026-06-13T10:00:00+08:00"),
        ("SummaryFiled", "2026-06-13T12:00:00+08:00"),
    ];
    let both = json!({"pickup": true, "dropoff": true});
    let scenarios: Vec<(serde_json::Value, Vec<(&str, &str)>)> = vec![
        // assign_level
        (json!({}), vec![]),
        // review_plan
        (json!({}), prepared[..2].to_vec()),
        // draft_plan again, due by arrival
        (
            json!({}),
            vec![
                prepared[0],
                prepared[1],
                ("PlanReturned", "2026-06-01T14:00:00+08:00"),
            ],
        ),
        // assign_staff
        (json!({}), prepared[..3].to_vec()),
        // dispatch_pickup
        (both.clone(), prepared.to_vec()),
        // record_arrival: no car for the pickup
        (
            both.clone(),
            [
                &prepared[..],
                &[("PickupUnavailable", "2026-06-09T11:00:00+08:00")],
            ]
            .concat(),
        ),
        // dispatch_dropoff
        (
            both.clone(),
            [
                &prepared[..],
                &[
                    ("PickupUnavailable", "2026-06-09T11:00:00+08:00"),
                    followed_up[0],
                ],
            ]
            .concat(),
        ),
        // record_departure: no car for the drop-off
        (
            both.clone(),
            [
                &prepared[..],
                &[
                    ("PickupUnavailable", "2026-06-09T11:00:00+08:00"),
                    followed_up[0],
                    ("DropoffUnavailable", "2026-06-10T11:00:00+08:00"),
                ],
            ]
            .concat(),
        ),
        // hand_souvenir
        (
            json!({}),
            [
                &prepared[..],
                &[("SouvenirPlanned", "2026-06-09T11:00:00+08:00")],
                &followed_up[..1],
            ]
            .concat(),
        ),
        // return_call
        (json!({}), [&prepared[..], &followed_up[..2]].concat()),
        // file_summary
        (json!({}), [&prepared[..], &followed_up[..3]].concat()),
        // decide_expense
        (
            json!({}),
            [
                &prepared[..],
                &[("OverCapExpense", "2026-06-11T10:00:00+08:00")],
                &followed_up[..],
            ]
            .concat(),
        ),
        // settle_advance: the over-cap expense was reversed, so no decision is due
        (
            json!({}),
            [
                &prepared[..],
                &[
                    ("AdvanceIssued", "2026-06-09T12:00:00+08:00"),
                    ("OverCapExpense", "2026-06-11T10:00:00+08:00"),
                    ("Reversal", "2026-06-11T11:00:00+08:00"),
                ],
                &followed_up[..],
            ]
            .concat(),
        ),
        // close
        (
            json!({}),
            [
                &prepared[..],
                &[("AdvanceIssued", "2026-06-09T12:00:00+08:00")],
                &followed_up[..],
                &[("AdvanceSettled", "2026-06-13T15:00:00+08:00")],
            ]
            .concat(),
        ),
    ];
    for (n, (needs, events)) in scenarios.into_iter().enumerate() {
        let n = n as u32 + 1;
        let stream = step_visit(
            store,
            n,
            "2026-06-01T09:00:00+08:00",
            "2026-06-10T10:00:00+08:00",
            "2026-06-12T10:00:00+08:00",
            needs,
        );
        for (ty, at) in events {
            let stored = match ty {
                "PlanApproved" | "PlanReturned" => "PlanReviewed",
                "PickupUnavailable" | "DropoffUnavailable" => "CarUnavailable",
                "OverCapExpense" | "Reversal" => "ExpenseRecorded",
                other => other,
            };
            append(store, &stream, stored, at, step_event(ty, at, n));
        }
    }
}

#[test]
fn board_next_step_and_due_are_the_domains_next_step_of_the_same_events() {
    use reception_domain::deadlines;
    use reception_domain::visit::{upcast, Visit, VisitEvent};
    use reception_domain::{Aggregate, DomainEvent};

    let (_dir, store) = store();
    // a fixed instant inside synth's three years, so that visits are open at every
    // stage whenever the test runs
    let now = utc("2026-06-15T12:00:00+08:00");
    synth::populate(&store, 1500, 5, now).unwrap();
    step_scenarios(&store);
    let fold = |stream: &str| {
        let mut visit = Visit::default();
        for env in store.read_stream(stream, 1, None) {
            let env = env.unwrap();
            // the store is opened without the service's upcaster: upcast as it would
            let (_, data) = upcast(&env.event_type, env.schema, env.data);
            let event = VisitEvent::from_stored(&env.event_type, &data).unwrap();
            visit = visit.evolve(&event);
        }
        visit
    };
    let mut open = 0;
    for name in store.streams("visit-") {
        open += usize::from(!fold(&name.unwrap()).is_finished());
    }
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.rebuild(None, &mut |_, _| {}).unwrap();
    let board = read.board(now);
    assert_eq!(board.visits.len(), open, "every open visit is on the board");
    let fixed = now.fixed_offset();
    let mut compared = std::collections::BTreeMap::<String, usize>::new();
    for row in &board.visits {
        let visit = fold(&format!("visit-{}", row.visit_id));
        let (step, due) = deadlines::next_step(&visit, fixed).expect("an open visit");
        assert_eq!(
            (row.next_step.as_str(), row.next_due),
            (step.as_str(), due),
            "{}",
            row.visit_id
        );
        *compared.entry(step).or_default() += 1;
    }
    // every step of the domain's vocabulary, most of them more than once
    for step in [
        "assign_level",
        "draft_plan",
        "review_plan",
        "assign_staff",
        "confirm_readiness",
        "dispatch_pickup",
        "record_arrival",
        "dispatch_dropoff",
        "hand_souvenir",
        "record_departure",
        "return_call",
        "file_summary",
        "decide_expense",
        "settle_advance",
        "close",
    ] {
        assert!(
            compared.contains_key(step),
            "{step} not compared: {compared:?}"
        );
    }
    assert!(compared.values().sum::<usize>() >= 30, "{compared:?}");
    // the same rows from the persisted documents, read back by a restarted read side
    drop(read);
    let reopened = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    assert_eq!(reopened.board(now).visits, board.visits);
}

/// V17: a correction is a reversing expense that references the original; a reversed
/// over-cap expense waits for no decision, so the board drops its `over_cap_pending`
/// flag as the domain's `visit_flags` does.
#[test]
fn v17_a_reversed_over_cap_expense_is_no_longer_pending_on_the_board() {
    use reception_domain::deadlines;
    use reception_domain::visit::{upcast, Visit, VisitEvent};
    use reception_domain::{Aggregate, DomainEvent};

    let (_dir, store) = store();
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    let stream = step_visit(
        &store,
        77,
        "2026-06-01T09:00:00+08:00",
        "2026-06-10T10:00:00+08:00",
        "2026-06-12T10:00:00+08:00",
        json!({}),
    );
    let at = "2026-06-10T12:00:00+08:00";
    append(
        &store,
        &stream,
        "LevelAssigned",
        at,
        step_event("LevelAssigned", at, 77),
    );
    append(
        &store,
        &stream,
        "ExpenseRecorded",
        at,
        step_event("OverCapExpense", at, 77),
    );
    let now = utc("2026-06-10T13:00:00+08:00");
    let flags = |read: &ReadSide| {
        // applying the whole log again is idempotent: only the new events change it
        read.apply_batch(&all_events(&store)).unwrap();
        let board = read.board(now);
        let row = board
            .visits
            .iter()
            .find(|r| stream.ends_with(&r.visit_id))
            .expect("the visit is on the board")
            .clone();
        row.flags
    };
    let domain_flags = || {
        let mut visit = Visit::default();
        for env in store.read_stream(&stream, 1, None) {
            let env = env.unwrap();
            let (_, data) = upcast(&env.event_type, env.schema, env.data);
            visit = visit.evolve(&VisitEvent::from_stored(&env.event_type, &data).unwrap());
        }
        deadlines::visit_flags(&visit, now.fixed_offset())
    };
    assert!(flags(&read).contains(&"over_cap_pending".to_string()));
    assert!(domain_flags().contains(&"over_cap_pending".to_string()));
    let later = "2026-06-10T12:30:00+08:00";
    append(
        &store,
        &stream,
        "ExpenseRecorded",
        later,
        step_event("Reversal", later, 77),
    );
    assert!(!flags(&read).contains(&"over_cap_pending".to_string()));
    assert!(!domain_flags().contains(&"over_cap_pending".to_string()));
}

/// A log written elsewhere (an old store, a replica's source) may hold amounts no command
/// accepts; every projection sums them saturating, so none stops on an overflow (with
/// `overflow-checks` a wrapped sum would be a panic and the batch retried forever).
#[test]
fn amounts_at_the_ends_of_i64_never_stop_a_projection() {
    let (_dir, store) = store();
    append(
        &store,
        V1,
        "ReceptionRequested",
        "2026-03-01T10:00:00+08:00",
        request(
            "v1",
            "Huaxin",
            "east",
            "2026-03-10T10:00:00+08:00",
            "2026-03-12T10:00:00+08:00",
            1,
            false,
        ),
    );
    for (id, amount, reverses) in [
        ("e1", i64::MAX, None),
        ("e2", i64::MAX, None),
        ("e3", i64::MIN, Some("e1")),
        ("e4", i64::MIN, None),
    ] {
        append(
            &store,
            V1,
            "ExpenseRecorded",
            "2026-03-10T13:00:00+08:00",
            expense(
                id,
                "meal",
                amount,
                "company",
                Some("b1"),
                Some(50_000),
                true,
                reverses,
            ),
        );
    }
    let events = all_events(&store);
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    read.apply_batch(&events).unwrap();
    assert_eq!(read.applied_seq(), events.last().unwrap().seq);
    // every model answers
    let costs = read.costs(2026, CostDimension::Month);
    assert_eq!(costs.groups.len(), 1, "{costs:?}");
    let board = serde_json::to_value(read.board(utc("2026-03-11T00:00:00Z"))).unwrap();
    assert!(board.to_string().contains("Huaxin"), "{board}");
    assert!(!read.search_customers("Huaxin").is_empty());
    assert_eq!(read.what_if_visits(2026).len(), 1);
}
