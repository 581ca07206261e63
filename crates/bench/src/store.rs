//! The store benchmark behind `reception bench store`: durable appends (1 and 64
//! writers) against a raw-sled ceiling, full replay, stream-read latency, disk use.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use reception_store::{
    Actor, AppendError, AppendRequest, CommitStats, Envelope, ExpectedVersion, NewEvent, Store,
    StoreError,
};
use sled::Transactional;

fn io_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

/// The raw-sled ceiling's database, made durable the way the store makes its commits
/// durable: sled's flush, then `fdatasync` of its log file. Without the sync the
/// ceiling would be measured against a weaker guarantee than the store gives.
struct RawDb {
    db: sled::Db,
    log: std::fs::File,
}

impl RawDb {
    fn open(path: &std::path::Path) -> Result<RawDb, StoreError> {
        let db = sled::Config::new().path(path).open().map_err(io_err)?;
        let log =
            std::fs::File::open(path.join("db")).map_err(|e| StoreError::Io(e.to_string()))?;
        Ok(RawDb { db, log })
    }

    /// sled's flush plus the sync the store does after it.
    fn flush(&self) -> sled::Result<usize> {
        let n = self.db.flush()?;
        self.log.sync_data()?;
        Ok(n)
    }
}

impl std::ops::Deref for RawDb {
    type Target = sled::Db;
    fn deref(&self) -> &sled::Db {
        &self.db
    }
}

/// Sizes of one benchmark run.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Sequential single-event appends by one writer.
    pub single_writer_events: u64,
    /// Concurrent writer threads.
    pub writers: u64,
    /// Single-event appends per concurrent writer.
    pub events_per_writer: u64,
    /// Raw sled: events written one transaction + one flush each.
    pub raw_single_events: u64,
    /// Raw sled: batches of 100 events, one transaction + one flush each.
    pub raw_batches: u64,
    /// Events in the log for the replay measurement.
    pub replay_events: u64,
    /// Reads of one 30-event stream for the latency percentiles.
    pub stream_reads: u64,
    /// Interleaved rounds of the group-commit rows and their raw ceilings (medians reported).
    pub rounds: u64,
}

impl BenchConfig {
    /// The workload with `replay_events` events replayed.
    pub fn standard(replay_events: u64) -> BenchConfig {
        BenchConfig {
            single_writer_events: 2_000,
            writers: 64,
            events_per_writer: 500,
            raw_single_events: 2_000,
            raw_batches: 300,
            replay_events,
            stream_reads: 2_000,
            rounds: 3,
        }
    }
}

/// Runs [`BenchConfig::standard`] in `dir` (which must be empty or missing) and
/// returns the results as a markdown table.
pub fn run(dir: &Path, replay_events: u64) -> Result<String, StoreError> {
    run_with(dir, &BenchConfig::standard(replay_events))
}

fn append_err(e: AppendError) -> StoreError {
    match e {
        AppendError::Store(e) => e,
        other => StoreError::Io(format!("benchmark append failed: {other}")),
    }
}

/// A ~300-byte payload.
fn payload(i: u64) -> serde_json::Value {
    serde_json::json!({
        "visit_id": uuid::Uuid::now_v7(),
        "customer": "Zhejiang Example Machinery Co., Ltd.",
        "headcount": 6,
        "level": "B",
        "amount_fen": 1_280_000 + i,
        "note": "Delegation of six arriving on the morning train; lunch at the canteen, plant tour afterwards.",
        "host": "li.na",
    })
}

fn new_event(i: u64) -> NewEvent {
    NewEvent {
        id: uuid::Uuid::now_v7(),
        event_type: "ReceptionRequested".into(),
        schema: 1,
        data: payload(i),
        occurred_at: None,
        actor: Actor {
            user: "li.na".into(),
            role: "reception".into(),
        },
        correlation_id: uuid::Uuid::now_v7(),
        causation_id: uuid::Uuid::now_v7(),
    }
}

fn single(stream: String, i: u64) -> AppendRequest {
    AppendRequest {
        stream,
        expected: ExpectedVersion::Any,
        events: vec![new_event(i)],
        idempotency: None,
    }
}

struct Row {
    what: String,
    events: u64,
    took: Duration,
    /// The store's group commits during the row (store rows only).
    commits: Option<CommitStats>,
}

