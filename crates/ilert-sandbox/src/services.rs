//! Services (ilert `Service`, `ServiceNoIncludes`, `ServiceUptime`, `ServiceOutage`): storage,
//! status history, uptime, and `/api/services`, `/api/services/{id}/private-subscribers` and
//! `/api/service-outages`.
//!
//! A service's status is what an incident (status update) or a PUT last set; open incidents move
//! it to their worst impact and back to OPERATIONAL once resolved. An active maintenance window
//! shows an operational service as UNDER_MAINTENANCE. Every change is logged, and outages and
//! uptime are computed from that log: PARTIAL_OUTAGE and MAJOR_OUTAGE count as downtime.

use std::collections::HashMap;

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
use crate::incidents;
use crate::query::{Paging, Params};
use crate::subscribers::{self, Subscriber};
use crate::time::DAY;
use crate::{input, reply, teams, time};

pub const STATUSES: &[&str] = &[
    "OPERATIONAL",
    "UNDER_MAINTENANCE",
    "DEGRADED",
    "PARTIAL_OUTAGE",
    "MAJOR_OUTAGE",
];

/// How bad a status is; the worst impact of a service's open incidents wins.
pub fn severity(status: &str) -> usize {
    STATUSES.iter().position(|s| *s == status).unwrap_or(0)
}

fn is_outage(status: &str) -> bool {
    matches!(status, "PARTIAL_OUTAGE" | "MAJOR_OUTAGE")
}

#[derive(Debug, Clone)]
pub struct Service {
    pub id: i64,
    pub name: String,
    pub alias: Option<String>,
    pub status: String,
    pub one_open_incident_only: bool,
    pub show_uptime_history: bool,
    pub teams: Vec<i64>,
    pub subscribers: Vec<Subscriber>,
    /// (since, status), oldest first.
    pub history: Vec<(i64, String)>,
}

impl Service {
    pub fn status(&self, cat: &Catalog, now: i64) -> &str {
        if self.status == "OPERATIONAL" && cat.service_in_maintenance(self.id, now) {
            "UNDER_MAINTENANCE"
        } else {
            &self.status
        }
    }

    /// Outages overlapping `[from, until)`: (status, start, end or None while ongoing).
    pub fn outages(&self, from: i64, until: i64) -> Vec<(String, i64, Option<i64>)> {
        let mut out = Vec::new();
        for (i, (since, status)) in self.history.iter().enumerate() {
            if !is_outage(status) {
                continue;
            }
            let end = self.history.get(i + 1).map(|(t, _)| *t);
            if *since < until && end.is_none_or(|e| e > from) {
                out.push((status.clone(), *since, end));
            }
        }
        out
    }

    /// Share of the last `days` days without an outage, in percent.
    fn uptime_percentage(&self, now: i64, days: i64) -> f64 {
        let from = now - days * DAY;
        let down: i64 = self
            .outages(from, now)
            .iter()
            .map(|(_, s, e)| e.unwrap_or(now).min(now) - (*s).max(from))
            .sum();
        let pct = 100.0 * (1.0 - down as f64 / (days * DAY) as f64);
        (pct.clamp(0.0, 100.0) * 1000.0).round() / 1000.0
    }
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<HashMap<i64, Service>> {
    let mut history: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT service_id, at, status FROM service_status_log ORDER BY at, rowid",
    )?;
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        let (id, at, status) = row?;
        history.entry(id).or_default().push((at, status));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, alias, status, one_open_incident_only, show_uptime_history, teams, subscribers \
         FROM services",
    )?;
    let rows = stmt.query_map([], |r| {
        let id: i64 = r.get(0)?;
        let teams: String = r.get(6)?;
        let subs: String = r.get(7)?;
        Ok(Service {
            id,
            name: r.get(1)?,
            alias: r.get(2)?,
            status: r.get(3)?,
            one_open_incident_only: r.get(4)?,
            show_uptime_history: r.get(5)?,
            teams: input::stored_ids(&teams),
            subscribers: subscribers::stored(&subs),
            history: history.remove(&id).unwrap_or_default(),
        })
    })?;
    rows.map(|r| r.map(|s| (s.id, s))).collect()
}

/// Sets a service's status, logging the change for uptime.
pub fn set_status(conn: &Connection, id: i64, status: &str, at: i64) -> rusqlite::Result<()> {
    let changed = conn.execute(
        "UPDATE services SET status = ?1 WHERE id = ?2 AND status <> ?1",
        params![status, id],
    )?;
    if changed > 0 {
        conn.execute(
            "INSERT INTO service_status_log (service_id, at, status) VALUES (?1, ?2, ?3)",
            params![id, at, status],
        )?;
    }
    Ok(())
}

