//! The replica consumer: a durable pull consumer on the stream that extends a read node's
//! local log with every envelope that continues its hash chain, and refuses the rest.
//!
//! # Ordering, gaps and recovery
//!
//! The local log's head is the truth: a message whose envelope seq is `<= head` is an old
//! one (checked to be identical, then skipped), `head + 1` is appended through the store's
//! replica path (which checks the seq, the `prev_hash` link and the hash), and anything
//! further ahead is a gap. The messages that have arrived together are applied as one run
//! with [`Store::append_replicated_batch_async`]: one durable commit for the whole run, so
//! the replica keeps up with a steady write load.
//!
//! A gap is usually transient: when NATS restarts while the relay has acks in flight, the
//! relay republishes from its cursor and a lost message can land in the stream *after*
//! later ones. So a message ahead of the head is held (not applied) in a bounded reorder
//! window and applied as soon as the chain reaches it. If the gap is not filled within
//! [`ReplicaConfig::gap_timeout`], it is reported (error log,
//! `reception_replica_rejected_total`, [`ReplicaState::Gap`] in the status) and the
//! replica refetches: it recreates its durable consumer with
//! `DeliverPolicy::ByStartSequence` at its resume point (the stream sequence of the oldest
//! message not yet applied) and tries again, for as long as the gap lasts.
//!
//! A message that cannot be applied at its place (bad hash, broken link, not an
//! envelope, a different event at an already applied seq) is refused: never applied,
//! terminated on the consumer (`AckKind::Term`), counted and shown in
//! [`ReplicaStatus::last_rejection`].
//!
//! The resume point is kept in the read model `nats-replica` of the local store, so a
//! restarted replica resumes where it stopped; a new replica starts from the start of the
//! stream.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, AckKind};
use futures::StreamExt;
use reception_store::{Envelope, ReadModel, ReplicateError, Store};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::stream::ensure_stream;
use crate::{Backoff, NatsError, StreamSettings};

const RESUME_KEY: &[u8] = b"resume_stream_seq";

/// Configuration of a replica.
#[derive(Debug, Clone)]
pub struct ReplicaConfig {
    /// NATS server URL(s).
    pub url: String,
    /// Credentials and TLS towards NATS.
    pub auth: crate::NatsAuth,
    /// The stream to consume.
    pub stream: StreamSettings,
    /// Durable consumer name, unique per replica (see [`default_consumer_name`]).
    pub consumer: String,
    /// How long a gap may stay open before it is reported and refetched (default 5 s).
    pub gap_timeout: Duration,
    /// Most out-of-order messages held while waiting for a gap to fill (default 10,000).
    pub max_held: usize,
    /// How often the stream's last sequence is polled for the lag (default 1 s).
    pub poll_interval: Duration,
    /// Delay between reconnect attempts.
    pub backoff: Backoff,
    /// Name of the read model that keeps the resume point (default `nats-replica`).
    pub resume_name: String,
    /// Where a gap JetStream cannot fill is fetched from (the write node's feed).
    pub heal: Option<HealSource>,
}

/// The write node's HTTP feed (`GET /api/v1/events`) and a token that may read it
/// (auditor or admin).
#[derive(Debug, Clone)]
pub struct HealSource {
    /// Base URL, e.g. `http://writer:8080`.
    pub base: String,
    pub token: String,
}

impl ReplicaConfig {
    /// Defaults for everything but the URL and the consumer name.
    pub fn new(url: impl Into<String>, consumer: impl Into<String>) -> Self {
        ReplicaConfig {
            url: url.into(),
            auth: crate::NatsAuth::default(),
            stream: StreamSettings::default(),
            consumer: consumer.into(),
            gap_timeout: Duration::from_secs(5),
            max_held: 10_000,
            poll_interval: Duration::from_secs(1),
            backoff: Backoff::default(),
            resume_name: "nats-replica".to_string(),
            heal: None,
        }
    }
}

