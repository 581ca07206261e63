//! Given/when/then tests of the complaint rules C1–C11, the complaint roles, body
//! parsing, and property tests of the C4 escalation and C10 miss processes.

mod support;

use chrono::Duration;
use proptest::prelude::*;
use reception_domain::complaint::*;
use reception_domain::escalation::{
    due_escalations, due_misses, needs_escalation, unrecorded_misses,
};
use reception_domain::policy::PolicyBook;
use reception_domain::{
    Actor, Aggregate, Context, DomainCommand, DomainError, DomainEvent, ErrorKind, Role,
};
use serde_json::{json, Value};
use support::{Then, Time};
use uuid::Uuid;

fn t0() -> Time {
    "2026-11-02T09:00:00+08:00".parse().unwrap()
}
fn mins(m: i64) -> Time {
    t0() + Duration::minutes(m)
}
fn hours(h: i64) -> Time {
    t0() + Duration::hours(h)
}

/// The context a command at `now` gets from the harness.
fn ctx(role: Role, now: Time) -> Context {
    nothing().at_time(now).ctx(role)
}

fn raise_body(severity: &str) -> Value {
    json!({"customer": "Huaxin Dealers Ltd", "severity": severity, "category": "transport",
           "description": "pickup car did not come after three calls"})
}

/// A complaint's history, built by running real commands through `decide`.
type Given = support::Given<Complaint>;

/// Given these events; every command gets the entity id `0xC0` and an empty policy book.
fn given(events: &[ComplaintEvent]) -> Given {
    support::given(events)
        .with_entity(Uuid::from_u128(0xC0))
        .with_policies(PolicyBook::default())
}

/// No complaint yet.
fn nothing() -> Given {
    given(&[])
}

fn given_raised(severity: &str, at: Time) -> Given {
    nothing().ok_at(Role::Reception, at, "raise", raise_body(severity))
}

fn assert_rule(result: Result<Vec<ComplaintEvent>, DomainError>, rule: &str) -> DomainError {
    result.then_violation(rule)
}

fn deadline(c: &Complaint, now: Time, item: &str) -> reception_domain::deadlines::Due {
    complaint_deadlines(c, now)
        .into_iter()
        .find(|d| d.item == item)
        .unwrap_or_else(|| panic!("no {item} deadline in {:?}", complaint_deadlines(c, now)))
}

fn has_deadline(c: &Complaint, now: Time, item: &str) -> bool {
    complaint_deadlines(c, now).iter().any(|d| d.item == item)
}

// --- C1 -------------------------------------------------------------------

