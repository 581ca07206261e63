//! Integration tests of the event store on real sled in temp dirs.

mod support;

use std::sync::Arc;

use reception_store::{
    AppendError, Envelope, ExpectedVersion, ReplicateError, Store, StoreError, StoreOptions,
    Upcaster,
};
use serde_json::json;
use support::{event, idem_req, raw_sled, req};

fn seqs(store: &Store) -> Vec<u64> {
    store
        .read_all(1, usize::MAX)
        .map(|e| e.unwrap().seq)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_exact_appends_one_winner_per_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let contenders = 16;
    for v in 0..20u64 {
        let barrier = Arc::new(tokio::sync::Barrier::new(contenders));
        let mut tasks = Vec::new();
        for i in 0..contenders {
            let store = store.clone();
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                store
                    .append(req(
                        "visit-a",
                        ExpectedVersion::Exact(v),
                        vec![event("T", json!({ "writer": i }))],
                    ))
                    .await
            }));
        }
        let mut wins = 0;
        let mut conflicts = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(a) => {
                    assert_eq!(a.version, v + 1);
                    wins += 1;
                }
                Err(AppendError::Conflict {
                    stream,
                    expected,
                    actual,
                }) => {
                    assert_eq!(
                        (stream.as_str(), expected, actual),
                        ("visit-a", ExpectedVersion::Exact(v), v + 1)
                    );
                    conflicts += 1;
                }
                Err(e) => panic!("unexpected error {e}"),
            }
        }
        assert_eq!((wins, conflicts), (1, contenders - 1), "version {v}");
    }
    assert_eq!(store.stream_version("visit-a").unwrap(), 20);
    assert_eq!(seqs(&store), (1..=20).collect::<Vec<_>>());
    let versions: Vec<u64> = store
        .read_stream("visit-a", 1, None)
        .map(|e| e.unwrap().version)
        .collect();
    assert_eq!(versions, (1..=20).collect::<Vec<_>>());
    assert!(store.verify().unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_on_many_streams_get_a_gap_free_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut tasks = Vec::new();
    for w in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..20u64 {
                let stream = format!("visit-{}", w % 8);
                let a = store
                    .append(req(
                        &stream,
                        ExpectedVersion::Any,
                        vec![event("T", json!({ "w": w, "i": i })), event("U", json!({}))],
                    ))
                    .await
                    .unwrap();
                got.extend(a.events.iter().map(|e| e.seq));
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1..=32 * 20 * 2).collect::<Vec<_>>());
    assert_eq!(seqs(&store), all);
    for s in 0..8 {
        let versions: Vec<u64> = store
            .read_stream(&format!("visit-{s}"), 1, None)
            .map(|e| e.unwrap().version)
            .collect();
        assert_eq!(versions, (1..=4 * 20 * 2).collect::<Vec<_>>());
    }
    let report = store.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events_checked, 1280);
    assert_eq!(store.head(), (1280, report.head_hash));
}

#[test]
fn no_stream_and_exact_zero_refuse_an_existing_stream() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .append_blocking(req(
            "s",
            ExpectedVersion::NoStream,
            vec![event("T", json!({}))],
        ))
        .unwrap();
    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(0),
        ExpectedVersion::Exact(2),
    ] {
        let err = store
            .append_blocking(req("s", expected, vec![event("T", json!({}))]))
            .unwrap_err();
        assert!(
            matches!(err, AppendError::Conflict { actual: 1, .. }),
            "{err}"
        );
    }
    assert_eq!(store.head().0, 1);
}

#[test]
fn invalid_appends_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let cases = [
        (req("s", ExpectedVersion::Any, vec![]), "events"),
        (
            req("", ExpectedVersion::Any, vec![event("T", json!({}))]),
            "stream",
        ),
        (
            req("a\0b", ExpectedVersion::Any, vec![event("T", json!({}))]),
            "stream",
        ),
        (
            req(
                "s",
                ExpectedVersion::Any,
                vec![event("T", json!({})), event("bad type", json!({}))],
            ),
            "events[1].event_type",
        ),
    ];
    for (r, field) in cases {
        match store.append_blocking(r) {
            Err(AppendError::Invalid(msg)) => {
                assert!(msg.starts_with(field), "{msg} should name {field}")
            }
            other => panic!("expected Invalid for {field}, got {other:?}"),
        }
    }
    assert_eq!(store.head().0, 0);
}

