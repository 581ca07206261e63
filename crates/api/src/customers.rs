//! `/api/v1/customers`: searching the customer archive and one customer's archive
//! (phone numbers omitted for analysts).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use crate::common::{
    answer, read_side, to_json, wait_for_read_side, ApiError, AppState, Caller, MinSeq, Query,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/customers", get(customers))
        .route("/api/v1/customers/{id}", get(customer))
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
