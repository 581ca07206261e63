//! The notifier (issue 20): follows the log from a checkpoint and a clock for
//! reminders, writes each notification once into an outbox with a stable id derived
//! from its cause, and delivers it on its channels (SMTP, webhook, WeCom / DingTalk /
//! Feishu robots) with retries and back-off; what keeps failing is dead-lettered.
//!
//! Invariant: the decision of who is told what is the domain's
//! ([`reception_domain::notification::plan`]); this crate only loads what it needs,
//! keeps the outbox and talks to the channels. It runs on the write node only.
//!
//! Delivery is at least once: an outbox record is written with the checkpoint of the
//! event that caused it in one commit, and a delivery is marked delivered only after the
//! channel accepted it; a crash in between sends it again, with the same id.
//!
//! ```no_run
//! # async fn f(app: reception_app::App) -> Result<(), reception_notify::NotifyError> {
//! use reception_notify::{Notifier, NotifyConfig};
//! let handle = Notifier::spawn(app, NotifyConfig::default())?;
//! println!("{:?}", handle.status());
//! # Ok(()) }
//! ```

pub mod channels;
mod deliver;
mod follow;
pub mod outbox;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use reception_app::{App, AppError};
use reception_store::StoreError;
use serde::Serialize;
use tokio::sync::mpsc;

pub use channels::{
    ChannelsConfig, SmtpConfig, SmtpSecurity, WebhookConfig, ID_HEADER, SIGNATURE_HEADER,
};
pub use outbox::{Delivery, InboxItem, Notification, Outbox, Status};

use channels::Channels;
use follow::{Book, Changes};

/// What can stop the notifier.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("app: {0}")]
    App(#[from] AppError),
    #[error("channels: {0}")]
    Channels(String),
}

/// Settings of the notifier.
#[derive(Clone)]
pub struct NotifyConfig {
    pub channels: ChannelsConfig,
    /// How often the reminder clock looks at the open visits.
    pub reminder_interval: Duration,
    /// How often due deliveries are looked for when nothing else happens.
    pub tick: Duration,
    /// Attempts per delivery before it is dead-lettered.
    pub max_attempts: u32,
    /// The wait after the first failure; doubled after each further one.
    pub backoff: Duration,
    /// A fact older than this when first seen reaches the dashboard only.
    pub stale_after: chrono::Duration,
    /// Consecutive failures after which a channel shows as failing on `/readyz`.
    pub failing_after: u32,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            channels: ChannelsConfig {
                timeout: Duration::from_secs(10),
                ..ChannelsConfig::default()
            },
            reminder_interval: Duration::from_secs(30),
            tick: Duration::from_secs(1),
            max_attempts: 6,
            backoff: Duration::from_secs(5),
            stale_after: chrono::Duration::hours(48),
            failing_after: 3,
        }
    }
}

/// Per channel: consecutive failures and the last error.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChannelHealth {
    pub consecutive_failures: u32,
    pub delivered: u64,
    pub failed: u64,
    pub dead: u64,
    pub last_error: Option<String>,
}

/// What `/readyz` shows of the notifier.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyStatus {
    /// The log seq the notifier has followed to.
    pub checkpoint: u64,
    /// `head - checkpoint`.
    pub lag: u64,
    /// Deliveries waiting (including retries).
    pub pending: usize,
    /// Channels with at least `failing_after` consecutive failures.
    pub failing: Vec<String>,
    pub channels: BTreeMap<String, ChannelHealth>,
    /// The last error that stopped a pass, if any.
    pub error: Option<String>,
}

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) health: Mutex<BTreeMap<String, ChannelHealth>>,
    pub(crate) pending: Mutex<usize>,
    pub(crate) error: Mutex<Option<String>>,
}

/// Requests to the running notifier.
enum Cmd {
    /// Put a dead letter's dead deliveries back to pending.
    Retry(
        String,
        String,
        tokio::sync::oneshot::Sender<Result<bool, String>>,
    ),
}

