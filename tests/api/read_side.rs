//! The read side of V22–V31 and F2 over HTTP: the list of every visit with its filters,
//! paging and refusals; the board's new flags after a reschedule, an overdue task and
//! spend over budget, equal to `GET /api/v1/visits/{id}`'s; the board's follow-ups;
//! the customer archive's "last time" digest for a returning customer.

use chrono::Duration;
use integration_tests::{visit_request, Server};
use reception_domain::Role;
use serde_json::{json, Value};

/// Runs a visit command, expecting success; returns the answer.
async fn cmd(s: &Server, token: &str, visit: &str, command: &str, body: Value) -> Value {
    let a = s
        .post(token, &format!("/api/v1/visits/{visit}/{command}"), body)
        .await;
    assert_eq!(a.status, 200, "{command}: {}", a.body);
    a.body
}

/// The seq of a command's last event (for `min_seq`).
fn seq(answer: &Value) -> u64 {
    let events = answer["events"].as_array().expect("events");
    events.last().expect("an event")["seq"]
        .as_u64()
        .expect("seq")
}

/// A request filed by a requester with the department manager's approval; returns the
/// visit's id.
async fn approved(s: &Server, body: Value) -> String {
    let requester = s.token(Role::Requester).await;
    let approver = s.token(Role::Approver).await;
    let filed = s.post(&requester, "/api/v1/visits", body).await.expect(201);
    let id = filed["id"].as_str().expect("id").to_string();
    cmd(
        s,
        &approver,
        &id,
        "approve-request",
        json!({"decision": "approve", "as": "department_manager"}),
    )
    .await;
    id
}

/// A visit request for `company` arriving `days` after the server's clock.
fn request_for(s: &Server, company: &str, department: &str, days: i64) -> Value {
    let mut body = visit_request(s.clock.now(), days, 1);
    body["customer"]["company"] = json!(company);
    body["department"] = json!(department);
    body
}

