//! The command line: one doc-commented clap struct; every flag also reads a
//! `RECEPTION_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Customer-visit reception: an event-sourced service with an audit trail.
///
/// Exit codes: 0 success; 1 the hash chain does not verify (verify, restore);
/// 2 usage error or subcommand not in this build; 3 operational failure.
#[derive(Debug, Parser)]
#[command(name = "reception", version, about, long_about = None)]
pub struct Cli {
    /// Directory holding the store (`store/`) and `admin.token`.
    #[arg(
        long,
        global = true,
        env = "RECEPTION_DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,
    /// Business time zone (IANA name): times without an explicit offset, "today" on the board.
    #[arg(
        long,
        global = true,
        env = "RECEPTION_TZ",
        default_value = "Asia/Shanghai"
    )]
    pub tz: String,
    /// Always log JSON (the default when stdout is not a terminal).
    #[arg(long, global = true, env = "RECEPTION_LOG_JSON")]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (embedded sled store). On an empty store it publishes the
    /// default policy and writes an admin token to `<data-dir>/admin.token` (mode 0600).
    Serve(ServeArgs),
    /// Print one visit's events and the state they produce, optionally as of a time.
    History {
        /// The visit id (uuid).
        #[arg(long)]
        visit: String,
        /// RFC 3339 time: only events recorded up to it.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Walk the whole hash chain; exit 0 when intact, 1 when altered or removed.
    Verify,
    /// Rebuild read models from the log (progress bar).
    Rebuild {
        /// One projection (board, costs, archive, complaints); all when omitted.
        #[arg(long)]
        projection: Option<String>,
    },
    /// Export data.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Fill the store with realistic generated visits.
    Demo {
        /// How many visits.
        #[arg(long, default_value_t = 50)]
        visits: u32,
    },
    /// Write every stored event (raw envelopes) as JSON lines to a file.
    Backup {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Load a backup into an empty data dir, re-verifying the hash chain.
    Restore {
        /// Backup file written by `reception backup`.
        #[arg(long)]
        from: PathBuf,
    },
    /// Run a read-side replica fed from NATS JetStream.
    ReadNode {
        /// NATS server URL.
        #[arg(long, env = "RECEPTION_NATS")]
        nats: String,
        /// Address to serve queries on.
        #[arg(long, env = "RECEPTION_LISTEN", default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// Every expense of a year as CSV on stdout.
    Costs {
        /// Calendar year.
        #[arg(long)]
        year: i32,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchTarget {
    /// The event store alone: durable appends, replay, stream reads.
    Store {
        /// Empty scratch directory (default `<data-dir>/bench-store`).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Events to replay.
        #[arg(long, default_value_t = 100_000)]
        replay_events: u64,
    },
}

/// `reception serve` flags.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "RECEPTION_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// NATS server URL: publish every event to JetStream for read replicas.
    #[arg(long, env = "RECEPTION_NATS")]
    pub nats: Option<String>,
    /// Seconds between passes of the C4 complaint escalation process.
    #[arg(long, env = "RECEPTION_ESCALATION_INTERVAL", default_value_t = 60)]
    pub escalation_interval: u64,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "RECEPTION_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout: u64,
    /// Seconds to finish in-flight requests after SIGTERM/SIGINT.
    #[arg(long, env = "RECEPTION_SHUTDOWN_DEADLINE", default_value_t = 10)]
    pub shutdown_deadline: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_defaults_follow_api_md() {
        let cli = Cli::try_parse_from(["reception", "serve"]).unwrap();
        assert_eq!(cli.data_dir, PathBuf::from("./data"));
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.listen.to_string(), "127.0.0.1:8080");
        assert!(args.nats.is_none());
    }
}
