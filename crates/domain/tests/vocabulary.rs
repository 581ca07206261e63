//! The read side's vocabulary against real events: every event type the projections
//! read, produced by `decide` and stored as `to_data` writes it, decodes through the
//! borrowed `vocabulary::Payload` with every field the read side reads arriving.

use std::collections::BTreeSet;

use chrono::DateTime;
use reception_domain::complaint::Complaint;
use reception_domain::frontdesk::SignIn;
use reception_domain::policy::PolicyBook;
use reception_domain::visit::Visit;
use reception_domain::vocabulary::{CostView, DepartmentView, Payload, NESTED_READS, READS};
use reception_domain::{Actor, Aggregate, Context, DomainCommand, DomainEvent, LinkedVisit, Role};
use serde_json::{json, Value};

/// Stored events as (type, data).
type Log = Vec<(&'static str, Value)>;

/// When the expenses of the log were spent.
const SPENT_AT: &str = "2026-11-01T00:00:00+08:00";

/// Runs one command on `state`, appending its events to `log`; returns the entity id.
fn run<A: Aggregate>(
    state: &mut A,
    log: &mut Log,
    role: Role,
    now: &str,
    name: &str,
    body: Value,
) -> String {
    run_linked(state, log, role, now, name, body, None)
}

/// [`run`] of a command that names a visit of another stream (F2).
fn run_linked<A: Aggregate>(
    state: &mut A,
    log: &mut Log,
    role: Role,
    now: &str,
    name: &str,
    body: Value,
    linked_visit: Option<LinkedVisit>,
) -> String {
    let ctx = Context {
        now: DateTime::parse_from_rfc3339(now).unwrap(),
        actor: Actor {
            user: "vocabulary".into(),
            role,
        },
        policies: PolicyBook::with_default(),
        entity_id: uuid::Uuid::new_v4(),
        linked_visit,
    };
    let command = A::Command::parse(name, body).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let events = state
        .decide(command, &ctx)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    for e in &events {
        log.push((e.event_type(), e.to_data()));
        *state = state.clone().evolve(e);
    }
    ctx.entity_id.to_string()
}

fn day(d: u32, hm: &str) -> String {
    format!("2026-11-{d:02}T{hm}:00+08:00")
}

/// A visit through every command the read side reads an event of.
fn visit_log() -> Log {
    let (mut v, mut log) = (Visit::default(), Log::new());
    let lodging = prepare(&mut v, &mut log);
    let bookings = on_site(&mut v, &mut log);
    let matter = after_talks(&mut v, &mut log);
    expenses_and_follow_up(&mut v, &mut log, &lodging, bookings, &matter);
    log
}

/// A request an approver rejects (V22).
fn rejected_log() -> Log {
    let (mut v, mut log) = (Visit::default(), Log::new());
    run(
        &mut v,
        &mut log,
        Role::Requester,
        &day(20, "09:00"),
        "request",
        json!({
            "customer": {"company": "Huaxin Dealers Ltd", "country": "CN", "foreign": true},
            "department": "east-sales", "visitors": [{"name": "Wang Lei"}], "headcount": 1,
            "purpose": "sightseeing",
            "arrival": {"at": day(29, "10:00"), "mode": "car"},
            "departure": {"at": day(30, "15:00"), "mode": "car"},
            "needs": {"visa_letter": true}, "expedited": {"reason": "chairman's guest"}
        }),
    );
    run(
        &mut v,
        &mut log,
        Role::Approver,
        &day(20, "10:00"),
        "approve-request",
        json!({"decision": "reject", "as": "department_manager", "comments": "no budget"}),
    );
    log
}

/// Request to readiness, cars and lodging; returns the lodging booking's id.
fn prepare(v: &mut Visit, l: &mut Log) -> String {
    use Role::{Approver as A, Reception as R};
    run(
        v,
        l,
        Role::Requester,
        &day(20, "09:00"),
        "request",
        json!({
            "customer": {"company": "Huaxin Dealers Ltd", "country": "CN", "foreign": false},
            "department": "east-sales",
            "visitors": [{"name": "Wang Lei", "title": "General Manager", "phone": "+86 1"}],
            "headcount": 1, "purpose": "dealership renewal",
            "arrival": {"at": day(25, "10:00"), "mode": "flight", "number": "MU5101", "place": "airport"},
            "departure": {"at": day(27, "15:00"), "mode": "train", "number": "G7", "place": "station",
                          "arrives_home_at": day(27, "20:00")},
            "needs": {"pickup": true, "dropoff": true, "meeting_room": true, "return_tickets": true},
            "budget_fen": 500_000, "cost_department": "marketing", "proposed_level": "senior"
        }),
    );
    run(
        v,
        l,
        A,
        &day(20, "09:20"),
        "approve-request",
        json!({"decision": "return", "as": "department_manager", "comments": "budget?"}),
    );
    run(
        v,
        l,
        Role::Requester,
        &day(20, "09:25"),
        "amend-request",
        json!({"reason": "budget lowered", "budget_fen": 400_000}),
    );
    run(
        v,
        l,
        A,
        &day(20, "09:30"),
        "approve-request",
        json!({"decision": "approve", "as": "department_manager"}),
    );
    run(
        v,
        l,
        R,
        &day(20, "10:00"),
        "assign-level",
        json!({"level": "ordinary"}),
    );
    run(
        v,
        l,
        R,
        &day(20, "10:30"),
        "change-level",
        json!({"level": "senior", "reason": "chairman joins"}),
    );
    let item =
        json!({"at": day(25, "12:00"), "kind": "meal", "title": "lunch", "place": "canteen"});
    run(
        v,
        l,
        R,
        &day(20, "11:00"),
        "draft-plan",
        json!({"items": [item]}),
    );
    run(
        v,
        l,
        A,
        &day(20, "14:00"),
        "review-plan",
        json!({"approved": true}),
    );
    run(
        v,
        l,
        R,
        &day(21, "09:00"),
        "assign-staff",
        json!({"host": "Li Na", "accompanying": []}),
    );
    run(
        v,
        l,
        R,
        &day(21, "09:30"),
        "change-staff",
        json!({"add": [{"name": "Sun", "role": "photographer"}]}),
    );
    run(
        v,
        l,
        R,
        &day(22, "09:00"),
        "reschedule",
        json!({"reason": "flight moved, a colleague joins",
               "arrival": {"at": day(25, "10:30"), "mode": "flight", "number": "MU5103",
                           "place": "airport"},
               "headcount": 2,
               "visitors": [{"name": "Wang Lei", "title": "General Manager", "phone": "+86 1"},
                            {"name": "Li Ming"}]}),
    );
    run(
        v,
        l,
        R,
        &day(23, "09:00"),
        "complete-task",
        json!({"task": "meeting_room", "notes": "room 3"}),
    );
    run(v, l, R, &day(24, "17:00"), "confirm-readiness", json!({}));
    run(
        v,
        l,
        R,
        &day(24, "18:00"),
        "dispatch-car",
        json!({"leg": "pickup",
        "vehicle_class": "suv", "driver": "Zhao", "plate": "A88888",
        "ready_at": day(25, "09:30"), "place": "airport T2", "number": "MU5101"}),
    );
    run(
        v,
        l,
        R,
        &day(24, "18:10"),
        "car-unavailable",
        json!({"leg": "dropoff", "advised_transport": "taxi"}),
    );
    run(
        v,
        l,
        R,
        &day(24, "18:20"),
        "book-lodging",
        json!({"hotel": "Grand Hyatt",
        "stars": 4, "rooms": 1, "nights": 2, "rate_fen": 40_000, "paid_by": "visitor"}),
    )
}

/// Arrival to the souvenir handed; returns the meal and entertainment booking ids.
fn on_site(v: &mut Visit, l: &mut Log) -> (String, String) {
    use Role::Reception as R;
    run(
        v,
        l,
        R,
        &day(25, "10:00"),
        "record-arrival",
        json!({"at": day(25, "10:00")}),
    );
    run(
        v,
        l,
        R,
        &day(25, "10:05"),
        "reassign-host",
        json!({"host": "Chen", "reason": "ill"}),
    );
    let meal = run(
        v,
        l,
        R,
        &day(25, "10:30"),
        "book-meal",
        json!({"meal": "lunch", "at": day(25, "12:00"),
        "venue": "canteen", "party_size": 1, "budget_fen": 10_000}),
    );
    let fun = run(
        v,
        l,
        R,
        &day(25, "10:40"),
        "arrange-entertainment",
        json!({"at": day(26, "15:00"),
        "kind": "cruise", "party_size": 2, "budget_fen": 10_000}),
    );
    run(
        v,
        l,
        R,
        &day(26, "09:00"),
        "hold-tour",
        json!({"at": day(26, "09:00"), "place": "plant 2", "title": "factory tour"}),
    );
    run(
        v,
        l,
        R,
        &day(26, "11:00"),
        "hold-leader-meeting",
        json!({"at": day(26, "11:00"), "place": "HQ", "leader": "Liu"}),
    );
    let matter = run(
        v,
        l,
        R,
        &day(26, "12:00"),
        "propose-matter",
        json!({"by": "visitor", "text": "dealership"}),
    );
    run(
        v,
        l,
        R,
        &day(26, "12:10"),
        "confirm-matter",
        json!({"matter_id": matter,
        "company_confirmed_by": "Zhang", "visitor_confirmed_by": "Wang", "record_ref": "MOU-1"}),
    );
    run(
        v,
        l,
        R,
        &day(26, "16:00"),
        "hold-talks",
        json!({"at": day(26, "16:00"), "outcome": "MOU", "attendees": ["Li Na"],
               "minutes_ref": "MIN-1"}),
    );
    let gift = run(
        v,
        l,
        R,
        &day(26, "17:00"),
        "plan-souvenir",
        json!({"item": "tea set", "unit_cost_fen": 5_000, "quantity": 1}),
    );
    run(
        v,
        l,
        R,
        &day(26, "17:10"),
        "hand-souvenir",
        json!({"souvenir_id": gift}),
    );
    (meal, fun)
}

/// After the talks: a home reception and a follow-up action on the confirmed matter;
/// returns the follow-up's id.
fn after_talks(v: &mut Visit, l: &mut Log) -> String {
    use Role::Reception as R;
    run(
        v,
        l,
        R,
        &day(26, "19:00"),
        "hold-home-reception",
        json!({"at": day(26, "19:00"), "staff": ["Liu"]}),
    );
    let matter = v.matters[0].proposed.matter_id.to_string();
    run(
        v,
        l,
        R,
        &day(26, "19:30"),
        "add-follow-up",
        json!({"matter_id": matter, "owner": "Zhang", "due": day(30, "18:00"),
               "text": "send the dealership contract"}),
    )
}

/// Expenses and their decisions, departure, minutes, the return call and the
/// follow-up done.
fn expenses_and_follow_up(
    v: &mut Visit,
    l: &mut Log,
    lodging: &str,
    (meal, fun): (String, String),
    follow_up: &str,
) {
    use Role::{Approver as A, Finance as F, Reception as R};
    run(
        v,
        l,
        F,
        &day(26, "18:00"),
        "record-expense",
        json!({"category": "lodging", "amount_fen": 80_000,
        "receipt_no": "H-1", "spent_at": SPENT_AT, "description": "test expense", "paid_by": "visitor", "booking_id": lodging}),
    );
    let over = run(
        v,
        l,
        F,
        &day(26, "18:10"),
        "record-expense",
        json!({"category": "meal",
        "amount_fen": 9_000_000, "receipt_no": "G-1", "spent_at": SPENT_AT, "description": "test expense", "paid_by": "company", "booking_id": meal}),
    );
    run(
        v,
        l,
        A,
        &day(26, "18:20"),
        "decide-expense",
        json!({"expense_id": over, "approved": false, "comments": "too much"}),
    );
    let over = run(
        v,
        l,
        F,
        &day(26, "18:30"),
        "record-expense",
        json!({"category": "entertainment",
        "amount_fen": 9_000_000, "receipt_no": "G-2", "spent_at": SPENT_AT, "description": "test expense", "paid_by": "company", "booking_id": fun}),
    );
    run(
        v,
        l,
        A,
        &day(26, "18:40"),
        "decide-expense",
        json!({"expense_id": over, "approved": true}),
    );
    run(
        v,
        l,
        R,
        &day(27, "15:00"),
        "record-departure",
        json!({"at": day(27, "15:00")}),
    );
    run(
        v,
        l,
        R,
        &day(28, "10:00"),
        "return-call",
        json!({"reached": true, "products": "good",
        "corporate_image": "modern", "reception": "warm", "satisfaction": 5,
        "arrived_safely": true, "suggestions": "more tea",
        "complaint": {"severity": "minor", "category": "transport", "description": "late car"}}),
    );
    run(
        v,
        l,
        R,
        &day(28, "10:30"),
        "submit-minutes",
        json!({"ref": "MIN-1", "attendees": ["Li Na", "Wang Lei"]}),
    );
    run(
        v,
        l,
        R,
        &day(28, "10:40"),
        "complete-follow-up",
        json!({"follow_up_id": follow_up, "notes": "sent"}),
    );
    run(
        v,
        l,
        R,
        &day(28, "11:00"),
        "note-preference",
        json!({"subject": "Wang Lei", "kind": "diet", "text": "vegetarian"}),
    );
}

fn complaint_log() -> Log {
    let (mut c, mut log) = (Complaint::default(), Log::new());
    let (c, l) = (&mut c, &mut log);
    let r = Role::Reception;
    run(
        c,
        l,
        Role::Frontdesk,
        &day(22, "10:00"),
        "raise",
        json!({
            "visit_id": "7d1c0000-0000-4000-8000-000000000001",
            "customer": {"company": "Huaxin Dealers Ltd", "country": "CN", "foreign": false},
            "severity": "minor", "category": "transport", "description": "late car",
            "department": "motor-pool"
        }),
    );
    run(c, l, r, &day(22, "10:04"), "report", json!({"to": "Zhou"}));
    run(
        c,
        l,
        r,
        &day(22, "10:06"),
        "assign",
        json!({"department": "motor-pool", "assignee": "zhou"}),
    );
    run(
        c,
        l,
        r,
        &day(22, "10:20"),
        "escalate",
        json!({"reason": "injury"}),
    );
    run(
        c,
        l,
        r,
        &day(22, "10:50"),
        "analyse",
        json!({"analysis": "double booking"}),
    );
    run(
        c,
        l,
        r,
        &day(22, "15:00"),
        "agree-solution",
        json!({"solution": "refund"}),
    );
    run(
        c,
        l,
        r,
        &day(22, "15:05"),
        "feedback",
        json!({"text": "apologised"}),
    );
    run(
        c,
        l,
        r,
        &day(23, "09:00"),
        "resolve",
        json!({"resolution": "refunded"}),
    );
    run(
        c,
        l,
        r,
        &day(23, "16:00"),
        "return-visit",
        json!({"mode": "in_person"}),
    );
    run(c, l, Role::Admin, &day(24, "09:00"), "close", json!({}));
    log
}

fn frontdesk_log() -> Log {
    let (mut s, mut log) = (SignIn::default(), Log::new());
    let visit = uuid::Uuid::new_v4();
    run_linked(
        &mut s,
        &mut log,
        Role::Frontdesk,
        &day(22, "09:00"),
        "sign-in",
        json!({"name": "Zhao Min", "party_size": 3, "reason": "parts delivery", "host": "Wu Fang",
               "visit_id": visit}),
        Some(LinkedVisit {
            id: visit,
            customer: "Huaxin Dealers Ltd".into(),
            open: true,
        }),
    );
    run(
        &mut s,
        &mut log,
        Role::Frontdesk,
        &day(22, "11:00"),
        "sign-out",
        json!({}),
    );
    log
}

/// True when every field a narrow view read (`narrow`) has the same value in the full
/// view (`full`); a nested object of a narrow view holds a subset of its fields too.
fn reads_alike(narrow: &Value, full: &Value) -> bool {
    match (narrow, full) {
        (Value::Object(n), Value::Object(f)) => n
            .iter()
            .all(|(k, v)| f.get(k).is_some_and(|w| reads_alike(v, w))),
        _ => narrow == full,
    }
}

/// A JSON value that carries something (not null, not an empty string).
fn present(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Null)) && v != Some(&Value::from(""))
}

