//! The OpenAPI document and the router are one declaration: every documented operation
//! is served, every route served is documented (a `{command}` route once per command),
//! and the answers of these requests match the document.

mod support;

use axum::body::Body;
use axum::http::{Method, Request};
use reception_api::AppState;
use serde_json::Value;
use tower::ServiceExt;

use support::openapi_check::check;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                "01a2422f-7b4b-777f-9831-cbee90e9c9ba"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Sends `method path` without a token; (status, content type, body).
async fn send(router: &axum::Router, method: &str, path: &str) -> (u16, Option<String>, String) {
    let req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn is_fallback(status: u16, body: &str) -> bool {
    status == 404 && body.contains("no such route")
}

#[tokio::test]
async fn the_router_serves_exactly_the_documented_operations() {
    let dir = tempfile::tempdir().unwrap();
    let store = reception_store::Store::open(dir.path()).unwrap();
    let app = reception_app::App::new(store, Default::default());
    // As the binary composes it: the dashboard at `/` comes from reception-web.
    let router = reception_api::router_with(AppState::new(app), reception_web::router());
    let doc = reception_api::openapi::document();
    let templates = reception_api::openapi::command_templates();
    let paths = doc["paths"].as_object().unwrap();
    for (template, item) in paths {
        let path = concrete(template);
        for method in METHODS {
            let documented = item.get(method.to_lowercase()).is_some();
            if template == "/api/v1/board/stream" && documented {
                continue; // a stream: its answer never ends (see tests/sse.rs)
            }
            let (status, content_type, body) = send(&router, method, &path).await;
            // A `{command}` route serves POST for every name; the document lists each.
            let parent = &template[..template.rfind('/').unwrap_or(0) + 1];
            let by_command_route = method == "POST"
                && templates.iter().any(|t| {
                    t.trim_end_matches("{command}") == parent
                        && template.matches('/').count() == t.matches('/').count()
                });
            if documented {
                assert!(
                    status != 405 && !is_fallback(status, &body),
                    "{method} {template} is documented but not served: {status} {body}"
                );
                check(doc, method, &path, status, content_type.as_deref(), &body);
            } else if !by_command_route {
                assert!(
                    status == 405 || is_fallback(status, &body),
                    "{method} {template} is served ({status}) but not documented"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_path_outside_the_document_is_the_json_404() {
    let dir = tempfile::tempdir().unwrap();
    let store = reception_store::Store::open(dir.path()).unwrap();
    let app = reception_app::App::new(store, Default::default());
    // As the binary composes it: the dashboard at `/` comes from reception-web.
    let router = reception_api::router_with(AppState::new(app), reception_web::router());
    for path in ["/api/v1/nothing", "/api/v2/visits", "/api/v1/visits/x/y/z"] {
        let (status, ct, body) = send(&router, "GET", path).await;
        assert!(is_fallback(status, &body), "{path}: {status} {body}");
        check(
            reception_api::openapi::document(),
            "GET",
            path,
            status,
            ct.as_deref(),
            &body,
        );
    }
}

/// No route is declared outside `routes!` (whose handlers carry `#[utoipa::path]`), so
/// the router cannot serve a route the document does not list.
#[test]
fn every_route_is_declared_with_its_operation() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for bad in [".route(", "routing::"] {
                    assert!(
                        !text.contains(bad),
                        "{} declares a route outside routes! ({bad})",
                        path.display()
                    );
                }
                // axum routers are made only from the documented ones (and `extra`).
                let plain = text.matches("Router::new()").count()
                    - text.matches("OpenApiRouter::new()").count();
                assert!(
                    plain == 0 || path.ends_with("lib.rs"),
                    "{} builds a plain axum Router",
                    path.display()
                );
            }
        }
    }
    let _: &Value = reception_api::openapi::document();
}

#[test]
fn every_string_and_list_of_every_command_body_has_a_documented_maximum() {
    fn walk(v: &serde_json::Value, path: &str, missing: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                let is = |t: &str| match m.get("type") {
                    Some(serde_json::Value::String(s)) => s == t,
                    Some(serde_json::Value::Array(a)) => a.iter().any(|x| x == t),
                    _ => false,
                };
                if is("string") && !m.contains_key("maxLength") && !m.contains_key("enum") {
                    missing.push(format!("{path}: string without maxLength"));
                }
                if is("array") && !m.contains_key("maxItems") {
                    missing.push(format!("{path}: array without maxItems"));
                }
                for (k, x) in m {
                    walk(x, &format!("{path}/{k}"), missing);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{path}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    let doc = reception_api::openapi::document();
    let mut missing = Vec::new();
    let mut commands = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if name.starts_with("visit.") || name.starts_with("complaint.") {
            commands += 1;
            walk(schema, name, &mut missing);
        }
    }
    assert!(
        commands > 20,
        "the command bodies are components: {commands}"
    );
    assert!(missing.is_empty(), "unbounded:\n{}", missing.join("\n"));
}
