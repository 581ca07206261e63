//! The read side of DOMAIN.md's "Visit rules, second part" (V22–V31) and F2, over
//! real sled stores fed with events the real domain decided: the board's approvals,
//! budget, tasks, reschedules and follow-ups agree with `GET /api/v1/visits/{id}`'s
//! rules; the customer archive's "last time" digest, follow-ups and visit details; the
//! list of every visit; costs by the month an expense was spent; old payloads.

mod support;

use std::sync::Arc;

use reception_domain::deadlines::{next_step, visit_flags};
use reception_domain::Role::{Approver, Finance, Reception, Requester};
use reception_projections::{BoardVisit, CostDimension, ReadSide, ReadSideConfig, VisitFilter};
use reception_store::{Store, StoreOptions, Upcaster};
use serde_json::json;
use support::*;

const FILED: &str = "2026-11-20T09:00:00+08:00";
const ARRIVAL: &str = "2026-11-25T10:00:00+08:00";
const DEPARTURE: &str = "2026-11-26T15:00:00+08:00";

fn read_side(store: &Store) -> ReadSide {
    ReadSide::open(store, ReadSideConfig::default()).unwrap()
}

/// Applies what the log holds (again: idempotent) and answers the visit's board row
/// at `now`, after checking it shows the domain's stage rules: its flags and next step
/// are `visit_flags` and `next_step` of the folded visit.
fn row(read: &ReadSide, store: &Store, v: &Driven, now: &str) -> Option<BoardVisit> {
    read.apply_batch(&all_events(store)).unwrap();
    let board = read.board(utc(now));
    let row = board.visits.into_iter().find(|r| r.visit_id == v.id);
    if v.visit.is_finished() {
        assert!(row.is_none(), "a finished visit is on the board");
        return None;
    }
    let row = row.expect("an open visit is on the board");
    let (step, due) = next_step(&v.visit, t(now)).expect("an open visit has a next step");
    assert_eq!(
        (&row.flags, row.next_step.as_str(), row.next_due),
        (&visit_flags(&v.visit, t(now)), step.as_str(), due),
        "at {now}"
    );
    Some(row)
}

fn has(row: &BoardVisit, flag: &str) -> bool {
    row.flags.iter().any(|f| f == flag)
}

/// A filed request with its department manager's approval and a level.
fn approved(store: &Store, company: &str, level: &str, extra: serde_json::Value) -> Driven {
    let mut v = Driven::request(
        store,
        FILED,
        domain_request(company, ARRIVAL, DEPARTURE, extra),
    );
    v.run(
        store,
        Approver,
        "2026-11-20T09:30:00+08:00",
        "approve-request",
        json!({"decision": "approve", "as": "department_manager"}),
    );
    v.run(
        store,
        Reception,
        "2026-11-20T10:00:00+08:00",
        "assign-level",
        json!({"level": level}),
    );
    v
}

