//! The checks behind each fuzz target, one function per target: each takes arbitrary
//! bytes, feeds them to an entry point that hostile input reaches, and panics only when
//! the entry point panics or breaks its contract. `fuzz_targets/` hands them to
//! libFuzzer; `tests/corpus.rs` replays the corpus and generated inputs on stable.

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use reception_domain::complaint::{Complaint, ComplaintCommand};
use reception_domain::policy::PolicyBook;
use reception_domain::visit::{Visit, VisitCommand, VisitEvent};
use reception_domain::{bounds, Actor, Aggregate, Context, DomainCommand, DomainError, DomainEvent, ErrorKind};
use reception_store::backup::ChainCheck;
use reception_store::raw;
use serde_json::Value;

/// The targets by name, for the corpus runner.
pub const TARGETS: [(&str, fn(&[u8])); 4] = [
    ("command_json", command_json),
    ("envelope", envelope),
    ("scan", scan),
    ("upcast", upcast),
];

/// Which aggregate a command name belongs to.
#[derive(Clone, Copy)]
enum Kind {
    Visit,
    Complaint,
}

fn commands() -> &'static [(Kind, &'static str)] {
    static NAMES: OnceLock<Vec<(Kind, &'static str)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let visit = VisitCommand::schemas().into_iter().map(|s| (Kind::Visit, s.name));
        let complaint = ComplaintCommand::schemas()
            .into_iter()
            .map(|s| (Kind::Complaint, s.name));
        visit.chain(complaint).collect()
    })
}

fn time(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("a fixed time")
}

/// The command names in the order the first byte of a `command_json` input picks them.
pub fn command_names() -> Vec<&'static str> {
    commands().iter().map(|(_, n)| *n).collect()
}

/// A valid body for some commands: the seeds of the `command_json` corpus.
pub fn seed_body(name: &str) -> Option<Value> {
    const ARRIVAL: &str = "2026-11-25T10:00:00+08:00";
    Some(match name {
        "request" => serde_json::json!({
            "customer": {"company": "Huaxin Dealers Ltd", "country": "CN", "foreign": false},
            "department": "east-sales",
            "visitors": [{"name": "Visitor", "title": "Manager", "phone": "+86 138 0000 0000"}],
            "headcount": 1,
            "purpose": "dealership renewal",
            "arrival": {"at": ARRIVAL, "mode": "flight", "number": "MU5101", "origin": "Shanghai", "place": "airport"},
            "departure": {"at": "2026-11-27T15:00:00+08:00", "mode": "train", "number": "G7", "place": "station", "arrives_home_at": "2026-11-27T18:00:00+08:00"},
            "needs": {"pickup": true, "dropoff": true, "lodging": true, "meeting_room": true},
            "expedited": null
        }),
        "draft-plan" => serde_json::json!({"items": [{"at": ARRIVAL, "kind": "car", "title": "pickup at the airport", "place": "airport"}]}),
        "assign-level" => serde_json::json!({"level": "senior"}),
        "book-meal" => serde_json::json!({"meal": "lunch", "at": ARRIVAL, "venue": "v", "party_size": 3, "budget_fen": 50_000}),
        "book-lodging" => serde_json::json!({"hotel": "h", "stars": 4, "rooms": 1, "nights": 2, "rate_fen": 60_000, "paid_by": "company"}),
        "record-expense" => serde_json::json!({"category": "car", "amount_fen": 12_000, "receipt_no": "R", "spent_at": ARRIVAL, "description": "taxi", "paid_by": "company", "booking_id": null}),
        "raise" => serde_json::json!({"customer": "Huaxin Dealers Ltd", "severity": "minor", "category": "transport", "description": "pickup car 40 minutes late"}),
        _ => return None,
    })
}

/// A visit as filed by the standard request (what most commands act on).
fn filed_visit() -> &'static Visit {
    static FILED: OnceLock<Visit> = OnceLock::new();
    FILED.get_or_init(|| {
        let body = seed_body("request").expect("a request seed");
        let cmd = VisitCommand::parse("request", body).expect("the standard request parses");
        let ctx = context(cmd.allowed_roles()[0]);
        let events = Visit::default().decide(cmd, &ctx).expect("the standard request is accepted");
        events.iter().fold(Visit::default(), |v, e| v.evolve(e))
    })
}

fn context(role: reception_domain::Role) -> Context {
    Context {
        now: time("2026-11-20T09:00:00+08:00"),
        actor: Actor {
            user: "fuzz".into(),
            role,
        },
        policies: PolicyBook::with_default(),
        entity_id: uuid::Uuid::from_u128(1),
        linked_visit: None,
    }
}

/// A refusal must be a client error that names what it refuses.
fn check_refusal(name: &str, e: &DomainError) {
    if e.kind == ErrorKind::InvalidInput {
        assert!(
            e.field.as_deref().is_some_and(|f| !f.is_empty()),
            "{name}: an invalid_input error names no field: {e:?}"
        );
    }
}

