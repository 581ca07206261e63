//! Key layouts of the sled trees, envelope (de)serialisation and the hash chain.

use chrono::{DateTime, Utc};

use crate::{Envelope, NewEvent, StoreError, Upcaster};

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
pub(crate) const FORMAT_MARKER: &[u8] = b"reception-store/3";
/// Format 2 (one envelope per log key): every such log is a valid format-3 log (see
/// `log`), so a format-2 store is opened as it is and its marker moved to format 3.
pub(crate) const FORMAT_2_MARKER: &[u8] = b"reception-store/2";
/// Format 1's marker (kept in its own `meta` tree under `format`).
pub(crate) const OLD_FORMAT_MARKER: &[u8] = b"reception-store/1";

/// Key of a log record (see `log`): `l`, the seq of its first envelope big-endian.
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
/// `hash` set to the empty string and no `sig` (field order is the struct's
/// declaration order).
pub(crate) fn canonical_bytes(env: &Envelope) -> Result<Vec<u8>, serde_json::Error> {
    if env.hash.is_empty() && env.sig.is_none() {
        return serde_json::to_vec(env);
    }
    let mut blank = env.clone();
    blank.hash.clear();
    blank.sig = None;
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

/// Turns canonical bytes (hash blank, no sig) into the stored bytes by writing `hash`
/// and the signature, if any, in.
pub(crate) fn fill_hash(canonical: &[u8], hash: &str, sig: Option<&str>) -> Vec<u8> {
    let pos = canonical
        .windows(BLANK_HASH.len())
        .position(|w| w == BLANK_HASH)
        .expect("canonical envelope bytes always hold the blank hash field");
    let split = pos + BLANK_HASH.len() - 1; // just before the closing quote
    let mut out = Vec::with_capacity(canonical.len() + hash.len() + 128);
    out.extend_from_slice(&canonical[..split]);
    out.extend_from_slice(hash.as_bytes());
    push_sig(&mut out, sig);
    out.extend_from_slice(&canonical[split..]);
    out
}

/// Stored bytes without a signature, with `sig` written in after the hash (as
/// [`fill_hash`] and [`encode_new`] place it). The first `,"hash":"` is the envelope's
/// own field: no field before it is a free-form map, and strings escape their quotes.
pub(crate) fn insert_sig(stored: &[u8], sig: &str) -> Vec<u8> {
    const HASH_FIELD: &[u8] = b",\"hash\":\"";
    let at = memchr::memmem::find(stored, HASH_FIELD)
        .map(|p| p + HASH_FIELD.len())
        .and_then(|p| memchr::memchr(b'"', &stored[p..]).map(|q| p + q))
        .expect("stored envelope bytes always hold their hash");
    let mut out = Vec::with_capacity(stored.len() + sig.len() + 10);
    out.extend_from_slice(&stored[..at]);
    push_sig(&mut out, Some(sig));
    out.extend_from_slice(&stored[at..]);
    out
}

/// After the hash's digits: closes `hash` and opens `sig`, left open for the closing
/// quote that follows (a signature is a key id, `:` and base64url: nothing to escape).
fn push_sig(out: &mut Vec<u8>, sig: Option<&str>) {
    if let Some(sig) = sig {
        out.extend_from_slice(b"\",\"sig\":\"");
        out.extend_from_slice(sig.as_bytes());
    }
}

/// The parts of a new event's envelope that do not depend on the writer (all but
/// seq, version, recorded_at, a defaulted occurred_at and the hashes), serialised on
/// the caller's thread into one buffer, exactly as serde_json writes those fields of
/// an [`Envelope`]: `"id":..,"type":..,"schema":..`, then occurred_at's JSON string
/// when given, then `"actor":..,"correlation_id":..,"causation_id":..`, then `data`.
pub(crate) struct PreEncoded {
    bytes: Vec<u8>,
    ident_end: usize,
    occurred_end: usize,
    people_end: usize,
}

impl PreEncoded {
    /// Bytes of the encoded parts.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn new(ev: &NewEvent) -> Result<PreEncoded, serde_json::Error> {
        let mut bytes = Vec::with_capacity(640);
        bytes.extend_from_slice(b"\"id\":");
        serde_json::to_writer(&mut bytes, &ev.id)?;
        bytes.extend_from_slice(b",\"type\":");
        serde_json::to_writer(&mut bytes, &ev.event_type)?;
        bytes.extend_from_slice(b",\"schema\":");
        serde_json::to_writer(&mut bytes, &ev.schema)?;
        let ident_end = bytes.len();
        if let Some(t) = &ev.occurred_at {
            serde_json::to_writer(&mut bytes, t)?;
        }
        let occurred_end = bytes.len();
        bytes.extend_from_slice(b"\"actor\":");
        serde_json::to_writer(&mut bytes, &ev.actor)?;
        bytes.extend_from_slice(b",\"correlation_id\":");
        serde_json::to_writer(&mut bytes, &ev.correlation_id)?;
        bytes.extend_from_slice(b",\"causation_id\":");
        serde_json::to_writer(&mut bytes, &ev.causation_id)?;
        let people_end = bytes.len();
        serde_json::to_writer(&mut bytes, &ev.data)?;
        Ok(PreEncoded {
            bytes,
            ident_end,
            occurred_end,
            people_end,
        })
    }
}

