//! The read side: checkpointed, rebuildable projections of the event log — the live
//! visit board, cost analyses, the customer archive and complaints — behind one
//! [`ReadSide`] handle.
//!
//! Each projection keeps its model in memory for fast queries and persists the
//! documents a batch changed, together with its checkpoint, through one atomic
//! [`ReadModel::commit`]. On open the persisted documents are loaded; the follower
//! ([`ReadSide::spawn`]) resumes every projection at its checkpoint + 1. Events at or
//! below a projection's checkpoint are skipped, so applying twice changes nothing.
//!
//! A rebuild ([`ReadSide::rebuild`]) reads the log with [`Store::scan`] (payloads
//! stay JSON bytes; each projection decodes only the fields it reads, see `event.rs`),
//! builds fresh models on its own threads while the served ones keep answering and
//! applying, writes each into the keyspace generation that is not serving (documents
//! packed, see `docs.rs`), and switches the `read-side.active` record in one commit.
//!
//! Business time (`occurred_at`, or a payload's `at`) in the company's time zone
//! ([`ReadSideConfig::tz`], default Asia/Shanghai) decides "today", months and years.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use reception_projections::{ReadSide, ReadSideConfig, CostDimension};
//! let store = reception_store::Store::open("./data")?;
//! let read = ReadSide::open(&store, ReadSideConfig::default())?;
//! let _follower = read.spawn();
//! let report = read.costs(2026, CostDimension::Level);
//! println!("{} fen spent in 2026", report.total_fen);
//! # Ok(()) }
//! ```

mod archive;
mod board;
mod complaints;
mod costs;
mod docs;
mod event;
pub mod synth;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reception_store::{Envelope, ReadModel, Store, StoreError, StoredEvent};

pub use archive::{CustomerProfile, CustomerSummary, LastTime, VisitRecord, VisitorRecord};
pub use board::{Board, BoardVisit, OnSite, TimelineItem, BOARD_STAGES};
pub use complaints::{ComplaintDoc, ComplaintReport, ComplaintView};
pub use costs::{CostDimension, CostGroup, CostReport};
pub use event::normalize_name;

/// The names of the projections, as accepted by [`rebuild`]'s `only`.
pub const PROJECTIONS: &[&str] = &["board", "costs", "archive", "complaints"];

/// Events fetched and applied per batch (one read-model commit per batch and projection).
const BATCH: usize = 4096;

/// Events a rebuild scans and hands to the projections per batch.
const SCAN_BATCH: usize = 4096;

/// Read-side settings.
#[derive(Debug, Clone)]
pub struct ReadSideConfig {
    /// The company's time zone: decides "today" on the board and where months and years
    /// begin in the analyses.
    pub tz: Tz,
    /// The smallest gap between the models and the log that [`ReadSide::spawn`] closes
    /// by a rebuild rather than batch by batch (see [`bulk_catch_up`]); `u64::MAX`
    /// never rebuilds.
    pub bulk_catch_up_min: u64,
}

impl Default for ReadSideConfig {
    fn default() -> Self {
        ReadSideConfig {
            tz: chrono_tz::Asia::Shanghai,
            bulk_catch_up_min: BULK_CATCH_UP_MIN,
        }
    }
}

/// Failures of the read side.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("read model document {key} cannot be decoded: {reason}")]
    Decode { key: String, reason: String },
    #[error("read model document cannot be encoded: {0}")]
    Encode(String),
    #[error("unknown projection {0:?}; known: board, costs, archive, complaints")]
    UnknownProjection(String),
}

impl ProjectionError {
    fn encode(e: serde_json::Error) -> ProjectionError {
        ProjectionError::Encode(e.to_string())
    }
}

/// Read-model records: puts (`Some`) and deletes (`None`).
type Records = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Where a projection's drained documents go: puts (`Some`) and deletes (`None`).
///
/// A live batch collects them ([`Changes::default`]) to commit together with the new
/// checkpoint. A rebuild's full write ([`Changes::writing_to`]) commits them into the
/// empty shadow keyspace every [`WRITE_CHUNK`] records as they are encoded, so the
/// encoded model never sits in memory whole: each chunk's buffers are freed before the
/// next is encoded and the allocator hands the same pages out again (fresh pages cost
/// their zeroing, which was a large share of a rebuild's CPU time). Those chunks carry
/// checkpoint 0; the rebuild commits the rest with the real checkpoint.
#[derive(Default)]
pub(crate) struct Changes {
    items: Records,
    target: Option<ReadModel>,
    /// The first failed commit of a writing sink (reported by [`Changes::finish`]).
    failed: Option<StoreError>,
}

impl Changes {
    /// A sink that writes every [`WRITE_CHUNK`] records into `rm` (a shadow keyspace).
    fn writing_to(rm: &ReadModel) -> Changes {
        Changes {
            target: Some(rm.clone()),
            ..Changes::default()
        }
    }

    /// Another sink writing where this one writes (for a second encoding thread).
    pub(crate) fn fork(&self) -> Changes {
        Changes {
            target: self.target.clone(),
            ..Changes::default()
        }
    }

    pub(crate) fn push(&mut self, change: (Vec<u8>, Option<Vec<u8>>)) {
        self.items.push(change);
        if self.items.len() >= WRITE_CHUNK && self.failed.is_none() {
            if let Some(rm) = &self.target {
                if let Err(e) = rm.commit(0, std::mem::take(&mut self.items)) {
                    self.failed = Some(e);
                }
            }
        }
    }

    /// Takes over what `other` has not written yet (and its failure, if any).
    pub(crate) fn append(&mut self, other: Changes) {
        self.failed = self.failed.take().or(other.failed);
        for change in other.items {
            self.push(change);
        }
    }

    /// The records not yet written, or the first failure of a writing sink.
    fn finish(self) -> Result<Records, ProjectionError> {
        match self.failed {
            Some(e) => Err(ProjectionError::Store(e)),
            None => Ok(self.items),
        }
    }
}

impl std::ops::Deref for Changes {
    type Target = Records;
    fn deref(&self) -> &Self::Target {
        &self.items
    }
}

