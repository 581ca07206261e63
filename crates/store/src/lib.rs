//! The event store: an append-only, hash-chained, gap-free log on sled.
//!
//! THIS FILE IS THE PUBLIC CONTRACT other crates code against. The store helper
//! implements it (split into modules as it likes) and may add to it, but must not
//! change these names or signatures without telling the team.
//!
//! sled types never leave this crate.
//!
//! # Layout (format `reception-store/3`)
//! One sled database per store directory. Everything the writer writes lives in ONE
//! tree, `events`, under one-byte key prefixes:
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `l` | first seq big-endian | a log record: the envelopes of consecutive seqs written by one commit (one envelope: its JSON as it is; see `log.rs`) |
//! | `s` | stream name, 0x00, version big-endian | seq (the stream index) |
//! | `h` | stream name | seq of its first event (the stream registry, written once) |
//! | `i` | idempotency key | fingerprint + the first result |
//! | `m` | `mformat`, `mhead` | format marker; head seq and hash |
//!
//! Read models have a tree each, `rm/<name>`.
//!
//! One log record per commit (format 3) instead of one key per event (format 2)
//! halves the sled keys a batch of single-event appends writes; a format-2 log is a
//! valid format-3 log (its records all hold one envelope), so such a store opens as it
//! is and is marked format 3.
//!
//! Every append goes through one writer thread that takes all queued requests, checks
//! their expected versions in order, writes the whole batch with one `apply_batch` on
//! the `events` tree (atomic in sled, also across a crash), flushes once and only then
//! answers (group commit). The writer is the only writer of that tree, so it needs no
//! transaction. Readers only see events up to the durable head. Replicas feed envelopes
//! made elsewhere through the same writer ([`Store::append_replicated`] one at a time,
//! [`Store::append_replicated_batch`] a whole run in one commit).
//!
//! The commit is pipelined over two threads: the writer (`store-writer`) checks and
//! encodes the requests that arrive while batch N is being flushed by the commit thread
//! (`store-commit`), which then publishes the new durable head, lets the writer apply
//! batch N+1 and answers batch N's callers. At most one batch is applied but not yet
//! durable, and the next `apply_batch` starts only after its flush (sled's flush holds
//! a lock `apply_batch` needs exclusively; waiting for it there would stall readers).
//! A lone writer's batch (one request, nothing queued) is flushed and answered on the
//! writer thread itself.
//! Whatever of an envelope does not depend on the writer (ids, type, actor, `data`, a
//! given `occurred_at`) is serialised on the caller's thread before the request is
//! queued; the writer adds seq, version, times and the hash chain by copying bytes.
//!
//! # Example
//! ```
//! use reception_store::{Actor, AppendRequest, ExpectedVersion, NewEvent, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path())?;
//! let event = NewEvent {
//!     id: uuid::Uuid::now_v7(),
//!     event_type: "ReceptionRequested".into(),
//!     schema: 1,
//!     data: serde_json::json!({ "customer": "ACME" }),
//!     occurred_at: None,
//!     actor: Actor { user: "li.na".into(), role: "requester".into() },
//!     correlation_id: uuid::Uuid::now_v7(),
//!     causation_id: uuid::Uuid::now_v7(),
//! };
//! let appended = store.append_blocking(AppendRequest {
//!     stream: "visit-1".into(),
//!     expected: ExpectedVersion::NoStream,
//!     events: vec![event],
//!     idempotency: None,
//! })?;
//! assert_eq!((appended.version, appended.events[0].seq), (1, 1));
//!
//! // Streams and the global log read back as iterators.
//! let stream: Vec<_> = store.read_stream("visit-1", 1, None).collect::<Result<_, _>>()?;
//! assert_eq!(stream[0].event_type, "ReceptionRequested");
//! assert_eq!(stream[0].prev_hash, "0".repeat(64));
//!
//! // A subscription catches up from disk, then follows live appends.
//! let rt = tokio::runtime::Runtime::new()?;
//! let first = rt.block_on(async { store.subscribe(1).next().await })
//!     .expect("one event")?;
//! assert_eq!(first.seq, 1);
//! assert!(store.verify()?.ok);
//! store.close()?;
//! # Ok(())
//! # }
//! ```

pub mod backup;
mod codec;
mod keys;
mod log;
pub mod raw;
mod read;
mod read_model;
mod reply;
mod scan;
pub mod signing;
mod writer;

pub use scan::StoredEvent;

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, RwLock};

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who did it: the user name and the role they acted in (`"reception"`, `"system"`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub role: String,
}

/// A stored event, exactly the envelope of `shared/spec/API.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: u64,
    pub stream: String,
    pub version: u64,
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema: u32,
    pub occurred_at: DateTime<FixedOffset>,
    pub recorded_at: DateTime<Utc>,
    pub actor: Actor,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
    pub prev_hash: String,
    pub hash: String,
    /// The writer's signature of `hash` (`"<key id>:<base64url>"`, see [`signing`]);
    /// absent on events written before the log adopted a key. Like `hash`, not part of
    /// the bytes the hash is computed over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
    pub data: serde_json::Value,
}

