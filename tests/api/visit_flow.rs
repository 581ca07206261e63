//! A whole special-level visit through the 15 steps of DOMAIN.md over HTTP, then its
//! history and its state as of a past moment read back.

use chrono::Duration;
use integration_tests::{visit_request, Server};
use reception_domain::Role;
use serde_json::{json, Value};

async fn cmd(s: &Server, token: &str, visit: &str, command: &str, body: Value) -> Value {
    let a = s
        .post(token, &format!("/api/v1/visits/{visit}/{command}"), body)
        .await;
    assert_eq!(a.status, 200, "{command}: {}", a.body);
    assert_eq!(a.body["stream"], format!("visit-{visit}"), "{command}");
    assert!(
        !a.body["events"].as_array().unwrap().is_empty(),
        "{command} appended nothing"
    );
    a.body
}

#[tokio::test]
async fn a_special_visit_goes_through_all_fifteen_steps() {
    let s = Server::start().await;
    let requester = s.token(Role::Requester).await;
    let reception = s.token(Role::Reception).await;
    let approver = s.token(Role::Approver).await;
    let finance = s.token(Role::Finance).await;
    let auditor = s.token(Role::Auditor).await;
    let analyst = s.token(Role::Analyst).await;
    let t0 = s.clock.now();

    // 1. Reception request, filed 5 days ahead: not late.
    let filed = s
        .post(&requester, "/api/v1/visits", visit_request(t0, 5, 2))
        .await
        .expect(201);
    assert_eq!(filed["late"], false);
    assert_eq!(filed["version"], 1);
    assert_eq!(filed["events"][0]["type"], "ReceptionRequested");
    let v = filed["id"].as_str().unwrap().to_string();
    let arrival = t0 + Duration::days(5);
    let departure = arrival + Duration::days(2);

    // Finance lends the cash advance before the visit (V18).
    cmd(
        &s,
        &finance,
        &v,
        "issue-advance",
        json!({ "amount_fen": 500_000 }),
    )
    .await;

    // 2. The request approved by the department manager and, for a special visit, by
    // another person as general manager (V22); then the level is assigned and the
    // policy version stamped.
    s.clock.advance(Duration::hours(1));
    s.approve_request(&v, "special").await;
    cmd(
        &s,
        &reception,
        &v,
        "assign-level",
        json!({ "level": "special" }),
    )
    .await;
    let after_level_time = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // 3. Plan drafted, returned, redrafted and approved (V4).
    let item = |h: i64, kind: &str, title: &str| json!({ "at": arrival + Duration::hours(h), "kind": kind, "title": title, "place": "HQ" });
    cmd(
        &s,
        &reception,
        &v,
        "draft-plan",
        json!({ "items": [item(2, "tour", "showroom")] }),
    )
    .await;
    cmd(
        &s,
        &approver,
        &v,
        "review-plan",
        json!({ "approved": false, "comments": "add the leader meeting" }),
    )
    .await;
    cmd(
        &s,
        &reception,
        &v,
        "draft-plan",
        json!({ "items": [item(2, "tour", "showroom"), item(4, "meeting", "leader meeting")] }),
    )
    .await;
    cmd(
        &s,
        &approver,
        &v,
        "review-plan",
        json!({ "approved": true, "comments": "ok" }),
    )
    .await;

    // 4. Reception unit contacted.
    cmd(
        &s,
        &reception,
        &v,
        "contact-unit",
        json!({ "confirmed_headcount": 2, "notes": "both confirmed" }),
    )
    .await;

    // 5. Staff assigned; readiness confirmed the day before arrival (V5).
    let staffed = cmd(&s, &reception, &v, "assign-staff", json!({ "host": "Zhang Min",
        "accompanying": [{ "name": "Liu Yang", "role": "regional_manager" }, { "name": "Chen Jie", "role": "marketing_general_manager" }] })).await;
    // The open visit is on the board (read at the seq of the last command), with its
    // level and host; analysts may read the board too.
    let board = s
        .get(
            &analyst,
            &format!("/api/v1/board?min_seq={}", staffed["events"][0]["seq"]),
        )
        .await
        .expect(200);
    let on_board = board["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["visit_id"] == v.as_str())
        .unwrap_or_else(|| panic!("the open visit is on the board: {board}"))
        .clone();
    assert_eq!(on_board["level"], "special", "{on_board}");
    assert_eq!(on_board["host"], "Zhang Min", "{on_board}");
    assert_eq!(on_board["customer"], "Huaxin Dealers Ltd", "{on_board}");
    assert_ne!(on_board["stage"], "closed");
    s.clock.set(arrival - Duration::days(2));
    cmd(
        &s,
        &reception,
        &v,
        "confirm-readiness",
        json!({ "notes": "all departments ready" }),
    )
    .await;

    // 6. Pickup car, 30 minutes early (V7); visitors arrive.
    let car = cmd(&s, &reception, &v, "dispatch-car", json!({ "leg": "pickup", "vehicle_class": "business_car", "driver": "Wu Gang",
        "plate": "沪A12345", "ready_at": arrival - Duration::minutes(30), "place": "airport", "number": "MU5101" })).await;
    assert!(
        car["entity_id"].is_string(),
        "a car dispatch names its car: {car}"
    );
    s.clock.set(arrival);
    cmd(
        &s,
        &reception,
        &v,
        "record-arrival",
        json!({ "at": arrival }),
    )
    .await;

    // 7. Accommodation: company-paid, 5 stars, 600 yuan (special level bounds, V8).
    let lodging = cmd(
        &s,
        &reception,
        &v,
        "book-lodging",
        json!({ "hotel": "Grand Hotel", "stars": 5, "rooms": 2, "nights": 2,
        "rate_fen": 60_000, "paid_by": "company" }),
    )
    .await;
    let lodging_id = lodging["entity_id"].as_str().unwrap().to_string();

    // 8. Tour. 9. Leader meeting.
    cmd(&s, &reception, &v, "hold-tour", json!({ "at": arrival + Duration::hours(2), "place": "showroom", "title": "marketing center" })).await;
    cmd(
        &s,
        &reception,
        &v,
        "hold-leader-meeting",
        json!({ "at": arrival + Duration::hours(4), "place": "board room", "leader": "GM Sun" }),
    )
    .await;

    // 10. Dinner within the special cap (1,000 yuan for 2).
    let meal = cmd(
        &s,
        &reception,
        &v,
        "book-meal",
        json!({ "meal": "dinner", "at": arrival + Duration::hours(8), "venue": "Jade Garden",
        "party_size": 2, "budget_fen": 90_000 }),
    )
    .await;
    let meal_id = meal["entity_id"].as_str().unwrap().to_string();

    // 11. Cooperation matter proposed and confirmed by both sides in writing (V11).
    let matter = cmd(
        &s,
        &reception,
        &v,
        "propose-matter",
        json!({ "by": "visitor", "text": "exclusive dealership for 2027" }),
    )
    .await;
    let matter_id = matter["entity_id"].as_str().unwrap().to_string();
    cmd(
        &s,
        &reception,
        &v,
        "confirm-matter",
        json!({ "matter_id": matter_id, "company_confirmed_by": "GM Sun",
        "visitor_confirmed_by": "Visitor 0", "record_ref": "MIN-2026-114" }),
    )
    .await;

    // 12. Leadership talks (V12: after a confirmed matter).
    cmd(
        &s,
        &reception,
        &v,
        "hold-talks",
        json!({ "at": arrival + Duration::days(1), "outcome": "agreement signed",
        "attendees": ["GM Sun", "Visitor 0"] }),
    )
    .await;

    // 13. Drop-off car, souvenir handed, departure.
    cmd(&s, &reception, &v, "dispatch-car", json!({ "leg": "dropoff", "vehicle_class": "business_car", "driver": "Wu Gang",
        "plate": "沪A12345", "ready_at": departure - Duration::minutes(30), "place": "station", "number": "G7" })).await;
    let souvenir = cmd(
        &s,
        &reception,
        &v,
        "plan-souvenir",
        json!({ "item": "tea set", "unit_cost_fen": 20_000, "quantity": 2 }),
    )
    .await;
    let souvenir_id = souvenir["entity_id"].as_str().unwrap().to_string();
    cmd(
        &s,
        &reception,
        &v,
        "hand-souvenir",
        json!({ "souvenir_id": souvenir_id }),
    )
    .await;
    s.clock.set(departure);
    cmd(
        &s,
        &reception,
        &v,
        "record-departure",
        json!({ "at": departure }),
    )
    .await;

    // 14. Return call after the visitors are home (V14).
    s.clock.set(departure + Duration::hours(8));
    cmd(
        &s,
        &reception,
        &v,
        "return-call",
        json!({ "reached": true, "products": "good", "corporate_image": "modern",
        "reception": "warm", "satisfaction": 5 }),
    )
    .await;

    // 15. Summary, expenses against their bookings, advance settled, closed (V15–V18, V16).
    cmd(
        &s,
        &reception,
        &v,
        "file-summary",
        json!({ "results": "dealership renewed", "outcomes": "contract", "opinions": "none",
        "recipients": ["general manager"] }),
    )
    .await;
    cmd(
        &s,
        &finance,
        &v,
        "record-expense",
        json!({ "category": "lodging", "amount_fen": 240_000, "receipt_no": "H-1",
        "paid_by": "company", "booking_id": lodging_id, "spent_at": departure,
        "description": "2 rooms × 2 nights", "vendor": "Grand Hotel" }),
    )
    .await;
    cmd(
        &s,
        &reception,
        &v,
        "record-expense",
        json!({ "category": "meal", "amount_fen": 88_000, "receipt_no": "M-1",
        "paid_by": "company", "booking_id": meal_id,
        "spent_at": arrival + Duration::hours(10), "description": "welcome dinner" }),
    )
    .await;
    // The gift names its souvenir: two items within the special item cap (V25).
    cmd(
        &s,
        &reception,
        &v,
        "record-expense",
        json!({ "category": "gift", "amount_fen": 40_000,
        "receipt_no": "G-1", "paid_by": "company", "booking_id": souvenir_id,
        "spent_at": arrival, "description": "tea sets", "subcategory": "tea" }),
    )
    .await;
    cmd(
        &s,
        &finance,
        &v,
        "settle-advance",
        json!({ "receipts_fen": 368_000, "cash_returned_fen": 132_000, "returned_items": [] }),
    )
    .await;
    let closed = cmd(&s, &reception, &v, "close", json!({})).await;
    assert_eq!(closed["events"][0]["type"], "VisitClosed");
    let final_version = closed["version"].as_u64().unwrap();

    // The state: closed, special level stamped with policy version 1, nothing flagged.
    let state = s
        .get(
            &auditor,
            &format!("/api/v1/visits/{v}?min_seq={}", closed["events"][0]["seq"]),
        )
        .await
        .expect(200);
    assert_eq!(state["stage"], "closed", "{state}");
    assert_eq!(state["level"], "special");
    assert_eq!(state["policy_version"], 1);
    assert_eq!(state["version"].as_u64().unwrap(), final_version);
    assert!(
        state["visitors"][0]["phone"].is_string(),
        "auditors see phones"
    );
    let analyst_view = s
        .get(&analyst, &format!("/api/v1/visits/{v}"))
        .await
        .expect(200);
    assert!(
        analyst_view["visitors"][0].get("phone").is_none(),
        "analysts never see phones: {}",
        analyst_view["visitors"]
    );
    assert!(
        !analyst_view.to_string().contains("+86 138"),
        "no phone anywhere for analysts"
    );

    // History: every event in order, versions 1..N, the last one VisitClosed.
    let hist = s
        .get(&auditor, &format!("/api/v1/visits/{v}/history"))
        .await
        .expect(200);
    let events = hist["events"].as_array().unwrap();
    assert_eq!(events.len() as u64, final_version);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["version"].as_u64().unwrap(), i as u64 + 1);
    }
    assert_eq!(events[0]["type"], "ReceptionRequested");
    assert_eq!(events.last().unwrap()["type"], "VisitClosed");
    assert_eq!(events[1]["actor"]["role"], "finance");
    assert_eq!(hist["state"]["stage"], "closed");

    // As of just after the level was assigned: 5 events (request, advance, two
    // approvals, level), level set, no plan yet.
    let as_of = after_level_time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let past = s
        .get(
            &auditor,
            &format!("/api/v1/visits/{v}/history?as_of={}", urlenc(&as_of)),
        )
        .await
        .expect(200);
    let past_events = past["events"].as_array().unwrap();
    assert_eq!(past_events.len(), 5, "{past}");
    assert_eq!(past_events[2]["type"], "RequestApproved");
    assert_eq!(past_events[3]["type"], "RequestApproved");
    assert_eq!(past_events[4]["type"], "LevelAssigned");
    assert_eq!(past["state"]["level"], "special");
    assert_ne!(past["state"]["stage"], "closed");

    // The chain verifies.
    let verify = s.get(&auditor, "/api/v1/audit/verify").await.expect(200);
    assert_eq!(verify["ok"], true);
    assert_eq!(verify["events_checked"].as_u64().unwrap(), s.head());

    // The read side, read at the seq of the closing command.
    let seq = closed["events"][0]["seq"].as_u64().unwrap();

    // The board no longer lists the closed visit.
    let board = s
        .get(&auditor, &format!("/api/v1/board?min_seq={seq}"))
        .await
        .expect(200);
    assert!(
        board["visits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["visit_id"] != v.as_str()),
        "a closed visit leaves the board: {board}"
    );

    // Costs of 2026 by level: the three expenses under `special`, all company-paid,
    // nothing over cap; by category each one on its own.
    let costs = s
        .get(
            &analyst,
            &format!("/api/v1/costs?year=2026&by=level&min_seq={seq}"),
        )
        .await
        .expect(200);
    assert_eq!(costs["year"], 2026);
    assert_eq!(costs["total_fen"], 368_000, "{costs}");
    let special = costs["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "special")
        .unwrap_or_else(|| panic!("a special group: {costs}"));
    assert_eq!(special["total_fen"], 368_000, "{special}");
    assert_eq!(special["company_paid_fen"], 368_000);
    assert_eq!(special["visitor_paid_fen"], 0);
    assert_eq!(special["over_cap_fen"], 0);
    assert_eq!(special["count"], 3);
    let by_category = s
        .get(
            &analyst,
            &format!("/api/v1/costs?year=2026&by=category&min_seq={seq}"),
        )
        .await
        .expect(200);
    let cat = |key: &str| {
        by_category["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == key)
            .map(|g| g["total_fen"].as_i64().unwrap())
    };
    assert_eq!(cat("lodging"), Some(240_000), "{by_category}");
    assert_eq!(cat("meal"), Some(88_000), "{by_category}");
    assert_eq!(cat("gift"), Some(40_000), "{by_category}");
    // Another year holds none of it.
    let other = s
        .get(&analyst, "/api/v1/costs?year=2025&by=level")
        .await
        .expect(200);
    assert_eq!(other["total_fen"], 0, "{other}");

    // The CSV export: UTF-8 with a BOM, an attachment, the special level's total in it.
    let res = s
        .client
        .get(format!(
            "{}/api/v1/costs/export.csv?year=2026&min_seq={seq}",
            s.base
        ))
        .bearer_auth(&analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let csv = res.bytes().await.unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "a byte-order mark");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("special") && l.contains("368000")),
        "{text}"
    );

    // The customer archive: found forgiving case and spacing, with this visit's level,
    // host, venues, gifts and satisfaction, and the "last time" digest.
    let found = s
        .get(
            &reception,
            &format!("/api/v1/customers?q=HUAXIN%20dealers&min_seq={seq}"),
        )
        .await
        .expect(200);
    let hits = found["customers"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{found}");
    assert_eq!(hits[0]["company"], "Huaxin Dealers Ltd");
    let customer_id = hits[0]["customer_id"].as_str().unwrap().to_string();
    let profile = s
        .get(
            &auditor,
            &format!("/api/v1/customers/{customer_id}?min_seq={seq}"),
        )
        .await
        .expect(200);
    let visit = profile["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["visit_id"] == v.as_str())
        .unwrap_or_else(|| panic!("the visit is archived: {profile}"))
        .clone();
    assert_eq!(visit["level"], "special", "{visit}");
    assert_eq!(visit["host"], "Zhang Min");
    assert_eq!(visit["status"], "closed");
    assert_eq!(
        visit["lodging"][0]["fields"]["hotel"], "Grand Hotel",
        "{visit}"
    );
    assert_eq!(
        visit["dining"][0]["fields"]["venue"], "Jade Garden",
        "{visit}"
    );
    assert_eq!(visit["gifts"][0]["fields"]["item"], "tea set", "{visit}");
    assert_eq!(visit["return_call"]["satisfaction"], 5, "{visit}");
    assert_eq!(visit["matters"].as_array().unwrap().len(), 1, "{visit}");
    let last = &profile["last_time"];
    assert_eq!(last["visit_id"], v.as_str(), "{last}");
    assert_eq!(last["level"], "special");
    assert_eq!(last["host"], "Zhang Min");
    assert_eq!(last["venues"], json!(["Jade Garden"]));
    assert_eq!(last["gifts"], json!(["tea set"]));
    assert_eq!(last["satisfaction"], 5);
    assert!(
        profile.to_string().contains("+86 138"),
        "auditors see the visitors' phones: {}",
        profile["visitors"]
    );
    // Analysts see the same archive without any phone number.
    let redacted = s
        .get(&analyst, &format!("/api/v1/customers/{customer_id}"))
        .await
        .expect(200);
    assert_eq!(redacted["last_time"], profile["last_time"]);
    assert!(
        !redacted.to_string().contains("+86 138"),
        "no phone anywhere for analysts: {}",
        redacted["visitors"]
    );
    assert_eq!(
        s.get(&analyst, "/api/v1/customers/no-such-customer")
            .await
            .code(),
        "not_found"
    );

    let _ = s.stop().await;
}

/// Percent-encodes a query value (RFC 3339 times carry '+' and ':').
pub fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Files a visit as the requester; returns (visit id, seq of its event).
async fn file_visit(s: &Server, requester: &str) -> (String, u64) {
    let filed = s
        .post(
            requester,
            "/api/v1/visits",
            visit_request(s.clock.now(), 5, 1),
        )
        .await
        .expect(201);
    (
        filed["id"].as_str().unwrap().to_string(),
        filed["events"][0]["seq"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn a_query_with_min_seq_sees_the_write_it_names() {
    let s = Server::start().await;
    let requester = s.token(Role::Requester).await;
    let reception = s.token(Role::Reception).await;
    for _ in 0..5 {
        let (v, seq) = file_visit(&s, &requester).await;
        let level = s.approve_and_assign(&reception, &v, "special").await;
        let seq2 = level["events"][0]["seq"].as_u64().unwrap();
        assert!(seq2 > seq);
        // Straight after the command, with its seq: the board has the write.
        let board = s
            .get(&reception, &format!("/api/v1/board?min_seq={seq2}"))
            .await
            .expect(200);
        let entry = board["visits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["visit_id"] == v.as_str())
            .unwrap_or_else(|| panic!("read-your-writes on the board: {board}"))
            .clone();
        assert_eq!(entry["level"], "special", "{entry}");
        assert!(s.read.applied_seq() >= seq2);
        let found = s
            .get(
                &reception,
                &format!("/api/v1/customers?q=huaxin&min_seq={seq2}"),
            )
            .await
            .expect(200);
        assert_eq!(found["customers"][0]["company"], "Huaxin Dealers Ltd");
    }
    // A seq the log has not reached: 503 not_caught_up after the wait.
    let far = s.head() + 1000;
    let a = s
        .get(
            &reception,
            &format!("/api/v1/complaints?status=open&min_seq={far}"),
        )
        .await;
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(a.code(), "not_caught_up");

    // Bad query parameters are 400 naming the parameter.
    for (path, field) in [
        ("/api/v1/costs?year=2026&by=colour", "by"),
        ("/api/v1/costs?year=twenty&by=level", "year"),
        ("/api/v1/costs/export.csv?year=99999", "year"),
        ("/api/v1/complaints/report?month=2026-13", "month"),
        ("/api/v1/complaints?status=pending", "status"),
        ("/api/v1/board?min_seq=minus", "min_seq"),
    ] {
        let a = s.get(&reception, path).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert_eq!(a.code(), "invalid_input", "{path}");
        assert_eq!(a.body["error"]["field"], field, "{path}: {}", a.body);
    }
    // Every role reads; no token is 401.
    let auditor = s.token(Role::Auditor).await;
    s.get(&auditor, "/api/v1/complaints/report?month=2026-11")
        .await
        .expect(200);
    assert_eq!(s.get("", "/api/v1/board").await.status, 401);
    let _ = s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_reaches_a_board_stream_client_within_a_second() {
    use futures::StreamExt;
    let s = Server::start().await;
    let requester = s.token(Role::Requester).await;
    let viewer = s.token(Role::Analyst).await;
    let res = s
        .client
        .get(format!("{}/api/v1/board/stream", s.base))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut body = res.bytes_stream();
    let mut text = String::new();
    // First the snapshot of the current board.
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
            .await
            .expect("a snapshot first")
            .expect("stream open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.starts_with("event: board"), "{text}");
    assert!(
        text.contains("\"visits\":[]"),
        "an empty board first: {text}"
    );

    let started = std::time::Instant::now();
    let (v, _) = file_visit(&s, &requester).await;
    let deadline = started + std::time::Duration::from_secs(1);
    let mut seen = String::new();
    while !seen.contains(&v) && std::time::Instant::now() < deadline {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match tokio::time::timeout(left, body.next()).await {
            Ok(Some(Ok(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    drop(body);
    let _ = s.stop().await;
    assert!(
        seen.contains(&v),
        "a board event naming the new visit within a second of the command: {seen}"
    );
    assert!(seen.contains("event: board"), "{seen}");
    assert!(!seen.contains("+86 138"), "no phones on the stream: {seen}");
}
