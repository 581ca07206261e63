//! The policy as data: the default version 1 against DOMAIN.md's table, the cap
//! formula, the book of versions (V20) and the `policy` aggregate's publish command.

mod support;

use reception_domain::policy::{
    CapKind, LevelId, PaidBy, Policy, PolicyBook, PolicyCommand, PolicyEvent, PolicyState,
    DEFAULT_POLICY_V1_JSON,
};
use reception_domain::{Aggregate, DomainCommand, DomainEvent, ErrorKind, Fen, Role};
use serde_json::json;
use support::{t, Then};
use uuid::Uuid;

/// Given these events on the policy stream: a fixed clock, user `u`, nil entity ids,
/// an empty policy book.
fn given(events: &[PolicyEvent]) -> support::Given<PolicyState> {
    support::given(events)
        .at("2026-11-22T09:00:00+08:00")
        .with_user("u")
        .with_entity(Uuid::nil())
        .with_policies(PolicyBook::new())
}

fn level<'a>(p: &'a Policy, id: &str) -> &'a reception_domain::policy::LevelPolicy {
    p.level(&LevelId::parse(id).unwrap()).unwrap()
}

#[test]
fn the_default_policy_v1_matches_domain_md() {
    let p = Policy::default_v1();
    p.validate().unwrap();
    assert_eq!(p.version, 1);
    let ids: Vec<&str> = p.levels.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["ordinary", "senior", "special"]);
    let (o, s, x) = (
        level(&p, "ordinary"),
        level(&p, "senior"),
        level(&p, "special"),
    );
    let y = Fen::from_yuan;
    assert_eq!(
        (
            o.meals.lunch_cap_fen,
            o.meals.dinner_cap_fen,
            o.meals.surcharge_fen
        ),
        (Some(y(300)), Some(y(400)), y(50))
    );
    assert_eq!(
        (
            s.meals.lunch_cap_fen,
            s.meals.dinner_cap_fen,
            s.meals.surcharge_fen
        ),
        (Some(y(500)), Some(y(500)), y(100))
    );
    assert_eq!(
        (
            x.meals.lunch_cap_fen,
            x.meals.dinner_cap_fen,
            x.meals.surcharge_fen
        ),
        (Some(y(1000)), Some(y(1000)), y(100))
    );
    assert!(o.entertainment.is_none());
    assert_eq!(
        s.entertainment.map(|c| (c.cap_fen, c.surcharge_fen)),
        Some((y(700), y(200)))
    );
    assert_eq!(
        x.entertainment.map(|c| (c.cap_fen, c.surcharge_fen)),
        Some((y(1200), y(250)))
    );
    assert_eq!(
        (o.lodging.paid_by, s.lodging.paid_by, x.lodging.paid_by),
        (PaidBy::Visitor, PaidBy::Visitor, PaidBy::Company)
    );
    assert_eq!(
        (
            x.lodging.min_stars,
            x.lodging.min_rate_fen,
            x.lodging.max_rate_fen
        ),
        (Some(4), Some(y(400)), Some(y(700)))
    );
    assert_eq!(o.vehicle_classes, ["suv", "taxi"]);
    assert_eq!(s.vehicle_classes, ["suv", "mpv", "taxi"]);
    assert_eq!(x.vehicle_classes, ["business_car", "rented_premium"]);
    assert_eq!(o.accompanying_roles, ["salesperson", "regional_manager"]);
    assert!(x.allows_role("shareholder") && !s.allows_role("shareholder"));
    assert_eq!((o.souvenirs, s.souvenirs, x.souvenirs), (false, true, true));
    assert!(o.home_reception.is_none() && x.home_reception.is_none());
    assert_eq!(
        s.home_reception.map(|h| (h.min_staff, h.max_staff)),
        Some((1, 2))
    );
    assert!(x.summary_to_general_manager && !s.summary_to_general_manager);
    assert!(DEFAULT_POLICY_V1_JSON.contains("\"version\": 1"));
}