/// An event to append; the store assigns seq, version, recorded_at and the hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: Uuid,
    pub event_type: String,
    pub schema: u32,
    pub data: serde_json::Value,
    /// Business time; `None` means "= recorded_at" (stored in UTC offset then).
    pub occurred_at: Option<DateTime<FixedOffset>>,
    pub actor: Actor,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    Any,
    NoStream,
    /// The stream's current version must equal this (0 is the same as `NoStream`).
    Exact(u64),
}

/// An idempotency key for an append: a repeat with the same fingerprint returns the
/// first `Appended` (with `meta` as first stored) and writes nothing; the same key with a
/// different fingerprint is `AppendError::IdempotencyKeyReused`.
#[derive(Debug, Clone, PartialEq)]
pub struct Idempotency {
    pub key: String,
    /// Hash of whatever defines "the same request" (route, body, user), chosen by the caller.
    pub fingerprint: [u8; 32],
    /// Opaque caller data stored with the result and handed back on repeat (e.g. entity_id).
    pub meta: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppendRequest {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub idempotency: Option<Idempotency>,
}

/// One appended event as reported back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendedEvent {
    pub seq: u64,
    pub version: u64,
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
}

/// The result of an append, durable on disk when returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appended {
    pub stream: String,
    /// Stream version after the append.
    pub version: u64,
    pub events: Vec<AppendedEvent>,
    /// The caller's `Idempotency::meta` (Null when none).
    pub meta: serde_json::Value,
    /// True when this answer is the stored result of an earlier append with the same key.
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("version conflict on {stream}: expected {expected:?}, actual {actual}")]
    Conflict {
        stream: String,
        expected: ExpectedVersion,
        actual: u64,
    },
    #[error("idempotency key {0} was used before with a different request")]
    IdempotencyKeyReused(String),
    #[error("invalid append: {0}")]
    Invalid(String),
    /// An event whose envelope would exceed [`MAX_ENVELOPE_BYTES`]; `field` names the
    /// largest member of its payload (`data.<name>`), the likely culprit.
    #[error("events[{index}]: the envelope would be {bytes} bytes, over the limit of {limit}; its largest field is {field}")]
    TooLarge {
        index: usize,
        field: String,
        bytes: usize,
        limit: usize,
    },
    /// The log signs every event (a key was adopted) but the store has no signer for
    /// the key in force: see [`Store::use_signer`].
    #[error("the log signs every event with key {key_id}, and this store was opened without that key (its file is signing.key in the data directory)")]
    Unsigned { key_id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("store directory {path} is locked by another process")]
    Locked { path: String },
    #[error("{path} is not a reception store: {reason}")]
    NotAStore { path: String, reason: String },
    #[error("i/o error on the store: {0}")]
    Io(String),
    #[error("corrupt record at seq {seq}: {reason}")]
    Corrupt { seq: u64, reason: String },
    #[error("the store is closed")]
    Closed,
}

/// Replica append: the envelope must continue the chain exactly.
#[derive(Debug, thiserror::Error)]
pub enum ReplicateError {
    #[error("gap: expected seq {expected}, got {got}")]
    Gap { expected: u64, got: u64 },
    #[error("broken hash chain at seq {seq}: {reason}")]
    BadHash { seq: u64, reason: String },
    /// The envelope continues the chain but is not signed by the key in force (see
    /// [`signing`]): an event written by someone without the writer's key.
    #[error("refused signature at seq {seq}: {reason}")]
    BadSignature { seq: u64, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The largest envelope the store writes. A lone envelope is a log record of its own;
/// with its leaf page's up to 16 other records of at most [`MAX_INLINE_VALUE_BYTES`],
/// 12 KiB keeps the page under sled's 128 KiB blob threshold (blob files are never
/// fsynced), and far under JetStream's default 1 MiB payload limit, so that every
/// stored event can also be published.
pub const MAX_ENVELOPE_BYTES: usize = 12 * 1024;

/// What the writer adds to an event's caller-side encoding: seq, stream version,
/// recorded_at, both hashes and the JSON punctuation around them.
pub(crate) const ENVELOPE_OVERHEAD_BYTES: usize = 320;

/// sled 0.34's one log file inside a store directory.
const SLED_LOG_FILE: &str = "db";

/// The largest value worth storing in one sled key, for the log's records and for
/// read models alike. sled 0.34 keeps values inline in leaf pages of up to 17 entries
/// and writes a page serialised over segment size / 4 (128 KiB) as a separate blob
/// file, which it never fsyncs (spacejam/sled#1077): a power cut could lose it. Values
/// of at most 7 KiB keep a full leaf (17 × 7 KiB ≈ 119 KiB with keys and headers) in
/// sled's fsynced log; [`ReadModel::commit`] stores a larger value in parts of this
/// size. [`Store::open`] warns when blob files exist.
pub const MAX_INLINE_VALUE_BYTES: usize = 7 * 1024;

/// What the store's writer has committed since it opened ([`Store::commit_stats`]):
/// `events / batches` is the mean group-commit size, `events / records` the mean
/// number of envelopes per log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CommitStats {
    /// Batches written (each one `apply_batch`; flushed alone or with the next).
    pub batches: u64,
    /// Events written.
    pub events: u64,
    /// Log records written.
    pub records: u64,
}

/// Result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub events_checked: u64,
    pub head_hash: String,
    pub first_bad_seq: Option<u64>,
    /// Events carrying a signature by the key in force (see [`signing`]); the events
    /// before the log adopted its first key are unsigned, covered by the first
    /// signature through the chain.
    #[serde(default)]
    pub signed: u64,
    /// The key in force at the end of the checked part of the log.
    #[serde(default)]
    pub key_id: Option<String>,
    /// What is wrong with `first_bad_seq`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Upcasting hook: turns a stored (type, schema, data) into the current schema.
/// Registered at open; applied on every read path (stream reads, global reads,
/// subscriptions). Raw reads (`read_all_raw`) used for hashing/replication skip it.
pub trait Upcaster: Send + Sync + 'static {
    /// Returns the (schema, data) to hand to readers.
    fn upcast(
        &self,
        event_type: &str,
        schema: u32,
        data: serde_json::Value,
    ) -> (u32, serde_json::Value);