/// Command JSON: the first byte picks a visit or complaint command, the rest is its
/// body. As the app does: bounds first, then the parse, then `decide` (on a new and
/// on a filed visit, on a new complaint). Nothing may panic; an `invalid_input`
/// refusal names its field; an accepted body holds no string or list over the bounds.
pub fn command_json(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(body) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let (kind, name) = commands()[usize::from(pick) % commands().len()];
    if let Err(e) = bounds::check(&body) {
        check_refusal(name, &e);
        return;
    }
    match kind {
        Kind::Visit => match VisitCommand::parse(name, body) {
            Ok(cmd) => {
                let ctx = context(cmd.allowed_roles()[0]);
                for state in [Visit::default(), filed_visit().clone()] {
                    if let Err(e) = state.decide(cmd.clone(), &ctx) {
                        check_refusal(name, &e);
                    }
                }
            }
            Err(e) => check_refusal(name, &e),
        },
        Kind::Complaint => match ComplaintCommand::parse(name, body) {
            Ok(cmd) => {
                let ctx = context(cmd.allowed_roles()[0]);
                if let Err(e) = Complaint::default().decide(cmd, &ctx) {
                    check_refusal(name, &e);
                }
            }
            Err(e) => check_refusal(name, &e),
        },
    }
}

/// Stored bytes as the store reads them: a log record (one envelope, or the tagged
/// multi-envelope form) whose first seq is taken from the input, each envelope decoded.
/// Nothing may panic; a record that parses re-encodes to the same bytes; an envelope
/// that decodes serialises and decodes back to itself and goes through the backup's
/// chain check without a panic.
pub fn envelope(data: &[u8]) {
    let first = data
        .get(..2)
        .map_or(1, |b| u64::from(u16::from_le_bytes([b[0], b[1]])));
    let first = if data.first() == Some(&0xFF) { u64::MAX - first } else { first.max(1) };
    let record = data.get(2..).unwrap_or_default();
    if let Ok(envelopes) = raw::record_envelopes(first, record) {
        let bodies: Vec<&[u8]> = envelopes.iter().map(|(_, b)| b.as_slice()).collect();
        assert_eq!(raw::encode_record(&bodies), record, "a parsed record re-encodes to itself");
        for (seq, bytes) in &envelopes {
            decode_one(*seq, bytes);
        }
    }
    decode_one(1, data);
}

fn decode_one(seq: u64, bytes: &[u8]) {
    let Ok(env) = raw::decode_envelope(seq, bytes) else {
        return;
    };
    let again = serde_json::to_vec(&env).expect("a decoded envelope serialises");
    let back = raw::decode_envelope(seq, &again).expect("a serialised envelope decodes");
    assert_eq!(back, env, "an envelope survives a round trip");
    let _ = ChainCheck::default().next(&env);
}

/// The scan fast path on any bytes, as the record of the seq the bytes say (and of seq
/// 1): it must answer what serde_json answers (`raw::fast_path_check`); a short input is
/// also given to the fast time parser, which must read what chrono reads.
pub fn scan(data: &[u8]) {
    let seq = data
        .strip_prefix(b"{\"seq\":")
        .map(|rest| rest.iter().take_while(|c| c.is_ascii_digit()).fold(0u64, |n, c| n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'))))
        .unwrap_or(1);
    for s in [seq, 1] {
        if let Err(e) = raw::fast_path_check(s, data) {
            panic!("scan and serde_json disagree on seq {s}: {e}");
        }
    }
    if data.len() <= 64 {
        if let Ok(text) = std::str::from_utf8(data) {
            if let Err(e) = raw::fast_time_check(text) {
                panic!("{e}");
            }
        }
    }
}

/// The visit upcaster: the first byte picks the event type, the second the stored
/// schema, the rest is the payload. Events it does not rewrite come back unchanged;
/// rewritten ones reach schema 2, keep every field they had (but `approval_required`,
/// which a schema-1 request never had) and are not rewritten again; the result goes to
/// `VisitEvent::from_stored` without a panic, and a rebuilt event has the stored type.
pub fn upcast(data: &[u8]) {
    const TYPES: [&str; 4] = ["ReceptionRequested", "ExpenseRecorded", "LevelAssigned", "MealBooked"];
    let (Some(&t), Some(&schema)) = (data.first(), data.get(1)) else {
        return;
    };
    let Ok(payload) = serde_json::from_slice::<Value>(&data[2..]) else {
        return;
    };
    let event_type = TYPES[usize::from(t) % TYPES.len()];
    let schema = u32::from(schema % 4);
    let rewrites = reception_domain::visit::upcast_rewrites(event_type, schema);
    let (new_schema, out) = reception_domain::visit::upcast(event_type, schema, payload.clone());
    if !rewrites {
        assert_eq!((new_schema, &out), (schema, &payload), "{event_type} {schema} is left as it is");
    } else {
        assert_eq!(new_schema, 2);
        if let (Some(before), Some(after)) = (payload.as_object(), out.as_object()) {
            for (k, v) in before {
                if k != "approval_required" {
                    assert_eq!(after.get(k), Some(v), "{event_type}: field {k} kept");
                }
            }
        }
        let (s2, again) = reception_domain::visit::upcast(event_type, new_schema, out.clone());
        assert_eq!((s2, &again), (new_schema, &out), "an upcast event is not upcast again");
    }
    if let Ok(ev) = VisitEvent::from_stored(event_type, &out) {
        assert_eq!(ev.event_type(), event_type);
        let _ = ev.to_data();
    }
}