/// `ServiceNoIncludes`.
pub fn service_json(s: &Service, cat: &Catalog, now: i64) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "alias": s.alias,
        "status": s.status(cat, now),
        "oneOpenIncidentOnly": s.one_open_incident_only,
        "showUptimeHistory": s.show_uptime_history,
        "teams": teams::team_refs(&s.teams, cat),
    })
}

/// `ServiceUptime` over the last 90 days.
pub fn uptime_json(s: &Service, now: i64) -> Value {
    let from = now - 90 * DAY;
    let outages: Vec<Value> = s
        .outages(from, now)
        .iter()
        .map(|(status, start, end)| {
            json!({"status": status, "from": time::format_ms(*start), "until": end.map(time::format_ms)})
        })
        .collect();
    json!({
        "rangeStart": time::format_ms(from),
        "rangeEnd": time::format_ms(now),
        "outages": outages,
        "uptimePercentage": {"uptimePercentage": {
            "p90": s.uptime_percentage(now, 90),
            "p60": s.uptime_percentage(now, 60),
            "p30": s.uptime_percentage(now, 30),
        }},
    })
}

#[derive(Debug, Clone, Copy, Default)]
struct Includes {
    subscribed: bool,
    uptime: bool,
    incidents: bool,
}

impl Includes {
    fn from_params(params: &Params) -> Includes {
        let set = params.includes();
        Includes {
            subscribed: set.contains("subscribed"),
            uptime: set.contains("uptime"),
            incidents: set.contains("incidents"),
        }
    }

    fn any(self) -> bool {
        self.subscribed || self.uptime || self.incidents
    }
}

/// `Service` with the requested includes; `incidents` holds the latest ten unresolved ones.
fn full_json(
    conn: &Connection,
    s: &Service,
    cat: &Catalog,
    now: i64,
    inc: Includes,
    caller: i64,
) -> ApiResult<Value> {
    let mut out = service_json(s, cat, now);
    if let Some(obj) = out.as_object_mut() {
        if inc.subscribed {
            obj.insert(
                "subscribed".into(),
                subscribers::includes_user(&s.subscribers, caller, cat).into(),
            );
        }
        if inc.uptime {
            obj.insert("uptime".into(), uptime_json(s, now));
        }
        if inc.incidents {
            let mut open: Vec<incidents::Incident> = incidents::load_all(conn)?
                .into_iter()
                .filter(|i| {
                    i.status != "RESOLVED" && i.affected.iter().any(|(sid, _)| *sid == s.id)
                })
                .collect();
            open.sort_by_key(|i| std::cmp::Reverse((i.created_at, i.id)));
            open.truncate(10);
            let list: Vec<Value> = open
                .iter()
                .map(|i| incidents::incident_json(i, cat, now))
                .collect();
            obj.insert("incidents".into(), Value::Array(list));
        }
    }
    Ok(out)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/services", get(list).post(create))
        .route("/services/{id}", get(get_one).put(update).delete(remove))
        .route(
            "/services/{id}/private-subscribers",
            get(get_subscribers).put(put_subscribers),
        )
        .route("/service-outages", get(list_outages))
}

/// `/services` paging: default 10, at most 100, or 25 when anything is included.
const DEFAULT_MAX_RESULTS: i64 = 10;
const MAX_RESULTS_CAP: i64 = 100;
const MAX_RESULTS_WITH_INCLUDE: i64 = 25;

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Service {id} not found"))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let inc = Includes::from_params(&params);
    let Paging {
        start_index,
        max_results,
    } = params.paging_with_include(
        DEFAULT_MAX_RESULTS,
        MAX_RESULTS_CAP,
        (inc.any()).then_some(MAX_RESULTS_WITH_INCLUDE),
    )?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let mut list: Vec<&Service> = cat
                .services
                .values()
                .filter(|s| caller.in_context(&s.teams, &cat))
                .collect();
            list.sort_by_key(|s| s.id);
            list.into_iter()
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .map(|s| full_json(conn, s, &cat, now, inc, caller.user_id))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "service")?;
    let inc = Includes::from_params(&params);
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let s = cat.services.get(&id).ok_or_else(|| not_found(id))?;
            full_json(conn, s, &cat, now, inc, caller.user_id)
        })
        .await?;
    Ok(reply::json(out))
}

struct ServiceInput {
    name: String,
    alias: Option<String>,
    status: String,
    one_open_incident_only: bool,
    show_uptime_history: bool,
    teams: Vec<i64>,
}

