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

/// The map behind [`Docs`]: a `BTreeMap` (sorted, for documents that queries list
/// or range over) or a `HashMap` (documents only looked up by key, see [`Keyed`]).
pub(crate) trait DocMap<T>: Default {
    fn get(&self, key: &str) -> Option<&T>;
    fn get_mut(&mut self, key: &str) -> Option<&mut T>;
    fn slot(&mut self, key: String) -> &mut T;
    fn insert(&mut self, key: String, doc: T);
    fn remove(&mut self, key: &str) -> Option<T>;
    fn clear(&mut self);
    /// Every (key, document) in key order.
    fn sorted(&self) -> Vec<(&String, &T)>;
}

impl<T: Default> DocMap<T> for BTreeMap<String, T> {
    fn get(&self, key: &str) -> Option<&T> {
        BTreeMap::get(self, key)
    }
    fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        BTreeMap::get_mut(self, key)
    }
    fn slot(&mut self, key: String) -> &mut T {
        self.entry(key).or_default()
    }
    fn insert(&mut self, key: String, doc: T) {
        BTreeMap::insert(self, key, doc);
    }
    fn remove(&mut self, key: &str) -> Option<T> {
        BTreeMap::remove(self, key)
    }
    fn clear(&mut self) {
        BTreeMap::clear(self);
    }
    fn sorted(&self) -> Vec<(&String, &T)> {
        self.iter().collect()
    }
}

impl<T: Default> DocMap<T> for HashMap<String, Box<T>> {
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
pub(crate) type Keyed<T> = Docs<T, HashMap<String, Box<T>>>;

/// A keyspace prefix plus its documents (kept sorted so answers are deterministic,
/// unless [`Keyed`]).
#[derive(Debug, Clone)]
pub(crate) struct Docs<T, M = BTreeMap<String, T>> {
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
/// its own). sled's cost is per record, so a rebuild that writes a few hundred
/// thousand documents one record each spends seconds inside sled; but values over
/// [`reception_store::MAX_INLINE_VALUE_BYTES`] let sled write whole leaves as blob
/// files it never fsyncs (packs of 256 documents made 3,192 of them, 5.4 GB, in a
/// 1M-event store), so packs stop below that.
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

    /// Mutable access, creating a default document; marks the key changed.
    pub(crate) fn entry(&mut self, key: &str) -> &mut T {
        self.entry_owned(key.to_string())
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

    /// Turns change tracking on or off (off forgets what changed so far).
    pub(crate) fn set_tracking(&mut self, on: bool) {
        self.track = on;
        if !on {
            self.dirty.clear();
        }
    }

    /// Every document into `out`, in packs of about [`PACK_BYTES`] (a JSON array of
    /// `[key, document]` pairs), and forgets what changed: for writing a freshly built
    /// model into an empty read model.
    pub(crate) fn dump(&mut self, out: &mut Changes) -> Result<(), ProjectionError> {
        self.dirty.clear();
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
