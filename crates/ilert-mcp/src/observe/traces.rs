//! OpenTelemetry traces, exported over OTLP/HTTP when the standard `OTEL_EXPORTER_OTLP_*`
//! variables name an endpoint. Every MCP request is a server span named after the OpenTelemetry
//! semantic conventions for MCP (`tools/call get_alert`) that continues the caller's trace
//! (`traceparent` in the request's `_meta` on 2026-07-28, the HTTP header otherwise); every ilert
//! call made for it is a client span below it (see `ilert-client`'s `fetch`).
//!
//! Spans carry names, methods, route templates, status codes and outcomes: never a key, a token or
//! an argument value; a method or tool name the server does not know is `unknown`. Without an endpoint nothing here runs past one atomic load per request: the
//! spans' targets (`otel::…`) are switched off for the log output, so no layer is interested in
//! them and `tracing` skips them at the call site.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithHttpConfig as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use rmcp::model::{ClientRequest, ProtocolVersion, ServerResult};
use rmcp::service::{NotificationContext, RequestContext, Service, ServiceRole};
use rmcp::{ErrorData, RoleServer};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The prefix of every span target meant for OpenTelemetry alone.
pub const TARGET_PREFIX: &str = "otel";

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether the environment asks for OTLP traces: an endpoint is set and the SDK is not disabled.
pub fn requested() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
        || std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| v.trim() == "none");
    !disabled && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

/// Flushes and stops the exporter when dropped (at the end of `main`).
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        EXPORTING.store(false, Ordering::Relaxed);
        if let Err(e) = self.provider.shutdown() {
            eprintln!("ilert-mcp: could not flush OpenTelemetry traces: {e}");
        }
    }
}

/// The tracing layer that exports spans over OTLP/HTTP (protobuf, or JSON with
/// `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`), and the guard that flushes it. Requests go out on
/// `runtime` through the same HTTP stack as the ilert calls.
pub fn layer<S>(
    runtime: tokio::runtime::Handle,
) -> Result<(impl tracing_subscriber::Layer<S>, Exporter), String>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    // The same TLS set-up as the ilert client (an https collector).
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(ilert_client::tls::client_config())
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the OTLP HTTP client: {e}"))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(OnRuntime { http, runtime })
        .build()
        .map_err(|e| format!("OpenTelemetry exporter: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("ilert-mcp")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("ilert-mcp");
    EXPORTING.store(true, Ordering::Relaxed);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_tracked_inactivity(false);
    Ok((layer, Exporter { provider }))
}

/// OTLP's HTTP client: the request runs on the Tokio runtime (the batch exporter calls from its
/// own thread, outside it) and the exporter awaits the task.
#[derive(Debug)]
struct OnRuntime {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OnRuntime {
    async fn send_bytes(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let http = self.http.clone();
        let task = self.runtime.spawn(async move {
            let (parts, body) = request.into_parts();
            let mut builder = http.request(parts.method, parts.uri.to_string()).body(body);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let answer = builder.send().await?;
            let mut response = http::Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                response = response.header(name, value);
            }
            let body = answer.bytes().await?;
            Ok::<_, reqwest::Error>(response.body(body))
        });
        let response = task.await.map_err(Box::new)?.map_err(Box::new)?;
        Ok(response.map_err(Box::new)?)
    }
}

/// An MCP service whose every request is a span, when traces are exported.
#[derive(Clone)]
pub struct Traced<S>(pub S);

impl<S: Service<RoleServer>> Service<RoleServer> for Traced<S> {
    async fn handle_request(
        &self,
        request: <RoleServer as ServiceRole>::PeerReq,
        context: RequestContext<RoleServer>,
    ) -> Result<<RoleServer as ServiceRole>::Resp, ErrorData> {
        if !EXPORTING.load(Ordering::Relaxed) {
            return self.0.handle_request(request, context).await;
        }
        let span = request_span(&request, &context);
        let answer = self
            .0
            .handle_request(request, context)
            .instrument(span.clone())
            .await;
        record_outcome(&span, &answer);
        answer
    }

    async fn handle_notification(
        &self,
        notification: <RoleServer as ServiceRole>::PeerNot,
        context: NotificationContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.0.handle_notification(notification, context).await
    }

    fn get_info(&self) -> <RoleServer as ServiceRole>::Info {
        self.0.get_info()
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        self.0.supported_protocol_versions()
    }
}

/// What a request span is made of. Method and tool are names this server knows or
/// [`UNKNOWN`]: a client's made-up name never becomes a span name or attribute (it could carry
/// data, and every distinct name is a new span name in the collector).
struct Request {
    method: &'static str,
    tool: Option<&'static str>,
    id: String,
    version: Option<String>,
    over_http: bool,
}

/// What a span says in place of a method or tool name this server does not know.
pub const UNKNOWN: &str = "unknown";

/// The JSON-RPC request methods of MCP a client may send (rmcp's `ClientRequest`, less its
/// catch-all `CustomRequest`).
const METHODS: [&str; 21] = [
    "initialize",
    "ping",
    "server/discover",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "resources/directory/read",
    "subscriptions/listen",
    "tools/call",
    "tools/list",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "skills/list",
    "skills/get",
];

/// `method` if MCP defines it, else [`UNKNOWN`].
fn known_method(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or(UNKNOWN)
}

/// This build's tool names (every toolset, selected or not), told by the catalogue when it is
/// built (observe sits below the call pipeline, so it is told rather than asking).
static KNOWN_TOOLS: std::sync::OnceLock<std::collections::BTreeSet<String>> =
    std::sync::OnceLock::new();

/// Records this build's tool names for span names; the first call wins (they never change).
pub fn know_tools(names: impl IntoIterator<Item = String>) {
    if KNOWN_TOOLS.get().is_none() {
        let _ = KNOWN_TOOLS.set(names.into_iter().collect());
    }
}

/// `name` if it is one of this build's tools, else [`UNKNOWN`].
fn known_tool(name: &str) -> &'static str {
    KNOWN_TOOLS
        .get()
        .and_then(|tools| tools.get(name))
        .map(String::as_str)
        .unwrap_or(UNKNOWN)
}

