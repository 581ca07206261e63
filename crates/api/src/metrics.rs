//! Prometheus metrics: the process-wide recorder and the per-request counter middleware.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use (idempotent, so several
/// servers in one test process share it).
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .expect("static buckets are valid");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!(
                    "a metrics recorder was already installed; /metrics shows only this one's data"
                );
            }
            metrics::describe_counter!(
                "reception_http_requests_total",
                "HTTP requests by matched route and status"
            );
            metrics::describe_histogram!(
                "reception_http_request_seconds",
                "HTTP request latency by matched route"
            );
            metrics::describe_histogram!(
                "reception_append_seconds",
                "Store append latency (durable)"
            );
            metrics::describe_counter!("reception_events_total", "Events appended by commands");
            metrics::describe_counter!(
                "reception_commands_total",
                "Commands by kind, command and outcome"
            );
            metrics::describe_gauge!(
                "reception_store_commits",
                "Group commits (one apply_batch each) since the store opened"
            );
            metrics::describe_gauge!(
                "reception_store_committed_events",
                "Events written by the store's group commits since it opened"
            );
            metrics::describe_gauge!(
                "reception_store_log_records",
                "Log records (one key of up to 8 envelopes) written since the store opened"
            );
            metrics::describe_gauge!(
                "reception_projection_lag",
                "Sequences the read side is behind the log head"
            );
            handle
        })
        .clone()
}

/// Middleware: counts requests by matched route and status, and times them.
pub async fn track_requests(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    let route = route.unwrap_or_else(|| "unmatched".into());
    let status = status_label(res.status());
    metrics::counter!("reception_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("reception_http_request_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    res
}

/// The method as a label without allocating for the usual ones.
fn method_label(m: &axum::http::Method) -> metrics::SharedString {
    use axum::http::Method;
    let s = match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => return m.as_str().to_string().into(),
    };
    metrics::SharedString::const_str(s)
}

/// The status code as a label without allocating for the ones the API answers.
fn status_label(s: axum::http::StatusCode) -> metrics::SharedString {
    let text = match s.as_u16() {
        200 => "200",
        201 => "201",
        202 => "202",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        408 => "408",
        409 => "409",
        412 => "412",
        413 => "413",
        422 => "422",
        500 => "500",
        503 => "503",
        other => return other.to_string().into(),
    };
    metrics::SharedString::const_str(text)
}
