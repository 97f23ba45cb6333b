//! An alert's responders by hand (ilert `AlertResponder`, `SuggestedResponder`):
//! `POST /api/alerts/{id}/responders`, `DELETE /api/alerts/{id}/responders/{user-id}` and
//! `GET /api/alerts/{id}/suggested-responders`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use rusqlite::params;
use serde_json::{Value, json};

use crate::AppState;
use crate::alerts::{self, Responder};
use crate::auth::{Action, Caller};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, OptionalJsonBody};
use crate::log_entries::{self, Entry};
use crate::query::Params;
use crate::{escalations, reply, users};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts/{id}/responders", post(add))
        .route("/alerts/{id}/responders/{user_id}", delete(remove))
        .route("/alerts/{id}/suggested-responders", get(suggested))
}

/// The user a responder request names. ilert documents no body, so every shape a client sends
/// works: `{"user": {"id": 1}}` (mirroring `AlertResponder`), `{"userId": 1}`, `{"user": 1}`,
/// `{"id": 1}`, `{"email": ...}`, a `SuggestedResponder` of group USER, a bare id, or a list of
/// one of these; a username or e-mail address does as well as the id. Without a body the
/// query's `user` / `user-id` is used, and without either the caller adds themselves.
fn requested_user(body: Option<&Value>, params: &Params, caller: &Caller) -> ApiResult<String> {
    let body = match body {
        Some(Value::Array(items)) if items.len() == 1 => items.first(),
        Some(Value::Array(_)) => {
            return Err(ApiError::bad_request(
                "Add one responder per request: {\"user\": {\"id\": <user id>}}",
            ));
        }
        other => other,
    };
    if let Some(group) = body.and_then(|b| b.get("group")).and_then(Value::as_str)
        && !group.eq_ignore_ascii_case("USER")
    {
        return Err(ApiError::bad_request(format!(
            "Only users can be added as responders (got group {group}); assign the alert to a \
             policy or schedule instead"
        )));
    }
    let raw = match body {
        None => None,
        Some(v @ (Value::Number(_) | Value::String(_))) => Some(v),
        Some(b) => b
            .get("user")
            .map(|u| u.get("id").or_else(|| u.get("email")).unwrap_or(u))
            .or_else(|| b.get("userId"))
            .or_else(|| b.get("id"))
            .or_else(|| b.get("email"))
            .or_else(|| b.get("username")),
    };
    match raw {
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        None if body.is_none() => Ok(params
            .single("user")
            .or_else(|| params.single("user-id"))
            .map(|u| u.trim().to_owned())
            .unwrap_or_else(|| caller.user_id.to_string())),
        _ => Err(ApiError::bad_request(
            "Name the responder as {\"user\": {\"id\": <user id>}} or {\"userId\": <user id>}",
        )),
    }
}

/// 201 with the new `AlertResponder`; 404 for an unknown user or alert; 405 if the user is
/// a responder already, as ilert documents it.
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    params: Params,
    OptionalJsonBody(body): OptionalJsonBody,
) -> ApiResult<Response> {
    caller.require(Action::Work, "add responders")?;
    let id = alerts::parse_id(&raw_id)?;
    let who = requested_user(body.as_ref(), &params, &caller)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let tx = conn.transaction()?;
            let row = alerts::load_row(&tx, id)?.ok_or_else(|| alerts::not_found(id))?;
            let user = users::find(&tx, &who)?
                .ok_or_else(|| ApiError::not_found(format!("User {who} not found")))?;
            if !row.is_open() {
                return Err(ApiError::bad_request(format!(
                    "Alert {id} is resolved; responders cannot be added"
                )));
            }
            let cat = Catalog::load(&tx)?;
            if !escalations::add_responder(
                &tx,
                &cat,
                id,
                &row.summary,
                row.priority == "HIGH",
                user.id,
                now,
            )? {
                return Err(ApiError::MethodNotAllowed(format!(
                    "Responder {} {} is already present on alert {id}",
                    user.first_name, user.last_name
                )));
            }
            let by = alerts::user_name(&tx, caller.user_id)?;
            let name = format!("{} {}", user.first_name, user.last_name);
            log_entries::add(
                &tx,
                id,
                now,
                Entry::ResponderChanged {
                    by: &by,
                    user: &name,
                    added: true,
                },
            )?;
            tx.commit()?;
            let responder = Responder {
                user_id: user.id,
                status: "PENDING".to_owned(),
                accepted_at: None,
            };
            Ok(alerts::responder_json(&responder, &cat))
        })
        .await?;
    Ok(reply::created(out))
}