/// `replica-<hostname>`, with characters a consumer name cannot hold replaced by `_`.
pub fn default_consumer_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("replica-{host}")
}

/// What the replica is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReplicaState {
    /// Not (yet) connected to JetStream.
    Connecting,
    /// Applying the stream in order.
    Following,
    /// Waiting for `expected`; the next message available is `got`. Reported after the
    /// gap timeout; the replica keeps refetching.
    Gap { expected: u64, got: u64 },
}

/// A refused message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The envelope's seq, when it parsed.
    pub seq: Option<u64>,
    /// Its position in the JetStream stream.
    pub stream_seq: u64,
    /// Why it was refused.
    pub reason: String,
}

/// A snapshot of the replica's progress, for `/readyz` and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicaStatus {
    /// Head of the local log.
    pub head: u64,
    /// Highest envelope seq known to be in the stream.
    pub stream_last: u64,
    /// `stream_last - head`.
    pub lag: u64,
    /// What the replica is doing.
    #[serde(flatten)]
    pub state: ReplicaState,
    /// Refused messages and reported gaps since start.
    pub rejected: u64,
    /// The most recent refusal.
    pub last_rejection: Option<Rejection>,
    /// Last connection error (cleared on reconnect).
    pub last_error: Option<String>,
}

struct Shared {
    store: Store,
    stream_last: AtomicU64,
    rejected: AtomicU64,
    connected: AtomicBool,
    state: Mutex<ReplicaState>,
    last_rejection: Mutex<Option<Rejection>>,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    fn set<T>(m: &Mutex<T>, v: T) {
        if let Ok(mut g) = m.lock() {
            *g = v;
        }
    }

    fn reject(&self, r: Rejection) {
        tracing::error!(seq = ?r.seq, stream_seq = r.stream_seq, reason = %r.reason, "nats replica: message refused");
        self.rejected.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("reception_replica_rejected_total").increment(1);
        Shared::set(&self.last_rejection, Some(r));
    }
}

/// The replica consumer. Start it with [`Replica::spawn`].
pub struct Replica;

/// Handle on a running replica: status getters and shutdown.
pub struct ReplicaHandle {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Replica {
    /// Starts the replica in the background on the current tokio runtime: it connects
    /// (retrying with backoff), creates or checks the stream, (re)creates its durable pull
    /// consumer at its resume point and applies the stream to `store`.
    ///
    /// Fails only when the resume point's read model cannot be read.
    ///
    /// ```no_run
    /// # async fn f(store: reception_store::Store) -> Result<(), reception_nats::NatsError> {
    /// use reception_nats::{Replica, ReplicaConfig};
    /// let cfg = ReplicaConfig::new("nats://127.0.0.1:4222", "replica-branch-7");
    /// let replica = Replica::spawn(store, cfg)?;
    /// println!("{:?}", replica.status());
    /// replica.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn spawn(store: Store, cfg: ReplicaConfig) -> Result<ReplicaHandle, NatsError> {
        let rm = store.read_model(&cfg.resume_name)?;
        let resume = match rm.get(RESUME_KEY)? {
            Some(b) if b.len() == 8 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(&b);
                u64::from_be_bytes(a)
            }
            _ => 1,
        };
        let head = store.head().0;
        let shared = Arc::new(Shared {
            store,
            stream_last: AtomicU64::new(head),
            rejected: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            state: Mutex::new(ReplicaState::Connecting),
            last_rejection: Mutex::new(None),
            last_error: Mutex::new(None),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(shared.clone(), cfg, rm, resume.max(1), stop_rx));
        Ok(ReplicaHandle { shared, stop, task })
    }
}

impl ReplicaHandle {
    /// Head of the local log.
    pub fn head(&self) -> u64 {
        self.shared.store.head().0
    }

    /// Sequences in the stream not yet applied locally.
    pub fn lag(&self) -> u64 {
        self.shared
            .stream_last
            .load(Ordering::Acquire)
            .saturating_sub(self.head())
    }

