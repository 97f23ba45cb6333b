//! Request-body guard for `/mcp`: oversized bodies get 413, and bodies that are not JSON or not a
//! JSON-RPC message get HTTP 400 with a JSON-RPC error (-32700 / -32600, or -32602 for params that
//! are not an object) a client can show, instead of the transport's plain-text 415.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;

/// The tool a `tools/call` request names, read from its body here once.
#[derive(Debug, Clone)]
pub struct ToolCall(pub String);

/// The longest a request body may take to arrive, once its headers have: a client trickling a body
/// cannot hold a connection and its buffer for long.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Limits for the OAuth endpoints' small form and JSON bodies: read within [`BODY_TIMEOUT`] and
/// at most `.0` bytes, before any handler sees them. 413 or 408 with an OAuth-style JSON error.
#[derive(Clone, Copy)]
pub struct SmallBody(pub usize);

pub async fn small_body(
    State(SmallBody(limit)): State<SmallBody>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let oauth_error = |status: StatusCode, description: String| {
        let body = json!({"error": "invalid_request", "error_description": description});
        (status, axum::Json(body)).into_response()
    };
    match tokio::time::timeout(BODY_TIMEOUT, read_body(body, limit)).await {
        Ok(Read::Body(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Read::TooLarge) => closing(oauth_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body exceeds {limit} bytes"),
        )),
        Ok(Read::Broken) => oauth_error(
            StatusCode::BAD_REQUEST,
            "the request body could not be read".into(),
        ),
        Err(_) => oauth_error(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} seconds",
                BODY_TIMEOUT.as_secs()
            ),
        ),
    }
}

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
    let (mut parts, body) = request.into_parts();
    let read = tokio::time::timeout(BODY_TIMEOUT, read_body(body, limit)).await;
    let Ok(read) = read else {
        return rpc_error(
            StatusCode::REQUEST_TIMEOUT,
            -32700,
            format!(
                "The request body did not arrive within {} seconds.",
                BODY_TIMEOUT.as_secs()
            ),
        );
    };
    let bytes = match read {
        Read::Body(bytes) => bytes,
        Read::TooLarge => {
            return closing(rpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                -32600,
                format!("Request body exceeds {limit} bytes."),
            ));
        }
        Read::Broken => {
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
    if let Some(method) = envelope.params_not_an_object() {
        // rmcp cannot type such a request at all, not even as one it does not know.
        let message = format!("Invalid params for {method}: MCP params are a JSON object.");
        let body = json!({"jsonrpc": "2.0", "id": envelope.id.value(), "error": {"code": -32602, "message": message}});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    // The tool a call names, for the scope check that follows (it must answer at HTTP level).
    if envelope.method.as_ref().and_then(|m| m.as_str()) == Some("tools/call")
        && let Some(name) = &envelope.params.name
    {
        parts.extensions.insert(ToolCall(name.clone()));
    }
    let json_body = is_json(&parts.headers);
    let started = std::time::Instant::now();
    let mut response = next
        .run(Request::from_parts(parts, Body::from(bytes.clone())))
        .await;
    // rmcp answers a JSON body it cannot type as an MCP message with a plain-text 415; the
    // Content-Type was right, so say what is wrong in JSON-RPC instead.
    if response.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE && json_body {
        response = untyped(&bytes);
    }
    // One line per call: what was asked and how it went. Never headers, arguments or keys.
    tracing::info!(
        method = envelope
            .method
            .as_ref()
            .and_then(|m| m.as_str())
            .unwrap_or("(response)"),
        tool = envelope.params.name.as_deref().unwrap_or(""),
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "mcp request"
    );
    response
}

/// Only the envelope is looked at; params are left to the handler (which names what is wrong
/// with them). Fields are read loosely so a wrong type gets a message naming the field.
#[derive(Deserialize)]
#[serde(expecting = "a JSON-RPC message (a JSON object)")]
struct Envelope {
    #[serde(default, deserialize_with = "any")]
    jsonrpc: Option<serde_json::Value>,
    #[serde(default)]
    id: Id,
    #[serde(default, deserialize_with = "any")]
    method: Option<serde_json::Value>,
    #[serde(default)]
    params: Params,
    #[serde(default)]
    result: Present,
    #[serde(default)]
    error: Present,
}

/// Whether a field is there at all, `null` included (that is how rmcp tells messages apart).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Present(true))
    }
}

