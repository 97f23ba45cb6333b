//! ilert's 2026 incident model (`--incident-model 2026`): accounts created after May 2026 have
//! `/api/incidents` as the incident *coordination* record, and the public status updates that
//! `/api/incidents` used to be live at `/api/status-updates` ([`crate::incidents`]).
//!
//! ilert publishes no schema for the coordination record yet. Its documentation names a title, a
//! severity (default SEV3) and a status that starts at DECLARED, so this is a read-only stand-in
//! with those fields, one record per status update: enough for a client that still sends status
//! updates to `/incidents` on such an account to see a different object, as it would at ilert.
//! Writes answer 405.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::incidents::{self, Incident};
use crate::query::{Paging, Params};
use crate::{input, reply, time};

/// Which kind of ilert account the sandbox is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncidentModel {
    /// `/incidents` are status updates; there is no `/status-updates`.
    #[default]
    Classic,
    /// `/incidents` are coordination records; status updates are at `/status-updates`.
    Coordination2026,
}

impl std::str::FromStr for IncidentModel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "classic" => Ok(IncidentModel::Classic),
            "2026" => Ok(IncidentModel::Coordination2026),
            other => Err(format!(
                "unknown incident model '{other}': use classic or 2026"
            )),
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(list))
        .route("/incidents/{id}", get(get_one))
}

fn record_json(i: &Incident) -> Value {
    json!({
        "id": i.id,
        "title": i.summary,
        "severity": "SEV3",
        "status": if i.status == "RESOLVED" { "RESOLVED" } else { "DECLARED" },
        "createdAt": time::format_ms(i.created_at),
        "updatedAt": time::format_ms(i.updated_at),
        "statusUpdates": [{"id": i.id}],
    })
}

async fn list(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let Paging {
        start_index,
        max_results,
    } = params.paging(10, 100)?;
    let out = state
        .db
        .call(move |conn| {
            Ok(incidents::load_all(conn)?
                .iter()
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .map(record_json)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

async fn get_one(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "incident")?;
    let out = state
        .db
        .call(move |conn| {
            incidents::load_all(conn)?
                .iter()
                .find(|i| i.id == id)
                .map(record_json)
                .ok_or_else(|| ApiError::not_found(format!("Incident {id} not found")))
        })
        .await?;
    Ok(reply::json(out))
}