/// The running notifier; cheap to clone.
#[derive(Clone)]
pub struct NotifierHandle {
    app: App,
    outbox: Outbox,
    shared: Arc<Shared>,
    failing_after: u32,
    tx: mpsc::Sender<Cmd>,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl NotifierHandle {
    /// The outbox it writes (for the API's queries).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub fn status(&self) -> NotifyStatus {
        let checkpoint = self.outbox.checkpoint().unwrap_or(0);
        let head = self.app.store().head().0;
        let channels = self.shared.health.lock().expect("health lock").clone();
        let failing = channels
            .iter()
            .filter(|(_, h)| h.consecutive_failures >= self.failing_after)
            .map(|(c, _)| c.clone())
            .collect();
        NotifyStatus {
            checkpoint,
            lag: head.saturating_sub(checkpoint),
            pending: *self.shared.pending.lock().expect("pending lock"),
            failing,
            channels,
            error: self.shared.error.lock().expect("error lock").clone(),
        }
    }

    /// Puts the dead deliveries of `recipient`'s notification `id` back in the queue;
    /// false when it has none.
    pub async fn retry(&self, recipient: &str, id: &str) -> Result<bool, String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Cmd::Retry(recipient.into(), id.into(), tx))
            .await
            .map_err(|_| "the notifier is not running".to_string())?;
        rx.await.map_err(|_| "the notifier stopped".to_string())?
    }

    /// Stops the notifier (what is not confirmed is sent again after a restart).
    pub fn abort(&self) {
        if let Some(t) = self.task.lock().expect("task lock").take() {
            t.abort();
        }
    }
}

/// The notifier task.
pub struct Notifier {
    app: App,
    outbox: Outbox,
    channels: Channels,
    cfg: NotifyConfig,
    book: Book,
    shared: Arc<Shared>,
    /// Pending deliveries: key of the notification → its earliest business time and
    /// wall-clock retry time.
    queue: BTreeMap<Vec<u8>, Due>,
}

impl Notifier {
    /// Opens the outbox and starts following the log after its checkpoint.
    pub fn spawn(app: App, cfg: NotifyConfig) -> Result<NotifierHandle, NotifyError> {
        let outbox = Outbox::open(app.store())?;
        let channels = Channels::new(cfg.channels.clone()).map_err(NotifyError::Channels)?;
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::channel(16);
        let mut notifier = Notifier {
            app: app.clone(),
            outbox: outbox.clone(),
            channels,
            cfg: cfg.clone(),
            book: Book::default(),
            shared: shared.clone(),
            queue: BTreeMap::new(),
        };
        notifier.load_queue()?;
        let task = tokio::spawn(notifier.run(rx));
        Ok(NotifierHandle {
            app,
            outbox,
            shared,
            failing_after: cfg.failing_after,
            tx,
            task: Arc::new(Mutex::new(Some(task))),
        })
    }

    /// The pending deliveries left by the last run.
    fn load_queue(&mut self) -> Result<(), NotifyError> {
        for kv in self.outbox.model.scan_prefix(b"p/") {
            let (k, _) = kv?;
            let mut n_key = k.clone();
            n_key[0] = b'n';
            if let Some(n) = self.read(&n_key)? {
                if let Some(t) = next_try(&n) {
                    self.queue.insert(n_key, t);
                }
            }
        }
        self.publish_pending();
        Ok(())
    }

    pub(crate) fn read(&self, k: &[u8]) -> Result<Option<Notification>, NotifyError> {
        Ok(self
            .outbox
            .model
            .get(k)?
            .and_then(|v| serde_json::from_slice(&v).ok()))
    }

    pub(crate) fn publish_pending(&self) {
        *self.shared.pending.lock().expect("pending lock") = self.queue.len();
        metrics::gauge!("reception_notifications_pending").set(self.queue.len() as f64);
    }

