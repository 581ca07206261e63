//! One stream's events and state as of a time (`?as_of=T&min_seq=S`), shared by the
//! visit, complaint and sign-in routes.

use axum::response::Response;
use chrono::Utc;
use reception_domain::Aggregate;
use serde::Deserialize;
use serde_json::json;

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
