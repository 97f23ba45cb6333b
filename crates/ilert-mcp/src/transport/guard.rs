//! Request-body guard for `/mcp`: oversized bodies get 413, and bodies that are not JSON or not a
//! JSON-RPC message get HTTP 400 with a JSON-RPC error (-32700 / -32600) a client can show, instead
//! of the transport's plain-text 415.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;

/// The body limit in bytes, as middleware state.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

pub async fn guard_body(
    State(BodyLimit(limit)): State<BodyLimit>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(e) if is_length_limit(&e) => {
            return rpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                -32600,
                format!("Request body exceeds {limit} bytes."),
            );
        }
        Err(_) => {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                -32700,
                "The request body could not be read.".into(),
            );
        }
    };
    let envelope = match check_message(&bytes) {
        Ok(envelope) => envelope,
        Err((code, message)) => return rpc_error(StatusCode::BAD_REQUEST, code, message),
    };
    let started = std::time::Instant::now();
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // One line per call: what was asked and how it went. Never headers, arguments or keys.
    tracing::info!(
        method = envelope.method.as_deref().unwrap_or("(response)"),
        tool = envelope
            .params
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .unwrap_or(""),
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "mcp request"
    );
    response
}

/// Only the envelope is looked at; params are left to the handler.
#[derive(Deserialize)]
struct Envelope {
    jsonrpc: Option<String>,
    method: Option<String>,
    params: Option<Params>,
    result: Option<IgnoredAny>,
    error: Option<IgnoredAny>,
}

/// Only `params.name` (the tool or prompt called) is read, for the access log.
#[derive(Deserialize)]
struct Params {
    name: Option<String>,
}

/// Ok, or the JSON-RPC error code and message to answer with (HTTP 400).
fn check_message(bytes: &Bytes) -> Result<Envelope, (i64, String)> {
    let trimmed = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .and_then(|i| bytes.get(i));
    if trimmed == Some(&b'[') {
        return Err((
            -32600,
            "JSON-RPC batches are not supported; send one message per request.".into(),
        ));
    }
    let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| {
        let code = if e.is_data() { -32600 } else { -32700 };
        let what = if code == -32700 {
            "Parse error"
        } else {
            "Invalid Request"
        };
        (code, format!("{what}: {e}"))
    })?;
    if envelope.jsonrpc.as_deref() != Some("2.0") {
        return Err((
            -32600,
            "Invalid Request: \"jsonrpc\" must be \"2.0\".".into(),
        ));
    }
    if envelope.method.is_none() && envelope.result.is_none() && envelope.error.is_none() {
        return Err((
            -32600,
            "Invalid Request: a message needs \"method\" (or \"result\"/\"error\" for a response)."
                .into(),
        ));
    }
    Ok(envelope)
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

fn rpc_error(status: StatusCode, code: i64, message: String) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> Option<i64> {
        check_message(&Bytes::from(body.to_owned()))
            .err()
            .map(|(code, _)| code)
    }

    #[test]
    fn accepts_requests_notifications_and_responses() {
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            None
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            None
        );
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#), None);
    }

    #[test]
    fn refuses_garbage_batches_and_non_messages() {
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"#), Some(-32700));
        assert_eq!(code("\u{feff}nope"), Some(-32700));
        assert_eq!(
            code(r#"[{"jsonrpc":"2.0","id":1,"method":"x"}]"#),
            Some(-32600)
        );
        assert_eq!(code(r#"{"foo":1}"#), Some(-32600));
        assert_eq!(
            code(r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#),
            Some(-32600)
        );
        assert_eq!(code(r#""just a string""#), Some(-32600));
    }
}