#[test]
fn c1_a_complaint_is_raised_minor_or_major_and_nothing_else() {
    // when raised with an unknown severity: refused, naming the field
    let err = ComplaintCommand::parse("raise", raise_body("critical")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert_eq!(err.field.as_deref(), Some("severity"));

    // when raised major: then ComplaintRaised carries the severity and the new id
    let events = nothing()
        .when_at(Role::Reception, t0(), "raise", raise_body("major"))
        .unwrap();
    let [ComplaintEvent::ComplaintRaised(raised)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(raised.severity, Severity::Major);
    assert_eq!(raised.complaint_id, Uuid::from_u128(0xC0));
    assert_eq!(raised.at, t0());
    assert_eq!(raised.customer, "Huaxin Dealers Ltd");
}

#[test]
fn c1_escalating_a_minor_complaint_makes_it_major_once() {
    let given = given_raised("minor", t0());
    let events = given
        .when_at(
            Role::Reception,
            hours(2),
            "escalate",
            json!({"reason": "customer injured on the tour"}),
        )
        .unwrap();
    let [ComplaintEvent::ComplaintEscalated(e)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(
        (e.from, e.to, e.automatic),
        (Severity::Minor, Severity::Major, false)
    );
    let given = given.ok_at(
        Role::Reception,
        hours(2),
        "escalate",
        json!({"reason": "injury"}),
    );
    assert_eq!(given.state.clone().severity, Severity::Major);
    // then: a major complaint has nothing to escalate
    let err = given
        .when_at(
            Role::Admin,
            hours(3),
            "escalate",
            json!({"reason": "again"}),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidState);
}

// --- C2 -------------------------------------------------------------------

#[test]
fn c2_major_complaint_is_reported_to_the_head_of_department_within_ten_minutes() {
    let given = given_raised("major", t0());
    let c = given.state.clone();
    let report = deadline(&c, mins(5), "complaint_report");
    assert_eq!(report.rule, "C2");
    assert_eq!(report.due_at, mins(10));
    assert!(!report.overdue, "not late at minute 5");
    assert!(
        deadline(&c, mins(11), "complaint_report").overdue,
        "late at minute 11 when unreported"
    );

    let in_time = given.clone().ok_at(
        Role::Reception,
        mins(9),
        "report",
        json!({"to": "Head of Transport"}),
    );
    let met = deadline(&in_time.state.clone(), hours(5), "complaint_report");
    assert_eq!(met.met_at, Some(mins(9)));
    assert!(!met.overdue);
    let late = given.ok_at(
        Role::Reception,
        mins(11),
        "report",
        json!({"to": "Head of Transport"}),
    );
    assert!(
        deadline(&late.state.clone(), mins(12), "complaint_report").overdue,
        "reported at minute 11 is late"
    );
}

#[test]
fn c2_major_complaint_solution_is_agreed_within_twelve_hours() {
    let given = given_raised("major", t0());
    assert_eq!(
        deadline(&given.state.clone(), t0(), "complaint_solution").due_at,
        hours(12)
    );
    assert!(!deadline(&given.state.clone(), hours(12), "complaint_solution").overdue);
    assert!(
        deadline(
            &given.state.clone(),
            hours(12) + Duration::seconds(1),
            "complaint_solution"
        )
        .overdue
    );
    let solved = given.ok_at(
        Role::Reception,
        hours(11),
        "agree-solution",
        json!({"solution": "refund the taxi"}),
    );
    let d = deadline(&solved.state.clone(), hours(13), "complaint_solution");
    assert_eq!((d.met_at, d.overdue), (Some(hours(11)), false));
}

#[test]
fn c2_major_complaint_is_not_resolved_before_report_and_agreed_solution() {
    let given = given_raised("major", t0());
    let resolve = json!({"resolution": "driver replaced"});
    let err = given
        .when_at(Role::Reception, hours(1), "resolve", resolve.clone())
        .then_violation("C2");
    assert!(
        err.message.contains("head of department"),
        "{}",
        err.message
    );
    let reported = given.ok_at(
        Role::Reception,
        mins(5),
        "report",
        json!({"to": "Head of Transport"}),
    );
    let err = reported
        .when_at(Role::Reception, hours(1), "resolve", resolve.clone())
        .then_violation("C2");
    assert!(err.message.contains("solution"), "{}", err.message);
    let solved = reported.ok_at(
        Role::Reception,
        hours(2),
        "agree-solution",
        json!({"solution": "refund"}),
    );
    assert!(solved
        .when_at(Role::Reception, hours(3), "resolve", resolve)
        .is_ok());
}

#[test]
fn c2_an_escalated_complaint_gets_the_major_clocks_from_its_escalation() {
    let given = given_raised("minor", t0());
    assert!(
        !has_deadline(&given.state.clone(), t0(), "complaint_report"),
        "a minor complaint has no C2 clock"
    );
    let escalated = given.ok_at(
        Role::Reception,
        hours(30),
        "escalate",
        json!({"reason": "repeated failure"}),
    );
    let c = escalated.state.clone();
    assert_eq!(
        deadline(&c, hours(30), "complaint_report").due_at,
        hours(30) + Duration::minutes(10)
    );
    assert_eq!(
        deadline(&c, hours(30), "complaint_solution").due_at,
        hours(42)
    );
}

// --- C3 -------------------------------------------------------------------

#[test]
fn c3_minor_complaint_gets_feedback_within_24_hours() {
    let given = given_raised("minor", t0());
    let d = deadline(&given.state.clone(), hours(23), "complaint_feedback");
    assert_eq!(
        (d.rule.as_str(), d.due_at, d.overdue),
        ("C3", hours(24), false)
    );
    assert!(deadline(&given.state.clone(), hours(25), "complaint_feedback").overdue);
    let fed = given.ok_at(
        Role::Reception,
        hours(20),
        "feedback",
        json!({"text": "we apologised and explained"}),
    );
    let d = deadline(&fed.state.clone(), hours(40), "complaint_feedback");
    assert_eq!((d.met_at, d.overdue), (Some(hours(20)), false));
    assert!(!has_deadline(
        &given_raised("major", t0()).state.clone(),
        t0(),
        "complaint_feedback"
    ));
}

#[test]
fn c3_assigned_department_analyses_within_one_hour() {
    let given = given_raised("minor", t0());
    assert!(
        !has_deadline(&given.state.clone(), t0(), "complaint_analysis"),
        "no analysis clock before assignment"
    );
    let assigned = given.ok_at(
        Role::Reception,
        hours(2),
        "assign",
        json!({"department": "motor-pool", "assignee": "zhou.qiang"}),
    );
    let d = deadline(
        &assigned.state.clone(),
        hours(2) + Duration::minutes(30),
        "complaint_analysis",
    );
    assert_eq!((d.due_at, d.overdue), (hours(3), false));
    assert!(
        deadline(
            &assigned.state.clone(),
            hours(3) + Duration::minutes(1),
            "complaint_analysis"
        )
        .overdue
    );
    let late = assigned.ok_at(
        Role::Reception,
        hours(4),
        "analyse",
        json!({"analysis": "dispatcher missed it"}),
    );
    let d = deadline(&late.state.clone(), hours(4), "complaint_analysis");
    assert_eq!((d.met_at, d.overdue), (Some(hours(4)), true));
}

#[test]
fn c3_analysis_needs_an_assigned_department() {
    let given = given_raised("minor", t0());
    given
        .when_at(
            Role::Reception,
            mins(30),
            "analyse",
            json!({"analysis": "x"}),
        )
        .then_violation("C3");
}

#[test]
fn c3_minor_complaint_is_not_resolved_without_feedback_to_the_customer() {
    let given = given_raised("minor", t0());
    given
        .when_at(
            Role::Reception,
            hours(5),
            "resolve",
            json!({"resolution": "fixed"}),
        )
        .then_violation("C3");
    let fed = given.ok_at(
        Role::Reception,
        hours(4),
        "feedback",
        json!({"text": "sorry"}),
    );
    assert!(fed
        .when_at(
            Role::Reception,
            hours(5),
            "resolve",
            json!({"resolution": "fixed"})
        )
        .is_ok());
}

// --- C4 -------------------------------------------------------------------

#[test]
fn c4_complaint_unresolved_for_ten_days_is_escalated_by_the_system() {
    let id = Uuid::from_u128(0xC0);
    let given = given_raised("minor", t0());
    let c = given.state.clone();
    // given ten days have passed, when the process runs, then it orders one escalation by the system
    let ten_days = t0() + Duration::days(10);
    let orders = due_escalations([(id, &c)], ten_days);
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].complaint_id, id);
    assert_eq!(orders[0].actor, Actor::system());
    let events = c
        .decide(orders[0].command.clone(), &ctx(Role::System, ten_days))
        .unwrap();
    let [ComplaintEvent::ComplaintEscalated(e)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert!(e.automatic);
    assert_eq!(
        (e.from, e.to, e.at),
        (Severity::Minor, Severity::Major, ten_days)
    );
    assert!(e.reason.contains("C4"));
    // and the deadline item shows the escalation as overdue
    assert!(deadline(&c, ten_days + Duration::seconds(1), "complaint_escalation").overdue);
}

#[test]
fn c4_no_escalation_before_ten_days() {
    let c = given_raised("minor", t0()).state.clone();
    let almost = t0() + Duration::days(10) - Duration::seconds(1);
    assert!(due_escalations([(Uuid::nil(), &c)], almost).is_empty());
    assert!(!needs_escalation(&c, almost));
    // and the system itself is refused before the ten days
    let cmd = ComplaintCommand::parse("escalate", json!({"reason": "C4"})).unwrap();
    assert_rule(c.decide(cmd, &ctx(Role::System, almost)), "C4");
    assert_eq!(
        deadline(&c, almost, "complaint_escalation").due_at,
        t0() + Duration::days(10)
    );
}

#[test]
fn c4_resolved_complaint_is_not_escalated() {
    let resolved = given_raised("minor", t0())
        .ok_at(
            Role::Reception,
            hours(1),
            "feedback",
            json!({"text": "sorry"}),
        )
        .ok_at(
            Role::Reception,
            hours(2),
            "resolve",
            json!({"resolution": "done"}),
        );
    let c = resolved.state.clone();
    assert!(due_escalations([(Uuid::nil(), &c)], t0() + Duration::days(30)).is_empty());
    let d = deadline(&c, t0() + Duration::days(30), "complaint_escalation");
    assert_eq!((d.met_at, d.overdue), (Some(hours(2)), false));
}

// --- C5 -------------------------------------------------------------------

fn resolved_minor() -> Given {
    given_raised("minor", t0())
        .ok_at(
            Role::Reception,
            hours(1),
            "feedback",
            json!({"text": "sorry"}),
        )
        .ok_at(
            Role::Reception,
            hours(2),
            "resolve",
            json!({"resolution": "new driver"}),
        )
}

#[test]
fn c5_return_visit_is_due_within_24_hours_after_resolution() {
    let given = resolved_minor();
    let d = deadline(&given.state.clone(), hours(3), "complaint_return_visit");
    assert_eq!(
        (d.rule.as_str(), d.due_at, d.overdue),
        ("C5", hours(26), false)
    );
    assert!(deadline(&given.state.clone(), hours(27), "complaint_return_visit").overdue);
    let visited = given.ok_at(
        Role::Reception,
        hours(20),
        "return-visit",
        json!({"mode": "phone", "notes": "happy"}),
    );
    let d = deadline(&visited.state.clone(), hours(40), "complaint_return_visit");
    assert_eq!((d.met_at, d.overdue), (Some(hours(20)), false));
    assert!(!has_deadline(
        &given_raised("minor", t0()).state.clone(),
        t0(),
        "complaint_return_visit"
    ));
}

#[test]
fn c5_major_complaint_return_visit_is_made_in_person() {
    let given = given_raised("major", t0())
        .ok_at(Role::Reception, mins(5), "report", json!({"to": "head"}))
        .ok_at(
            Role::Reception,
            hours(1),
            "agree-solution",
            json!({"solution": "refund"}),
        )
        .ok_at(
            Role::Reception,
            hours(2),
            "resolve",
            json!({"resolution": "refunded"}),
        );
    let err = given
        .when_at(
            Role::Reception,
            hours(3),
            "return-visit",
            json!({"mode": "phone"}),
        )
        .then_violation("C5");
    assert_eq!(err.field.as_deref(), Some("mode"));
    given
        .when_at(
            Role::Reception,
            hours(3),
            "return-visit",
            json!({"mode": "message"}),
        )
        .then_violation("C5");
    assert!(given
        .when_at(
            Role::Reception,
            hours(3),
            "return-visit",
            json!({"mode": "in_person"})
        )
        .is_ok());
    // a minor one may be a phone call or a message
    assert!(resolved_minor()
        .when_at(
            Role::Reception,
            hours(3),
            "return-visit",
            json!({"mode": "message"})
        )
        .is_ok());
}

#[test]
fn c5_return_visit_follows_resolution_and_precedes_closing() {
    let open = given_raised("minor", t0());
    open.when_at(
        Role::Reception,
        hours(1),
        "return-visit",
        json!({"mode": "phone"}),
    )
    .then_violation("C5");
    let err = open
        .when_at(Role::Reception, hours(1), "close", json!({}))
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::InvalidState,
        "closing an unresolved complaint: {err:?}"
    );
    resolved_minor()
        .when_at(Role::Reception, hours(3), "close", Value::Null)
        .then_violation("C5");
}

// --- C6 -------------------------------------------------------------------

#[test]
fn c6_a_closed_complaint_is_kept_at_least_two_years() {
    let closed_at: Time = "2026-11-20T18:00:00+08:00".parse().unwrap();
    let closed = resolved_minor()
        .ok_at(
            Role::Reception,
            hours(5),
            "return-visit",
            json!({"mode": "phone"}),
        )
        .ok_at(Role::Reception, closed_at, "close", json!({}));
    let Some(ComplaintEvent::ComplaintClosed(e)) = closed.events.last() else {
        panic!()
    };
    let two_years: Time = "2028-11-20T18:00:00+08:00".parse().unwrap();
    assert_eq!(e.retain_until, two_years);
    assert_eq!(closed.state.clone().retain_until, Some(two_years));
    assert_eq!(closed.state.clone().status(), ComplaintStatus::Closed);
    // and nothing more happens to a closed record
    let err = closed
        .when_at(
            Role::Admin,
            closed_at,
            "assign",
            json!({"department": "x", "assignee": "y"}),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidState);
}

// --- C7 -------------------------------------------------------------------

#[test]
fn c7_monthly_analysis_counts_severity_category_department_deadlines_return_visits_and_resolve_time(
) {
    let mut n = 0u128;
    let mut raise = |severity: &str, category: &str, at: Time| {
        n += 1;
        let body = json!({"customer": "Acme", "severity": severity, "category": category,
                          "description": "d", "department": "motor-pool"});
        let events = nothing()
            .with_entity(Uuid::from_u128(n))
            .when_at(Role::Frontdesk, at, "raise", body)
            .unwrap();
        given(&events)
    };
    // 1: minor transport, feedback in time, resolved after 10 h, return visit done
    let a = raise("minor", "transport", t0())
        .ok_at(
            Role::Reception,
            hours(1),
            "feedback",
            json!({"text": "sorry"}),
        )
        .ok_at(
            Role::Reception,
            hours(10),
            "resolve",
            json!({"resolution": "ok"}),
        )
        .ok_at(
            Role::Reception,
            hours(12),
            "return-visit",
            json!({"mode": "phone"}),
        );
    // 2: major meals, reported late (minute 20), solution in time, resolved after 6 h, no return visit
    let b = raise("major", "meals", t0())
        .ok_at(Role::Reception, mins(20), "report", json!({"to": "head"}))
        .ok_at(
            Role::Reception,
            hours(2),
            "agree-solution",
            json!({"solution": "s"}),
        )
        .ok_at(
            Role::Reception,
            hours(6),
            "resolve",
            json!({"resolution": "ok"}),
        );
    // 3: minor meals, still open, no department, feedback overdue at the report time
    let c = nothing().ok_at(
        Role::Reception,
        hours(1),
        "raise",
        json!({"customer": "Acme", "severity": "minor", "category": "meals", "description": "d"}),
    );
    // 4: raised in October: ignored
    let d = raise(
        "minor",
        "transport",
        "2026-10-30T10:00:00+08:00".parse().unwrap(),
    );
    let all: Vec<Complaint> = [a, b, c, d].iter().map(|g| g.state.clone()).collect();

    let report = monthly_analysis(&all, YearMonth::parse("2026-11").unwrap(), hours(48));
    assert_eq!(report.month, "2026-11");
    assert_eq!(report.total, 3);
    assert_eq!(report.by_severity.get("minor"), Some(&2));
    assert_eq!(report.by_severity.get("major"), Some(&1));
    assert_eq!(report.by_category.get("meals"), Some(&2));
    assert_eq!(report.by_category.get("transport"), Some(&1));
    assert_eq!(report.by_department.get("motor-pool"), Some(&2));
    assert_eq!(report.by_department.get("unassigned"), Some(&1));
    assert_eq!(report.resolved, 2);
    assert_eq!(report.return_visits_done, 1);
    assert_eq!(report.return_visit_rate_permille, Some(500));
    assert_eq!(report.mean_time_to_resolve_secs, Some(8 * 3600));
    let report_dl = &report.deadlines["complaint_report"];
    assert_eq!(
        (report_dl.due, report_dl.on_time, report_dl.missed),
        (1, 0, 1)
    );
    let feedback = &report.deadlines["complaint_feedback"];
    assert_eq!((feedback.due, feedback.on_time, feedback.missed), (2, 1, 1));
    // return visit of b (due hour 30) is missed at hour 48; a's was on time
    let rv = &report.deadlines["complaint_return_visit"];
    assert_eq!((rv.due, rv.on_time, rv.missed), (2, 1, 1));
    // all due items: report 0/1, solution 1/1, feedback 1/2, escalation a 1/1 (c still running), return 1/2
    assert_eq!(report.deadline_compliance_permille, Some(4 * 1000 / 7));

    let october = monthly_analysis(&all, YearMonth::parse("2026-10").unwrap(), hours(48));
    assert_eq!(october.total, 1);
    assert!(YearMonth::parse("2026-13").is_err());
    assert!(YearMonth::parse("2026-1").is_err());
}

// --- C7 with nothing due ---------------------------------------------------

#[test]
fn c7_nothing_due_is_no_compliance_figure_rather_than_full_compliance() {
    let fresh = given_raised("minor", t0()).state.clone();
    let month = YearMonth::parse("2026-11").unwrap();
    let report = monthly_analysis(std::slice::from_ref(&fresh), month, mins(5));
    assert_eq!(report.total, 1);
    assert_eq!((report.deadlines_due, report.deadlines_met_on_time), (0, 0));
    assert_eq!(report.deadline_compliance_permille, None);
    assert_eq!(report.return_visit_rate_permille, None);
    assert_eq!(report.mean_satisfaction_milli, None);
    let empty = monthly_analysis(&[], month, mins(5));
    assert_eq!((empty.total, empty.deadline_compliance_permille), (0, None));
}

// --- C8 -------------------------------------------------------------------

fn assigned_minor() -> Given {
    given_raised("minor", t0()).ok_at(
        Role::Reception,
        mins(10),
        "assign",
        json!({"department": "motor-pool", "assignee": "zhou.qiang"}),
    )
}

#[test]
fn c8_the_analysing_department_judges_a_complaint_valid_or_unreasonable_once() {
    let judge = json!({"valid": false, "explanation": "the car waited at the agreed gate"});
    // not before a department is known
    given_raised("minor", t0())
        .when_at(Role::Reception, mins(5), "judge", judge.clone())
        .then_violation("C8");
    let given = assigned_minor();
    let e = given
        .when_at(Role::Reception, mins(40), "judge", judge.clone())
        .then_single();
    let ComplaintEvent::ComplaintJudged(j) = &e else {
        panic!("{e:?}")
    };
    assert_eq!((j.valid, j.at), (false, mins(40)));
    assert_eq!(j.explanation, "the car waited at the agreed gate");
    let judged = given.ok_at(Role::Reception, mins(40), "judge", judge.clone());
    let c = judged.state.clone();
    assert_eq!(c.valid, Some(false));
    assert_eq!(
        c.judgement.as_deref(),
        Some("the car waited at the agreed gate")
    );
    // once: a second judgement is refused, whichever way
    judged
        .when_at(
            Role::Admin,
            hours(1),
            "judge",
            json!({"valid": true, "explanation": "changed our mind"}),
        )
        .then_error(ErrorKind::InvalidState, None);
    // by the roles that analyse
    for role in [
        Role::Requester,
        Role::Frontdesk,
        Role::Analyst,
        Role::System,
    ] {
        assigned_minor()
            .when_at(role, mins(40), "judge", judge.clone())
            .then_error(ErrorKind::Forbidden, None);
    }
    assert!(assigned_minor()
        .when_at(Role::Admin, mins(40), "judge", judge)
        .is_ok());
    // a judgement names what is wrong with its body
    let field = |body: Value| ComplaintCommand::parse("judge", body).unwrap_err().field;
    assert_eq!(field(json!({"explanation": "x"})).as_deref(), Some("valid"));
    assert_eq!(
        field(json!({"valid": "yes", "explanation": "x"})).as_deref(),
        Some("valid")
    );
    assert_eq!(
        field(json!({"valid": true, "explanation": " "})).as_deref(),
        Some("explanation")
    );
}

#[test]
fn c8_the_monthly_analysis_counts_both_and_judges_deadlines_on_valid_ones() {
    // three minor complaints, each without feedback in 24 hours (C3 missed)
    let raised = |n: u128| {
        given(&[])
            .with_entity(Uuid::from_u128(n))
            .ok_at(
                Role::Reception,
                t0(),
                "raise",
                json!({"customer": "Acme", "severity": "minor", "category": "meals",
                       "description": "d", "department": "catering"}),
            )
            .with_entity(Uuid::from_u128(0xC0))
    };
    let judged = |n: u128, valid: bool| {
        raised(n).ok_at(
            Role::Reception,
            hours(2),
            "judge",
            json!({"valid": valid, "explanation": "x"}),
        )
    };
    let valid = judged(1, true);
    let unreasonable = judged(2, false);
    let unjudged = raised(3);
    let all: Vec<Complaint> = [valid, unreasonable, unjudged]
        .iter()
        .map(|g| g.state.clone())
        .collect();
    let report = monthly_analysis(&all, YearMonth::parse("2026-11").unwrap(), hours(30));
    assert_eq!(
        (
            report.total,
            report.valid,
            report.unreasonable,
            report.unjudged
        ),
        (3, 1, 1, 1)
    );
    // the unreasonable one is left out of the deadline figures; the unjudged one counts
    let feedback = &report.deadlines["complaint_feedback"];
    assert_eq!((feedback.due, feedback.missed), (2, 2));
    assert_eq!(report.deadline_compliance_permille, Some(0));
    assert_eq!(report.by_category["meals"], 3, "other figures count all");
}

// --- C9 -------------------------------------------------------------------

fn letter_body(due: Time) -> Value {
    json!({"department": "motor-pool", "text": "explain why the car never came", "due": due})
}

#[test]
fn c9_a_work_letter_goes_to_a_department_with_a_deadline_in_the_future() {
    let given = assigned_minor();
    // the deadline must be after now, naming the field
    for due in [hours(1), hours(1) - Duration::seconds(1)] {
        let err = given
            .when_at(Role::Reception, hours(1), "work-letter", letter_body(due))
            .then_violation("C9");
        assert_eq!(err.field.as_deref(), Some("due"));
    }
    let cmd = ComplaintCommand::parse("work-letter", letter_body(hours(25))).unwrap();
    assert!(cmd.creates_entity(), "the answer carries the letter's id");
    let e = given
        .when_at(
            Role::Reception,
            hours(1),
            "work-letter",
            letter_body(hours(25)),
        )
        .then_single();
    let ComplaintEvent::ComplaintWorkLetterSent(sent) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        sent.letter_id,
        Uuid::from_u128(0xC0),
        "the command's entity id"
    );
    assert_eq!((sent.due, sent.at), (hours(25), hours(1)));
    assert_eq!(sent.department, "motor-pool");
    // bad bodies name the field
    let field = |body: Value| {
        ComplaintCommand::parse("work-letter", body)
            .unwrap_err()
            .field
    };
    assert_eq!(
        field(json!({"department": "d", "text": "t"})).as_deref(),
        Some("due")
    );
    assert_eq!(
        field(json!({"department": "d", "text": "t", "due": "tomorrow"})).as_deref(),
        Some("due")
    );
    assert_eq!(
        field(json!({"text": "t", "due": hours(3)})).as_deref(),
        Some("department")
    );
}

