//! The event store: an append-only, hash-chained, gap-free log on sled.
//!
//! THIS FILE IS THE PUBLIC CONTRACT other crates code against. The store helper
//! implements it (split into modules as it likes) and may add to it, but must not
//! change these names or signatures without telling the team.
//!
//! sled types never leave this crate.

use std::path::Path;

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
    Conflict { stream: String, expected: ExpectedVersion, actual: u64 },
    #[error("idempotency key {0} was used before with a different request")]
    IdempotencyKeyReused(String),
    #[error("invalid append: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
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
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub events_checked: u64,
    pub head_hash: String,
    pub first_bad_seq: Option<u64>,
}

/// Upcasting hook: turns a stored (type, schema, data) into the current schema.
/// Registered at open; applied on every read path (stream reads, global reads,
/// subscriptions). Raw reads (`read_all_raw`) used for hashing/replication skip it.
pub trait Upcaster: Send + Sync + 'static {
    /// Returns the (schema, data) to hand to readers.
    fn upcast(&self, event_type: &str, schema: u32, data: serde_json::Value) -> (u32, serde_json::Value);
}

#[derive(Default)]
pub struct StoreOptions {
    pub upcaster: Option<std::sync::Arc<dyn Upcaster>>,
}

/// Handle to an open store; cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    // implementation detail
}

impl Store {
    /// Opens (creating if missing) a store directory. Errors, never panics, for a
    /// locked, unreadable or foreign directory.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> { unimplemented!() }
    pub fn open_with(path: impl AsRef<Path>, opts: StoreOptions) -> Result<Store, StoreError> { unimplemented!() }

    /// Durable append (group-committed: returns after the batch's flush).
    pub async fn append(&self, req: AppendRequest) -> Result<Appended, AppendError> { unimplemented!() }
    /// Same from non-async code.
    pub fn append_blocking(&self, req: AppendRequest) -> Result<Appended, AppendError> { unimplemented!() }
    /// Looks up a stored idempotency result: `Some((fingerprint, appended))`.
    pub fn idempotency_result(&self, key: &str) -> Result<Option<([u8; 32], Appended)>, StoreError> { unimplemented!() }

    /// Current version of a stream (0 when it does not exist).
    pub fn stream_version(&self, stream: &str) -> Result<u64, StoreError> { unimplemented!() }
    /// Events of a stream with version >= `from_version`, recorded at or before `as_of` when given.
    pub fn read_stream(&self, stream: &str, from_version: u64, as_of: Option<DateTime<Utc>>) -> impl Iterator<Item = Result<Envelope, StoreError>> + Send + 'static { std::iter::empty() }
    /// Global log from `from_seq` (inclusive), at most `limit` events, upcast.
    pub fn read_all(&self, from_seq: u64, limit: usize) -> impl Iterator<Item = Result<Envelope, StoreError>> + Send + 'static { std::iter::empty() }
    /// Global log as stored (no upcasting): for replication and hashing.
    pub fn read_all_raw(&self, from_seq: u64, limit: usize) -> impl Iterator<Item = Result<Envelope, StoreError>> + Send + 'static { std::iter::empty() }
    /// Names of all streams whose name starts with `prefix` (e.g. "visit-").
    pub fn streams(&self, prefix: &str) -> impl Iterator<Item = Result<String, StoreError>> + Send + 'static { std::iter::empty() }
    /// Highest seq (0 when empty) and its hash.
    pub fn head(&self) -> (u64, String) { unimplemented!() }
    /// A watch on the head seq; changes after every durable commit.
    pub fn watch_head(&self) -> tokio::sync::watch::Receiver<u64> { unimplemented!() }
    /// Catch-up then live subscription from `from_seq` (inclusive); never blocks appends.
    pub fn subscribe(&self, from_seq: u64) -> Subscription { unimplemented!() }
    /// Walks the chain from seq 1.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> { unimplemented!() }
    /// Replica path: append an envelope produced elsewhere; must be head+1 with a
    /// matching prev_hash and a correct hash. Durable when it returns. Appending an
    /// envelope whose seq <= head and equals the stored one is Ok (duplicate skip).
    pub fn append_replicated(&self, env: &Envelope) -> Result<bool, ReplicateError> { unimplemented!() }
    /// A projection's read-model keyspace with its checkpoint.
    pub fn read_model(&self, name: &str) -> Result<ReadModel, StoreError> { unimplemented!() }
    /// Flushes and stops the writer; further appends fail with `Closed`.
    pub fn close(&self) -> Result<(), StoreError> { unimplemented!() }
    /// Bytes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> { unimplemented!() }
}

/// Catch-up-then-live reader of the global log.
pub struct Subscription {}
impl Subscription {
    /// Next event in seq order; waits for new appends when caught up. `None` once the store closes.
    pub async fn next(&mut self) -> Option<Result<Envelope, StoreError>> { unimplemented!() }
    /// Up to `max` events already available, waiting for at least one.
    pub async fn next_batch(&mut self, max: usize) -> Option<Result<Vec<Envelope>, StoreError>> { unimplemented!() }
}

/// A named key-value keyspace for one read model, with its checkpoint kept in the
/// same keyspace so that `commit` writes both atomically.
#[derive(Clone)]
pub struct ReadModel {}
impl ReadModel {
    /// Last applied seq (0 when new).
    pub fn checkpoint(&self) -> Result<u64, StoreError> { unimplemented!() }
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> { unimplemented!() }
    pub fn scan_prefix(&self, prefix: &[u8]) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + Send + 'static { std::iter::empty() }
    /// Atomically applies puts (Some) and deletes (None) and sets the checkpoint.
    pub fn commit(&self, checkpoint: u64, changes: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError> { unimplemented!() }
    /// Removes everything including the checkpoint.
    pub fn clear(&self) -> Result<(), StoreError> { unimplemented!() }
}
