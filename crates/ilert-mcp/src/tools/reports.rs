//! Reports toolset: `get_alert_metrics`. Count, MTTA and MTTR per day/week/month and per source
//! and policy, computed from the alerts themselves (`GET /alerts`): ilert's reports give means per
//! source and policy without the number of alerts each mean covers, so they cannot be combined
//! exactly. Past 2,000 alerts, counts come from `/reports/alerts` and `/reports/alerts/summary`.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use ilert_client::{AlertQuery, AlertStatus, ReportQuery, Session};

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::names::{self, Kind, Named, RefCache};
use crate::rules::times::{self, parse, show, zone};
use crate::rules::toolbox::Toolbox;
use crate::rules::untrusted;
use crate::rules::{
    args, check, explain, failure, input_schema, output_schema, session, structured,
};

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
    #[serde(default, deserialize_with = "args::any_case")]
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
    /// IANA zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MetricsOutput {
    pub from: String,
    pub until: String,
    pub group_by: String,
    /// The whole window.
    pub total: Stats,
    /// Periods with alerts, oldest first.
    pub buckets: Vec<Bucket>,
    /// Alert sources, most alerts first (top 10).
    pub by_source: Vec<GroupStats>,
    /// Escalation policies, most alerts first (top 10).
    pub by_policy: Vec<GroupStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Alert count; MTTA and MTTR are means in minutes over the alerts accepted / resolved.
#[derive(Debug, Default, Clone, Serialize, JsonSchema)]
pub struct Stats {
    pub count: u64,
    /// How many alerts the MTTA and the MTTR rest on (text only; unknown from ilert's reports).
    #[serde(skip)]
    pub basis: Option<(u64, u64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtta_minutes: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mttr_minutes: Option<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Bucket {
    /// 2026-11-17, 2026-W47 or 2026-11.
    pub bucket: String,
    /// First and last day of the period (dates in `timezone`).
    pub start: String,
    pub end: String,
    /// The window covers only part of this period.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GroupStats {
    pub id: i64,
    pub name: String,
    #[serde(flatten)]
    pub stats: Stats,
}

/// Alerts read per call at most (pages of 100); past that, counts come from ilert's reports.
const MAX_ALERTS: u32 = 2_000;
const TOP_GROUPS: usize = 10;
/// ilert's page cap for `GET /alerts`.
const MAX_ALERTS_PER_PAGE: u32 = 100;

#[tool_router(router = reports_router, vis = "pub(crate)")]
impl Toolbox {
    /// Alert count, MTTA and MTTR (means over the alerts) per day, week or month, and per source
    /// and policy, noisiest first.
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
        let now = times::now();
        let until = match p.until.as_deref() {
            Some(raw) => check!(parse("until", raw, tz)),
            None => now,
        }
        .min(now);
        let from = match p.from.as_deref() {
            Some(raw) => check!(parse("from", raw, tz)),
            None => until - Duration::days(7),
        };
        if until <= from || until - from > Duration::days(366) {
            return failure(
                "`until` must be after `from` (and not in the future), and the range at most a year.",
            );
        }
        let priority = p
            .priority
            .as_deref()
            .map(str::to_uppercase)
            .unwrap_or_else(|| "ALL".into());
        if !["HIGH", "LOW", "ALL"].contains(&priority.as_str()) {
            return failure("`priority` must be HIGH, LOW or ALL.");
        }
        let group_by = p.group_by.unwrap_or(GroupBy::Day);
        let mut q = AlertQuery {
            states: vec![
                AlertStatus::Pending,
                AlertStatus::Accepted,
                AlertStatus::Resolved,
            ],
            from: Some(times::wire(from)),
            until: Some(times::wire(until)),
            max_results: MAX_ALERTS_PER_PAGE,
            ..Default::default()
        };
        let mut resolved = Vec::new();
        for (name, kind, ids) in [
            (&p.source, Kind::Source, &mut q.sources),
            (&p.policy, Kind::Policy, &mut q.policies),
        ] {
            if let Some(name) = name {
                let n = check!(self.refs.resolve(&api, kind, name).await);
                resolved.extend(names::note(kind, name, &n));
                ids.push(n.id);
            }
        }
        let window = Window {
            from,
            until,
            tz,
            group_by,
        };
        let out = match check!(facts(&api, &mut q, &priority).await) {
            Some(facts) => summarise(&facts, &window),
            None => {
                let report = ReportQuery {
                    group_by: group_by.name().into(),
                    priority,
                    from: times::wire(from),
                    until: times::wire(until),
                    timezone: Some(tz.name().to_owned()),
                    sources: q.sources.clone(),
                    policies: q.policies.clone(),
                    metric: "COUNT".into(),
                };
                check!(counts_only(&self.refs, &api, &report, &window).await)
            }
        };
        let mut text = metrics_text(&out);
        if !resolved.is_empty() {
            text.push_str(&format!("\nNames: {}.", resolved.join("; ")));
        }
        structured(&out, text)
    }
}

impl GroupBy {
    fn name(self) -> &'static str {
        match self {
            Self::Day => "DAY",
            Self::Week => "WEEK",
            Self::Month => "MONTH",
        }
    }

