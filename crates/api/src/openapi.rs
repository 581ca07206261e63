//! The OpenAPI 3.1 document at `/api/openapi.json`, generated from the code: request
//! schemas come from the domain's `DomainCommand::schemas()` (schemars), answers from
//! this crate's and the app's types. Every route of the router is listed; each command
//! name gets its own path so that its body schema is exact.

use std::sync::OnceLock;

use reception_domain::complaint::Complaint;
use reception_domain::frontdesk::SignIn;
use reception_domain::policy::PolicyState;
use reception_domain::visit::Visit;
use reception_domain::{Aggregate, DomainCommand, NamedSchema};
use serde_json::{json, Map, Value};

use crate::tokens::{TokenRequest, TokenResponse};
use crate::ErrorBody;

/// The document (built once).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

/// Collects component schemas, renaming clashing definitions.
struct Components {
    schemas: Map<String, Value>,
}

impl Components {
    /// Adds a schemars root: its definitions go to components (renamed `<prefix>.<name>`
    /// when a different schema already has the name); returns the root schema itself.
    fn add_root(&mut self, prefix: &str, root: &schemars::schema::RootSchema) -> Value {
        let mut v = serde_json::to_value(root).unwrap_or_else(|_| json!({}));
        let obj = v.as_object_mut().expect("a root schema is an object");
        obj.remove("$schema");
        let defs = obj
            .remove("definitions")
            .and_then(|d| d.as_object().cloned())
            .unwrap_or_default();
        let mut renames = std::collections::HashMap::new();
        for (name, def) in &defs {
            let target = match self.schemas.get(name) {
                Some(existing) if existing != def => format!("{prefix}.{name}"),
                _ => name.clone(),
            };
            renames.insert(name.clone(), target);
        }
        for (name, mut def) in defs {
            rewrite_refs(&mut def, &renames);
            self.schemas.insert(renames[&name].clone(), def);
        }
        rewrite_refs(&mut v, &renames);
        v
    }

    /// Adds a named schema and returns a `$ref` to it.
    fn named(&mut self, name: &str, root: &schemars::schema::RootSchema) -> Value {
        let schema = self.add_root(name, root);
        self.schemas.insert(name.to_string(), schema);
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }
}

fn rewrite_refs(v: &mut Value, renames: &std::collections::HashMap<String, String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if let Some(name) = r.strip_prefix("#/definitions/") {
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

fn error_responses(codes: &[u16]) -> Map<String, Value> {
    let mut m = Map::new();
    for code in codes {
        let text = match code {
            400 => "invalid_input: malformed JSON, wrong types, missing or invalid fields (names the field)",
            401 => "unauthenticated: no or unknown bearer token",
            403 => "forbidden: the role may not do this",
            404 => "not_found",
            409 => "rule_violation (with rule) or invalid_state",
            412 => "version_conflict: If-Match did not match the stream version",
            413 => "too_large: body over 1 MiB",
            422 => "idempotency_key_reused: the key was used with another request",
            408 => "timeout: the request took longer than the server's request timeout",
            503 => "not_caught_up (min_seq not reached in 5 s), read_replica or unavailable",
            _ => "internal error",
        };
        m.insert(
            code.to_string(),
            json!({ "description": text, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } }),
        );
    }
    m
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } })
}

fn query_param(name: &str, ty: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": { "type": ty }, "description": description })
}

fn min_seq() -> Value {
    query_param(
        "min_seq",
        "integer",
        "Read-your-writes: wait up to 5 s until this seq is applied, else 503 not_caught_up",
    )
}

fn command_headers() -> Vec<Value> {
    vec![
        json!({ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "maxLength": 200 },
                "description": "A repeat with the same body answers the first response and appends nothing; another body is 422" }),
        json!({ "name": "If-Match", "in": "header", "required": false, "schema": { "type": "string", "example": "\"3\"" },
                "description": "The stream's current version must equal it, else 412 version_conflict" }),
    ]
}