#[test]
fn c9_a_work_letter_is_answered_or_overdue() {
    let given = assigned_minor().ok_at(
        Role::Reception,
        hours(1),
        "work-letter",
        letter_body(hours(25)),
    );
    let id = Uuid::from_u128(0xC0);
    let c = given.state.clone();
    let d = deadline(&c, hours(2), WORK_LETTER_ITEM);
    assert_eq!(
        (d.rule.as_str(), d.due_at, d.overdue),
        ("C9", hours(25), false)
    );
    assert_eq!(
        c.overdue_letters(hours(25)).count(),
        0,
        "not late at its due time"
    );
    assert_eq!(
        c.overdue_letters(hours(26)).count(),
        1,
        "overdue once past it"
    );
    assert!(deadline(&c, hours(26), WORK_LETTER_ITEM).overdue);

    // unknown letter: not found, naming the field
    given
        .when_at(
            Role::Reception,
            hours(3),
            "answer-letter",
            json!({"letter_id": Uuid::from_u128(7), "text": "t"}),
        )
        .then_error(ErrorKind::NotFound, Some("letter_id"));
    // in time
    let answer = json!({"letter_id": id, "text": "driver retrained"});
    let e = given
        .when_at(Role::Reception, hours(3), "answer-letter", answer.clone())
        .then_single();
    let ComplaintEvent::ComplaintWorkLetterAnswered(a) = &e else {
        panic!("{e:?}")
    };
    assert_eq!((a.letter_id, a.late, a.at), (id, false, hours(3)));
    let answered = given
        .clone()
        .ok_at(Role::Reception, hours(3), "answer-letter", answer.clone());
    let c = answered.state.clone();
    assert_eq!(c.letters[0].answer.as_deref(), Some("driver retrained"));
    assert_eq!(c.overdue_letters(hours(40)).count(), 0);
    // once
    answered
        .when_at(Role::Reception, hours(4), "answer-letter", answer.clone())
        .then_error(ErrorKind::InvalidState, None);
    // late: answered, and still counted overdue
    let late = given.ok_at(Role::Reception, hours(30), "answer-letter", answer);
    let Some(ComplaintEvent::ComplaintWorkLetterAnswered(a)) = late.events.last() else {
        panic!()
    };
    assert!(a.late);
    let d = deadline(&late.state.clone(), hours(40), WORK_LETTER_ITEM);
    assert_eq!((d.met_at, d.overdue), (Some(hours(30)), true));
}

