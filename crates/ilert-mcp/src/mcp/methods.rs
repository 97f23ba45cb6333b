//! Requests rmcp could not decode into a typed MCP request reach the server as custom requests:
//! a method nobody knows, or a known method whose params have the wrong shape (`tools/call` with
//! `"arguments": false`). Each gets an error that says which, instead of a bare method name.

// `logging/setLevel` is deprecated from 2026-07-28 (SEP-2577), but 2025-era clients still send it.
#![allow(deprecated)]

use rmcp::ErrorData;
use rmcp::model::{
    CallToolRequestParams, CompleteRequestParams, DiscoverRequestParams, ErrorCode,
    GetPromptRequestParams, InitializeRequestParams, PaginatedRequestParams,
    ReadResourceRequestParams, SetLevelRequestParams, SubscribeRequestParams,
    UnsubscribeRequestParams,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Methods rmcp decodes itself but that have no typed check below.
const OTHER_KNOWN: [&str; 8] = [
    "ping",
    "subscriptions/listen",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "skills/list",
    "skills/get",
    "resources/directory/read",
];

/// Methods the 2026-07-28 protocol removed: in that era they do not exist, whatever the params.
const REMOVED_IN_2026: [&str; 5] = [
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// The error for a request rmcp left undecoded; `modern` when it came in the 2026-07-28 era.
pub fn unhandled(method: &str, params: Option<&Value>, modern: bool) -> ErrorData {
    if modern && REMOVED_IN_2026.contains(&method) {
        return ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("Method not found: {method:?} is not part of protocol 2026-07-28."),
            None,
        );
    }
    match malformed(method, params) {
        Some(why) => ErrorData::invalid_params(
            format!(
                "Invalid params for {method}: {why}. Check the request against the MCP specification."
            ),
            None,
        ),
        None => ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!(
                "Method not found: {method:?}. This server answers MCP requests such as initialize, \
                 tools/list, tools/call, prompts/get and resources/read."
            ),
            None,
        ),
    }
}

/// Why `params` do not fit `method`, if it is a method rmcp types (else `None`: unknown method).
fn malformed(method: &str, params: Option<&Value>) -> Option<String> {
    let params = params.unwrap_or(&Value::Null);
    let why = match method {
        "initialize" => check::<InitializeRequestParams>(params),
        "server/discover" => check::<DiscoverRequestParams>(params),
        "tools/call" => check::<CallToolRequestParams>(params),
        "prompts/get" => check::<GetPromptRequestParams>(params),
        "resources/read" => check::<ReadResourceRequestParams>(params),
        "resources/subscribe" => check::<SubscribeRequestParams>(params),
        "resources/unsubscribe" => check::<UnsubscribeRequestParams>(params),
        "completion/complete" => check::<CompleteRequestParams>(params),
        "logging/setLevel" => check::<SetLevelRequestParams>(params),
        "tools/list" | "prompts/list" | "resources/list" | "resources/templates/list" => {
            check::<PaginatedRequestParams>(params)
        }
        m if OTHER_KNOWN.contains(&m) => None,
        _ => return None,
    };
    Some(why.unwrap_or_else(|| "they do not have the shape this method takes".to_owned()))
}

/// serde's account of why `params` is not a `T`, if it is not.
fn check<T: DeserializeOwned>(params: &Value) -> Option<String> {
    T::deserialize(params).err().map(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_methods_are_named() {
        let e = unhandled("no/such/method", None, false);
        assert_eq!(e.code, ErrorCode::METHOD_NOT_FOUND);
        assert!(e.message.contains("\"no/such/method\""), "{}", e.message);
    }

    #[test]
    fn known_methods_with_bad_params_say_what_is_wrong() {
        let e = unhandled(
            "tools/call",
            Some(&json!({"name": "list_alerts", "arguments": false})),
            false,
        );
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        assert!(
            e.message
                .starts_with("Invalid params for tools/call: invalid type: boolean"),
            "{}",
            e.message
        );
        let e = unhandled("tools/list", Some(&json!(5)), true);
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        let e = unhandled("ping", Some(&json!("x")), false);
        assert!(
            e.message.contains("shape this method takes"),
            "{}",
            e.message
        );
    }

    #[test]
    fn methods_removed_in_2026_are_not_found_in_that_era_only() {
        for method in REMOVED_IN_2026 {
            let e = unhandled(method, None, true);
            assert_eq!(e.code, ErrorCode::METHOD_NOT_FOUND, "{method}");
            assert_eq!(
                unhandled(method, None, false).code,
                ErrorCode::INVALID_PARAMS,
                "{method}"
            );
        }
    }
}
