//! The alert timeline (ilert `LogEntry`): written by everything that happens to an alert, read
//! with `GET /api/alerts/{id}/log-entries`. Entries store their type and the values their text
//! is made of, so the text comes out in English or German (`?lang=de`), and `?include=vars`
//! shows the values.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::query::{Paging, Params};
use crate::{escalations, input, reply, time};

/// What happened. Each variant is one of ilert's `logEntryType`s.
#[derive(Debug, Clone)]
pub enum Entry<'a> {
    /// `AlertReceivedLogEntry`: an event opened the alert.
    Received { source: &'a str },
    /// `AlertReceivedLogEntry`: an event with the same alert key was added to the open alert.
    EventAppended { source: &'a str, summary: &'a str },
    /// `AlertCreatedByUserLogEntry`.
    CreatedByUser { user: &'a str },
    /// `AlertEscalatedToLevelLogEntry`; `level` is 1-based.
    Escalated {
        level: usize,
        policy: &'a str,
        users: String,
    },
    /// `NobodyOnCallLogEntry`.
    NobodyOnCall { level: usize, policy: &'a str },
    /// `NotificationLogEntry`.
    Notified {
        user: &'a str,
        method: &'a str,
        target: &'a str,
    },
    /// `UserResponseLogEntry`: accepted or resolved by a user.
    UserResponse { user: &'a str, accepted: bool },
    /// `AlertSourceResponseLogEntry`: accepted or resolved by an event.
    SourceResponse { source: &'a str, accepted: bool },
    /// `AlertAssignedByUserLogEntry`.
    AssignedToUser { by: &'a str, to: &'a str },
    /// `AlertAssignedToPolicyLogEntry`.
    AssignedToPolicy { by: &'a str, policy: &'a str },
    /// `AlertAssignedToScheduleLogEntry`.
    AssignedToSchedule {
        by: &'a str,
        schedule: &'a str,
        to: &'a str,
    },
    /// `AlertAssignedByUserLogEntry`: a responder added or removed by hand.
    ResponderChanged {
        by: &'a str,
        user: &'a str,
        added: bool,
    },
    /// `AlertCommentAddedLogEntry`.
    Comment { creator: &'a str, content: &'a str },
    /// `AlertActionSuccessLogEntry` / `AlertActionFailLogEntry`.
    ActionRun {
        action: &'a str,
        user: &'a str,
        success: bool,
    },
}

impl Entry<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Entry::Received { .. } | Entry::EventAppended { .. } => "AlertReceivedLogEntry",
            Entry::CreatedByUser { .. } => "AlertCreatedByUserLogEntry",
            Entry::Escalated { .. } => "AlertEscalatedToLevelLogEntry",
            Entry::NobodyOnCall { .. } => "NobodyOnCallLogEntry",
            Entry::Notified { .. } => "NotificationLogEntry",
            Entry::UserResponse { .. } => "UserResponseLogEntry",
            Entry::SourceResponse { .. } => "AlertSourceResponseLogEntry",
            Entry::AssignedToUser { .. } | Entry::ResponderChanged { .. } => {
                "AlertAssignedByUserLogEntry"
            }
            Entry::AssignedToPolicy { .. } => "AlertAssignedToPolicyLogEntry",
            Entry::AssignedToSchedule { .. } => "AlertAssignedToScheduleLogEntry",
            Entry::Comment { .. } => "AlertCommentAddedLogEntry",
            Entry::ActionRun { success: true, .. } => "AlertActionSuccessLogEntry",
            Entry::ActionRun { success: false, .. } => "AlertActionFailLogEntry",
        }
    }

    /// The text's values; `event` tells variants of one type apart.
    fn vars(&self) -> Value {
        let action = |accepted: bool| if accepted { "accepted" } else { "resolved" };
        match self {
            Entry::Received { source } => json!({"event": "received", "source": source}),
            Entry::EventAppended { source, summary } => {
                json!({"event": "appended", "source": source, "summary": summary})
            }
            Entry::CreatedByUser { user } => json!({"event": "created", "user": user}),
            Entry::Escalated {
                level,
                policy,
                users,
            } => {
                json!({"event": "escalated", "level": level.to_string(), "policy": policy, "users": users})
            }
            Entry::NobodyOnCall { level, policy } => {
                json!({"event": "nobody", "level": level.to_string(), "policy": policy})
            }
            Entry::Notified {
                user,
                method,
                target,
            } => {
                json!({"event": "notified", "user": user, "method": method, "target": target})
            }
            Entry::UserResponse { user, accepted } => {
                json!({"event": action(*accepted), "user": user})
            }
            Entry::SourceResponse { source, accepted } => {
                json!({"event": action(*accepted), "source": source})
            }
            Entry::AssignedToUser { by, to } => json!({"event": "assigned", "by": by, "user": to}),
            Entry::AssignedToPolicy { by, policy } => {
                json!({"event": "assigned-policy", "by": by, "policy": policy})
            }
            Entry::AssignedToSchedule { by, schedule, to } => {
                json!({"event": "assigned-schedule", "by": by, "schedule": schedule, "user": to})
            }
            Entry::ResponderChanged { by, user, added } => {
                json!({"event": if *added { "responder-added" } else { "responder-removed" }, "by": by, "user": user})
            }
            Entry::Comment { creator, content } => {
                json!({"event": "comment", "creator": creator, "content": content})
            }
            Entry::ActionRun {
                action,
                user,
                success,
            } => {
                json!({"event": "action", "action": action, "user": user, "success": success.to_string()})
            }
        }
    }
}

pub fn add(conn: &Connection, alert_id: i64, at: i64, entry: Entry<'_>) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO log_entries (alert_id, timestamp, type, vars) VALUES (?1, ?2, ?3, ?4)",
        params![alert_id, at, entry.kind(), entry.vars().to_string()],
    )?;
    Ok(())
}

