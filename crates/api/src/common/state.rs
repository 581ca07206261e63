//! What every handler shares: [`AppState`], the request limits, readiness and the
//! status of the last online rebuild.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reception_app::App;
use reception_projections::ReadSide;
use serde::Serialize;
use tokio::sync::broadcast;

use super::cache::BoardCache;

/// Largest request body accepted (1 MiB); larger is 413 `too_large`.
pub const BODY_LIMIT: usize = 1 << 20;
/// How long a query with `min_seq` waits for the read model.
pub const MIN_SEQ_WAIT: Duration = Duration::from_secs(5);

/// What `/readyz` reports beyond "the store is open".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Readiness {
    /// Projections (and, on replicas, replication) caught up enough to serve.
    pub ready: bool,
    /// Sequences the read side is behind the log head.
    pub lag: u64,
    /// Anything else worth showing (per projection checkpoints, relay lag, ...).
    pub details: serde_json::Value,
}

/// The integrator's readiness probe (projections caught up, relay lag, ...).
pub type ReadinessProbe = Arc<dyn Fn() -> Readiness + Send + Sync>;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// Optional readiness probe; without one, ready = store open.
    pub readiness: Option<ReadinessProbe>,
    /// Board changes for `GET /api/v1/board/stream`; `None` answers 503 until wired.
    pub board_changes: Option<broadcast::Sender<serde_json::Value>>,
    /// On a read replica: the write node's URL (or a description); commands answer 503
    /// `read_replica` naming it.
    pub read_replica_of: Option<String>,
    /// Request timeout.
    pub request_timeout: Duration,
    /// The projections behind the read-side query routes; `None` answers them 503.
    pub read_side: Option<ReadSide>,
    /// The last computed board answer (see [`BoardCache`]).
    pub board_cache: Arc<BoardCache>,
    /// Status of the last online rebuild (`/api/v1/admin/rebuild`).
    pub rebuild: RebuildTracker,
    /// Failed authentication per client address.
    pub auth_failures: Arc<super::auth_limit::AuthLimiter>,
    /// The write node's notifier (issue 20); `None` answers its routes 503.
    pub notifier: Option<reception_notify::NotifierHandle>,
    /// Set to true when the server begins to stop: open event streams end, so that a
    /// graceful stop does not wait for dashboards that would never hang up.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// State with defaults: no probe, no board stream, a 30 s request timeout.
    pub fn new(app: App) -> AppState {
        AppState {
            app,
            readiness: None,
            board_changes: None,
            read_replica_of: None,
            request_timeout: Duration::from_secs(30),
            read_side: None,
            board_cache: Arc::default(),
            rebuild: Arc::default(),
            auth_failures: Arc::default(),
            notifier: None,
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}

/// What `GET /api/v1/admin/rebuild` reports.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RebuildStatus {
    /// `idle` (none since start), `running`, `done` or `failed`.
    #[schema(value_type = String, pattern = "^(idle|running|done|failed)$")]
    pub status: &'static str,
    /// The projection rebuilt (`null`: all).
    pub projection: Option<String>,
    /// Seqs applied so far, of `total` (the log head when the rebuild started).
    pub done: u64,
    pub total: u64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
}

impl Default for RebuildStatus {
    fn default() -> Self {
        RebuildStatus {
            status: "idle",
            projection: None,
            done: 0,
            total: 0,
            started_at: None,
            finished_at: None,
            error: None,
        }
    }
}

/// The rebuild status shared by the handlers and the rebuild thread.
pub type RebuildTracker = Arc<Mutex<RebuildStatus>>;
