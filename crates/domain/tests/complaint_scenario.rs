//! A whole major complaint, from raised to closed, as a readable scenario.

use chrono::{DateTime, Duration, FixedOffset};
use reception_domain::complaint::*;
use reception_domain::policy::PolicyBook;
use reception_domain::{Actor, Aggregate, Context, DomainCommand, DomainEvent, Role};
use serde_json::{json, Value};
use uuid::Uuid;

/// Runs one command on the complaint as `user`/`role` at `at` and applies its events.
fn step(
    c: Complaint,
    user: &str,
    role: Role,
    at: &str,
    name: &str,
    body: Value,
) -> (Complaint, Vec<ComplaintEvent>) {
    let ctx = Context {
        now: at.parse().unwrap(),
        actor: Actor {
            user: user.into(),
            role,
        },
        policies: PolicyBook::default(),
        entity_id: Uuid::from_u128(0x3003),
        linked_visit: None,
    };
    let command = ComplaintCommand::parse(name, body).unwrap();
    let events = c
        .decide(command, &ctx)
        .unwrap_or_else(|e| panic!("{name} at {at}: {e:?}"));
    let next = events.iter().fold(c, |c, e| c.evolve(e));
    (next, events)
}

fn open_deadlines(c: &Complaint, now: &str) -> Vec<String> {
    let now: DateTime<FixedOffset> = now.parse().unwrap();
    complaint_deadlines(c, now)
        .into_iter()
        .filter(|d| d.met_at.is_none())
        .map(|d| d.item)
        .collect()
}

#[test]
fn a_major_complaint_from_raised_to_closed() {
    let mut log: Vec<ComplaintEvent> = Vec::new();
    let c = Complaint::default();

    // 10:00 During the visit, the front desk hears that the promised pickup car never came.
    let (c, e) = step(
        c,
        "desk.1",
        Role::Frontdesk,
        "2026-11-22T10:00:00+08:00",
        "raise",
        json!({
            "visit_id": "7d1c0000-0000-4000-8000-000000000001",
            "customer": {"company": "Huaxin Dealers Ltd", "country": "CN", "foreign": false},
            "severity": "major", "category": "transport",
            "description": "pickup car promised three times never came; visitors took a taxi"
        }),
    );
    log.extend(e);
    assert_eq!(c.status(), ComplaintStatus::Open);
    assert_eq!(
        open_deadlines(&c, "2026-11-22T10:01:00+08:00"),
        ["complaint_report", "complaint_solution"]
    );

    // 10:04 Reception reports it to the head of the motor pool (C2: within 10 minutes).
    let (c, e) = step(
        c,
        "li.na",
        Role::Reception,
        "2026-11-22T10:04:00+08:00",
        "report",
        json!({"to": "Zhou Qiang, head of motor pool"}),
    );
    log.extend(e);
    // 10:06 and assigns it.
    let (c, e) = step(
        c,
        "li.na",
        Role::Reception,
        "2026-11-22T10:06:00+08:00",
        "assign",
        json!({"department": "motor-pool", "assignee": "zhou.qiang"}),
    );
    log.extend(e);
    // 10:50 The motor pool analyses what went wrong.
    let (c, e) = step(
        c,
        "li.na",
        Role::Reception,
        "2026-11-22T10:50:00+08:00",
        "analyse",
        json!({"analysis": "dispatcher double-booked the business car"}),
    );
    log.extend(e);
    // 15:00 A solution is agreed with the customer (C2: within 12 hours).
    let (c, e) = step(
        c,
        "li.na",
        Role::Reception,
        "2026-11-22T15:00:00+08:00",
        "agree-solution",
        json!({"solution": "refund the taxi, dedicated car for the rest of the visit"}),
    );
    log.extend(e);
    // 15:05 Feedback given too.
    let (c, e) = step(
        c,
        "li.na",
        Role::Reception,
        "2026-11-22T15:05:00+08:00",
        "feedback",
        json!({"text": "apologised in person"}),
    );
    log.extend(e);
    // Next morning it is resolved.
    let (c, e) = step(
        c,
        "li.na",
        Role::Reception,
        "2026-11-23T09:00:00+08:00",
        "resolve",
        json!({"resolution": "taxi refunded, car assigned"}),
    );
    log.extend(e);
    assert_eq!(c.status(), ComplaintStatus::Resolved);
    assert_eq!(
        open_deadlines(&c, "2026-11-23T09:00:00+08:00"),
        ["complaint_return_visit"]
    );
    // The same afternoon, the return visit, in person (C5).
    let (c, e) = step(
        c,
        "li.na",
        Role::Reception,
        "2026-11-23T16:00:00+08:00",
        "return-visit",
        json!({"mode": "in_person", "notes": "customer satisfied"}),
    );
    log.extend(e);
    // And it is closed; the record is kept two years (C6).
    let (c, e) = step(
        c,
        "admin",
        Role::Admin,
        "2026-11-24T09:00:00+08:00",
        "close",
        json!({}),
    );
    log.extend(e);

    assert_eq!(c.status(), ComplaintStatus::Closed);
    assert_eq!(
        c.retain_until,
        Some("2028-11-24T09:00:00+08:00".parse().unwrap())
    );
    let types: Vec<&str> = log.iter().map(|e| e.event_type()).collect();
    assert_eq!(
        types,
        [
            "ComplaintRaised",
            "ComplaintReported",
            "ComplaintAssigned",
            "ComplaintAnalysed",
            "ComplaintSolutionAgreed",
            "ComplaintFeedbackGiven",
            "ComplaintResolved",
            "ComplaintReturnVisitDone",
            "ComplaintClosed",
        ]
    );
    // Every deadline was met on time.
    let deadlines = complaint_deadlines(&c, "2026-12-01T00:00:00+08:00".parse().unwrap());
    assert_eq!(deadlines.len(), 3);
    assert!(
        deadlines.iter().all(|d| d.met_at.is_some() && !d.overdue),
        "{deadlines:?}"
    );
    // Replaying the stored log gives the same complaint.
    let replayed = log
        .iter()
        .map(|e| ComplaintEvent::from_stored(e.event_type(), &e.to_data()).unwrap())
        .fold(Complaint::default(), |c, e| c.evolve(&e));
    assert_eq!(replayed, c);
    assert_eq!(c.version(), 9);
    // The month's analysis sees one major complaint, handled within every deadline.
    let report = monthly_analysis(
        &[c],
        YearMonth::parse("2026-11").unwrap(),
        "2026-12-01T00:00:00+08:00".parse().unwrap(),
    );
    assert_eq!(
        (
            report.total,
            report.closed,
            report.return_visit_rate_permille
        ),
        (1, 1, Some(1000))
    );
    assert_eq!(report.deadline_compliance_permille, Some(1000));
    assert_eq!(
        report.mean_time_to_resolve_secs,
        Some(Duration::hours(23).num_seconds())
    );
}
