//! Hostile input, in CI: random and mutated-valid stored bytes through the store's
//! decoders (log records, envelopes) and the scan fast path, whose answers must equal
//! serde_json's. Nothing may panic. The same properties are the fuzz targets `envelope`
//! and `scan` (`fuzz/`, RELIABILITY.md "Hostile input").

use chrono::{DateTime, FixedOffset, Utc};
use proptest::prelude::*;
use reception_store::raw;
use reception_store::{Actor, Envelope};
use serde_json::{json, Value};

fn envelope(
    seq: u64,
    stream: String,
    role: String,
    at: DateTime<FixedOffset>,
    data: Value,
) -> Envelope {
    Envelope {
        seq,
        stream,
        version: seq,
        id: uuid::Uuid::from_u128(u128::from(seq)),
        event_type: "MealBooked".into(),
        schema: 2,
        occurred_at: at,
        recorded_at: DateTime::<Utc>::from_timestamp(1_790_000_000, 0).unwrap(),
        actor: Actor {
            user: "li.na".into(),
            role,
        },
        correlation_id: uuid::Uuid::from_u128(7),
        causation_id: uuid::Uuid::from_u128(8),
        prev_hash: "ab".repeat(32),
        hash: "cd".repeat(32),
        sig: None,
        data,
    }
}

fn payload() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
        Just(json!("}\\\"]{\"data\":")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\"]{1,5}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A time as chrono writes it, with any offset it reads back: whole minutes within a
/// day (chrono writes an offset of seconds rounded, so 23:59:30 becomes `+24:00`,
/// which no RFC 3339 reader takes, chrono included).
fn time() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (0i64..8_000_000_000, 0u32..1_000_000_000, -1_439i32..1_440).prop_map(|(secs, nanos, off)| {
        DateTime::<Utc>::from_timestamp(secs, nanos)
            .unwrap()
            .with_timezone(&FixedOffset::east_opt(off * 60).unwrap())
    })
}

/// The stored bytes of a valid envelope.
fn stored() -> impl Strategy<Value = (u64, Vec<u8>)> {
    plain_or_not().prop_map(|(seq, bytes, _)| (seq, bytes))
}

/// [`stored`], and whether the fast path must take it: the strings it reads or skips
/// before the payload hold nothing JSON escapes.
fn plain_or_not() -> impl Strategy<Value = (u64, Vec<u8>, bool)> {
    let texts = ("\\PC{0,10}", "[a-z\"\\\\]{0,8}");
    (1u64..1_000_000, texts, time(), payload()).prop_map(|(seq, (stream, role), at, data)| {
        let plain = !format!("{stream}{role}").contains(['"', '\\']);
        let bytes = serde_json::to_vec(&envelope(seq, stream, role, at, data)).unwrap();
        (seq, bytes, plain)
    })
}

/// One damage to bytes: flip, cut, insert a JSON-significant byte, or drop a range.
fn damage(bytes: &mut Vec<u8>, kind: u8, at: usize, byte: u8) {
    if bytes.is_empty() {
        return;
    }
    let at = at % bytes.len();
    match kind % 4 {
        0 => bytes[at] ^= byte.max(1),
        1 => bytes.truncate(at),
        2 => {
            let significant = [
                b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', 0x01, b'0', b'Z', b'+',
            ];
            bytes.insert(at, significant[usize::from(byte) % significant.len()]);
        }
        _ => {
            let end = (at + usize::from(byte % 16) + 1).min(bytes.len());
            bytes.drain(at..end);
        }
    }
}

fn check_all(seq: u64, bytes: &[u8]) -> Result<(), TestCaseError> {
    for s in [seq, 1] {
        if let Err(e) = raw::fast_path_check(s, bytes) {
            return Err(TestCaseError::fail(format!(
                "{e}\n{}",
                String::from_utf8_lossy(bytes)
            )));
        }
    }
    if let Ok(env) = raw::decode_envelope(seq, bytes) {
        let again = serde_json::to_vec(&env).unwrap();
        prop_assert_eq!(raw::decode_envelope(seq, &again).unwrap(), env);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Valid stored envelopes: the fast path takes them and reads what serde reads.
    #[test]
    fn the_fast_path_takes_valid_envelopes_and_reads_what_serde_reads(
        (seq, bytes, plain) in plain_or_not(),
    ) {
        prop_assert_eq!(raw::fast_path_check(seq, &bytes), Ok(plain));
        check_all(seq, &bytes)?;
    }

    /// Damaged envelopes (up to three damages): no panic, and whatever the fast path
    /// takes it reads as serde does.
    #[test]
    fn damaged_envelopes_never_panic_and_the_fast_path_agrees_with_serde(
        (seq, mut bytes) in stored(),
        damages in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..4),
    ) {
        for (kind, at, byte) in damages {
            damage(&mut bytes, kind, at, byte);
        }
        check_all(seq, &bytes)?;
    }

    /// Arbitrary bytes as a log record, as an envelope and as a scanned record.
    #[test]
    fn arbitrary_bytes_never_panic_any_decoder(
        first in prop_oneof![1u64..100, Just(u64::MAX), Just(u64::MAX - 1)],
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        tagged in any::<bool>(),
    ) {
        let mut record = bytes.clone();
        if tagged {
            record.insert(0, 0xB3);
        }
        if let Ok(envs) = raw::record_envelopes(first, &record) {
            let bodies: Vec<&[u8]> = envs.iter().map(|(_, b)| b.as_slice()).collect();
            prop_assert_eq!(raw::encode_record(&bodies), record);
        }
        check_all(first, &bytes)?;
    }

    /// A damaged multi-envelope record: its decoder errs or hands out envelopes, never
    /// panics, and what it hands out re-encodes to the record.
    #[test]
    fn damaged_records_never_panic(
        envs in prop::collection::vec(stored(), 2..5),
        first in prop_oneof![1u64..100, Just(u64::MAX - 2)],
        damages in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..3),
    ) {
        let bodies: Vec<&[u8]> = envs.iter().map(|(_, b)| b.as_slice()).collect();
        let mut record = raw::encode_record(&bodies);
        for (kind, at, byte) in damages {
            damage(&mut record, kind, at, byte);
        }
        if let Ok(got) = raw::record_envelopes(first, &record) {
            let bodies: Vec<&[u8]> = got.iter().map(|(_, b)| b.as_slice()).collect();
            prop_assert_eq!(raw::encode_record(&bodies), record);
        }
    }

    /// Times in the shape the fast parser takes, with any digits: it reads what chrono
    /// reads or gives up.
    #[test]
    fn the_fast_time_parser_reads_what_chrono_reads(
        digits in prop::collection::vec(0u8..10, 18),
        frac in proptest::option::of("[0-9]{1,10}"),
        sign in prop::sample::select(vec!["+", "-", "Z"]),
    ) {
        let d: Vec<char> = digits.iter().map(|d| char::from(b'0' + d)).collect();
        let s = |r: std::ops::Range<usize>| d[r].iter().collect::<String>();
        let offset = if sign == "Z" { "Z".to_string() } else { format!("{sign}{}:{}", s(14..16), s(16..18)) };
        let text = format!(
            "{}-{}-{}T{}:{}:{}{}{}",
            s(0..4), s(4..6), s(6..8), s(8..10), s(10..12), s(12..14),
            frac.map(|f| format!(".{f}")).unwrap_or_default(),
            offset
        );
        if let Err(e) = raw::fast_time_check(&text) {
            return Err(TestCaseError::fail(e));
        }
    }
}
