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

/// The envelope fields [`StoredEvent`] keeps, read in stored order up to the `data`
/// key (the payload itself is not walked; the rest is skipped without allocating).
#[derive(Debug, Default, PartialEq)]
struct Head {
    seq: Option<u64>,
    stream: Option<String>,
    event_type: Option<String>,
    schema: Option<u32>,
    occurred_at: Option<DateTime<FixedOffset>>,
    actor_role: Option<String>,
    /// Where the payload starts: just after the top-level `"data":`.
    data_at: Option<usize>,
}

#[derive(Deserialize)]
struct ActorRole {
    role: String,
}

/// The head of an envelope in exactly the form `codec::encode_new` stores (compact,
/// fields in `Envelope`'s declaration order, `data` last), read with literal prefix
/// checks instead of a JSON parser; `None` for anything else, and then [`serde_head`]
/// decides. It accepts only what `serde_head` accepts and reads the same head from it:
/// every string it reads or skips must be free of escapes (a backslash gives up) and
/// of control characters (which serde_json rejects), numbers are plain digits without
/// a leading zero, and the stored seq must be the key's.
fn compact_head(seq: u64, b: &[u8]) -> Option<Head> {
    let mut c = Cursor { b, i: 0 };
    c.lit(b"{\"seq\":")?;
    if c.uint()? != seq {
        return None;
    }
    c.lit(b",\"stream\":")?;
    let stream = c.string()?;
    c.lit(b",\"version\":")?;
    c.uint()?;
    c.lit(b",\"id\":")?;
    c.plain_str()?;
    c.lit(b",\"type\":")?;
    let event_type = c.string()?;
    c.lit(b",\"schema\":")?;
    let schema = u32::try_from(c.uint()?).ok()?;
    c.lit(b",\"occurred_at\":")?;
    let text = std::str::from_utf8(c.plain_str()?).ok()?;
    let occurred_at = rfc3339(text).or_else(|| DateTime::parse_from_rfc3339(text).ok())?;
    c.lit(b",\"recorded_at\":")?;
    c.plain_str()?;
    c.lit(b",\"actor\":{\"user\":")?;
    c.plain_str()?;
    c.lit(b",\"role\":")?;
    let actor_role = c.string()?;
    c.lit(b"},\"correlation_id\":")?;
    c.plain_str()?;
    c.lit(b",\"causation_id\":")?;
    c.plain_str()?;
    c.lit(b",\"prev_hash\":")?;
    c.plain_str()?;
    c.lit(b",\"hash\":")?;
    c.plain_str()?;
    if c.lit(b",\"sig\":").is_some() {
        c.plain_str()?;
    }
    c.lit(b",\"data\":")?;
    Some(Head {
        seq: Some(seq),
        stream: Some(stream),
        event_type: Some(event_type),
        schema: Some(schema),
        occurred_at: Some(occurred_at),
        actor_role: Some(actor_role),
        data_at: Some(c.i),
    })
}

/// A position in a stored envelope, for [`compact_head`].
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    /// Steps over `lit` if the input continues with it.
    fn lit(&mut self, lit: &[u8]) -> Option<()> {
        self.b.get(self.i..)?.starts_with(lit).then(|| {
            self.i += lit.len();
        })
    }

    /// A JSON integer of plain digits (no sign, fraction or exponent) that fits a u64.
    fn uint(&mut self) -> Option<u64> {
        let rest = &self.b[self.i..];
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        let n = rest[..digits].iter().try_fold(0u64, |n, c| {
            n.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        })?;
        self.i += digits;
        Some(n)
    }

    /// The contents of the JSON string at the cursor if it has no escape and no
    /// control character (its bytes are then its value; UTF-8 is not checked here).
    fn plain_str(&mut self) -> Option<&'a [u8]> {
        let rest = self.b.get(self.i..)?.strip_prefix(b"\"")?;
        let len = memchr::memchr2(b'"', b'\\', rest)?;
        let s = &rest[..len];
        // one branch-free pass the compiler vectorises
        let clean = s.iter().fold(true, |ok, &c| ok & (c >= 0x20));
        if rest[len] != b'"' || !clean {
            return None;
        }
        self.i += len + 2;
        Some(s)
    }

    /// A [`Cursor::plain_str`] that is valid UTF-8, as an owned String.
    fn string(&mut self) -> Option<String> {
        std::str::from_utf8(self.plain_str()?)
            .ok()
            .map(str::to_owned)
    }
}

