//! Idempotency, If-Match, restart, tokens, OpenAPI completeness, body limit, health.

use integration_tests::{visit_request, Server};
use reception_domain::Role;
use serde_json::json;

#[tokio::test]
async fn an_idempotent_repeat_answers_the_first_response_and_appends_nothing() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let body = visit_request(s.clock.now(), 5, 1).to_string();
    let first = s
        .post_with(
            &reception,
            "/api/v1/visits",
            body.clone(),
            &[("Idempotency-Key", "file-1")],
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let head = s.head();
    let again = s
        .post_with(
            &reception,
            "/api/v1/visits",
            body.clone(),
            &[("Idempotency-Key", "file-1")],
        )
        .await;
    assert_eq!(again.status, 201, "the repeat answers like the first");
    assert_eq!(again.body, first.body, "same answer, same ids and seqs");
    assert_eq!(s.head(), head, "nothing appended by the repeat");

    // Same key, other body → 422; nothing appended.
    let other = visit_request(s.clock.now(), 6, 1).to_string();
    let reused = s
        .post_with(
            &reception,
            "/api/v1/visits",
            other,
            &[("Idempotency-Key", "file-1")],
        )
        .await;
    assert_eq!(reused.status, 422, "{}", reused.body);
    assert_eq!(reused.code(), "idempotency_key_reused");
    assert_eq!(s.head(), head);

    // A command with an entity id replays it exactly.
    let v = first.body["id"].as_str().unwrap();
    s.approve_and_assign(&reception, v, "senior").await;
    let souvenir = json!({"item": "tea", "unit_cost_fen": 10_000, "quantity": 1}).to_string();
    let path = format!("/api/v1/visits/{v}/plan-souvenir");
    let a = s
        .post_with(
            &reception,
            &path,
            souvenir.clone(),
            &[("Idempotency-Key", "souv-1")],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body["entity_id"].is_string());
    let b = s
        .post_with(
            &reception,
            &path,
            souvenir,
            &[("Idempotency-Key", "souv-1")],
        )
        .await;
    assert_eq!(b.body, a.body);
    let _ = s.stop().await;
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_a_current_one_succeeds() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let filed = s
        .post(
            &reception,
            "/api/v1/visits",
            visit_request(s.clock.now(), 5, 1),
        )
        .await
        .expect(201);
    let v = filed["id"].as_str().unwrap();
    // V22: approved first (version 2), so the level is the third event.
    s.approve_request(v, "senior").await;
    let path = format!("/api/v1/visits/{v}/assign-level");
    let head = s.head();
    let stale = s
        .post_with(
            &reception,
            &path,
            json!({"level": "senior"}).to_string(),
            &[("If-Match", "\"0\"")],
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.code(), "version_conflict");
    assert_eq!(s.head(), head);
    let ok = s
        .post_with(
            &reception,
            &path,
            json!({"level": "senior"}).to_string(),
            &[("If-Match", "\"2\"")],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["version"], 3);
    let _ = s.stop().await;
}

#[tokio::test]
async fn a_restarted_server_keeps_events_tokens_and_idempotency() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let body = visit_request(s.clock.now(), 5, 1).to_string();
    let first = s
        .post_with(
            &reception,
            "/api/v1/visits",
            body.clone(),
            &[("Idempotency-Key", "k")],
        )
        .await;
    assert_eq!(first.status, 201);
    let v = first.body["id"].as_str().unwrap().to_string();
    let head = s.head();
    let admin = s.admin.clone();
    let (dir, clock, tmp) = s.stop().await;

    let s = Server::start_in(&dir, clock).await;
    assert_eq!(s.admin, admin, "no second admin token on a non-empty store");
    assert_eq!(s.head(), head, "every event kept");
    let state = s
        .get(&reception, &format!("/api/v1/visits/{v}"))
        .await
        .expect(200);
    assert_eq!(state["stage"], "requested", "{state}");
    let again = s
        .post_with(
            &reception,
            "/api/v1/visits",
            body,
            &[("Idempotency-Key", "k")],
        )
        .await;
    assert_eq!(again.body, first.body, "idempotency survives the restart");
    assert_eq!(s.head(), head);
    let auditor = s.token(Role::Auditor).await;
    assert_eq!(
        s.get(&auditor, "/api/v1/audit/verify").await.expect(200)["ok"],
        true
    );
    let _ = s.stop().await;
    drop(tmp);
}

