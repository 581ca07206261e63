//! Complaint handling over HTTP (C8–C11): judge, work letters, the return visit's
//! satisfaction, the case library and its search, the monthly report served from the
//! domain's analysis; and each new command refused for a wrong role (403), a wrong
//! state (409) or a bad body (400 naming the field), storing nothing.

use chrono::Duration;
use integration_tests::{Answer, Server};
use reception_domain::Role;
use serde_json::{json, Value};

fn raise_body() -> Value {
    json!({"customer": "Huaxin Dealers Ltd", "severity": "minor", "category": "transport",
           "description": "The pickup car never came", "department": "motor-pool"})
}

/// Raises a complaint as `token`; its id.
async fn raise(s: &Server, token: &str) -> String {
    let a = s.post(token, "/api/v1/complaints", raise_body()).await;
    a.expect(201)["id"].as_str().unwrap().to_string()
}

/// `POST /api/v1/complaints/{id}/{command}`.
async fn cmd(s: &Server, token: &str, id: &str, command: &str, body: Value) -> Answer {
    s.post(token, &format!("/api/v1/complaints/{id}/{command}"), body)
        .await
}

/// The seq the answer's last event got (for `min_seq`).
fn seq(body: &Value) -> u64 {
    body["events"].as_array().unwrap().last().unwrap()["seq"]
        .as_u64()
        .unwrap()
}

/// The complaint's stored version (its number of events) and state.
async fn stored(s: &Server, id: &str) -> (usize, Value) {
    let h = s
        .get(&s.admin, &format!("/api/v1/complaints/{id}"))
        .await
        .expect(200);
    (h["events"].as_array().unwrap().len(), h["state"].clone())
}

