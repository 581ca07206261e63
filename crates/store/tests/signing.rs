//! Signed events: the writer signs every envelope once the log adopted a key; a
//! replica and `verify` accept only envelopes signed by the key in force, so an event
//! that continues the hash chain but comes from someone without the key is refused.

mod support;

use reception_store::signing::{PublicKey, Signer, KEY_ADOPTED, KEY_ROTATED, KEY_STREAM};
use reception_store::{
    Actor, AppendError, Envelope, ExpectedVersion, ReplicateError, Store, StoreOptions,
};
use serde_json::json;
use support::{event, raw_sled, req};

fn system() -> Actor {
    Actor {
        user: "reception".into(),
        role: "system".into(),
    }
}

fn append(store: &Store, stream: &str, n: usize) {
    for i in 0..n {
        store
            .append_blocking(req(
                stream,
                ExpectedVersion::Any,
                vec![event("T", json!({ "i": i }))],
            ))
            .unwrap();
    }
}

fn log_of(store: &Store) -> Vec<Envelope> {
    store
        .read_all_raw(1, usize::MAX)
        .map(Result::unwrap)
        .collect()
}

/// The next envelope after `last`, chain-valid (link and hash recomputed the way the
/// store computes them), as someone without the writer's key would forge it.
fn forge_after(last: &Envelope, event_type: &str, data: serde_json::Value) -> Envelope {
    forge(last, |env| {
        env.event_type = event_type.into();
        env.data = data;
    })
}

/// [`forge_after`] with the fields `fill` sets (seq and link done).
fn forge(last: &Envelope, fill: impl FnOnce(&mut Envelope)) -> Envelope {
    let mut env = last.clone();
    env.seq += 1;
    env.version += 1;
    env.id = uuid::Uuid::now_v7();
    fill(&mut env);
    env.prev_hash = last.hash.clone();
    env.hash = String::new();
    env.sig = None;
    let canonical = serde_json::to_vec(&env).unwrap();
    let mut h = blake3::Hasher::new();
    h.update(env.prev_hash.as_bytes());
    h.update(&canonical);
    env.hash = h.finalize().to_hex().to_string();
    env
}

/// A writer that adopted `key` after two unsigned events, then appended three more.
fn signed_writer(key: Signer) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    append(&store, "visit-1", 2);
    let adopted = store.use_signer_blocking(key, system()).unwrap();
    assert!(
        adopted.is_some(),
        "a log without a key adopts the first one"
    );
    append(&store, "visit-1", 3);
    (dir, store)
}

#[test]
fn the_writer_signs_every_event_after_the_adoption_and_verify_checks_them() {
    let key = Signer::from_seed([1; 32]);
    let public = key.public().clone();
    let (_dir, store) = signed_writer(key);
    let log = log_of(&store);
    assert_eq!(log.len(), 6);
    assert!(
        log[..2].iter().all(|e| e.sig.is_none()),
        "written before signing began"
    );
    assert_eq!(log[2].stream, KEY_STREAM);
    assert_eq!(log[2].event_type, KEY_ADOPTED);
    assert_eq!(log[2].data["public_key"], public.to_hex());
    for e in &log[2..] {
        public.verify(&e.hash, e.sig.as_deref().unwrap()).unwrap();
    }
    let report = store.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.signed, 4);
    assert_eq!(report.key_id.as_deref(), Some(public.id()));
    assert_eq!(store.key_in_force().unwrap(), Some(public));
}

#[test]
fn a_signed_log_refuses_appends_from_a_store_without_its_key() {
    let (dir, store) = signed_writer(Signer::from_seed([1; 32]));
    store.close().unwrap();
    drop(store);
    let reopened = Store::open(dir.path()).unwrap();
    let err = reopened
        .append_blocking(req(
            "visit-1",
            ExpectedVersion::Any,
            vec![event("T", json!({}))],
        ))
        .unwrap_err();
    assert!(matches!(err, AppendError::Unsigned { .. }), "{err}");
    let other = reopened.use_signer_blocking(Signer::from_seed([2; 32]), system());
    assert!(matches!(other, Err(AppendError::Invalid(_))), "{other:?}");
    // the key in force signs again; nothing is announced twice
    let again = reopened
        .use_signer_blocking(Signer::from_seed([1; 32]), system())
        .unwrap();
    assert!(again.is_none());
    append(&reopened, "visit-1", 1);
    assert!(reopened.verify().unwrap().ok);
    let direct = reopened.append_blocking(req(
        KEY_STREAM,
        ExpectedVersion::Any,
        vec![event(KEY_ROTATED, json!({}))],
    ));
    assert!(matches!(direct, Err(AppendError::Invalid(m)) if m.contains(KEY_STREAM)));
}

