//! The "done when" of issue 20 as rules over pure functions: the host told on sign-in,
//! the approver when a request waits, the head of department at once on a major
//! complaint (urgent, even at night), the reception office before a visit deadline;
//! quiet hours and stable ids.

use chrono::{DateTime, FixedOffset};
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::aggregate::Aggregate;
use crate::common::{Actor, DomainCommand};
use crate::staff::{Directory, StaffCommand};
use crate::visit::{Visit, VisitCommand};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn ctx(now: &str, role: Role) -> Context {
    Context {
        now: at(now),
        actor: Actor {
            user: "tester".into(),
            role,
        },
        policies: crate::policy_book::PolicyBook::with_default(),
        entity_id: Uuid::from_u128(7),
        linked_visit: None,
    }
}

fn directory() -> Directory {
    let people = [
        json!({"id": "li.na", "name": "李娜", "department": "east-sales", "roles": ["staff"],
               "contacts": {"email": "li.na@example.com"}}),
        json!({"id": "zhao.min", "name": "赵敏", "department": "east-sales", "roles": ["approver"],
               "contacts": {"email": "zhao@example.com"}}),
        json!({"id": "sun.head", "name": "孙总", "department": "east-sales", "roles": ["head"],
               "contacts": {"email": "sun@example.com"}, "digest": true}),
        json!({"id": "desk", "name": "接待办", "roles": ["reception"], "lang": "en",
               "contacts": {"email": "desk@example.com"}}),
    ];
    people.into_iter().fold(Directory::default(), |d, p| {
        let c = StaffCommand::parse("register", p).unwrap();
        let evs = d
            .decide(c, &ctx("2026-11-20T09:00:00+08:00", Role::Admin))
            .unwrap();
        evs.iter().fold(d, |d, e| d.evolve(e))
    })
}

fn event<'a>(ty: &'a str, data: &'a serde_json::Value, when: &str) -> EventRef<'a> {
    EventRef {
        id: Uuid::from_u128(42),
        event_type: ty,
        data,
        occurred_at: at(when),
        stream_id: Some(Uuid::from_u128(9)),
    }
}

#[test]
fn the_default_rules_are_valid_version_1() {
    let r = NotificationRules::default_v1();
    assert_eq!(r.version, 1);
    r.check_next(None).unwrap();
    assert!(r.check_next(Some(1)).is_err());
}

#[test]
fn a_host_named_by_directory_id_or_name_is_told_of_a_sign_in() {
    let dir = directory();
    let rules = NotificationRules::default_v1();
    for host in ["li.na", "李娜"] {
        let data = json!({"name": "王磊", "host": host, "reason": "续约", "customer": "华信"});
        let now = at("2026-11-25T10:00:00+08:00");
        let facts = facts_of_event(
            event("VisitorSignedIn", &data, "2026-11-25T10:00:00+08:00"),
            &People::default(),
            None,
        );
        assert_eq!(facts.len(), 1);
        let out = plan(&facts[0], &rules, None, &dir, now);
        assert_eq!(out.len(), 1, "{out:?}");
        let n = &out[0];
        assert_eq!(
            (n.recipient.as_str(), n.kind),
            ("li.na", FactKind::VisitorSignedIn)
        );
        assert_eq!(
            n.id,
            format!("ev-{}.visitor_signed_in.li.na", Uuid::from_u128(42))
        );
        assert!(n.title.contains("访客"), "{}", n.title);
        assert!(n.body.contains("王磊") && n.body.contains("华信"));
        assert!(n.channels.contains(&Channel::Email));
    }
    // a free-text host the directory does not know reaches nobody, and nothing fails
    let data = json!({"name": "王磊", "host": "Somebody", "reason": "x"});
    let facts = facts_of_event(
        event("VisitorSignedIn", &data, "2026-11-25T10:00:00+08:00"),
        &People::default(),
        None,
    );
    assert!(plan(
        &facts[0],
        &rules,
        None,
        &dir,
        at("2026-11-25T10:00:00+08:00")
    )
    .is_empty());
}

