//! Log records: the stored envelopes of one commit under one sled key.
//!
//! Format 3 keeps the log as records: the envelopes of consecutive seqs appended in one
//! group-commit batch are stored together, under the log key of the first seq
//! (`codec::log_key`). A batch of 64 single-event appends is thus one log key instead
//! of 64, which halves the keys sled writes per event (the stream index still has one
//! entry per event). A record is either
//!
//! - one stored envelope as it is (its JSON starts with `{`): every record of format 2,
//!   which is why a format-2 store reads unchanged; or
//! - [`RECORD_TAG`], the count `n` (u32 LE), `n` end offsets (u32 LE, relative to the
//!   first body byte), then the `n` envelopes' bytes back to back.
//!
//! Readers find the record holding a seq as the last log key at or below it. Each
//! envelope is handed out as a zero-copy [`sled::IVec::subslice`] of the record.

use std::ops::RangeInclusive;

use crate::codec::{self, io_err};
use crate::StoreError;

/// First byte of a record holding more than one envelope (never the first byte of a
/// JSON object).
pub(crate) const RECORD_TAG: u8 = 0xB3;

/// At most this many envelopes go into one record.
pub(crate) const MAX_RECORD_EVENTS: usize = 64;
/// A record takes no further envelope that would bring it over this many bytes (a
/// lone envelope may be larger): [`crate::MAX_INLINE_VALUE_BYTES`]. With ~800-byte
/// envelopes that is 8 per record: a batch of 64 single-event appends writes 8 log
/// keys instead of 64.
pub(crate) const MAX_RECORD_BYTES: usize = crate::MAX_INLINE_VALUE_BYTES;

/// Encodes the envelopes of consecutive seqs as one record (one envelope: itself).
pub(crate) fn encode_record<B: AsRef<[u8]>>(envelopes: &[B]) -> Vec<u8> {
    if let [one] = envelopes {
        return one.as_ref().to_vec();
    }
    let body: usize = envelopes.iter().map(|e| e.as_ref().len()).sum();
    let mut out = Vec::with_capacity(5 + 4 * envelopes.len() + body);
    out.push(RECORD_TAG);
    out.extend_from_slice(&(envelopes.len() as u32).to_le_bytes());
    let mut end = 0u32;
    for e in envelopes {
        end += e.as_ref().len() as u32;
        out.extend_from_slice(&end.to_le_bytes());
    }
    for e in envelopes {
        out.extend_from_slice(e.as_ref());
    }
    out
}

/// The log records of a batch's envelopes `(seq, stored bytes)`, in seq order: runs of
/// consecutive seqs, each cut at [`MAX_RECORD_EVENTS`] envelopes or once it holds
/// [`MAX_RECORD_BYTES`]. Yields `(first seq, record bytes)`.
pub(crate) fn records(log: &[(u64, sled::IVec)]) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < log.len() {
        let mut end = start + 1;
        let mut bytes = log[start].1.len();
        while end < log.len()
            && end - start < MAX_RECORD_EVENTS
            && bytes + log[end].1.len() <= MAX_RECORD_BYTES
            && log[end].0 == log[end - 1].0 + 1
        {
            bytes += log[end].1.len();
            end += 1;
        }
        let run: Vec<&[u8]> = log[start..end].iter().map(|(_, b)| b.as_ref()).collect();
        out.push((log[start].0, encode_record(&run)));
        start = end;
    }
    out
}

/// One stored record, parsed far enough to hand out its envelopes.
#[derive(Clone)]
pub(crate) struct Record {
    /// The seq of its first envelope (its log key).
    pub first: u64,
    bytes: sled::IVec,
    count: usize,
    /// Where the bodies start (0 for a single-envelope record).
    body: usize,
}

impl Record {
    /// Parses the record stored under the log key of `first`.
    pub(crate) fn parse(first: u64, bytes: sled::IVec) -> Result<Record, StoreError> {
        let corrupt = |reason: &str| StoreError::Corrupt {
            seq: first,
            reason: reason.to_string(),
        };
        match bytes.first() {
            Some(&RECORD_TAG) => {
                let count = bytes
                    .get(1..5)
                    .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
                    .ok_or_else(|| corrupt("log record header is truncated"))?;
                let body = 5 + 4 * count;
                if count == 0 || bytes.len() < body {
                    return Err(corrupt("log record header is truncated"));
                }
                // `last()` must not pass u64::MAX (a damaged key or count)
                if first.checked_add(count as u64 - 1).is_none() {
                    return Err(corrupt("log record runs past the last possible seq"));
                }
                let record = Record {
                    first,
                    bytes,
                    count,
                    body,
                };
                if record.end(count - 1) != record.bytes.len() - body {
                    return Err(corrupt("log record length disagrees with its header"));
                }
                Ok(record)
            }
            Some(_) => Ok(Record {
                first,
                bytes,
                count: 1,
                body: 0,
            }),
            None => Err(corrupt("empty log record")),
        }
    }

