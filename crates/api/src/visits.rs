//! `/api/v1/visits`: filing a visit, the list of every visit, its commands, its state
//! (with flags, deadlines, preparation tasks and next step) and its history.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, FixedOffset};
use reception_app::{App, Target};
use reception_domain::deadlines::{next_step, visit_deadlines, visit_flags, visit_tasks};
use reception_domain::visit::Visit;
use reception_domain::Aggregate;
use reception_projections::{VisitFilter, VISIT_STAGES};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::common::command::{run, CommandCall};
use crate::common::doc::{
    command_component, command_names, integer, min_seq_param, one_of, query_param, schemars_schema,
    CommandErrors, CommandRoute, HistoryDoc, Outcome, QueryErrors,
};
use crate::common::history::{clock_at, history_body, load_history, HistoryQuery};
use crate::common::respond::parse_time;
use crate::common::{
    answer, parse_id, read_side, to_json, wait_for_head, wait_for_read_side, ApiError, AppState,
    Caller, CommandHeaders, JsonBody, MinSeq, Query,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(file_visit, list_visits))
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
    /// V26: the preparation tasks (`id`, `due`, `done_at`, `notes`, `overdue`); an id
    /// is what `complete-task` takes.
    #[schema(value_type = Vec<Object>)]
    tasks: Vec<serde_json::Value>,
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
        obj.insert("tasks".into(), to_json(&visit_tasks(visit, now))?);
        obj.insert("next_step".into(), json!(next.as_ref().map(|(s, _)| s)));
        obj.insert(
            "next_due".into(),
            json!(next.as_ref().and_then(|(_, d)| *d)),
        );
        obj.insert("now".into(), json!(now));
    }
    Ok(answer(&caller, body))
}

/// One visit of the list (`reception_projections::VisitSummary`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct VisitListItem {
    visit_id: Uuid,
    /// The customer company.
    customer: String,
    /// Its archive id (`GET /api/v1/customers/{id}`).
    customer_id: String,
    department: String,
    /// V22: who bears the cost.
    cost_department: String,
    level: Option<String>,
    /// The domain's stage.
    #[schema(value_type = String, pattern = "^(requested|preparing|on_site|departed|closed|cancelled|rejected)$")]
    stage: String,
    host: Option<String>,
    /// As planned (requested, amended or rescheduled).
    arrival: Option<DateTime<FixedOffset>>,
    departure: Option<DateTime<FixedOffset>>,
    headcount: i64,
    budget_fen: Option<i64>,
    /// Company-paid expenses, reversals netted.
    spend_fen: i64,
}

/// A page of every visit, latest planned arrival first.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct VisitList {
    visits: Vec<VisitListItem>,
    /// How many visits match the filters (all pages).
    total: u64,
    limit: u64,
    offset: u64,
}

/// Largest `limit` of a page of visits.
pub const VISITS_MAX_LIMIT: usize = 1000;
/// `limit` when the query gives none.
pub const VISITS_DEFAULT_LIMIT: usize = 50;
/// Longest `customer` text accepted (as the archive's search).
const MAX_CUSTOMER_LEN: usize = 200;

/// `?customer=&stage=&level=&department=&host=&from=&to=&limit=&offset=&min_seq=`, each
/// read as text so that a bad value is a 400 naming its parameter.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    customer: Option<String>,
    stage: Option<String>,
    level: Option<String>,
    department: Option<String>,
    host: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    min_seq: Option<u64>,
}

impl utoipa::IntoParams for ListQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let text =
            || utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String);
        let time = || {
            text().format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
        };
        vec![
            query_param(
                "customer",
                "part of the customer's name, forgiving case, spacing and punctuation",
                text().max_length(Some(MAX_CUSTOMER_LEN)),
            ),
            query_param("stage", "only visits in this stage", one_of(&VISIT_STAGES)),
            query_param("level", "only visits of this policy level", text()),
            query_param(
                "department",
                "only visits of this requesting department",
                text(),
            ),
            query_param("host", "only visits with this host", text()),
            query_param(
                "from",
                "planned arrival at or after this time (RFC 3339)",
                time(),
            ),
            query_param("to", "planned arrival before this time (RFC 3339)", time()),
            query_param(
                "limit",
                "at most this many visits (default 50)",
                integer(Some(1), Some(VISITS_MAX_LIMIT)),
            ),
            query_param(
                "offset",
                "skip this many matching visits",
                integer(Some(0), Some(crate::common::doc::MAX_OFFSET)),
            ),
            min_seq_param(),
        ]
    }
}

