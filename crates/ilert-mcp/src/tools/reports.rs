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
        let buckets: Vec<Bucket> = count
            .iter()
            .map(|(bucket, n)| Bucket {
                bucket: bucket.clone(),
                count: *n,
                mtta_minutes: lookup(&mtta, bucket).map(minutes),
                mttr_minutes: lookup(&mttr, bucket).map(minutes),
            })
            .collect();
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

/// One metric as (bucket, value) pairs; ilert sends rows like `["2026-11-20", 12]`.
async fn series(
    api: &Session,
    q: &ReportQuery,
    metric: &str,
) -> Result<Vec<(String, f64)>, String> {
    let q = ReportQuery {
        metric: metric.into(),
        ..q.clone()
    };
    let rows = api
        .alert_report(&q)
        .await
        .map_err(|e| explain(&e, &format!("the {metric} report")))?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let bucket = match row.first()? {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let value = row.get(1).and_then(|v| {
                v.as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })?;
            Some((bucket, value))
        })
        .collect())
}

fn lookup(series: &[(String, f64)], bucket: &str) -> Option<f64> {
    series.iter().find(|(b, _)| b == bucket).map(|(_, v)| *v)
}

/// ilert reports MTTA and MTTR in seconds.
fn minutes(seconds: f64) -> f64 {
    (seconds / 6.0).round() / 10.0
}

fn metrics_text(out: &MetricsOutput) -> String {
    let total: f64 = out.buckets.iter().map(|b| b.count).sum();
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
            "\n{}: {} alerts, MTTA {mtta}, MTTR {mttr}",
            b.bucket, b.count
        ));
    }
    text
}