    /// Whether the consumer is currently connected.
    pub fn connected(&self) -> bool {
        self.shared.connected.load(Ordering::Acquire)
    }

    /// A snapshot of the replica's progress.
    pub fn status(&self) -> ReplicaStatus {
        let head = self.head();
        let stream_last = self.shared.stream_last.load(Ordering::Acquire).max(head);
        ReplicaStatus {
            head,
            stream_last,
            lag: stream_last - head,
            state: self
                .shared
                .state
                .lock()
                .map(|g| g.clone())
                .unwrap_or(ReplicaState::Connecting),
            rejected: self.shared.rejected.load(Ordering::Acquire),
            last_rejection: self
                .shared
                .last_rejection
                .lock()
                .ok()
                .and_then(|g| g.clone()),
            last_error: self.shared.last_error.lock().ok().and_then(|g| g.clone()),
        }
    }

    /// Stops consuming, writes the resume point and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Kills the task without writing the resume point (what a crash does); for tests.
    pub fn abort(self) {
        self.task.abort();
    }
}

/// How a session ended.
enum End {
    Stop,
    Refetch,
}

/// The replica's position: what is applied and which stream messages are held.
struct Follower {
    head: u64,
    /// Envelopes ahead of the head, by seq; several candidates may claim one seq.
    held: BTreeMap<u64, Vec<(Envelope, u64)>>,
    held_count: usize,
    /// Stream seq of the last message handled (applied, skipped, refused or held).
    last_stream_seq: u64,
    gap_since: Option<Instant>,
    reported_gap: Option<(u64, u64)>,
}

impl Follower {
    /// Stream seq from which a new consumer must start so that nothing unapplied is lost.
    fn resume(&self) -> u64 {
        let held_min = self.held.values().flatten().map(|(_, s)| *s).min();
        held_min.unwrap_or(self.last_stream_seq + 1)
    }
}

async fn run(
    shared: Arc<Shared>,
    cfg: ReplicaConfig,
    rm: ReadModel,
    resume: u64,
    mut stop: watch::Receiver<bool>,
) {
    let mut resume = resume;
    let mut saved = resume;
    // A gap already reported is not counted again by the next session's refetch.
    let mut reported_gap = None;
    let mut attempt = 0u32;
    loop {
        if *stop.borrow() {
            break;
        }
        let mut f = Follower {
            head: shared.store.head().0,
            held: BTreeMap::new(),
            held_count: 0,
            last_stream_seq: resume - 1,
            gap_since: None,
            reported_gap,
        };
        let outcome = session(&shared, &cfg, &rm, &mut f, &mut saved, &mut stop).await;
        shared.connected.store(false, Ordering::Release);
        let before = resume;
        resume = f.resume();
        reported_gap = f.reported_gap;
        let delay = match outcome {
            Ok(End::Stop) => break,
            Ok(End::Refetch) => {
                if let (Some(source), Some((_, got))) = (&cfg.heal, reported_gap) {
                    heal_gap(&shared, source, got).await;
                }
                cfg.backoff.delay(attempt.min(3))
            }
            Err(e) => {
                tracing::warn!(error = %e, "nats replica: disconnected");
                Shared::set(&shared.last_error, Some(e.to_string()));
                Shared::set(&shared.state, ReplicaState::Connecting);
                cfg.backoff.delay(attempt)
            }
        };
        attempt = if resume > before {
            0
        } else {
            attempt.saturating_add(1)
        };
        let _ = save_resume(&shared, &rm, resume, &mut saved).await;
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => {}
        }
    }
    let _ = save_resume(&shared, &rm, resume, &mut saved).await;
}

