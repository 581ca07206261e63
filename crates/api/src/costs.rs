//! `/api/v1/costs`: the year's cost cube by one dimension or two crossed, budget
//! against actual, and the exports (group and line CSV, the workbook).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use reception_domain::access::Area;
use reception_projections::{BudgetBy, CostDimension};
use serde::Deserialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
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
        .routes(routes!(costs_budget))
        .routes(routes!(costs_csv))
        .routes(routes!(costs_xlsx))
}

/// `key`: a string for one dimension, `[a, b]` for two.
fn key_schema() -> Schema {
    let text = || ObjectBuilder::new().schema_type(Type::String);
    Schema::OneOf(
        OneOfBuilder::new()
            .item(text())
            .item(
                ArrayBuilder::new()
                    .items(text())
                    .min_items(Some(2))
                    .max_items(Some(2)),
            )
            .description(Some(
                "the group's value of the dimension; `[a, b]` in the order of `by` when two \
                 dimensions are crossed",
            ))
            .build(),
    )
}

/// Every figure of one group of expenses. Amounts are integer fen; an expense's
/// reversal counts negatively in the group of its original.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CostGroup {
    #[schema(schema_with = key_schema)]
    key: String,
    /// Sum of the group's expenses, reversals subtracted.
    total_fen: i64,
    /// Of the total, paid by the company (`paid_by` company).
    company_paid_fen: i64,
    /// Of the total, paid by the visitor.
    visitor_paid_fen: i64,
    /// Expenses flagged over their cap (V17), whatever the decision:
    /// approved + rejected + pending.
    over_cap_fen: i64,
    /// Expenses, reversed ones and their reversals netting out.
    count: i64,
    /// Over cap and approved by an approver.
    over_cap_approved_fen: i64,
    /// Over cap and rejected (the spender reimburses).
    over_cap_rejected_fen: i64,
    /// Over cap, not decided yet.
    over_cap_pending_fen: i64,
    /// Headcount × days (at least one) of the visits arriving in the year that match
    /// the group's visit dimensions (month of arrival, level, cost-bearing department,
    /// customer, host); category and subcategory do not narrow it.
    visitor_days: i64,
    /// `total_fen ÷ visitor_days`, rounded half-up; null without visitor-days.
    per_visitor_day_fen: Option<i64>,
    /// Company spend judged against a cap ÷ the sum of those caps (a booking's cap
    /// counted once, in the group of its first capped expense), in per mille,
    /// rounded half-up; null when nothing in the group was capped.
    cap_utilisation_permille: Option<i64>,
    /// The same group's `total_fen` in the year before (0 when it had none).
    previous_year_total_fen: i64,
}

/// A year's cost analysis by one dimension or two crossed
/// (`reception_projections::CostReport`). Expenses count in the year and month of
/// their `spent_at` in the company's time zone.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CostReport {
    year: i32,
    /// The dimensions grouped by, as asked: `level` or `department,month`.
    by: String,
    total_fen: i64,
    /// Groups with at least one expense, sorted by key.
    groups: Vec<CostGroup>,
    company_paid_fen: i64,
    visitor_paid_fen: i64,
    count: i64,
    within_cap_fen: i64,
    over_cap_fen: i64,
    over_cap_pending_fen: i64,
    over_cap_approved_fen: i64,
    over_cap_rejected_fen: i64,
    capped_spent_fen: i64,
    cap_total_fen: i64,
    /// The year's capped spend ÷ caps in per mille, rounded down.
    cap_utilisation_permille: Option<i64>,
    visitor_days: i64,
    /// The year's total ÷ visitor-days, rounded down.
    cost_per_visitor_day_fen: Option<i64>,
    previous_year_total_fen: i64,
    change_vs_previous_permille: Option<i64>,
}

/// One cost-bearing department's approved budgets against actual.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct BudgetGroup {
    /// The cost-bearing department (`cost_department`, else the requesting one).
    department: String,
    budget_fen: i64,
    actual_fen: i64,
    /// `actual_fen − budget_fen`.
    difference_fen: i64,
    visits_with_budget: i64,
    visits_over_budget: i64,
    visits_without_budget: i64,
    /// Company spend on the visits without an approved budget.
    without_budget_actual_fen: i64,
}