#[test]
fn c9_a_complaint_with_an_unanswered_letter_is_not_closed() {
    let visited = given(&[])
        .ok_at(Role::Reception, t0(), "raise", raise_body("minor"))
        .ok_at(
            Role::Reception,
            hours(1),
            "work-letter",
            letter_body(hours(48)),
        )
        .ok_at(Role::Reception, hours(2), "feedback", json!({"text": "f"}))
        .ok_at(
            Role::Reception,
            hours(3),
            "resolve",
            json!({"resolution": "r"}),
        )
        .ok_at(
            Role::Reception,
            hours(4),
            "return-visit",
            json!({"mode": "phone"}),
        );
    visited
        .when_at(Role::Reception, hours(5), "close", json!({}))
        .then_violation("C9");
    let answered = visited.ok_at(
        Role::Reception,
        hours(5),
        "answer-letter",
        json!({"letter_id": Uuid::from_u128(0xC0), "text": "done"}),
    );
    assert!(answered
        .when_at(Role::Reception, hours(6), "close", json!({}))
        .is_ok());
}

// --- C10 ------------------------------------------------------------------

fn miss(deadline: &str, due_at: Time) -> Value {
    json!({"deadline": deadline, "due_at": due_at})
}

#[test]
fn c10_a_passed_deadline_is_recorded_by_the_system_once() {
    let id = Uuid::from_u128(0xC0);
    let given = given_raised("major", t0());
    let c = given.state.clone();
    // nothing while the ten minutes run, nor at their last instant
    assert!(due_misses([(id, &c)], mins(10)).is_empty());
    let orders = due_misses([(id, &c), (id, &c)], mins(11));
    assert_eq!(orders.len(), 1, "{orders:?}");
    let order = &orders[0];
    assert_eq!(
        (order.complaint_id, order.deadline, order.due_at),
        (id, ComplaintDeadline::ComplaintReport, mins(10))
    );
    assert_eq!(order.actor, Actor::system());
    assert_eq!(
        order.idempotency_key(),
        format!("missed-{id}-complaint_report-{}", mins(10).timestamp())
    );
    let events = c
        .decide(order.command.clone(), &ctx(Role::System, mins(11)))
        .unwrap();
    let [ComplaintEvent::ComplaintDeadlineMissed(e)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(e.deadline, ComplaintDeadline::ComplaintReport);
    assert_eq!(
        (e.rule.as_str(), e.due_at, e.at),
        ("C2", mins(10), mins(11))
    );
    assert!(
        !e.reported_to_head,
        "only the solution's miss goes to the head"
    );
    let recorded = given.ok_at(
        Role::System,
        mins(11),
        "record-missed-deadline",
        miss("complaint_report", mins(10)),
    );
    assert_eq!(recorded.state.clone().missed_deadlines.len(), 1);
    // once: the process issues nothing more, and the command is refused
    assert!(due_misses([(id, &recorded.state.clone())], mins(30)).is_empty());
    recorded
        .when_at(
            Role::System,
            mins(30),
            "record-missed-deadline",
            miss("complaint_report", mins(10)),
        )
        .then_error(ErrorKind::InvalidState, None);
    // by the system only
    for role in [Role::Reception, Role::Admin] {
        given_raised("major", t0())
            .when_at(
                role,
                mins(11),
                "record-missed-deadline",
                miss("complaint_report", mins(10)),
            )
            .then_error(ErrorKind::Forbidden, None);
    }
}

#[test]
fn c10_a_major_complaints_missed_solution_is_reported_to_the_head_of_department() {
    let reported = given_raised("major", t0()).ok_at(
        Role::Reception,
        mins(5),
        "report",
        json!({"to": "Zhou Qiang, head of motor pool"}),
    );
    let c = reported.state.clone();
    assert!(due_misses([(Uuid::nil(), &c)], hours(12)).is_empty());
    let orders = due_misses([(Uuid::nil(), &c)], hours(13));
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].deadline, ComplaintDeadline::ComplaintSolution);
    let e = reported
        .when_at(
            Role::System,
            hours(13),
            "record-missed-deadline",
            miss("complaint_solution", hours(12)),
        )
        .then_single();
    let ComplaintEvent::ComplaintDeadlineMissed(e) = e else {
        panic!("{e:?}")
    };
    assert_eq!((e.rule.as_str(), e.due_at), ("C2", hours(12)));
    assert!(e.reported_to_head);
    assert_eq!(e.head.as_deref(), Some("Zhou Qiang, head of motor pool"));
}

