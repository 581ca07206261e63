//! Test support: a real nats-server with JetStream on a free port, and store helpers.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reception_store::{Actor, AppendRequest, Envelope, ExpectedVersion, NewEvent, Store};
use uuid::Uuid;

/// A nats-server child process with JetStream, killed on drop.
pub struct NatsServer {
    pub port: u16,
    pub store_dir: PathBuf,
    jetstream: bool,
    /// A configuration file given with `-c` (the flags still set port and JetStream).
    config: Option<PathBuf>,
    child: Option<Child>,
}

/// The nats-server binary: `$NATS_SERVER_BIN`, else `nats-server` on PATH, else /usr/sbin.
fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("NATS_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let path = std::env::var("PATH").unwrap_or_default();
    for dir in path
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/local/bin"])
    {
        let p = Path::new(dir).join("nats-server");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "nats-server not found (looked in $NATS_SERVER_BIN, PATH, /usr/sbin): these tests need a \
         real server; install it, e.g. `apt-get install -y nats-server`"
    );
}

/// Logs to the test output, filtered by RUST_LOG (default: warnings).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .unwrap()
        .port()
}

impl NatsServer {
    /// Starts `nats-server -js -sd <store_dir>` on a free port and waits until it listens.
    pub fn start(store_dir: &Path) -> NatsServer {
        init_logs();
        let mut s = NatsServer {
            port: free_port(),
            store_dir: store_dir.to_path_buf(),
            jetstream: true,
            config: None,
            child: None,
        };
        s.spawn();
        s
    }

    /// Starts `nats-server -js` with `config` (configuration file text) added.
    pub fn start_with_config(store_dir: &Path, config: &str) -> NatsServer {
        init_logs();
        std::fs::create_dir_all(store_dir).unwrap();
        let file = store_dir.join("nats.conf");
        std::fs::write(&file, config).unwrap();
        let mut s = NatsServer {
            port: free_port(),
            store_dir: store_dir.to_path_buf(),
            jetstream: true,
            config: Some(file),
            child: None,
        };
        s.spawn();
        s
    }

    /// Starts a server WITHOUT JetStream (for the "not enabled" error).
    pub fn start_without_jetstream(store_dir: &Path) -> NatsServer {
        let mut s = NatsServer {
            port: free_port(),
            store_dir: store_dir.to_path_buf(),
            jetstream: false,
            config: None,
            child: None,
        };
        s.spawn();
        s
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new(binary());
        if let Some(config) = &self.config {
            cmd.arg("-c").arg(config);
        }
        cmd.args(["-a", "127.0.0.1", "-p", &self.port.to_string()]);
        if self.jetstream {
            cmd.arg("-js").arg("-sd").arg(&self.store_dir);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start nats-server: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILLs the server (no clean shutdown).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and store dir.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Appends one event to stream `stream` (any version).
pub async fn append(store: &Store, stream: &str, n: u64) {
    let actor = Actor {
        user: "tester".into(),
        role: "reception".into(),
    };
    let id = Uuid::new_v4();
    store
        .append(AppendRequest {
            stream: stream.to_string(),
            expected: ExpectedVersion::Any,
            events: vec![NewEvent {
                id,
                event_type: "TestHappened".into(),
                schema: 1,
                data: serde_json::json!({ "n": n, "pad": "x".repeat(64) }),
                occurred_at: None,
                actor,
                correlation_id: id,
                causation_id: id,
            }],
            idempotency: None,
        })
        .await
        .expect("append on the writer must succeed");
}

/// Appends `count` events spread over a few streams of different kinds.
pub async fn append_many(store: &Store, from: u64, count: u64) {
    const STREAMS: [&str; 4] = ["visit-a", "complaint-b", "frontdesk-c", "visit-d"];
    for n in from..from + count {
        append(store, STREAMS[(n % 4) as usize], n).await;
    }
}

/// The whole raw log.
pub fn log(store: &Store) -> Vec<Envelope> {
    store
        .read_all_raw(1, usize::MAX)
        .map(|r| r.expect("read log"))
        .collect()
}

/// Waits until `cond` holds, panicking with `what` after `secs` seconds.
pub async fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