/// One visit's approved budget against actual.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct BudgetVisit {
    visit_id: String,
    customer: String,
    level: String,
    /// The cost-bearing department.
    department: String,
    /// The request's `budget_fen` once approved (a level assigned); null otherwise.
    budget_fen: Option<i64>,
    /// Company-paid spend on the visit, reversals subtracted, whenever spent.
    actual_fen: i64,
    /// `actual_fen − budget_fen`; null without a budget.
    difference_fen: Option<i64>,
    /// `actual_fen > budget_fen` (V22); false without a budget.
    over_budget: bool,
}

/// Budget against actual of the visits arriving in the year (company time zone).
/// Visits without an approved budget are counted apart, never as over budget.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct BudgetReport {
    year: i32,
    /// `department` or `visit`.
    by: String,
    /// Sum of the approved budgets.
    budget_fen: i64,
    /// Company spend on the visits with a budget.
    actual_fen: i64,
    difference_fen: i64,
    visits_with_budget: i64,
    visits_over_budget: i64,
    visits_without_budget: i64,
    without_budget_actual_fen: i64,
    /// With `by=department`: per cost-bearing department, sorted by name.
    groups: Option<Vec<BudgetGroup>>,
    /// With `by=visit`: every visit of the year, sorted by id.
    visits: Option<Vec<BudgetVisit>>,
    /// The visits over budget, the largest overrun first.
    over_budget: Vec<BudgetVisit>,
}

/// `?year=Y&by=...&lines=...&min_seq=S`.
#[derive(Debug, Deserialize)]
struct CostsQuery {
    year: Option<String>,
    by: Option<String>,
    lines: Option<String>,
    min_seq: Option<u64>,
}

pub(crate) fn year_param() -> utoipa::openapi::path::Parameter {
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
                &format!(
                    "one dimension, or two crossed separated by a comma (`department,month`), \
                     of: {} (default level)",
                    dims.join(", ")
                ),
                one_of(
                    &by_values(&dims)
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                ),
            ),
            min_seq_param(),
        ]
    }
}

/// Every `by` the cost analysis takes: each dimension, and each ordered pair of two
/// different ones.
fn by_values(dims: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    for a in dims {
        for b in dims.iter().filter(|b| *b != a) {
            out.push(format!("{a},{b}"));
        }
    }
    out
}

/// `?year=Y&by=department|visit&min_seq=S` of the budget.
struct BudgetQuery;

impl utoipa::IntoParams for BudgetQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![
            year_param(),
            query_param(
                "by",
                "per cost-bearing department or per visit (default department)",
                one_of(&["department", "visit"]),
            ),
            min_seq_param(),
        ]
    }
}

/// `?year=Y&lines=true&min_seq=S` of the CSV export.
struct CsvQuery;

impl utoipa::IntoParams for CsvQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![
            year_param(),
            query_param(
                "lines",
                "true: one line per expense instead of the groups of every dimension",
                one_of(&["true", "false"]),
            ),
            min_seq_param(),
        ]
    }
}

/// `?year=Y&min_seq=S` of the workbook.
struct XlsxQuery;

impl utoipa::IntoParams for XlsxQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![year_param(), min_seq_param()]
    }
}

/// A calendar year 1900–9999; the current one (business time zone) when absent.
pub(crate) fn parse_year(state: &AppState, raw: Option<&str>) -> Result<i32, ApiError> {
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

/// `by=A` or `by=A,B`: one dimension, or two different ones.
fn parse_by(raw: Option<&str>) -> Result<(CostDimension, Option<CostDimension>), ApiError> {
    let Some(raw) = raw else {
        return Ok((CostDimension::Level, None));
    };
    let names = || {
        CostDimension::ALL
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let parts: Vec<&str> = raw.split(',').map(str::trim).collect();
    if parts.len() > 2 {
        return Err(ApiError::invalid(
            "by",
            format!(
                "by takes one dimension or two crossed, got {} in {raw:?}",
                parts.len()
            ),
        ));
    }
    let mut dims = Vec::with_capacity(2);
    for p in &parts {
        let d = CostDimension::parse(p).ok_or_else(|| {
            ApiError::invalid(
                "by",
                format!("by must name dimensions of {}; got {p:?}", names()),
            )
        })?;
        if dims.contains(&d) {
            return Err(ApiError::invalid(
                "by",
                format!("by names {p:?} twice; cross two different dimensions"),
            ));
        }
        dims.push(d);
    }
    Ok((dims[0], dims.get(1).copied()))
}

/// `GET /api/v1/costs?year=Y&by=A[,B]`.
#[utoipa::path(get, path = "/api/v1/costs", tag = "costs",
    summary = "cost analysis of a year by one dimension or two crossed",
    security(("bearer" = [])),
    params(CostsQuery),
    responses((status = 200, description = "the year's costs by the dimensions", body = CostReport), QueryErrors))]
