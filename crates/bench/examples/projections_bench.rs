//! Rebuild, query and lag benchmark of the read side on synthetic data:
//! `cargo run --release -p reception-bench --example projections_bench -- [VISITS] [DIR] [LAG_SECS]`
//! (default 10,000 visits ≈ 250,000 events, in a temp dir; LAG_SECS default 10, 0
//! skips the lag run). Prints Markdown tables: rebuild and queries, then the
//! append-to-visible lag under 1,000 appends/s.

/// The allocator of the `reception` binary (see crates/reception/src/main.rs), so that
/// this benchmark measures the code as the product runs it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use reception_bench::projections::{bench_lag, bench_rebuild};
use reception_bench::synth;
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
    let lag_secs: u64 = args.next().map(|v| v.parse()).transpose()?.unwrap_or(10);
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
    if lag_secs > 0 {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let report = rt.block_on(bench_lag(
            &store,
            1_000,
            std::time::Duration::from_secs(lag_secs),
        ))?;
        println!("{report}");
    }
    store.close()?;
    Ok(())
}
