//! A visit's flags as of a past instant (`history?as_of=`): judged by the business
//! clock as it read then, so a flag raised by time alone and cleared later shows in
//! the past and not now.

use chrono::Duration;
use integration_tests::{visit_request, Server};
use reception_domain::Role;
use serde_json::{json, Value};

use crate::visit_flow::urlenc;

fn flags(answer: &Value) -> Vec<&str> {
    answer["flags"]
        .as_array()
        .unwrap_or_else(|| panic!("flags in {answer}"))
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

/// The wall-clock instant the store has recorded everything answered so far by.
async fn recorded_instant() -> String {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    at
}

#[tokio::test]
async fn a_plan_overdue_flag_shows_as_of_the_instant_it_held_and_not_before_or_after() {
    let s = Server::start().await;
    let requester = s.token(Role::Requester).await;
    let reception = s.token(Role::Reception).await;
    let finance = s.token(Role::Finance).await;
    let auditor = s.token(Role::Auditor).await;
    let t0 = s.clock.now();

    // Given a visit filed five days ahead (not late) and its level assigned,
    let filed = s
        .post(&requester, "/api/v1/visits", visit_request(t0, 5, 1))
        .await
        .expect(201);
    let v = filed["id"].as_str().unwrap().to_string();
    s.approve_and_assign(&reception, &v, "senior").await;
    let fresh = recorded_instant().await;

    // 25 h later without a plan drafted (V4: due 24 h after the request), while
    // finance lends the advance,
    s.clock.advance(Duration::hours(25));
    s.post(
        &finance,
        &format!("/api/v1/visits/{v}/issue-advance"),
        json!({ "amount_fen": 100_000 }),
    )
    .await
    .expect(200);
    let overdue = recorded_instant().await;

    // and then a plan drafted.
    let arrival = t0 + Duration::days(5);
    s.post(
        &reception,
        &format!("/api/v1/visits/{v}/draft-plan"),
        json!({ "items": [{ "at": arrival + Duration::hours(2), "kind": "tour", "title": "showroom", "place": "HQ" }] }),
    )
    .await
    .expect(200);

    let history = |as_of: Option<&str>| {
        let path = match as_of {
            Some(t) => format!("/api/v1/visits/{v}/history?as_of={}", urlenc(t)),
            None => format!("/api/v1/visits/{v}/history"),
        };
        let s = &s;
        let auditor = &auditor;
        async move { s.get(auditor, &path).await.expect(200) }
    };

    // Now: the plan is drafted, no flag; the same flags as the visit's own answer.
    let now = history(None).await;
    let current = s
        .get(&auditor, &format!("/api/v1/visits/{v}"))
        .await
        .expect(200);
    assert!(!flags(&now).contains(&"plan_overdue"), "{}", now["flags"]);
    assert_eq!(now["flags"], current["flags"]);
    assert_eq!(now["flags_at"], current["now"]);

    // Just after the level: the plan was not due yet.
    let then = history(Some(&fresh)).await;
    assert_eq!(then["events"].as_array().unwrap().len(), 3, "{then}");
    assert!(!flags(&then).contains(&"plan_overdue"), "{}", then["flags"]);
    let judged = integration_tests::t(then["flags_at"].as_str().unwrap());
    assert!(
        judged >= t0 && judged < t0 + Duration::minutes(1),
        "judged by the business clock then ({judged}), not the wall clock"
    );

    // After the advance, before the plan: overdue.
    let late = history(Some(&overdue)).await;
    assert_eq!(late["events"].as_array().unwrap().len(), 4, "{late}");
    assert_eq!(late["state"]["plan"]["first_drafted_at"], Value::Null);
    assert!(flags(&late).contains(&"plan_overdue"), "{}", late["flags"]);
    let judged = integration_tests::t(late["flags_at"].as_str().unwrap());
    let advanced = t0 + Duration::hours(25);
    assert!(
        judged >= advanced && judged < advanced + Duration::minutes(1),
        "{judged}"
    );

    // A time to come is the present, judged now.
    let ahead = (chrono::Utc::now() + Duration::days(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let future = history(Some(&ahead)).await;
    assert_eq!(future["flags"], current["flags"]);
    assert_eq!(future["flags_at"], current["now"]);
}
