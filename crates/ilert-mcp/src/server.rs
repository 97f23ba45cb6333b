//! `IlertMcp`: the MCP server handler. It owns the tool routers and resolves, per call, whose ilert
//! key to use: the HTTP caller's (set by [`crate::transport::auth`]) or, for stdio only, the
//! process's own.

use std::sync::Arc;

use ilert_client::{ApiKey, Client, Session};
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    CustomRequest, CustomResult, ErrorCode, Extensions, GetPromptRequestParams, GetPromptResponse,
    Implementation, ListPromptsResult, ListResourceTemplatesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::auth::{GrantInfo, Scope};
use crate::tools::catalogue::{Catalogue, Selection};
use crate::tools::failure;
use crate::tools::lookup::RefCache;

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
    /// Reference data per caller, for name lookups.
    pub refs: RefCache,
}

impl Shared {
    pub fn new(client: Client, app_url: &str, stdio_key: Option<ApiKey>) -> Self {
        Self {
            client,
            app_url: app_url.trim().trim_end_matches('/').to_owned(),
            stdio_key,
            refs: RefCache::default(),
        }
    }
}

#[derive(Clone)]
pub struct IlertMcp {
    pub(crate) shared: Arc<Shared>,
    catalogue: Arc<Catalogue>,
}

/// Request headers that narrow the server's tool selection for one request (never widen it).
pub const HEADER_TOOLSETS: &str = "x-mcp-toolsets";
pub const HEADER_TOOLS: &str = "x-mcp-tools";
pub const HEADER_EXCLUDE_TOOLS: &str = "x-mcp-exclude-tools";
pub const HEADER_READ_ONLY: &str = "x-mcp-readonly";

const INSTRUCTIONS: &str = "Tools for ilert, the alerting, on-call and incident platform, acting as \
the user who owns the API key. Start with get_overview for what is going on. Alerts are PENDING \
(firing, nobody accepted yet), ACCEPTED (someone is on it) or RESOLVED; incidents are what status \
pages and subscribers see. Users, policies, schedules, services and sources can be named by id or \
name (\"me\" is you); when a name is ambiguous the tool says so: ask the user. Times are ISO-8601 \
(without an offset they are read in `timezone`), dates, or relative (\"24h ago\", \"yesterday 18:00\", \
\"next Saturday 03:00\"); `timezone` (IANA name or city, default UTC) also sets how times are shown.";

impl IlertMcp {
    /// A server offering the tools `catalogue` holds. HTTP builds one per request, sharing both.
    pub fn new(shared: Arc<Shared>, catalogue: Arc<Catalogue>) -> Self {
        Self { shared, catalogue }
    }

