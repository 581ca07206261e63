//! NATS access with the shipped server configuration (`ops/nats/reception.conf` and
//! `reception-auth.conf`): nobody connects without credentials, the relay publishes as
//! the writer's user, a replica follows as the reader's user, and the reader (anyone
//! but the writer) cannot publish an event into the stream or remove it.

mod support;

use std::time::Duration;

use async_nats::jetstream;
use reception_nats::{check_jetstream, NatsAuth, Relay, RelayConfig, Replica, ReplicaConfig};
use reception_store::Store;
use support::{append_many, log, wait_for, NatsServer};

const OPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ops/nats");

fn user(name: &str) -> NatsAuth {
    NatsAuth {
        user: Some(name.to_string()),
        password: Some(format!("{name}-pw")),
        ..NatsAuth::default()
    }
}

/// The shipped configuration with the test's store directory and passwords; the
/// address and port are the test's (`-a`, `-p` override `listen`).
fn shipped_server(dir: &std::path::Path) -> NatsServer {
    let conf = std::fs::read_to_string(format!("{OPS}/reception.conf")).unwrap();
    assert!(
        conf.lines().any(|l| l.trim() == "listen: 127.0.0.1:4222"),
        "the shipped server listens on localhost only"
    );
    assert!(conf.contains("include ./reception-auth.conf"));
    // the store directory is the test's (`-sd`), monitoring off (its port may be taken)
    let conf: String = conf
        .lines()
        .filter(|l| {
            !l.trim_start().starts_with("http:") && !l.trim_start().starts_with("store_dir:")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let auth = std::fs::read_to_string(format!("{OPS}/reception-auth.conf"))
        .unwrap()
        .replace("$RECEPTION_NATS_WRITER_PASSWORD", "\"writer-pw\"")
        .replace("$RECEPTION_NATS_READER_PASSWORD", "\"reader-pw\"");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("reception-auth.conf"), auth).unwrap();
    NatsServer::start_with_config(dir, &conf)
}

async fn client(url: &str, auth: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(auth.into(), format!("{auth}-pw"))
        .connect(url)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_the_writers_user_publishes_and_nobody_connects_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let nats = shipped_server(&dir.path().join("nats"));
    let url = nats.url();

    // No credentials, or a wrong password: refused at connect.
    assert!(async_nats::connect(&url).await.is_err());
    let err = check_jetstream(&url, &NatsAuth::default(), &Default::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
    let wrong = NatsAuth {
        password: Some("guess".into()),
        ..user("writer")
    };
    let err = check_jetstream(&url, &wrong, &Default::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.contains("guess"), "no password in errors: {err}");

    // The writer creates the stream and relays; the reader's replica follows.
    check_jetstream(&url, &user("writer"), &Default::default())
        .await
        .unwrap();
    let writer = Store::open(dir.path().join("writer")).unwrap();
    let replica_store = Store::open(dir.path().join("replica")).unwrap();
    let mut relay_cfg = RelayConfig::new(url.clone());
    relay_cfg.auth = user("writer");
    let relay = Relay::spawn(writer.clone(), relay_cfg).unwrap();
    let mut replica_cfg = ReplicaConfig::new(url.clone(), "replica-reader");
    replica_cfg.auth = user("reader");
    replica_cfg.poll_interval = Duration::from_millis(200);
    let replica = Replica::spawn(replica_store.clone(), replica_cfg).unwrap();
    append_many(&writer, 0, 50).await;
    wait_for("replica head 50", 30, || replica.head() == 50).await;
    assert_eq!(log(&replica_store), log(&writer));

    // The reader may not publish into the stream, nor delete or purge it.
    let reader = jetstream::new(client(&url, "reader").await);
    let forged = serde_json::to_vec(&log(&writer)[0]).unwrap();
    let published = match reader
        .publish("reception.events.visit", forged.into())
        .await
    {
        Ok(ack) => tokio::time::timeout(Duration::from_secs(3), ack)
            .await
            .is_ok_and(|r| r.is_ok()),
        Err(_) => false,
    };
    assert!(!published, "the reader's publish must be refused");
    assert!(reader.delete_stream("RECEPTION").await.is_err());
    let writer_js = jetstream::new(client(&url, "writer").await);
    let mut stream = writer_js.get_stream("RECEPTION").await.unwrap();
    assert_eq!(
        stream.info().await.unwrap().state.messages,
        50,
        "only the writer's 50 events are in the stream"
    );
    wait_for("relay lag 0", 10, || relay.lag() == 0).await;
    assert_eq!(replica.status().rejected, 0);
    relay.shutdown().await;
    replica.shutdown().await;
}
