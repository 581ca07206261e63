//! Bearer tokens: issuance and revocation are events in the `tokens` stream carrying only
//! `blake3(token)` in hex, the user and the role, so replicas learn them from the log.
//! An in-memory registry follows the `tokens` stream; verification compares in constant time.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use rand::TryRng;
use reception_domain::{Actor, Role};
use reception_store::{AppendRequest, Envelope, ExpectedVersion, NewEvent, Store, StoreError};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::AppError;

/// The first and the longest wait before the token follower reads again after a store
/// error.
const FOLLOW_RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(100);
const FOLLOW_RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// The stream holding token events.
pub const TOKENS_STREAM: &str = "tokens";
/// Event type of an issued token.
pub const TOKEN_ISSUED: &str = "TokenIssued";
/// Event type of a revoked token.
pub const TOKEN_REVOKED: &str = "TokenRevoked";

/// Payload of `TokenIssued` (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenIssued {
    /// `blake3(token)` in hex.
    pub token_hash: String,
    pub user: String,
    pub role: Role,
}

/// Payload of `TokenRevoked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRevoked {
    pub token_hash: String,
}

/// An active token as admins may see it: never the token or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenInfo {
    /// The id of its `TokenIssued` event: how an admin addresses the token.
    pub id: Uuid,
    pub user: String,
    pub role: Role,
}

#[derive(Default)]
struct Entries {
    /// By token hash: (issue event id, user, role).
    active: HashMap<String, (Uuid, String, Role)>,
    /// Revocation is final; kept so that an issue seen late never resurrects a token.
    revoked: HashSet<String>,
}

/// Who holds which token hash; follows the `tokens` stream.
pub struct TokenRegistry {
    entries: RwLock<Entries>,
    /// Counts revocations, so that open streams can end when their token is revoked.
    revocations: tokio::sync::watch::Sender<u64>,
}

impl Default for TokenRegistry {
    fn default() -> TokenRegistry {
        TokenRegistry {
            entries: RwLock::default(),
            revocations: tokio::sync::watch::Sender::new(0),
        }
    }
}

/// `blake3(token)` in hex.
pub fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

impl TokenRegistry {
    /// An empty registry.
    pub fn new() -> TokenRegistry {
        TokenRegistry::default()
    }

    /// Reads the whole `tokens` stream.
    pub fn load(&self, store: &Store) -> Result<(), StoreError> {
        for env in store.read_stream(TOKENS_STREAM, 1, None) {
            self.apply(&env?);
        }
        Ok(())
    }

    /// Follows the `tokens` stream from `from_version` on, until the store closes: on
    /// every head change it looks at the stream's version (an index lookup) and reads
    /// only the new token events, so the rest of the log is never decoded here.
    pub async fn follow_stream(&self, store: Store, from_version: u64) {
        // Subscribed before the first look, so no append after it goes unnoticed.
        let mut head = store.watch_head();
        let mut next = from_version.max(1);
        let mut backoff = FOLLOW_RETRY_FIRST;
        loop {
            let failed = match store.stream_version(TOKENS_STREAM) {
                Ok(v) if v >= next => self.read_from(&store, &mut next).err(),
                Ok(_) => None,
                Err(e) => Some(e.to_string()),
            };
            if let Some(error) = failed {
                // a store error is retried, never the end of following: a registry that
                // stopped would keep revoked tokens valid until the next restart
                tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "reading the tokens stream failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(FOLLOW_RETRY_MAX);
                if head.has_changed().is_err() {
                    return;
                }
                continue;
            }
            backoff = FOLLOW_RETRY_FIRST;
            if head.changed().await.is_err() {
                return;
            }
        }
    }

    /// Applies the stream's envelopes from `next` on, advancing it past each.
    fn read_from(&self, store: &Store, next: &mut u64) -> Result<(), String> {
        for env in store.read_stream(TOKENS_STREAM, *next, None) {
            let env = env.map_err(|e| e.to_string())?;
            *next = env.version + 1;
            self.apply(&env);
        }
        Ok(())
    }

    /// Applies one envelope (ignored unless it is a token event).
    pub fn apply(&self, env: &Envelope) {
        if env.stream != TOKENS_STREAM {
            return;
        }
        match env.event_type.as_str() {
            TOKEN_ISSUED => match serde_json::from_value::<TokenIssued>(env.data.clone()) {
                Ok(t) => self.insert(env.id, t),
                Err(e) => tracing::error!(seq = env.seq, error = %e, "unreadable TokenIssued"),
            },
            TOKEN_REVOKED => match serde_json::from_value::<TokenRevoked>(env.data.clone()) {
                Ok(t) => self.remove(&t.token_hash),
                Err(e) => tracing::error!(seq = env.seq, error = %e, "unreadable TokenRevoked"),
            },
            _ => {}
        }
    }

    fn insert(&self, id: Uuid, t: TokenIssued) {
        let mut e = self.entries.write().expect("token registry lock");
        if !e.revoked.contains(&t.token_hash) {
            e.active.insert(t.token_hash, (id, t.user, t.role));
        }
    }

    fn remove(&self, hash: &str) {
        {
            let mut e = self.entries.write().expect("token registry lock");
            e.active.remove(hash);
            e.revoked.insert(hash.to_string());
        }
        self.revocations.send_modify(|n| *n += 1);
    }

    /// Changes on every revocation: a long-lived answer (an SSE stream) watches it and
    /// ends when [`TokenRegistry::verify`] no longer accepts its token.
    pub fn revocations(&self) -> tokio::sync::watch::Receiver<u64> {
        self.revocations.subscribe()
    }

