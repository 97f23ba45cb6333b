//! Services, status pages and maintenance windows: `GET /services[/{id}]`, `GET /status-pages`,
//! `GET/POST /maintenance-windows`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::common::{Page, TeamRef, repeat};
use crate::http::Call;
use crate::incidents::{IdOnly, Incident};
use crate::{ApiError, Session};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Service {
    pub id: i64,
    pub name: Option<String>,
    pub alias: Option<String>,
    /// OPERATIONAL, UNDER_MAINTENANCE, DEGRADED, PARTIAL_OUTAGE or MAJOR_OUTAGE.
    pub status: Option<String>,
    pub description: Option<String>,
    pub teams: Vec<TeamRef>,
    pub uptime: Option<Uptime>,
    pub incidents: Vec<Incident>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Uptime {
    pub range_start: Option<String>,
    pub range_end: Option<String>,
    pub outages: Vec<Outage>,
    pub uptime_percentage: Option<UptimePercentage>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Outage {
    pub status: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
}

/// ilert nests the figures one level deeper than the name suggests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UptimePercentage {
    pub uptime_percentage: Option<Percentiles>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Percentiles {
    pub p90: Option<f64>,
    pub p60: Option<f64>,
    pub p30: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StatusPage {
    pub id: i64,
    pub name: Option<String>,
    pub domain: Option<String>,
    pub subdomain: Option<String>,
    /// PUBLIC or PRIVATE.
    pub visibility: Option<String>,
    pub status: Option<String>,
    pub services: Vec<crate::incidents::ServiceRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MaintenanceWindow {
    pub id: Option<i64>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub timezone: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub services: Vec<crate::incidents::ServiceRef>,
    pub alert_sources: Vec<crate::alerts::NamedRef>,
    pub created_by: Option<String>,
}

/// Body of `POST /maintenance-windows`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceWindowWrite {
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub timezone: String,
    pub start: String,
    pub end: String,
    pub services: Vec<IdOnly>,
    pub alert_sources: Vec<IdOnly>,
}

/// `state` filter of `GET /maintenance-windows`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaintenanceQuery {
    /// OPEN or CLOSED.
    pub state: Option<String>,
    pub services: Vec<i64>,
    pub page: Page,
}

impl Session {
    /// `GET /services`; `with_uptime` asks for the uptime include (the page cap drops to 25).
    pub async fn list_services(
        &self,
        page: Page,
        with_uptime: bool,
    ) -> Result<Vec<Service>, ApiError> {
        let cap = if with_uptime { 25 } else { 100 };
        let mut query = page.query(cap);
        if with_uptime {
            query.push(("include", "uptime".into()));
        }
        self.call(Method::GET, "/services", &query).await
    }

    /// `GET /services/{id}?include=uptime&include=incidents`.
    pub async fn get_service(&self, id: i64) -> Result<Service, ApiError> {
        let query = vec![
            ("include", "uptime".to_owned()),
            ("include", "incidents".to_owned()),
        ];
        self.call(Method::GET, &format!("/services/{id}"), &query)
            .await
    }

    pub async fn list_status_pages(&self, page: Page) -> Result<Vec<StatusPage>, ApiError> {
        self.call(Method::GET, "/status-pages", &page.query(50))
            .await
    }

    pub async fn list_maintenance_windows(
        &self,
        q: &MaintenanceQuery,
    ) -> Result<Vec<MaintenanceWindow>, ApiError> {
        let mut query: Vec<_> = q.state.iter().map(|s| ("state", s.clone())).collect();
        query.extend(repeat("services", &q.services));
        query.extend(q.page.query(100));
        self.call(Method::GET, "/maintenance-windows", &query).await
    }

    pub async fn create_maintenance_window(
        &self,
        body: &MaintenanceWindowWrite,
    ) -> Result<MaintenanceWindow, ApiError> {
        self.fetch(Call::new(Method::POST, "/maintenance-windows").json(body)?)
            .await?
            .decode("/maintenance-windows")
    }
}