#[test]
fn v22_the_departments_approver_is_told_when_a_request_waits() {
    let people = People {
        department: Some("east-sales".into()),
        ..People::default()
    };
    let data = json!({"approval_required": true});
    let facts = facts_of_event(
        event("ReceptionRequested", &data, "2026-11-20T09:00:00+08:00"),
        &people,
        None,
    );
    let out = plan(
        &facts[0],
        &NotificationRules::default_v1(),
        None,
        &directory(),
        at("2026-11-20T09:00:00+08:00"),
    );
    let who: Vec<&str> = out.iter().map(|n| n.recipient.as_str()).collect();
    assert_eq!(who, ["zhao.min"]);
    // another department's request is not theirs
    let people = People {
        department: Some("west".into()),
        ..People::default()
    };
    let facts = facts_of_event(
        event("ReceptionRequested", &data, "2026-11-20T09:00:00+08:00"),
        &people,
        None,
    );
    assert!(plan(
        &facts[0],
        &NotificationRules::default_v1(),
        None,
        &directory(),
        at("2026-11-20T09:00:00+08:00")
    )
    .is_empty());
}

#[test]
fn c2_a_major_complaint_reaches_the_head_at_once_even_at_3am_and_past_their_digest() {
    let data = json!({"severity": "major", "customer": "华信", "department": "east-sales"});
    let night = "2026-11-21T03:00:00+08:00";
    let facts = facts_of_event(
        event("ComplaintRaised", &data, night),
        &People::default(),
        None,
    );
    let kinds: Vec<FactKind> = facts.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FactKind::ComplaintRaised, FactKind::ComplaintMajor]);
    let out = plan(
        &facts[1],
        &NotificationRules::default_v1(),
        None,
        &directory(),
        at(night),
    );
    let head = out
        .iter()
        .find(|n| n.recipient == "sun.head")
        .expect("the head is told");
    assert!(head.urgent && !head.digest);
    assert_eq!(
        head.not_before,
        at(night),
        "urgent: not held for quiet hours"
    );
    assert!(head.body.contains("10 分钟"));
    assert_eq!(head.link, "#/complaints");
    // the reception office (English) is told too
    let desk = out.iter().find(|n| n.recipient == "desk").unwrap();
    assert!(desk.title.contains("Major complaint"));
}

#[test]
fn quiet_hours_hold_what_is_not_urgent_until_morning() {
    let data = json!({"approval_required": true});
    let people = People {
        department: Some("east-sales".into()),
        ..People::default()
    };
    let night = "2026-11-20T23:30:00+08:00";
    let facts = facts_of_event(event("ReceptionRequested", &data, night), &people, None);
    let out = plan(
        &facts[0],
        &NotificationRules::default_v1(),
        None,
        &directory(),
        at(night),
    );
    assert_eq!(out[0].not_before, at("2026-11-21T07:00:00+08:00"));
    assert!(!out[0].urgent);
}

fn requested_visit() -> Visit {
    let body = json!({
        "customer": {"company": "华信经销", "country": "CN", "foreign": false},
        "department": "east-sales",
        "visitors": [{"name": "王磊"}], "headcount": 1, "purpose": "续约",
        "arrival": {"at": "2026-11-25T10:00:00+08:00", "mode": "train", "number": "G7", "place": "station"},
        "departure": {"at": "2026-11-26T16:00:00+08:00", "mode": "train", "number": "G8", "place": "station"},
        "needs": {"pickup": false, "dropoff": false}
    });
    let c = VisitCommand::parse("request", body).unwrap();
    let evs = Visit::default()
        .decide(c, &ctx("2026-11-20T09:00:00+08:00", Role::Requester))
        .unwrap();
    evs.iter().fold(Visit::default(), |v, e| v.evolve(e))
}

