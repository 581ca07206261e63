//! The audit trail: the global event feed (`/api/v1/events`) and the hash-chain
//! verification (`/api/v1/audit/verify`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use reception_app::TOKENS_STREAM;
use reception_domain::Role;
use reception_store::{Envelope, VerifyReport as Verified};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::doc::{integer, min_seq_param, query_param, EnvelopeDoc, QueryErrors};

use crate::common::{answer, to_json, wait_for_head, ApiError, AppState, Caller, MinSeq, Query};

/// Largest page of `GET /api/v1/events`.
pub const MAX_EVENTS_PAGE: usize = 1000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(audit_verify))
}

/// A page of the global log.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct EventsPage {
    events: Vec<EnvelopeDoc>,
    /// The seq to pass as `after` for the next page.
    next_after: u64,
    /// The log's head seq.
    head: u64,
}

/// The hash chain's verification (`reception_store::VerifyReport`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct VerifyReport {
    ok: bool,
    events_checked: u64,
    head_hash: String,
    /// The first event that fails a check (`null`: none): its hash does not chain, or
    /// it is not signed by the key in force.
    first_bad_seq: Option<u64>,
    /// Events signed by the key in force (those written before the log adopted its
    /// first key are unsigned; the first signature covers them through the chain).
    signed: u64,
    /// The signing key in force at the end of the checked log (`null`: none adopted).
    key_id: Option<String>,
    /// What is wrong with `first_bad_seq` (`null`: nothing).
    reason: Option<String>,
}

/// `?after=SEQ&limit=N&min_seq=S`.
#[derive(Debug, Deserialize)]
struct EventsQuery {
    after: Option<u64>,
    limit: Option<usize>,
    min_seq: Option<u64>,
}

impl utoipa::IntoParams for EventsQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![
            query_param(
                "after",
                "seq to start after (default 0)",
                integer(Some(0), Some(i64::MAX as usize)),
            ),
            query_param(
                "limit",
                "events per page (default 100)",
                integer(Some(1), Some(MAX_EVENTS_PAGE)),
            ),
            min_seq_param(),
        ]
    }
}

/// `GET /api/v1/events?after=SEQ&limit=N`: `{"events": [...], "next_after": S, "head": H}`.
#[utoipa::path(get, path = "/api/v1/events", tag = "audit",
    summary = "the global feed, in order",
    security(("bearer" = [])),
    params(EventsQuery),
    responses((status = 200, description = "a page of events", body = EventsPage), QueryErrors))]
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
    // the tokens stream is the user and role inventory: only admin and auditor see it;
    // the page still moves past it, so paging works alike for every role
    let events: Vec<Envelope> = if sees_tokens(&caller) {
        events
    } else {
        events
            .into_iter()
            .filter(|e| e.stream != TOKENS_STREAM)
            .collect()
    };
    let body = json!({ "events": to_json(&events)?, "next_after": next_after, "head": state.app.store().head().0 });
    Ok(answer(&caller, body))
}

/// `GET /api/v1/audit/verify`.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    summary = "walk the hash chain", description = "Roles: admin, auditor. One walk at a time; while the head has not moved, the last walk's answer.",
    security(("bearer" = [])),
    params(MinSeq),
    responses((status = 200, description = "the verification", body = VerifyReport), QueryErrors))]
async fn audit_verify(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor], "verify the hash chain")?;
    wait_for_head(&state.app, q.min_seq).await?;
    // One walk at a time: a walk reads the whole log, and a client that gives up (its
    // request timed out) cannot stop the blocking walk, so callers queue here and take
    // the answer of the walk before them when the head has not moved since.
    let mut last = LAST_VERIFY.lock().await;
    let store = state.app.store().clone();
    let key = (store.path().to_path_buf(), store.head());
    if let Some((k, report)) = last.as_ref() {
        if *k == key {
            return Ok(Json(report.clone()).into_response());
        }
    }
    let report = tokio::task::spawn_blocking(move || store.verify())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(reception_app::AppError::from)?;
    let walked = (key.0, (report.events_checked, report.head_hash.clone()));
    *last = Some((walked, report.clone()));
    Ok(Json(report).into_response())
}

/// The store and head a verification walked, and its answer.
type VerifyCache = Option<((std::path::PathBuf, (u64, String)), Verified)>;

static LAST_VERIFY: tokio::sync::Mutex<VerifyCache> = tokio::sync::Mutex::const_new(None);

/// Admin and auditor see the tokens stream in the feed.
fn sees_tokens(caller: &Caller) -> bool {
    matches!(caller.0.role, Role::Admin | Role::Auditor)
}