/// Fills the local log up to `got - 1` from the write node's feed: a gap JetStream
/// cannot fill (a message lost by the server, or removed by limits) would otherwise
/// stop the replica for good. Each envelope still passes the store's replica checks
/// (seq, `prev_hash` link, recomputed hash), so the feed is trusted for nothing.
async fn heal_gap(shared: &Shared, source: &HealSource, got: u64) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build();
    let Ok(client) = client else { return };
    loop {
        let head = shared.store.head().0;
        if head + 1 >= got {
            return;
        }
        let url = format!(
            "{}/api/v1/events?after={head}&limit={}",
            source.base.trim_end_matches('/'),
            (got - head - 1).min(1_000)
        );
        let fetched = fetch_feed(&client, &url, &source.token).await;
        let envs = match fetched {
            Ok(envs) if !envs.is_empty() => envs,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, %url, "nats replica: cannot fetch the gap from the write node");
                Shared::set(&shared.last_error, Some(format!("healing the gap: {e}")));
                return;
            }
        };
        let envs: Vec<Envelope> = envs.into_iter().filter(|e| e.seq < got).collect();
        let n = envs.len();
        match shared.store.append_replicated_batch_async(envs).await {
            Ok(applied) => {
                metrics::counter!("reception_replica_healed_total").increment(applied as u64);
                tracing::warn!(
                    from = head + 1,
                    applied,
                    "nats replica: filled a gap from the write node's feed"
                );
                if n == 0 {
                    return;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "nats replica: the write node's events do not continue the chain");
                Shared::set(&shared.last_error, Some(format!("healing the gap: {e}")));
                return;
            }
        }
    }
}

async fn fetch_feed(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<Vec<Envelope>, String> {
    #[derive(serde::Deserialize)]
    struct Page {
        events: Vec<Envelope>,
    }
    let res = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("the write node answered {}", res.status()));
    }
    res.json::<Page>()
        .await
        .map(|p| p.events)
        .map_err(|e| e.to_string())
}

async fn save_resume(
    shared: &Shared,
    rm: &ReadModel,
    resume: u64,
    saved: &mut u64,
) -> Result<(), NatsError> {
    if resume == *saved {
        return Ok(());
    }
    let rm = rm.clone();
    let head = shared.store.head().0;
    tokio::task::spawn_blocking(move || {
        rm.commit(
            head,
            vec![(RESUME_KEY.to_vec(), Some(resume.to_be_bytes().to_vec()))],
        )
    })
    .await
    .map_err(|e| NatsError::js("resume write", e))??;
    *saved = resume;
    Ok(())
}

