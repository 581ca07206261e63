//! The store's blocking methods called in a loop from inside a tokio task, as
//! `reception restore` does: they must finish. A foreign executor polling the writer's
//! tokio reply spun forever there once the task's cooperative budget ran out.

mod support;

use std::time::Duration;

use reception_store::{ExpectedVersion, Store};
use serde_json::json;
use support::{event, req};

/// Far more calls than tokio's per-task budget (128 polls).
const CALLS: u64 = 600;

#[test]
fn blocking_appends_and_replication_in_a_loop_inside_a_tokio_task_finish() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    // The loop runs in a tokio task on a thread of its own, so that a livelock fails
    // the test by its deadline instead of hanging it.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let writer = Store::open(&a).unwrap();
            let replica = Store::open(&b).unwrap();
            for i in 0..CALLS {
                writer
                    .append_blocking(req(
                        "visit-a",
                        ExpectedVersion::Exact(i),
                        vec![event("T", json!({ "i": i }))],
                    ))
                    .unwrap();
            }
            let envs: Vec<_> = writer
                .read_all_raw(1, usize::MAX)
                .collect::<Result<_, _>>()
                .unwrap();
            for env in &envs[..envs.len() / 2] {
                assert!(replica.append_replicated(env).unwrap());
            }
            for run in envs[envs.len() / 2..].chunks(7) {
                replica.append_replicated_batch(run).unwrap();
            }
            assert_eq!(replica.head(), writer.head());
            replica.close().unwrap();
            writer.close().unwrap();
        });
        let _ = done_tx.send(());
    });
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the blocking calls inside a tokio task finished");
}