/// Runs a store row and notes the group commits it caused.
fn with_commits(
    store: &Store,
    f: impl FnOnce() -> Result<Row, StoreError>,
) -> Result<Row, StoreError> {
    let before = store.commit_stats();
    let mut row = f()?;
    let after = store.commit_stats();
    row.commits = Some(CommitStats {
        batches: after.batches - before.batches,
        events: after.events - before.events,
        records: after.records - before.records,
    });
    Ok(row)
}

impl Row {
    fn rate(&self) -> f64 {
        self.events as f64 / self.took.as_secs_f64()
    }
}

/// `/proc/loadavg`'s three load averages, for the report (other work on the machine
/// moves every figure).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// 64 writer threads, durable single-event appends (group commit); each thread builds
/// its requests first, then all start together.
fn store_threads(store: &Store, cfg: &BenchConfig) -> Result<Row, StoreError> {
    let ready = std::sync::Arc::new(std::sync::Barrier::new(cfg.writers as usize + 1));
    let handles: Vec<_> = (0..cfg.writers)
        .map(|w| {
            let store = store.clone();
            let ready = ready.clone();
            let n = cfg.events_per_writer;
            std::thread::spawn(move || -> Result<(), StoreError> {
                let requests: Vec<_> = (0..n)
                    .map(|i| single(format!("bench-writer-{w}"), i))
                    .collect();
                ready.wait();
                for r in requests {
                    store.append_blocking(r).map_err(append_err)?;
                }
                Ok(())
            })
        })
        .collect();
    ready.wait();
    let start = Instant::now();
    for h in handles {
        h.join()
            .map_err(|_| StoreError::Io("a benchmark writer panicked".into()))??;
    }
    Ok(Row {
        what: format!("store, {} writers, single-event appends", cfg.writers),
        events: cfg.writers * cfg.events_per_writer,
        took: start.elapsed(),
        commits: None,
    })
}

/// The same writers as tokio tasks on a 2-thread runtime, each awaiting `append`: the
/// shape of the service, whose writers are request handlers, not OS threads (64 blocked
/// OS threads on a small machine add a context switch per append).
fn store_tasks(store: &Store, cfg: &BenchConfig) -> Result<Row, StoreError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| StoreError::Io(format!("cannot start a runtime: {e}")))?;
    let requests: Vec<Vec<_>> = (0..cfg.writers)
        .map(|w| {
            (0..cfg.events_per_writer)
                .map(|i| single(format!("bench-task-{w}"), i))
                .collect()
        })
        .collect();
    let start = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|requests| {
                let store = store.clone();
                tokio::spawn(async move {
                    for r in requests {
                        store.append(r).await.map_err(append_err)?;
                    }
                    Ok::<(), StoreError>(())
                })
            })
            .collect();
        for t in tasks {
            t.await
                .map_err(|_| StoreError::Io("a benchmark task panicked".into()))??;
        }
        Ok::<(), StoreError>(())
    })?;
    Ok(Row {
        what: format!(
            "store, {} async writers (tokio tasks), single-event appends",
            cfg.writers
        ),
        events: cfg.writers * cfg.events_per_writer,
        took: start.elapsed(),
        commits: None,
    })
}

