//! Incidents (status communication): `GET/POST /incidents`, `GET/PUT /incidents/{id}` with ETag
//! and `If-Match`, `POST /incidents/publish-info`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::common::{Page, TeamRef, repeat};
use crate::http::Call;
use crate::{ApiError, Session, UserRef};

/// ilert's caps for `GET /incidents`: 100, or 25 with `include`.
pub const MAX_INCIDENTS_PER_PAGE: u32 = 100;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Incident {
    pub id: i64,
    pub summary: Option<String>,
    /// INVESTIGATING, IDENTIFIED, MONITORING or RESOLVED.
    pub status: Option<String>,
    pub message: Option<String>,
    pub send_notification: Option<bool>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub resolved_on: Option<String>,
    pub affected_services: Vec<AffectedService>,
    pub affected_teams: Vec<TeamRef>,
    pub history: Vec<IncidentUpdate>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AffectedService {
    /// A ServiceStatus: OPERATIONAL, UNDER_MAINTENANCE, DEGRADED, PARTIAL_OUTAGE, MAJOR_OUTAGE.
    pub impact: Option<String>,
    pub service: ServiceRef,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceRef {
    pub id: i64,
    pub name: Option<String>,
    pub status: Option<String>,
    /// Teams owning the service (as ilert includes them in an incident's affected services).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<crate::TeamRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IncidentUpdate {
    pub id: Option<String>,
    pub content: Option<String>,
    pub creator: Option<UserRef>,
    pub incident_status: Option<String>,
    pub send_notification: Option<bool>,
    pub created_at: Option<String>,
}

/// Body of `POST /incidents` and `PUT /incidents/{id}` (spec `IncidentNoIncludes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentWrite {
    pub summary: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub send_notification: bool,
    pub affected_services: Vec<AffectedServiceWrite>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AffectedServiceWrite {
    pub impact: String,
    pub service: IdOnly,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdOnly {
    pub id: i64,
}

/// Who a published incident would reach.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PublishInfo {
    pub private_status_pages: Option<f64>,
    pub public_status_pages: Option<f64>,
    pub private_subscribers: Option<f64>,
    pub public_subscribers: Option<f64>,
}

/// Filters for `GET /incidents`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentQuery {
    pub states: Vec<String>,
    pub services: Vec<i64>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub page: Page,
}

/// An incident with the ETag to send back on update.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub etag: Option<String>,
}

impl Session {
    pub async fn list_incidents(&self, q: &IncidentQuery) -> Result<Vec<Incident>, ApiError> {
        let mut query: Vec<_> = repeat("states", &q.states)
            .chain(repeat("services", &q.services))
            .collect();
        query.extend(q.from.iter().map(|t| ("from", t.clone())));
        query.extend(q.until.iter().map(|t| ("until", t.clone())));
        query.extend(q.page.query(MAX_INCIDENTS_PER_PAGE));
        self.call(Method::GET, "/incidents", &query).await
    }

    /// `GET /incidents/{id}?include=history`, with its ETag.
    pub async fn get_incident(&self, id: i64) -> Result<Versioned<Incident>, ApiError> {
        let path = format!("/incidents/{id}");
        let answer = self
            .fetch(Call::new(Method::GET, &path).query(vec![("include", "history".into())]))
            .await?;
        Ok(Versioned {
            value: answer.decode(&path)?,
            etag: answer.etag,
        })
    }

    pub async fn create_incident(&self, body: &IncidentWrite) -> Result<Incident, ApiError> {
        self.fetch(Call::new(Method::POST, "/incidents").json(body)?)
            .await?
            .decode("/incidents")
    }

    /// `PUT /incidents/{id}`; with `if_match`, ilert answers 412 when someone updated it meanwhile.
    pub async fn update_incident(
        &self,
        id: i64,
        body: &IncidentWrite,
        if_match: Option<&str>,
    ) -> Result<Incident, ApiError> {
        let path = format!("/incidents/{id}");
        let mut call = Call::new(Method::PUT, &path).json(body)?.if_match(if_match);
        // A retried conditional update would fail its own precondition; a plain one is idempotent.
        call.idempotent = if_match.is_none();
        self.fetch(call).await?.decode(&path)
    }

    /// `POST /incidents/publish-info`: who publishing `body` would notify.
    pub async fn incident_publish_info(
        &self,
        body: &IncidentWrite,
    ) -> Result<PublishInfo, ApiError> {
        let mut call = Call::new(Method::POST, "/incidents/publish-info").json(body)?;
        call.idempotent = true;
        self.fetch(call).await?.decode("/incidents/publish-info")
    }
}
