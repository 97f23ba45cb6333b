//! Toolsets and tool selection. A tool's toolset is the router it is declared in, and whether it
//! writes comes from its own `readOnlyHint`: there is no second list to keep in step.

use std::collections::BTreeMap;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{MetaObject, Tool};
use serde_json::json;

use crate::rules::toolbox::Toolbox;

/// A named group of tools that can be switched on and off.
pub struct Toolset {
    pub name: &'static str,
    pub description: &'static str,
    /// On unless `--toolsets` names others.
    pub default: bool,
    pub router: fn() -> ToolRouter<Toolbox>,
}

/// Every toolset, in the order tools are listed.
pub fn toolsets() -> Vec<Toolset> {
    vec![
        Toolset {
            name: "overview",
            description: "what is going on, shift handovers and postmortem drafts",
            default: true,
            router: overview,
        },
        Toolset {
            name: "alerts",
            description: "list, inspect, accept, resolve, assign, comment on and raise alerts",
            default: true,
            router: alerts,
        },
        Toolset {
            name: "incidents",
            description: "status-page incidents and their updates",
            default: true,
            router: Toolbox::incidents_router,
        },
        Toolset {
            name: "services",
            description: "services, status pages, maintenance windows",
            default: true,
            router: Toolbox::services_router,
        },
        Toolset {
            name: "oncall",
            description: "who is on call, schedules, shifts, overrides, load",
            default: true,
            router: oncall,
        },
        Toolset {
            name: "people",
            description: "users, teams, escalation policies",
            default: true,
            router: Toolbox::people_router,
        },
        Toolset {
            name: "sources",
            description: "alert sources, heartbeat monitors, events",
            default: true,
            router: Toolbox::sources_router,
        },
        Toolset {
            name: "reports",
            description: "alert counts, MTTA and MTTR",
            default: true,
            router: Toolbox::reports_router,
        },
        Toolset {
            name: "chatgpt",
            description: "search and fetch, as ChatGPT connectors and deep research require",
            default: true,
            router: Toolbox::chatgpt_router,
        },
    ]
}

fn oncall() -> ToolRouter<Toolbox> {
    Toolbox::oncall_router() + Toolbox::load_router()
}

fn overview() -> ToolRouter<Toolbox> {
    Toolbox::overview_router() + Toolbox::paperwork_router()
}

fn alerts() -> ToolRouter<Toolbox> {
    Toolbox::alerts_router()
        + Toolbox::alert_history_router()
        + Toolbox::alert_work_router()
        + Toolbox::view_context_router()
}

/// MCP Apps (see [`crate::mcp::views`]): which tool's results which view renders. Kept to the
/// bare `resourceUri` because every byte here is repeated in every `tools/list`.
pub const TOOL_VIEWS: [(&str, &str); 6] = [
    ("list_alerts", "ui://ilert/inbox"),
    ("get_overview", "ui://ilert/inbox"),
    ("who_is_on_call", "ui://ilert/oncall"),
    ("get_schedule_shifts", "ui://ilert/oncall"),
    ("get_incident", "ui://ilert/incident"),
    ("get_alert_metrics", "ui://ilert/metrics"),
];

/// Tools only a view calls: the host keeps them out of the model's tool list (`visibility`).
pub const APP_ONLY: [&str; 1] = ["get_view_context"];

/// Adds `_meta.ui` to `tool` if a view renders it or only views call it; other tools are untouched.
pub fn attach_view(tool: &mut Tool) {
    let name = tool.name.as_ref();
    let mut ui = serde_json::Map::new();
    if let Some((_, uri)) = TOOL_VIEWS.iter().find(|(t, _)| *t == name) {
        ui.insert("resourceUri".into(), json!(uri));
    }
    if APP_ONLY.contains(&name) {
        ui.insert("visibility".into(), json!(["app"]));
    }
    if ui.is_empty() {
        return;
    }
    let meta = tool.meta.get_or_insert_with(MetaObject::new);
    meta.0.insert("ui".into(), serde_json::Value::Object(ui));
}

/// Which tools are on. Built from flags or environment at start-up; a request header can only
/// narrow it (see [`Selection::narrow`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Toolsets to enable; `None` means the default ones (all of them unless `tools` is given).
    pub toolsets: Option<Vec<String>>,
    /// Individual tools to enable in addition to the toolsets.
    pub tools: Vec<String>,
    /// Tools to switch off whatever else says.
    pub exclude: Vec<String>,
    /// Only tools whose `readOnlyHint` is true.
    pub read_only: bool,
}

impl Selection {
    /// Whether `tool` of `toolset` is on.
    pub fn allows(&self, toolset: &str, tool: &Tool) -> bool {
        self.admits(toolset, tool, |set| {
            toolsets().iter().any(|t| t.name == set && t.default)
        })
    }

