//! Reading stored events: which aggregate a stream belongs to, and the payload fields
//! agreed in API.md (command body names plus ids), decoded once per event into a
//! borrowed [`Payload`].
//!
//! The projections read the payload by the contract's field names rather than
//! through the domain's typed events: a projection needs a handful of fields per event,
//! and a borrowed decode of just those keeps rebuilds fast and tolerant of payload
//! additions (unknown fields and unknown event types are ignored). A field of an
//! unexpected JSON type reads as absent, like a missing one.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, Utc};
use reception_store::StoredEvent;
use serde::Deserialize;
use serde_json::{Map, Value};

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

pub(crate) type Str<'a> = Option<Cow<'a, str>>;

/// `customer`: a company name, or an object with `company`, `country`, `foreign`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Customer<'a> {
    Name(#[serde(borrow)] Cow<'a, str>),
    Object {
        #[serde(default, borrow)]
        company: Str<'a>,
        #[serde(default, borrow)]
        country: Str<'a>,
        #[serde(default)]
        foreign: Option<bool>,
    },
}

/// `needs` of a request (what the board's next step reads).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Needs {
    #[serde(default)]
    pub pickup: Option<bool>,
    #[serde(default)]
    pub dropoff: Option<bool>,
}

/// `arrival` / `departure` of a request.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Leg<'a> {
    #[serde(default, borrow)]
    pub at: Str<'a>,
    #[serde(default, borrow)]
    pub number: Str<'a>,
    #[serde(default, borrow)]
    pub place: Str<'a>,
    #[serde(default, borrow)]
    pub arrives_home_at: Str<'a>,
}

/// One of a request's `visitors`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Visitor<'a> {
    #[serde(default, borrow)]
    pub name: Str<'a>,
    #[serde(default, borrow)]
    pub title: Str<'a>,
    #[serde(default, borrow)]
    pub phone: Str<'a>,
}

/// Every payload field any projection reads (all optional).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Payload<'a> {
    #[serde(default, borrow)]
    pub at: Str<'a>,
    #[serde(default, borrow)]
    pub customer: Option<Customer<'a>>,
    #[serde(default, borrow)]
    pub department: Str<'a>,
    #[serde(default, borrow)]
    pub purpose: Str<'a>,
    #[serde(default)]
    pub headcount: Option<i64>,
    #[serde(default, borrow)]
    pub visitors: Option<Vec<Visitor<'a>>>,
    #[serde(default, borrow)]
    pub arrival: Option<Leg<'a>>,
    #[serde(default, borrow)]
    pub departure: Option<Leg<'a>>,
    #[serde(default)]
    pub late: Option<bool>,
    #[serde(default)]
    pub needs: Option<Needs>,
    #[serde(default, borrow)]
    pub level: Str<'a>,
    #[serde(default)]
    pub approved: Option<bool>,
    #[serde(default, borrow)]
    pub host: Str<'a>,
    #[serde(default)]
    pub mid_visit: Option<bool>,
    #[serde(default, borrow)]
    pub leg: Str<'a>,
    #[serde(default, borrow)]
    pub ready_at: Str<'a>,
    #[serde(default, borrow)]
    pub vehicle_class: Str<'a>,
    #[serde(default, borrow)]
    pub plate: Str<'a>,
    #[serde(default, borrow)]
    pub number: Str<'a>,
    #[serde(default, borrow)]
    pub place: Str<'a>,
    #[serde(default, borrow)]
    pub meal: Str<'a>,
    #[serde(default, borrow)]
    pub venue: Str<'a>,
    #[serde(default, borrow)]
    pub kind: Str<'a>,
    #[serde(default, borrow)]
    pub title: Str<'a>,
    #[serde(default, borrow)]
    pub leader: Str<'a>,
    #[serde(default, borrow)]
    pub outcome: Str<'a>,
    #[serde(default, borrow)]
    pub souvenir_id: Str<'a>,
    #[serde(default, borrow)]
    pub expense_id: Str<'a>,
    #[serde(default)]
    pub over_cap: Option<bool>,
    #[serde(default, borrow)]
    pub reverses: Str<'a>,
    #[serde(default)]
    pub amount_fen: Option<i64>,
    #[serde(default, borrow)]
    pub category: Str<'a>,
    #[serde(default, borrow)]
    pub paid_by: Str<'a>,
    #[serde(default, borrow)]
    pub booking_id: Str<'a>,
    #[serde(default)]
    pub cap_fen: Option<i64>,
    #[serde(default, borrow)]
    pub visit_id: Str<'a>,
    #[serde(default, borrow)]
    pub severity: Str<'a>,
    #[serde(default, borrow)]
    pub description: Str<'a>,
    #[serde(default)]
    pub automatic: Option<bool>,
    #[serde(default, borrow)]
    pub name: Str<'a>,
    #[serde(default)]
    pub party_size: Option<i64>,
    #[serde(default, borrow)]
    pub reason: Str<'a>,
    #[serde(default, borrow)]
    pub subject: Str<'a>,
    #[serde(default, borrow)]
    pub text: Str<'a>,
}

