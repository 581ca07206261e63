//! `/api/v1/admin/rebuild` (admin, beyond API.md): rebuilding projections online
//! (`POST` runs on a blocking thread; `GET` reports progress).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use reception_domain::Role;
use reception_projections::PROJECTIONS;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::doc::{AdminErrors, QueryErrors};

pub use crate::common::state::{RebuildStatus, RebuildTracker};
use crate::common::{read_side, typed, ApiError, AppState, Caller, JsonBody};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(rebuild_status, start_rebuild))
}

/// `POST /api/v1/admin/rebuild` body (may be empty: every projection).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebuildRequest {
    /// `board`, `costs`, `archive` or `complaints`; every projection when absent.
    #[serde(default)]
    #[schema(pattern = "^(board|costs|archive|complaints)$")]
    pub projection: Option<String>,
}

fn status_of(t: &RebuildTracker) -> RebuildStatus {
    t.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// `GET /api/v1/admin/rebuild` (admin).
#[utoipa::path(get, path = "/api/v1/admin/rebuild", tag = "admin",
    summary = "extension: status and progress of the last online rebuild (admin)",
    security(("bearer" = [])),
    responses((status = 200, description = "the last rebuild", body = RebuildStatus), QueryErrors))]
async fn rebuild_status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<RebuildStatus>, ApiError> {
    caller.require(&[Role::Admin], "see rebuilds (admin only)")?;
    Ok(Json(status_of(&state.rebuild)))
}

/// `POST /api/v1/admin/rebuild` (admin): 202 and the status; 409 while one runs.
#[utoipa::path(post, path = "/api/v1/admin/rebuild", tag = "admin",
    summary = "extension: rebuild one projection (board, costs, archive, complaints) or all, online (admin); 409 while one runs",
    security(("bearer" = [])),
    request_body(content = RebuildRequest, description = "may be empty: every projection"),
    responses((status = 202, description = "started on a blocking thread; poll GET for progress", body = RebuildStatus), AdminErrors))]
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
    let read = read_side(&state)?.clone();
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