#[tokio::test]
async fn c8_c9_c11_a_complaint_judged_lettered_visited_closed_and_kept_as_a_case() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let analyst = s.token(Role::Analyst).await;
    let id = raise(&s, &reception).await;
    cmd(
        &s,
        &reception,
        &id,
        "assign",
        json!({"department": "motor-pool", "assignee": "zhou.qiang"}),
    )
    .await
    .expect(200);

    // C8: judged valid, once
    let judged = cmd(
        &s,
        &reception,
        &id,
        "judge",
        json!({"valid": true, "explanation": "our driver forgot"}),
    )
    .await
    .expect(200);
    assert_eq!(judged["events"][0]["type"], "ComplaintJudged");

    // C9: a work letter creates an entity: the answer carries its id
    let due = s.clock.now() + Duration::hours(4);
    let sent = cmd(
        &s,
        &reception,
        &id,
        "work-letter",
        json!({"department": "motor-pool", "text": "explain the missed pickup", "due": due}),
    )
    .await
    .expect(200);
    assert_eq!(sent["events"][0]["type"], "ComplaintWorkLetterSent");
    let letter = sent["entity_id"].as_str().expect("entity_id").to_string();
    let (_, state) = stored(&s, &id).await;
    assert_eq!(state["valid"], true);
    assert_eq!(state["judgement"], "our driver forgot");
    assert_eq!(state["letters"][0]["letter_id"], letter.as_str());

    // past its due time, unanswered: overdue in the open list
    s.clock.advance(Duration::hours(5));
    let open = s
        .get(
            &analyst,
            &format!("/api/v1/complaints?status=open&min_seq={}", seq(&sent)),
        )
        .await
        .expect(200);
    let listed = &open["complaints"][0];
    assert_eq!(listed["complaint_id"], id.as_str());
    assert_eq!(listed["letters_overdue"], json!([letter]));
    assert_eq!(listed["overdue"], true);
    assert!(listed["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["item"] == "work_letter" && d["rule"] == "C9" && d["overdue"] == true));

    let answered = cmd(
        &s,
        &reception,
        &id,
        "answer-letter",
        json!({"letter_id": letter, "text": "dispatcher retrained"}),
    )
    .await
    .expect(200);
    assert_eq!(answered["events"][0]["type"], "ComplaintWorkLetterAnswered");

    // C11: the return visit with satisfaction and suggestions; closed; a case
    cmd(
        &s,
        &reception,
        &id,
        "feedback",
        json!({"text": "apologised"}),
    )
    .await
    .expect(200);
    cmd(
        &s,
        &reception,
        &id,
        "resolve",
        json!({"resolution": "new dispatcher rota"}),
    )
    .await
    .expect(200);
    cmd(&s, &reception, &id, "return-visit",
        json!({"mode": "phone", "satisfaction": 5, "suggestions": "confirm pickups the day before"}))
        .await
        .expect(200);
    cmd(&s, &reception, &id, "close", json!({}))
        .await
        .expect(200);
    let added = cmd(&s, &reception, &id, "add-to-case-library",
        json!({"title": "The car that never came", "lesson": "Confirm every pickup the day before"}))
        .await
        .expect(200);
    assert_eq!(added["events"][0]["type"], "ComplaintAddedToCaseLibrary");
    let (_, state) = stored(&s, &id).await;
    assert_eq!(state["return_visit_satisfaction"], 5);
    assert_eq!(state["case"]["title"], "The car that never came");

    // the library, searchable whatever the case, read by any role that reads complaints
    let after = seq(&added);
    for q in [
        "",
        "CAR%20THAT",
        "every%20pickup",
        "pickup%20car%20never",
        "huaxin",
        "Transport",
    ] {
        let found = s
            .get(
                &analyst,
                &format!("/api/v1/complaints/cases?q={q}&min_seq={after}"),
            )
            .await
            .expect(200);
        let cases = found["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 1, "q={q}: {found}");
        assert_eq!(cases[0]["complaint_id"], id.as_str());
        assert_eq!(cases[0]["lesson"], "Confirm every pickup the day before");
    }
    let none = s
        .get(&analyst, "/api/v1/complaints/cases?q=banquet")
        .await
        .expect(200);
    assert_eq!(none["cases"], json!([]));
    let auditor = s.token(Role::Auditor).await;
    s.get(&auditor, "/api/v1/complaints/cases")
        .await
        .expect(200);

    // C7 from the domain's analysis
    let report = s
        .get(
            &analyst,
            &format!("/api/v1/complaints/report?month=2026-11&min_seq={after}"),
        )
        .await
        .expect(200);
    assert_eq!(report["total"], 1);
    assert_eq!(
        (report["valid"].clone(), report["unreasonable"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(report["letters_sent"], 1);
    assert_eq!(report["letters_overdue"], 1, "answered after its due time");
    assert_eq!(report["mean_satisfaction_milli"], 5000);
    assert_eq!(report["cases_added"], 1);
    assert_eq!(report["return_visit_rate_permille"], 1000);
    let _ = s.stop().await;
}

#[tokio::test]
async fn c7_a_month_with_nothing_due_reports_no_compliance_figure() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let raised = s
        .post(&reception, "/api/v1/complaints", raise_body())
        .await
        .expect(201);
    let r = s
        .get(
            &reception,
            &format!(
                "/api/v1/complaints/report?month=2026-11&min_seq={}",
                seq(&raised)
            ),
        )
        .await
        .expect(200);
    assert_eq!(r["total"], 1);
    assert_eq!(r["deadlines_due"], 0);
    assert!(r["deadline_compliance_permille"].is_null(), "{r}");
    assert!(r["return_visit_rate_permille"].is_null(), "{r}");
    let _ = s.stop().await;
}

/// One refused command: who sends it, to which complaint, and the expected answer.
struct Refusal {
    name: &'static str,
    token: String,
    complaint: String,
    command: &'static str,
    body: Value,
    status: u16,
    code: &'static str,
    rule: Option<&'static str>,
    field: Option<&'static str>,
}

#[allow(clippy::too_many_arguments)]
fn refusal(
    name: &'static str,
    token: &str,
    complaint: &str,
    command: &'static str,
    body: Value,
    status: u16,
    code: &'static str,
    rule_or_field: (Option<&'static str>, Option<&'static str>),
) -> Refusal {
    Refusal {
        name,
        token: token.to_string(),
        complaint: complaint.to_string(),
        command,
        body,
        status,
        code,
        rule: rule_or_field.0,
        field: rule_or_field.1,
    }
}

/// Complaints in the states the refusals need: (open and judged with an answered
/// letter, closed and in the library, open with a fresh letter; that letter's id).
async fn refusal_targets(s: &Server, reception: &str) -> (String, String, String, String) {
    let judged = raise(s, reception).await;
    cmd(
        s,
        reception,
        &judged,
        "judge",
        json!({"valid": false, "explanation": "x"}),
    )
    .await
    .expect(200);
    let due = s.clock.now() + Duration::hours(4);
    let sent = cmd(
        s,
        reception,
        &judged,
        "work-letter",
        json!({"department": "d", "text": "t", "due": due}),
    )
    .await
    .expect(200);
    let answered = sent["entity_id"].as_str().unwrap().to_string();
    cmd(
        s,
        reception,
        &judged,
        "answer-letter",
        json!({"letter_id": answered, "text": "t"}),
    )
    .await
    .expect(200);

    let closed = raise(s, reception).await;
    for (c, b) in [
        ("feedback", json!({"text": "f"})),
        ("resolve", json!({"resolution": "r"})),
        ("return-visit", json!({"mode": "phone", "satisfaction": 3})),
        ("close", json!({})),
        ("add-to-case-library", json!({"title": "t", "lesson": "l"})),
    ] {
        cmd(s, reception, &closed, c, b).await.expect(200);
    }

    let lettered = raise(s, reception).await;
    let sent = cmd(
        s,
        reception,
        &lettered,
        "work-letter",
        json!({"department": "d", "text": "t", "due": due}),
    )
    .await
    .expect(200);
    let open_letter = sent["entity_id"].as_str().unwrap().to_string();
    for (c, b) in [
        ("feedback", json!({"text": "f"})),
        ("resolve", json!({"resolution": "r"})),
        ("return-visit", json!({"mode": "phone"})),
    ] {
        cmd(s, reception, &lettered, c, b).await.expect(200);
    }
    (judged, closed, lettered, open_letter)
}

#[tokio::test]
async fn refused_complaint_commands_answer_403_409_400_and_store_nothing() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let requester = s.token(Role::Requester).await;
    let analyst = s.token(Role::Analyst).await;
    let frontdesk = s.token(Role::Frontdesk).await;
    let admin = s.admin.clone();
    let (judged, closed, lettered, letter) = refusal_targets(&s, &reception).await;
    let open = raise(&s, &reception).await;
    let mut no_department = raise_body();
    no_department.as_object_mut().unwrap().remove("department");
    let bare = s
        .post(&reception, "/api/v1/complaints", no_department)
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let now = s.clock.now();
    let miss = json!({"deadline": "complaint_feedback", "due_at": now + Duration::hours(24)});
    let none = (None, None);
    let rule = |r| (Some(r), None);
    let field = |f| (None, Some(f));
    let table = vec![
        // wrong role
        refusal(
            "requester judges",
            &requester,
            &open,
            "judge",
            json!({"valid": true, "explanation": "x"}),
            403,
            "forbidden",
            none,
        ),
        refusal(
            "analyst sends a letter",
            &analyst,
            &open,
            "work-letter",
            json!({"department": "d", "text": "t", "due": now + Duration::hours(1)}),
            403,
            "forbidden",
            none,
        ),
        refusal(
            "frontdesk answers a letter",
            &frontdesk,
            &lettered,
            "answer-letter",
            json!({"letter_id": letter, "text": "t"}),
            403,
            "forbidden",
            none,
        ),
        refusal(
            "requester adds a case",
            &requester,
            &closed,
            "add-to-case-library",
            json!({"title": "t", "lesson": "l"}),
            403,
            "forbidden",
            none,
        ),
        refusal(
            "admin records a miss (system only)",
            &admin,
            &open,
            "record-missed-deadline",
            miss.clone(),
            403,
            "forbidden",
            none,
        ),
        refusal(
            "reception records a miss (system only)",
            &reception,
            &open,
            "record-missed-deadline",
            miss,
            403,
            "forbidden",
            none,
        ),
        // wrong state
        refusal(
            "judged twice",
            &reception,
            &judged,
            "judge",
            json!({"valid": true, "explanation": "x"}),
            409,
            "invalid_state",
            none,
        ),
        refusal(
            "judged without a department",
            &reception,
            &bare,
            "judge",
            json!({"valid": true, "explanation": "x"}),
            409,
            "rule_violation",
            rule("C8"),
        ),
        refusal(
            "letter due in the past",
            &reception,
            &open,
            "work-letter",
            json!({"department": "d", "text": "t", "due": now - Duration::minutes(1)}),
            409,
            "rule_violation",
            (Some("C9"), Some("due")),
        ),
        refusal(
            "letter answered twice",
            &reception,
            &judged,
            "answer-letter",
            json!({"letter_id": letter_of(&s, &judged).await, "text": "t"}),
            409,
            "invalid_state",
            none,
        ),
        refusal(
            "closed with a letter unanswered",
            &reception,
            &lettered,
            "close",
            json!({}),
            409,
            "rule_violation",
            rule("C9"),
        ),
        refusal(
            "an open complaint as a case",
            &reception,
            &open,
            "add-to-case-library",
            json!({"title": "t", "lesson": "l"}),
            409,
            "rule_violation",
            rule("C11"),
        ),
        refusal(
            "a case added twice",
            &reception,
            &closed,
            "add-to-case-library",
            json!({"title": "t", "lesson": "l"}),
            409,
            "invalid_state",
            none,
        ),
        refusal(
            "a letter on a closed complaint",
            &reception,
            &closed,
            "work-letter",
            json!({"department": "d", "text": "t", "due": now + Duration::hours(1)}),
            409,
            "invalid_state",
            none,
        ),
        // bad bodies name the field
        refusal(
            "judge without valid",
            &reception,
            &open,
            "judge",
            json!({"explanation": "x"}),
            400,
            "invalid_input",
            field("valid"),
        ),
        refusal(
            "judge with a blank explanation",
            &reception,
            &open,
            "judge",
            json!({"valid": true, "explanation": " "}),
            400,
            "invalid_input",
            field("explanation"),
        ),
        refusal(
            "letter due not a time",
            &reception,
            &open,
            "work-letter",
            json!({"department": "d", "text": "t", "due": "tomorrow"}),
            400,
            "invalid_input",
            field("due"),
        ),
        refusal(
            "letter without a department",
            &reception,
            &open,
            "work-letter",
            json!({"text": "t", "due": now + Duration::hours(1)}),
            400,
            "invalid_input",
            field("department"),
        ),
        refusal(
            "answer with a bad letter id",
            &reception,
            &lettered,
            "answer-letter",
            json!({"letter_id": "x", "text": "t"}),
            400,
            "invalid_input",
            field("letter_id"),
        ),
        refusal(
            "answer to an unknown letter",
            &reception,
            &lettered,
            "answer-letter",
            json!({"letter_id": uuid::Uuid::nil(), "text": "t"}),
            404,
            "not_found",
            field("letter_id"),
        ),
        refusal(
            "satisfaction 6",
            &reception,
            &open,
            "return-visit",
            json!({"mode": "phone", "satisfaction": 6}),
            400,
            "invalid_input",
            field("satisfaction"),
        ),
        refusal(
            "a case without its lesson",
            &reception,
            &closed,
            "add-to-case-library",
            json!({"title": "t"}),
            400,
            "invalid_input",
            field("lesson"),
        ),
        refusal(
            "a field judge does not know",
            &reception,
            &open,
            "judge",
            json!({"valid": true, "explanation": "x", "score": 3}),
            400,
            "invalid_input",
            field("score"),
        ),
    ];
    let feed_before = s.get(&admin, "/api/v1/events?limit=1000").await.expect(200);
    let mut failures = Vec::new();
    for r in &table {
        let head = s.head();
        let (version, _) = stored(&s, &r.complaint).await;
        let a = cmd(&s, &r.token, &r.complaint, r.command, r.body.clone()).await;
        let err = &a.body["error"];
        let mut wrong = Vec::new();
        if (a.status, a.code()) != (r.status, r.code) {
            wrong.push(format!(
                "{} {} (want {} {})",
                a.status,
                a.code(),
                r.status,
                r.code
            ));
        }
        if r.rule.is_some_and(|rule| err["rule"] != rule) {
            wrong.push(format!("rule {} (want {:?})", err["rule"], r.rule));
        }
        if r.field.is_some_and(|f| err["field"] != f) {
            wrong.push(format!("field {} (want {:?})", err["field"], r.field));
        }
        if s.head() != head || stored(&s, &r.complaint).await.0 != version {
            wrong.push("something was stored".into());
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {} — {}", r.name, wrong.join(", "), a.body));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} refusals wrong:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
    let feed_after = s.get(&admin, "/api/v1/events?limit=1000").await.expect(200);
    assert_eq!(
        feed_after["events"], feed_before["events"],
        "the global feed did not move"
    );
    // the library's search text is bounded
    let long = "x".repeat(201);
    let a = s
        .get(&analyst, &format!("/api/v1/complaints/cases?q={long}"))
        .await;
    assert_eq!(
        (a.status, a.body["error"]["field"].clone()),
        (400, json!("q"))
    );
    let _ = s.stop().await;
}

/// The id of the complaint's first work letter.
async fn letter_of(s: &Server, complaint: &str) -> String {
    let (_, state) = stored(s, complaint).await;
    state["letters"][0]["letter_id"]
        .as_str()
        .unwrap()
        .to_string()
}
