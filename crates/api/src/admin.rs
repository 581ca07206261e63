//! `/api/v1/admin/rebuild` (admin, beyond API.md): rebuilding projections online
//! (`POST` runs on a blocking thread; `GET` reports progress); `/api/v1/admin/backup`
//! (admin): the log as a backup file, streamed while the server keeps serving.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use chrono::Utc;
use reception_domain::Role;
use reception_projections::PROJECTIONS;
use reception_store::backup::{Trailer, TrailerLine};
use reception_store::Store;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::doc::{AdminErrors, QueryErrors};

pub use crate::common::state::{RebuildStatus, RebuildTracker};
use crate::common::{read_side, typed, ApiError, AppState, Caller, JsonBody};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rebuild_status, start_rebuild))
        .routes(routes!(backup))
}

/// Bytes of envelope lines gathered into one chunk of the backup stream.
const BACKUP_CHUNK: usize = 64 * 1024;
/// Chunks read ahead of the client: what the stream holds in memory at most.
const BACKUP_CHUNKS_AHEAD: usize = 4;

/// `GET /api/v1/admin/backup` (admin): the backup file of `reception backup`.
#[utoipa::path(get, path = "/api/v1/admin/backup", tag = "admin",
    summary = "extension: stream a backup of the log up to the head at the request's start (admin); `reception backup --url` writes it",
    description = "NDJSON: every envelope from seq 1 to the head as stored (not upcast), one per line, then the line `{\"trailer\": {\"events\", \"head_seq\", \"head_hash\"}}`. Commands keep being served meanwhile; events appended after the request started are not included. A response without the trailer line was cut and is not a backup.",
    security(("bearer" = [])),
    responses((status = 200, description = "envelope lines then the trailer line", content_type = "application/x-ndjson", body = String,
        headers(("x-backup-head-seq" = u64, description = "the head seq the backup ends at"))), QueryErrors))]
async fn backup(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin], "take backups (admin only)")?;
    let store = state.app.store().clone();
    let (head_seq, head_hash) = store.head();
    let (tx, rx) = tokio::sync::mpsc::channel(BACKUP_CHUNKS_AHEAD);
    tokio::task::spawn_blocking(move || {
        let trailer = TrailerLine {
            trailer: Trailer {
                events: head_seq,
                head_seq,
                head_hash,
            },
        };
        if let Err(e) = stream_backup(&store, head_seq, &trailer, &tx) {
            tracing::error!(error = %e, head_seq, "online backup cut");
            // The body ends with an error: the client sees a cut stream, no trailer.
            let _ = tx.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_string()),
            (
                header::HeaderName::from_static("x-backup-head-seq"),
                head_seq.to_string(),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

type Chunk = Result<Bytes, std::io::Error>;

/// Sends the stored envelopes 1..=`head` in chunks, then the trailer. Stops quietly
/// when the client has gone; an error means the stream must end cut.
fn stream_backup(
    store: &Store,
    head: u64,
    trailer: &TrailerLine,
    tx: &tokio::sync::mpsc::Sender<Chunk>,
) -> Result<(), String> {
    let mut chunk = Vec::with_capacity(BACKUP_CHUNK + 16 * 1024);
    let mut sent = 0u64;
    if head > 0 {
        for item in store.stored_envelopes(1..=head) {
            let (seq, bytes) = item.map_err(|e| e.to_string())?;
            // The stored bytes are compact JSON; a line break would split the envelope.
            if bytes.contains(&b'\n') {
                return Err(format!("stored envelope {seq} holds a line break"));
            }
            chunk.extend_from_slice(&bytes);
            chunk.push(b'\n');
            sent += 1;
            if chunk.len() >= BACKUP_CHUNK {
                let full =
                    std::mem::replace(&mut chunk, Vec::with_capacity(BACKUP_CHUNK + 16 * 1024));
                if tx.blocking_send(Ok(Bytes::from(full))).is_err() {
                    return Ok(());
                }
            }
        }
    }
    if sent != head {
        return Err(format!(
            "the log ended at {sent} events, before its head {head}"
        ));
    }
    chunk.extend_from_slice(&trailer.to_line());
    chunk.push(b'\n');
    let _ = tx.blocking_send(Ok(Bytes::from(chunk)));
    Ok(())
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
    request_body(content = Option<RebuildRequest>, description = "may be empty: every projection"),
    responses((status = 202, description = "started on a blocking thread; poll GET for progress", body = RebuildStatus), AdminErrors))]
async fn start_rebuild(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin], "rebuild projections (admin only)")?;
    // no body, `{}` and `null` all mean every projection
    let req: RebuildRequest = match body {
        serde_json::Value::Null => RebuildRequest::default(),
        body => typed(body)?,
    };
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
