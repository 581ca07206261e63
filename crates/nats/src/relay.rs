//! The outbox relay: follows the write node's log from a persisted cursor and publishes
//! every envelope to JetStream, pipelined, advancing the cursor over acknowledged messages.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage};
use futures::stream::FuturesOrdered;
use futures::StreamExt;
use reception_store::{Envelope, ReadModel, Store};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::stream::{ensure_stream, subject_for};
use crate::{Backoff, NatsError, StreamSettings};

/// Configuration of the relay.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// NATS server URL(s), e.g. `nats://127.0.0.1:4222` (comma-separated for a cluster).
    pub url: String,
    /// Credentials and TLS towards NATS.
    pub auth: crate::NatsAuth,
    /// The stream to publish to.
    pub stream: StreamSettings,
    /// Most publishes awaiting their JetStream ack at once (default 256).
    pub max_in_flight: usize,
    /// How long to wait for one ack before treating the connection as broken (default 5 s).
    pub ack_timeout: Duration,
    /// Delay between reconnect attempts.
    pub backoff: Backoff,
    /// Name of the read model that keeps the cursor (default `nats-relay`).
    pub cursor_name: String,
    /// How often the cursor is written to disk while publishing (default 50 ms). A crash
    /// loses at most this much cursor progress; the republished messages are dropped by
    /// JetStream's duplicate window.
    pub cursor_flush: Duration,
}

impl RelayConfig {
    /// Defaults for everything but the URL.
    pub fn new(url: impl Into<String>) -> Self {
        RelayConfig {
            url: url.into(),
            auth: crate::NatsAuth::default(),
            stream: StreamSettings::default(),
            max_in_flight: 256,
            ack_timeout: Duration::from_secs(5),
            backoff: Backoff::default(),
            cursor_name: "nats-relay".to_string(),
            cursor_flush: Duration::from_millis(50),
        }
    }
}

/// A snapshot of the relay's progress, for `/readyz` and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelayStatus {
    /// Last sequence acknowledged by JetStream (the cursor).
    pub cursor: u64,
    /// Head of the local log.
    pub head: u64,
    /// `head - cursor`.
    pub lag: u64,
    /// Whether the relay currently has a working JetStream connection.
    pub connected: bool,
    /// Last error seen (cleared on reconnect).
    pub last_error: Option<String>,
    /// Messages acknowledged since start (duplicates included).
    pub published: u64,
}

struct Shared {
    store: Store,
    cursor: AtomicU64,
    published: AtomicU64,
    connected: AtomicBool,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    fn set_error(&self, e: Option<String>) {
        if let Ok(mut g) = self.last_error.lock() {
            *g = e;
        }
    }
}

/// The outbox relay. Start it with [`Relay::spawn`].
pub struct Relay;

/// Handle on a running relay: status getters and shutdown.
pub struct RelayHandle {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Relay {
    /// Starts the relay in the background on the current tokio runtime. It resumes from the
    /// persisted cursor + 1, connects (retrying with backoff while NATS is down), creates
    /// or checks the stream, then publishes the log in order with up to
    /// `cfg.max_in_flight` acks outstanding. It never writes to the log.
    ///
    /// Fails only when the cursor's read model cannot be opened.
    ///
    /// ```no_run
    /// # async fn f(store: reception_store::Store) -> Result<(), reception_nats::NatsError> {
    /// use reception_nats::{Relay, RelayConfig};
    /// let relay = Relay::spawn(store, RelayConfig::new("nats://127.0.0.1:4222"))?;
    /// println!("lag: {}", relay.lag());
    /// relay.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn spawn(store: Store, cfg: RelayConfig) -> Result<RelayHandle, NatsError> {
        let rm = store.read_model(&cfg.cursor_name)?;
        let cursor = rm.checkpoint()?;
        let shared = Arc::new(Shared {
            store,
            cursor: AtomicU64::new(cursor),
            published: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            last_error: Mutex::new(None),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(shared.clone(), cfg, rm, stop_rx));
        Ok(RelayHandle { shared, stop, task })
    }
}

impl RelayHandle {
    /// Sequences not yet acknowledged by JetStream: `head - cursor`.
    pub fn lag(&self) -> u64 {
        self.shared
            .store
            .head()
            .0
            .saturating_sub(self.shared.cursor.load(Ordering::Acquire))
    }

    /// Last acknowledged sequence.
    pub fn cursor(&self) -> u64 {
        self.shared.cursor.load(Ordering::Acquire)
    }

