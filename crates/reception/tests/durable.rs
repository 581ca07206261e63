//! Acknowledged means on stable storage: the store fdatasyncs sled's log file after
//! each group commit's flush (sled's own flush stops at `sync_file_range`). Watched from
//! outside with strace, which names the file each sync is for.

use std::process::Command;

#[test]
fn every_group_commit_is_followed_by_an_fdatasync_of_the_log_file() {
    if Command::new("strace").arg("-V").output().is_err() {
        panic!("strace is needed for this test (ops/test.sh installs it)");
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let trace = dir.path().join("trace.txt");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-y", "-e", "trace=fdatasync,fsync", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_reception"))
        .args(["demo", "--visits", "5", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = std::fs::read_to_string(&trace).unwrap();
    let log_file = format!("{}>", data.join("store").join("db").display());
    let syncs = trace
        .lines()
        .filter(|l| l.contains("fdatasync(") && l.contains(&log_file) && l.ends_with("= 0"))
        .count();
    // The demo's ~250 commands commit in well over a hundred groups; sled alone would
    // sync the log only from its background flusher, a handful of times.
    assert!(
        syncs >= 50,
        "{syncs} fdatasyncs of {log_file}; trace:\n{}",
        trace.lines().take(20).collect::<Vec<_>>().join("\n")
    );
}
