//! The OpenAPI 3.1 document at `/api/openapi.json`. Its paths, parameters and answers
//! come from the `#[utoipa::path]` declarations the router is built from
//! ([`crate::api`]); the bodies of domain commands and the app's answers are the
//! schemars schemas of those types (the files of `schemas/commands`), put in place of
//! their placeholders here; a `{command}` route is listed once per command.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa::{PartialSchema, ToSchema};

use crate::common::doc::{command_component, schemars_components, CommandRoute};
use crate::common::ErrorBody;

/// The routes whose `{command}` segment the document lists once per command.
pub fn command_templates() -> Vec<&'static str> {
    command_routes().iter().map(|r| r.template).collect()
}

fn command_routes() -> [CommandRoute; 2] {
    [
        crate::visits::COMMAND_ROUTE,
        crate::complaints::COMMAND_ROUTE,
    ]
}

/// The document (built once).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| build(crate::api().into_openapi()))
}

fn build(mut api: OpenApi) -> Value {
    api.info = InfoBuilder::new()
        .title("reception")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Customer-visit reception: commands, queries and the audit trail (shared/spec/API.md).",
        ))
        .build();
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    let mut errors = vec![(ErrorBody::name().into_owned(), ErrorBody::schema())];
    ErrorBody::schemas(&mut errors);
    components.schemas.extend(errors);
    let mut doc = serde_json::to_value(&api).expect("the OpenAPI document serialises");
    for route in command_routes() {
        expand(&mut doc, &route);
    }
    let mut schemas = Components(
        doc["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    for (name, root) in schemars_components() {
        schemas.named(&name, root);
    }
    doc["components"]["schemas"] = Value::Object(schemas.0);
    document_dashboard(&mut doc);
    doc
}

/// `GET /` (API.md): the dashboard page. The binary merges it in from `reception-web`
/// (this crate does not serve it), so it is described here rather than declared.
fn document_dashboard(doc: &mut Value) {
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.insert(
            "/".into(),
            json!({ "get": {
                "tags": ["ops"],
                "operationId": "dashboard",
                "summary": "the dashboard page (reception-web, merged in by the binary)",
                "security": [{}],
                "responses": { "200": {
                    "description": "the page",
                    "content": { "text/html": { "schema": { "type": "string" } } }
                } }
            } }),
        );
    }
}

/// Lists `route.template` once per command, each with its body schema.
fn expand(doc: &mut Value, route: &CommandRoute) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    let Some(mut item) = paths.remove(route.template) else {
        return;
    };
    let Some(op) = item.as_object_mut().and_then(|i| i.remove("post")) else {
        return;
    };
    if item.as_object().is_some_and(|i| !i.is_empty()) {
        paths.insert(route.template.to_string(), item);
    }
    for name in (route.names)() {
        if name == route.reserved {
            continue;
        }
        let mut op = op.clone();
        if let Some(params) = op["parameters"].as_array_mut() {
            params.retain(|p| p["name"] != "command");
        }
        let id = op["operationId"].as_str().unwrap_or("command").to_string();
        op["operationId"] = json!(format!("{id}_{}", name.replace('-', "_")));
        op["summary"] = json!(name);
        let schema = format!(
            "#/components/schemas/{}",
            command_component(route.kind, name)
        );
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": { "$ref": schema } } },
        });
        let path = route.template.replace("{command}", name);
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry["post"] = op;
    }
}

/// The document's component schemas while schemars roots are added.
struct Components(Map<String, Value>);

impl Components {
    fn is_free(&self, name: &str, def: &Value) -> bool {
        match self.0.get(name) {
            None => true,
            Some(existing) => existing == def || is_placeholder(existing),
        }
    }

    /// Adds a schemars root: its definitions go to components (renamed `<prefix>.<name>`
    /// when a different schema already has the name); returns the root schema itself.
    fn add_root(&mut self, prefix: &str, mut root: Value) -> Value {
        let Some(obj) = root.as_object_mut() else {
            return root;
        };
        obj.remove("$schema");
        let mut defs = Map::new();
        for key in ["definitions", "$defs"] {
            if let Some(Value::Object(d)) = obj.remove(key) {
                defs.extend(d);
            }
        }
        let renames: HashMap<String, String> = defs
            .iter()
            .map(|(name, def)| {
                let target = if self.is_free(name, def) {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                (name.clone(), target)
            })
            .collect();
        for (name, mut def) in defs {
            rewrite_refs(&mut def, &renames);
            self.0.insert(renames[&name].clone(), def);
        }
        rewrite_refs(&mut root, &renames);
        root
    }

    /// Puts the schemars root `root` under `name`.
    fn named(&mut self, name: &str, root: Value) {
        let schema = self.add_root(name, root);
        self.0.insert(name.to_string(), schema);
    }
}

fn is_placeholder(schema: &Value) -> bool {
    schema["description"] == crate::common::doc::SCHEMARS_PLACEHOLDER
}

fn rewrite_refs(v: &mut Value, renames: &HashMap<String, String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                let local = r
                    .strip_prefix("#/definitions/")
                    .or_else(|| r.strip_prefix("#/$defs/"));
                if let Some(name) = local {
                    let target = renames
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| name.to_string());
                    *r = format!("#/components/schemas/{target}");
                }
            }
            map.values_mut().for_each(|x| rewrite_refs(x, renames));
        }
        Value::Array(items) => items.iter_mut().for_each(|x| rewrite_refs(x, renames)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| all_strings(x, out)),
            Value::Object(m) => m.values().for_each(|x| all_strings(x, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_and_no_placeholder_is_left() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for (name, s) in schemas {
            assert!(!is_placeholder(s), "{name} kept its placeholder");
        }
        let mut strings = Vec::new();
        all_strings(doc, &mut strings);
        for s in strings {
            if let Some(name) = s.strip_prefix("#/components/schemas/") {
                assert!(schemas.contains_key(name), "dangling $ref {s}");
            }
        }
    }

    #[test]
    fn every_command_has_its_own_path_with_the_domain_schema() {
        let doc = document();
        for route in command_routes() {
            assert!(doc["paths"].get(route.template).is_none());
            for name in (route.names)() {
                if name == route.reserved {
                    continue;
                }
                let path = route.template.replace("{command}", name);
                let op = &doc["paths"][&path]["post"];
                assert_eq!(
                    op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
                    format!(
                        "#/components/schemas/{}",
                        command_component(route.kind, name)
                    ),
                    "{path}"
                );
            }
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for item in document()["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                let id = op["operationId"].as_str().expect("an operationId");
                assert!(seen.insert(id.to_string()), "operationId {id} twice");
            }
        }
    }

    #[test]
    fn limits_are_declared_as_the_code_enforces_them() {
        let doc = document();
        let limit = |path: &str| {
            doc["paths"][path]["get"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "limit")
                .unwrap()["schema"]
                .clone()
        };
        for (path, max) in [
            ("/api/v1/events", crate::audit::MAX_EVENTS_PAGE),
            ("/api/v1/board", crate::board::BOARD_MAX_LIMIT),
        ] {
            let s = limit(path);
            assert_eq!(s["minimum"].as_f64(), Some(1.0), "{path}");
            assert_eq!(s["maximum"].as_f64(), Some(max as f64), "{path}");
        }
    }
}