#[tokio::test]
async fn idempotency_replays_the_first_result_and_refuses_other_content() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = store
        .append(idem_req(
            "visit-1",
            vec![event("T", json!({"n": 1}))],
            "k1",
            7,
        ))
        .await
        .unwrap();
    assert!(!first.replayed);
    assert_eq!(first.meta, json!({"entity_id": "k1"}));
    let again = store
        .append(idem_req(
            "visit-1",
            vec![event("T", json!({"n": 1}))],
            "k1",
            7,
        ))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.events, first.events);
    assert_eq!(again.meta, first.meta);
    let err = store
        .append(idem_req(
            "visit-1",
            vec![event("T", json!({"n": 2}))],
            "k1",
            8,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppendError::IdempotencyKeyReused(k) if k == "k1"),
        "{err}"
    );
    assert_eq!(
        store.head().0,
        1,
        "nothing written by the repeat or the reuse"
    );
    let (fp, stored) = store.idempotency_result("k1").unwrap().unwrap();
    assert_eq!((fp, stored.events), ([7; 32], first.events.clone()));
    assert!(store.idempotency_result("nope").unwrap().is_none());

    // Survives a reopen.
    store.close().unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let after = store
        .append(idem_req(
            "visit-1",
            vec![event("T", json!({"n": 1}))],
            "k1",
            7,
        ))
        .await
        .unwrap();
    assert!(after.replayed);
    assert_eq!(after.events, first.events);
    assert_eq!(store.head().0, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_holds_for_concurrent_repeats_in_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append(idem_req("visit-2", vec![event("T", json!({}))], "same", 1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(results.iter().filter(|a| !a.replayed).count(), 1);
    assert!(results.iter().all(|a| a.events == results[0].events));
    assert_eq!(store.head().0, 1);
}

#[test]
fn as_of_reads_and_occurred_at_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut business = event("T", json!({"n": 1}));
    business.occurred_at =
        Some(chrono::DateTime::parse_from_rfc3339("2026-11-22T09:30:00+08:00").unwrap());
    store
        .append_blocking(req("v", ExpectedVersion::Any, vec![business]))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let cut = chrono::Utc::now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    store
        .append_blocking(req(
            "v",
            ExpectedVersion::Any,
            vec![event("T", json!({"n": 2})), event("T", json!({"n": 3}))],
        ))
        .unwrap();

    let then: Vec<Envelope> = store
        .read_stream("v", 1, Some(cut))
        .map(Result::unwrap)
        .collect();
    assert_eq!(then.iter().map(|e| e.version).collect::<Vec<_>>(), vec![1]);
    assert_eq!(
        then[0].occurred_at.to_rfc3339(),
        "2026-11-22T09:30:00+08:00"
    );
    let now: Vec<Envelope> = store
        .read_stream("v", 2, None)
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        now.iter()
            .map(|e| e.data["n"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(now[0].occurred_at, now[0].recorded_at.fixed_offset());
    assert_eq!(now[0].occurred_at.offset().local_minus_utc(), 0);
    assert_eq!(store.read_stream("v", 4, None).count(), 0);
    assert_eq!(store.read_stream("other", 1, None).count(), 0);
    assert_eq!(
        store.streams("").map(Result::unwrap).collect::<Vec<_>>(),
        vec!["v".to_string()]
    );
}

#[test]
fn read_all_honours_from_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for i in 0..10 {
        store
            .append_blocking(req(
                &format!("visit-{}", i % 3),
                ExpectedVersion::Any,
                vec![event("T", json!({ "i": i }))],
            ))
            .unwrap();
    }
    let got: Vec<u64> = store.read_all(4, 3).map(|e| e.unwrap().seq).collect();
    assert_eq!(got, vec![4, 5, 6]);
    assert_eq!(store.read_all(11, 5).count(), 0);
    assert_eq!(store.read_all(0, 100).count(), 10);
    let mut names: Vec<String> = store.streams("visit-").map(Result::unwrap).collect();
    names.sort();
    assert_eq!(names, vec!["visit-0", "visit-1", "visit-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscription_switches_from_disk_to_live_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for i in 0..300 {
        store
            .append(req(
                "pre",
                ExpectedVersion::Any,
                vec![event("T", json!({ "i": i }))],
            ))
            .await
            .unwrap();
    }
    let total = 300 + 4 * 150;
    let mut sub = store.subscribe(1);
    let mut batched = store.subscribe(250);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..150 {
                    store
                        .append(req(
                            &format!("live-{w}"),
                            ExpectedVersion::Any,
                            vec![event("T", json!({ "i": i }))],
                        ))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    while seen.len() < total {
        let env = sub.next().await.unwrap().unwrap();
        seen.push(env.seq);
    }
    assert_eq!(seen, (1..=total as u64).collect::<Vec<_>>());
    let mut seen_b = Vec::new();
    while seen_b.len() < total - 249 {
        seen_b.extend(
            batched
                .next_batch(64)
                .await
                .unwrap()
                .unwrap()
                .into_iter()
                .map(|e| e.seq),
        );
    }
    assert_eq!(seen_b, (250..=total as u64).collect::<Vec<_>>());
    for w in writers {
        w.await.unwrap();
    }
    // Closing ends a caught-up subscription.
    store.close().unwrap();
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(5), sub.next())
            .await
            .unwrap()
            .is_none()
    );
    let err = store
        .append(req("x", ExpectedVersion::Any, vec![event("T", json!({}))]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppendError::Store(StoreError::Closed)),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_does_not_block_appends() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let _idle = store.subscribe(1);
    let mut head = store.watch_head();
    for i in 0..200 {
        store
            .append(req(
                "s",
                ExpectedVersion::Any,
                vec![event("T", json!({ "i": i }))],
            ))
            .await
            .unwrap();
    }
    assert_eq!(*head.borrow_and_update(), 200);
    let mut late = store.subscribe(150);
    assert_eq!(late.next_batch(1000).await.unwrap().unwrap().len(), 51);
}

/// The raw sled key of seq in the store's log (tree `events`).
fn log_key(seq: u64) -> Vec<u8> {
    let mut k = vec![b'l'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

#[test]
fn tamper_with_a_stored_byte_is_caught_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        for i in 0..10 {
            store
                .append_blocking(req(
                    "s",
                    ExpectedVersion::Any,
                    vec![event("T", json!({ "amount_fen": 1000 + i }))],
                ))
                .unwrap();
        }
        assert!(store.verify().unwrap().ok);
        store.close().unwrap();
    }
    {
        // One tree `events`, the log under `l` + first seq big-endian; each of these
        // appends is its own record, stored as the bare envelope.
        let db = raw_sled(dir.path());
        let events = db.open_tree("events").unwrap();
        let mut bytes = events.get(log_key(5)).unwrap().unwrap().to_vec();
        let pos = bytes.windows(4).position(|w| w == b"1004").unwrap();
        bytes[pos] = b'9';
        events.insert(log_key(5), bytes).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let report = store.verify().unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(5));
    assert_eq!(report.events_checked, 4);
}

/// One append of ten events is one log record (format 3): a byte altered in its fifth
/// envelope, or in the record's header, is caught at the seq it affects, and every read
/// path reports it instead of handing out a wrong event.
#[test]
fn tamper_inside_a_record_of_many_events_is_caught_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .append_blocking(req("s0", ExpectedVersion::Any, vec![event("T", json!({}))]))
            .unwrap();
        let ten = (0..10)
            .map(|i| event("T", json!({ "amount_fen": 1000 + i })))
            .collect();
        store
            .append_blocking(req("s", ExpectedVersion::Any, ten))
            .unwrap();
        assert!(store.verify().unwrap().ok);
        assert_eq!(seqs(&store), (1..=11).collect::<Vec<_>>());
        store.close().unwrap();
    }
    let record = |f: &dyn Fn(&mut Vec<u8>)| {
        let db = raw_sled(dir.path());
        let events = db.open_tree("events").unwrap();
        assert!(
            events.get(log_key(3)).unwrap().is_none(),
            "seqs 2-11 share one key"
        );
        let mut bytes = events.get(log_key(2)).unwrap().unwrap().to_vec();
        f(&mut bytes);
        events.insert(log_key(2), bytes).unwrap();
        db.flush().unwrap();
    };
    // seq 6 is the fifth event of the record (amount 1004)
    record(&|bytes| {
        let pos = bytes.windows(4).position(|w| w == b"1004").unwrap();
        bytes[pos] = b'9';
    });
    {
        let store = Store::open(dir.path()).unwrap();
        let report = store.verify().unwrap();
        assert_eq!((report.ok, report.first_bad_seq), (false, Some(6)));
        assert_eq!(report.events_checked, 5);
        let altered = store.read_stream("s", 5, None).next().unwrap().unwrap();
        assert_eq!(altered.data["amount_fen"], json!(9004));
        store.close().unwrap();
    }
    // a header that no longer matches the record's length: corrupt from its first seq
    record(&|bytes| {
        bytes.pop();
    });
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.verify().unwrap().first_bad_seq, Some(2));
    let err = store.read_all(1, 20).find_map(Result::err).unwrap();
    assert!(matches!(err, StoreError::Corrupt { seq: 2, .. }), "{err:?}");
    let err = store
        .read_stream("s", 1, None)
        .find_map(Result::err)
        .unwrap();
    assert!(matches!(err, StoreError::Corrupt { seq: 2, .. }), "{err:?}");
    assert_eq!(store.scan(1, 20).filter(Result::is_err).count(), 1);
}

