//! `Docs<T>`: an in-memory map of read-model documents that remembers which keys
//! changed since the last commit, so a batch persists only what it touched. A rebuild
//! turns the bookkeeping off and writes every document once at the end instead, packed
//! into records of about [`PACK_BYTES`].
//!
//! Layout in the read model: a document lives under `<prefix><key>` (JSON), or inside a
//! pack `#<prefix><n>` (a JSON array of `[key, document]` pairs) written by a rebuild.
//! A later change of a packed document is written under its own key, which overrides
//! the pack on load; a removal then writes an empty value (a tombstone).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use reception_store::ReadModel;
use serde::{de::DeserializeOwned, Serialize};

use crate::{Changes, ProjectionError};

/// The map behind [`Docs`]: an [`Ordered`] map (sorted, for documents that queries
/// list or range over) or a `HashMap` (documents only looked up by key, see [`Keyed`]).
pub(crate) trait DocMap<T>: Default {
    fn get(&self, key: &str) -> Option<&T>;
    fn get_mut(&mut self, key: &str) -> Option<&mut T>;
    fn slot(&mut self, key: String) -> &mut T;
    fn insert(&mut self, key: String, doc: T);
    fn remove(&mut self, key: &str) -> Option<T>;
    fn clear(&mut self);
    /// Every (key, document) in key order.
    fn sorted(&self) -> Vec<(&String, &T)>;
    /// A rebuild starts (`true`, the map is empty) or its model is complete (`false`).
    fn building(&mut self, _on: bool) {}
}

/// The hasher of the read models' hash maps: foldhash, seeded per process (like std's
/// SipHash, which cost ~5% of a rebuild in lookups of a few hundred thousand keys).
pub(crate) type FastHash = foldhash::fast::RandomState;

/// A `BTreeMap` for documents that queries list or range over in key order, which
/// while a rebuild builds it keeps its keys in a hash map instead: a rebuild looks
/// documents up hundreds of thousands of times, and a `BTreeMap` lookup compares the
/// key with a dozen others (each a `memcmp` of a long common prefix, such as
/// `2025/customer/...`). The keys are sorted in once, when the model is complete; the
/// map reads as the `BTreeMap` (`Deref`) only then.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ordered<T> {
    sorted: BTreeMap<String, T>,
    /// Documents added while a rebuild builds the map.
    building: Option<HashMap<String, T, FastHash>>,
}

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered {
            sorted: BTreeMap::new(),
            building: None,
        }
    }
}

impl<T> std::ops::Deref for Ordered<T> {
    type Target = BTreeMap<String, T>;
    fn deref(&self) -> &BTreeMap<String, T> {
        debug_assert!(
            self.building.as_ref().is_none_or(HashMap::is_empty),
            "a map being built is read in key order"
        );
        &self.sorted
    }
}

impl<T> Ordered<T> {
    fn settle(&mut self) {
        if let Some(built) = self.building.take() {
            self.sorted.extend(built);
        }
    }
}

impl<T: Default> DocMap<T> for Ordered<T> {
    fn get(&self, key: &str) -> Option<&T> {
        match &self.building {
            Some(b) => b.get(key).or_else(|| self.sorted.get(key)),
            None => self.sorted.get(key),
        }
    }
    fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        match &mut self.building {
            Some(b) => b.get_mut(key).or_else(|| self.sorted.get_mut(key)),
            None => self.sorted.get_mut(key),
        }
    }
    fn slot(&mut self, key: String) -> &mut T {
        match &mut self.building {
            Some(b) if !self.sorted.contains_key(&key) => b.entry(key).or_default(),
            _ => self.sorted.entry(key).or_default(),
        }
    }
    fn insert(&mut self, key: String, doc: T) {
        match &mut self.building {
            Some(b) if !self.sorted.contains_key(&key) => {
                b.insert(key, doc);
            }
            _ => {
                self.sorted.insert(key, doc);
            }
        }
    }
    fn remove(&mut self, key: &str) -> Option<T> {
        let built = self.building.as_mut().and_then(|b| b.remove(key));
        built.or_else(|| self.sorted.remove(key))
    }
    fn clear(&mut self) {
        self.sorted.clear();
        if let Some(b) = &mut self.building {
            b.clear();
        }
    }
    fn sorted(&self) -> Vec<(&String, &T)> {
        let mut all: Vec<(&String, &T)> = self.sorted.iter().collect();
        if let Some(b) = &self.building {
            all.extend(b.iter());
            all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        }
        all
    }
    fn building(&mut self, on: bool) {
        if on {
            self.building.get_or_insert_with(HashMap::default);
        } else {
            self.settle();
        }
    }
}

