//! `/api/v1/staff` (issue 20): the staff directory. Admin registers, updates and
//! retires members (commands on the single `staff` stream); every role reads the list,
//! contact points only for admin.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use reception_app::Target;
use reception_domain::staff::Directory;
use reception_domain::{Aggregate, Role};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::command::{run, CommandCall};
use crate::common::doc::{command_component, schemars_schema, CommandErrors, Outcome, QueryErrors};
use crate::common::{
    to_json, wait_for_head, ApiError, AppState, Caller, CommandHeaders, JsonBody, MinSeq, Query,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register, list))
        .routes(routes!(update))
        .routes(routes!(retire))
}

schemars_schema!(
    /// A directory member (the domain's schema).
    StaffMemberBody = command_component(Directory::KIND, "register")
);

schemars_schema!(
    /// A directory member's new record; its id is the path's.
    StaffUpdateBody = format!("{}-by-path", command_component(Directory::KIND, "update"))
);

/// The `{id}` of the staff routes.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct StaffId {
    /// The member's directory id (also the token user they sign in as).
    #[param(pattern = "^[a-z0-9][a-z0-9._-]{0,63}$")]
    id: String,
}

/// The directory.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct StaffList {
    /// Members by id; `contacts` only for admin.
    members: Vec<serde_json::Value>,
    /// The `staff` stream's version.
    stream_version: u64,
}

async fn command(
    state: &AppState,
    caller: &Caller,
    name: &'static str,
    route: &str,
    headers: CommandHeaders,
    body: serde_json::Value,
) -> Result<Response, ApiError> {
    let call = CommandCall {
        target: Target::Singleton,
        command: name,
        route: route.into(),
        headers,
        body,
        linked_visit: None,
    };
    run::<Directory>(state, caller, call).await
}

/// The body with the path's id, refusing a different one in the body.
fn with_id(id: &str, mut body: serde_json::Value) -> Result<serde_json::Value, ApiError> {
    let Some(obj) = body.as_object_mut() else {
        return Err(ApiError::invalid("body", "body: a JSON object"));
    };
    match obj.get("id") {
        Some(v) if v.as_str() != Some(id) => {
            return Err(ApiError::invalid(
                "id",
                "id: differs from the id in the path",
            ))
        }
        _ => obj.insert("id".into(), json!(id)),
    };
    Ok(body)
}

/// `POST /api/v1/staff` (admin).
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff",
    summary = "extension: register a staff member (admin)",
    description = "The id is also the token user the person signs in as (their notifications). Host, accompanying staff, drivers and approvers of a visit may name a member by id or by name.",
    security(("bearer" = [])),
    params(CommandHeaders),
    request_body = StaffMemberBody,
    responses((status = 200, description = "the command's events", body = Outcome),
              (status = 201, description = "the command created the directory", body = Outcome),
              CommandErrors))]
async fn register(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    command(
        &state,
        &caller,
        "register",
        "POST /api/v1/staff",
        headers,
        body,
    )
    .await
}

/// `POST /api/v1/staff/{id}` (admin): the member's full new record.
#[utoipa::path(post, path = "/api/v1/staff/{id}", tag = "staff",
    summary = "extension: update a staff member (admin)",
    security(("bearer" = [])),
    params(StaffId, CommandHeaders),
    request_body = StaffUpdateBody,
    responses((status = 200, description = "the command's events", body = Outcome), CommandErrors))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let body = with_id(&id, body)?;
    command(
        &state,
        &caller,
        "update",
        "POST /api/v1/staff/{id}",
        headers,
        body,
    )
    .await
}

/// `POST /api/v1/staff/{id}/retire` (admin).
#[utoipa::path(post, path = "/api/v1/staff/{id}/retire", tag = "staff",
    summary = "extension: retire a staff member (admin)",
    security(("bearer" = [])),
    params(StaffId, CommandHeaders),
    responses((status = 200, description = "the command's events", body = Outcome), CommandErrors))]
async fn retire(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: CommandHeaders,
) -> Result<Response, ApiError> {
    let body = json!({ "id": id });
    command(
        &state,
        &caller,
        "retire",
        "POST /api/v1/staff/{id}/retire",
        headers,
        body,
    )
    .await
}

/// `GET /api/v1/staff`: every member; contact points for admin only.
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff",
    summary = "extension: the staff directory",
    security(("bearer" = [])),
    params(MinSeq),
    responses((status = 200, description = "the directory", body = StaffList), QueryErrors))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    wait_for_head(&state.app, q.min_seq).await?;
    let loaded = state.app.load::<Directory>(Directory::KIND, None)?;
    let admin = caller.0.role == Role::Admin;
    let mut members = Vec::new();
    for m in loaded.state.members.values() {
        let mut v = to_json(m)?;
        if !admin {
            if let Some(o) = v.as_object_mut() {
                o.remove("contacts");
            }
        }
        members.push(v);
    }
    Ok(
        Json(json!({ "members": members, "stream_version": loaded.state.version() }))
            .into_response(),
    )
}