/// sled 0.34 writes any page serialised over 128 KiB as a separate blob file that it
/// never fsyncs (a power cut could lose it); the store's records are sized so that a
/// leaf page full of them stays inline. Concurrent single-event appends (one record
/// per commit) and 30-event appends of ~800-byte envelopes must leave no blob behind.
#[test]
fn group_commits_never_make_sled_write_unsynced_blob_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let payload = "x".repeat(300);
    std::thread::scope(|s| {
        for w in 0..32 {
            let (store, payload) = (&store, &payload);
            s.spawn(move || {
                for i in 0..40 {
                    let n = if w % 4 == 0 { 30 } else { 1 };
                    let events = (0..n)
                        .map(|_| event("T", json!({ "note": payload, "i": i })))
                        .collect();
                    store
                        .append_blocking(req(&format!("w{w}"), ExpectedVersion::Any, events))
                        .unwrap();
                }
            });
        }
    });
    let stats = store.commit_stats();
    assert!(
        stats.records < stats.events,
        "records hold several events: {stats:?}"
    );
    assert!(store.verify().unwrap().ok);
    store.close().unwrap();
    drop(store);
    let blobs = std::fs::read_dir(dir.path().join("blobs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(blobs, 0, "sled wrote blob files");
}

/// A store of format 2 (one envelope per log key, marker `reception-store/2`) opens,
/// reads and verifies as it is, takes new appends as records, and is marked format 3.
#[test]
fn a_format_2_store_opens_and_grows_as_format_3() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        for i in 0..3 {
            store
                .append_blocking(req(
                    "s",
                    ExpectedVersion::Any,
                    vec![event("T", json!({ "i": i }))],
                ))
                .unwrap();
        }
        store.close().unwrap();
        drop(store);
        let db = raw_sled(dir.path());
        let events = db.open_tree("events").unwrap();
        events.insert(b"mformat", b"reception-store/2").unwrap();
        db.flush().unwrap();
    }
    {
        let store = Store::open(dir.path()).unwrap();
        assert!(store.verify().unwrap().ok);
        let two = vec![event("T", json!({ "i": 3 })), event("T", json!({ "i": 4 }))];
        store
            .append_blocking(req("s", ExpectedVersion::Exact(3), two))
            .unwrap();
        let is: Vec<_> = store
            .read_stream("s", 1, None)
            .map(|e| e.unwrap().data["i"].clone())
            .collect();
        assert_eq!(is, (0..5).map(|i| json!(i)).collect::<Vec<_>>());
        assert!(store.verify().unwrap().ok);
        store.close().unwrap();
    }
    let db = raw_sled(dir.path());
    let marker = db
        .open_tree("events")
        .unwrap()
        .get(b"mformat")
        .unwrap()
        .unwrap();
    assert_eq!(marker.as_ref(), b"reception-store/3");
}