/// The head the serde way (any layout serde_json reads), for envelopes that
/// [`compact_head`] does not take.
fn serde_head(bytes: &[u8]) -> Head {
    use serde::de::{MapAccess, Visitor};

    /// Reads the envelope's fields into `head` and stops at the `data` key, whose
    /// position in the input it notes (the key is borrowed from the input, so its
    /// address says where it is). Stopping early makes the parser report unread
    /// input, which the caller ignores once `data_at` is set.
    struct Fields<'h> {
        head: &'h mut Head,
        base: usize,
    }
    impl<'de> Visitor<'de> for Fields<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a stored envelope")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let h = self.head;
            while let Some(key) = map.next_key::<&'de str>()? {
                match key {
                    "seq" => h.seq = Some(map.next_value()?),
                    "stream" => h.stream = Some(map.next_value()?),
                    "type" => h.event_type = Some(map.next_value()?),
                    "schema" => h.schema = Some(map.next_value()?),
                    "occurred_at" => {
                        let text = map.next_value::<&'de str>()?;
                        h.occurred_at = Some(match rfc3339(text) {
                            Some(t) => t,
                            None => DateTime::parse_from_rfc3339(text)
                                .map_err(serde::de::Error::custom)?,
                        });
                    }
                    "actor" => h.actor_role = Some(map.next_value::<ActorRole>()?.role),
                    "data" => {
                        h.data_at = (key.as_ptr() as usize)
                            .checked_sub(self.base)
                            .map(|at| at + b"data\":".len());
                        return Ok(());
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }

    let mut head = Head::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let fields = Fields {
        head: &mut head,
        base: bytes.as_ptr() as usize,
    };
    // an error also when the visitor stopped at `data` (unread input follows):
    // what `head` holds then decides
    let _ = serde::Deserializer::deserialize_map(&mut de, fields);
    head
}

