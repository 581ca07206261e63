//! Read-model keyspaces: one sled tree per projection, its checkpoint inside it.
//!
//! A value larger than [`MAX_INLINE_VALUE_BYTES`] (a customer's archive document with
//! hundreds of visits, say) is stored in parts of at most that size, so that no sled
//! leaf grows past the size sled writes as an unsynced blob file (see
//! [`MAX_INLINE_VALUE_BYTES`]). The value's own key then holds a part header
//! ([`PARTS_MAGIC`], the part count as u32 big-endian) and the parts live under
//! [`PART_PREFIX`] keys; reads put them back together, so callers see whole values.
//! A value that itself begins with the magic is stored as parts too (one part if
//! small), so a stored value that begins with it is always a header; every other value
//! (JSON documents, the NATS replica's u64 resume point, values written before parts
//! existed) is stored and read as it is. A commit writes a value's header and parts in
//! one batch, so a crash leaves all or none of them; a read of a value in parts is not
//! isolated from a concurrent commit of the same key (the read side reads its models
//! only when it opens them, before anything writes).

use std::collections::HashMap;

use crate::codec::{self, io_err};
use crate::{StoreError, MAX_INLINE_VALUE_BYTES};

/// User keys are stored under this prefix, the checkpoint under [`CHECKPOINT_KEY`],
/// so no user key can collide with it.
const DATA_PREFIX: u8 = b'd';
const CHECKPOINT_KEY: &[u8] = b"c";
/// The parts of large values: `p`, the user key's length (u32 big-endian), the user
/// key, the part's index (u32 big-endian). Outside every [`DATA_PREFIX`] scan.
const PART_PREFIX: u8 = b'p';
/// How a part header begins (no JSON text and no binary value the store's users write
/// begins so).
const PARTS_MAGIC: &[u8] = b"\0reception-parts\0";

pub(crate) fn data_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(DATA_PREFIX);
    k.extend_from_slice(key);
    k
}

fn part_key(key: &[u8], part: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 9);
    k.push(PART_PREFIX);
    k.extend_from_slice(&u32::try_from(key.len()).unwrap_or(u32::MAX).to_be_bytes());
    k.extend_from_slice(key);
    k.extend_from_slice(&part.to_be_bytes());
    k
}

/// The part header of a value stored in `parts` parts.
fn header(parts: u32) -> Vec<u8> {
    [PARTS_MAGIC, &parts.to_be_bytes()].concat()
}

/// The part count of a stored value that is a part header ([`header`]).
fn parts_of(stored: &[u8]) -> Option<u32> {
    let n = stored.strip_prefix(PARTS_MAGIC)?;
    Some(u32::from_be_bytes(n.try_into().ok()?))
}

/// The whole value of user key `key` from what its data key holds.
fn assemble(tree: &sled::Tree, key: &[u8], stored: sled::IVec) -> Result<Vec<u8>, StoreError> {
    let Some(parts) = parts_of(&stored) else {
        if stored.starts_with(PARTS_MAGIC) {
            return Err(bad_parts(key, "malformed part header"));
        }
        return Ok(stored.to_vec());
    };
    let mut value = Vec::with_capacity(parts as usize * MAX_INLINE_VALUE_BYTES);
    for part in 0..parts {
        match tree.get(part_key(key, part)).map_err(io_err)? {
            Some(p) => value.extend_from_slice(&p),
            None => return Err(bad_parts(key, &format!("part {part} of {parts} missing"))),
        }
    }
    Ok(value)
}

fn bad_parts(key: &[u8], what: &str) -> StoreError {
    StoreError::Io(format!(
        "read model value {:?}: {what}",
        String::from_utf8_lossy(key)
    ))
}

pub(crate) fn checkpoint(tree: &sled::Tree) -> Result<u64, StoreError> {
    match tree.get(CHECKPOINT_KEY).map_err(io_err)? {
        Some(v) => codec::decode_u64(&v)
            .ok_or_else(|| StoreError::Io("bad read-model checkpoint record".into())),
        None => Ok(0),
    }
}

pub(crate) fn get(tree: &sled::Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    match tree.get(data_key(key)).map_err(io_err)? {
        Some(v) => assemble(tree, key, v).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn scan_prefix(
    tree: &sled::Tree,
    prefix: &[u8],
) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + Send + 'static {
    let parts = tree.clone();
    tree.scan_prefix(data_key(prefix)).map(move |r| {
        let (k, v) = r.map_err(io_err)?;
        let key = k[1..].to_vec();
        let value = assemble(&parts, &key, v)?;
        Ok((key, value))
    })
}

/// One sled batch on one tree: the changes and the checkpoint land together or not at all.
///
/// A key whose stored value was in parts has its parts removed in the same batch when
/// it is overwritten or deleted (looked up first; a read model has one writer).
pub(crate) fn commit(
    tree: &sled::Tree,
    checkpoint: u64,
    changes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    // parts written earlier in this batch (a key changed twice in one commit)
    let mut in_batch: HashMap<Vec<u8>, u32> = HashMap::new();
    for (k, v) in changes {
        let dk = data_key(&k);
        let stored = tree.get(&dk).map_err(io_err)?.as_deref().and_then(parts_of);
        let old = stored.max(in_batch.remove(&k)).unwrap_or(0);
        for part in 0..old {
            batch.remove(part_key(&k, part));
        }
        match v {
            Some(v) if v.len() > MAX_INLINE_VALUE_BYTES || v.starts_with(PARTS_MAGIC) => {
                let mut n = 0u32;
                for chunk in v.chunks(MAX_INLINE_VALUE_BYTES) {
                    batch.insert(part_key(&k, n), chunk);
                    n += 1;
                }
                batch.insert(dk, header(n));
                in_batch.insert(k, n);
            }
            Some(v) => batch.insert(dk, v),
            None => batch.remove(dk),
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
