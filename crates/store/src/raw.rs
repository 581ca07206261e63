//! The log in its stored form, for tools that measure the store against plain sled:
//! the envelopes as stored bytes and the key-value records one commit writes; and the
//! decoders of stored bytes, for fuzzing and property tests.
//!
//! Nothing here writes to a store; sled types stay inside the crate (bytes go out as
//! `Vec<u8>`).

use std::ops::RangeInclusive;

use crate::codec;
use crate::{log, Envelope, Store, StoreError};

pub use crate::scan::{fast_path_check, fast_time_check};

/// Parses stored envelope bytes as every read path does (for fuzzing the decoder).
pub fn decode_envelope(seq: u64, bytes: &[u8]) -> Result<Envelope, StoreError> {
    codec::decode_envelope(seq, bytes)
}

impl Store {
    /// The envelopes of `seqs` in order, each as its stored bytes `(seq, bytes)` (no
    /// parse, no upcast); a seq that is not in the log ends the walk with an error.
    pub fn stored_envelopes(
        &self,
        seqs: RangeInclusive<u64>,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + Send + 'static {
        log::LogIter::new(&self.inner.trees.events, seqs).map(|r| r.map(|(s, b)| (s, b.to_vec())))
    }

    /// Writes everything acknowledged so far to disk (an acknowledged append already is;
    /// this is for a size on disk that counts every page).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.trees.sync()
    }
}

/// The key-value records one commit of `envelopes` (`(seq, stored bytes)`, consecutive)
/// writes to the store's single tree: the log records (cut as the store cuts them), a
/// stream index entry per `(stream, version)` in `index`, and the head record. What a
/// raw-sled writer must write at least to keep this layout, whatever the store's own
/// overhead.
pub fn commit_records(
    envelopes: &[(u64, &[u8])],
    index: &[(&str, u64, u64)],
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let owned: Vec<(u64, sled::IVec)> = envelopes
        .iter()
        .map(|(seq, bytes)| (*seq, sled::IVec::from(*bytes)))
        .collect();
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = log::records(&owned)
        .into_iter()
        .map(|(first, record)| (codec::log_key(first).to_vec(), record))
        .collect();
    for (stream, version, seq) in index {
        out.push((
            codec::stream_key(stream, *version),
            seq.to_be_bytes().to_vec(),
        ));
    }
    out.push((codec::META_HEAD.to_vec(), vec![0u8; 72]));
    out
}

/// The envelopes of a stored log record whose first seq is `first`, each `(seq, bytes)`
/// as the read paths hand them out (for fuzzing the record decoder).
pub fn record_envelopes(first: u64, record: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let record = log::Record::parse(first, sled::IVec::from(record))?;
    (record.first..=record.last())
        .map(|seq| record.envelope(seq).map(|b| (seq, b.to_vec())))
        .collect()
}

/// A log record of consecutive envelopes, as the writer stores them.
pub fn encode_record(envelopes: &[&[u8]]) -> Vec<u8> {
    log::encode_record(envelopes)
}
