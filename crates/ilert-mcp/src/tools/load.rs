//! `get_oncall_load`: hours, nights, weekends, pages and rest per person for a team or a schedule
//! (issue 25 §3). The figures are computed in [`crate::rules::load`]; this tool only fetches,
//! within the budget that module states: the policy list, two shift requests per schedule (at
//! most three), one page of alerts and the notifications of at most 40 of them.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use futures::StreamExt;
use ilert_client::{AlertQuery, Page as ListPage, Session, Shift};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::load::{self, Duty, Gap, Page, PersonLoad, RestFlag, Suggestion};
use crate::rules::names::{self, Kind};
use crate::rules::toolbox::Toolbox;
use crate::rules::untrusted::quoted;
use crate::rules::{check, explain, failure, ilert, input_schema, session, structured, times};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadParams {
    /// Team id or name.
    #[serde(default)]
    pub team: Option<String>,
    /// Or a schedule.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Default `until` - 30 days.
    #[serde(default)]
    pub from: Option<String>,
    /// Default now.
    #[serde(default)]
    pub until: Option<String>,
    /// Days checked for gaps (7).
    #[serde(default)]
    pub ahead: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct LoadOutput {
    pub of: String,
    pub from: String,
    pub until: String,
    pub people: Vec<PersonLoad>,
    pub short_rest: Vec<RestFlag>,
    pub gaps: Vec<Gap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Suggestion>,
    /// Where each figure comes from.
    pub sources: Vec<String>,
}

#[tool_router(router = load_router, vis = "pub(crate)")]
impl Toolbox {
    /// Per person: on-call, night and weekend hours, pages, short rest; gaps ahead; an override
    /// to even it out. At most 50 ilert requests.
    #[tool(
        title = "On-call load",
        input_schema = input_schema::<LoadParams>(),
        annotations(title = "On-call load", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_oncall_load(
        &self,
        Parameters(p): Parameters<LoadParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let utc = Tz::UTC;
        let now = times::now();
        let until = match p.until.as_deref() {
            Some(raw) => check!(times::parse("until", raw, utc)),
            None => now,
        };
        let from = match p.from.as_deref() {
            Some(raw) => check!(times::parse("from", raw, utc)),
            None => until - Duration::days(load::DEFAULT_DAYS),
        };
        if until <= from || until - from > Duration::days(load::MAX_DAYS) {
            return failure(format!(
                "`until` must be after `from` and at most {} days later.",
                load::MAX_DAYS
            ));
        }
        let ahead = p.ahead.unwrap_or(load::DEFAULT_AHEAD);
        if !(1..=load::MAX_AHEAD).contains(&ahead) {
            return failure(format!(
                "`ahead` must be 1 to {}; got {ahead}.",
                load::MAX_AHEAD
            ));
        }
        // What to report on: a team's policies and their schedules, or one schedule and the
        // policies that use it.
        let (of, policies, schedules) = match (&p.team, &p.schedule) {
            (Some(team), None) => {
                let team = check!(self.refs.resolve(&api, Kind::Team, team).await);
                let all = ilert!(
                    api.with_team_context(team.id)
                        .list_escalation_policies(ListPage::new(0, 50)),
                    "the escalation policy list"
                );
                let mine: Vec<_> = all
                    .into_iter()
                    .filter(|p| p.teams.iter().any(|t| t.id == team.id))
                    .collect();
                let mut schedules: Vec<(i64, String)> = Vec::new();
                for rule in mine.iter().flat_map(|p| &p.escalation_rules) {
                    for s in rule.schedules.iter().chain(&rule.schedule) {
                        if !schedules.iter().any(|(id, _)| *id == s.id) {
                            let name = s
                                .name
                                .clone()
                                .unwrap_or_else(|| format!("schedule {}", s.id));
                            schedules.push((s.id, name));
                        }
                    }
                }
                (format!("team {}", names::resolved(&team)), mine, schedules)
            }
            (None, Some(schedule)) => {
                let s = check!(self.refs.resolve(&api, Kind::Schedule, schedule).await);
                let all = ilert!(
                    api.list_escalation_policies(ListPage::new(0, 50)),
                    "the escalation policy list"
                );
                let using: Vec<_> = all
                    .into_iter()
                    .filter(|p| {
                        p.escalation_rules
                            .iter()
                            .any(|r| r.schedules.iter().chain(&r.schedule).any(|x| x.id == s.id))
                    })
                    .collect();
                (
                    format!("schedule {}", names::resolved(&s)),
                    using,
                    vec![(s.id, s.name.clone())],
                )
            }
            _ => return failure("Name either a `team` or a `schedule`."),
        };
        let mut sources = Vec::new();
        let mut schedules = schedules;
        if schedules.len() > load::MAX_SCHEDULES {
            sources.push(format!(
                "only the first {} of {} schedules were read",
                load::MAX_SCHEDULES,
                schedules.len()
            ));
            schedules.truncate(load::MAX_SCHEDULES);
        }
        // Shifts: the period, and the coming days for gaps.
        let coming_until = now + Duration::days(ahead);
        let mut past = Vec::new();
        let mut coming = Vec::new();
        let wires = [from, until, now, coming_until].map(times::wire);
        for (id, name) in &schedules {
            let (a, b) = tokio::join!(
                api.schedule_shifts(*id, &wires[0], &wires[1]),
                api.schedule_shifts(*id, &wires[2], &wires[3])
            );
            let what = format!("the shifts of schedule {id}");
            let a = match a {
                Ok(v) => v,
                Err(e) => return failure(explain(&e, &what)),
            };
            let b = match b {
                Ok(v) => v,
                Err(e) => return failure(explain(&e, &what)),
            };
            past.extend(duties(&a, (*id, name)));
            coming.extend(duties(&b, (*id, name)));
        }
        let listed: Vec<String> = schedules
            .iter()
            .map(|(id, name)| format!("{} ({id})", quoted(name)))
            .collect();
        sources.push(format!(
            "hours: the shifts (overrides applied) of {}; night is 22:00-06:00 and weekend Saturday and Sunday in each person's time zone from their ilert profile",
            if listed.is_empty() { "no schedule".to_owned() } else { listed.join(", ") }
        ));
        // Pages: the notifications of the policies' alerts reported in the period.
        let (pages, accepted) = check!(pages(&api, &policies, (from, until), &mut sources).await);
        let people = load::people(&past, &pages, &accepted, (from, until), utc);
        let zones: BTreeMap<i64, Option<Tz>> = past
            .iter()
            .chain(&coming)
            .map(|d| (d.user, d.zone))
            .collect();
        let short_rest = load::rest(&pages, &zones);
        let gaps = load::gaps(&coming, &schedules, (now, coming_until), utc);
        sources.push(format!(
            "gaps: the shifts of the same schedules from now to {ahead} days ahead"
        ));
        let suggestion = load::suggestion(&people, &past, &coming, now, utc);
        let out = LoadOutput {
            of,
            from: times::show(from, utc),
            until: times::show(until, utc),
            people,
            short_rest,
            gaps,
            suggestion,
            sources,
        };
        let text = text(&out, ahead);
        structured(&out, text)
    }
}

fn duties(shifts: &[Shift], (id, name): (i64, &str)) -> Vec<Duty> {
    let at = |raw: Option<&str>| {
        DateTime::parse_from_rfc3339(raw?)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    shifts
        .iter()
        .filter_map(|s| {
            let user = s.user.as_ref()?;
            Some(Duty {
                user: user.id,
                name: user.display_name(),
                zone: user.timezone.as_deref().and_then(|z| z.parse::<Tz>().ok()),
                schedule: (id, name.to_owned()),
                start: at(s.start.as_deref())?,
                end: at(s.end.as_deref())?,
            })
        })
        .collect()
}

/// The notifications of the policies' alerts reported in the period (one page, the newest
/// [`load::MAX_NOTIFIED`] read), and who accepted which.
#[allow(clippy::type_complexity)]
async fn pages(
    api: &Session,
    policies: &[ilert_client::EscalationPolicy],
    (from, until): (DateTime<Utc>, DateTime<Utc>),
    sources: &mut Vec<String>,
) -> Result<(Vec<Page>, Vec<(i64, i64)>), String> {
    if policies.is_empty() {
        sources.push(
            "pages: no escalation policy uses these schedules, so no alerts were read".into(),
        );
        return Ok((Vec::new(), Vec::new()));
    }
    let query = AlertQuery {
        policies: policies.iter().map(|p| p.id).collect(),
        from: Some(times::wire(from)),
        until: Some(times::wire(until)),
        max_results: load::MAX_ALERTS,
        ..Default::default()
    };
    let mut alerts = api
        .list_alerts(&query)
        .await
        .map_err(|e| explain(&e, "the alerts of the period"))?;
    alerts.sort_by(|a, b| b.report_time.cmp(&a.report_time));
    let listed = alerts.len();
    let read: Vec<i64> = alerts
        .iter()
        .take(load::MAX_NOTIFIED)
        .map(|a| a.id)
        .collect();
    let fetched: Vec<_> = futures::stream::iter(read.iter().copied())
        .map(|id| async move { (id, api.alert_notifications(id).await) })
        .buffer_unordered(4)
        .collect()
        .await;
    let mut pages = Vec::new();
    let mut unread = 0;
    for (alert, answer) in fetched {
        let Ok(list) = answer else {
            unread += 1;
            continue;
        };
        for n in list {
            let (Some(user), Some(at)) = (n.user.as_ref(), n.notification_time.as_deref()) else {
                continue;
            };
            let Ok(at) = DateTime::parse_from_rfc3339(at) else {
                continue;
            };
            let at = at.with_timezone(&Utc);
            if at < from || at >= until || n.status.as_deref() == Some("SCHEDULED") {
                continue;
            }
            pages.push(Page {
                user: user.id,
                name: user.display_name(),
                alert,
                at,
            });
        }
    }
    let accepted: Vec<(i64, i64)> = alerts
        .iter()
        .flat_map(|a| {
            a.responders.iter().filter_map(move |r| {
                let at = DateTime::parse_from_rfc3339(r.accepted_at.as_deref()?).ok()?;
                let at = at.with_timezone(&Utc);
                (from <= at && at < until).then_some((r.user.id, a.id))
            })
        })
        .collect();
    let policy_names: Vec<String> = policies
        .iter()
        .map(|p| {
            format!(
                "{} ({})",
                quoted(p.name.as_deref().unwrap_or("policy")),
                p.id
            )
        })
        .collect();
    let mut said = format!(
        "pages: the notifications of {} alert(s) of {} reported in the period (an alert that notified someone on several channels is one page); accepted: the alerts' responders",
        read.len(),
        policy_names.join(", ")
    );
    if listed > read.len() || listed as u32 >= load::MAX_ALERTS {
        said.push_str(&format!(
            "; only the newest {} alerts were read, older pages are not counted",
            read.len()
        ));
    }
    if unread > 0 {
        said.push_str(&format!(
            "; {unread} alerts' notifications could not be read"
        ));
    }
    sources.push(said);
    Ok((pages, accepted))
}

fn text(out: &LoadOutput, ahead: i64) -> String {
    let mut t = format!("On-call load of {}, {} to {}:", out.of, out.from, out.until);
    if out.people.is_empty() {
        t.push_str("\nNobody had a shift or a page in this period.");
    }
    for p in &out.people {
        t.push_str(&format!(
            "\n- {} ({}): {}h on call, {}h at night, {}h at weekends, longest stretch {}h{}; {} pages ({} at night), {} accepted",
            quoted(&p.name),
            p.timezone,
            p.hours,
            p.night_hours,
            p.weekend_hours,
            p.longest_hours,
            p.longest_from
                .as_deref()
                .map(|f| format!(" from {f}"))
                .unwrap_or_default(),
            p.pages,
            p.night_pages,
            p.accepted
        ));
    }
    t.push_str(&format!(
        "\nRest (a night page leaving under {}h without pages from 19:00 to 09:00 local; the EU 11-hour rest rule as a flag, not legal advice):",
        load::REST_HOURS
    ));
    if out.short_rest.is_empty() {
        t.push_str(" none flagged.");
    }
    for r in &out.short_rest {
        let alerts: Vec<String> = r.alerts.iter().map(|a| a.to_string()).collect();
        t.push_str(&format!(
            "\n- {} the night of {}: paged at {} (alerts {}), longest rest {}h",
            quoted(&r.name),
            r.night,
            r.pages_at.join(", "),
            alerts.join(", "),
            r.rest_hours
        ));
    }
    t.push_str(&format!("\nGaps in cover in the next {ahead} days:"));
    if out.gaps.is_empty() {
        t.push_str(" none.");
    }
    for g in &out.gaps {
        t.push_str(&format!(
            "\n- {} ({}): {} to {} ({}h) nobody is on call",
            quoted(&g.schedule_name),
            g.schedule,
            g.from,
            g.until,
            g.hours
        ));
    }
    match &out.suggestion {
        Some(s) => t.push_str(&format!(
            "\nSuggestion (not created): {} covers {} on {} ({}) from {} to {}, because {}. To do it: create_schedule_override with schedule {}, user {}, start {}, end {}.",
            quoted(&s.user_name),
            quoted(&s.instead_of_name),
            quoted(&s.schedule_name),
            s.schedule,
            s.start,
            s.end,
            s.why,
            s.schedule,
            s.user,
            s.start,
            s.end
        )),
        None => t.push_str(&format!(
            "\nSuggestion: {}.",
            crate::rules::load::no_suggestion(&out.people)
        )),
    }
    t.push_str("\nSources:");
    for s in &out.sources {
        t.push_str(&format!("\n- {s}"));
    }
    t
}