/// The server span of one MCP request (`tools/call get_alert`), child of the caller's trace when
/// `carrier` holds its context.
fn mcp_span(request: &Request, carrier: &dyn Extractor) -> tracing::Span {
    let name = match request.tool {
        Some(tool) => format!("{} {tool}", request.method),
        None => request.method.to_owned(),
    };
    let span = tracing::info_span!(
        target: "otel::mcp",
        "mcp request",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        mcp.method.name = request.method,
        mcp.protocol.version = request.version.as_deref(),
        jsonrpc.request.id = %request.id,
        gen_ai.tool.name = request.tool,
        gen_ai.operation.name = request.tool.map(|_| "execute_tool"),
        network.transport = if request.over_http { "tcp" } else { "pipe" },
        network.protocol.name = request.over_http.then_some("http"),
        http.response.status_code = tracing::field::Empty,
        "error.type" = tracing::field::Empty,
    );
    let parent = TraceContextPropagator::new().extract(carrier);
    let _ = span.set_parent(parent);
    span
}

/// Over stdio the request is typed already: the span comes from it and its `_meta`.
fn request_span(request: &ClientRequest, context: &RequestContext<RoleServer>) -> tracing::Span {
    let tool = match request {
        ClientRequest::CallToolRequest(call) => Some(known_tool(call.params.name.as_ref())),
        _ => None,
    };
    let described = Request {
        method: known_method(request.method()),
        tool,
        id: context.id.to_string(),
        version: context.protocol_version().map(|v| v.to_string()),
        over_http: false,
    };
    mcp_span(&described, &MetaCarrier(&context.meta.0.0))
}

/// `error.type`: the JSON-RPC error code, or `tool_error` for a tool result with `isError`.
fn record_outcome(
    span: &tracing::Span,
    answer: &Result<<RoleServer as ServiceRole>::Resp, ErrorData>,
) {
    let error = match answer {
        Ok(ServerResult::CallToolResult(result)) if result.is_error == Some(true) => {
            Some("tool_error".to_owned())
        }
        Ok(_) => None,
        Err(e) => Some(e.code.0.to_string()),
    };
    if let Some(error) = error {
        record_error(span, &error);
    }
}

/// Trace context from a request's `_meta` (2026-07-28 carries it there).
struct MetaCarrier<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl Extractor for MetaCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// `_meta` first, then the HTTP headers (the handshake era carries `traceparent` there).
struct HttpCarrier<'a> {
    meta: Option<&'a serde_json::Map<String, serde_json::Value>>,
    headers: &'a http::HeaderMap,
}