#[tokio::test]
async fn tokens_are_issued_by_admins_stored_as_hashes_and_checked() {
    let s = Server::start().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.dir.join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "admin.token is private");
    }
    let a = s
        .post(
            &s.admin,
            "/api/v1/tokens",
            json!({"user": "li.na", "role": "reception"}),
        )
        .await;
    let body = a.expect(201);
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(body["role"], "reception");
    // The log holds its hash, never the token.
    let feed = s
        .get(&s.admin, "/api/v1/events?limit=1000")
        .await
        .expect(200);
    let text = feed.to_string();
    assert!(!text.contains(&token), "the token itself is never stored");
    assert!(
        text.contains(&blake3::hash(token.as_bytes()).to_hex().to_string()),
        "its hash is"
    );
    // It works, with its role.
    let filed = s
        .post(&token, "/api/v1/visits", visit_request(s.clock.now(), 5, 1))
        .await
        .expect(201);
    let v = filed["id"].as_str().unwrap();
    let hist = s
        .get(&token, &format!("/api/v1/visits/{v}/history"))
        .await
        .expect(200);
    assert_eq!(
        hist["events"][0]["actor"],
        json!({"user": "li.na", "role": "reception"})
    );
    // A token that differs in one character is refused.
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('0') { '1' } else { '0' });
    assert_eq!(s.get(&forged, "/api/v1/events").await.status, 401);
    let _ = s.stop().await;
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let s = Server::start().await;
    let doc = s.get("", "/api/openapi.json").await.expect(200);
    let paths = doc["paths"].as_object().expect("paths");
    let visit_commands = [
        "assign-level",
        "change-level",
        "draft-plan",
        "review-plan",
        "contact-unit",
        "confirm-readiness",
        "assign-staff",
        "reassign-host",
        "dispatch-car",
        "car-unavailable",
        "book-lodging",
        "hold-tour",
        "hold-leader-meeting",
        "book-meal",
        "arrange-entertainment",
        "plan-souvenir",
        "hand-souvenir",
        "propose-matter",
        "confirm-matter",
        "hold-talks",
        "record-arrival",
        "record-departure",
        "return-call",
        "file-summary",
        "record-expense",
        "decide-expense",
        "issue-advance",
        "settle-advance",
        "note-preference",
        "cancel",
        "close",
        "approve-request",
        "amend-request",
        "reschedule",
        "complete-task",
        "change-staff",
        "add-follow-up",
        "complete-follow-up",
        "submit-minutes",
        "hold-home-reception",
    ];
    let complaint_commands = [
        "assign",
        "report",
        "analyse",
        "feedback",
        "agree-solution",
        "escalate",
        "resolve",
        "return-visit",
        "close",
    ];
    let mut expected: Vec<(String, &str)> = vec![
        ("/api/v1/visits".into(), "post"),
        ("/api/v1/complaints".into(), "post"),
        ("/api/v1/frontdesk/sign-in".into(), "post"),
        ("/api/v1/frontdesk/{id}/sign-out".into(), "post"),
        ("/api/v1/policy".into(), "get"),
        ("/api/v1/policy".into(), "post"),
        ("/api/v1/tokens".into(), "post"),
        ("/api/v1/tokens".into(), "get"),
        ("/api/v1/tokens/{id}".into(), "delete"),
        ("/api/v1/admin/rebuild".into(), "post"),
        ("/api/v1/admin/rebuild".into(), "get"),
        ("/api/v1/visits/{id}".into(), "get"),
        ("/api/v1/visits/{id}/history".into(), "get"),
        ("/api/v1/board".into(), "get"),
        ("/api/v1/board/stream".into(), "get"),
        ("/api/v1/costs".into(), "get"),
        ("/api/v1/costs/export.csv".into(), "get"),
        ("/api/v1/costs/export.xlsx".into(), "get"),
        ("/api/v1/costs/budget".into(), "get"),
        ("/api/v1/analysis/what-if".into(), "post"),
        ("/api/v1/reports/return-calls".into(), "get"),
        ("/api/v1/customers".into(), "get"),
        ("/api/v1/customers/{id}".into(), "get"),
        ("/api/v1/complaints".into(), "get"),
        ("/api/v1/complaints/report".into(), "get"),
        ("/api/v1/events".into(), "get"),
        ("/api/v1/audit/verify".into(), "get"),
        ("/healthz".into(), "get"),
        ("/readyz".into(), "get"),
        ("/metrics".into(), "get"),
        ("/api/openapi.json".into(), "get"),
        ("/".into(), "get"),
    ];
    expected.extend(
        visit_commands
            .iter()
            .map(|c| (format!("/api/v1/visits/{{id}}/{c}"), "post")),
    );
    expected.extend(
        complaint_commands
            .iter()
            .map(|c| (format!("/api/v1/complaints/{{id}}/{c}"), "post")),
    );
    for (path, method) in &expected {
        let op = &doc["paths"][path.as_str()][*method];
        assert!(
            op.is_object(),
            "{method} {path} missing from the OpenAPI document (has {:?})",
            paths.keys().collect::<Vec<_>>()
        );
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} has no responses"
        );
        if *method == "post" {
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            assert!(schema.is_object(), "{method} {path} has no request schema");
        }
    }
    // Every $ref resolves.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
    let _ = s.stop().await;
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413_and_stores_nothing() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let head = s.head();
    let mut big = visit_request(s.clock.now(), 5, 1);
    big["purpose"] = json!("x".repeat(1_100_000));
    let a = s.post(&reception, "/api/v1/visits", big).await;
    assert_eq!(a.status, 413, "{}", a.body);
    assert_eq!(a.code(), "too_large");
    assert_eq!(s.head(), head);
    let _ = s.stop().await;
}

