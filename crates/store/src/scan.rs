//! Bulk reads for rebuilds: [`Store::scan`] hands out the log as [`StoredEvent`]s (the
//! few envelope fields a projection needs, decoded borrowed, plus the payload as its
//! stored JSON bytes).
//!
//! A stored envelope's `data` is its last field and everything before it is a fixed set
//! of scalar fields (see `codec::Header`), so the payload's bytes are a slice of the
//! stored value: no `serde_json::Value` is built for it. The upcaster still runs: for
//! every (type, schema) it says it rewrites ([`Upcaster::rewrites`], true unless it says
//! otherwise) the payload is decoded, upcast and re-encoded.

use std::ops::Range;

use chrono::{DateTime, FixedOffset};
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::codec;
use crate::{Envelope, Store, StoreError, Upcaster};

/// One event of the log as [`Store::scan`] hands it out: upcast, with the payload as
/// compact JSON bytes (parse them into whatever type the caller needs).
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: u64,
    pub stream: String,
    pub event_type: String,
    pub schema: u32,
    pub occurred_at: DateTime<FixedOffset>,
    /// The actor's role (`"system"` for automatic actions).
    pub actor_role: String,
    data: Payload,
}

#[derive(Debug, Clone)]
enum Payload {
    /// A slice of the stored envelope's bytes (shared with sled's cache, not copied).
    Stored(sled::IVec, Range<usize>),
    Owned(Vec<u8>),
}

impl StoredEvent {
    /// The payload (`data`) as JSON bytes.
    pub fn data(&self) -> &[u8] {
        match &self.data {
            Payload::Stored(bytes, range) => &bytes[range.clone()],
            Payload::Owned(v) => v,
        }
    }

    /// The same event from a decoded envelope (the envelope is taken as already upcast,
    /// e.g. from a subscription).
    pub fn from_envelope(env: &Envelope) -> StoredEvent {
        StoredEvent {
            seq: env.seq,
            stream: env.stream.clone(),
            event_type: env.event_type.clone(),
            schema: env.schema,
            occurred_at: env.occurred_at,
            actor_role: env.actor.role.clone(),
            data: Payload::Owned(serde_json::to_vec(&env.data).unwrap_or_else(|_| b"{}".to_vec())),
        }
    }
}

/// The envelope fields [`StoredEvent`] keeps; the rest is skipped without allocating.
#[derive(Deserialize)]
struct Head<'a> {
    seq: u64,
    #[serde(borrow)]
    stream: std::borrow::Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    event_type: std::borrow::Cow<'a, str>,
    schema: u32,
    occurred_at: DateTime<FixedOffset>,
    #[serde(borrow)]
    actor: ActorRole<'a>,
    #[allow(dead_code)]
    data: IgnoredAny,
}

#[derive(Deserialize)]
struct ActorRole<'a> {
    #[serde(borrow)]
    role: std::borrow::Cow<'a, str>,
}

/// Where the payload starts: the first `,"data":` of a stored envelope is its own field
/// (no field before it is a free-form map, and quotes inside strings are escaped).
const DATA_FIELD: &[u8] = b",\"data\":";

fn decode(
    seq: u64,
    bytes: sled::IVec,
    upcaster: Option<&dyn Upcaster>,
) -> Result<StoredEvent, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { seq, reason };
    let head: Head<'_> = serde_json::from_slice(&bytes)
        .map_err(|e| corrupt(format!("stored envelope does not parse: {e}")))?;
    if head.seq != seq {
        return Err(corrupt(format!(
            "stored under seq {seq} but says {}",
            head.seq
        )));
    }
    let (stream, event_type, actor_role) = (
        head.stream.into_owned(),
        head.event_type.into_owned(),
        head.actor.role.into_owned(),
    );
    let (schema, occurred_at) = (head.schema, head.occurred_at);
    let start = bytes
        .windows(DATA_FIELD.len())
        .position(|w| w == DATA_FIELD)
        .map(|p| p + DATA_FIELD.len());
    let data = match start {
        Some(start) if bytes.ends_with(b"}") && start < bytes.len() - 1 => {
            let end = bytes.len() - 1;
            Payload::Stored(bytes, start..end)
        }
        // not in the compact stored form: take the payload the slow way
        _ => Payload::Owned(
            serde_json::to_vec(&codec::decode_envelope(seq, &bytes)?.data)
                .map_err(|e| corrupt(e.to_string()))?,
        ),
    };
    let mut ev = StoredEvent {
        seq,
        stream,
        event_type,
        schema,
        occurred_at,
        actor_role,
        data,
    };
    if let Some(u) = upcaster.filter(|u| u.rewrites(&ev.event_type, ev.schema)) {
        let value: serde_json::Value = serde_json::from_slice(ev.data())
            .map_err(|e| corrupt(format!("stored payload does not parse: {e}")))?;
        let (schema, value) = u.upcast(&ev.event_type, ev.schema, value);
        ev.schema = schema;
        ev.data = Payload::Owned(serde_json::to_vec(&value).map_err(|e| corrupt(e.to_string()))?);
    }
    Ok(ev)
}

