//! Server-Sent Events from a broadcast channel, with keep-alives. A client that falls
//! behind the channel's buffer is dropped: the sender never waits for anyone.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Serialize;
use tokio::sync::broadcast;

/// Seconds between keep-alive comments.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn to_event<T: Serialize>(event_name: &'static str, value: &T) -> Event {
    Event::default()
        .event(event_name)
        .json_data(value)
        .unwrap_or_else(|_| Event::default().event("error").data("unserialisable"))
}

/// What ends a stream early: the token it was opened with is revoked, or the server
/// begins to stop.
pub struct Revocable {
    /// Changes on every revocation.
    pub revocations: tokio::sync::watch::Receiver<u64>,
    /// Whether the stream's token is still accepted.
    pub still_valid: Box<dyn Fn() -> bool + Send>,
    /// True once the server is stopping.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

/// Turns a broadcast receiver into an SSE response: each message is one event named
/// `event_name` with the JSON as data; `first` (e.g. the current board) is sent first.
/// When the receiver lags (a slow client), the stream ends and the client is dropped;
/// it may reconnect and start from a fresh snapshot. With `until`, the stream also
/// ends when its token is revoked or the server stops.
pub fn from_broadcast<T>(
    first: Option<T>,
    rx: broadcast::Receiver<T>,
    event_name: &'static str,
    until: Option<Revocable>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    T: Serialize + Clone + Send + 'static,
{
    let head = futures::stream::iter(first.map(|f| Ok(to_event(event_name, &f))));
    let tail = futures::stream::unfold((rx, until), move |(mut rx, mut until)| async move {
        loop {
            enum Woke<V> {
                Message(V),
                Revocation(bool),
                Stopping,
            }
            let woke = {
                let (revocations, stopping) = match until.as_mut() {
                    Some(u) => (Some(&mut u.revocations), Some(&mut u.stopping)),
                    None => (None, None),
                };
                let revoked = async {
                    match revocations {
                        Some(r) => r.changed().await.is_ok(),
                        None => std::future::pending().await,
                    }
                };
                let stop = async {
                    match stopping {
                        Some(s) => {
                            let _ = s.wait_for(|s| *s).await;
                        }
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    v = rx.recv() => Woke::Message(v),
                    changed = revoked => Woke::Revocation(changed),
                    () = stop => Woke::Stopping,
                }
            };
            let next = match woke {
                Woke::Message(v) => v,
                Woke::Stopping => return None,
                Woke::Revocation(changed) => {
                    if changed && until.as_ref().is_some_and(|u| !(u.still_valid)()) {
                        tracing::info!("ending an SSE stream: its token was revoked");
                        return None;
                    }
                    continue;
                }
            };
            return match next {
                Ok(v) => Some((Ok(to_event(event_name, &v)), (rx, until))),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::info!(missed = n, "dropping a slow SSE client");
                    None
                }
                Err(broadcast::error::RecvError::Closed) => None,
            };
        }
    });
    Sse::new(futures::StreamExt::chain(head, tail))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