#[test]
fn a_replica_refuses_a_chain_valid_event_not_signed_by_the_key_in_force() {
    let (_a, writer) = signed_writer(Signer::from_seed([1; 32]));
    let log = log_of(&writer);
    let dir = tempfile::tempdir().unwrap();
    let replica = Store::open(dir.path()).unwrap();
    assert_eq!(replica.append_replicated_batch(&log).unwrap(), log.len());
    let last = log.last().unwrap();

    // unsigned, signed by another key, another key's signature under the right id
    let unsigned = forge_after(last, "TokenIssued", json!({"role": "admin"}));
    let mut by_other = unsigned.clone();
    by_other.sig = Some(Signer::from_seed([9; 32]).sign(&by_other.hash));
    let mut relabelled = by_other.clone();
    let id = last.sig.as_deref().unwrap().split_once(':').unwrap().0;
    relabelled.sig = Some(format!(
        "{id}:{}",
        by_other.sig.as_deref().unwrap().split_once(':').unwrap().1
    ));
    for forged in [unsigned, by_other, relabelled] {
        match replica.append_replicated_batch(std::slice::from_ref(&forged)) {
            Err(ReplicateError::BadSignature { seq, .. }) => assert_eq!(seq, forged.seq),
            other => panic!("a forged event was not refused: {other:?}"),
        }
        assert_eq!(replica.head(), writer.head(), "nothing of it was applied");
    }

    // the writer's next event still applies
    append(&writer, "visit-1", 1);
    let next = log_of(&writer).pop().unwrap();
    assert_eq!(replica.append_replicated_batch(&[next]).unwrap(), 1);
    assert!(replica.verify().unwrap().ok);
}

