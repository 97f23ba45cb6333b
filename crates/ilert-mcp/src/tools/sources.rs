//! Sources toolset: `list_alert_sources`, `list_heartbeat_monitors`, `send_event`
//! (`/alert-sources`, `/heartbeat-monitors`, `/events`).

use crate::rules::untrusted;
use std::collections::BTreeMap;

use ilert_client::{Event, EventComment, Page};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::confirm::confirm;
use crate::rules::names::Kind;
use crate::rules::previews;
use crate::rules::render::{self, Ref};
use crate::rules::times::human;
use crate::rules::toolbox::Toolbox;
use crate::rules::{args, check, failure, ilert, input_schema, output_schema, session, structured};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SourcesOutput {
    pub alert_sources: Vec<SourceOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SourceOut {
    pub id: i64,
    pub name: String,
    /// Integration type, e.g. PROMETHEUS, DATADOG, API, EMAIL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
    /// PENDING (has open alerts), ALL_ACCEPTED, ALL_RESOLVED, IN_MAINTENANCE or DISABLED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Ref>,
    /// Whether your user may see its integration key (needed for send_event).
    pub key_visible: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatParams {
    /// From `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HeartbeatsOutput {
    pub monitors: Vec<HeartbeatOut>,
    pub has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HeartbeatOut {
    pub id: i64,
    pub name: String,
    /// HEALTHY, OVERDUE (no ping in time: an alert is raised) or UNKNOWN (never pinged).
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_sec: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_source: Option<Ref>,
    /// Owning teams.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    Alert,
    Accept,
    Resolve,
    Comment,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendEventParams {
    /// Alert source (id or name), or give `integration_key`.
    #[serde(default)]
    pub source: Option<String>,
    /// The alert source's integration key, if known.
    #[serde(default)]
    pub integration_key: Option<String>,
    #[serde(deserialize_with = "args::any_case")]
    pub event_type: EventType,
    pub summary: String,
    /// Same key, same open alert.
    #[serde(default)]
    pub alert_key: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    /// HIGH or LOW (ALERT only).
    #[serde(default)]
    pub priority: Option<String>,
    /// Comment text (COMMENT events).
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SendEventOutput {
    pub accepted: bool,
    pub event_type: String,
    /// The alert the event created or acted on, when ilert names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_key: Option<String>,
    /// Link to that alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_url: Option<String>,
    /// ilert's verdict, e.g. NEW_ALERT_CREATED, EVENT_ADDED_TO_ALERT, NO_OPEN_ALERT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Ref>,
}

#[tool_router(router = sources_router, vis = "pub(crate)")]
impl Toolbox {
    /// List alert sources (the integrations raising alerts) with status and policy.
    #[tool(
        title = "List alert sources",
        input_schema = input_schema::<NoParams>(),
        output_schema = output_schema::<SourcesOutput>(),
        annotations(title = "List alert sources", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_alert_sources(
        &self,
        Parameters(NoParams {}): Parameters<NoParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let sources = ilert!(
            api.list_alert_sources(Page::new(0, 50)),
            "the alert source list"
        );
        let sources: Vec<SourceOut> = sources
            .iter()
            .map(|s| SourceOut {
                id: s.id,
                name: untrusted::inline_owned(s.name.clone().unwrap_or_default()),
                integration: s.integration_type.clone(),
                status: s.status.clone(),
                policy: s.escalation_policy.as_ref().map(Ref::from),
                key_visible: s.integration_key.as_deref().is_some_and(|k| !k.is_empty()),
            })
            .collect();
        let text = crate::rules::lines_or(
            &sources,
            |s| {
                let policy = s
                    .policy
                    .as_ref()
                    .and_then(|p| p.name.as_deref())
                    .map_or_else(|| "?".into(), untrusted::quoted);
                format!(
                    "{} (id {}, {}): {} · policy {policy}",
                    untrusted::quoted(&s.name),
                    s.id,
                    s.integration.as_deref().unwrap_or("?"),
                    s.status.as_deref().unwrap_or("?")
                )
            },
            "No alert sources.",
        );
        structured(
            &SourcesOutput {
                alert_sources: sources,
            },
            text,
        )
    }

    /// List heartbeat monitors and whether each is healthy or overdue.
    #[tool(
        title = "List heartbeat monitors",
        input_schema = input_schema::<HeartbeatParams>(),
        output_schema = output_schema::<HeartbeatsOutput>(),
        annotations(title = "List heartbeat monitors", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_heartbeat_monitors(
        &self,
        Parameters(p): Parameters<HeartbeatParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let page = ilert!(
            api.list_heartbeat_monitors(p.cursor.as_deref(), 100),
            "the heartbeat monitor list"
        );
        let monitors: Vec<HeartbeatOut> = page
            .monitors
            .iter()
            .map(|m| HeartbeatOut {
                id: m.id,
                name: untrusted::inline_owned(m.name.clone().unwrap_or_default()),
                state: m.state.clone().unwrap_or_else(|| "UNKNOWN".into()),
                interval_sec: m.interval_sec,
                alert_source: m.alert_source.as_ref().map(Ref::from),
                teams: m
                    .teams
                    .iter()
                    .map(|t| {
                        t.name.as_deref().map_or_else(
                            || format!("team {}", t.id),
                            |n| untrusted::inline(n).into_owned(),
                        )
                    })
                    .collect(),
            })
            .collect();
        let mut text = monitors
            .iter()
            .map(|m| {
                let every = m.interval_sec.map_or_else(
                    || "interval unknown".to_owned(),
                    |s| {
                        format!(
                            "expects a ping every {}",
                            human(chrono::Duration::seconds(s))
                        )
                    },
                );
                let teams = if m.teams.is_empty() {
                    String::new()
                } else {
                    let teams: Vec<String> = m.teams.iter().map(|t| untrusted::quoted(t)).collect();
                    format!(" · team {}", teams.join(", "))
                };
                format!(
                    "{} (id {}): {} · {every}{teams}",
                    untrusted::quoted(&m.name),
                    m.id,
                    m.state
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        if text.is_empty() {
            text = "No heartbeat monitors.".into();
        }
        if let Some(cursor) = &page.next_cursor {
            text.push_str(&format!(
                "\nMore monitors: call again with cursor \"{cursor}\"."
            ));
        }
        let out = HeartbeatsOutput {
            monitors,
            has_more: page.next_cursor.is_some(),
            next_cursor: page.next_cursor,
        };
        structured(&out, text)
    }

    /// Send an event to an alert source as a monitor would: ALERT raises or updates the alert with
    /// its alert_key (paging the on-call); ACCEPT, RESOLVE, COMMENT act on it.
    #[tool(
        title = "Send event",
        input_schema = input_schema::<SendEventParams>(),
        output_schema = output_schema::<SendEventOutput>(),
        meta = crate::rules::confirm::outward(),
        annotations(title = "Send event", read_only_hint = false, destructive_hint = true,
                    idempotent_hint = false, open_world_hint = true)
    )]
    pub async fn send_event(
        &self,
        Parameters(p): Parameters<SendEventParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let event_type = match p.event_type {
            EventType::Alert => "ALERT",
            EventType::Accept => "ACCEPT",
            EventType::Resolve => "RESOLVE",
            EventType::Comment => "COMMENT",
        };
        if !matches!(p.event_type, EventType::Alert)
            && p.alert_key.as_deref().is_none_or(|k| k.trim().is_empty())
        {
            return failure(format!(
                "{event_type} events need `alert_key`: the key of the open alert to act on."
            ));
        }
        if matches!(p.event_type, EventType::Comment)
            && p.comment.as_deref().is_none_or(|c| c.trim().is_empty())
        {
            return failure("COMMENT events need `comment`.");
        }
        let (key, found) = match (&p.integration_key, &p.source) {
            (Some(key), _) if !key.trim().is_empty() => (key.trim().to_owned(), None),
            (_, Some(source)) => {
                let found = check!(self.refs.resolve(&api, Kind::Source, source).await);
                let full = ilert!(
                    api.get_alert_source(found.id),
                    format!("alert source {}", found.id)
                );
                match full.integration_key.filter(|k| !k.is_empty()) {
                    Some(key) => (key, Some(found)),
                    None => {
                        return failure(format!(
                            "Your ilert user cannot see the integration key of {}; ask an admin, or pass `integration_key`.",
                            found.name
                        ));
                    }
                }
            }
            _ => return failure("Give `source` (id or name) or `integration_key`."),
        };
        let event = Event {
            integration_key: key,
            event_type: event_type.to_owned(),
            summary: p.summary.clone(),
            details: p.details.clone(),
            alert_key: p.alert_key.clone(),
            priority: p.priority.clone(),
            comments: p
                .comment
                .iter()
                .map(|c| EventComment {
                    creator: "ilert-mcp".into(),
                    content: c.clone(),
                })
                .collect(),
            labels: p.labels.clone(),
        };
        confirm!(
            ext,
            previews::event(
                &api,
                found.as_ref(),
                event_type,
                &p.summary,
                p.alert_key.as_deref()
            )
        );
        let source = found.map(|f| Ref {
            id: f.id,
            name: Some(untrusted::inline_owned(f.name)),
        });
        let receipt = match api.send_event(&event).await {
            Ok(receipt) => receipt,
            Err(ilert_client::ApiError::NotFound { .. }) => {
                return failure(
                    "No alert source has that integration key. Check it, or pass `source` (list_alert_sources shows them).",
                );
            }
            Err(e) => return failure(crate::rules::explain(&e, "the event")),
        };
        let alert_id = receipt.alert_id();
        let out = SendEventOutput {
            accepted: true,
            event_type: event_type.into(),
            alert_id,
            alert_key: receipt
                .alert_key
                .clone()
                .filter(|k| !k.is_empty())
                .or(p.alert_key),
            alert_url: alert_id
                .map(|id| render::alert_url(&self.app_url, id))
                .or_else(|| receipt.alert_url.clone().filter(|u| !u.is_empty())),
            response_code: receipt.response_code.clone().filter(|c| !c.is_empty()),
            source,
        };
        structured(&out, send_event_text(&out))
    }
}

/// The answer's sentence: what ilert did with the event, which alert, and for ALERT who is paged.
fn send_event_text(out: &SendEventOutput) -> String {
    let alert = match (out.alert_id, &out.alert_key) {
        (Some(id), Some(key)) => format!(" alert #{id} (key {key})"),
        (Some(id), None) => format!(" alert #{id}"),
        (None, Some(key)) => format!(" alert key {key}"),
        (None, None) => String::new(),
    };
    let mut text = format!("ilert accepted the {} event", out.event_type);
    if !alert.is_empty() {
        text.push_str(" for");
        text.push_str(&alert);
    }
    if let Some(code) = &out.response_code {
        text.push_str(&format!(" ({code})"));
    }
    text.push('.');
    if let Some(url) = &out.alert_url {
        text.push_str(&format!(" {url}"));
    }
    match (out.event_type.as_str(), out.response_code.as_deref()) {
        ("ALERT", Some("NEW_ALERT_CREATED") | None) => text.push_str(
            " An ALERT pages the on-call of the source's escalation policy; get_alert shows who.",
        ),
        (_, Some("NO_OPEN_ALERT")) => {
            text.push_str(" No open alert has that key, so nothing changed.")
        }
        (_, Some("SOURCE_IN_MAINTENANCE" | "SOURCE_INACTIVE")) => text.push_str(
            " The source is in maintenance or disabled, so no alert was raised and nobody is paged.",
        ),
        _ => {}
    }
    if out.alert_id.is_none() && out.response_code.is_none() {
        text.push_str(" ilert processes events asynchronously; list_alerts shows the result.");
    }
    text
}