impl<'a> Payload<'a> {
    /// Decodes a payload; fields of an unexpected type (and anything in a payload that
    /// is not an object) read as absent.
    pub(crate) fn parse(bytes: &'a [u8]) -> Payload<'a> {
        serde_json::from_slice(bytes).unwrap_or_else(|_| Payload::lenient(bytes))
    }

    /// The slow path for a payload the typed decode refused: keeps the fields that
    /// decode on their own.
    fn lenient(bytes: &[u8]) -> Payload<'static> {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
            return Payload::default();
        };
        let kept: Map<String, Value> = map
            .into_iter()
            .filter(|(k, v)| {
                let one = Value::Object(Map::from_iter([(k.clone(), v.clone())]));
                Payload::deserialize(one).is_ok()
            })
            .collect();
        Payload::deserialize(Value::Object(kept)).unwrap_or_default()
    }
}

/// An optional string field as `&str` ("" when absent).
pub(crate) fn s<'b>(v: &'b Str<'_>) -> &'b str {
    v.as_deref().unwrap_or("")
}

/// An optional string field as an owned non-empty string.
pub(crate) fn opt_s(v: &Str<'_>) -> Option<String> {
    v.as_deref().filter(|v| !v.is_empty()).map(str::to_string)
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

/// The customer's company name (`customer` given as a string or as `{company}`).
pub(crate) fn company_of(customer: &Option<Customer<'_>>) -> String {
    match customer {
        Some(Customer::Name(c)) => c.to_string(),
        Some(Customer::Object { company, .. }) => s(company).to_string(),
        None => String::new(),
    }
}

/// A leg's `at` (`arrival.at`, `departure.at`) as a time.
pub(crate) fn leg_at(leg: &Option<Leg<'_>>) -> Option<DateTime<FixedOffset>> {
    leg.as_ref().and_then(|l| t(&l.at))
}

impl Payload<'_> {
    /// The customer's company name (see [`company_of`]).
    pub(crate) fn company(&self) -> String {
        company_of(&self.customer)
    }

    /// `arrival.at` as a time.
    pub(crate) fn arrival_at(&self) -> Option<DateTime<FixedOffset>> {
        leg_at(&self.arrival)
    }

    /// `departure.at` as a time.
    pub(crate) fn departure_at(&self) -> Option<DateTime<FixedOffset>> {
        leg_at(&self.departure)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_an_unexpected_type_read_as_absent_and_the_rest_is_kept() {
        let p = Payload::parse(
            br#"{"late": "yes", "host": "Li Na", "amount_fen": 1.5, "party_size": 3}"#,
        );
        assert_eq!(
            (p.late, s(&p.host), p.amount_fen, p.party_size),
            (None, "Li Na", None, Some(3))
        );
        let p = Payload::parse(b"[1, 2]");
        assert!(p.host.is_none());
        let p = Payload::parse(
            br#"{"customer": "ACME", "arrival": {"at": "2026-11-22T09:00:00+08:00"}}"#,
        );
        assert_eq!(p.company(), "ACME");
        assert!(p.arrival_at().is_some() && p.departure_at().is_none());
        let p = Payload::parse(br#"{"customer": {"company": "Huaxin \"Q\"", "foreign": true}}"#);
        assert_eq!(p.company(), "Huaxin \"Q\"");
    }
}
