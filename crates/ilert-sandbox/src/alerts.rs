//! Alerts (ilert `Alert`, `AlertResponder`, `ManualAlert`, `CountResponse`): storage, JSON, and
//! `GET/POST /api/alerts`, `/api/alerts/count`, `/api/alerts/{id}`, `PUT .../accept`,
//! `.../resolve` and `.../assign`. Responders, actions, notifications and log entries have files
//! of their own. Every handler first lets due escalations happen (see `escalations.rs`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Json, Router};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Action, Caller, TeamContext};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody, OptionalJsonBody};
use crate::log_entries::{self, Entry};
use crate::query::{Paging, Params};
use crate::{alert_sources, escalation_policies, escalations, input, reply, time, users};

/// `/alerts` paging: default 50, and more than 100 is rejected.
const DEFAULT_MAX_RESULTS: i64 = 50;
const MAX_RESULTS_CAP: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(list).post(create))
        .route("/alerts/count", get(count))
        .route("/alerts/{id}", get(get_one))
        .route("/alerts/{id}/accept", put(accept))
        .route("/alerts/{id}/resolve", put(resolve))
        .route("/alerts/{id}/assign", put(assign))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    Pending,
    Accepted,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Pending => "PENDING",
            AlertStatus::Accepted => "ACCEPTED",
            AlertStatus::Resolved => "RESOLVED",
        }
    }
}

impl FromStr for AlertStatus {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "PENDING" => Ok(AlertStatus::Pending),
            "ACCEPTED" => Ok(AlertStatus::Accepted),
            "RESOLVED" => Ok(AlertStatus::Resolved),
            _ => Err(()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AlertRow {
    pub id: i64,
    pub summary: String,
    pub details: String,
    pub report_time: i64,
    pub resolved_on: Option<i64>,
    pub status: String,
    pub priority: String,
    pub severity: Option<i64>,
    pub alert_key: Option<String>,
    pub source_id: i64,
    pub policy_id: i64,
    pub next_escalation: Option<i64>,
    pub next_escalation_rule_index: Option<i64>,
    labels: String,
    images: String,
    links: String,
    custom_details: String,
    merge_state: String,
}

const COLUMNS: &str = "a.id, a.summary, a.details, a.report_time, a.resolved_on, a.status, \
     a.priority, a.severity, a.alert_key, a.alert_source_id, a.escalation_policy_id, \
     a.next_escalation, a.next_escalation_rule_index, a.labels, a.images, a.links, \
     a.custom_details, a.merge_state";

impl AlertRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<AlertRow> {
        Ok(AlertRow {
            id: r.get(0)?,
            summary: r.get(1)?,
            details: r.get(2)?,
            report_time: r.get(3)?,
            resolved_on: r.get(4)?,
            status: r.get(5)?,
            priority: r.get(6)?,
            severity: r.get(7)?,
            alert_key: r.get(8)?,
            source_id: r.get(9)?,
            policy_id: r.get(10)?,
            next_escalation: r.get(11)?,
            next_escalation_rule_index: r.get(12)?,
            labels: r.get(13)?,
            images: r.get(14)?,
            links: r.get(15)?,
            custom_details: r.get(16)?,
            merge_state: r.get(17)?,
        })
    }

    pub fn is_open(&self) -> bool {
        self.status != AlertStatus::Resolved.as_str()
    }
}

#[derive(Debug, Clone)]
pub struct Responder {
    pub user_id: i64,
    pub status: String,
    pub accepted_at: Option<i64>,
}

/// Optional `Alert` fields requested with `?include=`, and whether the caller may see
/// integration keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct Includes {
    escalation_rules: bool,
    next_escalation_user: bool,
    custom_details: bool,
    show_keys: bool,
}

impl Includes {
    /// `customDetails` and `escalationRules` exist only on the single-alert GET.
    fn from_params(params: &Params, single: bool, caller: &Caller) -> Includes {
        let set = params.includes();
        Includes {
            escalation_rules: single && set.contains("escalationRules"),
            next_escalation_user: set.contains("nextEscalationUser"),
            custom_details: single && set.contains("customDetails"),
            show_keys: can_see_keys(caller),
        }
    }

    pub fn plain(caller: &Caller) -> Includes {
        Includes {
            show_keys: can_see_keys(caller),
            ..Includes::default()
        }
    }
}

