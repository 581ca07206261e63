//! Operational routes: health, readiness, metrics, the OpenAPI document and the JSON 404
//! fallback (the dashboard is the `reception-web` crate).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::{ApiError, AppState};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let store_open = state.app.store().stream_version("policy").is_ok();
    let (seq, _) = state.app.store().head();
    let probe = state.readiness.as_ref().map(|p| p());
    let ready = store_open && probe.as_ref().is_none_or(|p| p.ready);
    let body = json!({
        "ready": ready,
        "store_open": store_open,
        "head_seq": seq,
        "lag": probe.as_ref().map(|p| p.lag),
        "details": probe.as_ref().map(|p| p.details.clone()),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    if let Some(p) = &state.readiness {
        metrics::gauge!("reception_projection_lag").set(p().lag as f64);
    }
    metrics::gauge!("reception_log_head_seq").set(state.app.store().head().0 as f64);
    // group commit: events / commits is the mean batch, events / records the mean
    // number of envelopes per log record
    let commits = state.app.store().commit_stats();
    metrics::gauge!("reception_store_commits").set(commits.batches as f64);
    metrics::gauge!("reception_store_committed_events").set(commits.events as f64);
    metrics::gauge!("reception_store_log_records").set(commits.records as f64);
    let text = crate::metrics::handle().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document().clone())
}

pub(crate) async fn fallback() -> ApiError {
    ApiError::not_found("no such route")
}
