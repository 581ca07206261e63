//! The process rules of DOMAIN.md's second part (V22–V31) and F2 over HTTP: each new
//! command's happy path and its refusals — the wrong role (403), the wrong state (409
//! with its rule), a bad body (400 naming the field, an unknown field too) — and that a
//! refused command stores nothing (the log's head, the global feed and the visit's
//! version stay where they were).

use chrono::{DateTime, Duration, FixedOffset};
use integration_tests::{visit_request, Server};
use reception_domain::Role;
use serde_json::{json, Value};

/// What a refusal must answer.
struct Want {
    status: u16,
    code: &'static str,
    rule: Option<&'static str>,
    field: Option<&'static str>,
}

fn no(status: u16, code: &'static str) -> Want {
    Want {
        status,
        code,
        rule: None,
        field: None,
    }
}

impl Want {
    fn rule(mut self, r: &'static str) -> Want {
        self.rule = Some(r);
        self
    }
    fn field(mut self, f: &'static str) -> Want {
        self.field = Some(f);
        self
    }
}

/// A server and one token per role; the two approvers are two people.
struct Desk {
    s: Server,
    requester: String,
    reception: String,
    finance: String,
    frontdesk: String,
    auditor: String,
    /// `dept.manager`, an approver.
    dept: String,
    /// `general.manager`, another approver.
    general: String,
}

fn t(v: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("a time: {v}")))
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn vp(v: &str, command: &str) -> String {
    format!("/api/v1/visits/{v}/{command}")
}

/// `body` with `key` set (or removed when `value` is null).
fn with(mut body: Value, key: &str, value: Value) -> Value {
    let obj = body.as_object_mut().expect("an object body");
    if value.is_null() {
        obj.remove(key);
    } else {
        obj.insert(key.into(), value);
    }
    body
}

impl Desk {
    async fn open() -> Desk {
        let s = Server::start().await;
        let (dept, general) = s.approvers().await.clone();
        Desk {
            requester: s.token(Role::Requester).await,
            reception: s.token(Role::Reception).await,
            finance: s.token(Role::Finance).await,
            frontdesk: s.token(Role::Frontdesk).await,
            auditor: s.token(Role::Auditor).await,
            dept,
            general,
            s,
        }
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.s.clock.now()
    }

    /// Files `body` as the requester; returns the visit id.
    async fn file_body(&self, body: Value) -> String {
        let a = self
            .s
            .post(&self.requester, "/api/v1/visits", body)
            .await
            .expect(201);
        a["id"].as_str().unwrap().to_string()
    }

    /// Files a request arriving in 5 days with `visitors` visitors.
    async fn file(&self, visitors: usize) -> String {
        self.file_body(visit_request(self.now(), 5, visitors)).await
    }

    /// Files a request, approves it (V22) and assigns `level`.
    async fn prepared(&self, level: &str, visitors: usize) -> String {
        let v = self.file(visitors).await;
        self.s.approve_and_assign(&self.reception, &v, level).await;
        v
    }

    /// A command that must succeed (200 or 201); its answer.
    async fn ok(&self, token: &str, path: &str, body: Value) -> Value {
        let a = self.s.post(token, path, body).await;
        assert!(
            a.status == 200 || a.status == 201,
            "{path}: {} {}",
            a.status,
            a.body
        );
        a.body
    }

    /// A visit command that must succeed.
    async fn run(&self, token: &str, v: &str, command: &str, body: Value) -> Value {
        self.ok(token, &vp(v, command), body).await
    }

    /// `GET /api/v1/visits/{v}` (as an auditor).
    async fn visit(&self, v: &str) -> Value {
        self.s
            .get(&self.auditor, &format!("/api/v1/visits/{v}"))
            .await
            .expect(200)
    }

    /// Posts a command that must be refused as `want` says, and checks that it stored
    /// nothing: the log's head, the global feed after it and (for a visit command) the
    /// visit's version did not move. Returns the error body.
    async fn refused(&self, token: &str, path: &str, body: Value, want: Want) -> Value {
        let visit = path
            .strip_prefix("/api/v1/visits/")
            .and_then(|rest| rest.split('/').next())
            .map(str::to_string);
        let version_of = |state: &Value| state["version"].as_u64();
        let before = match &visit {
            Some(v) => {
                let a = self
                    .s
                    .get(&self.auditor, &format!("/api/v1/visits/{v}"))
                    .await;
                (a.status == 200).then(|| version_of(&a.body)).flatten()
            }
            None => None,
        };
        let head = self.s.head();
        let a = self.s.post(token, path, body.clone()).await;
        let err = &a.body["error"];
        let what = format!("{path} {body}: {} {}", a.status, a.body);
        assert_eq!(a.status, want.status, "{what}");
        assert_eq!(a.code(), want.code, "{what}");
        if let Some(rule) = want.rule {
            assert_eq!(err["rule"], rule, "{what}");
        }
        if let Some(field) = want.field {
            assert_eq!(err["field"], field, "{what}");
        }
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}"
        );
        assert_eq!(
            self.s.head(),
            head,
            "a refused command stores nothing: {what}"
        );
        let feed = self
            .s
            .get(&self.auditor, &format!("/api/v1/events?after={head}"))
            .await
            .expect(200);
        assert_eq!(feed["events"], json!([]), "the feed did not move: {what}");
        if let (Some(v), Some(version)) = (&visit, before) {
            let after = self.visit(v).await;
            assert_eq!(version_of(&after), Some(version), "{what}");
        }
        a.body
    }

    /// The visit's planned arrival and departure.
    async fn times(&self, v: &str) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
        let state = self.visit(v).await;
        (t(&state["arrival"]["at"]), t(&state["departure"]["at"]))
    }

    /// Records the arrival and the departure at their planned times (the clock follows).
    async fn arrive(&self, v: &str) {
        let (arrival, _) = self.times(v).await;
        self.s.clock.set(arrival);
        self.run(
            &self.reception,
            v,
            "record-arrival",
            json!({ "at": arrival }),
        )
        .await;
    }

    async fn depart(&self, v: &str) {
        let (_, departure) = self.times(v).await;
        self.s.clock.set(departure);
        self.run(
            &self.reception,
            v,
            "record-departure",
            json!({ "at": departure }),
        )
        .await;
    }

    /// After the departure: the return call, the summary, the close (V16).
    async fn close(&self, v: &str) {
        let (_, departure) = self.times(v).await;
        self.s.clock.set(departure + Duration::hours(8));
        self.run(
            &self.reception,
            v,
            "return-call",
            json!({ "reached": true, "satisfaction": 4, "arrived_safely": true }),
        )
        .await;
        self.run(
            &self.reception,
            v,
            "file-summary",
            json!({ "results": "renewed" }),
        )
        .await;
        let closed = self.run(&self.reception, v, "close", json!({})).await;
        assert_eq!(closed["events"][0]["type"], "VisitClosed");
    }

    /// A matter proposed and confirmed by both sides (V11); its id.
    async fn confirmed_matter(&self, v: &str) -> String {
        let m = self
            .run(
                &self.reception,
                v,
                "propose-matter",
                json!({ "by": "visitor", "text": "a regional showroom" }),
            )
            .await["entity_id"]
            .as_str()
            .unwrap()
            .to_string();
        self.run(&self.reception, v, "confirm-matter", json!({ "matter_id": m,
            "company_confirmed_by": "GM Sun", "visitor_confirmed_by": "Visitor 0", "record_ref": "MIN-7" }))
            .await;
        m
    }

    /// The events of stream `visit-{v}` (as an auditor).
    async fn history(&self, v: &str) -> Vec<Value> {
        let h = self
            .s
            .get(&self.auditor, &format!("/api/v1/visits/{v}/history"))
            .await
            .expect(200);
        h["events"].as_array().unwrap().clone()
    }
}