/// ilert's `filter-types` group for a log entry type.
fn filter_type(kind: &str) -> &'static str {
    match kind {
        "AlertReceivedLogEntry" | "AlertSourceResponseLogEntry" => "ALERT_SOURCE_EVENTS",
        "NotificationLogEntry" => "NOTIFICATIONS",
        k if k.starts_with("AlertAction") || k.starts_with("Connector") => "CONNECTOR_EVENTS",
        _ => "ALERT_UPDATES",
    }
}

fn text(vars: &Map<String, Value>, de: bool) -> String {
    let v = |k: &str| vars.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let event = v("event");
    let (en, german) = match event.as_str() {
        "received" => (
            format!("New alert received from {}.", v("source")),
            format!("Neuer Alarm von {} empfangen.", v("source")),
        ),
        "appended" => (
            format!(
                "Event from {} added to this alert: {}",
                v("source"),
                v("summary")
            ),
            format!(
                "Ereignis von {} zu diesem Alarm hinzugefügt: {}",
                v("source"),
                v("summary")
            ),
        ),
        "created" => (
            format!("Alert created by {}.", v("user")),
            format!("Alarm von {} erstellt.", v("user")),
        ),
        "escalated" => (
            format!(
                "Alert escalated to level {} of {}: {} notified.",
                v("level"),
                v("policy"),
                v("users")
            ),
            format!(
                "Alarm auf Stufe {} von {} eskaliert: {} benachrichtigt.",
                v("level"),
                v("policy"),
                v("users")
            ),
        ),
        "nobody" => (
            format!(
                "Nobody is on call at level {} of {}; moving on.",
                v("level"),
                v("policy")
            ),
            format!(
                "Auf Stufe {} von {} ist niemand im Dienst; weiter zur nächsten Stufe.",
                v("level"),
                v("policy")
            ),
        ),
        "notified" => (
            format!(
                "{} notified by {} ({}).",
                v("user"),
                v("method"),
                v("target")
            ),
            format!(
                "{} per {} benachrichtigt ({}).",
                v("user"),
                v("method"),
                v("target")
            ),
        ),
        "accepted" if vars.contains_key("source") => (
            format!("Alert accepted by an event from {}.", v("source")),
            format!("Alarm durch ein Ereignis von {} angenommen.", v("source")),
        ),
        "resolved" if vars.contains_key("source") => (
            format!("Alert resolved by an event from {}.", v("source")),
            format!("Alarm durch ein Ereignis von {} gelöst.", v("source")),
        ),
        "accepted" => (
            format!("Alert accepted by {}.", v("user")),
            format!("Alarm von {} angenommen.", v("user")),
        ),
        "resolved" => (
            format!("Alert resolved by {}.", v("user")),
            format!("Alarm von {} gelöst.", v("user")),
        ),
        "assigned" => (
            format!("{} assigned the alert to {}.", v("by"), v("user")),
            format!("{} hat den Alarm {} zugewiesen.", v("by"), v("user")),
        ),
        "assigned-policy" => (
            format!(
                "{} assigned the alert to escalation policy {}.",
                v("by"),
                v("policy")
            ),
            format!(
                "{} hat den Alarm der Eskalationskette {} zugewiesen.",
                v("by"),
                v("policy")
            ),
        ),
        "assigned-schedule" => (
            format!(
                "{} assigned the alert to schedule {} ({} is on call).",
                v("by"),
                v("schedule"),
                v("user")
            ),
            format!(
                "{} hat den Alarm dem Dienstplan {} zugewiesen ({} hat Dienst).",
                v("by"),
                v("schedule"),
                v("user")
            ),
        ),
        "responder-added" => (
            format!("{} added {} as a responder.", v("by"), v("user")),
            format!("{} hat {} als Responder hinzugefügt.", v("by"), v("user")),
        ),
        "responder-removed" => (
            format!("{} removed {} as a responder.", v("by"), v("user")),
            format!("{} hat {} als Responder entfernt.", v("by"), v("user")),
        ),
        "comment" => (
            format!("{} commented: {}", v("creator"), v("content")),
            format!("{} kommentierte: {}", v("creator"), v("content")),
        ),
        "action" if v("success") == "true" => (
            format!(
                "Alert action '{}' run by {} succeeded.",
                v("action"),
                v("user")
            ),
            format!(
                "Alarmaktion '{}' von {} erfolgreich ausgeführt.",
                v("action"),
                v("user")
            ),
        ),
        "action" => (
            format!(
                "Alert action '{}' run by {} failed.",
                v("action"),
                v("user")
            ),
            format!(
                "Alarmaktion '{}' von {} fehlgeschlagen.",
                v("action"),
                v("user")
            ),
        ),
        _ => (String::new(), String::new()),
    };
    if de { german } else { en }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/alerts/{id}/log-entries", get(list))
}