async fn costs(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CostsQuery>,
) -> Result<Response, ApiError> {
    require_read(&caller, Area::Costs)?;
    let year = parse_year(&state, q.year.as_deref())?;
    let (by, then) = parse_by(q.by.as_deref())?;
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    Ok(answer(&caller, to_json(&read.costs_by(year, by, then))?))
}

/// `GET /api/v1/costs/budget?year=Y&by=department|visit`.
#[utoipa::path(get, path = "/api/v1/costs/budget", tag = "costs",
    summary = "approved budget against actual spend (V22), per department or per visit",
    security(("bearer" = [])),
    params(BudgetQuery),
    responses((status = 200, description = "the year's budgets against actual", body = BudgetReport), QueryErrors))]
async fn costs_budget(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CostsQuery>,
) -> Result<Response, ApiError> {
    require_read(&caller, Area::Costs)?;
    let year = parse_year(&state, q.year.as_deref())?;
    let by = match q.by.as_deref() {
        None | Some("department") => BudgetBy::Department,
        Some("visit") => BudgetBy::Visit,
        Some(s) => {
            return Err(ApiError::invalid(
                "by",
                format!("by must be department or visit; got {s:?}"),
            ))
        }
    };
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    Ok(answer(&caller, to_json(&read.costs_budget(year, by))?))
}

/// `GET /api/v1/costs/export.csv?year=Y[&lines=true]`: UTF-8 with a byte-order mark,
/// as an attachment; text cells that a spreadsheet would run as a formula are
/// prefixed with `'`.
#[utoipa::path(get, path = "/api/v1/costs/export.csv", tag = "costs",
    summary = "the year's costs as CSV: the groups of every dimension, or one line per expense (UTF-8 with BOM, attachment)",
    description = "lines=true columns: expense_id, visit_id, customer, level, department (cost-bearing), host, category, subcategory, description, vendor, spent_at (RFC 3339 with the company's offset; a reversal carries its original's), amount_fen (negative for a reversal), amount_yuan, payer (company/visitor), cap (within/over/uncapped), decision (approved/rejected/pending/none), reverses (the reversed expense's id). A text cell starting with =, +, -, @, tab or CR is prefixed with '.",
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
    let lines = match q.lines.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(s) => {
            return Err(ApiError::invalid(
                "lines",
                format!("lines must be true or false; got {s:?}"),
            ))
        }
    };
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    let (csv, name) = if lines {
        (read.costs_lines_csv(year), format!("cost-lines-{year}.csv"))
    } else {
        (read.costs_csv(year), format!("costs-{year}.csv"))
    };
    Ok(attachment("text/csv; charset=utf-8", &name, csv))
}

/// `GET /api/v1/costs/export.xlsx?year=Y`.
#[utoipa::path(get, path = "/api/v1/costs/export.xlsx", tag = "costs",
    summary = "the year's costs as an Excel workbook (attachment)",
    description = "Sheets `by month`, `by level`, `by department`, `by category` (the columns of a group of GET /api/v1/costs) and `lines` (the columns of export.csv?lines=true without amount_yuan). Amounts are numbers in fen; text is stored as text, never as a formula.",
    security(("bearer" = [])),
    params(XlsxQuery),
    responses((status = 200, description = "the workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), QueryErrors))]
async fn costs_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CostsQuery>,
) -> Result<Response, ApiError> {
    require_read(&caller, Area::Costs)?;
    let year = parse_year(&state, q.year.as_deref())?;
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    let book = read
        .costs_xlsx(year)
        .map_err(|e| ApiError::Internal(format!("writing the workbook: {e}")))?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("costs-{year}.xlsx"),
        book,
    ))
}

fn attachment(content_type: &str, name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}