struct PathSet(Map<String, Value>);

impl PathSet {
    fn add(&mut self, method: &str, path: &str, op: Value) {
        let item = self.0.entry(path.to_string()).or_insert_with(|| json!({}));
        item.as_object_mut()
            .expect("path item")
            .insert(method.to_string(), op);
    }
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

#[allow(clippy::too_many_arguments)]
fn command_op(
    tag: &str,
    summary: String,
    roles: &str,
    body: Value,
    with_id: bool,
    created: bool,
    outcome: &Value,
) -> Value {
    let mut params = command_headers();
    if with_id {
        params.insert(0, id_param());
    }
    let status = if created { "201" } else { "200" };
    let mut responses = error_responses(&[400, 401, 403, 404, 408, 409, 412, 413, 422, 503]);
    responses.insert(
        status.into(),
        json!({ "description": if created { "created: the command's events" } else { "the command's events" }, "content": json_content(outcome.clone()) }),
    );
    if !created {
        responses.insert("201".into(), json!({ "description": "the command created its stream", "content": json_content(outcome.clone()) }));
    }
    json!({
        "tags": [tag], "summary": summary, "description": format!("Roles: {roles}."),
        "security": [{ "bearer": [] }], "parameters": params,
        "requestBody": { "required": true, "content": json_content(body) },
        "responses": responses,
    })
}

fn query_op(
    tag: &str,
    summary: &str,
    params: Vec<Value>,
    response: Value,
    content_type: &str,
) -> Value {
    let mut responses = error_responses(&[400, 401, 403, 404, 408, 503]);
    responses.insert(
        "200".into(),
        json!({ "description": summary, "content": { content_type: { "schema": response } } }),
    );
    json!({ "tags": [tag], "summary": summary, "security": [{ "bearer": [] }], "parameters": params, "responses": responses })
}

fn public_op(tag: &str, summary: &str, content_type: &str, schema: Value) -> Value {
    json!({ "tags": [tag], "summary": summary, "security": [],
            "responses": { "200": { "description": summary, "content": { content_type: { "schema": schema } } } } })
}

fn commands_of<A: Aggregate>() -> Vec<NamedSchema> {
    <A::Command as DomainCommand>::schemas()
}

fn build() -> Value {
    let mut c = Components {
        schemas: Map::new(),
    };
    let outcome = c.named(
        "CommandOutcome",
        &schemars::schema_for!(reception_app::CommandOutcome),
    );
    let _ = c.named("ErrorBody", &schemars::schema_for!(ErrorBody));
    let token_req = c.named("TokenRequest", &schemars::schema_for!(TokenRequest));
    let token_resp = c.named("TokenResponse", &schemars::schema_for!(TokenResponse));
    c.schemas.insert("Envelope".into(), envelope_schema());
    c.schemas.insert("VerifyReport".into(), json!({
        "type": "object", "required": ["ok", "events_checked", "head_hash", "first_bad_seq"],
        "properties": { "ok": {"type": "boolean"}, "events_checked": {"type": "integer"}, "head_hash": {"type": "string"},
                        "first_bad_seq": {"type": ["integer", "null"]} } }));
    let envelope_ref = json!({ "$ref": "#/components/schemas/Envelope" });
    let any_object = json!({ "type": "object", "additionalProperties": true });

    let mut p = PathSet(Map::new());

    // Commands: one path per command so that each has its exact body schema.
    for (kind, base, create, schemas) in [
        (
            "visits",
            "/api/v1/visits",
            "request",
            commands_of::<Visit>(),
        ),
        (
            "complaints",
            "/api/v1/complaints",
            "raise",
            commands_of::<Complaint>(),
        ),
    ] {
        for s in schemas {
            let body = c.add_root(s.name, &s.schema);
            if s.name == create {
                let op = command_op(
                    kind,
                    format!("{} ({kind})", s.name),
                    "as API.md lists; enforced by the domain (403 otherwise)",
                    body,
                    false,
                    true,
                    &outcome,
                );
                p.add("post", base, op);
            } else {
                let op = command_op(
                    kind,
                    s.name.to_string(),
                    "as API.md lists; enforced by the domain (403 otherwise)",
                    body,
                    true,
                    false,
                    &outcome,
                );
                p.add("post", &format!("{base}/{{id}}/{}", s.name), op);
            }
        }
    }
    for s in commands_of::<SignIn>() {
        let body = c.add_root(s.name, &s.schema);
        if s.name == "sign-in" {
            p.add(
                "post",
                "/api/v1/frontdesk/sign-in",
                command_op(
                    "frontdesk",
                    "sign-in".into(),
                    "frontdesk, reception",
                    body,
                    false,
                    true,
                    &outcome,
                ),
            );
        } else {
            p.add(
                "post",
                "/api/v1/frontdesk/{id}/sign-out",
                command_op(
                    "frontdesk",
                    s.name.into(),
                    "frontdesk, reception",
                    body,
                    true,
                    false,
                    &outcome,
                ),
            );
        }
    }
    for s in commands_of::<PolicyState>() {
        let body = c.add_root(s.name, &s.schema);
        p.add(
            "post",
            "/api/v1/policy",
            command_op(
                "policy",
                "publish a new policy version".into(),
                "admin",
                body,
                false,
                false,
                &outcome,
            ),
        );
    }
    let mut tok = error_responses(&[400, 401, 403, 413]);
    tok.insert("201".into(), json!({ "description": "the new token (shown once; only its hash is stored)", "content": json_content(token_resp) }));
    p.add("post", "/api/v1/tokens", json!({
        "tags": ["tokens"], "summary": "issue a token for a user and role (admin)", "security": [{ "bearer": [] }],
        "requestBody": { "required": true, "content": json_content(token_req) }, "responses": tok }));

    // Admin extensions: tokens and online rebuilds.
    let token_info = c.named(
        "TokenInfo",
        &schemars::schema_for!(reception_app::TokenInfo),
    );
    p.add("get", "/api/v1/tokens", query_op("tokens", "extension: the active tokens (admin; never a token or its hash)", vec![],
        json!({ "type": "object", "properties": { "tokens": { "type": "array", "items": token_info.clone() } } }), "application/json"));
    let mut revoke = error_responses(&[401, 403, 404, 503]);
    revoke.insert("200".into(), json!({ "description": "revoked: the token answers 401 from now on, also after a restart",
        "content": json_content(json!({ "type": "object", "properties": { "id": {"type": "string", "format": "uuid"},
            "user": {"type": "string"}, "role": {"type": "string"}, "revoked": {"type": "boolean"} } })) }));
    p.add("delete", "/api/v1/tokens/{id}", json!({
        "tags": ["tokens"], "summary": "extension: revoke a token by its id (admin)", "security": [{ "bearer": [] }],
        "parameters": [id_param()], "responses": revoke }));
    let rebuild_req = c.named(
        "RebuildRequest",
        &schemars::schema_for!(crate::admin::RebuildRequest),
    );
    let rebuild_status = c.named(
        "RebuildStatus",
        &schemars::schema_for!(crate::common::state::RebuildStatus),
    );
    let mut rebuild = error_responses(&[400, 401, 403, 409, 503]);
    rebuild.insert("202".into(), json!({ "description": "started on a blocking thread; poll GET for progress", "content": json_content(rebuild_status.clone()) }));
    p.add("post", "/api/v1/admin/rebuild", json!({
        "tags": ["admin"], "summary": "extension: rebuild one projection (board, costs, archive, complaints) or all, online (admin); 409 while one runs",
        "security": [{ "bearer": [] }], "requestBody": { "required": false, "content": json_content(rebuild_req) }, "responses": rebuild }));
    p.add(
        "get",
        "/api/v1/admin/rebuild",
        query_op(
            "admin",
            "extension: status and progress of the last online rebuild (admin)",
            vec![],
            rebuild_status,
            "application/json",
        ),
    );

    // Queries answered from the log.
    let history = json!({ "type": "object", "properties": { "stream": {"type": "string"}, "as_of": {"type": ["string", "null"], "format": "date-time"},
        "events": { "type": "array", "items": envelope_ref.clone() }, "state": any_object.clone() } });
    p.add(
        "get",
        "/api/v1/policy",
        query_op(
            "policy",
            "the policy in force and every version",
            vec![min_seq()],
            any_object.clone(),
            "application/json",
        ),
    );
    p.add(
        "get",
        "/api/v1/visits/{id}",
        query_op(
            "visits",
            "a visit's current state with flags, deadlines and next step",
            vec![id_param(), min_seq()],
            any_object.clone(),
            "application/json",
        ),
    );
    let as_of = query_param(
        "as_of",
        "string",
        "RFC 3339 time: events recorded up to it and the state they produce",
    );
    p.add(
        "get",
        "/api/v1/visits/{id}/history",
        query_op(
            "audit",
            "a visit's events and state, as of a time",
            vec![id_param(), as_of.clone(), min_seq()],
            history.clone(),
            "application/json",
        ),
    );
    p.add(
        "get",
        "/api/v1/complaints/{id}",
        query_op(
            "complaints",
            "a complaint's events and state",
            vec![id_param(), as_of.clone(), min_seq()],
            history.clone(),
            "application/json",
        ),
    );
    p.add(
        "get",
        "/api/v1/frontdesk/{id}",
        query_op(
            "frontdesk",
            "a sign-in's events and state",
            vec![id_param(), as_of, min_seq()],
            history,
            "application/json",
        ),
    );
    p.add("get", "/api/v1/events", query_op("audit", "the global feed, in order",
        vec![query_param("after", "integer", "seq to start after (default 0)"), query_param("limit", "integer", "1 to 1000 (default 100)"), min_seq()],
        json!({ "type": "object", "properties": { "events": { "type": "array", "items": envelope_ref }, "next_after": {"type": "integer"}, "head": {"type": "integer"} } }),
        "application/json"));
    p.add(
        "get",
        "/api/v1/audit/verify",
        query_op(
            "audit",
            "walk the hash chain",
            vec![min_seq()],
            json!({ "$ref": "#/components/schemas/VerifyReport" }),
            "application/json",
        ),
    );
    p.add(
        "get",
        "/api/v1/board/stream",
        query_op(
            "board",
            "Server-Sent Events: one `board` event per board change",
            vec![],
            json!({ "type": "string" }),
            "text/event-stream",
        ),
    );

    // Read-side queries (served by the projections).
    p.add("get", "/api/v1/board", query_op("board", "the live visit board", vec![min_seq(),
        query_param("limit", "integer", "extension: at most this many visits (1 to 1000); the answer then carries `visits_total`"),
        query_param("offset", "integer", "extension: skip this many (matching) visits; the answer then carries `visits_total`"),
        query_param("stage", "string", "extension: only visits in this stage (requested, level_assigned, plan_drafted, plan_approved, ready, on_site, departed)"),
        query_param("host", "string", "extension: only visits with this host")],
        json!({ "type": "object",
        "properties": { "visits": {"type": "array", "items": any_object.clone()}, "today": {"type": "array", "items": any_object.clone()},
                        "complaints": {"type": "array", "items": any_object.clone()}, "on_site": {"type": "array", "items": any_object.clone()},
                        "visits_total": {"type": "integer", "description": "with limit, offset, stage or host: visits matching stage and host before paging"} } }), "application/json"));
    let year = query_param(
        "year",
        "integer",
        "calendar year in the business time zone (default: this year)",
    );
    p.add("get", "/api/v1/costs", query_op("costs", "cost analysis of a year",
        vec![year.clone(), query_param("by", "string", "level | month | department | customer | category (default level); 400 naming `by` otherwise"), min_seq()],
        json!({ "type": "object", "properties": { "year": {"type": "integer"}, "total_fen": {"type": "integer"}, "groups": { "type": "array", "items": { "type": "object",
            "properties": { "key": {"type": "string"}, "total_fen": {"type": "integer"}, "company_paid_fen": {"type": "integer"}, "visitor_paid_fen": {"type": "integer"},
                            "over_cap_fen": {"type": "integer"}, "count": {"type": "integer"} } } } } }), "application/json"));
    p.add(
        "get",
        "/api/v1/costs/export.csv",
        query_op(
            "costs",
            "the year's cost analysis as CSV (UTF-8 with BOM, attachment)",
            vec![year, min_seq()],
            json!({ "type": "string" }),
            "text/csv",
        ),
    );
    p.add(
        "get",
        "/api/v1/customers",
        query_op(
            "customers",
            "search the customer archive",
            vec![
                query_param("q", "string", "company or visitor name"),
                min_seq(),
            ],
            any_object.clone(),
            "application/json",
        ),
    );
    p.add(
        "get",
        "/api/v1/customers/{id}",
        query_op(
            "customers",
            "one customer's archive (analysts: no phone numbers)",
            vec![
                json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" },
                        "description": "customer id: the normalized company name (see GET /api/v1/customers)" }),
                min_seq(),
            ],
            any_object.clone(),
            "application/json",
        ),
    );
    p.add(
        "get",
        "/api/v1/complaints",
        query_op(
            "complaints",
            "complaints by status",
            vec![
                query_param(
                    "status",
                    "string",
                    "open | resolved | closed | all (default all)",
                ),
                min_seq(),
            ],
            any_object.clone(),
            "application/json",
        ),
    );
    p.add(
        "get",
        "/api/v1/complaints/report",
        query_op(
            "complaints",
            "monthly complaint analysis (C7)",
            vec![
                query_param("month", "string", "YYYY-MM (default: this month)"),
                min_seq(),
            ],
            any_object.clone(),
            "application/json",
        ),
    );

    // Operations (no token).
    p.add(
        "get",
        "/healthz",
        public_op("ops", "process up", "application/json", any_object.clone()),
    );
    p.add(
        "get",
        "/readyz",
        public_op(
            "ops",
            "store open and projections caught up (503 otherwise)",
            "application/json",
            any_object.clone(),
        ),
    );
    p.add(
        "get",
        "/metrics",
        public_op(
            "ops",
            "Prometheus metrics",
            "text/plain",
            json!({ "type": "string" }),
        ),
    );
    p.add(
        "get",
        "/api/openapi.json",
        public_op("ops", "this document", "application/json", any_object),
    );
    p.add(
        "get",
        "/",
        public_op(
            "ops",
            "the dashboard page",
            "text/html",
            json!({ "type": "string" }),
        ),
    );

    json!({
        "openapi": "3.1.0",
        "info": { "title": "reception", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Customer-visit reception: commands, queries and the audit trail (shared/spec/API.md)." },
        "paths": p.0,
        "components": {
            "schemas": c.schemas,
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
        },
    })
}

fn envelope_schema() -> Value {
    json!({ "type": "object",
        "required": ["seq", "stream", "version", "id", "type", "schema", "occurred_at", "recorded_at", "actor", "correlation_id", "causation_id", "prev_hash", "hash", "data"],
        "properties": {
            "seq": {"type": "integer"}, "stream": {"type": "string"}, "version": {"type": "integer"}, "id": {"type": "string", "format": "uuid"},
            "type": {"type": "string"}, "schema": {"type": "integer"}, "occurred_at": {"type": "string", "format": "date-time"},
            "recorded_at": {"type": "string", "format": "date-time"},
            "actor": { "type": "object", "properties": { "user": {"type": "string"}, "role": {"type": "string"} } },
            "correlation_id": {"type": "string", "format": "uuid"}, "causation_id": {"type": "string", "format": "uuid"},
            "prev_hash": {"type": "string"}, "hash": {"type": "string"}, "data": {"type": "object"} } })
}
