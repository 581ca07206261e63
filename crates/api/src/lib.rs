//! The HTTP API of `shared/spec/API.md` on axum: routers, extractors, `ApiError`,
//! OpenAPI, Server-Sent Events, metrics and the dashboard page.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = reception_store::Store::open("./data")?;
//! let app = reception_app::App::new(store, Default::default());
//! let state = reception_api::AppState::new(app);
//! let router = reception_api::router(state);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, router).await?;
//! # Ok(()) }
//! ```

pub mod admin;
mod commands;
mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
mod ops;
mod queries;
pub mod read;
pub mod sse;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use reception_app::App;
use reception_projections::ReadSide;
use tokio::sync::broadcast;

pub use error::{ApiError, ErrorBody, ErrorDetail};

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
    /// The last computed board answer (see [`read::BoardCache`]).
    pub board_cache: Arc<read::BoardCache>,
    /// Status of the last online rebuild (`/api/v1/admin/rebuild`).
    pub rebuild: admin::RebuildTracker,
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
        }
    }

    /// Wires a read side: the query routes answer from it, the board stream gets its
    /// changes ([`read::spawn_board_feed`], so call this inside a tokio runtime) and,
    /// unless a probe is already set, `/readyz` reports its lag
    /// ([`read::readiness_probe`] without extra parts).
    pub fn with_read_side(mut self, read: ReadSide) -> AppState {
        self.board_changes = Some(read::spawn_board_feed(read.clone(), self.app.clone()));
        if self.readiness.is_none() {
            self.readiness = Some(read::readiness_probe(read.clone(), Vec::new()));
        }
        self.read_side = Some(read);
        self
    }
}

/// The whole API: commands, queries from the log, the read-side queries (answered from
/// [`AppState::read_side`], 503 without one) and the operational routes.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// [`router`] plus `extra` routes, which get the same auth extractors, limits, metrics
/// and tracing as everything else.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let timeout = state.request_timeout;
    // Install the process's metrics recorder before the first request is counted.
    metrics::handle();
    let api = Router::new()
        .merge(commands::router())
        .merge(queries::router())
        // ---- READ SIDE: board, costs, customers, complaints queries ----
        .merge(read::router())
        .merge(admin::router())
        .merge(extra)
        .merge(ops::router())
        .fallback(ops::fallback);
    api.layer(axum::middleware::from_fn(metrics::track_requests))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                axum::response::IntoResponse::into_response(ApiError::Internal(
                    "a handler panicked".into(),
                ))
            },
        ))
        .layer(axum::middleware::from_fn(
            move |req, next: axum::middleware::Next| async move {
                // Times the handler up to its response head (streams such as SSE continue).
                match tokio::time::timeout(timeout, next.run(req)).await {
                    Ok(res) => res,
                    Err(_) => axum::response::IntoResponse::into_response(ApiError::Timeout(
                        timeout.as_secs(),
                    )),
                }
            },
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &axum::http::Request<_>| {
                    // Borrowed, not copied: the span records the route as it is built.
                    let route = req
                        .extensions()
                        .get::<axum::extract::MatchedPath>()
                        .map_or("unmatched", |m| m.as_str());
                    tracing::info_span!("http", method = req.method().as_str(), route)
                },
            ),
        )
        .with_state(state)
}

/// Waits until the store's head reaches `min_seq` (at most [`MIN_SEQ_WAIT`]); 503
/// `not_caught_up` otherwise.
pub async fn wait_for_head(app: &App, min_seq: Option<u64>) -> Result<(), ApiError> {
    let Some(min) = min_seq else { return Ok(()) };
    let mut rx = app.store().watch_head();
    let deadline = tokio::time::Instant::now() + MIN_SEQ_WAIT;
    loop {
        if *rx.borrow_and_update() >= min {
            return Ok(());
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => continue,
            _ => return Err(ApiError::NotCaughtUp(min)),
        }
    }
}

/// Removes every `"phone"` field at any depth (analysts never see phone numbers).
pub fn redact_phones(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.remove("phone");
            map.values_mut().for_each(redact_phones);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_phones),
        _ => {}
    }
}
