//! The fuzz targets on stable, without libFuzzer: every file of `corpus/<target>/` and
//! `regressions/<target>/`, then generated inputs (random bytes and mutations of the
//! corpus, from a seeded generator). `RECEPTION_FUZZ_ITERS` sets the generated inputs
//! per target (default 20,000), `RECEPTION_FUZZ_SEED` the seed.
//!
//! `cargo test --manifest-path fuzz/Cargo.toml --release -- --nocapture`

use std::path::{Path, PathBuf};
use std::time::Instant;

use reception_fuzz::TARGETS;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    out.sort();
    out
}

/// xorshift64*: reproducible inputs from a seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes JSON and the envelope layout give meaning to.
const SIGNIFICANT: &[u8] = b"\"\\{}[],:0123456789-+.TZeE \x00\x01\xB3\xFF";

/// One to four random edits of `input`: flip, insert, delete, duplicate a range, or
/// splice a range of `other` in.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, SIGNIFICANT[rng.below(SIGNIFICANT.len())]),
            2 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 if at < out.len() => {
                let end = (at + 1 + rng.below(32)).min(out.len());
                let piece = out[at..end].to_vec();
                out.splice(at..at, piece);
            }
            _ if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(64)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ => out.push(rng.next() as u8),
        }
    }
    out
}

#[test]
fn the_corpus_and_generated_inputs_pass_every_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let iters: usize = std::env::var("RECEPTION_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("RECEPTION_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED);
    for (name, target) in TARGETS {
        let started = Instant::now();
        let mut corpus = Vec::new();
        for dir in ["corpus", "regressions"] {
            for file in files(&root.join(dir).join(name)) {
                let bytes = std::fs::read(&file).unwrap();
                target(&bytes);
                corpus.push(bytes);
            }
        }
        assert!(!corpus.is_empty(), "{name}: no corpus");
        let mut rng = Rng(seed | 1);
        for i in 0..iters {
            let input = if i % 10 == 0 {
                (0..rng.below(128)).map(|_| rng.next() as u8).collect()
            } else {
                let a = &corpus[rng.below(corpus.len())];
                let b = &corpus[rng.below(corpus.len())];
                mutate(&mut rng, a, b)
            };
            target(&input);
        }
        println!(
            "{name}: {} corpus files and {iters} generated inputs in {:.1} s",
            corpus.len(),
            started.elapsed().as_secs_f64()
        );
    }
}

/// Writes the command seeds (`corpus/command_json/`): a valid body for the commands
/// that have one here, `{}` for every other. Run once when the commands change:
/// `cargo test --manifest-path fuzz/Cargo.toml -- --ignored write_command_seeds`.
#[test]
#[ignore]
fn write_command_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/command_json");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, name) in reception_fuzz::command_names().iter().enumerate() {
        let body = reception_fuzz::seed_body(name).unwrap_or_else(|| serde_json::json!({}));
        let mut bytes = vec![i as u8];
        bytes.extend(serde_json::to_vec(&body).unwrap());
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