    /// Whether [`Upcaster::upcast`] may change events of this (type, schema). Readers
    /// that keep payloads as bytes ([`Store::scan`]) decode and upcast only the events
    /// for which this is true. The default, true for everything, is always safe;
    /// override it only with the exact set of pairs `upcast` changes.
    fn rewrites(&self, event_type: &str, schema: u32) -> bool {
        let _ = (event_type, schema);
        true
    }
}

/// Options for [`Store::open_with`]; `StoreOptions::default()` is what [`Store::open`] uses.
///
/// ```
/// # use reception_store::{Store, StoreOptions};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let store = Store::open_with(
///     dir.path(),
///     StoreOptions { cache_capacity: Some(64 << 20), ..StoreOptions::default() },
/// )?;
/// # store.close()?;
/// # Ok(())
/// # }
/// ```
#[derive(Default)]
pub struct StoreOptions {
    pub upcaster: Option<std::sync::Arc<dyn Upcaster>>,
    /// sled's page cache in bytes; `None` means [`DEFAULT_CACHE_CAPACITY`]. Stream reads
    /// stay fast while the hot part of the store fits in it.
    pub cache_capacity: Option<u64>,
    /// The only key the log may adopt as its first signing key (a replica told the
    /// write node's public key); `None` trusts the first key the log announces.
    pub trusted_key: Option<signing::PublicKey>,
}

/// The page cache a store gets unless [`StoreOptions::cache_capacity`] says otherwise:
/// 2 GiB (sled's own default is 1 GiB). sled fills it only as pages are read, so a
/// small store uses little of it.
pub const DEFAULT_CACHE_CAPACITY: u64 = 2 << 30;

/// Handle to an open store; cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    trees: writer::Trees,
    reader: read::Reader,
    tx: mpsc::Sender<writer::Cmd>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    head_rx: tokio::sync::watch::Receiver<u64>,
    trusted_key: Option<signing::PublicKey>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let (reply, _rx) = reply::for_thread();
        let _ = self.tx.send(writer::Cmd::Close(reply));
        if let Some(handle) = self.writer.lock().map(|mut w| w.take()).unwrap_or(None) {
            let _ = handle.join();
        }
    }
}

/// Validation done in the caller's thread, before the request reaches the writer.
fn validate(req: &AppendRequest) -> Result<(), AppendError> {
    validate_stream(&req.stream).map_err(AppendError::Invalid)?;
    if req.stream == signing::KEY_STREAM {
        return Err(AppendError::Invalid(format!(
            "stream: {} is written by the store itself (Store::use_signer, Store::rotate_signer)",
            signing::KEY_STREAM
        )));
    }
    if req.events.is_empty() {
        return Err(AppendError::Invalid(
            "events: an append needs at least one event".into(),
        ));
    }
    for (i, ev) in req.events.iter().enumerate() {
        let t = &ev.event_type;
        if t.is_empty()
            || t.len() > 128
            || !t
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return Err(AppendError::Invalid(format!(
                "events[{i}].event_type: {t:?} must be 1 to 128 ASCII letters, digits, '_' or '.'"
            )));
        }
        if ev.schema == 0 {
            return Err(AppendError::Invalid(format!(
                "events[{i}].schema: must be at least 1"
            )));
        }
        if ev.actor.user.is_empty() || ev.actor.role.is_empty() {
            return Err(AppendError::Invalid(format!(
                "events[{i}].actor: user and role must not be empty"
            )));
        }
    }
    if let Some(idem) = &req.idempotency {
        if idem.key.is_empty() || idem.key.len() > 512 {
            return Err(AppendError::Invalid(
                "idempotency.key: must be 1 to 512 bytes".into(),
            ));
        }
    }
    Ok(())
}

fn validate_stream(stream: &str) -> Result<(), String> {
    if stream.is_empty() || stream.len() > 256 || stream.chars().any(char::is_control) {
        return Err(format!(
            "stream: {stream:?} must be 1 to 256 bytes without control characters"
        ));
    }
    Ok(())
}

