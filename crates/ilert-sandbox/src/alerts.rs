//! Alerts (ilert `Alert`, `AlertResponder`, `CountResponse`): `GET /api/alerts`,
//! `/api/alerts/count`, `/api/alerts/{id}`, `PUT /api/alerts/{id}/accept` and `/resolve`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;

use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::{Value, json};

use crate::AppState;
use crate::alert_sources::{self, AlertSource};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::escalation_policies::{self, EscalationPolicy};
use crate::query::{Paging, Params};
use crate::time;
use crate::users::{self, User};

/// `/alerts` paging: default 50, and more than 100 is rejected.
const DEFAULT_MAX_RESULTS: i64 = 50;
const MAX_RESULTS_CAP: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(list))
        .route("/alerts/count", get(count))
        .route("/alerts/{id}", get(get_one))
        .route("/alerts/{id}/accept", put(accept))
        .route("/alerts/{id}/resolve", put(resolve))
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
struct AlertRow {
    id: i64,
    summary: String,
    details: String,
    report_time: i64,
    resolved_on: Option<i64>,
    status: String,
    priority: String,
    severity: Option<i64>,
    alert_key: Option<String>,
    source_id: i64,
    policy_id: i64,
    next_escalation: Option<i64>,
    next_escalation_rule_index: Option<i64>,
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
}

#[derive(Debug, Clone)]
struct Responder {
    user_id: i64,
    status: String,
    accepted_at: Option<i64>,
}

/// The small reference tables an alert embeds, loaded once per request.
struct Catalog {
    users: HashMap<i64, User>,
    policies: HashMap<i64, EscalationPolicy>,
    sources: HashMap<i64, AlertSource>,
}

impl Catalog {
    fn load(conn: &Connection) -> rusqlite::Result<Catalog> {
        Ok(Catalog {
            users: users::load_all(conn)?,
            policies: escalation_policies::load_all(conn)?,
            sources: alert_sources::load_all(conn)?,
        })
    }
}

/// Optional `Alert` fields requested with `?include=`.
#[derive(Debug, Default, Clone, Copy)]
struct Includes {
    escalation_rules: bool,
    next_escalation_user: bool,
    custom_details: bool,
}

impl Includes {
    /// `customDetails` and `escalationRules` exist only on the single-alert GET.
    fn from_params(params: &Params, single: bool) -> Includes {
        let set = params.includes();
        Includes {
            escalation_rules: single && set.contains("escalationRules"),
            next_escalation_user: set.contains("nextEscalationUser"),
            custom_details: single && set.contains("customDetails"),
        }
    }
}

fn load_responders(
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
         WHERE alert_id IN ({placeholders}) ORDER BY alert_id, accepted_at IS NULL, user_id"
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

fn responder_json(r: &Responder, users: &HashMap<i64, User>) -> Value {
    let user = match users.get(&r.user_id) {
        Some(u) => users::responder_user_json(u),
        None => json!({"id": r.user_id}),
    };
    json!({
        "user": user,
        "status": r.status,
        "acceptedAt": time::format_opt(r.accepted_at),
    })
}

/// The `Alert` schema (v2.2026.5).
fn alert_json(a: &AlertRow, responders: &[Responder], catalog: &Catalog, inc: Includes) -> Value {
    let policy = catalog.policies.get(&a.policy_id);
    let source = match catalog.sources.get(&a.source_id) {
        Some(s) => alert_sources::source_json(
            s,
            catalog.policies.get(&s.escalation_policy_id),
            &catalog.users,
        ),
        None => json!({"id": a.source_id}),
    };
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
        "escalationPolicy": match policy {
            Some(p) => escalation_policies::policy_json(p, &catalog.users),
            None => json!({"id": a.policy_id}),
        },
        "nextEscalation": time::format_opt(a.next_escalation),
        "nextEscalationRuleIndex": a.next_escalation_rule_index,
        "responders": responders.iter().map(|r| responder_json(r, &catalog.users)).collect::<Vec<_>>(),
        "labels": stored_json(&a.labels, json!({})),
        "images": stored_json(&a.images, json!([])),
        "links": stored_json(&a.links, json!([])),
        "linkedIncidentId": null,
        "mergedIntoId": null,
        "mergeState": a.merge_state,
    });
    if let Some(obj) = alert.as_object_mut() {
        if inc.escalation_rules {
            let rules = policy.map_or_else(
                || json!([]),
                |p| escalation_policies::rules_json(p, &catalog.users),
            );
            obj.insert("escalationRules".to_owned(), rules);
        }
        if inc.next_escalation_user {
            let next = a
                .next_escalation_rule_index
                .and_then(|i| usize::try_from(i).ok())
                .zip(policy)
                .and_then(|(i, p)| p.first_user_of_rule(i))
                .and_then(|id| catalog.users.get(&id))
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
struct AlertFilter {
    states: Vec<AlertStatus>,
    sources: Vec<i64>,
    policies: Vec<i64>,
    /// User ids, usernames or e-mail addresses, lower-cased.
    responders: Vec<String>,
    from: Option<i64>,
    until: Option<i64>,
}

impl AlertFilter {
    fn from_params(p: &Params) -> ApiResult<AlertFilter> {
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
        })
    }

    /// A `WHERE` clause over alias `a` and its bind values.
    fn to_sql(&self) -> (String, Vec<SqlValue>) {
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

fn render(conn: &Connection, rows: &[AlertRow], inc: Includes) -> ApiResult<Vec<Value>> {
    let catalog = Catalog::load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
    let responders = load_responders(conn, &ids)?;
    Ok(rows
        .iter()
        .map(|a| {
            let rs = responders.get(&a.id).map_or(&[][..], Vec::as_slice);
            alert_json(a, rs, &catalog, inc)
        })
        .collect())
}

fn load_row(conn: &Connection, id: i64) -> rusqlite::Result<Option<AlertRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM alerts a WHERE a.id = ?1"),
        [id],
        AlertRow::from_row,
    )
    .optional()
}

