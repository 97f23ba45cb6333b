//! `get_handover` and `get_postmortem_draft` (issue 25 §1, §2): the paperwork at the end of a
//! shift and after an incident. This file only fetches; what the answers say is computed in
//! [`crate::rules::paperwork`].

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use ilert_client::{
    Alert, AlertQuery, AlertStatus, ApiError, IncidentQuery, OnCall, OnCallQuery, Page, Session,
};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::rules::details::LOG_PAGE;
use crate::rules::paperwork::{self, AlertRecord, Handover, Postmortem, Window};
use crate::rules::toolbox::Toolbox;
use crate::rules::untrusted::quoted;
use crate::rules::{
    check, explain, failure, ilert, input_schema, session, structured_value, times,
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverParams {
    /// Instead of your last shift: the last N hours (1-72).
    #[serde(default)]
    #[schemars(range(min = 1, max = 72))]
    pub hours: Option<i64>,
    /// Zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostmortemParams {
    /// Incident id.
    #[serde(default)]
    pub incident: Option<i64>,
    /// Alert id.
    #[serde(default)]
    pub alert: Option<i64>,
    /// Zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// At most this many open, unaccepted alerts of a handover are checked for whether anyone was
/// reached (one request each).
const MAX_REACH_CHECKS: usize = 20;

/// Every page (up to [`paperwork::MAX_PAGES`]) of alerts matching `query`; whether all were read.
async fn all_alerts(api: &Session, mut query: AlertQuery) -> Result<(Vec<Alert>, bool), ApiError> {
    let mut out = Vec::new();
    query.max_results = 100;
    for page in 0..paperwork::MAX_PAGES {
        query.start_index = page * 100;
        let rows = api.list_alerts(&query).await?;
        let last = rows.len() < 100;
        out.extend(rows);
        if last {
            return Ok((out, true));
        }
    }
    Ok((out, false))
}

fn span(o: &OnCall) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((
        times::read(o.start.as_deref())?,
        times::read(o.end.as_deref())?,
    ))
}

#[tool_router(router = paperwork_router, vis = "pub(crate)")]
impl Toolbox {
    /// Shift handover: alerts in, still open and whose, changes and by whom, status updates, who is next; ids cited.
    #[tool(
        title = "Shift handover",
        input_schema = input_schema::<HandoverParams>(),
        annotations(title = "Shift handover", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_handover(
        &self,
        Parameters(p): Parameters<HandoverParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let tz = check!(times::zone(p.timezone.as_deref()));
        if let Some(h) = p.hours
            && !(1..=paperwork::MAX_HOURS).contains(&h)
        {
            return failure(format!(
                "`hours` must be 1 to {}; got {h}.",
                paperwork::MAX_HOURS
            ));
        }
        let now = times::now();
        let me = ilert!(api.current_user(), "your user");
        let look_from = now - Duration::hours(p.hours.unwrap_or(0).max(24 * 14));
        let mine = ilert!(
            api.list_on_calls(&OnCallQuery {
                users: vec![me.id],
                from: Some(times::wire(look_from)),
                until: Some(times::wire(now + Duration::minutes(1))),
                ..Default::default()
            }),
            "your on-call shifts"
        );
        let picked = paperwork::pick_shift(&mine, now).and_then(|i| mine.get(i));
        let current = picked.filter(|o| span(o).is_some_and(|(_, e)| now < e));
        let (window, basis) = match (p.hours, picked.and_then(|o| Some((o, span(o)?)))) {
            (Some(h), _) => (
                Window {
                    from: now - Duration::hours(h),
                    until: now,
                },
                format!("the last {h} hours"),
            ),
            (None, Some((o, (start, end)))) => (
                Window {
                    from: start,
                    until: end.min(now),
                },
                format!(
                    "your {} shift, {}",
                    if current.is_some() { "current" } else { "last" },
                    paperwork::on_call_role(o)
                ),
            ),
            (None, None) => {
                return failure(
                    "You had no on-call shift in the last 14 days; ask with `hours` for the last N hours instead.",
                );
            }
        };
        // Scope: the escalation policies the caller was on call for during the window.
        let mut policies: Vec<(i64, Option<String>)> = Vec::new();
        for o in &mine {
            if let (Some((s, e)), Some(pol)) = (span(o), &o.escalation_policy)
                && s <= window.until
                && e >= window.from
                && !policies.iter().any(|(id, _)| *id == pol.id)
            {
                policies.push((pol.id, pol.name.clone()));
            }
        }
        let ids: Vec<i64> = policies.iter().map(|(id, _)| *id).collect();
        let scope = if policies.is_empty() {
            "of all escalation policies (you were not on call in the window)".to_owned()
        } else {
            let names: Vec<String> = policies
                .iter()
                .map(|(id, n)| {
                    n.as_deref()
                        .map(quoted)
                        .unwrap_or_else(|| format!("policy {id}"))
                })
                .collect();
            format!(
                "of the escalation policies you were on call for: {}",
                names.join(", ")
            )
        };
        let base = AlertQuery {
            policies: ids.clone(),
            ..Default::default()
        };
        let mut notes = Vec::new();
        let (arrived, all_in) = ilert!(
            all_alerts(
                &api,
                AlertQuery {
                    from: Some(times::wire(window.from)),
                    until: Some(times::wire(window.until)),
                    ..base.clone()
                }
            ),
            "the alerts reported in the window"
        );
        let arrived: Vec<Alert> = arrived
            .into_iter()
            .filter(|a| window.holds(a.report_time.as_deref()))
            .collect();
        let (open, all_open) = ilert!(
            all_alerts(
                &api,
                AlertQuery {
                    states: vec![AlertStatus::Pending, AlertStatus::Accepted],
                    ..base.clone()
                }
            ),
            "the open alerts"
        );
        let (earlier, all_earlier) = ilert!(
            all_alerts(
                &api,
                AlertQuery {
                    from: Some(times::wire(
                        window.from - Duration::days(paperwork::LOOKBACK_DAYS)
                    )),
                    until: Some(times::wire(window.until)),
                    ..base.clone()
                }
            ),
            "the alerts reported before the window"
        );
        for (all, what) in [
            (all_in, "alerts reported in the window"),
            (all_open, "open alerts"),
            (all_earlier, "alerts of the week before"),
        ] {
            if !all {
                notes.push(format!(
                    "Only the newest {} {what} were read.",
                    paperwork::MAX_PAGES * 100
                ));
            }
        }
        notes.push(format!(
            "State changes are looked for among open alerts and alerts reported up to {} days before the window.",
            paperwork::LOOKBACK_DAYS
        ));
        let changed = paperwork::changed_in(open.iter().chain(earlier.iter()), &window);
        let mut timelines = HashMap::new();
        for a in changed.iter().take(paperwork::MAX_TIMELINES) {
            match api.alert_log_entries(a.id, 100).await {
                Ok(entries) => {
                    timelines.insert(a.id, entries);
                }
                Err(e) => notes.push(format!(
                    "Not read: {}",
                    explain(&e, &format!("the timeline of alert {}", a.id))
                )),
            }
        }
        // Status updates: incidents touched since the window began, with their history.
        let mut incidents = Vec::new();
        match api
            .list_incidents(&IncidentQuery {
                page: Page::new(0, 50),
                ..Default::default()
            })
            .await
        {
            Ok(list) => {
                let touched = list.into_iter().filter(|i| {
                    [&i.updated_at, &i.created_at, &i.resolved_on]
                        .iter()
                        .any(|t| times::read(t.as_deref()).is_some_and(|t| t >= window.from))
                        || i.status.as_deref() != Some("RESOLVED")
                });
                for i in touched.take(5) {
                    match api.get_incident(i.id).await {
                        Ok(full) => incidents.push(full.value),
                        Err(e) => notes.push(format!(
                            "Not read: {}",
                            explain(&e, &format!("incident {}", i.id))
                        )),
                    }
                }
            }
            Err(e) => notes.push(format!("Not read: {}", explain(&e, "the incidents"))),
        }
        // Who is on next: at the end of the caller's current shift, else from now.
        let (at, roles): (DateTime<Utc>, Vec<(i64, i64)>) = match current {
            Some(o) => (
                span(o).map(|(_, e)| e).unwrap_or(now),
                o.escalation_policy
                    .as_ref()
                    .map(|pol| vec![(pol.id, o.escalation_level.unwrap_or(1.0) as i64)])
                    .unwrap_or_default(),
            ),
            None => (now, ids.iter().map(|id| (*id, 1)).collect()),
        };
        let mut next = Vec::new();
        if !roles.is_empty() {
            match api
                .list_on_calls(&OnCallQuery {
                    policies: roles.iter().map(|(p, _)| *p).collect(),
                    from: Some(times::wire(at)),
                    until: Some(times::wire(at + Duration::minutes(1))),
                    ..Default::default()
                })
                .await
            {
                Ok(entries) => {
                    for (pol, level) in &roles {
                        next.extend(paperwork::next_line(&entries, *pol, *level, at, tz));
                    }
                }
                Err(e) => notes.push(format!("Not read: {}", explain(&e, "who is on call next"))),
            }
        }
        // Whether anyone was reached, for the open alerts nobody accepted: one request each.
        let pending: Vec<i64> = open
            .iter()
            .filter(|a| a.status == Some(ilert_client::AlertStatus::Pending))
            .map(|a| a.id)
            .take(MAX_REACH_CHECKS)
            .collect();
        let unreached = crate::rules::details::unreached_of(&api, &pending).await;
        let handover = Handover {
            me: quoted(&me.display_name()),
            window,
            basis,
            scope,
            arrived: &arrived,
            open: &open,
            changed,
            timelines: &timelines,
            incidents: &incidents,
            next,
            notes,
            tz,
            unreached,
        };
        structured_value(
            paperwork::handover_facts(&handover),
            paperwork::handover_text(&handover),
        )
    }

    /// Markdown postmortem draft of an incident or alert: timeline, time to ack/resolve, who was paged, gaps; facts only.
    #[tool(
        title = "Postmortem draft",
        input_schema = input_schema::<PostmortemParams>(),
        annotations(title = "Postmortem draft", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_postmortem_draft(
        &self,
        Parameters(p): Parameters<PostmortemParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let tz = check!(times::zone(p.timezone.as_deref()));
        let now = times::now();
        let mut notes = Vec::new();
        let (incident, alerts, basis) = match (p.incident, p.alert) {
            (Some(id), None) => {
                let incident = ilert!(api.get_incident(id), format!("incident {id}")).value;
                let opened = times::read(incident.created_at.as_deref()).unwrap_or(now);
                let closed = times::read(incident.resolved_on.as_deref()).unwrap_or(now);
                let from = opened - Duration::minutes(paperwork::INCIDENT_LEAD_MINUTES);
                let (around, complete) = ilert!(
                    all_alerts(
                        &api,
                        AlertQuery {
                            from: Some(times::wire(from)),
                            until: Some(times::wire(closed)),
                            ..Default::default()
                        }
                    ),
                    "the alerts around the incident"
                );
                if !complete {
                    notes.push(format!(
                        "Only the newest {} alerts around the incident were read.",
                        paperwork::MAX_PAGES * 100
                    ));
                }
                let window = times::window(Some(from), Some(closed), tz);
                let linked: Vec<Alert> = around
                    .iter()
                    .filter(|a| a.linked_incident_id == Some(id))
                    .cloned()
                    .collect();
                let (mut chosen, basis) = if !linked.is_empty() {
                    (linked, format!("alerts ilert links to incident {id}"))
                } else {
                    let sources = ilert!(
                        api.list_alert_sources(Page::new(0, 50)),
                        "the alert sources"
                    );
                    let services: Vec<i64> = incident
                        .affected_services
                        .iter()
                        .map(|s| s.service.id)
                        .collect();
                    let teams: Vec<i64> = incident
                        .affected_services
                        .iter()
                        .flat_map(|s| s.service.teams.iter().map(|t| t.id))
                        .collect();
                    let hit: Vec<i64> = sources
                        .iter()
                        .filter(|s| {
                            s.services.iter().any(|v| services.contains(&v.id))
                                || s.teams.iter().any(|t| teams.contains(&t.id))
                        })
                        .map(|s| s.id)
                        .collect();
                    (
                        around
                            .into_iter()
                            .filter(|a| {
                                a.alert_source.as_ref().is_some_and(|s| hit.contains(&s.id))
                            })
                            .collect(),
                        format!(
                            "ilert links no alert to it: alerts of sources that report on an affected service or belong to a team owning one, reported {window}"
                        ),
                    )
                };
                chosen.sort_by_key(|a| (times::read(a.report_time.as_deref()), a.id));
                let rest: Vec<i64> = chosen
                    .iter()
                    .skip(paperwork::MAX_INCIDENT_ALERTS)
                    .map(|a| a.id)
                    .collect();
                if !rest.is_empty() {
                    notes.push(format!(
                        "Only the first {} alerts are drafted; not read: {}.",
                        paperwork::MAX_INCIDENT_ALERTS,
                        paperwork::ids_text(&rest)
                    ));
                    chosen.truncate(paperwork::MAX_INCIDENT_ALERTS);
                }
                (Some(incident), chosen, basis)
            }
            (None, Some(id)) => {
                let alert = ilert!(api.get_alert(id, &[]), format!("alert {id}"));
                let incident = match alert.linked_incident_id {
                    Some(i) => match api.get_incident(i).await {
                        Ok(v) => Some(v.value),
                        Err(e) => {
                            notes.push(format!(
                                "Not read: {}",
                                explain(&e, &format!("linked incident {i}"))
                            ));
                            None
                        }
                    },
                    None => None,
                };
                (incident, vec![alert], "the alert asked about".to_owned())
            }
            _ => return failure("Give either `incident` or `alert`, not both and not neither."),
        };
        let mut logs = HashMap::new();
        let mut sent = HashMap::new();
        for a in &alerts {
            let (log, notified) = tokio::join!(
                api.alert_log_entries(a.id, LOG_PAGE as u32),
                api.alert_notifications(a.id)
            );
            match log {
                Ok(l) => {
                    // A full page may be only part of the timeline (a comment flood fills it).
                    if l.len() >= LOG_PAGE {
                        notes.push(format!(
                            "Only {LOG_PAGE} timeline entries of alert {} were read (ilert's page): \
                             earlier steps, such as its creation, escalations or acceptance, may be \
                             missing from the timeline and the gaps.",
                            a.id
                        ));
                    }
                    logs.insert(a.id, l);
                }
                Err(e) => notes.push(format!(
                    "Not read: {}",
                    explain(&e, &format!("the timeline of alert {}", a.id))
                )),
            }
            match notified {
                Ok(n) => {
                    sent.insert(a.id, n);
                }
                Err(e) => notes.push(format!(
                    "Not read: {}",
                    explain(&e, &format!("the notifications of alert {}", a.id))
                )),
            }
        }
        let records = alerts
            .iter()
            .map(|a| AlertRecord {
                alert: a,
                log: logs.get(&a.id).map(Vec::as_slice),
                notifications: sent.get(&a.id).map(Vec::as_slice),
            })
            .collect();
        let draft = Postmortem {
            incident: incident.as_ref(),
            alerts: records,
            alerts_basis: basis,
            now,
            tz,
            notes,
        };
        structured_value(
            paperwork::postmortem_facts(&draft),
            paperwork::postmortem_markdown(&draft),
        )
    }
}
