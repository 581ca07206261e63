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
pub mod analysis;
pub mod audit;
pub mod board;
mod common;
pub mod complaints;
pub mod costs;
pub mod customers;
pub mod frontdesk;
pub mod me;
pub mod metrics;
pub mod notifications;
pub mod openapi;
pub mod ops;
pub mod policy;
pub mod sse;
pub mod staff;
pub mod tokens;
pub mod visits;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use reception_projections::ReadSide;
use utoipa_axum::router::OpenApiRouter;

pub use common::auth_limit::AuthLimiter;
pub use common::cache::BoardCache;
pub use common::extract;
pub use common::state::{
    AppState, Readiness, ReadinessProbe, RebuildStatus, RebuildTracker, BODY_LIMIT, MIN_SEQ_WAIT,
};
pub use common::{redact_phones, wait_for_head, ApiError, ErrorBody, ErrorDetail};

/// The read-side wiring under its former path (`reception_api::read::...`), used by the
/// binary: the board feed, the board cache and the readiness probe.
pub mod read {
    pub use crate::board::{spawn_board_feed, BOARD_MAX_LIMIT, BOARD_STREAM_BUFFER};
    pub use crate::common::cache::BoardCache;
    pub use crate::common::wait::wait_for_read_side;
    pub use crate::ops::{readiness_probe, ExtraReadiness, READY_MAX_LAG};
}

impl AppState {
    /// Wires a read side: the query routes answer from it, the board stream gets its
    /// changes ([`board::spawn_board_feed`], so call this inside a tokio runtime) and,
    /// unless a probe is already set, `/readyz` reports its lag
    /// ([`ops::readiness_probe`] without extra parts).
    pub fn with_read_side(mut self, read: ReadSide) -> AppState {
        self.board_changes = Some(board::spawn_board_feed(read.clone(), self.app.clone()));
        if self.readiness.is_none() {
            self.readiness = Some(ops::readiness_probe(read.clone(), Vec::new()));
        }
        self.read_side = Some(read);
        self
    }
}

impl AppState {
    /// Wires the write node's notifier: `/api/v1/me/notifications` and the dead letters
    /// answer from its outbox, and `/readyz` shows it under `details.notifier` (a
    /// failing channel is listed there; it does not make the node unready).
    pub fn with_notifier(mut self, notifier: reception_notify::NotifierHandle) -> AppState {
        let inner = self.readiness.take();
        let shown = notifier.clone();
        self.readiness = Some(std::sync::Arc::new(move || {
            let mut r = match &inner {
                Some(p) => p(),
                None => Readiness {
                    ready: true,
                    lag: 0,
                    details: serde_json::json!({}),
                },
            };
            if let Some(d) = r.details.as_object_mut() {
                d.insert(
                    "notifier".into(),
                    serde_json::to_value(shown.status()).unwrap_or_default(),
                );
            }
            r
        }));
        self.notifier = Some(notifier);
        self
    }
}

/// Every route of the API, each declared with its OpenAPI operation: [`router_with`]
/// serves them and [`openapi::document`] describes them, from this one declaration.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(visits::router())
        .merge(complaints::router())
        .merge(frontdesk::router())
        .merge(policy::router())
        .merge(tokens::router())
        .merge(board::router())
        .merge(costs::router())
        .merge(analysis::router())
        .merge(customers::router())
        .merge(audit::router())
        .merge(admin::router())
        .merge(me::router())
        .merge(staff::router())
        .merge(notifications::router())
        .merge(ops::router())
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
    let (routes, _) = api().split_for_parts();
    let api = routes.merge(extra).fallback(ops::fallback);
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