/// One projection: an in-memory model fed event by event.
pub(crate) trait Projection: Send + Sync + Sized + 'static {
    const NAME: &'static str;
    /// The layout version of the projection's documents. A read model written under
    /// another version is not loaded but rebuilt from the log at start (see
    /// [`ReadSide::spawn`]), so a projection reads only documents of its own layout.
    const VERSION: u32;
    fn new(cfg: &ReadSideConfig) -> Self;
    /// Replaces the in-memory model with the persisted one.
    fn load(&mut self, rm: &ReadModel) -> Result<(), ProjectionError>;
    /// Applies one event (never called twice for a seq).
    fn apply(&mut self, ev: &StoredEvent);
    /// Moves the documents changed since the last drain into `out`; with `all`, every
    /// document (for writing a freshly built model into an empty read model).
    fn drain(&mut self, out: &mut Changes, all: bool) -> Result<(), ProjectionError>;
    /// Turns remembering changed documents on or off (off while a rebuild builds).
    fn set_tracking(&mut self, on: bool);
}

/// The read model that records which keyspace (generation) serves each projection:
/// key = projection name, value = read-model name; and key `<name>.version`, the
/// document version that generation was written under (see [`version_key`]). A projection without an entry is
/// served from the read model named like it (stores from before shadow rebuilds).
const ACTIVE: &str = "read-side.active";

/// The key in [`ACTIVE`] holding the [`Projection::VERSION`] of the documents a
/// projection's serving generation was written with (absent: before versions).
fn version_key(name: &str) -> Vec<u8> {
    format!("{name}.version").into_bytes()
}

/// The version record of projection `P`, for a commit to [`ACTIVE`].
fn version_record<P: Projection>() -> (Vec<u8>, Option<Vec<u8>>) {
    (
        version_key(P::NAME),
        Some(P::VERSION.to_string().into_bytes()),
    )
}

/// The read-model names a projection alternates between: a rebuild writes the one
/// that is not serving, then switches [`ACTIVE`] over in one commit.
fn generations(name: &str) -> [String; 2] {
    [format!("{name}.1"), format!("{name}.2")]
}

/// Records (packs of documents of up to 7 KiB, see `docs.rs`) per sled batch when a
/// rebuilt model is written into its shadow keyspace: about 3.5 MB at a time.
const WRITE_CHUNK: usize = 512;

/// The model being served with the keyspace it persists to.
struct Live<P> {
    rm: ReadModel,
    /// The read-model name of `rm`.
    name: String,
    model: P,
}

impl<P> std::ops::Deref for Live<P> {
    type Target = P;
    fn deref(&self) -> &P {
        &self.model
    }
}

/// A projection with its read model and checkpoint.
struct Slot<P> {
    live: RwLock<Live<P>>,
    checkpoint: AtomicU64,
    /// The serving read model was written under another [`Projection::VERSION`]: it
    /// is not loaded, counts as applied up to 0 and is rebuilt at start.
    stale: std::sync::atomic::AtomicBool,
}

