//! Read-side query routes answered from the projections (`reception-projections`): the
//! board and its Server-Sent Events stream, cost analyses and their CSV export, the
//! customer archive and the complaints lists and report. Every role may read them;
//! analysts never see phone numbers. Every route takes `min_seq` (read-your-writes).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Datelike, Utc};
use reception_projections::{CostDimension, ReadSide, BOARD_STAGES};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::extract::{Caller, MinSeq, Query};
use crate::{redact_phones, ApiError, AppState, Readiness, ReadinessProbe, MIN_SEQ_WAIT};

/// The read side is "caught up" (ready) while it is at most this many events behind
/// the log head.
pub const READY_MAX_LAG: u64 = 1000;

/// Board snapshots buffered per SSE client; a client further behind is dropped.
pub const BOARD_STREAM_BUFFER: usize = 64;

/// The read-side routes (merged by [`crate::router`]).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/board", get(board))
        .route("/api/v1/board/stream", get(board_stream))
        .route("/api/v1/costs", get(costs))
        .route("/api/v1/costs/export.csv", get(costs_csv))
        .route("/api/v1/customers", get(customers))
        .route("/api/v1/customers/{id}", get(customer))
        .route("/api/v1/complaints", get(complaints))
        .route("/api/v1/complaints/report", get(complaint_report))
}

/// The read side, or 503 `unavailable` on a node started without one.
pub(crate) fn read_side(state: &AppState) -> Result<&ReadSide, ApiError> {
    state
        .read_side
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("the read side is not running on this node".into()))
}

/// Waits (at most [`MIN_SEQ_WAIT`]) until every projection applied `min_seq`; 503
/// `not_caught_up` otherwise. Without `min_seq`, answers at once.
pub async fn wait_for_read_side(read: &ReadSide, min_seq: Option<u64>) -> Result<(), ApiError> {
    match min_seq {
        Some(seq) if !read.wait_for(seq, MIN_SEQ_WAIT).await => Err(ApiError::NotCaughtUp(seq)),
        _ => Ok(()),
    }
}

fn now(state: &AppState) -> DateTime<Utc> {
    state.app.now().with_timezone(&Utc)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(format!("serialising an answer: {e}")))
}

/// JSON answer; phone numbers removed for callers that must not see them.
fn answer(caller: &Caller, mut body: Value) -> Response {
    if caller.hides_phones() {
        redact_phones(&mut body);
    }
    Json(body).into_response()
}

/// The board as JSON, without phone numbers (it carries none; the stream is shared by
/// every role, so this is enforced here).
fn board_json(read: &ReadSide, now: DateTime<Utc>) -> Result<Value, ApiError> {
    let mut v = to_json(&read.board(now))?;
    redact_phones(&mut v);
    Ok(v)
}

/// The serialised board, kept until the read side applies another event, the board is
/// rebuilt ([`BoardCache::invalidate`]) or the clock reaches the first instant at which
/// a time-dependent flag, a complaint clock or "today" would change
/// ([`ReadSide::board_until`]). A cached answer is therefore byte for byte what a fresh
/// computation would give at that moment.
#[derive(Default)]
pub struct BoardCache {
    slot: std::sync::Mutex<Option<Arc<CachedBoard>>>,
    generation: std::sync::atomic::AtomicU64,
}

/// One computed board answer.
pub struct CachedBoard {
    /// The read side's applied seq read before the board was computed.
    seq: u64,
    generation: u64,
    /// Valid for clock readings in `[from, until)`.
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    /// The board as JSON (phone numbers removed), for paged or filtered answers.
    value: Value,
    /// `value` serialised: the answer without paging or filters.
    bytes: bytes::Bytes,
}

impl BoardCache {
    /// Forgets the cached board (after a rebuild replaced the read model).
    pub fn invalidate(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The board at `now`: the cached one while it is still valid, else computed (and
    /// kept).
    fn get(&self, read: &ReadSide, now: DateTime<Utc>) -> Result<Arc<CachedBoard>, ApiError> {
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        // Read before computing: the board computed below is at least this far along.
        let seq = read.applied_seq();
        {
            let slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = slot.as_ref() {
                if c.seq == seq && c.generation == generation && c.from <= now && now < c.until {
                    return Ok(Arc::clone(c));
                }
            }
        }
        let (board, until) = read.board_until(now);
        let mut value = to_json(&board)?;
        redact_phones(&mut value);
        let bytes = serde_json::to_vec(&value)
            .map_err(|e| ApiError::Internal(format!("serialising the board: {e}")))?;
        let cached = Arc::new(CachedBoard {
            seq,
            generation,
            from: now,
            until,
            value,
            bytes: bytes.into(),
        });
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&cached));
        Ok(cached)
    }
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

/// `?year=Y&by=...&min_seq=S`.
#[derive(Debug, Deserialize)]
struct CostsQuery {
    year: Option<String>,
    by: Option<String>,
    min_seq: Option<u64>,
}

/// A calendar year 1900–9999; the current one (business time zone) when absent.
fn parse_year(state: &AppState, raw: Option<&str>) -> Result<i32, ApiError> {
    match raw {
        None => Ok(state.app.now().year()),
        Some(s) => match s.trim().parse::<i32>() {
            Ok(y) if (1900..=9999).contains(&y) => Ok(y),
            _ => Err(ApiError::invalid(
                "year",
                format!("year must be a calendar year from 1900 to 9999, got {s:?}"),
            )),
        },
    }
}

/// `GET /api/v1/costs?year=Y&by=level|month|department|customer|category`.
async fn costs(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CostsQuery>,
) -> Result<Response, ApiError> {
    let year = parse_year(&state, q.year.as_deref())?;
    let by = match q.by.as_deref() {
        None => CostDimension::Level,
        Some(s) => CostDimension::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "by",
                format!(
                    "by must be one of level, month, department, customer, category; got {s:?}"
                ),
            )
        })?,
    };
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    Ok(answer(&caller, to_json(&read.costs(year, by))?))
}

