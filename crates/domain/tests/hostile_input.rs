//! Hostile input, in CI: random and mutated-valid command bodies through the checks the
//! app runs (bounds, parse, decide) and random payloads through the upcaster. Nothing
//! may panic; a refusal of bad input names its field. The same properties are the fuzz
//! targets `command_json` and `upcast` (`fuzz/`, RELIABILITY.md "Hostile input").

mod support;

use proptest::prelude::*;
use reception_domain::complaint::{Complaint, ComplaintCommand};
use reception_domain::visit::{Visit, VisitCommand, VisitEvent};
use reception_domain::{bounds, Aggregate, DomainCommand, DomainError, DomainEvent, ErrorKind};
use serde_json::{json, Map, Value};
use support::*;

/// Every visit and complaint command name, with whether it is a complaint's.
fn commands() -> Vec<(bool, &'static str)> {
    let visit = VisitCommand::schemas().into_iter().map(|s| (false, s.name));
    let complaint = ComplaintCommand::schemas()
        .into_iter()
        .map(|s| (true, s.name));
    visit.chain(complaint).collect()
}

/// Every property name the command schemas declare: keys random bodies are made of.
fn field_names() -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(props)) = m.get("properties") {
                    out.extend(props.keys().cloned());
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for s in VisitCommand::schemas()
        .into_iter()
        .chain(ComplaintCommand::schemas())
    {
        walk(&serde_json::to_value(&s.schema).unwrap(), &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// Strings that reach the interesting branches: times at the edges of what chrono and
/// the deadline arithmetic take, enum-like words, huge and odd texts.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        Just("2026-11-25T10:00:00+08:00".to_string()),
        Just("+262142-12-31T23:59:59+23:59".to_string()),
        Just("-262143-01-01T00:00:00-23:59".to_string()),
        Just("0001-01-01T00:00:00Z".to_string()),
        Just("9999-12-31T23:59:59.999999999+14:00".to_string()),
        Just("2026-11-25".to_string()),
        prop::sample::select(vec![
            "ordinary",
            "senior",
            "special",
            "approve",
            "reject",
            "company",
            "visitor",
            "car",
            "meal",
            "lodging",
            "minor",
            "major",
            "critical",
            "transport",
            "lunch",
        ])
        .prop_map(str::to_string),
        Just("x".repeat(4_001)),
        Just("  ".to_string()),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0i64..1_000).prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(i64::MAX)),
        Just(json!(-1)),
    ]
}

fn json_value(keys: Vec<String>) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        text().prop_map(Value::from),
        Just(json!(uuid::Uuid::from_u128(1))),
    ];
    let key = prop_oneof![3 => prop::sample::select(keys), 1 => "[a-z_]{1,8}"];
    leaf.prop_recursive(3, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Valid bodies to mutate, by command.
fn valid_bodies() -> Vec<(bool, &'static str, Value)> {
    vec![
        (false, "request", request_body(2)),
        (false, "draft-plan", plan_body()),
        (false, "assign-level", json!({"level": "senior"})),
        (
            false,
            "book-meal",
            json!({"meal": "lunch", "at": ARRIVAL, "venue": "v", "party_size": 3, "budget_fen": 50_000}),
        ),
        (
            false,
            "book-lodging",
            json!({"hotel": "h", "stars": 4, "rooms": 1, "nights": 2, "rate_fen": 60_000, "paid_by": "company"}),
        ),
        (
            false,
            "record-expense",
            json!({"category": "car", "amount_fen": 12_000, "receipt_no": "R", "spent_at": ARRIVAL, "description": "taxi", "paid_by": "company", "booking_id": null}),
        ),
        (
            true,
            "raise",
            json!({"customer": "Huaxin Dealers Ltd", "severity": "minor", "category": "transport", "description": "pickup car 40 minutes late"}),
        ),
    ]
}

/// Replaces the `n`-th leaf (depth first, wrapping) of `body` with `with`, or inserts
/// `with` under a new key when `n` says so; answers the path changed.
fn mutate(body: &mut Value, n: usize, with: Value, insert: Option<String>) -> String {
    fn leaves(v: &Value, path: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    leaves(v, p, out);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, v) in a.iter().enumerate() {
                    leaves(v, format!("{path}[{i}]"), out);
                }
            }
            _ => out.push(path),
        }
    }
    let mut paths = Vec::new();
    leaves(body, String::new(), &mut paths);
    let path = paths[n % paths.len()].clone();
    let pointer = format!("/{}", path.replace(['.', '['], "/").replace(']', ""));
    let target = body.pointer_mut(&pointer).expect("a leaf's path");
    match insert {
        Some(key) => {
            let parent = pointer.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
            if let Some(Value::Object(m)) = body.pointer_mut(parent) {
                m.insert(key.clone(), with);
            }
            format!("{path} (+{key})")
        }
        None => {
            *target = with;
            path
        }
    }
}

