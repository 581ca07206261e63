//! Notifications (issue 20): the rules of who is told what (`/api/v1/notification-rules`,
//! published by admin like the policy), each person's own notifications
//! (`/api/v1/me/notifications`, read marks) and the dead letters (admin). The outbox is
//! the write node's notifier's; without one (a read replica) these queries answer 503.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use reception_app::Target;
use reception_domain::notification::RulesState;
use reception_domain::{Aggregate, Role};
use reception_notify::NotifierHandle;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::command::{run, CommandCall};
use crate::common::doc::{
    command_component, schemars_schema, AdminErrors, CommandErrors, Outcome, QueryErrors,
};
use crate::common::{
    to_json, typed, wait_for_head, ApiError, AppState, Caller, CommandHeaders, JsonBody, MinSeq,
    Query,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(publish_rules, get_rules))
        .routes(routes!(my_notifications))
        .routes(routes!(mark_read))
        .routes(routes!(dead_letters))
        .routes(routes!(retry_dead))
}

schemars_schema!(
    /// The rules (the domain's schema).
    RulesBody = command_component(RulesState::KIND, "publish")
);

/// Every version of the rules and the one in force.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct RulesBook {
    #[schema(value_type = Object)]
    in_force: serde_json::Value,
    versions: Vec<serde_json::Value>,
    stream_version: u64,
}

/// One delivery of a notification.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct DeliveryDoc {
    /// `email`, `webhook`, `wecom`, `dingtalk`, `feishu`.
    channel: String,
    /// `pending`, `delivered`, `dead`, `skipped`.
    status: String,
    attempts: u32,
    /// Business time before which it is not sent (quiet hours, digest).
    next_try: String,
    /// After a failure: when it is tried again.
    retry_after: Option<String>,
    last_error: Option<String>,
    delivered_at: Option<String>,
}

/// A notification.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct NotificationDoc {
    /// Stable, derived from the cause: the same on every channel and after a restart.
    id: String,
    /// The kind of fact (`visitor_signed_in`, `complaint_major`, `deadline_due_soon`, ...).
    kind: String,
    /// The recipient's directory id.
    recipient: String,
    title: String,
    body: String,
    /// Dashboard path.
    link: String,
    visit: Option<uuid::Uuid>,
    complaint: Option<uuid::Uuid>,
    /// When the fact happened or falls due.
    at: String,
    created_at: String,
    urgent: bool,
    /// `zh-CN` or `en`.
    lang: String,
    deliveries: Vec<DeliveryDoc>,
    /// Only in `GET /api/v1/me/notifications`.
    read: Option<bool>,
}

/// The caller's notifications.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct MyNotifications {
    user: String,
    /// Unread among all of the caller's notifications.
    unread: usize,
    notifications: Vec<NotificationDoc>,
}

/// The dead-letter list.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct DeadLetters {
    dead: Vec<NotificationDoc>,
}

fn internal(e: reception_store::StoreError) -> ApiError {
    ApiError::Internal(format!("outbox: {e}"))
}

fn notifier(state: &AppState) -> Result<&NotifierHandle, ApiError> {
    state.notifier.as_ref().ok_or_else(|| {
        ApiError::Unavailable("notifications are kept by the write node's notifier".into())
    })
}

/// `POST /api/v1/notification-rules` (admin).
#[utoipa::path(post, path = "/api/v1/notification-rules", tag = "notifications",
    summary = "extension: publish a new version of the notification rules (admin)",
    security(("bearer" = [])),
    params(CommandHeaders),
    request_body = RulesBody,
    responses((status = 200, description = "the command's events", body = Outcome),
              (status = 201, description = "the command created its stream", body = Outcome),
              CommandErrors))]
async fn publish_rules(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let call = CommandCall {
        target: Target::Singleton,
        command: "publish",
        route: "POST /api/v1/notification-rules".into(),
        headers,
        body,
        linked_visit: None,
    };
    run::<RulesState>(&state, &caller, call).await
}

/// `GET /api/v1/notification-rules`.
#[utoipa::path(get, path = "/api/v1/notification-rules", tag = "notifications",
    summary = "extension: the notification rules in force and every version",
    security(("bearer" = [])),
    params(MinSeq),
    responses((status = 200, description = "the rules", body = RulesBook), QueryErrors))]
