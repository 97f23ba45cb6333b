//! Alert actions on one alert (ilert `AlertActionTrigger`, `AlertActionResult`):
//! `GET /api/alerts/{id}/actions` lists the actions available for the alert with their past
//! runs, `POST` runs one. Nothing leaves the sandbox; a run is recorded as successful.
//!
//! ilert's spec types the GET answer as a single `AlertActionTrigger` while its text says
//! "list of alert actions"; the sandbox answers with an array, as ilert's clients expect.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::AppState;
use crate::alerts;
use crate::auth::{Action, Caller};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::log_entries::{self, Entry};
use crate::{escalations, input, reply, users};

struct AlertAction {
    id: String,
    name: String,
    connector_type: String,
    connector_id: Option<String>,
    icon_url: Option<String>,
    /// Empty: available for every alert source.
    alert_sources: Vec<i64>,
}

fn load_for_source(conn: &Connection, source: i64) -> rusqlite::Result<Vec<AlertAction>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, name, connector_type, connector_id, icon_url, alert_sources FROM alert_actions ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        let sources: String = r.get(5)?;
        Ok(AlertAction {
            id: r.get(0)?,
            name: r.get(1)?,
            connector_type: r.get(2)?,
            connector_id: r.get(3)?,
            icon_url: r.get(4)?,
            alert_sources: input::stored_ids(&sources),
        })
    })?;
    Ok(rows
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|a| a.alert_sources.is_empty() || a.alert_sources.contains(&source))
        .collect())
}

/// `AlertActionResult`s of `action` on `alert`, oldest first.
fn results(
    conn: &Connection,
    cat: &Catalog,
    action: &AlertAction,
    alert: i64,
) -> rusqlite::Result<Vec<Value>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, actor_id, success FROM alert_action_results WHERE alert_action_id = ?1 AND alert_id = ?2 \
         ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map(params![action.id, alert], |r| {
        let actor: Option<i64> = r.get(1)?;
        Ok(json!({
            "id": r.get::<_, String>(0)?,
            "alertActionId": action.id,
            "connectorId": action.connector_id,
            "alertId": alert,
            "success": r.get::<_, bool>(2)?,
            "actor": actor.and_then(|id| cat.users.get(&id)).map(users::user_json),
        }))
    })?;
    rows.collect()
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/alerts/{id}/actions", get(list).post(run))
}

async fn list(State(state): State<AppState>, Path(raw_id): Path<String>) -> ApiResult<Json<Value>> {
    let id = alerts::parse_id(&raw_id)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let row = alerts::load_row(conn, id)?.ok_or_else(|| alerts::not_found(id))?;
            let cat = Catalog::load(conn)?;
            load_for_source(conn, row.source_id)?
                .iter()
                .map(|a| {
                    Ok(json!({
                        "alertActionId": a.id,
                        "connectorId": a.connector_id,
                        "type": a.connector_type,
                        "name": a.name,
                        "iconUrl": a.icon_url,
                        "history": results(conn, &cat, a, id)?,
                    }))
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

/// Body `AlertActionTrigger`, at least `alertActionId`; 201 with the `AlertActionResult`.
async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Work, "run alert actions")?;
    let id = alerts::parse_id(&raw_id)?;
    let action_id = input::req_str(input::object(&body, "AlertActionTrigger")?, "alertActionId")?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let tx = conn.transaction()?;
            let row = alerts::load_row(&tx, id)?.ok_or_else(|| alerts::not_found(id))?;
            let action = load_for_source(&tx, row.source_id)?
                .into_iter()
                .find(|a| a.id == action_id)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("Alert action '{action_id}' does not exist for the alert's source"))
                })?;
            let n: i64 = tx.query_row("SELECT COUNT(*) FROM alert_action_results", [], |r| r.get(0))?;
            let result_id = format!("{}-{now:x}-{}", action.id, n + 1);
            tx.execute(
                "INSERT INTO alert_action_results (id, alert_action_id, alert_id, actor_id, success, created_at) \
                 VALUES (?1, ?2, ?3, ?4, 1, ?5)",
                params![result_id, action.id, id, caller.user_id, now],
            )?;
            let by = alerts::user_name(&tx, caller.user_id)?;
            log_entries::add(&tx, id, now, Entry::ActionRun { action: &action.name, user: &by, success: true })?;
            tx.commit()?;
            let cat = Catalog::load(conn)?;
            Ok(json!({
                "id": result_id,
                "alertActionId": action.id,
                "connectorId": action.connector_id,
                "alertId": id,
                "success": true,
                "actor": cat.users.get(&caller.user_id).map(users::user_json),
            }))
        })
        .await?;
    Ok(reply::created(out))
}