fn refusal_named(e: &DomainError) -> bool {
    e.kind != ErrorKind::InvalidInput || e.field.as_deref().is_some_and(|f| !f.is_empty())
}

/// As the app runs a command: bounds, then the parse, whose refusal is the answer;
/// a parsed command is then decided on a new and on a filed aggregate, where any
/// refusal of bad input must name its field too.
fn run(complaint: bool, name: &str, body: Value) -> Result<(), DomainError> {
    bounds::check(&body)?;
    let decided = if complaint {
        let cmd = ComplaintCommand::parse(name, body)?;
        let g = Given::<Complaint>::nothing();
        let ctx = g.ctx(cmd.allowed_roles()[0]);
        vec![Complaint::default().decide(cmd, &ctx).map(drop)]
    } else {
        let cmd = VisitCommand::parse(name, body)?;
        let filed = Given::<Visit>::requested(1);
        let ctx = filed.ctx(cmd.allowed_roles()[0]);
        vec![
            Visit::default().decide(cmd.clone(), &ctx).map(drop),
            filed.state.decide(cmd, &ctx).map(drop),
        ]
    };
    for e in decided.iter().filter_map(|r| r.as_ref().err()) {
        assert!(refusal_named(e), "{name} decided: {e:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Random bodies for every command: no panic, and a refusal of bad input names its
    /// field.
    #[test]
    fn random_bodies_never_panic_and_refusals_name_the_field(
        pick in any::<prop::sample::Index>(),
        body in json_value(field_names()),
    ) {
        let all = commands();
        let (complaint, name) = all[pick.index(all.len())];
        if let Err(e) = run(complaint, name, body) {
            prop_assert!(refusal_named(&e), "{}: {:?}", name, e);
        }
    }

    /// Valid bodies with one leaf replaced (or one unknown field added): no panic, a
    /// refusal names its field, and an unknown field is always refused.
    #[test]
    fn mutated_valid_bodies_never_panic_and_unknown_fields_are_refused(
        pick in any::<prop::sample::Index>(),
        leaf in any::<usize>(),
        with in json_value(field_names()),
        unknown in proptest::option::weighted(0.2, prop_oneof![Just(String::new()), "zz_[a-z]{1,6}"]),
    ) {
        let bodies = valid_bodies();
        let (complaint, name, mut body) = bodies[pick.index(bodies.len())].clone();
        run(complaint, name, body.clone()).unwrap_or_else(|e| panic!("{name}: the valid body is refused: {e:?}"));
        let changed = mutate(&mut body, leaf, with, unknown.clone());
        match run(complaint, name, body) {
            Ok(()) => prop_assert!(unknown.is_none(), "{} accepted an unknown field at {}", name, changed),
            Err(e) => prop_assert!(refusal_named(&e), "{} ({}): {:?}", name, changed, e),
        }
    }

    /// The upcaster on any payload of any schema: unchanged unless it rewrites the type
    /// and schema; a rewritten payload is schema 2, keeps its fields and is not
    /// rewritten again; rebuilding the event from it does not panic.
    #[test]
    fn upcasting_any_payload_is_total_and_idempotent(
        t in prop::sample::select(vec!["ReceptionRequested", "ExpenseRecorded", "LevelAssigned", "MealBooked"]),
        schema in 0u32..4,
        payload in json_value(field_names()),
    ) {
        let rewrites = reception_domain::visit::upcast_rewrites(t, schema);
        let (s, out) = reception_domain::visit::upcast(t, schema, payload.clone());
        if !rewrites {
            prop_assert_eq!((s, &out), (schema, &payload));
        } else {
            prop_assert_eq!(s, 2);
            if let (Some(before), Some(after)) = (payload.as_object(), out.as_object()) {
                for (k, v) in before {
                    if k != "approval_required" {
                        prop_assert_eq!(after.get(k), Some(v));
                    }
                }
            }
            prop_assert_eq!(reception_domain::visit::upcast(t, 2, out.clone()), (2, out.clone()));
        }
        if let Ok(ev) = VisitEvent::from_stored(t, &out) {
            prop_assert_eq!(ev.event_type(), t);
        }
    }
}

/// Found by the `command_json` fuzz target: an unknown key `""` was refused naming the
/// field `""` (visit commands). It names the body, or the object that holds the key.
#[test]
fn an_empty_unknown_key_names_the_body_or_its_object() {
    let mut top = valid_bodies()[3].2.clone();
    top[""] = json!(1);
    let e = VisitCommand::parse("book-meal", top).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("body"), "{e:?}");
    let mut nested = request_body(1);
    nested["arrival"][""] = json!(1);
    let e = VisitCommand::parse("request", nested).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("arrival"), "{e:?}");
    let mut complaint = valid_bodies()[6].2.clone();
    complaint[""] = json!(1);
    let e = ComplaintCommand::parse("raise", complaint).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("body"), "{e:?}");
}
