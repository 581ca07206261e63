//! `reception token issue`: access recovered offline when the admin token is lost.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reception"))
}

/// Starts `reception serve` on the data dir; answers the child and its address.
fn serve(data: &std::path::Path) -> (std::process::Child, String) {
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(a) = line.strip_prefix("listening on http://") {
            return (child, a.to_string());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not say where it listens");
}

#[test]
fn a_lost_admin_token_is_replaced_offline_and_the_new_one_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A server made the first admin token; it is lost.
    let (mut child, _) = serve(&data);
    child.kill().unwrap();
    child.wait().unwrap();
    let lost = std::fs::read_to_string(data.join("admin.token")).unwrap();
    std::fs::remove_file(data.join("admin.token")).unwrap();

    let out = bin()
        .args([
            "token",
            "issue",
            "--role",
            "admin",
            "--user",
            "ops.wang",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = data.join("admin.token");
    let token = std::fs::read_to_string(&path).unwrap().trim().to_string();
    assert_ne!(token, lost.trim(), "a new token");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&token),
        "the token is never printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary file left: {leftovers:?}"
    );

    // The server accepts it, as admin.
    let (mut child, addr) = serve(&data);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listed: serde_json::Value = rt.block_on(async {
        let r = reqwest::Client::new()
            .get(format!("http://{addr}/api/v1/tokens"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(listed.to_string().contains("ops.wang"), "{listed}");

    // A role that does not exist is a usage error naming the flag; nothing written.
    let out = bin()
        .args(["token", "issue", "--role", "boss", "--user", "x", "--out"])
        .arg(dir.path().join("x.token"))
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role"));
    assert!(!dir.path().join("x.token").exists());
}
