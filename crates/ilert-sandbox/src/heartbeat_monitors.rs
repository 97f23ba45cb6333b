//! Heartbeat monitors (ilert `HeartbeatMonitor`, `HeartbeatMonitorNoIncludes`,
//! `HeartbeatMonitorRel`): `/api/heartbeat-monitors` with cursor paging (`?cursor=` in,
//! `next-cursor` header out), and the ping `GET|HEAD|POST /api/pings/{key}` that ilert serves on
//! its beat host, here without authentication like there.
//!
//! `state` is computed: UNKNOWN before the first ping, HEALTHY while the last ping is at most
//! `intervalSec` old, OVERDUE after that.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Action, Caller};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::query::Params;
use crate::{alert_sources, input, reply, teams, time};

#[derive(Debug, Clone)]
struct Monitor {
    id: i64,
    name: String,
    interval_sec: i64,
    alert_summary: Option<String>,
    alert_source_id: Option<i64>,
    integration_key: String,
    teams: Vec<i64>,
    last_ping: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, name, interval_sec, alert_summary, alert_source_id, integration_key, teams, last_ping, \
     created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Monitor> {
    let teams: String = r.get(6)?;
    Ok(Monitor {
        id: r.get(0)?,
        name: r.get(1)?,
        interval_sec: r.get(2)?,
        alert_summary: r.get(3)?,
        alert_source_id: r.get(4)?,
        integration_key: r.get(5)?,
        teams: input::stored_ids(&teams),
        last_ping: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

fn load(conn: &Connection, id: i64) -> rusqlite::Result<Option<Monitor>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM heartbeat_monitors WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

impl Monitor {
    fn state(&self, now: i64) -> &'static str {
        match self.last_ping {
            None => "UNKNOWN",
            Some(t) if now - t <= self.interval_sec * 1000 => "HEALTHY",
            Some(_) => "OVERDUE",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Includes {
    key: bool,
    url: bool,
    source: bool,
}

impl Includes {
    fn from_params(params: &Params, single: bool) -> Includes {
        let set = params.includes();
        Includes {
            key: set.contains("integrationKey"),
            url: set.contains("integrationUrl"),
            source: single && set.contains("alertSource"),
        }
    }
}

/// Where pings go: this sandbox, as the request reached it.
fn ping_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/api/pings")
}

fn monitor_json(m: &Monitor, cat: &Catalog, now: i64, inc: Includes, base: &str) -> Value {
    let mut out = json!({
        "id": m.id,
        "name": m.name,
        "state": m.state(now),
        "intervalSec": m.interval_sec,
        "alertSummary": m.alert_summary,
        "createdAt": time::format_ms(m.created_at),
        "updatedAt": time::format_ms(m.updated_at),
        "teams": teams::team_refs(&m.teams, cat),
    });
    if let Some(obj) = out.as_object_mut() {
        if inc.key {
            obj.insert("integrationKey".into(), m.integration_key.clone().into());
        }
        if inc.url {
            obj.insert(
                "integrationUrl".into(),
                format!("{base}/{}", m.integration_key).into(),
            );
        }
        if inc.source
            && let Some(s) = m.alert_source_id.and_then(|id| cat.sources.get(&id))
        {
            obj.insert(
                "alertSource".into(),
                alert_sources::source_json(s, cat, now, true),
            );
        }
    }
    out
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/heartbeat-monitors", get(list).post(create))
        .route(
            "/heartbeat-monitors/{id}",
            get(get_one).put(update).delete(remove),
        )
}

/// Unauthenticated: the key in the path is the credential.
pub fn ping_routes() -> Router<AppState> {
    Router::new()
        .route("/pings/{key}", get(ping).head(ping).post(ping))
        // The legacy heartbeat URL, still served for old keys (NOTES 3.2) and still offered
        // by ilert's Rust crate as `heartbeat`.
        .route("/heartbeats/{key}", get(ping).head(ping))
}

/// Cursor paging: default 100, at most 200; `start-index` has no effect.
const DEFAULT_MAX_RESULTS: i64 = 100;
const MAX_RESULTS_CAP: i64 = 200;

fn not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!("Heartbeat monitor {id} not found"))
}

/// The cursor is the last id of the previous page; clients treat it as opaque.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Response> {
    let max_results = params
        .paging(DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP)?
        .max_results;
    let after: i64 = match params.single("cursor") {
        None => 0,
        Some(c) => c.parse().map_err(|_| {
            crate::query::invalid("cursor", c, "a cursor from a next-cursor header")
        })?,
    };
    let inc = Includes::from_params(&params, false);
    let now = state.clock.now_ms();
    let base = ping_base(&headers);
    let (page, more) = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            // Filtered for the team context before the page is cut, so pages stay full.
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM heartbeat_monitors WHERE id > ?1 ORDER BY id"
            ))?;
            let mut rows = Vec::new();
            for row in stmt.query_map(params![after], from_row)? {
                let m = row?;
                if caller.in_context(&m.teams, &cat) {
                    rows.push(m);
                }
                if rows.len() > usize::try_from(max_results).unwrap_or(0) {
                    break;
                }
            }
            let more = rows.len() > usize::try_from(max_results).unwrap_or(0);
            rows.truncate(usize::try_from(max_results).unwrap_or(0));
            let next = more.then(|| rows.last().map(|m| m.id)).flatten();
            Ok((
                rows.iter()
                    .map(|m| monitor_json(m, &cat, now, inc, &base))
                    .collect::<Vec<_>>(),
                next,
            ))
        })
        .await?;
    let mut response = reply::json(Value::Array(page)).into_response();
    if let Some(next) = more
        && let Ok(v) = HeaderValue::from_str(&next.to_string())
    {
        response.headers_mut().insert("next-cursor", v);
    }
    Ok(response)
}