/// The ceiling: batches of 100 stored envelopes, one transaction + one flush each.
fn raw_transactions(
    raw: &RawDb,
    tree: &sled::Tree,
    sample: &sled::IVec,
    key: &mut u64,
    cfg: &BenchConfig,
) -> Result<Row, StoreError> {
    let start = Instant::now();
    for _ in 0..cfg.raw_batches {
        let mut batch = sled::Batch::default();
        for _ in 0..100 {
            *key += 1;
            batch.insert(&key.to_be_bytes(), sample.clone());
        }
        (tree,)
            .transaction(|(t,)| {
                t.apply_batch(&batch)?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| StoreError::Io(format!("{e:?}")))?;
        raw.flush().map_err(io_err)?;
    }
    Ok(Row {
        what: "raw sled, 100 events per transaction + flush".into(),
        events: cfg.raw_batches * 100,
        took: start.elapsed(),
        commits: None,
    })
}

/// The same without a transaction: one `apply_batch` + one flush per batch, which is
/// how the store itself commits.
fn raw_apply_batches(
    raw: &RawDb,
    tree: &sled::Tree,
    sample: &sled::IVec,
    key: &mut u64,
    cfg: &BenchConfig,
) -> Result<Row, StoreError> {
    let start = Instant::now();
    for _ in 0..cfg.raw_batches {
        let mut batch = sled::Batch::default();
        for _ in 0..100 {
            *key += 1;
            batch.insert(&key.to_be_bytes(), sample.clone());
        }
        tree.apply_batch(batch).map_err(io_err)?;
        raw.flush().map_err(io_err)?;
    }
    Ok(Row {
        what: "raw sled, 100 events per apply_batch + flush".into(),
        events: cfg.raw_batches * 100,
        took: start.elapsed(),
        commits: None,
    })
}

/// The store's own key layout (format 3) in raw sled: per batch its envelopes as log
/// records (cut as the store cuts them) and one head record, per event a stream index entry (one stream per
/// writer), batches of `writers` (what that many single-event writers can form at
/// most), one apply_batch + one flush each: the ceiling of this layout on sled,
/// whatever the store's own overhead.
fn raw_store_layout(
    raw: &RawDb,
    tree: &sled::Tree,
    sample: &sled::IVec,
    (seq, version): (&mut u64, &mut u64),
    cfg: &BenchConfig,
) -> Result<Row, StoreError> {
    let writers = cfg.writers.max(1);
    let batches = cfg.raw_batches * 100 / writers;
    let names: Vec<String> = (0..writers).map(|w| format!("bench-writer-{w}")).collect();
    let start = Instant::now();
    for _ in 0..batches {
        *version += 1;
        let mut batch = sled::Batch::default();
        let envelopes: Vec<(u64, &[u8])> =
            (1..=writers).map(|i| (*seq + i, sample.as_ref())).collect();
        let index: Vec<(&str, u64, u64)> = (0..writers)
            .map(|w| (names[w as usize].as_str(), *version, *seq + w + 1))
            .collect();
        for (key, value) in reception_store::raw::commit_records(&envelopes, &index) {
            batch.insert(key, value);
        }
        *seq += writers;
        tree.apply_batch(batch).map_err(io_err)?;
        raw.flush().map_err(io_err)?;
    }
    Ok(Row {
        what: format!(
            "raw sled, store key layout (log records + an index entry per event), {writers} per apply_batch + flush"
        ),
        events: batches * writers,
        took: start.elapsed(),
        commits: None,
    })
}

/// The row with the median rate.
fn median(mut rows: Vec<Row>) -> Row {
    rows.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    let mid = rows.len() / 2;
    rows.swap_remove(mid)
}

/// Each round's rate of each interleaved row, for the report.
fn rounds_table(rows: &[&Vec<Row>]) -> String {
    let mut out = String::new();
    for r in rows {
        let rates: Vec<String> = r.iter().map(|r| format!("{:.0}", r.rate())).collect();
        if let Some(first) = r.first() {
            let _ = writeln!(out, "- {}: {} events/s", first.what, rates.join(", "));
        }
    }
    out
}

/// Runs the benchmark with explicit sizes.
pub fn run_with(dir: &Path, cfg: &BenchConfig) -> Result<String, StoreError> {
    let load_before = load_average();
    let store = Store::open(dir.join("store"))?;
    // signed as `reception serve` signs: the figures include the writer's signatures
    let key = reception_store::signing::Signer::generate().map_err(StoreError::Io)?;
    let actor = reception_store::Actor {
        user: "bench".into(),
        role: "system".into(),
    };
    store.use_signer_blocking(key, actor).map_err(append_err)?;
    let one = single_writer(&store, cfg)?;

    // A stored envelope as the raw-sled value, so both write the same bytes.
    let last = store.head().0;
    let sample: sled::IVec = store
        .stored_envelopes(last..=last)
        .next()
        .ok_or(StoreError::Io("no event written".into()))??
        .1
        .into();

    // Raw sled ceiling.
    let raw = RawDb::open(&dir.join("raw"))?;
    let raw_log = raw.open_tree("log").map_err(io_err)?;
    let mut key = 0u64;
    let raw_one = raw_single(&raw, &raw_log, &sample, &mut key, cfg)?;
    let rounds = group_commit_rounds(&store, &raw, &raw_log, &sample, &mut key, cfg)?;
    let (fill, streams) = fill(&store, cfg)?;
    let total = store.head().0;
    let (replay, raw_replay) = replays(&store, &raw, total)?;
    let lat = stream_latencies(&store, cfg, streams)?;

    store.flush()?;
    let disk = store.size_on_disk()?;
    let raw_disk = raw.size_on_disk().map_err(io_err)?;
    let verify_start = Instant::now();
    let verified = store.verify()?;
    let verify_took = verify_start.elapsed();
    store.close()?;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "Machine: {} CPUs; load average (1, 5, 15 min) at start {load_before}, at end {}.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
    );
    let _ = writeln!(
        out,
        "Stored envelope: {} bytes (payload ~300 bytes, Ed25519-signed). Log: {total} events.\n",
        sample.len()
    );
    table(
        &mut out,
        [&one, &raw_one],
        &rounds,
        [&fill, &replay, &raw_replay],
    );
    footnotes(&mut out, cfg, &rounds, &lat);
    let _ = writeln!(
        out,
        "Disk: store {:.1} MB for {total} events = {:.0} bytes/event (log, stream index, registry, meta: one tree); raw sled dir {:.1} MB.\n",
        disk as f64 / 1e6,
        disk as f64 / total.max(1) as f64,
        raw_disk as f64 / 1e6,
    );
    let _ = writeln!(
        out,
        "verify() of {} events: {:.2} s, ok = {}.",
        verified.events_checked,
        verify_took.as_secs_f64(),
        verified.ok
    );
    Ok(out)
}