#[test]
fn a_replica_pinned_to_a_key_refuses_a_log_adopting_another() {
    let (_a, writer) = signed_writer(Signer::from_seed([1; 32]));
    let log = log_of(&writer);
    let pinned = Signer::from_seed([2; 32]).public().clone();
    let dir = tempfile::tempdir().unwrap();
    let replica = Store::open_with(
        dir.path(),
        StoreOptions {
            trusted_key: Some(pinned.clone()),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    match replica.append_replicated_batch(&log) {
        Err(ReplicateError::BadSignature { seq: 3, reason }) => {
            assert!(reason.contains(pinned.id()), "{reason}")
        }
        other => panic!("the adoption of another key was not refused: {other:?}"),
    }
    assert_eq!(
        replica.head().0,
        2,
        "the unsigned events before the adoption apply"
    );
}

#[test]
fn a_rotation_is_signed_by_the_old_key_and_later_events_by_the_new_one() {
    let (_a, writer) = signed_writer(Signer::from_seed([1; 32]));
    let old = Signer::from_seed([1; 32]).public().clone();
    let next = Signer::from_seed([3; 32]);
    let new: PublicKey = next.public().clone();
    let rotation = writer.rotate_signer_blocking(next, system()).unwrap();
    append(&writer, "visit-2", 2);
    let log = log_of(&writer);
    let at = usize::try_from(rotation.events[0].seq).unwrap() - 1;
    assert_eq!(log[at].event_type, KEY_ROTATED);
    old.verify(&log[at].hash, log[at].sig.as_deref().unwrap())
        .unwrap();
    for e in &log[at + 1..] {
        new.verify(&e.hash, e.sig.as_deref().unwrap()).unwrap();
    }
    let report = writer.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.key_id.as_deref(), Some(new.id()));

    let dir = tempfile::tempdir().unwrap();
    let replica = Store::open(dir.path()).unwrap();
    assert_eq!(replica.append_replicated_batch(&log).unwrap(), log.len());
    // after the rotation the old key's signature no longer counts
    let mut stale = forge_after(log.last().unwrap(), "T", json!({}));
    stale.sig = Some(Signer::from_seed([1; 32]).sign(&stale.hash));
    assert!(matches!(
        replica.append_replicated_batch(&[stale]),
        Err(ReplicateError::BadSignature { .. })
    ));
    // nor does a rotation announced by someone without the key
    let intruder = Signer::from_seed([4; 32]);
    let key_stream_version = log.iter().filter(|e| e.stream == KEY_STREAM).count() as u64;
    let mut takeover = forge(log.last().unwrap(), |env| {
        env.stream = KEY_STREAM.into();
        env.version = key_stream_version + 1;
        env.event_type = KEY_ROTATED.into();
        env.data = serde_json::to_value(intruder.announcement(Some(&new))).unwrap();
    });
    takeover.sig = Some(intruder.sign(&takeover.hash));
    assert!(matches!(
        replica.append_replicated_batch(&[takeover]),
        Err(ReplicateError::BadSignature { .. })
    ));
}

/// Writes `forged` (consecutive, after the log's head) into the store's sled tree by
/// hand, as someone with the disk but without the key could.
fn write_by_hand(dir: &std::path::Path, forged: &[Envelope]) {
    let db = raw_sled(dir);
    let events = db.open_tree("events").unwrap();
    let bytes: Vec<Vec<u8>> = forged
        .iter()
        .map(|e| serde_json::to_vec(e).unwrap())
        .collect();
    let envelopes: Vec<(u64, &[u8])> = forged
        .iter()
        .zip(&bytes)
        .map(|(e, b)| (e.seq, b.as_slice()))
        .collect();
    let index: Vec<(&str, u64, u64)> = forged
        .iter()
        .map(|e| (e.stream.as_str(), e.version, e.seq))
        .collect();
    let last = forged.last().unwrap();
    for (k, v) in reception_store::raw::commit_records(&envelopes, &index) {
        if k == b"mhead" {
            let mut head = last.seq.to_be_bytes().to_vec();
            head.extend_from_slice(last.hash.as_bytes());
            events.insert(k, head).unwrap();
        } else {
            events.insert(k, v).unwrap();
        }
    }
    db.flush().unwrap();
}

#[test]
fn verify_names_the_first_event_not_signed_by_the_key_in_force() {
    let key = Signer::from_seed([1; 32]);
    let key_id = key.public().id().to_string();
    let (dir, store) = signed_writer(key);
    let log = log_of(&store);
    store.close().unwrap();
    drop(store);
    // signed by another key under the right id (found only when the signatures are
    // verified, in a batch), then an unsigned one (found at once)
    let mut first = forge_after(log.last().unwrap(), "TokenIssued", json!({"role": "admin"}));
    let other = Signer::from_seed([8; 32]).sign(&first.hash);
    first.sig = Some(format!("{key_id}:{}", other.split_once(':').unwrap().1));
    let second = forge_after(&first, "T", json!({}));
    write_by_hand(dir.path(), &[first.clone(), second]);
    let reopened = Store::open(dir.path()).unwrap();
    let report = reopened.verify().unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(first.seq), "{report:?}");
    assert_eq!(report.events_checked, first.seq - 1);
    assert_eq!(report.head_hash, log.last().unwrap().hash);
    assert_eq!(report.signed, 4);
    assert!(
        report
            .reason
            .as_deref()
            .unwrap()
            .contains("does not verify"),
        "{report:?}"
    );
}

#[test]
fn verify_names_an_unsigned_event_written_into_a_signed_log() {
    let (dir, store) = signed_writer(Signer::from_seed([1; 32]));
    let log = log_of(&store);
    store.close().unwrap();
    drop(store);
    let forged = forge_after(log.last().unwrap(), "TokenIssued", json!({"role": "admin"}));
    write_by_hand(dir.path(), std::slice::from_ref(&forged));
    let reopened = Store::open(dir.path()).unwrap();
    let report = reopened.verify().unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(forged.seq));
    assert!(
        report.reason.as_deref().unwrap().contains("unsigned"),
        "{report:?}"
    );
}