/// 204, or 404 when the user is not a responder of the alert.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw_id, who)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.require(Action::Work, "remove responders")?;
    let id = alerts::parse_id(&raw_id)?;
    let now = state.clock.now_ms();
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            alerts::load_row(&tx, id)?.ok_or_else(|| alerts::not_found(id))?;
            let user = users::find(&tx, &who)?
                .ok_or_else(|| ApiError::not_found(format!("User {who} not found")))?;
            let removed = tx.execute(
                "DELETE FROM alert_responders WHERE alert_id = ?1 AND user_id = ?2",
                params![id, user.id],
            )?;
            if removed == 0 {
                return Err(ApiError::not_found(format!(
                    "User {who} is not a responder of alert {id}"
                )));
            }
            let by = alerts::user_name(&tx, caller.user_id)?;
            let name = format!("{} {}", user.first_name, user.last_name);
            log_entries::add(
                &tx,
                id,
                now,
                Entry::ResponderChanged {
                    by: &by,
                    user: &name,
                    added: false,
                },
            )?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(reply::no_content())
}

/// SUGGESTED: who accepted alerts from the same source before, most often first; then every
/// user, escalation policy and schedule. Users already on the alert are `disabled`.
async fn suggested(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = alerts::parse_id(&raw_id)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            escalations::advance_due(conn, now)?;
            let row = alerts::load_row(conn, id)?.ok_or_else(|| alerts::not_found(id))?;
            let cat = Catalog::load(conn)?;
            let current: Vec<i64> = alerts::load_responders(conn, &[id])?
                .remove(&id)
                .unwrap_or_default()
                .iter()
                .map(|r| r.user_id)
                .collect();
            let mut stmt = conn.prepare(
                "SELECT r.user_id, COUNT(*) AS n FROM alert_responders r JOIN alerts a ON a.id = r.alert_id \
                 WHERE a.alert_source_id = ?1 AND r.status = 'ACCEPTED' AND a.id <> ?2 \
                 GROUP BY r.user_id ORDER BY n DESC, r.user_id LIMIT 3",
            )?;
            let experienced: Vec<i64> = stmt
                .query_map(params![row.source_id, id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let name = |u: &users::User| format!("{} {}", u.first_name, u.last_name);
            let mut out: Vec<Value> = experienced
                .iter()
                .filter_map(|uid| cat.users.get(uid))
                .map(|u| json!({"group": "SUGGESTED", "id": u.id, "name": name(u), "disabled": current.contains(&u.id)}))
                .collect();
            let mut all_users: Vec<&users::User> = cat.users.values().collect();
            all_users.sort_by_key(|u| u.id);
            out.extend(all_users.iter().map(|u| {
                json!({"group": "USER", "id": u.id, "name": name(u), "disabled": current.contains(&u.id)})
            }));
            let mut policies: Vec<_> = cat.policies.values().collect();
            policies.sort_by_key(|p| p.id);
            out.extend(policies.iter().map(|p| json!({"group": "ESCALATION_POLICY", "id": p.id, "name": p.name, "disabled": false})));
            let mut schedules: Vec<_> = cat.schedules.values().collect();
            schedules.sort_by_key(|s| s.id);
            out.extend(schedules.iter().map(|s| json!({"group": "ON_CALL_SCHEDULE", "id": s.id, "name": s.name, "disabled": false})));
            Ok(Value::Array(out))
        })
        .await?;
    Ok(reply::json(out))
}