/// ilert shows integration keys to those who may change the alert source.
pub fn can_see_keys(caller: &Caller) -> bool {
    caller.require(Action::Configure, "").is_ok()
}

pub fn load_responders(
    conn: &Connection,
    alert_ids: &[i64],
) -> rusqlite::Result<HashMap<i64, Vec<Responder>>> {
    let mut out: HashMap<i64, Vec<Responder>> = HashMap::new();
    if alert_ids.is_empty() {
        return Ok(out);
    }
    let placeholders = vec!["?"; alert_ids.len()].join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT alert_id, user_id, status, accepted_at FROM alert_responders \
         WHERE alert_id IN ({placeholders}) ORDER BY alert_id, added_at, rowid"
    ))?;
    let rows = stmt.query_map(params_from_iter(alert_ids.iter()), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Responder {
                user_id: r.get(1)?,
                status: r.get(2)?,
                accepted_at: r.get(3)?,
            },
        ))
    })?;
    for row in rows {
        let (alert_id, responder) = row?;
        out.entry(alert_id).or_default().push(responder);
    }
    Ok(out)
}

fn stored_json(text: &str, fallback: Value) -> Value {
    serde_json::from_str(text).unwrap_or(fallback)
}

/// `AlertResponder`: the user as a `UserRel`.
pub fn responder_json(r: &Responder, cat: &Catalog) -> Value {
    let user = cat
        .users
        .get(&r.user_id)
        .map_or_else(|| json!({"id": r.user_id}), users::user_rel_json);
    json!({"user": user, "status": r.status, "acceptedAt": time::format_opt(r.accepted_at)})
}

/// The `Alert` schema (v2.2026.5).
fn alert_json(
    a: &AlertRow,
    responders: &[Responder],
    cat: &Catalog,
    inc: Includes,
    now: i64,
) -> Value {
    let policy = cat.policies.get(&a.policy_id);
    let source = cat.sources.get(&a.source_id).map_or_else(
        || json!({"id": a.source_id}),
        |s| alert_sources::source_json(s, cat, now, inc.show_keys),
    );
    let mut alert = json!({
        "id": a.id,
        "summary": a.summary,
        "details": a.details,
        "reportTime": time::format_ms(a.report_time),
        "resolvedOn": time::format_opt(a.resolved_on),
        "status": a.status,
        "priority": a.priority,
        "severity": a.severity,
        "alertKey": a.alert_key,
        "alertSource": source,
        "escalationPolicy": policy.map_or_else(|| json!({"id": a.policy_id}), |p| escalation_policies::policy_json(p, cat)),
        "nextEscalation": time::format_opt(a.next_escalation),
        "nextEscalationRuleIndex": a.next_escalation_rule_index,
        "responders": responders.iter().map(|r| responder_json(r, cat)).collect::<Vec<_>>(),
        "labels": stored_json(&a.labels, json!({})),
        "images": stored_json(&a.images, json!([])),
        "links": stored_json(&a.links, json!([])),
        "mergeState": a.merge_state,
    });
    if let Some(obj) = alert.as_object_mut() {
        if inc.escalation_rules {
            let rules =
                policy.map_or_else(|| json!([]), |p| escalation_policies::rules_json(p, cat));
            obj.insert("escalationRules".to_owned(), rules);
        }
        if inc.next_escalation_user {
            let next = escalations::next_user(
                cat,
                a.policy_id,
                a.next_escalation_rule_index,
                a.next_escalation,
            )
            .and_then(|id| cat.users.get(&id))
            .map_or(Value::Null, users::user_json);
            obj.insert("nextEscalationUser".to_owned(), next);
        }
        if inc.custom_details {
            obj.insert(
                "customDetails".to_owned(),
                stored_json(&a.custom_details, json!({})),
            );
        }
    }
    alert
}

/// The list filters shared by `/alerts` and `/alerts/count`, with the legacy names
/// ilert-go still sends (`state`, `alert-source`, `assigned-to`).
#[derive(Debug, Default)]
pub struct AlertFilter {
    states: Vec<AlertStatus>,
    sources: Vec<i64>,
    policies: Vec<i64>,
    /// User ids, usernames or e-mail addresses, lower-cased.
    responders: Vec<String>,
    from: Option<i64>,
    until: Option<i64>,
    /// The alert sources of the caller's team context, when it is not all teams.
    in_context: Option<Vec<i64>>,
}