#[test]
fn every_event_the_read_side_reads_arrives_whole_in_the_view() {
    let mut log = visit_log();
    log.extend(rejected_log());
    log.extend(complaint_log());
    log.extend(frontdesk_log());
    let mut seen = BTreeSet::new();
    for (ty, data) in &log {
        let Some((_, fields)) = READS.iter().find(|(t, _)| t == ty) else {
            continue;
        };
        seen.insert(*ty);
        let bytes = serde_json::to_vec(data).unwrap();
        // the fast, strict decode takes every stored payload (no lenient fallback)
        let view: Payload<'_> = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{ty}: the view refuses the payload: {e}"));
        let back = serde_json::to_value(&view).unwrap();
        // the narrow views read their fields by the same names, alike
        let narrow = [
            serde_json::to_value(CostView::parse(&bytes)).unwrap(),
            serde_json::to_value(serde_json::from_slice::<DepartmentView<'_>>(&bytes).unwrap())
                .unwrap(),
        ];
        for n in narrow {
            for (k, v) in n.as_object().unwrap() {
                let full = back.get(k).unwrap_or(&Value::Null);
                assert!(
                    reads_alike(v, full),
                    "{ty}.{k} reads differently: {v} in the narrow view, {full} in the full one"
                );
            }
        }
        for field in *fields {
            if !present(data.get(*field)) {
                continue;
            }
            assert!(
                present(back.get(*field)),
                "{ty}.{field} does not arrive: {data}"
            );
            for (outer, inner) in NESTED_READS.iter().filter(|(o, _)| o == field) {
                let (sent, got) = (&data[*outer], &back[*outer]);
                let (sent, got) = match (sent, got) {
                    (Value::Array(s), Value::Array(g)) => (&s[0], &g[0]),
                    _ => (sent, got),
                };
                for f in *inner {
                    if present(sent.get(*f)) {
                        assert!(present(got.get(*f)), "{ty}.{outer}.{f} does not arrive");
                    }
                }
            }
        }
    }
    let expected: BTreeSet<&str> = READS.iter().map(|(t, _)| *t).collect();
    let missing: Vec<_> = expected.difference(&seen).collect();
    assert!(missing.is_empty(), "no event of {missing:?} was produced");
    let view = Payload::parse(serde_json::to_vec(&log[0].1).unwrap().leak());
    assert_eq!(view.company(), "Huaxin Dealers Ltd");
    assert!(view.arrival_at().is_some() && view.departure_at().is_some());
}

/// The board's rules over compact facts are the visit's own flags, on every step of a
/// whole visit and at times around it.
#[test]
fn the_board_rules_over_facts_are_the_visits_flags() {
    use reception_domain::board::{flags_at, BoardFacts};
    use reception_domain::deadlines::visit_flags;
    use reception_domain::visit::VisitEvent;
    for log in [visit_log(), rejected_log()] {
        let mut visit = Visit::default();
        for (ty, data) in log {
            visit = visit.evolve(&VisitEvent::from_stored(ty, &data).unwrap());
            let facts = BoardFacts::of(&visit).unwrap();
            for d in 18..=30 {
                let now = DateTime::parse_from_rfc3339(&day(d, "12:00")).unwrap();
                assert_eq!(
                    flags_at(&facts, now),
                    visit_flags(&visit, now),
                    "{ty} at {now}"
                );
            }
        }
    }
}
