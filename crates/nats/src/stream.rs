//! The JetStream stream that carries the log: its settings, subjects and start-up check.

use std::time::Duration;

use async_nats::jetstream::{self, context::CreateStreamErrorKind, stream};

use crate::NatsError;

/// Settings of the JetStream stream that carries the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// Stream name (default `RECEPTION`).
    pub name: String,
    /// Subject prefix; events go to `<prefix>.<kind>` and the stream listens on `<prefix>.>`
    /// (default `reception.events`).
    pub subject_prefix: String,
    /// Number of stream replicas in a JetStream cluster (1 on a single server).
    pub replicas: usize,
    /// Window in which JetStream drops a message whose `Nats-Msg-Id` it has already stored.
    /// Must cover the longest republish after a relay restart (default 2 minutes).
    pub duplicate_window: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            name: "RECEPTION".to_string(),
            subject_prefix: "reception.events".to_string(),
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
        }
    }
}

impl StreamSettings {
    /// The wildcard subject the stream listens on, e.g. `reception.events.>`.
    pub fn wildcard(&self) -> String {
        format!("{}.>", self.subject_prefix)
    }

    fn config(&self) -> stream::Config {
        stream::Config {
            name: self.name.clone(),
            subjects: vec![self.wildcard()],
            storage: stream::StorageType::File,
            num_replicas: self.replicas,
            duplicate_window: self.duplicate_window,
            ..Default::default()
        }
    }
}

/// The subject an event of log stream `stream` is published on: the prefix, then the
/// stream's kind (its name before the first `-`).
///
/// ```
/// use reception_nats::{subject_for, StreamSettings};
/// let s = StreamSettings::default();
/// assert_eq!(subject_for(&s, "visit-0192"), "reception.events.visit");
/// assert_eq!(subject_for(&s, "policy"), "reception.events.policy");
/// ```
pub fn subject_for(settings: &StreamSettings, log_stream: &str) -> String {
    let kind = log_stream.split('-').next().unwrap_or(log_stream);
    // Subjects cannot hold spaces, '.', '*' or '>' inside a token.
    let kind: String = kind
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let kind = if kind.is_empty() {
        "_".to_string()
    } else {
        kind
    };
    format!("{}.{}", settings.subject_prefix, kind)
}

/// Creates the stream, or checks an existing one (file storage, our subjects) and updates
/// its replicas and duplicate window when they differ from `settings`.
pub(crate) async fn ensure_stream(
    js: &jetstream::Context,
    settings: &StreamSettings,
    url: &str,
) -> Result<stream::Stream, NatsError> {
    let mut s = js
        .get_or_create_stream(settings.config())
        .await
        .map_err(|e| match e.kind() {
            CreateStreamErrorKind::JetStreamUnavailable => NatsError::JetStreamNotEnabled {
                url: crate::redact_url(url),
            },
            _ => NatsError::js("create or get stream", e),
        })?;
    let info = s
        .info()
        .await
        .map_err(|e| NatsError::js("stream info", e))?
        .clone();
    let cfg = &info.config;
    if cfg.storage != stream::StorageType::File {
        return Err(NatsError::StreamMismatch {
            stream: settings.name.clone(),
            reason: "storage must be file".into(),
        });
    }
    if !cfg.subjects.contains(&settings.wildcard()) {
        return Err(NatsError::StreamMismatch {
            stream: settings.name.clone(),
            reason: format!(
                "subjects {:?} do not include {}",
                cfg.subjects,
                settings.wildcard()
            ),
        });
    }
    if cfg.num_replicas.max(1) != settings.replicas.max(1)
        || cfg.duplicate_window != settings.duplicate_window
    {
        let mut new_cfg = cfg.clone();
        new_cfg.num_replicas = settings.replicas;
        new_cfg.duplicate_window = settings.duplicate_window;
        js.update_stream(new_cfg)
            .await
            .map_err(|e| NatsError::StreamMismatch {
                stream: settings.name.clone(),
                reason: format!("cannot update replicas/duplicate window: {e}"),
            })?;
        s = js
            .get_stream(&settings.name)
            .await
            .map_err(|e| NatsError::js("get stream", e))?;
    }
    Ok(s)
}

/// Connects to `url` and creates or checks the stream once. For the binary's start-up:
/// it turns "JetStream is not enabled" and incompatible stream settings into a clear error
/// before the background relay starts retrying.
pub async fn check_jetstream(
    url: &str,
    auth: &crate::NatsAuth,
    settings: &StreamSettings,
) -> Result<(), NatsError> {
    let client = crate::connect(url, auth).await?;
    let js = jetstream::new(client);
    ensure_stream(&js, settings, url).await.map(|_| ())
}