/// `GET /api/v1/costs/export.csv?year=Y`: UTF-8 with a byte-order mark, as an attachment.
async fn costs_csv(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<CostsQuery>,
) -> Result<Response, ApiError> {
    let year = parse_year(&state, q.year.as_deref())?;
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    let mut csv = read.costs_csv(year);
    if !csv.starts_with(b"\xEF\xBB\xBF") {
        csv.splice(0..0, *b"\xEF\xBB\xBF");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"costs-{year}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// `?q=...&min_seq=S`.
#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    min_seq: Option<u64>,
}

/// Longest search text accepted.
const MAX_SEARCH_LEN: usize = 200;

/// `GET /api/v1/customers?q=`: `{"customers": [summary...]}` (summaries carry no phones).
async fn customers(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    if q.q.chars().count() > MAX_SEARCH_LEN {
        return Err(ApiError::invalid(
            "q",
            format!("q must be at most {MAX_SEARCH_LEN} characters"),
        ));
    }
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    let found = read.search_customers(&q.q);
    Ok(answer(
        &caller,
        json!({ "q": q.q, "customers": to_json(&found)? }),
    ))
}

/// `GET /api/v1/customers/{id}`: the archive of one customer; phones omitted for analysts.
async fn customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    let profile = read
        .customer(&id, caller.hides_phones())
        .ok_or_else(|| ApiError::NotFound {
            message: format!("no customer with id {id:?}"),
            field: Some("id".into()),
        })?;
    Ok(answer(&caller, to_json(&profile)?))
}

/// `?status=open|resolved|closed|all&min_seq=S`.
#[derive(Debug, Deserialize)]
struct ComplaintsQuery {
    status: Option<String>,
    min_seq: Option<u64>,
}

/// `GET /api/v1/complaints?status=open`: `{"complaints": [...]}` with their clocks.
async fn complaints(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ComplaintsQuery>,
) -> Result<Response, ApiError> {
    let status = q.status.as_deref().unwrap_or("all");
    if !["open", "resolved", "closed", "all"].contains(&status) {
        return Err(ApiError::invalid(
            "status",
            format!("status must be one of open, resolved, closed, all; got {status:?}"),
        ));
    }
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    let list: Vec<_> = read
        .complaints(status == "open", now(&state))
        .into_iter()
        .filter(|c| status == "all" || c.status == status)
        .collect();
    Ok(answer(
        &caller,
        json!({ "status": status, "complaints": to_json(&list)? }),
    ))
}

/// `?month=YYYY-MM&min_seq=S`.
#[derive(Debug, Deserialize)]
struct ReportQuery {
    month: Option<String>,
    min_seq: Option<u64>,
}

/// Parses `YYYY-MM`.
fn parse_month(raw: &str) -> Result<(i32, u32), ApiError> {
    let bad = || {
        ApiError::invalid(
            "month",
            format!("month must be YYYY-MM (e.g. 2026-11), got {raw:?}"),
        )
    };
    let (y, m) = raw.split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) || y < 1900 {
        return Err(bad());
    }
    Ok((y, m))
}

/// `GET /api/v1/complaints/report?month=YYYY-MM`: the C7 analysis; the current month
/// (business time zone) when absent.
async fn complaint_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let (year, month) = match q.month.as_deref() {
        Some(raw) => parse_month(raw)?,
        None => {
            let n = state.app.now();
            (n.year(), n.month())
        }
    };
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    let report = read.complaint_report(year, month, now(&state));
    Ok(answer(&caller, to_json(&report)?))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly() {
        assert_eq!(parse_month("2026-11").unwrap(), (2026, 11));
        for bad in [
            "2026-13", "2026-1", "26-11", "2026/11", "", "2026-00", "abcd-ef",
        ] {
            let e = parse_month(bad).unwrap_err();
            assert_eq!(e.body().error.field.as_deref(), Some("month"), "{bad}");
        }
    }
}
