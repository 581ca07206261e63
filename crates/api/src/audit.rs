//! The audit trail: the global event feed (`/api/v1/events`) and the hash-chain
//! verification (`/api/v1/audit/verify`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use reception_store::Envelope;
use serde::Deserialize;
use serde_json::json;

use crate::common::{answer, to_json, wait_for_head, ApiError, AppState, Caller, MinSeq, Query};

/// Largest page of `GET /api/v1/events`.
pub const MAX_EVENTS_PAGE: usize = 1000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events", get(events))
        .route("/api/v1/audit/verify", get(audit_verify))
}

/// `?after=SEQ&limit=N&min_seq=S`.
#[derive(Debug, Deserialize)]
struct EventsQuery {
    after: Option<u64>,
    limit: Option<usize>,
    min_seq: Option<u64>,
}

/// `GET /api/v1/events?after=SEQ&limit=N`: `{"events": [...], "next_after": S, "head": H}`.
async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<EventsQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_EVENTS_PAGE {
        return Err(ApiError::invalid(
            "limit",
            format!("limit must be 1 to {MAX_EVENTS_PAGE}"),
        ));
    }
    wait_for_head(&state.app, q.min_seq).await?;
    let after = q.after.unwrap_or(0);
    let store = state.app.store().clone();
    let events: Vec<Envelope> = tokio::task::spawn_blocking(move || {
        store
            .read_all(after.saturating_add(1), limit)
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(reception_app::AppError::from)?;
    let next_after = events.last().map(|e| e.seq).unwrap_or(after);
    let body = json!({ "events": to_json(&events)?, "next_after": next_after, "head": state.app.store().head().0 });
    Ok(answer(&caller, body))
}

/// `GET /api/v1/audit/verify`.
async fn audit_verify(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    wait_for_head(&state.app, q.min_seq).await?;
    let store = state.app.store().clone();
    let report = tokio::task::spawn_blocking(move || store.verify())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(reception_app::AppError::from)?;
    Ok(Json(report).into_response())
}