#[tokio::test]
async fn the_visit_list_filters_pages_and_refuses_bad_parameters() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let huaxin = approved(&s, request_for(&s, "Huaxin Dealers Ltd", "east-sales", 5)).await;
    let nordic = approved(&s, request_for(&s, "Nordic Trucks", "export", 6)).await;
    let yangtze = approved(&s, request_for(&s, "Yangtze Motors", "east-sales", 7)).await;
    cmd(
        &s,
        &reception,
        &huaxin,
        "assign-level",
        json!({"level": "ordinary"}),
    )
    .await;
    cmd(
        &s,
        &reception,
        &nordic,
        "assign-level",
        json!({"level": "senior"}),
    )
    .await;
    cmd(
        &s,
        &reception,
        &nordic,
        "assign-staff",
        json!({"host": "Zhang Min", "accompanying": []}),
    )
    .await;
    let last = cmd(
        &s,
        &reception,
        &yangtze,
        "cancel",
        json!({"reason": "called off"}),
    )
    .await;
    let at = seq(&last);

    let list = |q: String| {
        let s = &s;
        let reception = reception.clone();
        async move {
            let sep = if q.is_empty() { "" } else { "&" };
            s.get(&reception, &format!("/api/v1/visits?min_seq={at}{sep}{q}"))
                .await
                .expect(200)
        }
    };
    let ids = |page: &Value| -> Vec<String> {
        page["visits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["visit_id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = list(String::new()).await;
    assert_eq!(all["total"], 3);
    assert_eq!(
        (all["limit"].as_u64(), all["offset"].as_u64()),
        (Some(50), Some(0))
    );
    // latest planned arrival first
    assert_eq!(
        ids(&all),
        vec![yangtze.clone(), nordic.clone(), huaxin.clone()]
    );
    let first = &all["visits"][1];
    assert_eq!(first["customer"], "Nordic Trucks");
    assert_eq!(first["stage"], "preparing");
    assert_eq!(first["level"], "senior");
    assert_eq!(first["host"], "Zhang Min");
    assert_eq!(first["department"], "export");
    assert_eq!(first["cost_department"], "export");
    assert_eq!(first["headcount"], 1);
    assert_eq!(first["spend_fen"], 0);
    assert_eq!(all["visits"][0]["stage"], "cancelled");
    assert_eq!(all["visits"][2]["stage"], "preparing");

    let q = |k: &str, v: &str| format!("{k}={}", v.replace(' ', "%20").replace('+', "%2B"));
    assert_eq!(
        ids(&list(q("customer", "HUAXIN dealers")).await),
        vec![huaxin.clone()]
    );
    assert_eq!(
        ids(&list(q("stage", "cancelled")).await),
        vec![yangtze.clone()]
    );
    assert_eq!(
        ids(&list(q("level", "ordinary")).await),
        vec![huaxin.clone()]
    );
    assert_eq!(
        ids(&list(q("department", "east-sales")).await),
        vec![yangtze.clone(), huaxin.clone()]
    );
    assert_eq!(
        ids(&list(q("host", "Zhang Min")).await),
        vec![nordic.clone()]
    );
    // from inclusive, to exclusive, on the planned arrival
    let day = |n: i64| (s.clock.now() + Duration::days(n)).to_rfc3339();
    let window = list(format!("{}&{}", q("from", &day(6)), q("to", &day(7)))).await;
    assert_eq!(ids(&window), vec![nordic.clone()]);
    let page = list("limit=1&offset=1".into()).await;
    assert_eq!(ids(&page), vec![nordic.clone()]);
    assert_eq!(
        (page["total"].as_u64(), page["limit"].as_u64()),
        (Some(3), Some(1))
    );

    // every role may read visits, as it may read one; without a token nobody
    for role in [Role::Auditor, Role::Analyst, Role::Frontdesk, Role::Finance] {
        let token = s.token(role).await;
        let a = s.get(&token, "/api/v1/visits").await.expect(200);
        assert_eq!(a["total"], 3, "{role:?}");
    }
    assert_eq!(s.get("", "/api/v1/visits").await.status, 401);
    // a bad parameter is a 400 naming it
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("stage=finished", "stage"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("min_seq=abc", "min_seq"),
    ] {
        let a = s.get(&reception, &format!("/api/v1/visits?{query}")).await;
        assert_eq!(a.status, 400, "{query}: {}", a.body);
        assert_eq!(a.code(), "invalid_input", "{query}");
        assert_eq!(a.body["error"]["field"], field, "{query}: {}", a.body);
    }
    let backwards = format!("{}&{}", q("from", &day(7)), q("to", &day(6)));
    let a = s
        .get(&reception, &format!("/api/v1/visits?{backwards}"))
        .await;
    assert_eq!(
        (a.status, a.body["error"]["field"].as_str()),
        (400, Some("to"))
    );
}

/// The board's row of `visit` at `min_seq`, checked equal in flags, stage and next
/// step to `GET /api/v1/visits/{id}` at the same seq.
async fn board_row(s: &Server, token: &str, visit: &str, at: u64) -> Value {
    let board = s
        .get(token, &format!("/api/v1/board?min_seq={at}"))
        .await
        .expect(200);
    let row = board["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["visit_id"] == visit)
        .unwrap_or_else(|| panic!("{visit} is on the board: {board}"))
        .clone();
    let state = s
        .get(token, &format!("/api/v1/visits/{visit}?min_seq={at}"))
        .await
        .expect(200);
    assert_eq!(row["flags"], state["flags"], "{row} vs {state}");
    assert_eq!(
        (&row["next_step"], &row["next_due"]),
        (&state["next_step"], &state["next_due"])
    );
    row
}

fn flagged(row: &Value, flag: &str) -> bool {
    row["flags"].as_array().unwrap().iter().any(|f| f == flag)
}

#[tokio::test]
async fn the_board_flags_a_reschedule_an_overdue_task_and_spend_over_budget() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let requester = s.token(Role::Requester).await;
    let finance = s.token(Role::Finance).await;
    let analyst = s.token(Role::Analyst).await;
    let t0 = s.clock.now();
    let arrival = t0 + Duration::days(5);
    let mut body = request_for(&s, "Huaxin Dealers Ltd", "east-sales", 5);
    body["budget_fen"] = json!(100_000);
    let v = approved(&s, body).await;
    let a = cmd(
        &s,
        &reception,
        &v,
        "assign-level",
        json!({"level": "ordinary"}),
    )
    .await;
    let row = board_row(&s, &reception, &v, seq(&a)).await;
    assert!(!flagged(&row, "rescheduled") && !flagged(&row, "car_late"));

    // the pickup car is ready half an hour early; then the flight is an hour earlier
    cmd(
        &s,
        &reception,
        &v,
        "dispatch-car",
        json!({"leg": "pickup", "vehicle_class": "taxi", "driver": "Zhao", "plate": "A1",
               "ready_at": arrival - Duration::minutes(30), "place": "airport",
               "number": "MU5101"}),
    )
    .await;
    // an analyst never writes
    let refused = s
        .post(
            &analyst,
            &format!("/api/v1/visits/{v}/reschedule"),
            json!({"reason": "x", "headcount": 1}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let a = cmd(
        &s,
        &requester,
        &v,
        "reschedule",
        json!({"reason": "earlier flight",
               "arrival": {"at": arrival - Duration::hours(1), "mode": "flight",
                           "number": "MU5099", "place": "airport"}}),
    )
    .await;
    let row = board_row(&s, &reception, &v, seq(&a)).await;
    assert!(
        flagged(&row, "rescheduled") && flagged(&row, "car_late"),
        "{row}"
    );

    // company spend beyond the budget (visitor-paid spend does not count)
    let expense = |amount: i64, paid_by: &str| {
        json!({"category": "car", "amount_fen": amount, "receipt_no": "C1", "paid_by": paid_by,
               "spent_at": t0, "description": "car hire"})
    };
    cmd(
        &s,
        &finance,
        &v,
        "record-expense",
        expense(60_000, "company"),
    )
    .await;
    let a = cmd(
        &s,
        &finance,
        &v,
        "record-expense",
        expense(90_000, "visitor"),
    )
    .await;
    assert!(!flagged(
        &board_row(&s, &reception, &v, seq(&a)).await,
        "over_budget"
    ));
    let a = cmd(
        &s,
        &finance,
        &v,
        "record-expense",
        expense(50_000, "company"),
    )
    .await;
    assert!(flagged(
        &board_row(&s, &reception, &v, seq(&a)).await,
        "over_budget"
    ));
    let listed = s
        .get(&reception, &format!("/api/v1/visits?min_seq={}", seq(&a)))
        .await
        .expect(200);
    assert_eq!(
        (
            &listed["visits"][0]["budget_fen"],
            &listed["visits"][0]["spend_fen"]
        ),
        (&json!(100_000), &json!(110_000))
    );

    // past the readiness deadline the meeting room and welcome sign are overdue
    let midnight = (arrival - Duration::hours(1))
        .date_naive()
        .and_hms_opt(0, 30, 0)
        .unwrap()
        .and_local_timezone(*arrival.offset())
        .unwrap();
    s.clock.set(midnight);
    let state = s
        .get(&reception, &format!("/api/v1/visits/{v}"))
        .await
        .expect(200);
    let tasks: Vec<(&str, bool)> = state["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["overdue"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        tasks,
        vec![
            ("meeting_room", true),
            ("welcome_sign", true),
            ("confirmation_call", false)
        ]
    );
    let row = board_row(&s, &reception, &v, s.head()).await;
    assert!(flagged(&row, "task_overdue"), "{row}");
    for task in ["meeting_room", "welcome_sign"] {
        cmd(
            &s,
            &reception,
            &v,
            "complete-task",
            json!({"task": task, "notes": "done"}),
        )
        .await;
    }
    let row = board_row(&s, &reception, &v, s.head()).await;
    assert!(!flagged(&row, "task_overdue"), "{row}");
    // the confirmation call is due today, on the timeline
    let board = s.get(&reception, "/api/v1/board").await.expect(200);
    let tasks: Vec<&str> = board["today"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "task")
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, vec!["confirmation_call"]);
}

#[tokio::test]
async fn a_returning_customers_archive_digests_the_visit_that_took_place() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let t0 = s.clock.now();
    let past = approved(&s, request_for(&s, "Huaxin Dealers Ltd", "east-sales", 2)).await;
    cmd(
        &s,
        &reception,
        &past,
        "assign-level",
        json!({"level": "senior"}),
    )
    .await;
    let arrived = t0 + Duration::days(2);
    s.clock.set(arrived);
    cmd(
        &s,
        &reception,
        &past,
        "record-arrival",
        json!({"at": arrived}),
    )
    .await;
    let matter = cmd(
        &s,
        &reception,
        &past,
        "propose-matter",
        json!({"by": "visitor", "text": "dealership"}),
    )
    .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    cmd(
        &s,
        &reception,
        &past,
        "confirm-matter",
        json!({"matter_id": matter, "company_confirmed_by": "Zhang",
               "visitor_confirmed_by": "Wang", "record_ref": "MOU-1"}),
    )
    .await;
    cmd(
        &s,
        &reception,
        &past,
        "add-follow-up",
        json!({"matter_id": matter, "owner": "Zhang", "due": arrived + Duration::days(3),
               "text": "send the contract"}),
    )
    .await;
    s.clock.set(arrived + Duration::days(2));
    cmd(
        &s,
        &reception,
        &past,
        "record-departure",
        json!({"at": arrived + Duration::days(2)}),
    )
    .await;
    s.clock.set(arrived + Duration::days(3));
    cmd(
        &s,
        &reception,
        &past,
        "return-call",
        json!({"reached": true, "satisfaction": 4, "arrived_safely": true,
               "suggestions": "more tea"}),
    )
    .await;
    // the customer comes again: a new visit is being planned
    let next = approved(&s, request_for(&s, "Huaxin Dealers Ltd", "east-sales", 30)).await;
    s.clock.set(arrived + Duration::days(4));
    let profile = s
        .get(
            &reception,
            &format!("/api/v1/customers/huaxindealersltd?min_seq={}", s.head()),
        )
        .await
        .expect(200);
    assert_eq!(profile["visits"].as_array().unwrap().len(), 2);
    let last = &profile["last_time"];
    assert_eq!(
        last["visit_id"],
        past.as_str(),
        "never the new visit {next}"
    );
    assert_eq!(last["level"], "senior");
    assert_eq!(last["satisfaction"], 4);
    let visit = profile["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["visit_id"] == past.as_str())
        .unwrap();
    assert_eq!(visit["return_call"]["arrived_safely"], true);
    assert_eq!(visit["return_call"]["suggestions"], "more tea");
    // the follow-up is open and, a day past due, overdue: in the archive and on the board
    let follow_ups = profile["follow_ups"].as_array().unwrap();
    assert_eq!(follow_ups.len(), 1);
    assert_eq!(
        (&follow_ups[0]["text"], &follow_ups[0]["overdue"]),
        (&json!("send the contract"), &json!(true))
    );
    let board = s.get(&reception, "/api/v1/board").await.expect(200);
    assert_eq!(board["follow_ups"][0]["customer"], "Huaxin Dealers Ltd");
    assert_eq!(board["follow_ups"][0]["overdue"], true);
}