    /// The seq of its last envelope.
    pub(crate) fn last(&self) -> u64 {
        self.first + (self.count as u64 - 1)
    }

    pub(crate) fn contains(&self, seq: u64) -> bool {
        (self.first..=self.last()).contains(&seq)
    }

    /// End offset of entry `i`, relative to the bodies.
    fn end(&self, i: usize) -> usize {
        let at = 5 + 4 * i;
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().expect("4 bytes")) as usize
    }

    /// The stored envelope of `seq` (which the record must contain), sharing the
    /// record's bytes.
    pub(crate) fn envelope(&self, seq: u64) -> Result<sled::IVec, StoreError> {
        debug_assert!(self.contains(seq));
        if self.body == 0 {
            return Ok(self.bytes.clone());
        }
        let i = (seq - self.first) as usize;
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        let end = self.end(i);
        if start > end || end > self.bytes.len() - self.body {
            return Err(StoreError::Corrupt {
                seq,
                reason: "log record offsets out of order".into(),
            });
        }
        Ok(self.bytes.subslice(self.body + start, end - start))
    }
}

/// The record holding `seq`, if the log has one.
pub(crate) fn record_at(events: &sled::Tree, seq: u64) -> Result<Option<Record>, StoreError> {
    let Some(entry) = events
        .range(codec::log_key(0)..=codec::log_key(seq))
        .next_back()
    else {
        return Ok(None);
    };
    let (key, bytes) = entry.map_err(io_err)?;
    let first = codec::decode_log_key(&key).unwrap_or(0);
    let record = Record::parse(first, bytes)?;
    Ok(record.contains(seq).then_some(record))
}

/// The last seq in the log (0 when empty).
pub(crate) fn last_seq(events: &sled::Tree) -> Result<u64, StoreError> {
    let Some(entry) = events.range(codec::log_range()).next_back() else {
        return Ok(0);
    };
    let (key, bytes) = entry.map_err(io_err)?;
    let first = codec::decode_log_key(&key).unwrap_or(0);
    Ok(Record::parse(first, bytes)?.last())
}

/// The envelopes of seqs `seqs` in order, each as its stored bytes; a seq that is
/// not in the log ends the walk with [`StoreError::Corrupt`] for that seq.
pub(crate) struct LogIter {
    range: Option<sled::Iter>,
    current: Option<Record>,
    next: u64,
    end: u64,
    failed: bool,
    /// An error met while opening, handed out as the first item.
    opening: Option<StoreError>,
}

impl LogIter {
    pub(crate) fn new(events: &sled::Tree, seqs: RangeInclusive<u64>) -> LogIter {
        let (from, end) = (*seqs.start(), *seqs.end());
        let mut it = LogIter {
            range: None,
            current: None,
            next: from,
            end,
            failed: false,
            opening: None,
        };
        if from > end {
            return it;
        }
        // start at the record holding `from`, which may begin before it
        let start = match events
            .range(codec::log_key(0)..=codec::log_key(from))
            .next_back()
        {
            Some(Ok((key, _))) => codec::decode_log_key(&key).unwrap_or(from),
            Some(Err(e)) => {
                it.opening = Some(io_err(e));
                return it;
            }
            None => from,
        };
        it.range = Some(events.range(codec::log_key(start)..=codec::log_key(end)));
        it
    }

    fn missing(&mut self, reason: String) -> Option<Result<(u64, sled::IVec), StoreError>> {
        self.failed = true;
        Some(Err(StoreError::Corrupt {
            seq: self.next,
            reason,
        }))
    }
}