async fn session(
    shared: &Arc<Shared>,
    cfg: &ReplicaConfig,
    rm: &ReadModel,
    f: &mut Follower,
    saved: &mut u64,
    stop: &mut watch::Receiver<bool>,
) -> Result<End, NatsError> {
    let client = crate::connect(&cfg.url, &cfg.auth).await?;
    let js = jetstream::new(client);
    let stream = ensure_stream(&js, &cfg.stream, &cfg.url).await?;
    // Recreate the durable consumer at our resume point: the local log is the truth,
    // whatever the server remembers of earlier acks.
    let _ = stream.delete_consumer(&cfg.consumer).await;
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some(cfg.consumer.clone()),
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: f.last_stream_seq + 1,
            },
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 20_000,
            filter_subject: cfg.stream.wildcard(),
            ..Default::default()
        })
        .await
        .map_err(|e| NatsError::js("create consumer", e))?;
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(1_000)
        .heartbeat(Duration::from_secs(2))
        .expires(Duration::from_secs(10))
        .messages()
        .await
        .map_err(|e| NatsError::js("consume", e))?;
    shared.connected.store(true, Ordering::Release);
    Shared::set(&shared.last_error, None);
    if !matches!(
        *shared.state.lock().map_err(|e| NatsError::js("state", e))?,
        ReplicaState::Gap { .. }
    ) {
        Shared::set(&shared.state, ReplicaState::Following);
    }
    tracing::info!(url = %crate::redact_url(&cfg.url), consumer = %cfg.consumer, head = f.head, from_stream_seq = f.last_stream_seq + 1, "nats replica: consuming");

    let mut tick = tokio::time::interval(
        cfg.poll_interval
            .min(cfg.gap_timeout / 2)
            .max(Duration::from_millis(10)),
    );
    // The stream's last seq (for the lag) is polled beside the loop, so that a slow
    // JetStream API answer never holds up applying messages.
    let poller = AbortOnDrop(tokio::spawn(poll_stream_last(
        shared.clone(),
        stream.clone(),
        cfg.poll_interval.max(Duration::from_millis(10)),
    )));
    let mut last_save = Instant::now();
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => return Ok(End::Stop),
            m = messages.next() => {
                let msg = match m {
                    None => return Err(NatsError::js("consume", "consumer stream ended")),
                    Some(Err(e)) => return Err(NatsError::js("consume", e)),
                    Some(Ok(msg)) => msg,
                };
                // Take what else has already arrived, to apply it with many in flight.
                let mut batch = vec![msg];
                let mut failed = None;
                while batch.len() < 512 {
                    match futures::FutureExt::now_or_never(messages.next()) {
                        Some(Some(Ok(m))) => batch.push(m),
                        Some(Some(Err(e))) => {
                            failed = Some(NatsError::js("consume", e));
                            break;
                        }
                        Some(None) => {
                            failed = Some(NatsError::js("consume", "consumer stream ended"));
                            break;
                        }
                        None => break,
                    }
                }
                handle_batch(shared, f, batch).await?;
                if let Some(e) = failed {
                    return Err(e);
                }
            }
            _ = tick.tick() => {
                if poller.0.is_finished() {
                    return Err(NatsError::js("poll stream", "the stream poller stopped"));
                }
                if let Some(since) = f.gap_since {
                    if since.elapsed() >= cfg.gap_timeout || f.held_count > cfg.max_held {
                        report_gap(shared, f);
                        return Ok(End::Refetch);
                    }
                }
            }
        }
        if last_save.elapsed() >= Duration::from_millis(200) {
            save_resume(shared, rm, f.resume(), saved).await?;
            last_save = Instant::now();
        }
        metrics::gauge!("reception_replica_lag").set(
            shared
                .stream_last
                .load(Ordering::Acquire)
                .saturating_sub(f.head) as f64,
        );
    }
}

fn report_gap(shared: &Shared, f: &mut Follower) {
    let got = f.held.keys().next().copied().unwrap_or(f.head + 1);
    let expected = f.head + 1;
    Shared::set(&shared.state, ReplicaState::Gap { expected, got });
    if f.reported_gap != Some((expected, got)) {
        f.reported_gap = Some((expected, got));
        let stream_seq = f
            .held
            .get(&got)
            .and_then(|v| v.first())
            .map(|(_, s)| *s)
            .unwrap_or(0);
        shared.reject(Rejection {
            seq: Some(got),
            stream_seq,
            reason: format!("gap: expected seq {expected}, got {got}; refetching from the stream"),
        });
    }
}

/// Aborts a background task when dropped (when its session ends).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Every `every`, reads the stream's last message and raises `stream_last` to its seq.
async fn poll_stream_last(shared: Arc<Shared>, stream: jetstream::stream::Stream, every: Duration) {
    let mut polled = 0u64;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Ok(info) = stream.get_info().await else {
            continue;
        };
        let last = info.state.last_sequence;
        if last == 0 || last == polled {
            continue;
        }
        if let Ok(m) = stream.get_raw_message(last).await {
            if let Ok(env) = serde_json::from_slice::<Envelope>(&m.payload) {
                polled = last;
                shared.stream_last.fetch_max(env.seq, Ordering::AcqRel);
            }
        }
    }
}

/// Applies one envelope (a run of one, so no blocking thread is needed).
async fn apply(store: &Store, env: Envelope) -> Result<bool, ReplicateError> {
    store
        .append_replicated_batch_async(vec![env])
        .await
        .map(|n| n == 1)
}

