//! The `reception` binary: configuration (flags and `RECEPTION_*` variables), logging,
//! the subcommands of API.md, wiring and graceful shutdown.
//!
//! Exit codes: 0 success; 1 the audit chain is broken (`verify`, `restore`); 2 usage
//! error (bad flag, unknown projection, invalid demo or load options); 3 an operational
//! failure (store locked, unreadable file, NATS without JetStream, ...).

mod backup;
mod cli;
mod keys;
mod notify;
mod online;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use cli::{BenchTarget, Cli, Command, ExportWhat, KeyWhat, ReadNodeArgs, ServeArgs, TokenWhat};
use reception_api::read::{readiness_probe, ExtraReadiness, READY_MAX_LAG};
use reception_app::{App, AppConfig};
use reception_nats::{
    default_consumer_name, Relay, RelayConfig, RelayHandle, Replica, ReplicaConfig,
};
use reception_projections::{ReadSide, ReadSideConfig, PROJECTIONS};
use reception_store::{Envelope, Store, StoreOptions};
use reception_tools::demo::{DemoError, DemoOptions};
use reception_tools::load::{LoadError, LoadOptions};
use std::sync::{Arc, Mutex};

/// mimalloc instead of the system allocator: a command or query allocates many small
/// JSON values and strings across the runtime's threads, where glibc malloc showed as
/// a large share of the server's CPU samples under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code: the hash chain does not verify.
const EXIT_TAMPERED: u8 = 1;
/// Exit code: usage error.
const EXIT_USAGE: u8 = 2;
/// Exit code: operational failure.
const EXIT_FAILURE: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// JSON logs when stdout is not a terminal (or `--log-json`), human ones otherwise.
/// `RUST_LOG` filters; default `info`.
fn init_tracing(force_json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sled=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if force_json || !std::io::stdout().is_terminal() {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let data_dir = cli.data_dir.clone();
    match cli.command {
        Command::Serve(args) => serve(&data_dir, &cli.tz, *args).await,
        Command::History { visit, as_of } => history(&data_dir, &visit, as_of.as_deref(), &cli.tz),
        Command::Verify => verify(&data_dir),
        Command::Backup {
            out,
            url: Some(url),
            token_file: Some(token_file),
        } => online::backup_online(&url, &token_file, &out).await,
        Command::Backup { out, .. } => backup::backup(&data_dir, &out),
        Command::Restore { from } => backup::restore(&data_dir, &from),
        Command::Token {
            what: TokenWhat::Issue { role, user, out },
        } => issue_token(&data_dir, &role, &user, out),
        Command::Bench {
            target: BenchTarget::Store { dir, replay_events },
        } => {
            let dir = dir.unwrap_or_else(|| data_dir.join("bench-store"));
            let report = tokio::task::spawn_blocking(move || {
                reception_bench::store::run(&dir, replay_events)
            })
            .await??;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            target: BenchTarget::Projections,
        } => {
            let store = open_store(&data_dir)?;
            let bench_store = store.clone();
            let report = tokio::task::spawn_blocking(move || {
                reception_bench::projections::bench_rebuild(&bench_store)
            })
            .await??;
            store.close()?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            target: BenchTarget::Nats { nats, dir },
        } => {
            let dir = dir.unwrap_or_else(|| data_dir.join("bench-nats"));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let report = reception_bench::nats::run(&nats, &dir).await?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            target:
                BenchTarget::Http {
                    url,
                    token_file,
                    connections,
                    seconds,
                },
        } => bench_http(&url, &token_file, connections, seconds).await,
        Command::Rebuild { projection } => rebuild(&data_dir, &cli.tz, projection.as_deref()),
        Command::Export {
            what: ExportWhat::Costs { year, out, lines },
        } => export_costs(&data_dir, &cli.tz, year, out.as_deref(), lines),
        Command::Demo { visits, seed } => demo(&data_dir, &cli.tz, visits, seed).await,
        Command::ReadNode(args) => read_node(&data_dir, &cli.tz, *args).await,
        Command::SigningKey {
            what: KeyWhat::Show,
        } => keys::show(&data_dir),
        Command::SigningKey {
            what: KeyWhat::Rotate,
        } => keys::rotate(&data_dir),
    }
}

fn open_store(data_dir: &Path) -> anyhow::Result<Store> {
    open_store_with(data_dir, StoreOptions::default())
}

/// Every store the binary opens reads through the domain's upcasters (load, replay,
/// subscriptions and the NATS relay all read through the store).
fn open_store_with(data_dir: &Path, mut opts: StoreOptions) -> anyhow::Result<Store> {
    opts.upcaster.get_or_insert_with(reception_app::upcaster);
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    Store::open_with(data_dir.join("store"), opts)
        .with_context(|| format!("opening the store in {}", data_dir.display()))
}

/// sled's page cache for `reception rebuild`: the rebuild reads every log page once,
/// so caching the log only costs memory (fresh pages are zeroed by the kernel, which
/// showed as seconds of system time with the serving default of 2 GiB).
const REBUILD_CACHE_CAPACITY: u64 = 256 << 20;

fn parse_tz(tz: &str) -> anyhow::Result<chrono_tz::Tz> {
    tz.parse::<chrono_tz::Tz>()
        .map_err(|e| anyhow::anyhow!("--tz {tz:?} is not an IANA time zone: {e}"))
}

/// A running server: the listener's address and a way to stop it.
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Binds `listen`, prints `listening on http://ADDR` and serves `router` until stopped.
async fn start_http(listen: SocketAddr, router: axum::Router) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "reception listening");
    println!("listening on http://{addr}");
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        })
        .await
    });
    Ok(Running { stop, task })
}