#[test]
fn a_removed_event_is_caught_as_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        for _ in 0..6 {
            store
                .append_blocking(req("s", ExpectedVersion::Any, vec![event("T", json!({}))]))
                .unwrap();
        }
        store.close().unwrap();
    }
    {
        let db = raw_sled(dir.path());
        db.open_tree("events").unwrap().remove(log_key(3)).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.verify().unwrap().first_bad_seq, Some(3));
    let err = store.read_all(1, 10).find_map(Result::err).unwrap();
    assert!(matches!(err, StoreError::Corrupt { seq: 3, .. }), "{err}");
}

#[test]
fn open_refuses_locked_foreign_and_non_directories() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    match Store::open(dir.path()) {
        Err(StoreError::Locked { path }) => assert!(path.contains(&*dir.path().to_string_lossy())),
        other => panic!("expected Locked, got {:?}", other.err()),
    }
    store.close().unwrap();
    drop(store);
    Store::open(dir.path()).expect("lock released after close and drop");

    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join("notes.txt"), "hello").unwrap();
    assert!(matches!(
        Store::open(foreign.path()),
        Err(StoreError::NotAStore { .. })
    ));
    assert!(foreign.path().join("notes.txt").exists() && !foreign.path().join("db").exists());

    let file = foreign.path().join("notes.txt");
    assert!(matches!(
        Store::open(&file),
        Err(StoreError::NotAStore { .. })
    ));

    let other_sled = tempfile::tempdir().unwrap();
    {
        let db = sled::open(other_sled.path()).unwrap();
        db.insert(b"k", b"v").unwrap();
        db.flush().unwrap();
    }
    match Store::open(other_sled.path()) {
        Err(StoreError::NotAStore { reason, .. }) => {
            assert!(reason.contains("not a reception store"), "{reason}")
        }
        other => panic!("expected NotAStore, got {:?}", other.err()),
    }
}

struct AddCurrency;
impl Upcaster for AddCurrency {
    fn upcast(
        &self,
        event_type: &str,
        schema: u32,
        mut data: serde_json::Value,
    ) -> (u32, serde_json::Value) {
        if event_type == "ExpenseRecorded" && schema == 1 {
            data["currency"] = json!("CNY");
            return (2, data);
        }
        (schema, data)
    }
}

