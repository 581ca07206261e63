//! `/api/v1/customers`: searching the customer archive and one customer's archive
//! (phone numbers omitted for analysts).

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::doc::QueryErrors;

use crate::common::{
    answer, read_side, to_json, wait_for_read_side, ApiError, AppState, Caller, MinSeq, Query,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(customers))
        .routes(routes!(customer))
}

/// One customer found by a search (no phone numbers).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CustomerSummary {
    /// The normalized company name; use it with `GET /api/v1/customers/{id}`.
    customer_id: String,
    company: String,
    country: String,
    visits: u64,
    last_arrival: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Visitors whose names matched the query.
    matched_visitors: Vec<String>,
}

/// The customers matching `q`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CustomerSearch {
    q: String,
    customers: Vec<CustomerSummary>,
}

/// One customer's archive (`reception_projections::CustomerProfile`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = Object)]
#[allow(dead_code)]
struct CustomerProfile(serde_json::Value);

/// `?q=...&min_seq=S`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Company or visitor name (at most 200 characters).
    #[serde(default)]
    #[param(max_length = 200)]
    q: String,
    /// Read-your-writes: wait up to 5 s until this seq is applied, else 503
    /// `not_caught_up`.
    min_seq: Option<u64>,
}

/// Longest search text accepted.
const MAX_SEARCH_LEN: usize = 200;

/// `GET /api/v1/customers?q=`: `{"customers": [summary...]}` (summaries carry no phones).
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers",
    summary = "search the customer archive",
    security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, description = "the customers found", body = CustomerSearch), QueryErrors))]
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
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers",
    summary = "one customer's archive (analysts: no phone numbers)",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "customer id: the normalized company name (see GET /api/v1/customers)"), MinSeq),
    responses((status = 200, description = "the customer's archive", body = CustomerProfile), QueryErrors))]
async fn customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    // open follow-ups are judged overdue by the business clock (V28)
    let now = state.app.now().with_timezone(&chrono::Utc);
    let profile = read
        .customer_at(&id, caller.hides_phones(), now)
        .ok_or_else(|| ApiError::NotFound {
            message: format!("no customer with id {id:?}"),
            field: Some("id".into()),
        })?;
    Ok(answer(&caller, to_json(&profile)?))
}