async fn get_rules(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    wait_for_head(&state.app, q.min_seq).await?;
    let loaded = state.app.load::<RulesState>(RulesState::KIND, None)?;
    let body = json!({
        "in_force": to_json(&loaded.state.in_force())?,
        "versions": to_json(&loaded.state.versions)?,
        "stream_version": loaded.state.version(),
    });
    Ok(Json(body).into_response())
}

/// `?unread=true&limit=N`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct MineQuery {
    /// Only the unread ones.
    #[serde(default)]
    unread: bool,
    /// At most this many, newest first (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

/// `GET /api/v1/me/notifications`: the token user's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications",
    summary = "extension: the caller's own notifications (the token's user is the directory id)",
    security(("bearer" = [])),
    params(MineQuery),
    responses((status = 200, description = "the caller's notifications", body = MyNotifications), QueryErrors))]
async fn my_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MineQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > 500 {
        return Err(ApiError::invalid("limit", "limit: 1 to 500"));
    }
    let outbox = notifier(&state)?.outbox().clone();
    let user = caller.0.user.clone();
    let (items, unread) = tokio::task::spawn_blocking(move || {
        let unread = outbox.inbox(&user, true, usize::MAX)?.len();
        outbox
            .inbox(&user, q.unread, limit)
            .map(|items| (items, unread))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(internal)?;
    Ok(Json(json!({
        "user": caller.0.user,
        "unread": unread,
        "notifications": to_json(&items)?,
    }))
    .into_response())
}

/// `{"ids": [...]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MarkRead {
    /// Notification ids of the caller's.
    ids: Vec<String>,
}

/// `POST /api/v1/me/notifications/read`: marks the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read", tag = "notifications",
    summary = "extension: mark the caller's notifications read",
    security(("bearer" = [])),
    request_body = MarkRead,
    responses((status = 200, description = "how many of the ids were the caller's", body = Object), AdminErrors))]
async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let body: MarkRead = typed(body)?;
    if body.ids.len() > 500 {
        return Err(ApiError::invalid("ids", "ids: at most 500"));
    }
    let outbox = notifier(&state)?.outbox().clone();
    let user = caller.0.user.clone();
    let marked = tokio::task::spawn_blocking(move || outbox.mark_read(&user, &body.ids))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(internal)?;
    Ok(Json(json!({ "marked": marked })).into_response())
}

/// `GET /api/v1/admin/notifications/dead` (admin).
#[utoipa::path(get, path = "/api/v1/admin/notifications/dead", tag = "notifications",
    summary = "extension: notifications whose delivery failed every retry (admin)",
    security(("bearer" = [])),
    responses((status = 200, description = "the dead letters, newest first", body = DeadLetters), QueryErrors))]
async fn dead_letters(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin], "see dead letters (admin only)")?;
    let outbox = notifier(&state)?.outbox().clone();
    let dead = tokio::task::spawn_blocking(move || outbox.dead_letters())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(internal)?;
    Ok(Json(json!({ "dead": to_json(&dead)? })).into_response())
}

/// `{"recipient": ..., "id": ...}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RetryDead {
    recipient: String,
    id: String,
}

/// `POST /api/v1/admin/notifications/dead/retry` (admin).
#[utoipa::path(post, path = "/api/v1/admin/notifications/dead/retry", tag = "notifications",
    summary = "extension: send a dead letter again (admin)",
    security(("bearer" = [])),
    request_body = RetryDead,
    responses((status = 200, description = "queued again", body = Object), AdminErrors))]
async fn retry_dead(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin], "retry dead letters (admin only)")?;
    let body: RetryDead = typed(body)?;
    let queued = notifier(&state)?
        .retry(&body.recipient, &body.id)
        .await
        .map_err(ApiError::Unavailable)?;
    if !queued {
        return Err(ApiError::NotFound {
            message: format!("no dead letter {} of {}", body.id, body.recipient),
            field: Some("id".into()),
        });
    }
    Ok(Json(json!({ "queued": true })).into_response())
}
