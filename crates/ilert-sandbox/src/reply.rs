//! Success responses. ilert's schemas mark almost nothing as nullable, so absent values are left
//! out of the JSON rather than sent as `null`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Drops `null` members of objects, recursively. Free-form `customDetails` are left as sent.
pub fn prune(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for (key, v) in map.iter_mut() {
                if key != "customDetails" {
                    prune(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

pub fn json(mut value: Value) -> Json<Value> {
    prune(&mut value);
    Json(value)
}

pub fn with_status(status: StatusCode, value: Value) -> Response {
    (status, json(value)).into_response()
}

pub fn created(value: Value) -> Response {
    with_status(StatusCode::CREATED, value)
}

/// 202 with a body: how ilert answers the private-subscriber changes (spec/README.md).
pub fn accepted(value: Value) -> Response {
    with_status(StatusCode::ACCEPTED, value)
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prunes_nested_nulls_but_not_custom_details() {
        let mut v = json!({"a": null, "b": [{"c": null, "d": 1}], "customDetails": {"x": null}});
        prune(&mut v);
        assert_eq!(v, json!({"b": [{"d": 1}], "customDetails": {"x": null}}));
    }
}
