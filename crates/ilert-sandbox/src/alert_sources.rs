//! Alert sources (ilert `AlertSource`, `AlertSourceNoIncludes`, `AlertSourceRel`): storage, JSON
//! and `/api/alert-sources`, where a source is found by id or by its integration key.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Action, Caller};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::escalation_policies;
use crate::query::{Paging, Params};
use crate::time::IsoDuration;
use crate::{input, reply, teams, time};

#[derive(Debug, Clone)]
pub struct AlertSource {
    pub id: i64,
    pub name: String,
    pub integration_type: String,
    pub integration_key: String,
    pub escalation_policy_id: i64,
    pub alert_creation: String,
    pub alert_priority_rule: String,
    pub auto_resolution_timeout: Option<String>,
    pub alert_grouping_window: Option<String>,
    pub active: bool,
    pub teams: Vec<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub pending: i64,
    pub accepted: i64,
}

impl AlertSource {
    /// ilert's read-only `status`, derived from the source's open alerts and maintenance.
    pub fn status(&self, cat: &Catalog, now: i64) -> &'static str {
        if !self.active {
            "DISABLED"
        } else if cat.source_in_maintenance(self.id, now) {
            "IN_MAINTENANCE"
        } else if self.pending > 0 {
            "PENDING"
        } else if self.accepted > 0 {
            "ALL_ACCEPTED"
        } else {
            "ALL_RESOLVED"
        }
    }

    /// The priority of a new alert when the event does not set one.
    pub fn default_priority(&self) -> &'static str {
        if self.alert_priority_rule.starts_with("LOW") {
            "LOW"
        } else {
            "HIGH"
        }
    }
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<HashMap<i64, AlertSource>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.name, s.integration_type, s.integration_key, s.escalation_policy_id, \
                s.alert_creation, s.alert_priority_rule, s.auto_resolution_timeout, \
                s.alert_grouping_window, s.active, s.teams, s.created_at, s.updated_at, \
                (SELECT COUNT(*) FROM alerts a WHERE a.alert_source_id = s.id AND a.status = 'PENDING'), \
                (SELECT COUNT(*) FROM alerts a WHERE a.alert_source_id = s.id AND a.status = 'ACCEPTED') \
         FROM alert_sources s",
    )?;
    let rows = stmt.query_map([], |r| {
        let teams: String = r.get(10)?;
        Ok(AlertSource {
            id: r.get(0)?,
            name: r.get(1)?,
            integration_type: r.get(2)?,
            integration_key: r.get(3)?,
            escalation_policy_id: r.get(4)?,
            alert_creation: r.get(5)?,
            alert_priority_rule: r.get(6)?,
            auto_resolution_timeout: r.get(7)?,
            alert_grouping_window: r.get(8)?,
            active: r.get(9)?,
            teams: input::stored_ids(&teams),
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
            pending: r.get(13)?,
            accepted: r.get(14)?,
        })
    })?;
    rows.map(|r| r.map(|s| (s.id, s))).collect()
}

/// `AlertSource` without the template includes. ilert sends the integration key only to callers
/// who may change the source; others get it left out.
pub fn source_json(source: &AlertSource, cat: &Catalog, now: i64, show_key: bool) -> Value {
    let policy = match cat.policies.get(&source.escalation_policy_id) {
        Some(p) => escalation_policies::policy_json(p, cat),
        None => json!({"id": source.escalation_policy_id}),
    };
    json!({
        "id": source.id,
        "name": source.name,
        "integrationType": source.integration_type,
        "integrationKey": show_key.then_some(&source.integration_key),
        "escalationPolicy": policy,
        "alertCreation": source.alert_creation,
        "alertPriorityRule": source.alert_priority_rule,
        "autoResolutionTimeout": source.auto_resolution_timeout,
        "alertGroupingWindow": source.alert_grouping_window,
        "active": source.active,
        "status": source.status(cat, now),
        "teams": teams::team_refs(&source.teams, cat),
        "createdAt": time::format_ms(source.created_at),
        "updatedAt": time::format_ms(source.updated_at),
    })
}

