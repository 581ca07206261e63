//! `Store::append_replicated_batch`: a run of envelopes copied in one commit, with the
//! same checks as one-by-one replication (gaps, broken hashes, duplicates).

mod support;

use reception_store::{Envelope, ExpectedVersion, ReplicateError, Store, StoreError};
use serde_json::json;
use support::{event, req};

/// A writer store with `appends` appends over three streams (1 to 3 events each), and
/// its log as stored.
fn writer_with_log(appends: usize) -> (tempfile::TempDir, Store, Vec<Envelope>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for i in 0..appends {
        let events = (0..=i % 3)
            .map(|k| event("T", json!({ "i": i, "k": k })))
            .collect();
        store
            .append_blocking(req(
                &format!("visit-{}", i % 3),
                ExpectedVersion::Any,
                events,
            ))
            .unwrap();
    }
    let log = store
        .read_all_raw(1, usize::MAX)
        .map(Result::unwrap)
        .collect();
    (dir, store, log)
}

fn log_of(store: &Store) -> Vec<Envelope> {
    store
        .read_all_raw(1, usize::MAX)
        .map(Result::unwrap)
        .collect()
}

#[test]
fn runs_of_any_size_copy_the_writer_exactly() {
    let (_a, writer, log) = writer_with_log(40);
    assert_eq!(log.len(), 79);
    let dir = tempfile::tempdir().unwrap();
    let replica = Store::open(dir.path()).unwrap();
    let mut at = 0;
    for size in [1usize, 2, 7, 30, 39] {
        let run = &log[at..at + size];
        assert_eq!(replica.append_replicated_batch(run).unwrap(), size);
        at += size;
        assert_eq!(replica.head().0, at as u64);
    }
    assert_eq!(at, log.len());
    assert_eq!(replica.head(), writer.head());
    assert_eq!(log_of(&replica), log);
    for s in ["visit-0", "visit-1", "visit-2"] {
        assert_eq!(
            replica.stream_version(s).unwrap(),
            writer.stream_version(s).unwrap()
        );
        let a: Vec<Envelope> = writer.read_stream(s, 1, None).map(Result::unwrap).collect();
        let b: Vec<Envelope> = replica
            .read_stream(s, 1, None)
            .map(Result::unwrap)
            .collect();
        assert_eq!(a, b, "stream {s}");
    }
    let report = replica.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.head_hash, writer.head().1);
    // The copy survives a reopen and keeps accepting ordinary appends on top.
    replica.close().unwrap();
    drop(replica);
    let replica = Store::open(dir.path()).unwrap();
    assert_eq!(log_of(&replica), log);
    let version = replica.stream_version("visit-1").unwrap();
    replica
        .append_blocking(req(
            "visit-1",
            ExpectedVersion::Exact(version),
            vec![event("T", json!({}))],
        ))
        .unwrap();
    assert!(replica.verify().unwrap().ok);
}

#[test]
fn a_gap_stops_the_run_at_the_missing_seq_keeping_what_came_before() {
    let (_a, _writer, log) = writer_with_log(6);
    let dir = tempfile::tempdir().unwrap();
    let replica = Store::open(dir.path()).unwrap();
    // Nothing continues an empty log but seq 1.
    assert!(matches!(
        replica.append_replicated_batch(&log[1..4]),
        Err(ReplicateError::Gap {
            expected: 1,
            got: 2
        })
    ));
    assert_eq!(replica.head().0, 0);
    // 1, 2, then 4: the first two are applied, the error names 4.
    let run = vec![
        log[0].clone(),
        log[1].clone(),
        log[3].clone(),
        log[4].clone(),
    ];
    match replica.append_replicated_batch(&run) {
        Err(ReplicateError::Gap { expected, got }) => assert_eq!((expected, got), (3, 4)),
        other => panic!("expected a gap at 4, got {other:?}"),
    }
    assert_eq!(replica.head(), (2, log[1].hash.clone()));
    assert!(replica.verify().unwrap().ok);
    // Filling the gap continues from there.
    assert_eq!(
        replica.append_replicated_batch(&log[2..]).unwrap(),
        log.len() - 2
    );
    assert_eq!(log_of(&replica), log);
}

