//! NATS over TLS with client certificates: a private CA signs the server's and the
//! client's certificates; the relay and a replica trust that CA and present their
//! certificate; a client that does not trust the CA, or has no certificate, is refused.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use reception_nats::{
    check_jetstream, NatsAuth, NatsTls, Relay, RelayConfig, Replica, ReplicaConfig,
};
use reception_store::Store;
use support::{append_many, log, wait_for, NatsServer};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (the tests make their certificates with it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and a certificate it signs for `name` (with `san` as subjectAltName).
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=reception test CA",
        ],
    );
    for (name, san) in [
        ("server", "IP:127.0.0.1,DNS:localhost"),
        ("client", "DNS:relay"),
    ] {
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}-key.pem"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        std::fs::write(
            dir.join(format!("{name}.ext")),
            format!("subjectAltName={san}\nextendedKeyUsage=serverAuth,clientAuth\n"),
        )
        .unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ],
        );
    }
}

fn tls(dir: &Path, ca: bool, cert: bool) -> NatsAuth {
    let p = |f: &str| -> Option<PathBuf> { Some(dir.join(f)) };
    NatsAuth {
        tls: NatsTls {
            required: true,
            ca_file: if ca { p("ca.pem") } else { None },
            cert_file: if cert { p("client.pem") } else { None },
            key_file: if cert { p("client-key.pem") } else { None },
        },
        ..NatsAuth::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_and_replica_speak_tls_with_client_certificates_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    certificates(&certs);
    let c = |f: &str| certs.join(f).display().to_string();
    let nats = NatsServer::start_with_config(
        &dir.path().join("js"),
        &format!(
            "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n  ca_file: \"{}\"\n  verify: true\n  timeout: 2\n}}\n",
            c("server.pem"),
            c("server-key.pem"),
            c("ca.pem")
        ),
    );
    let url = nats.url();
    let settings = reception_nats::StreamSettings::default();

    // Nobody without the CA and a certificate gets in.
    for (what, auth) in [
        ("no TLS", NatsAuth::default()),
        (
            "a client that does not trust the CA",
            tls(&certs, false, true),
        ),
        ("a client without a certificate", tls(&certs, true, false)),
    ] {
        let refused = check_jetstream(&url, &auth, &settings).await;
        assert!(refused.is_err(), "{what} was let in");
    }
    check_jetstream(&url, &tls(&certs, true, true), &settings)
        .await
        .expect("the relay's certificate and the CA are accepted");

    let writer = Store::open(dir.path().join("writer")).unwrap();
    let replica_store = Store::open(dir.path().join("replica")).unwrap();
    append_many(&writer, 0, 20).await;
    let mut relay_cfg = RelayConfig::new(url.clone());
    relay_cfg.auth = tls(&certs, true, true);
    let relay = Relay::spawn(writer.clone(), relay_cfg).unwrap();
    let mut replica_cfg = ReplicaConfig::new(url.clone(), "replica-tls");
    replica_cfg.auth = tls(&certs, true, true);
    let replica = Replica::spawn(replica_store.clone(), replica_cfg).unwrap();
    wait_for("replica head 20 over TLS", 30, || replica.head() == 20).await;
    assert_eq!(log(&replica_store), log(&writer));
    relay.shutdown().await;
    replica.shutdown().await;
}
