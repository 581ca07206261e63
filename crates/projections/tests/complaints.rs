//! The complaints read model against a real sled store, fed the domain's own events:
//! the served C7 report is the domain's `monthly_analysis` of the same complaints (one
//! definition), overdue work letters show in the open list (C9), and the case library
//! is searchable (C11).

mod support;

use chrono::{DateTime, Duration, FixedOffset};
use reception_domain::complaint::{monthly_analysis, Complaint, ComplaintCommand, YearMonth};
use reception_domain::policy::PolicyBook;
use reception_domain::{Actor, Aggregate, Context, DomainCommand, DomainEvent, Role};
use reception_projections::{ReadSide, ReadSideConfig};
use reception_store::Store;
use serde_json::{json, Value};
use support::*;
use uuid::Uuid;

type Time = DateTime<FixedOffset>;

fn t0() -> Time {
    t("2026-11-02T09:00:00+08:00")
}
fn hours(h: i64) -> Time {
    t0() + Duration::hours(h)
}

/// Complaints built by the domain's `decide`, their events appended to a store as the
/// app stores them.
struct Complaints<'s> {
    store: &'s Store,
    states: Vec<(Uuid, Complaint)>,
    next_entity: u128,
}

impl<'s> Complaints<'s> {
    fn new(store: &'s Store) -> Self {
        Complaints {
            store,
            states: Vec::new(),
            next_entity: 0x1000,
        }
    }

    /// Raises complaint `n` (its id is `n`) at `at`.
    fn raise(&mut self, n: u128, at: Time, severity: &str, body: Value) -> Uuid {
        let id = Uuid::from_u128(n);
        self.states.push((id, Complaint::default()));
        let mut body = body;
        body["severity"] = json!(severity);
        self.run_as(id, Role::Reception, at, "raise", body, Some(id));
        id
    }

    fn run(&mut self, id: Uuid, at: Time, name: &str, body: Value) {
        self.run_as(id, Role::Reception, at, name, body, None);
    }

    fn run_as(
        &mut self,
        id: Uuid,
        role: Role,
        at: Time,
        name: &str,
        body: Value,
        entity: Option<Uuid>,
    ) {
        self.next_entity += 1;
        let ctx = Context {
            now: at,
            actor: Actor {
                user: "li.na".into(),
                role,
            },
            policies: PolicyBook::default(),
            entity_id: entity.unwrap_or(Uuid::from_u128(self.next_entity)),
            linked_visit: None,
        };
        let state = &mut self.states.iter_mut().find(|(i, _)| *i == id).unwrap().1;
        let command = ComplaintCommand::parse(name, body).unwrap();
        let events = state
            .decide(command, &ctx)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        for e in &events {
            append(
                self.store,
                &format!("complaint-{id}"),
                e.event_type(),
                &e.at().to_rfc3339(),
                e.to_data(),
            );
            *state = state.clone().evolve(e);
        }
    }

    fn last_letter(&self) -> Uuid {
        Uuid::from_u128(self.next_entity)
    }
}

fn body(customer: &str, category: &str, description: &str) -> Value {
    json!({"customer": customer, "category": category, "description": description,
           "department": "motor-pool"})
}