/// How long `open` keeps retrying a held directory lock before answering `Locked`: a store
/// closed a moment ago in this process may still be releasing it on sled's background
/// threads; a lock held by another process outlives the wait.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn open_sled(path: &Path, cache_capacity: u64) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(cache_capacity)
            .open()
        {
            Ok(db) => return Ok(db),
            Err(e) => match open_error(path, e) {
                StoreError::Locked { .. } if started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return Err(other),
            },
        }
    }
}

fn open_error(path: &Path, e: sled::Error) -> StoreError {
    let text = e.to_string();
    if text.contains("could not acquire lock") {
        StoreError::Locked {
            path: path.display().to_string(),
        }
    } else {
        StoreError::Io(format!("cannot open {}: {text}", path.display()))
    }
}

/// The state of [`Store::verify`]'s walk along the log.
struct VerifyWalk {
    prev: String,
    checked: u64,
    signed: u64,
    trust: signing::Trust,
    /// Signatures not verified yet, each with its seq and the hash before it.
    due: Vec<(u64, signing::DueSignature)>,
    prev_of_due: Vec<String>,
}

/// Signatures verified together by [`Store::verify`].
const VERIFY_BATCH: usize = 16_384;

impl VerifyWalk {
    fn new(pinned: Option<signing::PublicKey>) -> VerifyWalk {
        VerifyWalk {
            prev: codec::GENESIS_HASH.to_string(),
            checked: 0,
            signed: 0,
            trust: signing::Trust::new(pinned),
            due: Vec::new(),
            prev_of_due: Vec::new(),
        }
    }

    /// Verifies the signatures due; on a bad one, the walk goes back to just before it.
    fn settle(&mut self) -> Result<(), String> {
        let bad = signing::verify_all(&self.due);
        let due = std::mem::take(&mut self.due);
        let prevs = std::mem::take(&mut self.prev_of_due);
        let Some((seq, reason)) = bad else {
            return Ok(());
        };
        let at = due.iter().position(|(s, _)| *s == seq).unwrap_or(0);
        self.signed -= (due.len() - at) as u64;
        self.checked = seq - 1;
        self.prev.clone_from(&prevs[at]);
        Err(reason)
    }