impl AlertFilter {
    pub fn from_params(p: &Params) -> ApiResult<AlertFilter> {
        Ok(AlertFilter {
            states: p.parsed_list(&["states", "state"], "one of PENDING, ACCEPTED, RESOLVED")?,
            sources: p.ids(&["sources", "alert-source"])?,
            policies: p.ids(&["policies"])?,
            responders: p
                .values(&["responders", "assigned-to"])
                .into_iter()
                .map(|(_, v)| v.to_lowercase())
                .collect(),
            from: p.datetime("from")?,
            until: p.datetime("until")?,
            in_context: None,
        })
    }

    /// Under an `x-team-context` other than all teams, only alerts from the sources of the
    /// caller's teams in that context: the list and the count scope alike.
    pub fn scope_to(&mut self, conn: &Connection, caller: &Caller) -> Result<(), ApiError> {
        if caller.team_context != TeamContext::All {
            let cat = Catalog::load(conn)?;
            let sources = cat.sources.values();
            self.in_context = Some(
                sources
                    .filter(|s| caller.in_context(&s.teams, &cat))
                    .map(|s| s.id)
                    .collect(),
            );
        }
        Ok(())
    }

    /// A `WHERE` clause over alias `a` and its bind values.
    pub fn to_sql(&self) -> (String, Vec<SqlValue>) {
        let mut sql = String::from("1 = 1");
        let mut args: Vec<SqlValue> = Vec::new();
        let mut in_list = |sql: &mut String, column: &str, values: Vec<SqlValue>| {
            if !values.is_empty() {
                let marks = vec!["?"; values.len()].join(", ");
                let _ = write!(sql, " AND {column} IN ({marks})");
                args.extend(values);
            }
        };
        in_list(
            &mut sql,
            "a.status",
            self.states
                .iter()
                .map(|s| SqlValue::Text(s.as_str().to_owned()))
                .collect(),
        );
        in_list(
            &mut sql,
            "a.alert_source_id",
            self.sources
                .iter()
                .copied()
                .map(SqlValue::Integer)
                .collect(),
        );
        if let Some(sources) = &self.in_context {
            if sources.is_empty() {
                sql.push_str(" AND 0 = 1");
            } else {
                in_list(
                    &mut sql,
                    "a.alert_source_id",
                    sources.iter().copied().map(SqlValue::Integer).collect(),
                );
            }
        }
        in_list(
            &mut sql,
            "a.escalation_policy_id",
            self.policies
                .iter()
                .copied()
                .map(SqlValue::Integer)
                .collect(),
        );
        if !self.responders.is_empty() {
            let matches = vec![
                "(CAST(u.id AS TEXT) = ? OR lower(u.username) = ? OR lower(u.email) = ?)";
                self.responders.len()
            ]
            .join(" OR ");
            let _ = write!(
                sql,
                " AND a.id IN (SELECT r.alert_id FROM alert_responders r \
                 JOIN users u ON u.id = r.user_id WHERE {matches})"
            );
            for who in &self.responders {
                for _ in 0..3 {
                    args.push(SqlValue::Text(who.clone()));
                }
            }
        }
        if let Some(from) = self.from {
            sql.push_str(" AND a.report_time >= ?");
            args.push(SqlValue::Integer(from));
        }
        if let Some(until) = self.until {
            sql.push_str(" AND a.report_time < ?");
            args.push(SqlValue::Integer(until));
        }
        (sql, args)
    }
}

pub fn render(
    conn: &Connection,
    rows: &[AlertRow],
    inc: Includes,
    now: i64,
) -> ApiResult<Vec<Value>> {
    let cat = Catalog::load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
    let responders = load_responders(conn, &ids)?;
    Ok(rows
        .iter()
        .map(|a| {
            let rs = responders.get(&a.id).map_or(&[][..], Vec::as_slice);
            alert_json(a, rs, &cat, inc, now)
        })
        .collect())
}

pub fn load_row(conn: &Connection, id: i64) -> rusqlite::Result<Option<AlertRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM alerts a WHERE a.id = ?1"),
        [id],
        AlertRow::from_row,
    )
    .optional()
}

pub fn load_one(conn: &Connection, id: i64, inc: Includes, now: i64) -> ApiResult<Value> {
    let row = load_row(conn, id)?.ok_or_else(|| not_found(id))?;
    render(conn, std::slice::from_ref(&row), inc, now)?
        .pop()
        .ok_or_else(|| not_found(id))
}

