//! Issue 17 items 4 and 5 over HTTP: the what-if policy simulation and the return-call
//! report, on small years built through the API whose answers are worked out by hand
//! in the comments.

use chrono::Duration;
use integration_tests::{t, visit_request, Server};
use reception_domain::Role;
use serde_json::{json, Value};

async fn ok(s: &Server, token: &str, path: &str, body: Value) -> Value {
    let a = s.post(token, path, body).await;
    assert!(
        a.status == 200 || a.status == 201,
        "{path}: {} {}",
        a.status,
        a.body
    );
    a.body
}

/// Files a visit for `visitors` and assigns it `level`; its id.
async fn leveled(s: &Server, requester: &str, reception: &str, visitors: usize) -> String {
    let body = visit_request(s.clock.now(), 5, visitors);
    let v = ok(s, requester, "/api/v1/visits", body).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.approve_and_assign(reception, &v, "ordinary").await;
    v
}

async fn book_meal(s: &Server, token: &str, v: &str, meal: &str) -> String {
    let at = s.clock.now() + Duration::days(5) + Duration::hours(3);
    ok(
        s,
        token,
        &format!("/api/v1/visits/{v}/book-meal"),
        json!({ "meal": meal, "at": at, "venue": "Canteen", "party_size": 2, "budget_fen": 30_000 }),
    )
    .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn spend(s: &Server, token: &str, v: &str, body: Value) -> String {
    ok(
        s,
        token,
        &format!("/api/v1/visits/{v}/record-expense"),
        body,
    )
    .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn expense(category: &str, fen: i64, booking: Option<&str>, spent: &str) -> Value {
    let mut body = json!({ "category": category, "amount_fen": fen, "receipt_no": "R-1",
        "paid_by": "company", "spent_at": spent, "description": category });
    if let Some(b) = booking {
        body["booking_id"] = json!(b);
    }
    body
}

/// The default policy's ordinary level with other meal caps.
fn ordinary_with(lunch_fen: i64, dinner_fen: i64) -> Value {
    let policy: Value = serde_json::from_str(reception_domain::policy::DEFAULT_POLICY_V1_JSON)
        .expect("the shipped policy");
    let mut level = policy["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "ordinary")
        .unwrap()
        .clone();
    level["meals"]["lunch_cap_fen"] = json!(lunch_fen);
    level["meals"]["dinner_cap_fen"] = json!(dinner_fen);
    level
}

/// One ordinary visit, 2 visitors: a dinner booked for 2 (cap 400 yuan) and a lunch for
/// 2 (cap 300 yuan); the item cap of a gift is 50 yuan.
/// - D1 dinner 380 yuan: within 400. D2 dinner 50 yuan on the same booking: 430 > 400,
///   over cap as recorded, 30 yuan above the cap.
/// - L1 lunch 250 yuan: within 300. L2 lunch 100 yuan, reversed by L3: both left out.
/// - G1 gift 40 yuan: within 50. O1 "other" 100 yuan: no cap, not judged.
///
/// Under a dinner cap of 300 yuan: D1 is over (380 − 300 = 80 yuan above), D2 is
/// wholly above (50 yuan): savings 130 yuan = 13,000 fen, one expense newly over cap.
#[tokio::test]
async fn what_if_judges_the_year_under_a_lowered_dinner_cap_and_writes_nothing() {
    let s = Server::start().await;
    let requester = s.token(Role::Requester).await;
    let reception = s.token(Role::Reception).await;
    let analyst = s.token(Role::Analyst).await;
    let v = leveled(&s, &requester, &reception, 2).await;
    let dinner = book_meal(&s, &reception, &v, "dinner").await;
    let lunch = book_meal(&s, &reception, &v, "lunch").await;
    let r = reception.as_str();
    let day = "2026-10-20T12:00:00+08:00";
    spend(&s, r, &v, expense("meal", 38_000, Some(&dinner), day)).await;
    spend(&s, r, &v, expense("meal", 5_000, Some(&dinner), day)).await;
    spend(&s, r, &v, expense("meal", 25_000, Some(&lunch), day)).await;
    let l2 = spend(&s, r, &v, expense("meal", 10_000, Some(&lunch), day)).await;
    let mut l3 = expense("meal", 10_000, None, day);
    l3["reverses"] = json!(l2);
    spend(&s, r, &v, l3).await;
    spend(&s, r, &v, expense("gift", 4_000, None, day)).await;
    spend(&s, r, &v, expense("other", 10_000, None, day)).await;
    let head = s.head();

    let path = "/api/v1/analysis/what-if";
    let proposal = json!({ "levels": [ordinary_with(30_000, 30_000)] });
    let body = |by: &str| json!({ "year": 2026, "policy": proposal, "by": by, "min_seq": head });
    let a = ok(&s, &analyst, path, body("category")).await;
    assert_eq!(a["year"], 2026);
    assert_eq!(a["visits"], 1);
    // D1, D2, L1, G1
    assert_eq!(a["count"], 4, "{a}");
    assert_eq!(a["judged_fen"], 38_000 + 5_000 + 25_000 + 4_000);
    assert_eq!(a["actual"]["over_cap_fen"], 5_000);
    assert_eq!(a["actual"]["over_cap_count"], 1);
    assert_eq!(a["actual"]["excess_fen"], 3_000);
    assert_eq!(a["proposed"]["over_cap_fen"], 43_000);
    assert_eq!(a["proposed"]["over_cap_count"], 2);
    assert_eq!(a["savings_fen"], 13_000);
    let groups = a["groups"].as_array().unwrap();
    let keys: Vec<&str> = groups.iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["gift", "meal"]);
    let meal = &groups[1];
    assert_eq!(meal["count"], 3);
    assert_eq!(meal["newly_over_cap"], 1);
    assert_eq!(meal["no_longer_over_cap"], 0);
    assert_eq!(meal["actual_excess_fen"], 3_000);
    assert_eq!(meal["savings_fen"], 13_000);
    assert_eq!(groups[0]["savings_fen"], 0);

    // by level: one group; a raised dinner cap makes D2 no longer over cap
    let by_level = ok(&s, &analyst, path, body("level")).await;
    assert_eq!(by_level["groups"][0]["key"], "ordinary");
    assert_eq!(by_level["groups"][0]["savings_fen"], 13_000);
    let raised = json!({ "year": 2026, "policy": { "levels": [ordinary_with(30_000, 50_000)] } });
    let raised = ok(&s, &analyst, path, raised).await;
    assert_eq!(raised["proposed"]["over_cap_count"], 0, "{raised}");
    assert_eq!(raised["groups"][0]["no_longer_over_cap"], 1);
    assert_eq!(raised["savings_fen"], 0);

    // a level the proposal leaves out keeps its actual caps
    let policy: Value =
        serde_json::from_str(reception_domain::policy::DEFAULT_POLICY_V1_JSON).unwrap();
    let senior_only: Vec<Value> = policy["levels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["id"] == "senior")
        .cloned()
        .collect();
    let kept = json!({ "year": 2026, "policy": { "levels": senior_only } });
    let kept = ok(&s, &analyst, path, kept).await;
    assert_eq!(kept["savings_fen"], 3_000, "{kept}");
    assert_eq!(kept["proposed"]["over_cap_fen"], 5_000);

    // another year has nothing to judge
    let empty = json!({ "year": 2025, "policy": proposal });
    let empty = ok(&s, &analyst, path, empty).await;
    assert_eq!(empty["count"], 0);
    assert_eq!(empty["savings_fen"], 0);

    // bad input names its field; other roles may not ask; nothing was written
    let refused = [
        (
            &analyst,
            json!({ "year": 2026, "policy": proposal, "reverse": 1 }),
            400,
            "reverse",
        ),
        (
            &analyst,
            json!({ "year": 1999, "policy": proposal }),
            400,
            "year",
        ),
        (
            &analyst,
            json!({ "year": 2026, "policy": proposal, "by": "colour" }),
            400,
            "by",
        ),
        (
            &analyst,
            json!({ "year": 2026, "policy": { "levels": [] } }),
            400,
            "policy",
        ),
        (
            &reception,
            json!({ "year": 2026, "policy": proposal }),
            403,
            "",
        ),
    ];
    for (token, body, status, field) in refused {
        let a = s.post(token, path, body.clone()).await;
        assert_eq!(a.status, status, "{body}: {}", a.body);
        if !field.is_empty() {
            let named = a.body["error"]["field"].as_str().unwrap_or_default();
            assert!(named.starts_with(field), "{body}: {}", a.body);
        }
    }
    assert_eq!(s.head(), head, "a what-if never writes");
    let _ = s.stop().await;
}

/// Three ordinary visits depart on the same day:
/// - A is reached: satisfaction 4, arrived safely, feedback "more time in the showroom".
/// - B is not reached three times: unreachable.
/// - C departed, no call yet: pending.
///
/// So: departed 3, called 2, reached 1, unreachable 1, pending 1, reach rate 500 ‰,
/// one safe arrival, satisfaction counts [0, 0, 0, 1, 0], mean 4.00, one feedback text.
#[tokio::test]
async fn the_return_call_report_counts_reach_safety_and_satisfaction() {
    let s = Server::start().await;
    let requester = s.token(Role::Requester).await;
    let reception = s.token(Role::Reception).await;
    let analyst = s.token(Role::Analyst).await;
    let mut visits = Vec::new();
    for _ in 0..3 {
        visits.push(leveled(&s, &requester, &reception, 1).await);
    }
    let auditor = s.token(Role::Auditor).await;
    let state = s
        .get(&auditor, &format!("/api/v1/visits/{}", visits[0]))
        .await
        .expect(200);
    let (arrival, departure) = (
        t(state["arrival"]["at"].as_str().unwrap()),
        t(state["departure"]["at"].as_str().unwrap()),
    );
    let run = |v: &str, command: &str| format!("/api/v1/visits/{v}/{command}");
    s.clock.set(arrival);
    for v in &visits {
        ok(
            &s,
            &reception,
            &run(v, "record-arrival"),
            json!({ "at": arrival }),
        )
        .await;
    }
    s.clock.set(departure);
    for v in &visits {
        ok(
            &s,
            &reception,
            &run(v, "record-departure"),
            json!({ "at": departure }),
        )
        .await;
    }
    s.clock.set(departure + Duration::hours(8));
    let call = json!({ "reached": true, "satisfaction": 4, "arrived_safely": true,
        "suggestions": "more time in the showroom" });
    ok(&s, &reception, &run(&visits[0], "return-call"), call).await;
    for _ in 0..3 {
        let missed = json!({ "reached": false });
        ok(&s, &reception, &run(&visits[1], "return-call"), missed).await;
    }
    let head = s.head();
    let year = departure.format("%Y").to_string();
    let path = format!("/api/v1/reports/return-calls?year={year}&min_seq={head}");
    let a = s.get(&analyst, &path).await.expect(200);
    assert_eq!(a["by"], "level");
    for (field, want) in [
        ("departed", 3),
        ("called", 2),
        ("reached", 1),
        ("unreachable", 1),
        ("pending", 1),
        ("reach_rate_permille", 500),
        ("arrived_safely", 1),
        ("not_arrived_safely", 0),
        ("satisfaction_mean_x100", 400),
    ] {
        assert_eq!(a[field], want, "{field}: {a}");
    }
    assert_eq!(a["satisfaction_counts"], json!([0, 0, 0, 1, 0]));
    assert_eq!(a["groups"][0]["key"], "ordinary");
    assert_eq!(a["groups"][0]["departed"], 3);
    assert_eq!(a["feedback_total"], 1);
    assert_eq!(a["feedback"][0]["visit_id"], visits[0].as_str());
    assert_eq!(a["feedback"][0]["suggestions"], "more time in the showroom");

    let by_month = s
        .get(&analyst, &format!("{path}&by=month"))
        .await
        .expect(200);
    assert_eq!(
        by_month["groups"][0]["key"],
        departure.format("%Y-%m").to_string()
    );
    let other_year = s
        .get(&analyst, "/api/v1/reports/return-calls?year=2020")
        .await
        .expect(200);
    assert_eq!(other_year["departed"], 0);
    assert!(other_year["reach_rate_permille"].is_null());

    let bad = s.get(&analyst, &format!("{path}&by=colour")).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"]["field"], "by");
    let finance = s.token(Role::Finance).await;
    assert_eq!(s.get(&finance, &path).await.status, 403);
    let _ = s.stop().await;
}