    /// A snapshot of the relay's progress.
    pub fn status(&self) -> RelayStatus {
        let cursor = self.cursor();
        let head = self.shared.store.head().0;
        RelayStatus {
            cursor,
            head,
            lag: head.saturating_sub(cursor),
            connected: self.shared.connected.load(Ordering::Acquire),
            last_error: self.shared.last_error.lock().ok().and_then(|g| g.clone()),
            published: self.shared.published.load(Ordering::Acquire),
        }
    }

    /// Stops publishing, waits for nothing more, writes the cursor and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Kills the task without writing the cursor (what a crash does); for tests.
    pub fn abort(self) {
        self.task.abort();
    }
}

async fn run(
    shared: Arc<Shared>,
    cfg: RelayConfig,
    rm: ReadModel,
    mut stop: watch::Receiver<bool>,
) {
    let mut attempt = 0u32;
    let mut saved = shared.cursor.load(Ordering::Acquire);
    loop {
        if *stop.borrow() {
            break;
        }
        let outcome = session(&shared, &cfg, &rm, &mut saved, &mut stop).await;
        shared.connected.store(false, Ordering::Release);
        match outcome {
            Ok(()) => break,
            Err(e @ NatsError::TooLarge { .. }) => {
                tracing::error!(error = %e, "nats relay: stopped");
                shared.set_error(Some(format!("stopped: {e}")));
                break;
            }
            Err(e) => {
                let delay = cfg.backoff.delay(attempt);
                attempt = attempt.saturating_add(1);
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "nats relay: disconnected");
                shared.set_error(Some(e.to_string()));
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        // A session that made progress resets the backoff.
        if shared.cursor.load(Ordering::Acquire) > saved {
            attempt = 0;
        }
        let _ = save_cursor(&shared, &rm, &mut saved).await;
    }
    let _ = save_cursor(&shared, &rm, &mut saved).await;
}

/// Writes the cursor if it moved since the last write.
async fn save_cursor(shared: &Shared, rm: &ReadModel, saved: &mut u64) -> Result<(), NatsError> {
    let cursor = shared.cursor.load(Ordering::Acquire);
    if cursor <= *saved {
        return Ok(());
    }
    let rm = rm.clone();
    tokio::task::spawn_blocking(move || rm.commit(cursor, Vec::new()))
        .await
        .map_err(|e| NatsError::js("cursor write", e))??;
    *saved = cursor;
    Ok(())
}

/// Moves the cursor back when JetStream holds less than it says was acknowledged: a
/// server that lost its store (a disk replaced, a power cut before its sync) would
/// otherwise never get those events again, and the replicas would wait on the gap for
/// good. The envelopes from the stream's last one on are republished; message ids make
/// any copy the server still has a duplicate it drops.
async fn rewind_to_stream(
    shared: &Shared,
    rm: &ReadModel,
    saved: &mut u64,
    stream: &mut jetstream::stream::Stream,
) -> Result<(), NatsError> {
    let cursor = shared.cursor.load(Ordering::Acquire);
    if cursor == 0 {
        return Ok(());
    }
    let last = stream
        .info()
        .await
        .map_err(|e| NatsError::js("stream info", e))?
        .state
        .last_sequence;
    let held = if last == 0 {
        0
    } else {
        let msg = stream
            .get_raw_message(last)
            .await
            .map_err(|e| NatsError::js("read the stream's last message", e))?;
        serde_json::from_slice::<Envelope>(&msg.payload)
            .map(|env| env.seq)
            .map_err(|e| NatsError::js("decode the stream's last message", e))?
    };
    if held >= cursor {
        return Ok(());
    }
    tracing::error!(
        cursor,
        held,
        "nats relay: JetStream holds less than was acknowledged; republishing from seq {}",
        held + 1
    );
    metrics::counter!("reception_relay_rewound_total").increment(1);
    shared.cursor.store(held, Ordering::Release);
    let rm = rm.clone();
    tokio::task::spawn_blocking(move || rm.commit(held, Vec::new()))
        .await
        .map_err(|e| NatsError::js("cursor write", e))??;
    *saved = held;
    Ok(())
}

type AckFuture = futures::future::BoxFuture<
    'static,
    (
        u64,
        Result<jetstream::publish::PublishAck, jetstream::context::PublishError>,
    ),
>;

/// One connection's worth of publishing. Returns Ok on shutdown, Err on any NATS failure
/// (the caller backs off and starts a new session from the cursor).
async fn session(
    shared: &Shared,
    cfg: &RelayConfig,
    rm: &ReadModel,
    saved: &mut u64,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), NatsError> {
    let client = crate::connect(&cfg.url, &cfg.auth).await?;
    let max_payload = client.server_info().max_payload;
    let mut js = jetstream::new(client);
    js.set_timeout(cfg.ack_timeout);
    let mut stream = ensure_stream(&js, &cfg.stream, &cfg.url).await?;
    rewind_to_stream(shared, rm, saved, &mut stream).await?;
    shared.connected.store(true, Ordering::Release);
    shared.set_error(None);
    tracing::info!(url = %crate::redact_url(&cfg.url), cursor = shared.cursor.load(Ordering::Acquire), "nats relay: connected");

    let store = &shared.store;
    let mut head_rx = store.watch_head();
    let mut next = shared.cursor.load(Ordering::Acquire) + 1;
    let mut ahead: VecDeque<Envelope> = VecDeque::new();
    let mut in_flight: FuturesOrdered<AckFuture> = FuturesOrdered::new();
    let mut last_save = Instant::now();
    let read_batch = cfg.max_in_flight.max(64);

    loop {
        // Fill the pipeline. `exhausted`: everything readable so far is in flight.
        let head = *head_rx.borrow_and_update();
        let mut exhausted = false;
        while in_flight.len() < cfg.max_in_flight.max(1) {
            if ahead.is_empty() {
                if next > head.max(store.head().0) {
                    exhausted = true;
                    break;
                }
                for env in store.read_all_raw(next, read_batch) {
                    ahead.push_back(env?);
                }
                if ahead.is_empty() {
                    // Not durable yet: the head watch will say when it is.
                    exhausted = true;
                    break;
                }
            }
            let Some(env) = ahead.pop_front() else { break };
            if env.seq != next {
                return Err(NatsError::Store(reception_store::StoreError::Corrupt {
                    seq: next,
                    reason: format!(
                        "log read returned seq {} where {} was expected",
                        env.seq, next
                    ),
                }));
            }
            let payload =
                serde_json::to_vec(&env).map_err(|e| NatsError::js("encode envelope", e))?;
            if max_payload > 0 && payload.len() > max_payload {
                // What was sent before it is still acknowledged and counted.
                while let Some((seq, res)) = in_flight.next().await {
                    ack_one(shared, seq, res)?;
                }
                save_cursor(shared, rm, saved).await?;
                return Err(NatsError::TooLarge {
                    seq: env.seq,
                    bytes: payload.len(),
                    limit: max_payload,
                });
            }
            let publish = PublishMessage::build()
                .payload(payload.into())
                .message_id(env.id.to_string());
            let ack = js
                .send_publish(subject_for(&cfg.stream, &env.stream), publish)
                .await
                .map_err(|e| NatsError::js("publish", e))?;
            let seq = env.seq;
            in_flight.push_back(Box::pin(async move { (seq, ack.await) }));
            next = seq + 1;
        }

        if last_save.elapsed() >= cfg.cursor_flush || in_flight.is_empty() {
            save_cursor(shared, rm, saved).await?;
            last_save = Instant::now();
        }
        update_metrics(shared);

        let idle = in_flight.is_empty();
        tokio::select! {
            biased;
            _ = stop.changed() => return Ok(()),
            Some((seq, res)) = in_flight.next(), if !idle => {
                ack_one(shared, seq, res)?;
                // Take every ack that is already there before refilling.
                while let Some(Some((seq, res))) = futures::FutureExt::now_or_never(in_flight.next()) {
                    ack_one(shared, seq, res)?;
                }
            }
            changed = head_rx.changed(), if exhausted => {
                if changed.is_err() {
                    // The store is gone: nothing more to publish.
                    return Ok(());
                }
            }
            // Flushes the cursor, and re-reads the log should a head notice be missed.
            _ = tokio::time::sleep(cfg.cursor_flush) => {}
        }
    }
}

fn ack_one(
    shared: &Shared,
    seq: u64,
    res: Result<jetstream::publish::PublishAck, jetstream::context::PublishError>,
) -> Result<(), NatsError> {
    res.map_err(|e| NatsError::js("publish ack", e))?;
    // Counted before the cursor moves: whoever sees the cursor at `seq` (Acquire) also
    // sees this publish counted.
    shared.published.fetch_add(1, Ordering::Relaxed);
    // Acks come back in submission order (FuturesOrdered): `seq` extends the prefix.
    shared.cursor.store(seq, Ordering::Release);
    metrics::counter!("reception_relay_published_total").increment(1);
    Ok(())
}

fn update_metrics(shared: &Shared) {
    let lag = shared
        .store
        .head()
        .0
        .saturating_sub(shared.cursor.load(Ordering::Acquire));
    metrics::gauge!("reception_relay_lag").set(lag as f64);
}
