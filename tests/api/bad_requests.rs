//! A table of bad requests: each gets the right status, code and rule or field, and
//! the global feed is unchanged afterwards (a rejected command stores nothing).

use chrono::Duration;
use integration_tests::{visit_request, Server};
use reception_domain::Role;
use serde_json::{json, Value};

struct Bad {
    name: &'static str,
    token: String,
    method: &'static str,
    path: String,
    body: String,
    headers: Vec<(&'static str, String)>,
    status: u16,
    code: &'static str,
    rule: Option<&'static str>,
    field: Option<&'static str>,
}

fn post(
    name: &'static str,
    token: &str,
    path: String,
    body: Value,
    status: u16,
    code: &'static str,
) -> Bad {
    Bad {
        name,
        token: token.to_string(),
        method: "POST",
        path,
        body: body.to_string(),
        headers: vec![],
        status,
        code,
        rule: None,
        field: None,
    }
}

impl Bad {
    fn rule(mut self, r: &'static str) -> Bad {
        self.rule = Some(r);
        self
    }
    fn field(mut self, f: &'static str) -> Bad {
        self.field = Some(f);
        self
    }
    fn raw(mut self, body: &str) -> Bad {
        self.body = body.to_string();
        self
    }
    fn header(mut self, k: &'static str, v: &str) -> Bad {
        self.headers.push((k, v.to_string()));
        self
    }
    fn get(mut self) -> Bad {
        self.method = "GET";
        self
    }
}

fn with(mut v: Value, path: &[&str], value: Value) -> Value {
    let mut cur = &mut v;
    for p in &path[..path.len() - 1] {
        cur = &mut cur[*p];
    }
    cur[path[path.len() - 1]] = value;
    v
}

fn without(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

#[tokio::test]
async fn bad_requests_get_the_right_error_and_store_nothing() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let requester = s.token(Role::Requester).await;
    let approver = s.token(Role::Approver).await;
    let finance = s.token(Role::Finance).await;
    let analyst = s.token(Role::Analyst).await;
    let auditor = s.token(Role::Auditor).await;
    let frontdesk = s.token(Role::Frontdesk).await;
    let now = s.clock.now();
    let good = visit_request(now, 5, 2);
    let arrival = now + Duration::days(5);

    // A visit with level special, one without a level, a signed-out walk-in, a complaint.
    let v = s
        .post(&reception, "/api/v1/visits", good.clone())
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.approve_and_assign(&reception, &v, "special").await;
    let w = s
        .post(&reception, "/api/v1/visits", good.clone())
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let si = s
        .post(
            &frontdesk,
            "/api/v1/frontdesk/sign-in",
            json!({"name": "Guest", "party_size": 1, "reason": "delivery", "host": "Zhang"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.post(
        &frontdesk,
        &format!("/api/v1/frontdesk/{si}/sign-out"),
        json!({}),
    )
    .await
    .expect(200);
    let c = s
        .post(&reception, "/api/v1/complaints", json!({"customer": "Huaxin", "severity": "minor", "category": "meals", "description": "cold"}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let vp = |cmd: &str| format!("/api/v1/visits/{v}/{cmd}");
    let missing = uuid::Uuid::now_v7();
    let car = |class: &str| {
        json!({"leg": "pickup", "vehicle_class": class, "driver": "Wu", "plate": "A1", "ready_at": arrival - Duration::minutes(30),
               "place": "airport", "number": "MU5101"})
    };
    let deep = format!("{}{}", "[".repeat(64), "]".repeat(64));

    // Every field within its bounds, the event still too large to store: the store's
    // envelope limit refuses it, naming the payload member that carries the bulk.
    let mut oversized = good.clone();
    oversized["visitors"] = json!((0..40)
        .map(|i| json!({ "name": format!("Visitor {i}"), "title": "x".repeat(400) }))
        .collect::<Vec<_>>());
    oversized["headcount"] = json!(40);
    // A string over the bound every field has.
    let mut long_title = good.clone();
    long_title["visitors"][0]["title"] = json!("x".repeat(4_001));
    let table = vec![
        // Malformed input (400).
        post("malformed JSON", &requester, "/api/v1/visits".into(), json!({}), 400, "invalid_input").raw("{\"customer\": ").field("body"),
        post("JSON nested too deep", &requester, "/api/v1/visits".into(), json!({}), 400, "invalid_input").raw(&deep).field("body"),
        post("body is an array", &requester, "/api/v1/visits".into(), json!([1, 2]), 400, "invalid_input"),
        post("missing customer", &requester, "/api/v1/visits".into(), without(good.clone(), "customer"), 400, "invalid_input").field("customer"),
        post("headcount of the wrong type", &requester, "/api/v1/visits".into(), with(good.clone(), &["headcount"], json!("two")), 400, "invalid_input").field("headcount"),
        post("an event over the store's size limit", &requester, "/api/v1/visits".into(), oversized, 413, "too_large").field("visitors"),
        post("a string over every field's bound", &requester, "/api/v1/visits".into(), long_title, 400, "invalid_input").field("visitors[0].title"),
        post("headcount zero", &requester, "/api/v1/visits".into(), with(good.clone(), &["headcount"], json!(0)), 400, "invalid_input").field("headcount"),
        post("arrival time not a time", &requester, "/api/v1/visits".into(), with(good.clone(), &["arrival", "at"], json!("tomorrow")), 400, "invalid_input").field("arrival.at"),
        post("unknown transport mode", &requester, "/api/v1/visits".into(), with(good.clone(), &["arrival", "mode"], json!("boat")), 400, "invalid_input").field("arrival.mode"),
        post("V1 headcount differs from visitors", &requester, "/api/v1/visits".into(), with(good.clone(), &["headcount"], json!(3)), 400, "invalid_input").rule("V1"),
        post("V1 no visitors", &requester, "/api/v1/visits".into(), with(with(good.clone(), &["visitors"], json!([])), &["headcount"], json!(1)), 400, "invalid_input").rule("V1"),
        post("V1 arrival after departure", &requester, "/api/v1/visits".into(), with(good.clone(), &["arrival", "at"], json!(now + Duration::days(30))), 400, "invalid_input").rule("V1"),
        post("satisfaction out of range", &reception, vp("return-call"), json!({"reached": true, "satisfaction": 7}), 400, "invalid_input").field("satisfaction"),
        post("negative money", &reception, vp("record-expense"), json!({"category": "gift", "amount_fen": -5, "receipt_no": "R", "paid_by": "company", "spent_at": now, "description": "tea"}), 400, "invalid_input").field("amount_fen"),
        post("money over the bound", &reception, vp("record-expense"), json!({"category": "gift", "amount_fen": 1_000_000_000_001i64, "receipt_no": "R", "paid_by": "company", "spent_at": now, "description": "tea"}), 400, "invalid_input").field("amount_fen"),
        post("a time before 2000", &reception, vp("record-expense"), json!({"category": "gift", "amount_fen": 500, "receipt_no": "R", "paid_by": "company", "spent_at": "1970-01-01T08:00:00+08:00", "description": "tea"}), 400, "invalid_input").field("spent_at"),
        post("a time after 2200", &requester, "/api/v1/visits".into(), with(good.clone(), &["departure", "at"], json!("2999-01-01T00:00:00+08:00")), 400, "invalid_input").field("departure.at"),
        post("empty cancel reason", &reception, vp("cancel"), json!({"reason": "  "}), 400, "invalid_input").field("reason"),
        post("complaint severity unknown", &reception, "/api/v1/complaints".into(), json!({"customer": "X", "severity": "huge", "category": "c", "description": "d"}), 400, "invalid_input").field("severity"),
        post("If-Match not a version", &reception, vp("confirm-readiness"), json!({}), 400, "invalid_input").header("If-Match", "abc").field("If-Match"),
        post("token for role system", &s.admin, "/api/v1/tokens".into(), json!({"user": "x", "role": "system"}), 400, "invalid_input").field("role"),
        post("token for an unknown role", &s.admin, "/api/v1/tokens".into(), json!({"user": "x", "role": "king"}), 400, "invalid_input").field("role"),
        post("events limit zero", &reception, "/api/v1/events?limit=0".into(), json!({}), 400, "invalid_input").get().field("limit"),
        post("history as_of not a time", &reception, format!("/api/v1/visits/{v}/history?as_of=yesterday"), json!({}), 400, "invalid_input").get().field("as_of"),
        // Unknown things (404).
        post("unknown visit command", &reception, vp("fly"), json!({}), 404, "not_found").field("command"),
        post("unknown visit id", &reception, format!("/api/v1/visits/{missing}/assign-level"), json!({"level": "senior"}), 404, "not_found"),
        post("malformed visit id", &reception, "/api/v1/visits/not-a-uuid/assign-level".into(), json!({"level": "senior"}), 404, "not_found").field("id"),
        post("unknown complaint id", &reception, format!("/api/v1/complaints/{missing}/assign"), json!({"department": "d", "assignee": "a"}), 404, "not_found"),
        post("unknown souvenir", &reception, vp("hand-souvenir"), json!({"souvenir_id": missing}), 404, "not_found"),
        post("unknown expense", &approver, vp("decide-expense"), json!({"expense_id": missing, "approved": true}), 404, "not_found"),
        post("unknown route", &reception, "/api/v1/nowhere".into(), json!({}), 404, "not_found").get(),
        // Rules and states (409).
        post("V3 level already assigned", &reception, vp("assign-level"), json!({"level": "senior"}), 409, "invalid_state").rule("V3"),
        post("V3 dispatch before a level", &reception, format!("/api/v1/visits/{w}/dispatch-car"), car("suv"), 409, "rule_violation").rule("V3"),
        post("V7 vehicle class not for the level", &reception, vp("dispatch-car"), car("taxi"), 409, "rule_violation").rule("V7"),
        post("V8 lodging below the level's stars", &reception, vp("book-lodging"),
             json!({"hotel": "Inn", "stars": 3, "rooms": 1, "nights": 1, "rate_fen": 50_000, "paid_by": "company"}), 409, "rule_violation").rule("V8"),
        post("V9 dinner over the cap", &reception, vp("book-meal"),
             json!({"meal": "dinner", "at": arrival, "venue": "Jade", "party_size": 2, "budget_fen": 150_000}), 409, "rule_violation").rule("V9"),
        post("V12 talks before a confirmed matter", &reception, vp("hold-talks"), json!({"at": arrival, "outcome": "x", "attendees": ["GM Sun"]}), 409, "rule_violation").rule("V12"),
        post("V13 departure before arrival", &reception, vp("record-departure"), json!({"at": arrival}), 409, "rule_violation").rule("V13"),
        post("F1 signing out twice", &frontdesk, format!("/api/v1/frontdesk/{si}/sign-out"), json!({}), 409, "rule_violation").rule("F1"),
        post("stale If-Match", &reception, vp("confirm-readiness"), json!({}), 412, "version_conflict").header("If-Match", "\"1\""),
        // Who may (401/403).
        post("no token", "", "/api/v1/visits".into(), good.clone(), 401, "unauthenticated"),
        post("unknown token", "rcp_0000", "/api/v1/visits".into(), good.clone(), 401, "unauthenticated"),
        post("analyst writes", &analyst, "/api/v1/visits".into(), good.clone(), 403, "forbidden"),
        post("auditor writes", &auditor, format!("/api/v1/complaints/{c}/assign"), json!({"department": "d", "assignee": "a"}), 403, "forbidden"),
        post("reception reviews a plan", &reception, vp("review-plan"), json!({"approved": true}), 403, "forbidden"),
        post("reception sends an override", &reception, vp("dispatch-car"), with(car("taxi"), &["override"], json!({"reason": "none left"})), 403, "forbidden"),
        post("finance assigns staff", &finance, vp("assign-staff"), json!({"host": "Zhang"}), 403, "forbidden"),
        post("reception issues a token", &reception, "/api/v1/tokens".into(), json!({"user": "x", "role": "admin"}), 403, "forbidden"),
        post("reception publishes a policy", &reception, "/api/v1/policy".into(),
             serde_json::to_value(reception_domain::policy::Policy::default_v1()).unwrap(), 403, "forbidden"),
    ];
    assert!(table.len() >= 30, "the table has {} rows", table.len());

    let head = s.head();
    let feed_len = |a: &Value| a["events"].as_array().map(|e| e.len()).unwrap_or(0);
    let before = s
        .get(&s.admin, "/api/v1/events?limit=1000")
        .await
        .expect(200);
    let mut failures = Vec::new();
    for bad in &table {
        let headers: Vec<(&str, &str)> =
            bad.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = if bad.method == "GET" {
            s.get(&bad.token, &bad.path).await
        } else {
            s.post_with(&bad.token, &bad.path, bad.body.clone(), &headers)
                .await
        };
        let err = &a.body["error"];
        let mut wrong = Vec::new();
        if a.status != bad.status {
            wrong.push(format!("status {} (want {})", a.status, bad.status));
        }
        if a.code() != bad.code {
            wrong.push(format!("code {:?} (want {})", a.code(), bad.code));
        }
        if let Some(rule) = bad.rule {
            if err["rule"] != rule {
                wrong.push(format!("rule {} (want {rule})", err["rule"]));
            }
        }
        if let Some(field) = bad.field {
            if err["field"] != field {
                wrong.push(format!("field {} (want {field})", err["field"]));
            }
        }
        if err["message"].as_str().is_none_or(|m| m.is_empty()) {
            wrong.push("no message".into());
        }
        if s.head() != head {
            wrong.push(format!("the log grew to {}", s.head()));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {} — body {}",
                bad.name,
                wrong.join(", "),
                a.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad requests answered wrongly:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
    let after = s
        .get(&s.admin, "/api/v1/events?limit=1000")
        .await
        .expect(200);
    assert_eq!(
        feed_len(&after),
        feed_len(&before),
        "the global feed is unchanged"
    );
    assert_eq!(after["events"], before["events"]);
    let _ = s.stop().await;
}
