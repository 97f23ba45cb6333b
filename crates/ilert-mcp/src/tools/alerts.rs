//! Alerts toolset: `list_alerts`, `get_alert`, `accept_alerts`, `resolve_alerts`
//! (`GET /alerts`, `GET /alerts/{id}`, `PUT /alerts/{id}/accept`, `PUT /alerts/{id}/resolve`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use futures::StreamExt;
use ilert_client::{AlertInclude, AlertQuery, AlertStatus, ApiError, Session};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::server::IlertMcp;
use crate::tools::confirm::confirm;
use crate::tools::previews;
use crate::tools::render::{self, AlertItem, Ref};
use crate::tools::{
    args, explain, failure, input_schema, output_schema, session, structured, structured_value,
};

const DEFAULT_LIMIT: u32 = 25;
/// ilert's own page cap for `GET /alerts`.
const MAX_LIMIT: u32 = 100;
/// Most ids one bulk call takes; more is refused with a clear message, never silently cut.
pub const MAX_BULK_IDS: usize = 50;
/// Parallel upstream calls per bulk request: fast, and gentle on the 120-a-minute budget.
const BULK_CONCURRENCY: usize = 4;

/// An alert state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertState {
    #[serde(alias = "pending")]
    Pending,
    #[serde(alias = "accepted")]
    Accepted,
    #[serde(alias = "resolved")]
    Resolved,
}

