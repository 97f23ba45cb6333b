//! `IlertMcp`: the MCP server handler. It owns the tool routers and resolves, per call, whose ilert
//! key to use: the HTTP caller's (set by [`crate::transport::auth`]) or, for stdio only, the
//! process's own.

use std::sync::Arc;

use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    CustomRequest, CustomResult, ErrorCode, GetPromptRequestParams, GetPromptResponse,
    Implementation, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tracing::Instrument as _;

use crate::auth::{GrantInfo, Scope};
use crate::calls::catalogue::{Catalogue, Selection};
use crate::observe::audit::{self, Entry};
use crate::rules::confirm::{self, Before, Binding, Outcome, Stage};
use crate::rules::failure;
use crate::rules::toolbox::Toolbox;

#[derive(Clone)]
pub struct IlertMcp {
    pub(crate) tools: Arc<Toolbox>,
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
    pub fn new(tools: Arc<Toolbox>, catalogue: Arc<Catalogue>) -> Self {
        Self { tools, catalogue }
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
        let read_only = read_only_requested(headers);
        let selection = Selection {
            toolsets: list(HEADER_TOOLSETS),
            tools: list(HEADER_TOOLS).unwrap_or_default(),
            exclude: list(HEADER_EXCLUDE_TOOLS).unwrap_or_default(),
            read_only,
        };
        (selection != Selection::default()).then_some(selection)
    }

    /// The scope of the request's OAuth grant, if it came with an access token.
    fn grant_scope(context: &RequestContext<RoleServer>) -> Option<Scope> {
        let parts = context.extensions.get::<http::request::Parts>()?;
        parts.extensions.get::<GrantInfo>().map(|g| g.scope)
    }

    /// Why `tool` is not available to this request, or `None` when it is: the request's
    /// narrowing (the server's own selection already holds), then the grant's scope.
    fn unavailable(
        &self,
        tool: &Tool,
        narrowing: Option<&Selection>,
        grant: Option<&Scope>,
    ) -> Option<&'static str> {
        let name = tool.name.as_ref();
        let set = self.catalogue.toolset_of.get(name).copied().unwrap_or("");
        if let Some(selection) = narrowing
            && !selection.narrows(set, tool)
        {
            return Some(
                if selection.read_only && !crate::calls::catalogue::is_read_only(tool) {
                    "this connection is read-only (its X-MCP-Readonly header)"
                } else {
                    "this connection's tool selection excludes it"
                },
            );
        }
        match grant {
            Some(scope) if !scope.covers(&needed_scope(set, tool)) => Some(
                "the access granted to this app does not include it (sign in again and allow it)",
            ),
            _ => None,
        }
    }

    /// An error names a tool only if this caller is offered it: pointers to other tools are cut
    /// out of its sentences (see [`crate::rules::without_tools`]).
    fn offered_only(
        &self,
        mut result: CallToolResult,
        narrowing: Option<&Selection>,
        grant: Option<&Scope>,
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
                    .is_none_or(|t| self.unavailable(t, narrowing, grant).is_some())
            })
            .map(String::as_str)
            .collect();
        let text = crate::rules::result_text(&result);
        let cut = crate::rules::without_tools(&text, &hidden);
        if cut != text {
            result.content = vec![rmcp::model::ContentBlock::text(cut)];
        }
        result
    }
}

impl IlertMcp {
    /// Confirmation before a write tool runs: `Ok(stage)` to run it (the stage goes into the
    /// request's extensions for the tool's checkpoint), `Err(answer)` to answer without running it.
    async fn confirmation(
        &self,
        tool: &Tool,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<Option<Stage>, (CallToolResponse, Option<Outcome>)> {
        let Some(class) = confirm::class_of(tool) else {
            return Ok(None);
        };
        let title = tool.title.as_deref().unwrap_or(tool.name.as_ref());
        let binding = Binding::new(
            &self.tools.caller_id(&context.extensions),
            &tool.name,
            request.arguments.as_ref(),
        );
        let (before, outcome) = self
            .tools
            .confirm
            .before(class, title, binding, request, can_ask(context))
            .await;
        if let Some(outcome) = outcome {
            confirmation_answered(&tool.name, outcome);
        }
        match before {
            Before::Run(stage) => Ok(Some(stage)),
            Before::Answer(answer) => Err((answer, outcome)),
        }
    }
}

impl IlertMcp {
    /// Runs a tool, with `stage` in its extensions for its confirmation checkpoint.
    async fn run_tool(
        &self,
        name: &str,
        request: CallToolRequestParams,
        mut context: RequestContext<RoleServer>,
        stage: Option<&Stage>,
    ) -> Result<CallToolResponse, ErrorData> {
        if let Some(stage) = stage {
            context.extensions.insert(stage.clone());
        }
        // Over HTTP the tool runs in rmcp's own task: its ilert calls join the request's span here.
        let span = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<crate::observe::traces::RequestSpan>())
            .map_or_else(tracing::Span::current, |s| s.0.clone());
        let narrowing = Self::request_selection(&context);
        let grant = Self::grant_scope(&context);
        let context = ToolCallContext::new(&*self.tools, request, context);
        match self.catalogue.router.call(context).instrument(span).await {
            Ok(CallToolResponse::Complete(result)) => {
                let result = explain_bad_arguments(name, result);
                Ok(self
                    .offered_only(result, narrowing.as_ref(), grant.as_ref())
                    .into())
            }
            // Bad arguments are the model's to fix: say so as a tool result it can read and retry.
            Err(e) if e.code == ErrorCode::INVALID_PARAMS => {
                Ok(bad_arguments(name, &e.message).into())
            }
            other => other,
        }
    }

