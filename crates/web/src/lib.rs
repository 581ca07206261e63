//! The operations dashboard: static assets (HTML, CSS, ES modules, language catalogues)
//! embedded in the binary and served by an axum router at `/` and `/assets/...`.
//!
//! The pages read everything from the HTTP API with the viewer's bearer token, so the
//! same router serves the writer and the read replicas. Nothing here needs a build
//! step: the files under `assets/` are what the browser runs.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The business time zone used when the caller gives none (the binary's `--tz` default).
pub const DEFAULT_TZ: &str = "Asia/Shanghai";

const INDEX: &str = include_str!("../assets/index.html");

/// Every embedded asset: path under `/assets/`, content type, bytes.
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.css", CSS, include_bytes!("../assets/app.css")),
    ("js/main.js", JS, include_bytes!("../assets/js/main.js")),
    ("js/api.js", JS, include_bytes!("../assets/js/api.js")),
    ("js/i18n.js", JS, include_bytes!("../assets/js/i18n.js")),
    ("js/fmt.js", JS, include_bytes!("../assets/js/fmt.js")),
    ("js/stream.js", JS, include_bytes!("../assets/js/stream.js")),
    ("js/dom.js", JS, include_bytes!("../assets/js/dom.js")),
    ("js/chart.js", JS, include_bytes!("../assets/js/chart.js")),
    (
        "js/pages/board.js",
        JS,
        include_bytes!("../assets/js/pages/board.js"),
    ),
    (
        "js/pages/visit.js",
        JS,
        include_bytes!("../assets/js/pages/visit.js"),
    ),
    (
        "js/pages/costs.js",
        JS,
        include_bytes!("../assets/js/pages/costs.js"),
    ),
    (
        "js/pages/customers.js",
        JS,
        include_bytes!("../assets/js/pages/customers.js"),
    ),
    (
        "js/pages/complaints.js",
        JS,
        include_bytes!("../assets/js/pages/complaints.js"),
    ),
    (
        "js/pages/audit.js",
        JS,
        include_bytes!("../assets/js/pages/audit.js"),
    ),
    (
        "js/pages/notifications.js",
        JS,
        include_bytes!("../assets/js/pages/notifications.js"),
    ),
    (
        "js/pages/costs/common.js",
        JS,
        include_bytes!("../assets/js/pages/costs/common.js"),
    ),
    (
        "js/pages/costs/overview.js",
        JS,
        include_bytes!("../assets/js/pages/costs/overview.js"),
    ),
    (
        "js/pages/costs/cube.js",
        JS,
        include_bytes!("../assets/js/pages/costs/cube.js"),
    ),
    (
        "js/pages/costs/budget.js",
        JS,
        include_bytes!("../assets/js/pages/costs/budget.js"),
    ),
    (
        "js/pages/costs/what-if.js",
        JS,
        include_bytes!("../assets/js/pages/costs/what-if.js"),
    ),
    (
        "js/pages/costs/satisfaction.js",
        JS,
        include_bytes!("../assets/js/pages/costs/satisfaction.js"),
    ),
    (
        "i18n/zh-CN.json",
        JSON,
        include_bytes!("../assets/i18n/zh-CN.json"),
    ),
    (
        "i18n/en.json",
        JSON,
        include_bytes!("../assets/i18n/en.json"),
    ),
];

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// The dashboard with the default business time zone.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    router_with_tz(DEFAULT_TZ)
}

/// The dashboard showing times and "today" in `tz` (an IANA name, the server's `--tz`),
/// whatever the viewer's machine says.
pub fn router_with_tz<S: Clone + Send + Sync + 'static>(tz: &str) -> Router<S> {
    let index = index_html(tz);
    Router::new()
        .route("/", get(move || async move { Html(index) }))
        .route("/assets/{*path}", get(asset))
}

/// The shell page with the time zone filled in (escaped: it comes from a flag).
pub fn index_html(tz: &str) -> String {
    let safe: String = tz
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "/_+-".contains(*c))
        .collect();
    INDEX.replace("{{TZ}}", &safe)
}

async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                // small files, and a new binary must never run with last week's script
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(raw: &[u8]) -> std::collections::BTreeSet<String> {
        let v: serde_json::Value = serde_json::from_slice(raw).expect("catalogue is JSON");
        v.as_object()
            .expect("catalogue is an object")
            .keys()
            .cloned()
            .collect()
    }

    fn asset_bytes(name: &str) -> &'static [u8] {
        ASSETS.iter().find(|(p, _, _)| *p == name).expect(name).2
    }

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let zh = keys(asset_bytes("i18n/zh-CN.json"));
        let en = keys(asset_bytes("i18n/en.json"));
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty(), "missing in en.json: {only_zh:?}");
        assert!(only_en.is_empty(), "missing in zh-CN.json: {only_en:?}");
    }

    #[test]
    fn every_key_the_scripts_use_is_in_the_catalogue() {
        let zh = keys(asset_bytes("i18n/zh-CN.json"));
        let mut missing = Vec::new();
        for (name, _, body) in ASSETS.iter().filter(|(p, _, _)| p.ends_with(".js")) {
            let text = std::str::from_utf8(body).expect("utf-8");
            // t('key') calls with a literal key (not split(', set(', ...)
            for (at, _) in text.match_indices("t('") {
                if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let key: String = text[at + 3..].chars().take_while(|c| *c != '\'').collect();
                if !zh.contains(&key) {
                    missing.push(format!("{name}: {key}"));
                }
            }
        }
        assert!(missing.is_empty(), "keys not in the catalogue: {missing:?}");
    }

    async fn get(path: &str) -> (StatusCode, String, String) {
        use tower::ServiceExt;
        let res = router::<()>()
            .oneshot(
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        let status = res.status();
        let kind = res
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, kind, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_shell_and_every_asset_are_served_without_a_token() {
        let (status, kind, body) = get("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(kind.starts_with("text/html"));
        assert!(body.contains("/assets/js/main.js"));
        assert!(body.contains("content=\"Asia/Shanghai\""));
        for (path, kind, bytes) in ASSETS {
            let (status, got_kind, body) = get(&format!("/assets/{path}")).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(got_kind, *kind, "{path}");
            assert_eq!(body.len(), bytes.len(), "{path}");
        }
        assert_eq!(get("/assets/nope.js").await.0, StatusCode::NOT_FOUND);
        assert_eq!(get("/assets/../Cargo.toml").await.0, StatusCode::NOT_FOUND);
    }

    #[test]
    fn every_module_import_names_an_embedded_asset() {
        for (name, _, body) in ASSETS.iter().filter(|(p, _, _)| p.ends_with(".js")) {
            let text = std::str::from_utf8(body).expect("utf-8");
            let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
            for part in text
                .split("from '")
                .skip(1)
                .chain(text.split("import('").skip(1))
            {
                let rel: String = part.chars().take_while(|c| *c != '\'').collect();
                let mut path: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
                for seg in rel.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            path.pop();
                        }
                        s => path.push(s),
                    }
                }
                let full = path.join("/");
                assert!(
                    ASSETS.iter().any(|(p, _, _)| *p == full),
                    "{name} imports {rel} ({full}), which is not embedded"
                );
            }
        }
    }

    #[test]
    fn the_shell_names_the_time_zone_and_nothing_else_from_the_flag() {
        let html = index_html("Asia/Shanghai\"><script>");
        assert!(html.contains("content=\"Asia/Shanghaiscript\""));
        assert!(!html.contains("{{TZ}}"));
    }
}
