//! [`BoardCache`]: the serialised board kept between changes, shared by the board
//! routes (which fill it) and the admin rebuild (which invalidates it).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reception_projections::ReadSide;
use serde_json::Value;

use super::error::ApiError;
use super::respond::{redact_phones, to_json};

/// The serialised board, kept until the read side applies another event, the board is
/// rebuilt ([`BoardCache::invalidate`]) or the clock reaches the first instant at which
/// a time-dependent flag, a complaint clock or "today" would change
/// ([`ReadSide::board_until`]). A cached answer is therefore byte for byte what a fresh
/// computation would give at that moment.
#[derive(Default)]
pub struct BoardCache {
    slot: std::sync::Mutex<Option<Arc<CachedBoard>>>,
    generation: std::sync::atomic::AtomicU64,
}

/// One computed board answer.
pub struct CachedBoard {
    /// The read side's applied seq read before the board was computed.
    seq: u64,
    generation: u64,
    /// Valid for clock readings in `[from, until)`.
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    /// The board as JSON (phone numbers removed), for paged or filtered answers.
    pub(crate) value: Value,
    /// `value` serialised: the answer without paging or filters.
    pub(crate) bytes: bytes::Bytes,
}

impl BoardCache {
    /// Forgets the cached board (after a rebuild replaced the read model).
    pub fn invalidate(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The board at `now`: the cached one while it is still valid, else computed (and
    /// kept).
    pub(crate) fn get(
        &self,
        read: &ReadSide,
        now: DateTime<Utc>,
    ) -> Result<Arc<CachedBoard>, ApiError> {
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        // Read before computing: the board computed below is at least this far along.
        let seq = read.applied_seq();
        {
            let slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = slot.as_ref() {
                if c.seq == seq && c.generation == generation && c.from <= now && now < c.until {
                    return Ok(Arc::clone(c));
                }
            }
        }
        let (board, until) = read.board_until(now);
        let mut value = to_json(&board)?;
        redact_phones(&mut value);
        let bytes = serde_json::to_vec(&value)
            .map_err(|e| ApiError::Internal(format!("serialising the board: {e}")))?;
        let cached = Arc::new(CachedBoard {
            seq,
            generation,
            from: now,
            until,
            value,
            bytes: bytes.into(),
        });
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&cached));
        Ok(cached)
    }
}