pub fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Alert {id} not found"))
}

/// ilert types the path id as a number; anything else is a client error, not a missing alert.
pub fn parse_id(raw: &str) -> ApiResult<i64> {
    input::path_id(raw, "alert")
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let mut filter = AlertFilter::from_params(&params)?;
    let Paging {
        start_index,
        max_results,
    } = params.paging(DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP)?;
    let inc = Includes::from_params(&params, false, &caller);
    let now = state.clock.now_ms();
    let alerts = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            filter.scope_to(conn, &caller)?;
            let (clause, mut args) = filter.to_sql();
            args.push(SqlValue::Integer(max_results));
            args.push(SqlValue::Integer(start_index));
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM alerts a WHERE {clause} \
                 ORDER BY a.report_time DESC, a.id DESC LIMIT ? OFFSET ?"
            ))?;
            let rows = stmt
                .query_map(params_from_iter(args.iter()), AlertRow::from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            render(conn, &rows, inc, now)
        })
        .await?;
    Ok(reply::json(Value::Array(alerts)))
}

/// `GET /alerts/count`: the list's filters and the list's team scoping, without paging.
async fn count(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let mut filter = AlertFilter::from_params(&params)?;
    let now = state.clock.now_ms();
    let n: i64 = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            filter.scope_to(conn, &caller)?;
            let (clause, args) = filter.to_sql();
            Ok(conn.query_row(
                &format!("SELECT COUNT(*) FROM alerts a WHERE {clause}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )?)
        })
        .await?;
    Ok(reply::json(json!({ "count": n })))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = parse_id(&raw_id)?;
    let inc = Includes::from_params(&params, true, &caller);
    let now = state.clock.now_ms();
    let alert = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            load_one(conn, id, inc, now)
        })
        .await?;
    Ok(reply::json(alert))
}

/// Who changed an alert: a user (by API key) or an alert source (by event).
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    User { id: i64, name: &'a str },
    Source { name: &'a str },
}

pub fn user_name(conn: &Connection, id: i64) -> rusqlite::Result<String> {
    Ok(users::load(conn, id)?.map_or_else(
        || format!("user {id}"),
        |u| format!("{} {}", u.first_name, u.last_name),
    ))
}

/// Accepting stops escalation. A user who accepts becomes an ACCEPTED responder. Accepting an
/// accepted alert changes nothing; a resolved one cannot be accepted.
pub fn accept_alert(conn: &Connection, id: i64, actor: Actor<'_>, now: i64) -> ApiResult<()> {
    let row = load_row(conn, id)?.ok_or_else(|| not_found(id))?;
    match row.status.parse() {
        Ok(AlertStatus::Resolved) => Err(ApiError::bad_request(format!(
            "Alert {id} is already resolved and cannot be accepted"
        ))),
        Ok(AlertStatus::Accepted) => Ok(()),
        Ok(AlertStatus::Pending) | Err(()) => {
            conn.execute(
                "UPDATE alerts SET status = 'ACCEPTED', accepted_at = COALESCE(accepted_at, ?2) WHERE id = ?1",
                params![id, now],
            )?;
            escalations::stop(conn, id)?;
            match actor {
                Actor::User { id: user_id, name } => {
                    conn.execute(
                        "INSERT INTO alert_responders (alert_id, user_id, status, accepted_at, added_at) \
                         VALUES (?1, ?2, 'ACCEPTED', ?3, ?3) \
                         ON CONFLICT (alert_id, user_id) DO UPDATE \
                         SET status = 'ACCEPTED', accepted_at = excluded.accepted_at",
                        params![id, user_id, now],
                    )?;
                    log_entries::add(
                        conn,
                        id,
                        now,
                        Entry::UserResponse {
                            user: name,
                            accepted: true,
                        },
                    )?;
                }
                Actor::Source { name } => {
                    log_entries::add(
                        conn,
                        id,
                        now,
                        Entry::SourceResponse {
                            source: name,
                            accepted: true,
                        },
                    )?;
                }
            }
            Ok(())
        }
    }
}

/// Resolving sets `resolvedOn` and stops escalation; a resolved alert stays as it was.
pub fn resolve_alert(conn: &Connection, id: i64, actor: Actor<'_>, now: i64) -> ApiResult<()> {
    let row = load_row(conn, id)?.ok_or_else(|| not_found(id))?;
    if row.is_open() {
        conn.execute(
            "UPDATE alerts SET status = 'RESOLVED', resolved_on = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        escalations::stop(conn, id)?;
        let entry = match actor {
            Actor::User { name, .. } => Entry::UserResponse {
                user: name,
                accepted: false,
            },
            Actor::Source { name } => Entry::SourceResponse {
                source: name,
                accepted: false,
            },
        };
        log_entries::add(conn, id, now, entry)?;
    }
    Ok(())
}

async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_responder("accept alerts")?;
    let id = parse_id(&raw_id)?;
    let now = state.clock.now_ms();
    let inc = Includes::plain(&caller);
    let alert = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let tx = conn.transaction()?;
            let name = user_name(&tx, caller.user_id)?;
            accept_alert(
                &tx,
                id,
                Actor::User {
                    id: caller.user_id,
                    name: &name,
                },
                now,
            )?;
            tx.commit()?;
            load_one(conn, id, inc, now)
        })
        .await?;
    Ok(reply::json(alert))
}