/// `il1` keys as ilert issues them: a short type prefix and random hex.
pub fn new_integration_key(kind: &str) -> String {
    let prefix: String = kind
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect::<String>()
        .to_lowercase();
    let mut hex = String::new();
    while hex.len() < 20 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_i64(time::real_now_ms());
        hex.push_str(&format!("{:016x}", h.finish()));
    }
    hex.truncate(24 - prefix.len().min(8));
    format!("il1{prefix}{hex}")
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alert-sources", get(list).post(create))
        .route(
            "/alert-sources/{id}",
            get(get_one).put(update).delete(remove),
        )
}

/// `/alert-sources` paging: default 50 and at most 50.
const DEFAULT_MAX_RESULTS: i64 = 50;
const MAX_RESULTS_CAP: i64 = 50;

const ALERT_CREATION: &[&str] = &[
    "ONE_ALERT_PER_EMAIL",
    "ONE_ALERT_PER_EMAIL_SUBJECT",
    "ONE_PENDING_ALERT_ALLOWED",
    "ONE_OPEN_ALERT_ALLOWED",
    "OPEN_RESOLVE_ON_EXTRACTION",
    "ONE_ALERT_GROUPED_PER_WINDOW",
    "INTELLIGENT_GROUPING",
];
const PRIORITY_RULES: &[&str] = &[
    "HIGH",
    "LOW",
    "HIGH_DURING_SUPPORT_HOURS",
    "LOW_DURING_SUPPORT_HOURS",
];

fn not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!("Alert source {id} not found"))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let Paging {
        start_index,
        max_results,
    } = params.paging(DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP)?;
    let now = state.clock.now_ms();
    let show_key = caller.require(Action::Configure, "").is_ok();
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let mut list: Vec<&AlertSource> = cat
                .sources
                .values()
                .filter(|s| caller.in_context(&s.teams, &cat))
                .collect();
            list.sort_by_key(|s| s.id);
            Ok(list
                .into_iter()
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .map(|s| source_json(s, &cat, now, show_key))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

fn render(conn: &Connection, id: i64, now: i64, show_key: bool) -> ApiResult<Value> {
    let cat = Catalog::load(conn)?;
    let source = cat.sources.get(&id).ok_or_else(|| not_found(id))?;
    Ok(source_json(source, &cat, now, show_key))
}

/// `{id}` is a numeric id or an integration key.
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now_ms();
    let show_key = caller.require(Action::Configure, "").is_ok();
    let out = state
        .db
        .call(move |conn| {
            let id: Option<i64> = conn
                .query_row(
                    "SELECT id FROM alert_sources WHERE CAST(id AS TEXT) = ?1 OR integration_key = ?1",
                    [raw.trim()],
                    |r| r.get(0),
                )
                .optional()?;
            let id = id.ok_or_else(|| not_found(&raw))?;
            render(conn, id, now, show_key)
        })
        .await?;
    Ok(reply::json(out))
}

struct SourceInput {
    name: String,
    integration_type: String,
    integration_key: Option<String>,
    policy: i64,
    alert_creation: String,
    alert_priority_rule: String,
    auto_resolution_timeout: Option<String>,
    alert_grouping_window: Option<String>,
    active: bool,
    teams: Vec<i64>,
}

fn duration_field(o: &input::Object, field: &str) -> ApiResult<Option<String>> {
    match input::opt_str(o, field)? {
        Some(d) if IsoDuration::parse(&d).is_none() => Err(ApiError::bad_request(format!(
            "Field '{field}' must be an ISO-8601 duration such as PT4H, got '{d}'"
        ))),
        other => Ok(other),
    }
}