fn load_one(conn: &Connection, id: i64, inc: Includes) -> ApiResult<Value> {
    let row = load_row(conn, id)?.ok_or_else(|| not_found(id))?;
    render(conn, std::slice::from_ref(&row), inc)?
        .pop()
        .ok_or_else(|| not_found(id))
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Alert {id} not found"))
}

/// ilert types the path id as a number; anything else is a client error, not a missing alert.
fn parse_id(raw: &str) -> ApiResult<i64> {
    raw.trim().parse().map_err(|_| {
        ApiError::bad_request(format!("Invalid alert id '{raw}': expected a numeric id"))
    })
}

async fn list(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let filter = AlertFilter::from_params(&params)?;
    let Paging {
        start_index,
        max_results,
    } = params.paging(DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP)?;
    let inc = Includes::from_params(&params, false);
    let alerts = state
        .db
        .call(move |conn| {
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
            render(conn, &rows, inc)
        })
        .await?;
    Ok(Json(Value::Array(alerts)))
}

async fn count(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let filter = AlertFilter::from_params(&params)?;
    let n: i64 = state
        .db
        .call(move |conn| {
            let (clause, args) = filter.to_sql();
            Ok(conn.query_row(
                &format!("SELECT COUNT(*) FROM alerts a WHERE {clause}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )?)
        })
        .await?;
    Ok(Json(json!({ "count": n })))
}

async fn get_one(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = parse_id(&raw_id)?;
    let inc = Includes::from_params(&params, true);
    let alert = state.db.call(move |conn| load_one(conn, id, inc)).await?;
    Ok(Json(alert))
}

/// Accepting stops escalation, so the next-escalation fields are cleared.
async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_responder("accept alerts")?;
    let id = parse_id(&raw_id)?;
    let user_id = caller.user_id;
    let alert = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let row = load_row(&tx, id)?.ok_or_else(|| not_found(id))?;
            match row.status.parse() {
                Ok(AlertStatus::Resolved) => {
                    return Err(ApiError::bad_request(format!(
                        "Alert {id} is already resolved and cannot be accepted"
                    )));
                }
                Ok(AlertStatus::Accepted) => {}
                Ok(AlertStatus::Pending) | Err(()) => {
                    let now = time::now_ms();
                    tx.execute(
                        "UPDATE alerts SET status = 'ACCEPTED', next_escalation = NULL, \
                         next_escalation_rule_index = NULL WHERE id = ?1",
                        [id],
                    )?;
                    tx.execute(
                        "INSERT INTO alert_responders (alert_id, user_id, status, accepted_at) \
                         VALUES (?1, ?2, 'ACCEPTED', ?3) \
                         ON CONFLICT (alert_id, user_id) DO UPDATE \
                         SET status = 'ACCEPTED', accepted_at = excluded.accepted_at",
                        params![id, user_id, now],
                    )?;
                }
            }
            tx.commit()?;
            load_one(conn, id, Includes::default())
        })
        .await?;
    Ok(Json(alert))
}

async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_responder("resolve alerts")?;
    let id = parse_id(&raw_id)?;
    let alert = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let row = load_row(&tx, id)?.ok_or_else(|| not_found(id))?;
            if row.status != AlertStatus::Resolved.as_str() {
                tx.execute(
                    "UPDATE alerts SET status = 'RESOLVED', resolved_on = ?2, \
                     next_escalation = NULL, next_escalation_rule_index = NULL WHERE id = ?1",
                    params![id, time::now_ms()],
                )?;
            }
            tx.commit()?;
            load_one(conn, id, Includes::default())
        })
        .await?;
    Ok(Json(alert))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every seeded alert, rendered with every include, as the single GET would return it.
    pub(crate) fn all_seeded_alerts_json(conn: &Connection) -> Vec<Value> {
        let mut stmt = conn
            .prepare(&format!("SELECT {COLUMNS} FROM alerts a ORDER BY a.id"))
            .unwrap();
        let rows: Vec<AlertRow> = stmt
            .query_map([], AlertRow::from_row)
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let all = Includes {
            escalation_rules: true,
            next_escalation_user: true,
            custom_details: true,
        };
        render(conn, &rows, all).unwrap()
    }

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