/// Five complaints through C1–C11: judged both ways, letters answered and overdue,
/// misses recorded, satisfaction given, one case added, one raised in another month.
fn scenario(c: &mut Complaints<'_>) {
    let a = c.raise(
        1,
        t0(),
        "minor",
        body(
            "Huaxin Dealers Ltd",
            "transport",
            "The pickup car never came",
        ),
    );
    c.run(
        a,
        hours(1),
        "judge",
        json!({"valid": true, "explanation": "our driver forgot"}),
    );
    c.run(a, hours(2), "feedback", json!({"text": "apologised"}));
    c.run(
        a,
        hours(3),
        "resolve",
        json!({"resolution": "driver retrained"}),
    );
    c.run(
        a,
        hours(4),
        "return-visit",
        json!({"mode": "phone", "satisfaction": 4, "suggestions": "confirm the day before"}),
    );
    c.run(a, hours(5), "close", json!({}));
    c.run(
        a,
        hours(6),
        "add-to-case-library",
        json!({"title": "The car that never came", "lesson": "Confirm pickups the day before"}),
    );

    let b = c.raise(
        2,
        t0(),
        "major",
        body("Nordic Trucks", "meals", "Banquet served cold"),
    );
    c.run_as(
        b,
        Role::System,
        hours(0) + Duration::minutes(11),
        "record-missed-deadline",
        json!({"deadline": "complaint_report", "due_at": t0() + Duration::minutes(10)}),
        None,
    );
    c.run(b, hours(1), "report", json!({"to": "Head of catering"}));
    c.run_as(
        b,
        Role::System,
        hours(13),
        "record-missed-deadline",
        json!({"deadline": "complaint_solution", "due_at": hours(12)}),
        None,
    );
    c.run(
        b,
        hours(14),
        "work-letter",
        json!({"department": "catering", "text": "explain the cold banquet", "due": hours(20)}),
    );

    let d = c.raise(
        3,
        t0(),
        "minor",
        body("Huaxin Dealers Ltd", "meals", "Slow service"),
    );
    c.run(
        d,
        hours(1),
        "judge",
        json!({"valid": false, "explanation": "served within the agreed time"}),
    );
    c.run(
        d,
        hours(2),
        "work-letter",
        json!({"department": "catering", "text": "check the timings", "due": hours(10)}),
    );
    let letter = c.last_letter();
    c.run(
        d,
        hours(5),
        "answer-letter",
        json!({"letter_id": letter, "text": "timings were kept"}),
    );

    let e = c.raise(
        4,
        t0() + Duration::days(1),
        "minor",
        body("Acme", "lodging", "Noisy room"),
    );
    c.run(e, hours(26), "feedback", json!({"text": "moved them"}));
    c.run(
        e,
        hours(27),
        "resolve",
        json!({"resolution": "room changed"}),
    );
    c.run(
        e,
        hours(28),
        "return-visit",
        json!({"mode": "message", "satisfaction": 1}),
    );
    c.run(e, hours(29), "close", json!({}));
    c.run(
        e,
        hours(30),
        "add-to-case-library",
        json!({"title": "Quiet floors for VIPs", "lesson": "Book rooms away from the lifts"}),
    );

    c.raise(
        5,
        t("2026-10-31T23:30:00+08:00"),
        "minor",
        body("Acme", "transport", "late"),
    );
}

fn read_side(store: &Store) -> ReadSide {
    let read = ReadSide::open(store, ReadSideConfig::default()).unwrap();
    read.rebuild(None, &mut |_, _| {}).unwrap();
    read
}

#[test]
fn c7_the_served_report_is_the_domains_monthly_analysis_of_the_same_complaints() {
    let (_dir, store) = store();
    let mut c = Complaints::new(&store);
    scenario(&mut c);
    let read = read_side(&store);
    let states: Vec<Complaint> = c.states.iter().map(|(_, s)| s.clone()).collect();
    for (now, month) in [
        (hours(40), "2026-11"),
        (hours(15), "2026-11"),
        (hours(40), "2026-10"),
        (hours(40), "2026-12"),
    ] {
        let ym = YearMonth::parse(month).unwrap();
        let served = read.complaint_report(ym.year(), ym.month(), now.to_utc());
        assert_eq!(
            served,
            monthly_analysis(&states, ym, now),
            "{month} at {now}"
        );
    }
    let november = read.complaint_report(2026, 11, hours(40).to_utc());
    assert_eq!(november.total, 4);
    assert_eq!(
        (november.valid, november.unreasonable, november.unjudged),
        (1, 1, 2)
    );
    assert_eq!(
        (
            november.missed_deadlines_recorded,
            november.misses_reported_to_head
        ),
        (2, 1)
    );
    assert_eq!(
        (
            november.letters_sent,
            november.letters_answered,
            november.letters_overdue
        ),
        (2, 1, 1)
    );
    assert_eq!(november.mean_satisfaction_milli, Some(2500));
    assert_eq!(november.cases_added, 2);
    // a month with nothing due has no compliance figure, not 100 %
    let december = read.complaint_report(2026, 12, hours(40).to_utc());
    assert_eq!(
        (december.total, december.deadline_compliance_permille),
        (0, None)
    );
    assert_eq!(december.return_visit_rate_permille, None);
    let json = serde_json::to_value(&december).unwrap();
    assert!(json["deadline_compliance_permille"].is_null(), "{json}");
}