fn flags(state: &Value) -> Vec<String> {
    state["flags"]
        .as_array()
        .unwrap_or_else(|| panic!("flags: {state}"))
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

/// The deadlines of `item` in a visit's state.
fn due<'a>(state: &'a Value, item: &str) -> Vec<&'a Value> {
    state["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["item"] == item)
        .collect()
}

fn approve(as_: &str) -> Value {
    json!({ "decision": "approve", "as": as_ })
}

#[tokio::test]
async fn v22_a_returned_request_is_amended_and_approved_before_its_level() {
    let d = Desk::open().await;
    let v = d.file(2).await;
    let state = d.visit(&v).await;
    assert_eq!(state["approval"]["required"], true, "{state}");
    assert_eq!(state["approval"]["status"], "pending");
    let path = vp(&v, "approve-request");

    // No level before the department manager's approval.
    d.refused(
        &d.reception,
        &vp(&v, "assign-level"),
        json!({ "level": "senior" }),
        no(409, "rule_violation").rule("V22"),
    )
    .await;
    // Only approvers decide.
    for token in [&d.reception, &d.requester, &d.finance, &d.auditor] {
        d.refused(
            token,
            &path,
            approve("department_manager"),
            no(403, "forbidden"),
        )
        .await;
    }
    // Bad bodies name the field.
    let bad = [
        (
            json!({ "decision": "maybe", "as": "department_manager" }),
            "decision",
        ),
        (json!({ "decision": "approve" }), "as"),
        (json!({ "decision": "approve", "as": "ceo" }), "as"),
        (
            json!({ "decision": "approve", "as": "department_manager", "reason": "ok" }),
            "reason",
        ),
    ];
    for (body, field) in bad {
        d.refused(&d.dept, &path, body, no(400, "invalid_input").field(field))
            .await;
    }
    d.refused(
        &d.dept,
        &path,
        json!({ "decision": "return", "as": "department_manager" }),
        no(400, "invalid_input").rule("V22").field("comments"),
    )
    .await;

    // Returned with comments: no approval and no level until the requester amends.
    let returned = d
        .run(
            &d.dept,
            &v,
            "approve-request",
            json!({ "decision": "return", "as": "department_manager", "comments": "add the budget" }),
        )
        .await;
    assert_eq!(returned["events"][0]["type"], "RequestReturned");
    let state = d.visit(&v).await;
    assert_eq!(state["approval"]["status"], "returned", "{state}");
    assert_eq!(state["approval"]["comments"], "add the budget");
    d.refused(
        &d.dept,
        &path,
        approve("department_manager"),
        no(409, "invalid_state").rule("V22"),
    )
    .await;
    d.refused(
        &d.reception,
        &vp(&v, "assign-level"),
        json!({ "level": "senior" }),
        no(409, "rule_violation").rule("V22"),
    )
    .await;

    // Only the requester amends, with a reason, changing something that keeps V1.
    let amend = vp(&v, "amend-request");
    let change =
        json!({ "reason": "budget added", "budget_fen": 800_000, "cost_department": "marketing" });
    d.refused(&d.reception, &amend, change.clone(), no(403, "forbidden"))
        .await;
    d.refused(&d.dept, &amend, change.clone(), no(403, "forbidden"))
        .await;
    let bad = [
        (with(change.clone(), "reason", Value::Null), "reason"),
        (json!({ "reason": "nothing" }), "body"),
        (with(change.clone(), "budget", json!(1)), "budget"),
        (with(change.clone(), "budget_fen", json!(-1)), "budget_fen"),
    ];
    for (body, field) in bad {
        d.refused(
            &d.requester,
            &amend,
            body,
            no(400, "invalid_input").field(field),
        )
        .await;
    }
    d.refused(
        &d.requester,
        &amend,
        json!({ "reason": "one more", "headcount": 3 }),
        no(400, "invalid_input").rule("V1").field("headcount"),
    )
    .await;
    let amended = d.run(&d.requester, &v, "amend-request", change).await;
    assert_eq!(amended["events"][0]["type"], "RequestAmended");
    let state = d.visit(&v).await;
    assert_eq!(state["approval"]["status"], "pending", "{state}");
    assert_eq!(state["approval"]["given"], json!([]));
    assert_eq!(state["budget_fen"], 800_000, "{state}");
    assert_eq!(state["cost_department"], "marketing");
    assert_eq!(state["headcount"], 2, "the rest of the request stays");
    // Amending again: the request is no longer returned.
    d.refused(
        &d.requester,
        &amend,
        json!({ "reason": "again", "purpose": "other" }),
        no(409, "invalid_state").rule("V22"),
    )
    .await;

    // Approved: the level follows; an approval is given once.
    let approved = d
        .run(
            &d.dept,
            &v,
            "approve-request",
            approve("department_manager"),
        )
        .await;
    assert_eq!(approved["events"][0]["type"], "RequestApproved");
    let state = d.visit(&v).await;
    let given = &state["approval"]["given"];
    assert_eq!(given.as_array().unwrap().len(), 1, "{state}");
    assert_eq!(given[0]["as"], "department_manager");
    assert_eq!(given[0]["approver"], "dept.manager");
    d.refused(
        &d.general,
        &path,
        approve("department_manager"),
        no(409, "invalid_state").rule("V22"),
    )
    .await;
    let level = d
        .run(
            &d.reception,
            &v,
            "assign-level",
            json!({ "level": "senior" }),
        )
        .await;
    assert_eq!(level["events"][0]["type"], "LevelAssigned");
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v22_a_special_request_needs_two_approvals_from_two_people() {
    let d = Desk::open().await;
    let v = d.file(1).await;
    let path = vp(&v, "approve-request");
    d.run(
        &d.dept,
        &v,
        "approve-request",
        approve("department_manager"),
    )
    .await;
    // The department manager's approval alone does not open a special level.
    let err = d
        .refused(
            &d.reception,
            &vp(&v, "assign-level"),
            json!({ "level": "special" }),
            no(409, "rule_violation").rule("V22"),
        )
        .await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("general_manager"),
        "{err}"
    );
    // The same person cannot give the second approval.
    d.refused(
        &d.dept,
        &path,
        approve("general_manager"),
        no(409, "rule_violation").rule("V22").field("as"),
    )
    .await;
    d.run(
        &d.general,
        &v,
        "approve-request",
        approve("general_manager"),
    )
    .await;
    let state = d.visit(&v).await;
    let approvers: Vec<&str> = state["approval"]["given"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["approver"].as_str().unwrap())
        .collect();
    assert_eq!(approvers, ["dept.manager", "general.manager"], "{state}");
    d.run(
        &d.reception,
        &v,
        "assign-level",
        json!({ "level": "special" }),
    )
    .await;
    assert_eq!(d.visit(&v).await["level"], "special");
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v22_a_rejected_request_ends_the_visit_and_refuses_what_follows() {
    let d = Desk::open().await;
    let v = d.file(1).await;
    let path = vp(&v, "approve-request");
    let reject = json!({ "decision": "reject", "as": "department_manager", "comments": "not a customer of ours" });
    d.refused(&d.reception, &path, reject.clone(), no(403, "forbidden"))
        .await;
    d.refused(
        &d.dept,
        &path,
        with(reject.clone(), "comments", Value::Null),
        no(400, "invalid_input").rule("V22").field("comments"),
    )
    .await;
    let rejected = d.run(&d.dept, &v, "approve-request", reject).await;
    assert_eq!(rejected["events"][0]["type"], "RequestRejected");
    let state = d.visit(&v).await;
    assert_eq!(state["stage"], "rejected", "{state}");
    assert_eq!(state["approval"]["status"], "rejected");
    assert_eq!(state["approval"]["comments"], "not a customer of ours");

    // Nothing follows a rejection, not even a late expense (V31 is for closed and
    // cancelled visits).
    let expense = json!({ "category": "other", "amount_fen": 1_000, "receipt_no": "R-1", "paid_by": "company",
                          "spent_at": d.now(), "description": "taxi" });
    let later = [
        (&d.reception, "assign-level", json!({ "level": "ordinary" })),
        (&d.general, "approve-request", approve("general_manager")),
        (
            &d.requester,
            "amend-request",
            json!({ "reason": "try again", "purpose": "another purpose" }),
        ),
        (
            &d.requester,
            "note-preference",
            json!({ "subject": "Visitor 0", "kind": "diet", "text": "tea" }),
        ),
        (&d.finance, "record-expense", expense),
        (
            &d.reception,
            "cancel",
            json!({ "reason": "rejected anyway" }),
        ),
    ];
    for (token, command, body) in later {
        d.refused(
            token,
            &vp(&v, command),
            body,
            no(409, "rule_violation").rule("V22"),
        )
        .await;
    }
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v23_a_reschedule_moves_the_deadlines_and_flags_a_car_now_late() {
    let d = Desk::open().await;
    let v = d.prepared("senior", 2).await;
    let (arrival, departure) = d.times(&v).await;
    let car = d
        .run(&d.reception, &v, "dispatch-car", json!({ "leg": "pickup", "vehicle_class": "suv", "driver": "Wu Gang",
            "plate": "沪A12345", "ready_at": arrival - Duration::minutes(30), "place": "airport", "number": "MU5101" }))
        .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let state = d.visit(&v).await;
    assert!(!flags(&state).contains(&"car_late".to_string()), "{state}");
    assert!(!flags(&state).contains(&"rescheduled".to_string()));
    let car_due = due(&state, "car_ready");
    assert_eq!(t(&car_due[0]["due_at"]), arrival - Duration::minutes(15));
    assert_eq!(car_due[0]["overdue"], false);

    // The flight moves two hours earlier: the car's ready time no longer meets V7.
    let earlier = arrival - Duration::hours(2);
    let moved = json!({ "reason": "flight brought forward",
        "arrival": { "at": earlier, "mode": "flight", "number": "MU5103", "origin": "Shanghai", "place": "airport" } });
    let path = vp(&v, "reschedule");
    for token in [&d.dept, &d.finance, &d.frontdesk] {
        d.refused(token, &path, moved.clone(), no(403, "forbidden"))
            .await;
    }
    let bad = [
        (with(moved.clone(), "reason", Value::Null), None, "reason"),
        (json!({ "reason": "nothing" }), Some("V23"), "body"),
        (
            with(
                moved.clone(),
                "arival",
                json!({ "at": earlier, "mode": "flight" }),
            ),
            None,
            "arival",
        ),
        (
            json!({ "reason": "one more", "headcount": 3 }),
            Some("V23"),
            "headcount",
        ),
        (
            json!({ "reason": "late", "arrival": { "at": departure + Duration::hours(1), "mode": "flight" } }),
            Some("V23"),
            "departure.at",
        ),
        (
            json!({ "reason": "boat", "arrival": { "at": earlier, "mode": "boat" } }),
            None,
            "arrival.mode",
        ),
    ];
    for (body, rule, field) in bad {
        let mut want = no(400, "invalid_input").field(field);
        if let Some(rule) = rule {
            want = want.rule(rule);
        }
        d.refused(&d.requester, &path, body, want).await;
    }
    let answer = d.run(&d.requester, &v, "reschedule", moved).await;
    assert_eq!(answer["events"][0]["type"], "VisitRescheduled");
    let event = d.history(&v).await.last().unwrap().clone();
    assert_eq!(event["data"]["cars_late"], json!([car]), "{event}");

    let state = d.visit(&v).await;
    assert_eq!(t(&state["arrival"]["at"]), earlier, "{state}");
    assert_eq!(state["arrival"]["number"], "MU5103");
    let f = flags(&state);
    assert!(f.contains(&"rescheduled".to_string()), "{f:?}");
    assert!(f.contains(&"car_late".to_string()), "{f:?}");
    let car_due = due(&state, "car_ready");
    assert_eq!(t(&car_due[0]["due_at"]), earlier - Duration::minutes(15));
    assert_eq!(car_due[0]["overdue"], true, "{state}");
    assert_eq!(t(&due(&state, "plan_approved")[0]["due_at"]), earlier);
    assert_eq!(
        t(&due(&state, "task_confirmation_call")[0]["due_at"]),
        earlier - Duration::hours(1)
    );
    // What was recorded stays: the car keeps its ready time; the old times are kept.
    assert_eq!(
        t(&state["cars"][0]["ready_at"]),
        arrival - Duration::minutes(30)
    );
    assert_eq!(t(&state["reschedules"][0]["previous_arrival_at"]), arrival);

    // Reception adds a visitor and a day; headcount and visitors move together (V1).
    let later = departure + Duration::days(1);
    let mut visitors = state["visitors"].as_array().unwrap().clone();
    visitors.push(json!({ "name": "Visitor 2", "title": "Engineer" }));
    d.run(&d.reception, &v, "reschedule", json!({ "reason": "an engineer joins", "headcount": 3,
        "visitors": visitors, "departure": { "at": later, "mode": "train", "number": "G9", "place": "station" } }))
        .await;
    let state = d.visit(&v).await;
    assert_eq!(state["headcount"], 3, "{state}");
    assert_eq!(state["visitors"].as_array().unwrap().len(), 3);
    assert_eq!(t(&state["departure"]["at"]), later);
    assert_eq!(state["reschedules"].as_array().unwrap().len(), 2);

    // Once they are here the arrival is a fact; once gone, nothing moves.
    d.arrive(&v).await;
    d.refused(
        &d.reception,
        &path,
        json!({ "reason": "typo", "arrival": { "at": earlier - Duration::hours(1), "mode": "flight" } }),
        no(409, "invalid_state").rule("V23"),
    )
    .await;
    d.depart(&v).await;
    d.refused(
        &d.reception,
        &path,
        json!({ "reason": "stay longer", "departure": { "at": later + Duration::days(1), "mode": "train" } }),
        no(409, "invalid_state"),
    )
    .await;
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v24_an_expense_says_when_what_and_from_whom_and_a_typo_records_nothing() {
    let d = Desk::open().await;
    let v = d
        .file_body(with(
            visit_request(d.now(), 5, 2),
            "budget_fen",
            json!(50_000),
        ))
        .await;
    d.s.approve_and_assign(&d.reception, &v, "senior").await;
    let (arrival, _) = d.times(&v).await;
    let meal = d
        .run(
            &d.reception,
            &v,
            "book-meal",
            json!({ "meal": "lunch", "at": arrival + Duration::hours(3),
            "venue": "Company canteen", "party_size": 2, "budget_fen": 40_000 }),
        )
        .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let spent = d.now() - Duration::hours(2);
    let expense = json!({ "category": "meal", "amount_fen": 30_000, "receipt_no": "M-1", "paid_by": "company",
        "booking_id": meal, "spent_at": spent, "description": "tasting lunch", "vendor": "Company canteen" });
    let path = vp(&v, "record-expense");

    for token in [&d.requester, &d.dept, &d.frontdesk] {
        d.refused(token, &path, expense.clone(), no(403, "forbidden"))
            .await;
    }
    let typo = with(
        with(expense.clone(), "amount_fen", Value::Null),
        "amout_fen",
        json!(30_000),
    );
    let bad = [
        (
            with(expense.clone(), "spent_at", Value::Null),
            None,
            "spent_at",
        ),
        (
            with(expense.clone(), "description", Value::Null),
            None,
            "description",
        ),
        (typo, None, "amout_fen"),
        (with(expense.clone(), "note", json!("x")), None, "note"),
        (
            with(
                expense.clone(),
                "spent_at",
                json!(d.now() + Duration::hours(1)),
            ),
            Some("V24"),
            "spent_at",
        ),
        (
            with(expense.clone(), "spent_at", json!("yesterday")),
            None,
            "spent_at",
        ),
        (
            with(expense.clone(), "description", json!("  ")),
            None,
            "description",
        ),
        (with(expense.clone(), "vendor", json!("")), None, "vendor"),
        (
            with(expense.clone(), "subcategory", json!("Fine Wine")),
            None,
            "subcategory",
        ),
    ];
    for (body, rule, field) in bad {
        let mut want = no(400, "invalid_input").field(field);
        if let Some(rule) = rule {
            want = want.rule(rule);
        }
        d.refused(&d.reception, &path, body, want).await;
    }

    let e1 = d.run(&d.reception, &v, "record-expense", expense).await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let tea_spent = d.now() - Duration::days(2);
    let e2 = d
        .run(
            &d.finance,
            &v,
            "record-expense",
            json!({ "category": "gift", "amount_fen": 8_000, "receipt_no": "G-1",
            "paid_by": "company", "spent_at": tea_spent, "description": "two tins of Longjing",
            "vendor": "West Lake Tea House", "subcategory": "tea" }),
        )
        .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let state = d.visit(&v).await;
    let find = |id: &str| {
        state["expenses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["expense_id"] == id)
            .unwrap_or_else(|| panic!("expense {id}: {state}"))
            .clone()
    };
    let (x1, x2) = (find(&e1), find(&e2));
    assert_eq!(t(&x1["spent_at"]), spent, "{x1}");
    assert_eq!(t(&x1["recorded_at"]), d.now(), "{x1}");
    assert_eq!(x1["description"], "tasting lunch");
    assert_eq!(x1["vendor"], "Company canteen");
    assert_eq!(t(&x2["spent_at"]), tea_spent, "{x2}");
    assert_eq!(x2["subcategory"], "tea");
    assert_eq!(x2["vendor"], "West Lake Tea House");
    assert!(
        d.history(&v)
            .await
            .iter()
            .filter(|e| e["type"] == "ExpenseRecorded")
            .all(|e| e["schema"] == 2),
        "stored at the current schema"
    );
    assert!(!flags(&state).contains(&"over_budget".to_string()));

    // V22: company spend beyond the request's budget (500 yuan) is flagged.
    d.run(
        &d.finance,
        &v,
        "record-expense",
        json!({ "category": "other", "amount_fen": 20_000, "receipt_no": "O-1",
        "paid_by": "company", "spent_at": d.now(), "description": "printed brochures" }),
    )
    .await;
    let state = d.visit(&v).await;
    assert!(
        flags(&state).contains(&"over_budget".to_string()),
        "{state}"
    );
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v25_a_gift_over_its_item_cap_needs_an_approver_and_a_meal_party_counts_visitors() {
    let d = Desk::open().await;
    let v = d.prepared("senior", 2).await;
    let (arrival, _) = d.times(&v).await;
    let path = vp(&v, "plan-souvenir");
    // The senior item cap is 100 yuan (seed 004).
    let dear = json!({ "item": "porcelain vase", "unit_cost_fen": 12_000, "quantity": 2 });
    d.refused(
        &d.reception,
        &path,
        dear.clone(),
        no(409, "rule_violation").rule("V25").field("unit_cost_fen"),
    )
    .await;
    let overridden = with(
        dear.clone(),
        "override",
        json!({ "reason": "the chairman's guest" }),
    );
    d.refused(
        &d.reception,
        &path,
        overridden.clone(),
        no(403, "forbidden"),
    )
    .await;
    d.refused(
        &d.reception,
        &path,
        with(dear.clone(), "colour", json!("blue")),
        no(400, "invalid_input").field("colour"),
    )
    .await;
    d.run(&d.dept, &v, "plan-souvenir", overridden).await;
    d.run(
        &d.reception,
        &v,
        "plan-souvenir",
        json!({ "item": "tea set", "unit_cost_fen": 10_000, "quantity": 2 }),
    )
    .await;
    let state = d.visit(&v).await;
    let souvenirs = state["souvenirs"].as_array().unwrap();
    assert_eq!(souvenirs[0]["over_cap"], true, "{state}");
    assert_eq!(souvenirs[0]["item_cap_fen"], 10_000);
    assert_eq!(souvenirs[0]["override"]["reason"], "the chairman's guest");
    assert_eq!(souvenirs[1]["over_cap"], false);

    // A gift expense over the item cap is stored, flagged and decided (V17).
    let gift = d
        .run(
            &d.reception,
            &v,
            "record-expense",
            json!({ "category": "gift", "amount_fen": 15_000, "receipt_no": "G-9",
            "paid_by": "company", "spent_at": d.now(), "description": "one silk scarf" }),
        )
        .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let state = d.visit(&v).await;
    let recorded = &state["expenses"][0];
    assert_eq!(recorded["over_cap"], true, "{recorded}");
    assert_eq!(recorded["cap_fen"], 10_000);
    assert!(flags(&state).contains(&"over_cap_pending".to_string()));
    d.run(
        &d.dept,
        &v,
        "decide-expense",
        json!({ "expense_id": gift, "approved": true }),
    )
    .await;
    assert!(!flags(&d.visit(&v).await).contains(&"over_cap_pending".to_string()));

    // A meal's party counts visitors only, at most the headcount (2).
    d.refused(
        &d.reception,
        &vp(&v, "book-meal"),
        json!({ "meal": "lunch", "at": arrival, "venue": "Canteen", "party_size": 3, "budget_fen": 10_000 }),
        no(409, "rule_violation").rule("V25").field("party_size"),
    )
    .await;
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v25_meals_are_capped_per_person_under_a_newly_published_policy() {
    let d = Desk::open().await;
    // A visit stamped with version 1 keeps its party caps (V20).
    let old = d.prepared("senior", 2).await;
    let (arrival, _) = d.times(&old).await;

    let mut policy = serde_json::to_value(reception_domain::policy::Policy::default_v1()).unwrap();
    policy["version"] = json!(2);
    policy["effective_from"] = json!(d.now());
    let senior = policy["levels"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|l| l["id"] == "senior")
        .unwrap();
    // Seed 004: lunch 50 yuan a person, dinner uncapped.
    senior["meals"] = json!({ "per_person_fen": { "lunch": 5_000, "dinner": null } });
    d.refused(
        &d.reception,
        "/api/v1/policy",
        policy.clone(),
        no(403, "forbidden"),
    )
    .await;
    d.refused(
        &d.s.admin,
        "/api/v1/policy",
        with(policy.clone(), "version", json!(3)),
        no(400, "invalid_input").rule("V20").field("version"),
    )
    .await;
    d.ok(&d.s.admin, "/api/v1/policy", policy).await;
    let published = d.s.get(&d.auditor, "/api/v1/policy").await.expect(200);
    assert_eq!(published["in_force"]["version"], 2, "{published}");

    let v = d.prepared("senior", 2).await;
    assert_eq!(d.visit(&v).await["policy_version"], 2);
    let meal = |meal: &str, budget: i64| {
        json!({ "meal": meal, "at": arrival + Duration::hours(3), "venue": "Jade Garden",
                "party_size": 2, "budget_fen": budget })
    };
    d.refused(
        &d.reception,
        &vp(&v, "book-meal"),
        meal("lunch", 10_001),
        no(409, "rule_violation").rule("V9").field("budget_fen"),
    )
    .await;
    d.run(&d.reception, &v, "book-meal", meal("lunch", 10_000))
        .await;
    let dinner = d
        .run(&d.reception, &v, "book-meal", meal("dinner", 300_000))
        .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let state = d.visit(&v).await;
    let meals = state["bookings"]["meals"].as_array().unwrap();
    assert_eq!(meals[0]["cap_fen"], 10_000, "2 × 50 yuan: {state}");
    assert_eq!(meals[1]["cap_fen"], Value::Null, "an uncapped dinner");
    assert_eq!(meals[1]["over_cap"], false);
    d.run(&d.reception, &v, "record-expense", json!({ "category": "meal", "amount_fen": 280_000, "receipt_no": "D-1",
        "paid_by": "company", "booking_id": dinner, "spent_at": d.now(), "description": "banquet" }))
        .await;
    let expense = d.visit(&v).await["expenses"][0].clone();
    assert_eq!(expense["over_cap"], false, "{expense}");

    // The version-1 visit is still judged by its party cap (500 yuan for two).
    d.run(&d.reception, &old, "book-meal", meal("lunch", 40_000))
        .await;
    let old_meal = d.visit(&old).await["bookings"]["meals"][0].clone();
    assert_eq!(old_meal["cap_fen"], 50_000, "{old_meal}");
    assert_eq!(old_meal["policy_version"], 1);
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v26_a_preparation_task_is_done_once_with_a_note_and_flags_when_overdue() {
    let d = Desk::open().await;
    // Needs a meeting room; arrives by flight, not foreign: no parking, no visa letter.
    let v = d.file(1).await;
    let (arrival, _) = d.times(&v).await;
    let state = d.visit(&v).await;
    let tasks: Vec<&str> = state["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == "V26")
        .map(|x| x["item"].as_str().unwrap())
        .collect();
    assert_eq!(
        tasks,
        [
            "task_meeting_room",
            "task_welcome_sign",
            "task_confirmation_call"
        ],
        "{state}"
    );
    let path = vp(&v, "complete-task");
    let done = json!({ "task": "welcome_sign", "notes": "banner at gate 2" });
    for token in [&d.dept, &d.requester, &d.frontdesk] {
        d.refused(token, &path, done.clone(), no(403, "forbidden"))
            .await;
    }
    d.refused(
        &d.reception,
        &path,
        json!({ "task": "parking" }),
        no(400, "invalid_input").rule("V26").field("task"),
    )
    .await;
    let bad = [
        (json!({ "task": "Welcome Sign" }), "task"),
        (json!({ "notes": "x" }), "task"),
        (with(done.clone(), "note", json!("x")), "note"),
    ];
    for (body, field) in bad {
        d.refused(
            &d.reception,
            &path,
            body,
            no(400, "invalid_input").field(field),
        )
        .await;
    }
    let answer = d.run(&d.reception, &v, "complete-task", done.clone()).await;
    assert_eq!(answer["events"][0]["type"], "TaskCompleted");
    let state = d.visit(&v).await;
    assert_eq!(state["tasks_done"][0]["task"], "welcome_sign", "{state}");
    assert_eq!(state["tasks_done"][0]["notes"], "banner at gate 2");
    let sign = due(&state, "task_welcome_sign")[0].clone();
    assert_eq!(t(&sign["met_at"]), d.now(), "{sign}");
    assert_eq!(sign["overdue"], false);
    d.refused(&d.reception, &path, done, no(409, "invalid_state"))
        .await;

    // Past the readiness deadline (the start of the arrival day) the meeting room is
    // overdue; done late, it is kept as late and the flag goes.
    let arrival_day =
        DateTime::parse_from_rfc3339(&format!("{}T01:00:00+08:00", arrival.date_naive())).unwrap();
    d.s.clock.set(arrival_day);
    let state = d.visit(&v).await;
    assert!(
        flags(&state).contains(&"task_overdue".to_string()),
        "{state}"
    );
    assert_eq!(due(&state, "task_meeting_room")[0]["overdue"], true);
    d.run(
        &d.reception,
        &v,
        "complete-task",
        json!({ "task": "meeting_room", "notes": "room 3" }),
    )
    .await;
    assert_eq!(d.history(&v).await.last().unwrap()["data"]["late"], true);
    let state = d.visit(&v).await;
    assert!(
        !flags(&state).contains(&"task_overdue".to_string()),
        "{state}"
    );
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v27_support_staff_join_without_an_override_and_changes_after_arrival_need_a_reason() {
    let d = Desk::open().await;
    let v = d.prepared("senior", 1).await;
    let path = vp(&v, "change-staff");
    let photographer = json!({ "add": [{ "name": "Ma Jun", "role": "photographer" }] });
    d.refused(
        &d.reception,
        &path,
        photographer.clone(),
        no(409, "invalid_state").rule("V27"),
    )
    .await;
    d.run(
        &d.reception,
        &v,
        "assign-staff",
        json!({ "host": "Zhang Min",
        "accompanying": [{ "name": "Liu Yang", "role": "regional_manager" }] }),
    )
    .await;

    for token in [&d.finance, &d.requester] {
        d.refused(token, &path, photographer.clone(), no(403, "forbidden"))
            .await;
    }
    let shareholder = json!({ "add": [{ "name": "Sun Li", "role": "shareholder" }] });
    d.refused(
        &d.reception,
        &path,
        shareholder.clone(),
        no(409, "rule_violation").rule("V6").field("add[0].role"),
    )
    .await;
    let overridden = with(
        shareholder,
        "override",
        json!({ "reason": "the chairman's old friend" }),
    );
    d.refused(
        &d.reception,
        &path,
        overridden.clone(),
        no(403, "forbidden"),
    )
    .await;
    let bad = [
        (json!({}), "add"),
        (json!({ "remove": ["Nobody"] }), "remove[0]"),
        (
            json!({ "add": [{ "name": "Liu Yang", "role": "regional_manager" }] }),
            "add[0].name",
        ),
        (
            json!({ "add": [{ "name": "Ma Jun", "role": "Photo Grapher" }] }),
            "add[0].role",
        ),
        (with(photographer.clone(), "reasons", json!("x")), "reasons"),
    ];
    for (body, field) in bad {
        d.refused(
            &d.reception,
            &path,
            body,
            no(400, "invalid_input").field(field),
        )
        .await;
    }

    // A support role needs no override; a role the level lacks needs an approver's.
    let added = d.run(&d.reception, &v, "change-staff", photographer).await;
    assert_eq!(added["events"][0]["type"], "StaffChanged");
    d.run(&d.dept, &v, "change-staff", overridden).await;
    let state = d.visit(&v).await;
    let staff: Vec<(&str, &str)> = state["accompanying"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        staff,
        [
            ("Liu Yang", "regional_manager"),
            ("Ma Jun", "photographer"),
            ("Sun Li", "shareholder")
        ],
        "{state}"
    );
    assert_eq!(state["staff_changed_mid_visit"], false);

    // After arrival a change needs a reason and flags the visit (as V6 does).
    d.arrive(&v).await;
    let remove = json!({ "remove": ["Ma Jun"] });
    d.refused(
        &d.reception,
        &path,
        remove.clone(),
        no(409, "rule_violation").rule("V27").field("reason"),
    )
    .await;
    d.run(
        &d.reception,
        &v,
        "change-staff",
        with(remove, "reason", json!("called to the factory")),
    )
    .await;
    let state = d.visit(&v).await;
    assert!(state["accompanying"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["name"] != "Ma Jun"));
    assert_eq!(state["staff_changed_mid_visit"], true);
    assert!(flags(&state).contains(&"staff_changed_mid_visit".to_string()));
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v28_talks_record_who_attended_and_the_minutes_follow_once() {
    let d = Desk::open().await;
    let v = d.prepared("senior", 1).await;
    d.arrive(&v).await;
    let minutes = json!({ "ref": "MIN-2026-31", "attendees": ["GM Sun", "Visitor 0"] });
    let path = vp(&v, "submit-minutes");
    d.refused(
        &d.reception,
        &path,
        minutes.clone(),
        no(409, "rule_violation").rule("V28"),
    )
    .await;
    d.confirmed_matter(&v).await;
    let talks = vp(&v, "hold-talks");
    let held = json!({ "at": d.now(), "outcome": "agreed", "attendees": ["GM Sun", "Visitor 0"] });
    d.refused(
        &d.reception,
        &talks,
        with(held.clone(), "attendees", Value::Null),
        no(400, "invalid_input").field("attendees"),
    )
    .await;
    d.refused(
        &d.reception,
        &talks,
        with(held.clone(), "attendees", json!([])),
        no(400, "invalid_input").rule("V28").field("attendees"),
    )
    .await;
    d.run(&d.reception, &v, "hold-talks", held).await;

    for token in [&d.finance, &d.dept] {
        d.refused(token, &path, minutes.clone(), no(403, "forbidden"))
            .await;
    }
    let bad = [
        (
            with(minutes.clone(), "attendees", json!([])),
            Some("V28"),
            "attendees",
        ),
        (
            with(minutes.clone(), "attendees", Value::Null),
            None,
            "attendees",
        ),
        (with(minutes.clone(), "ref", Value::Null), None, "ref"),
        (
            with(minutes.clone(), "reference", json!("x")),
            None,
            "reference",
        ),
    ];
    for (body, rule, field) in bad {
        let mut want = no(400, "invalid_input").field(field);
        if let Some(rule) = rule {
            want = want.rule(rule);
        }
        d.refused(&d.reception, &path, body, want).await;
    }
    let answer = d
        .run(&d.reception, &v, "submit-minutes", minutes.clone())
        .await;
    assert_eq!(answer["events"][0]["type"], "MinutesSubmitted");
    d.refused(&d.reception, &path, minutes, no(409, "invalid_state"))
        .await;

    // After departure the minutes' deadline (the day after) shows as met.
    d.depart(&v).await;
    let state = d.visit(&v).await;
    assert_eq!(state["minutes"]["ref"], "MIN-2026-31", "{state}");
    let m = due(&state, "minutes")[0].clone();
    assert_eq!(m["rule"], "V28", "{m}");
    assert!(m["met_at"].is_string());
    assert_eq!(m["overdue"], false);
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v28_follow_ups_belong_to_confirmed_matters_and_outlive_the_visit() {
    let d = Desk::open().await;
    let v = d.prepared("senior", 1).await;
    d.arrive(&v).await;
    let unconfirmed = d
        .run(
            &d.reception,
            &v,
            "propose-matter",
            json!({ "by": "company", "text": "spare parts depot" }),
        )
        .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, departure) = d.times(&v).await;
    let follow = |matter: &str, days: i64| {
        json!({ "matter_id": matter, "owner": "Liu Yang", "due": departure + Duration::days(days),
                "text": "send the draft contract" })
    };
    let path = vp(&v, "add-follow-up");
    d.refused(
        &d.reception,
        &path,
        follow(&unconfirmed, 7),
        no(409, "rule_violation").rule("V28").field("matter_id"),
    )
    .await;
    let matter = d.confirmed_matter(&v).await;
    let good = follow(&matter, 7);
    for token in [&d.finance, &d.requester] {
        d.refused(token, &path, good.clone(), no(403, "forbidden"))
            .await;
    }
    d.refused(
        &d.reception,
        &path,
        follow(&uuid::Uuid::now_v7().to_string(), 7),
        no(404, "not_found").field("matter_id"),
    )
    .await;
    let bad = [
        (
            with(good.clone(), "due", json!(d.now() - Duration::hours(1))),
            Some("V28"),
            "due",
        ),
        (with(good.clone(), "owner", Value::Null), None, "owner"),
        (with(good.clone(), "assignee", json!("x")), None, "assignee"),
    ];
    for (body, rule, field) in bad {
        let mut want = no(400, "invalid_input").field(field);
        if let Some(rule) = rule {
            want = want.rule(rule);
        }
        d.refused(&d.reception, &path, body, want).await;
    }
    let first = d.run(&d.reception, &v, "add-follow-up", good).await;
    assert_eq!(first["events"][0]["type"], "FollowUpAdded");
    let f1 = first["entity_id"].as_str().unwrap().to_string();
    let f2 = d
        .run(&d.reception, &v, "add-follow-up", follow(&matter, 3))
        .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();

    let complete = vp(&v, "complete-follow-up");
    d.refused(
        &d.finance,
        &complete,
        json!({ "follow_up_id": f1 }),
        no(403, "forbidden"),
    )
    .await;
    d.refused(
        &d.reception,
        &complete,
        json!({ "follow_up_id": uuid::Uuid::now_v7() }),
        no(404, "not_found").field("follow_up_id"),
    )
    .await;
    d.refused(
        &d.reception,
        &complete,
        json!({ "follow_up_id": "f1" }),
        no(400, "invalid_input").field("follow_up_id"),
    )
    .await;
    d.run(
        &d.reception,
        &v,
        "complete-follow-up",
        json!({ "follow_up_id": f1, "notes": "sent" }),
    )
    .await;
    d.refused(
        &d.reception,
        &complete,
        json!({ "follow_up_id": f1 }),
        no(409, "invalid_state"),
    )
    .await;

    // The visit closes; its follow-ups go on (V28), other commands do not (V21).
    d.depart(&v).await;
    d.close(&v).await;
    let f3 = d
        .run(&d.reception, &v, "add-follow-up", follow(&matter, 10))
        .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    d.run(
        &d.reception,
        &v,
        "complete-follow-up",
        json!({ "follow_up_id": f2 }),
    )
    .await;
    d.refused(
        &d.reception,
        &vp(&v, "note-preference"),
        json!({ "subject": "Visitor 0", "kind": "diet", "text": "tea" }),
        no(409, "rule_violation").rule("V21"),
    )
    .await;
    let state = d.visit(&v).await;
    assert_eq!(state["stage"], "closed", "{state}");
    assert!(!flags(&state).contains(&"follow_up_overdue".to_string()));
    // Past the open one's due date the closed visit shows it overdue.
    d.s.clock.set(departure + Duration::days(11));
    let state = d.visit(&v).await;
    assert!(
        flags(&state).contains(&"follow_up_overdue".to_string()),
        "{state}"
    );
    let open: Vec<&Value> = state["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["completed"].is_null())
        .collect();
    assert_eq!(open.len(), 1, "{state}");
    assert_eq!(open[0]["follow_up_id"], f3.as_str());
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v29_a_home_reception_only_where_the_level_provides_it_within_its_staff_bounds() {
    let d = Desk::open().await;
    let (arrival, _) = {
        let v = d.file(1).await;
        let times = d.times(&v).await;
        // Before a level: V3.
        d.refused(
            &d.reception,
            &vp(&v, "hold-home-reception"),
            json!({ "at": times.0, "staff": ["GM Sun"] }),
            no(409, "rule_violation").rule("V3"),
        )
        .await;
        times
    };
    let home = |staff: &[&str]| json!({ "at": arrival + Duration::hours(20), "staff": staff });
    let ordinary = d.prepared("ordinary", 1).await;
    d.refused(
        &d.reception,
        &vp(&ordinary, "hold-home-reception"),
        home(&["GM Sun"]),
        no(409, "rule_violation").rule("V29"),
    )
    .await;

    // Senior: one or two senior staff.
    let v = d.prepared("senior", 1).await;
    let path = vp(&v, "hold-home-reception");
    for staff in [&[][..], &["GM Sun", "VP Li", "Director Wu"][..]] {
        d.refused(
            &d.reception,
            &path,
            home(staff),
            no(409, "rule_violation").rule("V29").field("staff"),
        )
        .await;
    }
    for token in [&d.finance, &d.dept] {
        d.refused(token, &path, home(&["GM Sun"]), no(403, "forbidden"))
            .await;
    }
    let bad = [
        (with(home(&["GM Sun"]), "at", Value::Null), "at"),
        (with(home(&["GM Sun"]), "place", json!("home")), "place"),
        (with(home(&["GM Sun"]), "staff", json!("GM Sun")), "staff"),
    ];
    for (body, field) in bad {
        d.refused(
            &d.reception,
            &path,
            body,
            no(400, "invalid_input").field(field),
        )
        .await;
    }
    let held = d
        .run(&d.reception, &v, "hold-home-reception", home(&["GM Sun"]))
        .await;
    assert_eq!(held["events"][0]["type"], "HomeReceptionHeld");
    d.run(
        &d.reception,
        &v,
        "hold-home-reception",
        home(&["GM Sun", "VP Li"]),
    )
    .await;
    let state = d.visit(&v).await;
    let receptions = state["home_receptions"].as_array().unwrap();
    assert_eq!(receptions.len(), 2, "{state}");
    assert_eq!(receptions[1]["staff"], json!(["GM Sun", "VP Li"]));
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v30_a_return_call_records_safe_arrival_and_suggestions_and_opens_one_complaint() {
    let d = Desk::open().await;
    let v = d.prepared("senior", 1).await;
    let path = vp(&v, "return-call");
    let complaint =
        json!({ "severity": "minor", "category": "meals", "description": "the dinner was cold" });
    let call = json!({ "reached": true, "satisfaction": 3, "products": "good", "corporate_image": "modern",
        "reception": "friendly", "arrived_safely": true, "suggestions": "more time in the showroom",
        "complaint": complaint });
    d.refused(
        &d.reception,
        &path,
        call.clone(),
        no(409, "rule_violation").rule("V14"),
    )
    .await;
    d.arrive(&v).await;
    d.depart(&v).await;
    let (_, departure) = d.times(&v).await;
    d.s.clock.set(departure + Duration::hours(8));

    for token in [&d.dept, &d.finance, &d.requester] {
        d.refused(token, &path, call.clone(), no(403, "forbidden"))
            .await;
    }
    let not_reached = json!({ "reached": false });
    let bad = [
        (
            with(not_reached.clone(), "complaint", complaint.clone()),
            Some("V30"),
            "complaint",
        ),
        (
            with(not_reached.clone(), "arrived_safely", json!(true)),
            Some("V30"),
            "arrived_safely",
        ),
        (
            with(
                call.clone(),
                "complaint",
                with(complaint.clone(), "severity", json!("huge")),
            ),
            None,
            "complaint.severity",
        ),
        (
            with(
                call.clone(),
                "complaint",
                with(complaint.clone(), "who", json!("the chef")),
            ),
            None,
            "complaint.who",
        ),
        (
            with(
                call.clone(),
                "complaint",
                with(complaint.clone(), "description", Value::Null),
            ),
            None,
            "complaint.description",
        ),
        (
            with(call.clone(), "satisfaction", Value::Null),
            None,
            "satisfaction",
        ),
        (
            with(call.clone(), "arrived_safe", json!(true)),
            None,
            "arrived_safe",
        ),
        (
            with(call.clone(), "arrived_safely", json!("yes")),
            None,
            "arrived_safely",
        ),
    ];
    for (body, rule, field) in bad {
        let mut want = no(400, "invalid_input").field(field);
        if let Some(rule) = rule {
            want = want.rule(rule);
        }
        d.refused(&d.reception, &path, body, want).await;
    }

    let key = [("Idempotency-Key", "return-call-1")];
    let first =
        d.s.post_with(&d.reception, &path, call.to_string(), &key)
            .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let types: Vec<&str> = first.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["ReturnCallAttempted", "ReturnCallDone"]);
    let head = d.s.head();
    let state = d.visit(&v).await;
    let done = &state["return_call"]["done"];
    assert_eq!(done["arrived_safely"], true, "{state}");
    assert_eq!(done["suggestions"], "more time in the showroom");
    assert_eq!(done["satisfaction"], 3);
    let cid = done["complaint"]["complaint_id"]
        .as_str()
        .unwrap_or_else(|| panic!("the call names its complaint: {done}"))
        .to_string();

    // The complaint has its own stream, linked to the visit.
    let opened =
        d.s.get(&d.auditor, &format!("/api/v1/complaints/{cid}"))
            .await
            .expect(200);
    assert_eq!(opened["events"][0]["type"], "ComplaintRaised", "{opened}");
    assert_eq!(opened["state"]["visit_id"], v.as_str());
    assert_eq!(opened["state"]["customer"], "Huaxin Dealers Ltd");
    assert_eq!(opened["state"]["severity"], "minor");
    assert_eq!(opened["state"]["category"], "meals");
    assert_eq!(opened["state"]["description"], "the dinner was cold");
    let open_for_visit = |list: &Value| {
        list["complaints"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["visit_id"] == v.as_str())
            .map(|c| c["complaint_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let listed =
        d.s.get(
            &d.auditor,
            &format!("/api/v1/complaints?status=open&min_seq={head}"),
        )
        .await
        .expect(200);
    assert_eq!(
        open_for_visit(&listed),
        std::slice::from_ref(&cid),
        "{listed}"
    );

    // The retried call answers as the first and opens no second complaint.
    let again =
        d.s.post_with(&d.reception, &path, call.to_string(), &key)
            .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(d.s.head(), head, "the retry appended nothing");
    // A new call (no key) is refused: the return call is done.
    d.refused(&d.reception, &path, call, no(409, "invalid_state"))
        .await;
    let listed =
        d.s.get(
            &d.auditor,
            &format!("/api/v1/complaints?status=open&min_seq={head}"),
        )
        .await
        .expect(200);
    assert_eq!(open_for_visit(&listed), [cid], "{listed}");
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn v31_a_closed_or_cancelled_visit_still_takes_a_late_expense() {
    let d = Desk::open().await;
    let v = d.prepared("ordinary", 1).await;
    d.arrive(&v).await;
    d.depart(&v).await;
    d.close(&v).await;
    let late = json!({ "category": "other", "amount_fen": 5_000, "receipt_no": "INV-77", "paid_by": "company",
        "spent_at": d.now() - Duration::days(3), "description": "a late taxi invoice", "vendor": "Qiangsheng Taxi" });
    let path = vp(&v, "record-expense");
    for token in [&d.requester, &d.dept] {
        d.refused(token, &path, late.clone(), no(403, "forbidden"))
            .await;
    }
    d.refused(
        &d.finance,
        &path,
        with(late.clone(), "invoice", json!("x")),
        no(400, "invalid_input").field("invoice"),
    )
    .await;
    d.refused(
        &d.finance,
        &path,
        with(late.clone(), "spent_at", json!(d.now() + Duration::days(1))),
        no(400, "invalid_input").rule("V24").field("spent_at"),
    )
    .await;
    let recorded = d.run(&d.finance, &v, "record-expense", late).await;
    assert_eq!(recorded["events"][0]["type"], "ExpenseRecorded");
    let event = d.history(&v).await.last().unwrap().clone();
    assert_eq!(event["data"]["after_close"], true, "{event}");

    // Over the ordinary gift item cap (50 yuan): judged as usual, decided, still closed.
    let gift = d
        .run(&d.finance, &v, "record-expense", json!({ "category": "gift", "amount_fen": 8_000, "receipt_no": "G-2",
            "paid_by": "company", "spent_at": d.now(), "description": "a forgotten thank-you gift" }))
        .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let state = d.visit(&v).await;
    assert_eq!(state["stage"], "closed", "{state}");
    assert!(flags(&state).contains(&"over_cap_pending".to_string()));
    d.run(
        &d.dept,
        &v,
        "decide-expense",
        json!({ "expense_id": gift, "approved": false, "comments": "the spender pays" }),
    )
    .await;
    let state = d.visit(&v).await;
    assert_eq!(
        state["stage"], "closed",
        "deciding does not reopen: {state}"
    );
    assert_eq!(state["expenses"].as_array().unwrap().len(), 2);
    assert!(!flags(&state).contains(&"over_cap_pending".to_string()));
    // Anything else is still refused (V21).
    for (command, body) in [
        ("cancel", json!({ "reason": "too late" })),
        (
            "hold-tour",
            json!({ "at": d.now(), "place": "showroom", "title": "again" }),
        ),
    ] {
        d.refused(
            &d.reception,
            &vp(&v, command),
            body,
            no(409, "rule_violation").rule("V21"),
        )
        .await;
    }

    // A cancelled visit takes its cancellation fee.
    let w = d.prepared("ordinary", 1).await;
    d.run(
        &d.reception,
        &w,
        "cancel",
        json!({ "reason": "the customer postponed" }),
    )
    .await;
    d.run(
        &d.finance,
        &w,
        "record-expense",
        json!({ "category": "other", "amount_fen": 30_000, "receipt_no": "H-9",
        "paid_by": "company", "spent_at": d.now(), "description": "hotel cancellation fee" }),
    )
    .await
    .get("entity_id")
    .expect("an expense id");
    d.refused(
        &d.finance,
        &vp(&w, "record-expense"),
        json!({ "category": "other", "amount_fen": 1_000, "receipt_no": "X", "paid_by": "company",
                "spent_at": d.now(), "description": "x", "booking": "y" }),
        no(400, "invalid_input").field("booking"),
    )
    .await;
    let state = d.visit(&w).await;
    assert_eq!(state["stage"], "cancelled", "{state}");
    assert_eq!(state["expenses"].as_array().unwrap().len(), 1);
    let _ = d.s.stop().await;
}

#[tokio::test]
async fn f2_a_sign_in_names_its_open_visit_and_carries_its_customer() {
    let d = Desk::open().await;
    let v = d.file(1).await;
    let path = "/api/v1/frontdesk/sign-in";
    let party = json!({ "name": "Visitor 0", "party_size": 1, "reason": "visit", "host": "Zhang Min", "visit_id": v });

    d.refused(&d.reception, path, party.clone(), no(403, "forbidden"))
        .await;
    d.refused(
        &d.frontdesk,
        path,
        with(party.clone(), "visit_id", json!(uuid::Uuid::now_v7())),
        no(404, "not_found").field("visit_id"),
    )
    .await;
    d.refused(
        &d.frontdesk,
        path,
        with(party.clone(), "visit_id", json!("not-a-uuid")),
        no(400, "invalid_input").field("visit_id"),
    )
    .await;
    d.refused(
        &d.frontdesk,
        path,
        with(party.clone(), "visit", json!(v)),
        no(400, "invalid_input").field("visit"),
    )
    .await;
    // A closed visit expects nobody.
    let closed = d.prepared("ordinary", 1).await;
    d.arrive(&closed).await;
    d.depart(&closed).await;
    d.close(&closed).await;
    d.refused(
        &d.frontdesk,
        path,
        with(party.clone(), "visit_id", json!(closed)),
        no(409, "rule_violation").rule("F2").field("visit_id"),
    )
    .await;

    let head = d.s.head();
    let signed = d.ok(&d.frontdesk, path, party).await;
    let si = signed["id"].as_str().unwrap().to_string();
    let feed =
        d.s.get(&d.auditor, &format!("/api/v1/events?after={head}"))
            .await
            .expect(200);
    let event = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "VisitorSignedIn")
        .unwrap_or_else(|| panic!("the sign-in in the feed: {feed}"))
        .clone();
    assert_eq!(event["stream"], format!("frontdesk-{si}"));
    assert_eq!(event["data"]["visit_id"], v.as_str(), "{event}");
    assert_eq!(event["data"]["customer"], "Huaxin Dealers Ltd", "{event}");
    // The board's on-site list holds the party; where it shows a customer, it is the
    // visit's.
    let board =
        d.s.get(&d.auditor, &format!("/api/v1/board?min_seq={}", d.s.head()))
            .await
            .expect(200);
    let here = board["on_site"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sign_in_id"] == si.as_str())
        .unwrap_or_else(|| panic!("on site: {board}"))
        .clone();
    if let Some(customer) = here.get("customer") {
        assert_eq!(customer, "Huaxin Dealers Ltd", "{here}");
    }
    // A walk-in without a visit signs in as before (F1), with no customer.
    let walk_in = d
        .ok(
            &d.frontdesk,
            path,
            json!({ "name": "Courier", "party_size": 1, "reason": "delivery", "host": "Zhang Min" }),
        )
        .await;
    let last =
        d.s.get(
            &d.auditor,
            &format!("/api/v1/events?after={}", d.s.head() - 1),
        )
        .await
        .expect(200);
    assert_eq!(
        last["events"][0]["stream"],
        format!("frontdesk-{}", walk_in["id"].as_str().unwrap())
    );
    assert_eq!(last["events"][0]["data"]["customer"], Value::Null);
    let _ = d.s.stop().await;
}