impl Store {
    /// The global log from `from_seq` (inclusive), at most `limit` events, up to the
    /// durable head, upcast, as [`StoredEvent`]s: the bulk read of rebuilds, much
    /// cheaper than [`Store::read_all`] because the payload stays JSON bytes and the
    /// ids, hashes and `recorded_at` are skipped. Errors like `read_all` on a gap or
    /// an unreadable record.
    pub fn scan(
        &self,
        from_seq: u64,
        limit: usize,
    ) -> impl Iterator<Item = Result<StoredEvent, StoreError>> + Send + 'static {
        let reader = &self.inner.reader;
        let head = reader.durable_seq();
        let from = from_seq.max(1);
        let mut log = crate::log::LogIter::new(&reader.events, from..=head);
        let upcaster = reader.upcaster.clone();
        let mut left = limit;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let item = log
                .next()?
                .and_then(|(seq, bytes)| decode(seq, bytes, upcaster.as_deref()));
            left = if item.is_ok() { left - 1 } else { 0 };
            Some(item)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, AppendRequest, ExpectedVersion, NewEvent, StoreOptions};
    use serde_json::json;

    fn ev(t: &str, data: serde_json::Value) -> NewEvent {
        NewEvent {
            id: uuid::Uuid::now_v7(),
            event_type: t.into(),
            schema: 1,
            data,
            occurred_at: None,
            actor: Actor {
                user: "li.na".into(),
                role: "system".into(),
            },
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: uuid::Uuid::now_v7(),
        }
    }

    struct Tag;
    impl Upcaster for Tag {
        fn upcast(
            &self,
            t: &str,
            schema: u32,
            mut data: serde_json::Value,
        ) -> (u32, serde_json::Value) {
            if t == "Old" {
                data["tag"] = json!(1);
                return (2, data);
            }
            (schema, data)
        }
        fn rewrites(&self, t: &str, _schema: u32) -> bool {
            t == "Old"
        }
    }

    /// Also upcasts, but keeps the safe default of `rewrites`.
    struct TagDefault;
    impl Upcaster for TagDefault {
        fn upcast(&self, t: &str, s: u32, d: serde_json::Value) -> (u32, serde_json::Value) {
            Tag.upcast(t, s, d)
        }
    }

    fn append_some(store: &Store) {
        store
            .append_blocking(AppendRequest {
                stream: "s-\"data\":1".into(),
                expected: ExpectedVersion::Any,
                events: vec![
                    ev("Old", json!({"data": {"data": 1}, "x": "中文 \"q\""})),
                    ev("New", json!({"k": [1, 2.5, null]})),
                    ev("Old", json!({})),
                ],
                idempotency: None,
            })
            .unwrap();
    }

    #[test]
    fn scan_equals_read_all_with_and_without_upcasting() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            append_some(&store);
            store.close().unwrap();
        }
        let check = |opts: StoreOptions| {
            let store = Store::open_with(dir.path(), opts).unwrap();
            let all: Vec<Envelope> = store.read_all(1, 10).collect::<Result<_, _>>().unwrap();
            let scanned: Vec<StoredEvent> = store.scan(1, 10).collect::<Result<_, _>>().unwrap();
            assert_eq!(all.len(), scanned.len());
            for (a, s) in all.iter().zip(&scanned) {
                let data: serde_json::Value = serde_json::from_slice(s.data()).unwrap();
                assert_eq!(
                    (
                        a.seq,
                        &a.stream,
                        &a.event_type,
                        a.schema,
                        a.occurred_at,
                        &a.actor.role,
                        &a.data
                    ),
                    (
                        s.seq,
                        &s.stream,
                        &s.event_type,
                        s.schema,
                        s.occurred_at,
                        &s.actor_role,
                        &data
                    )
                );
                let from_env = StoredEvent::from_envelope(a);
                assert_eq!(from_env.data(), serde_json::to_vec(&a.data).unwrap());
            }
            assert_eq!(store.scan(2, 1).count(), 1);
            assert_eq!(store.scan(4, 10).count(), 0);
            store.close().unwrap();
            scanned
        };
        let plain = check(StoreOptions::default());
        assert_eq!(plain[0].schema, 1);
        for opts in [
            StoreOptions {
                upcaster: Some(std::sync::Arc::new(Tag)),
                ..StoreOptions::default()
            },
            StoreOptions {
                upcaster: Some(std::sync::Arc::new(TagDefault)),
                ..StoreOptions::default()
            },
        ] {
            let up = check(opts);
            assert_eq!((up[0].schema, up[1].schema, up[2].schema), (2, 1, 2));
            assert_eq!(up[2].data(), br#"{"tag":1}"#);
        }
    }
}
