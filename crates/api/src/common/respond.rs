//! Building answers: JSON conversion, phone redaction, path ids and times.

use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::Caller;

/// Serialises an answer part; a failure is 500 `internal`.
pub fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(format!("serialising an answer: {e}")))
}

/// JSON answer; phone numbers removed for callers that must not see them.
pub fn answer(caller: &Caller, mut body: serde_json::Value) -> Response {
    if caller.hides_phones() {
        redact_phones(&mut body);
    }
    Json(body).into_response()
}

/// Removes every `"phone"` field at any depth (analysts never see phone numbers).
pub fn redact_phones(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.remove("phone");
            map.values_mut().for_each(redact_phones);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_phones),
        _ => {}
    }
}

/// Parses a path id; a malformed one is 404 (no such resource can exist).
pub fn parse_id(kind: &str, raw: &str) -> Result<Uuid, ApiError> {
    raw.parse::<Uuid>().map_err(|_| ApiError::NotFound {
        message: format!("no {kind} with id {raw:?}"),
        field: Some("id".into()),
    })
}

/// Parses an RFC 3339 time with offset; 400 naming `field` otherwise.
pub fn parse_time(field: &str, raw: &str) -> Result<DateTime<FixedOffset>, ApiError> {
    DateTime::parse_from_rfc3339(raw).map_err(|e| {
        ApiError::invalid(
            field,
            format!("{field} must be an RFC 3339 time with offset: {e}"),
        )
    })
}
