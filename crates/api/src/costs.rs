//! `/api/v1/costs`: the year's cost analysis by a dimension and its CSV export.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use reception_domain::access::Area;
use reception_projections::CostDimension;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::doc::{integer, min_seq_param, one_of, query_param, QueryErrors};

use crate::common::{
    answer, read_side, to_json, wait_for_read_side, ApiError, AppState, Caller, Query,
};
use crate::me::require_read;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(costs))
        .routes(routes!(costs_csv))
}

/// Money of one group of expenses.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CostGroup {
    key: String,
    total_fen: i64,
    company_paid_fen: i64,
    visitor_paid_fen: i64,
    over_cap_fen: i64,
    count: i64,
}

/// A year's cost analysis by one dimension (`reception_projections::CostReport`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CostReport {
    year: i32,
    /// The dimension grouped by.
    by: String,
    total_fen: i64,
    groups: Vec<CostGroup>,
    company_paid_fen: i64,
    visitor_paid_fen: i64,
    count: i64,
}

/// `?year=Y&by=...&min_seq=S`.
#[derive(Debug, Deserialize)]
struct CostsQuery {
    year: Option<String>,
    by: Option<String>,
    min_seq: Option<u64>,
}

fn year_param() -> utoipa::openapi::path::Parameter {
    query_param(
        "year",
        "calendar year in the business time zone (default: this year)",
        integer(Some(1900), Some(9999)),
    )
}

impl utoipa::IntoParams for CostsQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let dims: Vec<&str> = CostDimension::ALL.iter().map(|d| d.as_str()).collect();
        vec![
            year_param(),
            query_param(
                "by",
                "the dimension to group by (default level)",
                one_of(&dims),
            ),
            min_seq_param(),
        ]
    }
}

/// `?year=Y&min_seq=S` of the CSV export.
struct CsvQuery;

impl utoipa::IntoParams for CsvQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![year_param(), min_seq_param()]
    }
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
#[utoipa::path(get, path = "/api/v1/costs", tag = "costs",
    summary = "cost analysis of a year",
    security(("bearer" = [])),
    params(CostsQuery),
    responses((status = 200, description = "the year's costs by the dimension", body = CostReport), QueryErrors))]
async fn costs(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CostsQuery>,
) -> Result<Response, ApiError> {
    require_read(&caller, Area::Costs)?;
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
#[utoipa::path(get, path = "/api/v1/costs/export.csv", tag = "costs",
    summary = "the year's cost analysis as CSV (UTF-8 with BOM, attachment)",
    security(("bearer" = [])),
    params(CsvQuery),
    responses((status = 200, description = "the CSV file", content_type = "text/csv", body = String), QueryErrors))]
async fn costs_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CostsQuery>,
) -> Result<Response, ApiError> {
    require_read(&caller, Area::Costs)?;
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
