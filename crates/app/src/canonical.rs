//! Canonical JSON and the idempotency fingerprint.

/// Serialises a JSON value with object keys sorted at every level, so that two bodies
/// that differ only in key order or whitespace are the same request.
///
/// ```
/// use serde_json::json;
/// assert_eq!(reception_app::canonical_json(&json!({"b": 1, "a": [ {"d": 2, "c": 3} ]})),
///            r#"{"a":[{"c":3,"d":2}],"b":1}"#);
/// ```
pub fn canonical_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&map[*k], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `blake3(route, user, canonical body)`: what makes two requests "the same" for an
/// `Idempotency-Key`.
pub fn fingerprint(route: &str, user: &str, body: &serde_json::Value) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(route.as_bytes());
    h.update(&[0]);
    h.update(user.as_bytes());
    h.update(&[0]);
    h.update(canonical_json(body).as_bytes());
    *h.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_fingerprint() {
        let a = fingerprint("r", "u", &json!({"x": 1, "y": {"b": 2, "a": 1}}));
        let b = fingerprint("r", "u", &json!({"y": {"a": 1, "b": 2}, "x": 1}));
        assert_eq!(a, b);
    }

    #[test]
    fn user_route_and_body_each_change_the_fingerprint() {
        let base = fingerprint("r", "u", &json!({"x": 1}));
        assert_ne!(base, fingerprint("r2", "u", &json!({"x": 1})));
        assert_ne!(base, fingerprint("r", "u2", &json!({"x": 1})));
        assert_ne!(base, fingerprint("r", "u", &json!({"x": 2})));
    }
}
