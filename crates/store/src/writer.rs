//! The single writer thread and its commit thread: pipelined group commit of appends
//! (one atomic batch, one flush per batch; batch N+1 is prepared while N is flushed).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sled::IVec;
use tokio::sync::watch;

use crate::codec::{self, io_err};
use crate::reply::Reply;
use crate::signing::{Signer, Trust};
use crate::{
    AppendError, AppendRequest, Appended, AppendedEvent, Envelope, ExpectedVersion, ReplicateError,
    StoreError,
};

/// Most commands taken into one batch.
const MAX_BATCH: usize = 4096;
/// Most stream versions kept in the writer's cache.
const VERSION_CACHE: usize = 200_000;

/// An append checked and mostly encoded on the caller's thread: everything of each
/// envelope that does not depend on the writer is already serialised (and each event's
/// `data` taken out of the request), so the writer only fills in seq, version, time and
/// hashes and copies bytes.
pub(crate) struct Prepared {
    pub req: AppendRequest,
    /// The stream name as a JSON string.
    pub stream_json: Vec<u8>,
    pub events: Vec<codec::PreEncoded>,
}

impl Prepared {
    pub(crate) fn new(mut req: AppendRequest) -> Result<Prepared, AppendError> {
        let stream_json = serde_json::to_vec(&req.stream)
            .map_err(|e| AppendError::Invalid(format!("stream: does not serialise: {e}")))?;
        let mut events = Vec::with_capacity(req.events.len());
        for (i, ev) in req.events.iter_mut().enumerate() {
            let pre = codec::PreEncoded::new(ev).map_err(|e| {
                AppendError::Invalid(format!("events[{i}]: does not serialise: {e}"))
            })?;
            let bytes = pre.len() + stream_json.len() + crate::ENVELOPE_OVERHEAD_BYTES;
            if bytes > crate::MAX_ENVELOPE_BYTES {
                return Err(AppendError::TooLarge {
                    index: i,
                    field: largest_field(&ev.data),
                    bytes,
                    limit: crate::MAX_ENVELOPE_BYTES,
                });
            }
            ev.data = serde_json::Value::Null;
            events.push(pre);
        }
        Ok(Prepared {
            req,
            stream_json,
            events,
        })
    }
}

/// `data.<name>` of the payload member with the longest JSON encoding (`data` when the
/// payload is not an object).
fn largest_field(data: &serde_json::Value) -> String {
    let Some(map) = data.as_object() else {
        return "data".into();
    };
    map.iter()
        .max_by_key(|(_, v)| serde_json::to_vec(v).map_or(0, |b| b.len()))
        .map_or_else(|| "data".into(), |(k, _)| format!("data.{k}"))
}

/// A request to the writer.
pub(crate) enum Cmd {
    Append(Prepared, Reply<Result<Appended, AppendError>>),
    Replicate(Box<Envelope>, Reply<Result<bool, ReplicateError>>),
    /// A run of envelopes applied in order in one batch; stops at the first refused one.
    ReplicateBatch(Vec<Envelope>, Reply<Result<usize, ReplicateError>>),
    /// A change of the writer's signing key (see [`KeyChange`]).
    Key(KeyChange, Reply<Result<Option<Appended>, AppendError>>),
    Close(Reply<Result<(), StoreError>>),
    /// From the committer: the batch handed over last is flushed (or failed) and its
    /// head is published; the writer may apply the next one.
    Flushed,
}

/// How the writer's signing key changes (see `signing`).
pub(crate) enum KeyChange {
    /// Sign with this key from now on. When the log has a key in force it must be this
    /// one (nothing is appended); a log without one adopts it: the announcement (the
    /// prepared append) goes first, signed by the key itself.
    Use(Arc<Signer>, Prepared),
    /// Append the announcement of the new key signed by the key in force, then sign
    /// with the new key.
    Rotate(Arc<Signer>, Prepared),
}

/// The database and its one event tree (see `codec` for the key prefixes).
#[derive(Clone)]
pub(crate) struct Trees {
    pub db: sled::Db,
    pub events: sled::Tree,
    /// What the writer has written since the store opened.
    pub stats: Arc<Counters>,
    /// sled's log file, fdatasynced after each flush (see [`Trees::sync`]).
    pub log_file: Arc<std::fs::File>,
}

