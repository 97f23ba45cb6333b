//! Incidents, i.e. status updates on status pages (ilert `Incident`, `IncidentNoIncludes`,
//! `IncidentWithHistory`, `IncidentUpdate`): `/api/incidents` with history, `ETag` / `If-Match`,
//! the publish-info preview and private subscribers. Also served as `/api/status-updates`, the
//! name ilert's newer clients use for the same object.
//!
//! Every create and update appends an `IncidentUpdate` to the history and moves the affected
//! services to their worst open impact (back to OPERATIONAL once nothing open affects them).

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Action, Caller};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::query::{Paging, Params};
use crate::subscribers::{self, Subscriber};
use crate::{input, reply, services, teams, time, users};

pub const STATUSES: &[&str] = &["INVESTIGATING", "IDENTIFIED", "MONITORING", "RESOLVED"];

#[derive(Debug, Clone)]
pub struct Incident {
    pub id: i64,
    pub summary: String,
    pub status: String,
    pub message: Option<String>,
    pub send_notification: bool,
    /// (service id, impact).
    pub affected: Vec<(i64, String)>,
    pub subscribers: Vec<Subscriber>,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_on: Option<i64>,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct IncidentUpdate {
    pub id: String,
    pub content: String,
    pub status: String,
    pub creator_id: Option<i64>,
    pub send_notification: bool,
    pub created_at: i64,
}

fn affected_from_text(text: &str) -> Vec<(i64, String)> {
    let list: Vec<Value> = serde_json::from_str(text).unwrap_or_default();
    list.iter()
        .filter_map(|v| Some((v["serviceId"].as_i64()?, v["impact"].as_str()?.to_owned())))
        .collect()
}

fn affected_to_text(list: &[(i64, String)]) -> String {
    Value::Array(
        list.iter()
            .map(|(id, impact)| json!({"serviceId": id, "impact": impact}))
            .collect(),
    )
    .to_string()
}

const COLUMNS: &str = "id, summary, status, message, send_notification, affected_services, subscribers, \
     created_at, updated_at, resolved_on, version";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Incident> {
    let affected: String = r.get(5)?;
    let subs: String = r.get(6)?;
    Ok(Incident {
        id: r.get(0)?,
        summary: r.get(1)?,
        status: r.get(2)?,
        message: r.get(3)?,
        send_notification: r.get(4)?,
        affected: affected_from_text(&affected),
        subscribers: subscribers::stored(&subs),
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        resolved_on: r.get(9)?,
        version: r.get(10)?,
    })
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<Vec<Incident>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM incidents ORDER BY created_at DESC, id DESC"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    rows.collect()
}

fn load(conn: &Connection, id: i64) -> rusqlite::Result<Option<Incident>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM incidents WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

fn load_history(conn: &Connection, id: i64) -> rusqlite::Result<Vec<IncidentUpdate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, content, status, creator_id, send_notification, created_at FROM incident_updates \
         WHERE incident_id = ?1 ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(IncidentUpdate {
            id: r.get(0)?,
            content: r.get(1)?,
            status: r.get(2)?,
            creator_id: r.get(3)?,
            send_notification: r.get(4)?,
            created_at: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// `IncidentNoIncludes`.
pub fn incident_json(i: &Incident, cat: &Catalog, now: i64) -> Value {
    let affected: Vec<Value> = i
        .affected
        .iter()
        .filter_map(|(id, impact)| {
            cat.services
                .get(id)
                .map(|s| json!({"impact": impact, "service": services::service_json(s, cat, now)}))
        })
        .collect();
    json!({
        "id": i.id,
        "summary": i.summary,
        "status": i.status,
        "message": i.message,
        "sendNotification": i.send_notification,
        "createdAt": time::format_ms(i.created_at),
        "updatedAt": time::format_ms(i.updated_at),
        "affectedServices": affected,
        "resolvedOn": i.resolved_on.map(time::format_ms),
    })
}

fn update_json(u: &IncidentUpdate, cat: &Catalog) -> Value {
    json!({
        "id": u.id,
        "content": u.content,
        "creator": u.creator_id.and_then(|id| cat.users.get(&id)).map(users::user_rel_json),
        "incidentStatus": u.status,
        "sendNotification": u.send_notification,
        "createdAt": time::format_ms(u.created_at),
    })
}

/// The teams of the affected services.
fn affected_teams(i: &Incident, cat: &Catalog) -> Value {
    let ids: BTreeSet<i64> = i
        .affected
        .iter()
        .filter_map(|(id, _)| cat.services.get(id))
        .flat_map(|s| s.teams.iter().copied())
        .collect();
    teams::team_refs(&ids.into_iter().collect::<Vec<_>>(), cat)
}

/// An opaque validator that changes whenever the incident or one of its services changes.
fn etag(i: &Incident, cat: &Catalog, now: i64) -> String {
    let mut text = format!("{}:{}:{}", i.id, i.version, i.updated_at);
    for (id, _) in &i.affected {
        if let Some(s) = cat.services.get(id) {
            text.push_str(&format!(";{}={}", s.id, s.status(cat, now)));
        }
    }
    // FNV-1a: stable across restarts and builds, unlike std's hasher.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

/// Whether an `If-Match` header value matches; `*` matches anything, weak tags compare too.
fn if_match_ok(header_value: &str, current: &str) -> bool {
    let normalise = |t: &str| {
        t.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_owned()
    };
    let current = normalise(current);
    header_value
        .split(',')
        .any(|t| t.trim() == "*" || normalise(t) == current)
}

#[derive(Debug, Clone, Copy, Default)]
struct Includes {
    subscribed: bool,
    affected_teams: bool,
    history: bool,
}

impl Includes {
    fn from_params(params: &Params) -> Includes {
        let set = params.includes();
        Includes {
            subscribed: set.contains("subscribed"),
            affected_teams: set.contains("affectedTeams"),
            history: set.contains("history"),
        }
    }
}

fn full_json(
    conn: &Connection,
    i: &Incident,
    cat: &Catalog,
    now: i64,
    inc: Includes,
    caller: i64,
) -> ApiResult<Value> {
    let mut out = incident_json(i, cat, now);
    if let Some(obj) = out.as_object_mut() {
        if inc.subscribed {
            obj.insert(
                "subscribed".into(),
                subscribers::includes_user(&i.subscribers, caller, cat).into(),
            );
        }
        if inc.affected_teams {
            obj.insert("affectedTeams".into(), affected_teams(i, cat));
        }
        if inc.history {
            let history: Vec<Value> = load_history(conn, i.id)?
                .iter()
                .map(|u| update_json(u, cat))
                .collect();
            obj.insert("history".into(), Value::Array(history));
        }
    }
    Ok(out)
}

/// The incident routes under `prefix` (`/incidents` or `/status-updates`).
pub fn routes(prefix: &str) -> Router<AppState> {
    Router::new()
        .route(prefix, get(list).post(create))
        .route(&format!("{prefix}/publish-info"), post(publish_info))
        .route(&format!("{prefix}/{{id}}"), get(get_one).put(update))
        .route(
            &format!("{prefix}/{{id}}/private-subscribers"),
            get(get_subscribers).post(add_subscribers),
        )
}

/// `/incidents` paging: default 10, at most 100, or 25 with `include`.
const DEFAULT_MAX_RESULTS: i64 = 10;
const MAX_RESULTS_CAP: i64 = 100;
const MAX_RESULTS_WITH_INCLUDE: i64 = 25;

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Incident {id} not found"))
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
        (inc.subscribed).then_some(MAX_RESULTS_WITH_INCLUDE),
    )?;
    let states: Vec<String> = params
        .values(&["states", "state"])
        .into_iter()
        .map(|(name, v)| {
            STATUSES.contains(&v).then(|| v.to_owned()).ok_or_else(|| {
                crate::query::invalid(
                    name,
                    v,
                    "one of INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED",
                )
            })
        })
        .collect::<ApiResult<_>>()?;
    let service_ids = params.ids(&["services"])?;
    let from = params.datetime("from")?;
    let until = params.datetime("until")?;
    let now = state.clock.now_ms();
    // Only `subscribed` is a list include; the rest belong to the single GET.
    let inc = Includes {
        subscribed: inc.subscribed,
        ..Includes::default()
    };
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            load_all(conn)?
                .iter()
                .filter(|i| states.is_empty() || states.contains(&i.status))
                .filter(|i| {
                    service_ids.is_empty()
                        || i.affected.iter().any(|(s, _)| service_ids.contains(s))
                })
                .filter(|i| {
                    from.is_none_or(|f| i.created_at >= f) && until.is_none_or(|u| i.created_at < u)
                })
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .map(|i| full_json(conn, i, &cat, now, inc, caller.user_id))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

fn with_etag(value: Value, tag: &str) -> Response {
    let mut response = reply::json(value).into_response();
    if let Ok(v) = HeaderValue::from_str(tag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let id = input::path_id(&raw, "incident")?;
    let inc = Includes::from_params(&params);
    let now = state.clock.now_ms();
    let (out, tag) = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let i = load(conn, id)?.ok_or_else(|| not_found(id))?;
            Ok((
                full_json(conn, &i, &cat, now, inc, caller.user_id)?,
                etag(&i, &cat, now),
            ))
        })
        .await?;
    Ok(with_etag(out, &tag))
}

/// A validated `IncidentNoIncludes` body.
struct IncidentInput {
    summary: String,
    status: String,
    message: Option<String>,
    send_notification: bool,
    affected: Vec<(i64, String)>,
}

impl IncidentInput {
    fn parse(body: &Value) -> ApiResult<IncidentInput> {
        let o = input::object(body, "IncidentNoIncludes")?;
        let mut affected = Vec::new();
        for (i, item) in input::opt_array(o, "affectedServices")?.iter().enumerate() {
            let field = format!("affectedServices[{i}]");
            let a = input::object(item, "affected service")?;
            let service = a.get("service").ok_or_else(|| {
                ApiError::bad_request(format!("Field '{field}.service' is required"))
            })?;
            let id = input::ref_id(service, &format!("{field}.service"))?;
            let impact = input::opt_enum(a, "impact", services::STATUSES)?.ok_or_else(|| {
                ApiError::bad_request(format!("Field '{field}.impact' is required"))
            })?;
            if !affected.iter().any(|(s, _)| *s == id) {
                affected.push((id, impact));
            }
        }
        if affected.is_empty() {
            return Err(ApiError::bad_request(
                "At least one service must be selected in 'affectedServices' for an incident",
            ));
        }
        Ok(IncidentInput {
            summary: input::req_str(o, "summary")?,
            status: input::opt_enum(o, "status", STATUSES)?
                .ok_or_else(|| ApiError::bad_request("Field 'status' is required"))?,
            message: input::opt_str(o, "message")?.filter(|m| !m.trim().is_empty()),
            send_notification: input::opt_bool(o, "sendNotification")?.unwrap_or(false),
            affected,
        })
    }

    fn check(&self, cat: &Catalog) -> ApiResult<()> {
        for (id, _) in &self.affected {
            if !cat.services.contains_key(id) {
                return Err(ApiError::bad_request(format!(
                    "Service {id} does not exist"
                )));
            }
        }
        Ok(())
    }

    /// The history text: the message, or a sentence about the status.
    fn content(&self) -> String {
        self.message.clone().unwrap_or_else(|| {
            format!(
                "{}: the incident status is now {}.",
                self.summary,
                self.status.to_lowercase()
            )
        })
    }
}

/// Moves every service in `ids` to the worst impact of the open incidents affecting it.
fn recompute_services(conn: &Connection, ids: &BTreeSet<i64>, now: i64) -> ApiResult<()> {
    let open: Vec<Incident> = load_all(conn)?
        .into_iter()
        .filter(|i| i.status != "RESOLVED")
        .collect();
    for id in ids {
        let worst = open
            .iter()
            .flat_map(|i| i.affected.iter())
            .filter(|(s, _)| s == id)
            .map(|(_, impact)| impact.as_str())
            .max_by_key(|impact| services::severity(impact))
            .unwrap_or("OPERATIONAL");
        services::set_status(conn, *id, worst, now)?;
    }
    Ok(())
}

pub(crate) fn add_update(
    conn: &Connection,
    incident: i64,
    content: &str,
    status: &str,
    creator: Option<i64>,
    send_notification: bool,
    at: i64,
) -> rusqlite::Result<()> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM incident_updates WHERE incident_id = ?1",
        [incident],
        |r| r.get(0),
    )?;
    let id = format!("{incident}-{:x}-{}", at, n + 1);
    conn.execute(
        "INSERT INTO incident_updates (id, incident_id, content, status, creator_id, send_notification, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, incident, content, status, creator, send_notification, at],
    )?;
    Ok(())
}

