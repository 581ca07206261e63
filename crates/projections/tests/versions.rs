//! Read models carry their document version: one written under another version is
//! neither loaded nor served but rebuilt from the log at start.

mod support;

use std::time::Duration;

use reception_projections::{ReadSide, ReadSideConfig};
use serde_json::json;
use support::*;

const V1: &str = "visit-11111111-1111-4111-8111-111111111111";

fn scenario(store: &reception_store::Store) {
    append(
        store,
        V1,
        "ReceptionRequested",
        "2026-11-20T09:00:00+08:00",
        request(
            "v1",
            "Huaxin",
            "east",
            "2026-11-25T10:00:00+08:00",
            "2026-11-26T10:00:00+08:00",
            1,
            false,
        ),
    );
    append(
        store,
        V1,
        "LevelAssigned",
        "2026-11-20T10:00:00+08:00",
        json!({"level": "ordinary", "policy_version": 1}),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_model_written_under_an_older_version_is_rebuilt_at_start() {
    let (_dir, store) = store();
    scenario(&store);
    let now = utc("2026-11-21T09:00:00+08:00");
    let head = store.head().0;
    let good = {
        let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
        read.apply_batch(&all_events(&store)).unwrap();
        snapshot(&read, now)
    };
    // the board's model as an older version wrote it: its version record says 1 and a
    // document has a layout the current one cannot read
    let active = store.read_model("read-side.active").unwrap();
    assert_eq!(
        active.get(b"board.version").unwrap().as_deref(),
        Some(&b"3"[..])
    );
    active
        .commit(0, vec![(b"board.version".to_vec(), Some(b"1".to_vec()))])
        .unwrap();
    let serving = active
        .get(b"board")
        .unwrap()
        .map_or("board".to_string(), |v| String::from_utf8(v).unwrap());
    let old = store.read_model(&serving).unwrap();
    let key = format!("v/{}", V1.trim_start_matches("visit-"));
    old.commit(
        head,
        vec![(
            key.into_bytes(),
            Some(br#"{"customer":"Huaxin","plan":null}"#.to_vec()),
        )],
    )
    .unwrap();

    // at start the stale model is not loaded (it would not decode) and counts as
    // applied up to nothing, so no query is answered from it
    let cfg = ReadSideConfig {
        bulk_catch_up_min: u64::MAX,
        ..ReadSideConfig::default()
    };
    let read = ReadSide::open(&store, cfg.clone()).unwrap();
    assert_eq!(read.applied_seq(), 0);
    let follower = read.spawn();
    assert!(read.wait_for(head, Duration::from_secs(30)).await);
    assert!(
        snapshot(&read, now) == good,
        "the rebuilt model answers alike"
    );
    assert_eq!(
        active.get(b"board.version").unwrap().as_deref(),
        Some(&b"3"[..])
    );
    let now_serving = String::from_utf8(active.get(b"board").unwrap().unwrap()).unwrap();
    assert_ne!(now_serving, serving, "rebuilt into the other generation");
    follower.abort();
    let _ = follower.await;
    drop(read);

    // the next start loads the rebuilt model as it is
    let read = ReadSide::open(&store, cfg).unwrap();
    assert_eq!(read.applied_seq(), head);
    assert!(snapshot(&read, now) == good);
}

#[test]
fn a_new_read_model_is_written_under_the_current_version() {
    let (_dir, store) = store();
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    scenario(&store);
    read.apply_batch(&all_events(&store)).unwrap();
    drop(read);
    // nothing stale: the reopened read side loads its models and is caught up
    let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
    assert_eq!(read.applied_seq(), store.head().0);
    let active = store.read_model("read-side.active").unwrap();
    for name in ["board", "costs", "archive", "complaints"] {
        assert!(active
            .get(format!("{name}.version").as_bytes())
            .unwrap()
            .is_some());
    }
}
