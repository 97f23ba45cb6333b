//! Who is on call (ilert `OnCall`): `GET /api/on-calls`, one entry per person on duty for an
//! escalation policy level, either directly (a user or team on the level) or through a
//! schedule's shift (computed from layers, restrictions and overrides).
//!
//! - `escalationLevel` is 1-based: the first level of a policy is 1. (ilert does not document
//!   it; `PUT /escalation-policies/{id}/levels/{level}` is zero-based.) `policy-levels` takes the
//!   same 1-based levels.
//! - `from` and `until` default to now; shifts overlapping the range are returned whole. The
//!   range may not exceed three months.
//! - Without `expand`, `user`, `escalationPolicy` and `schedule` are bare `{"id"}` references;
//!   `expand=user|escalationPolicy|schedule` (also `policy`) gives the full objects.
//! - Times are rendered in `timezone` (an IANA zone, default UTC).
//! - Direct duties have no `start`/`end`: they last as long as the policy says so.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::AppState;
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult};
use crate::query::{Paging, Params, invalid};
use crate::time::{self, DAY};
use crate::{escalation_policies, schedules, users};

pub fn routes() -> Router<AppState> {
    Router::new().route("/on-calls", get(list))
}

/// `/on-calls` paging: default 50, at most 250.
const DEFAULT_MAX_RESULTS: i64 = 50;
const MAX_RESULTS_CAP: i64 = 250;
const MAX_RANGE: i64 = 92 * DAY;
/// Shifts crossing the range's edges are looked up this far out, to return them whole.
const HORIZON: i64 = 45 * DAY;

#[derive(Debug, Default, Clone, Copy)]
struct Expand {
    user: bool,
    policy: bool,
    schedule: bool,
}

/// One duty before rendering.
struct Duty {
    user: i64,
    policy: i64,
    level: usize,
    schedule: Option<i64>,
    span: Option<(i64, i64)>,
}

/// `{"id": 12, "level": 1}`, possibly repeated.
fn policy_levels(params: &Params) -> ApiResult<Vec<(i64, Option<usize>)>> {
    params
        .raw("policy-levels")
        .map(|v| {
            let parsed: Value = serde_json::from_str(v.trim().trim_matches('\''))
                .or_else(|_| serde_json::from_str(v.trim().trim_matches('"')))
                .map_err(|_| {
                    invalid(
                        "policy-levels",
                        v,
                        "a JSON object such as {\"id\": 12, \"level\": 1}",
                    )
                })?;
            let items = match parsed {
                Value::Array(items) => items,
                other => vec![other],
            };
            items
                .iter()
                .map(|item| {
                    let id = item["id"].as_i64().ok_or_else(|| {
                        invalid("policy-levels", v, "objects with a numeric 'id'")
                    })?;
                    let level = item["level"].as_u64().and_then(|l| usize::try_from(l).ok());
                    Ok((id, level))
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .collect::<ApiResult<Vec<Vec<_>>>>()
        .map(|v| v.into_iter().flatten().collect())
}

async fn list(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let Paging {
        start_index,
        max_results,
    } = params.paging(DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP)?;
    let policies = params.ids(&["policies"])?;
    let levels = policy_levels(&params)?;
    let schedule_filter = params.ids(&["schedules"])?;
    let user_filter = params.ids(&["users"])?;
    let mut expand = Expand::default();
    for (_, v) in params.values(&["expand"]) {
        match v {
            "user" => expand.user = true,
            "escalationPolicy" | "policy" => expand.policy = true,
            "schedule" => expand.schedule = true,
            other => {
                return Err(invalid(
                    "expand",
                    other,
                    "user, escalationPolicy or schedule",
                ));
            }
        }
    }
    let tz: Tz = match params.single("timezone") {
        None => Tz::UTC,
        Some(z) => time::parse_tz(z)
            .ok_or_else(|| invalid("timezone", z, "an IANA time zone such as Europe/Berlin"))?,
    };
    let now = state.clock.now_ms();
    let from = params.datetime("from")?.unwrap_or(now);
    let until = params.datetime("until")?.unwrap_or(from);
    if until < from {
        return Err(ApiError::bad_request(
            "Query parameter 'until' must not be before 'from'",
        ));
    }
    if until - from > MAX_RANGE {
        return Err(ApiError::bad_request(
            "The range from 'from' to 'until' may not exceed 3 months",
        ));
    }
    // An instant is the range [t, t + 1 ms).
    let until = until.max(from + 1);
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let mut ids: Vec<i64> = cat.policies.keys().copied().collect();
            ids.sort_unstable();
            let mut duties: Vec<Duty> = Vec::new();
            for policy in ids.iter().filter_map(|id| cat.policies.get(id)) {
                if !policies.is_empty() && !policies.contains(&policy.id) {
                    continue;
                }
                if !levels.is_empty() && !levels.iter().any(|(id, _)| *id == policy.id) {
                    continue;
                }
                for (index, rule) in policy.rules.iter().enumerate() {
                    let level = index + 1;
                    let wanted = levels
                        .iter()
                        .filter(|(id, _)| *id == policy.id)
                        .all(|(_, l)| l.is_none_or(|l| l == level));
                    if !wanted && !levels.is_empty() {
                        continue;
                    }
                    let mut direct: Vec<i64> = rule.users.clone();
                    for team in rule.teams.iter().filter_map(|t| cat.teams.get(t)) {
                        direct.extend(
                            team.members
                                .iter()
                                .filter(|(_, r)| r != "STAKEHOLDER")
                                .map(|(u, _)| *u),
                        );
                    }
                    let mut seen = Vec::new();
                    direct.retain(|u| {
                        let first = !seen.contains(u);
                        seen.push(*u);
                        first
                    });
                    if schedule_filter.is_empty() {
                        for user in direct {
                            duties.push(Duty {
                                user,
                                policy: policy.id,
                                level,
                                schedule: None,
                                span: None,
                            });
                        }
                    }
                    for s in rule.schedules.iter().filter_map(|id| cat.schedules.get(id)) {
                        if !schedule_filter.is_empty() && !schedule_filter.contains(&s.id) {
                            continue;
                        }
                        for shift in s.segments(from - HORIZON, until + HORIZON, true) {
                            if shift.overlaps(from, until) {
                                duties.push(Duty {
                                    user: shift.user_id,
                                    policy: policy.id,
                                    level,
                                    schedule: Some(s.id),
                                    span: Some((shift.start, shift.end)),
                                });
                            }
                        }
                    }
                }
            }
            Ok(duties
                .into_iter()
                .filter(|d| user_filter.is_empty() || user_filter.contains(&d.user))
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .map(|d| {
                    let user = match (expand.user, cat.users.get(&d.user)) {
                        (true, Some(u)) => users::user_json(u),
                        _ => json!({"id": d.user}),
                    };
                    let policy = match (expand.policy, cat.policies.get(&d.policy)) {
                        (true, Some(p)) => escalation_policies::policy_json(p, &cat),
                        _ => json!({"id": d.policy}),
                    };
                    let schedule =
                        d.schedule
                            .map(|id| match (expand.schedule, cat.schedules.get(&id)) {
                                (true, Some(s)) => schedules::schedule_rel(s),
                                _ => json!({"id": id}),
                            });
                    json!({
                        "user": user,
                        "escalationPolicy": policy,
                        "schedule": schedule,
                        "start": d.span.map(|(s, _)| time::format_in(s, tz)),
                        "end": d.span.map(|(_, e)| time::format_in(e, tz)),
                        "escalationLevel": d.level,
                    })
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(crate::reply::json(Value::Array(out)))
}