/// `/alerts/{id}/log-entries` paging: default 50, at most 100.
const DEFAULT_MAX_RESULTS: i64 = 50;
const MAX_RESULTS_CAP: i64 = 100;
const FILTER_TYPES: &[&str] = &[
    "NOTIFICATIONS",
    "ALERT_SOURCE_EVENTS",
    "CALL_ROUTING_EVENTS",
    "ALERT_UPDATES",
    "CONNECTOR_EVENTS",
    "INCIDENT_COMMUNICATIONS",
];

/// Newest first, so that the first page holds the latest activity.
async fn list(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "alert")?;
    let Paging {
        start_index,
        max_results,
    } = params.paging(DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP)?;
    let de = match params.single("lang").or_else(|| params.single("lng")) {
        None | Some("en") => false,
        Some("de") => true,
        Some(other) => return Err(crate::query::invalid("lang", other, "en or de")),
    };
    let with_vars = params.includes().contains("vars");
    let filters: Vec<String> = params
        .values(&["filter-types"])
        .into_iter()
        .map(|(name, v)| {
            FILTER_TYPES
                .contains(&v)
                .then(|| v.to_owned())
                .ok_or_else(|| {
                    crate::query::invalid(name, v, &format!("one of {}", FILTER_TYPES.join(", ")))
                })
        })
        .collect::<ApiResult<_>>()?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let exists: Option<i64> = conn.query_row("SELECT id FROM alerts WHERE id = ?1", [id], |r| r.get(0)).optional()?;
            exists.ok_or_else(|| ApiError::not_found(format!("Alert {id} not found")))?;
            let mut stmt = conn.prepare(
                "SELECT id, timestamp, type, vars FROM log_entries WHERE alert_id = ?1 ORDER BY timestamp DESC, id DESC",
            )?;
            let rows = stmt
                .query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows
                .into_iter()
                .filter(|(_, _, kind, _)| filters.is_empty() || filters.iter().any(|f| f == filter_type(kind)))
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .map(|(entry_id, at, kind, vars)| {
                    let vars: Map<String, Value> = serde_json::from_str(&vars).unwrap_or_default();
                    let mut entry = json!({
                        "id": entry_id,
                        "timestamp": time::format_ms(at),
                        "logEntryType": kind,
                        "text": text(&vars, de),
                        "alertId": id,
                        "filterTypes": [filter_type(&kind)],
                    });
                    if with_vars {
                        let strings: Map<String, Value> = vars
                            .into_iter()
                            .map(|(k, v)| (k, Value::String(v.as_str().map_or_else(|| v.to_string(), str::to_owned))))
                            .collect();
                        if let Some(obj) = entry.as_object_mut() {
                            obj.insert("vars".to_owned(), Value::Object(strings));
                        }
                    }
                    entry
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}
