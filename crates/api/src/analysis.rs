//! Analyses beyond the cost cube: the what-if policy simulation
//! (`POST /api/v1/analysis/what-if`) and the return-call and satisfaction report
//! (`GET /api/v1/reports/return-calls`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use chrono::Datelike;
use reception_domain::access::Area;
use reception_domain::policy_book::{LevelPolicy, Policy};
use reception_domain::visit::{rejudge, Rejudged};
use reception_projections::{ReturnCallsBy, WhatIfVisit};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::doc::{integer, min_seq_param, one_of, query_param, QueryErrors};
use crate::common::{
    answer, read_side, to_json, typed, wait_for_read_side, ApiError, AppState, Caller, JsonBody,
    Query,
};
use crate::costs::{parse_year, year_param};
use crate::me::require_read;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(what_if))
        .routes(routes!(return_calls))
}

/// The body of a what-if: a proposed policy's levels (a published policy's whole
/// document is accepted too; its version and date are ignored) and the year to judge.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WhatIfBody {
    year: i32,
    policy: ProposedPolicy,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    min_seq: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposedPolicy {
    levels: Vec<LevelPolicy>,
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<u32>,
    #[serde(default)]
    #[allow(dead_code)]
    effective_from: Option<serde_json::Value>,
}

/// `POST /api/v1/analysis/what-if` (documentation of the body).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct WhatIfRequest {
    /// The calendar year whose expenses are judged (by spend date, company time zone).
    #[schema(minimum = 2000, maximum = 2200)]
    year: i32,
    /// `{"levels": [...]}`: levels as in a published policy; a level left out keeps its
    /// actual caps.
    #[schema(value_type = ProposedPolicyDoc)]
    policy: serde_json::Value,
    /// Group by `level` (default), `category`, `month` or `department` (cost-bearing).
    #[schema(pattern = "^(level|category|month|department)$")]
    by: Option<String>,
    /// Read-your-writes.
    min_seq: Option<u64>,
}

/// The proposed policy of a what-if: levels as `POST /api/v1/policy` publishes them.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ProposedPolicyDoc {
    /// Each as a level of a published policy (`GET /api/v1/policy`).
    #[schema(min_items = 1)]
    levels: Vec<LevelPolicyRef>,
}

crate::common::doc::schemars_schema!(
    /// The policy document's `LevelPolicy` component (from the domain's schema).
    LevelPolicyRef = "LevelPolicy"
);

/// What-if figures of a set of expenses.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
struct Side {
    /// Expenses judged over cap (whole amounts).
    over_cap_fen: i64,
    over_cap_count: i64,
    /// Company spending above the caps.
    excess_fen: i64,
}

/// One group of the what-if.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
struct WhatIfGroup {
    key: String,
    /// Company-paid expenses against a booking or gift cap.
    count: i64,
    judged_fen: i64,
    actual_over_cap_fen: i64,
    proposed_over_cap_fen: i64,
    actual_over_cap_count: i64,
    proposed_over_cap_count: i64,
    /// Over cap under the proposal, within cap as recorded.
    newly_over_cap: i64,
    /// Over cap as recorded, within cap under the proposal.
    no_longer_over_cap: i64,
    /// Company spending above the actual caps.
    actual_excess_fen: i64,
    /// Company spending above the proposed caps: what paying no more than the proposed
    /// caps would have saved.
    savings_fen: i64,
}

/// `POST /api/v1/analysis/what-if`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct WhatIfReport {
    year: i32,
    by: String,
    /// Visits with an expense in the year.
    visits: usize,
    /// Company-paid expenses against a booking or gift cap, and their sum.
    count: i64,
    judged_fen: i64,
    actual: Side,
    proposed: Side,
    groups: Vec<WhatIfGroup>,
    /// `proposed.excess_fen`: what paying no more than the proposed caps would have
    /// saved.
    savings_fen: i64,
}

/// What the what-if groups by.
#[derive(Clone, Copy)]
enum WhatIfBy {
    Level,
    Category,
    Month,
    Department,
}

impl WhatIfBy {
    fn parse(s: Option<&str>) -> Result<(WhatIfBy, &'static str), ApiError> {
        Ok(match s.unwrap_or("level") {
            "level" => (WhatIfBy::Level, "level"),
            "category" => (WhatIfBy::Category, "category"),
            "month" => (WhatIfBy::Month, "month"),
            "department" => (WhatIfBy::Department, "department"),
            other => {
                return Err(ApiError::invalid(
                    "by",
                    format!("by must be level, category, month or department; got {other:?}"),
                ))
            }
        })
    }