#[test]
fn c9_an_overdue_work_letter_shows_in_the_open_list() {
    let (_dir, store) = store();
    let mut c = Complaints::new(&store);
    scenario(&mut c);
    let read = read_side(&store);
    let open = read.complaints(true, hours(19).to_utc());
    let b = open
        .iter()
        .find(|v| v.complaint.complaint_id == Uuid::from_u128(2).to_string())
        .expect("b is open");
    assert!(b.letters_overdue.is_empty(), "not before its due time");
    let letter = b
        .deadlines
        .iter()
        .find(|d| d.item == "work_letter")
        .unwrap();
    assert_eq!((letter.rule.as_str(), letter.due_at), ("C9", hours(20)));
    let open = read.complaints(true, hours(21).to_utc());
    let b = open
        .iter()
        .find(|v| v.complaint.complaint_id == Uuid::from_u128(2).to_string())
        .unwrap();
    assert_eq!(
        b.letters_overdue,
        vec![b.complaint.letters[0].letter_id.clone()]
    );
    assert!(b.overdue);
    assert_eq!(b.complaint.missed_deadlines.len(), 2);
    // the answered letter of the unreasonable complaint is not overdue
    let all = read.complaints(false, hours(21).to_utc());
    let d = all
        .iter()
        .find(|v| v.complaint.complaint_id == Uuid::from_u128(3).to_string())
        .unwrap();
    assert!(d.letters_overdue.is_empty());
    assert_eq!(d.complaint.valid, Some(false));
}

#[test]
fn c11_the_case_library_is_searchable_whatever_the_case_of_letters() {
    let (_dir, store) = store();
    let mut c = Complaints::new(&store);
    scenario(&mut c);
    let read = read_side(&store);
    let titles = |q: Option<&str>| -> Vec<String> {
        read.complaint_cases(q)
            .into_iter()
            .map(|c| c.title)
            .collect()
    };
    // newest first
    assert_eq!(
        titles(None),
        ["Quiet floors for VIPs", "The car that never came"]
    );
    assert_eq!(titles(Some("")), titles(None));
    for (q, expected) in [
        ("CAR THAT", "The car that never came"),        // title
        ("confirm pickups", "The car that never came"), // lesson
        ("noisy", "Quiet floors for VIPs"),             // description
        ("huaxin dealers", "The car that never came"),  // customer
        ("LODGING", "Quiet floors for VIPs"),           // category
    ] {
        assert_eq!(titles(Some(q)), [expected], "{q}");
    }
    assert!(
        titles(Some("banquet")).is_empty(),
        "an open complaint is no case"
    );
    let case = &read.complaint_cases(Some("quiet"))[0];
    assert_eq!(case.lesson, "Book rooms away from the lifts");
    assert_eq!(
        (case.customer.as_str(), case.category.as_str()),
        ("Acme", "lodging")
    );
    assert_eq!(case.added_at, hours(30));
}

#[test]
fn c11_a_return_visit_recorded_before_satisfaction_existed_still_loads() {
    let (_dir, store) = store();
    let stream = "complaint-old";
    append(
        &store,
        stream,
        "ComplaintRaised",
        "2026-11-02T09:00:00+08:00",
        json!({"complaint_id": "old", "visit_id": null, "customer": "Acme", "severity": "minor",
               "category": "meals", "description": "d", "department": null, "at": "2026-11-02T09:00:00+08:00"}),
    );
    append(
        &store,
        stream,
        "ComplaintReturnVisitDone",
        "2026-11-03T09:00:00+08:00",
        json!({"mode": "phone", "notes": null, "at": "2026-11-03T09:00:00+08:00"}),
    );
    let read = read_side(&store);
    let list = read.complaints(false, hours(48).to_utc());
    assert_eq!(
        list[0].complaint.return_visit_at,
        Some(t("2026-11-03T09:00:00+08:00"))
    );
    assert_eq!(list[0].complaint.satisfaction, None);
    let report = read.complaint_report(2026, 11, hours(48).to_utc());
    assert_eq!(
        (report.satisfaction_given, report.mean_satisfaction_milli),
        (0, None)
    );
}