    /// Handshake-era stdio, where the server may send requests mid-call: ask with
    /// `elicitation/create` and run the tool again, confirmed, on accept.
    async fn ask_in_band(
        &self,
        name: &str,
        preview: &confirm::Preview,
        stage: &Stage,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> (Result<CallToolResponse, ErrorData>, Outcome) {
        let answer = context
            .peer
            .create_elicitation_with_timeout(
                confirm::elicitation(preview),
                Some(std::time::Duration::from_secs(
                    confirm::STATE_TTL_SECS.unsigned_abs(),
                )),
            )
            .await;
        let outcome = match answer.map(|a| a.action) {
            Ok(rmcp::model::ElicitationAction::Accept) => Outcome::Accepted,
            Ok(rmcp::model::ElicitationAction::Cancel) => Outcome::Cancelled,
            Ok(_) => Outcome::Declined,
            Err(e) => {
                tracing::warn!(tool = name, error = %e, "the client did not answer the confirmation");
                Outcome::Cancelled
            }
        };
        confirmation_answered(name, outcome);
        let result = match outcome {
            Outcome::Accepted => {
                self.run_tool(name, request, context, Some(&stage.confirmed()))
                    .await
            }
            _ => {
                let tool = self.catalogue.router.get(name);
                let title = tool.and_then(|t| t.title.as_deref()).unwrap_or(name);
                Ok(confirm::not_done(outcome, title, name).into())
            }
        };
        (result, outcome)
    }
}

/// The one place a person's answer to a confirmation is recorded (accepted, declined, cancelled,
/// or a state refused as forged, expired, replayed or another caller's). The audit trail records
/// "declined" here.
fn confirmation_answered(tool: &str, outcome: Outcome) {
    tracing::info!(tool, outcome = ?outcome, "confirmation answered");
}

/// Whether the client can answer an elicitation inside a tool call: it declared form elicitation,
/// and either speaks 2026-07-28 (a call may answer `input_required`) or is a handshake-era stdio
/// client (the server may send it `elicitation/create` mid-call; over stateless HTTP it cannot).
fn can_ask(context: &RequestContext<RoleServer>) -> bool {
    let declared = context
        .client_capabilities()
        .and_then(|c| c.elicitation)
        .is_some_and(|e| e.form.is_some() || e.url.is_none());
    let over_http = context.extensions.get::<http::request::Parts>().is_some();
    declared && (is_2026_era(context) || !over_http)
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
                .enable_extensions_with(crate::mcp::views::capability())
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
        let grant = Self::grant_scope(&context);
        let tools = self
            .catalogue
            .tools()
            .into_iter()
            .filter(|t| {
                self.unavailable(t, narrowing.as_ref(), grant.as_ref())
                    .is_none()
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(
            crate::mcp::prompts::list(),
        ))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        crate::mcp::prompts::get(&request.name, request.arguments.as_ref()).map(Into::into)
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let api = self.tools.session(&context.extensions).ok();
        Ok(crate::mcp::completions::complete(api, &self.tools.refs, &request).await)
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

    /// The MCP Apps views; a 2026-07-28 client that declares no Apps support is not shown them.
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let declared = context.meta.client_capabilities();
        let views = if crate::mcp::views::client_renders(declared.as_ref()) {
            crate::mcp::views::resources()
        } else {
            Vec::new()
        };
        Ok(ListResourcesResult::with_all_items(views))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            crate::mcp::resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        // Views are the same static HTML for everyone: no ilert call, no key needed.
        if let Some(view) = crate::mcp::views::read(&request.uri) {
            return Ok(view.into());
        }
        let api = self.tools.session(&context.extensions).map_err(|_| {
            ErrorData::invalid_request("No ilert API key came with this request.", None)
        })?;
        Ok(
            crate::mcp::resources::read(&api, &self.tools.app_url, &request.uri)
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
        Err(crate::mcp::methods::unhandled(
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
        // Every call of a tool that writes leaves one audit event, whatever becomes of it.
        let parts = context.extensions.get::<http::request::Parts>();
        let audit = (!crate::calls::catalogue::is_read_only(tool)).then(|| {
            // Over stateless HTTP rmcp stands in a default client for one that never said who it
            // is; only the request's own metadata (2026-07-28) names it, else the user agent.
            let client = match parts {
                Some(_) => context.meta.client_info(),
                None => context.client_info(),
            };
            Entry::open(
                &name,
                request.arguments.as_ref(),
                parts,
                client,
                self.tools.stdio_key.as_ref(),
            )
        });
        let api = audit
            .as_ref()
            .and_then(|_| self.tools.session(&context.extensions).ok());
        // A tool hidden from this request's list is refused when called, not just hidden.
        let narrowing = Self::request_selection(&context);
        let grant = Self::grant_scope(&context);
        if let Some(why) = self.unavailable(tool, narrowing.as_ref(), grant.as_ref()) {
            crate::observe::metrics::global().tool_call(
                &name,
                "refused",
                std::time::Duration::ZERO,
            );
            if let Some(entry) = audit {
                entry
                    .finish(
                        &self.tools.audit,
                        api.as_ref(),
                        audit::Outcome::Refused,
                        Some(why),
                    )
                    .await;
            }
            return Ok(failure(format!("{name} is not available: {why}.")).into());
        }
        let _in_flight = crate::observe::metrics::global().start_call();
        let started = std::time::Instant::now();
        // Only now, with selection, read-only and grants applied, may a write ask a person.
        let stage = match self.confirmation(tool, &request, &context).await {
            Ok(stage) => stage,
            Err((answer, answered)) => {
                crate::observe::metrics::global().tool_call(
                    &name,
                    "confirmation",
                    started.elapsed(),
                );
                // Asking records nothing yet; a no, or a state or policy refusal, is final.
                let audited = match (&answer, answered) {
                    (CallToolResponse::InputRequired(_), _) => None,
                    (_, Some(Outcome::Declined | Outcome::Cancelled)) => {
                        Some((audit::Outcome::Declined, "the person declined"))
                    }
                    _ => Some((audit::Outcome::Refused, "not confirmed")),
                };
                if let (Some(entry), Some((outcome, reason))) = (audit, audited) {
                    entry
                        .finish(&self.tools.audit, api.as_ref(), outcome, Some(reason))
                        .await;
                }
                return Ok(answer);
            }
        };
        let retry = stage.as_ref().map(|_| (request.clone(), context.clone()));
        let mut result = self.run_tool(&name, request, context, stage.as_ref()).await;
        let mut declined = false;
        // The tool stopped at its checkpoint: ask the person what it showed.
        if let Some(stage) = &stage
            && let Some(preview) = stage.take_preview()
            && let Some((request, context)) = retry
        {
            result = if is_2026_era(&context) {
                Ok(self.tools.confirm.ask(stage.binding(), &preview).into())
            } else {
                let (result, answered) = self
                    .ask_in_band(&name, &preview, stage, request, context)
                    .await;
                declined = answered != Outcome::Accepted;
                result
            };
        }
        let outcome = match &result {
            Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => "tool_error",
            Ok(CallToolResponse::InputRequired(_)) => "input_required",
            Ok(_) => "ok",
            Err(_) => "protocol_error",
        };
        crate::observe::metrics::global().tool_call(&name, outcome, started.elapsed());
        // An answer that is not complete (the human is being asked) is recorded when the call
        // that completes it comes back.
        let audited = match &result {
            _ if declined => Some((audit::Outcome::Declined, Some("the person declined"))),
            Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => Some((
                audit::Outcome::Failed,
                Some("the tool answered with an error"),
            )),
            Ok(CallToolResponse::Complete(_)) => Some((audit::Outcome::Done, None)),
            Ok(_) => None,
            Err(_) => Some((audit::Outcome::Failed, Some("internal error"))),
        };
        if let (Some(entry), Some((outcome, reason))) = (audit, audited) {
            entry
                .finish(&self.tools.audit, api.as_ref(), outcome, reason)
                .await;
        }
        result
    }
}

/// The most a grant for `catalogue` can be worth: per group, write if a tool that writes needs
/// it, read if any tool needs it, nothing otherwise.
pub fn ceiling(catalogue: &Catalogue) -> Scope {
    let mut ceiling = Scope::NONE;
    for tool in catalogue.router.list_all() {
        let set = catalogue
            .toolset_of
            .get(tool.name.as_ref())
            .copied()
            .unwrap_or("");
        ceiling = ceiling.union(&needed_scope(set, &tool));
    }
    ceiling
}

/// The scope a tool of `toolset` needs: read or write on its consent groups.
pub fn needed_scope(toolset: &str, tool: &Tool) -> Scope {
    Scope::needed(
        crate::auth::scopes::groups_of(toolset, tool.name.as_ref()),
        !crate::calls::catalogue::is_read_only(tool),
    )
}

/// Whether the `X-MCP-Readonly` headers ask for read-only. It fails closed: a header that is present
/// means read-only unless it says plainly that it is off (false, 0, no, off), and with repeated
/// headers every one is read and the strictest wins.
fn read_only_requested(headers: &http::HeaderMap) -> bool {
    headers.get_all(HEADER_READ_ONLY).iter().any(|value| {
        let off = value.to_str().is_ok_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "false" | "0" | "no" | "off"
            )
        });
        !off
    })
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