    /// The period holding `day`: its label, first and last day.
    fn period(self, day: NaiveDate) -> (String, NaiveDate, NaiveDate) {
        match self {
            Self::Day => (day.format("%Y-%m-%d").to_string(), day, day),
            Self::Week => {
                let start = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
                (
                    day.format("%G-W%V").to_string(),
                    start,
                    start + Duration::days(6),
                )
            }
            Self::Month => {
                let start = day.with_day(1).unwrap_or(day);
                let next = start
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(start);
                (
                    day.format("%Y-%m").to_string(),
                    start,
                    next - Duration::days(1),
                )
            }
        }
    }
}

struct Window {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    tz: Tz,
    group_by: GroupBy,
}

impl Window {
    /// A period is partial when the window starts after its first midnight or ends before its
    /// last.
    fn partial(&self, start: NaiveDate, end: NaiveDate) -> bool {
        let local = |t: DateTime<Utc>| t.with_timezone(&self.tz).naive_local();
        let first = start.and_time(NaiveTime::MIN);
        let after_last = (end + Duration::days(1)).and_time(NaiveTime::MIN);
        local(self.from) > first || local(self.until) < after_last
    }

    fn bucket(&self, label: String, start: NaiveDate, end: NaiveDate, stats: Stats) -> Bucket {
        Bucket {
            bucket: label,
            start: start.to_string(),
            end: end.to_string(),
            partial: self.partial(start, end),
            stats,
        }
    }
}

/// What a metric needs of one alert: when it was reported, first accepted and resolved.
struct Fact {
    reported: DateTime<Utc>,
    accepted: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    source: (i64, String),
    policy: (i64, String),
}

fn at(raw: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Every alert reported in the window, or `None` past [`MAX_ALERTS`].
async fn facts(
    api: &Session,
    q: &mut AlertQuery,
    priority: &str,
) -> Result<Option<Vec<Fact>>, String> {
    let mut out = Vec::new();
    loop {
        if q.start_index >= MAX_ALERTS {
            return Ok(None);
        }
        let page = api
            .list_alert_page(q)
            .await
            .map_err(|e| explain(&e, "the alert list"))?;
        let alerts = page
            .summaries()
            .map_err(|e| explain(&e, "the alert list"))?;
        let full = alerts.len() as u32 == MAX_ALERTS_PER_PAGE;
        for a in alerts {
            if priority != "ALL" && a.priority.as_deref() != Some(priority) {
                continue;
            }
            let Some(reported) = at(a.report_time.as_deref()) else {
                continue;
            };
            let named = |r: Option<&ilert_client::SummaryRef<'_>>| {
                r.map_or((0, "none".to_owned()), |r| {
                    (
                        r.id,
                        untrusted::inline(r.name.as_deref().unwrap_or_default()).into_owned(),
                    )
                })
            };
            out.push(Fact {
                reported,
                accepted: a
                    .responders
                    .iter()
                    .filter_map(|r| at(r.accepted_at.as_deref()))
                    .min(),
                resolved: at(a.resolved_on.as_deref()),
                source: named(a.alert_source.as_ref()),
                policy: named(a.escalation_policy.as_ref()),
            });
        }
        if !full {
            return Ok(Some(out));
        }
        q.start_index += MAX_ALERTS_PER_PAGE;
    }
}

