//! The outbox: every notification with the state of each of its deliveries, in the
//! read-model keyspace `notify` (checkpointed with the log seq the notifier followed
//! to), and the read marks of the dashboard in `notify-read`.
//!
//! Keys: `n/<recipient>/<id>` the notification; `p/<recipient>/<id>` while a delivery
//! is pending; `x/<recipient>/<id>` while one is dead; `o/<visit id>` an open visit the
//! reminder clock watches (value: the requester's user).

use chrono::{DateTime, FixedOffset, Utc};
use reception_domain::notification::{Channel, FactKind};
use reception_domain::staff::Lang;
use reception_store::{ReadModel, Store, StoreError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Name of the outbox's read model.
pub const OUTBOX_MODEL: &str = "notify";
/// Name of the read marks' read model.
pub const READ_MODEL: &str = "notify-read";

/// Where one delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Delivered,
    /// Every retry failed: in the dead-letter list until an admin retries it.
    Dead,
    /// Not attempted: the channel is not configured, the person has no address for it,
    /// or the fact was too old to send when the notifier first saw it.
    Skipped,
}

/// One channel's delivery of a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub channel: Channel,
    pub status: Status,
    pub attempts: u32,
    /// Business time before which it is not sent (the end of the person's quiet hours,
    /// their digest time).
    pub next_try: DateTime<FixedOffset>,
    /// After a failure: the wall-clock time of the next attempt (back-off runs in real
    /// time, whatever the business clock says).
    #[serde(default)]
    pub retry_after: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<FixedOffset>>,
}

/// One notification for one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Stable: derived from its cause, kind and recipient.
    pub id: String,
    pub kind: FactKind,
    /// The recipient's directory id (= token user).
    pub recipient: String,
    pub title: String,
    pub body: String,
    /// Dashboard path (`#/visit/<id>`).
    pub link: String,
    pub visit: Option<Uuid>,
    pub complaint: Option<Uuid>,
    /// When the fact happened or falls due.
    pub at: DateTime<FixedOffset>,
    /// When the notifier decided it.
    pub created_at: DateTime<FixedOffset>,
    pub urgent: bool,
    /// Waits for the person's daily digest: its e-mail goes out in one message with
    /// the others of that day.
    #[serde(default)]
    pub digest: bool,
    pub lang: Lang,
    pub deliveries: Vec<Delivery>,
}

impl Notification {
    pub fn has_pending(&self) -> bool {
        self.deliveries.iter().any(|d| d.status == Status::Pending)
    }
    pub fn has_dead(&self) -> bool {
        self.deliveries.iter().any(|d| d.status == Status::Dead)
    }
}

pub(crate) fn key(prefix: &str, recipient: &str, id: &str) -> Vec<u8> {
    format!("{prefix}/{recipient}/{id}").into_bytes()
}

/// The keys that index `n` as it now stands (pending and dead markers set or removed).
pub(crate) fn index_changes(n: &Notification) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mark = |on: bool| on.then(Vec::new);
    vec![
        (
            key("n", &n.recipient, &n.id),
            Some(serde_json::to_vec(n).expect("a notification serialises")),
        ),
        (key("p", &n.recipient, &n.id), mark(n.has_pending())),
        (key("x", &n.recipient, &n.id), mark(n.has_dead())),
    ]
}

/// A notification as its recipient sees it.
#[derive(Debug, Clone, Serialize)]
pub struct InboxItem {
    #[serde(flatten)]
    pub notification: Notification,
    pub read: bool,
}

/// Read access to the outbox (and the read marks), for the API: cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    pub(crate) model: ReadModel,
    reads: ReadModel,
}

impl Outbox {
    /// Opens the outbox's keyspaces in `store`.
    pub fn open(store: &Store) -> Result<Outbox, StoreError> {
        Ok(Outbox {
            model: store.read_model(OUTBOX_MODEL)?,
            reads: store.read_model(READ_MODEL)?,
        })
    }

    /// The log seq the notifier has followed to.
    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        self.model.checkpoint()
    }

    /// One notification.
    pub fn get(&self, recipient: &str, id: &str) -> Result<Option<Notification>, StoreError> {
        Ok(self
            .model
            .get(&key("n", recipient, id))?
            .and_then(|v| serde_json::from_slice(&v).ok()))
    }

    /// `recipient`'s notifications, newest first, with their read marks; only the
    /// unread ones when `unread_only`.
    pub fn inbox(
        &self,
        recipient: &str,
        unread_only: bool,
        limit: usize,
    ) -> Result<Vec<InboxItem>, StoreError> {
        let mut out = Vec::new();
        for kv in self.model.scan_prefix(format!("n/{recipient}/").as_bytes()) {
            let (_, v) = kv?;
            let Ok(n) = serde_json::from_slice::<Notification>(&v) else {
                continue;
            };
            let read = self.reads.get(&key("r", recipient, &n.id))?.is_some();
            if !(unread_only && read) {
                out.push(InboxItem {
                    notification: n,
                    read,
                });
            }
        }
        out.sort_by(|a, b| {
            (b.notification.created_at, &b.notification.id)
                .cmp(&(a.notification.created_at, &a.notification.id))
        });
        out.truncate(limit);
        Ok(out)
    }

    /// Marks `ids` of `recipient` read; answers how many of them exist.
    pub fn mark_read(&self, recipient: &str, ids: &[String]) -> Result<usize, StoreError> {
        let mut changes = Vec::new();
        for id in ids {
            if self.model.get(&key("n", recipient, id))?.is_some() {
                changes.push((key("r", recipient, id), Some(Vec::new())));
            }
        }
        let n = changes.len();
        self.reads.commit(0, changes)?;
        Ok(n)
    }

    /// Every notification with a dead delivery (the dead-letter list).
    pub fn dead_letters(&self) -> Result<Vec<Notification>, StoreError> {
        let mut out = Vec::new();
        for kv in self.model.scan_prefix(b"x/") {
            let (k, _) = kv?;
            let mut n_key = k.clone();
            n_key[0] = b'n';
            if let Some(v) = self.model.get(&n_key)? {
                if let Ok(n) = serde_json::from_slice::<Notification>(&v) {
                    out.push(n);
                }
            }
        }
        out.sort_by_key(|n| std::cmp::Reverse(n.created_at));
        Ok(out)
    }
}
