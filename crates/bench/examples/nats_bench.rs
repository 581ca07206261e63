//! Runs the replication benchmark: `bench <nats-url> <scratch-dir>`; prints markdown.
//!
//! Start a throw-away server first, e.g. `nats-server -js -sd /tmp/js -p 14222`, then
//! `cargo run --release -p reception-bench --example nats_bench -- nats://127.0.0.1:14222 /tmp/bench`.

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_string());
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&dir).expect("create the scratch dir");
    match reception_bench::nats::run(&url, &dir).await {
        Ok(md) => println!("{md}"),
        Err(e) => {
            eprintln!("bench failed: {e}");
            std::process::exit(1);
        }
    }
}
