//! Helpers shared by the store's integration tests: event builders, request shorthands
//! and opening a store directory with sled itself.
#![allow(dead_code)]

use reception_store::{Actor, AppendRequest, ExpectedVersion, Idempotency, NewEvent};
use uuid::Uuid;

pub fn event(event_type: &str, data: serde_json::Value) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: event_type.to_string(),
        schema: 1,
        data,
        occurred_at: None,
        actor: Actor {
            user: "li.na".into(),
            role: "reception".into(),
        },
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
    }
}

pub fn req(stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        stream: stream.to_string(),
        expected,
        events,
        idempotency: None,
    }
}

pub fn idem_req(stream: &str, events: Vec<NewEvent>, key: &str, fingerprint: u8) -> AppendRequest {
    AppendRequest {
        stream: stream.to_string(),
        expected: ExpectedVersion::Any,
        events,
        idempotency: Some(Idempotency {
            key: key.into(),
            fingerprint: [fingerprint; 32],
            meta: serde_json::json!({"entity_id": key}),
        }),
    }
}

/// Opens a store directory with sled itself, to write what the store never would. A
/// store closed a moment ago may still be releasing sled's directory lock on sled's
/// background threads (as `Store::open` knows): wait for it, as `Store::open` does.
pub fn raw_sled(path: &std::path::Path) -> sled::Db {
    let started = std::time::Instant::now();
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(e)
                if e.to_string().contains("could not acquire lock")
                    && started.elapsed() < std::time::Duration::from_secs(10) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("cannot open {} with sled: {e}", path.display()),
        }
    }
}
