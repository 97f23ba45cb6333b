//! The benchmark's yardsticks (issue 27): a bare rmcp pass-through of `list_alerts`. It serves
//! stateless Streamable HTTP on `/mcp` with the same rmcp, allocator and HTTP stack as ilert-mcp,
//! offers one tool, `list_alerts`, and answers it by forwarding the caller's bearer key to the
//! upstream's `GET /alerts`. No projection, no key cache, no budget, no audit, no confirmation, no
//! metrics, no spans, no access log. Two ways to answer:
//! - by default, the upstream body as one text block, unparsed (the cheapest possible answer);
//! - with `--structured`, the way an rmcp tool answers JSON: the body parsed into a
//!   `serde_json::Value` and returned as `{"alerts": [...]}` with `CallToolResult::structured`,
//!   which puts the value in `structuredContent` and its serialisation in a text block.
//!
//! Only `bench/run.py` runs it, on loopback:
//! `cargo run --release --example passthrough -- --bind 127.0.0.1:PORT --upstream http://127.0.0.1:PORT/api [--structured]`

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The query ilert-mcp's `list_alerts {"limit":50}` sends (open alerts, one more than asked).
const QUERY: &str = "/alerts?states=PENDING&states=ACCEPTED&max-results=51";

#[derive(Clone)]
struct PassThrough {
    http: reqwest::Client,
    url: Arc<str>,
    tools: Arc<[Tool]>,
    structured: bool,
}

impl ServerHandler for PassThrough {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("passthrough", "0"))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name != "list_alerts" {
            return Err(ErrorData::invalid_params("no such tool", None));
        }
        let auth = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.headers.get(http::header::AUTHORIZATION))
            .cloned()
            .ok_or_else(|| ErrorData::invalid_request("no bearer key", None))?;
        let answer = self
            .http
            .get(&*self.url)
            .header(http::header::AUTHORIZATION, auth)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let status = answer.status();
        if self.structured && status.is_success() {
            let body = answer
                .bytes()
                .await
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
            let alerts: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
            // structuredContent is an object; ilert answers a list.
            let value = serde_json::json!({ "alerts": alerts });
            return Ok(CallToolResult::structured(value).into());
        }
        let body = answer
            .text()
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let result = if status.is_success() {
            CallToolResult::success(vec![ContentBlock::text(body)])
        } else {
            CallToolResult::error(vec![ContentBlock::text(format!("{status}: {body}"))])
        };
        Ok(result.into())
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(bind), Some(upstream)) = (arg(&args, "--bind"), arg(&args, "--upstream")) else {
        eprintln!(
            "usage: passthrough --bind 127.0.0.1:PORT --upstream http://127.0.0.1:PORT/api [--structured]"
        );
        std::process::exit(2);
    };
    // reqwest is built without a default TLS provider; the upstream is plain http on loopback.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().build()?;
    let schema = serde_json::json!({
        "type": "object",
        "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 50}},
    });
    let serde_json::Value::Object(schema) = schema else {
        unreachable!()
    };
    let handler = PassThrough {
        http,
        url: format!("{}{QUERY}", upstream.trim_end_matches('/')).into(),
        tools: Arc::new([Tool::new(
            "list_alerts",
            "Open alerts, as ilert returns them.",
            schema,
        )]),
        structured: args.iter().any(|a| a == "--structured"),
    };
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None);
    let mcp = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let app = axum::Router::new().route_service("/mcp", mcp);
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