    /// Whether a tool the server already offers survives this selection used as a per-request
    /// narrowing (headers, grants). What the narrowing does not name stays as the server has it:
    /// no toolsets named means no toolset filter, never "the default toolsets".
    pub fn narrows(&self, toolset: &str, tool: &Tool) -> bool {
        self.admits(toolset, tool, |_| true)
    }

    /// The one selection rule; `unnamed` says whether a toolset is on when no toolsets are named.
    fn admits(&self, toolset: &str, tool: &Tool, unnamed: impl Fn(&str) -> bool) -> bool {
        let name = tool.name.as_ref();
        if self.exclude.iter().any(|e| e == name) {
            return false;
        }
        if self.read_only && !is_read_only(tool) {
            return false;
        }
        let by_set = match &self.toolsets {
            Some(sets) => sets.iter().any(|s| s == toolset || s == "all"),
            // With only `tools` given, exactly those tools are on.
            None => self.tools.is_empty() && unnamed(toolset),
        };
        by_set || self.tools.iter().any(|t| t == name)
    }

    /// Names that match no toolset or tool: a typo the operator should hear about.
    pub fn unknown_names(&self) -> Vec<String> {
        let sets: Vec<&str> = toolsets().iter().map(|t| t.name).collect();
        let mut unknown: Vec<String> = self
            .toolsets
            .iter()
            .flatten()
            .filter(|s| *s != "all" && !sets.contains(&s.as_str()))
            .map(|s| format!("toolset {s:?}"))
            .collect();
        if self.tools.is_empty() && self.exclude.is_empty() {
            return unknown;
        }
        // Only when tools are named: building every tool's schema takes a millisecond or two of
        // a start-up that is otherwise about ten.
        let catalogue = Catalogue::full();
        for tool in self.tools.iter().chain(&self.exclude) {
            if !catalogue.toolset_of.contains_key(tool) {
                unknown.push(format!("tool {tool:?}"));
            }
        }
        unknown
    }
}

pub fn is_read_only(tool: &Tool) -> bool {
    tool.annotations
        .as_ref()
        .and_then(|a| a.read_only_hint)
        .unwrap_or(false)
}

/// The tools a server offers, each with its toolset.
pub struct Catalogue {
    pub router: ToolRouter<Toolbox>,
    pub toolset_of: BTreeMap<String, &'static str>,
}

impl Catalogue {
    /// Every tool of every toolset.
    pub fn full() -> Self {
        Self::select(&Selection {
            toolsets: Some(vec!["all".into()]),
            ..Default::default()
        })
    }

    /// The tools `selection` allows.
    pub fn select(selection: &Selection) -> Self {
        let mut router = ToolRouter::new();
        let mut toolset_of = BTreeMap::new();
        let mut every_name = Vec::new();
        for set in toolsets() {
            let mut part = (set.router)();
            every_name.extend(part.map.keys().map(|name| name.to_string()));
            // MCP Apps: `_meta.ui` is attached here, once, so tool bodies stay unaware of views;
            // then every tool is slimmed for the tools/list budget.
            for route in part.map.values_mut() {
                attach_view(&mut route.attr);
                crate::rules::slim(&mut route.attr);
            }
            for tool in part.list_all() {
                if selection.allows(set.name, &tool) {
                    toolset_of.insert(tool.name.to_string(), set.name);
                } else {
                    part.remove_route(&tool.name);
                }
            }
            router += part;
        }
        // Span names may carry this build's tool names, and nothing else.
        crate::observe::traces::know_tools(every_name);
        Self { router, toolset_of }
    }

    /// Tools in catalogue order (toolset order, then name).
    pub fn tools(&self) -> Vec<Tool> {
        let order: Vec<&str> = toolsets().iter().map(|t| t.name).collect();
        let mut tools = self.router.list_all();
        tools.sort_by_key(|t| {
            let set = self.toolset_of.get(t.name.as_ref()).copied().unwrap_or("");
            (
                order.iter().position(|s| *s == set).unwrap_or(usize::MAX),
                t.name.to_string(),
            )
        });
        tools
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(toolsets: Option<&[&str]>, tools: &[&str], exclude: &[&str]) -> Selection {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Selection {
            toolsets: toolsets.map(owned),
            tools: owned(tools),
            exclude: owned(exclude),
            read_only: false,
        }
    }

    #[test]
    fn names_that_match_nothing_are_reported_and_real_ones_are_not() {
        assert!(named(None, &[], &[]).unknown_names().is_empty());
        assert!(
            named(
                Some(&["all", "alerts"]),
                &["list_alerts"],
                &["create_alert"]
            )
            .unknown_names()
            .is_empty()
        );
        assert_eq!(
            named(Some(&["alert"]), &["list_alert"], &["who_is_oncall"]).unknown_names(),
            vec![
                "toolset \"alert\"".to_owned(),
                "tool \"list_alert\"".to_owned(),
                "tool \"who_is_oncall\"".to_owned(),
            ]
        );
    }
}