#[tokio::test]
async fn health_readiness_metrics_and_dashboard_need_no_token() {
    let s = Server::start().await;
    assert_eq!(s.get("", "/healthz").await.status, 200);
    let ready = s.get("", "/readyz").await.expect(200);
    assert_eq!(ready["ready"], true);
    // Make some traffic, then the metrics name it.
    let reception = s.token(Role::Reception).await;
    s.post(
        &reception,
        "/api/v1/visits",
        visit_request(s.clock.now(), 5, 1),
    )
    .await
    .expect(201);
    let res = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("reception_http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/api/v1/visits\""),
        "requests by matched route"
    );
    assert!(
        text.contains("reception_append_seconds"),
        "append latency histogram"
    );
    assert!(text.contains("reception_events_total"));
    let gauge = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} missing: {text}"))
    };
    assert!(gauge("reception_store_commits") >= 1.0);
    assert!(gauge("reception_store_committed_events") >= gauge("reception_store_commits"));
    assert!(gauge("reception_store_log_records") >= 1.0);
    let page = s.client.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/api/v1/board/stream"));
    // Everything else needs a token.
    assert_eq!(s.get("", "/api/v1/events").await.status, 401);
    let _ = s.stop().await;
}

#[tokio::test]
async fn the_feed_pages_in_order() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    for _ in 0..3 {
        s.post(
            &reception,
            "/api/v1/visits",
            visit_request(s.clock.now(), 5, 1),
        )
        .await
        .expect(201);
    }
    // the auditor sees every stream (other roles not the tokens stream); its token is
    // one more event
    let auditor = s.token(Role::Auditor).await;
    let head = s.head();
    let page1 = s
        .get(&auditor, "/api/v1/events?after=0&limit=2")
        .await
        .expect(200);
    let e1 = page1["events"].as_array().unwrap();
    assert_eq!(e1.len(), 2);
    assert_eq!(e1[0]["seq"], 1);
    let next = page1["next_after"].as_u64().unwrap();
    assert_eq!(next, 2);
    let page2 = s
        .get(&auditor, &format!("/api/v1/events?after={next}&limit=1000"))
        .await
        .expect(200);
    let e2 = page2["events"].as_array().unwrap();
    assert_eq!(e2.len() as u64, head - 2);
    assert_eq!(e2[0]["seq"], 3);
    assert_eq!(
        e2[0]["prev_hash"], e1[1]["hash"],
        "the chain links across pages"
    );
    // min_seq beyond the head waits then answers 503 not_caught_up.
    let wait = s
        .get(
            &reception,
            &format!("/api/v1/events?min_seq={}", head + 100),
        )
        .await;
    assert_eq!(wait.status, 503);
    assert_eq!(wait.code(), "not_caught_up");
    let _ = s.stop().await;
}