/// Sums of seconds to accept and to resolve, and how many alerts each covers.
#[derive(Default)]
struct Acc {
    count: u64,
    accept: (i64, u64),
    resolve: (i64, u64),
}

impl Acc {
    fn add(&mut self, f: &Fact) {
        self.count += 1;
        if let Some(a) = f.accepted {
            self.accept.0 += (a - f.reported).num_seconds().max(0);
            self.accept.1 += 1;
        }
        if let Some(r) = f.resolved {
            self.resolve.0 += (r - f.reported).num_seconds().max(0);
            self.resolve.1 += 1;
        }
    }

    fn stats(&self) -> Stats {
        let mean = |(sum, n): (i64, u64)| (n > 0).then(|| minutes(sum as f64 / n as f64));
        Stats {
            count: self.count,
            basis: Some((self.accept.1, self.resolve.1)),
            mtta_minutes: mean(self.accept),
            mttr_minutes: mean(self.resolve),
        }
    }
}

fn summarise(facts: &[Fact], w: &Window) -> MetricsOutput {
    let mut total = Acc::default();
    let mut periods: BTreeMap<NaiveDate, (String, NaiveDate, Acc)> = BTreeMap::new();
    let mut sources: BTreeMap<i64, (String, Acc)> = BTreeMap::new();
    let mut policies: BTreeMap<i64, (String, Acc)> = BTreeMap::new();
    for f in facts {
        total.add(f);
        let day = f.reported.with_timezone(&w.tz).date_naive();
        let (label, start, end) = w.group_by.period(day);
        periods
            .entry(start)
            .or_insert_with(|| (label, end, Acc::default()))
            .2
            .add(f);
        for ((id, name), map) in [(&f.source, &mut sources), (&f.policy, &mut policies)] {
            map.entry(*id)
                .or_insert_with(|| (name.clone(), Acc::default()))
                .1
                .add(f);
        }
    }
    let groups = |map: BTreeMap<i64, (String, Acc)>| {
        top(map
            .into_iter()
            .map(|(id, (name, acc))| GroupStats {
                id,
                name,
                stats: acc.stats(),
            })
            .collect())
    };
    let (by_source, more_sources) = groups(sources);
    let (by_policy, more_policies) = groups(policies);
    MetricsOutput {
        from: show(w.from, w.tz),
        until: show(w.until, w.tz),
        group_by: w.group_by.name().into(),
        total: total.stats(),
        buckets: periods
            .into_iter()
            .map(|(start, (label, end, acc))| w.bucket(label, start, end, acc.stats()))
            .collect(),
        by_source,
        by_policy,
        note: more_note(more_sources, more_policies),
    }
}

/// The [`TOP_GROUPS`] biggest groups, and how many more there are.
fn top(mut groups: Vec<GroupStats>) -> (Vec<GroupStats>, usize) {
    groups.sort_by(|a, b| b.stats.count.cmp(&a.stats.count).then(a.id.cmp(&b.id)));
    let more = groups.len().saturating_sub(TOP_GROUPS);
    groups.truncate(TOP_GROUPS);
    (groups, more)
}

fn more_note(sources: usize, policies: usize) -> Option<String> {
    (sources + policies > 0).then(|| {
        format!("Breakdowns show the top {TOP_GROUPS}: {sources} more sources and {policies} more policies not listed.")
    })
}

