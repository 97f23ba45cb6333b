//! `find_similar_alerts`: have we seen this alert before, how did it end, and what did people do? The
//! grouping, pattern and noise rules live in [`crate::rules::similar`]; this tool only fetches,
//! within the budget that module states.

use std::collections::HashMap;
use std::sync::Arc;

use ilert_client::{AlertQuery, LogEntry};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::similar::{self, MAX_PAGES, MAX_TIMELINES, PAGE_SIZE, SimilarGroup};
use crate::rules::toolbox::Toolbox;
use crate::rules::{args, explain, failure, ilert, input_schema, session, structured, times};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimilarAlertsParams {
    /// Alert id, e.g. 4718.
    #[serde(deserialize_with = "args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// Days to look back, 1 to 90. Default 90.
    #[serde(default)]
    #[schemars(range(min = 1, max = 90))]
    pub days: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct SimilarAlertsOutput {
    pub alert: i64,
    pub searched: String,
    pub groups: Vec<SimilarGroup>,
}

#[tool_router(router = alert_history_router, vis = "pub(crate)")]
impl Toolbox {
    /// Seen before? Earlier alerts of its source alike (key, summary, label): how they ended,
    /// pattern, noise guess, comments; ids cited. At most 10 ilert requests.
    #[tool(
        title = "Similar past alerts",
        input_schema = input_schema::<SimilarAlertsParams>(),
        annotations(title = "Similar past alerts", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn find_similar_alerts(
        &self,
        Parameters(p): Parameters<SimilarAlertsParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let days = p.days.unwrap_or(similar::WINDOW_DAYS);
        if !(1..=similar::WINDOW_DAYS).contains(&days) {
            return failure(format!(
                "`days` must be 1 to {}; got {days}.",
                similar::WINDOW_DAYS
            ));
        }
        let alert = ilert!(api.get_alert(p.id, &[]), format!("alert {}", p.id));
        let Some(source) = alert.alert_source.as_ref().map(|s| s.id) else {
            return failure(format!(
                "Alert {} names no alert source, so there is nothing to compare it with.",
                p.id
            ));
        };
        let now = times::now();
        let who = similar::caller(api.key().expose());
        // The source's alerts in the window: as read within the last minute, else up to 3 pages.
        let memory_key = source * 100 + days;
        let (window, complete) = match self.memory.list(who, memory_key) {
            Some(window) => (window, true),
            None => {
                let since = now - chrono::Duration::days(days);
                let mut alerts = Vec::new();
                let mut complete = false;
                for page in 0..MAX_PAGES {
                    let query = AlertQuery {
                        sources: vec![source],
                        from: Some(times::wire(since)),
                        until: Some(times::wire(now)),
                        start_index: page * PAGE_SIZE,
                        max_results: PAGE_SIZE,
                        ..Default::default()
                    };
                    let rows = ilert!(api.list_alerts(&query), "the source's past alerts");
                    let last = (rows.len() as u32) < PAGE_SIZE;
                    alerts.extend(rows);
                    if last {
                        complete = true;
                        break;
                    }
                }
                let window = Arc::new(similar::Window { since, alerts });
                if complete {
                    self.memory.keep_list(who, memory_key, window.clone());
                }
                (window, complete)
            }
        };
        let candidates = &window.alerts;
        let source_name = alert
            .alert_source
            .as_ref()
            .and_then(|s| s.name.clone())
            .unwrap_or_else(|| format!("source {source}"));
        let mut searched = format!(
            "the {} alerts of source {} reported in the last {days} days (since {})",
            candidates.len(),
            crate::rules::untrusted::quoted(&source_name),
            times::wire(window.since)
        );
        if !complete {
            searched.push_str(&format!(
                "; only the newest {} were read, older ones were not compared",
                candidates.len()
            ));
        }
        let groups = similar::group(&alert, candidates);
        // Timelines: within the budget, strongest group first.
        let mut timelines: HashMap<i64, Arc<Vec<LogEntry>>> = HashMap::new();
        let mut fetched = 0;
        let mut unread = Vec::new();
        let share = similar::timeline_share(groups.len());
        for (_, members) in &groups {
            for id in similar::timelines_to_read(members, share) {
                if let Some(kept) = self.memory.timeline(who, id) {
                    timelines.insert(id, kept);
                    continue;
                }
                if fetched >= MAX_TIMELINES {
                    break;
                }
                fetched += 1;
                match api.alert_log_entries(id, 100).await {
                    Ok(entries) => {
                        let entries = Arc::new(entries);
                        let resolved = members.iter().any(|a| {
                            a.id == id && a.status == Some(ilert_client::AlertStatus::Resolved)
                        });
                        if resolved {
                            self.memory.keep_timeline(who, id, entries.clone());
                        }
                        timelines.insert(id, entries);
                    }
                    Err(e) => unread.push(explain(&e, &format!("the timeline of alert {id}"))),
                }
            }
        }
        let described: Vec<SimilarGroup> = groups
            .iter()
            .map(|(why, members)| similar::describe(&alert, why, members, &timelines))
            .collect();
        let mut text = similar::text(&alert, &searched, &described);
        for u in unread {
            text.push_str(&format!("\nNot read: {u}"));
        }
        structured(
            &SimilarAlertsOutput {
                alert: alert.id,
                searched,
                groups: described,
            },
            text,
        )
    }
}
