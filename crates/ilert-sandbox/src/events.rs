//! The Events API (ilert `Event`): `POST /api/events`, authenticated by the alert source's
//! integration key in the body rather than an API key. Answers 202 with
//! `{alertKey, alertUrl, responseCode}` (the shape ilert's Go client decodes; spec/README.md)
//! once the event is processed; the sandbox processes it before answering, so a test can look
//! at the result right away.
//!
//! - ALERT with an `alertKey` (trimmed, compared case-insensitively) that matches an open alert
//!   of the same source is added to that alert's timeline; otherwise a new alert opens and
//!   escalates (`routingKey` picks another escalation policy). Sources set to
//!   ONE_OPEN_ALERT_ALLOWED / ONE_PENDING_ALERT_ALLOWED add to any open / pending alert.
//! - ACCEPT and RESOLVE act on the newest open alert with that key; COMMENT adds its comments
//!   to that alert's timeline. No matching alert, or a COMMENT without comments: nothing
//!   happens, still 202 (ilert answers 202 to events it then filters), with a `responseCode`
//!   that says so.
//! - Inactive sources and sources in a maintenance window open no alerts.
//! - An unknown integration key is 404 (what ilagent reads as "bad key"); a malformed event 400;
//!   more than the per-key budget (50 a minute) 429.
//! - Legacy spellings work too: `apiKey` for `integrationKey`, `incidentKey` for `alertKey`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use crate::AppState;
use crate::alert_sources::AlertSource;
use crate::alerts::{self, Actor, NewAlert};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::log_entries::{self, Entry};
use crate::{escalation_policies, escalations, input};

pub fn routes() -> Router<AppState> {
    Router::new().route("/events", post(receive))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventType {
    Alert,
    Accept,
    Resolve,
    Comment,
}

/// A validated event.
struct Event {
    key: String,
    kind: EventType,
    alert_key: Option<String>,
    new_alert: NewAlert,
    routing_key: Option<String>,
    priority: Option<String>,
    comments: Vec<(String, String)>,
}

fn parse(body: &Value) -> ApiResult<Event> {
    let o = input::object(body, "Event")?;
    let key = match input::opt_str(o, "integrationKey")? {
        Some(k) if !k.trim().is_empty() => k.trim().to_owned(),
        _ => input::opt_str(o, "apiKey")?
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request("Field 'integrationKey' is required"))?,
    };
    let kind = match input::opt_str(o, "eventType")?
        .map(|t| t.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("ALERT") => EventType::Alert,
        Some("ACCEPT") => EventType::Accept,
        Some("RESOLVE") => EventType::Resolve,
        Some("COMMENT") => EventType::Comment,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid value '{other}' for field 'eventType': expected one of ALERT, ACCEPT, RESOLVE, COMMENT"
            )));
        }
        None => return Err(ApiError::bad_request("Field 'eventType' is required")),
    };
    let alert_key = input::opt_str(o, "alertKey")?
        .or(input::opt_str(o, "incidentKey")?)
        .map(|k| k.trim().chars().take(255).collect::<String>())
        .filter(|k| !k.is_empty());
    let summary = input::opt_str(o, "summary")?
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let severity = match o.get("severity").filter(|v| !v.is_null()) {
        None => None,
        Some(Value::Number(n)) if n.as_i64().is_some_and(|s| (1..=5).contains(&s)) => n.as_i64(),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Field 'severity' must be an integer from 1 to 5, got {other}"
            )));
        }
    };
    let labels = match o.get("labels").filter(|v| !v.is_null()) {
        None => Value::Object(serde_json::Map::new()),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Value::Object(m.clone()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Field 'labels' must be an object of strings",
            ));
        }
    };
    let custom_details = match o.get("customDetails").filter(|v| !v.is_null()) {
        None => Value::Object(serde_json::Map::new()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Field 'customDetails' must be an object",
            ));
        }
    };
    let comments = input::opt_array(o, "comments")?
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let co = input::object(c, "EventComment")?;
            let content = input::opt_str(co, "content")?
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("Field 'comments[{i}].content' is required"))
                })?;
            Ok((
                input::opt_str(co, "creator")?.unwrap_or_else(|| "Events API".to_owned()),
                content,
            ))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    match kind {
        EventType::Alert if summary.is_none() => {
            return Err(ApiError::bad_request(
                "Field 'summary' is required for ALERT events",
            ));
        }
        EventType::Accept | EventType::Resolve | EventType::Comment if alert_key.is_none() => {
            return Err(ApiError::bad_request(
                "Field 'alertKey' is required for ACCEPT, RESOLVE and COMMENT events",
            ));
        }
        _ => {}
    }
    Ok(Event {
        key,
        kind,
        priority: input::opt_enum(o, "priority", alerts::PRIORITIES)?,
        routing_key: input::opt_str(o, "routingKey")?.filter(|k| !k.trim().is_empty()),
        new_alert: NewAlert {
            summary: summary.unwrap_or_default(),
            details: input::opt_str(o, "details")?.unwrap_or_default(),
            severity,
            alert_key: alert_key.clone(),
            labels,
            images: alerts::attachments(o, "images", &["src", "href", "alt"])?,
            links: alerts::attachments(o, "links", &["href", "text"])?,
            custom_details,
            ..NewAlert::default()
        },
        alert_key,
        comments,
    })
}

