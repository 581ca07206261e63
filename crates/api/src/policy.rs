//! `/api/v1/policy`: publishing a policy version and reading the book.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use reception_app::Target;
use reception_domain::policy::PolicyState;
use reception_domain::Aggregate;
use serde_json::json;

use crate::common::command::{run, CommandCall};
use crate::common::{
    to_json, wait_for_head, ApiError, AppState, Caller, CommandHeaders, JsonBody, MinSeq, Query,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/policy", post(publish_policy).get(get_policy))
}

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
    };
    run::<PolicyState>(&state, &caller, call).await
}

/// `GET /api/v1/policy`: the version in force now and every published version.
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
