//! Incidents (status communication): `GET/POST /incidents`, `GET/PUT /incidents/{id}` with ETag
//! and `If-Match`, `POST /incidents/publish-info`.
//!
//! ilert's 2026 incident model: in accounts created after May 2026 (and older ones as ilert
//! migrates them), `/incidents` is the incident coordination record and these status updates
//! live at `/status-updates`, same shape. Every call here goes to whichever the account has,
//! found once per key with `GET /status-updates?max-results=1` (404: classic) and remembered
//! per key for an hour, so a migrated account is noticed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// Where status updates live for each key that has asked (by the key's SHA-256, never the key).
#[derive(Debug, Default)]
pub(crate) struct StatusUpdatePaths {
    known: Mutex<HashMap<[u8; 32], (Instant, &'static str)>>,
}

/// How long a detected model is trusted before it is checked again.
const MODEL_TTL: Duration = Duration::from_secs(3600);

impl StatusUpdatePaths {
    fn get(&self, digest: &[u8; 32]) -> Option<&'static str> {
        let known = self.known.lock().ok()?;
        known
            .get(digest)
            .filter(|(at, _)| at.elapsed() < MODEL_TTL)
            .map(|(_, path)| *path)
    }

    fn put(&self, digest: [u8; 32], path: &'static str) {
        if let Ok(mut known) = self.known.lock() {
            if known.len() > 50_000 {
                known.retain(|_, (at, _)| at.elapsed() < MODEL_TTL);
            }
            known.insert(digest, (Instant::now(), path));
        }
    }
}

impl Session {
    /// `/status-updates` where the key's account has ilert's 2026 incident model, `/incidents`
    /// otherwise. Asked of ilert once per key (and hour); an error other than 404 is passed on
    /// and nothing is remembered.
    pub async fn status_updates_path(&self) -> Result<&'static str, ApiError> {
        let digest: [u8; 32] = Sha256::digest(self.key().expose().as_bytes()).into();
        let known = self.status_update_paths();
        if let Some(path) = known.get(&digest) {
            return Ok(path);
        }
        let probe =
            Call::new(Method::GET, "/status-updates").query(vec![("max-results", "1".into())]);
        let path = match self.fetch(probe).await {
            Ok(_) => "/status-updates",
            Err(ApiError::NotFound { .. }) => "/incidents",
            Err(e) => return Err(e),
        };
        known.put(digest, path);
        Ok(path)
    }

    pub async fn list_incidents(&self, q: &IncidentQuery) -> Result<Vec<Incident>, ApiError> {
        let mut query: Vec<_> = repeat("states", &q.states)
            .chain(repeat("services", &q.services))
            .collect();
        query.extend(q.from.iter().map(|t| ("from", t.clone())));
        query.extend(q.until.iter().map(|t| ("until", t.clone())));
        query.extend(q.page.query(MAX_INCIDENTS_PER_PAGE));
        let base = self.status_updates_path().await?;
        self.call(Method::GET, base, &query).await
    }

    /// `GET /incidents/{id}?include=history`, with its ETag.
    pub async fn get_incident(&self, id: i64) -> Result<Versioned<Incident>, ApiError> {
        let path = format!("{}/{id}", self.status_updates_path().await?);
        let answer = self
            .fetch(Call::new(Method::GET, &path).query(vec![("include", "history".into())]))
            .await?;
        Ok(Versioned {
            value: answer.decode(&path)?,
            etag: answer.etag,
        })
    }

    pub async fn create_incident(&self, body: &IncidentWrite) -> Result<Incident, ApiError> {
        let base = self.status_updates_path().await?;
        self.fetch(Call::new(Method::POST, base).json(body)?)
            .await?
            .decode(base)
    }

    /// `PUT /incidents/{id}`; with `if_match`, ilert answers 412 when someone updated it meanwhile.
    pub async fn update_incident(
        &self,
        id: i64,
        body: &IncidentWrite,
        if_match: Option<&str>,
    ) -> Result<Incident, ApiError> {
        let path = format!("{}/{id}", self.status_updates_path().await?);
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
        let path = format!("{}/publish-info", self.status_updates_path().await?);
        let mut call = Call::new(Method::POST, &path).json(body)?;
        call.idempotent = true;
        self.fetch(call).await?.decode(&path)
    }
}
