//! `/api/v1/visits`: filing a visit, its commands, its state (with flags, deadlines and
//! next step) and its history.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use reception_app::{App, Target};
use reception_domain::deadlines::{next_step, visit_deadlines, visit_flags};
use reception_domain::visit::Visit;
use serde_json::json;

use crate::common::command::{run, CommandCall};
use crate::common::history::{history_of, HistoryQuery};
use crate::common::{
    answer, parse_id, to_json, wait_for_head, ApiError, AppState, Caller, CommandHeaders, JsonBody,
    MinSeq, Query,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/visits", post(file_visit))
        .route("/api/v1/visits/{id}/{command}", post(visit_command))
        .route("/api/v1/visits/{id}", get(visit_state))
        .route("/api/v1/visits/{id}/history", get(visit_history))
}

async fn file_visit(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let call = CommandCall {
        target: Target::Create,
        command: "request",
        route: "POST /api/v1/visits".into(),
        headers,
        body,
    };
    run::<Visit>(&state, &caller, call).await
}

async fn visit_command(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, command)): Path<(String, String)>,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id("visit", &id)?;
    if command == "request" {
        return Err(ApiError::NotFound {
            message: "a visit is filed with POST /api/v1/visits".into(),
            field: Some("command".into()),
        });
    }
    let call = CommandCall {
        target: Target::Id(id),
        command: &command,
        route: format!("POST /api/v1/visits/{{id}}/{command}"),
        headers,
        body,
    };
    run::<Visit>(&state, &caller, call).await
}

/// `GET /api/v1/visits/{id}`: state plus `flags`, `deadlines` and `next_step` at now.
async fn visit_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    let id = parse_id("visit", &id)?;
    wait_for_head(&state.app, q.min_seq).await?;
    let loaded = state
        .app
        .history::<Visit>(&App::stream_name::<Visit>(id), None)?;
    let now = state.app.now();
    let visit = &loaded.state;
    let mut body = to_json(visit)?;
    let next = next_step(visit, now);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("id".into(), json!(id));
        obj.insert("flags".into(), to_json(&visit_flags(visit, now))?);
        obj.insert("deadlines".into(), to_json(&visit_deadlines(visit, now))?);
        obj.insert("next_step".into(), json!(next.as_ref().map(|(s, _)| s)));
        obj.insert(
            "next_due".into(),
            json!(next.as_ref().and_then(|(_, d)| *d)),
        );
        obj.insert("now".into(), json!(now));
    }
    Ok(answer(&caller, body))
}

/// `GET /api/v1/visits/{id}/history[?as_of=T]`.
async fn visit_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id("visit", &id)?;
    history_of::<Visit>(&state, &caller, &App::stream_name::<Visit>(id), q).await
}
