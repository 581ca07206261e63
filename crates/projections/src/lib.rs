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
mod return_calls;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reception_store::{Envelope, ReadModel, Store, StoreError, StoredEvent};

pub use archive::{
    CustomerProfile, CustomerSummary, LastTime, OpenFollowUp, VisitFilter, VisitPage, VisitRecord,
    VisitSummary, VisitorRecord, VISIT_STAGES,
};
pub use board::{Board, BoardVisit, FollowUpItem, OnSite, TimelineItem, BOARD_STAGES};
pub use complaints::{CaseView, ComplaintDoc, ComplaintReport, ComplaintView};
pub use costs::{
    neutralise, BudgetBy, BudgetGroup, BudgetReport, BudgetVisit, CostDimension, CostGroup,
    CostLine, CostReport, GroupKey, WhatIfVisit,
};
pub use event::normalize_name;
pub use return_calls::{CallFigures, CallGroup, Feedback, ReturnCallReport, ReturnCallsBy};

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
/// rebuilt model is written into its shadow keyspace: a few MB at a time, so the
/// encoded model is never in memory whole.
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
    /// before `total`. Returns the seconds spent writing and the replaced generation,
    /// to be retired once every projection serves its new model.
    fn rebuild_from(
        &self,
        feed: Feed,
        read: &ReadSide,
        is_board: bool,
        observer: &dyn RebuildObserver,
    ) -> Result<(f64, Retire), ProjectionError> {
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
        observer.thread_done(P::NAME);
        tracing::debug!(
            projection = P::NAME,
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
        Ok((writing.as_secs_f64(), retire))
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
        self.inner.costs.read().report(year, by, None)
    }

    /// The cost report of a year by two dimensions crossed (`then` None: by one), each
    /// group keyed `[a, b]` in the order asked: a lookup of the cube.
    pub fn costs_by(
        &self,
        year: i32,
        by: CostDimension,
        then: Option<CostDimension>,
    ) -> CostReport {
        self.inner.costs.read().report(year, by, then)
    }

    /// Budget against actual of the year's visits (V22), by cost-bearing department or
    /// by visit, with the visits over budget.
    pub fn costs_budget(&self, year: i32, by: BudgetBy) -> BudgetReport {
        self.inner.costs.read().budget(year, by)
    }

    /// The ids of the visits with an expense counted in the year (by spend time).
    pub fn visits_spending_in(&self, year: i32) -> Vec<String> {
        self.inner.costs.read().visits_spending_in(year)
    }

    /// The visits with an expense the what-if judges spent in the year, each with its
    /// judged expenses (of every year, in recording order: a booking's earlier spending
    /// counts towards its cap).
    pub fn what_if_visits(&self, year: i32) -> Vec<WhatIfVisit> {
        self.inner.costs.read().what_if_visits(year)
    }

    /// One line per expense counted in the year, by spend time.
    pub fn cost_lines(&self, year: i32) -> Vec<CostLine> {
        self.inner.costs.read().lines(year)
    }

    /// The year's costs as CSV (UTF-8 with a byte-order mark): one row per dimension
    /// and key, so a spreadsheet shows Chinese names correctly.
    pub fn costs_csv(&self, year: i32) -> Vec<u8> {
        self.inner.costs.read().csv(year)
    }

    /// The year's expenses as CSV, one line each (UTF-8 with a byte-order mark).
    pub fn costs_lines_csv(&self, year: i32) -> Vec<u8> {
        self.inner.costs.read().lines_csv(year)
    }

    /// The year's costs as an Excel workbook: a sheet per view (by month, level,
    /// department, category) and one of the lines.
    pub fn costs_xlsx(&self, year: i32) -> Result<Vec<u8>, ProjectionError> {
        self.inner
            .costs
            .read()
            .xlsx(year)
            .map_err(|e| ProjectionError::Encode(e.to_string()))
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
        self.customer_at(id, redact_phones, Utc::now())
    }

    /// [`ReadSide::customer`] with its open follow-ups judged overdue against `now`
    /// (the service's business clock).
    pub fn customer_at(
        &self,
        id: &str,
        redact_phones: bool,
        now: DateTime<Utc>,
    ) -> Option<CustomerProfile> {
        self.inner
            .archive
            .read()
            .profile(id, redact_phones, event::fixed(now))
    }

    /// Every visit, open or not, that `filter` lets through: `limit` of them from
    /// `offset`, latest planned arrival first, with how many passed in all.
    pub fn visits(&self, filter: &VisitFilter, limit: usize, offset: usize) -> VisitPage {
        self.inner.archive.read().list(filter, limit, offset)
    }

    /// The return-call and satisfaction report of the visits that departed in `year`
    /// (company time zone), with at most `limit` feedback texts.
    pub fn return_call_report(
        &self,
        year: i32,
        by: ReturnCallsBy,
        limit: usize,
    ) -> ReturnCallReport {
        let archive = self.inner.archive.read();
        return_calls::report(archive.visit_records(), &self.inner.cfg.tz, year, by, limit)
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

    /// The case library (C11), newest first; with `q`, the cases whose title, lesson,
    /// description, customer or category contain it (case-insensitive).
    pub fn complaint_cases(&self, q: Option<&str>) -> Vec<CaseView> {
        self.inner.complaints.read().cases(q)
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
        self.rebuild_observed(only, progress, &NoObserver)
            .map(|_| ())
    }

    /// [`ReadSide::rebuild`], returning where the time went and calling `observer` on
    /// each rebuild thread as it finishes (for a benchmark that measures them).
    ///
    /// One thread scans the log ([`Store::scan`]: payloads stay JSON bytes) in
    /// batches and hands each batch (shared, `Arc`) to one thread per selected
    /// projection, which applies it to its new in-memory model without tracking
    /// changes, writes every document once at the end and swaps (see
    /// [`Slot::rebuild_from`]). The projections are independent, so on two cores they
    /// overlap with each other and with the scan. Building off the calling thread also
    /// keeps the allocations it frees from fragmenting the heap arena of the thread
    /// that goes on answering.
    pub fn rebuild_observed(
        &self,
        only: Option<&str>,
        progress: &mut dyn FnMut(u64, u64),
        observer: &dyn RebuildObserver,
    ) -> Result<RebuildTimes, ProjectionError> {
        let i = &self.inner;
        let names = selected(only)?;
        let _one_at_a_time = i.rebuilding.lock().unwrap_or_else(|p| p.into_inner());
        let total = i.store.head().0;
        progress(0, total);
        type Batch = Arc<Vec<StoredEvent>>;
        type Worker<'s> = std::thread::ScopedJoinHandle<'s, Result<(f64, f64), ProjectionError>>;
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
                                "board" => i.board.rebuild_from(feed, self, true, observer),
                                "costs" => i.costs.rebuild_from(feed, self, false, observer),
                                "archive" => i.archive.rebuild_from(feed, self, false, observer),
                                _ => i.complaints.rebuild_from(feed, self, false, observer),
                            };
                            let _ = wait.recv();
                            let (writing, retire) = built?;
                            let t = Instant::now();
                            retire()?;
                            Ok((writing, t.elapsed().as_secs_f64()))
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
                            return Ok(busy.as_secs_f64());
                        }
                    }
                }
                drop(senders);
                for done in recycled {
                    drop(done);
                }
                observer.thread_done("scan");
                tracing::debug!(reading_secs = busy.as_secs_f64(), "rebuild scan done");
                Ok(busy.as_secs_f64())
            });
            let reader = reader.expect("spawning the rebuild scan thread");
            let mut done = vec![0u64; names.len()];
            for (n, last) in prx {
                done[n] = last;
                let low = done.iter().copied().min().unwrap_or(0);
                progress(low, total.max(low));
            }
            let served = started.elapsed().as_secs_f64();
            observer.served();
            drop(retire_now);
            let reading: Result<f64, ProjectionError> = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            let join = |h: Worker<'_>| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            };
            let mut writing = 0f64;
            let mut retiring = 0f64;
            let mut first_err = None;
            for w in workers {
                match join(w) {
                    Ok((p, r)) => {
                        writing = writing.max(p);
                        retiring = retiring.max(r);
                    }
                    Err(e) => first_err = first_err.or(Some(e)),
                }
            }
            let reading = reading?;
            match first_err {
                Some(e) => Err(e),
                None => Ok(RebuildTimes {
                    served,
                    reading,
                    persisting: writing,
                    retiring,
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

/// Where a rebuild's time went (seconds).
#[derive(Debug, Clone, Copy)]
pub struct RebuildTimes {
    /// From the start until every new model serves (the rebuild's duration; retiring
    /// the replaced generations comes after).
    pub served: f64,
    /// The slowest projection's time retiring the generation it replaced (freeing the
    /// old model, dropping its keyspace), after every new model serves.
    pub retiring: f64,
    /// The log reader thread's time in [`Store::scan`] (read and decode).
    pub reading: f64,
    /// The slowest projection's time encoding its documents, writing them and swapping.
    pub persisting: f64,
}

/// Hooks into [`ReadSide::rebuild_observed`] for a caller that measures a rebuild
/// (e.g. each thread's CPU time, read on that thread). Both do nothing by default.
pub trait RebuildObserver: Sync {
    /// Called on a rebuild thread when its work is done: the log scan (`"scan"`) or a
    /// projection's (its name), the latter once its new model serves.
    fn thread_done(&self, _thread: &'static str) {}
    /// Called on the rebuilding thread once every new model serves, before the
    /// replaced generations are retired.
    fn served(&self) {}
}

/// The observer of a rebuild nobody measures.
struct NoObserver;

impl RebuildObserver for NoObserver {}

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

impl ReadSide {
    /// The years the cost model has expenses in, ascending.
    pub fn cost_years(&self) -> Vec<i32> {
        self.inner.costs.read().years()
    }

    /// The id of every customer in the archive.
    pub fn customer_ids(&self) -> Vec<String> {
        self.inner.archive.read().customer_ids()
    }

    /// How many visits the archive holds.
    pub fn visit_count(&self) -> usize {
        self.inner.archive.read().visit_count()
    }
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
