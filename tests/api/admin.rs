//! Admin extensions and the board answer cache: token listing and revocation (at once
//! and after a restart), online projection rebuilds, board paging and filters, and a
//! cached board never outliving a flag that turned with the clock.

use chrono::Duration;
use integration_tests::{visit_request, Server};
use reception_domain::Role;
use serde_json::{json, Value};

async fn file_visit(s: &Server, requester: &str) -> (String, u64) {
    let filed = s
        .post(
            requester,
            "/api/v1/visits",
            visit_request(s.clock.now(), 10, 1),
        )
        .await
        .expect(201);
    (
        filed["id"].as_str().expect("id").to_string(),
        filed["events"][0]["seq"].as_u64().expect("seq"),
    )
}

fn visit_ids(board: &Value) -> Vec<String> {
    board["visits"]
        .as_array()
        .expect("visits")
        .iter()
        .map(|v| v["visit_id"].as_str().expect("visit_id").to_string())
        .collect()
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once_and_after_a_restart() {
    let s = Server::start().await;
    let issued = s
        .post(
            &s.admin,
            "/api/v1/tokens",
            json!({ "user": "zhao.lei", "role": "reception" }),
        )
        .await
        .expect(201);
    let token = issued["token"].as_str().expect("token").to_string();
    let id = issued["id"].as_str().expect("id").to_string();
    assert_eq!(s.get(&token, "/api/v1/events").await.status, 200);

    // Admins list tokens without secrets; others may not list or revoke.
    let listed = s.get(&s.admin, "/api/v1/tokens").await.expect(200);
    let mine = listed["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap_or_else(|| panic!("the new token is listed: {listed}"))
        .clone();
    assert_eq!(mine["user"], "zhao.lei");
    assert_eq!(mine["role"], "reception");
    let text = listed.to_string();
    assert!(!text.contains(&token), "a listing shows no token");
    assert!(
        !text.contains(&blake3::hash(token.as_bytes()).to_hex().to_string()),
        "a listing shows no token hash"
    );
    assert_eq!(s.get(&token, "/api/v1/tokens").await.status, 403);
    let del = s.delete(&token, &format!("/api/v1/tokens/{id}")).await;
    assert_eq!(del.status, 403);

    let del = s.delete(&s.admin, &format!("/api/v1/tokens/{id}")).await;
    let body = del.expect(200);
    assert_eq!(body["revoked"], true);
    assert_eq!(s.get(&token, "/api/v1/events").await.status, 401);
    let again = s.delete(&s.admin, &format!("/api/v1/tokens/{id}")).await;
    assert_eq!(again.status, 404, "revoking twice finds nothing");
    let listed = s.get(&s.admin, "/api/v1/tokens").await.expect(200);
    assert!(!listed.to_string().contains(&id), "{listed}");

    // After a restart the registry is rebuilt from the log: still refused.
    let admin = s.admin.clone();
    let (dir, clock, tmp) = s.stop().await;
    let s = Server::start_in(&dir, clock).await;
    assert_eq!(s.get(&token, "/api/v1/events").await.status, 401);
    assert_eq!(s.get(&admin, "/api/v1/events").await.status, 200);
    let _ = s.stop().await;
    drop(tmp);
}

#[tokio::test]
async fn a_projection_rebuilds_online_and_reports_its_progress() {
    let s = Server::start().await;
    let requester = s.token(Role::Requester).await;
    let (visit, seq) = file_visit(&s, &requester).await;
    let before = s
        .get(&s.admin, &format!("/api/v1/board?min_seq={seq}"))
        .await
        .expect(200);
    assert_eq!(visit_ids(&before), vec![visit.clone()]);

    let idle = s.get(&s.admin, "/api/v1/admin/rebuild").await.expect(200);
    assert_eq!(idle["status"], "idle");
    let reception = s.token(Role::Reception).await;
    assert_eq!(
        s.post(&reception, "/api/v1/admin/rebuild", json!({}))
            .await
            .status,
        403
    );
    let bad = s
        .post(
            &s.admin,
            "/api/v1/admin/rebuild",
            json!({ "projection": "nope" }),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"]["field"], "projection");

    let started = s
        .post(
            &s.admin,
            "/api/v1/admin/rebuild",
            json!({ "projection": "board" }),
        )
        .await
        .expect(202);
    assert_eq!(started["projection"], "board");
    let mut status = started;
    for _ in 0..600 {
        if status["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        status = s.get(&s.admin, "/api/v1/admin/rebuild").await.expect(200);
    }
    assert_eq!(status["status"], "done", "{status}");
    assert_eq!(status["done"], status["total"], "{status}");
    assert!(status["total"].as_u64().unwrap_or(0) >= seq, "{status}");
    let after = s
        .get(&s.admin, &format!("/api/v1/board?min_seq={seq}"))
        .await
        .expect(200);
    assert_eq!(after, before, "the rebuilt board is the board");

    // Rebuilding everything (no body) works too.
    let all = s
        .post_with(&s.admin, "/api/v1/admin/rebuild", String::new(), &[])
        .await
        .expect(202);
    assert!(all["projection"].is_null(), "{all}");
    let _ = s.stop().await;
}

#[tokio::test]
async fn the_board_pages_and_filters_its_visits() {
    let s = Server::start().await;
    let requester = s.token(Role::Requester).await;
    let reception = s.token(Role::Reception).await;
    let mut ids = Vec::new();
    let mut seq = 0;
    for _ in 0..3 {
        let (id, q) = file_visit(&s, &requester).await;
        ids.push(id);
        seq = q;
    }
    let assigned = s.approve_and_assign(&reception, &ids[1], "senior").await;
    seq = seq.max(assigned["events"][0]["seq"].as_u64().expect("seq"));
    let whole = s
        .get(&reception, &format!("/api/v1/board?min_seq={seq}"))
        .await
        .expect(200);
    let order = visit_ids(&whole);
    assert_eq!(order.len(), 3);
    assert!(whole.get("visits_total").is_none(), "plain board unchanged");

    let page = s.get(&reception, "/api/v1/board?limit=2").await.expect(200);
    assert_eq!(visit_ids(&page), order[..2].to_vec());
    assert_eq!(page["visits_total"], 3);
    assert_eq!(page["today"], whole["today"]);
    let rest = s
        .get(&reception, "/api/v1/board?limit=2&offset=2")
        .await
        .expect(200);
    assert_eq!(visit_ids(&rest), order[2..].to_vec());
    let level = s
        .get(&reception, "/api/v1/board?stage=level_assigned")
        .await
        .expect(200);
    assert_eq!(visit_ids(&level), vec![ids[1].clone()]);
    assert_eq!(level["visits_total"], 1);
    let none = s
        .get(&reception, "/api/v1/board?host=Nobody")
        .await
        .expect(200);
    assert_eq!(none["visits_total"], 0);
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("stage=closed", "stage"),
        ("offset=-1", "offset"),
    ] {
        let a = s.get(&reception, &format!("/api/v1/board?{q}")).await;
        assert_eq!(a.status, 400, "{q}: {}", a.body);
        assert_eq!(a.body["error"]["field"], field, "{q}: {}", a.body);
    }
    let _ = s.stop().await;
}

#[tokio::test]
async fn a_cached_board_never_shows_a_flag_the_clock_has_changed() {
    let s = Server::start().await;
    let requester = s.token(Role::Requester).await;
    let (visit, seq) = file_visit(&s, &requester).await;
    let row = |board: &Value| {
        board["visits"]
            .as_array()
            .expect("visits")
            .iter()
            .find(|v| v["visit_id"] == visit.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("visit on the board: {board}"))
    };
    let flags = |board: &Value| row(board)["flags"].clone();
    let first = s
        .get(&requester, &format!("/api/v1/board?min_seq={seq}"))
        .await
        .expect(200);
    assert!(
        !flags(&first)
            .as_array()
            .expect("flags")
            .contains(&json!("plan_overdue")),
        "{first}"
    );
    // Asked again at the same instant: the same answer (from the cache).
    let again = s.get(&requester, "/api/v1/board").await.expect(200);
    assert_eq!(again, first);
    // The plan is due 24 h after the request: one second later it is overdue, with
    // no event in between.
    s.clock.advance(Duration::hours(24) + Duration::seconds(1));
    let later = s.get(&requester, "/api/v1/board").await.expect(200);
    assert!(
        flags(&later)
            .as_array()
            .expect("flags")
            .contains(&json!("plan_overdue")),
        "a cached board hid a flag that turned: {later}"
    );
    // The clock going back gives the earlier board again.
    s.clock
        .advance(-(Duration::hours(24) + Duration::seconds(1)));
    let back = s.get(&requester, "/api/v1/board").await.expect(200);
    assert_eq!(back, first);
    let _ = s.stop().await;
}
