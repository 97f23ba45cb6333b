//! Reading ilert request bodies leniently but precisely: references given as `{"id": 1}`, `1` or
//! `"1"`, enums checked against ilert's values, and a 400 naming the field for anything else.

use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::time;

pub type Object = Map<String, Value>;

pub fn object<'a>(body: &'a Value, what: &str) -> ApiResult<&'a Object> {
    body.as_object().ok_or_else(|| {
        ApiError::bad_request(format!("The request body must be a JSON object ({what})"))
    })
}

fn wrong_type(field: &str, expected: &str) -> ApiError {
    ApiError::bad_request(format!("Field '{field}' must be {expected}"))
}

/// A present, non-null value.
fn present<'a>(o: &'a Object, field: &str) -> Option<&'a Value> {
    o.get(field).filter(|v| !v.is_null())
}

pub fn opt_str(o: &Object, field: &str) -> ApiResult<Option<String>> {
    match present(o, field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type(field, "a string")),
    }
}

/// A string that must be there and not blank; returned trimmed.
pub fn req_str(o: &Object, field: &str) -> ApiResult<String> {
    match opt_str(o, field)? {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err(ApiError::bad_request(format!(
            "Field '{field}' is required"
        ))),
    }
}

pub fn opt_bool(o: &Object, field: &str) -> ApiResult<Option<bool>> {
    match present(o, field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(field, "true or false")),
    }
}

pub fn opt_i64(o: &Object, field: &str) -> ApiResult<Option<i64>> {
    match present(o, field) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| wrong_type(field, "an integer")),
    }
}

/// One of `allowed`, exactly as ilert spells it.
pub fn opt_enum(o: &Object, field: &str, allowed: &[&str]) -> ApiResult<Option<String>> {
    match opt_str(o, field)? {
        None => Ok(None),
        Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
        Some(v) => Err(ApiError::bad_request(format!(
            "Invalid value '{v}' for field '{field}': expected one of {}",
            allowed.join(", ")
        ))),
    }
}

pub fn opt_time(o: &Object, field: &str) -> ApiResult<Option<i64>> {
    match opt_str(o, field)? {
        None => Ok(None),
        Some(s) => time::parse(&s).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Field '{field}' must be an ISO-8601 date-time such as 2026-05-25T21:24:56.771Z, got '{s}'"
            ))
        }),
    }
}

pub fn opt_tz(o: &Object, field: &str) -> ApiResult<Option<String>> {
    match opt_str(o, field)? {
        None => Ok(None),
        Some(s) => match time::parse_tz(&s) {
            Some(tz) => Ok(Some(tz.name().to_owned())),
            None => Err(ApiError::bad_request(format!(
                "Field '{field}' must be an IANA time zone such as Europe/Berlin, got '{s}'"
            ))),
        },
    }
}

/// The id of a reference: `{"id": 7}` (ilert's `SimpleIdField64`), or a bare `7` / `"7"`.
pub fn ref_id(v: &Value, field: &str) -> ApiResult<i64> {
    let raw = match v {
        Value::Object(o) => o.get("id").unwrap_or(&Value::Null),
        other => other,
    };
    match raw {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| wrong_type(field, "a reference such as {\"id\": 123}"))
}

pub fn opt_ref(o: &Object, field: &str) -> ApiResult<Option<i64>> {
    present(o, field).map(|v| ref_id(v, field)).transpose()
}

/// A list of references; absent or null is an empty list.
pub fn ref_list(o: &Object, field: &str) -> ApiResult<Vec<i64>> {
    match present(o, field) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| ref_id(v, &format!("{field}[{i}]")))
            .collect(),
        Some(_) => Err(wrong_type(field, "an array")),
    }
}

pub fn opt_array<'a>(o: &'a Object, field: &str) -> ApiResult<&'a [Value]> {
    match present(o, field) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(wrong_type(field, "an array")),
    }
}

/// Ids stored in a JSON column; anything unreadable counts as none.
pub fn stored_ids(text: &str) -> Vec<i64> {
    serde_json::from_str(text).unwrap_or_default()
}

pub fn ids_text(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

/// A path id that ilert types as a number; anything else is a 400, not a 404.
pub fn path_id(raw: &str, what: &str) -> ApiResult<i64> {
    raw.trim().parse().map_err(|_| {
        ApiError::bad_request(format!("Invalid {what} id '{raw}': expected a numeric id"))
    })
}