    /// The request's `X-MCP-*` headers as a selection, if it came over HTTP and sent any.
    fn request_selection(context: &RequestContext<RoleServer>) -> Option<Selection> {
        let parts = context.extensions.get::<http::request::Parts>()?;
        let headers = &parts.headers;
        let list = |name: &str| -> Option<Vec<String>> {
            let joined: Vec<String> = headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            (!joined.is_empty()).then_some(joined)
        };
        let read_only = headers
            .get(HEADER_READ_ONLY)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                )
            });
        // A read-only OAuth grant narrows exactly like the read-only header.
        let read_only_grant = parts
            .extensions
            .get::<GrantInfo>()
            .is_some_and(|g| g.scope == Scope::Read);
        let selection = Selection {
            toolsets: list(HEADER_TOOLSETS),
            tools: list(HEADER_TOOLS).unwrap_or_default(),
            exclude: list(HEADER_EXCLUDE_TOOLS).unwrap_or_default(),
            read_only: read_only || read_only_grant,
        };
        (selection != Selection::default()).then_some(selection)
    }

    /// Whether `tool` survives the request's narrowing (the server's own selection already holds).
    fn visible(&self, tool: &Tool, narrowing: Option<&Selection>) -> bool {
        match narrowing {
            None => true,
            Some(selection) => {
                let set = self
                    .catalogue
                    .toolset_of
                    .get(tool.name.as_ref())
                    .copied()
                    .unwrap_or("");
                selection.allows(set, tool)
            }
        }
    }

    /// An error names a tool only if this caller is offered it: pointers to other tools are cut
    /// out of its sentences (see [`crate::tools::without_tools`]).
    fn offered_only(
        &self,
        mut result: CallToolResult,
        narrowing: Option<&Selection>,
    ) -> CallToolResult {
        static ALL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        if result.is_error != Some(true) {
            return result;
        }
        let all = ALL.get_or_init(|| {
            Catalogue::full()
                .tools()
                .iter()
                .map(|t| t.name.to_string())
                .collect()
        });
        let hidden: Vec<&str> = all
            .iter()
            .filter(|n| {
                self.catalogue
                    .router
                    .get(n)
                    .is_none_or(|t| !self.visible(t, narrowing))
            })
            .map(String::as_str)
            .collect();
        let text = crate::tools::result_text(&result);
        let cut = crate::tools::without_tools(&text, &hidden);
        if cut != text {
            result.content = vec![rmcp::model::ContentBlock::text(cut)];
        }
        result
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
    // `logging` stays declared for 2025-era clients (deprecated from 2026-07-28, SEP-2577).
    #[allow(deprecated)]
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .enable_completions()
                .enable_logging()
                .build(),
        )
        .with_server_info(
            Implementation::new("ilert-mcp", env!("CARGO_PKG_VERSION")).with_title("ilert"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let narrowing = Self::request_selection(&context);
        let tools = self
            .catalogue
            .tools()
            .into_iter()
            .filter(|t| self.visible(t, narrowing.as_ref()))
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(crate::prompts::list()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        crate::prompts::get(&request.name, request.arguments.as_ref()).map(Into::into)
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let api = self.session(&context.extensions).ok();
        Ok(crate::completions::complete(api, &self.shared.refs, &request).await)
    }

    // Logging is deprecated from 2026-07-28 (SEP-2577) but 2025-era clients still send setLevel.
    #[allow(deprecated)]
    /// Accepted so clients that set a level work; the server sends no log messages to clients
    /// (its logs go to stderr), so the level changes nothing.
    async fn set_level(
        &self,
        _request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Ok(())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            crate::resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let api = self.session(&context.extensions).map_err(|_| {
            ErrorData::invalid_request("No ilert API key came with this request.", None)
        })?;
        Ok(
            crate::resources::read(&api, &self.shared.app_url, &request.uri)
                .await?
                .into(),
        )
    }

    /// Unknown methods, and known ones whose params rmcp could not decode.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        Err(crate::methods::unhandled(
            &request.method,
            request.params.as_ref(),
            is_2026_era(&context),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.catalogue.router.get(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.clone();
        let Some(tool) = self.catalogue.router.get(&name) else {
            return Err(ErrorData::invalid_params(
                format!("Unknown tool {name:?}. Call tools/list for the available tools."),
                None,
            ));
        };
        let narrowing = Self::request_selection(&context);
        // A tool hidden from this request's list is refused when called, not just hidden.
        if let Some(narrowing) = narrowing.as_ref()
            && !self.visible(tool, Some(narrowing))
        {
            let why = if narrowing.read_only && !crate::tools::catalogue::is_read_only(tool) {
                "this connection is read-only (grant read-write access when connecting to use it)"
            } else {
                "this connection's tool selection excludes it"
            };
            crate::metrics::global().tool_call(&name, "refused", std::time::Duration::ZERO);
            return Ok(failure(format!("{name} is not available: {why}.")).into());
        }
        let context = ToolCallContext::new(self, request, context);
        let _in_flight = crate::metrics::global().start_call();
        let started = std::time::Instant::now();
        let result = match self.catalogue.router.call(context).await {
            Ok(CallToolResponse::Complete(result)) => {
                let result = explain_bad_arguments(&name, result);
                Ok(self.offered_only(result, narrowing.as_ref()).into())
            }
            // Bad arguments are the model's to fix: say so as a tool result it can read and retry.
            Err(e) if e.code == ErrorCode::INVALID_PARAMS => {
                Ok(bad_arguments(&name, &e.message).into())
            }
            other => other,
        };
        let outcome = match &result {
            Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => "tool_error",
            Ok(_) => "ok",
            Err(_) => "protocol_error",
        };
        crate::metrics::global().tool_call(&name, outcome, started.elapsed());
        result
    }
}

/// Whether a request speaks protocol 2026-07-28 or later, by its `_meta` or its HTTP header.
fn is_2026_era(context: &RequestContext<RoleServer>) -> bool {
    const MODERN: &str = "2026-07-28";
    let by_meta = context
        .meta
        .protocol_version()
        .is_some_and(|v| v.as_str() >= MODERN);
    let by_header = context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.headers.get("mcp-protocol-version"))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v >= MODERN);
    by_meta || by_header
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
