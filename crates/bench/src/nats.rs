//! The replication benchmark: raw JetStream ceiling, relay drain rate, append-to-replica lag.
//!
//! Run it with `cargo run --release -p reception-bench --example nats_bench -- <nats-url> <dir>`
//! against a JetStream-enabled nats-server. It creates and deletes its own streams
//! (`BENCH_RAW`, `BENCH_RELAY`, `BENCH_LAG`), so it does not touch `RECEPTION`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage, stream};
use futures::stream::FuturesOrdered;
use futures::StreamExt;
use reception_nats::{
    Backoff, NatsError, Relay, RelayConfig, Replica, ReplicaConfig, StreamSettings,
};
use reception_store::{Actor, AppendRequest, ExpectedVersion, NewEvent, Store};

/// Events pre-filled for the relay drain measurement.
const DRAIN_EVENTS: u64 = 200_000;
/// Messages for the raw ceiling, awaiting each ack.
const RAW_SERIAL: u64 = 5_000;
/// Messages for the raw ceiling, 256 acks in flight.
const RAW_PIPELINED: u64 = 100_000;
/// Steady append rate and duration of the lag measurement.
const LAG_RATE: u64 = 1_000;
const LAG_SECS: u64 = 10;

/// Runs the three measurements against `nats_url`, with stores under `store_dir`, and
/// returns a markdown report.
pub async fn run(nats_url: &str, store_dir: &Path) -> Result<String, NatsError> {
    let client = connect(nats_url).await?;
    let js = jetstream::new(client);

    let serial = raw_ceiling(&js, RAW_SERIAL, 1).await?;
    let pipelined = raw_ceiling(&js, RAW_PIPELINED, 256).await?;
    let (drain_rate, prefill_secs) = relay_drain(&js, nats_url, store_dir).await?;
    let lag = replica_lag(&js, nats_url, store_dir).await?;

    let ratio = drain_rate / pipelined * 100.0;
    let mut md = String::new();
    md.push_str("| measurement | result | target |\n|---|---|---|\n");
    md.push_str(&format!(
        "| raw JetStream, 300-byte msgs with Nats-Msg-Id, awaiting each ack ({RAW_SERIAL} msgs) | {serial:.0} msg/s | (reference: ~5,000/s) |\n"
    ));
    md.push_str(&format!(
        "| raw JetStream, same, 256 acks in flight ({RAW_PIPELINED} msgs) | {pipelined:.0} msg/s | (reference: ~100,000/s) |\n"
    ));
    md.push_str(&format!(
        "| relay max sustained rate (draining {DRAIN_EVENTS} pre-filled events) | {drain_rate:.0} events/s = {ratio:.0}% of the pipelined ceiling | ≥ 50% |\n"
    ));
    md.push_str(&format!(
        "| append→replica-visible lag at {LAG_RATE} appends/s for {LAG_SECS} s: p50 | {:.1} ms | |\n",
        lag.p50_ms
    ));
    md.push_str(&format!(
        "| same: p99 | {:.1} ms | < 250 ms |\n",
        lag.p99_ms
    ));
    md.push_str(&format!("| same: max | {:.1} ms | |\n", lag.max_ms));
    md.push_str(&format!(
        "\n{} events measured in the lag run (achieved append rate {:.0}/s); pre-filling {DRAIN_EVENTS} events took {prefill_secs:.1} s.\n",
        lag.count, lag.append_rate
    ));
    Ok(md)
}

/// A JetStream failure of the benchmark as the relay reports its own.
fn js_err(op: &'static str, err: impl std::fmt::Display) -> NatsError {
    NatsError::JetStream {
        op,
        reason: err.to_string(),
    }
}

/// Connects as the relay does: a short connect timeout, the relay's reconnect schedule.
async fn connect(url: &str) -> Result<async_nats::Client, NatsError> {
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .reconnect_delay_callback(|n| Backoff::default().delay(n as u32))
        .connect(url)
        .await
        .map_err(|e| NatsError::Connect {
            url: url.to_string(),
            reason: e.to_string(),
        })
}

