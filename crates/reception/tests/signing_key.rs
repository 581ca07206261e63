//! The write node's signing key in the data directory: generated on the first command
//! that appends (0600), checked by `verify`, rotated by `reception signing-key rotate`,
//! and required once the log is signed.

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reception"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn issue(data: &Path, user: &str) -> Output {
    run(&["token", "issue", "--role", "admin", "--user", user], data)
}

#[test]
fn the_first_append_makes_a_key_verify_checks_it_and_a_rotation_hands_over() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(issue(&data, "ops.wang").status.success());
    let key_file = data.join("signing.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the secret key is its owner's only");
    }
    let shown = json(&run(&["signing-key", "show"], &data));
    let first = shown["key_id"].as_str().unwrap().to_string();
    assert_eq!(shown["key_file_matches"], true);
    assert_eq!(shown["public_key"].as_str().unwrap().len(), 64);

    let report = json(&run(&["verify"], &data));
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["signed"], 2, "the adoption and the token: {report}");
    assert_eq!(report["key_id"], first.as_str());

    let rotated = json(&run(&["signing-key", "rotate"], &data));
    let second = rotated["key_id"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    assert!(!data.join("signing.key.next").exists());
    assert!(issue(&data, "ops.li").status.success());
    let report = json(&run(&["verify"], &data));
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["signed"], 4, "{report}");
    assert_eq!(report["key_id"], second.as_str());
    assert_eq!(
        json(&run(&["signing-key", "show"], &data))["key_file_matches"],
        true
    );

    // Without the key nothing more is written, and the error says what to restore.
    std::fs::remove_file(&key_file).unwrap();
    let refused = issue(&data, "ops.zhao");
    assert_eq!(refused.status.code(), Some(3));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("signing.key") && err.contains(&second),
        "{err}"
    );
    assert_eq!(json(&run(&["verify"], &data))["signed"], 4);
}

#[test]
fn a_backup_named_by_a_bare_file_name_keeps_the_key_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(issue(&data, "ops.wang").status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_reception"))
        .args(["backup", "--out", "b.jsonl", "--data-dir"])
        .arg(&data)
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(dir.path().join("b.jsonl.signing.key")).unwrap(),
        std::fs::read(data.join("signing.key")).unwrap()
    );
}

#[test]
fn a_rotation_cut_short_is_finished_or_dropped_by_what_the_log_says() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(issue(&data, "ops.wang").status.success());
    let before = std::fs::read(data.join("signing.key")).unwrap();
    // a next key that never reached the log: dropped, the old key signs on
    std::fs::write(data.join("signing.key.next"), "11".repeat(32)).unwrap();
    assert!(issue(&data, "ops.li").status.success());
    assert!(!data.join("signing.key.next").exists());
    assert_eq!(std::fs::read(data.join("signing.key")).unwrap(), before);
    assert_eq!(json(&run(&["verify"], &data))["ok"], true);
}
