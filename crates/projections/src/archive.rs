//! The customer history archive: per customer company and per visitor, every visit
//! with its itinerary, people, lodging, dining, gifts, matters, feedback and
//! complaints; noted preferences; and the "last time" digest for planning the next visit.
//!
//! A customer's id is its company name normalized by [`crate::normalize_name`]
//! (lowercase letters and digits only), so "Huaxin Dealers Ltd" and "huaxin  dealers
//! ltd" are one customer with id `huaxindealersltd`.
//!
//! Phones: visitors' phone numbers are kept for reception staff; every query path that
//! can reach an analyst takes `redact_phones` and then answers `phone: null`.
//! Search summaries never carry phones.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use reception_store::{ReadModel, StoredEvent};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::docs::{Docs, Keyed};
use crate::event::{self, normalize_name, ty, CustomerView, Payload, StreamKind};
use crate::{Changes, Projection, ProjectionError, ReadSideConfig};
use reception_domain::vocabulary::{archived_fields, PLAN_ITEM_FIELDS};

/// A visitor of a customer, across visits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VisitorRecord {
    pub name: String,
    pub title: String,
    /// `None` when unknown or redacted for analysts.
    pub phone: Option<String>,
    pub visit_ids: Vec<String>,
}

/// One entry of an itinerary, lodging, dining, gift or matter list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// booking, souvenir or matter id when the entry has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The event's payload fields of interest (e.g. `hotel`, `stars`, `venue`, `item`).
    pub fields: Fields,
}

/// A JSON object of payload fields, kept as its compact encoding (keys sorted) rather
/// than as a map of values: the archive holds hundreds of thousands of these, and as
/// `BTreeMap<String, Value>`s they took several times the memory (a map node, a key
/// string and a value per field). Fresh memory is dear (the kernel zeroes each new
/// page), so the archive's size was much of its rebuild time. Serialises as the object itself, so
/// answers and stored documents look exactly as before; reads parse it on demand (a
/// query looks at a few entries).
#[derive(Clone, Default)]
pub struct Fields(Option<Box<RawValue>>);

impl Fields {
    /// The encoding of `map` (sorted keys, as a `BTreeMap` serialises).
    pub fn from_map(map: &BTreeMap<String, Value>) -> Fields {
        if map.is_empty() {
            return Fields::default();
        }
        // a map with string keys of JSON values always encodes
        Fields(serde_json::value::to_raw_value(map).ok())
    }

    /// The object of picked fields, keys sorted: the same text as [`Fields::from_map`]
    /// of the fields decoded as values, without building the values.
    fn from_picked(mut picked: Vec<Picked<'_>>) -> Fields {
        if picked.is_empty() {
            return Fields::default();
        }
        picked.sort_unstable_by_key(|(k, _)| *k);
        let len = picked
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum::<usize>()
            + 1;
        let mut text = String::with_capacity(len);
        for (k, v) in &picked {
            text.push(if text.is_empty() { '{' } else { ',' });
            // the kept names are plain ASCII (`kept_fields`, the archive's own keys)
            text.push('"');
            text.push_str(k);
            text.push_str("\":");
            text.push_str(v);
        }
        text.push('}');
        Fields(RawValue::from_string(text).ok())
    }

    /// The fields as a map (empty for an empty entry).
    pub fn to_map(&self) -> BTreeMap<String, Value> {
        match &self.0 {
            Some(raw) => serde_json::from_str(raw.get()).unwrap_or_default(),
            None => BTreeMap::new(),
        }
    }

    /// One field's value.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.to_map().remove(key)
    }

    /// Sets fields (rare: a souvenir handed, a matter confirmed), re-encoding the object.
    pub fn extend(&mut self, fields: impl IntoIterator<Item = (String, Value)>) {
        let mut map = self.to_map();
        map.extend(fields);
        *self = Fields::from_map(&map);
    }

    /// The compact JSON text (`{}` when empty).
    pub fn as_json(&self) -> &str {
        self.0.as_deref().map_or("{}", RawValue::get)
    }
}

impl PartialEq for Fields {
    fn eq(&self, other: &Fields) -> bool {
        self.as_json() == other.as_json()
    }
}

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_json())
    }
}

impl Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(raw) => raw.serialize(s),
            None => BTreeMap::<String, Value>::new().serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Fields {
    /// Through a map, so that any deserializer (not only serde_json's) can produce one
    /// and the text is always the canonical encoding that equality compares.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, Value>::deserialize(d)?;
        Ok(Fields::from_map(&map))
    }
}

/// A visit as remembered by the archive.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VisitRecord {
    pub visit_id: String,
    pub customer_id: String,
    pub company: String,
    pub department: String,
    pub purpose: String,
    pub headcount: i64,
    pub visitors: Vec<String>,
    pub arrival: Option<DateTime<FixedOffset>>,
    pub departure: Option<DateTime<FixedOffset>>,
    pub arrived_at: Option<DateTime<FixedOffset>>,
    pub departed_at: Option<DateTime<FixedOffset>>,
    pub level: Option<String>,
    /// `open`, `cancelled`, `closed` or `rejected` (V22).
    pub status: String,
    /// The domain's stage: `requested`, `preparing`, `on_site`, `departed`, `closed`,
    /// `cancelled`, `rejected`.
    #[serde(default)]
    pub stage: String,
    /// V22: who bears the cost (the requesting department when the request names none).
    #[serde(default)]
    pub cost_department: String,
    /// V22: the request's budget.
    #[serde(default)]
    pub budget_fen: Option<i64>,
    /// Company-paid expenses, reversals netted (what V22's budget is judged against).
    #[serde(default)]
    pub spend_fen: i64,
    pub itinerary: Vec<Entry>,
    pub host: Option<String>,
    pub accompanying: Vec<Value>,
    pub lodging: Vec<Entry>,
    pub dining: Vec<Entry>,
    pub tours_and_meetings: Vec<Entry>,
    pub gifts: Vec<Entry>,
    pub matters: Vec<Entry>,
    /// The return call's feedback (`reached`, `products`, `corporate_image`,
    /// `reception`, `satisfaction`; V30: `arrived_safely`, `suggestions`).
    pub return_call: Option<Fields>,
    pub complaint_ids: Vec<String>,
    /// V28: the talks' minutes (`ref`, `attendees`, `submitted_at`).
    #[serde(default)]
    pub minutes: Option<Fields>,
    /// V29: home receptions (`at`, `staff`).
    #[serde(default)]
    pub home_receptions: Vec<Entry>,
    /// V27: staff changes (`added`, `removed`, `reason`, `mid_visit`, `changed_at`).
    #[serde(default)]
    pub staff_changes: Vec<Entry>,
    /// V28: follow-up actions (id; `matter_id`, `owner`, `due`, `text`, `done`, and when
    /// done `notes`, `late`, `completed_at`).
    #[serde(default)]
    pub follow_ups: Vec<Entry>,
}

