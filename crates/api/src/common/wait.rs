//! Read-your-writes: waiting for `min_seq` in the log or in the read side, and the
//! read side itself (503 on a node without one).

use reception_app::App;
use reception_projections::ReadSide;

use super::error::ApiError;
use super::state::{AppState, MIN_SEQ_WAIT};

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

/// Waits (at most [`MIN_SEQ_WAIT`]) until every projection applied `min_seq`; 503
/// `not_caught_up` otherwise. Without `min_seq`, answers at once.
pub async fn wait_for_read_side(read: &ReadSide, min_seq: Option<u64>) -> Result<(), ApiError> {
    match min_seq {
        Some(seq) if !read.wait_for(seq, MIN_SEQ_WAIT).await => Err(ApiError::NotCaughtUp(seq)),
        _ => Ok(()),
    }
}

/// The read side, or 503 `unavailable` on a node started without one.
pub fn read_side(state: &AppState) -> Result<&ReadSide, ApiError> {
    state
        .read_side
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("the read side is not running on this node".into()))
}
