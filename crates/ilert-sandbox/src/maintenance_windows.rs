//! Maintenance windows (ilert `MaintenanceWindow`): storage and `/api/maintenance-windows`.
//! While a window is active its alert sources open no alerts from events and show
//! IN_MAINTENANCE, and its operational services show UNDER_MAINTENANCE.
//!
//! ilert's `MaintenanceWindow` schema has no `id`, although the resource is addressed by one;
//! the sandbox sends `id` like every other resource.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Action, Caller};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::query::{Paging, Params};
use crate::{alert_sources, input, reply, services, time};

#[derive(Debug, Clone)]
pub struct MaintenanceWindow {
    pub id: i64,
    pub summary: String,
    pub timezone: Option<String>,
    pub start: i64,
    pub end: i64,
    pub created_by: Option<String>,
    pub alert_sources: Vec<i64>,
    pub services: Vec<i64>,
    pub notifications: Value,
}

impl MaintenanceWindow {
    pub fn active_at(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<Vec<MaintenanceWindow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, summary, timezone, start, end, created_by, alert_sources, services, notifications \
         FROM maintenance_windows ORDER BY start, id",
    )?;
    let rows = stmt.query_map([], |r| {
        let sources: String = r.get(6)?;
        let services: String = r.get(7)?;
        let notifications: String = r.get(8)?;
        Ok(MaintenanceWindow {
            id: r.get(0)?,
            summary: r.get(1)?,
            timezone: r.get(2)?,
            start: r.get(3)?,
            end: r.get(4)?,
            created_by: r.get(5)?,
            alert_sources: input::stored_ids(&sources),
            services: input::stored_ids(&services),
            notifications: serde_json::from_str(&notifications).unwrap_or_else(|_| json!({})),
        })
    })?;
    rows.collect()
}

fn window_json(m: &MaintenanceWindow, cat: &Catalog, now: i64, show_keys: bool) -> Value {
    json!({
        "id": m.id,
        "summary": m.summary,
        "timezone": m.timezone,
        "start": time::format_ms(m.start),
        "end": time::format_ms(m.end),
        "createdBy": m.created_by,
        "alertSources": m.alert_sources.iter().filter_map(|id| cat.sources.get(id))
            .map(|s| alert_sources::source_json(s, cat, now, show_keys)).collect::<Vec<_>>(),
        "services": m.services.iter().filter_map(|id| cat.services.get(id))
            .map(|s| services::service_json(s, cat, now)).collect::<Vec<_>>(),
        "notifications": m.notifications,
    })
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/maintenance-windows", get(list).post(create))
        .route(
            "/maintenance-windows/{id}",
            get(get_one).put(update).delete(remove),
        )
}

const DEFAULT_MAX_RESULTS: i64 = 50;
const MAX_RESULTS_CAP: i64 = 100;

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Maintenance window {id} not found"))
}

/// `state=OPEN` is upcoming or ongoing, `CLOSED` is over; `from`/`until` select windows that
/// overlap the range.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let Paging {
        start_index,
        max_results,
    } = params.paging(DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP)?;
    let open = match params.single("state") {
        None => None,
        Some("OPEN") => Some(true),
        Some("CLOSED") => Some(false),
        Some(other) => return Err(crate::query::invalid("state", other, "OPEN or CLOSED")),
    };
    let service_ids = params.ids(&["services"])?;
    let source_ids = params.ids(&["sources"])?;
    let from = params.datetime("from")?;
    let until = params.datetime("until")?;
    let now = state.clock.now_ms();
    let show_keys = caller.require(Action::Configure, "").is_ok();
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            Ok(cat
                .maintenance
                .iter()
                .filter(|m| open.is_none_or(|o| o == (m.end > now)))
                .filter(|m| {
                    service_ids.is_empty() || m.services.iter().any(|s| service_ids.contains(s))
                })
                .filter(|m| {
                    source_ids.is_empty() || m.alert_sources.iter().any(|s| source_ids.contains(s))
                })
                .filter(|m| from.is_none_or(|f| m.end > f) && until.is_none_or(|u| m.start < u))
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .map(|m| window_json(m, &cat, now, show_keys))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

fn render_one(conn: &Connection, id: i64, now: i64, show_keys: bool) -> ApiResult<Value> {
    let cat = Catalog::load(conn)?;
    let m = cat
        .maintenance
        .iter()
        .find(|m| m.id == id)
        .ok_or_else(|| not_found(id))?;
    Ok(window_json(m, &cat, now, show_keys))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "maintenance window")?;
    let now = state.clock.now_ms();
    let show_keys = caller.require(Action::Configure, "").is_ok();
    Ok(reply::json(
        state
            .db
            .call(move |conn| render_one(conn, id, now, show_keys))
            .await?,
    ))
}

