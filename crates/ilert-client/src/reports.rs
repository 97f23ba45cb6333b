//! Alert reports: `GET /reports/alerts` (a time series) and `GET /reports/alerts/summary`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::common::repeat;
use crate::{ApiError, Session};

/// What to measure, how to bucket it, and over which alerts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportQuery {
    /// COUNT, MTTA or MTTR.
    pub metric: String,
    /// DAY, WEEK or MONTH.
    pub group_by: String,
    /// LOW, HIGH or ALL.
    pub priority: String,
    pub sources: Vec<i64>,
    pub policies: Vec<i64>,
    pub from: String,
    pub until: String,
    pub timezone: Option<String>,
}

/// One row of the summary: totals per source or policy. Times are in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReportSummaryRow {
    pub alert_source_id: Option<f64>,
    pub escalation_policy_id: Option<f64>,
    pub count: Option<f64>,
    pub mtta: Option<f64>,
    pub mttr: Option<f64>,
}

impl ReportQuery {
    fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("metric", self.metric.clone()),
            ("group-by", self.group_by.clone()),
            ("priority", self.priority.clone()),
            ("from", self.from.clone()),
            ("until", self.until.clone()),
        ];
        q.extend(repeat("sources", &self.sources));
        q.extend(repeat("policies", &self.policies));
        q.extend(self.timezone.iter().map(|t| ("timezone", t.clone())));
        q
    }
}

impl Session {
    /// Rows of `[bucket, value]` (ilert sends mixed strings and numbers).
    pub async fn alert_report(
        &self,
        q: &ReportQuery,
    ) -> Result<Vec<Vec<serde_json::Value>>, ApiError> {
        self.call(Method::GET, "/reports/alerts", &q.to_query())
            .await
    }

    pub async fn alert_report_summary(
        &self,
        q: &ReportQuery,
    ) -> Result<Vec<ReportSummaryRow>, ApiError> {
        self.call(Method::GET, "/reports/alerts/summary", &q.to_query())
            .await
    }
}