    fn key(self, department: &str, e: &Rejudged<String>, month: String) -> String {
        match self {
            WhatIfBy::Level => e.level.as_ref().map_or("", |l| l.as_str()).to_string(),
            WhatIfBy::Category => serde_json::to_value(e.category)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            WhatIfBy::Month => month,
            WhatIfBy::Department => department.to_string(),
        }
    }
}

/// Judge the year's expenses under a proposed policy; nothing is written.
#[utoipa::path(post, path = "/api/v1/analysis/what-if", tag = "analysis",
    summary = "what-if: the year's expenses judged under a proposed policy (never published, nothing written)",
    description = "Each company-paid expense against a booking (meal, entertainment, lodging) or a gift is judged as V17/V25 judged it when recorded, with the proposed level's cap for its booking: over cap when the company's spending on the booking, this expense included, passes the cap. Reversed expenses and their reversals are left out. `savings_fen` is the company spending above the proposed caps. Roles: admin, analyst.",
    security(("bearer" = [])),
    request_body = WhatIfRequest,
    responses((status = 200, description = "actual against proposed, per group", body = WhatIfReport), QueryErrors))]
async fn what_if(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    require_read(&caller, Area::Analysis)?;
    reception_domain::bounds::check(&body)?;
    let body: WhatIfBody = typed(body)?;
    if !(2000..=2200).contains(&body.year) {
        return Err(ApiError::invalid(
            "year",
            format!("year must be from 2000 to 2200, got {}", body.year),
        ));
    }
    let (by, by_name) = WhatIfBy::parse(body.by.as_deref())?;
    let proposal = Policy {
        version: 1,
        effective_from: state.app.now(),
        levels: body.policy.levels,
    };
    proposal.validate().map_err(|mut e| {
        e.field = e.field.map(|f| format!("policy.{f}"));
        ApiError::from(e)
    })?;
    let read = read_side(&state)?;
    wait_for_read_side(read, body.min_seq).await?;
    let spending = read.visits_spending_in(body.year).len();
    let visits = read.what_if_visits(body.year);
    let tz = state.app.tz();
    let year = body.year;
    let report = tokio::task::spawn_blocking(move || {
        let groups = judge_year(&visits, &proposal.levels, tz, year, by);
        report_of(groups, year, by_name, spending)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("what-if: {e}")))?;
    Ok(answer(&caller, to_json(&report)?))
}

/// The rejudged expenses spent in `year`, summed by group. Judging is arithmetic over
/// the cost model's memory: the visits' capped expenses with their bookings' cap bases.
fn judge_year<Z: chrono::TimeZone>(
    visits: &[WhatIfVisit],
    proposed: &[LevelPolicy],
    tz: Z,
    year: i32,
    by: WhatIfBy,
) -> BTreeMap<String, WhatIfGroup> {
    let mut groups: BTreeMap<String, WhatIfGroup> = BTreeMap::new();
    for visit in visits {
        for e in rejudge(visit.expenses.iter().cloned(), proposed) {
            let local = e.spent_at.with_timezone(&tz);
            if local.year() != year {
                continue;
            }
            let month = format!("{:04}-{:02}", local.year(), local.month());
            add(
                groups
                    .entry(by.key(&visit.department, &e, month))
                    .or_default(),
                &e,
            );
        }
    }
    groups
}

/// The report: the groups and their sums. `visits`: the visits with any expense spent
/// in the year.
fn report_of(
    groups: BTreeMap<String, WhatIfGroup>,
    year: i32,
    by_name: &str,
    visits: usize,
) -> WhatIfReport {
    let mut report = WhatIfReport {
        year,
        by: by_name.to_string(),
        visits,
        count: 0,
        judged_fen: 0,
        actual: Side::default(),
        proposed: Side::default(),
        groups: Vec::with_capacity(groups.len()),
        savings_fen: 0,
    };
    for (key, mut g) in groups {
        g.key = key;
        merge_side(&mut report, &g);
        report.groups.push(g);
    }
    report.savings_fen = report.proposed.excess_fen;
    report
}

fn merge_side(report: &mut WhatIfReport, g: &WhatIfGroup) {
    report.count = report.count.saturating_add(g.count);
    report.judged_fen = report.judged_fen.saturating_add(g.judged_fen);
    report.actual.over_cap_fen = report
        .actual
        .over_cap_fen
        .saturating_add(g.actual_over_cap_fen);
    report.proposed.over_cap_fen = report
        .proposed
        .over_cap_fen
        .saturating_add(g.proposed_over_cap_fen);
    report.actual.over_cap_count = report
        .actual
        .over_cap_count
        .saturating_add(g.actual_over_cap_count);
    report.proposed.over_cap_count = report
        .proposed
        .over_cap_count
        .saturating_add(g.proposed_over_cap_count);
    report.actual.excess_fen = report.actual.excess_fen.saturating_add(g.actual_excess_fen);
    report.proposed.excess_fen = report.proposed.excess_fen.saturating_add(g.savings_fen);
}