impl Extractor for HttpCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let from_meta = self.meta.and_then(|m| m.get(key)).and_then(|v| v.as_str());
        from_meta.or_else(|| self.headers.get(key)?.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// The span of the MCP request being served over HTTP, for the work it starts elsewhere.
#[derive(Clone)]
pub struct RequestSpan(pub tracing::Span);

/// The parts of a JSON-RPC request a span needs; anything else in the body is ignored.
#[derive(serde::Deserialize, Default)]
struct Envelope {
    method: Option<String>,
    id: Option<serde_json::Value>,
    #[serde(default)]
    params: EnvelopeParams,
}

#[derive(serde::Deserialize, Default)]
struct EnvelopeParams {
    name: Option<String>,
    #[serde(rename = "protocolVersion")]
    protocol_version: Option<String>,
    #[serde(rename = "_meta")]
    meta: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Largest answer read back to find its outcome (answers are far smaller; a bigger one is passed
/// on unread).
const OUTCOME_READ_LIMIT: usize = 16 * 1024 * 1024;

/// HTTP middleware, inside the body guard: one server span per MCP request, when exporting.
pub async fn http_span(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !EXPORTING.load(Ordering::Relaxed) || request.method() != http::Method::POST {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    // The guard has read and limited the body already: this is a copy of bytes in memory.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return axum::response::IntoResponse::into_response(http::StatusCode::BAD_REQUEST);
    };
    let envelope: Envelope = serde_json::from_slice(&bytes).unwrap_or_default();
    let Some(method) = envelope.method.as_deref() else {
        // A response or notification from the client: no request to trace.
        return next
            .run(axum::extract::Request::from_parts(parts, bytes.into()))
            .await;
    };
    let version = envelope
        .params
        .meta
        .as_ref()
        .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
        .and_then(|v| v.as_str())
        .or(envelope.params.protocol_version.as_deref())
        .or_else(|| parts.headers.get("mcp-protocol-version")?.to_str().ok())
        .map(str::to_owned);
    let method = known_method(method);
    let described = Request {
        method,
        tool: (method == "tools/call")
            .then(|| known_tool(envelope.params.name.as_deref().unwrap_or(""))),
        id: envelope
            .id
            .as_ref()
            .map(|id| id.to_string())
            .unwrap_or_default(),
        version,
        over_http: true,
    };
    let carrier = HttpCarrier {
        meta: envelope.params.meta.as_ref(),
        headers: &parts.headers,
    };
    let span = mcp_span(&described, &carrier);
    parts.extensions.insert(RequestSpan(span.clone()));
    let response = next
        .run(axum::extract::Request::from_parts(parts, bytes.into()))
        .instrument(span.clone())
        .await;
    span.record("http.response.status_code", response.status().as_u16());
    let is_json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        if !response.status().is_success() {
            record_error(&span, response.status().as_str());
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, OUTCOME_READ_LIMIT).await else {
        record_error(&span, "unreadable_answer");
        return axum::response::IntoResponse::into_response(http::StatusCode::BAD_GATEWAY);
    };
    if let Some(error) = answer_error(&bytes) {
        record_error(&span, &error);
    }
    axum::response::Response::from_parts(parts, bytes.into())
}

/// The JSON-RPC error code of an answer, or `tool_error` for a tool result with `isError`.
fn answer_error(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        error: Option<Code>,
        result: Option<Outcome>,
    }
    #[derive(serde::Deserialize)]
    struct Code {
        code: i64,
    }
    #[derive(serde::Deserialize)]
    struct Outcome {
        #[serde(rename = "isError")]
        is_error: Option<bool>,
    }
    let answer: Answer = serde_json::from_slice(body).ok()?;
    match (answer.error, answer.result) {
        (Some(e), _) => Some(e.code.to_string()),
        (
            None,
            Some(Outcome {
                is_error: Some(true),
            }),
        ) => Some("tool_error".to_owned()),
        _ => None,
    }
}

fn record_error(span: &tracing::Span, error: &str) {
    span.record("error.type", error);
    span.record("otel.status_code", "ERROR");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_methods_and_tools_name_spans() {
        assert_eq!(known_method("tools/call"), "tools/call");
        assert_eq!(known_method("server/discover"), "server/discover");
        assert_eq!(known_method("tools/call "), UNKNOWN);
        assert_eq!(known_method("x/4111111111111111"), UNKNOWN);
        know_tools(["get_alert", "who_is_on_call", "search"].map(String::from));
        assert_eq!(known_tool("get_alert"), "get_alert");
        assert_eq!(known_tool("who_is_on_call"), "who_is_on_call");
        assert_eq!(known_tool("search"), "search");
        assert_eq!(known_tool("get_alert\nx"), UNKNOWN);
        assert_eq!(known_tool("jonas.weber@example.com"), UNKNOWN);
        assert_eq!(known_tool(""), UNKNOWN);
    }
}
