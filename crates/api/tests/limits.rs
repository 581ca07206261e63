//! The request timeout answers 408 with the API's error body.

mod support;

use std::time::{Duration, Instant};

use reception_api::AppState;
use reception_domain::{Actor, Role};

#[tokio::test]
async fn a_request_over_the_timeout_is_408_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let store = reception_store::Store::open(dir.path()).unwrap();
    let app = reception_app::App::new(store.clone(), Default::default());
    let token = app
        .tokens()
        .issue(&store, "viewer", Role::Auditor, &Actor::system())
        .await
        .unwrap();
    let mut state = AppState::new(app);
    state.request_timeout = Duration::from_millis(300);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, reception_api::router(state))
            .await
            .unwrap()
    });

    // min_seq far ahead would wait 5 s; the 300 ms timeout cuts it short.
    let started = Instant::now();
    let res = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/events?min_seq=1000"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 408);
    assert!(started.elapsed() < Duration::from_secs(3));
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    let text = res.text().await.unwrap();
    support::openapi_check::check(
        reception_api::openapi::document(),
        "GET",
        "/api/v1/events?min_seq=1000",
        408,
        Some(&content_type),
        &text,
    );
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["code"], "timeout");
}
