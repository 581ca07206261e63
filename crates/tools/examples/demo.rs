//! Generates demo data into a data dir (what `reception demo` does):
//! `cargo run --release -p reception-tools --example demo -- DATA_DIR [VISITS]`.

use std::time::Instant;

use reception_app::{App, AppConfig};
use reception_tools::demo::{generate, DemoOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let data_dir = std::path::PathBuf::from(args.get(1).map_or("./data", String::as_str));
    let visits: usize = args.get(2).map_or(Ok(200), |s| s.parse())?;
    std::fs::create_dir_all(&data_dir)?;
    let store = reception_store::Store::open(data_dir.join("store"))?;
    let app = App::new(store.clone(), AppConfig::default());
    app.bootstrap(&data_dir)?;
    let started = Instant::now();
    let opts = DemoOptions {
        visits,
        ..DemoOptions::default()
    };
    let mut last = 0;
    let summary = generate(&app, opts, &mut |done, total| {
        if done * 10 / total.max(1) != last {
            last = done * 10 / total.max(1);
            eprintln!("{done}/{total} visits");
        }
    })
    .await?;
    let secs = started.elapsed().as_secs_f64();
    println!("{}", serde_json::to_string_pretty(&summary)?);
    println!(
        "{} events, {} commands in {secs:.1} s: {:.0} events/s, {:.0} commands/s",
        summary.events,
        summary.commands,
        summary.events as f64 / secs,
        summary.commands as f64 / secs
    );
    store.close()?;
    Ok(())
}
