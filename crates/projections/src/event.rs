//! Reading stored envelopes: which aggregate a stream belongs to, and forgiving
//! accessors for the payload fields agreed in API.md (command body names plus ids).
//!
//! The projections read the payload JSON by the contract's field names rather than
//! through the domain's typed events: a projection needs a handful of fields per event,
//! and skipping the full typed decode keeps rebuilds fast and tolerant of payload
//! additions (unknown fields and unknown event types are ignored).

use chrono::{DateTime, FixedOffset, Utc};
use reception_store::Envelope;
use serde_json::Value;

/// The aggregate kind of a stream name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Visit,
    Complaint,
    FrontDesk,
    Policy,
    Other,
}

/// Splits `visit-<id>` into (Visit, "<id>").
pub(crate) fn kind_of(stream: &str) -> (Kind, &str) {
    if let Some(id) = stream.strip_prefix("visit-") {
        (Kind::Visit, id)
    } else if let Some(id) = stream.strip_prefix("complaint-") {
        (Kind::Complaint, id)
    } else if let Some(id) = stream.strip_prefix("frontdesk-") {
        (Kind::FrontDesk, id)
    } else if stream == "policy" {
        (Kind::Policy, "")
    } else {
        (Kind::Other, stream)
    }
}

/// `data[key]` as a string ("" when absent or not a string).
pub(crate) fn s<'a>(data: &'a Value, key: &str) -> &'a str {
    data.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `data[key]` as an optional non-empty string.
pub(crate) fn opt_s(data: &Value, key: &str) -> Option<String> {
    data.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `data[key]` as an integer (0 when absent).
pub(crate) fn i(data: &Value, key: &str) -> i64 {
    data.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// `data[key]` as a bool (false when absent).
pub(crate) fn b(data: &Value, key: &str) -> bool {
    data.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// `data[key]` as an RFC 3339 time.
pub(crate) fn t(data: &Value, key: &str) -> Option<DateTime<FixedOffset>> {
    data.get(key)
        .and_then(Value::as_str)
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
}

/// The business time of an event: the payload's `at` when present, else the
/// envelope's `occurred_at`.
pub(crate) fn at(env: &Envelope) -> DateTime<FixedOffset> {
    t(&env.data, "at").unwrap_or(env.occurred_at)
}

/// A customer's company name from `customer` given as an object `{company}` or a string.
pub(crate) fn company(data: &Value) -> String {
    match data.get("customer") {
        Some(Value::String(c)) => c.clone(),
        Some(obj) => s(obj, "company").to_string(),
        None => String::new(),
    }
}

/// The identity of a name for matching: lowercase letters and digits only
/// (`"Huaxin  Dealers, Ltd"` → `"huaxindealersltd"`). Case, spacing and punctuation
/// are forgiven; CJK characters are kept as they are.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `DateTime<FixedOffset>` of a UTC instant (offset +00:00).
pub(crate) fn fixed(now: DateTime<Utc>) -> DateTime<FixedOffset> {
    now.fixed_offset()
}
