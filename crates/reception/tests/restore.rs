//! `reception backup` and `reception restore` on a store of real size: the restore
//! finishes, and the restored store answers as the original does.

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reception"))
}

fn ok(out: Output) -> Output {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn run(args: &[&str], data: &Path) -> Output {
    ok(bin()
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap())
}

#[test]
fn a_demo_store_of_twenty_thousand_events_backs_up_and_restores_to_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (data, restored) = (dir.path().join("data"), dir.path().join("restored"));
    let (backup, again) = (dir.path().join("b.jsonl"), dir.path().join("b2.jsonl"));
    run(&["demo", "--visits", "400"], &data);
    run(&["backup", "--out", backup.to_str().unwrap()], &data);
    let text = std::fs::read_to_string(&backup).unwrap();
    let events = text.lines().count() - 1; // the last line is the trailer
    assert!(text.lines().last().unwrap().starts_with("{\"trailer\""));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "a backup is readable by its owner only"
        );
    }
    assert!(events >= 20_000, "a store of real size: {events} events");

    run(&["restore", "--from", backup.to_str().unwrap()], &restored);

    let verify = |d: &Path| -> serde_json::Value {
        serde_json::from_slice(&run(&["verify"], d).stdout).unwrap()
    };
    let report = verify(&restored);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["events_checked"], events as u64);
    assert_eq!(report, verify(&data), "the same chain, to the head hash");
    assert!(report["signed"].as_u64().unwrap() > 20_000, "{report}");
    // the signing key came with the backup: the restored node signs on with it
    assert_eq!(
        std::fs::read(restored.join("signing.key")).unwrap(),
        std::fs::read(data.join("signing.key")).unwrap()
    );

    // Byte for byte the same log: a backup of the restored store equals the original.
    run(&["backup", "--out", again.to_str().unwrap()], &restored);
    assert!(
        std::fs::read_to_string(&again).unwrap() == text,
        "the restored store's backup differs from the original backup"
    );
    run(
        &["token", "issue", "--role", "auditor", "--user", "au.chen"],
        &restored,
    );
    assert_eq!(verify(&restored)["ok"], true);

    // And the same answers: a visit's history (its state as the domain folds it).
    let visits: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split("\"stream\":\"visit-").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .step_by(997)
        .take(5)
        .collect();
    assert_eq!(visits.len(), 5);
    for visit in visits {
        let args = ["history", "--visit", visit];
        let (a, b) = (run(&args, &data).stdout, run(&args, &restored).stdout);
        assert!(!a.is_empty(), "history of {visit} answers");
        assert_eq!(a, b, "history of visit {visit}");
    }
}

fn refused(from: &Path, data: &Path) -> String {
    let out = bin()
        .args(["restore", "--from"])
        .arg(from)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "refused as an operational failure"
    );
    assert!(
        !data.join("store").exists() && !data.join(".store.restoring").exists(),
        "no half-restored store is left"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_cut_or_altered_backup_is_refused_and_nothing_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("b.jsonl");
    run(&["demo", "--visits", "20"], &data);
    run(&["backup", "--out", backup.to_str().unwrap()], &data);
    let text = std::fs::read_to_string(&backup).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // Cut at a line boundary: the trailer is gone.
    let cut = dir.path().join("cut.jsonl");
    std::fs::write(&cut, lines[..lines.len() / 2].join("\n") + "\n").unwrap();
    let err = refused(&cut, &dir.path().join("r1"));
    assert!(err.contains("no trailer"), "{err}");

    // Lines dropped before an intact trailer.
    let short = dir.path().join("short.jsonl");
    let mut kept: Vec<&str> = lines[..lines.len() - 4].to_vec();
    kept.push(lines[lines.len() - 1]);
    std::fs::write(&short, kept.join("\n") + "\n").unwrap();
    let err = refused(&short, &dir.path().join("r2"));
    assert!(err.contains("trailer"), "{err}");

    // A payload altered in the middle: the hash chain refuses it, naming the line.
    let altered = dir.path().join("altered.jsonl");
    let at = lines.len() / 2;
    let changed = lines[at].replacen("\"data\":{", "\"data\":{\"x\":1,", 1);
    assert_ne!(changed, lines[at]);
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    edited[at] = changed;
    std::fs::write(&altered, edited.join("\n") + "\n").unwrap();
    let err = refused(&altered, &dir.path().join("r3"));
    assert!(err.contains(&format!("line {}", at + 1)), "{err}");
}