/// Waits for SIGTERM/SIGINT, then stops accepting and gives in-flight requests
/// `deadline_s` seconds.
async fn stop_on_signal(
    signal: impl std::future::Future<Output = ()>,
    running: Running,
    deadline_s: u64,
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
) {
    signal.await;
    tracing::info!(deadline_s, "shutting down: finishing in-flight requests");
    // event streams never end on their own: end them, then wait for the rest
    stopping.send_replace(true);
    let _ = running.stop.send(());
    match tokio::time::timeout(Duration::from_secs(deadline_s), running.task).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "server error"),
        Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
        Err(_) => tracing::warn!("in-flight requests did not finish before the deadline"),
    }
}

fn read_side_config(tz: chrono_tz::Tz) -> ReadSideConfig {
    ReadSideConfig {
        tz,
        ..ReadSideConfig::default()
    }
}

/// `reception serve`: store, bootstrap, read side, token follower, C4 loop, optional
/// NATS relay, HTTP until SIGTERM/SIGINT.
async fn serve(data_dir: &Path, tz: &str, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let tz = parse_tz(tz)?;
    let store = keys::open_signed(data_dir)?;
    let relay_cfg = match &args.nats {
        None => None,
        Some(url) => {
            let mut cfg = RelayConfig::new(url.clone());
            cfg.stream.replicas = args.nats_stream_replicas.max(1);
            cfg.auth = args.nats_auth.auth()?;
            reception_nats::check_jetstream(url, &cfg.auth, &cfg.stream)
                .await
                .with_context(|| {
                    format!("checking JetStream at {}", reception_nats::redact_url(url))
                })?;
            Some(cfg)
        }
    };
    let notify_cfg = notify::config(&args.notify)?;
    let app = App::new(store.clone(), AppConfig { tz, clock: None });
    let boot_app = app.clone();
    let boot_dir = data_dir.to_path_buf();
    if let Some(path) = tokio::task::spawn_blocking(move || boot_app.bootstrap(&boot_dir)).await?? {
        tracing::info!(path = %path.display(), "created the first admin token");
        println!("admin token written to {} (mode 0600)", path.display());
    } else {
        let path = data_dir.join("admin.token");
        if path.exists() {
            tracing::info!(path = %path.display(), "admin token file");
        }
    }
    reception_api::metrics::handle();
    let read = ReadSide::open(&store, read_side_config(tz)).context("opening the read side")?;
    let projections = read.spawn();
    let follow = tokio::spawn(app.clone().follow_tokens());
    let escalation = tokio::spawn(
        app.clone()
            .escalation_loop(Duration::from_secs(args.escalation_interval.max(1))),
    );
    let relay: Arc<Mutex<Option<RelayHandle>>> = Arc::new(Mutex::new(None));
    if let Some(cfg) = relay_cfg {
        let handle = Relay::spawn(store.clone(), cfg).context("starting the NATS relay")?;
        *relay.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        tracing::info!("publishing every event to NATS JetStream");
    }

    let notifier = reception_notify::Notifier::spawn(app.clone(), notify_cfg)
        .context("starting the notifier")?;
    let mut state = reception_api::AppState::new(app.clone()).with_read_side(read.clone());
    state.auth_failures = Arc::new(reception_api::AuthLimiter::new(
        args.auth_failures_per_minute,
    ));
    state.request_timeout = Duration::from_secs(args.request_timeout.max(1));
    let mut extra: Vec<(&'static str, ExtraReadiness)> = Vec::new();
    if args.nats.is_some() {
        let relay = relay.clone();
        // Appends never wait for NATS: the relay's state is shown, not required.
        extra.push((
            "relay",
            Arc::new(move || {
                let g = relay.lock().unwrap_or_else(|p| p.into_inner());
                let status = g.as_ref().map(|r| r.status());
                if let Some(s) = &status {
                    metrics::gauge!("reception_relay_lag").set(s.lag as f64);
                }
                (true, serde_json::to_value(status).unwrap_or_default())
            }),
        ));
    }
    state.readiness = Some(readiness_probe(read.clone(), extra));
    let state = state.with_notifier(notifier.clone());
    let stopping = state.stopping.clone();
    let router = reception_api::router_with(state, reception_web::router_with_tz(tz.name()));
    tracing::info!(data_dir = %data_dir.display(), "serving");
    // listening for the signals before the address is announced: a stop sent as soon
    // as the server says where it listens is a graceful one
    let signal = shutdown_signal();
    let running = start_http(args.listen, router).await?;
    stop_on_signal(signal, running, args.shutdown_deadline, stopping).await;

    let handle = relay.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(handle) = handle {
        handle.shutdown().await;
        tracing::info!("NATS relay stopped; cursor saved");
    }
    escalation.abort();
    notifier.abort();
    follow.abort();
    projections.abort();
    store.close().context("closing the store")?;
    tracing::info!("store flushed and closed");
    Ok(ExitCode::SUCCESS)
}

/// The default durable consumer of a replica: `replica-<host>-<8 hex of the data dir>`,
/// so that two replicas on one host never share a consumer, and a restarted replica
/// (same data dir) resumes with its own.
fn consumer_for(data_dir: &Path) -> String {
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let hash = blake3::hash(dir.to_string_lossy().as_bytes()).to_hex();
    format!("{}-{}", default_consumer_name(), &hash.as_str()[..8])
}

/// `reception read-node`: a local log fed from JetStream, the same projections and
/// query routes; commands answer 503 `read_replica`. No bootstrap, no C4 loop.
async fn read_node(data_dir: &Path, tz: &str, args: ReadNodeArgs) -> anyhow::Result<ExitCode> {
    let tz = parse_tz(tz)?;
    let trusted_key = args
        .writer_key
        .as_deref()
        .map(reception_store::signing::PublicKey::from_hex)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--writer-key: {e}"))?;
    if trusted_key.is_none() {
        tracing::warn!(
            "no --writer-key: the replica trusts the first signing key the log announces"
        );
    }
    let store = open_store_with(
        data_dir,
        StoreOptions {
            trusted_key,
            ..StoreOptions::default()
        },
    )?;
    let consumer = args
        .consumer
        .clone()
        .unwrap_or_else(|| consumer_for(data_dir));
    let mut replica_cfg = ReplicaConfig::new(args.nats.clone(), consumer.clone());
    replica_cfg.auth = args.nats_auth.auth()?;
    if let (Some(base), Some(file)) = (&args.write_node, &args.write_node_token_file) {
        let token = std::fs::read_to_string(file)
            .with_context(|| format!("reading --write-node-token-file {}", file.display()))?;
        replica_cfg.heal = Some(reception_nats::HealSource {
            base: base.clone(),
            token: token.trim().to_string(),
        });
    }
    let replica_cfg_auth_method = replica_cfg.auth.method();
    let replica =
        Replica::spawn(store.clone(), replica_cfg).context("starting the NATS replica")?;
    tracing::info!(
        %consumer,
        nats = %reception_nats::redact_url(&args.nats),
        auth = replica_cfg_auth_method,
        "replicating from NATS JetStream"
    );
    let replica = Arc::new(Mutex::new(Some(replica)));
    reception_api::metrics::handle();
    let app = App::new(store.clone(), AppConfig { tz, clock: None });
    let read = ReadSide::open(&store, read_side_config(tz)).context("opening the read side")?;
    let projections = read.spawn();
    let follow = tokio::spawn(app.clone().follow_tokens());

    let mut state = reception_api::AppState::new(app).with_read_side(read.clone());
    state.request_timeout = Duration::from_secs(args.request_timeout.max(1));
    state.read_replica_of = Some(
        args.write_node
            .clone()
            .unwrap_or_else(|| "(not configured on this replica: --write-node)".into()),
    );
    let status_of = replica.clone();
    let extra: Vec<(&'static str, ExtraReadiness)> = vec![(
        "replica",
        Arc::new(move || {
            let g = status_of.lock().unwrap_or_else(|p| p.into_inner());
            match g.as_ref().map(|r| r.status()) {
                Some(s) => {
                    metrics::gauge!("reception_replica_lag").set(s.lag as f64);
                    replica_readiness(&s)
                }
                None => (false, serde_json::Value::Null),
            }
        }),
    )];
    state.readiness = Some(readiness_probe(read.clone(), extra));
    let stopping = state.stopping.clone();
    let router = reception_api::router_with(state, reception_web::router_with_tz(tz.name()));
    // listening for the signals before the address is announced: a stop sent as soon
    // as the server says where it listens is a graceful one
    let signal = shutdown_signal();
    let running = start_http(args.listen, router).await?;
    stop_on_signal(signal, running, args.shutdown_deadline, stopping).await;

    let handle = replica.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(handle) = handle {
        handle.shutdown().await;
        tracing::info!("NATS replica stopped; resume point saved");
    }
    follow.abort();
    projections.abort();
    store.close().context("closing the store")?;
    Ok(ExitCode::SUCCESS)
}