#[test]
fn c10_c3_and_c5_misses_are_recorded_and_nothing_early_on_time_or_moved() {
    let given = assigned_minor(); // analysis due at 1 h 10 min
    let c = given.state.clone();
    let at = |h: i64| {
        due_misses([(Uuid::nil(), &c)], hours(h))
            .into_iter()
            .map(|o| (o.deadline, o.due_at))
            .collect::<Vec<_>>()
    };
    assert_eq!(at(2), [(ComplaintDeadline::ComplaintAnalysis, mins(70))]);
    assert_eq!(
        at(25),
        [
            (ComplaintDeadline::ComplaintAnalysis, mins(70)),
            (ComplaintDeadline::ComplaintFeedback, hours(24))
        ]
    );
    // not passed yet
    given
        .when_at(
            Role::System,
            hours(1),
            "record-missed-deadline",
            miss("complaint_analysis", mins(70)),
        )
        .then_violation("C10");
    // the due time must be the deadline's own
    given
        .when_at(
            Role::System,
            hours(2),
            "record-missed-deadline",
            miss("complaint_analysis", mins(71)),
        )
        .then_error(ErrorKind::InvalidState, Some("due_at"));
    // a deadline the complaint does not have
    given
        .when_at(
            Role::System,
            hours(2),
            "record-missed-deadline",
            miss("complaint_solution", hours(12)),
        )
        .then_error(ErrorKind::InvalidState, Some("deadline"));
    // met on time: nothing to record
    let fed = given.ok_at(Role::Reception, hours(3), "feedback", json!({"text": "f"}));
    fed.when_at(
        Role::System,
        hours(30),
        "record-missed-deadline",
        miss("complaint_feedback", hours(24)),
    )
    .then_violation("C10");
    // C5: the return visit 24 hours after resolution
    let resolved = fed.ok_at(
        Role::Reception,
        hours(4),
        "resolve",
        json!({"resolution": "r"}),
    );
    let c = resolved.state.clone();
    let orders = due_misses([(Uuid::nil(), &c)], hours(29));
    assert!(orders
        .iter()
        .any(|o| o.deadline == ComplaintDeadline::ComplaintReturnVisit && o.due_at == hours(28)));
    // met late before the process saw it: still a miss
    let late = resolved.ok_at(
        Role::Reception,
        hours(29),
        "return-visit",
        json!({"mode": "phone"}),
    );
    assert!(unrecorded_misses(&late.state.clone(), hours(30))
        .contains(&(ComplaintDeadline::ComplaintReturnVisit, hours(28))));
    // C4 and C9 items are not C10's
    assert!(
        unrecorded_misses(&late.state.clone(), t0() + Duration::days(30))
            .iter()
            .all(|(d, _)| ComplaintDeadline::ALL.contains(d))
    );
}

#[test]
fn c10_a_reassignment_gives_the_analysis_a_new_deadline_recorded_on_its_own() {
    let recorded = assigned_minor().ok_at(
        Role::System,
        hours(2),
        "record-missed-deadline",
        miss("complaint_analysis", mins(70)),
    );
    let reassigned = recorded.ok_at(
        Role::Reception,
        hours(3),
        "assign",
        json!({"department": "catering", "assignee": "wu.fang"}),
    );
    let orders = due_misses([(Uuid::nil(), &reassigned.state.clone())], hours(5));
    assert_eq!(
        orders
            .iter()
            .map(|o| (o.deadline, o.due_at))
            .collect::<Vec<_>>(),
        [(ComplaintDeadline::ComplaintAnalysis, hours(4))]
    );
}

#[test]
fn c10_the_monthly_analysis_counts_recorded_misses() {
    let c = given_raised("major", t0())
        .ok_at(
            Role::System,
            mins(11),
            "record-missed-deadline",
            miss("complaint_report", mins(10)),
        )
        .ok_at(
            Role::System,
            hours(13),
            "record-missed-deadline",
            miss("complaint_solution", hours(12)),
        )
        .state
        .clone();
    let report = monthly_analysis(&[c], YearMonth::parse("2026-11").unwrap(), hours(14));
    assert_eq!(report.missed_deadlines_recorded, 2);
    assert_eq!(report.missed_by_deadline["complaint_solution"], 1);
    assert_eq!(report.misses_reported_to_head, 1);
}

// --- C11 ------------------------------------------------------------------

#[test]
fn c11_the_return_visit_records_satisfaction_and_suggestions() {
    let given = resolved_minor();
    let e = given
        .when_at(
            Role::Reception,
            hours(5),
            "return-visit",
            json!({"mode": "phone", "satisfaction": 4, "suggestions": "send the car earlier"}),
        )
        .then_single();
    let ComplaintEvent::ComplaintReturnVisitDone(rv) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(rv.satisfaction, Some(4));
    assert_eq!(rv.suggestions.as_deref(), Some("send the car earlier"));
    for bad in [
        json!(0),
        json!(6),
        json!(300),
        json!(-1),
        json!(4.5),
        json!("4"),
    ] {
        let err = ComplaintCommand::parse(
            "return-visit",
            json!({"mode": "phone", "satisfaction": bad}),
        )
        .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("satisfaction"), "{bad}");
    }
    // a return visit recorded before C11 (no satisfaction, no suggestions) still loads
    let old = json!({"mode": "phone", "notes": null, "at": hours(5)});
    let e = ComplaintEvent::from_stored("ComplaintReturnVisitDone", &old).unwrap();
    let c = given.state.clone().evolve(&e);
    assert_eq!(
        (c.return_visit_satisfaction, c.return_visit_at),
        (None, Some(hours(5)))
    );
    assert_eq!(e.to_data(), old, "and is stored back the same");
}