/// A complaint as the archive lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplaintBrief {
    pub complaint_id: String,
    pub visit_id: Option<String>,
    pub severity: String,
    pub category: String,
    pub description: String,
    pub status: String,
}

/// A noted preference or taboo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Preference {
    pub subject: String,
    pub kind: String,
    pub text: String,
    pub visit_id: String,
    pub noted_at: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct CustomerDoc {
    company: String,
    country: String,
    foreign: bool,
    visit_ids: Vec<String>,
    /// normalized name → visitor
    visitors: BTreeMap<String, VisitorRecord>,
    preferences: Vec<Preference>,
    complaints: BTreeMap<String, ComplaintBrief>,
}

/// A search hit (no phone numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSummary {
    /// The normalized company name; use it with `GET /api/v1/customers/{id}`.
    pub customer_id: String,
    pub company: String,
    pub country: String,
    pub visits: usize,
    pub last_arrival: Option<DateTime<FixedOffset>>,
    /// Visitors whose names matched the query.
    pub matched_visitors: Vec<String>,
}

/// A follow-up action not done yet (V28), as a customer's archive lists it: overdue
/// ones outlive their visit's closing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenFollowUp {
    pub follow_up_id: String,
    pub visit_id: String,
    pub owner: String,
    pub text: String,
    pub due: Option<DateTime<FixedOffset>>,
    /// Past due at the answer's `now`.
    pub overdue: bool,
}

/// One visit of the list of every visit (`GET /api/v1/visits`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitSummary {
    pub visit_id: String,
    /// The customer company.
    pub customer: String,
    /// Its id in the archive (`GET /api/v1/customers/{id}`).
    pub customer_id: String,
    pub department: String,
    pub cost_department: String,
    pub level: Option<String>,
    /// The domain's stage (see [`VISIT_STAGES`]).
    pub stage: String,
    pub host: Option<String>,
    /// As planned (requested, amended or rescheduled).
    pub arrival: Option<DateTime<FixedOffset>>,
    pub departure: Option<DateTime<FixedOffset>>,
    pub headcount: i64,
    pub budget_fen: Option<i64>,
    /// Company-paid expenses, reversals netted.
    pub spend_fen: i64,
}

/// The stages a visit's `stage` takes, the domain's `Stage` names in process order.
pub const VISIT_STAGES: [&str; 7] = [
    "requested",
    "preparing",
    "on_site",
    "departed",
    "closed",
    "cancelled",
    "rejected",
];

/// Which visits `GET /api/v1/visits` lists: every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitFilter {
    /// Part of the customer's name, forgiving case, spacing and punctuation (as the
    /// archive's search).
    pub customer: Option<String>,
    /// One of [`VISIT_STAGES`].
    pub stage: Option<String>,
    pub level: Option<String>,
    /// The requesting department.
    pub department: Option<String>,
    pub host: Option<String>,
    /// Planned arrival at or after this instant.
    pub from: Option<DateTime<FixedOffset>>,
    /// Planned arrival before this instant.
    pub to: Option<DateTime<FixedOffset>>,
}

/// A page of the visits a [`VisitFilter`] lets through, latest planned arrival first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitPage {
    pub visits: Vec<VisitSummary>,
    /// How many visits passed the filters (all pages).
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
}

/// The "last time" digest: what the previous visit looked like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastTime {
    pub visit_id: String,
    pub arrival: Option<DateTime<FixedOffset>>,
    pub level: Option<String>,
    pub host: Option<String>,
    pub venues: Vec<String>,
    pub hotels: Vec<String>,
    pub gifts: Vec<String>,
    pub satisfaction: Option<i64>,
    /// Unconfirmed cooperation matters and unresolved complaints.
    pub open_issues: Vec<String>,
}

/// `GET /api/v1/customers/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerProfile {
    pub customer_id: String,
    pub company: String,
    pub country: String,
    pub foreign: bool,
    pub visitors: Vec<VisitorRecord>,
    /// Oldest first.
    pub visits: Vec<VisitRecord>,
    pub preferences: Vec<Preference>,
    pub complaints: Vec<ComplaintBrief>,
    /// V28: follow-ups not done, of every visit (closed ones too), by due time.
    pub follow_ups: Vec<OpenFollowUp>,
    /// The most recent visit that took place (the visitors arrived); never one still
    /// being planned.
    pub last_time: Option<LastTime>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ComplaintLink {
    customer_id: String,
}

pub(crate) struct ArchiveProjection {
    customers: Docs<CustomerDoc>,
    visits: Keyed<VisitRecord>,
    complaints: Keyed<ComplaintLink>,
}

