//! Read paths: stream and global iterators, and the catch-up-then-live subscription.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::codec::{self, io_err};
use crate::log::{self, Record};
use crate::writer::Head;
use crate::{Envelope, StoreError, Upcaster};

/// What a reader needs: the trees, the durable head and the upcaster.
#[derive(Clone)]
pub(crate) struct Reader {
    /// The one event tree (log, stream index, ...; see `codec`).
    pub events: sled::Tree,
    pub head: Arc<RwLock<Head>>,
    pub upcaster: Option<Arc<dyn Upcaster>>,
}

impl Reader {
    pub(crate) fn durable_seq(&self) -> u64 {
        self.head.read().expect("head lock").seq
    }

    /// Events of `stream` from `from_version`, recorded at or before `as_of`.
    pub(crate) fn stream(
        &self,
        stream: &str,
        from_version: u64,
        as_of: Option<DateTime<Utc>>,
    ) -> impl Iterator<Item = Result<Envelope, StoreError>> + Send + 'static {
        let valid = !stream.is_empty() && !stream.contains('\0');
        let range = if valid {
            Some(self.events.range(
                codec::stream_key(stream, from_version.max(1))..codec::stream_key_end(stream),
            ))
        } else {
            None
        };
        let mut range = range.into_iter().flatten();
        let reader = self.clone();
        let limit = self.durable_seq();
        let mut done = false;
        // Events appended together share a log record: keep the last one read.
        let mut record: Option<Record> = None;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let item = (|| {
                let Some(entry) = range.next() else {
                    return Ok(None);
                };
                let (key, value) = entry.map_err(io_err)?;
                let seq = codec::decode_u64(&value)
                    .ok_or_else(|| StoreError::Io(format!("bad stream index entry {key:?}")))?;
                if seq > limit {
                    return Ok(None);
                }
                if !record.as_ref().is_some_and(|r| r.contains(seq)) {
                    record = log::record_at(&reader.events, seq)?;
                }
                let bytes = record
                    .as_ref()
                    .ok_or_else(|| StoreError::Corrupt {
                        seq,
                        reason: "indexed by its stream but missing from the log".into(),
                    })?
                    .envelope(seq)?;
                let env = codec::decode_envelope(seq, &bytes)?;
                if as_of.is_some_and(|t| env.recorded_at > t) {
                    // recorded_at never decreases along the log, so nothing later qualifies.
                    return Ok(None);
                }
                Ok(Some(codec::upcast(env, reader.upcaster.as_deref())))
            })();
            match item {
                Ok(Some(env)) => Some(Ok(env)),
                Ok(None) => {
                    done = true;
                    None
                }
                Err(e) => {
                    done = true;
                    Some(Err(e))
                }
            }
        })
    }

    /// The global log from `from_seq`, at most `limit` events, up to the durable head.
    pub(crate) fn all(
        &self,
        from_seq: u64,
        limit: usize,
        upcast: bool,
    ) -> impl Iterator<Item = Result<Envelope, StoreError>> + Send + 'static {
        let head = self.durable_seq();
        let from = from_seq.max(1);
        let mut log = log::LogIter::new(&self.events, from..=head);
        let upcaster = if upcast { self.upcaster.clone() } else { None };
        let mut left = limit;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            left -= 1;
            let item = log.next()?.and_then(|(seq, bytes)| {
                codec::decode_envelope(seq, &bytes)
                    .map(|env| codec::upcast(env, upcaster.as_deref()))
            });
            if item.is_err() {
                left = 0;
            }
            Some(item)
        })
    }
}

/// Catch-up-then-live reader of the global log.
///
/// It reads from disk everything up to the durable head, then waits on the head
/// watch; it never holds anything the writer waits for, so a slow subscriber only
/// falls behind.
pub(crate) struct SubscriptionState {
    reader: Reader,
    next_seq: u64,
    head_rx: watch::Receiver<u64>,
    buf: VecDeque<Envelope>,
    closed: bool,
}

/// Events read from disk in one go.
const CHUNK: usize = 512;

impl SubscriptionState {
    pub(crate) fn new(
        reader: Reader,
        from_seq: u64,
        head_rx: watch::Receiver<u64>,
    ) -> SubscriptionState {
        SubscriptionState {
            reader,
            next_seq: from_seq.max(1),
            head_rx,
            buf: VecDeque::new(),
            closed: false,
        }
    }

    /// Makes sure the buffer holds at least one event; `Ok(false)` when the store closed
    /// and everything was delivered.
    async fn fill(&mut self, want: usize) -> Result<bool, StoreError> {
        loop {
            if !self.buf.is_empty() {
                return Ok(true);
            }
            let head = *self.head_rx.borrow_and_update();
            if self.next_seq <= head {
                let n = want.max(CHUNK).min((head - self.next_seq + 1) as usize);
                for item in self.reader.all(self.next_seq, n, true) {
                    let env = item?;
                    self.next_seq = env.seq + 1;
                    self.buf.push_back(env);
                }
                continue;
            }
            if self.closed {
                return Ok(false);
            }
            if self.head_rx.changed().await.is_err() {
                // The writer stopped: deliver what is left on disk, then end.
                self.closed = true;
            }
        }
    }

    pub(crate) async fn next(&mut self) -> Option<Result<Envelope, StoreError>> {
        match self.fill(1).await {
            Ok(true) => self.buf.pop_front().map(Ok),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }

    pub(crate) async fn next_batch(
        &mut self,
        max: usize,
    ) -> Option<Result<Vec<Envelope>, StoreError>> {
        let max = max.max(1);
        match self.fill(max).await {
            Ok(true) => {
                let n = max.min(self.buf.len());
                Some(Ok(self.buf.drain(..n).collect()))
            }
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}
