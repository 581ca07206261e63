//! Reading stored events through the domain's vocabulary
//! (`reception_domain::vocabulary`): which aggregate a stream belongs to, the event
//! type names, and the borrowed payload views the projections decode once per event,
//! plus small helpers over their optional fields.
//!
//! The views read only the fields the projections need, which keeps rebuilds fast and
//! tolerant of payload additions (unknown fields and unknown event types are ignored);
//! a field of an unexpected JSON type reads as absent, like a missing one. The domain
//! owns the names, so a renamed field fails the domain's vocabulary tests.

use chrono::{DateTime, FixedOffset, Utc};
use reception_store::StoredEvent;

pub(crate) use reception_domain::vocabulary::{
    stream_kind, types as ty, CostView, CustomerView, DepartmentView, Payload, Str, StreamKind,
    VisitorView,
};

/// An optional string field as `&str` ("" when absent).
pub(crate) fn s<'b>(v: &'b Str<'_>) -> &'b str {
    v.as_deref().unwrap_or("")
}

/// An optional string field as an owned non-empty string.
pub(crate) fn opt_s(v: &Str<'_>) -> Option<String> {
    v.as_deref().filter(|v| !v.is_empty()).map(str::to_string)
}

/// An expense's amount as it counts in a sum: negative for a reversal. Saturating, as
/// every sum of amounts on the read side: a log written elsewhere (a replica's source,
/// an old store) may hold any `i64`, and an overflow must never stop a projection.
pub(crate) fn signed_amount(amount: i64, reversal: bool) -> i64 {
    if reversal {
        amount.saturating_neg()
    } else {
        amount
    }
}

/// An optional string field parsed as an RFC 3339 time.
pub(crate) fn t(v: &Str<'_>) -> Option<DateTime<FixedOffset>> {
    v.as_deref()
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
}

/// The business time of an event: the payload's `at` when present, else the
/// envelope's `occurred_at`.
pub(crate) fn at(ev: &StoredEvent, p: &Payload<'_>) -> DateTime<FixedOffset> {
    t(&p.at).unwrap_or(ev.occurred_at)
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
