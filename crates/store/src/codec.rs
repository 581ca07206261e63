//! Key layouts of the sled trees, envelope (de)serialisation and the hash chain.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{Actor, Envelope, StoreError, Upcaster};

/// The `prev_hash` of seq 1.
pub(crate) const GENESIS_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// The one tree holding the log, the stream index, the stream registry, the
/// idempotency records and the meta records, each under its own one-byte key prefix,
/// so that a group-commit batch is one atomic `apply_batch` on one tree.
pub(crate) const EVENTS: &str = "events";
/// The `meta` tree of format 1 (five trees and a multi-tree transaction); recognised
/// only to name it in the error.
pub(crate) const OLD_META: &str = "meta";
/// Prefix of read-model trees.
pub(crate) const READ_MODEL_PREFIX: &str = "rm/";

/// Key prefixes inside [`EVENTS`].
pub(crate) const P_LOG: u8 = b'l';
pub(crate) const P_STREAM: u8 = b's';
pub(crate) const P_HEAD: u8 = b'h';
pub(crate) const P_IDEM: u8 = b'i';

/// Meta keys and the format marker.
pub(crate) const META_FORMAT: &[u8] = b"mformat";
pub(crate) const META_HEAD: &[u8] = b"mhead";
pub(crate) const FORMAT_MARKER: &[u8] = b"reception-store/2";
/// Format 1's marker (kept in its own `meta` tree under `format`).
pub(crate) const OLD_FORMAT_MARKER: &[u8] = b"reception-store/1";

/// Key of seq in the log: `l`, seq big-endian.
pub(crate) fn log_key(seq: u64) -> [u8; 9] {
    let mut k = [P_LOG; 9];
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// The seq of a log key (`None` for anything that is not one).
pub(crate) fn decode_log_key(key: &[u8]) -> Option<u64> {
    match key.split_first() {
        Some((&P_LOG, rest)) => decode_u64(rest),
        _ => None,
    }
}

/// The range of every log key.
pub(crate) fn log_range() -> std::ops::RangeInclusive<[u8; 9]> {
    log_key(0)..=log_key(u64::MAX)
}

/// Decodes an 8-byte big-endian number.
pub(crate) fn decode_u64(bytes: &[u8]) -> Option<u64> {
    let arr: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_be_bytes(arr))
}

/// Stream index key: `s`, stream name, 0x00, version big-endian.
pub(crate) fn stream_key(stream: &str, version: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(stream.len() + 10);
    k.push(P_STREAM);
    k.extend_from_slice(stream.as_bytes());
    k.push(0);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

/// Exclusive end of a stream's key range in the stream index.
pub(crate) fn stream_key_end(stream: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(stream.len() + 2);
    k.push(P_STREAM);
    k.extend_from_slice(stream.as_bytes());
    k.push(1);
    k
}

/// Stream registry key: `h`, stream name (value: seq of its first event).
pub(crate) fn head_key(stream: &str) -> Vec<u8> {
    prefixed(P_HEAD, stream.as_bytes())
}

/// Idempotency record key: `i`, the caller's key.
pub(crate) fn idem_key(key: &str) -> Vec<u8> {
    prefixed(P_IDEM, key.as_bytes())
}

fn prefixed(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(rest.len() + 1);
    k.push(prefix);
    k.extend_from_slice(rest);
    k
}

/// A stream's version from the `streams` index: the highest version whose seq is at
/// most `max_seq` (0 when the stream has none).
pub(crate) fn version_from_index(
    streams: &sled::Tree,
    stream: &str,
    max_seq: u64,
) -> Result<u64, StoreError> {
    for entry in streams
        .range(stream_key(stream, 0)..stream_key_end(stream))
        .rev()
    {
        let (k, v) = entry.map_err(io_err)?;
        let seq = decode_u64(&v)
            .ok_or_else(|| StoreError::Io(format!("bad stream index entry for {stream}")))?;
        if seq <= max_seq {
            return decode_u64(&k[k.len() - 8..])
                .ok_or_else(|| StoreError::Io(format!("bad stream index key for {stream}")));
        }
    }
    Ok(0)
}

/// `meta` head value: seq big-endian then the hash hex.
pub(crate) fn encode_head(seq: u64, hash: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + hash.len());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(hash.as_bytes());
    v
}

