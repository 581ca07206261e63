//! Runs the store benchmark: `cargo run -p reception-bench --release --example store_bench -- <dir> [replay_events]`.

/// The allocator of the `reception` binary (see crates/reception/src/main.rs), so that
/// this benchmark measures the code as the product runs it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: bench <empty dir> [replay_events (default 1000000)]");
        std::process::exit(2);
    };
    let replay: u64 = match args.next().map(|s| s.parse()) {
        None => 1_000_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("replay_events: {e}");
            std::process::exit(2);
        }
    };
    match reception_bench::store::run(std::path::Path::new(&dir), replay) {
        Ok(table) => println!("{table}"),
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            std::process::exit(1);
        }
    }
}
