//! Prints a demo run's canonical log (see `reception_tools::demo::canonical_log`) and its
//! summary as JSON, to compare two builds of the generator:
//! `cargo run -p reception-tools --example demo_canon -- SEED VISITS > out.json`.
//! Equal output means the same seed gives the same events (ids and `recorded_at` aside).

use reception_app::{App, AppConfig};
use reception_tools::demo::{canonical_log, generate, DemoOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args.get(1).map_or(Ok(7), |s| s.parse())?;
    let visits: usize = args.get(2).map_or(Ok(200), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let store = reception_store::Store::open(dir.path().join("store"))?;
    let app = App::new(store.clone(), AppConfig::default());
    app.bootstrap(dir.path())?;
    let opts = DemoOptions {
        visits,
        seed,
        ..DemoOptions::default()
    };
    let summary = generate(&app, opts, &mut |_, _| {}).await?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    for stream in canonical_log(&store)? {
        println!("{}", serde_json::to_string(&stream)?);
    }
    store.close()?;
    Ok(())
}