fn closed_minor() -> Given {
    resolved_minor()
        .ok_at(
            Role::Reception,
            hours(5),
            "return-visit",
            json!({"mode": "phone", "satisfaction": 5}),
        )
        .ok_at(Role::Reception, hours(6), "close", json!({}))
}

#[test]
fn c11_only_a_closed_complaint_enters_the_case_library_once() {
    let case =
        json!({"title": "The car that never came", "lesson": "confirm pickups the day before"});
    resolved_minor()
        .when_at(
            Role::Reception,
            hours(5),
            "add-to-case-library",
            case.clone(),
        )
        .then_violation("C11");
    let closed = closed_minor();
    let e = closed
        .when_at(
            Role::Reception,
            hours(7),
            "add-to-case-library",
            case.clone(),
        )
        .then_single();
    let ComplaintEvent::ComplaintAddedToCaseLibrary(a) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (a.title.as_str(), a.lesson.as_str(), a.at),
        (
            "The car that never came",
            "confirm pickups the day before",
            hours(7)
        )
    );
    let added = closed.ok_at(
        Role::Reception,
        hours(7),
        "add-to-case-library",
        case.clone(),
    );
    assert_eq!(
        added.state.clone().case.map(|c| c.title),
        Some("The car that never came".to_string())
    );
    added
        .when_at(
            Role::Reception,
            hours(8),
            "add-to-case-library",
            case.clone(),
        )
        .then_error(ErrorKind::InvalidState, None);
    // the closed record otherwise stays as it is
    added
        .when_at(Role::Reception, hours(8), "feedback", json!({"text": "x"}))
        .then_error(ErrorKind::InvalidState, None);
    for role in [
        Role::Requester,
        Role::Frontdesk,
        Role::Analyst,
        Role::Auditor,
    ] {
        closed_minor()
            .when_at(role, hours(7), "add-to-case-library", case.clone())
            .then_error(ErrorKind::Forbidden, None);
    }
    let field = |body: Value| {
        ComplaintCommand::parse("add-to-case-library", body)
            .unwrap_err()
            .field
    };
    assert_eq!(field(json!({"title": "t"})).as_deref(), Some("lesson"));
    assert_eq!(
        field(json!({"title": "", "lesson": "l"})).as_deref(),
        Some("title")
    );
}

#[test]
fn c11_the_monthly_analysis_gives_mean_satisfaction_letters_and_cases() {
    // a: closed with satisfaction 5, in the case library
    let a = closed_minor()
        .ok_at(
            Role::Reception,
            hours(7),
            "add-to-case-library",
            json!({"title": "t", "lesson": "l"}),
        )
        .state
        .clone();
    // b: satisfaction 2; two letters, one answered in time, one unanswered past its due time
    let b = given(&[])
        .with_entity(Uuid::from_u128(0xB0))
        .ok_at(Role::Reception, t0(), "raise", raise_body("minor"))
        .ok_at(Role::Reception, hours(1), "feedback", json!({"text": "f"}))
        .ok_at(
            Role::Reception,
            hours(2),
            "resolve",
            json!({"resolution": "r"}),
        )
        .ok_at(
            Role::Reception,
            hours(5),
            "return-visit",
            json!({"mode": "message", "satisfaction": 2}),
        )
        .with_entity(Uuid::from_u128(0xC1))
        .ok_at(
            Role::Reception,
            hours(6),
            "work-letter",
            letter_body(hours(8)),
        )
        .with_entity(Uuid::from_u128(0xC2))
        .ok_at(
            Role::Reception,
            hours(6),
            "work-letter",
            letter_body(hours(9)),
        )
        .ok_at(
            Role::Reception,
            hours(7),
            "answer-letter",
            json!({"letter_id": Uuid::from_u128(0xC1), "text": "done"}),
        )
        .state
        .clone();
    let report = monthly_analysis(&[a, b], YearMonth::parse("2026-11").unwrap(), hours(10));
    assert_eq!(report.total, 2);
    assert_eq!(
        (report.satisfaction_given, report.mean_satisfaction_milli),
        (2, Some(3500))
    );
    assert_eq!(
        (
            report.letters_sent,
            report.letters_answered,
            report.letters_overdue
        ),
        (2, 1, 1)
    );
    assert_eq!(report.deadlines[WORK_LETTER_ITEM].missed, 1);
    assert_eq!((report.cases_added, report.closed), (1, 1));
    assert_eq!(report.return_visit_rate_permille, Some(1000));
}

// --- roles, existence, parsing ---------------------------------------------

#[test]
fn auditors_and_analysts_never_write_complaints() {
    let given = given_raised("minor", t0());
    for role in [Role::Auditor, Role::Analyst, Role::Approver, Role::Finance] {
        let err = nothing()
            .when_at(role, t0(), "raise", raise_body("minor"))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Forbidden, "{role:?} raise");
        let err = given
            .when_at(role, t0(), "feedback", json!({"text": "x"}))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Forbidden, "{role:?} feedback");
    }
}

#[test]
fn requester_and_frontdesk_raise_complaints_but_only_reception_and_admin_handle_them() {
    for role in [
        Role::Reception,
        Role::Requester,
        Role::Frontdesk,
        Role::Admin,
    ] {
        assert!(
            nothing()
                .when_at(role, t0(), "raise", raise_body("minor"))
                .is_ok(),
            "{role:?}"
        );
    }
    let given = given_raised("minor", t0());
    for role in [Role::Requester, Role::Frontdesk, Role::System] {
        let err = given
            .when_at(
                role,
                t0(),
                "assign",
                json!({"department": "d", "assignee": "a"}),
            )
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Forbidden, "{role:?}");
    }
    assert!(given
        .when_at(
            Role::Admin,
            t0(),
            "assign",
            json!({"department": "d", "assignee": "a"})
        )
        .is_ok());
}