#[test]
fn the_cap_is_cap_plus_surcharge_per_visitor_beyond_two() {
    let p = Policy::default_v1();
    let o = level(&p, "ordinary");
    assert_eq!(o.cap_for(CapKind::Dinner, 4), Some(Fen::from_yuan(500)));
    assert_eq!(o.cap_for(CapKind::Dinner, 1), Some(Fen::from_yuan(400)));
    assert_eq!(
        o.cap_for(CapKind::Lunch, 10),
        Some(Fen::from_yuan(300 + 50 * 8))
    );
    assert_eq!(o.cap_for(CapKind::Entertainment, 2), None);
    let x = level(&p, "special");
    assert_eq!(
        x.cap_for(CapKind::Entertainment, 3),
        Some(Fen::from_yuan(1450))
    );
    assert_eq!(x.lodging_cap(2, 3), Some(Fen::from_yuan(700 * 6)));
    assert_eq!(o.lodging_cap(2, 3), Some(Fen::ZERO));
}

fn v(n: u32, from: &str) -> Policy {
    let mut p = Policy::default_v1();
    p.version = n;
    p.effective_from = t(from);
    p
}

#[test]
fn v20_the_version_in_force_is_the_latest_effective_one() {
    let book = PolicyBook::from_versions(vec![
        v(1, "2026-01-01T00:00:00+08:00"),
        v(2, "2026-12-01T00:00:00+08:00"),
    ])
    .unwrap();
    assert_eq!(
        book.in_force(t("2025-12-31T23:59:59+08:00"))
            .map(|p| p.version),
        None
    );
    assert_eq!(
        book.in_force(t("2026-11-30T23:59:59+08:00"))
            .map(|p| p.version),
        Some(1)
    );
    assert_eq!(
        book.in_force(t("2026-11-30T16:00:00Z")).map(|p| p.version),
        Some(2)
    ); // = 12-01 00:00 +08:00
    assert_eq!(book.version(1).map(|p| p.version), Some(1));
    assert_eq!(book.latest().map(|p| p.version), Some(2));
    assert!(book.version(3).is_none());
}

#[test]
fn publishing_needs_admin_the_next_version_and_a_non_decreasing_effective_time() {
    let nothing = given(&[]);
    let publish =
        |p: &Policy| PolicyCommand::parse("publish", serde_json::to_value(p).unwrap()).unwrap();
    let first = v(1, "2026-01-01T00:00:00+08:00");
    nothing
        .when_command(Role::Reception, publish(&first))
        .then_error(ErrorKind::Forbidden, None);
    assert_eq!(
        nothing
            .when_command(Role::Admin, publish(&v(2, "2026-01-01T00:00:00+08:00")))
            .unwrap_err()
            .field
            .as_deref(),
        Some("version")
    );
    let events = nothing
        .when_command(Role::System, publish(&first))
        .then_events(&[PolicyEvent::PolicyPublished(first.clone())]);
    let g = given(&events);
    assert_eq!(g.state.version(), 1);
    let early = v(2, "2025-06-01T00:00:00+08:00");
    let e = g
        .when_command(Role::Admin, publish(&early))
        .then_error(ErrorKind::InvalidInput, Some("effective_from"));
    assert_eq!(e.rule.as_deref(), Some("V20"));
    let second = v(2, "2026-12-01T00:00:00+08:00");
    let ok = g
        .when_command(Role::Admin, publish(&second))
        .then_events(&[PolicyEvent::PolicyPublished(second.clone())]);
    let PolicyEvent::PolicyPublished(p) = &ok[0];
    assert_eq!(p.version, 2);
    let back = PolicyEvent::from_stored(ok[0].event_type(), &ok[0].to_data()).unwrap();
    assert_eq!(back, ok[0]);
    assert_eq!(
        PolicyState::default()
            .book_or_default()
            .latest()
            .map(|p| p.version),
        Some(1)
    );
}

#[test]
fn a_bad_policy_body_names_the_field() {
    let mut body = serde_json::to_value(Policy::default_v1()).unwrap();
    body["levels"][1]["meals"]["lunch_cap_fen"] = json!(-1);
    let e = PolicyCommand::parse("publish", body).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("levels[1].meals.lunch_cap_fen"));
    let mut dup = Policy::default_v1();
    dup.levels[1].id = LevelId::parse("ordinary").unwrap();
    assert_eq!(
        dup.validate().unwrap_err().field.as_deref(),
        Some("levels[1].id")
    );
    assert_eq!(
        LevelId::parse("Royal Guest").unwrap_err().field.as_deref(),
        Some("level")
    );
    assert_eq!(
        PolicyCommand::parse("burn", json!({})).unwrap_err().kind,
        ErrorKind::NotFound
    );
}
