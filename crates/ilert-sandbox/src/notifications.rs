//! Notifications sent to responders (ilert `Notification`): written when escalation, an
//! assignment or a new responder reaches someone, read with `GET /api/alerts/{id}/notifications`.
//! Nothing leaves the sandbox; every notification is recorded as delivered.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use crate::AppState;
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult};
use crate::log_entries::{self, Entry};
use crate::{escalations, input, reply, time};

/// Notifies `user_id` about alert `alert_id`: an e-mail, plus a push for HIGH alerts, each
/// with its timeline entry.
pub fn notify(
    conn: &Connection,
    cat: &Catalog,
    alert_id: i64,
    summary: &str,
    high: bool,
    user_id: i64,
    at: i64,
) -> rusqlite::Result<()> {
    let Some(user) = cat.users.get(&user_id) else {
        return Ok(());
    };
    let name = format!("{} {}", user.first_name, user.last_name);
    let subject = format!("[ilert] Alert #{alert_id}: {summary}");
    let mut channels = vec![("EMAIL", user.email.clone())];
    if high {
        channels.push(("PUSH", "ilert app".to_owned()));
    }
    for (method, target) in channels {
        conn.execute(
            "INSERT INTO notifications (alert_id, user_id, method, target, subject, time, status) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'SUCCESS')",
            params![alert_id, user_id, method, target, subject, at],
        )?;
        log_entries::add(
            conn,
            alert_id,
            at,
            Entry::Notified {
                user: &name,
                method,
                target: &target,
            },
        )?;
    }
    Ok(())
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/alerts/{id}/notifications", get(list))
}

/// Oldest first; not paginated in ilert either.
async fn list(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "alert")?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let exists: Option<i64> = conn.query_row("SELECT id FROM alerts WHERE id = ?1", [id], |r| r.get(0)).optional()?;
            exists.ok_or_else(|| ApiError::not_found(format!("Alert {id} not found")))?;
            let cat = Catalog::load(conn)?;
            let mut stmt = conn.prepare(
                "SELECT id, method, target, subject, user_id, time, status, error FROM notifications \
                 WHERE alert_id = ?1 ORDER BY time, id",
            )?;
            let rows = stmt.query_map([id], |r| {
                let user_id: i64 = r.get(4)?;
                Ok(json!({
                    "id": r.get::<_, i64>(0)?,
                    "method": r.get::<_, String>(1)?,
                    "target": r.get::<_, String>(2)?,
                    "subject": r.get::<_, String>(3)?,
                    "alertId": id,
                    "user": cat.users.get(&user_id).map_or_else(
                        || json!({"id": user_id}),
                        |u| json!({"id": u.id, "firstname": u.first_name, "lastname": u.last_name}),
                    ),
                    "notificationTime": time::format_ms(r.get(5)?),
                    "status": r.get::<_, String>(6)?,
                    "errorMessage": r.get::<_, Option<String>>(7)?,
                }))
            })?;
            Ok(Value::Array(rows.collect::<rusqlite::Result<Vec<_>>>()?))
        })
        .await?;
    Ok(reply::json(out))
}