async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_responder("resolve alerts")?;
    let id = parse_id(&raw_id)?;
    let now = state.clock.now_ms();
    let inc = Includes::plain(&caller);
    let alert = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let tx = conn.transaction()?;
            let name = user_name(&tx, caller.user_id)?;
            resolve_alert(
                &tx,
                id,
                Actor::User {
                    id: caller.user_id,
                    name: &name,
                },
                now,
            )?;
            tx.commit()?;
            load_one(conn, id, inc, now)
        })
        .await?;
    Ok(reply::json(alert))
}

/// What a new alert is made of, from `POST /alerts` or an event.
#[derive(Debug, Clone, Default)]
pub struct NewAlert {
    /// A fixed id (the seed's); None lets SQLite pick the next one.
    pub id: Option<i64>,
    pub summary: String,
    pub details: String,
    pub source_id: i64,
    pub policy_id: i64,
    pub priority: String,
    pub severity: Option<i64>,
    pub alert_key: Option<String>,
    pub labels: Value,
    pub images: Value,
    pub links: Value,
    pub custom_details: Value,
}

fn or_default(v: &Value, fallback: &str) -> String {
    if v.is_null() {
        fallback.to_owned()
    } else {
        v.to_string()
    }
}

/// Stores a new PENDING alert reported at `at`; the caller starts escalation.
pub fn insert_alert(conn: &Connection, a: &NewAlert, at: i64) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO alerts (summary, details, report_time, status, priority, severity, alert_key, \
         alert_source_id, escalation_policy_id, labels, images, links, custom_details, id) \
         VALUES (?1, ?2, ?3, 'PENDING', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            a.summary,
            a.details,
            at,
            a.priority,
            a.severity,
            a.alert_key,
            a.source_id,
            a.policy_id,
            or_default(&a.labels, "{}"),
            or_default(&a.images, "[]"),
            or_default(&a.links, "[]"),
            or_default(&a.custom_details, "{}"),
            a.id
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// `images` and `links` as ilert stores them: only the documented fields, strings only.
pub fn attachments(o: &input::Object, field: &str, keys: &[&str]) -> ApiResult<Value> {
    let items = input::opt_array(o, field)?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let io = input::object(item, field)?;
        let mut clean = serde_json::Map::new();
        for key in keys {
            if let Some(v) = input::opt_str(io, key).map_err(|_| {
                ApiError::bad_request(format!("Field '{field}[{i}].{key}' must be a string"))
            })? {
                clean.insert((*key).to_owned(), Value::String(v));
            }
        }
        out.push(Value::Object(clean));
    }
    Ok(Value::Array(out))
}

pub const PRIORITIES: &[&str] = &["HIGH", "LOW"];