struct WindowInput {
    summary: String,
    timezone: Option<String>,
    start: i64,
    end: i64,
    alert_sources: Vec<i64>,
    services: Vec<i64>,
    notifications: Value,
}

impl WindowInput {
    fn parse(body: &Value) -> ApiResult<WindowInput> {
        let o = input::object(body, "MaintenanceWindow")?;
        let start = input::opt_time(o, "start")?
            .ok_or_else(|| ApiError::bad_request("Field 'start' is required"))?;
        let end = input::opt_time(o, "end")?
            .ok_or_else(|| ApiError::bad_request("Field 'end' is required"))?;
        if end <= start {
            return Err(ApiError::bad_request("Field 'end' must be after 'start'"));
        }
        let alert_sources = input::ref_list(o, "alertSources")?;
        let services = input::ref_list(o, "services")?;
        if alert_sources.len() > 50 || services.len() > 50 {
            return Err(ApiError::bad_request(
                "At most 50 alert sources and 50 services per maintenance window",
            ));
        }
        if alert_sources.is_empty() && services.is_empty() {
            return Err(ApiError::bad_request(
                "A maintenance window needs at least one alert source or service",
            ));
        }
        let mut notifications = serde_json::Map::new();
        if let Some(n) = o.get("notifications").and_then(Value::as_object) {
            for key in ["atCreation", "atStart", "atEnd"] {
                if let Some(b) = input::opt_bool(n, key)? {
                    notifications.insert(key.to_owned(), Value::Bool(b));
                }
            }
        }
        let notifications = Value::Object(notifications);
        Ok(WindowInput {
            summary: input::req_str(o, "summary")?,
            timezone: input::opt_tz(o, "timezone")?,
            start,
            end,
            alert_sources,
            services,
            notifications,
        })
    }

    fn check(&self, conn: &Connection) -> ApiResult<()> {
        let cat = Catalog::load(conn)?;
        for id in &self.alert_sources {
            if !cat.sources.contains_key(id) {
                return Err(ApiError::bad_request(format!(
                    "Alert source {id} does not exist"
                )));
            }
        }
        for id in &self.services {
            if !cat.services.contains_key(id) {
                return Err(ApiError::bad_request(format!(
                    "Service {id} does not exist"
                )));
            }
        }
        Ok(())
    }
}

/// POST answers 200, as ilert documents it.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "create maintenance windows")?;
    let w = WindowInput::parse(&body)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            w.check(conn)?;
            conn.execute(
                "INSERT INTO maintenance_windows (summary, timezone, start, end, created_by, alert_sources, services, \
                 notifications) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    w.summary,
                    w.timezone,
                    w.start,
                    w.end,
                    caller.email,
                    input::ids_text(&w.alert_sources),
                    input::ids_text(&w.services),
                    w.notifications.to_string()
                ],
            )?;
            render_one(conn, conn.last_insert_rowid(), now, true)
        })
        .await?;
    Ok(reply::json(out))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "change maintenance windows")?;
    let id = input::path_id(&raw, "maintenance window")?;
    let w = WindowInput::parse(&body)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            w.check(conn)?;
            let n = conn.execute(
                "UPDATE maintenance_windows SET summary = ?1, timezone = ?2, start = ?3, end = ?4, alert_sources = ?5, \
                 services = ?6, notifications = ?7 WHERE id = ?8",
                params![
                    w.summary,
                    w.timezone,
                    w.start,
                    w.end,
                    input::ids_text(&w.alert_sources),
                    input::ids_text(&w.services),
                    w.notifications.to_string(),
                    id
                ],
            )?;
            if n == 0 {
                return Err(not_found(id));
            }
            render_one(conn, id, now, true)
        })
        .await?;
    Ok(reply::json(out))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "delete maintenance windows")?;
    let id = input::path_id(&raw, "maintenance window")?;
    state
        .db
        .delete_by_id("maintenance_windows", id, not_found)
        .await?;
    Ok(reply::no_content())
}