impl<T: Default> DocMap<T> for HashMap<String, Box<T>, FastHash> {
    fn get(&self, key: &str) -> Option<&T> {
        HashMap::get(self, key).map(|d| &**d)
    }
    fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        HashMap::get_mut(self, key).map(|d| &mut **d)
    }
    fn slot(&mut self, key: String) -> &mut T {
        self.entry(key).or_default()
    }
    fn insert(&mut self, key: String, doc: T) {
        HashMap::insert(self, key, Box::new(doc));
    }
    fn remove(&mut self, key: &str) -> Option<T> {
        HashMap::remove(self, key).map(|d| *d)
    }
    fn clear(&mut self) {
        HashMap::clear(self);
    }
    fn sorted(&self) -> Vec<(&String, &T)> {
        let mut all: Vec<(&String, &T)> = self.iter().map(|(k, d)| (k, &**d)).collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all
    }
}

/// Documents that are only looked up by key (never listed in key order by a query):
/// a hash map, cheaper per lookup than a `BTreeMap` of a few hundred thousand keys.
/// The documents are boxed so that the table, which doubles as it grows, stays small
/// (growing a table of whole documents reallocates and page-faults tens of MB).
/// Packs are still written in key order.
pub(crate) type Keyed<T> = Docs<T, HashMap<String, Box<T>, FastHash>>;

/// A keyspace prefix plus its documents (kept sorted so answers are deterministic,
/// unless [`Keyed`]).
#[derive(Debug, Clone)]
pub(crate) struct Docs<T, M = Ordered<T>> {
    prefix: &'static str,
    pub(crate) map: M,
    dirty: BTreeSet<String>,
    /// Whether changed keys are remembered (off while a rebuild builds the model).
    track: bool,
    /// Whether packs may hold documents (removals then need tombstones).
    packed: bool,
    doc: std::marker::PhantomData<fn() -> T>,
}

/// The size a pack record is filled up to (a document larger than this is a pack of
/// its own, which `ReadModel::commit` stores in parts of this size). sled's cost is
/// per record, so a rebuild that writes a few hundred thousand documents one record
/// each spends seconds inside sled; but values over
/// [`reception_store::MAX_INLINE_VALUE_BYTES`] let sled write whole leaves as blob
/// files it never fsyncs (large packs made thousands of them in a big store), so packs
/// stop below that.
pub(crate) const PACK_BYTES: usize = reception_store::MAX_INLINE_VALUE_BYTES;

