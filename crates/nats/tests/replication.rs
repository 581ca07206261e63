//! Replication through a real nats-server: relay on a writer store, replicas on their own
//! stores, NATS and relay crashes, rebuilds, and tampered messages.

mod support;

use std::time::Duration;

use async_nats::jetstream;
use reception_nats::{
    check_jetstream, NatsAuth, NatsError, Relay, RelayConfig, Replica, ReplicaConfig, ReplicaState,
    StreamSettings,
};
use reception_store::Store;
use support::{append_many, log, wait_for, NatsServer};

fn replica_cfg(url: &str, name: &str) -> ReplicaConfig {
    let mut c = ReplicaConfig::new(url, name);
    c.gap_timeout = Duration::from_millis(700);
    c.poll_interval = Duration::from_millis(200);
    c
}

fn relay_cfg(url: &str) -> RelayConfig {
    let mut c = RelayConfig::new(url);
    c.ack_timeout = Duration::from_secs(2);
    c
}

async fn stream_messages(url: &str) -> u64 {
    let client = async_nats::connect(url).await.unwrap();
    let js = jetstream::new(client);
    let mut s = js.get_stream("RECEPTION").await.unwrap();
    s.info().await.unwrap().state.messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_appended_on_the_writer_appear_on_the_replica_in_order_and_identical() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let writer = Store::open(dir.path().join("writer")).unwrap();
    let replica_store = Store::open(dir.path().join("replica")).unwrap();

    let relay = Relay::spawn(writer.clone(), relay_cfg(&nats.url())).unwrap();
    let replica =
        Replica::spawn(replica_store.clone(), replica_cfg(&nats.url(), "replica-a")).unwrap();

    append_many(&writer, 0, 400).await;
    wait_for("replica head 400", 30, || replica.head() == 400).await;

    let w = log(&writer);
    assert_eq!(w.len(), 400);
    assert_eq!(
        log(&replica_store),
        w,
        "replica log (hash chain included) equals the writer's"
    );
    assert!(replica_store.verify().unwrap().ok);
    assert_eq!(replica_store.head(), writer.head());
    wait_for("relay lag 0", 10, || relay.lag() == 0).await;
    assert_eq!(relay.status().cursor, 400);
    wait_for("replica lag 0", 10, || replica.status().lag == 0).await;
    assert_eq!(replica.status().state, ReplicaState::Following);
    assert_eq!(replica.status().rejected, 0);

    // On the wire: subject by stream kind, Nats-Msg-Id = event id, payload = the envelope.
    let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let stream = js.get_stream("RECEPTION").await.unwrap();
    for (i, env) in w.iter().take(4).enumerate() {
        let m = stream.get_raw_message(i as u64 + 1).await.unwrap();
        let kind = env.stream.split('-').next().unwrap();
        assert_eq!(m.subject.as_str(), format!("reception.events.{kind}"));
        assert_eq!(
            m.headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .unwrap()
                .as_str(),
            env.id.to_string()
        );
        let published: reception_store::Envelope = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(&published, env);
    }

    relay.shutdown().await;
    replica.shutdown().await;
    // The relay's cursor survives it.
    assert_eq!(
        writer
            .read_model("nats-relay")
            .unwrap()
            .checkpoint()
            .unwrap(),
        400
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nats_killed_mid_load_and_restarted_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut nats = NatsServer::start(&dir.path().join("js"));
    let url = nats.url();
    let writer = Store::open(dir.path().join("writer")).unwrap();
    let replica_store = Store::open(dir.path().join("replica")).unwrap();
    let relay = Relay::spawn(writer.clone(), relay_cfg(&url)).unwrap();
    let replica = Replica::spawn(replica_store.clone(), replica_cfg(&url, "replica-a")).unwrap();

    // A steady load in the background; `append` panics if any append fails.
    let w = writer.clone();
    let load = tokio::spawn(async move {
        for batch in 0..30u64 {
            append_many(&w, batch * 50, 50).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });

    wait_for("some events replicated", 30, || replica.head() >= 200).await;
    nats.kill();
    let head_at_kill = writer.head().0;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        writer.head().0 > head_at_kill,
        "appends go on while NATS is down"
    );
    assert!(
        !relay.status().connected || relay.lag() > 0,
        "the relay noticed NATS is down"
    );
    nats.restart();

    load.await.expect("the writer never failed an append");
    assert_eq!(writer.head().0, 1500);
    wait_for("replica head 1500", 60, || replica.head() == 1500).await;
    assert_eq!(log(&replica_store), log(&writer));
    assert!(replica_store.verify().unwrap().ok);
    assert_eq!(
        stream_messages(&url).await,
        1500,
        "JetStream holds each event once"
    );
    wait_for("relay lag 0", 10, || relay.lag() == 0).await;
    relay.shutdown().await;
    replica.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_restarted_mid_relay_republishes_and_jetstream_drops_the_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let url = nats.url();
    let writer = Store::open(dir.path().join("writer")).unwrap();
    let replica_store = Store::open(dir.path().join("replica")).unwrap();
    append_many(&writer, 0, 3000).await;

    let relay = Relay::spawn(writer.clone(), relay_cfg(&url)).unwrap();
    wait_for("relay past 1000", 30, || relay.cursor() >= 1000).await;
    // A crash: no final cursor write.
    relay.abort();

    // A cursor write already handed to a blocking thread still lands: let it, then
    // rewind the cursor as if the crash came before the last cursor writes reached disk.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cursor_rm = writer.read_model("nats-relay").unwrap();
    let persisted = cursor_rm.checkpoint().unwrap();
    let rewound = persisted.min(600);
    cursor_rm.commit(rewound, Vec::new()).unwrap();
    let published_before = stream_messages(&url).await;
    assert!(
        published_before > rewound,
        "some messages will be published twice"
    );

    let relay = Relay::spawn(writer.clone(), relay_cfg(&url)).unwrap();
    wait_for("relay cursor 3000", 60, || relay.cursor() == 3000).await;
    assert_eq!(
        relay.status().published,
        3000 - rewound,
        "the new relay republished from its cursor"
    );
    assert_eq!(
        stream_messages(&url).await,
        3000,
        "duplicates dropped by Nats-Msg-Id"
    );

    let replica = Replica::spawn(replica_store.clone(), replica_cfg(&url, "replica-a")).unwrap();
    wait_for("replica head 3000", 60, || replica.head() == 3000).await;
    assert_eq!(log(&replica_store), log(&writer));
    assert_eq!(replica.status().rejected, 0);
    relay.shutdown().await;
    replica.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_rebuilt_from_scratch_equals_one_that_followed_live_and_resumes_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let url = nats.url();
    let writer = Store::open(dir.path().join("writer")).unwrap();
    let live_store = Store::open(dir.path().join("live")).unwrap();
    let relay = Relay::spawn(writer.clone(), relay_cfg(&url)).unwrap();
    let live = Replica::spawn(live_store.clone(), replica_cfg(&url, "replica-live")).unwrap();

    append_many(&writer, 0, 300).await;
    wait_for("live head 300", 30, || live.head() == 300).await;

    // The live replica goes down, the writer goes on, the replica comes back.
    live.shutdown().await;
    append_many(&writer, 300, 200).await;
    let live = Replica::spawn(live_store.clone(), replica_cfg(&url, "replica-live")).unwrap();
    wait_for("live head 500", 30, || live.head() == 500).await;
    let resume = live_store.read_model("nats-replica").unwrap();
    assert!(
        resume.get(b"resume_stream_seq").unwrap().is_some(),
        "the resume point is persisted"
    );

    // A new replica starts from nothing.
    let fresh_store = Store::open(dir.path().join("fresh")).unwrap();
    let fresh = Replica::spawn(fresh_store.clone(), replica_cfg(&url, "replica-fresh")).unwrap();
    wait_for("fresh head 500", 30, || fresh.head() == 500).await;

    let w = log(&writer);
    assert_eq!(log(&live_store), w);
    assert_eq!(log(&fresh_store), w);
    assert_eq!(fresh_store.head(), live_store.head());
    assert!(fresh_store.verify().unwrap().ok);
    relay.shutdown().await;
    live.shutdown().await;
    fresh.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broken_hash_or_a_gap_is_refused_and_reported_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let url = nats.url();
    let writer = Store::open(dir.path().join("writer")).unwrap();
    let replica_store = Store::open(dir.path().join("replica")).unwrap();
    append_many(&writer, 0, 10).await;
    let relay = Relay::spawn(writer.clone(), relay_cfg(&url)).unwrap();
    let replica = Replica::spawn(replica_store.clone(), replica_cfg(&url, "replica-a")).unwrap();
    wait_for("replica head 10", 30, || replica.head() == 10).await;
    relay.shutdown().await; // nothing else reaches the stream while we tamper

    let js = jetstream::new(async_nats::connect(url.clone()).await.unwrap());
    let tenth = log(&writer).pop().unwrap();
    let publish = |env: reception_store::Envelope| {
        let js = js.clone();
        async move {
            let payload = serde_json::to_vec(&env).unwrap();
            js.send_publish(
                "reception.events.visit",
                jetstream::message::PublishMessage::build()
                    .payload(payload.into())
                    .message_id(uuid::Uuid::new_v4().to_string()),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        }
    };

    // 1. The next seq, linked to the head, but its data changed after hashing.
    let mut bad_hash = tenth.clone();
    bad_hash.seq = 11;
    bad_hash.version += 1;
    bad_hash.id = uuid::Uuid::new_v4();
    bad_hash.prev_hash = tenth.hash.clone();
    bad_hash.data = serde_json::json!({ "n": 999, "tampered": true });
    publish(bad_hash).await;
    wait_for("bad hash refused", 10, || replica.status().rejected == 1).await;
    let st = replica.status();
    assert_eq!(st.head, 10, "not applied");
    let r = st.last_rejection.unwrap();
    assert_eq!(r.seq, Some(11));
    assert!(
        r.reason.contains("hash"),
        "reason names the hash: {}",
        r.reason
    );

    // 2. A gap: seq 15 while the replica is at 10.
    let mut gap = tenth.clone();
    gap.seq = 15;
    gap.id = uuid::Uuid::new_v4();
    publish(gap).await;
    wait_for("gap reported", 10, || replica.status().rejected == 2).await;
    let st = replica.status();
    assert_eq!(
        st.state,
        ReplicaState::Gap {
            expected: 11,
            got: 15
        }
    );
    assert_eq!(st.head, 10, "not applied");
    assert!(st.last_rejection.unwrap().reason.contains("gap"));
    // Refetching the same gap again does not count it again.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(replica.status().rejected, 2);
    assert_eq!(replica_store.head().0, 10);

    // 3. The real events arrive: the replica follows the chain, refusing the fake 15.
    let relay = Relay::spawn(writer.clone(), relay_cfg(&url)).unwrap();
    append_many(&writer, 10, 10).await;
    wait_for("replica head 20", 30, || replica.head() == 20).await;
    assert_eq!(log(&replica_store), log(&writer));
    assert!(replica_store.verify().unwrap().ok);
    wait_for("state back to following", 10, || {
        replica.status().state == ReplicaState::Following
    })
    .await;
    assert_eq!(
        replica.status().rejected,
        3,
        "the fake seq 15 was refused when the chain reached it"
    );
    relay.shutdown().await;
    replica.shutdown().await;
}

/// The hash chain is unkeyed: anyone who may publish to the stream can extend it with
/// an event whose link and hash are right. Signatures are what refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_chain_valid_event_forged_without_the_writers_key_is_refused_and_the_replica_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let url = nats.url();
    let writer = Store::open(dir.path().join("writer")).unwrap();
    let key = reception_store::signing::Signer::from_seed([5; 32]);
    let writer_key = key.public().clone();
    let actor = reception_store::Actor {
        user: "reception".into(),
        role: "system".into(),
    };
    writer.use_signer(key, actor).await.unwrap();
    append_many(&writer, 0, 10).await;
    let replica_store = Store::open_with(
        dir.path().join("replica"),
        reception_store::StoreOptions {
            trusted_key: Some(writer_key.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let relay = Relay::spawn(writer.clone(), relay_cfg(&url)).unwrap();
    let replica = Replica::spawn(replica_store.clone(), replica_cfg(&url, "replica-s")).unwrap();
    wait_for("replica head 11", 30, || replica.head() == 11).await;
    relay.shutdown().await;

    // A TokenIssued granting admin, linked to the head with its hash recomputed.
    let last = log(&writer).pop().unwrap();
    let mut forged = last.clone();
    forged.seq = last.seq + 1;
    forged.stream = "tokens".into();
    forged.version = 1;
    forged.id = uuid::Uuid::new_v4();
    forged.event_type = "TokenIssued".into();
    forged.data = serde_json::json!({"user": "intruder", "role": "admin"});
    forged.prev_hash = last.hash.clone();
    forged.hash = String::new();
    forged.sig = None;
    let mut h = blake3::Hasher::new();
    h.update(forged.prev_hash.as_bytes());
    h.update(&serde_json::to_vec(&forged).unwrap());
    forged.hash = h.finalize().to_hex().to_string();
    // signed, but by a key of the intruder's own
    forged.sig = Some(reception_store::signing::Signer::from_seed([6; 32]).sign(&forged.hash));
    let js = jetstream::new(async_nats::connect(url.clone()).await.unwrap());
    js.send_publish(
        "reception.events.tokens",
        jetstream::message::PublishMessage::build()
            .payload(serde_json::to_vec(&forged).unwrap().into())
            .message_id(uuid::Uuid::new_v4().to_string()),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    wait_for("forgery refused", 10, || replica.status().rejected == 1).await;
    let st = replica.status();
    assert_eq!(st.head, 11, "not applied");
    let r = st.last_rejection.unwrap();
    assert_eq!(r.seq, Some(12));
    assert!(
        r.reason.contains("signature"),
        "the reason names the signature: {}",
        r.reason
    );

    // The writer's own next events arrive and apply past the refused one.
    let relay = Relay::spawn(writer.clone(), relay_cfg(&url)).unwrap();
    append_many(&writer, 10, 5).await;
    wait_for("replica head 16", 30, || replica.head() == 16).await;
    assert_eq!(log(&replica_store), log(&writer));
    let report = replica_store.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.signed, 16);
    assert_eq!(report.key_id.as_deref(), Some(writer_key.id()));
    relay.shutdown().await;
    replica.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_envelope_inside_a_delivered_run_stops_it_there_and_the_chain_continues() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let url = nats.url();
    let writer = Store::open(dir.path().join("writer")).unwrap();
    let replica_store = Store::open(dir.path().join("replica")).unwrap();
    append_many(&writer, 0, 10).await;
    let relay = Relay::spawn(writer.clone(), relay_cfg(&url)).unwrap();
    let replica = Replica::spawn(replica_store.clone(), replica_cfg(&url, "replica-a")).unwrap();
    wait_for("replica head 10", 30, || replica.head() == 10).await;
    relay.shutdown().await;
    // The replica is down while the next messages land, so that it fetches them together.
    replica.shutdown().await;

    append_many(&writer, 10, 6).await;
    let events = log(&writer);
    let mut forged = events[12].clone(); // seq 13, correctly linked, data changed
    forged.data = serde_json::json!({ "n": 999, "tampered": true });
    forged.id = uuid::Uuid::new_v4();
    let js = jetstream::new(async_nats::connect(url.clone()).await.unwrap());
    let run = [&events[10], &events[11], &forged]
        .into_iter()
        .chain(&events[12..16]);
    for env in run {
        js.send_publish(
            "reception.events.visit",
            jetstream::message::PublishMessage::build()
                .payload(serde_json::to_vec(env).unwrap().into())
                .message_id(env.id.to_string()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }

    let replica = Replica::spawn(replica_store.clone(), replica_cfg(&url, "replica-a")).unwrap();
    wait_for("replica head 16", 30, || replica.head() == 16).await;
    assert_eq!(
        log(&replica_store),
        log(&writer),
        "the forged 13 was not applied"
    );
    assert!(replica_store.verify().unwrap().ok);
    let st = replica.status();
    assert_eq!(st.rejected, 1, "{st:?}");
    let r = st.last_rejection.unwrap();
    assert_eq!(r.seq, Some(13));
    assert!(
        r.reason.contains("hash"),
        "reason names the hash: {}",
        r.reason
    );
    assert_eq!(st.state, ReplicaState::Following);
    replica.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn held_messages_are_applied_as_a_run_once_the_gap_fills_refusing_a_forged_one() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let url = nats.url();
    let writer = Store::open(dir.path().join("writer")).unwrap();
    let replica_store = Store::open(dir.path().join("replica")).unwrap();
    append_many(&writer, 0, 10).await;
    let relay = Relay::spawn(writer.clone(), relay_cfg(&url)).unwrap();
    let mut cfg = replica_cfg(&url, "replica-a");
    cfg.gap_timeout = Duration::from_secs(30); // the gap below is filled long before
    let replica = Replica::spawn(replica_store.clone(), cfg).unwrap();
    wait_for("replica head 10", 30, || replica.head() == 10).await;
    relay.shutdown().await;

    append_many(&writer, 10, 6).await;
    let events = log(&writer);
    let mut forged = events[13].clone(); // seq 14, correctly linked, data changed
    forged.data = serde_json::json!({ "n": 999, "tampered": true });
    forged.id = uuid::Uuid::new_v4();
    let js = jetstream::new(async_nats::connect(url.clone()).await.unwrap());
    // 12, 13, a forged 14, 15, 16 are held (11 is missing); then 11 and the real 14.
    let order = [&events[11], &events[12], &forged, &events[14], &events[15]]
        .into_iter()
        .chain([&events[10], &events[13]]);
    for env in order {
        js.send_publish(
            "reception.events.visit",
            jetstream::message::PublishMessage::build()
                .payload(serde_json::to_vec(env).unwrap().into())
                .message_id(env.id.to_string()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }

    wait_for("replica head 16", 30, || replica.head() == 16).await;
    assert_eq!(
        log(&replica_store),
        log(&writer),
        "the forged 14 was not applied"
    );
    assert!(replica_store.verify().unwrap().ok);
    let st = replica.status();
    assert_eq!(st.rejected, 1, "{st:?}");
    assert_eq!(st.last_rejection.unwrap().seq, Some(14));
    wait_for("state following", 10, || {
        replica.status().state == ReplicaState::Following
    })
    .await;
    replica.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_not_enabled_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start_without_jetstream(dir.path());
    let err = check_jetstream(
        &nats.url(),
        &NatsAuth::default(),
        &StreamSettings::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, NatsError::JetStreamNotEnabled { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("JetStream is not enabled"),
        "{err}"
    );

    // The relay keeps the writer going and shows the reason.
    let writer = Store::open(dir.path().join("writer")).unwrap();
    let relay = Relay::spawn(writer.clone(), relay_cfg(&nats.url())).unwrap();
    append_many(&writer, 0, 3).await;
    wait_for("relay reports the error", 10, || {
        relay
            .status()
            .last_error
            .is_some_and(|e| e.contains("JetStream is not enabled"))
    })
    .await;
    assert_eq!(relay.lag(), 3);
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_over_the_servers_max_payload_stops_the_relay_loudly_instead_of_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start_with_config(&dir.path().join("js"), "max_payload: 2048\n");
    let writer = Store::open(dir.path().join("writer")).unwrap();
    append_many(&writer, 0, 5).await;
    // A 3 KB event: within the store's envelope limit, over this server's max_payload.
    let id = uuid::Uuid::new_v4();
    writer
        .append(reception_store::AppendRequest {
            stream: "visit-big".into(),
            expected: reception_store::ExpectedVersion::Any,
            events: vec![reception_store::NewEvent {
                id,
                event_type: "TestHappened".into(),
                schema: 1,
                data: serde_json::json!({ "pad": "x".repeat(3_000) }),
                occurred_at: None,
                actor: reception_store::Actor {
                    user: "tester".into(),
                    role: "reception".into(),
                },
                correlation_id: id,
                causation_id: id,
            }],
            idempotency: None,
        })
        .await
        .unwrap();
    append_many(&writer, 5, 5).await;

    let relay = Relay::spawn(writer.clone(), relay_cfg(&nats.url())).unwrap();
    wait_for("the relay stops on the large event", 20, || {
        relay
            .status()
            .last_error
            .is_some_and(|e| e.contains("stopped") && e.contains("max_payload"))
    })
    .await;
    let status = relay.status();
    assert_eq!(
        status.cursor, 5,
        "everything before it is published: {status:?}"
    );
    assert!(status.last_error.unwrap().contains("seq 6"));
    // And it stays stopped: no retry publishes anything more.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(relay.status().published, status.published);
    assert!(!relay.status().connected);
}
