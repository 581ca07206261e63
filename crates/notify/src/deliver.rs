//! The delivery pass: every pending delivery whose time has come is sent (a few at a
//! time), then marked delivered, or retried later with a doubled wait, or after the
//! last attempt dead-lettered. Marks are written and flushed after the sends, so a
//! crash before the flush sends those again, with the same id (at least once).

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt};
use reception_domain::notification::Channel;

use crate::channels::SendError;
use crate::outbox::{index_changes, key, Delivery, Notification, Status};
use crate::{due_now, next_try, Notifier, NotifyError};

/// Sends at most this many notifications at once.
const PARALLEL: usize = 8;
/// Notifications sent between two writes of their marks.
const CHUNK: usize = 32;

/// The result of one delivery attempt.
struct Attempt {
    channel: Channel,
    result: Result<(), SendError>,
}

impl Notifier {
    /// Sends what is due now.
    pub(crate) async fn deliver_due(&mut self) -> Result<(), NotifyError> {
        let now = self.app.now();
        let wall = chrono::Utc::now();
        let due: Vec<Vec<u8>> = self
            .queue
            .iter()
            .filter(|(_, (business, retry))| *business <= now && *retry <= wall)
            .map(|(k, _)| k.clone())
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        // a chunk at a time, each marked and flushed before the next is sent: a crash
        // repeats at most one chunk's sends
        // (a person's notifications stay in one chunk: their digest is one message)
        let mut chunk: Vec<Vec<u8>> = Vec::new();
        for k in due {
            let new_person = chunk
                .last()
                .is_some_and(|last| recipient(last) != recipient(&k));
            if chunk.len() >= CHUNK && new_person {
                self.deliver_chunk(std::mem::take(&mut chunk), now, wall)
                    .await?;
            }
            chunk.push(k);
        }
        self.deliver_chunk(chunk, now, wall).await
    }