    async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>) {
        let from = self.outbox.checkpoint().unwrap_or(0) + 1;
        let (etx, mut events) = mpsc::channel(4);
        let store = self.app.store().clone();
        tokio::spawn(async move {
            let mut sub = store.subscribe(from);
            while let Some(batch) = sub.next_batch(256).await {
                if etx.send(batch).await.is_err() {
                    break;
                }
            }
        });
        let mut tick = tokio::time::interval(self.cfg.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reminders = tokio::time::interval(self.cfg.reminder_interval);
        reminders.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let result = tokio::select! {
                batch = events.recv() => match batch {
                    None => break,
                    Some(Err(e)) => Err(NotifyError::Store(e)),
                    Some(Ok(batch)) => self.apply(batch).await,
                },
                _ = reminders.tick() => self.remind().await,
                _ = tick.tick() => Ok(()),
                Some(cmd) = cmds.recv() => {
                    self.command(cmd);
                    Ok(())
                }
            };
            let result = match result {
                Ok(()) => self.deliver_due().await,
                e => e,
            };
            let mut error = self.shared.error.lock().expect("error lock");
            match result {
                Ok(()) => *error = None,
                Err(e) => {
                    tracing::error!(error = %e, "notifier pass failed; retrying on the next tick");
                    *error = Some(e.to_string());
                }
            }
        }
        tracing::info!("the log closed; the notifier stops");
    }

    /// One batch of the log: the facts of its events, recorded with its last seq.
    async fn apply(&mut self, batch: Vec<reception_store::Envelope>) -> Result<(), NotifyError> {
        let Some(last) = batch.last().map(|e| e.seq) else {
            return Ok(());
        };
        let mut changes = Changes::new();
        let mut facts = Vec::new();
        for env in &batch {
            facts.extend(
                follow::facts_of(&self.app, env, &mut changes)?
                    .into_iter()
                    .map(|f| (f, None)),
            );
        }
        self.record(facts, last, changes).await
    }

    /// The reminder clock's pass over the open visits.
    async fn remind(&mut self) -> Result<(), NotifyError> {
        let rules = self.book.rules(&self.app)?.clone();
        let mut changes = Changes::new();
        let facts = follow::reminder_facts(&self.app, &self.outbox.model, &rules, &mut changes)?;
        let checkpoint = self.outbox.checkpoint()?;
        self.record(facts, checkpoint, changes).await
    }

    async fn record(
        &mut self,
        facts: Vec<(
            reception_domain::notification::Fact,
            Option<reception_domain::notification::Reminder>,
        )>,
        checkpoint: u64,
        mut changes: Changes,
    ) -> Result<(), NotifyError> {
        let now = self.app.now();
        let rules = self.book.rules(&self.app)?.clone();
        let dir = self.book.directory(&self.app)?.clone();
        let new = follow::record(
            facts,
            &rules,
            &dir,
            &self.channels,
            &self.outbox.model,
            now,
            self.cfg.stale_after,
            &mut changes,
        )?;
        let model = self.outbox.model.clone();
        tokio::task::spawn_blocking(move || {
            model.commit(checkpoint, changes.into_iter().collect())
        })
        .await
        .map_err(|e| NotifyError::Channels(format!("outbox write: {e}")))??;
        for n in new {
            if let Some(t) = next_try(&n) {
                self.queue.insert(outbox::key("n", &n.recipient, &n.id), t);
            }
        }
        self.publish_pending();
        Ok(())
    }

    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Retry(recipient, id, answer) => {
                let _ = answer.send(self.retry(&recipient, &id).map_err(|e| e.to_string()));
            }
        }
    }
}

/// When a notification's pending deliveries may go next: the earliest business time
/// and the earliest wall-clock retry time among them.
pub(crate) type Due = (DateTime<FixedOffset>, DateTime<chrono::Utc>);

/// The [`Due`] of a notification's pending deliveries (none: nothing pending).
pub(crate) fn next_try(n: &Notification) -> Option<Due> {
    let pending = n.deliveries.iter().filter(|d| d.status == Status::Pending);
    let business = pending.clone().map(|d| d.next_try).min()?;
    let wall = pending
        .map(|d| {
            d.retry_after
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
        })
        .min()?;
    Some((business, wall))
}

/// Whether a pending delivery may be attempted now.
pub(crate) fn due_now(
    d: &Delivery,
    now: DateTime<FixedOffset>,
    wall: DateTime<chrono::Utc>,
) -> bool {
    d.status == Status::Pending && d.next_try <= now && d.retry_after.is_none_or(|r| r <= wall)
}