/// A JSON-RPC id as rmcp takes it: a string or an integer (`1.0` counts); `null` only in a
/// response.
#[derive(Default, PartialEq, Eq)]
enum Id {
    #[default]
    Absent,
    Null,
    Valid(serde_json::Value),
}

impl Id {
    fn value(&self) -> serde_json::Value {
        match self {
            Id::Valid(id) => id.clone(),
            Id::Absent | Id::Null => serde_json::Value::Null,
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Null => Ok(Id::Null),
            id @ serde_json::Value::String(_) => Ok(Id::Valid(id)),
            serde_json::Value::Number(n)
                if n.as_i64().is_some()
                    || n.as_f64()
                        .is_some_and(|f| f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0) =>
            {
                Ok(Id::Valid(serde_json::Value::Number(n)))
            }
            _ => Err(serde::de::Error::custom(ID_TYPE)),
        }
    }
}

const ID_TYPE: &str = "\"id\" must be a string or an integer";

/// A field present, `null` included, as whatever JSON it holds.
fn any<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// Only `params.name` (the tool or prompt called) is read, for the access log; params of any other
/// shape are the handler's to refuse.
struct Params {
    name: Option<String>,
    /// Absent, `null` or an object; anything else no MCP method takes.
    object_or_none: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            name: None,
            object_or_none: true,
        }
    }
}

impl Params {
    fn other() -> Self {
        Self {
            name: None,
            object_or_none: false,
        }
    }
}

impl Envelope {
    /// The method of a request whose params are neither absent, null nor an object.
    fn params_not_an_object(&self) -> Option<&str> {
        let method = self.method.as_ref()?.as_str()?;
        (!self.params.object_or_none).then_some(method)
    }
}

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ParamsVisitor)
    }
}

struct ParamsVisitor;

impl<'de> serde::de::Visitor<'de> for ParamsVisitor {
    type Value = Params;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
        let mut name = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "name" {
                name = map
                    .next_value::<serde_json::Value>()?
                    .as_str()
                    .map(str::to_owned);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Params {
            name,
            object_or_none: true,
        })
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Params, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Params::other())
    }

    fn visit_unit<E>(self) -> Result<Params, E> {
        Ok(Params::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<Params, E> {
        Ok(Params::other())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Params, E> {
        Ok(Params::other())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Params, E> {
        Ok(Params::other())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Params, E> {
        Ok(Params::other())
    }

    fn visit_str<E>(self, _: &str) -> Result<Params, E> {
        Ok(Params::other())
    }
}

/// Ok, or the JSON-RPC error code and message to answer with (HTTP 400).
fn check_message(bytes: &Bytes) -> Result<Envelope, (i64, String)> {
    // serde_json checks UTF-8 only in strings it decodes, not in the ones it skips.
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err((
            -32700,
            format!(
                "Parse error: the body is not UTF-8 (invalid byte at offset {}).",
                e.valid_up_to()
            ),
        ));
    }
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
    if envelope.jsonrpc.as_ref().and_then(|v| v.as_str()) != Some("2.0") {
        return Err((
            -32600,
            "Invalid Request: \"jsonrpc\" must be \"2.0\".".into(),
        ));
    }
    if envelope.method.as_ref().is_some_and(|m| !m.is_string()) {
        return Err((
            -32600,
            "Invalid Request: \"method\" must be a string.".into(),
        ));
    }
    let answer = envelope.result.0 || envelope.error.0;
    if envelope.method.is_some() && envelope.id == Id::Null {
        return Err((-32600, format!("Invalid Request: {ID_TYPE}.")));
    }
    if envelope.method.is_some() && answer {
        return Err((
            -32600,
            "Invalid Request: a message has \"method\" (a request or notification) or \"result\"/\"error\" \
             (a response), never both."
                .into(),
        ));
    }
    if envelope.result.0 && envelope.error.0 {
        return Err((
            -32600,
            "Invalid Request: a response has \"result\" or \"error\", not both.".into(),
        ));
    }
    if envelope.method.is_none() && !answer {
        return Err((
            -32600,
            "Invalid Request: a message needs \"method\" (or \"result\"/\"error\" for a response)."
                .into(),
        ));
    }
    Ok(envelope)
}

/// The error for a body that passed the checks above but that rmcp could not type: serde's reason,
/// e.g. nesting deeper than its recursion limit inside params.
fn untyped(bytes: &Bytes) -> Response {
    let reason = serde_json::from_slice::<rmcp::model::ClientJsonRpcMessage>(bytes).err();
    match reason {
        Some(e) if e.is_syntax() || e.is_eof() => {
            rpc_error(StatusCode::BAD_REQUEST, -32700, format!("Parse error: {e}"))
        }
        reason => rpc_error(
            StatusCode::BAD_REQUEST,
            -32600,
            format!(
                "Invalid Request: this is not an MCP request, notification or response ({}).",
                reason.map_or_else(|| "unrecognized".to_owned(), |e| e.to_string())
            ),
        ),
    }
}

/// Whether the request says its body is JSON, as rmcp checks it.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let essence = v.split_once(';').map_or(v, |(essence, _)| essence);
            essence.trim().eq_ignore_ascii_case("application/json")
        })
}