/// The open alert an event with `key` belongs to, newest first.
fn open_alert(
    conn: &Connection,
    source: &AlertSource,
    key: Option<&str>,
) -> rusqlite::Result<Option<i64>> {
    let any_open = match source.alert_creation.as_str() {
        "ONE_OPEN_ALERT_ALLOWED" => Some("status IN ('PENDING', 'ACCEPTED')"),
        "ONE_PENDING_ALERT_ALLOWED" => Some("status = 'PENDING'"),
        _ => None,
    };
    if let Some(condition) = any_open {
        let found = conn
            .query_row(
                &format!("SELECT id FROM alerts WHERE alert_source_id = ?1 AND {condition} ORDER BY report_time DESC, id DESC LIMIT 1"),
                [source.id],
                |r| r.get(0),
            )
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let Some(key) = key else { return Ok(None) };
    conn.query_row(
        "SELECT id FROM alerts WHERE alert_source_id = ?1 AND lower(alert_key) = lower(?2) \
         AND status IN ('PENDING', 'ACCEPTED') ORDER BY report_time DESC, id DESC LIMIT 1",
        params![source.id, key],
        |r| r.get(0),
    )
    .optional()
}

fn add_comments(
    conn: &Connection,
    alert: i64,
    comments: &[(String, String)],
    at: i64,
) -> rusqlite::Result<()> {
    for (creator, content) in comments {
        log_entries::add(conn, alert, at, Entry::Comment { creator, content })?;
    }
    Ok(())
}

/// What an event did: the alert it created or touched, and ilert's `responseCode` for it.
struct Outcome {
    alert: Option<(i64, Option<String>)>,
    code: &'static str,
}

impl Outcome {
    fn on(id: i64, key: Option<String>, code: &'static str) -> Outcome {
        Outcome {
            alert: Some((id, key)),
            code,
        }
    }

    fn nothing(code: &'static str) -> Outcome {
        Outcome { alert: None, code }
    }
}

fn alert_key_of(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    Ok(alerts::load_row(conn, id)?.and_then(|r| r.alert_key))
}

fn process(conn: &mut Connection, mut event: Event, now: i64) -> ApiResult<Outcome> {
    escalations::advance_due(conn, now)?;
    let tx = conn.transaction()?;
    let cat = Catalog::load(&tx)?;
    let source = cat
        .sources
        .values()
        .find(|s| s.integration_key == event.key)
        .ok_or_else(|| ApiError::not_found("No alert source has this integration key"))?;
    let existing = open_alert(&tx, source, event.alert_key.as_deref())?;
    let outcome = match event.kind {
        EventType::Alert => {
            if !source.active || cat.source_in_maintenance(source.id, now) {
                return Ok(Outcome::nothing(if source.active {
                    "SOURCE_IN_MAINTENANCE"
                } else {
                    "SOURCE_INACTIVE"
                }));
            }
            if let Some(id) = existing {
                let summary = event.new_alert.summary.clone();
                log_entries::add(
                    &tx,
                    id,
                    now,
                    Entry::EventAppended {
                        source: &source.name,
                        summary: &summary,
                    },
                )?;
                add_comments(&tx, id, &event.comments, now)?;
                Outcome::on(id, alert_key_of(&tx, id)?, "EVENT_ADDED_TO_ALERT")
            } else {
                let routed = event
                    .routing_key
                    .as_deref()
                    .and_then(|k| escalation_policies::resolve_routing_key(&cat, k))
                    .map(|p| p.id);
                event.new_alert.source_id = source.id;
                event.new_alert.policy_id = routed.unwrap_or(source.escalation_policy_id);
                event.new_alert.priority = event
                    .priority
                    .clone()
                    .unwrap_or_else(|| source.default_priority().to_owned());
                let id = alerts::insert_alert(&tx, &event.new_alert, now)?;
                log_entries::add(
                    &tx,
                    id,
                    now,
                    Entry::Received {
                        source: &source.name,
                    },
                )?;
                add_comments(&tx, id, &event.comments, now)?;
                escalations::start(&tx, &cat, id, now)?;
                Outcome::on(id, event.alert_key.clone(), "NEW_ALERT_CREATED")
            }
        }
        EventType::Accept | EventType::Resolve | EventType::Comment => {
            let Some(id) = existing else {
                return Ok(Outcome::nothing("NO_OPEN_ALERT"));
            };
            let actor = Actor::Source { name: &source.name };
            let code = match event.kind {
                EventType::Accept => {
                    alerts::accept_alert(&tx, id, actor, now)?;
                    "ALERT_ACCEPTED"
                }
                EventType::Resolve => {
                    alerts::resolve_alert(&tx, id, actor, now)?;
                    "ALERT_RESOLVED"
                }
                _ if event.comments.is_empty() => "NO_COMMENTS",
                _ => {
                    add_comments(&tx, id, &event.comments, now)?;
                    "COMMENT_ADDED"
                }
            };
            Outcome::on(id, alert_key_of(&tx, id)?, code)
        }
    };
    tx.commit()?;
    Ok(outcome)
}

async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    let event = parse(&body)?;
    if let Some(limiter) = &state.event_limiter
        && !limiter.admit(&event.key)
    {
        return Err(ApiError::TooManyRequests(format!(
            "Too many requests: the integration key exceeded {} events per minute. Retry in the next minute.",
            limiter.limit
        )));
    }
    let now = state.clock.now_ms();
    let sent_key = event.alert_key.clone();
    let outcome = state.db.call(move |conn| process(conn, event, now)).await?;
    // The alert's own API address on the host the event reached.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let (key, url) = match outcome.alert {
        Some((id, key)) => (
            key.or(sent_key),
            Some(format!("http://{host}/api/alerts/{id}")),
        ),
        None => (sent_key, None),
    };
    let body = json!({"alertKey": key, "alertUrl": url, "responseCode": outcome.code});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
