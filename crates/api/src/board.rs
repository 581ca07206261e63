//! `/api/v1/board`: the live visit board (cached, optionally paged and filtered) and
//! its Server-Sent Events stream, fed by [`spawn_board_feed`]. Every role may read it.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use reception_projections::{ReadSide, BOARD_STAGES};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::common::{
    read_side, redact_phones, to_json, wait_for_read_side, ApiError, AppState, Caller, Query,
};

/// Board snapshots buffered per SSE client; a client further behind is dropped.
pub const BOARD_STREAM_BUFFER: usize = 64;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/board", get(board))
        .route("/api/v1/board/stream", get(board_stream))
}

fn now(state: &AppState) -> DateTime<Utc> {
    state.app.now().with_timezone(&Utc)
}

/// The board as JSON, without phone numbers (it carries none; the stream is shared by
/// every role, so this is enforced here).
fn board_json(read: &ReadSide, now: DateTime<Utc>) -> Result<Value, ApiError> {
    let mut v = to_json(&read.board(now))?;
    redact_phones(&mut v);
    Ok(v)
}

/// Largest `limit` of a board page.
pub const BOARD_MAX_LIMIT: usize = 1000;

/// `?min_seq=S&limit=N&offset=K&stage=S&host=H` of `GET /api/v1/board`.
#[derive(Debug, Default, Deserialize)]
struct BoardQuery {
    min_seq: Option<u64>,
    limit: Option<usize>,
    offset: Option<usize>,
    stage: Option<String>,
    host: Option<String>,
}

impl BoardQuery {
    fn is_plain(&self) -> bool {
        self.limit.is_none() && self.offset.is_none() && self.stage.is_none() && self.host.is_none()
    }

    fn check(&self) -> Result<(), ApiError> {
        if let Some(l) = self.limit {
            if l == 0 || l > BOARD_MAX_LIMIT {
                return Err(ApiError::invalid(
                    "limit",
                    format!("limit must be 1 to {BOARD_MAX_LIMIT}, got {l}"),
                ));
            }
        }
        if let Some(s) = &self.stage {
            if !BOARD_STAGES.contains(&s.as_str()) {
                return Err(ApiError::invalid(
                    "stage",
                    format!(
                        "stage must be one of {}; got {s:?}",
                        BOARD_STAGES.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The board with its visits filtered by stage and host, then paged;
    /// `visits_total` counts the visits that passed the filters.
    fn page(&self, board: &Value) -> Value {
        let Value::Object(map) = board else {
            return board.clone();
        };
        let mut out = serde_json::Map::new();
        for (k, v) in map {
            if k != "visits" {
                out.insert(k.clone(), v.clone());
            }
        }
        let visits = map.get("visits").and_then(Value::as_array);
        let matching: Vec<&Value> = visits
            .into_iter()
            .flatten()
            .filter(|v| self.stage.as_deref().is_none_or(|s| v["stage"] == s))
            .filter(|v| self.host.as_deref().is_none_or(|h| v["host"] == h))
            .collect();
        let total = matching.len();
        let page: Vec<Value> = matching
            .into_iter()
            .skip(self.offset.unwrap_or(0))
            .take(self.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect();
        out.insert("visits".into(), Value::Array(page));
        out.insert("visits_total".into(), json!(total));
        Value::Object(out)
    }
}

/// `GET /api/v1/board`: the whole board from [`BoardCache`]; with `limit`, `offset`,
/// `stage` or `host` only the matching page of visits (and `visits_total`).
async fn board(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<BoardQuery>,
) -> Result<Response, ApiError> {
    q.check()?;
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    let cached = state.board_cache.get(read, now(&state))?;
    if q.is_plain() {
        return Ok((
            [(header::CONTENT_TYPE, "application/json")],
            cached.bytes.clone(),
        )
            .into_response());
    }
    Ok(Json(q.page(&cached.value)).into_response())
}

/// `GET /api/v1/board/stream`: a `board` event with the current board first (when the
/// read side runs here), then one per board change; keep-alives every 15 s; a client
/// that falls [`BOARD_STREAM_BUFFER`] boards behind is dropped.
async fn board_stream(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Response, ApiError> {
    let Some(tx) = &state.board_changes else {
        return Err(ApiError::Unavailable(
            "the board stream is not available on this node".into(),
        ));
    };
    let rx = tx.subscribe();
    let first = match &state.read_side {
        Some(read) => Some(board_json(read, now(&state))?),
        None => None,
    };
    Ok(crate::sse::from_broadcast(first, rx, "board").into_response())
}

/// Starts the task that turns the read side's board changes into board snapshots on
/// the returned channel (what [`AppState::with_read_side`] wires to
/// `GET /api/v1/board/stream`). A board is computed only while someone listens. Must
/// be called inside a tokio runtime; the task ends when the store closes.
pub fn spawn_board_feed(read: ReadSide, app: reception_app::App) -> broadcast::Sender<Value> {
    let (tx, _) = broadcast::channel::<Value>(BOARD_STREAM_BUFFER);
    let feed = tx.clone();
    let mut changes = read.changes();
    // Ends when the store closes (its head watch is dropped), so that this task never
    // keeps a closed store's files locked.
    let mut head = app.store().watch_head();
    tokio::spawn(async move {
        loop {
            let change = tokio::select! {
                c = changes.recv() => c,
                h = head.changed() => match h {
                    Ok(()) => continue,
                    Err(_) => return,
                },
            };
            match change {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    if feed.receiver_count() == 0 {
                        continue;
                    }
                    let (r, now) = (read.clone(), app.now().with_timezone(&Utc));
                    match tokio::task::spawn_blocking(move || board_json(&r, now)).await {
                        Ok(Ok(b)) => {
                            let _ = feed.send(b);
                        }
                        Ok(Err(e)) => tracing::error!(error = %e, "board snapshot for SSE failed"),
                        Err(e) => tracing::error!(error = %e, "board snapshot task failed"),
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    tx
}
