//! Property tests of the visit aggregate: replay, closed/cancelled visits, money.

mod support;

use chrono::Duration;
use proptest::prelude::*;
use reception_domain::visit::{Stage, Visit, VisitEvent};
use reception_domain::{Aggregate, DomainEvent, Role};
use serde_json::{json, Value};
use support::*;
use uuid::Uuid;

/// The harness over a visit.
type Given = support::Given<Visit>;

/// One random command: (which, a, b).
type Op = (u8, u32, u32);

/// When the generated expenses were spent (before any generated clock reading).
const SPENT_AT: &str = "2026-01-01T00:00:00+08:00";

const LEVELS: [&str; 3] = ["ordinary", "senior", "special"];
const CATEGORIES: [&str; 7] = [
    "meal",
    "lodging",
    "car",
    "entertainment",
    "gift",
    "venue",
    "other",
];

fn pick(ids: &[Uuid], a: u32) -> Value {
    if ids.is_empty() {
        json!(Uuid::from_u128(u128::from(a)))
    } else {
        json!(ids[a as usize % ids.len()])
    }
}

/// Turns an op into a command (role, route, body) given what exists in the visit.
fn command(v: &Visit, (k, a, b): Op) -> (Role, &'static str, Value) {
    let at = |h: u32| (t(FILED) + Duration::hours(i64::from(h % 200))).to_rfc3339();
    let bookings: Vec<Uuid> = v
        .bookings
        .meals
        .iter()
        .map(|m| m.booking_id)
        .chain(v.bookings.lodging.iter().map(|l| l.booking_id))
        .chain(v.bookings.entertainment.iter().map(|e| e.booking_id))
        .collect();
    let expenses: Vec<Uuid> = v.expenses.iter().map(|e| e.recorded.expense_id).collect();
    let souvenirs: Vec<Uuid> = v.souvenirs.iter().map(|s| s.planned.souvenir_id).collect();
    let over = |body: Value| -> Value {
        let mut body = body;
        if b % 5 == 0 {
            body["override"] = json!({"reason": "approved exception"});
        }
        body
    };
    let role = |default: Role| if b % 5 == 0 { Role::Approver } else { default };
    match k % 24 {
        0 => (
            Role::Reception,
            "assign-level",
            json!({"level": LEVELS[a as usize % 3]}),
        ),
        1 => (
            Role::Reception,
            "change-level",
            json!({"level": LEVELS[b as usize % 3], "reason": "changed"}),
        ),
        2 => (Role::Reception, "draft-plan", plan_body()),
        3 => (
            Role::Approver,
            "review-plan",
            json!({"approved": a % 2 == 0, "comments": "c"}),
        ),
        4 => (
            role(Role::Reception),
            "assign-staff",
            over(json!({"host": format!("host {a}"),
              "accompanying": [{"name": "x", "role": (["salesperson", "shareholder", "regional_manager"][b as usize % 3])}]})),
        ),
        5 => (
            Role::Reception,
            "reassign-host",
            json!({"host": format!("host {b}"), "reason": "r"}),
        ),
        6 => (
            role(Role::Reception),
            "dispatch-car",
            over(
                json!({"leg": (["pickup", "dropoff", "local"][a as usize % 3]),
              "vehicle_class": (["suv", "mpv", "business_car"][b as usize % 3]), "driver": "d", "plate": "p",
              "ready_at": at(a), "place": "airport", "number": "MU1"}),
            ),
        ),
        7 => (
            role(Role::Reception),
            "book-meal",
            over(
                json!({"meal": (["lunch", "dinner"][a as usize % 2]), "at": at(a),
              "venue": "v", "party_size": a % 10 + 1, "budget_fen": b % 200_000}),
            ),
        ),
        8 => (
            role(Role::Reception),
            "arrange-entertainment",
            over(json!({"at": at(a), "kind": "k",
              "party_size": a % 10 + 1, "budget_fen": b % 300_000})),
        ),
        9 => (
            role(Role::Reception),
            "book-lodging",
            over(json!({"hotel": "h", "stars": a % 5 + 1, "rooms": a % 3 + 1,
              "nights": b % 3 + 1, "rate_fen": b % 90_000, "paid_by": (["company", "visitor"][a as usize % 2])})),
        ),
        10 => (
            Role::Reception,
            "plan-souvenir",
            json!({"item": "i", "unit_cost_fen": b % 100_000, "quantity": a % 4 + 1}),
        ),
        11 => (
            Role::Reception,
            "hand-souvenir",
            json!({"souvenir_id": pick(&souvenirs, a)}),
        ),
        12 => (Role::Reception, "record-arrival", json!({"at": at(a)})),
        13 => (Role::Reception, "record-departure", json!({"at": at(a)})),
        14 | 15 => (
            Role::Finance,
            "record-expense",
            json!({"category": CATEGORIES[a as usize % 7],
              "amount_fen": b % 150_000, "receipt_no": "R", "spent_at": SPENT_AT, "description": "test expense", "paid_by": (["company", "visitor"][(b / 7) as usize % 2]),
              "booking_id": if CATEGORIES[a as usize % 7] == "car" { Value::Null } else { pick(&bookings, b) }}),
        ),
        16 => (
            Role::Approver,
            "decide-expense",
            json!({"expense_id": pick(&expenses, a), "approved": b % 2 == 0, "comments": "c"}),
        ),
        17 => (
            Role::Finance,
            "issue-advance",
            json!({"amount_fen": b % 1_000_000}),
        ),
        18 => {
            let adv = v.advance.as_ref().map_or(0, |x| x.amount_fen.fen());
            let r = i64::from(b) % (adv + 1);
            let back = if a % 4 == 0 { adv - r + 1 } else { adv - r };
            (
                Role::Finance,
                "settle-advance",
                json!({"receipts_fen": r, "cash_returned_fen": back}),
            )
        }
        19 => (
            Role::Reception,
            "return-call",
            json!({"reached": a % 3 == 0, "satisfaction": a % 5 + 1}),
        ),
        20 => (Role::Reception, "file-summary", json!({"results": "r"})),
        21 if a % 8 == 0 => (Role::Reception, "cancel", json!({"reason": "r"})),
        22 => (Role::Reception, "close", json!({})),
        _ => (
            Role::Reception,
            "record-expense",
            json!({"category": "car", "amount_fen": b % 150_000 + 1,
              "receipt_no": "R", "spent_at": SPENT_AT, "description": "test expense", "paid_by": "company", "reverses": pick(&expenses, a)}),
        ),
    }
}