#[test]
fn v4_the_reception_office_is_reminded_two_hours_before_the_plan_is_due_once() {
    let visit = requested_visit();
    let rules = NotificationRules::default_v1();
    let people = visit_people(&visit, Some("requester"));
    let id = Uuid::from_u128(1);
    // the first draft is due 24 h after the request, at 2026-11-21 09:00
    let early = deadline_facts(id, &visit, &people, &rules, at("2026-11-21T06:59:00+08:00"));
    assert!(early
        .iter()
        .all(|(f, _)| f.details["deadline"] != "plan_due"));
    let now = at("2026-11-21T07:00:00+08:00");
    let due: Vec<_> = deadline_facts(id, &visit, &people, &rules, now)
        .into_iter()
        .filter(|(f, _)| f.details["deadline"] == "plan_due")
        .collect();
    assert_eq!(due.len(), 1);
    let (fact, rem) = &due[0];
    assert_eq!(fact.kind, FactKind::DeadlineDueSoon);
    let out = plan(fact, &rules, *rem, &directory(), now);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].recipient, "desk");
    assert!(out[0].title.contains("plan draft"), "{}", out[0].title);
    assert_eq!(out[0].link, format!("#/visit/{id}"));
    // a later pass makes the same notification, same id
    let later = deadline_facts(id, &visit, &people, &rules, at("2026-11-21T08:00:00+08:00"));
    let again = later
        .iter()
        .find(|(f, _)| f.details["deadline"] == "plan_due")
        .unwrap();
    assert_eq!(
        plan(&again.0, &rules, again.1, &directory(), now)[0].id,
        out[0].id
    );
    // once due and unmet: overdue, to the reception office
    let late = deadline_facts(id, &visit, &people, &rules, at("2026-11-21T09:30:00+08:00"));
    assert!(late
        .iter()
        .any(|(f, _)| f.kind == FactKind::DeadlineOverdue && f.details["deadline"] == "plan_due"));
}

#[test]
fn rules_publish_in_sequence_after_the_default_by_admin_only() {
    let s = RulesState::default();
    let now = "2026-11-20T09:00:00+08:00";
    let version = |v: u32| {
        serde_json::to_value(NotificationRules {
            version: v,
            ..NotificationRules::default_v1()
        })
        .unwrap()
    };
    // the default is version 1: the first publication is version 2
    let c = RulesCommand::parse("publish", version(1)).unwrap();
    let err = s.decide(c, &ctx(now, Role::Admin)).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("version"));
    let mut bad = version(2);
    bad["reminders"][0]["deadline"] = json!("lunch");
    let c = RulesCommand::parse("publish", bad).unwrap();
    let err = s.decide(c, &ctx(now, Role::Admin)).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("reminders[0].deadline"));
    let c = RulesCommand::parse("publish", version(2)).unwrap();
    assert!(s.decide(c.clone(), &ctx(now, Role::Reception)).is_err());
    let events = s.decide(c, &ctx(now, Role::Admin)).unwrap();
    let s = events.iter().fold(s, |s, e| s.evolve(e));
    assert_eq!(s.in_force().version, 2);
}

#[test]
fn a_car_dispatch_reaches_its_driver_and_the_visits_staff_and_an_over_cap_expense_the_approver() {
    let mut dir = directory();
    let driver = json!({"id": "driver.qian", "name": "Driver Qian", "roles": ["driver"]});
    let c = StaffCommand::parse("register", driver).unwrap();
    for e in dir
        .decide(c, &ctx("2026-11-20T09:00:00+08:00", Role::Admin))
        .unwrap()
    {
        dir = dir.evolve(&e);
    }
    let people = People {
        host: Some("Somebody unknown".into()),
        staff: vec!["李娜".into()],
        department: Some("east-sales".into()),
        ..People::default()
    };
    let when = "2026-11-24T09:00:00+08:00";
    let data = json!({"driver": "Driver Qian", "plate": "沪A12345", "ready_at": "2026-11-25T09:30:00+08:00", "leg": "pickup"});
    let facts = facts_of_event(event("CarDispatched", &data, when), &people, None);
    let out = plan(
        &facts[0],
        &NotificationRules::default_v1(),
        None,
        &dir,
        at(when),
    );
    let who: Vec<&str> = out.iter().map(|n| n.recipient.as_str()).collect();
    assert_eq!(who, ["driver.qian", "li.na"]);
    assert!(out[0].body.contains("沪A12345"));
    let data = json!({"over_cap": true, "amount_fen": 35_000});
    let facts = facts_of_event(event("ExpenseRecorded", &data, when), &people, None);
    let out = plan(
        &facts[0],
        &NotificationRules::default_v1(),
        None,
        &dir,
        at(when),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].recipient, "zhao.min");
    assert!(out[0].body.contains("¥350.00"), "{}", out[0].body);
    // within the cap: nobody is told
    let data = json!({"over_cap": false, "amount_fen": 100});
    assert!(facts_of_event(event("ExpenseRecorded", &data, when), &people, None).is_empty());
}
