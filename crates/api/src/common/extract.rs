//! Extractors: the authenticated caller, JSON bodies with the API's error body, command
//! headers (`Idempotency-Key`, `If-Match`) and `min_seq`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use reception_domain::{Actor, Role};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::error::ApiError;
use super::state::{AppState, BODY_LIMIT};

/// Deepest JSON nesting accepted in a body.
pub const MAX_JSON_DEPTH: usize = 32;

/// The authenticated caller (`Authorization: Bearer <token>`); 401 otherwise.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl Caller {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "role {} may not {what}",
                self.0.role.as_str()
            )))
        }
    }

    /// True for roles that must not see visitor phone numbers.
    pub fn hides_phones(&self) -> bool {
        self.0.role == Role::Analyst
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The client's address, when the server was started with connect info.
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        if let Some(ip) = ip {
            state
                .auth_failures
                .check(ip)
                .map_err(ApiError::TooManyRequests)?;
        }
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim);
        let caller = token.and_then(|t| state.app.tokens().verify(t)).map(Caller);
        if caller.is_none() {
            match (ip, token) {
                // A read replica learns tokens from the writer's log, later: a client
                // polling until its new token arrives must not be locked out, so only
                // distinct unknown tokens count there.
                (Some(ip), Some(t)) if state.read_replica_of.is_some() => {
                    state.auth_failures.failed_token(ip, t);
                }
                (Some(ip), Some(_)) => state.auth_failures.failed(ip),
                _ => {}
            }
        }
        caller.ok_or(ApiError::Unauthenticated)
    }
}

/// A JSON body as a `serde_json::Value`: malformed JSON, too deep nesting → 400,
/// more than the body limit → 413. An empty body is `{}` (commands without fields).
pub struct JsonBody(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(BODY_LIMIT)
            } else {
                ApiError::invalid("body", format!("could not read the body: {rej}"))
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses bytes as JSON with the API's rules (see [`JsonBody`]).
pub fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::invalid(
            "body",
            format!(
                "malformed JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    if depth(&value) > MAX_JSON_DEPTH {
        return Err(ApiError::invalid(
            "body",
            format!("JSON nested deeper than {MAX_JSON_DEPTH} levels"),
        ));
    }
    let mut value = value;
    integral_numbers(&mut value);
    Ok(value)
}

/// JSON Schema counts `3.0` as an integer, so a schema-driven client may send one where
/// the document says integer: a number with no fractional part (and exactly
/// representable) is read as the integer it is.
fn integral_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // 2^53: every integer up to it is exact in an f64
            if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                *v = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Deserialises a typed body naming the failing field (`"role"`, `"arrival.at"`).
pub fn typed<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        // serde names an unknown field only in its message; the path is its object's
        let unknown = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), unknown) {
            (".", Some(name)) => name.to_string(),
            (_, Some(name)) => format!("{path}.{name}"),
            (".", None) => "body".to_string(),
            _ => path,
        };
        ApiError::invalid(field, message)
    })
}

/// `Idempotency-Key` and `If-Match: "<version>"`.
#[derive(Debug, Clone, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct CommandHeaders {
    /// A repeat with the same body answers the first response and appends nothing;
    /// another body is 422 `idempotency_key_reused`.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 200,
        nullable = false
    )]
    pub idempotency_key: Option<String>,
    /// The stream's version, quoted (`"3"`): it must be the stream's current version,
    /// else 412 `version_conflict`.
    #[param(rename = "If-Match", value_type = Option<String>, example = "\"3\"",
        pattern = "^(W/)?\"?[0-9]{1,19}\"?$", nullable = false)]
    pub if_match: Option<u64>,
}

impl<S: Send + Sync> FromRequestParts<S> for CommandHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let idempotency_key = match parts.headers.get("idempotency-key") {
            None => None,
            Some(v) => {
                let s = v
                    .to_str()
                    .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII"))?;
                if s.is_empty() || s.len() > 200 {
                    return Err(ApiError::invalid(
                        "Idempotency-Key",
                        "must be 1 to 200 characters",
                    ));
                }
                Some(s.to_string())
            }
        };
        let if_match = match parts.headers.get(axum::http::header::IF_MATCH) {
            None => None,
            Some(v) => {
                let s = v.to_str().unwrap_or("").trim();
                let s = s.strip_prefix("W/").unwrap_or(s);
                let n = s.trim_matches('"').parse::<u64>().map_err(|_| {
                    ApiError::invalid(
                        "If-Match",
                        "If-Match must be a quoted stream version like \"3\"",
                    )
                })?;
                Some(n)
            }
        };
        Ok(CommandHeaders {
            idempotency_key,
            if_match,
        })
    }
}

/// `?min_seq=S` (read-your-writes).
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MinSeq {
    /// Read-your-writes: wait up to 5 s until this seq is applied, else 503
    /// `not_caught_up`.
    pub min_seq: Option<u64>,
}

/// Query-string extractor whose rejection is a 400 `invalid_input` naming the parameter.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|rej| {
                let text = rej.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_string();
                // serde_urlencoded reports "field: reason"; name the field when it does.
                let field = detail
                    .split_once(':')
                    .map(|(f, _)| f.trim().to_string())
                    .filter(|f| !f.is_empty() && !f.contains(' '))
                    .unwrap_or_else(|| "query".to_string());
                ApiError::invalid(field, format!("bad query parameter: {detail}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_depth_is_limited() {
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(matches!(
            parse_json(deep.as_bytes()),
            Err(ApiError::InvalidInput { .. })
        ));
        assert!(parse_json(b"{\"a\": [1, {\"b\": 2}]}").is_ok());
        assert_eq!(parse_json(b"  ").unwrap(), serde_json::json!({}));
    }

    #[test]
    fn integral_floats_read_as_integers_and_fractions_stay() {
        let v = parse_json(br#"{"party_size": 336.0, "x": [2.5, -4.0], "big": 1e300}"#).unwrap();
        assert_eq!(v["party_size"], serde_json::json!(336));
        assert_eq!(v["x"], serde_json::json!([2.5, -4]));
        assert!(v["big"].is_f64(), "beyond 2^53 a float stays a float");
    }
}