    /// The actor a presented token stands for, if it is active.
    pub fn verify(&self, token: &str) -> Option<Actor> {
        let presented = token_hash(token);
        let e = self.entries.read().expect("token registry lock");
        let (stored_hash, (_, user, role)) = e.active.get_key_value(&presented)?;
        if bool::from(stored_hash.as_bytes().ct_eq(presented.as_bytes())) {
            Some(Actor {
                user: user.clone(),
                role: *role,
            })
        } else {
            None
        }
    }

    /// True when at least one admin token is active.
    pub fn has_admin(&self) -> bool {
        self.entries
            .read()
            .expect("token registry lock")
            .active
            .values()
            .any(|(_, _, r)| *r == Role::Admin)
    }

    /// The active tokens (id, user, role), ordered by id (= issue time, uuid v7).
    pub fn list(&self) -> Vec<TokenInfo> {
        let e = self.entries.read().expect("token registry lock");
        let mut out: Vec<TokenInfo> = e
            .active
            .values()
            .map(|(id, user, role)| TokenInfo {
                id: *id,
                user: user.clone(),
                role: *role,
            })
            .collect();
        out.sort_by_key(|t| t.id);
        out
    }

    /// Revokes the active token whose `TokenIssued` event has `id`: appends
    /// `TokenRevoked` (durable before this returns) and stops accepting the token at
    /// once. `NotFound` when no active token has that id.
    pub async fn revoke_id(
        &self,
        store: &Store,
        id: Uuid,
        by: &Actor,
    ) -> Result<TokenInfo, AppError> {
        let found = {
            let e = self.entries.read().expect("token registry lock");
            e.active
                .iter()
                .find(|(_, (tid, _, _))| *tid == id)
                .map(|(hash, (_, user, role))| {
                    (
                        hash.clone(),
                        TokenInfo {
                            id,
                            user: user.clone(),
                            role: *role,
                        },
                    )
                })
        };
        let Some((hash, info)) = found else {
            return Err(AppError::NotFound(format!("no active token with id {id}")));
        };
        self.revoke(store, &hash, by).await?;
        Ok(info)
    }

    /// Creates a token for `user` in `role`; stores only its hash. Returns the token.
    pub async fn issue(
        &self,
        store: &Store,
        user: &str,
        role: Role,
        by: &Actor,
    ) -> Result<String, AppError> {
        self.issue_info(store, user, role, by)
            .await
            .map(|(token, _)| token)
    }

    /// [`TokenRegistry::issue`], also returning the token's id (for revocation).
    pub async fn issue_info(
        &self,
        store: &Store,
        user: &str,
        role: Role,
        by: &Actor,
    ) -> Result<(String, TokenInfo), AppError> {
        let (token, req, issued) = issue_request(user, role, by)?;
        let id = req.events[0].id;
        store.append(req).await?;
        let info = TokenInfo {
            id,
            user: issued.user.clone(),
            role: issued.role,
        };
        self.insert(id, issued);
        Ok((token, info))
    }

    /// [`TokenRegistry::issue`] from non-async code.
    pub fn issue_blocking(
        &self,
        store: &Store,
        user: &str,
        role: Role,
        by: &Actor,
    ) -> Result<String, AppError> {
        let (token, req, issued) = issue_request(user, role, by)?;
        let id = req.events[0].id;
        store.append_blocking(req)?;
        self.insert(id, issued);
        Ok(token)
    }

    /// Revokes a token by its hash.
    pub async fn revoke(&self, store: &Store, hash: &str, by: &Actor) -> Result<(), AppError> {
        let data = serde_json::to_value(TokenRevoked {
            token_hash: hash.to_string(),
        })
        .map_err(|e| AppError::Internal(e.to_string()))?;
        store.append(token_request(TOKEN_REVOKED, data, by)).await?;
        self.remove(hash);
        Ok(())
    }
}

fn issue_request(
    user: &str,
    role: Role,
    by: &Actor,
) -> Result<(String, AppendRequest, TokenIssued), AppError> {
    let user = user.trim();
    if user.is_empty() || user.len() > 100 {
        return Err(reception_domain::DomainError::invalid(
            "user",
            "user must be 1 to 100 characters",
        )
        .into());
    }
    if role == Role::System {
        return Err(reception_domain::DomainError::invalid(
            "role",
            "tokens are for people; role system is reserved",
        )
        .into());
    }
    let mut raw = [0u8; 32];
    rand::rngs::SysRng
        .try_fill_bytes(&mut raw)
        .map_err(|e| AppError::Internal(format!("the OS random source failed: {e}")))?;
    let token = format!("rcp_{}", hex::encode(raw));
    let issued = TokenIssued {
        token_hash: token_hash(&token),
        user: user.to_string(),
        role,
    };
    let data = serde_json::to_value(&issued).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((token, token_request(TOKEN_ISSUED, data, by), issued))
}

fn token_request(event_type: &str, data: serde_json::Value, by: &Actor) -> AppendRequest {
    let id = Uuid::now_v7();
    AppendRequest {
        stream: TOKENS_STREAM.into(),
        expected: ExpectedVersion::Any,
        events: vec![NewEvent {
            id,
            event_type: event_type.into(),
            schema: 1,
            data,
            occurred_at: None,
            actor: crate::store_actor(by),
            correlation_id: id,
            causation_id: id,
        }],
        idempotency: None,
    }
}
