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

/// Turns a broadcast receiver into an SSE response: each message is one event named
/// `event_name` with the JSON as data; `first` (e.g. the current board) is sent first.
/// When the receiver lags (a slow client), the stream ends and the client is dropped;
/// it may reconnect and start from a fresh snapshot.
pub fn from_broadcast<T>(
    first: Option<T>,
    rx: broadcast::Receiver<T>,
    event_name: &'static str,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    T: Serialize + Clone + Send + 'static,
{
    let head = futures::stream::iter(first.map(|f| Ok(to_event(event_name, &f))));
    let tail = futures::stream::unfold(rx, move |mut rx| async move {
        match rx.recv().await {
            Ok(v) => Some((Ok(to_event(event_name, &v)), rx)),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::info!(missed = n, "dropping a slow SSE client");
                None
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    Sse::new(futures::StreamExt::chain(head, tail))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