#[tokio::test]
async fn upcaster_applies_on_reads_but_not_raw_reads() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .append(req(
                "v",
                ExpectedVersion::Any,
                vec![
                    event("ExpenseRecorded", json!({"amount_fen": 100})),
                    event("T", json!({})),
                ],
            ))
            .await
            .unwrap();
        store.close().unwrap();
    }
    let store = Store::open_with(
        dir.path(),
        StoreOptions {
            upcaster: Some(Arc::new(AddCurrency)),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let from_stream = store.read_stream("v", 1, None).next().unwrap().unwrap();
    let from_all = store.read_all(1, 1).next().unwrap().unwrap();
    let from_sub = store.subscribe(1).next().await.unwrap().unwrap();
    for env in [&from_stream, &from_all, &from_sub] {
        assert_eq!(
            (env.schema, &env.data),
            (2, &json!({"amount_fen": 100, "currency": "CNY"}))
        );
    }
    let raw = store.read_all_raw(1, 1).next().unwrap().unwrap();
    assert_eq!((raw.schema, raw.data), (1, json!({"amount_fen": 100})));
    assert_eq!(store.read_all(2, 1).next().unwrap().unwrap().schema, 1);
    assert!(store.verify().unwrap().ok);
}

#[test]
fn replica_copies_the_chain_skips_duplicates_and_refuses_gaps_and_bad_hashes() {
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a = Store::open(a_dir.path()).unwrap();
    let b = Store::open(b_dir.path()).unwrap();
    for i in 0..5 {
        a.append_blocking(req(
            &format!("s{}", i % 2),
            ExpectedVersion::Any,
            vec![event("T", json!({ "i": i })), event("U", json!({}))],
        ))
        .unwrap();
    }
    let events: Vec<Envelope> = a.read_all_raw(1, usize::MAX).map(Result::unwrap).collect();
    assert!(matches!(
        b.append_replicated(&events[1]),
        Err(ReplicateError::Gap {
            expected: 1,
            got: 2
        })
    ));
    let mut forged = events[0].clone();
    forged.data = json!({"i": 99});
    assert!(matches!(
        b.append_replicated(&forged),
        Err(ReplicateError::BadHash { seq: 1, .. })
    ));
    for e in &events {
        assert!(b.append_replicated(e).unwrap());
    }
    assert!(
        !b.append_replicated(&events[3]).unwrap(),
        "a duplicate is skipped"
    );
    assert!(matches!(
        b.append_replicated(&forged),
        Err(ReplicateError::BadHash { seq: 1, .. })
    ));
    assert_eq!(a.head(), b.head());
    assert!(b.verify().unwrap().ok);
    assert_eq!(b.stream_version("s0").unwrap(), 6);
    let b_stream: Vec<Envelope> = b.read_stream("s1", 1, None).map(Result::unwrap).collect();
    let a_stream: Vec<Envelope> = a.read_stream("s1", 1, None).map(Result::unwrap).collect();
    assert_eq!(a_stream, b_stream);
    // A replica keeps accepting ordinary appends on top of the copied chain.
    b.append_blocking(req(
        "s0",
        ExpectedVersion::Exact(6),
        vec![event("T", json!({}))],
    ))
    .unwrap();
    assert!(b.verify().unwrap().ok);
}

#[test]
fn read_model_commits_data_and_checkpoint_together() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let rm = store.read_model("board").unwrap();
        assert_eq!(rm.checkpoint().unwrap(), 0);
        rm.commit(
            5,
            vec![
                (b"visit/1".to_vec(), Some(b"one".to_vec())),
                (b"visit/2".to_vec(), Some(b"two".to_vec())),
                (b"other".to_vec(), Some(b"x".to_vec())),
            ],
        )
        .unwrap();
        rm.commit(7, vec![(b"visit/1".to_vec(), None)]).unwrap();
        assert_eq!(rm.checkpoint().unwrap(), 7);
        assert_eq!(rm.get(b"visit/1").unwrap(), None);
        let other = store.read_model("costs").unwrap();
        assert_eq!(other.checkpoint().unwrap(), 0, "read models are separate");
        rm.flush().unwrap();
        store.close().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let rm = store.read_model("board").unwrap();
    assert_eq!(rm.checkpoint().unwrap(), 7);
    let scanned: Vec<(Vec<u8>, Vec<u8>)> = rm.scan_prefix(b"visit/").map(Result::unwrap).collect();
    assert_eq!(scanned, vec![(b"visit/2".to_vec(), b"two".to_vec())]);
    assert_eq!(rm.get(b"other").unwrap(), Some(b"x".to_vec()));
    rm.clear().unwrap();
    assert_eq!(rm.checkpoint().unwrap(), 0);
    assert_eq!(rm.scan_prefix(b"").count(), 0);
    assert!(
        store.verify().unwrap().ok,
        "read models do not disturb the log"
    );
}