/// Sums saturate: amounts are bounded per expense, but a model fed by a foreign log may
/// hold any `i64`.
fn add(g: &mut WhatIfGroup, e: &Rejudged<String>) {
    g.count += 1;
    g.judged_fen = g.judged_fen.saturating_add(e.amount_fen);
    if e.actual_over_cap {
        g.actual_over_cap_fen = g.actual_over_cap_fen.saturating_add(e.amount_fen);
        g.actual_over_cap_count += 1;
    }
    if e.proposed_over_cap {
        g.proposed_over_cap_fen = g.proposed_over_cap_fen.saturating_add(e.amount_fen);
        g.proposed_over_cap_count += 1;
    }
    if e.proposed_over_cap && !e.actual_over_cap {
        g.newly_over_cap += 1;
    }
    if e.actual_over_cap && !e.proposed_over_cap {
        g.no_longer_over_cap += 1;
    }
    g.actual_excess_fen = g.actual_excess_fen.saturating_add(e.actual_excess_fen);
    g.savings_fen = g.savings_fen.saturating_add(e.proposed_excess_fen);
}

/// `?year=Y&by=level|host|month&limit=N&min_seq=S`.
#[derive(Debug, Deserialize)]
struct ReturnCallsQuery {
    year: Option<String>,
    by: Option<String>,
    limit: Option<usize>,
    min_seq: Option<u64>,
}

impl utoipa::IntoParams for ReturnCallsQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![
            year_param(),
            query_param(
                "by",
                "group by level (default), host or month of departure",
                one_of(&["level", "host", "month"]),
            ),
            query_param(
                "limit",
                "how many feedback texts to list, latest first (default 200)",
                integer(Some(0), Some(5000)),
            ),
            min_seq_param(),
        ]
    }
}

/// The figures of a set of departed visits (`reception_projections::CallFigures`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CallFigures {
    departed: i64,
    called: i64,
    reached: i64,
    unreachable: i64,
    pending: i64,
    reach_rate_permille: Option<i64>,
    arrived_safely: i64,
    not_arrived_safely: i64,
    /// Counts of satisfaction 1 … 5.
    satisfaction_counts: Vec<i64>,
    /// Mean satisfaction × 100.
    satisfaction_mean_x100: Option<i64>,
}

/// The figures of a group of departed visits.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CallGroup {
    key: String,
    #[serde(flatten)]
    figures: CallFigures,
}

/// `GET /api/v1/reports/return-calls`: the year's figures, the groups, and the
/// feedback texts.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ReturnCallReport {
    year: i32,
    by: String,
    #[serde(flatten)]
    totals: CallFigures,
    groups: Vec<CallGroup>,
    #[schema(value_type = Vec<Object>)]
    feedback: Vec<serde_json::Value>,
    feedback_total: usize,
}

/// `GET /api/v1/reports/return-calls?year=Y&by=level|host|month`.
#[utoipa::path(get, path = "/api/v1/reports/return-calls", tag = "analysis",
    summary = "return calls and satisfaction of the visits that departed in a year",
    description = "Reach rate, safe-arrival confirmations (V30), satisfaction by level, host or month of departure, and the feedback texts. Roles: admin, analyst.",
    security(("bearer" = [])),
    params(ReturnCallsQuery),
    responses((status = 200, description = "the report", body = ReturnCallReport), QueryErrors))]
async fn return_calls(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ReturnCallsQuery>,
) -> Result<Response, ApiError> {
    require_read(&caller, Area::Analysis)?;
    let year = parse_year(&state, q.year.as_deref())?;
    let by = match q.by.as_deref() {
        None => ReturnCallsBy::Level,
        Some(s) => ReturnCallsBy::parse(s).ok_or_else(|| {
            ApiError::invalid("by", format!("by must be level, host or month; got {s:?}"))
        })?,
    };
    let limit = q.limit.unwrap_or(200);
    if limit > 5000 {
        return Err(ApiError::invalid(
            "limit",
            format!("limit runs from 0 to 5000, got {limit}"),
        ));
    }
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    Ok(answer(
        &caller,
        to_json(&read.return_call_report(year, by, limit))?,
    ))
}