/// 1 writer, durable single-event appends. The requests (event ids, payload) are built
/// before the clock starts, as the raw rows get their bytes ready-made: what is timed
/// is the store (validation, encoding, hashing, commit, answer).
fn single_writer(store: &Store, cfg: &BenchConfig) -> Result<Row, StoreError> {
    let requests: Vec<_> = (0..cfg.single_writer_events)
        .map(|i| single("bench-single".into(), i))
        .collect();
    let start = Instant::now();
    for r in requests {
        store.append_blocking(r).map_err(append_err)?;
    }
    Ok(Row {
        what: "store, 1 writer, single-event appends".into(),
        events: cfg.single_writer_events,
        took: start.elapsed(),
        commits: None,
    })
}

/// Raw sled, one event per transaction + flush.
fn raw_single(
    raw: &RawDb,
    raw_log: &sled::Tree,
    sample: &sled::IVec,
    key: &mut u64,
    cfg: &BenchConfig,
) -> Result<Row, StoreError> {
    let start = Instant::now();
    for _ in 0..cfg.raw_single_events {
        *key += 1;
        let k = key.to_be_bytes();
        (raw_log,)
            .transaction(|(t,)| {
                t.insert(&k, sample.clone())?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| StoreError::Io(format!("{e:?}")))?;
        raw.flush().map_err(io_err)?;
    }
    Ok(Row {
        what: "raw sled, 1 event per transaction + flush".into(),
        events: cfg.raw_single_events,
        took: start.elapsed(),
        commits: None,
    })
}

/// The group-commit rows and their raw ceilings: the median of each, and each round's
/// rates for the report.
struct Rounds {
    many: Row,
    many_async: Row,
    raw_batch: Row,
    raw_apply: Row,
    raw_layout: Row,
    table: String,
}

/// The group-commit rows and their raw ceilings, interleaved over several rounds in the
/// same run (the median of each is reported): on a shared machine one round of a row
/// can land in a busy moment and the other in a quiet one.
fn group_commit_rounds(
    store: &Store,
    raw: &RawDb,
    raw_log: &sled::Tree,
    sample: &sled::IVec,
    key: &mut u64,
    cfg: &BenchConfig,
) -> Result<Rounds, StoreError> {
    let layout = raw.open_tree("layout").map_err(io_err)?;
    let mut layout_seq = 0u64;
    let mut layout_version = 0u64;
    let (mut many, mut many_async, mut raw_batch, mut raw_apply, mut raw_layout) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..cfg.rounds.max(1) {
        many.push(with_commits(store, || store_threads(store, cfg))?);
        many_async.push(with_commits(store, || store_tasks(store, cfg))?);
        raw_batch.push(raw_transactions(raw, raw_log, sample, key, cfg)?);
        raw_apply.push(raw_apply_batches(raw, raw_log, sample, key, cfg)?);
        raw_layout.push(raw_store_layout(
            raw,
            &layout,
            sample,
            (&mut layout_seq, &mut layout_version),
            cfg,
        )?);
    }
    let table = rounds_table(&[&many, &many_async, &raw_batch, &raw_apply, &raw_layout]);
    let [many, many_async, raw_batch, raw_apply, raw_layout] =
        [many, many_async, raw_batch, raw_apply, raw_layout].map(median);
    Ok(Rounds {
        many,
        many_async,
        raw_batch,
        raw_apply,
        raw_layout,
        table,
    })
}

/// Fills the log to `replay_events` with 30-event streams, several appenders at once;
/// returns the row and the number of 30-event streams.
fn fill(store: &Store, cfg: &BenchConfig) -> Result<(Row, u64), StoreError> {
    let fill_start = Instant::now();
    let have = store.head().0;
    let todo = cfg.replay_events.saturating_sub(have);
    let streams = todo / 30;
    let fillers = 4u64;
    let handles: Vec<_> = (0..fillers)
        .map(|f| {
            let store = store.clone();
            std::thread::spawn(move || -> Result<(), StoreError> {
                let mut s = f;
                while s < streams {
                    let events = (0..30).map(new_event).collect();
                    let req = AppendRequest {
                        stream: format!("visit-{s:08}"),
                        expected: ExpectedVersion::NoStream,
                        events,
                        idempotency: None,
                    };
                    store.append_blocking(req).map_err(append_err)?;
                    s += fillers;
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join()
            .map_err(|_| StoreError::Io("a benchmark filler panicked".into()))??;
    }
    let rest = todo - streams * 30;
    if rest > 0 {
        let events = (0..rest).map(new_event).collect();
        store
            .append_blocking(AppendRequest {
                stream: "bench-rest".into(),
                expected: ExpectedVersion::Any,
                events,
                idempotency: None,
            })
            .map_err(append_err)?;
    }
    let fill = Row {
        what: "fill: 30-event appends, 4 writers".into(),
        events: todo,
        took: fill_start.elapsed(),
        commits: None,
    };
    Ok((fill, streams))
}

/// The store's replay (`read_all`: parse + upcast hook) against raw sled iteration +
/// parse of the same stored bytes, copied into a fresh raw tree first.
fn replays(store: &Store, raw: &RawDb, total: u64) -> Result<(Row, Row), StoreError> {
    let raw_replay = raw.open_tree("replay").map_err(io_err)?;
    let mut batch = sled::Batch::default();
    let mut n = 0;
    // (one key per envelope, as a plain log would keep them)
    for kv in store.stored_envelopes(1..=total) {
        let (seq, v) = kv?;
        batch.insert(&seq.to_be_bytes(), v);
        n += 1;
        if n % 10_000 == 0 {
            raw_replay
                .apply_batch(std::mem::take(&mut batch))
                .map_err(io_err)?;
        }
    }
    raw_replay.apply_batch(batch).map_err(io_err)?;
    raw.flush().map_err(io_err)?;

    let start = Instant::now();
    let mut count = 0u64;
    for env in store.read_all(1, usize::MAX) {
        let env = env?;
        count += u64::from(env.seq > 0);
    }
    let replay = Row {
        what: "replay, store read_all (deserialise envelopes)".into(),
        events: count,
        took: start.elapsed(),
        commits: None,
    };
    let start = Instant::now();
    let mut count = 0u64;
    for kv in raw_replay.iter() {
        let (_, v) = kv.map_err(io_err)?;
        let env: Envelope =
            serde_json::from_slice(&v).map_err(|e| StoreError::Io(e.to_string()))?;
        count += u64::from(env.seq > 0);
    }
    let raw_replay_row = Row {
        what: "replay, raw sled iter + serde_json".into(),
        events: count,
        took: start.elapsed(),
        commits: None,
    };
    Ok((replay, raw_replay_row))
}

/// Latencies of reading one random 30-event stream, sorted.
fn stream_latencies(
    store: &Store,
    cfg: &BenchConfig,
    streams: u64,
) -> Result<Vec<Duration>, StoreError> {
    let mut lat = Vec::with_capacity(cfg.stream_reads as usize);
    if streams > 0 {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..cfg.stream_reads {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s = x % streams;
            let name = format!("visit-{s:08}");
            let start = Instant::now();
            let events: Vec<_> = store
                .read_stream(&name, 1, None)
                .collect::<Result<_, _>>()?;
            lat.push(start.elapsed());
            if events.len() != 30 {
                return Err(StoreError::Io(format!(
                    "stream {name} has {} events, not 30",
                    events.len()
                )));
            }
        }
        lat.sort_unstable();
    }
    Ok(lat)
}

/// The table of every row, with each row's ratio to its ceiling and its target.
fn table(
    out: &mut String,
    [one, raw_one]: [&Row; 2],
    r: &Rounds,
    [fill, replay, raw_replay]: [&Row; 3],
) {
    let Rounds {
        many,
        many_async,
        raw_batch,
        raw_apply,
        raw_layout,
        ..
    } = r;
    let _ = writeln!(
        out,
        "| measurement | events | seconds | events/s | ratio | target |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|");
    let ceiling = raw_batch.rate();
    let row = |out: &mut String, r: &Row, ratio: Option<(f64, &str)>, target: &str| {
        let ratio = ratio
            .map(|(v, of)| format!("{:.0}% of {of}", v * 100.0))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {:.3} | {:.0} | {} | {} |",
            r.what,
            r.events,
            r.took.as_secs_f64(),
            r.rate(),
            ratio,
            target
        );
    };
    row(
        out,
        one,
        Some((one.rate() / raw_one.rate(), "raw 1/flush")),
        "",
    );
    row(
        out,
        many,
        Some((many.rate() / ceiling, "raw batch")),
        ">= 50% of raw batch",
    );
    let _ = writeln!(
        out,
        "| (same, against raw apply_batch) | | | | {:.0}% of raw apply_batch | |",
        many.rate() / raw_apply.rate() * 100.0
    );
    row(
        out,
        many_async,
        Some((many_async.rate() / ceiling, "raw batch")),
        ">= 50% of raw batch",
    );
    row(out, raw_one, None, "ceiling (1 per flush)");
    row(out, raw_batch, None, "ceiling (batch)");
    row(out, raw_apply, None, "");
    row(
        out,
        raw_layout,
        Some((raw_layout.rate() / ceiling, "raw batch")),
        "ceiling of the store's layout",
    );
    row(out, fill, Some((fill.rate() / ceiling, "raw batch")), "");
    row(
        out,
        replay,
        Some((replay.rate() / raw_replay.rate(), "raw replay")),
        ">= 60% of raw replay",
    );
    row(out, raw_replay, None, "ceiling (replay)");
}

/// The rounds, the group commits and the stream-read latencies under the table.
fn footnotes(out: &mut String, cfg: &BenchConfig, r: &Rounds, lat: &[Duration]) {
    let _ = writeln!(
        out,
        "\nGroup-commit rows and their ceilings are the median of {} interleaved rounds; each round:\n\n{}",
        cfg.rounds.max(1),
        r.table
    );
    for r in [&r.many, &r.many_async] {
        if let Some(c) = r.commits.filter(|c| c.batches > 0) {
            let _ = writeln!(
                out,
                "{}: {} events in {} group commits = {:.1} events per commit, {:.1} per log record.\n",
                r.what,
                c.events,
                c.batches,
                c.events as f64 / c.batches as f64,
                c.events as f64 / c.records.max(1) as f64,
            );
        }
    }
    if !lat.is_empty() {
        let _ = writeln!(
            out,
            "Reading one 30-event stream ({} reads): p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, max {:.1} µs (target p99 < 1 ms).\n",
            lat.len(),
            percentile(lat, 0.5).as_secs_f64() * 1e6,
            percentile(lat, 0.9).as_secs_f64() * 1e6,
            percentile(lat, 0.99).as_secs_f64() * 1e6,
            lat[lat.len() - 1].as_secs_f64() * 1e6,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_produces_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = BenchConfig {
            single_writer_events: 20,
            writers: 4,
            events_per_writer: 10,
            raw_single_events: 20,
            raw_batches: 2,
            replay_events: 400,
            stream_reads: 20,
            rounds: 2,
        };
        let table = run_with(dir.path(), &cfg).unwrap();
        for needle in [
            "1 writer",
            "4 writers",
            "4 async writers",
            "store key layout",
            "raw sled, 100 events",
            "replay, store",
            "p99",
            "bytes/event",
            "ok = true",
        ] {
            assert!(table.contains(needle), "missing {needle} in\n{table}");
        }
        assert!(table.contains("Log: 400 events"), "{table}");
        println!("{table}");
    }
}
