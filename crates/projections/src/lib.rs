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
use reception_store::{Envelope, ReadModel, Store, StoreError};

pub use archive::{CustomerProfile, CustomerSummary, LastTime, VisitRecord, VisitorRecord};
pub use board::{Board, BoardVisit, OnSite, TimelineItem};
pub use complaints::{ComplaintDoc, ComplaintReport, ComplaintView};
pub use costs::{CostDimension, CostGroup, CostReport};
pub use event::normalize_name;

/// The names of the projections, as accepted by [`rebuild`]'s `only`.
pub const PROJECTIONS: &[&str] = &["board", "costs", "archive", "complaints"];

/// Events fetched and applied per batch (one read-model commit per batch and projection).
const BATCH: usize = 4096;

/// Events applied between two read-model commits during a rebuild: each commit
/// writes only the final state of the documents changed since the previous one.
const REBUILD_COMMIT: usize = 1 << 18;

/// Read-side settings.
#[derive(Debug, Clone)]
pub struct ReadSideConfig {
    /// The company's time zone: decides "today" on the board and where months and years
    /// begin in the analyses.
    pub tz: Tz,
}

impl Default for ReadSideConfig {
    fn default() -> Self {
        ReadSideConfig {
            tz: chrono_tz::Asia::Shanghai,
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

/// Changed documents of one batch: puts (`Some`) and deletes (`None`).
pub(crate) type Changes = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// One projection: an in-memory model fed envelope by envelope.
pub(crate) trait Projection: Send + Sync + Sized + 'static {
    const NAME: &'static str;
    fn new(cfg: &ReadSideConfig) -> Self;
    /// Replaces the in-memory model with the persisted one.
    fn load(&mut self, rm: &ReadModel) -> Result<(), ProjectionError>;
    /// Applies one event (never called twice for a seq).
    fn apply(&mut self, env: &Envelope);
    /// Moves the documents changed since the last drain into `out`.
    fn drain(&mut self, out: &mut Changes) -> Result<(), ProjectionError>;
}

/// A projection with its read model and checkpoint.
struct Slot<P> {
    rm: ReadModel,
    model: RwLock<P>,
    checkpoint: AtomicU64,
}

impl<P: Projection> Slot<P> {
    fn open(store: &Store, cfg: &ReadSideConfig) -> Result<Slot<P>, ProjectionError> {
        let rm = store.read_model(P::NAME)?;
        let mut model = P::new(cfg);
        model.load(&rm)?;
        let checkpoint = rm.checkpoint()?;
        Ok(Slot {
            rm,
            model: RwLock::new(model),
            checkpoint: AtomicU64::new(checkpoint),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, P> {
        self.model.read().unwrap_or_else(|p| p.into_inner())
    }

    fn checkpoint(&self) -> u64 {
        self.checkpoint.load(Ordering::Acquire)
    }

    /// Applies the events above the checkpoint and commits them with the new
    /// checkpoint. Returns true when anything was applied. On a failed commit the
    /// in-memory model is reloaded from disk so that memory never runs ahead of it.
    fn apply_batch(&self, events: &[Envelope]) -> Result<bool, ProjectionError> {
        let from = self.checkpoint();
        let mut last = from;
        self.apply_pending(events, &mut last);
        if last == from {
            return Ok(false);
        }
        self.persist(last)?;
        Ok(true)
    }

    /// Applies the events above `*pending` to the in-memory model only (no commit) and
    /// advances `*pending` to the last applied seq. [`Slot::persist`] commits later.
    fn apply_pending(&self, events: &[Envelope], pending: &mut u64) {
        let mut model = self.model.write().unwrap_or_else(|p| p.into_inner());
        let from = *pending;
        for env in events.iter().filter(|e| e.seq > from) {
            model.apply(env);
            *pending = env.seq;
        }
    }

    /// Commits the documents changed since the last commit with checkpoint `last`
    /// (only their final state, however often a document changed in between). On a
    /// failed commit the in-memory model is reloaded from disk.
    fn persist(&self, last: u64) -> Result<(), ProjectionError> {
        let mut model = self.model.write().unwrap_or_else(|p| p.into_inner());
        if last <= self.checkpoint() {
            return Ok(());
        }
        let mut changes = Vec::new();
        let result = model
            .drain(&mut changes)
            .and_then(|()| self.rm.commit(last, changes).map_err(ProjectionError::from));
        match result {
            Ok(()) => {
                self.checkpoint.store(last, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                model.load(&self.rm)?;
                self.checkpoint
                    .store(self.rm.checkpoint()?, Ordering::Release);
                Err(e)
            }
        }
    }

    /// The rebuild worker of this projection: applies the batches from `rx`, commits
    /// every [`REBUILD_COMMIT`] events and at the end, and reports each applied batch's
    /// last seq as `(n, seq)` on `progress`. Returns the seconds spent committing.
    fn rebuild_from(
        &self,
        rx: std::sync::mpsc::Receiver<Arc<Vec<Envelope>>>,
        read: &ReadSide,
        is_board: bool,
        n: usize,
        progress: &std::sync::mpsc::Sender<(usize, u64)>,
    ) -> Result<f64, ProjectionError> {
        let mut pending = self.checkpoint();
        let mut since_commit = 0;
        let mut persisting = Duration::ZERO;
        let mut persist = |pending: u64| -> Result<(), ProjectionError> {
            let t = Instant::now();
            self.persist(pending)?;
            read.announce(is_board);
            persisting += t.elapsed();
            Ok(())
        };
        for batch in rx {
            self.apply_pending(&batch, &mut pending);
            since_commit += batch.len();
            if since_commit >= REBUILD_COMMIT {
                persist(pending)?;
                since_commit = 0;
            }
            let _ = progress.send((n, pending));
        }
        persist(pending)?;
        Ok(persisting.as_secs_f64())
    }

    fn reset(&self, cfg: &ReadSideConfig) -> Result<(), ProjectionError> {
        let mut model = self.model.write().unwrap_or_else(|p| p.into_inner());
        self.rm.clear()?;
        *model = P::new(cfg);
        self.checkpoint.store(0, Ordering::Release);
        Ok(())
    }
}

struct Inner {
    store: Store,
    cfg: ReadSideConfig,
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
        let board = Slot::open(store, &cfg)?;
        let costs = Slot::open(store, &cfg)?;
        let archive = Slot::open(store, &cfg)?;
        let complaints = Slot::open(store, &cfg)?;
        let (applied, _) = tokio::sync::watch::channel(0);
        let (changes, _) = tokio::sync::broadcast::channel(256);
        let read = ReadSide {
            inner: Arc::new(Inner {
                store: store.clone(),
                cfg,
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
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let read = self.clone();
        tokio::spawn(async move {
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

    /// Applies a batch of envelopes (in seq order) to every projection; events at or
    /// below a projection's checkpoint are skipped, so repeating a batch changes
    /// nothing. [`ReadSide::spawn`] calls this; tests and tools may too.
    pub fn apply_batch(&self, batch: &[Envelope]) -> Result<(), ProjectionError> {
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

    /// Clears the named projections (all when `only` is None) and re-applies the log
    /// from seq 1 into them, while this handle keeps answering from the same models.
    pub fn rebuild(
        &self,
        only: Option<&str>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), ProjectionError> {
        self.rebuild_timed(only, progress).map(|_| ())
    }

    /// [`ReadSide::rebuild`], returning where the time went.
    ///
    /// One thread reads (and decodes) the log and hands each batch to one thread per
    /// selected projection; each applies it to its in-memory model and commits its
    /// changed documents once per [`REBUILD_COMMIT`] events and at the end. The
    /// projections are independent, so on two cores they overlap with each other and
    /// with the read. Applying off the calling thread also keeps the allocations it
    /// frees from fragmenting the heap arena of the thread that goes on answering.
    fn rebuild_timed(
        &self,
        only: Option<&str>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RebuildTimes, ProjectionError> {
        let i = &self.inner;
        let names = selected(only)?;
        for name in &names {
            match *name {
                "board" => i.board.reset(&i.cfg)?,
                "costs" => i.costs.reset(&i.cfg)?,
                "archive" => i.archive.reset(&i.cfg)?,
                _ => i.complaints.reset(&i.cfg)?,
            }
        }
        let total = i.store.head().0;
        progress(0, total);
        type Batch = Arc<Vec<Envelope>>;
        type Worker<'s> = std::thread::ScopedJoinHandle<'s, Result<f64, ProjectionError>>;
        std::thread::scope(|scope| {
            let (ptx, prx) = std::sync::mpsc::channel::<(usize, u64)>();
            let mut senders = Vec::new();
            let mut workers: Vec<Worker<'_>> = Vec::new();
            for (n, name) in names.iter().enumerate() {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
                senders.push(tx);
                let ptx = ptx.clone();
                let name = *name;
                workers.push(scope.spawn(move || match name {
                    "board" => i.board.rebuild_from(rx, self, true, n, &ptx),
                    "costs" => i.costs.rebuild_from(rx, self, false, n, &ptx),
                    "archive" => i.archive.rebuild_from(rx, self, false, n, &ptx),
                    _ => i.complaints.rebuild_from(rx, self, false, n, &ptx),
                }));
            }
            drop(ptx);
            let store = i.store.clone();
            let reader: Worker<'_> = scope.spawn(move || {
                let mut from = 1;
                let mut busy = Duration::ZERO;
                while from <= total {
                    let t = Instant::now();
                    let batch: Vec<Envelope> =
                        store.read_all(from, BATCH).collect::<Result<_, _>>()?;
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
                Ok(busy.as_secs_f64())
            });
            let mut done = vec![0u64; names.len()];
            for (n, last) in prx {
                done[n] = last;
                progress(done.iter().copied().min().unwrap_or(0).min(total), total);
            }
            let join = |h: Worker<'_>| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            };
            let mut persisting = 0f64;
            let mut first_err = None;
            for w in workers {
                match join(w) {
                    Ok(p) => persisting = persisting.max(p),
                    Err(e) => first_err = first_err.or(Some(e)),
                }
            }
            let reading = join(reader)?;
            match first_err {
                Some(e) => Err(e),
                None => Ok(RebuildTimes {
                    reading,
                    persisting,
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
struct RebuildTimes {
    /// The log reader thread's time in the store's `read_all` (read and decode).
    reading: f64,
    /// The slowest projection's time encoding changed documents and committing them.
    persisting: f64,
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
    let read = ReadSide::open(store, cfg.clone())?;
    read.rebuild(only, progress)
}

/// Rebuilds every projection of `store` from scratch and measures the rebuild rate
/// and the p99 latency of the board, yearly cost report and customer profile
/// queries. Returns a Markdown report.
pub fn bench_rebuild(store: &Store) -> Result<String, ProjectionError> {
    let cfg = ReadSideConfig::default();
    let read = ReadSide::open(store, cfg)?;
    let total = store.head().0;
    // the store's share: reading and decoding the log alone
    let started = Instant::now();
    let mut from = 1;
    while from <= total {
        let batch: Vec<Envelope> = store.read_all(from, BATCH).collect::<Result<_, _>>()?;
        let Some(last) = batch.last().map(|e| e.seq) else {
            break;
        };
        from = last + 1;
    }
    let read_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let RebuildTimes {
        reading,
        persisting,
    } = read.rebuild_timed(None, &mut |_, _| {})?;
    let secs = started.elapsed().as_secs_f64();
    let rate = total as f64 / secs.max(1e-9);

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
         | reading the log alone (store decode, no projection) | {read_secs:.2} s = {:.0} events/s | — |\n\
         | rebuild, all projections | {secs:.2} s = **{rate:.0} events/s** | ≥ 200,000 events/s |\n\
         | rebuild: log reader thread in `read_all` / slowest projection encoding and committing | {reading:.2} s / {persisting:.2} s of {secs:.2} s | — |\n\
         | board query (p50 / p99) | {:.3} / **{:.3} ms** | p99 < 2 ms |\n\
         | yearly cost report {year}, all dimensions (p50 / p99) | {:.3} / **{:.3} ms** | p99 < 2 ms |\n\
         | customer profile (p50 / p99) | {:.3} / **{:.3} ms** | p99 < 2 ms |\n",
        customers.len(),
        total as f64 / read_secs.max(1e-9),
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
