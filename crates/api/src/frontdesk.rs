//! `/api/v1/frontdesk`: front-desk sign-in and sign-out, and one sign-in's history.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use reception_app::{App, Target};
use reception_domain::frontdesk::SignIn;

use crate::common::command::{run, CommandCall};
use crate::common::history::{history_of, HistoryQuery};
use crate::common::{parse_id, ApiError, AppState, Caller, CommandHeaders, JsonBody, Query};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/frontdesk/sign-in", post(sign_in))
        .route("/api/v1/frontdesk/{id}/sign-out", post(sign_out))
        .route("/api/v1/frontdesk/{id}", get(sign_in_state))
}

async fn sign_in(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let call = CommandCall {
        target: Target::Create,
        command: "sign-in",
        route: "POST /api/v1/frontdesk/sign-in".into(),
        headers,
        body,
    };
    run::<SignIn>(&state, &caller, call).await
}

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
    };
    run::<SignIn>(&state, &caller, call).await
}

/// `GET /api/v1/frontdesk/{id}`: one sign-in's history and state (extension).
async fn sign_in_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id("sign-in", &id)?;
    history_of::<SignIn>(&state, &caller, &App::stream_name::<SignIn>(id), q).await
}
