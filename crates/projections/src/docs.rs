//! `Docs<T>`: an in-memory map of read-model documents that remembers which keys
//! changed since the last commit, so a batch persists only what it touched. A rebuild
//! turns the bookkeeping off and writes every document once at the end instead, packed
//! [`PACK`] to a record.
//!
//! Layout in the read model: a document lives under `<prefix><key>` (JSON), or inside a
//! pack `#<prefix><n>` (a JSON array of `[key, document]` pairs) written by a rebuild.
//! A later change of a packed document is written under its own key, which overrides
//! the pack on load; a removal then writes an empty value (a tombstone).

use std::collections::{BTreeMap, BTreeSet};

use reception_store::ReadModel;
use serde::{de::DeserializeOwned, Serialize};

use crate::ProjectionError;

/// A keyspace prefix plus its documents (kept sorted so answers are deterministic).
#[derive(Debug, Clone)]
pub(crate) struct Docs<T> {
    prefix: &'static str,
    pub(crate) map: BTreeMap<String, T>,
    dirty: BTreeSet<String>,
    /// Whether changed keys are remembered (off while a rebuild builds the model).
    track: bool,
    /// Whether packs may hold documents (removals then need tombstones).
    packed: bool,
}

/// Documents per pack record at most. sled's cost is per record, so a rebuild that
/// writes a few hundred thousand documents one record each spends seconds inside sled.
pub(crate) const PACK: usize = 256;
/// A pack takes no further document that would bring it over this many bytes (a lone
/// document may be larger). sled 0.34 writes a leaf page serialised over 128 KiB as a
/// separate blob file that it never fsyncs (see the store's `log.rs`); a leaf holds up
/// to 17 values, so values must stay around 7 KiB for their pages to stay in sled's
/// fsynced log. Packs of 256 made blobs of up to 7 MB.
pub(crate) const PACK_BYTES: usize = 7 * 1024;

impl<T: Serialize + DeserializeOwned + Default> Docs<T> {
    pub(crate) fn new(prefix: &'static str) -> Self {
        Docs {
            prefix,
            map: BTreeMap::new(),
            dirty: BTreeSet::new(),
            track: true,
            packed: false,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&T> {
        self.map.get(key)
    }

    /// Mutable access, creating a default document; marks the key changed.
    pub(crate) fn entry(&mut self, key: &str) -> &mut T {
        if self.track && !self.dirty.contains(key) {
            self.dirty.insert(key.to_string());
        }
        if !self.map.contains_key(key) {
            self.map.insert(key.to_string(), T::default());
        }
        self.map.get_mut(key).expect("inserted above")
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
    pub(crate) fn drain_changes(
        &mut self,
        out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<(), ProjectionError> {
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

    /// Every document into `out`, in packs of [`PACK`], and forgets what changed: for
    /// writing a freshly built model into an empty read model.
    pub(crate) fn dump(
        &mut self,
        out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<(), ProjectionError> {
        self.dirty.clear();
        self.packed = true;
        // a pack is the JSON array of its `[key, document]` pairs, built here so that
        // its size is known as it grows
        let mut pack: Vec<u8> = Vec::with_capacity(PACK_BYTES + 64);
        let mut in_pack = 0usize;
        let mut item: Vec<u8> = Vec::new();
        let mut n = 0u32;
        let mut close = |pack: &mut Vec<u8>, in_pack: &mut usize| {
            pack.push(b']');
            let key = format!("#{}{n:08}", self.prefix).into_bytes();
            out.push((key, Some(std::mem::take(pack))));
            *in_pack = 0;
            n += 1;
        };
        for doc in &self.map {
            item.clear();
            serde_json::to_writer(&mut item, &doc).map_err(ProjectionError::encode)?;
            if in_pack > 0 && (in_pack == PACK || pack.len() + 1 + item.len() + 1 > PACK_BYTES) {
                close(&mut pack, &mut in_pack);
            }
            pack.push(if in_pack == 0 { b'[' } else { b',' });
            pack.extend_from_slice(&item);
            in_pack += 1;
        }
        if in_pack > 0 {
            close(&mut pack, &mut in_pack);
        }
        Ok(())
    }

    /// [`Docs::dump`] when `all`, else [`Docs::drain_changes`].
    pub(crate) fn drain(
        &mut self,
        out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>,
        all: bool,
    ) -> Result<(), ProjectionError> {
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
            self.map.extend(docs);
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
        for i in 0..(PACK as u64 * 2 + 3) {
            *docs.entry(&format!("{i:05}")) = i;
        }
        let mut out = Vec::new();
        docs.drain(&mut out, true).unwrap();
        assert_eq!(out.len(), 3, "three packs");
        let mut big: Docs<String> = Docs::new("b/");
        big.set_tracking(false);
        for i in 0..40 {
            *big.entry(&format!("{i:05}")) = "x".repeat(if i == 7 { 20_000 } else { 1_000 });
        }
        let mut packs = Vec::new();
        big.drain(&mut packs, true).unwrap();
        for (_, v) in &packs {
            let v = v.as_ref().unwrap();
            let docs: Vec<(String, String)> = serde_json::from_slice(v).unwrap();
            assert!(
                v.len() <= PACK_BYTES || docs.len() == 1,
                "{} bytes",
                v.len()
            );
        }
        assert!(packs.len() > 40_000 / PACK_BYTES, "{} packs", packs.len());
        rm.commit(1, out).unwrap();
        docs.set_tracking(true);
        *docs.entry("00001") = 100;
        docs.remove("00002");
        *docs.entry("zz") = 7;
        let mut out = Vec::new();
        docs.drain(&mut out, false).unwrap();
        assert_eq!(out.len(), 3);
        rm.commit(2, out).unwrap();
        let mut loaded: Docs<u64> = Docs::new("d/");
        loaded.load(&rm).unwrap();
        assert_eq!(loaded.map, docs.map);
        assert_eq!(loaded.get("00001"), Some(&100));
        assert_eq!(loaded.get("00002"), None);
        // a removal after loading packs is a tombstone too
        loaded.remove("00003");
        let mut out = Vec::new();
        loaded.drain(&mut out, false).unwrap();
        assert_eq!(out, vec![(b"d/00003".to_vec(), Some(Vec::new()))]);
        store.close().unwrap();
    }
}