/// `d[key]` as an optional non-empty string.
fn opt_str(d: &BTreeMap<String, Value>, key: &str) -> Option<String> {
    d.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The request's own fields a visit record keeps (as filed or amended, V22).
fn take_request(rec: &mut VisitRecord, d: &Payload<'_>) {
    rec.company = d.company();
    rec.department = event::s(&d.department).to_string();
    rec.cost_department =
        event::opt_s(&d.cost_department).unwrap_or_else(|| rec.department.clone());
    rec.purpose = event::s(&d.purpose).to_string();
    rec.headcount = d.headcount.unwrap_or(0);
    rec.arrival = d.arrival_at();
    rec.departure = d.departure_at();
    rec.budget_fen = d.budget_fen;
}

/// A payload field the archive keeps: its name and its value as compact JSON text,
/// byte for byte what serde_json writes for the value (see [`compact`]).
type Picked<'a> = (&'static str, Cow<'a, str>);

/// A picked field's value as a string (None when it is absent, not a string, or empty).
fn picked_str(picked: &[Picked<'_>], key: &str) -> Option<String> {
    let (_, v) = picked.iter().find(|(k, _)| *k == key)?;
    let s: Cow<'_, str> = serde_json::from_str(v).ok()?;
    Some(s.into_owned()).filter(|s| !s.is_empty())
}

/// Sets `key` to `value` in a list of fields (replacing an earlier value, as a map would).
fn put<V>(fields: &mut Vec<(&'static str, V)>, key: &'static str, value: V) {
    match fields.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => fields.push((key, value)),
    }
}

/// A string as JSON text.
fn json_str(s: &str) -> Cow<'static, str> {
    // a string always encodes
    Cow::Owned(serde_json::to_string(s).unwrap_or_default())
}

/// An entry of the picked payload fields (`at` defaulting to the event's time), with
/// `id_field` as its id.
fn entry(mut picked: Vec<Picked<'_>>, id_field: &str, ev: &StoredEvent) -> Entry {
    let id = picked_str(&picked, id_field);
    picked.retain(|(k, _)| *k != id_field);
    if !picked.iter().any(|(k, _)| *k == "at") {
        picked.push(("at", json_str(&ev.occurred_at.to_rfc3339())));
    }
    Entry {
        id,
        fields: Fields::from_picked(picked),
    }
}

/// A key, borrowed from the input unless it holds escapes.
struct Key;
impl<'de> serde::de::Visitor<'de> for Key {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}
impl<'de> serde::de::DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

/// The fields `names` of a JSON object payload, decoded as values (for the few events
/// whose fields the archive reads as values: a plan's items, the accompanying staff,
/// the updates of an existing entry);
/// the other fields are skipped. Empty for a payload that is not an object.
fn select(bytes: &[u8], names: &[&'static str]) -> BTreeMap<String, Value> {
    pick_raw(bytes, names)
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), serde_json::from_str(v.get()).ok()?)))
        .collect()
}

/// The text of a JSON value as serde_json writes it: borrowed when `raw` already is
/// (a string without escapes, an integer, `true`, `false`, `null`), else the value
/// decoded and encoded again (escapes, floats, objects, arrays and any spacing are
/// written as [`Fields::from_map`] would write them).
fn compact(raw: &RawValue) -> Cow<'_, str> {
    let text = raw.get();
    let b = text.as_bytes();
    let plain = match b.first() {
        Some(b'"') => !b.contains(&b'\\'),
        Some(b't' | b'f' | b'n') => true,
        Some(b'-' | b'0'..=b'9') => {
            // within i64 and not `-0` (which serde_json reads as the float -0.0)
            b.len() <= 18
                && !text.starts_with("-0")
                && b.iter()
                    .enumerate()
                    .all(|(i, c)| c.is_ascii_digit() || (i == 0 && *c == b'-'))
        }
        _ => false,
    };
    if plain {
        return Cow::Borrowed(text);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Cow::Owned(v.to_string()),
        Err(_) => Cow::Borrowed("null"),
    }
}