/// POST answers 200 with `IncidentNoIncludes`, as ilert documents it.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Work, "create incidents")?;
    let input = IncidentInput::parse(&body)?;
    let now = state.clock.now_ms();
    let (out, tag) = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            input.check(&Catalog::load(&tx)?)?;
            let resolved_on = (input.status == "RESOLVED").then_some(now);
            tx.execute(
                "INSERT INTO incidents (summary, status, message, send_notification, affected_services, created_at, \
                 updated_at, resolved_on) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
                params![input.summary, input.status, input.message, input.send_notification, affected_to_text(&input.affected), now, resolved_on],
            )?;
            let id = tx.last_insert_rowid();
            add_update(&tx, id, &input.content(), &input.status, Some(caller.user_id), input.send_notification, now)?;
            recompute_services(&tx, &input.affected.iter().map(|(s, _)| *s).collect(), now)?;
            tx.commit()?;
            let cat = Catalog::load(conn)?;
            let i = load(conn, id)?.ok_or_else(|| not_found(id))?;
            Ok((incident_json(&i, &cat, now), etag(&i, &cat, now)))
        })
        .await?;
    Ok(with_etag(out, &tag))
}

/// Appends to the history; a stale `If-Match` is 412 and changes nothing. Without `If-Match`
/// the last write wins.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Work, "update incidents")?;
    let id = input::path_id(&raw, "incident")?;
    let input = IncidentInput::parse(&body)?;
    let if_match = match headers.get(header::IF_MATCH) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::bad_request("The If-Match header must be ASCII"))?
                .to_owned(),
        ),
    };
    let now = state.clock.now_ms();
    let (out, tag) = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let cat = Catalog::load(&tx)?;
            let current = load(&tx, id)?.ok_or_else(|| not_found(id))?;
            if let Some(expected) = &if_match
                && !if_match_ok(expected, &etag(&current, &cat, now))
            {
                return Err(ApiError::PreconditionFailed(format!(
                    "Incident {id} was changed since the ETag in If-Match was issued; \
                     GET it again and retry with the new ETag"
                )));
            }
            input.check(&cat)?;
            let resolved_on = match (input.status.as_str(), current.resolved_on) {
                ("RESOLVED", Some(t)) => Some(t),
                ("RESOLVED", None) => Some(now),
                _ => None,
            };
            tx.execute(
                "UPDATE incidents SET summary = ?1, status = ?2, message = ?3, send_notification = ?4, \
                 affected_services = ?5, updated_at = ?6, resolved_on = ?7, version = version + 1 WHERE id = ?8",
                params![input.summary, input.status, input.message, input.send_notification, affected_to_text(&input.affected), now, resolved_on, id],
            )?;
            add_update(&tx, id, &input.content(), &input.status, Some(caller.user_id), input.send_notification, now)?;
            let touched: BTreeSet<i64> =
                current.affected.iter().chain(input.affected.iter()).map(|(s, _)| *s).collect();
            recompute_services(&tx, &touched, now)?;
            tx.commit()?;
            let cat = Catalog::load(conn)?;
            let i = load(conn, id)?.ok_or_else(|| not_found(id))?;
            Ok((incident_json(&i, &cat, now), etag(&i, &cat, now)))
        })
        .await?;
    Ok(with_etag(out, &tag))
}

