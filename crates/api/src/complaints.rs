//! `/api/v1/complaints`: raising a complaint, its commands and history, the lists by
//! status, the monthly report (C7) and the case library (C11).

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{Datelike, Utc};
use reception_app::{App, Target};
use reception_domain::complaint::Complaint;
use reception_domain::Aggregate;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::command::{run, CommandCall};
use crate::common::doc::{
    command_component, command_names, schemars_schema, CommandErrors, CommandRoute, HistoryDoc,
    Outcome, QueryErrors,
};
use crate::common::history::{history_of, HistoryQuery};
use crate::common::{
    answer, parse_id, read_side, to_json, wait_for_read_side, ApiError, AppState, Caller,
    CommandHeaders, JsonBody, Query,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(raise_complaint, complaints))
        .routes(routes!(complaint_command))
        .routes(routes!(complaint_state))
        .routes(routes!(complaint_report))
        .routes(routes!(complaint_cases))
}

/// `POST /api/v1/complaints/{id}/{command}`: one path per complaint command in the
/// document.
pub(crate) const COMMAND_ROUTE: CommandRoute = CommandRoute {
    template: "/api/v1/complaints/{id}/{command}",
    kind: Complaint::KIND,
    names: command_names::<Complaint>,
    reserved: "raise",
};

schemars_schema!(
    /// The body of `raise` (the domain's schema).
    RaiseBody = command_component(Complaint::KIND, "raise")
);

/// The complaints of one status with their clocks.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ComplaintList {
    /// The status asked for.
    status: String,
    #[schema(value_type = Vec<Object>)]
    complaints: Vec<serde_json::Value>,
}

/// The monthly complaint analysis (C7): the domain's `monthly_analysis`
/// (`reception_domain::complaint::ComplaintReport`). Ratios are per-mille integers and
/// null when there is nothing to divide by (nothing due is not 100 % compliance);
/// deadline figures count the valid complaints (C8), unjudged ones included.
#[derive(utoipa::ToSchema)]
#[schema(value_type = Object)]
#[allow(dead_code)]
struct ComplaintReport(serde_json::Value);

/// One case of the library (C11): the closed complaint with the title and lesson it
/// was added with.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Case {
    complaint_id: String,
    title: String,
    /// The lesson learned.
    lesson: String,
    added_at: chrono::DateTime<chrono::FixedOffset>,
    customer: String,
    category: String,
    /// `minor` or `major`, after any escalation.
    severity: String,
    description: String,
    department: Option<String>,
    /// C8: the judgement, when one was given.
    valid: Option<bool>,
    raised_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    closed_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// The case library, newest first, filtered by `q`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CaseLibrary {
    /// The search text asked for (empty: every case).
    q: String,
    cases: Vec<Case>,
}

/// Raise a complaint (`raise`).
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints",
    description = "Roles: as API.md lists; enforced by the domain (403 otherwise).",
    security(("bearer" = [])),
    params(CommandHeaders),
    request_body = RaiseBody,
    responses((status = 201, description = "created: the command's events", body = Outcome), CommandErrors))]
async fn raise_complaint(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let call = CommandCall {
        target: Target::Create,
        command: "raise",
        route: "POST /api/v1/complaints".into(),
        headers,
        body,
        linked_visit: None,
    };
    run::<Complaint>(&state, &caller, call).await
}

/// One command on a complaint; the document lists each command as its own path.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/{command}", tag = "complaints",
    description = "Roles: as API.md lists; enforced by the domain (403 otherwise).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the complaint's id"),
           ("command" = String, Path, description = "the command's name"), CommandHeaders),
    responses((status = 200, description = "the command's events", body = Outcome),
              (status = 201, description = "the command created its stream", body = Outcome),
              CommandErrors))]
