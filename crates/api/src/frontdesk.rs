//! `/api/v1/frontdesk`: front-desk sign-in and sign-out, and one sign-in's history.

use axum::extract::{Path, State};
use axum::response::Response;
use reception_app::{App, Target};
use reception_domain::frontdesk::SignIn;
use reception_domain::Aggregate;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::command::{run, CommandCall};
use crate::common::doc::{
    command_component, schemars_schema, CommandErrors, HistoryDoc, Outcome, QueryErrors,
};
use crate::common::history::{history_of, HistoryQuery};
use crate::common::{parse_id, ApiError, AppState, Caller, CommandHeaders, JsonBody, Query};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(sign_in_state))
}

schemars_schema!(
    /// The body of `sign-in` (the domain's schema).
    SignInBody = command_component(SignIn::KIND, "sign-in")
);
schemars_schema!(
    /// The body of `sign-out` (the domain's schema).
    SignOutBody = command_component(SignIn::KIND, "sign-out")
);

/// Sign a walk-in visitor in at the front desk.
#[utoipa::path(post, path = "/api/v1/frontdesk/sign-in", tag = "frontdesk",
    summary = "sign-in", description = "Roles: frontdesk, reception.",
    security(("bearer" = [])),
    params(CommandHeaders),
    request_body = SignInBody,
    responses((status = 201, description = "created: the command's events", body = Outcome), CommandErrors))]
async fn sign_in(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    // F2: the visit the party belongs to, for the domain to judge (a malformed id is
    // the domain's to report, naming the field)
    let linked_visit = match body.get("visit_id").and_then(|v| v.as_str()) {
        Some(id) => match uuid::Uuid::parse_str(id) {
            Ok(id) => state.app.linked_visit(id)?,
            Err(_) => None,
        },
        None => None,
    };
    let call = CommandCall {
        target: Target::Create,
        command: "sign-in",
        route: "POST /api/v1/frontdesk/sign-in".into(),
        headers,
        body,
        linked_visit,
    };
    run::<SignIn>(&state, &caller, call).await
}

/// Sign a visitor out.
#[utoipa::path(post, path = "/api/v1/frontdesk/{id}/sign-out", tag = "frontdesk",
    summary = "sign-out", description = "Roles: frontdesk, reception.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the sign-in's id"), CommandHeaders),
    request_body = SignOutBody,
    responses((status = 200, description = "the command's events", body = Outcome),
              (status = 201, description = "the command created its stream", body = Outcome),
              CommandErrors))]
async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id("sign-in", &id)?;
    let call = CommandCall {
        target: Target::Id(id),
        command: "sign-out",
        route: "POST /api/v1/frontdesk/{id}/sign-out".into(),
        headers,
        body,
        linked_visit: None,
    };
    run::<SignIn>(&state, &caller, call).await
}

/// `GET /api/v1/frontdesk/{id}`: one sign-in's history and state (extension).
#[utoipa::path(get, path = "/api/v1/frontdesk/{id}", tag = "frontdesk",
    summary = "a sign-in's events and state",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the sign-in's id"), HistoryQuery),
    responses((status = 200, description = "the sign-in's events and state", body = HistoryDoc), QueryErrors))]
async fn sign_in_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id("sign-in", &id)?;
    history_of::<SignIn>(&state, &caller, &App::stream_name::<SignIn>(id), q).await
}
