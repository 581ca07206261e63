//! `reception backup --url`: a backup taken from a running server through
//! `GET /api/v1/admin/backup`, written exactly as the offline form writes its file, and
//! checked line by line (hash chain, then the trailer) while it arrives.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use reception_store::backup::{ChainCheck, Trailer, TrailerLine};
use reception_store::Envelope;

use crate::backup::{create_private, sync_dir_of, temp_beside};
use crate::progress;

/// Streams the server's backup into a temporary file beside `out` (mode 0600), checks
/// it, fsyncs it, renames it over `out`; a refused token or a cut stream leaves no file.
pub async fn backup_online(url: &str, token_file: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let token = std::fs::read_to_string(token_file)
        .with_context(|| format!("reading the token from {}", token_file.display()))?;
    let tmp = temp_beside(out);
    let written = fetch_into(url, token.trim(), &tmp).await;
    let trailer = match written {
        Ok(t) => t,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.context(format!("online backup from {url} failed; no file written")));
        }
    };
    std::fs::rename(&tmp, out).with_context(|| format!("renaming into {}", out.display()))?;
    sync_dir_of(out)?;
    eprintln!(
        "backed up {} events up to seq {} (head hash {}) from {url} to {}",
        trailer.events,
        trailer.head_seq,
        trailer.head_hash,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Downloads and checks the backup into `tmp`; answers its trailer.
async fn fetch_into(url: &str, token: &str, tmp: &Path) -> anyhow::Result<Trailer> {
    let endpoint = format!("{}/api/v1/admin/backup", url.trim_end_matches('/'));
    let mut res = reqwest::Client::new()
        .get(&endpoint)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("connecting to {endpoint}"))?;
    let status = res.status();
    if !status.is_success() {
        let body = res.text().await.unwrap_or_default();
        let why = match status.as_u16() {
            401 => "the server does not know the token",
            403 => "the token is refused: backups need an admin token",
            _ => "the server refused the backup",
        };
        bail!("{why} ({status}): {body}");
    }
    let head: u64 = res
        .headers()
        .get("x-backup-head-seq")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut w = create_private(tmp)?;
    let mut check = Lines::new(head);
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let chunk = res.chunk().await.context(
            "the stream was cut before its trailer (connection lost or the server stopped)",
        )?;
        let Some(chunk) = chunk else { break };
        pending.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = &pending[start..start + nl];
            check.line(line)?;
            w.write_all(line)?;
            w.write_all(b"\n")?;
            start += nl + 1;
        }
        pending.drain(..start);
    }
    if !pending.is_empty() {
        bail!("the stream was cut in the middle of a line");
    }
    let trailer = check.finish()?;
    w.flush()?;
    w.get_ref().sync_all()?;
    Ok(trailer)
}

/// The checks of each arriving line: envelopes that continue the chain, then one
/// trailer that matches what came before it, then nothing.
struct Lines {
    chain: ChainCheck,
    lines: u64,
    trailer: Option<Trailer>,
    bar: indicatif::ProgressBar,
}

impl Lines {
    fn new(head: u64) -> Lines {
        Lines {
            chain: ChainCheck::default(),
            lines: 0,
            trailer: None,
            bar: progress(head, "backup"),
        }
    }

    fn line(&mut self, line: &[u8]) -> anyhow::Result<()> {
        self.lines += 1;
        let n = self.lines;
        if self.trailer.is_some() {
            bail!("line {n}: data after the trailer");
        }
        if TrailerLine::starts(line) {
            let t: TrailerLine = serde_json::from_slice(line)
                .with_context(|| format!("line {n}: a malformed trailer"))?;
            self.trailer = Some(t.trailer);
            return Ok(());
        }
        let env: Envelope =
            serde_json::from_slice(line).with_context(|| format!("line {n} is not an envelope"))?;
        self.chain
            .next(&env)
            .map_err(|e| anyhow::anyhow!("line {n} does not continue the chain: {e}"))?;
        if n.is_multiple_of(1_000) {
            self.bar.set_position(n);
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<Trailer> {
        self.bar.finish();
        let Some(trailer) = self.trailer else {
            bail!("the stream ended without its trailer: it was cut short");
        };
        let (seq, hash) = self.chain.head();
        let got = Trailer {
            events: self.lines - 1,
            head_seq: seq,
            head_hash: hash.to_string(),
        };
        if got != trailer {
            bail!("the stream does not match its trailer: the trailer says {trailer:?}, the lines give {got:?}");
        }
        Ok(trailer)
    }
}