/// The seq of the envelope a replicated run stopped at.
fn refused_seq(e: &ReplicateError) -> Option<u64> {
    match e {
        ReplicateError::Gap { got, .. } => Some(*got),
        ReplicateError::BadHash { seq, .. } | ReplicateError::BadSignature { seq, .. } => {
            Some(*seq)
        }
        ReplicateError::Store(_) => None,
    }
}

/// Applies a batch of messages in order. Fast path: the leading run of envelopes that
/// continues the chain goes to the store as one [`Store::append_replicated_batch_async`]
/// (checked in order, one durable commit for the run). Everything else goes through the
/// one-by-one path of [`handle`]: messages ahead of a gap, old copies, and, when the
/// store refused an envelope of the run, that envelope (refused and reported again
/// there, with its reason) and the ones after it.
async fn handle_batch(
    shared: &Shared,
    f: &mut Follower,
    batch: Vec<jetstream::Message>,
) -> Result<(), NatsError> {
    let parsed: Vec<_> = batch
        .into_iter()
        .map(|m| {
            let env = serde_json::from_slice::<Envelope>(&m.payload);
            (m, env)
        })
        .collect();
    let mut run = Vec::new();
    for (_, env) in &parsed {
        match env {
            Ok(env) if env.seq == f.head + 1 + run.len() as u64 => run.push(env.clone()),
            _ => break,
        }
    }
    let applied_to = match run.last().map(|e| e.seq) {
        None => f.head,
        Some(last) => match shared.store.append_replicated_batch_async(run).await {
            Ok(_) => last,
            Err(ReplicateError::Store(e)) => return Err(NatsError::Store(e)),
            // The envelopes before the refused one are applied.
            Err(e) => refused_seq(&e)
                .map_or(f.head, |s| s.saturating_sub(1))
                .min(last),
        },
    };
    for (msg, env) in parsed {
        handle(shared, f, msg, env, applied_to).await?;
    }
    Ok(())
}

/// Handles one message and its parsed envelope; the fast path of [`handle_batch`] has
/// already appended the envelopes up to seq `applied_to`.
async fn handle(
    shared: &Shared,
    f: &mut Follower,
    msg: jetstream::Message,
    env: Result<Envelope, serde_json::Error>,
    applied_to: u64,
) -> Result<(), NatsError> {
    let stream_seq = msg
        .info()
        .map(|i| i.stream_sequence)
        .unwrap_or(f.last_stream_seq + 1);
    let env = match env {
        Ok(env) => env,
        Err(e) => {
            shared.reject(Rejection {
                seq: None,
                stream_seq,
                reason: format!("not an envelope: {e}"),
            });
            let _ = msg.ack_with(AckKind::Term).await;
            f.last_stream_seq = stream_seq;
            return Ok(());
        }
    };
    shared.stream_last.fetch_max(env.seq, Ordering::AcqRel);
    if env.seq > f.head + 1 {
        // Ahead of the chain: hold it until the gap fills (see the module docs).
        f.held.entry(env.seq).or_default().push((env, stream_seq));
        f.held_count += 1;
        f.gap_since.get_or_insert_with(Instant::now);
        let _ = msg.ack().await;
        f.last_stream_seq = stream_seq;
        return Ok(());
    }
    let advanced = if env.seq <= applied_to && env.seq == f.head + 1 {
        f.head = env.seq;
        metrics::counter!("reception_replica_applied_total").increment(1);
        true
    } else {
        try_apply(shared, f, env, stream_seq).await?
    };
    match advanced {
        true => {
            let _ = msg.ack().await;
        }
        false => {
            let _ = msg.ack_with(AckKind::Term).await;
        }
    }
    f.last_stream_seq = stream_seq;
    apply_held(shared, f).await?;
    // Drop held candidates the chain has passed (they were checked as duplicates above
    // or are stale copies).
    let passed: Vec<u64> = f.held.range(..=f.head).map(|(k, _)| *k).collect();
    for k in passed {
        if let Some(cands) = f.held.remove(&k) {
            f.held_count -= cands.len();
            for (env, s) in cands {
                try_apply(shared, f, env, s).await?;
            }
        }
    }
    if f.held.is_empty() {
        f.gap_since = None;
        f.reported_gap = None;
        if let Ok(mut g) = shared.state.lock() {
            if matches!(*g, ReplicaState::Gap { .. }) {
                *g = ReplicaState::Following;
            }
        }
    } else if advanced {
        f.gap_since = Some(Instant::now());
    }
    Ok(())
}

