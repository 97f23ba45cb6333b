//! On-call toolset: `who_is_on_call`, `list_schedules`, `get_schedule_shifts`,
//! `create_schedule_override` (`/on-calls`, `/schedules*`).

use crate::rules::untrusted;
use chrono::{DateTime, Duration, Utc};
use ilert_client::{IdOnly, OnCallQuery, OverrideWrite, Page, Session};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::confirm::confirm;
use crate::rules::names::{self, Kind, Named};
use crate::rules::previews;
use crate::rules::render::Ref;
use crate::rules::times::{self, parse, show, show_raw, zone};
use crate::rules::toolbox::Toolbox;
use crate::rules::{
    check, explain, failure, ilert, input_schema, output_schema, session, structured,
};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhoIsOnCallParams {
    /// When: "now" (default), "2026-11-28 09:00", "next Sat 03:00".
    #[serde(default)]
    pub at: Option<String>,
    /// Only this escalation policy (id or name).
    #[serde(default)]
    pub policy: Option<String>,
    /// Only this schedule (id or name).
    #[serde(default)]
    pub schedule: Option<String>,
    /// Only this team's policies (id or name).
    #[serde(default)]
    pub team: Option<String>,
    /// Only the policies of the team owning this service (id or name).
    #[serde(default)]
    pub service: Option<String>,
    /// Only this user (id, name, e-mail or "me").
    #[serde(default)]
    pub user: Option<String>,
    /// IANA zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WhoIsOnCallOutput {
    /// The moment asked about, in `timezone`.
    pub at: String,
    pub timezone: String,
    pub on_call: Vec<OnCallOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OnCallOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Ref>,
    /// Escalation level, 1 = notified first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<i64>,
    pub user: Ref,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// End of this shift: the next handover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Who takes over at `until`, where the schedule says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Ref>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSchedulesParams {
    /// IANA zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SchedulesOutput {
    pub schedules: Vec<ScheduleOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScheduleOut {
    pub id: i64,
    pub name: String,
    /// STATIC or RECURRING.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The schedule's own time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<ShiftOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<ShiftOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ShiftOut {
    pub user: Ref,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// An override, not the rotation.
    #[serde(rename = "override", skip_serializing_if = "std::ops::Not::not")]
    pub is_override: bool,
    /// Whom the override stands in for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<Ref>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftsParams {
    /// Schedule id or name.
    pub schedule: String,
    /// Start; default now.
    #[serde(default)]
    pub from: Option<String>,
    /// End; default 7 days after `from`, at most 62.
    #[serde(default)]
    pub until: Option<String>,
    /// IANA zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ShiftsOutput {
    pub schedule: Ref,
    pub timezone: String,
    pub shifts: Vec<ShiftOut>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideParams {
    /// Schedule id or name.
    pub schedule: String,
    /// Who covers: id, name, e-mail or "me".
    pub user: String,
    /// Start, e.g. "2026-11-28 18:00"; not in the past.
    pub start: String,
    /// End, after `start`.
    pub end: String,
    /// IANA zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OverrideOutput {
    pub schedule: Ref,
    pub user: Ref,
    pub start: String,
    pub end: String,
}

const MAX_SHIFTS: usize = 200;

#[tool_router(router = oncall_router, vis = "pub(crate)")]
impl Toolbox {
    /// Who is on call now or at a time, per policy and level, until when, and who is next. Filter
    /// by policy, schedule, team, service (via its owning team) or user.
    #[tool(
        title = "Who is on call",
        input_schema = input_schema::<WhoIsOnCallParams>(),
        output_schema = output_schema::<WhoIsOnCallOutput>(),
        annotations(title = "Who is on call", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn who_is_on_call(
        &self,
        Parameters(p): Parameters<WhoIsOnCallParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let tz = check!(zone(p.timezone.as_deref()));
        let at = match p.at.as_deref() {
            Some(raw) => check!(parse("at", raw, tz)),
            None => times::now(),
        };
        let mut query = OnCallQuery {
            timezone: Some(tz.name().to_owned()),
            ..Default::default()
        };
        if (at - times::now()).num_seconds().abs() > 60 {
            query.from = Some(times::wire(at));
            query.until = Some(times::wire(at + Duration::minutes(1)));
        }
        let mut resolved = Vec::new();
        for (name, kind, ids) in [
            (&p.policy, Kind::Policy, &mut query.policies),
            (&p.schedule, Kind::Schedule, &mut query.schedules),
            (&p.user, Kind::User, &mut query.users),
        ] {
            if let Some(name) = name {
                let n = check!(self.refs.resolve(&api, kind, name).await);
                resolved.extend(names::note(kind, name, &n));
                ids.push(n.id);
            }
        }
        // A team, a service (through its owning teams), or a "team" that is really a service's
        // name ("who is on call for Search").
        let mut owners: Option<(Vec<Named>, String, bool)> = None;
        let mut services: Vec<&String> = p.service.iter().collect();
        if let Some(asked) = &p.team {
            match self.refs.resolve(&api, Kind::Team, asked).await {
                Ok(team) => {
                    resolved.extend(names::note(Kind::Team, asked, &team));
                    owners = Some((vec![team], String::new(), false));
                }
                Err(no_team) => {
                    if p.service.is_some()
                        || self.refs.resolve(&api, Kind::Service, asked).await.is_err()
                    {
                        return failure(no_team);
                    }
                    services.push(asked);
                }
            }
        }
        for asked in services {
            let service = check!(self.refs.resolve(&api, Kind::Service, asked).await);
            let (teams, label, _) = check!(
                self.service_owners(&api, asked, &service, &mut resolved)
                    .await
            );
            owners = Some(match owners {
                Some((mut had, _, _)) => {
                    had.extend(teams);
                    (had, label, true)
                }
                None => (teams, label, true),
            });
        }
        if let Some((teams, label, via_service)) = owners {
            let mut policies = Vec::new();
            for team in &teams {
                policies.extend(check!(self.team_policy_ids(&api, team.id).await));
            }
            policies.sort_unstable();
            policies.dedup();
            if policies.is_empty() {
                // An answer, not an error: nobody is paged for a team that routes no alerts.
                let out = WhoIsOnCallOutput {
                    at: show(at, tz),
                    timezone: tz.name().to_owned(),
                    on_call: Vec::new(),
                };
                let text = match (teams.as_slice(), via_service) {
                    ([], _) => format!(
                        "{label} has no owning team in ilert, so no team's policy is on call for it; \
                         ask by escalation policy instead."
                    ),
                    ([team], false) => format!(
                        "Team {} (id {}) has no escalation policies, so nobody is on call for it.",
                        untrusted::quoted(&team.name),
                        team.id
                    ),
                    (owners, _) => format!(
                        "{label} is owned by {}, with no escalation policies, so nobody is on call for it.",
                        owners
                            .iter()
                            .map(names::resolved)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return structured(&out, text);
            }
            query.policies.extend(policies);
        }
        let entries = ilert!(api.list_on_calls(&query), "the on-call list");
        let mut on_call: Vec<OnCallOut> = entries
            .iter()
            .filter_map(|e| {
                let user = e.user.as_ref()?;
                Some(OnCallOut {
                    policy: e.escalation_policy.as_ref().map(Ref::from),
                    level: e.escalation_level.map(|l| l as i64),
                    user: Ref {
                        id: user.id,
                        name: Some(untrusted::inline_owned(user.display_name())),
                    },
                    schedule: e.schedule.as_ref().map(Ref::from),
                    since: show_raw(e.start.as_deref(), tz),
                    until: show_raw(e.end.as_deref(), tz),
                    next: None,
                })
            })
            .collect();
        on_call.sort_by_key(|o| (o.policy.as_ref().and_then(|p| p.name.clone()), o.level));
        fill_next(&api, &mut on_call).await;
        let out = WhoIsOnCallOutput {
            at: show(at, tz),
            timezone: tz.name().to_owned(),
            on_call,
        };
        let mut text = on_call_text(&out);
        if !resolved.is_empty() {
            text.push_str(&format!("\nNames: {}.", resolved.join("; ")));
        }
        structured(&out, text)
    }

    /// List on-call schedules with who is on call now and next.
    #[tool(
        title = "List schedules",
        input_schema = input_schema::<ListSchedulesParams>(),
        output_schema = output_schema::<SchedulesOutput>(),
        annotations(title = "List schedules", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_schedules(
        &self,
        Parameters(p): Parameters<ListSchedulesParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let tz = check!(zone(p.timezone.as_deref()));
        let schedules = ilert!(api.list_schedules(Page::new(0, 20)), "the schedule list");
        let shift = |s: &Option<ilert_client::ShiftRef>| {
            s.as_ref().and_then(|s| {
                let user = s.user.as_ref()?;
                Some(ShiftOut {
                    user: Ref {
                        id: user.id,
                        name: Some(untrusted::inline_owned(user.display_name())),
                    },
                    start: show_raw(s.start.as_deref(), tz),
                    end: show_raw(s.end.as_deref(), tz),
                    is_override: false,
                    replaces: Vec::new(),
                })
            })
        };
        let schedules: Vec<ScheduleOut> = schedules
            .iter()
            .map(|s| ScheduleOut {
                id: s.id,
                name: untrusted::inline_owned(s.name.clone().unwrap_or_default()),
                kind: s.kind.clone(),
                schedule_timezone: s.timezone.clone(),
                current: shift(&s.current_shift),
                next: shift(&s.next_shift),
            })
            .collect();
        let text = crate::rules::lines_or(
            &schedules,
            |s| {
                let now = s.current.as_ref().map(|c| {
                    format!(
                        "now {} until {}",
                        name(&c.user),
                        c.end.as_deref().unwrap_or("?")
                    )
                });
                let next = s.next.as_ref().map(|n| format!("then {}", name(&n.user)));
                format!(
                    "{} (id {}, {}): {} {}",
                    untrusted::quoted(&s.name),
                    s.id,
                    s.schedule_timezone.as_deref().unwrap_or("?"),
                    now.unwrap_or_else(|| "nobody on call now".into()),
                    next.unwrap_or_default()
                )
            },
            "No schedules.",
        );
        structured(&SchedulesOutput { schedules }, text)
    }

    /// Shifts of a schedule in a window (default next 7 days); overrides marked with whom they
    /// replace.
    #[tool(
        title = "Get schedule shifts",
        input_schema = input_schema::<ShiftsParams>(),
        output_schema = output_schema::<ShiftsOutput>(),
        annotations(title = "Get schedule shifts", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_schedule_shifts(
        &self,
        Parameters(p): Parameters<ShiftsParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let tz = check!(zone(p.timezone.as_deref()));
        let from = match p.from.as_deref() {
            Some(raw) => check!(parse("from", raw, tz)),
            None => times::now(),
        };
        let until = match p.until.as_deref() {
            Some(raw) => check!(parse("until", raw, tz)),
            None => from + Duration::days(7),
        };
        if until <= from || until - from > Duration::days(62) {
            return failure("`until` must be after `from` and at most 62 days later.");
        }
        let schedule = check!(self.refs.resolve(&api, Kind::Schedule, &p.schedule).await);
        let (wire_from, wire_until) = (times::wire(from), times::wire(until));
        let (shifts, base, overrides) = tokio::join!(
            api.schedule_shifts(schedule.id, &wire_from, &wire_until),
            api.schedule_base_shifts(schedule.id, &wire_from, &wire_until),
            api.schedule_overrides(schedule.id)
        );
        let shifts = match shifts {
            Ok(s) => s,
            Err(e) => return failure(explain(&e, &format!("schedule {}", schedule.id))),
        };
        // Without these the shifts are still right; they only go unmarked.
        let (base, overrides) = (base.unwrap_or_default(), overrides.unwrap_or_default());
        if shifts.len() > MAX_SHIFTS {
            return failure(format!(
                "{} shifts in that window; ask for a shorter one (at most {MAX_SHIFTS}).",
                shifts.len()
            ));
        }
        let shifts: Vec<ShiftOut> = shifts
            .iter()
            .filter_map(|s| {
                let user = s.user.as_ref()?;
                let (start, end) = (instant(s.start.as_deref())?, instant(s.end.as_deref())?);
                let is_override = overrides.iter().any(|o| {
                    o.user.as_ref().is_some_and(|u| u.id == user.id)
                        && instant(o.start.as_deref()).is_some_and(|os| os <= start)
                        && instant(o.end.as_deref()).is_some_and(|oe| end <= oe)
                });
                let mut replaces: Vec<Ref> = Vec::new();
                if is_override {
                    for b in &base {
                        let (Some(bu), Some(bs), Some(be)) = (
                            b.user.as_ref(),
                            instant(b.start.as_deref()),
                            instant(b.end.as_deref()),
                        ) else {
                            continue;
                        };
                        if bs < end
                            && start < be
                            && bu.id != user.id
                            && !replaces.iter().any(|r| r.id == bu.id)
                        {
                            replaces.push(Ref {
                                id: bu.id,
                                name: Some(untrusted::inline_owned(bu.display_name())),
                            });
                        }
                    }
                }
                Some(ShiftOut {
                    user: Ref {
                        id: user.id,
                        name: Some(untrusted::inline_owned(user.display_name())),
                    },
                    start: show_raw(s.start.as_deref(), tz),
                    end: show_raw(s.end.as_deref(), tz),
                    is_override,
                    replaces,
                })
            })
            .collect();
        let mut text = format!(
            "{} (id {}), {} to {} ({}):",
            untrusted::quoted(&schedule.name),
            schedule.id,
            show(from, tz),
            show(until, tz),
            tz.name()
        );
        for s in &shifts {
            let replacing: Vec<String> = s.replaces.iter().map(name).collect();
            text.push_str(&format!(
                "\n{} → {}: {}{}",
                s.start.as_deref().unwrap_or("?"),
                s.end.as_deref().unwrap_or("?"),
                name(&s.user),
                match (s.is_override, replacing.is_empty()) {
                    (false, _) => String::new(),
                    (true, true) => " (override)".to_owned(),
                    (true, false) => format!(" (override, replacing {})", replacing.join(", ")),
                }
            ));
        }
        if shifts.is_empty() {
            text.push_str("\nNo shifts: nobody is scheduled in this window.");
        }
        let out = ShiftsOutput {
            schedule: Ref {
                id: schedule.id,
                name: Some(untrusted::inline_owned(schedule.name)),
            },
            timezone: tz.name().to_owned(),
            shifts,
        };
        structured(&out, text)
    }

    /// Put someone on call in place of the schedule for a window; refuses past or overlapping
    /// windows.
    #[tool(
        title = "Create schedule override",
        input_schema = input_schema::<OverrideParams>(),
        output_schema = output_schema::<OverrideOutput>(),
        meta = crate::rules::confirm::outward(),
        annotations(title = "Create schedule override", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn create_schedule_override(
        &self,
        Parameters(p): Parameters<OverrideParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let tz = check!(zone(p.timezone.as_deref()));
        let start = check!(parse("start", &p.start, tz));
        let end = check!(parse("end", &p.end, tz));
        if end <= start {
            return failure("`end` must be after `start`.");
        }
        if start < times::now() - Duration::minutes(1) {
            return failure(format!(
                "The override would start in the past ({}); overrides can only cover the future. Use a start from now on.",
                show(start, tz)
            ));
        }
        let schedule = check!(self.refs.resolve(&api, Kind::Schedule, &p.schedule).await);
        let user = check!(self.refs.resolve(&api, Kind::User, &p.user).await);
        let existing = ilert!(
            api.schedule_overrides(schedule.id),
            format!("schedule {}", schedule.id)
        );
        if let Some(clash) = existing.iter().find(|o| overlaps(o, start, end)) {
            return failure(format!(
                "{} already has an override from {} to {} ({}); overrides may not overlap. Pick another window or remove that one in ilert.",
                schedule.name,
                show_raw(clash.start.as_deref(), tz).unwrap_or_default(),
                show_raw(clash.end.as_deref(), tz).unwrap_or_default(),
                clash
                    .user
                    .as_ref()
                    .map(|u| untrusted::inline_owned(u.display_name()))
                    .unwrap_or_else(|| "someone".into())
            ));
        }
        let body = OverrideWrite {
            user: IdOnly { id: user.id },
            start: times::wire(start),
            end: times::wire(end),
        };
        confirm!(
            ext,
            previews::schedule_override(&api, &schedule, &user, (start, end, tz))
        );
        ilert!(
            api.add_schedule_override(schedule.id, &body),
            format!("schedule {}", schedule.id)
        );
        let out = OverrideOutput {
            schedule: Ref {
                id: schedule.id,
                name: Some(untrusted::inline_owned(schedule.name.clone())),
            },
            user: Ref {
                id: user.id,
                name: Some(untrusted::inline_owned(user.name.clone())),
            },
            start: show(start, tz),
            end: show(end, tz),
        };
        let text = format!(
            "{} is on call for {} from {} to {}.",
            names::resolved(&user),
            names::resolved(&schedule),
            out.start,
            out.end
        );
        structured(&out, text)
    }
}

impl Toolbox {
    /// `team`, and the policies that belong to it (none is an answer, not an error).
    /// Ids of the escalation policies the team `team` owns.
    async fn team_policy_ids(&self, api: &Session, team: i64) -> Result<Vec<i64>, String> {
        // ilert's team context scopes the list to the team, so a team's policies are found
        // however many policies the account has; the filter below stays for a server that
        // ignores the header.
        let policies = api
            .with_team_context(team)
            .list_escalation_policies(Page::new(0, 50))
            .await
            .map_err(|e| crate::rules::explain(&e, "the escalation policy list"))?;
        Ok(policies
            .iter()
            .filter(|p| p.teams.iter().any(|t| t.id == team))
            .map(|p| p.id)
            .collect())
    }

    /// The teams owning `service` (what ilert lists as the service's teams), noting the name and
    /// the owners in `resolved`; then how answers name the service, and `true` (found by service).
    async fn service_owners(
        &self,
        api: &Session,
        asked: &str,
        service: &Named,
        resolved: &mut Vec<String>,
    ) -> Result<(Vec<Named>, String, bool), String> {
        let full = api
            .get_service(service.id)
            .await
            .map_err(|e| crate::rules::explain(&e, &format!("service {}", service.id)))?;
        let teams: Vec<Named> = full
            .teams
            .iter()
            .map(|t| Named {
                id: t.id,
                name: untrusted::inline_owned(
                    t.name.clone().unwrap_or_else(|| format!("team {}", t.id)),
                ),
                detail: None,
                policy_id: None,
            })
            .collect();
        let owners: Vec<String> = teams.iter().map(names::resolved).collect();
        resolved.push(format!(
            "service {asked:?} is {}, owned by {}",
            names::resolved(service),
            if owners.is_empty() {
                "no team".to_owned()
            } else {
                format!("team {}", owners.join(" and team "))
            }
        ));
        Ok((teams, format!("Service {}", names::resolved(service)), true))
    }
}

fn instant(raw: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn overlaps(shift: &ilert_client::Shift, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    let parse = |raw: Option<&str>| {
        raw.and_then(|r| DateTime::parse_from_rfc3339(r).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    match (parse(shift.start.as_deref()), parse(shift.end.as_deref())) {
        (Some(s), Some(e)) => s < end && start < e,
        _ => false,
    }
}

/// For entries from a schedule, asks the schedule who takes over at the end of the shift.
/// Who takes over after each entry: one `/on-calls` request over the entries' schedules, from the
/// earliest end to the latest, whatever the number of entries (so the cost of `who_is_on_call`
/// does not grow with the duties). An entry whose successor is not in the answer keeps `next`
/// empty rather than a guess.
async fn fill_next(api: &Session, on_call: &mut [OnCallOut]) {
    // For each entry, its schedule and the instant just after its end.
    let wanted: Vec<Option<(i64, DateTime<Utc>)>> = on_call
        .iter()
        .map(|o| {
            let schedule = o.schedule.as_ref()?;
            let end = DateTime::parse_from_rfc3339(o.until.as_deref()?).ok()?;
            Some((schedule.id, end.with_timezone(&Utc) + Duration::seconds(1)))
        })
        .collect();
    let afters = || wanted.iter().flatten().map(|w| w.1);
    let (Some(first), Some(last)) = (afters().min(), afters().max()) else {
        return;
    };
    // ilert refuses a range over 3 months; a successor further out than 60 days is left unnamed.
    let last = last.min(first + Duration::days(60));
    let mut schedules: Vec<i64> = wanted.iter().flatten().map(|w| w.0).collect();
    schedules.sort_unstable();
    schedules.dedup();
    let query = OnCallQuery {
        schedules,
        from: Some(times::wire(first)),
        until: Some(times::wire(last + Duration::minutes(1))),
        ..Default::default()
    };
    let Ok(shifts) = api.list_on_calls(&query).await else {
        return;
    };
    for (entry, want) in on_call.iter_mut().zip(wanted) {
        let Some((schedule, after)) = want else {
            continue;
        };
        let next = shifts.iter().find(|s| {
            s.schedule.as_ref().map(|r| r.id) == Some(schedule)
                && covers(s.start.as_deref(), s.end.as_deref(), after)
        });
        entry.next = next.and_then(|s| s.user.as_ref()).map(|user| Ref {
            id: user.id,
            name: Some(untrusted::inline_owned(user.display_name())),
        });
    }
}

/// Whether a shift from `start` to `end` (RFC 3339; an open end runs on) holds the instant `at`.
fn covers(start: Option<&str>, end: Option<&str>, at: DateTime<Utc>) -> bool {
    let parse = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let Some(start) = start.and_then(parse) else {
        return false;
    };
    start <= at && end.and_then(parse).is_none_or(|end| at < end)
}

/// A user as the text names them: quoted, or by id.
fn name(r: &Ref) -> String {
    r.name
        .as_deref()
        .map_or_else(|| format!("user {}", r.id), untrusted::quoted)
}

fn on_call_text(out: &WhoIsOnCallOutput) -> String {
    if out.on_call.is_empty() {
        return format!(
            "Nobody is on call at {} ({}) for that selection.",
            out.at, out.timezone
        );
    }
    let mut text = format!("On call at {} ({}):", out.at, out.timezone);
    for o in &out.on_call {
        let policy = o
            .policy
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .map_or_else(|| "?".into(), untrusted::quoted);
        let level = o.level.map(|l| format!(" L{l}")).unwrap_or_default();
        let via = o
            .schedule
            .as_ref()
            .and_then(|s| s.name.as_deref())
            .map(|s| format!(" via {}", untrusted::quoted(s)))
            .unwrap_or_default();
        let until = o
            .until
            .as_ref()
            .map(|u| format!(", until {u}"))
            .unwrap_or_default();
        let next = o
            .next
            .as_ref()
            .map(|n| format!(", then {}", name(n)))
            .unwrap_or_default();
        text.push_str(&format!(
            "\n- {policy}{level}: {}{via}{until}{next}",
            name(&o.user)
        ));
    }
    text
}