async fn fresh_stream(js: &jetstream::Context, name: &str, subject: &str) -> Result<(), NatsError> {
    let _ = js.delete_stream(name).await;
    js.create_stream(stream::Config {
        name: name.to_string(),
        subjects: vec![subject.to_string()],
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .map_err(|e| js_err("create bench stream", e))?;
    Ok(())
}

/// Publishes `n` 300-byte messages with a unique Nats-Msg-Id, `window` acks in flight.
async fn raw_ceiling(js: &jetstream::Context, n: u64, window: usize) -> Result<f64, NatsError> {
    fresh_stream(js, "BENCH_RAW", "bench.raw.>").await?;
    let payload = bytes::Bytes::from(vec![b'x'; 300]);
    let mut in_flight = FuturesOrdered::new();
    let start = Instant::now();
    for i in 0..n {
        let publish = PublishMessage::build()
            .payload(payload.clone())
            .message_id(format!("raw-{window}-{i}"));
        let ack = js
            .send_publish("bench.raw.x", publish)
            .await
            .map_err(|e| js_err("publish", e))?;
        in_flight.push_back(std::future::IntoFuture::into_future(ack));
        while in_flight.len() >= window {
            if let Some(r) = in_flight.next().await {
                r.map_err(|e| js_err("ack", e))?;
            }
        }
    }
    while let Some(r) = in_flight.next().await {
        r.map_err(|e| js_err("ack", e))?;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let _ = js.delete_stream("BENCH_RAW").await;
    Ok(rate)
}

fn event(n: u64) -> NewEvent {
    let id = uuid_v4();
    NewEvent {
        id,
        event_type: "BenchHappened".to_string(),
        schema: 1,
        data: serde_json::json!({ "n": n, "note": "x".repeat(40) }),
        occurred_at: None,
        actor: Actor {
            user: "bench".into(),
            role: "system".into(),
        },
        correlation_id: id,
        causation_id: id,
    }
}

/// A random v4 UUID without naming the uuid crate's constructor features here.
fn uuid_v4() -> uuid::Uuid {
    uuid::Uuid::new_v4()
}

/// Pre-fills a store and times the relay publishing all of it. Returns (events/s, prefill s).
async fn relay_drain(
    js: &jetstream::Context,
    url: &str,
    dir: &Path,
) -> Result<(f64, f64), NatsError> {
    let settings = StreamSettings {
        name: "BENCH_RELAY".into(),
        subject_prefix: "bench.relay".into(),
        ..Default::default()
    };
    let _ = js.delete_stream(&settings.name).await;
    let path = dir.join("drain-writer");
    let _ = std::fs::remove_dir_all(&path);
    let store = Store::open(&path)?;
    let t = Instant::now();
    let per_append = 200u64;
    let mut n = 0u64;
    while n < DRAIN_EVENTS {
        let events = (n..n + per_append).map(event).collect();
        store
            .append(AppendRequest {
                stream: format!("visit-{}", n / per_append),
                expected: ExpectedVersion::NoStream,
                events,
                idempotency: None,
            })
            .await
            .map_err(|e| js_err("bench prefill", e))?;
        n += per_append;
    }
    let prefill = t.elapsed().as_secs_f64();

    let mut cfg = RelayConfig::new(url);
    cfg.stream = settings.clone();
    let start = Instant::now();
    let relay = Relay::spawn(store.clone(), cfg)?;
    while relay.cursor() < DRAIN_EVENTS {
        tokio::time::sleep(Duration::from_millis(5)).await;
        if start.elapsed() > Duration::from_secs(600) {
            return Err(js_err("bench drain", "relay did not finish within 600 s"));
        }
    }
    let rate = DRAIN_EVENTS as f64 / start.elapsed().as_secs_f64();
    relay.shutdown().await;
    let _ = js.delete_stream(&settings.name).await;
    store.close()?;
    Ok((rate, prefill))
}

struct Lag {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    count: u64,
    append_rate: f64,
}

/// Appends at a steady rate on a writer with a relay and measures when each event becomes
/// visible on a replica's store (from the append's return to the replica's head passing it).
/// The load starts once the relay and the replica are connected.
async fn replica_lag(js: &jetstream::Context, url: &str, dir: &Path) -> Result<Lag, NatsError> {
    let settings = StreamSettings {
        name: "BENCH_LAG".into(),
        subject_prefix: "bench.lag".into(),
        ..Default::default()
    };
    let _ = js.delete_stream(&settings.name).await;
    let wpath = dir.join("lag-writer");
    let rpath = dir.join("lag-replica");
    let _ = std::fs::remove_dir_all(&wpath);
    let _ = std::fs::remove_dir_all(&rpath);
    let writer = Store::open(&wpath)?;
    let replica_store = Store::open(&rpath)?;
    let mut rcfg = RelayConfig::new(url);
    rcfg.stream = settings.clone();
    let relay = Relay::spawn(writer.clone(), rcfg)?;
    let mut pcfg = ReplicaConfig::new(url, "bench-replica");
    pcfg.stream = settings.clone();
    let replica = Replica::spawn(replica_store.clone(), pcfg)?;

    // Steady state: the load starts once the relay and the replica's consumer are up
    // (before that, the first events wait for the connections, which is catch-up, not lag).
    let ready_by = Instant::now() + Duration::from_secs(30);
    while !(relay.status().connected && replica.connected()) {
        if Instant::now() > ready_by {
            return Err(js_err(
                "bench lag",
                "relay or replica not connected within 30 s",
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Visible times, recorded by a watcher on the replica's head.
    let visible: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let mut head_rx = replica_store.watch_head();
    let vis = visible.clone();
    let watcher = tokio::spawn(async move {
        let mut seen = 0u64;
        while head_rx.changed().await.is_ok() {
            let h = *head_rx.borrow_and_update();
            let now = Instant::now();
            if let Ok(mut m) = vis.lock() {
                for s in seen + 1..=h {
                    m.insert(s, now);
                }
            }
            seen = seen.max(h);
        }
    });

    let appended: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let total = LAG_RATE * LAG_SECS;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / LAG_RATE));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(total as usize);
    let start = Instant::now();
    for n in 0..total {
        tick.tick().await;
        let w = writer.clone();
        let app = appended.clone();
        tasks.push(tokio::spawn(async move {
            let r = w
                .append(AppendRequest {
                    stream: format!("visit-{}", n % 50),
                    expected: ExpectedVersion::Any,
                    events: vec![event(n)],
                    idempotency: None,
                })
                .await;
            let now = Instant::now();
            if let Ok(a) = r {
                if let Ok(mut m) = app.lock() {
                    m.insert(a.events[0].seq, now);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let append_rate = total as f64 / start.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(120);
    while replica_store.head().0 < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    relay.shutdown().await;
    replica.shutdown().await;
    watcher.abort();

    let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
        .map_err(|e| js_err("histogram", e))?;
    let appended = std::mem::take(&mut *appended.lock().map_err(|e| js_err("lock", e))?);
    let visible = std::mem::take(&mut *visible.lock().map_err(|e| js_err("lock", e))?);
    for (seq, at) in appended.iter() {
        let Some(v) = visible.get(seq) else {
            return Err(js_err(
                "bench lag",
                format!("seq {seq} never became visible on the replica"),
            ));
        };
        let us = v.saturating_duration_since(*at).as_micros() as u64;
        let _ = hist.record(us.max(1));
    }
    let _ = js.delete_stream(&settings.name).await;
    Ok(Lag {
        p50_ms: hist.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: hist.value_at_quantile(0.99) as f64 / 1000.0,
        max_ms: hist.max() as f64 / 1000.0,
        count: hist.len(),
        append_rate,
    })
}
