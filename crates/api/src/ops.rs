//! Operational routes: health, readiness (and the probe of a node with a read side),
//! metrics, the OpenAPI document and the JSON 404 fallback (the dashboard at `/` is the
//! `reception-web` crate, merged in by the binary).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use reception_projections::ReadSide;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::doc::OpsErrors;
use crate::common::state::{Readiness, ReadinessProbe};
use crate::common::{ApiError, AppState};

/// The read side is "caught up" (ready) while it is at most this many events behind
/// the log head.
pub const READY_MAX_LAG: u64 = 1000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

/// `{"status": "ok"}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Health {
    /// Always `ok`.
    status: String,
}

/// What `/readyz` answers (200 when ready, else 503).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Ready {
    ready: bool,
    store_open: bool,
    /// The log's head seq.
    head_seq: u64,
    /// Events the read side is behind (`null`: no probe).
    lag: Option<u64>,
    /// Per part: projections, relay, replica (`null`: no probe).
    #[schema(value_type = Option<Object>)]
    details: Option<Value>,
}

#[utoipa::path(get, path = "/healthz", tag = "ops", summary = "process up", security(()),
    responses((status = 200, description = "the process answers", body = Health), OpsErrors))]
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", tag = "ops",
    summary = "store open and projections caught up (503 otherwise)", security(()),
    responses((status = 200, description = "ready", body = Ready),
              (status = 503, description = "not ready", body = Ready), OpsErrors))]
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

#[utoipa::path(get, path = "/metrics", tag = "ops", summary = "Prometheus metrics", security(()),
    responses((status = 200, description = "the text exposition format", content_type = "text/plain", body = String), OpsErrors))]
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

#[utoipa::path(get, path = "/api/openapi.json", tag = "ops", summary = "this document", security(()),
    responses((status = 200, description = "the OpenAPI 3.1 document", body = Object), OpsErrors))]
async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document().clone())
}

pub(crate) async fn fallback() -> ApiError {
    ApiError::not_found("no such route")
}

/// Extra readiness of a node beyond its projections (relay or replica status): whether
/// it is ready, the lag it adds, and what to show under its name in `/readyz` details.
pub type ExtraReadiness = Arc<dyn Fn() -> (bool, Value) + Send + Sync>;

/// The `/readyz` probe of a node with a read side: ready while the projections are at
/// most [`READY_MAX_LAG`] events behind the log head and every `extra` part is ready.
/// `details` holds `projections` (`applied_seq`, `lag`) and each extra part by name.
pub fn readiness_probe(
    read: ReadSide,
    extra: Vec<(&'static str, ExtraReadiness)>,
) -> ReadinessProbe {
    Arc::new(move || {
        let lag = read.lag();
        let mut ready = lag <= READY_MAX_LAG;
        let mut details = serde_json::Map::new();
        details.insert(
            "projections".into(),
            json!({ "applied_seq": read.applied_seq(), "lag": lag, "caught_up": lag <= READY_MAX_LAG }),
        );
        for (name, part) in &extra {
            let (ok, v) = part();
            ready &= ok;
            details.insert((*name).into(), v);
        }
        Readiness {
            ready,
            lag,
            details: Value::Object(details),
        }
    })
}
