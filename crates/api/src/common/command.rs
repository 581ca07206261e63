//! Running a domain command from a route: the replica and read-only role checks, the
//! idempotency and `If-Match` options, and the 201/200 answer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use reception_app::{CommandOutcome, ExecOptions, Target};
use reception_domain::{Aggregate, Role};

use super::error::ApiError;
use super::extract::{Caller, CommandHeaders};
use super::state::AppState;

/// 503 `read_replica` on a read replica: writes go to the write node.
pub fn not_on_replica(state: &AppState) -> Result<(), ApiError> {
    match &state.read_replica_of {
        Some(writer) => Err(ApiError::ReadReplica(format!(
            "this is a read replica; send commands to the write node {writer}"
        ))),
        None => Ok(()),
    }
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

/// One command request: what the route names and what the client sent.
pub struct CommandCall<'a> {
    pub target: Target,
    /// The domain's command name (`request`, `book-meal`, ...).
    pub command: &'a str,
    /// `METHOD /template` for the idempotency record.
    pub route: String,
    pub headers: CommandHeaders,
    pub body: serde_json::Value,
    /// F2: the visit the command names, looked up for the domain.
    pub linked_visit: Option<reception_domain::LinkedVisit>,
}

/// Executes the command on aggregate `A` after the replica and read-only checks.
pub async fn run<A: Aggregate + Send + Sync + 'static>(
    state: &AppState,
    caller: &Caller,
    call: CommandCall<'_>,
) -> Result<Response, ApiError> {
    not_on_replica(state)?;
    if matches!(caller.0.role, Role::Auditor | Role::Analyst) {
        return Err(ApiError::Forbidden(format!(
            "role {} is read-only",
            caller.0.role.as_str()
        )));
    }
    let opts = ExecOptions {
        idempotency_key: call.headers.idempotency_key,
        if_match: call.headers.if_match,
        route: Some(call.route),
        now: None,
        linked_visit: call.linked_visit,
    };
    let outcome = state
        .app
        .execute::<A>(call.target, call.command, call.body, &caller.0, opts)
        .await?;
    Ok(answer(outcome))
}
