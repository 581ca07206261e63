//! The board's first paint, measured, never asserted (BENCHMARKS.md): an `#[ignore]`d
//! test that `ops/bench-first-paint.sh` runs against a release server on a demo store.
//! Each run launches a fresh chromium (empty cache and profile), opens
//! `BENCH_BASE/#token=BENCH_TOKEN` as a wall screen would, and reads the page's own
//! clock (milliseconds from the navigation's start): the first contentful paint, and
//! the first animation frame after the first board row is in the document. It then
//! loads the same address again in that browser (its cache warm). It prints each run,
//! the median and the worst, and what the page downloaded.

// Only the chromium driver of the browser tests' support, most of which this does not use.
#[allow(dead_code)]
#[path = "support/cdp.rs"]
mod cdp;

use std::time::Duration;

use cdp::Browser;

/// Set before the page's scripts: when the first board row appears, the start of the
/// next frame is noted in `window.__firstRows`.
const PROBE: &str = r#"
(() => {
  window.__firstRows = null;
  const obs = new MutationObserver(() => {
    if (window.__firstRows === null && document.querySelector('[data-test=board-row]')) {
      obs.disconnect();
      window.__firstRows = -1;
      requestAnimationFrame(() => { window.__firstRows = performance.now(); });
    }
  });
  obs.observe(document, { childList: true, subtree: true });
})();
"#;

/// What one load measured: first contentful paint, first rows, resources and bytes.
const READ: &str = r#"
(() => {
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const res = performance.getEntriesByType('resource');
  const api = res.filter((r) => new URL(r.name).pathname.startsWith('/api/'));
  const largest = [...res].sort((a, b) => b.encodedBodySize - a.encodedBodySize)[0];
  return {
    fcp: fcp ? fcp.startTime : null,
    rows: window.__firstRows,
    resources: res.length,
    api: api.map((r) => new URL(r.name).pathname + new URL(r.name).search),
    bytes: res.reduce((s, r) => s + r.encodedBodySize, 0),
    largest: largest ? [new URL(largest.name).pathname, largest.encodedBodySize] : null,
    rows_shown: document.querySelectorAll('[data-test=board-row]').length,
  };
})()
"#;

#[test]
#[ignore = "a measurement: run by ops/bench-first-paint.sh against a running server"]
fn board_first_paint() {
    let (Ok(base), Ok(token)) = (std::env::var("BENCH_BASE"), std::env::var("BENCH_TOKEN")) else {
        eprintln!(
            "BENCH_BASE and BENCH_TOKEN name the server and a token; see ops/bench-first-paint.sh"
        );
        return;
    };
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let chromium = cdp::chromium_path().expect("chromium (apt-get install -y chromium)");
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        let mut browser = Browser::launch(&chromium);
        let mut page = browser.page("zh-CN,zh;q=0.9");
        page.on_new_document(PROBE);
        for (label, into) in [("cold", &mut cold), ("warm", &mut warm)] {
            // a fresh navigation each time: about:blank between, then the link
            page.goto("about:blank");
            std::thread::sleep(Duration::from_millis(200));
            page.goto(&format!("{base}/#token={token}"));
            page.wait_for(
                "the board's first rows",
                "window.__firstRows > 0 && performance.getEntriesByName('first-contentful-paint').length",
                30,
            );
            let m = page.eval(READ);
            println!("run {run} {label}: {m}");
            into.push(m);
        }
    }
    for (label, loads) in [("cold", &cold), ("warm", &warm)] {
        for (what, key) in [
            ("first contentful paint", "fcp"),
            ("first board rows", "rows"),
        ] {
            let ms: Vec<f64> = loads.iter().filter_map(|m| m[key].as_f64()).collect();
            println!(
                "{label} {what}: runs {}, median {:.0} ms, worst {:.0} ms",
                ms.len(),
                median(&ms),
                ms.iter().cloned().fold(0.0, f64::max)
            );
        }
    }
    if let Some(m) = cold.first() {
        println!(
            "downloaded (cold): {} resources, {} bytes encoded, largest {}; API calls {}",
            m["resources"], m["bytes"], m["largest"], m["api"]
        );
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
