//! One stream's events and state as of a time (`?as_of=T&min_seq=S`), shared by the
//! visit, complaint and sign-in routes.

use axum::response::Response;
use chrono::{DateTime, FixedOffset, Utc};
use reception_app::Loaded;
use reception_domain::Aggregate;
use reception_store::Envelope;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::Caller;
use super::respond::{answer, parse_time, to_json};
use super::state::AppState;
use super::wait::wait_for_head;

/// `?as_of=T&min_seq=S`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// RFC 3339 time with offset: the events recorded up to it and the state they
    /// produce.
    #[param(format = DateTime)]
    pub as_of: Option<String>,
    /// Read-your-writes: wait up to 5 s until this seq is applied, else 503
    /// `not_caught_up`.
    pub min_seq: Option<u64>,
}

/// `{"stream", "as_of", "events", "state"}` of `stream` as of `q.as_of`.
pub async fn history_of<A: Aggregate>(
    state: &AppState,
    caller: &Caller,
    stream: &str,
    q: HistoryQuery,
) -> Result<Response, ApiError> {
    let (as_of, loaded) = load_history::<A>(state, stream, q).await?;
    Ok(answer(caller, history_body(as_of, &loaded)?))
}

/// The `as_of` asked for, and the events of `stream` recorded up to it with the state
/// they produce (after waiting for `q.min_seq`).
pub async fn load_history<A: Aggregate>(
    state: &AppState,
    stream: &str,
    q: HistoryQuery,
) -> Result<(Option<DateTime<FixedOffset>>, Loaded<A>), ApiError> {
    let as_of = q
        .as_of
        .as_deref()
        .map(|t| parse_time("as_of", t))
        .transpose()?;
    wait_for_head(&state.app, q.min_seq).await?;
    let loaded = state
        .app
        .history::<A>(stream, as_of.map(|t| t.with_timezone(&Utc)))?;
    Ok((as_of, loaded))
}

/// The answer's body: `{"stream", "as_of", "events", "state"}`.
pub fn history_body<A: Aggregate>(
    as_of: Option<DateTime<FixedOffset>>,
    loaded: &Loaded<A>,
) -> Result<Value, ApiError> {
    Ok(json!({
        "stream": loaded.stream,
        "as_of": as_of,
        "events": to_json(&loaded.events)?,
        "state": to_json(&loaded.state)?,
    }))
}

/// The business clock's reading at the recording instant `as_of` (`None`: now), which
/// is when a state as of `as_of` is judged (its flags).
///
/// `as_of` selects events by when the store recorded them; rules read the business
/// clock, which is the wall clock in service but stands elsewhere for demo data
/// decided in the past and for tests. So the reading is taken from the last event
/// recorded by then: its business time (`occurred_at`) plus the time that passed
/// between its recording and `as_of`, and never later than `now` (a time to come
/// shows the present state, judged now). On a store written in service this is
/// `as_of` itself.
pub fn clock_at(
    events: &[Envelope],
    as_of: Option<DateTime<FixedOffset>>,
    now: DateTime<FixedOffset>,
) -> DateTime<FixedOffset> {
    let (Some(as_of), Some(last)) = (as_of, events.last()) else {
        return now;
    };
    let then = last.occurred_at + (as_of.with_timezone(&Utc) - last.recorded_at);
    then.min(now).with_timezone(now.offset())
}