#[test]
fn v22_the_board_waits_for_approval_and_a_rejected_request_leaves_it() {
    let (_dir, store) = store();
    let read = read_side(&store);
    let now = "2026-11-20T12:00:00+08:00";
    let mut v = Driven::request(
        &store,
        FILED,
        domain_request("Huaxin", ARRIVAL, DEPARTURE, json!({"budget_fen": 500_000})),
    );
    let r = row(&read, &store, &v, now).unwrap();
    assert_eq!(
        (r.stage.as_str(), r.next_step.as_str()),
        ("requested", "approve_request")
    );
    v.run(
        &store,
        Approver,
        "2026-11-20T10:00:00+08:00",
        "approve-request",
        json!({"decision": "return", "as": "department_manager", "comments": "budget?"}),
    );
    let r = row(&read, &store, &v, now).unwrap();
    assert_eq!((r.next_step.as_str(), r.next_due), ("amend_request", None));
    // the amended request moves the arrival: the next steps count from it
    v.run(
        &store,
        Requester,
        "2026-11-20T11:00:00+08:00",
        "amend-request",
        json!({"reason": "cheaper", "budget_fen": 300_000,
               "arrival": {"at": "2026-11-25T08:00:00+08:00", "mode": "flight",
                           "number": "MU5100", "place": "airport"}}),
    );
    assert_eq!(
        row(&read, &store, &v, now).unwrap().next_step,
        "approve_request"
    );
    v.run(
        &store,
        Approver,
        "2026-11-20T11:30:00+08:00",
        "approve-request",
        json!({"decision": "approve", "as": "department_manager"}),
    );
    assert_eq!(
        row(&read, &store, &v, now).unwrap().next_step,
        "assign_level"
    );
    for later in ["2026-11-24T23:00:00+08:00", "2026-11-25T08:30:00+08:00"] {
        row(&read, &store, &v, later);
    }
    let arrival = read.visits(&VisitFilter::default(), 10, 0).visits[0].arrival;
    assert_eq!(arrival, Some(t("2026-11-25T08:00:00+08:00")));

    // a rejected request leaves the board like a cancelled visit and is listed so
    let mut w = Driven::request(
        &store,
        FILED,
        domain_request("Nordic", ARRIVAL, DEPARTURE, json!({})),
    );
    w.run(
        &store,
        Approver,
        "2026-11-20T10:00:00+08:00",
        "approve-request",
        json!({"decision": "reject", "as": "department_manager", "comments": "no"}),
    );
    assert!(row(&read, &store, &w, now).is_none());
    let rejected = VisitFilter {
        stage: Some("rejected".into()),
        ..VisitFilter::default()
    };
    let page = read.visits(&rejected, 10, 0);
    assert_eq!(page.total, 1);
    assert_eq!(page.visits[0].visit_id, w.id);
    assert_eq!(page.visits[0].customer, "Nordic");
}

#[test]
fn v23_a_reschedule_moves_the_tasks_and_the_timeline_and_a_car_ready_too_late_is_flagged() {
    let (_dir, store) = store();
    let read = read_side(&store);
    let mut v = approved(&store, "Huaxin", "ordinary", json!({}));
    v.run(
        &store,
        Reception,
        "2026-11-21T10:00:00+08:00",
        "dispatch-car",
        json!({"leg": "pickup", "vehicle_class": "taxi", "driver": "Zhao", "plate": "A1",
               "ready_at": "2026-11-25T09:30:00+08:00", "place": "airport", "number": "MU5101"}),
    );
    let before = row(&read, &store, &v, "2026-11-22T12:00:00+08:00").unwrap();
    assert!(!has(&before, "car_late") && !has(&before, "rescheduled"));
    // the flight lands an hour earlier: the car, ready at 9:30, is late for 9:00
    v.run(
        &store,
        Requester,
        "2026-11-22T12:00:00+08:00",
        "reschedule",
        json!({"reason": "earlier flight", "arrival": {"at": "2026-11-25T09:00:00+08:00",
               "mode": "flight", "number": "MU5099", "place": "airport"}}),
    );
    let after = row(&read, &store, &v, "2026-11-22T13:00:00+08:00").unwrap();
    assert!(
        has(&after, "car_late") && has(&after, "rescheduled"),
        "{after:?}"
    );
    assert_eq!(after.arrival, Some(t("2026-11-25T09:00:00+08:00")));
    // on the day: the confirmation call is due an hour before the new arrival, the
    // arrival shows the new flight
    let board = read.board(utc("2026-11-25T06:00:00+08:00"));
    let today: Vec<(&str, &str, String)> = board
        .today
        .iter()
        .map(|t| (t.kind.as_str(), t.title.as_str(), t.at.to_rfc3339()))
        .collect();
    assert_eq!(
        today,
        vec![
            (
                "task",
                "welcome_sign",
                "2026-11-25T00:00:00+08:00".to_string()
            ),
            (
                "task",
                "confirmation_call",
                "2026-11-25T08:00:00+08:00".to_string()
            ),
            ("arrival", "MU5099", "2026-11-25T09:00:00+08:00".to_string()),
            (
                "pickup",
                "taxi A1 MU5101",
                "2026-11-25T09:30:00+08:00".to_string()
            ),
        ]
    );
    for later in ["2026-11-25T08:30:00+08:00", "2026-11-27T12:00:00+08:00"] {
        row(&read, &store, &v, later);
    }
}

