//! Command routes: build the command from route + body and hand it to `App::execute`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use reception_app::{CommandOutcome, ExecOptions, Target};
use reception_domain::complaint::Complaint;
use reception_domain::frontdesk::SignIn;
use reception_domain::policy::PolicyState;
use reception_domain::visit::Visit;
use reception_domain::{Aggregate, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::{typed, Caller, CommandHeaders, JsonBody};
use crate::{ApiError, AppState};

/// Command routes of API.md.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/visits", post(file_visit))
        .route("/api/v1/visits/{id}/{command}", post(visit_command))
        .route("/api/v1/complaints", post(raise_complaint))
        .route("/api/v1/complaints/{id}/{command}", post(complaint_command))
        .route("/api/v1/frontdesk/sign-in", post(sign_in))
        .route("/api/v1/frontdesk/{id}/sign-out", post(sign_out))
        .route(
            "/api/v1/policy",
            post(publish_policy).get(crate::queries::get_policy),
        )
        .route(
            "/api/v1/tokens",
            post(issue_token).get(crate::admin::list_tokens),
        )
}

/// 201 when the command created its stream, else 200; the body is the outcome.
fn answer(outcome: CommandOutcome) -> Response {
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(outcome)).into_response()
}

/// Parses a path id; a malformed one is 404 (no such resource can exist).
pub(crate) fn parse_id(kind: &str, raw: &str) -> Result<Uuid, ApiError> {
    raw.parse::<Uuid>().map_err(|_| ApiError::NotFound {
        message: format!("no {kind} with id {raw:?}"),
        field: Some("id".into()),
    })
}

async fn run<A: Aggregate + Send + Sync + 'static>(
    state: &AppState,
    caller: &Caller,
    target: Target,
    command: &str,
    route: String,
    headers: CommandHeaders,
    body: serde_json::Value,
) -> Result<Response, ApiError> {
    if let Some(writer) = &state.read_replica_of {
        return Err(ApiError::ReadReplica(format!(
            "this is a read replica; send commands to the write node {writer}"
        )));
    }
    if matches!(caller.0.role, Role::Auditor | Role::Analyst) {
        return Err(ApiError::Forbidden(format!(
            "role {} is read-only",
            caller.0.role.as_str()
        )));
    }
    let opts = ExecOptions {
        idempotency_key: headers.idempotency_key,
        if_match: headers.if_match,
        route: Some(route),
        now: None,
    };
    let outcome = state
        .app
        .execute::<A>(target, command, body, &caller.0, opts)
        .await?;
    Ok(answer(outcome))
}

async fn file_visit(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    run::<Visit>(
        &state,
        &caller,
        Target::Create,
        "request",
        "POST /api/v1/visits".into(),
        headers,
        body,
    )
    .await
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
    let route = format!("POST /api/v1/visits/{{id}}/{command}");
    run::<Visit>(
        &state,
        &caller,
        Target::Id(id),
        &command,
        route,
        headers,
        body,
    )
    .await
}

async fn raise_complaint(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    run::<Complaint>(
        &state,
        &caller,
        Target::Create,
        "raise",
        "POST /api/v1/complaints".into(),
        headers,
        body,
    )
    .await
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
    let route = format!("POST /api/v1/complaints/{{id}}/{command}");
    run::<Complaint>(
        &state,
        &caller,
        Target::Id(id),
        &command,
        route,
        headers,
        body,
    )
    .await
}

async fn sign_in(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let route = "POST /api/v1/frontdesk/sign-in".to_string();
    run::<SignIn>(
        &state,
        &caller,
        Target::Create,
        "sign-in",
        route,
        headers,
        body,
    )
    .await
}

async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id("sign-in", &id)?;
    let route = "POST /api/v1/frontdesk/{id}/sign-out".to_string();
    run::<SignIn>(
        &state,
        &caller,
        Target::Id(id),
        "sign-out",
        route,
        headers,
        body,
    )
    .await
}

async fn publish_policy(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let route = "POST /api/v1/policy".to_string();
    run::<PolicyState>(
        &state,
        &caller,
        Target::Singleton,
        "publish",
        route,
        headers,
        body,
    )
    .await
}

/// `POST /api/v1/tokens` body.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The person's user name (1 to 100 characters).
    pub user: String,
    /// One of the API roles (`system` is reserved).
    pub role: Role,
}

/// `POST /api/v1/tokens` answer; the token is shown once and never stored.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TokenResponse {
    pub token: String,
    /// The token's id: `DELETE /api/v1/tokens/{id}` revokes it.
    pub id: Uuid,
    pub user: String,
    pub role: Role,
}

async fn issue_token(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    if let Some(writer) = &state.read_replica_of {
        return Err(ApiError::ReadReplica(format!(
            "this is a read replica; send commands to the write node {writer}"
        )));
    }
    caller.require(&[Role::Admin], "issue tokens (admin only)")?;
    if headers.idempotency_key.is_some() {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "tokens are never stored, so a token request cannot be replayed; send it without Idempotency-Key",
        ));
    }
    let req: TokenRequest = typed(body)?;
    let (token, info) = state
        .app
        .tokens()
        .issue_info(state.app.store(), &req.user, req.role, &caller.0)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse {
            token,
            id: info.id,
            user: info.user,
            role: info.role,
        }),
    )
        .into_response())
}
