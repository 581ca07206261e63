//! `/api/v1/policy`: publishing a policy version and reading the book.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use reception_app::Target;
use reception_domain::policy::PolicyState;
use reception_domain::Aggregate;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::command::{run, CommandCall};
use crate::common::doc::{command_component, schemars_schema, CommandErrors, Outcome, QueryErrors};
use crate::common::{
    to_json, wait_for_head, ApiError, AppState, Caller, CommandHeaders, JsonBody, MinSeq, Query,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(publish_policy, get_policy))
}

schemars_schema!(
    /// The body of `publish` (the domain's schema).
    PublishBody = command_component(PolicyState::KIND, "publish")
);

/// The policy book: the version in force and every published version.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct PolicyBook {
    /// The version in force now.
    #[schema(value_type = Object)]
    in_force: serde_json::Value,
    /// Every published version, oldest first.
    versions: Vec<serde_json::Value>,
    /// The policy stream's version (for `If-Match`).
    stream_version: u64,
}

/// Publish a new policy version.
#[utoipa::path(post, path = "/api/v1/policy", tag = "policy",
    summary = "publish a new policy version", description = "Roles: admin.",
    security(("bearer" = [])),
    params(CommandHeaders),
    request_body = PublishBody,
    responses((status = 200, description = "the command's events", body = Outcome),
              (status = 201, description = "the command created its stream", body = Outcome),
              CommandErrors))]
async fn publish_policy(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let call = CommandCall {
        target: Target::Singleton,
        command: "publish",
        route: "POST /api/v1/policy".into(),
        headers,
        body,
        linked_visit: None,
    };
    run::<PolicyState>(&state, &caller, call).await
}

/// `GET /api/v1/policy`: the version in force now and every published version.
#[utoipa::path(get, path = "/api/v1/policy", tag = "policy",
    summary = "the policy in force and every version",
    security(("bearer" = [])),
    params(MinSeq),
    responses((status = 200, description = "the policy book", body = PolicyBook), QueryErrors))]
async fn get_policy(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    wait_for_head(&state.app, q.min_seq).await?;
    let loaded = state.app.load::<PolicyState>(PolicyState::KIND, None)?;
    let book = loaded.state.book_or_default();
    let now = state.app.now();
    let body = json!({
        "in_force": to_json(&book.in_force(now))?,
        "versions": to_json(&book.versions())?,
        "stream_version": loaded.state.version(),
    });
    Ok(Json(body).into_response())
}
