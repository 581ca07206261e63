//! `reception backup` and `reception restore`: the log as JSON lines of raw envelopes,
//! closed by a trailer line that restore checks, so that a cut or altered file is
//! refused instead of restored as a shorter history.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
pub use reception_store::backup::{Trailer, TrailerLine};
use reception_store::{Envelope, ReplicateError, Store};

use crate::{open_store, progress, EXIT_TAMPERED};

/// Envelopes of a backup applied in one group commit by `restore`.
const RESTORE_RUN: usize = 2_000;

/// Writes every raw envelope up to the head as one JSON line, then the trailer; into a
/// temporary file beside `out` (mode 0600), fsynced, then renamed over `out`.
pub fn backup(data_dir: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let store = open_store(data_dir)?;
    let (head, head_hash) = store.head();
    let tmp = temp_beside(out);
    let written = write_backup(&store, head, &head_hash, &tmp);
    store.close()?;
    let count = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, out).with_context(|| format!("renaming into {}", out.display()))?;
    sync_dir_of(out)?;
    eprintln!(
        "backed up {count} events (head hash {head_hash}) to {}",
        out.display()
    );
    if let Some(key) = crate::keys::back_up(data_dir, out)? {
        eprintln!(
            "the signing key is in {} (keep it as safe as the backup)",
            key.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates `tmp` for writing a backup: new, readable by its owner only.
pub(crate) fn create_private(tmp: &Path) -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts
        .open(tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    Ok(std::io::BufWriter::new(file))
}

fn write_backup(store: &Store, head: u64, head_hash: &str, tmp: &Path) -> anyhow::Result<u64> {
    let mut w = create_private(tmp)?;
    let bar = progress(head, "backup");
    let mut next = 1;
    while next <= head {
        let mut n = 0;
        for env in store.read_all_raw(next, 10_000) {
            let env = env?;
            if env.seq > head {
                break;
            }
            serde_json::to_writer(&mut w, &env)?;
            w.write_all(b"\n")?;
            next = env.seq + 1;
            n += 1;
        }
        bar.set_position(next - 1);
        if n == 0 {
            break;
        }
    }
    bar.finish();
    let count = next - 1;
    if count != head {
        bail!("the log ended at seq {count}, before its head {head}");
    }
    let trailer = TrailerLine {
        trailer: Trailer {
            events: count,
            head_seq: head,
            head_hash: head_hash.to_string(),
        },
    };
    serde_json::to_writer(&mut w, &trailer)?;
    w.write_all(b"\n")?;
    w.flush()?;
    w.get_ref().sync_all()?;
    Ok(count)
}

/// Replays a backup into an empty data dir, re-verifying the chain event by event and
/// the trailer at the end. All or nothing: the store is built in a temporary directory
/// beside its place and moved there only when everything checked out.
pub fn restore(data_dir: &Path, from: &Path) -> anyhow::Result<ExitCode> {
    let file = std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?;
    let size = file.metadata()?.len();
    let target = data_dir.join("store");
    if target.exists() {
        let existing = open_store(data_dir)?;
        let holds = existing.head().0;
        existing.close()?;
        if holds != 0 {
            bail!(
                "{} already holds events; restore needs an empty data dir",
                data_dir.display()
            );
        }
        std::fs::remove_dir_all(&target)
            .with_context(|| format!("removing the empty store {}", target.display()))?;
    }
    let building = data_dir.join(".store.restoring");
    if building.exists() {
        std::fs::remove_dir_all(&building).with_context(|| {
            format!("removing a restore left half-done: {}", building.display())
        })?;
    }
    let result = restore_into(&building, from, size);
    match result {
        Ok((count, true)) => {
            std::fs::rename(&building, &target)
                .with_context(|| format!("moving the restored store to {}", target.display()))?;
            sync_dir_of(&target)?;
            eprintln!("restored {count} events; chain ok: true");
            if let Some(key) = crate::keys::restore(data_dir, from)? {
                eprintln!("took the signing key from {}", key.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok((count, false)) => {
            let _ = std::fs::remove_dir_all(&building);
            eprintln!("restored {count} events but the chain does not verify; nothing kept");
            Ok(ExitCode::from(EXIT_TAMPERED))
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&building);
            Err(e.context(format!(
                "restore of {} refused; nothing kept",
                from.display()
            )))
        }
    }
}

/// Restores into `dir`; answers the events applied and whether the chain verifies.
fn restore_into(dir: &Path, from: &Path, size: u64) -> anyhow::Result<(u64, bool)> {
    let store = Store::open(dir).with_context(|| format!("opening {}", dir.display()))?;
    let applied = apply_backup(&store, from, size);
    let report = match &applied {
        Ok(_) => Some(store.verify()?),
        Err(_) => None,
    };
    store.close()?;
    let count = applied?;
    Ok((count, report.is_some_and(|r| r.ok)))
}

fn apply_backup(store: &Store, from: &Path, size: u64) -> anyhow::Result<u64> {
    let reader = std::io::BufReader::new(std::fs::File::open(from)?);
    let bar = progress(size, "restore (bytes)");
    let (mut count, mut read) = (0u64, 0u64);
    let mut trailer = None;
    // The run being gathered, with the backup line of each envelope for error messages.
    let mut run: Vec<Envelope> = Vec::with_capacity(RESTORE_RUN);
    let mut lines: Vec<usize> = Vec::with_capacity(RESTORE_RUN);
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        read += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        if trailer.is_some() {
            bail!("line {}: data after the trailer", i + 1);
        }
        if TrailerLine::starts(line.as_bytes()) {
            let t: TrailerLine = serde_json::from_str(&line)
                .with_context(|| format!("line {}: a malformed trailer", i + 1))?;
            trailer = Some(t.trailer);
            continue;
        }
        let env: Envelope = serde_json::from_str(&line)
            .with_context(|| format!("line {} of {} is not an envelope", i + 1, from.display()))?;
        run.push(env);
        lines.push(i + 1);
        if run.len() == RESTORE_RUN {
            count += restore_run(store, &mut run, &mut lines)?;
            bar.set_position(read.min(size));
        }
    }
    count += restore_run(store, &mut run, &mut lines)?;
    bar.finish();
    let Some(trailer) = trailer else {
        bail!("the backup has no trailer: it was cut short (or written by an older version; restore it with that version)");
    };
    let (seq, hash) = store.head();
    let got = Trailer {
        events: count,
        head_seq: seq,
        head_hash: hash,
    };
    if got != trailer {
        bail!("the backup does not match its trailer: the trailer says {trailer:?}, the lines give {got:?}");
    }
    Ok(count)
}

/// Applies one run of a backup in a single group commit and empties it; an envelope
/// that does not continue the chain is named by its backup line.
fn restore_run(
    store: &Store,
    run: &mut Vec<Envelope>,
    lines: &mut Vec<usize>,
) -> anyhow::Result<u64> {
    if let Err(e) = store.append_replicated_batch(run) {
        let bad_seq = match &e {
            ReplicateError::Gap { got, .. } => Some(*got),
            ReplicateError::BadHash { seq, .. } | ReplicateError::BadSignature { seq, .. } => {
                Some(*seq)
            }
            ReplicateError::Store(_) => None,
        };
        let at = bad_seq
            .and_then(|seq| run.iter().position(|env| env.seq == seq))
            .unwrap_or(0);
        let line = lines.get(at).copied().unwrap_or(0);
        let seq = run.get(at).map_or(0, |e| e.seq);
        return Err(anyhow::Error::new(e).context(format!(
            "line {line} (seq {seq}) does not continue the chain"
        )));
    }
    let n = run.len() as u64;
    run.clear();
    lines.clear();
    Ok(n)
}

/// A temporary name in the same directory (so that the rename is atomic).
pub(crate) fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Makes a rename or a new entry in `path`'s directory durable.
pub(crate) fn sync_dir_of(path: &Path) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing the directory {}", dir.display()))
}