/// Large read-model values (an archive document of a customer with hundreds of visits
/// is tens of KB) come back whole from `get` and `scan_prefix`, across a restart, yet
/// sled never holds a value over `MAX_INLINE_VALUE_BYTES`, so it writes no unsynced
/// blob files; overwriting or deleting such a value leaves none of its parts behind.
#[test]
fn large_read_model_values_are_stored_in_parts_and_read_back_whole() {
    use reception_store::MAX_INLINE_VALUE_BYTES as MAX;
    let dir = tempfile::tempdir().unwrap();
    let big = |i: usize, len: usize| -> Vec<u8> {
        (0..len).map(|j| b'a' + ((i * 7 + j) % 26) as u8).collect()
    };
    // 300 values of 40 KB: 17 of them in one leaf would be 680 KB, a blob file
    let mut expected: Vec<(Vec<u8>, Vec<u8>)> = (0..300)
        .map(|i| (format!("c/{i:04}").into_bytes(), big(i, 40_000)))
        .collect();
    // edge sizes; a binary value with leading NULs (the NATS replica's u64 resume
    // point), stored as it is; and values that begin like a part header
    expected.push((b"c/edge-max".to_vec(), big(1, MAX)));
    expected.push((b"c/edge-max+1".to_vec(), big(2, MAX + 1)));
    expected.push((b"c/u64".to_vec(), 5u64.to_be_bytes().to_vec()));
    let mut lookalike = b"\0reception-parts\0".to_vec();
    lookalike.extend_from_slice(&1u32.to_be_bytes());
    expected.push((b"c/nul".to_vec(), lookalike.clone()));
    expected.push((b"c/nul2".to_vec(), b"\0reception-parts\0x".to_vec()));
    expected.push((b"c/small".to_vec(), b"{}".to_vec()));
    expected.sort();
    {
        let store = Store::open(dir.path()).unwrap();
        let rm = store.read_model("archive").unwrap();
        for (n, chunk) in expected.chunks(50).enumerate() {
            let changes = chunk
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect();
            rm.commit(n as u64 + 1, changes).unwrap();
        }
        for (k, v) in &expected {
            assert_eq!(rm.get(k).unwrap().as_ref(), Some(v), "{k:?}");
        }
        rm.flush().unwrap();
        store.close().unwrap();
    }
    {
        let store = Store::open(dir.path()).unwrap();
        let rm = store.read_model("archive").unwrap();
        let scanned: Vec<(Vec<u8>, Vec<u8>)> = rm.scan_prefix(b"c/").map(Result::unwrap).collect();
        assert!(
            scanned == expected,
            "scan after restart: values whole, in key order"
        );
        // shrink, regrow smaller, delete, and change one key twice in a commit
        rm.commit(
            100,
            vec![
                (b"c/0000".to_vec(), Some(b"small now".to_vec())),
                (b"c/0001".to_vec(), Some(big(9, 3 * MAX))),
                (b"c/0002".to_vec(), None),
                (b"c/0003".to_vec(), Some(big(5, 5 * MAX))),
                (b"c/0003".to_vec(), Some(b"last wins".to_vec())),
            ],
        )
        .unwrap();
        for i in 4..300 {
            rm.commit(100 + i, vec![(format!("c/{i:04}").into_bytes(), None)])
                .unwrap();
        }
        assert_eq!(rm.get(b"c/0000").unwrap(), Some(b"small now".to_vec()));
        assert_eq!(rm.get(b"c/0001").unwrap(), Some(big(9, 3 * MAX)));
        assert_eq!(rm.get(b"c/0002").unwrap(), None);
        assert_eq!(rm.get(b"c/0003").unwrap(), Some(b"last wins".to_vec()));
        assert_eq!(rm.get(b"c/nul").unwrap(), Some(lookalike));
        assert_eq!(rm.get(b"c/u64").unwrap(), Some(5u64.to_be_bytes().to_vec()));
        rm.flush().unwrap();
        store.close().unwrap();
    }
    let db = raw_sled(dir.path());
    let tree = db.open_tree("rm/archive").unwrap();
    let largest = tree.iter().map(|r| r.unwrap().1.len()).max().unwrap();
    assert!(largest <= MAX, "a stored value of {largest} bytes");
    // what is left: c/0001's three parts, the edge value's two, the lookalikes' one each
    let parts = tree.scan_prefix(b"p").count();
    assert_eq!(parts, 7, "parts of overwritten or deleted values are gone");
    // a value stored before parts existed (or by any writer) that merely starts with a
    // NUL byte reads as it is
    tree.insert(b"dc/legacy", &7u64.to_be_bytes()).unwrap();
    tree.flush().unwrap();
    drop(tree);
    drop(db);
    let blobs = std::fs::read_dir(dir.path().join("blobs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(blobs, 0, "sled wrote blob files");
    let store = Store::open(dir.path()).unwrap();
    let rm = store.read_model("archive").unwrap();
    assert_eq!(
        rm.get(b"c/legacy").unwrap(),
        Some(7u64.to_be_bytes().to_vec())
    );
    store.close().unwrap();
}

#[test]
fn a_dropped_read_model_reopens_empty_and_stays_so_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<(Vec<u8>, Option<Vec<u8>>)> = (0..5000u32)
        .map(|i| (format!("k/{i:05}").into_bytes(), Some(vec![b'x'; 700])))
        .collect();
    {
        let store = Store::open(dir.path()).unwrap();
        let old = store.read_model("costs.1").unwrap();
        old.commit(9, many.clone()).unwrap();
        let kept = store.read_model("costs.2").unwrap();
        kept.commit(4, vec![(b"k/a".to_vec(), Some(b"kept".to_vec()))])
            .unwrap();
        old.flush().unwrap();
        store.drop_read_model(old).unwrap();
        let again = store.read_model("costs.1").unwrap();
        assert_eq!(again.checkpoint().unwrap(), 0);
        assert_eq!(again.scan_prefix(b"").count(), 0, "dropped means empty");
        again
            .commit(11, vec![(b"k/new".to_vec(), Some(b"n".to_vec()))])
            .unwrap();
        again.flush().unwrap();
        store.close().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let again = store.read_model("costs.1").unwrap();
    let keys: Vec<Vec<u8>> = again.scan_prefix(b"").map(|r| r.unwrap().0).collect();
    assert_eq!(
        keys,
        vec![b"k/new".to_vec()],
        "none of the dropped keys came back"
    );
    assert_eq!(again.checkpoint().unwrap(), 11);
    let kept = store.read_model("costs.2").unwrap();
    assert_eq!(kept.get(b"k/a").unwrap(), Some(b"kept".to_vec()));
    assert_eq!(
        kept.checkpoint().unwrap(),
        4,
        "other read models are untouched"
    );
}

#[test]
fn open_refuses_a_format_1_store_and_an_events_tree_without_marker() {
    // Format 1 kept five trees and its marker in `meta`.
    let old = tempfile::tempdir().unwrap();
    {
        let db = sled::open(old.path()).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert(b"format", b"reception-store/1")
            .unwrap();
        db.open_tree("log").unwrap().insert(b"k", b"v").unwrap();
        db.flush().unwrap();
    }
    match Store::open(old.path()) {
        Err(StoreError::NotAStore { reason, .. }) => {
            assert!(reason.contains("reception-store/1"), "{reason}");
            assert!(reason.contains("reception-store/3"), "{reason}");
        }
        other => panic!("expected NotAStore, got {:?}", other.err()),
    }

    let bare = tempfile::tempdir().unwrap();
    {
        let db = sled::open(bare.path()).unwrap();
        db.open_tree("events").unwrap().insert(b"x", b"y").unwrap();
        db.flush().unwrap();
    }
    match Store::open(bare.path()) {
        Err(StoreError::NotAStore { reason, .. }) => {
            assert!(reason.contains("format marker"), "{reason}")
        }
        other => panic!("expected NotAStore, got {:?}", other.err()),
    }
}

/// Stream names and idempotency keys share one tree with the log and the meta records,
/// under their own prefixes: names that spell other keys must not disturb anything.
#[test]
fn names_that_look_like_internal_keys_stay_in_their_own_keyspace() {
    let dir = tempfile::tempdir().unwrap();
    let tricky = ["mhead", "mformat", "l", "s", "h", "i"];
    {
        let store = Store::open(dir.path()).unwrap();
        for name in tricky {
            let key = format!("mhead{name}");
            let first = store
                .append_blocking(idem_req(
                    name,
                    vec![event("T", json!({ "n": name }))],
                    &key,
                    1,
                ))
                .unwrap();
            store
                .append_blocking(req(
                    name,
                    ExpectedVersion::Exact(1),
                    vec![event("T", json!({}))],
                ))
                .unwrap();
            let again = store
                .append_blocking(idem_req(name, vec![event("T", json!({}))], &key, 1))
                .unwrap();
            assert!(again.replayed && again.events == first.events, "{name}");
        }
        store.close().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head().0, 12);
    let mut listed: Vec<String> = store.streams("").map(Result::unwrap).collect();
    listed.sort();
    let mut expected: Vec<String> = tricky.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);
    for name in tricky {
        assert_eq!(store.stream_version(name).unwrap(), 2, "{name}");
        let events: Vec<Envelope> = store
            .read_stream(name, 1, None)
            .map(Result::unwrap)
            .collect();
        assert_eq!(events.len(), 2, "{name}");
        assert_eq!(events[0].data, json!({ "n": name }));
        assert!(events.iter().all(|e| e.stream == name));
    }
    assert_eq!(seqs(&store), (1..=12).collect::<Vec<_>>());
    let report = store.verify().unwrap();
    assert!(report.ok && report.events_checked == 12, "{report:?}");
}

/// Every acknowledged append is visible at once to every read path: the durable head is
/// published before callers are answered, also while other writers keep the pipeline
/// (one batch flushing, the next being prepared) busy.
#[test]
fn an_acknowledged_append_is_readable_at_once_under_concurrent_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let stream = format!("visit-{t}");
                for i in 0..40u64 {
                    let key = format!("k-{t}-{i}");
                    let a = store
                        .append_blocking(idem_req(
                            &stream,
                            vec![event("T", json!({ "i": i }))],
                            &key,
                            7,
                        ))
                        .unwrap();
                    let seq = a.events[0].seq;
                    assert!(store.head().0 >= seq, "head behind an acknowledged seq");
                    assert!(*store.watch_head().borrow() >= seq);
                    assert_eq!(store.stream_version(&stream).unwrap(), i + 1);
                    let read: Vec<u64> = store
                        .read_stream(&stream, i + 1, None)
                        .map(|e| e.unwrap().seq)
                        .collect();
                    assert_eq!(read, vec![seq]);
                    let last = store.read_all(seq, 1).next().unwrap().unwrap();
                    assert_eq!(last.seq, seq);
                    let (fp, stored) = store.idempotency_result(&key).unwrap().unwrap();
                    assert_eq!((fp, stored.events[0].seq), ([7; 32], seq));
                    assert!(store.streams("visit-").any(|s| s.unwrap() == stream));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(seqs(&store), (1..=320).collect::<Vec<_>>());
    assert!(store.verify().unwrap().ok);
}

/// Closing while writers are appending: each append either succeeds (and is on disk
/// after a reopen) or fails with `Closed`; the log stays gap-free and verifies.
#[test]
fn close_during_concurrent_appends_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let store = store.clone();
            let started = started_tx.clone();
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                for i in 0u64.. {
                    match store.append_blocking(req(
                        &format!("visit-{t}"),
                        ExpectedVersion::Any,
                        vec![event("T", json!({ "i": i })), event("U", json!({}))],
                    )) {
                        Ok(a) => acked.extend(a.events.iter().map(|e| e.seq)),
                        Err(AppendError::Store(StoreError::Closed)) => break,
                        Err(e) => panic!("unexpected error {e}"),
                    }
                    if i == 20 {
                        let _ = started.send(());
                    }
                }
                acked
            })
        })
        .collect();
    for _ in 0..6 {
        started_rx.recv().unwrap();
    }
    store.close().unwrap();
    let mut acked: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    acked.sort_unstable();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    let head = store.head().0;
    assert_eq!(seqs(&store), (1..=head).collect::<Vec<_>>());
    assert!(acked.len() >= 6 * 21 * 2);
    // nothing acknowledged is lost, and nothing refused with `Closed` was written
    assert_eq!(acked, (1..=head).collect::<Vec<_>>());
    let report = store.verify().unwrap();
    assert!(report.ok && report.events_checked == head, "{report:?}");
}

#[test]
fn an_event_over_the_envelope_limit_is_refused_naming_its_largest_field_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let big = "x".repeat(reception_store::MAX_ENVELOPE_BYTES);
    let err = store
        .append_blocking(req(
            "visit-a",
            ExpectedVersion::Any,
            vec![
                event("T", json!({ "small": 1 })),
                event("T", json!({ "note": "ok", "purpose": big })),
            ],
        ))
        .unwrap_err();
    match err {
        AppendError::TooLarge {
            index,
            field,
            bytes,
            limit,
        } => {
            assert_eq!((index, field.as_str()), (1, "data.purpose"));
            assert!(bytes > limit && limit == reception_store::MAX_ENVELOPE_BYTES);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(
        store.head().0,
        0,
        "nothing stored, not even the small event"
    );
    // Just under the limit is stored.
    let fits = "x".repeat(reception_store::MAX_ENVELOPE_BYTES - 1_000);
    store
        .append_blocking(req(
            "visit-a",
            ExpectedVersion::Any,
            vec![event("T", json!({ "purpose": fits }))],
        ))
        .unwrap();
    assert_eq!(store.head().0, 1);
}
