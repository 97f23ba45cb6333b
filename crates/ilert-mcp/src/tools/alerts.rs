//! Alerts toolset: `list_alerts`, `get_alert`, `accept_alerts`, `resolve_alerts`
//! (`GET /alerts`, `GET /alerts/{id}`, `PUT /alerts/{id}/accept`, `PUT /alerts/{id}/resolve`).

use std::fmt::Write as _;

use futures::StreamExt;
use ilert_client::{AlertInclude, AlertQuery, AlertStatus, ApiError, Session};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::confirm::confirm;
use crate::rules::details::{ActionRef, AlertDetail, alert_detail, detail_text};
use crate::rules::names::{self, Kind};
use crate::rules::previews;
use crate::rules::render::{self, AlertItem};
use crate::rules::toolbox::Toolbox;
use crate::rules::untrusted;
use crate::rules::{
    args, check, explain, failure, input_schema, output_schema, session, structured,
    structured_value, times,
};

const DEFAULT_LIMIT: u32 = 25;
/// ilert's own page cap for `GET /alerts`.
const MAX_LIMIT: u32 = 100;
/// Most ids one bulk call takes; more is refused with a clear message, never silently cut.
pub const MAX_BULK_IDS: usize = 50;
/// Parallel upstream calls per bulk request: fast, and gentle on the 120-a-minute budget.
const BULK_CONCURRENCY: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertState {
    Pending,
    Accepted,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Priority {
    High,
    Low,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAlertsParams {
    /// PENDING, ACCEPTED, RESOLVED. Default PENDING and ACCEPTED (open).
    #[serde(default, deserialize_with = "args::any_case")]
    pub states: Option<Vec<AlertState>>,
    /// Alert sources: ids or names.
    #[serde(default, alias = "source_ids", deserialize_with = "args::opt_names")]
    pub sources: Option<Vec<String>>,
    /// Escalation policies: ids or names.
    #[serde(default, alias = "policy_ids", deserialize_with = "args::opt_names")]
    pub policies: Option<Vec<String>>,
    /// Responders: ids, names, e-mails or "me".
    #[serde(default, alias = "responder_ids", deserialize_with = "args::opt_names")]
    pub responders: Option<Vec<String>>,
    #[serde(default, deserialize_with = "args::any_case")]
    pub priority: Option<Priority>,
    /// 1 (critical) to 5.
    #[serde(default, deserialize_with = "args::opt_ids")]
    pub severity: Option<Vec<i64>>,
    /// Raised over N hours ago (with [PENDING]: unaccepted that long).
    #[serde(default)]
    pub older_than_hours: Option<f64>,
    /// Reported at or after, e.g. "24h ago".
    #[serde(default)]
    pub from: Option<String>,
    /// Reported before.
    #[serde(default)]
    pub until: Option<String>,
    /// Reported, accepted or resolved at or after, e.g. "24h ago"; scans the 500 newest alerts
    /// (5 requests).
    #[serde(default)]
    pub changed_since: Option<String>,
    /// IANA zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    /// 1 to 100. Default 25.
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// From `next_cursor`.
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
    /// The report-time window used, when `from` or `until` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetAlertParams {
    /// Alert id, e.g. 4711.
    #[serde(deserialize_with = "args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// Follow as a task until someone accepts, minutes (max 240).
    #[serde(default)]
    #[allow(dead_code)] // read by the follow-through stage (calls/follow.rs), not the tool
    pub watch_minutes: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertIdsParams {
    /// Alert ids, e.g. [4711, 4712].
    #[serde(deserialize_with = "args::ids")]
    #[schemars(with = "Vec<i64>", length(min = 1, max = 50))]
    pub ids: Vec<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveParams {
    /// Alert ids, e.g. [4711, 4712].
    #[serde(deserialize_with = "args::ids")]
    #[schemars(with = "Vec<i64>", length(min = 1, max = 50))]
    pub ids: Vec<i64>,
    /// Why or how it was fixed; goes on each alert's timeline.
    #[serde(default)]
    pub note: Option<String>,
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
impl Toolbox {
    /// List alerts, newest first; default open ones (PENDING: nobody accepted yet; ACCEPTED).
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
        let tz = check!(times::zone(p.timezone.as_deref()));
        let mut query = check!(alert_query(&p, tz));
        let mut resolved = Vec::new();
        for (names, kind, ids) in [
            (&p.sources, Kind::Source, &mut query.sources),
            (&p.policies, Kind::Policy, &mut query.policies),
            (&p.responders, Kind::User, &mut query.responders),
        ] {
            for name in names.iter().flatten() {
                let n = check!(self.refs.resolve(&api, kind, name).await);
                resolved.extend(names::note(kind, name, &n));
                ids.push(n.id);
            }
        }
        let changed_since = match p.changed_since.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Some(check!(times::parse("changed_since", raw, tz))),
            _ => None,
        };
        let filter = RowFilter {
            priority: p.priority.map(|p| match p {
                Priority::High => "HIGH",
                Priority::Low => "LOW",
            }),
            severity: p.severity.clone(),
            changed_since,
        };
        let limit = query.max_results.saturating_sub(1).max(1) as usize;
        let (mut items, has_more, next_index) =
            check!(fetch_rows(&api, &mut query, &filter, limit).await);
        if tz != chrono_tz::Tz::UTC {
            for item in &mut items {
                item.reported_at = times::show_raw(item.reported_at.as_deref(), tz);
                item.resolved_at = times::show_raw(item.resolved_at.as_deref(), tz);
            }
        }
        let next_cursor = has_more.then(|| next_index.to_string());
        let mut text = list_text(&items, &query, next_cursor.as_deref());
        let window = (query.from.is_some() || query.until.is_some()).then(|| {
            let at = |t: &Option<String>| {
                t.as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&chrono::Utc))
            };
            times::window(at(&query.from), at(&query.until), tz)
        });
        if let Some(window) = &window {
            text.push_str(&format!("\nReported {window}."));
        }
        if let Some(since) = changed_since {
            text.push_str(&format!(
                "\nReported, accepted or resolved {}.",
                times::window(Some(since), None, tz)
            ));
        }
        if !resolved.is_empty() {
            text.push_str(&format!("\nNames: {}.", resolved.join("; ")));
        }
        // `ListAlertsOutput` as JSON, moving the items in rather than serialising copies.
        let mut out = serde_json::Map::new();
        let alerts = items.into_iter().map(serde_json::Value::from).collect();
        out.insert("alerts".into(), serde_json::Value::Array(alerts));
        out.insert("has_more".into(), has_more.into());
        if let Some(cursor) = next_cursor {
            out.insert("next_cursor".into(), cursor.into());
        }
        if let Some(window) = window {
            out.insert("window".into(), window.into());
        }
        structured_value(serde_json::Value::Object(out), text)
    }

    /// One alert in full: whether anyone was reached, details, links, responders, next escalation,
    /// timeline, actions.
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
        let (alert, log, actions, notifications) = tokio::join!(
            api.get_alert(p.id, &[AlertInclude::NextEscalationUser]),
            api.alert_log_entries(p.id, 100),
            api.alert_actions(p.id),
            api.alert_notifications(p.id)
        );
        let alert = match alert {
            Ok(alert) => alert,
            Err(e) => return failure(explain(&e, &format!("alert {}", p.id))),
        };
        let mut detail = alert_detail(&alert, &self.app_url);
        let mut notes = Vec::new();
        match notifications {
            Ok(list) => crate::rules::details::add_notifications(&mut detail, &list),
            Err(e) => notes.push(format!(
                "Whether anyone was reached is unknown: {}",
                explain(&e, "the alert's notifications")
            )),
        }
        match log {
            Ok(entries) => notes.extend(crate::rules::details::set_timeline(&mut detail, entries)),
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
                        id: untrusted::inline_owned(a.alert_action_id.clone()?),
                        name: untrusted::inline_owned(a.name.clone().unwrap_or_default()),
                        kind: a.kind.clone().filter(|k| !k.is_empty()),
                        runs: a.history.len(),
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

    /// Accept alerts as the key's owner ("I am on it"), stopping their escalation.
    #[tool(
        title = "Accept alerts",
        input_schema = input_schema::<AlertIdsParams>(),
        output_schema = output_schema::<BulkOutput>(),
        meta = crate::rules::confirm::bulk(),
        annotations(title = "Accept alerts", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn accept_alerts(
        &self,
        Parameters(p): Parameters<AlertIdsParams>,
        ext: Extensions,
    ) -> CallToolResult {
        match self.session(&ext) {
            Ok(api) => bulk(&api, &ext, p.ids, BulkAction::Accept, None).await,
            Err(e) => e,
        }
    }

    /// Resolve alerts, with an optional note; ends escalation, cannot be undone.
    #[tool(
        title = "Resolve alerts",
        input_schema = input_schema::<ResolveParams>(),
        output_schema = output_schema::<BulkOutput>(),
        meta = crate::rules::confirm::bulk(),
        annotations(title = "Resolve alerts", read_only_hint = false, destructive_hint = true,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn resolve_alerts(
        &self,
        Parameters(p): Parameters<ResolveParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let note = p.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
        let note = note.map(|n| (n, self.app_url.as_str()));
        bulk(&api, &ext, p.ids, BulkAction::Resolve, note).await
    }
}

fn alert_query(p: &ListAlertsParams, tz: chrono_tz::Tz) -> Result<AlertQuery, String> {
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(format!(
            "`limit` must be between 1 and {MAX_LIMIT}; got {limit}."
        ));
    }
    if let Some(bad) = p.severity.iter().flatten().find(|s| !(1..=5).contains(*s)) {
        return Err(format!(
            "`severity` runs from 1 (critical) to 5; got {bad}."
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
    let time = |name: &str, raw: &Option<String>| {
        raw.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|raw| times::parse(name, raw, tz))
            .transpose()
    };
    let from = time("from", &p.from)?;
    let mut until = time("until", &p.until)?;
    if let Some(hours) = p.older_than_hours {
        if !(hours.is_finite() && hours >= 0.0) {
            return Err("`older_than_hours` must be a number of hours, 0 or more.".to_owned());
        }
        let cutoff =
            crate::rules::times::now() - chrono::Duration::seconds((hours * 3600.0) as i64);
        until = Some(until.map_or(cutoff, |u| u.min(cutoff)));
    }
    Ok(AlertQuery {
        states,
        from: from.map(times::wire),
        until: until.map(times::wire),
        start_index,
        max_results: (limit + 1).min(MAX_LIMIT),
        ..Default::default()
    })
}

/// Filters ilert's alert list does not take, applied to its rows.
struct RowFilter {
    priority: Option<&'static str>,
    severity: Option<Vec<i64>>,
    /// Only alerts reported, accepted (by any responder) or resolved at or after this.
    changed_since: Option<chrono::DateTime<chrono::Utc>>,
}

impl RowFilter {
    fn active(&self) -> bool {
        self.priority.is_some() || self.severity.is_some() || self.changed_since.is_some()
    }

    fn keeps(&self, a: &ilert_client::AlertSummary<'_>) -> bool {
        self.priority
            .is_none_or(|p| a.priority.as_deref() == Some(p))
            && self
                .severity
                .as_ref()
                .is_none_or(|s| a.severity.is_some_and(|v| s.contains(&v)))
            && self.changed_since.is_none_or(|since| {
                let at = |raw: Option<&str>| {
                    raw.and_then(|r| chrono::DateTime::parse_from_rfc3339(r).ok())
                        .is_some_and(|t| t >= since)
                };
                at(a.report_time.as_deref())
                    || at(a.resolved_on.as_deref())
                    || a.responders.iter().any(|r| at(r.accepted_at.as_deref()))
            })
    }
}

/// Pages through ilert's list until `limit` rows pass `filter` (5 pages at most when filtering):
/// the rows, whether more match, and the index to continue from.
async fn fetch_rows(
    api: &Session,
    query: &mut AlertQuery,
    filter: &RowFilter,
    limit: usize,
) -> Result<(Vec<AlertItem>, bool, u32), String> {
    if !filter.active() {
        let page = api
            .list_alert_page(query)
            .await
            .map_err(|e| explain(&e, "the alert list"))?;
        let mut alerts = page
            .summaries()
            .map_err(|e| explain(&e, "the alert list"))?;
        // One extra row was asked for to learn whether more exist (unless at ilert's page cap).
        let has_more =
            alerts.len() > limit || (query.max_results == MAX_LIMIT && alerts.len() == 100);
        alerts.truncate(limit);
        // A list leaves out each alert's app link (get_alert has it): 50 links are 2 KB.
        let items: Vec<AlertItem> = alerts
            .into_iter()
            .map(|a| render::alert_item(a, None))
            .collect();
        let next = query.start_index + items.len() as u32;
        return Ok((items, has_more, next));
    }
    query.max_results = MAX_LIMIT;
    let mut items = Vec::new();
    for _ in 0..5 {
        let page = api
            .list_alert_page(query)
            .await
            .map_err(|e| explain(&e, "the alert list"))?;
        let alerts = page
            .summaries()
            .map_err(|e| explain(&e, "the alert list"))?;
        let full = alerts.len() == MAX_LIMIT as usize;
        for (i, a) in alerts.into_iter().enumerate() {
            if !filter.keeps(&a) {
                continue;
            }
            if items.len() == limit {
                return Ok((items, true, query.start_index + i as u32));
            }
            items.push(render::alert_item(a, None));
        }
        query.start_index += MAX_LIMIT;
        if !full {
            return Ok((items, false, query.start_index));
        }
    }
    Ok((items, true, query.start_index))
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
    // With more to come, the count is this page's, not how many match.
    let page = if next_cursor.is_some() {
        " on this page (more match: see the end)"
    } else {
        ""
    };
    let _ = writeln!(text, "{} {what} alert(s){page}, newest first:", items.len());
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

/// Accepts or resolves `ids` after the confirmation checkpoint; `note` (text, app URL) goes on
/// each alert first, as ilert attaches comments to open alerts only.
async fn bulk(
    api: &Session,
    ext: &Extensions,
    ids: Vec<i64>,
    action: BulkAction,
    note: Option<(&str, &str)>,
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
    let notes = match note {
        Some((note, app_url)) => add_notes(api, &unique, note, app_url).await,
        None => Vec::new(),
    };
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
                "\n#{} {status} {}",
                r.id,
                untrusted::quoted(r.summary.as_deref().unwrap_or(""))
            )),
            (None, None) => {}
        }
    }
    for line in notes {
        text.push('\n');
        text.push_str(&line);
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

/// The note on each alert to be resolved, one line per alert saying whether it went on.
async fn add_notes(api: &Session, ids: &[i64], note: &str, app_url: &str) -> Vec<String> {
    let mut lines = Vec::with_capacity(ids.len());
    for &id in ids {
        let outcome = match api.get_alert(id, &[]).await {
            Ok(alert) if alert.status == Some(AlertStatus::Resolved) => {
                Err("it was already resolved".to_owned())
            }
            Ok(alert) => crate::tools::alert_work::add_comment(api, &alert, note, app_url)
                .await
                .map(|_| ()),
            Err(e) => Err(explain(&e, &format!("alert {id}"))),
        };
        lines.push(match outcome {
            Ok(()) => format!("Note added to #{id}."),
            Err(why) => format!("Note not added to #{id}: {why}"),
        });
    }
    lines
}

fn bulk_item(id: i64, outcome: Result<ilert_client::Alert, ApiError>) -> BulkItem {
    match outcome {
        Ok(alert) => BulkItem {
            id,
            ok: true,
            status: alert.status.as_ref().map(|s| s.as_str().to_owned()),
            summary: alert.summary.map(untrusted::inline_owned),
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