impl Trees {
    /// Makes everything written so far durable: sled's flush writes its buffers with
    /// `sync_file_range`, which neither empties the device's write cache nor persists
    /// the file's size, and sled fsyncs only from its background flusher. So an
    /// acknowledged commit could vanish on power loss; `fdatasync` on the log file after
    /// the flush closes that window.
    pub fn sync(&self) -> Result<(), StoreError> {
        sync(&self.db, &self.log_file)
    }
}

/// [`Trees::sync`] for holders of the parts.
pub(crate) fn sync(db: &sled::Db, log_file: &std::fs::File) -> Result<(), StoreError> {
    db.flush().map_err(io_err)?;
    log_file
        .sync_data()
        .map_err(|e| StoreError::Io(e.to_string()))
}

/// Counters behind [`crate::CommitStats`].
#[derive(Default)]
pub(crate) struct Counters {
    pub batches: AtomicU64,
    pub events: AtomicU64,
    pub records: AtomicU64,
}

/// The durable head, shared with readers: only events up to it are visible.
pub(crate) struct Head {
    pub seq: u64,
    pub hash: String,
}

pub(crate) struct Writer {
    trees: Trees,
    head: Arc<RwLock<Head>>,
    /// Moved to the committer when the writer starts.
    head_tx: Option<watch::Sender<u64>>,
    seq: u64,
    hash: String,
    last_recorded: DateTime<Utc>,
    versions: HashMap<String, u64>,
    /// Reused encoding buffers (canonical and stored bytes of one envelope).
    canonical: Vec<u8>,
    stored: Vec<u8>,
    /// recorded_at of the last append, serialised once for all its events.
    stamp: Option<codec::Stamp>,
    /// The key new events are signed with.
    signer: Option<Arc<Signer>>,
    /// The key in force along the log (checks replicated envelopes).
    trust: Trust,
}

/// What one command of a batch answers once the batch is durable.
enum Outcome {
    Append(
        Reply<Result<Appended, AppendError>>,
        Result<Appended, AppendError>,
    ),
    Replicate(
        Reply<Result<bool, ReplicateError>>,
        Result<bool, ReplicateError>,
    ),
    /// A key change, with the announcement it appended, if any.
    Key(
        Reply<Result<Option<Appended>, AppendError>>,
        Result<Option<Appended>, AppendError>,
    ),
    /// The number of envelopes written, and the refusal that stopped the run, if any.
    ReplicateBatch(
        Reply<Result<usize, ReplicateError>>,
        usize,
        Option<ReplicateError>,
    ),
}

/// A batch being built: its writes, what each command answers once it is durable,
/// and the writer's seq and hash before its first command.
#[derive(Default)]
struct Building {
    pending: Pending,
    outcomes: Vec<Outcome>,
    commands: usize,
    start: Option<(u64, String)>,
    /// The writer's keys before the batch's first command.
    start_keys: Option<(Option<Arc<Signer>>, Trust)>,
    /// recorded_at of the batch's appends.
    now: DateTime<Utc>,
    close: Option<Reply<Result<(), StoreError>>>,
}

/// A batch written into sled by the writer, handed to the committer to be flushed,
/// published and answered.
struct Applied {
    outcomes: Vec<Outcome>,
    /// The `apply_batch` result; the flush result is added by the committer.
    result: Result<(), StoreError>,
    /// The head to publish once durable (`None` when the batch wrote no event).
    head: Option<(u64, String)>,
    /// Whether the committer must flush (something was written, or the store closes,
    /// and the writer did not flush it itself).
    flush: bool,
    /// Whether the writer waits for `Cmd::Flushed` before its next `apply_batch`.
    notify: bool,
    close: Option<Reply<Result<(), StoreError>>>,
}

/// The commit thread: flushes each applied batch, then publishes the new durable head
/// to readers and subscribers, tells the writer it may apply the next batch, and
/// answers the batch's callers. So the writer checks and encodes batch N+1 while batch
/// N's flush is on the disk, and nobody is answered before the flush covering them.
struct Committer {
    db: sled::Db,
    log_file: Arc<std::fs::File>,
    publisher: Arc<Publisher>,
    writer: mpsc::Sender<Cmd>,
}

