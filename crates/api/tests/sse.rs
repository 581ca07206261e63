//! The SSE helper: events flow from a broadcast channel to a real HTTP client, and a
//! client that lags behind the channel is dropped instead of slowing the sender.

mod support;

use std::time::Duration;

use axum::response::IntoResponse;
use futures::StreamExt;
use reception_api::{sse, AppState};
use reception_domain::{Actor, Role};
use tokio::sync::broadcast;

#[tokio::test]
async fn a_lagging_receiver_ends_the_stream() {
    let (tx, rx) = broadcast::channel::<serde_json::Value>(2);
    for i in 0..10 {
        tx.send(serde_json::json!({ "n": i })).unwrap();
    }
    let body = sse::from_broadcast(None, rx, "board", None)
        .into_response()
        .into_body();
    // The stream must end by itself (the receiver lagged): no keep-alive forever.
    let collected = tokio::time::timeout(
        Duration::from_secs(5),
        axum::body::to_bytes(body, usize::MAX),
    )
    .await;
    let bytes = collected
        .expect("a slow client is dropped, not kept")
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&bytes).contains("\"n\":9"),
        "nothing after the lag is sent"
    );
}

#[tokio::test]
async fn board_changes_reach_an_http_client_as_named_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = reception_store::Store::open(dir.path()).unwrap();
    let app = reception_app::App::new(store.clone(), Default::default());
    let token = app
        .tokens()
        .issue(&store, "viewer", Role::Auditor, &Actor::system())
        .await
        .unwrap();
    let (tx, _keep) = broadcast::channel::<serde_json::Value>(64);
    let mut state = AppState::new(app);
    state.board_changes = Some(tx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, reception_api::router(state))
            .await
            .unwrap()
    });

    let client = reqwest::Client::new();
    let unauth = client
        .get(format!("http://{addr}/api/v1/board/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status(), 401);
    let doc = reception_api::openapi::document();
    let ct = unauth.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let text = unauth.text().await.unwrap();
    support::openapi_check::check(doc, "GET", "/api/v1/board/stream", 401, Some(&ct), &text);
    let res = client
        .get(format!("http://{addr}/api/v1/board/stream"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    // The stream never ends: its status and media type are checked, its events below.
    support::openapi_check::check(doc, "GET", "/api/v1/board/stream", 200, Some(&ct), "");
    let mut body = res.bytes_stream();
    // The subscription exists once the response started; send a change.
    tx.send(serde_json::json!({ "visits": [{ "stage": "requested" }] }))
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("an event")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: board"), "{seen}");
    assert!(seen.contains("\"stage\":\"requested\""), "{seen}");
}
