//! OpenTelemetry: the built binary exports one server span per MCP request over OTLP/HTTP (JSON
//! here), continuing the caller's trace, with each ilert call as a child span; a local receiver
//! decodes what arrives. Nothing secret or argument-shaped may be in it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::common::*;

const META_2026: &str = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}"#;
const LEGACY_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const LEGACY_PARENT: &str = "00f067aa0ba902b7";
const MODERN_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const MODERN_PARENT: &str = "b7ad6b7169203331";
/// An argument value that must not reach any span.
const CANARY: &str = "canary-argument-5125";
/// A tool name and a method name the server does not know: spans say `unknown` instead.
const MADE_UP_TOOL: &str = "canary_tool_6231";
const MADE_UP_METHOD: &str = "canary/method-7342";

/// A minimal OTLP/HTTP receiver: every body posted to /v1/traces, decoded as OTLP JSON.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let app = Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                keep("otlp-traces.json", &body);
                if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                    sink.lock().unwrap().push(value);
                }
                "{}"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

/// Every span received so far, flattened.
fn spans(got: &Arc<Mutex<Vec<Value>>>) -> Vec<Value> {
    let mut out = Vec::new();
    for export in got.lock().unwrap().iter() {
        for resource in export["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                out.extend(scope["spans"].as_array().into_iter().flatten().cloned());
            }
        }
    }
    out
}

