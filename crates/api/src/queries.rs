//! Query routes answered from the event store itself: one visit's state, its history
//! (as of a time), the global feed, the audit verification and the policy.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, Utc};
use reception_domain::complaint::Complaint;
use reception_domain::deadlines::{next_step, visit_deadlines, visit_flags};
use reception_domain::frontdesk::SignIn;
use reception_domain::policy::PolicyState;
use reception_domain::visit::Visit;
use reception_domain::Aggregate;
use reception_store::Envelope;
use serde::Deserialize;
use serde_json::json;

use crate::commands::parse_id;
use crate::extract::{Caller, MinSeq, Query};
use crate::{redact_phones, wait_for_head, ApiError, AppState};

/// Largest page of `GET /api/v1/events`.
pub const MAX_EVENTS_PAGE: usize = 1000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/visits/{id}", get(visit_state))
        .route("/api/v1/visits/{id}/history", get(visit_history))
        .route("/api/v1/complaints/{id}", get(complaint_state))
        .route("/api/v1/frontdesk/{id}", get(sign_in_state))
        .route("/api/v1/events", get(events))
        .route("/api/v1/audit/verify", get(audit_verify))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(format!("serialising an answer: {e}")))
}

fn answer(caller: &Caller, mut body: serde_json::Value) -> Response {
    if caller.hides_phones() {
        redact_phones(&mut body);
    }
    Json(body).into_response()
}

/// `GET /api/v1/visits/{id}`: state plus `flags`, `deadlines` and `next_step` at now.
async fn visit_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    let id = parse_id("visit", &id)?;
    wait_for_head(&state.app, q.min_seq).await?;
    let loaded = state
        .app
        .history::<Visit>(&reception_app::App::stream_name::<Visit>(id), None)?;
    let now = state.app.now();
    let visit = &loaded.state;
    let mut body = to_json(visit)?;
    let next = next_step(visit, now);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("id".into(), json!(id));
        obj.insert("flags".into(), to_json(&visit_flags(visit, now))?);
        obj.insert("deadlines".into(), to_json(&visit_deadlines(visit, now))?);
        obj.insert("next_step".into(), json!(next.as_ref().map(|(s, _)| s)));
        obj.insert(
            "next_due".into(),
            json!(next.as_ref().and_then(|(_, d)| *d)),
        );
        obj.insert("now".into(), json!(now));
    }
    Ok(answer(&caller, body))
}

/// `?as_of=T&min_seq=S`.
#[derive(Debug, Deserialize)]
struct HistoryQuery {
    as_of: Option<String>,
    min_seq: Option<u64>,
}

fn parse_time(field: &str, raw: &str) -> Result<DateTime<FixedOffset>, ApiError> {
    DateTime::parse_from_rfc3339(raw).map_err(|e| {
        ApiError::invalid(
            field,
            format!("{field} must be an RFC 3339 time with offset: {e}"),
        )
    })
}

async fn history_of<A: Aggregate>(
    state: &AppState,
    caller: &Caller,
    stream: &str,
    q: HistoryQuery,
) -> Result<Response, ApiError> {
    let as_of = q
        .as_of
        .as_deref()
        .map(|t| parse_time("as_of", t))
        .transpose()?;
    wait_for_head(&state.app, q.min_seq).await?;
    let loaded = state
        .app
        .history::<A>(stream, as_of.map(|t| t.with_timezone(&Utc)))?;
    let body = json!({ "stream": stream, "as_of": as_of, "events": to_json(&loaded.events)?, "state": to_json(&loaded.state)? });
    Ok(answer(caller, body))
}

/// `GET /api/v1/visits/{id}/history[?as_of=T]`.
async fn visit_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id("visit", &id)?;
    history_of::<Visit>(
        &state,
        &caller,
        &reception_app::App::stream_name::<Visit>(id),
        q,
    )
    .await
}

/// `GET /api/v1/complaints/{id}`: one complaint's history and state (extension).
async fn complaint_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id("complaint", &id)?;
    history_of::<Complaint>(
        &state,
        &caller,
        &reception_app::App::stream_name::<Complaint>(id),
        q,
    )
    .await
}

/// `GET /api/v1/frontdesk/{id}`: one sign-in's history and state (extension).
async fn sign_in_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id("sign-in", &id)?;
    history_of::<SignIn>(
        &state,
        &caller,
        &reception_app::App::stream_name::<SignIn>(id),
        q,
    )
    .await
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

/// `GET /api/v1/policy`: the version in force now and every published version.
pub(crate) async fn get_policy(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    wait_for_head(&state.app, q.min_seq).await?;
    let loaded = state.app.load::<PolicyState>(PolicyState::KIND, None)?;
    let book = loaded.state.book_or_default();
    let now = state.app.now();
    let body = json!({
        "in_force": to_json(&book.in_force(now))?,
        "versions": to_json(&book.versions())?,
        "stream_version": loaded.state.version(),
    });
    Ok(Json(body).into_response())
}
