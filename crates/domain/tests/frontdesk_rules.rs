//! Given/when/then tests of the front-desk sign-in book (F1) and its roles.

mod support;

use chrono::Duration;
use reception_domain::frontdesk::*;
use reception_domain::policy::PolicyBook;
use reception_domain::{Aggregate, DomainCommand, DomainError, DomainEvent, ErrorKind, Role};
use serde_json::{json, Value};
use support::{Then, Time};
use uuid::Uuid;

fn t0() -> Time {
    "2026-11-23T08:30:00+08:00".parse().unwrap()
}
fn mins(m: i64) -> Time {
    t0() + Duration::minutes(m)
}

fn sign_in_body() -> Value {
    json!({"name": "Zhao Min", "party_size": 3, "reason": "parts delivery", "host": "Wu Fang"})
}

/// Given these events at `now` (the desk's user, entity id `0xF1`, an empty policy book).
fn given(events: &[SignInEvent], now: Time) -> support::Given<SignIn> {
    support::given(events)
        .at_time(now)
        .with_user("desk")
        .with_entity(Uuid::from_u128(0xF1))
        .with_policies(PolicyBook::default())
}

/// When `name` with `body` as `role` at `now`, given these events.
fn when(
    events: &[SignInEvent],
    role: Role,
    now: Time,
    name: &str,
    body: Value,
) -> Result<Vec<SignInEvent>, DomainError> {
    given(events, now).when(role, name, body)
}

fn signed_in_at(at: Time) -> Vec<SignInEvent> {
    when(&[], Role::Frontdesk, at, "sign-in", sign_in_body()).unwrap()
}

#[test]
fn f1_a_walk_in_signs_in_with_name_party_reason_host_and_time() {
    let events = when(&[], Role::Frontdesk, mins(10), "sign-in", json!({
        "name": "Zhao Min", "party_size": 3, "reason": "parts delivery", "host": "Wu Fang", "at": mins(5)
    }))
    .unwrap();
    let [SignInEvent::VisitorSignedIn(e)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(e.sign_in_id, Uuid::from_u128(0xF1));
    assert_eq!(
        (
            e.name.as_str(),
            e.party_size,
            e.reason.as_str(),
            e.host.as_str()
        ),
        ("Zhao Min", 3, "parts delivery", "Wu Fang")
    );
    assert_eq!(e.at, mins(5), "the given time is kept");
    let state = events.iter().fold(SignIn::default(), |s, e| s.evolve(e));
    assert!(state.on_site());
    assert_eq!(state.version(), 1);
    // without `at`, the server clock
    let events = signed_in_at(mins(7));
    let [SignInEvent::VisitorSignedIn(e)] = events.as_slice() else {
        panic!()
    };
    assert_eq!(e.at, mins(7));
}

#[test]
fn f1_signing_out_twice_is_rejected() {
    let mut events = signed_in_at(t0());
    events.extend(when(&events, Role::Frontdesk, mins(60), "sign-out", json!({})).unwrap());
    let state = events.iter().fold(SignIn::default(), |s, e| s.evolve(e));
    assert!(!state.on_site());
    assert_eq!(state.signed_out_at, Some(mins(60)));
    when(&events, Role::Frontdesk, mins(61), "sign-out", Value::Null).then_violation("F1");
}

#[test]
fn f1_signing_out_before_signing_in_is_rejected() {
    let events = signed_in_at(mins(30));
    let err = when(
        &events,
        Role::Frontdesk,
        mins(40),
        "sign-out",
        json!({"at": mins(29)}),
    )
    .then_violation("F1");
    assert_eq!(err.field.as_deref(), Some("at"));
    assert!(when(
        &events,
        Role::Frontdesk,
        mins(40),
        "sign-out",
        json!({"at": mins(30)})
    )
    .is_ok());
}

#[test]
fn f1_sign_out_of_an_unknown_sign_in_is_not_found_and_signing_in_twice_is_refused() {
    let err = when(&[], Role::Frontdesk, t0(), "sign-out", json!({})).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = when(
        &signed_in_at(t0()),
        Role::Frontdesk,
        t0(),
        "sign-in",
        sign_in_body(),
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidState);
}

#[test]
fn f1_times_in_the_future_are_refused() {
    let err = when(
        &[],
        Role::Frontdesk,
        t0(),
        "sign-in",
        json!({
            "name": "A", "party_size": 1, "reason": "r", "host": "h", "at": mins(30)
        }),
    )
    .unwrap_err();
    assert_eq!(
        (err.kind, err.field.as_deref()),
        (ErrorKind::InvalidInput, Some("at"))
    );
}

#[test]
fn only_the_front_desk_and_admin_keep_the_book() {
    for role in [Role::Frontdesk, Role::Admin] {
        assert!(
            when(&[], role, t0(), "sign-in", sign_in_body()).is_ok(),
            "{role:?}"
        );
    }
    for role in [
        Role::Reception,
        Role::Requester,
        Role::Auditor,
        Role::Analyst,
        Role::Finance,
        Role::Approver,
    ] {
        let err = when(&[], role, t0(), "sign-in", sign_in_body()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Forbidden, "{role:?}");
        let err = when(&signed_in_at(t0()), role, mins(5), "sign-out", json!({})).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Forbidden, "{role:?}");
    }
}

#[test]
fn bad_sign_in_bodies_name_the_field() {
    let field = |body: Value| SignInCommand::parse("sign-in", body).unwrap_err().field;
    assert_eq!(
        field(json!({"name": "A", "party_size": 0, "reason": "r", "host": "h"})).as_deref(),
        Some("party_size")
    );
    assert_eq!(
        field(json!({"name": "A", "party_size": -2, "reason": "r", "host": "h"})).as_deref(),
        Some("party_size")
    );
    assert_eq!(
        field(json!({"name": "", "party_size": 1, "reason": "r", "host": "h"})).as_deref(),
        Some("name")
    );
    assert_eq!(
        field(json!({"name": "A", "party_size": 1, "reason": "r"})).as_deref(),
        Some("host")
    );
    assert_eq!(
        field(json!({"name": "A", "party_size": 1, "reason": "r", "host": "h", "at": "yesterday"}))
            .as_deref(),
        Some("at")
    );
    let err = SignInCommand::parse("sign-up", json!({})).unwrap_err();
    assert_eq!(
        (err.kind, err.field.as_deref()),
        (ErrorKind::NotFound, Some("command"))
    );
}

#[test]
fn front_desk_events_round_trip_through_their_stored_form() {
    let mut events = signed_in_at(t0());
    events.extend(when(&events, Role::Frontdesk, mins(60), "sign-out", json!({})).unwrap());
    for e in &events {
        assert_eq!(
            SignInEvent::from_stored(e.event_type(), &e.to_data()).unwrap(),
            *e
        );
        assert!(e.occurred_at().is_some());
    }
    assert_eq!(
        events.iter().map(|e| e.event_type()).collect::<Vec<_>>(),
        ["VisitorSignedIn", "VisitorSignedOut"]
    );
}
