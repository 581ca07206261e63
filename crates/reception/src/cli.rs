//! The command line: one doc-commented clap struct; every flag also reads a
//! `RECEPTION_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Customer-visit reception: an event-sourced service with an audit trail.
///
/// Exit codes: 0 success; 1 the hash chain does not verify (verify, restore);
/// 2 usage error (bad flag, unknown projection, invalid options); 3 operational failure.
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
    Serve(Box<ServeArgs>),
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
    /// Rebuild read models from the log, offline (stop the server on this data dir
    /// first), with a progress bar showing events/s and the time left. The NATS relay
    /// cursor and replica resume point are never touched.
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
    /// Fill the store with realistic, reproducible generated data (three years of
    /// visits of every level, expenses, complaints, front-desk sign-ins) through the
    /// command path. Offline: stop the server on this data dir first.
    Demo {
        /// How many visits.
        #[arg(long, default_value_t = 50)]
        visits: usize,
        /// Generator seed: the same seed gives the same data.
        #[arg(long, default_value_t = reception_tools::demo::DEFAULT_SEED)]
        seed: u64,
    },
    /// Write every stored event (raw envelopes) as JSON lines to a file, closed by a
    /// trailer line (event count, head seq, head hash); written to a temporary name,
    /// fsynced, renamed, mode 0600. Offline on the data dir (stop the server first), or
    /// online from a running server with `--url` and `--token-file` (an admin token):
    /// a consistent copy up to the head at the moment it starts.
    Backup {
        /// Output file (replaced atomically).
        #[arg(long)]
        out: PathBuf,
        /// Base URL of a running server (e.g. http://127.0.0.1:8080): back up online.
        #[arg(long, requires = "token_file")]
        url: Option<String>,
        /// File holding an admin token, for `--url`.
        #[arg(long, requires = "url")]
        token_file: Option<PathBuf>,
    },
    /// Load a backup into an empty data dir, re-verifying the hash chain and the
    /// backup's trailer; a cut or altered file is refused and nothing is kept.
    Restore {
        /// Backup file written by `reception backup`.
        #[arg(long)]
        from: PathBuf,
    },
    /// Manage API tokens offline, on the data dir (stop the server first): recovers
    /// access when `admin.token` is lost.
    Token {
        #[command(subcommand)]
        what: TokenWhat,
    },
    /// Run a read-side replica fed from NATS JetStream: it keeps its own copy of the
    /// log (hash chain checked), builds the same projections, accepts the write node's
    /// tokens and serves every query route; commands answer 503 `read_replica`.
    ReadNode(Box<ReadNodeArgs>),
    /// The write node's signing key (every event is signed; replicas and `verify`
    /// check it): show the key in force, or rotate it (offline: stop the server
    /// first; the new key is announced in the log, signed by the old one).
    SigningKey {
        #[command(subcommand)]
        what: KeyWhat,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenWhat {
    /// Issue a new token (an event in the log, like `POST /api/v1/tokens`) and write it
    /// to a file with mode 0600, atomically. Prints the file's path, never the token.
    Issue {
        /// Role of API.md: admin, requester, reception, approver, finance, frontdesk,
        /// auditor, analyst.
        #[arg(long)]
        role: String,
        /// User name the token acts as.
        #[arg(long)]
        user: String,
        /// Token file (default `<data-dir>/admin.token` for an admin, else
        /// `<data-dir>/<user>.token`). Replaced atomically if it exists.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyWhat {
    /// Print the key in force (id and public key, as JSON) and whether the data
    /// directory's key file holds it.
    Show,
    /// Generate a new key, announce it in the log signed by the current one, and keep
    /// it in `<data-dir>/signing.key` (0600).
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// A year's cost analysis (every dimension) as CSV, UTF-8 with a byte-order mark.
    Costs {
        /// Calendar year (business time zone).
        #[arg(long)]
        year: i32,
        /// Output file; stdout when omitted.
        #[arg(long)]
        out: Option<PathBuf>,
        /// One line per expense instead of the groups of every dimension.
        #[arg(long)]
        lines: bool,
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
    /// Rebuild every projection of the data dir's store (fill it with `demo` first) and
    /// time the board, cost report and customer profile queries. Offline.
    Projections,
    /// Raw JetStream ceiling, relay drain rate and append-to-replica lag against a
    /// JetStream-enabled nats-server (uses its own streams, not RECEPTION).
    Nats {
        /// NATS server URL.
        #[arg(long, env = "RECEPTION_NATS")]
        nats: String,
        /// Scratch directory for the benchmark's stores (default `<data-dir>/bench-nats`).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// HTTP load against a running server: commands, board and cost queries.
    Http {
        /// Base URL of the server, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        /// File holding an admin token (role tokens are issued with it).
        #[arg(long)]
        token_file: PathBuf,
        /// Concurrent connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds per phase.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

/// `reception read-node` flags.
#[derive(Debug, Args)]
pub struct ReadNodeArgs {
    /// NATS server URL(s) (comma-separated for a cluster).
    #[arg(long, env = "RECEPTION_NATS")]
    pub nats: String,
    /// Address to serve queries on.
    #[arg(long, env = "RECEPTION_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// The write node's URL, named in the 503 `read_replica` answer to commands, and
    /// read (with `--write-node-token-file`) to fill a gap JetStream cannot fill.
    #[arg(long, env = "RECEPTION_WRITE_NODE")]
    pub write_node: Option<String>,
    /// A token of the write node that may read its event feed (auditor or admin).
    #[arg(long, env = "RECEPTION_WRITE_NODE_TOKEN_FILE")]
    pub write_node_token_file: Option<PathBuf>,
    #[command(flatten)]
    pub nats_auth: NatsAuthArgs,
    /// The write node's public signing key (64 hex digits, `reception signing-key
    /// show` on the write node): the only key the log may adopt. Without it the
    /// replica trusts the first key the log announces, and refuses every event not
    /// signed by the key in force from then on.
    #[arg(long, env = "RECEPTION_WRITER_KEY")]
    pub writer_key: Option<String>,
    /// Durable JetStream consumer name; default `replica-<host>-<hash of the data dir>`,
    /// so that each replica (data dir) on a host keeps its own position.
    #[arg(long, env = "RECEPTION_NATS_CONSUMER")]
    pub consumer: Option<String>,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "RECEPTION_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout: u64,
    /// Seconds to finish in-flight requests after SIGTERM/SIGINT.
    #[arg(long, env = "RECEPTION_SHUTDOWN_DEADLINE", default_value_t = 10)]
    pub shutdown_deadline: u64,
}

/// Where notifications go (issue 20). Without any channel the notifier still runs:
/// everyone sees their notifications in the dashboard.
#[derive(Debug, Clone, clap::Args)]
pub struct NotifyArgs {
    /// SMTP server for e-mail notifications.
    #[arg(long, env = "RECEPTION_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP port (587: submission with STARTTLS).
    #[arg(long, env = "RECEPTION_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// `starttls` (required) or `none` (a relay on localhost).
    #[arg(long, env = "RECEPTION_SMTP_SECURITY", default_value = "starttls", value_parser = ["starttls", "none"])]
    pub smtp_security: String,
    /// SMTP user (with a password from `RECEPTION_SMTP_PASSWORD` or `--smtp-password-file`).
    #[arg(long, env = "RECEPTION_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// SMTP password (prefer the file).
    #[arg(long, env = "RECEPTION_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// File holding the SMTP password.
    #[arg(long, env = "RECEPTION_SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,
    /// `From:` of the e-mails.
    #[arg(
        long,
        env = "RECEPTION_SMTP_FROM",
        default_value = "Reception <reception@localhost>"
    )]
    pub smtp_from: String,
    /// Generic webhook: JSON POST, HMAC-SHA256 signed, the notification id as `Idempotency-Key`.
    #[arg(long, env = "RECEPTION_NOTIFY_WEBHOOK_URL")]
    pub notify_webhook_url: Option<String>,
    /// The webhook's HMAC secret (prefer the file).
    #[arg(long, env = "RECEPTION_NOTIFY_WEBHOOK_SECRET", hide_env_values = true)]
    pub notify_webhook_secret: Option<String>,
    /// File holding the webhook's HMAC secret.
    #[arg(long, env = "RECEPTION_NOTIFY_WEBHOOK_SECRET_FILE")]
    pub notify_webhook_secret_file: Option<PathBuf>,
    /// WeCom (企业微信) group robot webhook URL.
    #[arg(long, env = "RECEPTION_WECOM_ROBOT_URL")]
    pub wecom_robot_url: Option<String>,
    /// DingTalk (钉钉) group robot webhook URL.
    #[arg(long, env = "RECEPTION_DINGTALK_ROBOT_URL")]
    pub dingtalk_robot_url: Option<String>,
    /// Feishu (飞书) group robot webhook URL.
    #[arg(long, env = "RECEPTION_FEISHU_ROBOT_URL")]
    pub feishu_robot_url: Option<String>,
    /// The dashboard's public URL, for links in messages.
    #[arg(long, env = "RECEPTION_DASHBOARD_URL")]
    pub dashboard_url: Option<String>,
    /// Attempts per delivery before it is dead-lettered.
    #[arg(long, env = "RECEPTION_NOTIFY_MAX_ATTEMPTS", default_value_t = 6)]
    pub notify_max_attempts: u32,
    /// Milliseconds before the first retry (doubled after each failure, at most an hour).
    #[arg(long, env = "RECEPTION_NOTIFY_BACKOFF_MS", default_value_t = 5000)]
    pub notify_backoff_ms: u64,
    /// Seconds between passes of the reminder clock.
    #[arg(long, env = "RECEPTION_REMINDER_INTERVAL", default_value_t = 30)]
    pub reminder_interval: u64,
}

/// How the relay or replica authenticates to NATS. Secrets are read from files or the
/// environment (`RECEPTION_NATS_PASSWORD`, `RECEPTION_NATS_TOKEN`), never taken as
/// arguments, which every user of the machine can read in the process list.
#[derive(Debug, Clone, Default, Args)]
pub struct NatsAuthArgs {
    /// NATS user; its password from `--nats-password-file` or `RECEPTION_NATS_PASSWORD`.
    #[arg(long, env = "RECEPTION_NATS_USER")]
    pub nats_user: Option<String>,
    /// A file holding the NATS user's password.
    #[arg(long, env = "RECEPTION_NATS_PASSWORD_FILE", requires = "nats_user")]
    pub nats_password_file: Option<PathBuf>,
    /// A file holding a NATS token (or `RECEPTION_NATS_TOKEN`).
    #[arg(long, env = "RECEPTION_NATS_TOKEN_FILE")]
    pub nats_token_file: Option<PathBuf>,
    /// A NATS `.creds` file (user JWT and nkey seed).
    #[arg(long, env = "RECEPTION_NATS_CREDS")]
    pub nats_creds: Option<PathBuf>,
    /// A file holding an nkey seed.
    #[arg(long, env = "RECEPTION_NATS_NKEY_FILE")]
    pub nats_nkey_file: Option<PathBuf>,
    /// Refuse a NATS server that does not offer TLS (implied by `tls://` URLs).
    #[arg(long, env = "RECEPTION_NATS_TLS")]
    pub nats_tls: bool,
    /// A CA certificate (PEM) to trust for the NATS server's certificate.
    #[arg(long, env = "RECEPTION_NATS_TLS_CA")]
    pub nats_tls_ca: Option<PathBuf>,
    /// A client certificate (PEM) for servers that verify clients, with `--nats-tls-key`.
    #[arg(long, env = "RECEPTION_NATS_TLS_CERT", requires = "nats_tls_key")]
    pub nats_tls_cert: Option<PathBuf>,
    /// The client certificate's key (PEM).
    #[arg(long, env = "RECEPTION_NATS_TLS_KEY", requires = "nats_tls_cert")]
    pub nats_tls_key: Option<PathBuf>,
}

impl NatsAuthArgs {
    /// The credentials and TLS settings, secrets read from their files or the
    /// environment.
    pub fn auth(&self) -> anyhow::Result<reception_nats::NatsAuth> {
        use anyhow::Context as _;
        let secret =
            |file: &Option<PathBuf>, env: &str, flag: &str| -> anyhow::Result<Option<String>> {
                match file {
                    Some(path) => std::fs::read_to_string(path)
                        .with_context(|| format!("reading {flag} {}", path.display()))
                        .map(|s| Some(s.trim().to_string())),
                    None => Ok(std::env::var(env).ok().filter(|v| !v.is_empty())),
                }
            };
        Ok(reception_nats::NatsAuth {
            creds_file: self.nats_creds.clone(),
            nkey_seed: match &self.nats_nkey_file {
                Some(_) => secret(&self.nats_nkey_file, "", "--nats-nkey-file")?,
                None => None,
            },
            token: secret(
                &self.nats_token_file,
                "RECEPTION_NATS_TOKEN",
                "--nats-token-file",
            )?,
            user: self.nats_user.clone(),
            password: match &self.nats_user {
                Some(_) => secret(
                    &self.nats_password_file,
                    "RECEPTION_NATS_PASSWORD",
                    "--nats-password-file",
                )?,
                None => None,
            },
            tls: reception_nats::NatsTls {
                required: self.nats_tls,
                ca_file: self.nats_tls_ca.clone(),
                cert_file: self.nats_tls_cert.clone(),
                key_file: self.nats_tls_key.clone(),
            },
        })
    }
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
    /// JetStream stream replicas when `--nats` creates the stream (3 on a 3-node cluster).
    #[arg(long, env = "RECEPTION_NATS_STREAM_REPLICAS", default_value_t = 1)]
    pub nats_stream_replicas: usize,
    #[command(flatten)]
    pub nats_auth: NatsAuthArgs,
    /// Requests with an unknown token an address may make per minute before it is
    /// answered 429 (raise it only for a schema fuzzer that sends wrong tokens on purpose).
    #[arg(long, env = "RECEPTION_AUTH_FAILURES_PER_MINUTE", default_value_t = 20)]
    pub auth_failures_per_minute: u32,
    /// Seconds between passes of the C4 complaint escalation process.
    #[arg(long, env = "RECEPTION_ESCALATION_INTERVAL", default_value_t = 60)]
    pub escalation_interval: u64,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "RECEPTION_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout: u64,
    /// Seconds to finish in-flight requests after SIGTERM/SIGINT.
    #[arg(long, env = "RECEPTION_SHUTDOWN_DEADLINE", default_value_t = 10)]
    pub shutdown_deadline: u64,
    #[command(flatten)]
    pub notify: NotifyArgs,
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
        assert_eq!(args.nats_stream_replicas, 1);
    }

    #[test]
    fn read_node_takes_the_contract_flags() {
        let cli = Cli::try_parse_from([
            "reception",
            "read-node",
            "--nats",
            "nats://127.0.0.1:4222",
            "--data-dir",
            "/tmp/r",
            "--listen",
            "127.0.0.1:9000",
            "--write-node",
            "http://w:8080",
        ])
        .unwrap();
        assert_eq!(cli.data_dir, PathBuf::from("/tmp/r"));
        let Command::ReadNode(args) = cli.command else {
            panic!("not read-node")
        };
        assert_eq!(args.nats, "nats://127.0.0.1:4222");
        assert_eq!(args.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(args.write_node.as_deref(), Some("http://w:8080"));
    }
}
