//! What "the same demo data" means: the store's visit, complaint and front-desk streams
//! with ids renamed canonically and server-side details dropped, in a stable order.
//!
//! Two runs with the same seed append events in a different global order (tasks run
//! concurrently) and with fresh uuids (v7, from the clock) and `recorded_at` times. They
//! are the same when [`canonical_log`] of both stores is equal: the same streams, each
//! with the same events in the same order (type, schema version, `occurred_at`, actor,
//! payload), where every uuid is replaced by a label that depends only on the content:
//! a stream's own id by `<kind>#<n>` (streams sorted by their content with ids blanked),
//! an entity inside a stream (booking, expense, matter, ...) by `<kind>#<n>/e<m>` in
//! order of first appearance, and references between streams (a complaint's `visit_id`)
//! by the referenced stream's label.

use std::collections::{BTreeMap, HashMap};

use reception_store::{Envelope, Store, StoreError};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// One event with ids renamed and server-side details (seq, id, recorded_at, hashes,
/// correlation) dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanonicalEvent {
    pub event_type: String,
    pub schema: u32,
    /// RFC 3339, with the offset given.
    pub occurred_at: String,
    /// `user/role`.
    pub actor: String,
    pub data: Value,
}

/// One stream with its label instead of its uuid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanonicalStream {
    pub label: String,
    pub events: Vec<CanonicalEvent>,
}

const KINDS: [&str; 3] = ["visit", "complaint", "frontdesk"];

/// The demo-relevant content of a store (streams `visit-*`, `complaint-*`,
/// `frontdesk-*`) in canonical form; see the module docs.
pub fn canonical_log(store: &Store) -> Result<Vec<CanonicalStream>, StoreError> {
    let mut streams: BTreeMap<String, Vec<Envelope>> = BTreeMap::new();
    for env in store.read_all(1, usize::MAX) {
        let env = env?;
        if KINDS
            .iter()
            .any(|k| env.stream.starts_with(&format!("{k}-")))
        {
            streams.entry(env.stream.clone()).or_default().push(env);
        }
    }
    // Sort streams by kind, then by their content with every uuid blanked.
    let mut keyed: Vec<(String, String, Vec<Envelope>)> = streams
        .into_values()
        .map(|events| {
            let kind = events[0]
                .stream
                .split_once('-')
                .map_or("", |(k, _)| k)
                .to_string();
            let blind: Vec<Value> = events.iter().map(|e| blank(&event_value(e))).collect();
            (kind, Value::Array(blind).to_string(), events)
        })
        .collect();
    keyed.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    // Label every stream's own id.
    let mut labels: HashMap<Uuid, String> = HashMap::new();
    let mut per_kind: HashMap<String, usize> = HashMap::new();
    for (kind, _, events) in &keyed {
        let n = per_kind.entry(kind.clone()).or_default();
        if let Some(id) = events[0]
            .stream
            .split_once('-')
            .and_then(|(_, id)| id.parse::<Uuid>().ok())
        {
            labels.insert(id, format!("{kind}#{n}"));
        }
        *n += 1;
    }
    let mut out = Vec::with_capacity(keyed.len());
    for (_, _, events) in keyed {
        let own = events[0]
            .stream
            .split_once('-')
            .and_then(|(_, id)| id.parse::<Uuid>().ok());
        let label = own
            .and_then(|id| labels.get(&id).cloned())
            .unwrap_or_else(|| events[0].stream.clone());
        let mut local: HashMap<Uuid, String> = HashMap::new();
        let events = events
            .iter()
            .map(|e| {
                let mut v = event_value(e);
                rename(&mut v, &mut |id| {
                    if let Some(l) = labels.get(&id) {
                        return l.clone();
                    }
                    let next = local.len();
                    local
                        .entry(id)
                        .or_insert_with(|| format!("{label}/e{next}"))
                        .clone()
                });
                let Value::Object(mut m) = v else {
                    unreachable!("built as an object")
                };
                CanonicalEvent {
                    event_type: e.event_type.clone(),
                    schema: e.schema,
                    occurred_at: e.occurred_at.to_rfc3339(),
                    actor: format!("{}/{}", e.actor.user, e.actor.role),
                    data: m.remove("data").unwrap_or(Value::Null),
                }
            })
            .collect();
        out.push(CanonicalStream { label, events });
    }
    Ok(out)
}

/// The parts of an envelope that must be reproduced.
fn event_value(e: &Envelope) -> Value {
    serde_json::json!({
        "type": e.event_type, "schema": e.schema, "occurred_at": e.occurred_at.to_rfc3339(),
        "actor": [e.actor.user, e.actor.role], "data": e.data,
    })
}

fn as_uuid(s: &str) -> Option<Uuid> {
    if s.len() == 36 {
        s.parse().ok()
    } else {
        None
    }
}

/// Every uuid string replaced by `#`.
fn blank(v: &Value) -> Value {
    let mut v = v.clone();
    rename(&mut v, &mut |_| "#".to_string());
    v
}

/// Replaces every uuid string (values, not keys) with `f(uuid)`.
fn rename(v: &mut Value, f: &mut dyn FnMut(Uuid) -> String) {
    match v {
        Value::String(s) => {
            if let Some(id) = as_uuid(s) {
                *s = f(id);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rename(i, f)),
        Value::Object(map) => map.values_mut().for_each(|i| rename(i, f)),
        _ => {}
    }
}