pub(crate) fn decode_head(bytes: &[u8]) -> Option<(u64, String)> {
    if bytes.len() < 8 {
        return None;
    }
    let seq = decode_u64(&bytes[..8])?;
    let hash = std::str::from_utf8(&bytes[8..]).ok()?.to_string();
    Some((seq, hash))
}

/// Canonical bytes of an envelope for hashing: its serde_json serialisation with
/// `hash` set to the empty string (field order is the struct's declaration order).
pub(crate) fn canonical_bytes(env: &Envelope) -> Result<Vec<u8>, serde_json::Error> {
    if env.hash.is_empty() {
        return serde_json::to_vec(env);
    }
    let mut blank = env.clone();
    blank.hash.clear();
    serde_json::to_vec(&blank)
}

/// blake3(prev_hash hex || canonical bytes), as lowercase hex.
pub(crate) fn chain_hash(prev_hash: &str, canonical: &[u8]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical);
    h.finalize().to_hex().to_string()
}

/// Marker of the blank hash field in canonical bytes. No field before `hash` is a
/// free-form map and JSON escapes quotes inside strings, so its first occurrence is
/// the envelope's own field.
const BLANK_HASH: &[u8] = b",\"hash\":\"\"";

/// Turns canonical bytes (hash blank) into the stored bytes by writing `hash` in.
pub(crate) fn fill_hash(canonical: &[u8], hash: &str) -> Vec<u8> {
    let pos = canonical
        .windows(BLANK_HASH.len())
        .position(|w| w == BLANK_HASH)
        .expect("canonical envelope bytes always hold the blank hash field");
    let split = pos + BLANK_HASH.len() - 1; // just before the closing quote
    let mut out = Vec::with_capacity(canonical.len() + hash.len());
    out.extend_from_slice(&canonical[..split]);
    out.extend_from_slice(hash.as_bytes());
    out.extend_from_slice(&canonical[split..]);
    out
}

/// Every field of an [`Envelope`] before `data`, borrowed, in the same order and with
/// the same serde names, `hash` blank: serialised, then `data` appended, it gives
/// exactly the canonical bytes of the envelope (`data` is the last field).
#[derive(Serialize)]
pub(crate) struct Header<'a> {
    pub seq: u64,
    pub stream: &'a str,
    pub version: u64,
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: &'a str,
    pub schema: u32,
    pub occurred_at: DateTime<FixedOffset>,
    pub recorded_at: DateTime<Utc>,
    pub actor: &'a Actor,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
    pub prev_hash: &'a str,
    pub hash: &'static str,
}

/// Builds a new envelope from its header and its already serialised `data` (compact
/// serde_json, as the caller's thread produced it): the canonical bytes go through
/// `canonical` (a reused buffer), the stored bytes (hash filled in) into `stored`
/// (also reused). Returns the hash.
pub(crate) fn encode_new(
    header: &Header<'_>,
    data: &[u8],
    canonical: &mut Vec<u8>,
    stored: &mut Vec<u8>,
) -> Result<String, serde_json::Error> {
    canonical.clear();
    serde_json::to_writer(&mut *canonical, header)?;
    // The header ends with `"hash":""}`: the blank hash's closing quote is at len - 2.
    debug_assert!(canonical.ends_with(b"\"hash\":\"\"}"));
    let split = canonical.len() - 2;
    canonical.pop();
    canonical.extend_from_slice(b",\"data\":");
    canonical.extend_from_slice(data);
    canonical.push(b'}');
    let hash = chain_hash(header.prev_hash, canonical);
    stored.clear();
    stored.extend_from_slice(&canonical[..split]);
    stored.extend_from_slice(hash.as_bytes());
    stored.extend_from_slice(&canonical[split..]);
    Ok(hash)
}

/// Parses a stored envelope.
pub(crate) fn decode_envelope(seq: u64, bytes: &[u8]) -> Result<Envelope, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        seq,
        reason: format!("stored envelope does not parse: {e}"),
    })
}

/// Applies the upcaster, if any, to an envelope read from disk.
pub(crate) fn upcast(mut env: Envelope, upcaster: Option<&dyn Upcaster>) -> Envelope {
    if let Some(u) = upcaster {
        let data = std::mem::take(&mut env.data);
        let (schema, data) = u.upcast(&env.event_type, env.schema, data);
        env.schema = schema;
        env.data = data;
    }
    env
}