/// How many bytes of an oversized body are read and dropped before the 413 goes out. A client
/// still sending when the server closes gets a reset connection instead of the answer; reading
/// the rest (bounded, and within [`BODY_TIMEOUT`]) lets it read the 413.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// A request body read whole, or why not.
enum Read {
    Body(Bytes),
    /// Over the limit; what followed was read and dropped, up to [`DRAIN_LIMIT`].
    TooLarge,
    /// The stream failed before the limit.
    Broken,
}

async fn read_body(body: Body, limit: usize) -> Read {
    use futures::StreamExt as _;
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return if seen > limit {
                Read::TooLarge
            } else {
                Read::Broken
            };
        };
        seen = seen.saturating_add(chunk.len());
        if seen <= limit {
            kept.extend_from_slice(&chunk);
        } else if seen > DRAIN_LIMIT {
            return Read::TooLarge;
        } else {
            kept = Vec::new();
        }
    }
    if seen > limit {
        Read::TooLarge
    } else {
        Read::Body(Bytes::from(kept))
    }
}

/// Tells the client this connection ends with the answer (after a refused body).
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
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

    #[test]
    fn refuses_invalid_utf8_even_where_nothing_reads_it() {
        let mut body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":""#.to_vec();
        body.extend_from_slice(b"\xff\"}}");
        let refused = check_message(&Bytes::from(body)).err();
        assert_eq!(
            refused,
            Some((
                -32700,
                "Parse error: the body is not UTF-8 (invalid byte at offset 61).".to_owned()
            ))
        );
    }

    #[test]
    fn refuses_mixed_shapes_and_ids_of_the_wrong_type() {
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","result":null}"#),
            Some(-32600)
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}"#),
            Some(-32600)
        );
        for id in ["true", "{}", "[1]", "1.5", "null", "1e300"] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
            assert_eq!(code(&body), Some(-32600), "{body}");
        }
        for id in ["1", "\"a\"", "1.0", "-7"] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
            assert_eq!(code(&body), None, "{body}");
        }
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#),
            None
        );
    }

    fn message(body: &str) -> String {
        check_message(&Bytes::from(body.to_owned()))
            .err()
            .map(|(_, message)| message)
            .unwrap_or_default()
    }

    #[test]
    fn wrong_types_name_the_field_and_params_are_left_to_the_handler() {
        assert!(
            message(r#"{"jsonrpc":"2.0","id":1,"method":true}"#)
                .contains("\"method\" must be a string")
        );
        assert!(
            message(r#"{"jsonrpc":"2.0","id":1,"method":null}"#)
                .contains("\"method\" must be a string")
        );
        assert!(
            message(r#"{"jsonrpc":2,"id":1,"method":"ping"}"#)
                .contains("\"jsonrpc\" must be \"2.0\"")
        );
        assert!(message("42").contains("expected a JSON-RPC message (a JSON object)"));
        for (params, object) in [
            ("[]", false),
            ("5", false),
            ("\"x\"", false),
            ("null", true),
            (r#"{"name":5}"#, true),
            (r#"{"name":{"a":[1]}}"#, true),
        ] {
            let body =
                format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#);
            let envelope = check_message(&Bytes::from(body.clone()));
            let not_object = envelope
                .as_ref()
                .ok()
                .and_then(|e| e.params_not_an_object());
            assert_eq!(not_object.is_none(), object, "{body}");
        }
        let envelope = check_message(&Bytes::from(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_alerts","arguments":[]}}"#,
        ));
        assert_eq!(
            envelope.ok().and_then(|e| e.params.name),
            Some("list_alerts".to_owned())
        );
    }
}
