//! The backup format shared by the offline `reception backup`, the online admin route
//! and `reception restore`: one JSON line per envelope as stored, then one trailer line.
//! The pieces live here so that every writer and reader of the format agree on it.

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::Envelope;

/// The last line of a backup: what a reader must have read when it gets there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trailer {
    /// Envelope lines before the trailer.
    pub events: u64,
    pub head_seq: u64,
    pub head_hash: String,
}

/// The trailer line's shape: `{"trailer": {...}}`, which no envelope line has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailerLine {
    pub trailer: Trailer,
}

impl TrailerLine {
    /// The line as written (without its newline).
    pub fn to_line(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a trailer serialises")
    }

    /// Whether a backup line is the trailer rather than an envelope.
    pub fn starts(line: &[u8]) -> bool {
        line.starts_with(b"{\"trailer\"")
    }
}

/// Follows a backup's hash chain line by line, as a reader receives it: every envelope
/// must be the next seq, link to the previous hash and carry its recomputed hash.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    seq: u64,
    hash: String,
}

impl Default for ChainCheck {
    fn default() -> Self {
        ChainCheck {
            seq: 0,
            hash: codec::GENESIS_HASH.to_string(),
        }
    }
}

impl ChainCheck {
    /// Checks the next envelope; on error says which rule it broke.
    pub fn next(&mut self, env: &Envelope) -> Result<(), String> {
        if env.seq != self.seq + 1 {
            return Err(format!("seq {} where {} was due", env.seq, self.seq + 1));
        }
        if env.prev_hash != self.hash {
            return Err(format!(
                "seq {}: prev_hash does not link to the previous event",
                env.seq
            ));
        }
        let canonical = codec::canonical_bytes(env).map_err(|e| format!("seq {}: {e}", env.seq))?;
        if codec::chain_hash(&env.prev_hash, &canonical) != env.hash {
            return Err(format!(
                "seq {}: its hash does not match its content",
                env.seq
            ));
        }
        self.seq = env.seq;
        self.hash.clone_from(&env.hash);
        Ok(())
    }

    /// The last seq and hash checked (0 and the genesis hash before the first).
    pub fn head(&self) -> (u64, &str) {
        (self.seq, &self.hash)
    }
}