/// `POST /alerts` (`ManualAlert`): 201 with the created and freshly escalated alert. With
/// `responders`, only they are notified and the alert does not escalate.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Work, "create alerts")?;
    let o = input::object(&body, "ManualAlert")?;
    let summary = input::req_str(o, "summary")?;
    let source_id = input::opt_ref(o, "alertSource")?
        .ok_or_else(|| ApiError::bad_request("Field 'alertSource' is required"))?;
    let policy_id = input::opt_ref(o, "escalationPolicy")?;
    let priority = input::opt_enum(o, "priority", PRIORITIES)?;
    let details = input::opt_str(o, "details")?.unwrap_or_default();
    let images = attachments(o, "images", &["src", "href", "alt"])?;
    let links = attachments(o, "links", &["href", "text"])?;
    let mut responders: Vec<i64> = input::opt_array(o, "responders")?
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let user = r.get("user").unwrap_or(r);
            input::ref_id(user, &format!("responders[{i}].user"))
        })
        .collect::<ApiResult<_>>()?;
    if let Some(assigned) = input::opt_ref(o, "assignedTo")?
        && !responders.contains(&assigned)
    {
        responders.push(assigned);
    }
    let now = state.clock.now_ms();
    let inc = Includes::plain(&caller);
    let alert = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let tx = conn.transaction()?;
            let cat = Catalog::load(&tx)?;
            let source = cat.sources.get(&source_id).ok_or_else(|| {
                ApiError::bad_request(format!("Alert source {source_id} does not exist"))
            })?;
            let policy_id = policy_id.unwrap_or(source.escalation_policy_id);
            if !cat.policies.contains_key(&policy_id) {
                return Err(ApiError::bad_request(format!(
                    "Escalation policy {policy_id} does not exist"
                )));
            }
            for id in &responders {
                if !cat.users.contains_key(id) {
                    return Err(ApiError::bad_request(format!("User {id} does not exist")));
                }
            }
            let priority = priority.unwrap_or_else(|| source.default_priority().to_owned());
            let high = priority == "HIGH";
            let new = NewAlert {
                summary: summary.clone(),
                details,
                source_id,
                policy_id,
                priority,
                images,
                links,
                ..NewAlert::default()
            };
            let id = insert_alert(&tx, &new, now)?;
            let name = user_name(&tx, caller.user_id)?;
            log_entries::add(&tx, id, now, Entry::CreatedByUser { user: &name })?;
            if responders.is_empty() {
                escalations::start(&tx, &cat, id, now)?;
            } else {
                for user in &responders {
                    escalations::add_responder(&tx, &cat, id, &summary, high, *user, now)?;
                }
            }
            tx.commit()?;
            load_one(conn, id, inc, now)
        })
        .await?;
    Ok(reply::created(alert))
}

/// The one target of `PUT /alerts/{id}/assign`. ilert's spec names the parameters `user`,
/// `policy` and `schedule`; its description and ilert-go say `user-id`, `policy-id` and
/// `schedule-id`. Both work; users also by username or e-mail.
enum AssignTarget {
    User(String),
    Policy(i64),
    Schedule(i64),
}

/// The target from the query (the spec's `user`/`policy`/`schedule`, ilert-go's `user-id`/
/// `policy-id`/`schedule-id`) or from a JSON body naming one of them, as `{"user": {"id": 1}}`,
/// `{"userId": 1}`, `{"escalationPolicy": {"id": 2}}` or similar.
fn assign_target(params: &Params, body: Option<&Value>) -> ApiResult<AssignTarget> {
    let from_body = |names: &[&str]| -> Option<String> {
        let o = body?.as_object()?;
        names.iter().find_map(|n| {
            let v = o.get(*n)?;
            let v = v.get("id").unwrap_or(v);
            match v {
                Value::Number(n) => Some(n.to_string()),
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                _ => None,
            }
        })
    };
    let pick = |query: [&str; 2], body: &[&str]| {
        params
            .single(query[0])
            .or_else(|| params.single(query[1]))
            .map(str::to_owned)
            .or_else(|| from_body(body))
    };
    let user = pick(["user", "user-id"], &["user", "userId", "user-id"]);
    let policy = pick(
        ["policy", "policy-id"],
        &["policy", "policyId", "policy-id", "escalationPolicy"],
    );
    let schedule = pick(
        ["schedule", "schedule-id"],
        &["schedule", "scheduleId", "schedule-id"],
    );
    let number = |name: &str, v: &str| {
        v.parse::<i64>()
            .map_err(|_| crate::query::invalid(name, v, "a numeric id"))
    };
    match (user, policy, schedule) {
        (Some(u), None, None) => Ok(AssignTarget::User(u)),
        (None, Some(p), None) => Ok(AssignTarget::Policy(number("policy", &p)?)),
        (None, None, Some(s)) => Ok(AssignTarget::Schedule(number("schedule", &s)?)),
        _ => Err(ApiError::bad_request(
            "Provide exactly one of the query parameters 'user', 'policy' or 'schedule' \
             (or 'user-id', 'policy-id', 'schedule-id'), or a body such as {\"user\": {\"id\": 1}}",
        )),
    }
}

