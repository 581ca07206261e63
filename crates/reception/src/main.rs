//! The `reception` binary: configuration (flags and `RECEPTION_*` variables), logging,
//! the subcommands of API.md, wiring and graceful shutdown.
//!
//! Exit codes: 0 success; 1 the audit chain is broken (`verify`); 2 usage error or a
//! subcommand this build does not provide; 3 an operational failure (store locked,
//! unreadable file, ...).

mod cli;

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Parser;
use cli::{BenchTarget, Cli, Command, ExportWhat, ServeArgs};
use reception_app::{App, AppConfig};
use reception_store::{Envelope, Store};

/// Exit code: the hash chain does not verify.
const EXIT_TAMPERED: u8 = 1;
/// Exit code: usage error or subcommand not provided by this build.
const EXIT_UNAVAILABLE: u8 = 2;
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
        Command::Serve(args) => serve(&data_dir, &cli.tz, args).await,
        Command::History { visit, as_of } => history(&data_dir, &visit, as_of.as_deref(), &cli.tz),
        Command::Verify => verify(&data_dir),
        Command::Backup { out } => backup(&data_dir, &out),
        Command::Restore { from } => restore(&data_dir, &from),
        Command::Bench {
            target: BenchTarget::Store { dir, replay_events },
        } => {
            let dir = dir.unwrap_or_else(|| data_dir.join("bench-store"));
            let report = tokio::task::spawn_blocking(move || {
                reception_store::bench::run(&dir, replay_events)
            })
            .await??;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        // Provided by the integrator (read side, demo data, NATS replica).
        Command::Rebuild { .. } => not_in_this_build("rebuild"),
        Command::Export {
            what: ExportWhat::Costs { .. },
        } => not_in_this_build("export costs"),
        Command::Demo { .. } => not_in_this_build("demo"),
        Command::ReadNode { .. } => not_in_this_build("read-node"),
    }
}

fn not_in_this_build(what: &str) -> anyhow::Result<ExitCode> {
    eprintln!("error: `reception {what}` is not available in this build yet");
    Ok(ExitCode::from(EXIT_UNAVAILABLE))
}

fn open_store(data_dir: &Path) -> anyhow::Result<Store> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    Store::open(data_dir.join("store"))
        .with_context(|| format!("opening the store in {}", data_dir.display()))
}

fn parse_tz(tz: &str) -> anyhow::Result<chrono_tz::Tz> {
    tz.parse::<chrono_tz::Tz>()
        .map_err(|e| anyhow::anyhow!("--tz {tz:?} is not an IANA time zone: {e}"))
}

async fn serve(data_dir: &Path, tz: &str, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.nats.is_some() {
        eprintln!("error: --nats is not wired in this build yet");
        return Ok(ExitCode::from(EXIT_UNAVAILABLE));
    }
    let tz = parse_tz(tz)?;
    let store = open_store(data_dir)?;
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
    let follow = tokio::spawn(app.clone().follow_tokens());
    let escalation = tokio::spawn(
        app.clone()
            .escalation_loop(Duration::from_secs(args.escalation_interval.max(1))),
    );

    let mut state = reception_api::AppState::new(app.clone());
    state.request_timeout = Duration::from_secs(args.request_timeout.max(1));
    let router = reception_api::router(state);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %data_dir.display(), "reception listening");
    println!("listening on http://{addr}");

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            })
            .await
    });
    shutdown_signal().await;
    tracing::info!(
        deadline_s = args.shutdown_deadline,
        "shutting down: finishing in-flight requests"
    );
    let _ = stop_tx.send(());
    match tokio::time::timeout(Duration::from_secs(args.shutdown_deadline), server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "server error"),
        Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
        Err(_) => tracing::warn!("in-flight requests did not finish before the deadline"),
    }
    escalation.abort();
    follow.abort();
    store.close().context("closing the store")?;
    tracing::info!("store flushed and closed");
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
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

/// Writes every raw envelope as one JSON line.
fn backup(data_dir: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let store = open_store(data_dir)?;
    let (head, head_hash) = store.head();
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let bar = progress(head, "backup");
    let mut next = 1;
    while next <= head {
        let mut n = 0;
        for env in store.read_all_raw(next, 10_000) {
            let env = env?;
            if env.seq > head {
                break;
            }
            serde_json::to_writer(&mut w, &env)?;
            w.write_all(b"\n")?;
            next = env.seq + 1;
            n += 1;
        }
        bar.set_position(next - 1);
        if n == 0 {
            break;
        }
    }
    w.flush()?;
    w.get_ref().sync_all()?;
    bar.finish();
    store.close()?;
    eprintln!(
        "backed up {} events (head hash {head_hash}) to {}",
        next - 1,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Replays a backup into an empty store, re-verifying the chain event by event.
fn restore(data_dir: &Path, from: &Path) -> anyhow::Result<ExitCode> {
    let file = std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?;
    let size = file.metadata()?.len();
    let store = open_store(data_dir)?;
    if store.head().0 != 0 {
        bail!(
            "{} already holds events; restore needs an empty data dir",
            data_dir.display()
        );
    }
    let bar = progress(size, "restore (bytes)");
    let reader = std::io::BufReader::new(file);
    let mut count = 0u64;
    let mut read = 0u64;
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        read += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let env: Envelope = serde_json::from_str(&line)
            .with_context(|| format!("line {} of {} is not an envelope", i + 1, from.display()))?;
        store.append_replicated(&env).with_context(|| {
            format!(
                "line {} (seq {}) does not continue the chain",
                i + 1,
                env.seq
            )
        })?;
        count += 1;
        if count.is_multiple_of(1000) {
            bar.set_position(read.min(size));
        }
    }
    bar.finish();
    let report = store.verify()?;
    store.close()?;
    eprintln!("restored {count} events; chain ok: {}", report.ok);
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_TAMPERED)
    })
}
