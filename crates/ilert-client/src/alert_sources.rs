//! Alert sources and heartbeat monitors: `GET /alert-sources[/{id}]`, `GET /heartbeat-monitors`
//! (cursor paging through the `next-cursor` header).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::alerts::NamedRef;
use crate::common::{Page, TeamRef};
use crate::http::Call;
use crate::{ApiError, Session};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AlertSource {
    pub id: i64,
    pub name: Option<String>,
    pub integration_type: Option<String>,
    /// `null` for callers without update rights on the source.
    pub integration_key: Option<String>,
    pub escalation_policy: Option<NamedRef>,
    /// PENDING, ALL_ACCEPTED, ALL_RESOLVED, IN_MAINTENANCE or DISABLED.
    pub status: Option<String>,
    pub active: Option<bool>,
    pub teams: Vec<TeamRef>,
    /// Services this source reports on (newer accounts).
    pub services: Vec<NamedRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HeartbeatMonitor {
    pub id: i64,
    pub name: Option<String>,
    /// UNKNOWN, HEALTHY or OVERDUE.
    pub state: Option<String>,
    pub interval_sec: Option<i64>,
    pub alert_summary: Option<String>,
    pub alert_source: Option<NamedRef>,
    pub teams: Vec<TeamRef>,
    pub updated_at: Option<String>,
}

/// One page of heartbeat monitors and the cursor for the next.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeartbeatPage {
    pub monitors: Vec<HeartbeatMonitor>,
    pub next_cursor: Option<String>,
}

impl Session {
    pub async fn list_alert_sources(&self, page: Page) -> Result<Vec<AlertSource>, ApiError> {
        self.call(Method::GET, "/alert-sources", &page.query(50))
            .await
    }

    pub async fn get_alert_source(&self, id: i64) -> Result<AlertSource, ApiError> {
        self.call(Method::GET, &format!("/alert-sources/{id}"), &[])
            .await
    }

    /// `GET /heartbeat-monitors?cursor=`; ilert pages these by cursor (max 200), not by index.
    pub async fn list_heartbeat_monitors(
        &self,
        cursor: Option<&str>,
        max_results: u32,
    ) -> Result<HeartbeatPage, ApiError> {
        let mut query = vec![("max-results", max_results.clamp(1, 200).to_string())];
        query.extend(cursor.map(|c| ("cursor", c.to_owned())));
        let answer = self
            .fetch(Call::new(Method::GET, "/heartbeat-monitors").query(query))
            .await?;
        Ok(HeartbeatPage {
            monitors: answer.decode("/heartbeat-monitors")?,
            next_cursor: answer.next_cursor,
        })
    }
}
