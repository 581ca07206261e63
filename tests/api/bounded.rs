//! Issue 18 item 4 over HTTP: what a careless or hostile client with a valid token
//! cannot do: grow `/metrics` with made-up command names, read the user and role
//! inventory in the global feed, or make every role walk the whole chain.

use integration_tests::{visit_request, Server};
use reception_domain::Role;

#[tokio::test]
async fn made_up_command_names_share_one_metric_label() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let v = s
        .post(
            &reception,
            "/api/v1/visits",
            visit_request(s.clock.now(), 5, 1),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..20 {
        let path = format!("/api/v1/visits/{v}/no-such-command-{i}");
        let a = s.post(&reception, &path, serde_json::json!({})).await;
        assert!(a.status == 404 || a.status == 405, "{path}: {}", a.status);
    }
    let text = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains("no-such-command"),
        "a label from the URL as given: {text}"
    );
    assert!(
        text.contains("command=\"request\""),
        "known commands keep their names"
    );
    let _ = s.stop().await;
}

#[tokio::test]
async fn the_token_stream_and_the_chain_walk_are_for_admin_and_auditor() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let auditor = s.token(Role::Auditor).await;
    s.post(
        &reception,
        "/api/v1/visits",
        visit_request(s.clock.now(), 5, 1),
    )
    .await
    .expect(201);
    let streams = |page: &serde_json::Value| -> Vec<String> {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["stream"].as_str().unwrap().to_string())
            .collect()
    };
    let seen_by_auditor = s
        .get(&auditor, "/api/v1/events?limit=1000")
        .await
        .expect(200);
    assert!(
        streams(&seen_by_auditor).iter().any(|s| s == "tokens"),
        "{seen_by_auditor}"
    );
    let seen_by_reception = s
        .get(&reception, "/api/v1/events?limit=1000")
        .await
        .expect(200);
    let hidden = streams(&seen_by_reception);
    assert!(!hidden.iter().any(|s| s == "tokens"), "{seen_by_reception}");
    assert!(hidden.iter().any(|s| s.starts_with("visit-")));
    // the page moves past what it hides: the same next_after for both
    assert_eq!(
        seen_by_reception["next_after"],
        seen_by_auditor["next_after"]
    );

    assert_eq!(s.get(&reception, "/api/v1/audit/verify").await.status, 403);
    let first = s.get(&auditor, "/api/v1/audit/verify").await.expect(200);
    assert_eq!(first["ok"], true);
    assert_eq!(first["events_checked"], s.head());
    let again = s.get(&auditor, "/api/v1/audit/verify").await.expect(200);
    assert_eq!(again, first);
    // a new event: a new walk
    s.post(
        &reception,
        "/api/v1/visits",
        visit_request(s.clock.now(), 6, 1),
    )
    .await
    .expect(201);
    let later = s.get(&auditor, "/api/v1/audit/verify").await.expect(200);
    assert_eq!(later["events_checked"], s.head());
    assert_ne!(later["head_hash"], first["head_hash"]);
    let _ = s.stop().await;
}

#[tokio::test]
async fn failed_authentication_is_limited_per_address() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    // no token at all is not a guess and is never limited
    for _ in 0..30 {
        assert_eq!(s.get("", "/api/v1/board").await.status, 401);
    }
    for i in 0..20 {
        let a = s.get(&format!("guess-{i}"), "/api/v1/board").await;
        assert_eq!(a.status, 401, "attempt {i}");
    }
    let res = s
        .client
        .get(format!("{}/api/v1/board", s.base))
        .bearer_auth("guess-20")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // while the address is limited, a valid token from it waits too: otherwise the
    // answer would tell a guessed token from a wrong one at full speed
    let limited = s.get(&reception, "/api/v1/board").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.code(), "too_many_requests");
    let _ = s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_token_ends_its_open_board_stream() {
    use futures::StreamExt;
    use std::time::Duration;
    let s = Server::start().await;
    let issue = |user: &str| serde_json::json!({ "user": user, "role": "analyst" });
    let revoked = s
        .post(&s.admin, "/api/v1/tokens", issue("wall.one"))
        .await
        .expect(201);
    let kept = s
        .post(&s.admin, "/api/v1/tokens", issue("wall.two"))
        .await
        .expect(201);
    let open = |token: String| {
        let (client, base) = (s.client.clone(), s.base.clone());
        async move {
            let res = client
                .get(format!("{base}/api/v1/board/stream"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let mut body = res.bytes_stream();
            // the snapshot first
            let first = tokio::time::timeout(Duration::from_secs(5), body.next())
                .await
                .expect("a snapshot within 5 s");
            assert!(first.is_some());
            body
        }
    };
    let mut gone = open(revoked["token"].as_str().unwrap().to_string()).await;
    let mut other = open(kept["token"].as_str().unwrap().to_string()).await;
    let id = revoked["id"].as_str().unwrap();
    s.delete(&s.admin, &format!("/api/v1/tokens/{id}"))
        .await
        .expect(200);
    // the revoked token's stream ends (a keep-alive may come first)
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = gone.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the revoked token's stream is still open");
    // the other token's stream stays open: it may send (the revocation is a new event
    // and the board is sent again) but does not end
    match tokio::time::timeout(Duration::from_millis(300), other.next()).await {
        Err(_) | Ok(Some(Ok(_))) => {}
        Ok(end) => panic!("the other token's stream ended: {end:?}"),
    }
    // a graceful stop waits for open streams
    drop((gone, other));
    let _ = s.stop().await;
}
