//! The service's error type: domain rejections plus what the store can say.

use reception_domain::{DomainError, ErrorKind};
use reception_store::{AppendError, StoreError};

/// Why a command or load failed. The HTTP layer maps each variant to one status.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The domain rejected the command (400/403/404/409 by its kind).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The aggregate (or stream) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// `If-Match` (or repeated concurrent appends) did not match the stream version.
    #[error("version conflict: expected {expected}, stream is at {actual}")]
    VersionConflict { expected: u64, actual: u64 },
    /// The `Idempotency-Key` was used before with another request.
    #[error("idempotency key {0:?} was used before with a different request")]
    IdempotencyKeyReused(String),
    /// An event would be over the store's size limit (413 `too_large`).
    #[error("too large: {field} makes the event {bytes} bytes, over the limit of {limit}")]
    TooLarge {
        field: String,
        bytes: usize,
        limit: usize,
    },
    /// The store is closed or shutting down.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything else; never shown to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The API.md error code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Domain(d) => match d.kind {
                ErrorKind::InvalidInput => "invalid_input",
                ErrorKind::RuleViolation => "rule_violation",
                ErrorKind::InvalidState => "invalid_state",
                ErrorKind::Forbidden => "forbidden",
                ErrorKind::NotFound => "not_found",
            },
            AppError::NotFound(_) => "not_found",
            AppError::VersionConflict { .. } => "version_conflict",
            AppError::IdempotencyKeyReused(_) => "idempotency_key_reused",
            AppError::TooLarge { .. } => "too_large",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Closed => AppError::Unavailable("the store is closed".into()),
            // A full or read-only disk: the client may retry later; reads still serve.
            StoreError::Io(m) => {
                tracing::error!(error = %m, "the event store cannot write");
                AppError::Unavailable(format!("the event store cannot write: {m}"))
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<AppendError> for AppError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Conflict {
                expected, actual, ..
            } => {
                let expected = match expected {
                    reception_store::ExpectedVersion::Exact(v) => v,
                    _ => 0,
                };
                AppError::VersionConflict { expected, actual }
            }
            AppendError::IdempotencyKeyReused(k) => AppError::IdempotencyKeyReused(k),
            AppendError::Invalid(m) => AppError::Internal(m),
            // a service started without its data directory's signing key
            e @ AppendError::Unsigned { .. } => {
                tracing::error!(error = %e, "cannot sign events");
                AppError::Unavailable(e.to_string())
            }
            AppendError::TooLarge {
                field,
                bytes,
                limit,
                ..
            } => AppError::TooLarge {
                field,
                bytes,
                limit,
            },
            AppendError::Store(s) => s.into(),
        }
    }
}
