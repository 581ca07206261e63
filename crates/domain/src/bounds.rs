//! Size bounds every command body is held to before it is parsed: no string longer than
//! [`MAX_TEXT_CHARS`], no list longer than [`MAX_LIST_ITEMS`], whatever the command. A
//! field without a tighter rule of its own is still bounded, so that no client can make
//! an event too large to store or to publish; the error names the field by its path.

use serde_json::Value;

use crate::common::DomainError;

/// The longest string any command field may hold, in characters (as [`crate::visit::Text`]).
pub const MAX_TEXT_CHARS: usize = 4_000;
/// The longest list any command field may hold.
pub const MAX_LIST_ITEMS: usize = 500;
/// The largest amount any `*_fen` field may hold: ten billion yuan. Sums of any real
/// company's years of such amounts stay far inside `i64`.
pub const MAX_FEN: i64 = 1_000_000_000_000;
/// The years a time in a command may fall in: deadline arithmetic on times far outside
/// any real range would overflow.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2200;
/// [`YEARS`] as a JSON Schema `pattern` on an RFC 3339 time (its first four digits).
pub const YEARS_PATTERN: &str = "^(20[0-9]{2}|21[0-9]{2}|2200)-";

/// A time of day as chrono reads it (`HH:MM`, seconds and a fraction optional).
pub const TIME_OF_DAY_PATTERN: &str =
    "^([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9]|60)(\\.[0-9]{1,9})?)?$";

/// The JSON schema of a time of day (`NaiveTime`): a string of [`TIME_OF_DAY_PATTERN`].
pub fn time_of_day_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "pattern": TIME_OF_DAY_PATTERN,
        "examples": ["22:00", "08:30:00"],
    })
}

/// Checks every string and list of a command body, depth first; the first one over its
/// bound is the error, named by its path (`visitors[3].title`).
///
/// ```
/// use reception_domain::bounds::check;
/// let long = "x".repeat(4_001);
/// let err = check(&serde_json::json!({ "visitors": [{ "title": long }] })).unwrap_err();
/// assert_eq!(err.field.as_deref(), Some("visitors[0].title"));
/// assert!(check(&serde_json::json!({ "purpose": "talks" })).is_ok());
/// ```
pub fn check(body: &Value) -> Result<(), DomainError> {
    walk(body, &mut String::new())
}

fn walk(value: &Value, path: &mut String) -> Result<(), DomainError> {
    match value {
        Value::String(s) if s.len() > MAX_TEXT_CHARS && s.chars().count() > MAX_TEXT_CHARS => {
            Err(DomainError::invalid(
                field_name(path),
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            ))
        }
        Value::Array(items) => {
            if items.len() > MAX_LIST_ITEMS {
                return Err(DomainError::invalid(
                    field_name(path),
                    format!("must hold at most {MAX_LIST_ITEMS} items"),
                ));
            }
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Number(n)
            if path.ends_with("_fen") && n.as_f64().is_some_and(|f| f > MAX_FEN as f64) =>
        {
            Err(DomainError::invalid(
                field_name(path),
                format!("an amount must be at most {MAX_FEN} fen"),
            ))
        }
        Value::String(s) if out_of_years(s) => Err(DomainError::invalid(
            field_name(path),
            format!(
                "a time must fall in the years {} to {}",
                YEARS.start(),
                YEARS.end()
            ),
        )),
        _ => Ok(()),
    }
}

/// An RFC 3339 time whose year is outside [`YEARS`] (other strings are not times).
fn out_of_years(s: &str) -> bool {
    use chrono::Datelike;
    let looks_like_time = (20..=40).contains(&s.len())
        && s.as_bytes().get(4) == Some(&b'-')
        && s.as_bytes()
            .get(10)
            .is_some_and(|b| *b == b'T' || *b == b't' || *b == b' ');
    looks_like_time
        && chrono::DateTime::parse_from_rfc3339(s).is_ok_and(|t| !YEARS.contains(&t.year()))
}

fn field_name(path: &str) -> &str {
    if path.is_empty() {
        "body"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_and_times_out_of_range_are_named() {
        let err = check(&json!({ "amount_fen": MAX_FEN + 1 })).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("amount_fen"));
        assert!(check(&json!({ "amount_fen": MAX_FEN })).is_ok());
        let err =
            check(&json!({ "levels": [{ "meals": { "dinner_cap_fen": 1e15 } }] })).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("levels[0].meals.dinner_cap_fen"));
        let err = check(&json!({ "arrival": { "at": "1970-01-01T00:00:00+08:00" } })).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("arrival.at"));
        assert!(check(&json!({ "spent_at": "2201-01-01T00:00:00Z" })).is_err());
        assert!(check(&json!({ "spent_at": "2026-11-02T09:00:00+08:00" })).is_ok());
        // text that is not a time is not judged as one
        assert!(check(&json!({ "purpose": "1999-12-31: the old plan" })).is_ok());
    }

    #[test]
    fn a_list_over_the_bound_is_named_and_one_at_it_passes() {
        let at = vec![json!(1); MAX_LIST_ITEMS];
        assert!(check(&json!({ "items": at })).is_ok());
        let over = vec![json!(1); MAX_LIST_ITEMS + 1];
        let err = check(&json!({ "plan": { "items": over } })).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("plan.items"));
        assert!(err.message.contains("500"));
    }

    #[test]
    fn characters_count_not_bytes() {
        let chinese = "接".repeat(MAX_TEXT_CHARS);
        assert!(check(&json!({ "notes": chinese })).is_ok());
        let err = check(&json!(["接".repeat(MAX_TEXT_CHARS + 1)])).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("[0]"));
    }
}
