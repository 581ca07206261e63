//! The HTTP load generator against the real API router on a free loopback port, with a
//! real sled store in a temp dir: its commands are accepted and durable, its figures
//! add up (only 2xx answers count), and a wrong admin token or URL is a clear error.

use std::time::Duration;

use reception_app::{App, AppConfig};
use reception_store::Store;
use reception_tools::load::{run, run_commands, run_queries, LoadError, LoadOptions};

struct Server {
    _dir: tempfile::TempDir,
    store: Store,
    url: String,
    admin: String,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path().join("store")).expect("open store");
    let app = App::new(store.clone(), AppConfig::default());
    let token_file = app
        .bootstrap(dir.path())
        .expect("bootstrap")
        .expect("a fresh store gets an admin token");
    let admin = std::fs::read_to_string(token_file)
        .expect("admin token")
        .trim()
        .to_string();
    let router = reception_api::router(reception_api::AppState::new(app));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server {
        _dir: dir,
        store,
        url,
        admin,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_accepted_durable_and_counted() {
    let s = server().await;
    let head_before = s.store.head().0;
    let opts = LoadOptions {
        connections: 4,
        duration: Duration::from_millis(700),
    };
    let report = run(&s.url, &s.admin, opts).await.expect("load run");
    assert_eq!(report.phases.len(), 3);
    let commands = &report.phases[0];
    assert_eq!(commands.name, "commands");
    assert!(
        commands.ok >= 12,
        "at least one visit with its follow-ups: {commands:?}"
    );
    assert_eq!(
        commands.errors, 0,
        "every generated command is accepted: {:?}",
        commands.error_samples
    );
    assert!(
        commands.p50_us > 0
            && commands.p50_us <= commands.p99_us
            && commands.p99_us <= commands.max_us
    );
    // Each accepted command appended at least one event, and they are all in the store.
    let appended = s.store.head().0 - head_before;
    assert!(
        appended >= commands.ok,
        "{appended} events for {} commands",
        commands.ok
    );
    let visits = s.store.streams("visit-").count() as u64;
    assert!(
        visits >= 1 && visits <= commands.ok,
        "one visit per round of commands"
    );
    // The query phases ran (this router has no read side, so they may all be errors).
    for p in &report.phases[1..] {
        assert!(p.ok + p.errors > 0, "{p:?}");
    }
    let md = report.to_markdown();
    for row in ["| commands |", "| board |", "| costs |"] {
        assert!(md.contains(row), "{md}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_admin_token_is_refused_clearly() {
    let s = server().await;
    let err = run(
        &s.url,
        "not-a-token",
        LoadOptions {
            connections: 1,
            duration: Duration::from_millis(100),
        },
    )
    .await
    .expect_err("wrong token");
    assert!(matches!(err, LoadError::Token { .. }), "{err}");
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn bad_options_are_refused() {
    let err = run(
        "http://127.0.0.1:9",
        "x",
        LoadOptions {
            connections: 0,
            duration: Duration::from_secs(1),
        },
    )
    .await
    .expect_err("zero connections");
    assert!(err.to_string().contains("connections"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_only_runs_the_two_query_phases_and_stores_nothing_but_a_token() {
    let s = server().await;
    let head_before = s.store.head().0;
    let report = run_queries(
        &s.url,
        &s.admin,
        LoadOptions {
            connections: 2,
            duration: Duration::from_millis(300),
        },
    )
    .await
    .expect("query run");
    let names: Vec<&str> = report.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["board", "costs"]);
    assert!(report.phases.iter().all(|p| p.ok + p.errors > 0));
    assert_eq!(
        s.store.head().0,
        head_before + 1,
        "only the analyst token was appended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_2xx_answers_count_as_ok() {
    // This router has no read side: every board and costs query is answered 503, and
    // the generator must count each one as an error.
    let s = server().await;
    let report = run_queries(
        &s.url,
        &s.admin,
        LoadOptions {
            connections: 2,
            duration: Duration::from_millis(300),
        },
    )
    .await
    .expect("query run");
    for p in &report.phases {
        assert_eq!(p.ok, 0, "{p:?}");
        assert!(p.errors > 0, "{p:?}");
        assert!(
            !p.error_samples.is_empty() && p.error_samples.iter().all(|e| e.starts_with("503")),
            "the samples carry the status: {p:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_only_files_one_visit_per_round_with_its_follow_ups() {
    let s = server().await;
    let report = run_commands(
        &s.url,
        &s.admin,
        LoadOptions {
            connections: 2,
            duration: Duration::from_millis(500),
        },
    )
    .await
    .expect("commands run");
    let names: Vec<&str> = report.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["commands"]);
    let p = &report.phases[0];
    assert_eq!(p.errors, 0, "{:?}", p.error_samples);
    let visits = s.store.streams("visit-").count() as u64;
    // Twelve commands per visit (the filing, the approval and ten more), except the
    // last round of each client, cut off at the deadline.
    assert!(visits >= 1, "{p:?}");
    assert!(p.ok <= visits * 12, "{} commands for {visits} visits", p.ok);
    assert!(
        p.ok + 2 * 11 >= visits * 12,
        "{} commands for {visits} visits",
        p.ok
    );
}

#[tokio::test]
async fn only_plain_http_urls_are_accepted() {
    for url in [
        "https://127.0.0.1:9",
        "127.0.0.1:9",
        "http://127.0.0.1:9/api",
    ] {
        let err = run(
            url,
            "x",
            LoadOptions {
                connections: 1,
                duration: Duration::from_secs(1),
            },
        )
        .await
        .expect_err(url);
        assert!(matches!(err, LoadError::Options(_)), "{url}: {err}");
    }
}
