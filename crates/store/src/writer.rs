//! The single writer thread: group commit of appends (one atomic batch, one flush per batch).

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sled::IVec;
use tokio::sync::{oneshot, watch};

use crate::codec::{self, io_err};
use crate::{
    AppendError, AppendRequest, Appended, AppendedEvent, Envelope, ExpectedVersion, ReplicateError,
    StoreError,
};

/// Most commands taken into one batch.
const MAX_BATCH: usize = 4096;
/// Most stream versions kept in the writer's cache.
const VERSION_CACHE: usize = 200_000;

/// An append checked and half-encoded on the caller's thread: each event's `data`
/// is already serialised (and taken out of the request), so the writer only fills
/// in seq, version, time and hashes.
pub(crate) struct Prepared {
    pub req: AppendRequest,
    pub data: Vec<Vec<u8>>,
}

impl Prepared {
    /// Serialises every event's data (compact serde_json, the bytes the envelope holds).
    pub(crate) fn new(mut req: AppendRequest) -> Result<Prepared, AppendError> {
        let mut data = Vec::with_capacity(req.events.len());
        for (i, ev) in req.events.iter_mut().enumerate() {
            let bytes = serde_json::to_vec(&ev.data).map_err(|e| {
                AppendError::Invalid(format!("events[{i}].data: does not serialise: {e}"))
            })?;
            ev.data = serde_json::Value::Null;
            data.push(bytes);
        }
        Ok(Prepared { req, data })
    }
}

/// A request to the writer.
pub(crate) enum Cmd {
    Append(Prepared, oneshot::Sender<Result<Appended, AppendError>>),
    Replicate(Box<Envelope>, oneshot::Sender<Result<bool, ReplicateError>>),
    /// A run of envelopes applied in order in one batch; stops at the first refused one.
    ReplicateBatch(
        Vec<Envelope>,
        oneshot::Sender<Result<usize, ReplicateError>>,
    ),
    Close(oneshot::Sender<Result<(), StoreError>>),
}

/// The database and its one event tree (see `codec` for the key prefixes).
#[derive(Clone)]
pub(crate) struct Trees {
    pub db: sled::Db,
    pub events: sled::Tree,
}

/// The durable head, shared with readers: only events up to it are visible.
pub(crate) struct Head {
    pub seq: u64,
    pub hash: String,
}

pub(crate) struct Writer {
    trees: Trees,
    head: Arc<RwLock<Head>>,
    head_tx: watch::Sender<u64>,
    seq: u64,
    hash: String,
    last_recorded: DateTime<Utc>,
    versions: HashMap<String, u64>,
    /// Reused encoding buffers (canonical and stored bytes of one envelope).
    canonical: Vec<u8>,
    stored: Vec<u8>,
}

/// What one command of a batch answers once the batch is durable.
enum Outcome {
    Append(
        oneshot::Sender<Result<Appended, AppendError>>,
        Result<Appended, AppendError>,
    ),
    Replicate(
        oneshot::Sender<Result<bool, ReplicateError>>,
        Result<bool, ReplicateError>,
    ),
    /// The number of envelopes written, and the refusal that stopped the run, if any.
    ReplicateBatch(
        oneshot::Sender<Result<usize, ReplicateError>>,
        usize,
        Option<ReplicateError>,
    ),
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
}

impl Writer {
    pub(crate) fn new(
        trees: Trees,
        head: Arc<RwLock<Head>>,
        head_tx: watch::Sender<u64>,
    ) -> Writer {
        let (seq, hash) = {
            let h = head.read().expect("head lock");
            (h.seq, h.hash.clone())
        };
        // recorded_at never goes backwards along the log, even if the clock does.
        let last_recorded = trees
            .events
            .range(codec::log_range())
            .next_back()
            .and_then(Result::ok)
            .and_then(|(_, v)| serde_json::from_slice::<Envelope>(&v).ok())
            .map_or(DateTime::<Utc>::MIN_UTC, |e| e.recorded_at);
        Writer {
            trees,
            head,
            head_tx,
            seq,
            hash,
            last_recorded,
            versions: HashMap::new(),
            canonical: Vec::with_capacity(2048),
            stored: Vec::with_capacity(2048),
        }
    }