/// The fields `names` of a JSON object payload as [`Picked`] text, in payload order (a
/// repeated key keeps its last value, as a map would); the other fields are skipped.
/// Empty for a payload that is not an object.
fn pick<'a>(bytes: &'a [u8], names: &[&'static str]) -> Vec<Picked<'a>> {
    pick_raw(bytes, names)
        .into_iter()
        .map(|(k, raw)| (k, compact(raw)))
        .collect()
}

/// The fields `names` of a JSON object payload as the payload's own text of each value
/// (a repeated key keeps its last value); empty for a payload that is not an object.
fn pick_raw<'a>(bytes: &'a [u8], names: &[&'static str]) -> Vec<(&'static str, &'a RawValue)> {
    use serde::de::{IgnoredAny, MapAccess, Visitor};

    struct Kept<'n>(&'n [&'static str]);
    impl<'de> Visitor<'de> for Kept<'_> {
        type Value = Vec<(&'static str, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out: Self::Value = Vec::new();
            while let Some(key) = map.next_key_seed(Key)? {
                match self.0.iter().find(|n| **n == key.as_ref()) {
                    Some(name) => put(&mut out, name, map.next_value::<&'de RawValue>()?),
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde::Deserializer::deserialize_map(&mut de, Kept(names))
        .and_then(|m| de.end().map(|()| m))
        .unwrap_or_default()
}

impl ArchiveProjection {
    fn on_visit(&mut self, ev: &StoredEvent, visit_id: &str) {
        let ty = ev.event_type.as_str();
        if ty == ty::RECEPTION_REQUESTED {
            self.on_requested(ev, visit_id);
            return;
        }
        if self.on_later(ev, visit_id) {
            return;
        }
        if ty == ty::CUSTOMER_PREFERENCE_NOTED {
            self.on_preference(ev, visit_id);
            return;
        }
        let typed = matches!(
            ty,
            ty::LEVEL_ASSIGNED
                | ty::LEVEL_CHANGED
                | ty::HOST_REASSIGNED
                | ty::VISITORS_ARRIVED
                | ty::VISITORS_DEPARTED
                | ty::VISIT_CANCELLED
                | ty::VISIT_CLOSED
        );
        let kept = archived_fields(ty);
        if !typed && kept.is_none() {
            return;
        }
        let Some(v) = self.visits.get_mut(visit_id) else {
            return;
        };
        if typed {
            move_stage(v, ev, ty);
        } else {
            keep_fields(v, ev, ty, kept.unwrap_or_default());
        }
    }

    /// A customer preference, filed under the visit's customer.
    fn on_preference(&mut self, ev: &StoredEvent, visit_id: &str) {
        let Some(customer_id) = self.visits.get(visit_id).map(|v| v.customer_id.clone()) else {
            return;
        };
        let d = Payload::parse(ev.data());
        self.customers
            .entry(&customer_id)
            .preferences
            .push(Preference {
                subject: event::s(&d.subject).to_string(),
                kind: event::s(&d.kind).to_string(),
                text: event::s(&d.text).to_string(),
                visit_id: visit_id.to_string(),
                noted_at: Some(ev.occurred_at),
            });
    }

    /// A new visit: its record, and its customer and visitors in the archive.
    fn on_requested(&mut self, ev: &StoredEvent, visit_id: &str) {
        let d = Payload::parse(ev.data());
        let mut rec = VisitRecord {
            visit_id: visit_id.to_string(),
            status: "open".into(),
            stage: "requested".into(),
            ..VisitRecord::default()
        };
        take_request(&mut rec, &d);
        self.seat(&mut rec, d.customer.as_ref(), d.visitors.as_deref());
        *self.visits.entry(visit_id) = rec;
    }

    /// Puts a visit with the party of `visitors` in its customer's archive (the
    /// customer made known by the record's company, with `customer`'s country).
    fn seat(
        &mut self,
        rec: &mut VisitRecord,
        customer: Option<&CustomerView<'_>>,
        visitors: Option<&[event::VisitorView<'_>]>,
    ) {
        rec.customer_id = normalize_name(&rec.company);
        let visit_id = rec.visit_id.as_str();
        let c = self.customers.entry(&rec.customer_id);
        if c.company.is_empty() {
            c.company = rec.company.clone();
        }
        if let Some(CustomerView::Object {
            country, foreign, ..
        }) = customer
        {
            c.country = event::s(country).to_string();
            c.foreign = foreign.unwrap_or(false);
        }
        if !c.visit_ids.iter().any(|v| v == visit_id) {
            c.visit_ids.push(visit_id.to_string());
        }
        let mut names = Vec::new();
        for v in visitors.unwrap_or_default() {
            let name = event::s(&v.name).to_string();
            let rec = c.visitors.entry(normalize_name(&name)).or_default();
            rec.name = name.clone();
            if let Some(t) = event::opt_s(&v.title) {
                rec.title = t;
            }
            if let Some(p) = event::opt_s(&v.phone) {
                rec.phone = Some(p);
            }
            if !rec.visit_ids.iter().any(|x| x == visit_id) {
                rec.visit_ids.push(visit_id.to_string());
            }
            names.push(name);
        }
        rec.visitors = names;
    }

    /// Takes a visit and its party out of its customer's archive (before an amended
    /// request or a reschedule seats them again); a customer left with nothing is
    /// forgotten.
    fn unseat(&mut self, rec: &VisitRecord) {
        let Some(c) = self.customers.get_mut(&rec.customer_id) else {
            return;
        };
        c.visit_ids.retain(|v| v != &rec.visit_id);
        for name in &rec.visitors {
            let key = normalize_name(name);
            if let Some(r) = c.visitors.get_mut(&key) {
                r.visit_ids.retain(|v| v != &rec.visit_id);
                if r.visit_ids.is_empty() {
                    c.visitors.remove(&key);
                }
            }
        }
        if c.visit_ids.is_empty() && c.complaints.is_empty() && c.preferences.is_empty() {
            self.customers.remove(&rec.customer_id);
        }
    }

    /// The events of V22–V31: the request amended or rescheduled (the customer and
    /// party may change), rejected, the company's spend, minutes, home receptions,
    /// staff changes and follow-ups. False for any other event.
    fn on_later(&mut self, ev: &StoredEvent, visit_id: &str) -> bool {
        let ty = ev.event_type.as_str();
        match ty {
            ty::REQUEST_AMENDED | ty::VISIT_RESCHEDULED => {
                let Some(mut rec) = self.visits.get(visit_id).cloned() else {
                    return true;
                };
                let d = Payload::parse(ev.data());
                self.unseat(&rec);
                let (req, customer) = match &d.request {
                    Some(req) => {
                        take_request(&mut rec, req);
                        (&**req, req.customer.as_ref())
                    }
                    None => (&d, None),
                };
                rec.headcount = req.headcount.unwrap_or(rec.headcount);
                rec.arrival = req.arrival_at().or(rec.arrival);
                rec.departure = req.departure_at().or(rec.departure);
                self.seat(&mut rec, customer, req.visitors.as_deref());
                *self.visits.entry(visit_id) = rec;
                return true;
            }
            ty::EXPENSE_RECORDED => {
                let d = event::CostView::parse(ev.data());
                if let Some(v) = self.visits.get_mut(visit_id) {
                    // as the domain's `Visit::company_spend_fen`
                    if event::s(&d.paid_by) == "company" {
                        let amount = d.amount_fen.unwrap_or(0);
                        v.spend_fen = v
                            .spend_fen
                            .saturating_add(event::signed_amount(amount, d.reverses.is_some()));
                    }
                }
                return true;
            }
            _ => {}
        }
        let Some(kept) = archived_fields(ty).filter(|_| {
            matches!(
                ty,
                ty::MINUTES_SUBMITTED
                    | ty::HOME_RECEPTION_HELD
                    | ty::STAFF_CHANGED
                    | ty::FOLLOW_UP_ADDED
                    | ty::FOLLOW_UP_COMPLETED
            )
        }) else {
            if ty == ty::REQUEST_REJECTED {
                if let Some(v) = self.visits.get_mut(visit_id) {
                    v.status = "rejected".into();
                    v.stage = "rejected".into();
                }
                return true;
            }
            return false;
        };
        let Some(v) = self.visits.get_mut(visit_id) else {
            return true;
        };
        match ty {
            ty::MINUTES_SUBMITTED => v.minutes = Some(Fields::from_picked(pick(ev.data(), kept))),
            ty::HOME_RECEPTION_HELD => v.home_receptions.push(entry(pick(ev.data(), kept), "", ev)),
            ty::STAFF_CHANGED => {
                let mut d = select(ev.data(), kept);
                let removed = match d.get("removed") {
                    Some(Value::Array(r)) => r.clone(),
                    _ => Vec::new(),
                };
                v.accompanying
                    .retain(|m| !removed.iter().any(|r| Some(r) == m.get("name")));
                if let Some(Value::Array(added)) = d.remove("added") {
                    v.accompanying.extend(added.iter().cloned());
                    d.insert("added".into(), Value::Array(added));
                }
                v.staff_changes.push(Entry {
                    id: None,
                    fields: Fields::from_map(&d),
                });
            }
            ty::FOLLOW_UP_ADDED => {
                let mut d = pick(ev.data(), kept);
                put(&mut d, "done", Cow::Borrowed("false"));
                v.follow_ups.push(entry(d, "follow_up_id", ev));
            }
            _ => {
                let mut d = select(ev.data(), kept);
                let id = opt_str(&d, "follow_up_id");
                if let Some(f) = v.follow_ups.iter_mut().find(|f| f.id == id) {
                    d.remove("follow_up_id");
                    d.insert("done".into(), Value::Bool(true));
                    f.fields.extend(d);
                }
            }
        }
        true
    }

    fn on_complaint(&mut self, ev: &StoredEvent, complaint_id: &str) {
        if ev.event_type == ty::COMPLAINT_RAISED {
            let d = Payload::parse(ev.data());
            let visit_id = event::opt_s(&d.visit_id);
            let from_visit = visit_id
                .as_deref()
                .and_then(|v| self.visits.get(v))
                .map(|v| v.customer_id.clone());
            let company = d.company();
            let customer_id = from_visit.unwrap_or_else(|| normalize_name(&company));
            if customer_id.is_empty() {
                return;
            }
            self.complaints.entry(complaint_id).customer_id = customer_id.clone();
            if let Some(v) = visit_id.as_deref().and_then(|v| self.visits.get_mut(v)) {
                v.complaint_ids.push(complaint_id.to_string());
            }
            let c = self.customers.entry(&customer_id);
            if c.company.is_empty() {
                c.company = company;
            }
            c.complaints.insert(
                complaint_id.to_string(),
                ComplaintBrief {
                    complaint_id: complaint_id.to_string(),
                    visit_id,
                    severity: event::s(&d.severity).to_string(),
                    category: event::s(&d.category).to_string(),
                    description: event::s(&d.description).to_string(),
                    status: "open".into(),
                },
            );
            return;
        }
        let status = match ev.event_type.as_str() {
            ty::COMPLAINT_ESCALATED => None,
            ty::COMPLAINT_RESOLVED => Some("resolved"),
            ty::COMPLAINT_CLOSED => Some("closed"),
            _ => return,
        };
        let Some(customer_id) = self
            .complaints
            .get(complaint_id)
            .map(|l| l.customer_id.clone())
        else {
            return;
        };
        let Some(c) = self.customers.get_mut(&customer_id) else {
            return;
        };
        let Some(brief) = c.complaints.get_mut(complaint_id) else {
            return;
        };
        match status {
            None => brief.severity = "major".into(),
            Some(s) => brief.status = s.into(),
        }
    }

    pub(crate) fn search(&self, q: &str) -> Vec<CustomerSummary> {
        let q = normalize_name(q);
        let mut out = Vec::new();
        for (id, c) in self.customers.map.iter() {
            let matched_visitors: Vec<String> = c
                .visitors
                .iter()
                .filter(|(k, _)| k.contains(&q))
                .map(|(_, v)| v.name.clone())
                .collect();
            if q.is_empty() || id.contains(&q) || !matched_visitors.is_empty() {
                out.push(CustomerSummary {
                    customer_id: id.clone(),
                    company: c.company.clone(),
                    country: c.country.clone(),
                    visits: c.visit_ids.len(),
                    last_arrival: c
                        .visit_ids
                        .iter()
                        .filter_map(|v| self.visits.get(v))
                        .filter_map(|v| v.arrival)
                        .max(),
                    matched_visitors,
                });
            }
        }
        out
    }

    pub(crate) fn customer_ids(&self) -> Vec<String> {
        self.customers.map.keys().cloned().collect()
    }

    pub(crate) fn visit_count(&self) -> usize {
        self.visits.map.len()
    }

    /// Every visit the filter lets through, latest planned arrival first (then by id),
    /// `limit` of them from `offset`.
    /// Every visit record (the return-call report reads them).
    pub(crate) fn visit_records(&self) -> impl Iterator<Item = &VisitRecord> {
        self.visits.map.values().map(|v| &**v)
    }

    pub(crate) fn list(&self, f: &VisitFilter, limit: usize, offset: usize) -> VisitPage {
        let customer = f.customer.as_deref().map(normalize_name);
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let mut hits: Vec<&VisitRecord> = self
            .visits
            .map
            .values()
            .map(|v| &**v)
            .filter(|v| {
                customer
                    .as_deref()
                    .is_none_or(|c| v.customer_id.contains(c))
            })
            .filter(|v| is(&f.stage, &v.stage))
            .filter(|v| is(&f.level, v.level.as_deref().unwrap_or("")))
            .filter(|v| is(&f.department, &v.department))
            .filter(|v| is(&f.host, v.host.as_deref().unwrap_or("")))
            .filter(|v| {
                f.from
                    .is_none_or(|from| v.arrival.is_some_and(|a| a >= from))
            })
            .filter(|v| f.to.is_none_or(|to| v.arrival.is_some_and(|a| a < to)))
            .collect();
        hits.sort_unstable_by(|a, b| (b.arrival, &b.visit_id).cmp(&(a.arrival, &a.visit_id)));
        let visits = hits
            .iter()
            .skip(offset)
            .take(limit)
            .map(|v| VisitSummary {
                visit_id: v.visit_id.clone(),
                customer: v.company.clone(),
                customer_id: v.customer_id.clone(),
                department: v.department.clone(),
                cost_department: v.cost_department.clone(),
                level: v.level.clone(),
                stage: v.stage.clone(),
                host: v.host.clone(),
                arrival: v.arrival,
                departure: v.departure,
                headcount: v.headcount,
                budget_fen: v.budget_fen,
                spend_fen: v.spend_fen,
            })
            .collect();
        VisitPage {
            visits,
            total: hits.len(),
            limit,
            offset,
        }
    }

    pub(crate) fn profile(
        &self,
        id: &str,
        redact_phones: bool,
        now: DateTime<FixedOffset>,
    ) -> Option<CustomerProfile> {
        let c = self.customers.get(id)?;
        let mut visits: Vec<VisitRecord> = c
            .visit_ids
            .iter()
            .filter_map(|v| self.visits.get(v))
            .cloned()
            .collect();
        visits.sort_by(|a, b| (a.arrival, &a.visit_id).cmp(&(b.arrival, &b.visit_id)));
        let visitors = c
            .visitors
            .values()
            .map(|v| VisitorRecord {
                phone: if redact_phones { None } else { v.phone.clone() },
                ..v.clone()
            })
            .collect();
        let complaints: Vec<ComplaintBrief> = c.complaints.values().cloned().collect();
        let mut follow_ups: Vec<OpenFollowUp> = visits
            .iter()
            .flat_map(|v| v.follow_ups.iter().map(move |f| (v, f)))
            .filter(|(_, f)| f.fields.get("done") != Some(Value::Bool(true)))
            .map(|(v, f)| {
                let field = |k: &str| match f.fields.get(k) {
                    Some(Value::String(s)) => s,
                    _ => String::new(),
                };
                let due = DateTime::parse_from_rfc3339(&field("due")).ok();
                OpenFollowUp {
                    follow_up_id: f.id.clone().unwrap_or_default(),
                    visit_id: v.visit_id.clone(),
                    owner: field("owner"),
                    text: field("text"),
                    due,
                    overdue: due.is_some_and(|d| now > d),
                }
            })
            .collect();
        follow_ups.sort_by(|a, b| (a.due, &a.follow_up_id).cmp(&(b.due, &b.follow_up_id)));
        // the most recent visit that took place: a visit being planned (or cancelled
        // before the visitors came) has no arrival
        let last_time = visits
            .iter()
            .filter(|v| v.arrived_at.is_some())
            .max_by(|a, b| (a.arrived_at, &a.visit_id).cmp(&(b.arrived_at, &b.visit_id)))
            .map(|v| {
                let strings = |list: &[Entry], key: &str| -> Vec<String> {
                    list.iter()
                        .filter_map(|e| match e.fields.get(key) {
                            Some(Value::String(s)) => Some(s),
                            _ => None,
                        })
                        .collect()
                };
                let mut open_issues: Vec<String> = v
                    .matters
                    .iter()
                    .filter(|m| m.fields.get("confirmed") != Some(Value::Bool(true)))
                    .filter_map(|m| match m.fields.get("text") {
                        Some(Value::String(t)) => Some(format!("unconfirmed matter: {t}")),
                        _ => None,
                    })
                    .collect();
                open_issues.extend(
                    complaints
                        .iter()
                        .filter(|b| b.status == "open")
                        .map(|b| format!("open {} complaint: {}", b.severity, b.description)),
                );
                LastTime {
                    visit_id: v.visit_id.clone(),
                    arrival: v.arrived_at,
                    level: v.level.clone(),
                    host: v.host.clone(),
                    venues: strings(&v.dining, "venue"),
                    hotels: strings(&v.lodging, "hotel"),
                    gifts: strings(&v.gifts, "item"),
                    satisfaction: v
                        .return_call
                        .as_ref()
                        .and_then(|r| r.get("satisfaction"))
                        .and_then(|s| s.as_i64()),
                    open_issues,
                }
            });
        Some(CustomerProfile {
            customer_id: id.to_string(),
            company: c.company.clone(),
            country: c.country.clone(),
            foreign: c.foreign,
            visitors,
            visits,
            preferences: c.preferences.clone(),
            complaints,
            follow_ups,
            last_time,
        })
    }
}

impl Projection for ArchiveProjection {
    const NAME: &'static str = "archive";
    /// 2: a visit's stage, cost department, budget and spend, minutes, home
    /// receptions, staff changes and follow-ups (V22–V30); amended and rescheduled
    /// requests.
    const VERSION: u32 = 2;

    fn new(_cfg: &ReadSideConfig) -> Self {
        ArchiveProjection {
            customers: Docs::new("c/"),
            visits: Keyed::new("v/"),
            complaints: Keyed::new("k/"),
        }
    }

    fn load(&mut self, rm: &ReadModel) -> Result<(), ProjectionError> {
        self.customers.load(rm)?;
        self.visits.load(rm)?;
        self.complaints.load(rm)
    }

    fn apply(&mut self, ev: &StoredEvent) {
        match event::stream_kind(&ev.stream) {
            (StreamKind::Visit, id) => self.on_visit(ev, id),
            (StreamKind::Complaint, id) => self.on_complaint(ev, id),
            _ => {}
        }
    }

    fn drain(&mut self, out: &mut Changes, all: bool) -> Result<(), ProjectionError> {
        if all {
            // a rebuild's full write: the two big keyspaces are encoded side by side
            let (customers, visits) = (&mut self.customers, &mut self.visits);
            let theirs = std::thread::scope(|scope| {
                let mut theirs = out.fork();
                let other =
                    scope.spawn(move || customers.drain(&mut theirs, true).map(|()| theirs));
                let mine = visits.drain(out, true);
                let theirs = other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                mine.and(theirs)
            })?;
            out.append(theirs);
        } else {
            self.customers.drain(out, all)?;
            self.visits.drain(out, all)?;
        }
        self.complaints.drain(out, all)?;
        Ok(())
    }

    fn set_tracking(&mut self, on: bool) {
        self.customers.set_tracking(on);
        self.visits.set_tracking(on);
        self.complaints.set_tracking(on);
    }
}

/// The visit events that move a record's stage and status, as the domain's `evolve`
/// moves them.
fn move_stage(v: &mut VisitRecord, ev: &StoredEvent, ty: &str) {
    let p = if matches!(ty, ty::VISIT_CANCELLED | ty::VISIT_CLOSED) {
        Payload::default()
    } else {
        Payload::parse(ev.data())
    };
    // the stage moves as the domain's `evolve` moves it
    match ty {
        ty::LEVEL_ASSIGNED | ty::LEVEL_CHANGED => {
            v.level = event::opt_s(&p.level);
            if ty == ty::LEVEL_ASSIGNED && v.stage == "requested" {
                v.stage = "preparing".into();
            }
        }
        ty::HOST_REASSIGNED => v.host = event::opt_s(&p.host),
        ty::VISITORS_ARRIVED => {
            v.arrived_at = Some(event::at(ev, &p));
            if matches!(v.stage.as_str(), "requested" | "preparing") {
                v.stage = "on_site".into();
            }
        }
        ty::VISITORS_DEPARTED => {
            v.departed_at = Some(event::at(ev, &p));
            if v.stage == "on_site" {
                v.stage = "departed".into();
            }
        }
        ty::VISIT_CANCELLED => {
            v.status = "cancelled".into();
            v.stage = "cancelled".into();
        }
        _ => {
            v.status = "closed".into();
            v.stage = "closed".into();
        }
    }
}

/// The visit events the archive keeps fields of: the itinerary, staff, bookings,
/// gifts, matters, talks and the return call.
fn keep_fields(v: &mut VisitRecord, ev: &StoredEvent, ty: &str, kept: &[&'static str]) {
    match ty {
        ty::PLAN_DRAFTED => {
            let mut d = select(ev.data(), kept);
            v.itinerary = match d.remove("items") {
                Some(Value::Array(items)) => items
                    .into_iter()
                    .map(|i| Entry {
                        id: None,
                        fields: match i {
                            Value::Object(mut i) => Fields::from_map(
                                &PLAN_ITEM_FIELDS
                                    .iter()
                                    .filter_map(|n| i.remove_entry(*n))
                                    .collect(),
                            ),
                            _ => Fields::default(),
                        },
                    })
                    .collect(),
                _ => Vec::new(),
            };
            return;
        }
        ty::STAFF_ASSIGNED => {
            let mut d = select(ev.data(), kept);
            v.host = opt_str(&d, "host");
            v.accompanying = match d.remove("accompanying") {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            return;
        }
        // updates of an existing entry (rare): the fields are merged as values
        ty::SOUVENIR_HANDED => {
            let id = opt_str(&select(ev.data(), kept), "souvenir_id");
            if let Some(g) = v.gifts.iter_mut().find(|g| g.id == id) {
                g.fields.extend([("handed".into(), Value::Bool(true))]);
            }
            return;
        }
        ty::COOPERATION_MATTER_CONFIRMED => {
            let mut d = select(ev.data(), kept);
            let id = opt_str(&d, "matter_id");
            if let Some(m) = v.matters.iter_mut().find(|m| m.id == id) {
                d.remove("matter_id");
                d.insert("confirmed".into(), Value::Bool(true));
                m.fields.extend(d);
            }
            return;
        }
        _ => {}
    }
    // the other kept events become entries straight from the payload's text
    let mut d = pick(ev.data(), kept);
    match ty {
        ty::LODGING_BOOKED => v.lodging.push(entry(d, "booking_id", ev)),
        ty::MEAL_BOOKED => v.dining.push(entry(d, "booking_id", ev)),
        ty::ENTERTAINMENT_ARRANGED => v.tours_and_meetings.push(entry(d, "booking_id", ev)),
        ty::TOUR_HELD | ty::LEADER_MEETING_HELD | ty::LEADERSHIP_TALKS_HELD => {
            put(&mut d, "event", json_str(&ev.event_type));
            v.tours_and_meetings.push(entry(d, "", ev));
        }
        ty::SOUVENIR_PLANNED => {
            put(&mut d, "handed", Cow::Borrowed("false"));
            v.gifts.push(entry(d, "souvenir_id", ev));
        }
        ty::COOPERATION_MATTER_PROPOSED => {
            put(&mut d, "confirmed", Cow::Borrowed("false"));
            v.matters.push(entry(d, "matter_id", ev));
        }
        ty::RETURN_CALL_DONE => v.return_call = Some(Fields::from_picked(d)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_encode_like_the_map_they_replace_and_read_back_old_documents() {
        let map: BTreeMap<String, Value> = serde_json::from_str(
            r#"{"venue": "Lu \"Yuan\"", "party_size": 8, "at": "2026-03-02T12:00:00+08:00", "notes": {"a": [1, null]}}"#,
        )
        .unwrap();
        let fields = Fields::from_map(&map);
        // an entry serialises exactly as the map did (what answers and stored
        // documents of earlier versions hold)
        let old = serde_json::to_string(&map).unwrap();
        assert_eq!(serde_json::to_string(&fields).unwrap(), old);
        assert_eq!(fields.to_map(), map);
        let loaded: Fields = serde_json::from_str(&old).unwrap();
        assert_eq!(loaded, fields);
        let spaced: Fields = serde_json::from_str(r#"{ "party_size" : 8 }"#).unwrap();
        assert_eq!(spaced.as_json(), r#"{"party_size":8}"#);
        assert_eq!(fields.get("venue"), Some(Value::from("Lu \"Yuan\"")));
        assert_eq!(fields.get("absent"), None);
        let mut handed = fields.clone();
        handed.extend([("handed".to_string(), Value::Bool(true))]);
        assert_eq!(handed.get("handed"), Some(Value::Bool(true)));
        assert_eq!(handed.get("party_size"), Some(Value::from(8)));
        assert_ne!(handed, fields);
        // an empty entry is `{}` both ways
        let empty = Fields::from_map(&BTreeMap::new());
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
        assert_eq!(serde_json::from_str::<Fields>("{}").unwrap(), empty);
        let entry = Entry {
            id: Some("b1".into()),
            fields,
        };
        let text = serde_json::to_string(&entry).unwrap();
        assert_eq!(text, format!(r#"{{"id":"b1","fields":{old}}}"#));
        assert_eq!(serde_json::from_str::<Entry>(&text).unwrap(), entry);
    }

    #[test]
    fn select_holds_exactly_the_named_fields_of_a_full_parse() {
        let bytes = br#"{"hotel": "Grand \"H\"", "notes": {"long": [1, 2, 3]}, "stars": 5, "rooms": null, "car_id": "x", "items": [{"at": "t", "kind": "meal"}], "r\u00e9f": 1}"#;
        let full: Value = serde_json::from_slice(bytes).unwrap();
        let names = ["hotel", "stars", "rooms", "items", "réf", "absent"];
        let kept = select(bytes, &names);
        for name in names {
            assert_eq!(kept.get(name), full.get(name), "{name}");
        }
        assert_eq!(kept.len(), 5);
        assert_eq!(kept.get("notes"), None);
        assert!(select(b"[1]", &names).is_empty());
        assert!(select(b"{\"hotel\": 1} trailing", &names).is_empty());
    }

    #[test]
    fn picked_fields_encode_exactly_as_the_decoded_map_would() {
        let names = [
            "hotel", "stars", "rooms", "nights", "rate_fen", "paid_by", "at",
        ];
        for payload in [
            r#"{"hotel": "Grand \"H\"", "stars": 5, "rooms": null, "car_id": "x"}"#,
            r#"{ "hotel" : "caf\u00e9 \/ \n", "stars": 4.50, "nights": -0, "rate_fen": 123456789012345678901}"#,
            r#"{"paid_by": {"b": [1, 2.0e1, "x"], "a": true}, "rooms": [ ], "nights": -12, "at": false}"#,
            r#"{"hotel": "one", "hotel": "two", "stars": 1e2, "rate_fen": 9007199254740993}"#,
            r#"{"hotel": "静安宾馆", "r\u00e9f": 1, "rate_fen": 0, "nights": 123456789012345678}"#,
            r#"{}"#,
            r#"[1, 2]"#,
            r#"{"hotel": 1} trailing"#,
        ] {
            let map = select(payload.as_bytes(), &names);
            let picked = pick(payload.as_bytes(), &names);
            assert_eq!(
                Fields::from_picked(picked).as_json(),
                Fields::from_map(&map).as_json(),
                "{payload}"
            );
        }
        // an entry's id and default time, as the map-based entry made them
        let ev = StoredEvent::from_envelope(&reception_store::Envelope {
            seq: 1,
            stream: "visit-v1".into(),
            version: 1,
            id: uuid::Uuid::nil(),
            event_type: ty::LODGING_BOOKED.into(),
            schema: 1,
            occurred_at: "2026-03-02T09:30:00+08:00".parse().unwrap(),
            recorded_at: "2026-03-02T01:30:00Z".parse().unwrap(),
            actor: reception_store::Actor {
                user: "u".into(),
                role: "reception".into(),
            },
            correlation_id: uuid::Uuid::nil(),
            causation_id: uuid::Uuid::nil(),
            prev_hash: String::new(),
            hash: String::new(),
            sig: None,
            data: serde_json::json!({"booking_id": "b\u{e9}", "hotel": "H"}),
        });
        let e = entry(
            pick(ev.data(), archived_fields(ty::LODGING_BOOKED).unwrap()),
            "booking_id",
            &ev,
        );
        assert_eq!(e.id.as_deref(), Some("bé"));
        let mut expected = BTreeMap::new();
        expected.insert("hotel".to_string(), Value::from("H"));
        expected.insert("at".to_string(), Value::from(ev.occurred_at.to_rfc3339()));
        assert_eq!(e.fields, Fields::from_map(&expected));
    }

    #[test]
    fn the_visit_stages_are_the_domains_stage_names() {
        use reception_domain::visit::Stage;
        let domain: Vec<String> = [
            Stage::Requested,
            Stage::Preparing,
            Stage::OnSite,
            Stage::Departed,
            Stage::Closed,
            Stage::Cancelled,
            Stage::Rejected,
        ]
        .iter()
        .map(|s| {
            serde_json::to_value(s)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
        assert_eq!(domain, VISIT_STAGES);
    }

    #[test]
    fn every_kept_event_names_its_fields_once() {
        for ty in [
            ty::PLAN_DRAFTED,
            ty::STAFF_ASSIGNED,
            ty::LODGING_BOOKED,
            ty::MEAL_BOOKED,
            ty::ENTERTAINMENT_ARRANGED,
            ty::TOUR_HELD,
            ty::LEADER_MEETING_HELD,
            ty::LEADERSHIP_TALKS_HELD,
            ty::SOUVENIR_PLANNED,
            ty::SOUVENIR_HANDED,
            ty::COOPERATION_MATTER_PROPOSED,
            ty::COOPERATION_MATTER_CONFIRMED,
            ty::RETURN_CALL_DONE,
            ty::MINUTES_SUBMITTED,
            ty::HOME_RECEPTION_HELD,
            ty::STAFF_CHANGED,
            ty::FOLLOW_UP_ADDED,
            ty::FOLLOW_UP_COMPLETED,
        ] {
            let names = archived_fields(ty).unwrap();
            let set: std::collections::BTreeSet<_> = names.iter().collect();
            assert_eq!(set.len(), names.len(), "{ty}");
        }
        assert!(archived_fields(ty::VISIT_CLOSED).is_none());
    }
}
