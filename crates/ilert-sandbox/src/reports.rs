//! Alert reports: `GET /api/reports/alerts` (one row per alert source, escalation policy and
//! period: `[alertSourceId, escalationPolicyId, callRoutingNumber, period, value]`) and
//! `GET /api/reports/alerts/summary` (count, MTTA and MTTR per source and policy), computed
//! from the alerts' report, accept and resolve times.
//!
//! - MTTA and MTTR are mean seconds from report to the first accept / to resolution, over the
//!   alerts that were accepted / resolved. (ilert does not document the unit.)
//! - Periods are labelled as ilert does: DAY `2021-08-01`, WEEK `2021-W12` (ISO week), MONTH
//!   `2021-08`, in `timezone` (default UTC). The sandbox has no call routing numbers, so that
//!   column is empty and a `numbers` filter matches nothing.
//! - `from` and `until` are required; the range may not exceed a year, and an `until` in the
//!   future counts as now.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::query::{Params, invalid};
use crate::time::{self, DAY};
use crate::{escalations, reply};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/alerts", get(metrics))
        .route("/reports/alerts/summary", get(summary))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Count,
    Mtta,
    Mttr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupBy {
    Day,
    Week,
    Month,
}

struct Query {
    from: i64,
    until: i64,
    sources: Vec<i64>,
    policies: Vec<i64>,
    numbers: bool,
    tz: Tz,
    metric: Metric,
    group_by: GroupBy,
    /// None: both priorities.
    priority: Option<&'static str>,
}

fn parse(params: &Params, now: i64) -> ApiResult<Query> {
    let required = |name: &str| {
        params
            .datetime(name)?
            .ok_or_else(|| ApiError::bad_request(format!("Query parameter '{name}' is required")))
    };
    let from = required("from")?;
    let until = required("until")?.min(now);
    if until <= from {
        return Err(ApiError::bad_request(
            "Query parameter 'until' must be after 'from' (and not in the future)",
        ));
    }
    if until - from > 366 * DAY {
        return Err(ApiError::bad_request(
            "The range from 'from' to 'until' may not exceed one year",
        ));
    }
    let metric = match params
        .single("metric")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("COUNT") => Metric::Count,
        Some("MTTA") => Metric::Mtta,
        Some("MTTR") => Metric::Mttr,
        Some(other) => return Err(invalid("metric", other, "COUNT, MTTA or MTTR")),
    };
    let group_by = match params
        .single("group-by")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("WEEK") => GroupBy::Week,
        Some("DAY") => GroupBy::Day,
        Some("MONTH") => GroupBy::Month,
        Some(other) => return Err(invalid("group-by", other, "DAY, WEEK or MONTH")),
    };
    let priority = match params
        .single("priority")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("ALL") => None,
        Some("HIGH") => Some("HIGH"),
        Some("LOW") => Some("LOW"),
        Some(other) => return Err(invalid("priority", other, "LOW, HIGH or ALL")),
    };
    let tz = match params.single("timezone") {
        None => Tz::UTC,
        Some(z) => time::parse_tz(z)
            .ok_or_else(|| invalid("timezone", z, "an IANA time zone such as Europe/Berlin"))?,
    };
    Ok(Query {
        from,
        until,
        sources: params.ids(&["sources"])?,
        policies: params.ids(&["policies"])?,
        numbers: !params.values(&["numbers"]).is_empty(),
        tz,
        metric,
        group_by,
        priority,
    })
}

/// The alert facts a report needs.
struct Fact {
    source: i64,
    policy: i64,
    reported: i64,
    accepted: Option<i64>,
    resolved: Option<i64>,
}

fn facts(conn: &rusqlite::Connection, q: &Query) -> ApiResult<Vec<Fact>> {
    if q.numbers {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(
        "SELECT alert_source_id, escalation_policy_id, report_time, accepted_at, resolved_on, priority \
         FROM alerts WHERE report_time >= ?1 AND report_time < ?2 ORDER BY report_time",
    )?;
    let rows = stmt.query_map([q.from, q.until], |r| {
        Ok((
            Fact {
                source: r.get(0)?,
                policy: r.get(1)?,
                reported: r.get(2)?,
                accepted: r.get(3)?,
                resolved: r.get(4)?,
            },
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (fact, priority) = row?;
        if (q.sources.is_empty() || q.sources.contains(&fact.source))
            && (q.policies.is_empty() || q.policies.contains(&fact.policy))
            && q.priority.is_none_or(|p| p == priority)
        {
            out.push(fact);
        }
    }
    Ok(out)
}

fn period(t: i64, tz: Tz, group_by: GroupBy) -> String {
    let Some(local) = time::ms_to_local(tz, t) else {
        return String::new();
    };
    match group_by {
        GroupBy::Day => local.format("%Y-%m-%d").to_string(),
        GroupBy::Week => local.format("%G-W%V").to_string(),
        GroupBy::Month => local.format("%Y-%m").to_string(),
    }
}

/// Mean whole seconds, if there is anything to average.
fn mean_seconds(durations: impl Iterator<Item = i64>) -> Option<i64> {
    let (sum, n) = durations.fold((0_i64, 0_i64), |(s, n), d| (s + d.max(0), n + 1));
    (n > 0).then(|| (sum / n + 500) / 1000)
}

async fn metrics(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let now = state.clock.now_ms();
    let q = parse(&params, now)?;
    let out = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let mut groups: BTreeMap<(String, i64, i64), Vec<Fact>> = BTreeMap::new();
            for f in facts(conn, &q)? {
                groups
                    .entry((period(f.reported, q.tz, q.group_by), f.source, f.policy))
                    .or_default()
                    .push(f);
            }
            Ok(groups
                .into_iter()
                .filter_map(|((label, source, policy), list)| {
                    let value = match q.metric {
                        Metric::Count => Some(list.len() as i64),
                        Metric::Mtta => mean_seconds(
                            list.iter()
                                .filter_map(|f| f.accepted.map(|a| a - f.reported)),
                        ),
                        Metric::Mttr => mean_seconds(
                            list.iter()
                                .filter_map(|f| f.resolved.map(|r| r - f.reported)),
                        ),
                    }?;
                    Some(json!([source, policy, "", label, value]))
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

async fn summary(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let now = state.clock.now_ms();
    let q = parse(&params, now)?;
    let out = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let mut groups: BTreeMap<(i64, i64), Vec<Fact>> = BTreeMap::new();
            for f in facts(conn, &q)? {
                groups.entry((f.source, f.policy)).or_default().push(f);
            }
            Ok(groups
                .into_iter()
                .map(|((source, policy), list)| {
                    json!({
                        "alertSourceId": source,
                        "escalationPolicyId": policy,
                        "callRoutingNumberPhoneNumber": "",
                        "count": list.len(),
                        "mtta": mean_seconds(list.iter().filter_map(|f| f.accepted.map(|a| a - f.reported))),
                        "mttr": mean_seconds(list.iter().filter_map(|f| f.resolved.map(|r| r - f.reported))),
                    })
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}