    /// Checks the stored envelope of `seq`: it parses and is stored in canonical form,
    /// its `prev_hash` link, its recomputed `hash`, its signature, and the stream index
    /// entry pointing at it. `Ok(Err(reason))` when it fails a check.
    fn next(
        &mut self,
        events: &sled::Tree,
        seq: u64,
        bytes: &[u8],
    ) -> Result<Result<(), String>, StoreError> {
        let env = match codec::decode_envelope(seq, bytes) {
            Ok(env) => env,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let canonical_form = serde_json::to_vec(&env).is_ok_and(|v| v == bytes);
        let hash_ok = codec::canonical_bytes(&env)
            .is_ok_and(|c| codec::chain_hash(&self.prev, &c) == env.hash);
        let index_ok = events
            .get(codec::stream_key(&env.stream, env.version))
            .map_err(codec::io_err)?
            .is_some_and(|v| codec::decode_u64(&v) == Some(seq));
        let problem = if env.seq != seq {
            Some(format!("stored under seq {seq} but says {}", env.seq))
        } else if env.prev_hash != self.prev {
            Some("prev_hash does not link to the event before".into())
        } else if !canonical_form {
            Some("not stored in canonical form".into())
        } else if !hash_ok {
            Some("hash does not match the recomputed one".into())
        } else if !index_ok {
            Some("the stream index does not point at it".into())
        } else {
            None
        };
        if let Some(p) = problem {
            return Ok(Err(p));
        }
        match self.trust.check_later(&env) {
            Ok(Some(due)) => {
                self.signed += 1;
                self.due.push((seq, due));
                self.prev_of_due.push(env.prev_hash.clone());
            }
            Ok(None) => {}
            Err(reason) => return Ok(Err(reason)),
        }
        self.checked = seq;
        self.prev = env.hash;
        if self.due.len() >= VERIFY_BATCH {
            return Ok(self.settle());
        }
        Ok(Ok(()))
    }

    fn report(&self, bad: Option<(u64, String)>) -> VerifyReport {
        let (first_bad_seq, reason) = bad.unzip();
        VerifyReport {
            ok: first_bad_seq.is_none(),
            events_checked: self.checked,
            head_hash: self.prev.clone(),
            first_bad_seq,
            signed: self.signed,
            key_id: self.trust.current().map(|k| k.id().to_string()),
            reason,
        }
    }

    /// The report naming the event after the checked ones, or an earlier one whose
    /// signature, verified now, fails.
    fn bad(&mut self, reason: String) -> VerifyReport {
        let reason = self.settle().err().unwrap_or(reason);
        self.report(Some((self.checked + 1, reason)))
    }
}

/// The stored events of the key stream, in order.
fn key_events(events: &sled::Tree) -> Result<Vec<Envelope>, StoreError> {
    let mut out = Vec::new();
    let range =
        codec::stream_key(signing::KEY_STREAM, 0)..codec::stream_key_end(signing::KEY_STREAM);
    for entry in events.range(range) {
        let (_, v) = entry.map_err(codec::io_err)?;
        let seq = codec::decode_u64(&v)
            .ok_or_else(|| StoreError::Io("bad stream index entry for the key stream".into()))?;
        if let Some(record) = log::record_at(events, seq)? {
            out.push(codec::decode_envelope(seq, &record.envelope(seq)?)?);
        }
    }
    Ok(out)
}

/// Refuses a directory that holds files but no sled database, before sled writes into it.
fn check_dir(path: &Path) -> Result<(), StoreError> {
    let shown = path.display().to_string();
    match std::fs::metadata(path) {
        Ok(m) if !m.is_dir() => Err(StoreError::NotAStore {
            path: shown,
            reason: "not a directory".into(),
        }),
        Ok(_) => {
            let mut names = Vec::new();
            for entry in std::fs::read_dir(path)
                .map_err(|e| StoreError::Io(format!("cannot read {shown}: {e}")))?
            {
                let entry =
                    entry.map_err(|e| StoreError::Io(format!("cannot read {shown}: {e}")))?;
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
            let is_sled = names.iter().any(|n| n == "db") && names.iter().any(|n| n == "conf");
            if !names.is_empty() && !is_sled {
                return Err(StoreError::NotAStore {
                    path: shown,
                    reason: format!("the directory holds other files ({})", names.join(", ")),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(path)
            .map_err(|e| StoreError::Io(format!("cannot create {shown}: {e}"))),
        Err(e) => Err(StoreError::Io(format!("cannot read {shown}: {e}"))),
    }
}

impl Store {
    /// Opens (creating if missing) a store directory. Errors, never panics, for a
    /// locked, unreadable or foreign directory.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(path, StoreOptions::default())
    }

    /// [`Store::open`] with options (the upcaster).
    pub fn open_with(path: impl AsRef<Path>, opts: StoreOptions) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        check_dir(path)?;
        let db = open_sled(path, opts.cache_capacity.unwrap_or(DEFAULT_CACHE_CAPACITY))?;
        let names = db.tree_names();
        let has = |name: &str| names.iter().any(|n| n.as_ref() == name.as_bytes());
        if has(codec::EVENTS) {
            let events = db.open_tree(codec::EVENTS).map_err(codec::io_err)?;
            match events.get(codec::META_FORMAT).map_err(codec::io_err)? {
                Some(v) if v.as_ref() == codec::FORMAT_MARKER => {}
                Some(v) if v.as_ref() == codec::FORMAT_2_MARKER => {
                    events
                        .insert(codec::META_FORMAT, codec::FORMAT_MARKER)
                        .map_err(codec::io_err)?;
                    db.flush().map_err(codec::io_err)?;
                    tracing::info!(path = %shown, "store format 2 opened as format 3 (same log, records of many events from now on)");
                }
                Some(v) => {
                    return Err(StoreError::NotAStore {
                        path: shown,
                        reason: format!("unknown format marker {:?}", String::from_utf8_lossy(&v)),
                    })
                }
                None => {
                    return Err(StoreError::NotAStore {
                        path: shown,
                        reason: "sled database without a format marker".into(),
                    })
                }
            }
        } else if has(codec::OLD_META)
            && db
                .open_tree(codec::OLD_META)
                .and_then(|m| m.get(b"format"))
                .map_err(codec::io_err)?
                .is_some_and(|v| v.as_ref() == codec::OLD_FORMAT_MARKER)
        {
            return Err(StoreError::NotAStore {
                path: shown,
                reason: format!(
                    "a reception store of the older format {} (five trees); this build reads {}: replay it into a new store",
                    String::from_utf8_lossy(codec::OLD_FORMAT_MARKER),
                    String::from_utf8_lossy(codec::FORMAT_MARKER),
                ),
            });
        } else if names.len() > 1 || !db.is_empty() {
            return Err(StoreError::NotAStore {
                path: shown,
                reason: "a sled database that is not a reception store".into(),
            });
        } else {
            let events = db.open_tree(codec::EVENTS).map_err(codec::io_err)?;
            events
                .insert(codec::META_FORMAT, codec::FORMAT_MARKER)
                .map_err(codec::io_err)?;
            db.flush().map_err(codec::io_err)?;
        }
        let log_file = std::fs::File::open(path.join(SLED_LOG_FILE)).map_err(|e| {
            StoreError::Io(format!(
                "cannot open {}/{SLED_LOG_FILE}: {e}",
                path.display()
            ))
        })?;
        let trees = writer::Trees {
            events: db.open_tree(codec::EVENTS).map_err(codec::io_err)?,
            db: db.clone(),
            stats: Arc::default(),
            log_file: Arc::new(log_file),
        };
        // The directory entries sled created (log, conf, snapshot) must survive a power
        // cut too before anything is acknowledged.
        trees.sync()?;
        std::fs::File::open(path)
            .and_then(|d| d.sync_all())
            .map_err(|e| StoreError::Io(format!("cannot sync {}: {e}", path.display())))?;
        let (seq, hash) = match trees.events.get(codec::META_HEAD).map_err(codec::io_err)? {
            Some(v) => codec::decode_head(&v).ok_or(StoreError::Corrupt {
                seq: 0,
                reason: "unreadable head record".into(),
            })?,
            None => (0, codec::GENESIS_HASH.to_string()),
        };
        let last = match log::last_seq(&trees.events) {
            Ok(last) => last,
            // an unreadable last record: open anyway, so that `verify` can name it
            Err(e @ StoreError::Corrupt { .. }) => {
                tracing::error!(path = %shown, error = %e, "the last log record is unreadable; run verify");
                seq
            }
            Err(e) => return Err(e),
        };
        if last != seq {
            return Err(StoreError::Corrupt {
                seq: last.max(seq),
                reason: format!("the head record says {seq} but the log ends at {last}"),
            });
        }
        let blobs = std::fs::read_dir(path.join("blobs")).map_or(0, |d| d.count());
        if blobs > 0 {
            // sled 0.34 writes pages over 128 KiB as blob files it never fsyncs; the
            // store keeps its records and read-model packs small enough to avoid them
            tracing::warn!(path = %shown, blobs, "sled blob files present (values or pages over 128 KiB: not fsynced by sled; keep stored values under 7 KiB)");
        }
        let head = Arc::new(RwLock::new(writer::Head { seq, hash }));
        let (head_tx, head_rx) = tokio::sync::watch::channel(seq);
        let (tx, rx) = mpsc::channel();
        let mut trust = signing::Trust::new(opts.trusted_key.clone());
        for env in key_events(&trees.events)? {
            trust.follow(&env);
        }
        let w = writer::Writer::new(trees.clone(), head.clone(), head_tx, trust);
        let self_tx = tx.clone();
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || w.run(rx, self_tx))
            .map_err(|e| StoreError::Io(format!("cannot start the writer thread: {e}")))?;
        let reader = read::Reader {
            events: trees.events.clone(),
            head,
            upcaster: opts.upcaster,
        };
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                trees,
                reader,
                tx,
                writer: Mutex::new(Some(handle)),
                head_rx,
                trusted_key: opts.trusted_key,
            }),
        })
    }

    /// The directory this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn submit(
        &self,
        req: AppendRequest,
        reply: reply::Reply<Result<Appended, AppendError>>,
    ) -> Result<(), AppendError> {
        validate(&req)?;
        let prepared = writer::Prepared::new(req)?;
        self.inner
            .tx
            .send(writer::Cmd::Append(prepared, reply))
            .map_err(|_| StoreError::Closed)?;
        Ok(())
    }

    /// Durable append (group-committed: returns after the batch's flush).
    pub async fn append(&self, req: AppendRequest) -> Result<Appended, AppendError> {
        let (reply, rx) = reply::for_task();
        self.submit(req, reply)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Same from non-async code. Blocks the calling thread until the batch is durable;
    /// async code uses [`Store::append`] instead.
    pub fn append_blocking(&self, req: AppendRequest) -> Result<Appended, AppendError> {
        let (reply, rx) = reply::for_thread();
        self.submit(req, reply)?;
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    /// Counts of what the writer has committed since the store opened.
    pub fn commit_stats(&self) -> CommitStats {
        let c = &self.inner.trees.stats;
        CommitStats {
            batches: c.batches.load(std::sync::atomic::Ordering::Relaxed),
            events: c.events.load(std::sync::atomic::Ordering::Relaxed),
            records: c.records.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Looks up a stored idempotency result: `Some((fingerprint, appended))`.
    ///
    /// Only durable results count: the record of an append whose batch is still being
    /// flushed reads as `None` (a repeat sent to [`Store::append`] is then answered by
    /// the writer, after that flush).
    pub fn idempotency_result(
        &self,
        key: &str,
    ) -> Result<Option<([u8; 32], Appended)>, StoreError> {
        let found = writer::read_idempotency(&self.inner.trees.events, key)?;
        let durable = self.inner.reader.durable_seq();
        Ok(found.filter(|(_, a)| a.events.iter().all(|e| e.seq <= durable)))
    }

    /// Current version of a stream (0 when it does not exist).
    pub fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        codec::version_from_index(
            &self.inner.trees.events,
            stream,
            self.inner.reader.durable_seq(),
        )
    }

    /// Events of a stream with version >= `from_version`, recorded at or before `as_of` when given.
    pub fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        as_of: Option<DateTime<Utc>>,
    ) -> impl Iterator<Item = Result<Envelope, StoreError>> + Send + 'static {
        self.inner.reader.stream(stream, from_version, as_of)
    }

    /// Global log from `from_seq` (inclusive), at most `limit` events, upcast.
    pub fn read_all(
        &self,
        from_seq: u64,
        limit: usize,
    ) -> impl Iterator<Item = Result<Envelope, StoreError>> + Send + 'static {
        self.inner.reader.all(from_seq, limit, true)
    }

    /// Global log as stored (no upcasting): for replication and hashing.
    pub fn read_all_raw(
        &self,
        from_seq: u64,
        limit: usize,
    ) -> impl Iterator<Item = Result<Envelope, StoreError>> + Send + 'static {
        self.inner.reader.all(from_seq, limit, false)
    }

    /// Names of all streams whose name starts with `prefix` (e.g. "visit-"), among
    /// the streams whose first event is durable.
    pub fn streams(
        &self,
        prefix: &str,
    ) -> impl Iterator<Item = Result<String, StoreError>> + Send + 'static {
        let durable = self.inner.reader.durable_seq();
        self.inner
            .trees
            .events
            .scan_prefix(codec::head_key(prefix))
            .filter_map(move |r| {
                let (k, v) = match r {
                    Ok(kv) => kv,
                    Err(e) => return Some(Err(codec::io_err(e))),
                };
                if codec::decode_u64(&v).is_some_and(|first| first > durable) {
                    return None;
                }
                Some(
                    String::from_utf8(k[1..].to_vec())
                        .map_err(|_| StoreError::Io("a stream name is not UTF-8".into())),
                )
            })
    }

    /// Highest seq (0 when empty) and its hash.
    pub fn head(&self) -> (u64, String) {
        let h = self.inner.reader.head.read().expect("head lock");
        (h.seq, h.hash.clone())
    }

    /// A watch on the head seq; changes after every durable commit.
    pub fn watch_head(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.head_rx.clone()
    }

    /// Catch-up then live subscription from `from_seq` (inclusive); never blocks appends.
    pub fn subscribe(&self, from_seq: u64) -> Subscription {
        Subscription {
            state: read::SubscriptionState::new(
                self.inner.reader.clone(),
                from_seq,
                self.inner.head_rx.clone(),
            ),
        }
    }

    /// Walks the chain from seq 1.
    ///
    /// Checks for every event: seq continuity, that it parses and is stored in canonical
    /// form, its `prev_hash` link, its recomputed `hash`, and the stream index entry
    /// pointing at it; then that the head record matches the last event.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let t = &self.inner.trees;
        let mut walk = VerifyWalk::new(self.inner.trusted_key.clone());
        let last = log::last_seq(&t.events).unwrap_or(u64::MAX);
        for entry in log::LogIter::new(&t.events, 1..=last) {
            let expected = walk.checked + 1;
            let bytes = match entry {
                Ok((seq, bytes)) if seq == expected => bytes,
                Ok((seq, _)) => return Ok(walk.bad(format!("the log skips to seq {seq}"))),
                Err(StoreError::Corrupt { reason, .. }) => return Ok(walk.bad(reason)),
                Err(e) => return Err(e),
            };
            if let Err(reason) = walk.next(&t.events, expected, &bytes)? {
                return Ok(walk.bad(reason));
            }
        }
        if let Err(reason) = walk.settle() {
            return Ok(walk.report(Some((walk.checked + 1, reason))));
        }
        let stored_head = t
            .events
            .get(codec::META_HEAD)
            .map_err(codec::io_err)?
            .and_then(|v| codec::decode_head(&v));
        let head_ok = match stored_head {
            Some((seq, hash)) => seq == walk.checked && (walk.checked == 0 || hash == walk.prev),
            None => walk.checked == 0,
        };
        if !head_ok {
            return Ok(walk.bad("the head record does not match the last event".into()));
        }
        Ok(walk.report(None))
    }

    /// Replica path: append an envelope produced elsewhere; must be head+1 with a
    /// matching prev_hash and a correct hash. Durable when it returns. Appending an
    /// envelope whose seq <= head and equals the stored one is Ok (duplicate skip).
    ///
    /// Returns `Ok(true)` when written, `Ok(false)` for a duplicate.
    pub fn append_replicated(&self, env: &Envelope) -> Result<bool, ReplicateError> {
        let (reply, rx) = reply::for_thread();
        self.inner
            .tx
            .send(writer::Cmd::Replicate(Box::new(env.clone()), reply))
            .map_err(|_| StoreError::Closed)?;
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    /// Replica path for a run of envelopes: applies them in order, with the checks of
    /// [`Store::append_replicated`] for each one (seq continuity, `prev_hash` link,
    /// recomputed hash, stream version; an identical copy of a stored event is
    /// skipped), all in one group commit of the store's writer, so one durable flush for
    /// the whole run. Durable when it returns.
    ///
    /// Returns how many envelopes were written (skipped duplicates are not counted).
    /// The first envelope that fails a check stops the run: the envelopes before it are
    /// applied (and durable), it and those after it are not, and the error names its
    /// seq (`got` of [`ReplicateError::Gap`], `seq` of [`ReplicateError::BadHash`]); the new
    /// [`Store::head`] says how far the run got. An empty run is `Ok(0)`.
    ///
    /// ```
    /// # use reception_store::{Actor, AppendRequest, ExpectedVersion, NewEvent, Store};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (a_dir, b_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let writer = Store::open(a_dir.path())?;
    /// let replica = Store::open(b_dir.path())?;
    /// # let ev = || NewEvent {
    /// #     id: uuid::Uuid::now_v7(), event_type: "T".into(), schema: 1,
    /// #     data: serde_json::json!({}), occurred_at: None,
    /// #     actor: Actor { user: "li.na".into(), role: "reception".into() },
    /// #     correlation_id: uuid::Uuid::now_v7(), causation_id: uuid::Uuid::now_v7(),
    /// # };
    /// writer.append_blocking(AppendRequest {
    ///     stream: "visit-1".into(),
    ///     expected: ExpectedVersion::NoStream,
    ///     events: vec![ev(), ev(), ev()],
    ///     idempotency: None,
    /// })?;
    /// let run: Vec<_> = writer.read_all_raw(1, usize::MAX).collect::<Result<_, _>>()?;
    /// assert_eq!(replica.append_replicated_batch(&run)?, 3);
    /// assert_eq!(replica.append_replicated_batch(&run)?, 0, "a redelivery is skipped");
    /// assert_eq!(replica.head(), writer.head());
    /// # Ok(())
    /// # }
    /// ```
    pub fn append_replicated_batch(&self, envs: &[Envelope]) -> Result<usize, ReplicateError> {
        if envs.is_empty() {
            return Ok(0);
        }
        let (reply, rx) = reply::for_thread();
        self.submit_replicated_batch(envs.to_vec(), reply)?;
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    /// [`Store::append_replicated_batch`] for async code: takes the run by value and
    /// awaits the writer's commit without blocking a runtime thread.
    pub async fn append_replicated_batch_async(
        &self,
        envs: Vec<Envelope>,
    ) -> Result<usize, ReplicateError> {
        if envs.is_empty() {
            return Ok(0);
        }
        let (reply, rx) = reply::for_task();
        self.submit_replicated_batch(envs, reply)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    fn submit_replicated_batch(
        &self,
        envs: Vec<Envelope>,
        reply: reply::Reply<Result<usize, ReplicateError>>,
    ) -> Result<(), StoreError> {
        self.inner
            .tx
            .send(writer::Cmd::ReplicateBatch(envs, reply))
            .map_err(|_| StoreError::Closed)?;
        Ok(())
    }

    /// A projection's read-model keyspace with its checkpoint.
    pub fn read_model(&self, name: &str) -> Result<ReadModel, StoreError> {
        if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
            return Err(StoreError::Io(format!(
                "read model name {name:?} must be 1 to 128 bytes without control characters"
            )));
        }
        let tree = self
            .inner
            .trees
            .db
            .open_tree(format!("{}{name}", codec::READ_MODEL_PREFIX))
            .map_err(codec::io_err)?;
        Ok(ReadModel { tree })
    }

    /// Deletes a read model's keyspace as a whole (sled frees its pages; no key is
    /// removed one by one, which for a model of a few hundred MB takes seconds). Takes
    /// the handle, so that this one cannot be used afterwards; other clones of it must
    /// be gone too. A later [`Store::read_model`] of the same name opens it empty.
    pub fn drop_read_model(&self, rm: ReadModel) -> Result<(), StoreError> {
        let name = rm.tree.name();
        drop(rm);
        self.inner.trees.db.drop_tree(name).map_err(codec::io_err)?;
        Ok(())
    }

    /// Flushes and stops the writer; further appends fail with `Closed`.
    pub fn close(&self) -> Result<(), StoreError> {
        let (reply, rx) = reply::for_thread();
        let result = match self.inner.tx.send(writer::Cmd::Close(reply)) {
            Ok(()) => rx.recv().unwrap_or(Ok(())),
            Err(_) => Ok(()),
        };
        if let Some(handle) = self
            .inner
            .writer
            .lock()
            .map(|mut w| w.take())
            .unwrap_or(None)
        {
            let _ = handle.join();
        }
        result
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.inner.trees.db.size_on_disk().map_err(codec::io_err)
    }
}

/// Catch-up-then-live reader of the global log.
pub struct Subscription {
    state: read::SubscriptionState,
}

impl Subscription {
    /// Next event in seq order; waits for new appends when caught up. `None` once the store closes.
    pub async fn next(&mut self) -> Option<Result<Envelope, StoreError>> {
        self.state.next().await
    }

    /// Up to `max` events already available, waiting for at least one.
    pub async fn next_batch(&mut self, max: usize) -> Option<Result<Vec<Envelope>, StoreError>> {
        self.state.next_batch(max).await
    }
}

/// A named key-value keyspace for one read model, with its checkpoint kept in the
/// same keyspace so that `commit` writes both atomically.
///
/// Commits are atomic but not flushed one by one (sled flushes in the background):
/// after a crash a read model is at an older checkpoint, never torn, and catches up
/// from the log.
#[derive(Clone)]
pub struct ReadModel {
    tree: sled::Tree,
}

impl ReadModel {
    /// Last applied seq (0 when new).
    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        read_model::checkpoint(&self.tree)
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        read_model::get(&self.tree, key)
    }

    /// All (key, value) pairs whose key starts with `prefix`, in key order.
    pub fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + Send + 'static {
        read_model::scan_prefix(&self.tree, prefix)
    }

    /// Atomically applies puts (Some) and deletes (None) and sets the checkpoint. A value
    /// over [`MAX_INLINE_VALUE_BYTES`] is stored in parts and read back whole.
    pub fn commit(
        &self,
        checkpoint: u64,
        changes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<(), StoreError> {
        read_model::commit(&self.tree, checkpoint, changes)
    }

    /// Removes everything including the checkpoint.
    pub fn clear(&self) -> Result<(), StoreError> {
        read_model::clear(&self.tree)
    }

    /// Flushes this read model to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.tree.flush().map(|_| ()).map_err(codec::io_err)
    }
}