pub(crate) fn io_err(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_hash_matches_a_full_serialisation() {
        let env: Envelope = serde_json::from_value(serde_json::json!({
            "seq": 1, "stream": "s-\"hash\":\"\"", "version": 1,
            "id": "0190a000-0000-7000-8000-000000000001", "type": "T", "schema": 1,
            "occurred_at": "2026-11-22T09:30:00+08:00", "recorded_at": "2026-11-22T01:30:00.123Z",
            "actor": {"user": "u", "role": "r"},
            "correlation_id": "0190a000-0000-7000-8000-000000000001",
            "causation_id": "0190a000-0000-7000-8000-000000000001",
            "prev_hash": GENESIS_HASH, "hash": "", "data": {"hash": ""}
        }))
        .unwrap();
        let canon = canonical_bytes(&env).unwrap();
        let hash = chain_hash(GENESIS_HASH, &canon);
        let mut full = env.clone();
        full.hash = hash.clone();
        assert_eq!(fill_hash(&canon, &hash), serde_json::to_vec(&full).unwrap());
        assert_eq!(canonical_bytes(&full).unwrap(), canon);
    }

    #[test]
    fn encode_new_equals_a_full_serialisation_of_the_envelope() {
        let data = serde_json::json!({
            "z": [1, 2.5, -3e-7, null, true], "a": "quote \" backslash \\ tab \t 中文 🚗",
            "nested": {"hash": "", "k": {"\"hash\":\"\"": 1}}, "amount_fen": 1_280_000
        });
        let actor = Actor {
            user: "li.na".into(),
            role: "reception".into(),
        };
        let id = Uuid::now_v7();
        let occurred_at = DateTime::parse_from_rfc3339("2026-11-22T09:30:00.5+08:00").unwrap();
        let recorded_at = Utc::now();
        let prev = chain_hash(GENESIS_HASH, b"something");
        let header = Header {
            seq: 42,
            stream: "visit-\"x\"\u{7f}",
            version: 7,
            id,
            event_type: "ReceptionRequested",
            schema: 3,
            occurred_at,
            recorded_at,
            actor: &actor,
            correlation_id: id,
            causation_id: id,
            prev_hash: &prev,
            hash: "",
        };
        let (mut canon, mut stored) = (Vec::new(), Vec::new());
        let data_bytes = serde_json::to_vec(&data).unwrap();
        let hash = encode_new(&header, &data_bytes, &mut canon, &mut stored).unwrap();
        let mut env = Envelope {
            seq: 42,
            stream: header.stream.into(),
            version: 7,
            id,
            event_type: "ReceptionRequested".into(),
            schema: 3,
            occurred_at,
            recorded_at,
            actor: actor.clone(),
            correlation_id: id,
            causation_id: id,
            prev_hash: prev.clone(),
            hash: String::new(),
            data,
        };
        assert_eq!(canon, serde_json::to_vec(&env).unwrap());
        assert_eq!(hash, chain_hash(&prev, &canon));
        env.hash = hash;
        assert_eq!(stored, serde_json::to_vec(&env).unwrap());
        assert_eq!(decode_envelope(42, &stored).unwrap(), env);
        // the reused buffers carry nothing over to the next event
        let again = encode_new(&header, b"{}", &mut canon, &mut stored).unwrap();
        env.data = serde_json::json!({});
        env.hash = String::new();
        assert_eq!(canon, serde_json::to_vec(&env).unwrap());
        assert_eq!(again, chain_hash(&prev, &canon));
    }

    #[test]
    fn log_keys_sort_by_seq_and_stay_apart_from_other_prefixes() {
        assert!(log_key(2) < log_key(10) && log_key(255) < log_key(256));
        assert_eq!(decode_log_key(&log_key(77)), Some(77));
        assert_eq!(decode_log_key(&stream_key("x", 1)), None);
        // every other record starts with another byte, so it is outside the log range
        for other in [
            stream_key("", 0),
            head_key(""),
            idem_key(""),
            META_HEAD.to_vec(),
            META_FORMAT.to_vec(),
        ] {
            assert_ne!(other[0], P_LOG);
            assert_eq!(decode_log_key(&other), None);
        }
    }

    #[test]
    fn keys_sort_by_stream_then_version() {
        assert!(stream_key("a", 2) < stream_key("a", 10));
        assert!(stream_key("a", u64::MAX) < stream_key_end("a"));
        // another stream sharing the prefix sorts outside "a"'s range
        assert!(stream_key("ab", 1) > stream_key_end("a"));
    }
}