#[test]
fn v26_an_overdue_preparation_task_is_flagged_until_it_is_done() {
    let (_dir, store) = store();
    let read = read_side(&store);
    let mut v = approved(
        &store,
        "Huaxin",
        "ordinary",
        json!({"needs": {"meeting_room": true}}),
    );
    let before = row(&read, &store, &v, "2026-11-24T23:00:00+08:00").unwrap();
    assert!(!has(&before, "task_overdue"));
    // the meeting room and the welcome sign were due by the readiness deadline
    let late = row(&read, &store, &v, "2026-11-25T00:30:00+08:00").unwrap();
    assert!(has(&late, "task_overdue"), "{late:?}");
    for task in ["meeting_room", "welcome_sign"] {
        v.run(
            &store,
            Reception,
            "2026-11-25T00:40:00+08:00",
            "complete-task",
            json!({"task": task, "notes": "done"}),
        );
    }
    let done = row(&read, &store, &v, "2026-11-25T00:50:00+08:00").unwrap();
    assert!(!has(&done, "task_overdue"), "{done:?}");
    // the confirmation call, an hour before arrival, is the next to fall due
    let call = row(&read, &store, &v, "2026-11-25T09:30:00+08:00").unwrap();
    assert!(has(&call, "task_overdue"));
    let today = read.board(utc("2026-11-25T09:30:00+08:00")).today;
    let tasks: Vec<&str> = today
        .iter()
        .filter(|t| t.kind == "task")
        .map(|t| t.title.as_str())
        .collect();
    assert_eq!(
        tasks,
        vec!["confirmation_call"],
        "done tasks leave the timeline"
    );
}

#[test]
fn v22_company_spend_beyond_the_budget_is_over_budget_and_a_reversal_nets_out() {
    let (_dir, store) = store();
    let read = read_side(&store);
    let mut v = approved(&store, "Huaxin", "ordinary", json!({"budget_fen": 100_000}));
    let expense = |amount: i64, paid_by: &str| {
        json!({"category": "car", "amount_fen": amount, "receipt_no": "C1", "paid_by": paid_by,
               "spent_at": "2026-11-21T09:00:00+08:00", "description": "car hire"})
    };
    let at = "2026-11-21T10:00:00+08:00";
    let now = "2026-11-21T11:00:00+08:00";
    v.run(
        &store,
        Finance,
        at,
        "record-expense",
        expense(80_000, "company"),
    );
    v.run(
        &store,
        Finance,
        at,
        "record-expense",
        expense(50_000, "visitor"),
    );
    assert!(!has(&row(&read, &store, &v, now).unwrap(), "over_budget"));
    let extra = v.run(
        &store,
        Finance,
        at,
        "record-expense",
        expense(30_000, "company"),
    );
    assert!(has(&row(&read, &store, &v, now).unwrap(), "over_budget"));
    let listed = read.visits(&VisitFilter::default(), 10, 0).visits[0].clone();
    assert_eq!(
        (listed.budget_fen, listed.spend_fen),
        (Some(100_000), 110_000)
    );
    let mut reversal = expense(30_000, "company");
    reversal["reverses"] = json!(extra);
    v.run(&store, Finance, at, "record-expense", reversal);
    assert!(!has(&row(&read, &store, &v, now).unwrap(), "over_budget"));
    let listed = read.visits(&VisitFilter::default(), 10, 0).visits[0].clone();
    assert_eq!(listed.spend_fen, v.visit.company_spend_fen());
}