    /// Runs until `Close` or until every sender is gone.
    pub(crate) fn run(mut self, rx: mpsc::Receiver<Cmd>) {
        let mut batch = Vec::with_capacity(256);
        while let Ok(first) = rx.recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(c) => batch.push(c),
                    Err(_) => break,
                }
            }
            if self.process(&mut batch) {
                return;
            }
        }
        if let Err(e) = self.trees.db.flush() {
            tracing::error!(error = %e, "final flush of the event store failed");
        }
    }

    /// Applies one batch; returns true when the writer must stop.
    fn process(&mut self, batch: &mut Vec<Cmd>) -> bool {
        let start_seq = self.seq;
        let start_hash = self.hash.clone();
        let mut pending = Pending::default();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut close: Option<oneshot::Sender<Result<(), StoreError>>> = None;
        let now = Utc::now().max(self.last_recorded);
        for cmd in batch.drain(..) {
            match cmd {
                Cmd::Append(req, reply) => {
                    let r = if close.is_some() {
                        Err(AppendError::Store(StoreError::Closed))
                    } else {
                        self.prepare_append(req, now, &mut pending)
                    };
                    outcomes.push(Outcome::Append(reply, r));
                }
                Cmd::Replicate(env, reply) => {
                    let r = if close.is_some() {
                        Err(ReplicateError::Store(StoreError::Closed))
                    } else {
                        self.prepare_replicate(*env, &mut pending)
                    };
                    outcomes.push(Outcome::Replicate(reply, r));
                }
                Cmd::ReplicateBatch(envs, reply) => {
                    let (applied, refused) = if close.is_some() {
                        (0, Some(ReplicateError::Store(StoreError::Closed)))
                    } else {
                        self.prepare_replicate_run(envs, &mut pending)
                    };
                    outcomes.push(Outcome::ReplicateBatch(reply, applied, refused));
                }
                Cmd::Close(reply) => {
                    if close.is_none() {
                        close = Some(reply);
                    } else {
                        let _ = reply.send(Ok(()));
                    }
                }
            }
        }
        let wrote = !pending.log.is_empty() || !pending.idem.is_empty();
        let commit = if wrote { self.commit(&pending) } else { Ok(()) };
        match &commit {
            Ok(()) => {
                if self.seq != start_seq {
                    {
                        let mut h = self.head.write().expect("head lock");
                        h.seq = self.seq;
                        h.hash = self.hash.clone();
                    }
                    self.head_tx.send_replace(self.seq);
                }
                self.last_recorded = self.last_recorded.max(now);
                for (stream, version) in pending.heads.drain() {
                    self.versions.insert(stream, version);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "event store commit failed");
                self.seq = start_seq;
                self.hash = start_hash;
                self.versions.clear();
                // Reload what is really on disk in case the failure came after the commit.
                if let Ok(Some(v)) = self.trees.events.get(codec::META_HEAD) {
                    if let Some((s, h)) = codec::decode_head(&v) {
                        self.seq = s;
                        self.hash = h;
                    }
                }
            }
        }
        for o in outcomes {
            match o {
                Outcome::Append(reply, r) => {
                    let r = match (&commit, r) {
                        (Err(e), Ok(a)) if !a.replayed => Err(AppendError::Store(e.clone())),
                        (_, r) => r,
                    };
                    let _ = reply.send(r);
                }
                Outcome::Replicate(reply, r) => {
                    let r = match (&commit, r) {
                        (Err(e), Ok(true)) => Err(ReplicateError::Store(e.clone())),
                        (_, r) => r,
                    };
                    let _ = reply.send(r);
                }
                Outcome::ReplicateBatch(reply, applied, refused) => {
                    let r = match (&commit, refused) {
                        (Err(e), _) if applied > 0 => Err(ReplicateError::Store(e.clone())),
                        (_, Some(refused)) => Err(refused),
                        (_, None) => Ok(applied),
                    };
                    let _ = reply.send(r);
                }
            }
        }
        if let Some(reply) = close {
            let r = self.trees.db.flush().map(|_| ()).map_err(io_err);
            let _ = reply.send(r);
            return true;
        }
        false
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
        let Prepared { req, data } = prepared;
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
        let recorded_at = now;
        let occurred_default = now.fixed_offset();
        let mut events = Vec::with_capacity(req.events.len());
        let mut version = actual;
        let mut seq = self.seq;
        let mut hash = self.hash.clone();
        let mut log = Vec::with_capacity(req.events.len());
        for (ev, data) in req.events.into_iter().zip(&data) {
            seq += 1;
            version += 1;
            let header = codec::Header {
                seq,
                stream: &req.stream,
                version,
                id: ev.id,
                event_type: &ev.event_type,
                schema: ev.schema,
                occurred_at: ev.occurred_at.unwrap_or(occurred_default),
                recorded_at,
                actor: &ev.actor,
                correlation_id: ev.correlation_id,
                causation_id: ev.causation_id,
                prev_hash: &hash,
                hash: "",
            };
            hash = codec::encode_new(&header, data, &mut self.canonical, &mut self.stored)
                .map_err(|e| {
                    AppendError::Invalid(format!("event {} does not serialise: {e}", ev.id))
                })?;
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
                match self
                    .trees
                    .events
                    .get(codec::log_key(env.seq))
                    .map_err(io_err)?
                {
                    Some(bytes) => Some(codec::decode_envelope(env.seq, &bytes)?),
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
        pending
            .log
            .push((env.seq, IVec::from(codec::fill_hash(&canonical, &hash))));
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
    /// across a crash: sled recovers a batch entirely or not at all), then one flush.
    /// The writer is the only one writing these keys, so no transaction is needed.
    fn commit(&self, pending: &Pending) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (seq, bytes) in &pending.log {
            batch.insert(&codec::log_key(*seq), bytes.clone());
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
        self.trees.events.apply_batch(batch).map_err(io_err)?;
        self.trees.db.flush().map_err(io_err)?;
        Ok(())
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