/// Makes a durable head visible to readers and subscribers. Used by the commit thread,
/// and by the writer for a batch it flushed itself (only when no batch is in flight,
/// so the head never moves backwards).
struct Publisher {
    head: Arc<RwLock<Head>>,
    head_tx: watch::Sender<u64>,
}

impl Publisher {
    fn publish(&self, seq: u64, hash: String) {
        {
            let mut h = self.head.write().expect("head lock");
            h.seq = seq;
            h.hash = hash;
        }
        self.head_tx.send_replace(seq);
    }
}

impl Committer {
    fn run(self, rx: mpsc::Receiver<Applied>) {
        while let Ok(applied) = rx.recv() {
            let Applied {
                outcomes,
                mut result,
                head,
                flush,
                notify,
                close,
            } = applied;
            if result.is_ok() && flush {
                result = sync(&self.db, &self.log_file);
            }
            if result.is_ok() {
                if let Some((seq, hash)) = head {
                    self.publisher.publish(seq, hash);
                }
            } else if let Err(e) = &result {
                tracing::error!(error = %e, "event store flush failed");
            }
            if notify {
                let _ = self.writer.send(Cmd::Flushed);
            }
            answer(outcomes, &result);
            if let Some(reply) = close {
                let _ = reply.send(result);
                return;
            }
        }
    }
}

/// Sends every caller of a batch its answer; a failed commit turns the writes into
/// errors (replayed idempotent answers and refusals stand).
fn answer(outcomes: Vec<Outcome>, commit: &Result<(), StoreError>) {
    for o in outcomes {
        match o {
            Outcome::Append(reply, r) => {
                let r = match (commit, r) {
                    (Err(e), Ok(a)) if !a.replayed => Err(AppendError::Store(e.clone())),
                    (_, r) => r,
                };
                let _ = reply.send(r);
            }
            Outcome::Replicate(reply, r) => {
                let r = match (commit, r) {
                    (Err(e), Ok(true)) => Err(ReplicateError::Store(e.clone())),
                    (_, r) => r,
                };
                let _ = reply.send(r);
            }
            Outcome::Key(reply, r) => {
                let r = match (commit, r) {
                    (Err(e), Ok(Some(_))) => Err(AppendError::Store(e.clone())),
                    (_, r) => r,
                };
                let _ = reply.send(r);
            }
            Outcome::ReplicateBatch(reply, applied, refused) => {
                let r = match (commit, refused) {
                    (Err(e), _) if applied > 0 => Err(ReplicateError::Store(e.clone())),
                    (_, Some(refused)) => Err(refused),
                    (_, None) => Ok(applied),
                };
                let _ = reply.send(r);
            }
        }
    }
}

/// The writes of one batch, built up command by command.
#[derive(Default)]
struct Pending {
    log: Vec<(u64, IVec)>,
    streams: Vec<(Vec<u8>, u64)>,
    heads: HashMap<String, u64>,
    /// Streams created by this batch, with their first seq (the `heads` registry).
    created: Vec<(String, u64)>,
    idem: HashMap<String, ([u8; 32], Appended)>,
    /// Envelopes of `log` still to be signed (see [`Writer::sign`]).
    to_sign: Vec<ToSign>,
}

/// An envelope of a batch to sign before the batch is written: its index in
/// `Pending::log`, its hash, and the key in force when it was encoded.
struct ToSign {
    at: usize,
    hash: String,
    signer: Arc<Signer>,
}

impl Writer {
    pub(crate) fn new(
        trees: Trees,
        head: Arc<RwLock<Head>>,
        head_tx: watch::Sender<u64>,
        trust: Trust,
    ) -> Writer {
        let (seq, hash) = {
            let h = head.read().expect("head lock");
            (h.seq, h.hash.clone())
        };
        // recorded_at never goes backwards along the log, even if the clock does.
        let last_recorded = crate::log::record_at(&trees.events, seq)
            .ok()
            .flatten()
            .and_then(|r| r.envelope(seq).ok())
            .and_then(|v| serde_json::from_slice::<Envelope>(&v).ok())
            .map_or(DateTime::<Utc>::MIN_UTC, |e| e.recorded_at);
        Writer {
            trees,
            head,
            head_tx: Some(head_tx),
            seq,
            hash,
            last_recorded,
            versions: HashMap::new(),
            canonical: Vec::with_capacity(2048),
            stored: Vec::with_capacity(2048),
            stamp: None,
            signer: None,
            trust,
        }
    }