#[test]
fn v28_open_follow_ups_outlive_the_visit_on_the_board_and_in_the_archive() {
    let (_dir, store) = store();
    let read = read_side(&store);
    let mut v = approved(&store, "Huaxin Dealers", "ordinary", json!({}));
    let matter = v.run(
        &store,
        Reception,
        "2026-11-21T10:00:00+08:00",
        "propose-matter",
        json!({"by": "visitor", "text": "dealership"}),
    );
    v.run(
        &store,
        Reception,
        "2026-11-21T10:10:00+08:00",
        "confirm-matter",
        json!({"matter_id": matter, "company_confirmed_by": "Zhang",
               "visitor_confirmed_by": "Wang", "record_ref": "MOU-1"}),
    );
    let first = v.run(
        &store,
        Reception,
        "2026-11-21T10:20:00+08:00",
        "add-follow-up",
        json!({"matter_id": matter, "owner": "Zhang", "due": "2026-11-22T18:00:00+08:00",
               "text": "send the contract"}),
    );
    let open = row(&read, &store, &v, "2026-11-23T09:00:00+08:00").unwrap();
    assert!(has(&open, "follow_up_overdue"));
    v.run(
        &store,
        Reception,
        "2026-11-23T10:00:00+08:00",
        "cancel",
        json!({"reason": "called off"}),
    );
    // a follow-up added after the visit ended is listed with the visit's customer
    let second = v.run(
        &store,
        Reception,
        "2026-11-23T10:30:00+08:00",
        "add-follow-up",
        json!({"matter_id": matter, "owner": "Li", "due": "2026-11-30T18:00:00+08:00",
               "text": "call back"}),
    );
    assert!(row(&read, &store, &v, "2026-11-24T09:00:00+08:00").is_none());
    let board = read.board(utc("2026-11-24T09:00:00+08:00"));
    let listed: Vec<(&str, &str, &str, bool)> = board
        .follow_ups
        .iter()
        .map(|f| {
            (
                f.follow_up_id.as_str(),
                f.customer.as_str(),
                f.owner.as_str(),
                f.overdue,
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (first.as_str(), "Huaxin Dealers", "Zhang", true),
            (second.as_str(), "Huaxin Dealers", "Li", false)
        ]
    );
    let on_the_day = read.board(utc("2026-11-30T09:00:00+08:00")).today;
    assert_eq!(on_the_day.len(), 1);
    assert_eq!(
        (on_the_day[0].kind.as_str(), on_the_day[0].title.as_str()),
        ("follow_up", "call back")
    );
    let profile = read
        .customer_at("huaxindealers", false, utc("2026-11-24T09:00:00+08:00"))
        .unwrap();
    let archived: Vec<(&str, bool)> = profile
        .follow_ups
        .iter()
        .map(|f| (f.text.as_str(), f.overdue))
        .collect();
    assert_eq!(
        archived,
        vec![("send the contract", true), ("call back", false)]
    );
    v.run(
        &store,
        Reception,
        "2026-11-24T10:00:00+08:00",
        "complete-follow-up",
        json!({"follow_up_id": first, "notes": "sent"}),
    );
    read.apply_batch(&all_events(&store)).unwrap();
    let board = read.board(utc("2026-11-24T11:00:00+08:00"));
    assert_eq!(board.follow_ups.len(), 1);
    assert_eq!(board.follow_ups[0].follow_up_id, second);
    let profile = read.customer("huaxindealers", false).unwrap();
    assert_eq!(profile.follow_ups.len(), 1);
    let done = &profile.visits[0].follow_ups[0];
    assert_eq!(done.fields.get("done"), Some(json!(true)));
    assert_eq!(done.fields.get("notes"), Some(json!("sent")));
}

#[test]
fn f2_the_on_site_list_names_the_visit_and_customer_of_a_sign_in() {
    use reception_domain::frontdesk::SignIn;
    use reception_domain::{Aggregate, DomainCommand, DomainEvent, LinkedVisit};
    let (_dir, store) = store();
    let read = read_side(&store);
    let v = approved(&store, "Huaxin", "ordinary", json!({}));
    let ctx = reception_domain::Context {
        now: t("2026-11-25T10:05:00+08:00"),
        actor: reception_domain::Actor {
            user: "desk".into(),
            role: reception_domain::Role::Frontdesk,
        },
        policies: reception_domain::policy::PolicyBook::with_default(),
        entity_id: uuid::Uuid::new_v4(),
        linked_visit: Some(LinkedVisit {
            id: v.id.parse().unwrap(),
            customer: "Huaxin".into(),
            open: true,
        }),
    };
    let body = json!({"name": "Wang Lei", "party_size": 1, "reason": "visit", "host": "li.na",
                      "visit_id": v.id});
    let command = <SignIn as Aggregate>::Command::parse("sign-in", body).unwrap();
    let events = SignIn::default().decide(command, &ctx).unwrap();
    for e in events {
        append(
            &store,
            &format!("frontdesk-{}", ctx.entity_id),
            e.event_type(),
            "2026-11-25T10:05:00+08:00",
            e.to_data(),
        );
    }
    read.apply_batch(&all_events(&store)).unwrap();
    let on_site = read.board(utc("2026-11-25T10:10:00+08:00")).on_site;
    assert_eq!(on_site.len(), 1);
    assert_eq!(on_site[0].visit_id.as_deref(), Some(v.id.as_str()));
    assert_eq!(on_site[0].customer.as_deref(), Some("Huaxin"));
}

/// A senior visit that took place: staff changed on site, talks with attendees and
/// minutes, a home reception, a return call with safe arrival and suggestions.
fn a_visit_that_took_place(store: &Store) -> Driven {
    let mut v = approved(store, "Huaxin", "senior", json!({}));
    let mut run =
        |at: &str, name: &str, body: serde_json::Value| v.run(store, Reception, at, name, body);
    run(
        "2026-11-21T10:00:00+08:00",
        "assign-staff",
        json!({"host": "li.na", "accompanying": [{"name": "Zhou", "role": "market_supervisor"}]}),
    );
    run(
        ARRIVAL,
        "record-arrival",
        json!({"at": "2026-11-25T10:05:00+08:00"}),
    );
    run(
        "2026-11-25T11:00:00+08:00",
        "change-staff",
        json!({"add": [{"name": "Sun", "role": "photographer"}], "remove": ["Zhou"],
               "reason": "Zhou is ill"}),
    );
    let matter = run(
        "2026-11-25T12:00:00+08:00",
        "propose-matter",
        json!({"by": "visitor", "text": "dealership"}),
    );
    run(
        "2026-11-25T12:10:00+08:00",
        "confirm-matter",
        json!({"matter_id": matter, "company_confirmed_by": "Zhang",
               "visitor_confirmed_by": "Wang", "record_ref": "MOU-1"}),
    );
    run(
        "2026-11-25T14:00:00+08:00",
        "hold-talks",
        json!({"at": "2026-11-25T14:00:00+08:00", "outcome": "MOU",
               "attendees": ["li.na", "Wang Lei"], "minutes_ref": "MIN-7"}),
    );
    run(
        "2026-11-25T15:00:00+08:00",
        "hold-home-reception",
        json!({"at": "2026-11-25T15:00:00+08:00", "staff": ["Liu"]}),
    );
    run(DEPARTURE, "record-departure", json!({"at": DEPARTURE}));
    run(
        "2026-11-27T10:00:00+08:00",
        "return-call",
        json!({"reached": true, "satisfaction": 5, "arrived_safely": true,
               "suggestions": "more tea"}),
    );
    run(
        "2026-11-27T11:00:00+08:00",
        "submit-minutes",
        json!({"ref": "MIN-7", "attendees": ["li.na", "Wang Lei"]}),
    );
    v
}

#[test]
fn the_last_time_digest_of_a_returning_customer_is_the_last_visit_that_took_place() {
    let (_dir, store) = store();
    let read = read_side(&store);
    let past = a_visit_that_took_place(&store);
    // the customer comes again: a new visit is being planned
    let mut next = Driven::request(
        &store,
        "2026-12-01T09:00:00+08:00",
        domain_request(
            "HUAXIN",
            "2026-12-20T10:00:00+08:00",
            "2026-12-21T10:00:00+08:00",
            json!({}),
        ),
    );
    next.run(
        &store,
        Approver,
        "2026-12-01T10:00:00+08:00",
        "approve-request",
        json!({"decision": "approve", "as": "department_manager"}),
    );
    read.apply_batch(&all_events(&store)).unwrap();
    let p = read.customer("huaxin", false).unwrap();
    assert_eq!(p.visits.len(), 2);
    let last = p.last_time.expect("a visit took place");
    assert_eq!(last.visit_id, past.id, "never the visit being planned");
    assert_eq!(last.arrival, Some(t("2026-11-25T10:05:00+08:00")));
    assert_eq!(last.level.as_deref(), Some("senior"));
    assert_eq!(last.satisfaction, Some(5));
    // what the archive shows of the visit that took place
    let v = p.visits.iter().find(|v| v.visit_id == past.id).unwrap();
    let call = v.return_call.as_ref().unwrap();
    assert_eq!(call.get("arrived_safely"), Some(json!(true)));
    assert_eq!(call.get("suggestions"), Some(json!("more tea")));
    let talks = v
        .tours_and_meetings
        .iter()
        .find(|e| e.fields.get("event") == Some(json!("LeadershipTalksHeld")))
        .unwrap();
    assert_eq!(
        talks.fields.get("attendees"),
        Some(json!(["li.na", "Wang Lei"]))
    );
    assert_eq!(talks.fields.get("minutes_ref"), Some(json!("MIN-7")));
    assert_eq!(v.minutes.as_ref().unwrap().get("ref"), Some(json!("MIN-7")));
    assert_eq!(
        v.home_receptions[0].fields.get("staff"),
        Some(json!(["Liu"]))
    );
    assert_eq!(
        v.staff_changes[0].fields.get("removed"),
        Some(json!(["Zhou"]))
    );
    assert_eq!(
        v.staff_changes[0].fields.get("mid_visit"),
        Some(json!(true))
    );
    let staff: Vec<&str> = v
        .accompanying
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(staff, vec!["Sun"]);
    assert_eq!(v.stage, "departed");
    // before any visit took place there is no digest
    let (_dir2, store2) = support::store();
    let read2 = read_side(&store2);
    Driven::request(
        &store2,
        FILED,
        domain_request("Huaxin", ARRIVAL, DEPARTURE, json!({})),
    );
    read2.apply_batch(&all_events(&store2)).unwrap();
    assert!(read2.customer("huaxin", false).unwrap().last_time.is_none());
}

#[test]
fn every_visit_is_listed_filtered_and_paged_latest_arrival_first() {
    let (_dir, store) = store();
    let read = read_side(&store);
    let mut ids = Vec::new();
    for (n, (company, dept)) in [
        ("Huaxin Dealers Ltd", "east-sales"),
        ("Nordic Trucks", "export"),
        ("huaxin  dealers, ltd", "east-sales"),
        ("Yangtze Motors", "east-sales"),
    ]
    .into_iter()
    .enumerate()
    {
        let arrival = format!("2026-11-{:02}T10:00:00+08:00", 22 + n);
        let departure = format!("2026-11-{:02}T15:00:00+08:00", 22 + n);
        let extra = json!({"department": dept, "cost_department": "marketing",
                           "budget_fen": 1_000 * (n as i64 + 1)});
        let mut v = Driven::request(
            &store,
            FILED,
            domain_request(company, &arrival, &departure, extra),
        );
        if n != 3 {
            v.run(
                &store,
                Approver,
                "2026-11-20T10:00:00+08:00",
                "approve-request",
                json!({"decision": "approve", "as": "department_manager"}),
            );
            let level = if n == 1 { "senior" } else { "ordinary" };
            v.run(
                &store,
                Reception,
                "2026-11-20T11:00:00+08:00",
                "assign-level",
                json!({"level": level}),
            );
        }
        if n == 2 {
            v.run(
                &store,
                Reception,
                "2026-11-20T12:00:00+08:00",
                "cancel",
                json!({"reason": "called off"}),
            );
        }
        ids.push(v.id);
    }
    read.apply_batch(&all_events(&store)).unwrap();
    let all = read.visits(&VisitFilter::default(), 50, 0);
    assert_eq!(all.total, 4);
    let order: Vec<&str> = all.visits.iter().map(|v| v.visit_id.as_str()).collect();
    assert_eq!(order, vec![&ids[3], &ids[2], &ids[1], &ids[0]]);
    let first = &all.visits[3];
    assert_eq!(
        (
            first.stage.as_str(),
            first.level.as_deref(),
            first.budget_fen
        ),
        ("preparing", Some("ordinary"), Some(1_000))
    );
    assert_eq!(first.cost_department, "marketing");
    let stages: Vec<&str> = all.visits.iter().map(|v| v.stage.as_str()).collect();
    assert_eq!(
        stages,
        vec!["requested", "cancelled", "preparing", "preparing"]
    );
    let by = |f: VisitFilter| -> Vec<String> {
        let page = read.visits(&f, 50, 0);
        assert_eq!(page.total, page.visits.len());
        page.visits.into_iter().map(|v| v.visit_id).collect()
    };
    // the customer forgiving case, spacing and punctuation, as the archive's search
    let huaxin = by(VisitFilter {
        customer: Some("HUAXIN dealers".into()),
        ..VisitFilter::default()
    });
    assert_eq!(huaxin, vec![ids[2].clone(), ids[0].clone()]);
    let senior = by(VisitFilter {
        level: Some("senior".into()),
        ..VisitFilter::default()
    });
    assert_eq!(senior, vec![ids[1].clone()]);
    let export = by(VisitFilter {
        department: Some("export".into()),
        ..VisitFilter::default()
    });
    assert_eq!(export, vec![ids[1].clone()]);
    let cancelled = by(VisitFilter {
        stage: Some("cancelled".into()),
        ..VisitFilter::default()
    });
    assert_eq!(cancelled, vec![ids[2].clone()]);
    // from inclusive, to exclusive, on the planned arrival
    let window = by(VisitFilter {
        from: Some(t("2026-11-23T10:00:00+08:00")),
        to: Some(t("2026-11-25T10:00:00+08:00")),
        ..VisitFilter::default()
    });
    assert_eq!(window, vec![ids[2].clone(), ids[1].clone()]);
    let page = read.visits(&VisitFilter::default(), 2, 1);
    assert_eq!((page.total, page.limit, page.offset), (4, 2, 1));
    let paged: Vec<&str> = page.visits.iter().map(|v| v.visit_id.as_str()).collect();
    assert_eq!(paged, vec![&ids[2], &ids[1]]);
    assert!(read
        .visits(&VisitFilter::default(), 10, 9)
        .visits
        .is_empty());
}

#[test]
fn v24_an_expense_counts_in_the_month_it_was_spent_not_when_it_was_recorded() {
    let (_dir, store) = store();
    let read = read_side(&store);
    let mut v = Driven::request(
        &store,
        "2025-11-20T09:00:00+08:00",
        domain_request(
            "Huaxin",
            "2025-12-10T10:00:00+08:00",
            "2025-12-12T10:00:00+08:00",
            json!({}),
        ),
    );
    v.run(
        &store,
        Approver,
        "2025-11-20T10:00:00+08:00",
        "approve-request",
        json!({"decision": "approve", "as": "department_manager"}),
    );
    // a December invoice, recorded in January
    v.run(
        &store,
        Finance,
        "2026-01-05T10:00:00+08:00",
        "record-expense",
        json!({"category": "car", "amount_fen": 45_000, "receipt_no": "INV-9",
               "paid_by": "company", "spent_at": "2025-12-28T18:00:00+08:00",
               "description": "airport transfers", "vendor": "Dazhong Taxi"}),
    );
    // and one whose envelope carries the recording time (as a replica or an import may)
    let mut late = json!({"expense_id": "e-raw", "category": "venue", "amount_fen": 5_000,
        "paid_by": "company", "receipt_no": "V1", "booking_id": null, "reverses": null,
        "cap_fen": null, "over_cap": false, "level": null, "policy_version": null,
        "recorded_at": "2026-01-06T09:00:00+08:00", "spent_at": "2025-12-30T12:00:00+08:00",
        "description": "hall"});
    late["after_close"] = json!(false);
    append(
        &store,
        &v.stream,
        "ExpenseRecorded",
        "2026-01-06T09:00:00+08:00",
        late,
    );
    read.apply_batch(&all_events(&store)).unwrap();
    let dec = read.costs(2025, CostDimension::Month);
    assert_eq!(dec.total_fen, 50_000);
    assert_eq!(dec.groups.len(), 1);
    assert_eq!(dec.groups[0].key, "2025-12");
    assert_eq!(read.costs(2026, CostDimension::Month).total_fen, 0);
}

/// The domain's upcaster, as the service registers it with its store.
struct DomainUpcaster;

impl Upcaster for DomainUpcaster {
    fn upcast(
        &self,
        event_type: &str,
        schema: u32,
        data: serde_json::Value,
    ) -> (u32, serde_json::Value) {
        reception_domain::visit::upcast(event_type, schema, data)
    }

    fn rewrites(&self, event_type: &str, schema: u32) -> bool {
        reception_domain::visit::upcast_rewrites(event_type, schema)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_of_schema_1_read_alike_with_or_without_the_upcaster() {
    let dir = tempfile::tempdir().unwrap();
    let now = utc("2026-03-11T12:00:00+08:00");
    let answers = |store: &Store| {
        let read = read_side(store);
        read.apply_batch(&all_events(store)).unwrap();
        let board = read.board(now);
        // a request from before approvals counts as approved
        assert_eq!(board.visits[0].next_step, "draft_plan");
        snapshot(&read, now)
    };
    let plain = {
        let store = Store::open(dir.path().join("store")).unwrap();
        old_visit(&store);
        let answer = answers(&store);
        store.close().unwrap();
        answer
    };
    let opts = StoreOptions {
        upcaster: Some(Arc::new(DomainUpcaster)),
        ..StoreOptions::default()
    };
    let store = Store::open_with(dir.path().join("store"), opts).unwrap();
    // a read side of the upcasting store rebuilds from the scan (upcast as declared)
    let read = read_side(&store);
    read.rebuild(None, &mut |_, _| {}).unwrap();
    assert!(snapshot(&read, now) == plain);
    assert!(answers(&store) == plain);
    store.close().unwrap();
}

/// A visit as stored before V22–V31: schema 1 request and expenses.
fn old_visit(store: &Store) {
    const V: &str = "visit-11111111-1111-4111-8111-111111111111";
    append(
        store,
        V,
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
    append(
        store,
        V,
        "LevelAssigned",
        "2026-03-01T11:00:00+08:00",
        json!({"level": "senior", "policy_version": 1}),
    );
    append(
        store,
        V,
        "ExpenseRecorded",
        "2026-03-10T13:00:00+08:00",
        expense("e1", "car", 40_000, "company", None, None, false, None),
    );
}