impl<P: Projection> Slot<P> {
    /// The served model of this projection; `load` false leaves it empty (for an
    /// offline rebuild, which replaces it without ever serving it). A model written
    /// under another version is left unread and marked stale; an empty one (nothing
    /// applied yet) is simply stamped with the current version.
    fn open(
        store: &Store,
        active: &ReadModel,
        cfg: &ReadSideConfig,
        load: bool,
    ) -> Result<Slot<P>, ProjectionError> {
        let name = match active.get(P::NAME.as_bytes())? {
            Some(v) => String::from_utf8_lossy(&v).into_owned(),
            None => P::NAME.to_string(),
        };
        let rm = store.read_model(&name)?;
        let written = active
            .get(&version_key(P::NAME))?
            .and_then(|v| String::from_utf8_lossy(&v).parse::<u32>().ok());
        let mut checkpoint = rm.checkpoint()?;
        let mut stale = false;
        if written != Some(P::VERSION) {
            if checkpoint == 0 {
                active.commit(0, vec![version_record::<P>()])?;
            } else {
                tracing::info!(
                    projection = P::NAME,
                    written = ?written,
                    current = P::VERSION,
                    "read model written under another document version; it is rebuilt at start"
                );
                stale = true;
                checkpoint = 0;
            }
        }
        let mut model = P::new(cfg);
        if load && !stale {
            model.load(&rm)?;
        }
        Ok(Slot {
            live: RwLock::new(Live { rm, name, model }),
            checkpoint: AtomicU64::new(checkpoint),
            stale: std::sync::atomic::AtomicBool::new(stale),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Live<P>> {
        self.live.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Live<P>> {
        self.live.write().unwrap_or_else(|p| p.into_inner())
    }

    fn checkpoint(&self) -> u64 {
        self.checkpoint.load(Ordering::Acquire)
    }

    /// Applies the events above the checkpoint and commits the changed documents with
    /// the new checkpoint. Returns true when anything was applied. On a failed commit
    /// the in-memory model is reloaded from disk so that memory never runs ahead of it.
    fn apply_batch(&self, events: &[StoredEvent]) -> Result<bool, ProjectionError> {
        let mut live = self.write();
        let from = self.checkpoint();
        let mut last = from;
        for ev in events.iter().filter(|e| e.seq > from) {
            live.model.apply(ev);
            last = ev.seq;
        }
        if last == from {
            return Ok(false);
        }
        let mut changes = Changes::default();
        let live = &mut *live;
        let result = live.model.drain(&mut changes, false).and_then(|()| {
            let changes = changes.finish()?;
            live.rm.commit(last, changes).map_err(ProjectionError::from)
        });
        match result {
            Ok(()) => {
                self.checkpoint.store(last, Ordering::Release);
                Ok(true)
            }
            Err(e) => {
                live.model.load(&live.rm)?;
                self.checkpoint
                    .store(live.rm.checkpoint()?, Ordering::Release);
                Err(e)
            }
        }
    }

    /// The rebuild worker of this projection, on its own thread: builds a fresh model
    /// from the batches on `rx` (reporting each batch's last seq as `(n, seq)` on
    /// `progress`), writes it into the shadow keyspace (the generation not serving),
    /// catches up with what the live model applied meanwhile, and then, holding the
    /// live model's write lock for the last few events only, switches [`ACTIVE`] to
    /// the shadow and serves the new model. Until that one commit the old model and
    /// keyspace stay in force, also across a crash; so they do when the scan stops
    /// before `total`. Returns the seconds spent writing, the thread's CPU seconds and
    /// the replaced generation, to be retired once every projection serves its new model.
    fn rebuild_from(
        &self,
        feed: Feed,
        read: &ReadSide,
        is_board: bool,
    ) -> Result<(f64, f64, Retire), ProjectionError> {
        let Feed {
            rx,
            recycle,
            total,
            n,
            progress,
        } = feed;
        let i = &read.inner;
        let shadow_name = {
            let live = self.read();
            let [a, b] = generations(P::NAME);
            if live.name == a {
                b
            } else {
                a
            }
        };
        let shadow = i.store.read_model(&shadow_name)?;
        shadow.clear()?;
        let mut model = P::new(&i.cfg);
        model.set_tracking(false);
        let mut pos = 0;
        for batch in rx {
            for ev in batch.iter() {
                model.apply(ev);
            }
            pos = batch.last().map_or(pos, |e| e.seq);
            let _ = progress.send((n, pos));
            // handed back so that the scan thread, which allocated it, frees it
            let _ = recycle.send(batch);
        }
        drop(recycle);
        if pos < total {
            // the scan stopped early (its error is reported by the caller): keep serving
            // the old model
            return Err(ProjectionError::Store(StoreError::Io(format!(
                "the rebuild's scan of the log stopped at {pos} of {total}"
            ))));
        }
        let t = Instant::now();
        // the documents are written as they are encoded; the last records carry the
        // checkpoint
        let mut sink = Changes::writing_to(&shadow);
        model.drain(&mut sink, true)?;
        shadow.commit(pos, sink.finish()?)?;
        model.set_tracking(true);
        let mut writing = t.elapsed();
        let t_commit = writing;
        // catch up with the live model while it keeps serving and applying
        loop {
            let live_at = self.checkpoint();
            if live_at <= pos + BATCH as u64 {
                break;
            }
            pos = catch_up(&i.store, &mut model, &shadow, pos, live_at)?;
        }
        let mut live = self.write();
        let live_at = self.checkpoint();
        if live_at > pos {
            pos = catch_up(&i.store, &mut model, &shadow, pos, live_at)?;
        }
        let t = Instant::now();
        shadow.flush()?;
        i.active.commit(
            0,
            vec![
                (
                    P::NAME.as_bytes().to_vec(),
                    Some(shadow_name.clone().into_bytes()),
                ),
                version_record::<P>(),
            ],
        )?;
        i.active.flush()?;
        let old = std::mem::replace(
            &mut *live,
            Live {
                rm: shadow,
                name: shadow_name,
                model,
            },
        );
        self.checkpoint.store(pos, Ordering::Release);
        self.stale.store(false, Ordering::Release);
        drop(live);
        read.announce(is_board);
        writing += t.elapsed();
        let _ = progress.send((n, pos));
        let cpu = cpu_secs("/proc/thread-self/stat").unwrap_or(f64::NAN);
        tracing::debug!(
            projection = P::NAME,
            thread_cpu_secs = cpu,
            encode_and_write_secs = t_commit.as_secs_f64(),
            swap_secs = (writing - t_commit).as_secs_f64(),
            "rebuilt"
        );
        // the replaced generation is no longer referenced; the caller has it emptied
        // (its model's memory freed on this thread, which allocated it) once every
        // projection serves, so that this does not hold up the ones still building
        let store = i.store.clone();
        let retire: Retire = Box::new(move || {
            let Live { rm, model, .. } = old;
            let t = Instant::now();
            drop(model);
            let dropped = t.elapsed();
            store.drop_read_model(rm)?;
            tracing::debug!(
                projection = P::NAME,
                drop_old_model_secs = dropped.as_secs_f64(),
                drop_old_keyspace_secs = (t.elapsed() - dropped).as_secs_f64(),
                "retired the replaced generation"
            );
            Ok(())
        });
        Ok((writing.as_secs_f64(), cpu, retire))
    }
}

/// Empties a replaced generation: frees its model and drops its keyspace.
type Retire = Box<dyn FnOnce() -> Result<(), ProjectionError> + Send>;

/// What a projection's rebuild thread gets from the scan thread.
struct Feed {
    /// The batches of the log, in order.
    rx: std::sync::mpsc::Receiver<Arc<Vec<StoredEvent>>>,
    /// Where applied batches go back to be freed by the scan thread.
    recycle: std::sync::mpsc::Sender<Arc<Vec<StoredEvent>>>,
    /// The head the scan goes up to.
    total: u64,
    /// This projection's index in the progress reports.
    n: usize,
    /// `(n, seq)` after each applied batch.
    progress: std::sync::mpsc::Sender<(usize, u64)>,
}

/// Applies the log's events `(pos, to]` to a model being rebuilt and commits their
/// changes into its shadow keyspace; returns the new position.
fn catch_up<P: Projection>(
    store: &Store,
    model: &mut P,
    shadow: &ReadModel,
    mut pos: u64,
    to: u64,
) -> Result<u64, ProjectionError> {
    while pos < to {
        let want = usize::try_from(to - pos).unwrap_or(usize::MAX).min(BATCH);
        let batch: Vec<StoredEvent> = store.scan(pos + 1, want).collect::<Result<_, _>>()?;
        let Some(last) = batch.last().map(|e| e.seq) else {
            break;
        };
        for ev in &batch {
            model.apply(ev);
        }
        let mut changes = Changes::default();
        model.drain(&mut changes, false)?;
        shadow.commit(last, changes.finish()?)?;
        pos = last;
    }
    Ok(pos)
}

struct Inner {
    store: Store,
    cfg: ReadSideConfig,
    /// See [`ACTIVE`].
    active: ReadModel,
    /// Held by a rebuild (one at a time).
    rebuilding: std::sync::Mutex<()>,
    board: Slot<board::BoardProjection>,
    costs: Slot<costs::CostsProjection>,
    archive: Slot<archive::ArchiveProjection>,
    complaints: Slot<complaints::ComplaintsProjection>,
    applied: tokio::sync::watch::Sender<u64>,
    changes: tokio::sync::broadcast::Sender<u64>,
}

/// Handle to every projection; cheap to clone and share between request handlers.
#[derive(Clone)]
pub struct ReadSide {
    inner: Arc<Inner>,
}

impl ReadSide {
    /// Opens every projection's read model and loads its persisted documents.
    pub fn open(store: &Store, cfg: ReadSideConfig) -> Result<ReadSide, ProjectionError> {
        ReadSide::open_loading(store, cfg, true)
    }

    /// [`ReadSide::open`]; with `load` false the models are not read from disk and
    /// stay empty until rebuilt: only for [`rebuild`], whose read side answers nothing.
    fn open_loading(
        store: &Store,
        cfg: ReadSideConfig,
        load: bool,
    ) -> Result<ReadSide, ProjectionError> {
        let active = store.read_model(ACTIVE)?;
        let board = Slot::open(store, &active, &cfg, load)?;
        let costs = Slot::open(store, &active, &cfg, load)?;
        let archive = Slot::open(store, &active, &cfg, load)?;
        let complaints = Slot::open(store, &active, &cfg, load)?;
        let (applied, _) = tokio::sync::watch::channel(0);
        let (changes, _) = tokio::sync::broadcast::channel(256);
        let read = ReadSide {
            inner: Arc::new(Inner {
                store: store.clone(),
                cfg,
                active,
                rebuilding: std::sync::Mutex::new(()),
                board,
                costs,
                archive,
                complaints,
                applied,
                changes,
            }),
        };
        read.inner.applied.send_replace(read.applied_seq());
        Ok(read)
    }

    /// The configuration the read side was opened with.
    pub fn config(&self) -> &ReadSideConfig {
        &self.inner.cfg
    }

    /// Starts following the log: subscribes from the lowest checkpoint + 1 and applies
    /// batches of up to 4096 events, committing each projection's changes with its
    /// checkpoint per batch. Ends when the store closes. Errors are logged and the
    /// batch is retried from disk after a short pause.
    ///
    /// A read side far behind the log (a store filled by `reception demo` or an import,
    /// or restored with old models) first catches up by a [`ReadSide::rebuild`], which
    /// builds the models an order of magnitude faster than applying batch by batch
    /// (the served models keep answering meanwhile); see [`bulk_catch_up`]. So does,
    /// whatever the gap, a model written under another document version
    /// (`Projection::VERSION`), which was not loaded and answers nothing until then.
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let read = self.clone();
        tokio::spawn(async move {
            let head = read.inner.store.head().0;
            let applied = read.applied_seq();
            let stale = read.stale();
            let bulk = bulk_catch_up(applied, head, read.inner.cfg.bulk_catch_up_min);
            if bulk || !stale.is_empty() {
                let r = read.clone();
                let caught_up = tokio::task::spawn_blocking(move || {
                    if bulk {
                        return r.rebuild_logged(applied, head);
                    }
                    // models of another document version are rebuilt whatever the gap
                    // (all in one scan of the log when more than one is)
                    tracing::info!(projections = ?stale, "rebuilding read models of another document version");
                    let only = match stale.as_slice() {
                        [one] => Some(*one),
                        _ => None,
                    };
                    r.rebuild(only, &mut |_, _| {})
                });
                match caught_up.await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "catch-up rebuild failed; applying batch by batch")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "catch-up rebuild panicked; applying batch by batch")
                    }
                }
            }
            loop {
                let from = read.applied_seq() + 1;
                let mut sub = read.inner.store.subscribe(from);
                loop {
                    match sub.next_batch(BATCH).await {
                        None => return,
                        Some(Ok(batch)) => {
                            let r = read.clone();
                            let res =
                                tokio::task::spawn_blocking(move || r.apply_batch(&batch)).await;
                            match res {
                                Ok(Ok(())) => {}
                                Ok(Err(e)) => {
                                    tracing::error!(error = %e, "projection batch failed; resubscribing");
                                    break;
                                }
                                Err(e) => {
                                    tracing::error!(error = %e, "projection task panicked; resubscribing");
                                    break;
                                }
                            }
                        }
                        Some(Err(e)) => {
                            tracing::error!(error = %e, "subscription failed; resubscribing");
                            break;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    }

    /// [`ReadSide::rebuild`] of every projection, logging its progress (about every
    /// two seconds) and rate.
    fn rebuild_logged(&self, applied: u64, head: u64) -> Result<(), ProjectionError> {
        tracing::info!(
            applied,
            head,
            behind = head - applied,
            "read side far behind the log: rebuilding it from the log (the current models keep answering)"
        );
        let started = Instant::now();
        let mut last = Instant::now();
        self.rebuild(None, &mut |done, total| {
            if last.elapsed() >= Duration::from_secs(2) {
                last = Instant::now();
                let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
                tracing::info!(done, total, events_per_s = rate as u64, "catch-up rebuild");
            }
        })?;
        let secs = started.elapsed().as_secs_f64();
        tracing::info!(
            events = head,
            secs,
            events_per_s = (head as f64 / secs.max(1e-9)) as u64,
            "catch-up rebuild done"
        );
        Ok(())
    }

    /// The projections whose serving model was written under another document version
    /// and awaits its rebuild.
    fn stale(&self) -> Vec<&'static str> {
        let i = &self.inner;
        let stale = [
            (
                board::BoardProjection::NAME,
                i.board.stale.load(Ordering::Acquire),
            ),
            (
                costs::CostsProjection::NAME,
                i.costs.stale.load(Ordering::Acquire),
            ),
            (
                archive::ArchiveProjection::NAME,
                i.archive.stale.load(Ordering::Acquire),
            ),
            (
                complaints::ComplaintsProjection::NAME,
                i.complaints.stale.load(Ordering::Acquire),
            ),
        ];
        stale
            .into_iter()
            .filter(|(_, s)| *s)
            .map(|(n, _)| n)
            .collect()
    }

    /// Applies a batch of envelopes (in seq order) to every projection; events at or
    /// below a projection's checkpoint are skipped, so repeating a batch changes
    /// nothing. [`ReadSide::spawn`] calls this; tests and tools may too.
    pub fn apply_batch(&self, batch: &[Envelope]) -> Result<(), ProjectionError> {
        let batch: Vec<StoredEvent> = batch.iter().map(StoredEvent::from_envelope).collect();
        self.apply_stored(&batch)
    }

    /// [`ReadSide::apply_batch`] of events as [`Store::scan`] hands them out.
    fn apply_stored(&self, batch: &[StoredEvent]) -> Result<(), ProjectionError> {
        let i = &self.inner;
        let board_changed = i.board.apply_batch(batch)?;
        i.costs.apply_batch(batch)?;
        i.archive.apply_batch(batch)?;
        i.complaints.apply_batch(batch)?;
        self.announce(board_changed);
        Ok(())
    }

    /// The highest seq every projection has applied (the minimum of the checkpoints).
    pub fn applied_seq(&self) -> u64 {
        let i = &self.inner;
        i.board
            .checkpoint()
            .min(i.costs.checkpoint())
            .min(i.archive.checkpoint())
            .min(i.complaints.checkpoint())
    }

    /// Waits until every projection has applied `seq` (read-your-writes for `min_seq`);
    /// false when `timeout` passes first.
    pub async fn wait_for(&self, seq: u64, timeout: Duration) -> bool {
        let mut rx = self.inner.applied.subscribe();
        let wait = rx.wait_for(|applied| *applied >= seq);
        matches!(tokio::time::timeout(timeout, wait).await, Ok(Ok(_))) || self.applied_seq() >= seq
    }

    /// A receiver of board changes: the board's checkpoint after each batch that
    /// touched it (for Server-Sent Events). Slow receivers see `Lagged` and should
    /// simply re-read the board.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// Store head minus applied seq.
    pub fn lag(&self) -> u64 {
        self.inner.store.head().0.saturating_sub(self.applied_seq())
    }

    /// The live visit board; time-dependent flags are computed against `now`, "today"
    /// is `now`'s date in the company's time zone.
    pub fn board(&self, now: DateTime<Utc>) -> Board {
        self.inner.board.read().board(now)
    }

    /// [`ReadSide::board`] and the instant from which the board may differ while the
    /// model does not change (a time-dependent flag or complaint clock turns overdue, or
    /// the day changes): for every `now'` in `[now, until)` the board is the same.
    pub fn board_until(&self, now: DateTime<Utc>) -> (Board, DateTime<Utc>) {
        self.inner.board.read().board_until(now)
    }

    /// The cost report of a year (company time zone), grouped by `by`: a lookup of the
    /// incremental aggregates.
    pub fn costs(&self, year: i32, by: CostDimension) -> CostReport {
        self.inner.costs.read().report(year, by)
    }

    /// The year's costs as CSV (UTF-8 with a byte-order mark): one row per dimension
    /// and key, so a spreadsheet shows Chinese names correctly.
    pub fn costs_csv(&self, year: i32) -> Vec<u8> {
        self.inner.costs.read().csv(year)
    }

    /// Customers whose company or visitor names contain `q`, forgiving case, spacing
    /// and punctuation (an empty `q` lists every customer), ordered by customer id.
    /// Summaries carry no phone numbers.
    pub fn search_customers(&self, q: &str) -> Vec<CustomerSummary> {
        self.inner.archive.read().search(q)
    }

    /// A customer's archive by id (see [`CustomerSummary::customer_id`]: the company
    /// name normalized by [`normalize_name`]). `redact_phones` must be true for
    /// analysts: visitors' phone numbers are then omitted (`null`).
    pub fn customer(&self, id: &str, redact_phones: bool) -> Option<CustomerProfile> {
        self.inner.archive.read().profile(id, redact_phones)
    }

    /// Complaints with their clocks against `now`; `open_only` keeps the unresolved ones.
    pub fn complaints(&self, open_only: bool, now: DateTime<Utc>) -> Vec<ComplaintView> {
        self.inner.complaints.read().list(open_only, now)
    }

    /// The C7 analysis of complaints raised in `year`-`month` (company time zone);
    /// deadlines not yet due at `now` are not counted.
    pub fn complaint_report(&self, year: i32, month: u32, now: DateTime<Utc>) -> ComplaintReport {
        self.inner.complaints.read().report(year, month, now)
    }

    /// Builds fresh models of the named projections (all when `only` is None) from
    /// seq 1 into shadow keyspaces while the served models keep answering queries and
    /// the follower keeps applying new events to them; then, per projection, catches up
    /// with the served model's checkpoint and swaps the new model in. Blocking (run it
    /// on a blocking thread); reports `(done, total)` seqs to `progress`.
    ///
    /// Queries never see a half-built model: a projection's served model, its
    /// keyspace and its checkpoint change together, under its write lock, which the
    /// swap holds only for the last few events. On disk the switch is one commit of the
    /// `read-side.active` record, written after the shadow keyspace is flushed: after
    /// a crash at any point the old or the new model is in force, never a mix. One
    /// rebuild runs at a time per [`ReadSide::open`] (clones share it); two read sides
    /// opened separately on one store must not rebuild at the same time.
    pub fn rebuild(
        &self,
        only: Option<&str>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), ProjectionError> {
        self.rebuild_timed(only, progress).map(|_| ())
    }

    /// [`ReadSide::rebuild`], returning where the time went.
    ///
    /// One thread scans the log ([`Store::scan`]: payloads stay JSON bytes) in
    /// batches and hands each batch (shared, `Arc`) to one thread per selected
    /// projection, which applies it to its new in-memory model without tracking
    /// changes, writes every document once at the end and swaps (see
    /// [`Slot::rebuild_from`]). The projections are independent, so on two cores they
    /// overlap with each other and with the scan. Building off the calling thread also
    /// keeps the allocations it frees from fragmenting the heap arena of the thread
    /// that goes on answering.
    fn rebuild_timed(
        &self,
        only: Option<&str>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RebuildTimes, ProjectionError> {
        let i = &self.inner;
        let names = selected(only)?;
        let _one_at_a_time = i.rebuilding.lock().unwrap_or_else(|p| p.into_inner());
        let total = i.store.head().0;
        progress(0, total);
        type Batch = Arc<Vec<StoredEvent>>;
        type Worker<'s> =
            std::thread::ScopedJoinHandle<'s, Result<(f64, f64, f64), ProjectionError>>;
        let started = Instant::now();
        std::thread::scope(|scope| {
            let (ptx, prx) = std::sync::mpsc::channel::<(usize, u64)>();
            let mut senders = Vec::new();
            let mut workers: Vec<Worker<'_>> = Vec::new();
            // dropped once every worker has swapped (or failed): then each retires the
            // generation it replaced
            let mut retire_now = Vec::new();
            let (recycle, recycled) = std::sync::mpsc::channel::<Batch>();
            for (n, name) in names.iter().enumerate() {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
                senders.push(tx);
                let (go, wait) = std::sync::mpsc::channel::<()>();
                retire_now.push(go);
                let feed = Feed {
                    rx,
                    recycle: recycle.clone(),
                    total,
                    n,
                    progress: ptx.clone(),
                };
                let name = *name;
                let builder = std::thread::Builder::new().name(format!("rebuild-{name}"));
                workers.push(
                    builder
                        .spawn_scoped(scope, move || {
                            // the feed's progress sender goes with the returned frame:
                            // the progress loop below ends when every worker is here
                            let built = match name {
                                "board" => i.board.rebuild_from(feed, self, true),
                                "costs" => i.costs.rebuild_from(feed, self, false),
                                "archive" => i.archive.rebuild_from(feed, self, false),
                                _ => i.complaints.rebuild_from(feed, self, false),
                            };
                            let _ = wait.recv();
                            let (writing, cpu, retire) = built?;
                            let t = Instant::now();
                            retire()?;
                            Ok((writing, cpu, t.elapsed().as_secs_f64()))
                        })
                        .expect("spawning a rebuild thread"),
                );
            }
            drop((ptx, recycle));
            let store = i.store.clone();
            let builder = std::thread::Builder::new().name("rebuild-scan".into());
            let reader = builder.spawn_scoped(scope, move || {
                let mut from = 1;
                let mut busy = Duration::ZERO;
                while from <= total {
                    // batches every projection is done with are freed here, where they
                    // were allocated (frees into another thread's heap arena are slow)
                    while let Ok(done) = recycled.try_recv() {
                        drop(done);
                    }
                    let t = Instant::now();
                    let want = usize::try_from(total - from + 1)
                        .unwrap_or(usize::MAX)
                        .min(SCAN_BATCH);
                    let batch: Vec<StoredEvent> =
                        store.scan(from, want).collect::<Result<_, _>>()?;
                    busy += t.elapsed();
                    let Some(last) = batch.last().map(|e| e.seq) else {
                        break;
                    };
                    from = last + 1;
                    let batch = Arc::new(batch);
                    for tx in &senders {
                        if tx.send(Arc::clone(&batch)).is_err() {
                            // a projection failed; its error is reported below
                            return Ok((busy.as_secs_f64(), f64::NAN));
                        }
                    }
                }
                drop(senders);
                for done in recycled {
                    drop(done);
                }
                tracing::debug!(thread_cpu_secs = ?cpu_secs("/proc/thread-self/stat"), "rebuild scan done");
                let cpu = cpu_secs("/proc/thread-self/stat").unwrap_or(f64::NAN);
                Ok((busy.as_secs_f64(), cpu))
            });
            let reader = reader.expect("spawning the rebuild scan thread");
            let mut done = vec![0u64; names.len()];
            for (n, last) in prx {
                done[n] = last;
                let low = done.iter().copied().min().unwrap_or(0);
                progress(low, total.max(low));
            }
            let served = started.elapsed().as_secs_f64();
            let served_cpu = cpu_secs("/proc/self/stat");
            drop(retire_now);
            let reading: Result<(f64, f64), ProjectionError> = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            let join = |h: Worker<'_>| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            };
            let mut writing = 0f64;
            let mut retiring = 0f64;
            let mut first_err = None;
            let mut cpu = Vec::new();
            for (w, name) in workers.into_iter().zip(&names) {
                match join(w) {
                    Ok((p, c, r)) => {
                        writing = writing.max(p);
                        retiring = retiring.max(r);
                        cpu.push((*name, c));
                    }
                    Err(e) => first_err = first_err.or(Some(e)),
                }
            }
            let (reading, scan_cpu) = reading?;
            cpu.insert(0, ("scan", scan_cpu));
            match first_err {
                Some(e) => Err(e),
                None => Ok(RebuildTimes {
                    served,
                    served_cpu,
                    reading,
                    persisting: writing,
                    retiring,
                    cpu,
                }),
            }
        })
    }

    /// Publishes the applied seq to `wait_for` and, when the board changed, its
    /// checkpoint to [`ReadSide::changes`].
    fn announce(&self, board_changed: bool) {
        let i = &self.inner;
        i.applied.send_replace(self.applied_seq());
        if board_changed {
            let _ = i.changes.send(i.board.checkpoint());
        }
    }
}

/// User + system CPU seconds from a `/proc/.../stat` file (None where there is none).
fn cpu_secs(stat: &str) -> Option<f64> {
    let text = std::fs::read_to_string(stat).ok()?;
    // the fields after the command name, which is in parentheses
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Where a rebuild's time went (seconds).
struct RebuildTimes {
    /// From the start until every new model serves (the rebuild's duration; retiring
    /// the replaced generations comes after).
    served: f64,
    /// The process's CPU seconds (all threads, since it started) at `served`.
    served_cpu: Option<f64>,
    /// The slowest projection's time retiring the generation it replaced (freeing the
    /// old model, dropping its keyspace), after every new model serves.
    retiring: f64,
    /// The log reader thread's time in [`Store::scan`] (read and decode).
    reading: f64,
    /// The slowest projection's time encoding its documents, writing them and swapping.
    persisting: f64,
    /// CPU seconds of each rebuild thread: the scan, then each projection's.
    cpu: Vec<(&'static str, f64)>,
}

fn selected(only: Option<&str>) -> Result<Vec<&'static str>, ProjectionError> {
    match only {
        None => Ok(PROJECTIONS.to_vec()),
        Some(name) => PROJECTIONS
            .iter()
            .find(|p| **p == name)
            .map(|p| vec![*p])
            .ok_or_else(|| ProjectionError::UnknownProjection(name.to_string())),
    }
}

/// Drops the named read models (all when `only` is None) and rebuilds them from seq 1,
/// reporting `(done, total)` seqs to `progress` after each batch. For the
/// `reception rebuild` command (run it while no server follows the same store).
pub fn rebuild(
    store: &Store,
    cfg: &ReadSideConfig,
    only: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), ProjectionError> {
    // nothing is served from this read side, so the models being replaced are not
    // loaded (that would be seconds of decoding and memory for nothing)
    let read = ReadSide::open_loading(store, cfg.clone(), false)?;
    read.rebuild(only, progress)
}

/// Whether a read side at `applied` of a log at `head` catches up faster by a rebuild
/// from seq 1 than batch by batch: on 1.08M demo events a rebuild ran at ~320k events/s
/// and following at ~63k (it writes every changed document per batch), so a rebuild wins
/// once more than about a fifth of the log is missing. Gaps under `min`
/// events (a restart after a short stop) are always followed batch by batch.
pub fn bulk_catch_up(applied: u64, head: u64, min: u64) -> bool {
    let behind = head.saturating_sub(applied);
    behind >= min && behind.saturating_mul(5) >= head
}

/// [`ReadSideConfig::bulk_catch_up_min`] by default.
pub const BULK_CATCH_UP_MIN: u64 = 50_000;

/// How many times [`bench_rebuild`] rebuilds (it reports the median run).
const REBUILD_RUNS: usize = 3;

/// Rebuilds every projection of `store` from scratch and measures the rebuild rate
/// and the p99 latency of the board, yearly cost report and customer profile
/// queries. Returns a Markdown report.
pub fn bench_rebuild(store: &Store) -> Result<String, ProjectionError> {
    let total = store.head().0;
    // Opening (loading the persisted models, later dropped by the rebuild) and the
    // read-alone passes run on a helper thread, so their garbage does not fragment the
    // heap arena of this thread, which then measures the queries (as a server's
    // request threads never do that work either).
    let (read, read_secs, scan_secs, scan_cpu) = std::thread::scope(|scope| {
        scope
            .spawn(|| -> Result<(ReadSide, f64, f64, f64), ProjectionError> {
                let read = ReadSide::open(store, ReadSideConfig::default())?;
                // the store's share before: reading and decoding whole envelopes
                let started = Instant::now();
                let mut from = 1;
                while from <= total {
                    let batch: Vec<Envelope> =
                        store.read_all(from, BATCH).collect::<Result<_, _>>()?;
                    let Some(last) = batch.last().map(|e| e.seq) else {
                        break;
                    };
                    from = last + 1;
                }
                let read_secs = started.elapsed().as_secs_f64();
                // the store's share in a rebuild: scanning the log alone
                let cpu_before = cpu_secs("/proc/thread-self/stat");
                let started = Instant::now();
                let mut from = 1;
                while from <= total {
                    let batch: Vec<StoredEvent> =
                        store.scan(from, SCAN_BATCH).collect::<Result<_, _>>()?;
                    let Some(last) = batch.last().map(|e| e.seq) else {
                        break;
                    };
                    from = last + 1;
                }
                let scan_secs = started.elapsed().as_secs_f64();
                let cpu = match (cpu_before, cpu_secs("/proc/thread-self/stat")) {
                    (Some(a), Some(b)) => b - a,
                    _ => f64::NAN,
                };
                Ok((read, read_secs, scan_secs, cpu))
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    // The same rebuild several times (each one swaps in a model equal to the last):
    // on a shared 2-core VM one run's wall time moves by a quarter either way, so the
    // median run is reported, with every run's rate beside it.
    let mut runs = Vec::with_capacity(REBUILD_RUNS);
    for _ in 0..REBUILD_RUNS {
        let cpu_before = cpu_secs("/proc/self/stat");
        let times = read.rebuild_timed(None, &mut |_, _| {})?;
        // the process's CPU until every new model serves (retiring the replaced
        // generations comes after, and is reported beside it)
        let cpu = match (cpu_before, times.served_cpu) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
        runs.push((times.served, cpu, times));
    }
    let all_rates = runs
        .iter()
        .map(|(secs, ..)| format!("{:.0}", total as f64 / secs.max(1e-9)))
        .collect::<Vec<_>>()
        .join(" / ");
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (
        secs,
        cpu,
        RebuildTimes {
            reading,
            persisting,
            retiring,
            cpu: threads,
            ..
        },
    ) = runs.swap_remove(REBUILD_RUNS / 2);
    let threads = threads
        .iter()
        .map(|(name, c)| format!("{name} {c:.2}"))
        .collect::<Vec<_>>()
        .join(" / ");
    let rate = total as f64 / secs.max(1e-9);
    let cpu = match cpu {
        Some(c) => format!(
            "{c:.2} s = {:.1} µs per event ({:.0} events per CPU-second)",
            c * 1e6 / total.max(1) as f64,
            total as f64 / c.max(1e-9)
        ),
        None => "not measured".into(),
    };

    let now = Utc::now();
    let years: Vec<i32> = read.inner.costs.read().years();
    let year = years.last().copied().unwrap_or(2026);
    let customers: Vec<String> = read.inner.archive.read().customer_ids();
    let sample = read.board(now);
    let open_visits = sample.visits.len();
    let (today, open_complaints, on_site) = (
        sample.today.len(),
        sample.complaints.len(),
        sample.on_site.len(),
    );
    let visits = read.inner.archive.read().visit_count();

    let p99 = |f: &mut dyn FnMut(usize)| -> (f64, f64) {
        let mut samples = Vec::with_capacity(1000);
        for n in 0..1000 {
            let t = Instant::now();
            f(n);
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        (samples[500], samples[989])
    };
    // a different `now` per call (1 ms apart), as a dashboard's polls have
    let board = p99(&mut |n| {
        std::hint::black_box(read.board(now + chrono::Duration::milliseconds(n as i64)));
    });
    let costs = p99(&mut |n| {
        let dims = [
            CostDimension::Level,
            CostDimension::Month,
            CostDimension::Department,
            CostDimension::Customer,
            CostDimension::Category,
        ];
        std::hint::black_box(read.costs(year, dims[n % dims.len()]));
    });
    let profile = p99(&mut |n| {
        if !customers.is_empty() {
            std::hint::black_box(read.customer(&customers[n * 7919 % customers.len()], true));
        }
    });
    Ok(format!(
        "| measure | figure | target |\n|---|---|---|\n\
         | events in store | {total} | — |\n\
         | visits / open visits on board / customers | {visits} / {open_visits} / {} | 10,000 visits |\n\
         | board contents: timeline items today / open complaints / people on site | {today} / {open_complaints} / {on_site} | — |\n\
         | reading the log alone with `read_all` (full envelope decode, no projection) | {read_secs:.2} s = {:.0} events/s | — |\n\
         | scanning the log alone with `scan` (what a rebuild reads, no projection) | {scan_secs:.2} s = {:.0} events/s ({scan_cpu:.2} CPU-s) | — |\n\
         | rebuild, all projections (median of {REBUILD_RUNS} runs; every run's events/s: {all_rates}) | {secs:.2} s = **{rate:.0} events/s** | ≥ 200,000 events/s |\n\
         | median run: scan thread in `scan` / slowest projection writing its documents and swapping | {reading:.2} s / {persisting:.2} s of {secs:.2} s | — |\n\
         | median run: then retiring the replaced generations (freeing the old models, dropping their keyspaces), after every new model serves | {retiring:.2} s | — |\n\
         | median run: CPU time of the process (all threads; less load-dependent than the wall time) | {cpu} | — |\n\
         | median run: CPU seconds per thread (scan / projections; archive's second encoding thread not counted) | {threads} | — |\n\
         | board query (p50 / p99) | {:.3} / **{:.3} ms** | p99 < 2 ms |\n\
         | yearly cost report {year}, all dimensions (p50 / p99) | {:.3} / **{:.3} ms** | p99 < 2 ms |\n\
         | customer profile (p50 / p99) | {:.3} / **{:.3} ms** | p99 < 2 ms |\n",
        customers.len(),
        total as f64 / read_secs.max(1e-9),
        total as f64 / scan_secs.max(1e-9),
        board.0,
        board.1,
        costs.0,
        costs.1,
        profile.0,
        profile.1
    ))
}

/// Measures append-to-visible lag: appends probe events at a steady `rate_per_sec`
/// (durable [`Store::append`]s, one event each, started on a tokio interval) for
/// `duration` while a spawned [`ReadSide`] follows the log, and reports the p50/p99/max
/// time from each append's acknowledgement to the moment [`ReadSide::changes`]
/// announced a board checkpoint at or past its seq. Returns a Markdown table.
///
/// The probes go to one stream, `lagbench-<uuid>`, as `LagProbe` events, which every
/// projection applies (advancing its checkpoint) without changing its answers. Needs
/// a multi-threaded tokio runtime; the read side first catches up with the log.
pub async fn bench_lag(
    store: &Store,
    rate_per_sec: u32,
    duration: Duration,
) -> Result<String, ProjectionError> {
    use reception_store::{Actor, AppendRequest, ExpectedVersion, NewEvent};

    let read = ReadSide::open(store, ReadSideConfig::default())?;
    let follower = read.spawn();
    let caught_up = read
        .wait_for(store.head().0, Duration::from_secs(600))
        .await;
    let mut changes = read.changes();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(async move {
        let mut seen: Vec<(u64, Instant)> = Vec::new();
        loop {
            tokio::select! {
                _ = &mut stop_rx => break,
                change = changes.recv() => match change {
                    Ok(cp) => seen.push((cp, Instant::now())),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        seen
    });
    let stream = format!("lagbench-{}", uuid::Uuid::new_v4());
    let period = Duration::from_secs_f64(1.0 / f64::from(rate_per_sec.max(1)));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (acks_tx, mut acks_rx) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let mut sent = 0u64;
    while started.elapsed() < duration {
        ticks.tick().await;
        sent += 1;
        let store = store.clone();
        let acks = acks_tx.clone();
        let req = AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::Any,
            events: vec![NewEvent {
                id: uuid::Uuid::new_v4(),
                event_type: "LagProbe".into(),
                schema: 1,
                data: serde_json::json!({ "n": sent }),
                occurred_at: None,
                actor: Actor {
                    user: "bench".into(),
                    role: "system".into(),
                },
                correlation_id: uuid::Uuid::new_v4(),
                causation_id: uuid::Uuid::new_v4(),
            }],
            idempotency: None,
        };
        tokio::spawn(async move {
            let asked = Instant::now();
            let res = store.append(req).await;
            let acked = Instant::now();
            let _ = acks.send(
                res.ok()
                    .and_then(|a| a.events.last().map(|e| (e.seq, acked - asked, acked))),
            );
        });
    }
    drop(acks_tx);
    let send_secs = started.elapsed().as_secs_f64();
    let mut acks = Vec::new();
    let mut failed = 0u64;
    while let Some(a) = acks_rx.recv().await {
        match a {
            Some(a) => acks.push(a),
            None => failed += 1,
        }
    }
    let last_seq = acks.iter().map(|a| a.0).max().unwrap_or(0);
    read.wait_for(last_seq, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = stop_tx.send(());
    let seen = watcher.await.unwrap_or_default();
    follower.abort();
    let _ = follower.await;
    let mut lags: Vec<f64> = Vec::with_capacity(acks.len());
    let mut never = 0u64;
    for (seq, _, acked) in &acks {
        let i = seen.partition_point(|(cp, _)| cp < seq);
        match seen.get(i) {
            Some((_, at)) => lags.push(at.saturating_duration_since(*acked).as_secs_f64() * 1e3),
            None => never += 1,
        }
    }
    let mut ack_ms: Vec<f64> = acks.iter().map(|a| a.1.as_secs_f64() * 1e3).collect();
    let pct = |v: &mut Vec<f64>, p: f64| -> f64 {
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_by(|a, b| a.total_cmp(b));
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    };
    Ok(format!(
        "| measure | figure | target |\n|---|---|---|\n\
         | read side caught up before the run | {caught_up} | — |\n\
         | probe appends sent / acknowledged / failed | {sent} in {send_secs:.1} s ({:.0}/s) / {} / {failed} | steady 1,000/s |\n\
         | append acknowledgement (durable) p50 / p99 | {:.2} / {:.2} ms | — |\n\
         | append-ack → announced on the board's `changes()` p50 / p99 / max | {:.2} / **{:.2}** / {:.2} ms | p99 < 100 ms |\n\
         | appends never announced | {never} | 0 |\n",
        sent as f64 / send_secs.max(1e-9),
        acks.len(),
        pct(&mut ack_ms, 0.5),
        pct(&mut ack_ms, 0.99),
        pct(&mut lags, 0.5),
        pct(&mut lags, 0.99),
        pct(&mut lags, 1.0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(n: usize) -> (Vec<u8>, Option<Vec<u8>>) {
        (format!("k{n:06}").into_bytes(), Some(vec![b'x'; 10]))
    }

    #[test]
    fn a_writing_sink_commits_every_chunk_as_it_fills_and_hands_back_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let rm = store.read_model("sink").unwrap();
        let mut sink = Changes::writing_to(&rm);
        for n in 0..WRITE_CHUNK - 1 {
            sink.push(put(n));
        }
        assert_eq!(
            rm.scan_prefix(b"k").count(),
            0,
            "nothing before a chunk is full"
        );
        sink.push(put(WRITE_CHUNK - 1));
        assert_eq!(rm.scan_prefix(b"k").count(), WRITE_CHUNK);
        assert_eq!(rm.checkpoint().unwrap(), 0, "chunks carry checkpoint 0");
        // a forked sink writes to the same keyspace; what it has not written is
        // taken over by the one it was forked from
        let mut other = sink.fork();
        for n in WRITE_CHUNK..2 * WRITE_CHUNK + 2 {
            other.push(put(n));
        }
        sink.push(put(10 * WRITE_CHUNK));
        sink.append(other);
        assert_eq!(rm.scan_prefix(b"k").count(), 2 * WRITE_CHUNK);
        let rest = sink.finish().unwrap();
        assert_eq!(rest.len(), 3);
        rm.commit(7, rest).unwrap();
        assert_eq!(rm.scan_prefix(b"k").count(), 2 * WRITE_CHUNK + 3);
        assert_eq!(rm.checkpoint().unwrap(), 7);
        store.close().unwrap();
    }

    #[test]
    fn a_collecting_sink_never_writes() {
        let mut sink = Changes::default();
        for n in 0..WRITE_CHUNK * 2 {
            sink.push(put(n));
        }
        assert_eq!(sink.finish().unwrap().len(), WRITE_CHUNK * 2);
    }
}