    /// Sends the due deliveries of the notifications under `due`, then writes their marks.
    async fn deliver_chunk(
        &mut self,
        due: Vec<Vec<u8>>,
        now: chrono::DateTime<chrono::FixedOffset>,
        wall: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), NotifyError> {
        let dir = self.book.directory(&self.app)?.clone();
        let mut work = Vec::new();
        for k in due {
            match self.read(&k)? {
                Some(n) => work.push(n),
                None => {
                    self.queue.remove(&k);
                }
            }
        }
        let mut digests = self.send_digests(&work, &dir, now, wall).await;
        let channels = &self.channels;
        let mut sent: Vec<(Notification, Vec<Attempt>)> = stream::iter(work)
            .map(|n| {
                let member = dir.get(&n.recipient).cloned();
                async move {
                    let mut attempts = Vec::new();
                    let in_digest = |d: &&Delivery| n.digest && d.channel == Channel::Email;
                    for d in n
                        .deliveries
                        .iter()
                        .filter(|d| due_now(d, now, wall))
                        .filter(|d| !in_digest(d))
                    {
                        let result = match &member {
                            None => Err(SendError::Unaddressable("not in the directory".into())),
                            Some(m) => channels.send(d.channel, &n, m).await,
                        };
                        attempts.push(Attempt {
                            channel: d.channel,
                            result,
                        });
                    }
                    (n, attempts)
                }
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        for (n, attempts) in &mut sent {
            if let Some(result) = digests.remove(&n.id) {
                attempts.push(Attempt {
                    channel: Channel::Email,
                    result,
                });
            }
        }
        let mut changes = Vec::new();
        for (mut n, attempts) in sent {
            self.mark(&mut n, attempts);
            let k = key("n", &n.recipient, &n.id);
            match next_try(&n) {
                Some(t) => self.queue.insert(k, t),
                None => self.queue.remove(&k),
            };
            changes.extend(index_changes(&n));
        }
        let model = self.outbox.model.clone();
        let checkpoint = model.checkpoint()?;
        tokio::task::spawn_blocking(move || {
            model.commit(checkpoint, changes)?;
            model.flush()
        })
        .await
        .map_err(|e| NotifyError::Channels(format!("outbox write: {e}")))??;
        self.publish_pending();
        Ok(())
    }

    /// The digest e-mails due now: one per person, with every due e-mail of their
    /// digest notifications; the outcome of each included notification by id.
    async fn send_digests(
        &self,
        work: &[Notification],
        dir: &reception_domain::staff::Directory,
        now: chrono::DateTime<chrono::FixedOffset>,
        wall: chrono::DateTime<chrono::Utc>,
    ) -> BTreeMap<String, Result<(), SendError>> {
        let mut by_person: BTreeMap<&str, Vec<&Notification>> = BTreeMap::new();
        for n in work.iter().filter(|n| n.digest) {
            let due = n
                .deliveries
                .iter()
                .any(|d| d.channel == Channel::Email && due_now(d, now, wall));
            if due {
                by_person.entry(&n.recipient).or_default().push(n);
            }
        }
        let mut out = BTreeMap::new();
        for (person, mut items) in by_person {
            items.sort_by_key(|n| (n.at, n.id.clone()));
            let result = match dir.get(person) {
                None => Err(SendError::Unaddressable("not in the directory".into())),
                Some(m) => self.channels.digest(&items, m).await,
            };
            for n in items {
                out.insert(n.id.clone(), result.clone());
            }
        }
        out
    }

    /// Records the attempts' outcomes in `n` and the channel health.
    fn mark(&self, n: &mut Notification, attempts: Vec<Attempt>) {
        let now = self.app.now();
        let mut health = self.shared.health.lock().expect("health lock");
        for a in attempts {
            let Some(d) = n.deliveries.iter_mut().find(|d| d.channel == a.channel) else {
                continue;
            };
            let h = health.entry(a.channel.as_str().to_string()).or_default();
            let label = a.channel.as_str();
            match a.result {
                Ok(()) => {
                    d.attempts += 1;
                    d.status = Status::Delivered;
                    d.delivered_at = Some(now);
                    d.last_error = None;
                    h.consecutive_failures = 0;
                    h.delivered += 1;
                    metrics::counter!("reception_notifications_delivered_total", "channel" => label).increment(1);
                }
                Err(SendError::Unaddressable(why)) => {
                    d.status = Status::Skipped;
                    d.last_error = Some(why);
                }
                Err(SendError::Failed(why)) => {
                    d.attempts += 1;
                    h.consecutive_failures += 1;
                    h.failed += 1;
                    tracing::warn!(channel = label, attempt = d.attempts, error = %redact(&why), "a notification delivery failed");
                    metrics::counter!("reception_notification_failures_total", "channel" => label)
                        .increment(1);
                    h.last_error = Some(why.clone());
                    d.last_error = Some(why);
                    if d.attempts >= self.cfg.max_attempts {
                        d.status = Status::Dead;
                        h.dead += 1;
                        metrics::counter!("reception_notifications_dead_total", "channel" => label)
                            .increment(1);
                    } else {
                        d.retry_after =
                            Some(chrono::Utc::now() + backoff(self.cfg.backoff, d.attempts));
                    }
                }
            }
        }
    }

    /// Puts the dead deliveries of a notification back to pending (an admin's retry).
    pub(crate) fn retry(&mut self, recipient: &str, id: &str) -> Result<bool, NotifyError> {
        let k = key("n", recipient, id);
        let Some(mut n) = self.read(&k)? else {
            return Ok(false);
        };
        let now = self.app.now();
        let mut any = false;
        for d in n.deliveries.iter_mut().filter(|d| d.status == Status::Dead) {
            d.status = Status::Pending;
            d.attempts = 0;
            d.next_try = now;
            d.retry_after = None;
            any = true;
        }
        if any {
            let checkpoint = self.outbox.model.checkpoint()?;
            self.outbox.model.commit(checkpoint, index_changes(&n))?;
            self.queue
                .insert(k, (now, chrono::DateTime::<chrono::Utc>::MIN_UTC));
            self.publish_pending();
        }
        Ok(any)
    }
}

/// The recipient part of an outbox key `n/<recipient>/<id>`.
fn recipient(key: &[u8]) -> &[u8] {
    key.split(|b| *b == b'/').nth(1).unwrap_or_default()
}

/// An error text fit for the log: any word with an `@` (an e-mail address a server
/// quoted back) is replaced, so no contact detail reaches the log.
fn redact(text: &str) -> String {
    text.split(' ')
        .map(|w| if w.contains('@') { "<address>" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The wait after the `attempts`-th failure: `base` doubled for each earlier failure,
/// at most an hour.
fn backoff(base: std::time::Duration, attempts: u32) -> chrono::Duration {
    let wait = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(16));
    chrono::Duration::from_std(wait.min(std::time::Duration::from_secs(3600)))
        .unwrap_or(chrono::Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn logged_errors_carry_no_address() {
        assert_eq!(
            super::redact("550 <li.na@example.com> mailbox unavailable"),
            "550 <address> mailbox unavailable"
        );
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1).num_seconds(), 5);
        assert_eq!(backoff(base, 2).num_seconds(), 10);
        assert_eq!(backoff(base, 4).num_seconds(), 40);
        assert_eq!(backoff(base, 30).num_seconds(), 3600);
    }
}