async fn get_one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "heartbeat monitor")?;
    let inc = Includes::from_params(&params, true);
    let now = state.clock.now_ms();
    let base = ping_base(&headers);
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let m = load(conn, id)?.ok_or_else(|| not_found(id))?;
            Ok(monitor_json(&m, &cat, now, inc, &base))
        })
        .await?;
    Ok(reply::json(out))
}

struct MonitorInput {
    name: String,
    interval_sec: i64,
    alert_summary: Option<String>,
    alert_source: Option<i64>,
}

impl MonitorInput {
    fn parse(body: &Value) -> ApiResult<MonitorInput> {
        let o = input::object(body, "HeartbeatMonitorRel")?;
        let interval_sec = input::opt_i64(o, "intervalSec")?
            .ok_or_else(|| ApiError::bad_request("Field 'intervalSec' is required"))?;
        if !(25..=2_678_400).contains(&interval_sec) {
            return Err(ApiError::bad_request(
                "Field 'intervalSec' must be between 25 and 2678400",
            ));
        }
        Ok(MonitorInput {
            name: input::req_str(o, "name")?,
            interval_sec,
            alert_summary: input::opt_str(o, "alertSummary")?,
            alert_source: input::opt_ref(o, "alertSource")?,
        })
    }

    /// The given source, or the organisation's first heartbeat source.
    fn source(&self, cat: &Catalog) -> ApiResult<i64> {
        match self.alert_source {
            Some(id) if cat.sources.contains_key(&id) => Ok(id),
            Some(id) => Err(ApiError::bad_request(format!(
                "Alert source {id} does not exist"
            ))),
            None => {
                let mut heartbeat: Vec<i64> = cat
                    .sources
                    .values()
                    .filter(|s| s.integration_type.starts_with("HEARTBEAT"))
                    .map(|s| s.id)
                    .collect();
                heartbeat.sort_unstable();
                heartbeat
                    .first()
                    .copied()
                    .ok_or_else(|| ApiError::bad_request("Field 'alertSource' is required"))
            }
        }
    }
}

/// 201; a name that exists already is 409 with that monitor as the body.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    params: Params,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "create heartbeat monitors")?;
    let m = MonitorInput::parse(&body)?;
    let inc = Includes::from_params(&params, true);
    let now = state.clock.now_ms();
    let base = ping_base(&headers);
    let (status, out) = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let existing: Option<i64> = conn
                .query_row("SELECT id FROM heartbeat_monitors WHERE lower(name) = lower(?1)", [&m.name], |r| r.get(0))
                .optional()?;
            if let Some(id) = existing {
                let found = load(conn, id)?.ok_or_else(|| not_found(id))?;
                return Ok((StatusCode::CONFLICT, monitor_json(&found, &cat, now, inc, &base)));
            }
            let source = m.source(&cat)?;
            conn.execute(
                "INSERT INTO heartbeat_monitors (name, interval_sec, alert_summary, alert_source_id, integration_key, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![m.name, m.interval_sec, m.alert_summary, source, alert_sources::new_integration_key("hbt"), now],
            )?;
            let created = load(conn, conn.last_insert_rowid())?.ok_or_else(|| not_found("new"))?;
            Ok((StatusCode::CREATED, monitor_json(&created, &cat, now, inc, &base)))
        })
        .await?;
    Ok(reply::with_status(status, out))
}

/// A changed interval issues a new integration key, as ilert does.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "change heartbeat monitors")?;
    let id = input::path_id(&raw, "heartbeat monitor")?;
    let m = MonitorInput::parse(&body)?;
    let now = state.clock.now_ms();
    let base = ping_base(&headers);
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let current = load(conn, id)?.ok_or_else(|| not_found(id))?;
            let source = match m.alert_source {
                None => current.alert_source_id,
                Some(_) => Some(m.source(&cat)?),
            };
            let key = if m.interval_sec == current.interval_sec {
                current.integration_key.clone()
            } else {
                alert_sources::new_integration_key("hbt")
            };
            conn.execute(
                "UPDATE heartbeat_monitors SET name = ?1, interval_sec = ?2, alert_summary = ?3, alert_source_id = ?4, \
                 integration_key = ?5, updated_at = ?6 WHERE id = ?7",
                params![m.name, m.interval_sec, m.alert_summary, source, key, now, id],
            )?;
            let updated = load(conn, id)?.ok_or_else(|| not_found(id))?;
            let all = Includes { key: true, url: true, source: true };
            Ok(monitor_json(&updated, &cat, now, all, &base))
        })
        .await?;
    Ok(reply::json(out))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "delete heartbeat monitors")?;
    let id = input::path_id(&raw, "heartbeat monitor")?;
    state
        .db
        .delete_by_id("heartbeat_monitors", id, not_found)
        .await?;
    Ok(reply::no_content())
}

/// 202 with no body; an unknown key is 404.
async fn ping(State(state): State<AppState>, Path(key): Path<String>) -> ApiResult<Response> {
    let now = state.clock.now_ms();
    state
        .db
        .call(move |conn| {
            match conn.execute(
                "UPDATE heartbeat_monitors SET last_ping = ?1 WHERE integration_key = ?2",
                params![now, key],
            )? {
                0 => Err(ApiError::not_found("No heartbeat monitor has this key")),
                _ => Ok(()),
            }
        })
        .await?;
    Ok(StatusCode::ACCEPTED.into_response())
}
