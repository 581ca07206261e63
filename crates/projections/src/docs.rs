//! `Docs<T>`: an in-memory map of read-model documents that remembers which keys
//! changed since the last commit, so a batch persists only what it touched. A rebuild
//! turns the bookkeeping off and writes every document once at the end instead.

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
}

impl<T: Serialize + DeserializeOwned + Default> Docs<T> {
    pub(crate) fn new(prefix: &'static str) -> Self {
        Docs {
            prefix,
            map: BTreeMap::new(),
            dirty: BTreeSet::new(),
            track: true,
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

    /// Every document into `out` as (key, Some(json)), and forgets what changed: for
    /// writing a freshly built model into an empty read model.
    pub(crate) fn dump(
        &mut self,
        out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<(), ProjectionError> {
        self.dirty.clear();
        out.reserve(self.map.len());
        for (key, doc) in &self.map {
            let mut full = Vec::with_capacity(self.prefix.len() + key.len());
            full.extend_from_slice(self.prefix.as_bytes());
            full.extend_from_slice(key.as_bytes());
            out.push((
                full,
                Some(serde_json::to_vec(doc).map_err(ProjectionError::encode)?),
            ));
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
        for item in rm.scan_prefix(self.prefix.as_bytes()) {
            let (k, v) = item.map_err(ProjectionError::Store)?;
            let key = String::from_utf8_lossy(&k[self.prefix.len()..]).into_owned();
            let doc: T = serde_json::from_slice(&v).map_err(|e| ProjectionError::Decode {
                key: format!("{}{}", self.prefix, key),
                reason: e.to_string(),
            })?;
            self.map.insert(key, doc);
        }
        Ok(())
    }
}
