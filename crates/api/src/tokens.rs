//! `/api/v1/tokens` (admin): issuing, listing and revoking bearer tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use reception_app::TokenInfo;
use reception_domain::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::common::command::not_on_replica;
use crate::common::{parse_id, typed, ApiError, AppState, Caller, CommandHeaders, JsonBody};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tokens", post(issue_token).get(list_tokens))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
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
    not_on_replica(&state)?;
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

/// `GET /api/v1/tokens` (admin): the active tokens without secrets or hashes.
async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(&[Role::Admin], "list tokens (admin only)")?;
    let tokens: Vec<TokenInfo> = state.app.tokens().list();
    Ok(Json(json!({ "tokens": tokens })))
}

/// `DELETE /api/v1/tokens/{id}` (admin): appends `TokenRevoked`; the token answers 401
/// from then on, also after a restart and on replicas.
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    not_on_replica(&state)?;
    caller.require(&[Role::Admin], "revoke tokens (admin only)")?;
    let id = parse_id("token", &id)?;
    let info = state
        .app
        .tokens()
        .revoke_id(state.app.store(), id, &caller.0)
        .await?;
    Ok(Json(
        json!({ "id": info.id, "user": info.user, "role": info.role, "revoked": true }),
    ))
}