/// More alerts than [`MAX_ALERTS`]: counts from ilert's reports (the series and the per source
/// and policy summary), without means, which ilert's per-group figures cannot combine exactly.
async fn counts_only(
    refs: &RefCache,
    api: &Session,
    q: &ReportQuery,
    w: &Window,
) -> Result<MetricsOutput, String> {
    let (series, summary) = tokio::join!(api.alert_report(q), api.alert_report_summary(q));
    let series = series.map_err(|e| explain(&e, "the alert report"))?;
    let summary = summary.map_err(|e| explain(&e, "the alert report summary"))?;
    let mut periods: BTreeMap<String, u64> = BTreeMap::new();
    for row in &series {
        if let Some((label, value)) = series_cell(row) {
            *periods.entry(label).or_default() += value;
        }
    }
    let (source_names, policy_names) =
        tokio::join!(refs.list(api, Kind::Source), refs.list(api, Kind::Policy));
    let name_of = |list: &Result<std::sync::Arc<Vec<Named>>, _>, id: i64| {
        list.as_ref()
            .ok()
            .and_then(|l| l.iter().find(|n| n.id == id).map(|n| n.name.clone()))
            .unwrap_or_else(|| format!("id {id}"))
    };
    let mut sources: BTreeMap<i64, u64> = BTreeMap::new();
    let mut policies: BTreeMap<i64, u64> = BTreeMap::new();
    let mut total = 0;
    for row in &summary {
        let count = row.count.unwrap_or(0.0).max(0.0) as u64;
        total += count;
        *sources
            .entry(row.alert_source_id.unwrap_or(0.0) as i64)
            .or_default() += count;
        *policies
            .entry(row.escalation_policy_id.unwrap_or(0.0) as i64)
            .or_default() += count;
    }
    let group = |map: BTreeMap<i64, u64>, names: &Result<std::sync::Arc<Vec<Named>>, _>| {
        top(map
            .into_iter()
            .map(|(id, count)| GroupStats {
                id,
                name: name_of(names, id),
                stats: Stats {
                    count,
                    ..Default::default()
                },
            })
            .collect())
    };
    let (by_source, _) = group(sources, &source_names);
    let (by_policy, _) = group(policies, &policy_names);
    let buckets = periods
        .into_iter()
        .filter_map(|(label, count)| {
            let start = period_start(&label)?;
            let (_, start, end) = w.group_by.period(start);
            Some(w.bucket(
                label,
                start,
                end,
                Stats {
                    count,
                    ..Default::default()
                },
            ))
        })
        .collect();
    Ok(MetricsOutput {
        from: show(w.from, w.tz),
        until: show(w.until, w.tz),
        group_by: w.group_by.name().into(),
        total: Stats {
            count: total,
            ..Default::default()
        },
        buckets,
        by_source,
        by_policy,
        note: Some(format!(
            "More than {MAX_ALERTS} alerts: counts only, from ilert's reports. Narrow the range or filter for MTTA and MTTR."
        )),
    })
}

/// `[source, policy, number, period, value]`: the period label and the count.
fn series_cell(row: &[serde_json::Value]) -> Option<(String, u64)> {
    let label = row
        .iter()
        .filter_map(|c| c.as_str())
        .find(|s| period_start(s).is_some())?;
    let value = row.last()?.as_f64()?;
    Some((label.to_owned(), value.max(0.0) as u64))
}

