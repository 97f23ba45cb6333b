//! Reports toolset: `get_alert_metrics` (`/reports/alerts`: COUNT, MTTA, MTTR per day/week/month).

use chrono::{Duration, Utc};
use ilert_client::{ReportQuery, Session};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::server::IlertMcp;
use crate::tools::lookup::Kind;
use crate::tools::times::{self, parse, show, zone};
use crate::tools::{check, explain, failure, input_schema, output_schema, session, structured};

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GroupBy {
    Day,
    Week,
    Month,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsParams {
    /// Start; default 7 days ago.
    #[serde(default)]
    pub from: Option<String>,
    /// End; default now.
    #[serde(default)]
    pub until: Option<String>,
    /// Bucket size; default DAY.
    #[serde(default)]
    pub group_by: Option<GroupBy>,
    /// HIGH, LOW or ALL (default).
    #[serde(default)]
    pub priority: Option<String>,
    /// Only this alert source (id or name).
    #[serde(default)]
    pub source: Option<String>,
    /// Only this escalation policy (id or name).
    #[serde(default)]
    pub policy: Option<String>,
    /// IANA time zone for buckets and times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MetricsOutput {
    pub from: String,
    pub until: String,
    pub group_by: String,
    /// One row per bucket: alert count, mean time to acknowledge and to resolve, in minutes.
    pub buckets: Vec<Bucket>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Bucket {
    pub bucket: String,
    pub count: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtta_minutes: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mttr_minutes: Option<f64>,
}

#[tool_router(router = reports_router, vis = "pub(crate)")]
impl IlertMcp {
    /// Alert metrics over time: how many alerts, mean time to acknowledge (MTTA) and to resolve
    /// (MTTR), per day, week or month; optionally for one source, policy or priority.
    #[tool(
        title = "Get alert metrics",
        input_schema = input_schema::<MetricsParams>(),
        output_schema = output_schema::<MetricsOutput>(),
        annotations(title = "Get alert metrics", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_alert_metrics(
        &self,
        Parameters(p): Parameters<MetricsParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let tz = check!(zone(p.timezone.as_deref()));
        let until = match p.until.as_deref() {
            Some(raw) => check!(parse("until", raw, tz)),
            None => Utc::now(),
        };
        let from = match p.from.as_deref() {
            Some(raw) => check!(parse("from", raw, tz)),
            None => until - Duration::days(7),
        };
        if until <= from || until - from > Duration::days(366) {
            return failure("`until` must be after `from`, and the range at most a year.");
        }
        let priority = p
            .priority
            .as_deref()
            .map(str::to_uppercase)
            .unwrap_or_else(|| "ALL".into());
        if !["HIGH", "LOW", "ALL"].contains(&priority.as_str()) {
            return failure("`priority` must be HIGH, LOW or ALL.");
        }
        let group_by = match p.group_by.unwrap_or(GroupBy::Day) {
            GroupBy::Day => "DAY",
            GroupBy::Week => "WEEK",
            GroupBy::Month => "MONTH",
        };
        let mut q = ReportQuery {
            group_by: group_by.into(),
            priority,
            from: times::wire(from),
            until: times::wire(until),
            timezone: Some(tz.name().to_owned()),
            ..Default::default()
        };
        if let Some(source) = &p.source {
            q.sources
                .push(check!(self.shared.refs.resolve(&api, Kind::Source, source).await).id);
        }
        if let Some(policy) = &p.policy {
            q.policies
                .push(check!(self.shared.refs.resolve(&api, Kind::Policy, policy).await).id);
        }
        let (count, mtta, mttr) = tokio::join!(
            series(&api, &q, "COUNT"),
            series(&api, &q, "MTTA"),
            series(&api, &q, "MTTR")
        );
        let count = check!(count);
        let (mtta, mttr) = (check!(mtta), check!(mttr));
        let buckets = buckets(&count, &mtta, &mttr);
        let out = MetricsOutput {
            from: show(from, tz),
            until: show(until, tz),
            group_by: group_by.into(),
            buckets,
        };
        let text = metrics_text(&out);
        structured(&out, text)
    }
}

/// One metric as rows of (group, period, value). ilert answers rows of mixed cells (the
/// sandbox: `[sourceId, policyId, number, period, value]`); the period is the cell shaped like
/// `2026-11-17`, `2026-W47` or `2026-11`, the value the last number, and the other cells name the
/// group (source and policy) the row is for.
async fn series(api: &Session, q: &ReportQuery, metric: &str) -> Result<Vec<Row>, String> {
    let q = ReportQuery {
        metric: metric.into(),
        ..q.clone()
    };
    let rows = api
        .alert_report(&q)
        .await
        .map_err(|e| explain(&e, &format!("the {metric} report")))?;
    Ok(rows.iter().filter_map(|cells| parse_row(cells)).collect())
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    group: String,
    period: String,
    value: f64,
}

fn parse_row(cells: &[serde_json::Value]) -> Option<Row> {
    let period_at = cells
        .iter()
        .position(|c| c.as_str().is_some_and(is_period))?;
    let (value_at, value) = cells
        .iter()
        .enumerate()
        .rev()
        .filter(|(i, _)| *i != period_at)
        .find_map(|(i, c)| {
            c.as_f64()
                .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
                .map(|v| (i, v))
        })?;
    let group = cells
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != period_at && *i != value_at)
        .map(|(_, c)| c.to_string())
        .collect::<Vec<_>>()
        .join("/");
    Some(Row {
        group,
        period: cells.get(period_at)?.as_str()?.to_owned(),
        value,
    })
}

fn is_period(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    match b.len() {
        7 => digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7),
        8 => digits(0..4) && b.get(4..6) == Some(&b"-W"[..]) && digits(6..8),
        10 => {
            digits(0..4)
                && b.get(4) == Some(&b'-')
                && digits(5..7)
                && b.get(7) == Some(&b'-')
                && digits(8..10)
        }
        _ => false,
    }
}

/// Per period: the alert count summed over groups, and MTTA/MTTR averaged over groups weighted by
/// each group's alert count in that period.
fn buckets(count: &[Row], mtta: &[Row], mttr: &[Row]) -> Vec<Bucket> {
    let mut periods: Vec<String> = count.iter().map(|r| r.period.clone()).collect();
    periods.sort();
    periods.dedup();
    let weighted = |rows: &[Row], period: &str| -> Option<f64> {
        let (mut sum, mut weight) = (0.0, 0.0);
        for r in rows.iter().filter(|r| r.period == period) {
            let w = count
                .iter()
                .find(|c| c.period == period && c.group == r.group)
                .map_or(1.0, |c| c.value.max(1.0));
            sum += r.value * w;
            weight += w;
        }
        (weight > 0.0).then(|| minutes(sum / weight))
    };
    periods
        .iter()
        .map(|period| Bucket {
            bucket: period.clone(),
            count: count
                .iter()
                .filter(|r| &r.period == period)
                .map(|r| r.value)
                .sum(),
            mtta_minutes: weighted(mtta, period),
            mttr_minutes: weighted(mttr, period),
        })
        .collect()
}

/// ilert reports MTTA and MTTR in seconds.
fn minutes(seconds: f64) -> f64 {
    (seconds / 6.0).round() / 10.0
}

fn metrics_text(out: &MetricsOutput) -> String {
    // An empty f64 sum is -0.0; add 0.0 so it prints as 0.
    let total: f64 = out.buckets.iter().map(|b| b.count).sum::<f64>() + 0.0;
    let mut text = format!(
        "{} alerts from {} to {} (per {}):",
        total,
        out.from,
        out.until,
        out.group_by.to_lowercase()
    );
    for b in &out.buckets {
        let mtta = b
            .mtta_minutes
            .map(|m| times::human(Duration::seconds((m * 60.0) as i64)))
            .unwrap_or_else(|| "-".into());
        let mttr = b
            .mttr_minutes
            .map(|m| times::human(Duration::seconds((m * 60.0) as i64)))
            .unwrap_or_else(|| "-".into());
        text.push_str(&format!(
            "\n{}: {} alert{}, MTTA {mtta}, MTTR {mttr}",
            b.bucket,
            b.count,
            if b.count == 1.0 { "" } else { "s" }
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(v: serde_json::Value) -> Vec<Row> {
        v.as_array()
            .unwrap()
            .iter()
            .filter_map(|r| parse_row(r.as_array().unwrap()))
            .collect()
    }

    #[test]
    fn rows_are_read_by_shape_and_aggregated_per_period() {
        let count = rows(json!([
            [1, 9, "", "2026-11-17", 2],
            [2, 9, "", "2026-11-17", 1],
            [1, 9, "", "2026-11-18", 1]
        ]));
        let mtta = rows(json!([
            [1, 9, "", "2026-11-17", 600],
            [2, 9, "", "2026-11-17", 1200],
            [1, 9, "", "2026-11-18", 60]
        ]));
        let b = buckets(&count, &mtta, &[]);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].bucket.as_str(), b[0].count), ("2026-11-17", 3.0));
        // (600·2 + 1200·1) / 3 = 800 s = 13.3 min
        assert_eq!(b[0].mtta_minutes, Some(13.3));
        assert_eq!(b[1].mttr_minutes, None);
        // A bare [period, value] shape works too, and so do week and month labels.
        let simple = rows(json!([["2026-W47", 5], ["2026-11", "7"]]));
        assert_eq!(
            simple.iter().map(|r| r.value).collect::<Vec<_>>(),
            vec![5.0, 7.0]
        );
    }
}
