//! A bounded cache of folded aggregate states per stream, each with the stream version
//! it was folded to. Every cached state is a fold of events read from the store (never
//! of events the service only decided), so the store stays the one source of truth: a
//! command reads just the events after the cached version and folds them on top.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many streams' states are kept; the least recently used quarter is dropped when
/// the cache is full.
pub const STATE_CACHE_CAPACITY: usize = 4096;

struct Entry {
    version: u64,
    /// When this entry was last used (a counter, not a clock).
    used: u64,
    state: Arc<dyn Any + Send + Sync>,
}

#[derive(Default)]
struct Map {
    entries: HashMap<String, Entry>,
    tick: u64,
}

/// Folded states by stream name.
pub(crate) struct StateCache {
    map: Mutex<Map>,
    capacity: usize,
}

impl StateCache {
    pub(crate) fn new(capacity: usize) -> StateCache {
        StateCache {
            map: Mutex::new(Map::default()),
            capacity: capacity.max(4),
        }
    }

    /// The cached state of `stream` and its version, if one of type `A` is cached.
    pub(crate) fn get<A: Send + Sync + 'static>(&self, stream: &str) -> Option<(u64, Arc<A>)> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.tick += 1;
        let tick = map.tick;
        let entry = map.entries.get_mut(stream)?;
        entry.used = tick;
        let version = entry.version;
        let state = Arc::clone(&entry.state).downcast::<A>().ok()?;
        Some((version, state))
    }

    /// Keeps `state` as the fold of `stream` up to `version`, unless a fold to a later
    /// version is already kept.
    pub(crate) fn put<A: Send + Sync + 'static>(&self, stream: &str, version: u64, state: Arc<A>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.tick += 1;
        let tick = map.tick;
        if let Some(e) = map.entries.get_mut(stream) {
            if e.version < version {
                e.version = version;
                e.state = state;
            }
            e.used = tick;
            return;
        }
        if map.entries.len() >= self.capacity {
            // Drop the least recently used quarter (amortised: once per capacity/4 inserts).
            let mut used: Vec<u64> = map.entries.values().map(|e| e.used).collect();
            let cut = used.len() / 4;
            let (_, threshold, _) = used.select_nth_unstable(cut);
            let threshold = *threshold;
            map.entries.retain(|_, e| e.used > threshold);
        }
        map.entries.insert(
            stream.to_string(),
            Entry {
                version,
                used: tick,
                state,
            },
        );
    }

    /// How many streams are cached.
    pub(crate) fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_fold_wins_and_an_earlier_one_never_replaces_it() {
        let c = StateCache::new(16);
        c.put("s", 3, Arc::new(30u32));
        c.put("s", 2, Arc::new(20u32));
        assert_eq!(c.get::<u32>("s").map(|(v, s)| (v, *s)), Some((3, 30)));
        c.put("s", 5, Arc::new(50u32));
        assert_eq!(c.get::<u32>("s").map(|(v, s)| (v, *s)), Some((5, 50)));
        // another type under the same name is not handed out
        assert!(c.get::<u64>("s").is_none());
    }

    #[test]
    fn the_cache_stays_bounded_and_keeps_recently_used_streams() {
        let c = StateCache::new(8);
        for i in 0..8 {
            c.put(&format!("s{i}"), 1, Arc::new(i));
        }
        // s0 used again: it survives the next eviction
        assert!(c.get::<i32>("s0").is_some());
        for i in 8..40 {
            c.put(&format!("s{i}"), 1, Arc::new(i));
            assert!(c.len() <= 8);
        }
        assert!(c.get::<i32>("s39").is_some());
        assert!(c.get::<i32>("s1").is_none());
    }
}
