//! `/api/v1/board`: the live visit board (cached, optionally paged and filtered) and
//! its Server-Sent Events stream, fed by [`spawn_board_feed`]. Every role may read it.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use reception_projections::{ReadSide, BOARD_STAGES};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::doc::{integer, min_seq_param, one_of, query_param, QueryErrors};

use crate::common::{
    read_side, redact_phones, to_json, wait_for_read_side, ApiError, AppState, Caller, Query,
};

/// Board snapshots buffered per SSE client; a client further behind is dropped.
pub const BOARD_STREAM_BUFFER: usize = 64;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(board))
        .routes(routes!(board_stream))
}

/// The live visit board (`reception_projections::Board`).
#[derive(utoipa::ToSchema)]
#[schema(as = Board)]
#[allow(dead_code)]
struct BoardAnswer {
    /// Visits not yet closed, with stage, flags, deadlines and next step.
    #[schema(value_type = Vec<Object>)]
    visits: Vec<Value>,
    /// Today's timeline (business time zone), preparation tasks and follow-ups due
    /// today included.
    #[schema(value_type = Vec<Object>)]
    today: Vec<Value>,
    /// Open complaints with their clocks.
    #[schema(value_type = Vec<Object>)]
    complaints: Vec<Value>,
    /// Who is on site now (F2: with the visit and customer a sign-in names).
    #[schema(value_type = Vec<Object>)]
    on_site: Vec<Value>,
    /// V28: open follow-ups, also of closed visits, by due time, with `overdue`.
    #[schema(value_type = Vec<Object>)]
    follow_ups: Vec<Value>,
    /// With `limit`, `offset`, `stage` or `host`: visits matching `stage` and `host`
    /// before paging.
    #[schema(nullable = false)]
    visits_total: Option<u64>,
}

/// One Server-Sent Event of `GET /api/v1/board/stream`: `event: board` and the whole
/// board (as `GET /api/v1/board` answers it) as JSON in `data`; `:` comments keep the
/// connection alive.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct BoardEvent {
    /// Always `board`.
    #[schema(pattern = "^board$")]
    event: String,
    /// The board as JSON text (schema `Board`).
    #[schema(content_media_type = "application/json")]
    data: String,
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
pub(crate) struct BoardQuery {
    min_seq: Option<u64>,
    limit: Option<usize>,
    offset: Option<usize>,
    stage: Option<String>,
    host: Option<String>,
}

impl utoipa::IntoParams for BoardQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![
            min_seq_param(),
            query_param(
                "limit",
                "extension: at most this many visits; the answer then carries `visits_total`",
                integer(Some(1), Some(BOARD_MAX_LIMIT)),
            ),
            query_param(
                "offset",
                "extension: skip this many (matching) visits; the answer then carries `visits_total`",
                integer(Some(0), Some(1_000_000_000)),
            ),
            query_param(
                "stage",
                "extension: only visits in this stage",
                one_of(&BOARD_STAGES),
            ),
            query_param(
                "host",
                "extension: only visits with this host",
                utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String),
            ),
        ]
    }
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
#[utoipa::path(get, path = "/api/v1/board", tag = "board",
    summary = "the live visit board",
    security(("bearer" = [])),
    params(BoardQuery),
    responses((status = 200, description = "the board", body = BoardAnswer), QueryErrors))]
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
#[utoipa::path(get, path = "/api/v1/board/stream", tag = "board",
    summary = "Server-Sent Events: one `board` event per board change",
    security(("bearer" = [])),
    responses((status = 200, description = "a stream of `board` events, the current board first", content_type = "text/event-stream", body = BoardEvent), QueryErrors))]
async fn board_stream(
    State(state): State<AppState>,
    _caller: Caller,
    headers: axum::http::HeaderMap,
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
    // the token is known good (the Caller was accepted); kept to re-check on revocation
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.get(7..))
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let app = state.app.clone();
    let until = crate::sse::Revocable {
        revocations: state.app.tokens().revocations(),
        still_valid: Box::new(move || app.tokens().verify(&token).is_some()),
        stopping: state.stopping.subscribe(),
    };
    Ok(crate::sse::from_broadcast(first, rx, "board", Some(until)).into_response())
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