/// The first day of a period label: 2026-11-17, 2026-W47 or 2026-11.
fn period_start(label: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(label, "%Y-%m-%d")
        .ok()
        .or_else(|| {
            let (year, week) = label.split_once("-W")?;
            NaiveDate::from_isoywd_opt(year.parse().ok()?, week.parse().ok()?, Weekday::Mon)
        })
        .or_else(|| NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d").ok())
}

/// Seconds to minutes, one decimal.
fn minutes(seconds: f64) -> f64 {
    (seconds / 6.0).round() / 10.0
}

/// "14.5 min" under an hour, "2h 5m" above.
fn mins(m: Option<f64>) -> String {
    match m {
        None => "-".into(),
        Some(m) if m < 60.0 => format!("{m} min"),
        Some(m) => times::human(Duration::seconds((m * 60.0) as i64)),
    }
}

/// "4 alerts, MTTA 26.0 min (1 accepted), MTTR none (0 resolved)": a mean says what it rests on.
fn stats_text(s: &Stats) -> String {
    let (accepted, resolved) = match s.basis {
        Some((a, r)) => (format!(" ({a} accepted)"), format!(" ({r} resolved)")),
        None => (String::new(), String::new()),
    };
    format!(
        "{} alert{}, MTTA {}{accepted}, MTTR {}{resolved}",
        s.count,
        if s.count == 1 { "" } else { "s" },
        mins(s.mtta_minutes),
        mins(s.mttr_minutes)
    )
}

fn metrics_text(out: &MetricsOutput) -> String {
    let mut text = format!(
        "From {} to {} (per {}): {}.",
        out.from,
        out.until,
        out.group_by.to_lowercase(),
        stats_text(&out.total)
    );
    for b in &out.buckets {
        let days = if b.start == b.end {
            String::new()
        } else {
            format!(" ({} to {})", b.start, b.end)
        };
        let partial = if b.partial { " [partial]" } else { "" };
        text.push_str(&format!(
            "\n{}{days}{partial}: {}",
            b.bucket,
            stats_text(&b.stats)
        ));
    }
    // The breakdowns cover the whole window, not the last period listed above them.
    for (title, groups) in [
        ("By source, whole window", &out.by_source),
        ("By policy, whole window", &out.by_policy),
    ] {
        if groups.is_empty() {
            continue;
        }
        text.push_str(&format!("\n{title}:"));
        for g in groups {
            text.push_str(&format!(
                "\n  {} (id {}): {}",
                untrusted::quoted(&g.name),
                g.id,
                stats_text(&g.stats)
            ));
        }
    }
    if let Some(note) = &out.note {
        text.push_str(&format!("\n{note}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn periods_carry_their_dates_and_partial_ones_are_marked() {
        let thu = NaiveDate::from_ymd_opt(2026, 11, 19).unwrap();
        let (label, start, end) = GroupBy::Week.period(thu);
        assert_eq!(
            (label.as_str(), start.to_string(), end.to_string()),
            ("2026-W47", "2026-11-16".into(), "2026-11-22".into())
        );
        let (label, start, end) = GroupBy::Month.period(thu);
        assert_eq!(
            (label.as_str(), start.to_string(), end.to_string()),
            ("2026-11", "2026-11-01".into(), "2026-11-30".into())
        );
        assert_eq!(period_start("2026-W47"), Some(start + Duration::days(15)));
        let w = Window {
            from: Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 0).unwrap(),
            until: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
            tz: Tz::UTC,
            group_by: GroupBy::Week,
        };
        let monday = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
        assert!(w.partial(monday, monday + Duration::days(6)));
        assert!(!w.partial(monday, monday));
    }

    #[test]
    fn means_are_over_the_alerts_that_were_accepted_or_resolved() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 17, 8, 0, 0).unwrap();
        let fact = |source: i64, accept: Option<i64>, resolve: Option<i64>| Fact {
            reported: t0,
            accepted: accept.map(|m| t0 + Duration::minutes(m)),
            resolved: resolve.map(|m| t0 + Duration::minutes(m)),
            source: (source, format!("s{source}")),
            policy: (9, "p".into()),
        };
        // Source 1: 3 alerts, one accepted after 10 min. Source 2: one accepted after 20 min.
        // The alerts' own mean is 15 min; weighting the groups by alert count would say 12.5.
        let facts = [
            fact(1, Some(10), Some(30)),
            fact(1, None, None),
            fact(1, None, None),
            fact(2, Some(20), None),
        ];
        let w = Window {
            from: t0 - Duration::days(1),
            until: t0 + Duration::days(1),
            tz: Tz::UTC,
            group_by: GroupBy::Day,
        };
        let out = summarise(&facts, &w);
        assert_eq!(out.total.count, 4);
        assert_eq!(out.total.mtta_minutes, Some(15.0));
        assert_eq!(out.total.mttr_minutes, Some(30.0));
        assert_eq!(out.buckets.len(), 1);
        assert_eq!(out.buckets[0].stats.mtta_minutes, Some(15.0));
        assert_eq!(
            out.by_source
                .iter()
                .map(|g| (g.id, g.stats.count))
                .collect::<Vec<_>>(),
            vec![(1, 3), (2, 1)]
        );
    }
}
