//! `/api/v1/complaints`: raising a complaint, its commands and history, the lists by
//! status and the monthly report (C7).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{Datelike, Utc};
use reception_app::{App, Target};
use reception_domain::complaint::Complaint;
use serde::Deserialize;
use serde_json::json;

use crate::common::command::{run, CommandCall};
use crate::common::history::{history_of, HistoryQuery};
use crate::common::{
    answer, parse_id, read_side, to_json, wait_for_read_side, ApiError, AppState, Caller,
    CommandHeaders, JsonBody, Query,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/complaints", post(raise_complaint).get(complaints))
        .route("/api/v1/complaints/{id}/{command}", post(complaint_command))
        .route("/api/v1/complaints/{id}", get(complaint_state))
        .route("/api/v1/complaints/report", get(complaint_report))
}

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
    };
    run::<Complaint>(&state, &caller, call).await
}

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
    };
    run::<Complaint>(&state, &caller, call).await
}

/// `GET /api/v1/complaints/{id}`: one complaint's history and state (extension).
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
    let report = read.complaint_report(year, month, state.app.now().with_timezone(&Utc));
    Ok(answer(&caller, to_json(&report)?))
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