    /// Runs until `Close` (or until every sender is gone), with the committer thread
    /// (see [`Committer`]) flushing each applied batch while the next one is prepared.
    ///
    /// `self_tx` is handed to the committer, which answers `Cmd::Flushed` on it after
    /// every batch it completes.
    pub(crate) fn run(mut self, rx: mpsc::Receiver<Cmd>, self_tx: mpsc::Sender<Cmd>) {
        let (to_committer, committer_rx) = mpsc::channel::<Applied>();
        let Some(head_tx) = self.head_tx.take() else {
            return;
        };
        let publisher = Arc::new(Publisher {
            head: self.head.clone(),
            head_tx,
        });
        let committer = Committer {
            db: self.trees.db.clone(),
            log_file: self.trees.log_file.clone(),
            publisher: publisher.clone(),
            writer: self_tx,
        };
        let handle = match std::thread::Builder::new()
            .name("store-commit".into())
            .spawn(move || committer.run(committer_rx))
        {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the store's commit thread");
                return;
            }
        };
        let mut building = Building::default();
        let mut overflow: VecDeque<Cmd> = VecDeque::new();
        // True while a batch handed to the committer has not been flushed yet. Only one
        // batch is ever applied but not durable, and the next `apply_batch` waits for
        // its flush: sled's flush holds a lock that `apply_batch` needs exclusively,
        // and readers queue behind a waiting `apply_batch`.
        let mut in_flight = false;
        loop {
            if !in_flight {
                // Deferred commands first (in order), then whatever is queued.
                while building.commands < MAX_BATCH {
                    if let Some(cmd) = overflow.pop_front() {
                        self.prepare_cmd(cmd, &mut building);
                        continue;
                    }
                    match rx.try_recv() {
                        Ok(cmd) => self.take(cmd, &mut building, &mut overflow, &mut in_flight),
                        Err(_) => break,
                    }
                }
                if building.commands > 0 || building.close.is_some() {
                    let closing = building.close.is_some();
                    let lone = building.commands == 1;
                    let batch = std::mem::take(&mut building);
                    let mut applied = self.apply(batch);
                    // A lone writer (a one-request batch, nothing queued behind it):
                    // flush right here and save the caller the round trip through the
                    // commit thread. Otherwise the commit thread flushes while the
                    // requests that arrive get checked and encoded.
                    let mut next = None;
                    if !closing {
                        if !applied.flush {
                            applied.notify = false;
                        } else if lone && overflow.is_empty() {
                            match rx.try_recv() {
                                Ok(cmd) => next = Some(cmd),
                                Err(_) => {
                                    self.finish_here(applied, &publisher);
                                    continue;
                                }
                            }
                        }
                    }
                    let notify = applied.notify;
                    if to_committer.send(applied).is_err() {
                        break;
                    }
                    in_flight = notify;
                    if closing {
                        break;
                    }
                    if let Some(cmd) = next {
                        self.take(cmd, &mut building, &mut overflow, &mut in_flight);
                    }
                    continue;
                }
            }
            match rx.recv() {
                Ok(cmd) => self.take(cmd, &mut building, &mut overflow, &mut in_flight),
                Err(_) => break,
            }
        }
        drop(to_committer);
        let _ = handle.join();
        if let Err(e) = self.trees.sync() {
            tracing::error!(error = %e, "final flush of the event store failed");
        }
    }

    /// Flushes, publishes and answers an applied batch on the writer thread itself (the
    /// lone-writer case: nothing in flight, nothing queued), sparing the callers a hop
    /// through the commit thread.
    fn finish_here(&self, applied: Applied, publisher: &Publisher) {
        let Applied {
            outcomes,
            mut result,
            head,
            ..
        } = applied;
        if result.is_ok() {
            result = self.trees.sync();
        }
        match (&result, head) {
            (Ok(()), Some((seq, hash))) => publisher.publish(seq, hash),
            (Err(e), _) => tracing::error!(error = %e, "event store flush failed"),
            _ => {}
        }
        answer(outcomes, &result);
    }

    /// Takes one command into the batch being built (checking and encoding it now,
    /// while the previous batch may still be flushing), or defers it when the batch is
    /// full, keeping arrival order.
    fn take(
        &mut self,
        cmd: Cmd,
        building: &mut Building,
        overflow: &mut VecDeque<Cmd>,
        in_flight: &mut bool,
    ) {
        if matches!(cmd, Cmd::Flushed) {
            *in_flight = false;
            return;
        }
        if building.commands >= MAX_BATCH || !overflow.is_empty() {
            overflow.push_back(cmd);
            return;
        }
        self.prepare_cmd(cmd, building);
    }

    /// Checks and encodes one command into the batch being built.
    fn prepare_cmd(&mut self, cmd: Cmd, building: &mut Building) {
        let closed = building.close.is_some();
        if !closed && building.start.is_none() && !matches!(cmd, Cmd::Close(_)) {
            building.start = Some((self.seq, self.hash.clone()));
            building.start_keys = Some((self.signer.clone(), self.trust.clone()));
            // One recorded_at per batch; it never goes backwards along the log.
            building.now = Utc::now().max(self.last_recorded);
            self.last_recorded = building.now;
        }
        let pending = &mut building.pending;
        match cmd {
            Cmd::Flushed => {}
            Cmd::Append(req, reply) => {
                let r = if closed {
                    Err(AppendError::Store(StoreError::Closed))
                } else {
                    let now = building.now;
                    self.prepare_append(req, now, pending)
                };
                building.outcomes.push(Outcome::Append(reply, r));
            }
            Cmd::Replicate(env, reply) => {
                let r = if closed {
                    Err(ReplicateError::Store(StoreError::Closed))
                } else {
                    self.prepare_replicate(*env, pending)
                };
                building.outcomes.push(Outcome::Replicate(reply, r));
            }
            Cmd::ReplicateBatch(envs, reply) => {
                let (applied, refused) = if closed {
                    (0, Some(ReplicateError::Store(StoreError::Closed)))
                } else {
                    self.prepare_replicate_run(envs, pending)
                };
                building
                    .outcomes
                    .push(Outcome::ReplicateBatch(reply, applied, refused));
            }
            Cmd::Key(change, reply) => {
                let r = if closed {
                    Err(AppendError::Store(StoreError::Closed))
                } else {
                    let now = building.now;
                    self.change_key(change, now, pending)
                };
                if matches!(r, Ok(None)) {
                    // nothing appended: the key stays whatever becomes of the batch
                    if let Some((signer, _)) = &mut building.start_keys {
                        signer.clone_from(&self.signer);
                    }
                }
                building.outcomes.push(Outcome::Key(reply, r));
            }
            Cmd::Close(reply) => {
                if closed {
                    let _ = reply.send(Ok(()));
                } else {
                    building.close = Some(reply);
                }
                return;
            }
        }
        building.commands += 1;
    }

    /// Writes a built batch into sled (one `apply_batch`, not yet flushed) and hands
    /// back what the committer needs to make it durable and answer it.
    fn apply(&mut self, batch: Building) -> Applied {
        let Building {
            pending,
            outcomes,
            close,
            start,
            start_keys,
            ..
        } = batch;
        let mut pending = pending;
        sign(&mut pending);
        let wrote = !pending.log.is_empty() || !pending.idem.is_empty();
        let result = if wrote {
            self.write_batch(&pending)
        } else {
            Ok(())
        };
        let moved = start.as_ref().is_some_and(|(seq, _)| *seq != self.seq);
        match &result {
            Ok(()) => {
                for (stream, version) in pending.heads {
                    self.versions.insert(stream, version);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "event store commit failed");
                if let Some((seq, hash)) = start {
                    self.seq = seq;
                    self.hash = hash;
                }
                if let Some((signer, trust)) = start_keys {
                    self.signer = signer;
                    self.trust = trust;
                }
                self.versions.clear();
                // Reload what sled really holds in case the failure came after the write.
                if let Ok(Some(v)) = self.trees.events.get(codec::META_HEAD) {
                    if let Some((s, h)) = codec::decode_head(&v) {
                        self.seq = s;
                        self.hash = h;
                    }
                }
            }
        }
        Applied {
            outcomes,
            result,
            head: (moved && wrote).then(|| (self.seq, self.hash.clone())),
            flush: wrote || close.is_some(),
            notify: true,
            close,
        }
    }

    /// Current version of a stream, seeing this batch's earlier appends. The writer is
    /// the only one to change versions, so its cache is authoritative.
    fn version_of(&mut self, stream: &str, pending: &Pending) -> Result<u64, StoreError> {
        if let Some(v) = pending.heads.get(stream) {
            return Ok(*v);
        }
        if let Some(v) = self.versions.get(stream) {
            return Ok(*v);
        }
        let v = codec::version_from_index(&self.trees.events, stream, u64::MAX)?;
        if self.versions.len() >= VERSION_CACHE {
            self.versions.clear();
        }
        self.versions.insert(stream.to_string(), v);
        Ok(v)
    }

    fn prepare_append(
        &mut self,
        prepared: Prepared,
        now: DateTime<Utc>,
        pending: &mut Pending,
    ) -> Result<Appended, AppendError> {
        let Prepared {
            req,
            stream_json,
            events: pre,
        } = prepared;
        if let Some(idem) = &req.idempotency {
            let earlier = match pending.idem.get(&idem.key) {
                Some(found) => Some(found.clone()),
                None => read_idempotency(&self.trees.events, &idem.key)?,
            };
            if let Some((fingerprint, mut appended)) = earlier {
                if fingerprint != idem.fingerprint {
                    return Err(AppendError::IdempotencyKeyReused(idem.key.clone()));
                }
                appended.replayed = true;
                return Ok(appended);
            }
        }
        if let Some(key) = self.trust.current() {
            if self.signer.as_ref().is_none_or(|s| s.public() != key) {
                return Err(AppendError::Unsigned {
                    key_id: key.id().to_string(),
                });
            }
        }
        let actual = self.version_of(&req.stream, pending)?;
        let ok = match req.expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::Exact(n) => actual == n,
        };
        if !ok {
            return Err(AppendError::Conflict {
                stream: req.stream,
                expected: req.expected,
                actual,
            });
        }
        if self.stamp.as_ref().is_none_or(|st| st.at != now) {
            self.stamp = Some(codec::Stamp::new(now));
        }
        let stamp = self.stamp.as_ref().expect("stamp set above");
        let mut events = Vec::with_capacity(req.events.len());
        let mut version = actual;
        let mut seq = self.seq;
        let mut hash = self.hash.clone();
        let mut log = Vec::with_capacity(req.events.len());
        let mut to_sign = Vec::new();
        for (ev, pre) in req.events.into_iter().zip(&pre) {
            seq += 1;
            version += 1;
            hash = codec::encode_new(
                seq,
                &stream_json,
                version,
                pre,
                stamp,
                &hash,
                &mut self.canonical,
                &mut self.stored,
            );
            if let Some(signer) = &self.signer {
                to_sign.push(ToSign {
                    at: pending.log.len() + log.len(),
                    hash: hash.clone(),
                    signer: signer.clone(),
                });
            }
            log.push((seq, IVec::from(self.stored.as_slice())));
            events.push(AppendedEvent {
                seq,
                version,
                id: ev.id,
                event_type: ev.event_type,
            });
        }
        // Nothing can fail from here on: publish this request's writes to the batch.
        for e in &events {
            pending
                .streams
                .push((codec::stream_key(&req.stream, e.version), e.seq));
        }
        pending.log.extend(log);
        pending.to_sign.extend(to_sign);
        self.seq = seq;
        self.hash = hash;
        let appended = Appended {
            stream: req.stream.clone(),
            version,
            events,
            meta: req
                .idempotency
                .as_ref()
                .map(|i| i.meta.clone())
                .unwrap_or(serde_json::Value::Null),
            replayed: false,
        };
        if actual == 0 {
            pending
                .created
                .push((req.stream.clone(), self.seq - (version - actual) + 1));
        }
        pending.heads.insert(req.stream, version);
        if let Some(idem) = req.idempotency {
            pending
                .idem
                .insert(idem.key, (idem.fingerprint, appended.clone()));
        }
        Ok(appended)
    }

    fn prepare_replicate(
        &mut self,
        env: Envelope,
        pending: &mut Pending,
    ) -> Result<bool, ReplicateError> {
        if env.seq <= self.seq {
            // Possibly a duplicate delivery: fine when identical to what is stored.
            let stored = if let Some((_, bytes)) = pending.log.iter().find(|(s, _)| *s == env.seq) {
                Some(codec::decode_envelope(env.seq, bytes)?)
            } else {
                match crate::log::record_at(&self.trees.events, env.seq)? {
                    Some(record) => {
                        Some(codec::decode_envelope(env.seq, &record.envelope(env.seq)?)?)
                    }
                    None => None,
                }
            };
            return match stored {
                Some(s) if s == env => Ok(false),
                _ => Err(ReplicateError::BadHash {
                    seq: env.seq,
                    reason: "differs from the event stored at this seq".into(),
                }),
            };
        }
        if env.seq != self.seq + 1 {
            return Err(ReplicateError::Gap {
                expected: self.seq + 1,
                got: env.seq,
            });
        }
        if env.prev_hash != self.hash {
            return Err(ReplicateError::BadHash {
                seq: env.seq,
                reason: format!(
                    "prev_hash {} does not match head hash {}",
                    env.prev_hash, self.hash
                ),
            });
        }
        let canonical = codec::canonical_bytes(&env).map_err(|e| ReplicateError::BadHash {
            seq: env.seq,
            reason: e.to_string(),
        })?;
        let hash = codec::chain_hash(&env.prev_hash, &canonical);
        if hash != env.hash {
            return Err(ReplicateError::BadHash {
                seq: env.seq,
                reason: format!("hash {} does not match the recomputed {hash}", env.hash),
            });
        }
        let mut trust = self.trust.clone();
        trust
            .check(&env)
            .map_err(|reason| ReplicateError::BadSignature {
                seq: env.seq,
                reason,
            })?;
        let version = self.version_of(&env.stream, pending)?;
        if env.version != version + 1 {
            return Err(ReplicateError::BadHash {
                seq: env.seq,
                reason: format!(
                    "stream {} is at version {version}, the event has version {}",
                    env.stream, env.version
                ),
            });
        }
        pending.log.push((
            env.seq,
            IVec::from(codec::fill_hash(&canonical, &hash, env.sig.as_deref())),
        ));
        self.trust = trust;
        pending
            .streams
            .push((codec::stream_key(&env.stream, env.version), env.seq));
        self.last_recorded = self.last_recorded.max(env.recorded_at);
        if version == 0 {
            pending.created.push((env.stream.clone(), env.seq));
        }
        pending.heads.insert(env.stream, env.version);
        self.seq = env.seq;
        self.hash = hash;
        Ok(true)
    }

    /// Changes the signing key (see [`KeyChange`]); returns the announcement appended.
    fn change_key(
        &mut self,
        change: KeyChange,
        now: DateTime<Utc>,
        pending: &mut Pending,
    ) -> Result<Option<Appended>, AppendError> {
        match change {
            KeyChange::Use(signer, adoption) => match self.trust.current() {
                Some(key) if key == signer.public() => {
                    self.signer = Some(signer);
                    Ok(None)
                }
                Some(key) => Err(AppendError::Invalid(format!(
                    "signing key {} is not the log's key in force, {}",
                    signer.public().id(),
                    key.id()
                ))),
                None => {
                    let before = self.signer.replace(signer.clone());
                    match self.prepare_append(adoption, now, pending) {
                        Ok(appended) => {
                            self.trust.set_current(signer.public().clone());
                            Ok(Some(appended))
                        }
                        Err(e) => {
                            self.signer = before;
                            Err(e)
                        }
                    }
                }
            },
            KeyChange::Rotate(next, announcement) => {
                let Some(current) = self.trust.current() else {
                    return Err(AppendError::Invalid(
                        "the log has no signing key to rotate from".into(),
                    ));
                };
                if self.signer.as_ref().is_none_or(|s| s.public() != current) {
                    return Err(AppendError::Unsigned {
                        key_id: current.id().to_string(),
                    });
                }
                let appended = self.prepare_append(announcement, now, pending)?;
                self.trust.set_current(next.public().clone());
                self.signer = Some(next);
                Ok(Some(appended))
            }
        }
    }

    /// Applies `envs` in order until one is refused: returns how many were written
    /// (identical duplicates are skipped, not counted) and the refusal, if any. The
    /// envelopes before the refused one stay in this batch's writes.
    fn prepare_replicate_run(
        &mut self,
        envs: Vec<Envelope>,
        pending: &mut Pending,
    ) -> (usize, Option<ReplicateError>) {
        let mut applied = 0;
        for env in envs {
            match self.prepare_replicate(env, pending) {
                Ok(true) => applied += 1,
                Ok(false) => {}
                Err(e) => return (applied, Some(e)),
            }
        }
        (applied, None)
    }

    /// The whole batch as one `apply_batch` on the one event tree (atomic, also
    /// across a crash: sled recovers a batch entirely or not at all); not flushed here
    /// (see [`Writer::run`]). The writer is the only one writing these keys, so no
    /// transaction is needed.
    fn write_batch(&self, pending: &Pending) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let records = crate::log::records(&pending.log);
        let stats = &self.trees.stats;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats
            .events
            .fetch_add(pending.log.len() as u64, Ordering::Relaxed);
        stats
            .records
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        for (first, record) in records {
            batch.insert(&codec::log_key(first), record);
        }
        for (k, seq) in &pending.streams {
            batch.insert(k.as_slice(), &seq.to_be_bytes());
        }
        for (stream, first_seq) in &pending.created {
            batch.insert(codec::head_key(stream), &first_seq.to_be_bytes());
        }
        for (key, (fp, appended)) in &pending.idem {
            let mut v = fp.to_vec();
            serde_json::to_writer(&mut v, appended).map_err(|e| StoreError::Io(e.to_string()))?;
            batch.insert(codec::idem_key(key), v);
        }
        batch.insert(codec::META_HEAD, codec::encode_head(self.seq, &self.hash));
        self.trees.events.apply_batch(batch).map_err(io_err)
    }
}

