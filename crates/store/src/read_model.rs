//! Read-model keyspaces: one sled tree per projection, its checkpoint inside it.

use crate::codec::{self, io_err};
use crate::StoreError;

/// User keys are stored under this prefix, the checkpoint under [`CHECKPOINT_KEY`],
/// so no user key can collide with it.
const DATA_PREFIX: u8 = b'd';
const CHECKPOINT_KEY: &[u8] = b"c";

pub(crate) fn data_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(DATA_PREFIX);
    k.extend_from_slice(key);
    k
}

pub(crate) fn checkpoint(tree: &sled::Tree) -> Result<u64, StoreError> {
    match tree.get(CHECKPOINT_KEY).map_err(io_err)? {
        Some(v) => codec::decode_u64(&v)
            .ok_or_else(|| StoreError::Io("bad read-model checkpoint record".into())),
        None => Ok(0),
    }
}

pub(crate) fn get(tree: &sled::Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(tree.get(data_key(key)).map_err(io_err)?.map(|v| v.to_vec()))
}

pub(crate) fn scan_prefix(
    tree: &sled::Tree,
    prefix: &[u8],
) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + Send + 'static {
    tree.scan_prefix(data_key(prefix)).map(|r| {
        r.map(|(k, v)| (k[1..].to_vec(), v.to_vec()))
            .map_err(io_err)
    })
}

/// One sled batch on one tree: the changes and the checkpoint land together or not at all.
pub(crate) fn commit(
    tree: &sled::Tree,
    checkpoint: u64,
    changes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    for (k, v) in changes {
        match v {
            Some(v) => batch.insert(data_key(&k), v),
            None => batch.remove(data_key(&k)),
        }
    }
    batch.insert(CHECKPOINT_KEY, &checkpoint.to_be_bytes());
    tree.apply_batch(batch).map_err(io_err)
}

pub(crate) fn clear(tree: &sled::Tree) -> Result<(), StoreError> {
    tree.clear().map_err(io_err)?;
    tree.flush().map_err(io_err)?;
    Ok(())
}