impl<T: Serialize + DeserializeOwned + Default, M: DocMap<T>> Docs<T, M> {
    pub(crate) fn new(prefix: &'static str) -> Self {
        Docs {
            prefix,
            map: M::default(),
            dirty: BTreeSet::new(),
            track: true,
            packed: false,
            doc: std::marker::PhantomData,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&T> {
        self.map.get(key)
    }

    /// Mutable access, creating a default document; marks the key changed. The key
    /// is copied only when it is new (to the map or to the changed set).
    pub(crate) fn entry(&mut self, key: &str) -> &mut T {
        if self.map.get(key).is_none() {
            return self.entry_owned(key.to_string());
        }
        if self.track && !self.dirty.contains(key) {
            self.dirty.insert(key.to_string());
        }
        self.map
            .get_mut(key)
            .expect("present: looked up just before")
    }

    /// [`Docs::entry`] of a key the caller built (one map lookup).
    pub(crate) fn entry_owned(&mut self, key: String) -> &mut T {
        if self.track && !self.dirty.contains(&key) {
            self.dirty.insert(key.clone());
        }
        self.map.slot(key)
    }

    /// Mutable access to an existing document only; marks the key changed when present.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        let doc = self.map.get_mut(key)?;
        if self.track && !self.dirty.contains(key) {
            self.dirty.insert(key.to_string());
        }
        Some(doc)
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<T> {
        let old = self.map.remove(key);
        if old.is_some() && self.track {
            self.dirty.insert(key.to_string());
        }
        old
    }

    /// Moves the changed documents into `out` as (key, Some(json)) or (key, None).
    pub(crate) fn drain_changes(&mut self, out: &mut Changes) -> Result<(), ProjectionError> {
        for key in std::mem::take(&mut self.dirty) {
            let full = format!("{}{}", self.prefix, key).into_bytes();
            match self.map.get(&key) {
                Some(doc) => out.push((
                    full,
                    Some(serde_json::to_vec(doc).map_err(ProjectionError::encode)?),
                )),
                None if self.packed => out.push((full, Some(Vec::new()))),
                None => out.push((full, None)),
            }
        }
        Ok(())
    }

    /// Turns change tracking on or off (off forgets what changed so far). Off is how
    /// a rebuild builds a fresh model; on again (or [`Docs::dump`]) completes it.
    pub(crate) fn set_tracking(&mut self, on: bool) {
        self.track = on;
        if !on {
            self.dirty.clear();
        }
        self.map.building(!on);
    }

    /// Every document into `out`, in packs of about [`PACK_BYTES`] (a JSON array of
    /// `[key, document]` pairs), and forgets what changed: for writing a freshly built
    /// model into an empty read model.
    pub(crate) fn dump(&mut self, out: &mut Changes) -> Result<(), ProjectionError> {
        self.dirty.clear();
        self.map.building(false);
        self.packed = true;
        let mut n = 0u32;
        let mut pack = Vec::with_capacity(2 * PACK_BYTES);
        let mut doc = Vec::new();
        let prefix = self.prefix;
        // packs are encoded in one reused buffer and handed out exactly sized (a
        // collecting sink keeps them all until they are written)
        let mut close = |pack: &mut Vec<u8>, out: &mut Changes| {
            pack.push(b']');
            let key = format!("#{prefix}{n:08}").into_bytes();
            out.push((key, Some(pack.as_slice().to_vec())));
            pack.clear();
            n += 1;
        };
        for pair in self.map.sorted() {
            doc.clear();
            serde_json::to_writer(&mut doc, &pair).map_err(ProjectionError::encode)?;
            if !pack.is_empty() && pack.len() + doc.len() >= PACK_BYTES {
                close(&mut pack, out);
            }
            pack.push(if pack.is_empty() { b'[' } else { b',' });
            pack.extend_from_slice(&doc);
        }
        if !pack.is_empty() {
            close(&mut pack, out);
        }
        Ok(())
    }

    /// [`Docs::dump`] when `all`, else [`Docs::drain_changes`].
    pub(crate) fn drain(&mut self, out: &mut Changes, all: bool) -> Result<(), ProjectionError> {
        if all {
            self.dump(out)
        } else {
            self.drain_changes(out)
        }
    }

    /// Loads every document under the prefix from the persisted read model.
    pub(crate) fn load(&mut self, rm: &ReadModel) -> Result<(), ProjectionError> {
        self.map.clear();
        self.dirty.clear();
        self.packed = false;
        let decode = |k: &[u8], e: serde_json::Error| ProjectionError::Decode {
            key: String::from_utf8_lossy(k).into_owned(),
            reason: e.to_string(),
        };
        for item in rm.scan_prefix(format!("#{}", self.prefix).as_bytes()) {
            let (k, v) = item.map_err(ProjectionError::Store)?;
            let docs: Vec<(String, T)> = serde_json::from_slice(&v).map_err(|e| decode(&k, e))?;
            for (key, doc) in docs {
                self.map.insert(key, doc);
            }
            self.packed = true;
        }
        for item in rm.scan_prefix(self.prefix.as_bytes()) {
            let (k, v) = item.map_err(ProjectionError::Store)?;
            let key = String::from_utf8_lossy(&k[self.prefix.len()..]).into_owned();
            if v.is_empty() {
                self.map.remove(&key);
                continue;
            }
            let doc: T = serde_json::from_slice(&v).map_err(|e| decode(&k, e))?;
            self.map.insert(key, doc);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_documents_load_back_with_later_changes_and_removals_on_top() {
        let dir = tempfile::tempdir().unwrap();
        let store = reception_store::Store::open(dir.path()).unwrap();
        let rm = store.read_model("t").unwrap();
        let mut docs: Docs<u64> = Docs::new("d/");
        docs.set_tracking(false);
        for i in 0..2000 {
            *docs.entry(&format!("{i:05}")) = i;
        }
        let mut out = Changes::default();
        docs.drain(&mut out, true).unwrap();
        // 2,000 pairs like `["01042",1042]`, 28,890 bytes with their commas, fill
        // four packs up to PACK_BYTES and leave the rest to a fifth
        assert_eq!(out.len(), 5, "five packs");
        for (_, v) in &out[..4] {
            let v = v.as_ref().unwrap();
            assert!(
                v.len() < PACK_BYTES && v.len() > PACK_BYTES - 20,
                "{}",
                v.len()
            );
        }
        rm.commit(1, out.to_vec()).unwrap();
        docs.set_tracking(true);
        *docs.entry("00001") = 100;
        docs.remove("00002");
        *docs.entry("zz") = 7;
        let mut out = Changes::default();
        docs.drain(&mut out, false).unwrap();
        assert_eq!(out.len(), 3);
        rm.commit(2, out.to_vec()).unwrap();
        let mut loaded: Docs<u64> = Docs::new("d/");
        loaded.load(&rm).unwrap();
        assert_eq!(loaded.map, docs.map);
        assert_eq!(loaded.get("00001"), Some(&100));
        assert_eq!(loaded.get("00002"), None);
        // a removal after loading packs is a tombstone too
        loaded.remove("00003");
        let mut out = Changes::default();
        loaded.drain(&mut out, false).unwrap();
        assert_eq!(*out, vec![(b"d/00003".to_vec(), Some(Vec::new()))]);
        store.close().unwrap();
    }

    #[test]
    fn a_document_larger_than_a_pack_is_a_pack_of_its_own() {
        let mut docs: Docs<String> = Docs::new("d/");
        docs.set_tracking(false);
        *docs.entry("a") = "x".repeat(100);
        *docs.entry("b") = "y".repeat(PACK_BYTES * 2);
        *docs.entry("c") = "z".repeat(100);
        let mut out = Changes::default();
        docs.drain(&mut out, true).unwrap();
        let packs: Vec<Vec<(String, String)>> = out
            .iter()
            .map(|(_, v)| serde_json::from_slice(v.as_ref().unwrap()).unwrap())
            .collect();
        let keys: Vec<Vec<&str>> = packs
            .iter()
            .map(|p| p.iter().map(|(k, _)| k.as_str()).collect())
            .collect();
        assert_eq!(keys, vec![vec!["a"], vec!["b"], vec!["c"]]);
        assert_eq!(out[0].0, b"#d/00000000".to_vec());
        assert_eq!(out[2].0, b"#d/00000002".to_vec());
    }

    #[test]
    fn a_map_built_by_a_rebuild_answers_like_one_built_tracked_and_settles_sorted() {
        let mut tracked: Docs<u64> = Docs::new("d/");
        let mut built: Docs<u64> = Docs::new("d/");
        built.set_tracking(false);
        for i in 0..3000u64 {
            let key = format!("k{}", i * 7919 % 3001);
            for docs in [&mut tracked, &mut built] {
                *docs.entry(&key) += i;
                if i % 7 == 0 {
                    docs.remove(&format!("k{}", i * 31 % 3001));
                }
                if let Some(d) = docs.get_mut(&format!("k{}", i % 101)) {
                    *d += 1;
                }
            }
            assert_eq!(built.get(&key), tracked.get(&key));
        }
        let (mut a, mut b) = (Changes::default(), Changes::default());
        tracked.drain(&mut a, true).unwrap();
        built.drain(&mut b, true).unwrap();
        assert!(a.len() > 1);
        assert_eq!(*a, *b, "the same packs, in key order");
        built.set_tracking(true);
        assert_eq!(built.map, tracked.map);
        let keys: Vec<&String> = built.map.keys().collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        // tracked again: changes are remembered as before
        *built.entry("k5") = 0;
        let mut c = Changes::default();
        built.drain(&mut c, false).unwrap();
        assert_eq!(*c, vec![(b"d/k5".to_vec(), Some(b"0".to_vec()))]);
    }

    #[test]
    fn keyed_documents_are_packed_in_key_order_like_sorted_ones() {
        let mut sorted: Docs<u64> = Docs::new("d/");
        let mut keyed: Keyed<u64> = Keyed::new("d/");
        for i in (0..3000u64).rev() {
            let key = format!("k{}", i * 7919 % 3001);
            *sorted.entry(&key) = i;
            *keyed.entry(&key) = i;
        }
        let (mut a, mut b) = (Changes::default(), Changes::default());
        sorted.drain(&mut a, true).unwrap();
        keyed.drain(&mut b, true).unwrap();
        assert!(a.len() > 1);
        assert_eq!(*a, *b);
    }
}
