//! The store's side of signed events (see [`crate::signing`]): giving the writer its
//! key, rotating it, and reading which key is in force.

use std::sync::Arc;

use crate::signing::{KeyEvent, PublicKey, Signer, KEY_ADOPTED, KEY_ROTATED, KEY_STREAM};
use crate::writer::{Cmd, KeyChange, Prepared};
use crate::{
    reply, Actor, AppendError, AppendRequest, Appended, ExpectedVersion, NewEvent, Store,
    StoreError,
};

/// The announcement of a key as an append to the key stream.
fn announcement(
    event_type: &str,
    payload: &KeyEvent,
    actor: Actor,
) -> Result<Prepared, AppendError> {
    let id = uuid::Uuid::now_v7();
    let data = serde_json::to_value(payload).map_err(|e| AppendError::Invalid(e.to_string()))?;
    Prepared::new(AppendRequest {
        stream: KEY_STREAM.into(),
        expected: ExpectedVersion::Any,
        events: vec![NewEvent {
            id,
            event_type: event_type.into(),
            schema: 1,
            data,
            occurred_at: None,
            actor,
            correlation_id: id,
            causation_id: id,
        }],
        idempotency: None,
    })
}

impl Store {
    /// Signs every event appended from now on with `signer`. A log that has a key in
    /// force must have this one (else `Invalid`); a log without one adopts it, by an
    /// announcement (`SigningKeyAdopted`, by `actor`) signed by the key itself, which
    /// is returned. Until then appends are unsigned; once a log has a key, an append
    /// to a store without it is refused ([`AppendError::Unsigned`]).
    pub async fn use_signer(
        &self,
        signer: Signer,
        actor: Actor,
    ) -> Result<Option<Appended>, AppendError> {
        let (reply, rx) = reply::for_task();
        let prepared = adoption(&signer, actor)?;
        self.send_key(KeyChange::Use(Arc::new(signer), prepared), reply)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// [`Store::use_signer`] from non-async code.
    pub fn use_signer_blocking(
        &self,
        signer: Signer,
        actor: Actor,
    ) -> Result<Option<Appended>, AppendError> {
        let (reply, rx) = reply::for_thread();
        let prepared = adoption(&signer, actor)?;
        self.send_key(KeyChange::Use(Arc::new(signer), prepared), reply)?;
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    /// Replaces the key in force by `next`: appends `SigningKeyRotated` (by `actor`)
    /// signed by the current key, and signs every later event with `next`. The store
    /// must be signing with the key in force ([`Store::use_signer`]).
    pub fn rotate_signer_blocking(
        &self,
        next: Signer,
        actor: Actor,
    ) -> Result<Appended, AppendError> {
        let current = self.key_in_force()?;
        let payload = next.announcement(current.as_ref());
        let prepared = announcement(KEY_ROTATED, &payload, actor)?;
        let (reply, rx) = reply::for_thread();
        self.send_key(KeyChange::Rotate(Arc::new(next), prepared), reply)?;
        let appended = rx.recv().map_err(|_| StoreError::Closed)??;
        appended.ok_or_else(|| AppendError::Invalid("the rotation appended nothing".into()))
    }

    /// The key the log's last durable announcement names (`None`: the log has not
    /// adopted one).
    pub fn key_in_force(&self) -> Result<Option<PublicKey>, StoreError> {
        let mut last = None;
        for env in self.read_stream(KEY_STREAM, 1, None) {
            let env = env?;
            let k: KeyEvent =
                serde_json::from_value(env.data).map_err(|e| StoreError::Corrupt {
                    seq: env.seq,
                    reason: format!("unreadable key announcement: {e}"),
                })?;
            last =
                Some(
                    PublicKey::from_hex(&k.public_key).map_err(|reason| StoreError::Corrupt {
                        seq: env.seq,
                        reason,
                    })?,
                );
        }
        Ok(last)
    }

    fn send_key(
        &self,
        change: KeyChange,
        reply: reply::Reply<Result<Option<Appended>, AppendError>>,
    ) -> Result<(), StoreError> {
        self.inner
            .tx
            .send(Cmd::Key(change, reply))
            .map_err(|_| StoreError::Closed)
    }
}

/// The adoption announcement of `signer` (appended only when the log has no key).
fn adoption(signer: &Signer, actor: Actor) -> Result<Prepared, AppendError> {
    announcement(KEY_ADOPTED, &signer.announcement(None), actor)
}