/// `YYYY-MM-DDTHH:MM:SS[.f]±HH:MM` or `...Z` as chrono writes it; None for
/// anything else (then chrono's own parser decides).
fn rfc3339(s: &str) -> Option<DateTime<FixedOffset>> {
    use chrono::{NaiveDate, TimeZone};
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (mut i, mut nanos) = (19, 0u32);
    if b[i] == b'.' {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = num(i + 1..i + 1 + digits)? * 10u32.pow(9 - digits as u32);
        i += 1 + digits;
    }
    let offset = match &b[i..] {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (hours, minutes) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            // chrono refuses an offset of 24 hours or 60 minutes and more
            if hours > 23 || minutes > 59 {
                return None;
            }
            let secs = (hours * 3600 + minutes * 60) as i32;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (h, m, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if sec > 59 {
        return None;
    }
    let local = date.and_hms_nano_opt(h, m, sec, nanos)?;
    FixedOffset::east_opt(offset)?
        .from_local_datetime(&local)
        .single()
}

/// The JSON brackets, by value (`{`, `[`, `}`, `]`).
const OPEN_OBJECT: u8 = 0x7B;
const OPEN_ARRAY: u8 = 0x5B;
const CLOSE_OBJECT: u8 = 0x7D;
const CLOSE_ARRAY: u8 = 0x5D;

/// Whether `rest` is an object or array payload whose brackets close exactly
/// before the envelope's final `}` (strings skipped, escapes honoured): a cheap
/// structural check instead of a full parse, so that a record cut short or
/// followed by other fields is not sliced. Anything else takes the slow path.
/// (Brackets are counted, not matched: `{]` closes like `{}`.)
fn closed(rest: &[u8]) -> bool {
    if !matches!(rest.first(), Some(&OPEN_OBJECT | &OPEN_ARRAY)) {
        return false;
    }
    let (mut depth, mut i) = (0usize, 0);
    while i < rest.len() {
        match rest[i] {
            // inside a string only its closing quote and escapes matter
            b'"' => match string_end(rest, i) {
                Some(end) => i = end,
                None => return false,
            },
            OPEN_OBJECT | OPEN_ARRAY => depth += 1,
            CLOSE_OBJECT | CLOSE_ARRAY => {
                depth -= 1;
                if depth == 0 {
                    return rest[i + 1..] == [CLOSE_OBJECT];
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// The index of the quote closing the string that opens at `start` (escapes
/// honoured); `None` when it never closes.
fn string_end(rest: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    loop {
        let k = memchr::memchr2(b'"', b'\\', rest.get(i + 1..)?)?;
        i += 1 + k;
        if rest[i] == b'"' {
            return Some(i);
        }
        i += 1; // the escaped byte
    }
}

fn decode(
    seq: u64,
    bytes: sled::IVec,
    upcaster: Option<&dyn Upcaster>,
) -> Result<StoredEvent, StoreError> {
    let head = compact_head(seq, &bytes).unwrap_or_else(|| serde_head(&bytes));
    decode_head(seq, bytes, head, upcaster)
}

/// The event from its envelope's `head` (sliced when the head is complete and the
/// payload closes the envelope, else the envelope parsed whole), upcast.
fn decode_head(
    seq: u64,
    bytes: sled::IVec,
    head: Head,
    upcaster: Option<&dyn Upcaster>,
) -> Result<StoredEvent, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { seq, reason };
    let mut ev = match head {
        Head {
            seq: Some(s),
            stream: Some(stream),
            event_type: Some(event_type),
            schema: Some(schema),
            occurred_at: Some(occurred_at),
            actor_role: Some(actor_role),
            data_at: Some(start),
        } if s == seq
            && start < bytes.len() - 1
            && bytes[..start].ends_with(b"\"data\":")
            && closed(&bytes[start..]) =>
        {
            let end = bytes.len() - 1;
            StoredEvent {
                seq,
                stream,
                event_type,
                schema,
                occurred_at,
                actor_role,
                data: Payload::Stored(bytes, start..end),
            }
        }
        // not in the compact stored form: take the envelope the slow way
        _ => {
            let env = codec::decode_envelope(seq, &bytes)?;
            if env.seq != seq {
                return Err(corrupt(format!(
                    "stored under seq {seq} but says {}",
                    env.seq
                )));
            }
            StoredEvent::from_envelope(&env)
        }
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

/// The scan's answer for one stored record against serde_json's, for fuzzing and
/// property tests (hostile or damaged bytes): `Ok(taken)` when they agree, with whether
/// the hand-written fast path took the record; `Err` says how they differ. Agreeing
/// means: the fast path's head equals serde's head; the scan's outcome equals the one
/// of the serde head alone, errors included; and when the record parses as an
/// [`Envelope`] of this seq, the scan answers the same event (payload as JSON).
pub fn fast_path_check(seq: u64, bytes: &[u8]) -> Result<bool, String> {
    let fast = compact_head(seq, bytes);
    let taken = fast.is_some();
    if let Some(head) = fast {
        let slow = serde_head(bytes);
        if head != slow {
            return Err(format!("fast head {head:?} but serde head {slow:?}"));
        }
    }
    let show = |r: &Result<StoredEvent, StoreError>| format!("{:?}", r.as_ref().map(event_fields));
    let scanned = decode(seq, sled::IVec::from(bytes), None);
    let via_serde = decode_head(seq, sled::IVec::from(bytes), serde_head(bytes), None);
    if show(&scanned) != show(&via_serde) {
        return Err(format!(
            "scan {} but the serde head gives {}",
            show(&scanned),
            show(&via_serde)
        ));
    }
    if let Ok(env) = codec::decode_envelope(seq, bytes) {
        if env.seq == seq {
            let ev = scanned.map_err(|e| format!("serde reads the envelope, the scan says {e}"))?;
            let data: Result<serde_json::Value, _> = serde_json::from_slice(ev.data());
            let got = (
                ev.stream.as_str(),
                ev.event_type.as_str(),
                ev.schema,
                ev.occurred_at,
                ev.actor_role.as_str(),
                data.ok(),
            );
            let want = (
                env.stream.as_str(),
                env.event_type.as_str(),
                env.schema,
                env.occurred_at,
                env.actor.role.as_str(),
                Some(env.data.clone()),
            );
            if got != want {
                return Err(format!("scan {got:?} but serde {want:?}"));
            }
        }
    }
    Ok(taken)
}

/// The fast time parser against chrono's (through serde, as an envelope's time is
/// read): `Ok(taken)` when it gave up or read the same time as chrono; `Err` otherwise.
pub fn fast_time_check(text: &str) -> Result<bool, String> {
    let Some(fast) = rfc3339(text) else {
        return Ok(false);
    };
    let json = serde_json::to_string(text).map_err(|e| e.to_string())?;
    match serde_json::from_str::<DateTime<FixedOffset>>(&json) {
        Ok(t) if t == fast && t.offset() == fast.offset() => Ok(true),
        other => Err(format!(
            "{text:?}: the fast parser reads {fast:?}, chrono {other:?}"
        )),
    }
}

type EventFields<'a> = (
    u64,
    &'a str,
    &'a str,
    u32,
    DateTime<FixedOffset>,
    &'a str,
    &'a [u8],
);

fn event_fields(ev: &StoredEvent) -> EventFields<'_> {
    (
        ev.seq,
        &ev.stream,
        &ev.event_type,
        ev.schema,
        ev.occurred_at,
        &ev.actor_role,
        ev.data(),
    )
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

    fn envelope(occurred_at: &str) -> Envelope {
        Envelope {
            seq: 7,
            stream: "visit-\"1\"".into(),
            version: 3,
            id: uuid::Uuid::now_v7(),
            event_type: "MealBooked".into(),
            schema: 2,
            occurred_at: DateTime::parse_from_rfc3339(occurred_at).unwrap(),
            recorded_at: chrono::Utc::now(),
            actor: Actor {
                user: "li.na".into(),
                role: "reception".into(),
            },
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: uuid::Uuid::now_v7(),
            prev_hash: "ab".repeat(32),
            hash: "cd".repeat(32),
            sig: None,
            data: json!({"data": {"data": [1, "x"]}, "s": "}\\\"]{", "at": "2026-12-02T12:00:00+08:00"}),
        }
    }

    fn same(ev: &StoredEvent, env: &Envelope) {
        let data: serde_json::Value = serde_json::from_slice(ev.data()).unwrap();
        assert_eq!(
            (
                ev.seq,
                &ev.stream,
                &ev.event_type,
                ev.schema,
                ev.occurred_at,
                &ev.actor_role,
                &data
            ),
            (
                env.seq,
                &env.stream,
                &env.event_type,
                env.schema,
                env.occurred_at,
                &env.actor.role,
                &env.data
            )
        );
    }

    #[test]
    fn decode_reads_stored_times_and_takes_other_layouts_the_slow_way() {
        for at in [
            "2026-12-02T08:00:00+08:00",
            "2026-12-02T00:00:00Z",
            "2026-12-01T19:30:00.123456789-05:30",
            "2026-12-02T08:00:00.5+00:00",
            "2024-02-29T23:59:59+14:00",
            "1999-12-31T23:59:59.000001-12:00",
        ] {
            let env = envelope(at);
            let stored = serde_json::to_vec(&env).unwrap();
            let ev = decode(7, sled::IVec::from(stored), None).unwrap();
            same(&ev, &env);
            assert!(matches!(ev.data, Payload::Stored(..)), "compact: sliced");
            let pretty = serde_json::to_vec_pretty(&env).unwrap();
            same(&decode(7, sled::IVec::from(pretty), None).unwrap(), &env);
        }
        // `data` before other fields: the head is incomplete at `data`, so the
        // envelope is parsed whole
        let env = envelope("2026-12-02T08:00:00+08:00");
        let mut map = serde_json::to_value(&env).unwrap();
        let data = map.as_object_mut().unwrap().remove("data").unwrap();
        let mut reordered = serde_json::Map::new();
        reordered.insert("data".into(), data);
        reordered.extend(map.as_object().unwrap().clone());
        let bytes = serde_json::to_vec(&serde_json::Value::Object(reordered)).unwrap();
        let ev = decode(7, sled::IVec::from(bytes.clone()), None).unwrap();
        same(&ev, &env);
        assert!(matches!(ev.data, Payload::Owned(_)));
        // the wrong seq and a broken record are errors, not events
        assert!(matches!(
            decode(8, sled::IVec::from(bytes), None),
            Err(StoreError::Corrupt { seq: 8, .. })
        ));
        let mut stored = serde_json::to_vec(&env).unwrap();
        stored.truncate(stored.len() - 1);
        assert!(decode(7, sled::IVec::from(stored), None).is_err());
    }

    /// What a test compares of an event: every public field and the payload bytes.
    type Fields = (
        u64,
        String,
        String,
        u32,
        DateTime<FixedOffset>,
        String,
        Vec<u8>,
    );

    fn fields(ev: &StoredEvent) -> Fields {
        (
            ev.seq,
            ev.stream.clone(),
            ev.event_type.clone(),
            ev.schema,
            ev.occurred_at,
            ev.actor_role.clone(),
            ev.data().to_vec(),
        )
    }

    /// `decode` (fast path first) and the serde path alone on the same record: the
    /// outcomes must be identical, errors included. Returns whether the fast path
    /// took the record.
    fn agree(seq: u64, bytes: &[u8], upcaster: Option<&dyn Upcaster>) -> bool {
        let fast = compact_head(seq, bytes);
        let taken = fast.is_some();
        if let Some(head) = fast {
            assert_eq!(
                head,
                serde_head(bytes),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
        let show = |r: Result<StoredEvent, StoreError>| format!("{:?}", r.map(|e| fields(&e)));
        let via_decode = show(decode(seq, sled::IVec::from(bytes), upcaster));
        let via_serde = show(decode_head(
            seq,
            sled::IVec::from(bytes),
            serde_head(bytes),
            upcaster,
        ));
        assert_eq!(via_decode, via_serde, "{}", String::from_utf8_lossy(bytes));
        taken
    }

    /// Every log record of a store, as stored.
    fn records(store: &Store) -> Vec<(u64, sled::IVec)> {
        let reader = &store.inner.reader;
        crate::log::LogIter::new(&reader.events, 1..=reader.durable_seq())
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn fast_and_serde_paths_agree_on_envelopes_appended_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let payloads = [
            json!({}),
            json!([]),
            json!({"note": "a } ] [ { \" \\ \\\" \\\\\"", "nested": {"a": [[], {}, "]"]}}),
            json!([{"k": "\"}"}, ["\\"], "中文 {", 1, 2.5, null, true]),
            json!({"data": {"data": "\"data\":"}, "hash": "", "}": "{"}),
        ];
        let times = [
            None,
            Some("2026-12-02T00:00:00Z"),
            Some("2026-12-02T08:00:00+08:00"),
            Some("2026-12-01T19:30:00-05:30"),
            Some("2026-12-02T08:00:00.123456789+08:00"),
            Some("2026-12-02T00:00:00.5Z"),
        ];
        // (stream, type, role, user): plain, CJK, and ones serde_json escapes (the
        // store takes only ASCII type names; see the hand-made test for the others)
        let names = [
            ("visit-1", "MealBooked", "reception", "li.na"),
            ("访客-中文", "Visit.Registered_2", "前台", "李娜"),
            ("visit-\"q\"\\", "T", "role\t中", "li.\"na\""),
            ("plain", "T", "r", "u\\ser"),
        ];
        for (n, (stream, t, role, user)) in names.iter().enumerate() {
            let event = |data: &serde_json::Value, at: &Option<&str>| {
                let mut e = ev(t, data.clone());
                e.actor.role = (*role).into();
                e.actor.user = (*user).into();
                e.occurred_at = at.map(|t| DateTime::parse_from_rfc3339(t).unwrap());
                e
            };
            let events = payloads
                .iter()
                .zip(times.iter().cycle())
                .map(|(data, at)| event(data, at))
                .chain(times.iter().map(|at| event(&json!({"n": n}), at)))
                .collect();
            store
                .append_blocking(AppendRequest {
                    stream: (*stream).into(),
                    expected: ExpectedVersion::Any,
                    events,
                    idempotency: None,
                })
                .unwrap();
        }
        let recs = records(&store);
        let all: Vec<Envelope> = store.read_all(1, 1000).collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), all.len());
        let per_name = payloads.len() + times.len();
        assert_eq!(recs.len(), names.len() * per_name);
        for (i, ((seq, bytes), env)) in recs.iter().zip(&all).enumerate() {
            let taken = agree(*seq, bytes, None);
            // the first two name sets need no escapes: the fast path takes them
            assert_eq!(taken, i < 2 * per_name, "seq {seq}");
            agree(*seq, bytes, Some(&Tag));
            agree(*seq, bytes, Some(&TagDefault));
            same(&decode(*seq, bytes.clone(), None).unwrap(), env);
            // the same record stored under another seq is an error either way
            assert!(!agree(seq + 1, bytes, None));
        }
        store.close().unwrap();
    }

    /// A compact record the fast path takes, to damage.
    fn sample_record() -> Vec<u8> {
        let mut env = envelope("2026-12-01T19:30:00.25-05:30");
        env.stream = "visit-中文".into();
        let bytes = serde_json::to_vec(&env).unwrap();
        assert!(compact_head(7, &bytes).is_some());
        bytes
    }

    #[test]
    fn fast_and_serde_paths_agree_on_truncated_and_damaged_records() {
        let good = sample_record();
        // every truncation: an error, however it is read
        for len in 0..good.len() {
            agree(7, &good[..len], None);
            assert!(decode(7, sled::IVec::from(&good[..len]), None).is_err());
        }
        // every byte replaced, deleted or doubled
        let mut taken = 0;
        for i in 0..good.len() {
            for b in [
                b'"', b'\\', b'}', b']', b'{', b'0', b'9', b' ', b',', b':', 0x01, 0xff, b'x',
            ] {
                let mut bad = good.clone();
                bad[i] = b;
                taken += usize::from(agree(7, &bad, None));
            }
            let mut bad = good.clone();
            bad.remove(i);
            agree(7, &bad, None);
            let mut bad = good.clone();
            bad.insert(i, good[i]);
            agree(7, &bad, None);
        }
        // replacing a byte inside an id, a hash or the payload keeps the fast path
        assert!(taken > good.len(), "{taken}");
        // hand-made records, each off the compact form in one way
        let text = String::from_utf8(good.clone()).unwrap();
        let edits: [(&str, &str); 14] = [
            ("{\"seq\":7,", "{\"seq\":07,"),
            ("{\"seq\":7,", "{\"seq\":7.0,"),
            ("{\"seq\":7,", "{ \"seq\":7,"),
            ("\"schema\":2,", "\"schema\":4294967296,"),
            ("\"schema\":2,", "\"schema\":-2,"),
            ("\"version\":3,", "\"version\":03,"),
            ("\"version\":3,", "\"version\":3e0,"),
            ("\"stream\":\"visit-", "\"stream\":\"\\u0076isit-"),
            ("\"id\":\"", "\"id\":\"\\u0041"),
            ("\"id\":\"", "\"id\":\"\\q"),
            ("\"hash\":\"", "\"hash\":\"\u{1}"),
            ("-05:30\"", "-05:30 \""),
            (
                "{\"user\":\"li.na\",\"role\":\"reception\"}",
                "{\"role\":\"reception\",\"user\":\"li.na\"}",
            ),
            (
                "{\"user\":\"li.na\",\"role\":\"reception\"}",
                "{\"user\":\"li.na\",\"role\":\"reception\",\"x\":1}",
            ),
        ];
        for (from, to) in edits {
            assert!(text.contains(from), "{from}");
            let bad = text.replacen(from, to, 1);
            assert!(!agree(7, bad.as_bytes(), None), "{bad}");
        }
        // payloads that do not close the envelope, or are no object or array
        let data_at = text.find(",\"data\":").unwrap() + ",\"data\":".len();
        for tail in [
            "{}",
            "\"x\"}",
            "1}",
            "{}},\"x\":1}",
            "{}} ",
            "{\"a\":\"}\"}",
            "{\"a\":\"\\\"}",
            "[1,2]]",
            "{\"a\":[}}",
        ] {
            let bad = format!("{}{tail}", &text[..data_at]);
            agree(7, bad.as_bytes(), None);
            assert!(compact_head(7, bad.as_bytes()).is_some());
        }
    }

    #[test]
    fn fast_and_serde_paths_agree_on_hand_made_names() {
        let cases = [
            ("访客-中文", "访客登记", "前台 🚗", "李娜", true),
            ("visit-1", "Meal\"Booked\"", "reception", "li.na", false),
            ("visit-1", "MealBooked", "前台\\", "li.na", false),
            ("visit-\u{7f}\u{1}", "MealBooked", "r", "u", false),
            ("visit-1", "MealBooked", "r", "\u{1f}", false),
            ("", "", "", "", true),
        ];
        for (stream, event_type, role, user, fast) in cases {
            for at in [
                "2026-12-02T00:00:00Z",
                "2026-12-02T08:00:00.000000001+08:00",
            ] {
                let mut env = envelope(at);
                env.stream = stream.into();
                env.event_type = event_type.into();
                env.actor = Actor {
                    user: user.into(),
                    role: role.into(),
                };
                let bytes = serde_json::to_vec(&env).unwrap();
                assert_eq!(agree(7, &bytes, None), fast, "{stream} {event_type} {role}");
                assert_eq!(agree(7, &bytes, Some(&TagDefault)), fast);
                same(&decode(7, sled::IVec::from(bytes), None).unwrap(), &env);
            }
        }
    }

    /// `closed` as it was, byte by byte: the reference for the faster one.
    fn closed_bytewise(rest: &[u8]) -> bool {
        if !matches!(rest.first(), Some(b'{' | b'[')) {
            return false;
        }
        let (mut depth, mut i) = (0usize, 0);
        while i < rest.len() {
            match rest[i] {
                b'"' => loop {
                    i += 1;
                    match rest.get(i) {
                        Some(b'"') => break,
                        Some(b'\\') => i += 1,
                        Some(_) => {}
                        None => return false,
                    }
                },
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return &rest[i + 1..] == b"}";
                    }
                }
                _ => {}
            }
            i += 1;
        }
        false
    }

    /// Found by `tests/hostile_input.rs` (the `scan` fuzz target's time check): the
    /// fast parser read `+00:60` as an offset of one hour where chrono refuses it, so a
    /// record serde_json refuses was scanned as an event.
    #[test]
    fn offsets_chrono_refuses_are_not_read_by_the_fast_parser() {
        for text in ["2026-01-01T00:00:00+00:60", "2026-01-01T00:00:00-24:00"] {
            assert_eq!(rfc3339(text), None, "{text}");
            assert_eq!(fast_time_check(text), Ok(false));
            let mut env = serde_json::to_value(envelope("2026-12-02T08:00:00+08:00")).unwrap();
            env["occurred_at"] = json!(text);
            let bytes = serde_json::to_vec(&env).unwrap();
            assert!(
                decode(7, sled::IVec::from(bytes.clone()), None).is_err(),
                "{text}"
            );
            assert_eq!(fast_path_check(7, &bytes), Ok(false));
        }
        assert_eq!(fast_time_check("2026-01-01T00:00:00+23:59"), Ok(true));
    }

    #[test]
    fn closed_keeps_its_bytewise_semantics() {
        for case in [
            &b""[..],
            b"}",
            b"{}",
            b"{}}",
            b"[]}",
            b"{]}",
            b"{}}}",
            b"{\"\\",
            b"{\"\\\"",
            b"{\"\\\"}\"}}",
            b"{\"a\\\\\"}}",
            b"[\"]\",[\"\\\\\\\"\"]]}",
            b"\"x\"}",
        ] {
            assert_eq!(closed(case), closed_bytewise(case), "{case:?}");
        }
        assert!(closed(b"{\"a\":\"} ] \\\" \\\\\",\"b\":[{}]}}"));
        assert!(!closed(b"{\"a\":\"}\"}"));
    }

    proptest::proptest! {
        #[test]
        fn closed_agrees_with_the_bytewise_walk(
            open in "[\\[{]",
            body in "[\\[\\]{}\"\\\\a,:]{0,40}",
        ) {
            let s = format!("{open}{body}");
            proptest::prop_assert_eq!(closed(s.as_bytes()), closed_bytewise(s.as_bytes()));
        }

        #[test]
        fn fast_path_reads_what_serde_reads_for_any_names_times_and_payloads(
            stream in "\\PC{0,16}|[\"\\\\\u{0}-\u{1f}a中]{1,6}",
            event_type in "\\PC{0,12}|[\"\\\\a]{1,4}",
            role in "\\PC{0,12}|[\"\\\\\u{1}中]{1,4}",
            user in "\\PC{0,12}|[\"\\\\\u{1f}]{1,4}",
            key in "\\PC{0,8}|[\"\\\\{}\\[\\]]{0,6}",
            text in "\\PC{0,40}|[\"\\\\{}\\[\\]\u{0}-\u{1f}]{0,12}",
            offset_min in -1439i32..=1439,
            secs in 0i64..4_102_444_800,
            nanos in proptest::prop_oneof![proptest::strategy::Just(0u32), 0u32..1_000_000_000],
            seq in 1u64..u64::MAX,
            schema in proptest::num::u32::ANY,
            array in proptest::bool::ANY,
        ) {
            let offset = FixedOffset::east_opt(offset_min * 60).unwrap();
            let at = DateTime::from_timestamp(secs, nanos).unwrap().with_timezone(&offset);
            let data = if array { json!([text, {key.clone(): [text]}]) } else { json!({key: text}) };
            let env = Envelope {
                seq,
                stream,
                event_type,
                schema,
                occurred_at: at,
                actor: Actor { user, role },
                data,
                ..envelope("2026-12-02T08:00:00Z")
            };
            let bytes = serde_json::to_vec(&env).unwrap();
            let taken = agree(seq, &bytes, None);
            same(&decode(seq, sled::IVec::from(bytes), None).unwrap(), &env);
            let plain = |s: &str| serde_json::to_string(s).unwrap() == format!("\"{s}\"");
            let expect = plain(&env.stream) && plain(&env.event_type)
                && plain(&env.actor.role) && plain(&env.actor.user);
            proptest::prop_assert_eq!(taken, expect);
        }
    }
}