impl ListQuery {
    /// The filter and page asked for; a bad parameter is a 400 naming it.
    fn parse(&self) -> Result<(VisitFilter, usize, usize), ApiError> {
        let count = |field: &str, raw: &Option<String>, default: usize| match raw {
            None => Ok(default),
            Some(s) => s.trim().parse::<usize>().map_err(|_| {
                ApiError::invalid(field, format!("{field} must be a whole number, got {s:?}"))
            }),
        };
        let limit = count("limit", &self.limit, VISITS_DEFAULT_LIMIT)?;
        if limit == 0 || limit > VISITS_MAX_LIMIT {
            return Err(ApiError::invalid(
                "limit",
                format!("limit must be 1 to {VISITS_MAX_LIMIT}, got {limit}"),
            ));
        }
        let offset = count("offset", &self.offset, 0)?;
        crate::common::doc::check_offset(offset)?;
        if let Some(s) = self.stage.as_deref().filter(|s| !VISIT_STAGES.contains(s)) {
            return Err(ApiError::invalid(
                "stage",
                format!(
                    "stage must be one of {}; got {s:?}",
                    VISIT_STAGES.join(", ")
                ),
            ));
        }
        if self
            .customer
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_CUSTOMER_LEN)
        {
            return Err(ApiError::invalid(
                "customer",
                format!("customer must be at most {MAX_CUSTOMER_LEN} characters"),
            ));
        }
        let time = |field: &str, raw: &Option<String>| {
            raw.as_deref().map(|s| parse_time(field, s)).transpose()
        };
        let (from, to) = (time("from", &self.from)?, time("to", &self.to)?);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(ApiError::invalid("to", "to must not be before from"));
            }
        }
        let filter = VisitFilter {
            customer: self.customer.clone().filter(|c| !c.trim().is_empty()),
            stage: self.stage.clone(),
            level: self.level.clone(),
            department: self.department.clone(),
            host: self.host.clone(),
            from,
            to,
        };
        Ok((filter, limit, offset))
    }
}

/// `GET /api/v1/visits`: every visit, open or not, filtered and paged.
#[utoipa::path(get, path = "/api/v1/visits", tag = "visits",
    summary = "every visit, open or not, filtered and paged (latest planned arrival first)",
    description = "Every role may read visits, as `GET /api/v1/visits/{id}`.",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "a page of visits and how many match", body = VisitList), QueryErrors))]
async fn list_visits(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (filter, limit, offset) = q.parse()?;
    let read = read_side(&state)?;
    wait_for_read_side(read, q.min_seq).await?;
    Ok(answer(
        &caller,
        to_json(&read.visits(&filter, limit, offset))?,
    ))
}

/// A visit's events and state as of a time, with the board flags it had then.
#[derive(utoipa::ToSchema)]
#[schema(as = VisitHistory)]
#[allow(dead_code)]
struct VisitHistoryDoc {
    #[serde(flatten)]
    history: HistoryDoc,
    /// The board flags (DOMAIN.md's "Read side", as `GET /api/v1/visits/{id}` gives
    /// them) the state had at `flags_at`.
    flags: Vec<String>,
    /// The business clock's reading the flags are judged at: now without `as_of`;
    /// with it, the last event's `occurred_at` plus the time between its recording
    /// and `as_of` (on a store written in service, `as_of` itself), never after now.
    flags_at: DateTime<FixedOffset>,
}

/// `GET /api/v1/visits/{id}/history[?as_of=T]`: the events, the state and its flags.
#[utoipa::path(get, path = "/api/v1/visits/{id}/history", tag = "audit",
    summary = "a visit's events, state and flags, as of a time",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the visit's id"), HistoryQuery),
    responses((status = 200, description = "the visit's events, state and flags", body = VisitHistoryDoc), QueryErrors))]
async fn visit_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id("visit", &id)?;
    let stream = App::stream_name::<Visit>(id);
    let (as_of, loaded) = load_history::<Visit>(&state, &stream, q).await?;
    let at = clock_at(&loaded.events, as_of, state.app.now());
    let mut body = history_body(as_of, &loaded)?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("flags".into(), to_json(&visit_flags(&loaded.state, at))?);
        obj.insert("flags_at".into(), json!(at));
    }
    Ok(answer(&caller, body))
}