/// Who an incident with this body would reach: the status pages showing an affected service,
/// their public subscribers, and the private subscribers of those pages and services.
async fn publish_info(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let input = IncidentInput::parse(&body)?;
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            input.check(&cat)?;
            let affected: Vec<i64> = input.affected.iter().map(|(s, _)| *s).collect();
            let pages: Vec<crate::status_pages::StatusPage> = crate::status_pages::load_all(conn)?
                .into_iter()
                .filter(|p| p.services.iter().any(|s| affected.contains(s)))
                .collect();
            let public: Vec<_> = pages.iter().filter(|p| p.visibility == "PUBLIC").collect();
            let private: Vec<_> = pages.iter().filter(|p| p.visibility != "PUBLIC").collect();
            let mut private_users: BTreeSet<i64> = BTreeSet::new();
            for p in &private {
                private_users.extend(subscribers::users(&p.subscribers, &cat));
            }
            for id in &affected {
                if let Some(s) = cat.services.get(id) {
                    private_users.extend(subscribers::users(&s.subscribers, &cat));
                }
            }
            let public_subscribers: i64 = public.iter().map(|p| p.public_subscribers).sum();
            Ok(json!({
                "statusPagesInfo": pages.first().map(|p| json!({"id": p.id, "label": p.name})),
                "privateStatusPages": private.len(),
                "publicStatusPages": public.len(),
                "privateSubscribers": private_users.len(),
                "publicSubscribers": public_subscribers,
            }))
        })
        .await?;
    Ok(reply::json(out))
}