impl Iterator for LogIter {
    type Item = Result<(u64, sled::IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.opening.take() {
            self.failed = true;
            return Some(Err(e));
        }
        if self.failed || self.next > self.end {
            return None;
        }
        loop {
            if let Some(record) = &self.current {
                if record.contains(self.next) {
                    let seq = self.next;
                    self.next += 1;
                    let item = record.envelope(seq).map(|bytes| (seq, bytes));
                    self.failed = item.is_err();
                    return Some(item);
                }
            }
            let entry = match self.range.as_mut()?.next() {
                Some(entry) => entry,
                None => {
                    return self.missing("missing from the log (the log ends before it)".into())
                }
            };
            let (key, bytes) = match entry {
                Ok(kv) => kv,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(io_err(e)));
                }
            };
            let first = codec::decode_log_key(&key).unwrap_or(0);
            if first > self.next {
                return self.missing(format!("missing from the log (next stored seq is {first})"));
            }
            match Record::parse(first, bytes) {
                // a record wholly before `next` (only the one `new` started at can be)
                Ok(record) if record.last() < self.next => continue,
                Ok(record) => self.current = Some(record),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, sled::Tree) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let t = db.open_tree("events").unwrap();
        (dir, t)
    }

    fn put(t: &sled::Tree, first: u64, bodies: &[&str]) {
        t.insert(codec::log_key(first), encode_record(bodies))
            .unwrap();
    }

    fn walk(t: &sled::Tree, seqs: RangeInclusive<u64>) -> Result<Vec<(u64, String)>, StoreError> {
        LogIter::new(t, seqs)
            .map(|r| r.map(|(s, b)| (s, String::from_utf8(b.to_vec()).unwrap())))
            .collect()
    }

    /// Found by the `envelope` fuzz target and `tests/hostile_input.rs`: a record at
    /// the top of the seq range made `last()` overflow (a panic in debug builds).
    #[test]
    fn records_at_the_end_of_the_seq_range_neither_overflow_nor_pass_it() {
        let one = Record::parse(u64::MAX, sled::IVec::from(&b"{}"[..])).unwrap();
        assert_eq!(one.last(), u64::MAX);
        let three = encode_record(&["{1}", "{2}", "{3}"]);
        let top = Record::parse(u64::MAX - 2, sled::IVec::from(three.clone())).unwrap();
        assert_eq!(top.last(), u64::MAX);
        assert!(matches!(
            Record::parse(u64::MAX - 1, sled::IVec::from(three)),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn records_of_one_and_many_read_back_from_any_seq() {
        let (_d, t) = tree();
        put(&t, 1, &["{1}"]);
        put(&t, 2, &["{2}", "{3}", "{4}"]);
        put(&t, 5, &["{5}"]);
        put(&t, 6, &["{6}", "{7}"]);
        let all: Vec<_> = (1..=7).map(|s| (s, format!("{{{s}}}"))).collect();
        assert_eq!(walk(&t, 1..=7).unwrap(), all);
        for from in 1..=7 {
            for to in from..=7 {
                let want: Vec<_> = all[(from - 1) as usize..to as usize].to_vec();
                assert_eq!(walk(&t, from..=to).unwrap(), want, "{from}..={to}");
            }
        }
        let (from, to) = (5, 4);
        assert!(
            walk(&t, from..=to).unwrap().is_empty(),
            "an empty range reads nothing"
        );
        for seq in 1..=7 {
            let r = record_at(&t, seq).unwrap().unwrap();
            assert_eq!(
                r.envelope(seq).unwrap().as_ref(),
                all[seq as usize - 1].1.as_bytes()
            );
        }
        assert!(record_at(&t, 8).unwrap().is_none());
        assert_eq!(last_seq(&t).unwrap(), 7);
    }

    #[test]
    fn records_are_cut_by_size_and_at_gaps() {
        let log: Vec<(u64, sled::IVec)> = (1..=40u64)
            .filter(|s| *s != 30)
            .map(|s| (s, sled::IVec::from(vec![b'{'; 800])))
            .collect();
        let recs = records(&log);
        let firsts: Vec<u64> = recs.iter().map(|(f, _)| *f).collect();
        // 8 envelopes of 800 bytes fit in 7 KiB, a 9th would not; 30 is missing
        assert_eq!(firsts, vec![1, 9, 17, 25, 31, 39]);
        for (first, bytes) in &recs {
            let r = Record::parse(*first, sled::IVec::from(bytes.as_slice())).unwrap();
            assert!(
                bytes.len() <= MAX_RECORD_BYTES + 5 + 4 * 8,
                "{}",
                bytes.len()
            );
            assert_eq!(r.envelope(r.last()).unwrap().len(), 800);
        }
        let huge = vec![
            (1u64, sled::IVec::from(vec![b'{'; 20_000])),
            (2, sled::IVec::from(vec![b'{'; 10])),
        ];
        let firsts: Vec<u64> = records(&huge).iter().map(|(f, _)| *f).collect();
        assert_eq!(firsts, vec![1, 2], "a large envelope stays alone");
    }

    #[test]
    fn a_gap_or_a_short_log_is_reported_at_the_missing_seq() {
        let (_d, t) = tree();
        put(&t, 1, &["{1}", "{2}"]);
        put(&t, 4, &["{4}"]);
        let err = walk(&t, 1..=4).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { seq: 3, .. }), "{err:?}");
        let err = walk(&t, 4..=5).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { seq: 5, .. }), "{err:?}");
        assert!(record_at(&t, 3).unwrap().is_none());
    }

    #[test]
    fn a_damaged_header_is_corrupt_not_a_panic() {
        let (_d, t) = tree();
        let mut bytes = encode_record(&["{1}", "{2}"]);
        bytes.truncate(bytes.len() - 1);
        t.insert(codec::log_key(1), bytes).unwrap();
        assert!(matches!(
            walk(&t, 1..=2),
            Err(StoreError::Corrupt { seq: 1, .. })
        ));
        t.insert(codec::log_key(1), vec![RECORD_TAG, 9, 0]).unwrap();
        assert!(matches!(
            walk(&t, 1..=1),
            Err(StoreError::Corrupt { seq: 1, .. })
        ));
        t.insert(codec::log_key(1), Vec::<u8>::new()).unwrap();
        assert!(matches!(
            walk(&t, 1..=1),
            Err(StoreError::Corrupt { seq: 1, .. })
        ));
    }
}