impl SourceInput {
    fn parse(body: &Value) -> ApiResult<SourceInput> {
        let o = input::object(body, "AlertSourceRel")?;
        let integration_type = input::req_str(o, "integrationType")?.to_ascii_uppercase();
        let policy = input::opt_ref(o, "escalationPolicy")?
            .ok_or_else(|| ApiError::bad_request("Field 'escalationPolicy' is required"))?;
        Ok(SourceInput {
            name: input::req_str(o, "name")?,
            integration_type,
            integration_key: input::opt_str(o, "integrationKey")?.filter(|k| !k.trim().is_empty()),
            policy,
            alert_creation: input::opt_enum(o, "alertCreation", ALERT_CREATION)?
                .unwrap_or_else(|| "ONE_ALERT_PER_EMAIL".to_owned()),
            alert_priority_rule: input::opt_enum(o, "alertPriorityRule", PRIORITY_RULES)?
                .unwrap_or_else(|| "HIGH".to_owned()),
            auto_resolution_timeout: duration_field(o, "autoResolutionTimeout")?,
            alert_grouping_window: duration_field(o, "alertGroupingWindow")?,
            active: input::opt_bool(o, "active")?.unwrap_or(true),
            teams: input::ref_list(o, "teams")?,
        })
    }

    fn check(&self, conn: &Connection) -> ApiResult<()> {
        let cat = Catalog::load(conn)?;
        if !cat.policies.contains_key(&self.policy) {
            return Err(ApiError::bad_request(format!(
                "Escalation policy {} does not exist",
                self.policy
            )));
        }
        Ok(())
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "create alert sources")?;
    let s = SourceInput::parse(&body)?;
    let now = state.clock.now_ms();
    let (id, out) = state
        .db
        .call(move |conn| {
            s.check(conn)?;
            let key = s.integration_key.clone().unwrap_or_else(|| new_integration_key(&s.integration_type));
            conn.execute(
                "INSERT INTO alert_sources (name, integration_type, integration_key, escalation_policy_id, \
                 alert_creation, alert_priority_rule, auto_resolution_timeout, alert_grouping_window, active, \
                 teams, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                params![
                    s.name,
                    s.integration_type,
                    key,
                    s.policy,
                    s.alert_creation,
                    s.alert_priority_rule,
                    s.auto_resolution_timeout,
                    s.alert_grouping_window,
                    s.active,
                    input::ids_text(&s.teams),
                    now
                ],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    ApiError::bad_request("The integration key is already used by another alert source")
                }
                other => other.into(),
            })?;
            let id = conn.last_insert_rowid();
            Ok((id, render(conn, id, now, true)?))
        })
        .await?;
    let mut response = reply::created(out);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/alert-sources/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "change alert sources")?;
    let id = input::path_id(&raw, "alert source")?;
    let s = SourceInput::parse(&body)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            s.check(conn)?;
            let n = conn.execute(
                "UPDATE alert_sources SET name = ?1, integration_type = ?2, \
                 integration_key = COALESCE(?3, integration_key), escalation_policy_id = ?4, alert_creation = ?5, \
                 alert_priority_rule = ?6, auto_resolution_timeout = ?7, alert_grouping_window = ?8, active = ?9, \
                 teams = ?10, updated_at = ?11 WHERE id = ?12",
                params![
                    s.name,
                    s.integration_type,
                    s.integration_key,
                    s.policy,
                    s.alert_creation,
                    s.alert_priority_rule,
                    s.auto_resolution_timeout,
                    s.alert_grouping_window,
                    s.active,
                    input::ids_text(&s.teams),
                    now,
                    id
                ],
            )?;
            if n == 0 {
                return Err(not_found(id));
            }
            render(conn, id, now, true)
        })
        .await?;
    Ok(reply::json(out))
}

/// Deleting a source deletes its alerts, as in ilert.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "delete alert sources")?;
    let id = input::path_id(&raw, "alert source")?;
    state
        .db
        .delete_by_id("alert_sources", id, not_found)
        .await?;
    Ok(reply::no_content())
}