async fn complaint_command(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, command)): Path<(String, String)>,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id("complaint", &id)?;
    if command == "raise" {
        return Err(ApiError::NotFound {
            message: "a complaint is raised with POST /api/v1/complaints".into(),
            field: Some("command".into()),
        });
    }
    let call = CommandCall {
        target: Target::Id(id),
        command: &command,
        route: format!("POST /api/v1/complaints/{{id}}/{command}"),
        headers,
        body,
        linked_visit: None,
    };
    run::<Complaint>(&state, &caller, call).await
}

/// `GET /api/v1/complaints/{id}`: one complaint's history and state (extension).
#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "complaints",
    summary = "a complaint's events and state",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the complaint's id"), HistoryQuery),
    responses((status = 200, description = "the complaint's events and state", body = HistoryDoc), QueryErrors))]
async fn complaint_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id("complaint", &id)?;
    history_of::<Complaint>(&state, &caller, &App::stream_name::<Complaint>(id), q).await
}

/// `?status=open|resolved|closed|all&min_seq=S`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ComplaintsQuery {
    /// `open`, `resolved`, `closed` or `all` (default).
    #[param(pattern = "^(open|resolved|closed|all)$")]
    status: Option<String>,
    /// Read-your-writes: wait up to 5 s until this seq is applied, else 503
    /// `not_caught_up`.
    min_seq: Option<u64>,
}

/// `GET /api/v1/complaints?status=open`: `{"complaints": [...]}` with their clocks.
#[utoipa::path(get, path = "/api/v1/complaints", tag = "complaints",
    summary = "complaints by status",
    security(("bearer" = [])),
    params(ComplaintsQuery),
    responses((status = 200, description = "the complaints", body = ComplaintList), QueryErrors))]
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
    let now = state.app.now().with_timezone(&Utc);
    let list: Vec<_> = read
        .complaints(status == "open", now)
        .into_iter()
        .filter(|c| status == "all" || c.status == status)
        .collect();
    Ok(answer(
        &caller,
        json!({ "status": status, "complaints": to_json(&list)? }),
    ))
}

/// `?month=YYYY-MM&min_seq=S`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    /// `YYYY-MM` from 1900 on (default: this month in the business time zone).
    #[param(pattern = "^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])$")]
    month: Option<String>,
    /// Read-your-writes: wait up to 5 s until this seq is applied, else 503
    /// `not_caught_up`.
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
#[utoipa::path(get, path = "/api/v1/complaints/report", tag = "complaints",
    summary = "monthly complaint analysis (C7)",
    security(("bearer" = [])),
    params(ReportQuery),
    responses((status = 200, description = "the month's analysis", body = ComplaintReport), QueryErrors))]
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
    let report = read.complaint_report(year, month, state.app.now().with_timezone(&Utc));
    Ok(answer(&caller, to_json(&report)?))
}

/// `?q=...&min_seq=S`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CasesQuery {
    /// Text to find, whatever the case of letters, in a case's title, lesson,
    /// description, customer or category (at most 200 characters; empty: every case).
    #[serde(default)]
    #[param(max_length = 200)]
    q: String,
    /// Read-your-writes: wait up to 5 s until this seq is applied, else 503
    /// `not_caught_up`.
    min_seq: Option<u64>,
}

/// Longest search text accepted.
const MAX_SEARCH_LEN: usize = 200;

/// `GET /api/v1/complaints/cases?q=`: the case library (C11), from the complaints read
/// model.
#[utoipa::path(get, path = "/api/v1/complaints/cases", tag = "complaints",
    summary = "the case library, searchable (C11)",
    security(("bearer" = [])),
    params(CasesQuery),
    responses((status = 200, description = "the cases found", body = CaseLibrary), QueryErrors))]
async fn complaint_cases(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CasesQuery>,
) -> Result<Response, ApiError> {
    if q.q.chars().count() > MAX_SEARCH_LEN {
        return Err(ApiError::invalid(
            "q",
            format!("q must be at most {MAX_SEARCH_LEN} characters"),
        ));
    }
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    let cases = read.complaint_cases(Some(&q.q));
    Ok(answer(
        &caller,
        json!({ "q": q.q, "cases": to_json(&cases)? }),
    ))
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
