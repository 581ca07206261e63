//! Checks an HTTP answer against the OpenAPI document: finds the operation by method
//! and path, the response by status, and validates a JSON body against its schema
//! (`$ref`s resolve to the document's components). Shared by the api crate's tests and
//! the integration tests' client (`tests/src/lib.rs` includes this file).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

/// The path template of `doc` that `path` (query ignored) matches; literal segments
/// win over parameters (`/complaints/report` over `/complaints/{id}`).
pub fn template_of<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    let path = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = path.split('/').collect();
    let mut best: Option<(&str, usize)> = None;
    for template in doc["paths"].as_object()?.keys() {
        let segs: Vec<&str> = template.split('/').collect();
        if segs.len() != parts.len() {
            continue;
        }
        let mut literal = 0;
        let fits = segs.iter().zip(&parts).all(|(t, p)| {
            if t.starts_with('{') && t.ends_with('}') {
                !p.is_empty()
            } else {
                literal += usize::from(t == p);
                t == p
            }
        });
        if fits && best.is_none_or(|(_, l)| literal > l) {
            best = Some((template, literal));
        }
    }
    best.map(|(t, _)| t)
}

fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    if let Value::Object(map) = &mut root {
        // `#/components/schemas/...` resolves against the root of the validated schema.
        map.insert("components".into(), doc["components"].clone());
    }
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("the document's schema {schema} does not compile: {e}"))
}

type Cache = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;

/// Panics unless `doc` declares this answer: the operation, the status and, for a JSON
/// body, a schema the body satisfies. A path the document lacks must be the JSON 404
/// fallback; a method it lacks on a known path, axum's 405.
pub fn check(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &str,
) {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let method = method.to_ascii_lowercase();
    let Some(template) = template_of(doc, path) else {
        assert_eq!(
            status, 404,
            "{method} {path}: not in the document, yet answered {status}"
        );
        return;
    };
    let op = &doc["paths"][template][&method];
    if op.is_null() {
        assert_eq!(
            status, 405,
            "{method} {template}: not in the document, yet answered {status}"
        );
        return;
    }
    let response = &op["responses"][status.to_string()];
    let response = if response.is_null() {
        &op["responses"]["default"]
    } else {
        response
    };
    assert!(
        !response.is_null(),
        "{method} {template}: status {status} is not documented; body: {body}"
    );
    let Some(content) = response["content"].as_object() else {
        return;
    };
    let media = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    let Some(media_doc) = content.get(media) else {
        panic!(
            "{method} {template} {status}: answered {media:?}, the document declares {:?}",
            content.keys().collect::<Vec<_>>()
        );
    };
    if media != "application/json" {
        return;
    }
    let schema = &media_doc["schema"];
    let instance: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{method} {path} {status}: body is not JSON ({e}): {body}"));
    let key = format!("{method} {template} {status}");
    let validator = {
        let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
        Arc::clone(
            cache
                .entry(key.clone())
                .or_insert_with(|| Arc::new(validator(doc, schema))),
        )
    };
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{key}: the body contradicts the document:\n{}\nbody: {}",
        errors.join("\n"),
        body.chars().take(2000).collect::<String>()
    );
}
