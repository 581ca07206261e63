//! `ApiError`: every failure the HTTP API can answer, each variant with its status and
//! API.md code; the body is always `{"error": {"code", "message", "rule"?, "field"?}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use reception_app::AppError;
use reception_domain::{DomainError, ErrorKind};
use serde::Serialize;

/// The error body's inner object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// API.md's error code (`invalid_input`, `rule_violation`, ...).
    pub code: String,
    pub message: String,
    /// The rule broken (`V3`, `C2`, ...), with `rule_violation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rule: Option<String>,
    /// The field or parameter at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
}

/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `invalid_input`: malformed JSON, wrong types, missing or invalid fields, V1.
    #[error("{message}")]
    InvalidInput {
        message: String,
        field: Option<String>,
        rule: Option<String>,
    },
    /// 401 `unauthenticated`: no or unknown bearer token.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// 403 `forbidden`: the role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `not_found`.
    #[error("{message}")]
    NotFound {
        message: String,
        field: Option<String>,
    },
    /// 409 `rule_violation` naming the rule.
    #[error("{message}")]
    RuleViolation {
        rule: String,
        message: String,
        field: Option<String>,
    },
    /// 409 `invalid_state`: the command does not fit the aggregate's state.
    #[error("{message}")]
    InvalidState {
        message: String,
        rule: Option<String>,
    },
    /// 412 `version_conflict`: `If-Match` did not match.
    #[error("{0}")]
    VersionConflict(String),
    /// 413 `too_large`: the body is over the limit.
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// 413 `too_large`: the event a command makes is over the store's size limit.
    #[error("{message}")]
    EventTooLarge { message: String, field: String },
    /// 422 `idempotency_key_reused`.
    #[error("{0}")]
    IdempotencyKeyReused(String),
    /// 503 `not_caught_up`: `min_seq` was not reached within the wait.
    #[error("the read model has not reached seq {0} yet; retry")]
    NotCaughtUp(u64),
    /// 503 `read_replica`: commands go to the write node.
    #[error("{0}")]
    ReadReplica(String),
    /// 503 `unavailable`: shutting down or store closed.
    #[error("{0}")]
    Unavailable(String),
    /// 429 `too_many_requests`: too many failed authentications from this address;
    /// retry after the seconds given (also in `Retry-After`).
    #[error("too many failed authentications from this address; retry in {0} s")]
    TooManyRequests(u64),
    /// 408 `timeout`: the request took longer than the server's request timeout.
    #[error("the request took longer than {0} s")]
    Timeout(u64),
    /// 500 `internal`: logged here, never shown.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// 400 naming a field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::InvalidInput {
            message: message.into(),
            field: Some(field.into()),
            rule: None,
        }
    }

    /// 404 naming what was not found.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::NotFound {
            message: message.into(),
            field: None,
        }
    }

    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::RuleViolation { .. } | ApiError::InvalidState { .. } => StatusCode::CONFLICT,
            ApiError::VersionConflict(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::TooLarge(_) | ApiError::EventTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::IdempotencyKeyReused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotCaughtUp(_) | ApiError::ReadReplica(_) | ApiError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// API.md error code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidInput { .. } => "invalid_input",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::RuleViolation { .. } => "rule_violation",
            ApiError::InvalidState { .. } => "invalid_state",
            ApiError::VersionConflict(_) => "version_conflict",
            ApiError::TooLarge(_) | ApiError::EventTooLarge { .. } => "too_large",
            ApiError::IdempotencyKeyReused(_) => "idempotency_key_reused",
            ApiError::NotCaughtUp(_) => "not_caught_up",
            ApiError::ReadReplica(_) => "read_replica",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Timeout(_) => "timeout",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        let (rule, field) = match self {
            ApiError::InvalidInput { field, rule, .. } => (rule.clone(), field.clone()),
            ApiError::NotFound { field, .. } => (None, field.clone()),
            ApiError::RuleViolation { rule, field, .. } => (Some(rule.clone()), field.clone()),
            ApiError::InvalidState { rule, .. } => (rule.clone(), None),
            ApiError::EventTooLarge { field, .. } => (None, Some(field.clone())),
            _ => (None, None),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().into(),
                message: self.to_string(),
                rule,
                field,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        if let ApiError::TooManyRequests(secs) = &self {
            let retry = [(axum::http::header::RETRY_AFTER, secs.to_string())];
            return (self.status(), retry, Json(self.body())).into_response();
        }
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let DomainError {
            kind,
            rule,
            field,
            message,
        } = e;
        match kind {
            ErrorKind::InvalidInput => ApiError::InvalidInput {
                message,
                field,
                rule,
            },
            ErrorKind::RuleViolation => match rule {
                Some(rule) => ApiError::RuleViolation {
                    rule,
                    message,
                    field,
                },
                None => ApiError::InvalidState {
                    message,
                    rule: None,
                },
            },
            ErrorKind::InvalidState => ApiError::InvalidState { message, rule },
            ErrorKind::Forbidden => ApiError::Forbidden(message),
            ErrorKind::NotFound => ApiError::NotFound { message, field },
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Domain(d) => d.into(),
            AppError::NotFound(m) => ApiError::NotFound {
                message: m,
                field: None,
            },
            AppError::VersionConflict { expected, actual } => ApiError::VersionConflict(format!(
                "version conflict: expected version {expected}, the stream is at {actual}"
            )),
            AppError::IdempotencyKeyReused(k) => ApiError::IdempotencyKeyReused(format!(
                "Idempotency-Key {k:?} was already used with a different request"
            )),
            AppError::TooLarge {
                field,
                bytes,
                limit,
            } => {
                let field = field.strip_prefix("data.").unwrap_or(&field).to_string();
                ApiError::EventTooLarge {
                    message: format!(
                        "{field}: the event would be {bytes} bytes, over the limit of {limit}"
                    ),
                    field,
                }
            }
            AppError::Unavailable(m) => ApiError::Unavailable(m),
            AppError::Internal(m) => ApiError::Internal(m),
        }
    }
}