/// Signs the batch's new envelopes, on every core: signing is most of what the writer
/// spends on an event, and each signature depends only on its envelope's hash. Each
/// signature goes in after its `hash`, where `codec::encode_new` puts it.
fn sign(pending: &mut Pending) {
    if pending.to_sign.is_empty() {
        return;
    }
    let to_sign = std::mem::take(&mut pending.to_sign);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // below this, starting a thread costs more than the signatures it would make
    const PER_THREAD: usize = 8;
    let chunk = to_sign.len().div_ceil(threads).max(PER_THREAD);
    let sigs: Vec<String> = std::thread::scope(|scope| {
        let mut parts = to_sign.chunks(chunk);
        let first = parts.next().unwrap_or_default();
        let handles: Vec<_> = parts
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|t| t.signer.sign(&t.hash))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut sigs: Vec<String> = first.iter().map(|t| t.signer.sign(&t.hash)).collect();
        for h in handles {
            sigs.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        sigs
    });
    for (t, sig) in to_sign.iter().zip(&sigs) {
        let (_, bytes) = &mut pending.log[t.at];
        *bytes = IVec::from(codec::insert_sig(bytes, sig));
    }
}

/// Reads a stored idempotency record.
pub(crate) fn read_idempotency(
    events: &sled::Tree,
    key: &str,
) -> Result<Option<([u8; 32], Appended)>, StoreError> {
    let Some(v) = events.get(codec::idem_key(key)).map_err(io_err)? else {
        return Ok(None);
    };
    if v.len() < 32 {
        return Err(StoreError::Io(format!(
            "idempotency record {key} is truncated"
        )));
    }
    let mut fp = [0u8; 32];
    fp.copy_from_slice(&v[..32]);
    let appended: Appended = serde_json::from_slice(&v[32..])
        .map_err(|e| StoreError::Io(format!("idempotency record {key} does not parse: {e}")))?;
    Ok(Some((fp, appended)))
}
