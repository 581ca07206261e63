//! Admin routes beyond API.md: listing and revoking tokens, and rebuilding projections
//! online (`POST /api/v1/admin/rebuild` runs on a blocking thread; `GET` reports
//! progress).

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use reception_app::TokenInfo;
use reception_domain::Role;
use reception_projections::PROJECTIONS;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::extract::{typed, Caller, JsonBody};
use crate::{ApiError, AppState};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route(
            "/api/v1/admin/rebuild",
            get(rebuild_status).post(start_rebuild),
        )
}

fn not_on_replica(state: &AppState) -> Result<(), ApiError> {
    match &state.read_replica_of {
        Some(writer) => Err(ApiError::ReadReplica(format!(
            "this is a read replica; send commands to the write node {writer}"
        ))),
        None => Ok(()),
    }
}

/// `GET /api/v1/tokens` (admin): the active tokens without secrets or hashes.
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(&[Role::Admin], "list tokens (admin only)")?;
    let tokens: Vec<TokenInfo> = state.app.tokens().list();
    Ok(Json(json!({ "tokens": tokens })))
}

/// `DELETE /api/v1/tokens/{id}` (admin): appends `TokenRevoked`; the token answers 401
/// from then on, also after a restart and on replicas.
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    not_on_replica(&state)?;
    caller.require(&[Role::Admin], "revoke tokens (admin only)")?;
    let id = crate::commands::parse_id("token", &id)?;
    let info = state
        .app
        .tokens()
        .revoke_id(state.app.store(), id, &caller.0)
        .await?;
    Ok(Json(
        json!({ "id": info.id, "user": info.user, "role": info.role, "revoked": true }),
    ))
}

/// `POST /api/v1/admin/rebuild` body (may be empty: every projection).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RebuildRequest {
    /// `board`, `costs`, `archive` or `complaints`; every projection when absent.
    #[serde(default)]
    pub projection: Option<String>,
}

/// What `GET /api/v1/admin/rebuild` reports.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RebuildStatus {
    /// `idle` (none since start), `running`, `done` or `failed`.
    pub status: &'static str,
    /// The projection rebuilt (`null`: all).
    pub projection: Option<String>,
    /// Seqs applied so far, of `total` (the log head when the rebuild started).
    pub done: u64,
    pub total: u64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
}

impl Default for RebuildStatus {
    fn default() -> Self {
        RebuildStatus {
            status: "idle",
            projection: None,
            done: 0,
            total: 0,
            started_at: None,
            finished_at: None,
            error: None,
        }
    }
}

/// The rebuild status shared by the handlers and the rebuild thread.
pub type RebuildTracker = Arc<Mutex<RebuildStatus>>;

fn status_of(t: &RebuildTracker) -> RebuildStatus {
    t.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// `GET /api/v1/admin/rebuild` (admin).
async fn rebuild_status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<RebuildStatus>, ApiError> {
    caller.require(&[Role::Admin], "see rebuilds (admin only)")?;
    Ok(Json(status_of(&state.rebuild)))
}

/// `POST /api/v1/admin/rebuild` (admin): 202 and the status; 409 while one runs.
async fn start_rebuild(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin], "rebuild projections (admin only)")?;
    let req: RebuildRequest = typed(body)?;
    if let Some(p) = &req.projection {
        if !PROJECTIONS.contains(&p.as_str()) {
            return Err(ApiError::invalid(
                "projection",
                format!(
                    "projection must be one of {}; got {p:?}",
                    PROJECTIONS.join(", ")
                ),
            ));
        }
    }
    let read = crate::read::read_side(&state)?.clone();
    {
        let mut s = state.rebuild.lock().unwrap_or_else(|p| p.into_inner());
        if s.status == "running" {
            return Err(ApiError::InvalidState {
                message: "a rebuild is already running; see GET /api/v1/admin/rebuild".into(),
                rule: None,
            });
        }
        *s = RebuildStatus {
            status: "running",
            projection: req.projection.clone(),
            total: state.app.store().head().0,
            started_at: Some(Utc::now()),
            ..RebuildStatus::default()
        };
    }
    tracing::info!(projection = ?req.projection, "online rebuild started");
    let tracker = Arc::clone(&state.rebuild);
    let cache = Arc::clone(&state.board_cache);
    cache.invalidate();
    let only = req.projection.clone();
    tokio::task::spawn_blocking(move || {
        let mut progress = |done: u64, total: u64| {
            let mut s = tracker.lock().unwrap_or_else(|p| p.into_inner());
            s.done = done;
            s.total = total;
        };
        // The served models keep answering (and applying new events) while fresh ones
        // are built in shadow keyspaces; each is swapped in once it has caught up.
        let result = read.rebuild(only.as_deref(), &mut progress);
        cache.invalidate();
        let mut s = tracker.lock().unwrap_or_else(|p| p.into_inner());
        s.finished_at = Some(Utc::now());
        match result {
            Ok(()) => {
                s.status = "done";
                tracing::info!(projection = ?only, "online rebuild done");
            }
            Err(e) => {
                s.status = "failed";
                s.error = Some(e.to_string());
                tracing::error!(projection = ?only, error = %e, "online rebuild failed");
            }
        }
    });
    Ok((StatusCode::ACCEPTED, Json(status_of(&state.rebuild))).into_response())
}
