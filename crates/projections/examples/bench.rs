//! Rebuild and query benchmark of the read side on synthetic data:
//! `cargo run --release -p reception-projections --example bench -- [VISITS] [DIR]`
//! (default 10,000 visits ≈ 230,000 events, in a temp dir). Prints a Markdown table.

use std::time::Instant;

use reception_projections::{bench_rebuild, synth};
use reception_store::Store;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let visits: u64 = args
        .next()
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir()?;
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("store"));
    let store = Store::open(&dir)?;
    if store.head().0 == 0 {
        let started = Instant::now();
        let n = synth::populate(&store, visits, 2026, chrono::Utc::now())?;
        eprintln!(
            "generated {n} events for {visits} visits in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    println!("{}", bench_rebuild(&store)?);
    store.close()?;
    Ok(())
}
