//! `/api/v1/visits`: filing a visit, its commands, its state (with flags, deadlines and
//! next step) and its history.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, FixedOffset};
use reception_app::{App, Target};
use reception_domain::deadlines::{next_step, visit_deadlines, visit_flags};
use reception_domain::visit::Visit;
use reception_domain::Aggregate;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::common::command::{run, CommandCall};
use crate::common::doc::{
    command_component, command_names, schemars_schema, CommandErrors, CommandRoute, HistoryDoc,
    Outcome, QueryErrors,
};
use crate::common::history::{history_of, HistoryQuery};
use crate::common::{
    answer, parse_id, to_json, wait_for_head, ApiError, AppState, Caller, CommandHeaders, JsonBody,
    MinSeq, Query,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(file_visit))
        .routes(routes!(visit_command))
        .routes(routes!(visit_state))
        .routes(routes!(visit_history))
}

/// `POST /api/v1/visits/{id}/{command}`: one path per visit command in the document.
pub(crate) const COMMAND_ROUTE: CommandRoute = CommandRoute {
    template: "/api/v1/visits/{id}/{command}",
    kind: Visit::KIND,
    names: command_names::<Visit>,
    reserved: "request",
};

schemars_schema!(
    /// The body of `request` (the domain's schema).
    RequestBody = command_component(Visit::KIND, "request")
);

/// A visit's state (the domain's `Visit`) with its id, `flags`, `deadlines`, next step
/// and due time, all at `now`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct VisitView {
    id: Uuid,
    /// The V-rule flags raised at `now` (late car, souvenir not handed, ...).
    flags: Vec<serde_json::Value>,
    /// The deadlines of the visit's rules at `now`.
    #[schema(value_type = Vec<Object>)]
    deadlines: Vec<serde_json::Value>,
    /// The next action the visit waits for (`null`: none).
    next_step: Option<String>,
    /// When the next step is due (`null`: no deadline).
    next_due: Option<DateTime<FixedOffset>>,
    /// The business clock's reading the flags are computed at.
    now: DateTime<FixedOffset>,
}

/// File a visit (`request`).
#[utoipa::path(post, path = "/api/v1/visits", tag = "visits",
    description = "Roles: as API.md lists; enforced by the domain (403 otherwise).",
    security(("bearer" = [])),
    params(CommandHeaders),
    request_body = RequestBody,
    responses((status = 201, description = "created: the command's events", body = Outcome), CommandErrors))]
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
        linked_visit: None,
    };
    run::<Visit>(&state, &caller, call).await
}

/// One command on a visit; the document lists each command as its own path.
#[utoipa::path(post, path = "/api/v1/visits/{id}/{command}", tag = "visits",
    description = "Roles: as API.md lists; enforced by the domain (403 otherwise).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the visit's id"),
           ("command" = String, Path, description = "the command's name"), CommandHeaders),
    responses((status = 200, description = "the command's events", body = Outcome),
              (status = 201, description = "the command created its stream", body = Outcome),
              CommandErrors))]
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
        linked_visit: None,
    };
    run::<Visit>(&state, &caller, call).await
}

/// `GET /api/v1/visits/{id}`: state plus `flags`, `deadlines` and `next_step` at now.
#[utoipa::path(get, path = "/api/v1/visits/{id}", tag = "visits",
    summary = "a visit's current state with flags, deadlines and next step",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the visit's id"), MinSeq),
    responses((status = 200, description = "the visit at now", body = VisitView), QueryErrors))]
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
#[utoipa::path(get, path = "/api/v1/visits/{id}/history", tag = "audit",
    summary = "a visit's events and state, as of a time",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the visit's id"), HistoryQuery),
    responses((status = 200, description = "the visit's events and state", body = HistoryDoc), QueryErrors))]
async fn visit_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id("visit", &id)?;
    history_of::<Visit>(&state, &caller, &App::stream_name::<Visit>(id), q).await
}