/// recorded_at of a batch as JSON strings: as a UTC time (`recorded_at`) and as the
/// UTC-offset time an event without occurred_at gets (`occurred_at`).
pub(crate) struct Stamp {
    pub at: DateTime<Utc>,
    utc: Vec<u8>,
    fixed: Vec<u8>,
}

impl Stamp {
    pub(crate) fn new(at: DateTime<Utc>) -> Stamp {
        let utc = serde_json::to_vec(&at).expect("a time serialises");
        let fixed = serde_json::to_vec(&at.fixed_offset()).expect("a time serialises");
        Stamp { at, utc, fixed }
    }
}

/// Builds a new envelope's canonical bytes (hash blank) in `canonical` and its stored
/// bytes (hash filled in) in `stored`, both reused buffers, from the caller's
/// [`PreEncoded`] parts, the stream name as a JSON string, and what the writer assigns.
/// The result is byte for byte `serde_json::to_vec` of the [`Envelope`] (field order is
/// its declaration order) without `sig`, which the writer adds for a whole batch
/// ([`insert_sig`]). Returns the hash.
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_new(
    seq: u64,
    stream_json: &[u8],
    version: u64,
    pre: &PreEncoded,
    stamp: &Stamp,
    prev_hash: &str,
    canonical: &mut Vec<u8>,
    stored: &mut Vec<u8>,
) -> String {
    use std::io::Write as _;
    let b = &pre.bytes;
    canonical.clear();
    canonical.extend_from_slice(b"{\"seq\":");
    let _ = write!(canonical, "{seq}");
    canonical.extend_from_slice(b",\"stream\":");
    canonical.extend_from_slice(stream_json);
    canonical.extend_from_slice(b",\"version\":");
    let _ = write!(canonical, "{version}");
    canonical.push(b',');
    canonical.extend_from_slice(&b[..pre.ident_end]);
    canonical.extend_from_slice(b",\"occurred_at\":");
    if pre.occurred_end > pre.ident_end {
        canonical.extend_from_slice(&b[pre.ident_end..pre.occurred_end]);
    } else {
        canonical.extend_from_slice(&stamp.fixed);
    }
    canonical.extend_from_slice(b",\"recorded_at\":");
    canonical.extend_from_slice(&stamp.utc);
    canonical.push(b',');
    canonical.extend_from_slice(&b[pre.occurred_end..pre.people_end]);
    // A chain hash is lowercase hex: nothing to escape.
    canonical.extend_from_slice(b",\"prev_hash\":\"");
    canonical.extend_from_slice(prev_hash.as_bytes());
    canonical.extend_from_slice(b"\",\"hash\":\"");
    let split = canonical.len();
    canonical.extend_from_slice(b"\",\"data\":");
    canonical.extend_from_slice(&b[pre.people_end..]);
    canonical.push(b'}');
    let hash = chain_hash(prev_hash, canonical);
    stored.clear();
    stored.reserve(canonical.len() + hash.len() + 128);
    stored.extend_from_slice(&canonical[..split]);
    stored.extend_from_slice(hash.as_bytes());
    stored.extend_from_slice(&canonical[split..]);
    hash
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
    use uuid::Uuid;

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
        assert_eq!(
            fill_hash(&canon, &hash, None),
            serde_json::to_vec(&full).unwrap()
        );
        assert_eq!(canonical_bytes(&full).unwrap(), canon);
        full.sig = Some("0123456789abcdef:c2ln".into());
        assert_eq!(
            fill_hash(&canon, &hash, full.sig.as_deref()),
            serde_json::to_vec(&full).unwrap()
        );
        assert_eq!(canonical_bytes(&full).unwrap(), canon, "sig is not hashed");
    }

    fn sample_event(data: serde_json::Value, occurred_at: Option<&str>) -> NewEvent {
        let id = Uuid::now_v7();
        NewEvent {
            id,
            event_type: "ReceptionRequested".into(),
            schema: 3,
            data,
            occurred_at: occurred_at.map(|t| DateTime::parse_from_rfc3339(t).unwrap()),
            actor: crate::Actor {
                user: "li.\"na\"\u{1}".into(),
                role: "reception 中文".into(),
            },
            correlation_id: id,
            causation_id: Uuid::now_v7(),
        }
    }

    /// The envelope `encode_new` must reproduce, serialised the plain serde way.
    fn expected(
        seq: u64,
        stream: &str,
        version: u64,
        ev: &NewEvent,
        recorded_at: DateTime<Utc>,
        prev: &str,
        hash: &str,
    ) -> Envelope {
        Envelope {
            seq,
            stream: stream.into(),
            version,
            id: ev.id,
            event_type: ev.event_type.clone(),
            schema: ev.schema,
            occurred_at: ev.occurred_at.unwrap_or(recorded_at.fixed_offset()),
            recorded_at,
            actor: ev.actor.clone(),
            correlation_id: ev.correlation_id,
            causation_id: ev.causation_id,
            prev_hash: prev.into(),
            hash: hash.into(),
            sig: None,
            data: ev.data.clone(),
        }
    }

    #[test]
    fn encode_new_equals_a_full_serialisation_of_the_envelope() {
        let data = serde_json::json!({
            "z": [1, 2.5, -3e-7, null, true], "a": "quote \" backslash \\ tab \t 中文 🚗",
            "nested": {"hash": "", "k": {"\"hash\":\"\"": 1}}, "amount_fen": 1_280_000
        });
        let prev = chain_hash(GENESIS_HASH, b"something");
        let stream = "visit-\"x\"\u{7f}";
        let stream_json = serde_json::to_vec(stream).unwrap();
        let (mut canon, mut stored) = (Vec::new(), Vec::new());
        let key = crate::signing::Signer::from_seed([7; 32]);
        for (occurred, signer) in [
            (None, None),
            (Some("2026-11-22T09:30:00.5+08:00"), Some(&key)),
            (Some("2026-11-22T09:30:00Z"), None),
        ] {
            for recorded_at in [
                Utc::now(),
                DateTime::parse_from_rfc3339("2026-11-22T01:30:00Z")
                    .unwrap()
                    .to_utc(),
            ] {
                let ev = sample_event(data.clone(), occurred);
                let stamp = Stamp::new(recorded_at);
                let pre = PreEncoded::new(&ev).unwrap();
                let hash = encode_new(
                    u64::MAX,
                    &stream_json,
                    7,
                    &pre,
                    &stamp,
                    &prev,
                    &mut canon,
                    &mut stored,
                );
                let mut env = expected(u64::MAX, stream, 7, &ev, recorded_at, &prev, "");
                assert_eq!(canon, serde_json::to_vec(&env).unwrap());
                assert_eq!(hash, chain_hash(&prev, &canon));
                env.sig = signer.map(|k| k.sign(&hash));
                env.hash = hash;
                let stored = match &env.sig {
                    Some(sig) => insert_sig(&stored, sig),
                    None => stored.clone(),
                };
                assert_eq!(stored, serde_json::to_vec(&env).unwrap());
                assert_eq!(decode_envelope(1, &stored).unwrap(), env);
                assert_eq!(canonical_bytes(&env).unwrap(), canon);
                if let (Some(k), Some(sig)) = (signer, &env.sig) {
                    assert!(k.public().verify(&env.hash, sig).is_ok());
                }
            }
        }
        // the reused buffers carry nothing over to the next event
        let ev = sample_event(serde_json::json!({}), None);
        let stamp = Stamp::new(Utc::now());
        let pre = PreEncoded::new(&ev).unwrap();
        let again = encode_new(
            1,
            b"\"s\"",
            1,
            &pre,
            &stamp,
            GENESIS_HASH,
            &mut canon,
            &mut stored,
        );
        let env = expected(1, "s", 1, &ev, stamp.at, GENESIS_HASH, &again);
        assert_eq!(stored, serde_json::to_vec(&env).unwrap());
    }

    proptest::proptest! {
        #[test]
        fn encode_new_matches_serde_for_any_strings(
            stream in "\\PC{1,20}|[\"\\\\\u{0}-\u{1f}a]{1,8}",
            user in "\\PC{1,12}|[\"\\\\\u{0}-\u{1f}]{1,4}",
            key in "\\PC{0,8}",
            text in "\\PC{0,40}|[\"\\\\\u{0}-\u{1f}\u{7f}]{0,8}",
            n in proptest::num::i64::ANY,
            seq in 1u64..u64::MAX,
        ) {
            let mut ev = sample_event(serde_json::json!({ key: text, "n": n, "l": [n, -0.5] }), None);
            ev.actor.user = user;
            let stamp = Stamp::new(Utc::now());
            let pre = PreEncoded::new(&ev).unwrap();
            let (mut canon, mut stored) = (Vec::new(), Vec::new());
            let stream_json = serde_json::to_vec(&stream).unwrap();
            let hash = encode_new(seq, &stream_json, seq / 2, &pre, &stamp, GENESIS_HASH, &mut canon, &mut stored);
            let env = expected(seq, &stream, seq / 2, &ev, stamp.at, GENESIS_HASH, &hash);
            proptest::prop_assert_eq!(stored, serde_json::to_vec(&env).unwrap());
        }
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