/// Every number under a key ending in `_fen` is non-negative.
fn no_negative_money(v: &Value, path: &str) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k.ends_with("_fen") {
                    if let Some(n) = x.as_i64() {
                        if n < 0 {
                            return Err(format!("{path}.{k} = {n}"));
                        }
                    }
                }
                no_negative_money(x, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        Value::Array(xs) => xs
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| no_negative_money(x, &format!("{path}[{i}]"))),
        _ => Ok(()),
    }
}

fn run(ops: &[Op]) -> Given {
    let mut g = Given::approved(3);
    for (i, op) in ops.iter().enumerate() {
        g.now = t(FILED) + Duration::hours(i as i64 * 3);
        let (role, name, body) = command(&g.state, *op);
        let _ = g.try_cmd(role, name, body);
    }
    g
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec((any::<u8>(), any::<u32>(), any::<u32>()), 0..80)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn accepted_events_replayed_through_evolve_give_the_same_state(ops in ops()) {
        let g = run(&ops);
        let replayed = g.events.iter().fold(Visit::default(), |v, e| {
            let stored = VisitEvent::from_stored(e.event_type(), &e.to_data()).expect("round trip");
            v.evolve(&stored)
        });
        prop_assert_eq!(&replayed, &g.state);
        prop_assert_eq!(replayed.version(), g.events.len() as u64);
    }

    #[test]
    fn a_closed_or_cancelled_visit_never_accepts_a_booking(ops in ops(), cancel_at in 0usize..80) {
        let mut ops = ops;
        // make a cancellation likely somewhere in the sequence
        let at = cancel_at.min(ops.len());
        ops.insert(at, (21, 0, 0));
        let mut g = Given::approved(3);
        for (i, op) in ops.iter().enumerate() {
            g.now = t(FILED) + Duration::hours(i as i64 * 3);
            let (role, name, body) = command(&g.state, *op);
            let finished = matches!(g.state.stage, Stage::Closed | Stage::Cancelled);
            let res = g.try_cmd(role, name, body);
            if finished {
                let allowed = matches!(name, "decide-expense" | "record-expense");
                prop_assert!(allowed || res.is_err(), "{} accepted on a finished visit", name);
                for booking in ["book-meal", "book-lodging", "arrange-entertainment"] {
                    for role in [Role::Reception, Role::Approver, Role::Admin] {
                        let (_, _, body) = command(&g.state, (match booking { "book-meal" => 7, "book-lodging" => 9, _ => 8 }, 1, 5));
                        let e = g.when(role, booking, body).expect_err("booking on a finished visit");
                        prop_assert!(e.rule.as_deref() == Some("V21") || e.kind == reception_domain::ErrorKind::Forbidden, "{:?}", e);
                    }
                }
            }
        }
    }

    #[test]
    fn money_never_goes_negative(ops in ops()) {
        let g = run(&ops);
        let state = serde_json::to_value(&g.state).unwrap();
        prop_assert!(no_negative_money(&state, "visit").is_ok(), "{:?}", no_negative_money(&state, "visit"));
        for e in &g.events {
            prop_assert!(no_negative_money(&e.to_data(), e.event_type()).is_ok());
        }
        // a settled advance balances to the fen
        if let Some(s) = g.state.advance.as_ref().and_then(|a| a.settlement.as_ref()) {
            prop_assert_eq!(s.receipts_fen.fen() + s.cash_returned_fen.fen(), s.advance_fen.fen());
        }
    }
}

/// Guards the properties above against vacuity: the generator does reach closed and
/// cancelled visits, bookings and over-cap expenses.
#[test]
fn the_generator_reaches_every_interesting_state() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let (mut closed, mut cancelled, mut booked, mut over_cap, mut events) = (0, 0, 0, 0, 0);
    for _ in 0..400 {
        let ops = ops().new_tree(&mut runner).unwrap().current();
        let g = run(&ops);
        closed += usize::from(g.state.stage == Stage::Closed);
        cancelled += usize::from(g.state.stage == Stage::Cancelled);
        booked += usize::from(!g.state.bookings.meals.is_empty());
        over_cap += usize::from(g.state.expenses.iter().any(|e| e.recorded.over_cap));
        events += g.events.len();
    }
    println!(
        "closed {closed} cancelled {cancelled} booked {booked} over_cap {over_cap} events {events}"
    );
    assert!(
        closed > 0 && cancelled > 0 && booked > 0 && over_cap > 0,
        "closed {closed} cancelled {cancelled} booked {booked} over_cap {over_cap}"
    );
}
