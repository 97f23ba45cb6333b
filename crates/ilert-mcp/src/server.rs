//! `IlertMcp`: the MCP server handler. It owns the tool routers and resolves, per call, whose ilert
//! key to use: the HTTP caller's (set by [`crate::transport::auth`]) or, for stdio only, the
//! process's own.

use std::sync::Arc;

use ilert_client::{ApiKey, Client, Session};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ErrorCode, Extensions, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::tools::failure;

/// The ilert key of the HTTP caller of this request. Inserted by the auth layer into the request's
/// extensions; never stored anywhere else.
#[derive(Clone)]
pub struct CallerKey(pub ApiKey);

/// What every request shares: the pooled ilert client and settings. Holds no caller's key, except
/// `stdio_key`, which only the single-user stdio mode sets.
pub struct Shared {
    pub client: Client,
    /// ilert web app root for links, without trailing slash.
    pub app_url: String,
    pub stdio_key: Option<ApiKey>,
}

#[derive(Clone)]
pub struct IlertMcp {
    pub(crate) shared: Arc<Shared>,
    router: Arc<ToolRouter<IlertMcp>>,
}

const INSTRUCTIONS: &str = "Tools for ilert, the alerting and on-call platform, acting as the user \
who owns the API key. Alerts are PENDING (firing, nobody accepted yet), ACCEPTED (someone is on it) \
or RESOLVED. Start with list_alerts for what is firing; accept_alerts and resolve_alerts take one \
or several ids and report per alert. Ids are numbers; links point to the ilert app.";

impl IlertMcp {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            router: Arc::new(Self::catalogue()),
        }
    }

    /// Shares one router between all handlers (HTTP builds a handler per request).
    pub fn with_router(shared: Arc<Shared>, router: Arc<ToolRouter<IlertMcp>>) -> Self {
        Self { shared, router }
    }

    /// Every tool, from the per-resource routers.
    pub fn catalogue() -> ToolRouter<IlertMcp> {
        Self::alerts_router() + Self::users_router()
    }

    pub fn tools(&self) -> Vec<Tool> {
        self.router.list_all()
    }

    /// The ilert session for this call, or a tool error saying why there is none.
    pub(crate) fn session(&self, ext: &Extensions) -> Result<Session, CallToolResult> {
        if let Some(parts) = ext.get::<http::request::Parts>() {
            // Over HTTP only the caller's own key is ever used.
            return match parts.extensions.get::<CallerKey>() {
                Some(CallerKey(key)) => Ok(self.shared.client.session(key.clone())),
                None => Err(failure(
                    "No ilert API key came with this request. Send `Authorization: Bearer <ilert API key>`.",
                )),
            };
        }
        match &self.shared.stdio_key {
            Some(key) => Ok(self.shared.client.session(key.clone())),
            None => Err(failure(
                "No ilert API key is configured. Set ILERT_API_KEY for ilert-mcp.",
            )),
        }
    }
}

impl ServerHandler for IlertMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("ilert-mcp", env!("CARGO_PKG_VERSION")).with_title("ilert"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.router.list_all()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.router.get(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.clone();
        if !self.router.has_route(&name) {
            return Err(ErrorData::invalid_params(
                format!("Unknown tool {name:?}. Call tools/list for the available tools."),
                None,
            ));
        }
        let context = ToolCallContext::new(self, request, context);
        match self.router.call(context).await {
            Ok(CallToolResponse::Complete(result)) => {
                Ok(explain_bad_arguments(&name, result).into())
            }
            // Bad arguments are the model's to fix: say so as a tool result it can read and retry.
            Err(e) if e.code == ErrorCode::INVALID_PARAMS => {
                Ok(bad_arguments(&name, &e.message).into())
            }
            other => other,
        }
    }
}

/// rmcp reports undecodable arguments as "failed to deserialize parameters: ..."; restate that as
/// an instruction the model can follow.
fn explain_bad_arguments(tool: &str, result: CallToolResult) -> CallToolResult {
    const PREFIX: &str = "failed to deserialize parameters:";
    let reason = match (
        result.is_error,
        result.content.first().and_then(|c| c.as_text()),
    ) {
        (Some(true), Some(text)) => text.text.strip_prefix(PREFIX).map(|r| r.trim().to_owned()),
        _ => None,
    };
    match reason {
        Some(reason) => bad_arguments(tool, &reason),
        None => result,
    }
}

fn bad_arguments(tool: &str, reason: &str) -> CallToolResult {
    failure(format!(
        "Invalid arguments for {tool}: {reason}. Check the tool's input schema and call it again."
    ))
}