/// `reception rebuild`: drops and rebuilds read models offline, with a progress bar.
fn rebuild(data_dir: &Path, tz: &str, only: Option<&str>) -> anyhow::Result<ExitCode> {
    if let Some(name) = only {
        if !PROJECTIONS.contains(&name) {
            eprintln!(
                "error: unknown projection {name:?}; valid projections: {}",
                PROJECTIONS.join(", ")
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    }
    let cfg = read_side_config(parse_tz(tz)?);
    let store = open_store_with(
        data_dir,
        StoreOptions {
            cache_capacity: Some(REBUILD_CACHE_CAPACITY),
            ..StoreOptions::default()
        },
    )?;
    let bar = progress(store.head().0, only.unwrap_or("rebuild all"));
    let started = std::time::Instant::now();
    reception_projections::rebuild(&store, &cfg, only, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish();
    let total = store.head().0;
    store.close()?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "rebuilt {} from {total} events in {secs:.2} s ({:.0} events/s)",
        only.unwrap_or("every projection"),
        total as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

/// Applies the log above the read side's checkpoints (offline commands).
fn catch_up(store: &Store, read: &ReadSide) -> anyhow::Result<()> {
    loop {
        let from = read.applied_seq() + 1;
        if from > store.head().0 {
            return Ok(());
        }
        let batch: Vec<Envelope> = store.read_all(from, 4096).collect::<Result<_, _>>()?;
        if batch.is_empty() {
            return Ok(());
        }
        read.apply_batch(&batch)?;
    }
}

/// `reception export costs --year Y [--out F] [--lines]`.
fn export_costs(
    data_dir: &Path,
    tz: &str,
    year: i32,
    out: Option<&Path>,
    lines: bool,
) -> anyhow::Result<ExitCode> {
    if !(1900..=9999).contains(&year) {
        eprintln!("error: --year must be a calendar year from 1900 to 9999, got {year}");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let store = open_store(data_dir)?;
    let read = ReadSide::open(&store, read_side_config(parse_tz(tz)?))?;
    catch_up(&store, &read)?;
    let csv = if lines {
        read.costs_lines_csv(year)
    } else {
        read.costs_csv(year)
    };
    match out {
        Some(path) => {
            std::fs::write(path, &csv).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote the {year} cost analysis to {}", path.display());
        }
        None => std::io::stdout().write_all(&csv)?,
    }
    store.close()?;
    Ok(ExitCode::SUCCESS)
}

/// `reception demo --visits N [--seed S]`.
async fn demo(data_dir: &Path, tz: &str, visits: usize, seed: u64) -> anyhow::Result<ExitCode> {
    let tz = parse_tz(tz)?;
    let store = keys::open_signed(data_dir)?;
    let app = App::new(store.clone(), AppConfig { tz, clock: None });
    let boot_app = app.clone();
    let boot_dir = data_dir.to_path_buf();
    if let Some(path) = tokio::task::spawn_blocking(move || boot_app.bootstrap(&boot_dir)).await?? {
        println!("admin token written to {} (mode 0600)", path.display());
    }
    let opts = DemoOptions {
        visits,
        seed,
        ..DemoOptions::default()
    };
    let bar = progress(visits as u64, "demo visits");
    let result = reception_tools::demo::generate(&app, opts, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await;
    bar.finish();
    let summary = match result {
        Ok(s) => s,
        Err(DemoError::Options(m)) => {
            eprintln!("error: {m}");
            store.close()?;
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        Err(e) => {
            store.close()?;
            return Err(e.into());
        }
    };
    store.close()?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(ExitCode::SUCCESS)
}

/// `reception bench http`.
async fn bench_http(
    url: &str,
    token_file: &Path,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<ExitCode> {
    let token = std::fs::read_to_string(token_file)
        .with_context(|| format!("reading the admin token from {}", token_file.display()))?;
    let opts = LoadOptions {
        connections,
        duration: Duration::from_secs(seconds),
    };
    match reception_tools::load::run(url, token.trim(), opts).await {
        Ok(report) => {
            println!("{}", report.to_markdown());
            Ok(ExitCode::SUCCESS)
        }
        Err(LoadError::Options(m)) => {
            eprintln!("error: {m}");
            Ok(ExitCode::from(EXIT_USAGE))
        }
        Err(e) => Err(e.into()),
    }
}

/// SIGTERM or SIGINT (Ctrl-C).
/// SIGTERM or SIGINT, listened for from the call on (not from the first poll).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {},
                _ = wait(int) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn history(
    data_dir: &Path,
    visit: &str,
    as_of: Option<&str>,
    tz: &str,
) -> anyhow::Result<ExitCode> {
    let id: uuid::Uuid = visit
        .parse()
        .with_context(|| format!("--visit {visit:?} is not a visit id (uuid)"))?;
    let as_of = as_of
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .with_context(|| format!("--as-of {t:?} is not RFC 3339"))
        })
        .transpose()?;
    let store = open_store(data_dir)?;
    let app = App::new(
        store.clone(),
        AppConfig {
            tz: parse_tz(tz)?,
            clock: None,
        },
    );
    let stream = App::stream_name::<reception_domain::visit::Visit>(id);
    let loaded = app.history::<reception_domain::visit::Visit>(
        &stream,
        as_of.map(|t| t.with_timezone(&chrono::Utc)),
    )?;
    let out = serde_json::json!({ "stream": stream, "as_of": as_of, "events": loaded.events, "state": loaded.state });
    println!("{}", serde_json::to_string_pretty(&out)?);
    store.close()?;
    Ok(ExitCode::SUCCESS)
}

fn verify(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let store = open_store(data_dir)?;
    let report = store.verify()?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    store.close()?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_TAMPERED)
    })
}

fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A replica is ready while it follows the stream within [`READY_MAX_LAG`]; one stuck
/// on a gap is not, whatever its lag, and says which seq it waits for.
fn replica_readiness(s: &reception_nats::ReplicaStatus) -> (bool, serde_json::Value) {
    let mut details = serde_json::to_value(s).unwrap_or_default();
    let (ready, reason) = match s.state {
        reception_nats::ReplicaState::Gap { expected, got } => (
            false,
            Some(format!(
                "stuck on a gap: waiting for seq {expected}, the stream's next is {got}"
            )),
        ),
        _ if s.lag > READY_MAX_LAG => (false, Some(format!("{} events behind", s.lag))),
        _ => (true, None),
    };
    if let (Some(reason), Some(map)) = (reason, details.as_object_mut()) {
        map.insert("reason".into(), reason.into());
    }
    (ready, details)
}

/// `reception token issue`: a token made offline, for when no admin token is left.
fn issue_token(
    data_dir: &Path,
    role: &str,
    user: &str,
    out: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    let role = match reception_domain::Role::parse(role) {
        Some(r) if r != reception_domain::Role::System => r,
        _ => {
            eprintln!(
                "error: --role {role:?} is not a role; one of: {}",
                reception_domain::Role::ALL_HUMAN
                    .map(|r| r.as_str())
                    .join(", ")
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let out = out.unwrap_or_else(|| match role {
        reception_domain::Role::Admin => data_dir.join("admin.token"),
        _ => data_dir.join(format!("{user}.token")),
    });
    let store = keys::open_signed(data_dir)?;
    let tokens = reception_app::TokenRegistry::new();
    tokens.load(&store)?;
    let by = reception_domain::Actor::system();
    let token = tokens
        .issue_blocking(&store, user, role, &by)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    store.close()?;
    reception_app::write_secret(&out, &token).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{} token for {user} written to {} (mode 0600)",
        role.as_str(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