/// Replaces the responders with the new assignee (or the policy's first level, or whoever is
/// on call in the schedule now). The alert is PENDING again; a resolved alert cannot be assigned.
async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    params: Params,
    OptionalJsonBody(body): OptionalJsonBody,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Work, "assign alerts")?;
    let id = parse_id(&raw_id)?;
    let target = assign_target(&params, body.as_ref())?;
    let now = state.clock.now_ms();
    let inc = Includes::plain(&caller);
    let alert = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let tx = conn.transaction()?;
            let row = load_row(&tx, id)?.ok_or_else(|| not_found(id))?;
            if !row.is_open() {
                return Err(ApiError::bad_request(format!(
                    "Alert {id} is resolved and cannot be assigned"
                )));
            }
            let cat = Catalog::load(&tx)?;
            let by = user_name(&tx, caller.user_id)?;
            let high = row.priority == "HIGH";
            let reset = |tx: &Connection| -> ApiResult<()> {
                tx.execute("DELETE FROM alert_responders WHERE alert_id = ?1", [id])?;
                tx.execute("UPDATE alerts SET status = 'PENDING' WHERE id = ?1", [id])?;
                escalations::stop(tx, id)
            };
            match target {
                AssignTarget::User(who) => {
                    let user = users::find(&tx, &who)?
                        .ok_or_else(|| ApiError::not_found(format!("User {who} not found")))?;
                    reset(&tx)?;
                    let to = format!("{} {}", user.first_name, user.last_name);
                    log_entries::add(&tx, id, now, Entry::AssignedToUser { by: &by, to: &to })?;
                    escalations::add_responder(&tx, &cat, id, &row.summary, high, user.id, now)?;
                }
                AssignTarget::Policy(policy_id) => {
                    let policy = cat.policies.get(&policy_id).ok_or_else(|| {
                        ApiError::not_found(format!("Escalation policy {policy_id} not found"))
                    })?;
                    reset(&tx)?;
                    tx.execute(
                        "UPDATE alerts SET escalation_policy_id = ?1 WHERE id = ?2",
                        params![policy_id, id],
                    )?;
                    log_entries::add(
                        &tx,
                        id,
                        now,
                        Entry::AssignedToPolicy {
                            by: &by,
                            policy: &policy.name,
                        },
                    )?;
                    escalations::start(&tx, &cat, id, now)?;
                }
                AssignTarget::Schedule(schedule_id) => {
                    let schedule = cat.schedules.get(&schedule_id).ok_or_else(|| {
                        ApiError::not_found(format!("Schedule {schedule_id} not found"))
                    })?;
                    let user = schedule
                        .on_call_at(now)
                        .and_then(|u| cat.users.get(&u))
                        .ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "Nobody is on call in schedule {schedule_id} now"
                            ))
                        })?;
                    reset(&tx)?;
                    let to = format!("{} {}", user.first_name, user.last_name);
                    log_entries::add(
                        &tx,
                        id,
                        now,
                        Entry::AssignedToSchedule {
                            by: &by,
                            schedule: &schedule.name,
                            to: &to,
                        },
                    )?;
                    escalations::add_responder(&tx, &cat, id, &row.summary, high, user.id, now)?;
                }
            }
            tx.commit()?;
            load_one(conn, id, inc, now)
        })
        .await?;
    Ok(reply::json(alert))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_sql_binds_every_value() {
        let params = Params::from_pairs(&[
            ("states", "PENDING"),
            ("state", "ACCEPTED"),
            ("sources", "1"),
            ("responders", "Jonas.Weber@example.com"),
            ("from", "2026-01-01T00:00:00Z"),
        ]);
        let filter = AlertFilter::from_params(&params).unwrap();
        let (sql, args) = filter.to_sql();
        assert_eq!(sql.matches('?').count(), args.len());
        assert!(args.contains(&SqlValue::Text("jonas.weber@example.com".into())));
    }

    #[test]
    fn bad_filter_values_name_the_parameter() {
        for (name, value) in [
            ("states", "FOO"),
            ("sources", "abc"),
            ("from", "soon"),
            ("until", "2026-13-01"),
        ] {
            let err = AlertFilter::from_params(&Params::from_pairs(&[(name, value)])).unwrap_err();
            assert!(err.message().contains(name), "{err}");
        }
    }
}
