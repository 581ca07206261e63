//! The answer of a command, exactly API.md's body plus whether a stream was created.

use reception_store::Appended;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One appended event in a command's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OutcomeEvent {
    pub seq: u64,
    #[serde(rename = "type")]
    pub event_type: String,
}

/// `{"stream", "id", "version", "events": [{"seq", "type"}], "entity_id"?, "late"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CommandOutcome {
    pub stream: String,
    /// The aggregate's id (nil for the policy singleton).
    pub id: Uuid,
    /// Stream version after the command.
    pub version: u64,
    pub events: Vec<OutcomeEvent>,
    /// The entity the command created inside the stream (booking, expense, ...).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub entity_id: Option<Uuid>,
    /// Filing a visit: whether the request came too late (V2).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub late: Option<bool>,
    /// True when the command created the stream (HTTP 201).
    #[serde(skip)]
    pub created: bool,
    /// True when this is the stored answer of an earlier request with the same key.
    #[serde(skip)]
    pub replayed: bool,
}

impl CommandOutcome {
    /// Builds the answer from the store's result and the meta stored with it.
    pub fn from_appended(a: Appended) -> CommandOutcome {
        let meta = &a.meta;
        let id = meta
            .get("id")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_else(|| stream_id(&a.stream));
        CommandOutcome {
            id,
            version: a.version,
            events: a
                .events
                .iter()
                .map(|e| OutcomeEvent {
                    seq: e.seq,
                    event_type: e.event_type.clone(),
                })
                .collect(),
            entity_id: meta
                .get("entity_id")
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            late: meta.get("late").and_then(|v| v.as_bool()),
            created: meta
                .get("created")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            replayed: a.replayed,
            stream: a.stream,
        }
    }

    /// The highest seq appended (0 when nothing was).
    pub fn last_seq(&self) -> u64 {
        self.events.iter().map(|e| e.seq).max().unwrap_or(0)
    }
}

/// The uuid part of `kind-<uuid>`, nil for singletons.
pub fn stream_id(stream: &str) -> Uuid {
    stream
        .split_once('-')
        .and_then(|(_, s)| s.parse().ok())
        .unwrap_or_else(Uuid::nil)
}