fn attr(span: &Value, key: &str) -> Option<Value> {
    let attrs = span["attributes"].as_array()?;
    let value = &attrs.iter().find(|a| a["key"] == key)?["value"];
    // OTLP JSON writes 64-bit integers as strings; some encoders write numbers.
    match value.get("stringValue").or_else(|| value.get("intValue"))? {
        Value::Number(n) => Some(json!(n.to_string())),
        other => Some(other.clone()),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn requests_are_server_spans_in_the_callers_trace_with_ilert_calls_below() {
    let h = start().await;
    let (otlp, got) = receiver().await;
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_ilert-mcp"));
    command
        .args([
            "serve",
            "--no-oauth",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--ilert-url", &h.sandbox_url])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .env("OTEL_BSP_SCHEDULE_DELAY", "50")
        .env("ILERT_MCP_LOG", "info")
        .kill_on_drop(true);
    let server = traced(&mut command).spawn().unwrap();
    let mcp = format!("http://127.0.0.1:{port}/mcp");
    let http = reqwest::Client::new();
    let send = |body: Value, headers: Vec<(&'static str, String)>| {
        let mut request = http
            .post(&mcp)
            .bearer_auth(USER_KEY)
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    // Wait for the listener (bounded).
    let alert = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let mut answered = None;
    for _ in 0..100 {
        let legacy = send(
            json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                   "params": {"name": "get_alert", "arguments": {"id": alert}}}),
            vec![
                ("mcp-protocol-version", "2025-11-25".into()),
                (
                    "traceparent",
                    format!("00-{LEGACY_TRACE}-{LEGACY_PARENT}-01"),
                ),
            ],
        )
        .await;
        if let Ok(response) = legacy {
            answered = Some(response.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answered, Some(reqwest::StatusCode::OK));
    let mut meta: Value = serde_json::from_str(META_2026).unwrap();
    meta["traceparent"] = json!(format!("00-{MODERN_TRACE}-{MODERN_PARENT}-01"));
    let modern = send(
        json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
               "params": {"name": "find_users", "arguments": {"query": CANARY}, "_meta": meta}}),
        vec![
            ("mcp-protocol-version", "2026-07-28".into()),
            ("mcp-method", "tools/call".into()),
            ("mcp-name", "find_users".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(modern.status(), 200);
    let missing = send(
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
               "params": {"name": "get_alert", "arguments": {"id": 999_999_999}}}),
        vec![("mcp-protocol-version", "2025-11-25".into())],
    )
    .await
    .unwrap();
    assert_eq!(missing.status(), 200);
    for body in [
        json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call",
               "params": {"name": MADE_UP_TOOL, "arguments": {}}}),
        json!({"jsonrpc": "2.0", "id": 11, "method": MADE_UP_METHOD, "params": {}}),
    ] {
        let made_up = send(body, vec![("mcp-protocol-version", "2025-11-25".into())])
            .await
            .unwrap();
        assert!(made_up.status().is_success(), "{}", made_up.status());
    }

    // The batch exporter sends every 50 ms; wait for all five requests (bounded).
    let mut all = Vec::new();
    for _ in 0..200 {
        all = spans(&got);
        let servers = all.iter().filter(|s| s["kind"] == 2).count();
        if servers >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(server);

    let server_span = |trace: &str| {
        all.iter()
            .find(|s| s["kind"] == 2 && s["traceId"] == trace)
            .unwrap_or_else(|| panic!("no server span in trace {trace}: {all:#?}"))
            .clone()
    };
    let legacy = server_span(LEGACY_TRACE);
    assert_eq!(legacy["name"], "tools/call get_alert");
    assert_eq!(legacy["parentSpanId"], LEGACY_PARENT);
    assert_eq!(attr(&legacy, "mcp.method.name"), Some(json!("tools/call")));
    assert_eq!(attr(&legacy, "gen_ai.tool.name"), Some(json!("get_alert")));
    assert_eq!(
        attr(&legacy, "mcp.protocol.version"),
        Some(json!("2025-11-25"))
    );
    assert_eq!(attr(&legacy, "error.type"), None);
    let upstream: Vec<&Value> = all
        .iter()
        .filter(|s| s["kind"] == 3 && s["parentSpanId"] == legacy["spanId"])
        .collect();
    assert!(
        !upstream.is_empty(),
        "ilert calls below the request: {all:#?}"
    );
    let get = upstream
        .iter()
        .find(|s| attr(s, "url.template") == Some(json!("/alerts/{id}")))
        .unwrap_or_else(|| panic!("GET /alerts/{{id}} among {upstream:#?}"));
    assert_eq!(get["name"], "GET /alerts/{id}");
    assert_eq!(get["traceId"], LEGACY_TRACE);
    assert_eq!(attr(get, "http.request.method"), Some(json!("GET")));
    assert_eq!(attr(get, "http.response.status_code"), Some(json!("200")));

    let modern = server_span(MODERN_TRACE);
    assert_eq!(modern["name"], "tools/call find_users");
    assert_eq!(
        modern["parentSpanId"], MODERN_PARENT,
        "traceparent from _meta"
    );
    assert_eq!(
        attr(&modern, "mcp.protocol.version"),
        Some(json!("2026-07-28"))
    );

    let failed = all
        .iter()
        .find(|s| s["kind"] == 2 && attr(s, "jsonrpc.request.id") == Some(json!("9")))
        .unwrap_or_else(|| panic!("the third request: {all:#?}"));
    assert_eq!(attr(failed, "error.type"), Some(json!("tool_error")));
    assert!(
        all.iter().any(|s| s["kind"] == 3
            && s["parentSpanId"] == failed["spanId"]
            && attr(s, "error.type") == Some(json!("not_found"))),
        "the 404 upstream: {all:#?}"
    );

    // Issue 23 §5: names the server does not know are `unknown` in span names and attributes.
    let by_id = |id: &str| {
        all.iter()
            .find(|s| s["kind"] == 2 && attr(s, "jsonrpc.request.id") == Some(json!(id)))
            .unwrap_or_else(|| panic!("request {id}: {all:#?}"))
    };
    let made_up_tool = by_id("10");
    assert_eq!(made_up_tool["name"], "tools/call unknown");
    assert_eq!(
        attr(made_up_tool, "gen_ai.tool.name"),
        Some(json!("unknown"))
    );
    let made_up_method = by_id("11");
    assert_eq!(made_up_method["name"], "unknown");
    assert_eq!(
        attr(made_up_method, "mcp.method.name"),
        Some(json!("unknown"))
    );

    let raw = serde_json::to_string(&*got.lock().unwrap()).unwrap();
    for secret in [USER_KEY, CANARY, "999999999", MADE_UP_TOOL, MADE_UP_METHOD] {
        assert!(!raw.contains(secret), "{secret} must not be in any span");
    }
}

#[tokio::test]
async fn stdio_requests_are_spans_too_and_flushed_at_exit() {
    use rmcp::ServiceExt;
    let h = start().await;
    let (otlp, got) = receiver().await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_ilert-mcp"));
    command
        .arg("stdio")
        .env("ILERT_API_KEY", USER_KEY)
        .env("ILERT_BASE_URL", &h.sandbox_url)
        .env_remove("ILERT_AUTH_TOKEN")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        // Longer than the test: only the flush at exit can deliver the spans.
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000");
    let client = ().serve(child(command)).await.unwrap();
    let me = call(&client, "get_current_user", json!({})).await;
    assert!(!is_error(&me), "{}", text(&me));
    client.cancel().await.unwrap();
    let mut all = Vec::new();
    for _ in 0..100 {
        all = spans(&got);
        if all
            .iter()
            .any(|s| s["name"] == "tools/call get_current_user")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let call_span = all
        .iter()
        .find(|s| s["name"] == "tools/call get_current_user")
        .unwrap_or_else(|| panic!("no span for the call: {all:#?}"));
    assert_eq!(attr(call_span, "network.transport"), Some(json!("pipe")));
    assert!(
        all.iter().any(|s| s["kind"] == 3
            && s["parentSpanId"] == call_span["spanId"]
            && attr(s, "url.template") == Some(json!("/users/current"))),
        "the ilert call below it: {all:#?}"
    );
    assert!(!serde_json::to_string(&all).unwrap().contains(USER_KEY));
}
