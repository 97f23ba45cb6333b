//! Overview toolset: `get_overview`, one call for "what is going on": open alerts by state and
//! priority, the caller's own, ongoing incidents, and who is on call now.

use ilert_client::{AlertQuery, AlertStatus, IncidentQuery, OnCallQuery, Page};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::details::{self, IncidentOut, incident_out};
use crate::rules::render::{self, AlertItem, Ref};
use crate::rules::times::{self, show_raw, zone};
use crate::rules::toolbox::Toolbox;
use crate::rules::untrusted;
use crate::rules::{check, explain, failure, input_schema, output_schema, session, structured};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverviewParams {
    /// IANA zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OverviewOutput {
    /// The current time, in `timezone`.
    pub now: String,
    pub you: Ref,
    pub open_alerts: AlertCounts,
    /// Up to 10 open alerts, most urgent first: priority, severity, yours, linked to an ongoing
    /// incident (its source reports on an affected service or its team owns one), then oldest.
    pub top_alerts: Vec<AlertItem>,
    /// Ids of top alerts that are yours.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub yours: Vec<i64>,
    /// Top alerts maybe in an ongoing incident (same service/team); a guess.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incident_linked: Vec<i64>,
    pub ongoing_incidents: Vec<IncidentOut>,
    /// Level-1 on-call per escalation policy, now.
    pub on_call_now: Vec<OnCallNow>,
    /// Top PENDING alerts whose notifications reached nobody, and how: in the text only, to keep
    /// the schema in the tools/list budget.
    #[serde(skip)]
    #[schemars(skip)]
    pub unreached: std::collections::HashMap<i64, String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AlertCounts {
    pub pending: usize,
    pub accepted: usize,
    pub high_priority: usize,
    /// Open alerts where you are a responder.
    pub yours: usize,
    /// True when there are more than 100 open alerts and the counts are lower bounds.
    pub at_least: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OnCallNow {
    pub policy: String,
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

const TOP: usize = 10;

#[tool_router(router = overview_router, vis = "pub(crate)")]
impl Toolbox {
    /// What is going on now: open alerts by state and priority, yours, the most urgent, ongoing
    /// incidents, who is on call. Start here.
    #[tool(
        title = "Get overview",
        input_schema = input_schema::<OverviewParams>(),
        output_schema = output_schema::<OverviewOutput>(),
        annotations(title = "Get overview", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_overview(
        &self,
        Parameters(p): Parameters<OverviewParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let tz = check!(zone(p.timezone.as_deref()));
        let alerts_q = AlertQuery {
            states: vec![AlertStatus::Pending, AlertStatus::Accepted],
            max_results: 100,
            ..Default::default()
        };
        let incidents_q = IncidentQuery {
            states: ["INVESTIGATING", "IDENTIFIED", "MONITORING"]
                .map(String::from)
                .to_vec(),
            page: Page::new(0, 25),
            ..Default::default()
        };
        let on_call_q = OnCallQuery {
            timezone: Some(tz.name().to_owned()),
            ..Default::default()
        };
        let (me, alerts, incidents, on_calls, sources) = tokio::join!(
            api.current_user(),
            api.list_alert_page(&alerts_q),
            api.list_incidents(&incidents_q),
            api.list_on_calls(&on_call_q),
            api.list_alert_sources(Page::new(0, 50))
        );
        let me = match me {
            Ok(me) => me,
            Err(e) => return failure(explain(&e, "your user")),
        };
        let page = match alerts {
            Ok(page) => page,
            Err(e) => return failure(explain(&e, "the alert list")),
        };
        let alerts = match page.summaries() {
            Ok(a) => a,
            Err(e) => return failure(explain(&e, "the alert list")),
        };
        let mut notes = Vec::new();
        let incidents = incidents.unwrap_or_else(|e| {
            notes.push(format!(
                "Incidents unavailable: {}",
                explain(&e, "the incident list")
            ));
            Vec::new()
        });
        let on_calls = on_calls.unwrap_or_else(|e| {
            notes.push(format!(
                "On-call unavailable: {}",
                explain(&e, "the on-call list")
            ));
            Vec::new()
        });
        let counts = AlertCounts {
            pending: alerts
                .iter()
                .filter(|a| a.status == Some(AlertStatus::Pending))
                .count(),
            accepted: alerts
                .iter()
                .filter(|a| a.status == Some(AlertStatus::Accepted))
                .count(),
            high_priority: alerts
                .iter()
                .filter(|a| a.priority.as_deref() == Some("HIGH"))
                .count(),
            yours: alerts
                .iter()
                .filter(|a| a.responders.iter().any(|r| r.user.id == me.id))
                .count(),
            at_least: alerts.len() >= 100,
        };
        // Sources linked to an ongoing incident: they report on an affected service, or belong
        // to a team that owns one.
        let hit = incidents.iter().flat_map(|i| &i.affected_services);
        let (hit_services, hit_teams): (Vec<i64>, Vec<i64>) = (
            hit.clone().map(|a| a.service.id).collect(),
            hit.flat_map(|a| a.service.teams.iter().map(|t| t.id))
                .collect(),
        );
        let linked_sources: Vec<i64> = sources
            .iter()
            .flatten()
            .filter(|s| {
                s.services.iter().any(|sv| hit_services.contains(&sv.id))
                    || s.teams.iter().any(|t| hit_teams.contains(&t.id))
            })
            .map(|s| s.id)
            .collect();
        let mut top: Vec<(AlertItem, bool, bool)> = alerts
            .into_iter()
            .map(|a| {
                let item = render::alert_item(a, Some(&self.app_url));
                let mine = item.responders.iter().any(|r| r.id == me.id);
                let linked = item
                    .source
                    .as_ref()
                    .is_some_and(|s| linked_sources.contains(&s.id));
                (item, mine, linked)
            })
            .collect();
        // What an on-call engineer looks at first. ISO-8601 UTC sorts as text: oldest first.
        top.sort_by(|(a, a_mine, a_linked), (b, b_mine, b_linked)| {
            let key = |i: &AlertItem, mine: bool, linked: bool| {
                (
                    i.priority.as_deref() != Some("HIGH"),
                    i.severity.unwrap_or(6),
                    !mine,
                    !linked,
                )
            };
            key(a, *a_mine, *a_linked)
                .cmp(&key(b, *b_mine, *b_linked))
                .then_with(|| a.reported_at.cmp(&b.reported_at))
        });
        top.truncate(TOP);
        // Whether anyone was reached, for the top alerts nobody accepted: one request each.
        let pending: Vec<i64> = top
            .iter()
            .filter(|(i, _, _)| i.status == "PENDING")
            .map(|(i, _, _)| i.id)
            .collect();
        let unreached = details::unreached_of(&api, &pending).await;
        let yours = top.iter().filter(|t| t.1).map(|t| t.0.id).collect();
        let incident_linked = top.iter().filter(|t| t.2).map(|t| t.0.id).collect();
        let top: Vec<AlertItem> = top
            .into_iter()
            .map(|(mut item, _, _)| {
                item.reported_at = show_raw(item.reported_at.as_deref(), tz);
                item.resolved_at = show_raw(item.resolved_at.as_deref(), tz);
                for r in &mut item.responders {
                    r.accepted_at = show_raw(r.accepted_at.as_deref(), tz);
                }
                item
            })
            .collect();
        let mut on_call_now: Vec<OnCallNow> = on_calls
            .iter()
            .filter(|o| o.escalation_level.is_none_or(|l| l <= 1.0))
            .filter_map(|o| {
                Some(OnCallNow {
                    policy: untrusted::inline_owned(
                        o.escalation_policy
                            .as_ref()?
                            .name
                            .clone()
                            .unwrap_or_default(),
                    ),
                    user: untrusted::inline_owned(o.user.as_ref()?.display_name()),
                    until: show_raw(o.end.as_deref(), tz),
                })
            })
            .collect();
        on_call_now.sort_by(|a, b| a.policy.cmp(&b.policy));
        let out = OverviewOutput {
            now: times::show(times::now(), tz),
            you: Ref {
                id: me.id,
                name: Some(untrusted::inline_owned(me.display_name())),
            },
            open_alerts: counts,
            top_alerts: top,
            yours,
            incident_linked,
            ongoing_incidents: incidents
                .iter()
                .map(|i| {
                    let mut out = incident_out(i, &self.app_url);
                    for t in [
                        &mut out.created_at,
                        &mut out.updated_at,
                        &mut out.resolved_at,
                    ] {
                        *t = show_raw(t.as_deref(), tz);
                    }
                    out
                })
                .collect(),
            on_call_now,
            unreached,
        };
        let mut text = overview_text(&out);
        for note in notes {
            text.push_str(&format!("\n{note}"));
        }
        structured(&out, text)
    }
}

fn overview_text(o: &OverviewOutput) -> String {
    let c = &o.open_alerts;
    let plus = if c.at_least { "+" } else { "" };
    let mut text = format!(
        "Now {}. Open alerts: {}{plus} pending, {} accepted ({} high priority, {} yours).",
        o.now, c.pending, c.accepted, c.high_priority, c.yours
    );
    if !o.top_alerts.is_empty() {
        text.push_str("\nMost urgent:");
        for a in &o.top_alerts {
            text.push_str(&format!("\n  {}", render::alert_line(a)));
            if o.yours.contains(&a.id) {
                text.push_str(" [yours]");
            }
            if let Some(how) = o.unreached.get(&a.id) {
                text.push_str(&format!(" [{how}]"));
            }
            if o.incident_linked.contains(&a.id) {
                // A guess from configuration (ilert links no alert to the incident): said so.
                text.push_str(" [maybe related to an ongoing incident: same service or team]");
            }
        }
    }
    if o.ongoing_incidents.is_empty() {
        text.push_str("\nNo ongoing incidents.");
    } else {
        text.push_str("\nOngoing incidents:");
        for i in &o.ongoing_incidents {
            text.push_str(&format!(
                "\n  #{} {} {} ({}){}",
                i.id,
                i.status,
                untrusted::quoted(&i.summary),
                i.services_shown.join(", "),
                i.created_at
                    .as_ref()
                    .map(|t| format!(" since {t}"))
                    .unwrap_or_default()
            ));
        }
    }
    if !o.on_call_now.is_empty() {
        text.push_str("\nOn call now:");
        for oc in &o.on_call_now {
            text.push_str(&format!(
                "\n  {}: {}{}",
                untrusted::quoted(&oc.policy),
                untrusted::quoted(&oc.user),
                oc.until
                    .as_ref()
                    .map(|u| format!(" until {u}"))
                    .unwrap_or_default()
            ));
        }
    }
    text
}