impl ServiceInput {
    fn parse(body: &Value) -> ApiResult<ServiceInput> {
        let o = input::object(body, "ServiceNoIncludes")?;
        Ok(ServiceInput {
            name: input::req_str(o, "name")?,
            alias: input::opt_str(o, "alias")?.filter(|a| !a.trim().is_empty()),
            status: input::opt_enum(o, "status", STATUSES)?
                .unwrap_or_else(|| "OPERATIONAL".to_owned()),
            one_open_incident_only: input::opt_bool(o, "oneOpenIncidentOnly")?.unwrap_or(false),
            show_uptime_history: input::opt_bool(o, "showUptimeHistory")?.unwrap_or(true),
            teams: input::ref_list(o, "teams")?,
        })
    }
}

fn render_one(conn: &Connection, id: i64, now: i64) -> ApiResult<Value> {
    let cat = Catalog::load(conn)?;
    Ok(service_json(
        cat.services.get(&id).ok_or_else(|| not_found(id))?,
        &cat,
        now,
    ))
}

/// POST /services answers 200 with `ServiceNoIncludes`, as ilert documents it.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "create services")?;
    let s = ServiceInput::parse(&body)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO services (name, alias, status, one_open_incident_only, show_uptime_history, teams, \
                 created_at) VALUES (?1, ?2, 'OPERATIONAL', ?3, ?4, ?5, ?6)",
                params![s.name, s.alias, s.one_open_incident_only, s.show_uptime_history, input::ids_text(&s.teams), now],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO service_status_log (service_id, at, status) VALUES (?1, ?2, 'OPERATIONAL')",
                params![id, now],
            )?;
            set_status(&tx, id, &s.status, now)?;
            tx.commit()?;
            render_one(conn, id, now)
        })
        .await?;
    // 201, as ilert's Go client and Terraform provider require (spec/README.md).
    Ok(reply::created(out))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "change services")?;
    let id = input::path_id(&raw, "service")?;
    let s = ServiceInput::parse(&body)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE services SET name = ?1, alias = ?2, one_open_incident_only = ?3, show_uptime_history = ?4, \
                 teams = ?5 WHERE id = ?6",
                params![s.name, s.alias, s.one_open_incident_only, s.show_uptime_history, input::ids_text(&s.teams), id],
            )?;
            if n == 0 {
                return Err(not_found(id));
            }
            set_status(&tx, id, &s.status, now)?;
            tx.commit()?;
            render_one(conn, id, now)
        })
        .await?;
    Ok(reply::json(out))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "delete services")?;
    let id = input::path_id(&raw, "service")?;
    state.db.delete_by_id("services", id, not_found).await?;
    Ok(reply::no_content())
}

async fn get_subscribers(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "service")?;
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let s = cat.services.get(&id).ok_or_else(|| not_found(id))?;
            Ok(subscribers::json_list(&s.subscribers, &cat))
        })
        .await?;
    Ok(reply::json(out))
}

/// Replaces the list (set semantics), 204.
async fn put_subscribers(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "change service subscribers")?;
    let id = input::path_id(&raw, "service")?;
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            cat.services.get(&id).ok_or_else(|| not_found(id))?;
            let list = subscribers::parse(&body, &cat)?;
            conn.execute(
                "UPDATE services SET subscribers = ?1 WHERE id = ?2",
                params![subscribers::to_text(&list), id],
            )?;
            Ok(subscribers::json_list(&list, &cat))
        })
        .await?;
    // 202 with the list: ilert's Go client accepts only 202 and parses the body (spec/README.md).
    Ok(reply::accepted(out))
}

/// `GET /service-outages?service=&from=&until=`: outages of every (or one) service.
async fn list_outages(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let service = params.ids(&["service", "services"])?;
    let now = state.clock.now_ms();
    let from = params.datetime("from")?.unwrap_or(now - 90 * DAY);
    let until = params.datetime("until")?.unwrap_or(now);
    if until <= from {
        return Err(ApiError::bad_request(
            "Query parameter 'until' must be after 'from'",
        ));
    }
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let mut list: Vec<&Service> =
                cat.services.values().filter(|s| service.is_empty() || service.contains(&s.id)).collect();
            list.sort_by_key(|s| s.id);
            let mut outages: Vec<(i64, Value)> = Vec::new();
            for s in list {
                for (status, start, end) in s.outages(from, until) {
                    outages.push((
                        start,
                        json!({"status": status, "from": time::format_ms(start), "until": end.map(time::format_ms)}),
                    ));
                }
            }
            outages.sort_by_key(|(start, _)| *start);
            Ok(Value::Array(outages.into_iter().map(|(_, v)| v).collect()))
        })
        .await?;
    Ok(reply::json(out))
}