impl From<AlertState> for AlertStatus {
    fn from(s: AlertState) -> Self {
        match s {
            AlertState::Pending => AlertStatus::Pending,
            AlertState::Accepted => AlertStatus::Accepted,
            AlertState::Resolved => AlertStatus::Resolved,
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAlertsParams {
    /// States to include. Default: PENDING and ACCEPTED, i.e. open alerts. Add RESOLVED for history.
    #[serde(default)]
    pub states: Option<Vec<AlertState>>,
    /// Only alerts from these alert source ids.
    #[serde(default, deserialize_with = "args::opt_ids")]
    pub source_ids: Option<Vec<i64>>,
    /// Only alerts routed by these escalation policy ids.
    #[serde(default, deserialize_with = "args::opt_ids")]
    pub policy_ids: Option<Vec<i64>>,
    /// Only alerts where these user ids are responders.
    #[serde(default, deserialize_with = "args::opt_ids")]
    pub responder_ids: Option<Vec<i64>>,
    /// Only alerts reported at or after this time (ISO-8601, e.g. 2026-11-23T08:00:00Z).
    #[serde(default)]
    pub from: Option<String>,
    /// Only alerts reported before this time (ISO-8601).
    #[serde(default)]
    pub until: Option<String>,
    /// Alerts per page, 1 to 100. Default 25.
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from a previous answer, to get the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListAlertsOutput {
    /// Newest first.
    pub alerts: Vec<AlertItem>,
    /// True when more alerts match than were returned; pass `next_cursor` to get them.
    pub has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetAlertParams {
    /// Alert id, e.g. 4711.
    #[serde(deserialize_with = "args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
}

/// One alert in full: what it is, who works on it, where escalation goes next.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub item: AlertItem,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// True when `details` was cut to 2,000 characters.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub details_truncated: bool,
    /// The de-duplication key events use to update this alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_key: Option<String>,
    /// When escalation moves to the next level if nobody accepts (open alerts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_escalation_at: Option<String>,
    /// Who is notified at the next escalation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_escalation_user: Option<Ref>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_incident_id: Option<i64>,
    /// Latest timeline entries (notifications, escalations, comments), oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
    /// Actions run_alert_action can run on this alert.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionRef>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TimelineEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub text: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ActionRef {
    pub id: String,
    pub name: String,
}

/// Timeline entries kept in get_alert's answer; the rest are counted, not dropped silently.
const TIMELINE_ENTRIES: usize = 15;

#[derive(Debug, Serialize, JsonSchema)]
pub struct LinkOut {
    pub href: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertIdsParams {
    /// Alert ids, one or several (at most 50), e.g. [4711, 4712].
    #[serde(deserialize_with = "args::ids")]
    #[schemars(with = "Vec<i64>", length(min = 1, max = 50))]
    pub ids: Vec<i64>,
}

/// Per-alert outcome of a bulk action, in the order the ids were given.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BulkOutput {
    pub results: Vec<BulkItem>,
    pub succeeded: usize,
    pub failed: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BulkItem {
    pub id: i64,
    pub ok: bool,
    /// The alert's state after the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Why this alert failed, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Copy)]
enum BulkAction {
    Accept,
    Resolve,
}

#[tool_router(router = alerts_router, vis = "pub(crate)")]
impl IlertMcp {
    /// List alerts, newest first: by default the open ones (PENDING = firing and not yet accepted,
    /// ACCEPTED = someone is on it). Filter by state, source, escalation policy, responder and
    /// report time. Each alert comes with id, summary, status, priority, severity, source, report
    /// time and responders; get_alert adds details, escalation policy, timeline and the ilert link.
    /// Answers "what is firing?" and "what is assigned to X?".
    #[tool(
        title = "List alerts",
        input_schema = input_schema::<ListAlertsParams>(),
        output_schema = output_schema::<ListAlertsOutput>(),
        annotations(title = "List alerts", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_alerts(
        &self,
        Parameters(p): Parameters<ListAlertsParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let query = match alert_query(&p) {
            Ok(q) => q,
            Err(message) => return failure(message),
        };
        let limit = query.max_results.saturating_sub(1).max(1);
        let page = match api.list_alert_page(&query).await {
            Ok(page) => page,
            Err(e) => return failure(explain(&e, "the alert list")),
        };
        let mut alerts = match page.summaries() {
            Ok(alerts) => alerts,
            Err(e) => return failure(explain(&e, "the alert list")),
        };
        // One extra row was asked for to learn whether more exist (unless at ilert's page cap).
        let has_more = alerts.len() > limit as usize
            || (query.max_results == MAX_LIMIT && alerts.len() == 100);
        alerts.truncate(limit as usize);
        // A list leaves out each alert's app link (get_alert has it): 50 links are 2 KB of context.
        let items: Vec<AlertItem> = alerts
            .into_iter()
            .map(|a| render::alert_item(a, None))
            .collect();
        let next_cursor = has_more.then(|| (query.start_index + items.len() as u32).to_string());
        let text = list_text(&items, &query, next_cursor.as_deref());
        // `ListAlertsOutput` as JSON, moving the items in rather than serialising copies.
        let mut out = serde_json::Map::new();
        let alerts = items.into_iter().map(serde_json::Value::from).collect();
        out.insert("alerts".into(), serde_json::Value::Array(alerts));
        out.insert("has_more".into(), has_more.into());
        if let Some(cursor) = next_cursor {
            out.insert("next_cursor".into(), cursor.into());
        }
        structured_value(serde_json::Value::Object(out), text)
    }

    /// Get one alert in full: details, labels, links, responders and their state, where
    /// escalation goes next, the latest timeline entries and the actions that can be run on it.
    #[tool(
        title = "Get alert",
        input_schema = input_schema::<GetAlertParams>(),
        output_schema = output_schema::<AlertDetail>(),
        annotations(title = "Get alert", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_alert(
        &self,
        Parameters(p): Parameters<GetAlertParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let (alert, log, actions) = tokio::join!(
            api.get_alert(p.id, &[AlertInclude::NextEscalationUser]),
            api.alert_log_entries(p.id, 100),
            api.alert_actions(p.id)
        );
        let alert = match alert {
            Ok(alert) => alert,
            Err(e) => return failure(explain(&e, &format!("alert {}", p.id))),
        };
        let mut detail = alert_detail(&alert, &self.shared.app_url);
        let mut notes = Vec::new();
        match log {
            Ok(mut entries) => {
                // ilert's order is not documented: sort oldest first (ISO-8601 UTC sorts as text,
                // and the id breaks ties), then keep the latest.
                entries.sort_by(|a, b| {
                    (a.timestamp.as_deref(), a.id).cmp(&(b.timestamp.as_deref(), b.id))
                });
                let skipped = entries.len().saturating_sub(TIMELINE_ENTRIES);
                if skipped > 0 {
                    notes.push(format!("{skipped} earlier timeline entries not shown."));
                }
                detail.timeline = entries
                    .iter()
                    .skip(skipped)
                    .map(|e| TimelineEntry {
                        at: render::time(e.timestamp.as_deref()),
                        text: e
                            .text
                            .clone()
                            .or_else(|| e.log_entry_type.clone())
                            .unwrap_or_default(),
                    })
                    .collect();
            }
            Err(e) => notes.push(format!(
                "Timeline unavailable: {}",
                explain(&e, "the alert timeline")
            )),
        }
        if let Ok(actions) = actions {
            detail.actions = actions
                .iter()
                .filter_map(|a| {
                    Some(ActionRef {
                        id: a.alert_action_id.clone()?,
                        name: a.name.clone().unwrap_or_default(),
                    })
                })
                .collect();
        }
        let mut text = detail_text(&detail);
        for note in notes {
            text.push_str(&format!("\n{note}"));
        }
        structured(&detail, text)
    }

    /// Accept one or several alerts as the key's owner: says "I am on it" and stops their
    /// escalation. Reports the outcome per alert; accepting an already accepted alert is harmless.
    #[tool(
        title = "Accept alerts",
        input_schema = input_schema::<AlertIdsParams>(),
        output_schema = output_schema::<BulkOutput>(),
        meta = crate::tools::confirm::bulk(),
        annotations(title = "Accept alerts", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn accept_alerts(
        &self,
        Parameters(p): Parameters<AlertIdsParams>,
        ext: Extensions,
    ) -> CallToolResult {
        match self.session(&ext) {
            Ok(api) => bulk(&api, &ext, p.ids, BulkAction::Accept).await,
            Err(e) => e,
        }
    }

    /// Resolve one or several alerts: marks them fixed and ends their escalation. A resolved alert
    /// cannot be reopened. Reports the outcome per alert.
    #[tool(
        title = "Resolve alerts",
        input_schema = input_schema::<AlertIdsParams>(),
        output_schema = output_schema::<BulkOutput>(),
        meta = crate::tools::confirm::bulk(),
        annotations(title = "Resolve alerts", read_only_hint = false, destructive_hint = true,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn resolve_alerts(
        &self,
        Parameters(p): Parameters<AlertIdsParams>,
        ext: Extensions,
    ) -> CallToolResult {
        match self.session(&ext) {
            Ok(api) => bulk(&api, &ext, p.ids, BulkAction::Resolve).await,
            Err(e) => e,
        }
    }
}

fn alert_query(p: &ListAlertsParams) -> Result<AlertQuery, String> {
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(format!(
            "`limit` must be between 1 and {MAX_LIMIT}; got {limit}."
        ));
    }
    let start_index = match p.cursor.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(c) => c.parse::<u32>().map_err(|_| {
            format!(
                "`cursor` {c:?} is not one this server issued; pass `next_cursor` from the previous answer unchanged."
            )
        })?,
    };
    let states = match &p.states {
        Some(states) if !states.is_empty() => {
            states.iter().copied().map(AlertStatus::from).collect()
        }
        _ => vec![AlertStatus::Pending, AlertStatus::Accepted],
    };
    Ok(AlertQuery {
        states,
        sources: p.source_ids.clone().unwrap_or_default(),
        policies: p.policy_ids.clone().unwrap_or_default(),
        responders: p.responder_ids.clone().unwrap_or_default(),
        from: iso_time("from", p.from.as_deref())?,
        until: iso_time("until", p.until.as_deref())?,
        start_index,
        max_results: (limit + 1).min(MAX_LIMIT),
        include_next_escalation_user: false,
    })
}

fn iso_time(name: &str, raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .map_err(|_| format!("`{name}` must be an ISO-8601 time with offset, e.g. 2026-11-23T08:00:00Z; got {raw:?}."))
}

fn list_text(items: &[AlertItem], query: &AlertQuery, next_cursor: Option<&str>) -> String {
    let states: Vec<&str> = query.states.iter().map(AlertStatus::as_str).collect();
    let what = if states == ["PENDING", "ACCEPTED"] {
        "open (PENDING or ACCEPTED)".to_owned()
    } else {
        states.join("/")
    };
    if items.is_empty() {
        return format!("No {what} alerts match.");
    }
    let mut text = String::with_capacity(64 + 200 * items.len());
    let _ = writeln!(text, "{} {what} alert(s), newest first:", items.len());
    for item in items {
        render::push_alert_line(&mut text, item);
        text.push('\n');
    }
    match next_cursor {
        Some(cursor) => {
            let _ = write!(
                text,
                "More alerts match: call list_alerts again with cursor \"{cursor}\"."
            );
        }
        None => {
            text.pop();
        }
    }
    text
}

pub(crate) fn alert_detail(alert: &ilert_client::Alert, app_url: &str) -> AlertDetail {
    let (details, details_truncated) =
        match alert.details.as_deref().filter(|d| !d.trim().is_empty()) {
            Some(d) => {
                let (text, cut) = render::clip(d, render::MAX_DETAILS_CHARS);
                (Some(text), cut)
            }
            None => (None, false),
        };
    let open = alert
        .status
        .as_ref()
        .is_some_and(|s| *s != AlertStatus::Resolved);
    AlertDetail {
        item: render::alert_item(alert.into(), Some(app_url)),
        details,
        details_truncated,
        alert_key: alert.alert_key.clone().filter(|k| !k.is_empty()),
        next_escalation_at: render::time(alert.next_escalation.as_deref()).filter(|_| open),
        next_escalation_user: alert
            .next_escalation_user
            .as_ref()
            .filter(|_| open)
            .map(|u| Ref {
                id: u.id,
                name: Some(u.display_name()),
            }),
        labels: alert.labels.clone().unwrap_or_default(),
        timeline: Vec::new(),
        actions: Vec::new(),
        links: alert
            .links
            .iter()
            .filter_map(|l| {
                Some(LinkOut {
                    href: l.href.clone()?,
                    text: l.text.clone(),
                })
            })
            .collect(),
        linked_incident_id: alert.linked_incident_id,
    }
}

pub(crate) fn detail_text(d: &AlertDetail) -> String {
    let mut text = render::alert_line(&d.item);
    if let (Some(at), Some(user)) = (&d.next_escalation_at, &d.next_escalation_user) {
        text.push_str(&format!(
            "\nNext escalation: {} at {at}",
            user.name.as_deref().unwrap_or("?")
        ));
    }
    if let Some(details) = &d.details {
        text.push_str(&format!("\nDetails: {details}"));
    }
    if !d.labels.is_empty() {
        let labels: Vec<String> = d.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        text.push_str(&format!("\nLabels: {}", labels.join(", ")));
    }
    for link in &d.links {
        text.push_str(&format!(
            "\nLink: {} {}",
            link.text.as_deref().unwrap_or(""),
            link.href
        ));
    }
    if !d.timeline.is_empty() {
        text.push_str("\nTimeline:");
        for e in &d.timeline {
            text.push_str(&format!(
                "\n  {} {}",
                e.at.as_deref().unwrap_or("?"),
                e.text
            ));
        }
    }
    if !d.actions.is_empty() {
        let names: Vec<&str> = d.actions.iter().map(|a| a.name.as_str()).collect();
        text.push_str(&format!("\nActions: {}", names.join(", ")));
    }
    text.push_str(&format!("\n{}", d.item.url.as_deref().unwrap_or_default()));
    text
}

async fn bulk(
    api: &Session,
    ext: &Extensions,
    ids: Vec<i64>,
    action: BulkAction,
) -> CallToolResult {
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    if unique.is_empty() {
        return failure("`ids` is empty: give at least one alert id.");
    }
    if unique.len() > MAX_BULK_IDS {
        return failure(format!(
            "`ids` has {} alerts; at most {MAX_BULK_IDS} are handled per call. Split the list and call again.",
            unique.len()
        ));
    }
    let (verb, doing) = match action {
        BulkAction::Accept => ("Accepted", "Accept"),
        BulkAction::Resolve => ("Resolved", "Resolve"),
    };
    confirm!(
        ext,
        count = unique.len(),
        previews::alerts(api, &unique, doing)
    );
    let results: Vec<BulkItem> = futures::stream::iter(unique)
        .map(|id| async move {
            let outcome = match action {
                BulkAction::Accept => api.accept_alert(id).await,
                BulkAction::Resolve => api.resolve_alert(id).await,
            };
            bulk_item(id, outcome)
        })
        .buffered(BULK_CONCURRENCY)
        .collect()
        .await;
    let succeeded = results.iter().filter(|r| r.ok).count();
    let failed = results.len() - succeeded;
    let mut text = format!("{verb} {succeeded} of {} alert(s).", results.len());
    for r in &results {
        match (&r.error, &r.status) {
            (Some(err), _) => text.push_str(&format!("\n#{} failed: {err}", r.id)),
            (None, Some(status)) => text.push_str(&format!(
                "\n#{} {status} \"{}\"",
                r.id,
                r.summary.as_deref().unwrap_or("")
            )),
            (None, None) => {}
        }
    }
    let output = BulkOutput {
        results,
        succeeded,
        failed,
    };
    if succeeded == 0 {
        // Nothing happened: the model must not report success.
        let mut result = failure(text);
        result.structured_content = serde_json::to_value(&output).ok();
        return result;
    }
    structured(&output, text)
}

fn bulk_item(id: i64, outcome: Result<ilert_client::Alert, ApiError>) -> BulkItem {
    match outcome {
        Ok(alert) => BulkItem {
            id,
            ok: true,
            status: alert.status.as_ref().map(|s| s.as_str().to_owned()),
            summary: alert.summary,
            error: None,
        },
        Err(e) => BulkItem {
            id,
            ok: false,
            status: None,
            summary: None,
            error: Some(explain(&e, &format!("alert {id}"))),
        },
    }
}