#[test]
fn commands_on_a_complaint_never_raised_are_not_found_and_raising_twice_is_refused() {
    let err = nothing()
        .when_at(Role::Reception, t0(), "feedback", json!({"text": "x"}))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = given_raised("minor", t0())
        .when_at(Role::Reception, t0(), "raise", raise_body("minor"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidState);
}

#[test]
fn bad_bodies_name_the_field() {
    let field = |name: &str, body: Value| ComplaintCommand::parse(name, body).unwrap_err().field;
    assert_eq!(
        field(
            "raise",
            json!({"severity": "minor", "category": "c", "description": "d"})
        )
        .as_deref(),
        Some("customer")
    );
    assert_eq!(
        field(
            "raise",
            json!({"customer": "A", "severity": "minor", "category": "  ", "description": "d"})
        )
        .as_deref(),
        Some("category")
    );
    assert_eq!(field("raise", json!({"customer": {"country": "CN"}, "severity": "minor", "category": "c", "description": "d"})).as_deref(), Some("customer"));
    assert_eq!(
        field("return-visit", json!({"mode": "carrier-pigeon"})).as_deref(),
        Some("mode")
    );
    assert_eq!(
        field("assign", json!({"department": "d"})).as_deref(),
        Some("assignee")
    );
    assert_eq!(
        field("close", json!({"extra": 1})).as_deref(),
        Some("extra")
    );
    let err = ComplaintCommand::parse("delete", json!({})).unwrap_err();
    assert_eq!(
        (err.kind, err.field.as_deref()),
        (ErrorKind::NotFound, Some("command"))
    );
    // the visit-style customer object is accepted
    let ComplaintCommand::Raise(r) = ComplaintCommand::parse(
        "raise",
        json!({"customer": {"company": "Huaxin", "country": "CN", "foreign": false},
               "severity": "minor", "category": "c", "description": "d", "visit_id": Uuid::nil()}),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(r.customer.company(), "Huaxin");
}

#[test]
fn every_complaint_event_round_trips_through_its_stored_form() {
    let history = given_raised("minor", t0())
        .ok_at(
            Role::Reception,
            mins(1),
            "assign",
            json!({"department": "d", "assignee": "a"}),
        )
        .ok_at(Role::Reception, mins(2), "report", json!({"to": "head"}))
        .ok_at(
            Role::Reception,
            mins(3),
            "analyse",
            json!({"analysis": "a"}),
        )
        .ok_at(Role::Reception, mins(4), "feedback", json!({"text": "f"}))
        .ok_at(Role::Reception, mins(5), "escalate", json!({"reason": "r"}))
        .ok_at(
            Role::Reception,
            mins(6),
            "agree-solution",
            json!({"solution": "s"}),
        )
        .ok_at(
            Role::Reception,
            mins(7),
            "resolve",
            json!({"resolution": "r"}),
        )
        .ok_at(
            Role::Reception,
            mins(8),
            "return-visit",
            json!({"mode": "in_person", "notes": "n"}),
        )
        .ok_at(Role::Reception, mins(9), "close", json!({}));
    assert_eq!(history.events.len(), 10);
    let first = history.events;
    // C8–C11: judged, a letter sent and answered, a miss recorded, a case added
    let history = given_raised("major", t0())
        .ok_at(
            Role::Reception,
            mins(1),
            "assign",
            json!({"department": "d", "assignee": "a"}),
        )
        .ok_at(
            Role::Reception,
            mins(2),
            "judge",
            json!({"valid": true, "explanation": "e"}),
        )
        .ok_at(
            Role::Reception,
            mins(3),
            "work-letter",
            json!({"department": "motor-pool", "text": "t", "due": hours(5)}),
        )
        .ok_at(
            Role::Reception,
            mins(4),
            "answer-letter",
            json!({"letter_id": Uuid::from_u128(0xC0), "text": "done"}),
        )
        .ok_at(
            Role::System,
            mins(11),
            "record-missed-deadline",
            json!({"deadline": "complaint_report", "due_at": mins(10)}),
        )
        .ok_at(Role::Reception, mins(12), "report", json!({"to": "head"}))
        .ok_at(
            Role::Reception,
            mins(13),
            "agree-solution",
            json!({"solution": "s"}),
        )
        .ok_at(
            Role::Reception,
            mins(14),
            "resolve",
            json!({"resolution": "r"}),
        )
        .ok_at(
            Role::Reception,
            mins(15),
            "return-visit",
            json!({"mode": "in_person", "satisfaction": 4, "suggestions": "call earlier"}),
        )
        .ok_at(Role::Reception, mins(16), "close", json!({}))
        .ok_at(
            Role::Admin,
            mins(17),
            "add-to-case-library",
            json!({"title": "t", "lesson": "l"}),
        );
    assert_eq!(history.state.clone().version(), 12);
    let all: Vec<ComplaintEvent> = first.into_iter().chain(history.events).collect();
    let types: std::collections::BTreeSet<&str> = all.iter().map(|e| e.event_type()).collect();
    assert_eq!(
        types.len(),
        ComplaintEvent::schemas().len(),
        "every type: {types:?}"
    );
    for e in &all {
        assert_eq!(e.schema(), 1);
        let back = ComplaintEvent::from_stored(e.event_type(), &e.to_data()).unwrap();
        assert_eq!(&back, e);
        assert_eq!(e.occurred_at(), Some(e.at()));
    }
    assert!(ComplaintEvent::from_stored("ComplaintDeleted", &json!({})).is_err());
}

// --- the C4 process as a property ------------------------------------------

#[derive(Debug, Clone)]
struct Spec {
    major: bool,
    raised_after_h: i64,
    resolved_after_h: Option<i64>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (any::<bool>(), 0i64..400, proptest::option::of(1i64..400)).prop_map(
        |(major, raised_after_h, resolved_after_h)| Spec {
            major,
            raised_after_h,
            resolved_after_h,
        },
    )
}

proptest! {
    /// Whatever the complaints and however often the process runs (with the same
    /// complaint listed twice), each complaint is escalated at most once, only when C4
    /// says so, and a rerun over the updated states issues nothing new.
    #[test]
    fn c4_the_escalation_process_escalates_each_complaint_at_most_once(
        specs in proptest::collection::vec(spec(), 1..12),
        mut runs_h in proptest::collection::vec(0i64..800, 1..8),
    ) {
        runs_h.sort();
        let mut complaints: Vec<(Uuid, Complaint, Vec<i64>)> = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            let raised_at = hours(s.raised_after_h);
            let mut c = ctx(Role::Reception, raised_at);
            c.entity_id = Uuid::from_u128(i as u128 + 1);
            let body = raise_body(if s.major { "major" } else { "minor" });
            let events = Complaint::default().decide(ComplaintCommand::parse("raise", body).unwrap(), &c).unwrap();
            let state = events.iter().fold(Complaint::default(), |c, e| c.evolve(e));
            complaints.push((c.entity_id, state, Vec::new()));
        }
        for &run in &runs_h {
            let now = hours(run);
            // resolve the complaints whose resolution time has come (to the extent the rules allow)
            for (i, s) in specs.iter().enumerate() {
                let (_, state, _) = &mut complaints[i];
                if let Some(after) = s.resolved_after_h {
                    let at = hours(s.raised_after_h + after);
                    if at <= now && state.status() == ComplaintStatus::Open {
                        for (name, body) in [
                            ("report", json!({"to": "head"})),
                            ("agree-solution", json!({"solution": "s"})),
                            ("feedback", json!({"text": "f"})),
                            ("resolve", json!({"resolution": "r"})),
                        ] {
                            let cmd = ComplaintCommand::parse(name, body).unwrap();
                            let events = state.decide(cmd, &ctx(Role::Reception, at)).unwrap();
                            *state = events.iter().fold(state.clone(), |c, e| c.evolve(e));
                        }
                    }
                }
            }
            let listed: Vec<(Uuid, &Complaint)> =
                complaints.iter().flat_map(|(id, c, _)| [(*id, c), (*id, c)]).collect();
            let orders = due_escalations(listed, now);
            let mut ids: Vec<Uuid> = orders.iter().map(|o| o.complaint_id).collect();
            ids.dedup();
            prop_assert_eq!(ids.len(), orders.len(), "one order per complaint per run");
            for order in orders {
                prop_assert_eq!(&order.actor, &Actor::system());
                let (_, state, escalations) = complaints.iter_mut().find(|(id, _, _)| *id == order.complaint_id).unwrap();
                prop_assert!(now >= state.raised_at.unwrap() + Duration::days(10));
                let events = state.decide(order.command, &ctx(Role::System, now)).unwrap();
                *state = events.iter().fold(state.clone(), |c, e| c.evolve(e));
                escalations.push(run);
            }
            // a rerun at the same moment issues nothing
            let rerun = due_escalations(complaints.iter().map(|(id, c, _)| (*id, c)), now);
            prop_assert!(rerun.is_empty(), "rerun issued {:?}", rerun);
        }
        let last = *runs_h.last().unwrap();
        for ((_, state, escalations), s) in complaints.iter().zip(&specs) {
            prop_assert!(escalations.len() <= 1);
            // exactly the minor complaints still unresolved ten days after raising, at some run, were escalated
            let resolved_at = s.resolved_after_h.map(|a| s.raised_after_h + a);
            let due_h = s.raised_after_h + 240;
            let should = !s.major
                && runs_h.iter().any(|&r| r >= due_h && resolved_at.is_none_or(|res| res > r))
                && last >= due_h;
            prop_assert_eq!(escalations.len() == 1, should, "spec {:?} state {:?}", s, state.severity);
        }
    }
}

/// How many commands [`any_command`] knows.
const ANY_COMMANDS: usize = 16;

/// Every entity the harness creates gets the id 0xC0, so a letter's id is known ahead.
fn any_command(i: usize) -> (&'static str, Value) {
    match i % ANY_COMMANDS {
        0 => ("assign", json!({"department": "d", "assignee": "a"})),
        1 => ("report", json!({"to": "head"})),
        2 => ("analyse", json!({"analysis": "a"})),
        3 => ("feedback", json!({"text": "f"})),
        4 => ("agree-solution", json!({"solution": "s"})),
        5 => ("escalate", json!({"reason": "r"})),
        6 => ("resolve", json!({"resolution": "r"})),
        7 => ("return-visit", json!({"mode": "phone"})),
        8 => (
            "return-visit",
            json!({"mode": "in_person", "satisfaction": 3}),
        ),
        9 => ("close", json!({})),
        10 => ("judge", json!({"valid": false, "explanation": "x"})),
        11 => (
            "work-letter",
            json!({"department": "d", "text": "t", "due": "2027-01-01T00:00:00+08:00"}),
        ),
        12 => (
            "answer-letter",
            json!({"letter_id": Uuid::from_u128(0xC0), "text": "t"}),
        ),
        13 => ("add-to-case-library", json!({"title": "t", "lesson": "l"})),
        14 => (
            "record-missed-deadline",
            json!({"deadline": "complaint_feedback", "due_at": hours(24)}),
        ),
        _ => ("raise", raise_body("minor")),
    }
}

proptest! {
    /// Any sequence of commands, by any role, at increasing times: the accepted ones,
    /// stored and replayed through `evolve`, give the same complaint; a closed complaint
    /// accepts nothing more and was resolved and visited first (C5), kept two years (C6).
    #[test]
    fn accepted_complaint_commands_replay_to_the_same_state(
        major in any::<bool>(),
        steps in proptest::collection::vec((0usize..ANY_COMMANDS, 0usize..9, 0i64..600), 0..40),
    ) {
        let mut given = given_raised(if major { "major" } else { "minor" }, t0());
        let mut now = t0();
        let roles = [Role::Admin, Role::Requester, Role::Reception, Role::Approver, Role::Finance,
                     Role::Frontdesk, Role::Auditor, Role::Analyst, Role::System];
        for (cmd, role, gap) in steps {
            now += Duration::minutes(gap);
            let (name, body) = any_command(cmd);
            let before = given.state.clone();
            given.now = now;
            if given.try_cmd(roles[role], name, body).is_ok() {
                prop_assert!(
                    before.status() != ComplaintStatus::Closed || name == "add-to-case-library",
                    "a closed complaint accepted {}", name
                );
                prop_assert!(![Role::Auditor, Role::Analyst].contains(&roles[role]));
                prop_assert!(roles[role] == Role::System || name != "record-missed-deadline");
            }
        }
        let state = given.state.clone();
        let replayed = given
            .events
            .iter()
            .map(|e| ComplaintEvent::from_stored(e.event_type(), &e.to_data()).unwrap())
            .fold(Complaint::default(), |c, e| c.evolve(&e));
        prop_assert_eq!(&replayed, &state);
        prop_assert_eq!(state.version(), given.events.len() as u64);
        if let Some(closed_at) = state.closed_at {
            prop_assert!(state.resolved_at.is_some() && state.return_visit_at.is_some());
            prop_assert!(state.retain_until.unwrap() >= closed_at + Duration::days(730));
            prop_assert!(state.letters.iter().all(|l| l.answered_at.is_some()), "C9");
            for i in 0..ANY_COMMANDS {
                let (name, body) = any_command(i);
                let in_library = state.case.is_some();
                if name != "add-to-case-library" || in_library {
                    prop_assert!(given.when_at(Role::Admin, now, name, body).is_err());
                }
            }
        }
        if state.case.is_some() {
            prop_assert!(state.closed_at.is_some(), "C11: only closed complaints are cases");
        }
        if state.severity == Severity::Major && state.resolved_at.is_some() {
            prop_assert!(state.reported_at.is_some() && state.solution_agreed_at.is_some());
        }
    }
}

// --- the C10 process as a property -----------------------------------------

/// A complaint's handling: each step's minute after raising, when it happens.
#[derive(Debug, Clone)]
struct Handling {
    major: bool,
    steps: Vec<(&'static str, Option<i64>)>,
}

fn handling() -> impl Strategy<Value = Handling> {
    let at = || proptest::option::of(0i64..3000);
    (any::<bool>(), at(), at(), at(), at(), at(), at()).prop_map(
        |(major, report, solution, feedback, assign, analyse, resolve)| Handling {
            major,
            steps: vec![
                ("report", report),
                ("agree-solution", solution),
                ("feedback", feedback),
                ("assign", assign),
                ("analyse", analyse),
                ("resolve", resolve),
            ],
        },
    )
}

/// The steps still to take, in time order: (command, minute after raising).
type Steps = Vec<(&'static str, i64)>;

fn step_body(name: &str) -> Value {
    match name {
        "report" => json!({"to": "head"}),
        "agree-solution" => json!({"solution": "s"}),
        "feedback" => json!({"text": "f"}),
        "assign" => json!({"department": "d", "assignee": "a"}),
        "analyse" => json!({"analysis": "a"}),
        _ => json!({"resolution": "r"}),
    }
}

proptest! {
    /// Whatever the handling and whenever the process runs (a complaint listed twice),
    /// every C2, C3 or C5 deadline that passed unmet by the last run is recorded exactly
    /// once, at or after its due time, and a rerun at the same moment records nothing.
    #[test]
    fn c10_the_miss_process_records_each_passed_deadline_exactly_once(
        handlings in proptest::collection::vec(handling(), 1..6),
        mut runs_m in proptest::collection::vec(0i64..4500, 1..10),
    ) {
        runs_m.sort();
        let mut complaints: Vec<(Uuid, Given, Steps)> = handlings
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let id = Uuid::from_u128(i as u128 + 1);
                let g = given(&[]).with_entity(id).ok_at(
                    Role::Reception,
                    t0(),
                    "raise",
                    raise_body(if h.major { "major" } else { "minor" }),
                );
                let mut steps: Steps =
                    h.steps.iter().filter_map(|(n, at)| at.map(|m| (*n, m))).collect();
                steps.sort_by_key(|(_, m)| *m);
                (id, g, steps)
            })
            .collect();
        for &run in &runs_m {
            let now = mins(run);
            for (_, g, steps) in complaints.iter_mut() {
                // the steps taken since the last run, each at its own time (refusals are part of the story)
                while steps.first().is_some_and(|(_, m)| *m <= run) {
                    let (name, m) = steps.remove(0);
                    g.now = mins(m);
                    let _ = g.try_cmd(Role::Reception, name, step_body(name));
                }
            }
            let listed: Vec<(Uuid, Complaint)> = complaints
                .iter()
                .flat_map(|(id, g, _)| [(*id, g.state.clone()), (*id, g.state.clone())])
                .collect();
            let orders = due_misses(listed.iter().map(|(id, c)| (*id, c)), now);
            for order in orders {
                let (_, g, _) = complaints.iter_mut().find(|(id, _, _)| *id == order.complaint_id).unwrap();
                prop_assert!(order.due_at < now);
                g.now = now;
                let events = g.when_command(Role::System, order.command.clone());
                prop_assert!(events.is_ok(), "{:?} refused: {:?}", order, events);
                g.try_cmd(Role::System, "record-missed-deadline",
                    json!({"deadline": order.deadline, "due_at": order.due_at})).unwrap();
            }
            let rerun = due_misses(complaints.iter().map(|(id, g, _)| (*id, &g.state)), now);
            prop_assert!(rerun.is_empty(), "rerun issued {:?}", rerun);
        }
        let last = mins(*runs_m.last().unwrap());
        for (_, g, _) in &complaints {
            let c = &g.state;
            let mut recorded: Vec<(ComplaintDeadline, Time)> =
                c.missed_deadlines.iter().map(|m| (m.deadline, m.due_at)).collect();
            for m in &c.missed_deadlines {
                prop_assert!(m.recorded_at > m.due_at);
            }
            let n = recorded.len();
            recorded.sort();
            recorded.dedup();
            prop_assert_eq!(n, recorded.len(), "a miss recorded twice");
            for d in complaint_deadlines(c, last) {
                if let Some(k) = ComplaintDeadline::of_item(&d.item) {
                    prop_assert_eq!(d.overdue, recorded.contains(&(k, d.due_at)), "{:?}", d);
                }
            }
        }
    }
}
