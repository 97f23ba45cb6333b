//! `get_view_context`: what the MCP Apps views (see `crate::mcp::views`) need besides the tool result
//! they render: the ilert web app root for "Open in ilert" links and the alert sources
//! (`/alert-sources`) the metrics view breaks down by. Only views call it (`visibility: ["app"]`).

use crate::rules::untrusted;
use ilert_client::Page;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::render::Ref;
use crate::rules::toolbox::Toolbox;
use crate::rules::{failure, ilert, input_schema, output_schema, session, structured};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewContextParams {
    /// Schedule ids (max 10).
    #[serde(default)]
    pub schedules: Vec<i64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ViewContextOutput {
    pub app_url: String,
    pub sources: Vec<Ref>,
    pub overrides: Vec<OverrideOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OverrideOut {
    pub schedule: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

#[tool_router(router = view_context_router, vis = "pub(crate)")]
impl Toolbox {
    /// For ilert's views only: app URL, sources, overrides.
    #[tool(
        title = "View context",
        input_schema = input_schema::<ViewContextParams>(),
        output_schema = output_schema::<ViewContextOutput>(),
        annotations(title = "View context", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_view_context(
        &self,
        Parameters(params): Parameters<ViewContextParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let sources = ilert!(
            api.list_alert_sources(Page::new(0, 50)),
            "the alert source list"
        );
        let sources: Vec<Ref> = sources
            .iter()
            .map(|s| Ref {
                id: s.id,
                name: s.name.clone().map(untrusted::inline_owned),
            })
            .collect();
        if params.schedules.len() > 10 {
            return failure("Pass at most 10 schedule ids.");
        }
        let mut overrides = Vec::new();
        for schedule in params.schedules {
            let shifts = ilert!(
                api.schedule_overrides(schedule),
                format!("the overrides of schedule {schedule}")
            );
            overrides.extend(shifts.into_iter().map(|s| OverrideOut {
                schedule,
                user: s.user.map(|u| Ref {
                    id: u.id,
                    name: Some(untrusted::inline_owned(u.display_name())),
                }),
                start: s.start,
                end: s.end,
            }));
        }
        let text = format!(
            "ilert at {}; {} alert source(s), {} override(s).",
            self.app_url,
            sources.len(),
            overrides.len()
        );
        let app_url = self.app_url.clone();
        let out = ViewContextOutput {
            app_url,
            sources,
            overrides,
        };
        structured(&out, text)
    }
}