async fn get_subscribers(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "incident")?;
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let i = load(conn, id)?.ok_or_else(|| not_found(id))?;
            Ok(subscribers::json_list(&i.subscribers, &cat))
        })
        .await?;
    Ok(reply::json(out))
}

/// Adds to the list; 202 with the whole list.
async fn add_subscribers(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Work, "change incident subscribers")?;
    let id = input::path_id(&raw, "incident")?;
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let i = load(conn, id)?.ok_or_else(|| not_found(id))?;
            let mut list = i.subscribers.clone();
            for s in subscribers::parse(&body, &cat)? {
                if !list.contains(&s) {
                    list.push(s);
                }
            }
            conn.execute(
                "UPDATE incidents SET subscribers = ?1 WHERE id = ?2",
                params![subscribers::to_text(&list), id],
            )?;
            Ok(subscribers::json_list(&list, &cat))
        })
        .await?;
    // 202 with the list: ilert's Go client accepts only 202 and parses the body (spec/README.md).
    Ok(reply::accepted(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert!(if_match_ok("\"abc\"", "\"abc\""));
        assert!(if_match_ok("abc", "\"abc\""));
        assert!(if_match_ok("W/\"abc\"", "\"abc\""));
        assert!(if_match_ok("\"x\", \"abc\"", "\"abc\""));
        assert!(if_match_ok("*", "\"abc\""));
        assert!(!if_match_ok("\"abd\"", "\"abc\""));
    }
}
