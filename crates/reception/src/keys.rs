//! The write node's signing key in the data directory (see
//! `reception_store::signing`): generated on first start, read on every start of a
//! command that appends, rotated by `reception signing-key rotate`.
//!
//! Files: `signing.key` (the key in force, 0600) and, during a rotation,
//! `signing.key.next`. A rotation writes the next key first, then appends its
//! announcement (signed by the old key), then renames the file over the old one; a
//! crash in between is finished on the next start: the log says which key is in force.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use reception_store::signing::Signer;
use reception_store::{Actor, Store};

const KEY_FILE: &str = "signing.key";
const NEXT_FILE: &str = "signing.key.next";

fn system_actor() -> Actor {
    Actor {
        user: "reception".into(),
        role: "system".into(),
    }
}

fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// Opens the store of a write node and signs with the data directory's key from now
/// on (generated, and adopted by the log, on first start).
pub(crate) fn open_signed(data_dir: &Path) -> anyhow::Result<Store> {
    let store = crate::open_store(data_dir)?;
    let signer = load(data_dir, &store)?;
    let id = signer.public().id().to_string();
    let adopted = store
        .use_signer_blocking(signer, system_actor())
        .with_context(|| format!("signing with the key in {}", key_path(data_dir).display()))?;
    if adopted.is_some() {
        tracing::info!(key_id = %id, "the log adopted this data directory's signing key: every event from here on is signed");
    }
    Ok(store)
}

/// The key in force for this data directory: finishes a rotation cut short, generates
/// the first key of a log that has none.
fn load(data_dir: &Path, store: &Store) -> anyhow::Result<Signer> {
    let path = key_path(data_dir);
    let next = data_dir.join(NEXT_FILE);
    let in_force = store.key_in_force()?;
    if next.exists() {
        let candidate = Signer::read(&next).map_err(anyhow::Error::msg)?;
        if in_force.as_ref() == Some(candidate.public()) {
            std::fs::rename(&next, &path)
                .with_context(|| format!("finishing the key rotation: {}", next.display()))?;
            tracing::warn!(key_id = %candidate.public().id(), "finished a key rotation cut short");
        } else {
            std::fs::remove_file(&next).with_context(|| format!("removing {}", next.display()))?;
            tracing::warn!("a key rotation did not reach the log: kept the old key");
        }
    }
    if path.exists() {
        return Signer::read(&path).map_err(anyhow::Error::msg);
    }
    if let Some(key) = in_force {
        anyhow::bail!(
            "the log is signed by key {} but {} is missing: copy that file back from the \
             machine (or backup) that holds it; without it no event can be added",
            key.id(),
            path.display()
        );
    }
    let signer = Signer::generate().map_err(anyhow::Error::msg)?;
    signer.write(&path).map_err(anyhow::Error::msg)?;
    tracing::info!(key_id = %signer.public().id(), path = %path.display(), "generated a signing key");
    Ok(signer)
}

/// `reception signing-key show`: the key in force (what replicas are given with
/// `--writer-key`).
pub(crate) fn show(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let file = key_path(data_dir);
    let held = file
        .exists()
        .then(|| Signer::read(&file).map_err(anyhow::Error::msg))
        .transpose()?;
    // a running server holds the store: then the key file is all there is to show
    let in_force = match crate::open_store(data_dir) {
        Ok(store) => {
            let key = store.key_in_force()?;
            store.close()?;
            Some(key)
        }
        Err(e) if held.is_some() => {
            eprintln!("note: {e:#}; showing the key file's key");
            None
        }
        Err(e) => return Err(e),
    };
    let shown = match &in_force {
        Some(key) => key.clone(),
        None => held.as_ref().map(|h| h.public().clone()),
    };
    let answer = serde_json::json!({
        "key_id": shown.as_ref().map(|k| k.id().to_string()),
        "public_key": shown.as_ref().map(|k| k.to_hex()),
        "key_file": file.display().to_string(),
        "key_file_matches": match (&in_force, &held) {
            (Some(Some(k)), Some(h)) => Some(k == h.public()),
            _ => None,
        },
    });
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(ExitCode::SUCCESS)
}

/// `reception signing-key rotate` (offline: stop the server first): a new key,
/// announced in the log signed by the old one.
pub(crate) fn rotate(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let store = open_signed(data_dir)?;
    let next_path = data_dir.join(NEXT_FILE);
    let next = Signer::generate().map_err(anyhow::Error::msg)?;
    next.write(&next_path).map_err(anyhow::Error::msg)?;
    let id = next.public().id().to_string();
    let public = next.public().to_hex();
    let appended = store.rotate_signer_blocking(next, system_actor())?;
    store.close()?;
    std::fs::rename(&next_path, key_path(data_dir))
        .with_context(|| format!("replacing {}", key_path(data_dir).display()))?;
    let seq = appended.events.first().map_or(0, |e| e.seq);
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "key_id": id,
            "public_key": public,
            "announced_at_seq": seq,
        }))?
    );
    Ok(ExitCode::SUCCESS)
}

/// The key file kept beside a backup at `out` (`<out>.signing.key`).
fn beside(backup: &Path) -> PathBuf {
    let mut name = backup.file_name().unwrap_or_default().to_os_string();
    name.push(".signing.key");
    backup.with_file_name(name)
}

/// `reception backup`: the data directory's key goes beside the backup (0600), so that
/// a restored node can go on signing the log; without it the restored log can only be
/// read. Answers where it went, if there was a key.
pub(crate) fn back_up(data_dir: &Path, out: &Path) -> anyhow::Result<Option<PathBuf>> {
    let path = key_path(data_dir);
    if !path.exists() {
        return Ok(None);
    }
    let to = beside(out);
    Signer::read(&path)
        .and_then(|k| k.write(&to))
        .map_err(anyhow::Error::msg)?;
    Ok(Some(to))
}

/// `reception restore`: takes the key kept beside the backup into a data directory
/// that has none.
pub(crate) fn restore(data_dir: &Path, from: &Path) -> anyhow::Result<Option<PathBuf>> {
    let kept = beside(from);
    let path = key_path(data_dir);
    if !kept.exists() || path.exists() {
        return Ok(None);
    }
    Signer::read(&kept)
        .and_then(|k| k.write(&path))
        .map_err(anyhow::Error::msg)?;
    Ok(Some(kept))
}