/// Applies what was held and now continues the chain. Consecutive seqs held with one
/// candidate each go to the store as one run (one durable commit); a seq with several
/// candidates, or the one the store refused, goes through [`try_apply`] one by one, where
/// the first good candidate is applied, the others are checked as copies of it and a bad
/// one is refused and reported.
async fn apply_held(shared: &Shared, f: &mut Follower) -> Result<(), NatsError> {
    loop {
        let mut run: Vec<(Envelope, u64)> = Vec::new();
        loop {
            let next = f.head + 1 + run.len() as u64;
            if f.held.get(&next).is_none_or(|c| c.len() != 1) {
                break;
            }
            if let Some(mut cands) = f.held.remove(&next) {
                f.held_count -= cands.len();
                run.extend(cands.pop());
            }
        }
        if let Some(last) = run.last().map(|(e, _)| e.seq) {
            let envs = run.iter().map(|(e, _)| e.clone()).collect();
            let reached = match shared.store.append_replicated_batch_async(envs).await {
                Ok(_) => last,
                Err(ReplicateError::Store(e)) => return Err(NatsError::Store(e)),
                // The ones before the refused envelope are applied (the store's head may
                // already be further: the fast path applies messages handled after this).
                Err(e) => refused_seq(&e)
                    .map_or(f.head, |s| s.saturating_sub(1))
                    .min(last),
            };
            if reached > f.head {
                metrics::counter!("reception_replica_applied_total").increment(reached - f.head);
                f.head = reached;
                if let Ok(mut g) = shared.state.lock() {
                    if matches!(*g, ReplicaState::Gap { expected, .. } if reached >= expected) {
                        *g = ReplicaState::Following;
                    }
                }
            }
            // The refused envelope and the ones after it go back, for the path below.
            for (env, s) in run.into_iter().filter(|(e, _)| e.seq > reached) {
                f.held.entry(env.seq).or_default().push((env, s));
                f.held_count += 1;
            }
        }
        let Some(cands) = f.held.remove(&(f.head + 1)) else {
            return Ok(());
        };
        f.held_count -= cands.len();
        // After the first good candidate, the others are checked as copies of it.
        for (env, s) in cands {
            try_apply(shared, f, env, s).await?;
        }
    }
}

/// Appends `env` if it continues the chain, accepts it silently if it is an identical
/// copy of an applied one, refuses it otherwise. Returns false when refused.
async fn try_apply(
    shared: &Shared,
    f: &mut Follower,
    env: Envelope,
    stream_seq: u64,
) -> Result<bool, NatsError> {
    let seq = env.seq;
    match apply(&shared.store, env).await {
        Ok(appended) => {
            if appended {
                f.head = seq;
                metrics::counter!("reception_replica_applied_total").increment(1);
                if let Ok(mut g) = shared.state.lock() {
                    if matches!(*g, ReplicaState::Gap { expected, .. } if seq >= expected) {
                        *g = ReplicaState::Following;
                    }
                }
            }
            Ok(true)
        }
        Err(ReplicateError::Store(e)) => Err(NatsError::Store(e)),
        Err(e) => {
            shared.reject(Rejection {
                seq: Some(seq),
                stream_seq,
                reason: e.to_string(),
            });
            Ok(false)
        }
    }
}
