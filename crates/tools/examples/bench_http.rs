//! Runs the HTTP load benchmark against a running `reception serve`:
//! `cargo run --release -p reception-tools --example bench_http -- URL DATA_DIR [CONNECTIONS] [SECONDS]`
//! (the admin token is read from `DATA_DIR/admin.token`). With `QUERIES_ONLY=1` in the
//! environment only the board and costs phases run; with `COMMANDS_ONLY=1` only the
//! commands phase.

use std::time::Duration;

use reception_tools::load::{run, run_commands, run_queries, LoadOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).map_or("http://127.0.0.1:8080", String::as_str);
    let data_dir = args.get(2).map_or("./data", String::as_str);
    let connections = args.get(3).map_or(Ok(64), |s| s.parse())?;
    let seconds: u64 = args.get(4).map_or(Ok(10), |s| s.parse())?;
    let token_path = std::path::Path::new(data_dir).join("admin.token");
    let token = std::fs::read_to_string(&token_path)
        .map_err(|e| format!("reading {}: {e}", token_path.display()))?;
    let opts = LoadOptions {
        connections,
        duration: Duration::from_secs(seconds),
    };
    let report = if std::env::var_os("QUERIES_ONLY").is_some() {
        run_queries(url, token.trim(), opts).await?
    } else if std::env::var_os("COMMANDS_ONLY").is_some() {
        run_commands(url, token.trim(), opts).await?
    } else {
        run(url, token.trim(), opts).await?
    };
    println!("{}", report.to_markdown());
    println!("\n```json\n{}\n```", serde_json::to_string_pretty(&report)?);
    Ok(())
}
