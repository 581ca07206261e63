//! `/api/v1/tokens` (admin): issuing, listing and revoking bearer tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use reception_app::TokenInfo;
use reception_domain::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::common::command::not_on_replica;
use crate::common::doc::{AdminErrors, QueryErrors, RoleSchema, TokenInfoSchema};
use crate::common::{parse_id, typed, ApiError, AppState, Caller, CommandHeaders, JsonBody};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_token, list_tokens))
        .routes(routes!(revoke_token))
}

/// The active tokens.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct TokenList {
    tokens: Vec<TokenInfoSchema>,
}

/// A revoked token.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Revoked {
    id: Uuid,
    user: String,
    #[schema(value_type = RoleSchema)]
    role: String,
    /// Always `true`.
    revoked: bool,
}

/// `POST /api/v1/tokens` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The person's user name (1 to 100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub user: String,
    /// One of the API roles (`system` is reserved for the service's own processes).
    #[schema(value_type = PersonRole)]
    pub role: Role,
}

/// The roles a token may carry: every [`Role`] but `system`.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum PersonRole {
    Admin,
    Requester,
    Reception,
    Approver,
    Finance,
    Frontdesk,
    Auditor,
    Analyst,
}

/// `POST /api/v1/tokens` answer; the token is shown once and never stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub token: String,
    /// The token's id: `DELETE /api/v1/tokens/{id}` revokes it.
    pub id: Uuid,
    pub user: String,
    #[schema(value_type = RoleSchema)]
    pub role: Role,
}

/// Issue a token for a user and role (admin); only its hash is stored.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens",
    summary = "issue a token for a user and role (admin)",
    security(("bearer" = [])),
    request_body = TokenRequest,
    responses((status = 201, description = "the new token (shown once; only its hash is stored)", body = TokenResponse), AdminErrors))]
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
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    summary = "extension: the active tokens (admin; never a token or its hash)",
    security(("bearer" = [])),
    responses((status = 200, description = "the active tokens", body = TokenList), QueryErrors))]
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
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    summary = "extension: revoke a token by its id (admin)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the token's id")),
    responses((status = 200, description = "revoked: the token answers 401 from now on, also after a restart", body = Revoked), AdminErrors))]
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
