//! `/api/v1/costs`: the year's cost analysis by a dimension and its CSV export.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Datelike;
use reception_projections::CostDimension;
use serde::Deserialize;

use crate::common::{
    answer, read_side, to_json, wait_for_read_side, ApiError, AppState, Caller, Query,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/costs", get(costs))
        .route("/api/v1/costs/export.csv", get(costs_csv))
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
