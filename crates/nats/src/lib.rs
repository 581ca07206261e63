//! reception-nats: the outbox relay (write node → JetStream) and the replica consumer
//! (JetStream → local log on a read node). The only crate that names async-nats.
//!
//! # Data flow
//!
//! ```text
//! write node: Store ──read_all_raw──▶ Relay ──publish (Nats-Msg-Id = event id)──▶ stream RECEPTION
//! read node : stream RECEPTION ──durable pull consumer──▶ Replica ──append_replicated_batch──▶ Store
//! ```
//!
//! * Every envelope is published as its exact stored JSON (the [`Envelope`] serde form)
//!   on `reception.events.<kind>`, where `<kind>` is the stream name before its first
//!   `-` (see [`subject_for`]).
//! * The relay only ever reads the log: appends never wait for NATS.
//! * The replica checks sequence continuity and the hash chain through
//!   [`Store::append_replicated_batch_async`] (a run of messages at a time, one durable
//!   commit per run); anything that does not continue the chain is refused and reported,
//!   never applied.
//!
//! Invariant: this crate never writes to a write node's log; it only reads it (relay) or
//! extends a replica's log with envelopes that continue its hash chain (replica).
//!
//! [`Envelope`]: reception_store::Envelope
//! [`Store::append_replicated_batch_async`]: reception_store::Store::append_replicated_batch_async

mod auth;
mod relay;
mod replica;
mod stream;

pub use auth::{NatsAuth, NatsTls};
pub use relay::{Relay, RelayConfig, RelayHandle, RelayStatus};
pub use replica::{
    default_consumer_name, HealSource, Rejection, Replica, ReplicaConfig, ReplicaHandle,
    ReplicaState, ReplicaStatus,
};
pub use stream::{check_jetstream, subject_for, StreamSettings};

/// A NATS URL (or a comma-separated list) fit for logs: credentials written into it
/// (`nats://user:secret@host`, `nats://token@host`) are replaced by `***`.
pub fn redact_url(url: &str) -> String {
    url.split(',')
        .map(|one| {
            let (scheme, rest) = match one.split_once("://") {
                Some((s, r)) => (Some(s), r),
                None => (None, one),
            };
            let rest = match rest.rsplit_once('@') {
                Some((_, host)) => format!("***@{host}"),
                None => rest.to_string(),
            };
            match scheme {
                Some(s) => format!("{s}://{rest}"),
                None => rest,
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod redact_tests {
    use super::redact_url;

    #[test]
    fn credentials_never_reach_a_log_line() {
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(
            redact_url("nats://writer:s3cr3t@10.0.0.1:4222,tls://tok@h2:4222"),
            "nats://***@10.0.0.1:4222,tls://***@h2:4222"
        );
        assert_eq!(redact_url("user:pw@host:4222"), "***@host:4222");
    }
}

use std::time::Duration;

/// Errors of this crate. Transient ones (NATS down) are retried by the background tasks
/// and only shown in their status; [`check_jetstream`] returns them to the caller.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// The TCP/NATS connection could not be made.
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The server answers but has no JetStream (start it with `-js` or a `jetstream {}` block).
    #[error(
        "JetStream is not enabled on the NATS server at {url}: start nats-server with -js \
         (or a jetstream {{}} block in its config)"
    )]
    JetStreamNotEnabled { url: String },
    /// The stream exists with settings this crate cannot work with.
    #[error("JetStream stream {stream} has incompatible settings: {reason}")]
    StreamMismatch { stream: String, reason: String },
    /// Any other JetStream API failure (timeouts, permission errors, ...).
    #[error("JetStream error ({op}): {reason}")]
    JetStream { op: &'static str, reason: String },
    /// An envelope larger than the server accepts: retrying cannot help, so the relay
    /// stops with this error instead of retrying forever.
    #[error("event seq {seq} is {bytes} bytes, over the NATS server's max_payload of {limit}: the relay stops; raise max_payload on the server and restart the write node")]
    TooLarge {
        seq: u64,
        bytes: usize,
        limit: usize,
    },
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] reception_store::StoreError),
}

impl NatsError {
    pub(crate) fn js(op: &'static str, err: impl std::fmt::Display) -> Self {
        NatsError::JetStream {
            op,
            reason: err.to_string(),
        }
    }
}

/// Exponential backoff between reconnect attempts of the background tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First delay.
    pub min: Duration,
    /// Ceiling.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// Delay before attempt number `attempt` (0-based): `min * 2^attempt`, capped at `max`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = reception_nats::Backoff { min: Duration::from_millis(100), max: Duration::from_secs(1) };
    /// assert_eq!(b.delay(0), Duration::from_millis(100));
    /// assert_eq!(b.delay(2), Duration::from_millis(400));
    /// assert_eq!(b.delay(10), Duration::from_secs(1));
    /// ```
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.min.saturating_mul(factor).min(self.max)
    }
}

/// Connects a client with a short connect timeout and a quick reconnect schedule.
/// `url` may list the servers of a cluster separated by commas; the client picks one
/// and fails over to the others.
pub(crate) async fn connect(url: &str, auth: &NatsAuth) -> Result<async_nats::Client, NatsError> {
    let servers = url
        .split(',')
        .map(|u| u.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| NatsError::Connect {
            url: crate::redact_url(url),
            reason: e.to_string(),
        })?;
    auth.options(url)
        .await?
        .connection_timeout(Duration::from_secs(2))
        .reconnect_delay_callback(|n| Backoff::default().delay(n as u32))
        .connect(servers)
        .await
        .map_err(|e| NatsError::Connect {
            url: crate::redact_url(url),
            reason: e.to_string(),
        })
}