#[test]
fn a_bad_envelope_mid_run_is_refused_by_seq_and_nothing_after_it_is_applied() {
    let (_a, _writer, log) = writer_with_log(6);
    let dir = tempfile::tempdir().unwrap();
    let replica = Store::open(dir.path()).unwrap();

    // Tampered data: the recomputed hash differs.
    let mut run = log[..6].to_vec();
    run[3].data = json!({ "i": 999 });
    match replica.append_replicated_batch(&run) {
        Err(ReplicateError::BadHash { seq, reason }) => {
            assert_eq!(seq, 4);
            assert!(reason.contains("recomputed"), "{reason}");
        }
        other => panic!("expected a bad hash at 4, got {other:?}"),
    }
    assert_eq!(replica.head().0, 3);
    assert_eq!(log_of(&replica), log[..3]);

    // A broken link: seq 5 claims another predecessor (its own hash made consistent
    // would not help, the link is checked first).
    let mut run = log[3..8].to_vec();
    run[1].prev_hash = "f".repeat(64);
    match replica.append_replicated_batch(&run) {
        Err(ReplicateError::BadHash { seq, reason }) => {
            assert_eq!(seq, 5);
            assert!(reason.contains("prev_hash"), "{reason}");
        }
        other => panic!("expected a broken link at 5, got {other:?}"),
    }
    assert_eq!(replica.head().0, 4);

    // A wrong stream version, hash recomputed by no one: refused as well.
    let mut run = log[4..6].to_vec();
    run[0].version += 1;
    assert!(matches!(
        replica.append_replicated_batch(&run),
        Err(ReplicateError::BadHash { seq: 5, .. })
    ));
    assert_eq!(replica.head().0, 4);

    assert_eq!(
        replica.append_replicated_batch(&log[4..]).unwrap(),
        log.len() - 4
    );
    assert_eq!(log_of(&replica), log);
    assert!(replica.verify().unwrap().ok);
}

#[test]
fn identical_duplicates_are_skipped_and_different_ones_refused() {
    let (_a, _writer, log) = writer_with_log(6);
    let dir = tempfile::tempdir().unwrap();
    let replica = Store::open(dir.path()).unwrap();
    assert_eq!(replica.append_replicated_batch(&log[..4]).unwrap(), 4);
    // A redelivery overlapping the head: the old part is skipped, the new part applied.
    assert_eq!(
        replica.append_replicated_batch(&log[2..7]).unwrap(),
        3,
        "seqs 3 and 4 are duplicates, 5 to 7 new"
    );
    // The same envelope twice in one run (the second is checked against the first).
    let run = vec![log[7].clone(), log[7].clone(), log[8].clone()];
    assert_eq!(replica.append_replicated_batch(&run).unwrap(), 2);
    // All of it again: nothing written.
    assert_eq!(replica.append_replicated_batch(&log[..9]).unwrap(), 0);
    assert_eq!(replica.head().0, 9);
    // A different event at an applied seq is refused, naming that seq.
    let mut other = log[1].clone();
    other.data = json!({ "forged": true });
    let run = vec![log[0].clone(), other, log[9].clone()];
    assert!(matches!(
        replica.append_replicated_batch(&run),
        Err(ReplicateError::BadHash { seq: 2, .. })
    ));
    assert_eq!(replica.head().0, 9, "nothing after the refused one");
    assert_eq!(replica.append_replicated_batch(&[]).unwrap(), 0);
    assert_eq!(replica.append_replicated_batch(&log[9..]).unwrap(), 3);
    assert_eq!(log_of(&replica), log);
    assert!(replica.verify().unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_variant_copies_and_wakes_watchers_once_per_run() {
    let (_a, writer, log) = writer_with_log(30);
    let dir = tempfile::tempdir().unwrap();
    let replica = Store::open(dir.path()).unwrap();
    let mut watch = replica.watch_head();
    let mut sub = replica.subscribe(1);
    for chunk in log.chunks(16) {
        let n = replica
            .append_replicated_batch_async(chunk.to_vec())
            .await
            .unwrap();
        assert_eq!(n, chunk.len());
        // The head moves by the whole run at once.
        watch.changed().await.unwrap();
        assert_eq!(*watch.borrow_and_update(), chunk.last().unwrap().seq);
    }
    let mut seen = Vec::new();
    while seen.len() < log.len() {
        seen.extend(sub.next_batch(100).await.unwrap().unwrap());
    }
    assert_eq!(seen, log);
    assert_eq!(replica.head(), writer.head());
    let mut bad = log.clone();
    bad[0].hash = "0".repeat(64);
    let r = replica
        .append_replicated_batch_async(bad[..1].to_vec())
        .await;
    assert!(matches!(r, Err(ReplicateError::BadHash { seq: 1, .. })));
    replica.close().unwrap();
    assert!(matches!(
        replica
            .append_replicated_batch_async(log[..1].to_vec())
            .await,
        Err(ReplicateError::Store(StoreError::Closed))
    ));
    assert!(matches!(
        replica.append_replicated_batch(&log[..1]),
        Err(ReplicateError::Store(StoreError::Closed))
    ));
}
