//! Escalation policies (ilert `EscalationPolicy`, `EscalationRule`): storage, JSON, and
//! `/api/escalation-policies` with `resolve` by routing key and `levels/{level}`.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Action, Caller};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::query::{Paging, Params};
use crate::{input, reply, schedules, teams, users};

/// One level. Who it reaches: its users, whoever is on call in its schedules, and the members
/// of its teams.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EscalationRule {
    /// Minutes before the alert moves on to the next rule.
    pub escalation_timeout: i64,
    #[serde(default)]
    pub users: Vec<i64>,
    #[serde(default)]
    pub schedules: Vec<i64>,
    #[serde(default)]
    pub teams: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct EscalationPolicy {
    pub id: i64,
    pub name: String,
    pub routing_key: Option<String>,
    pub repeating: bool,
    pub frequency: i64,
    pub delay_min: i64,
    pub rules: Vec<EscalationRule>,
    pub teams: Vec<i64>,
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<HashMap<i64, EscalationPolicy>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, routing_key, repeating, frequency, delay_min, rules, teams FROM escalation_policies",
    )?;
    let rows = stmt.query_map([], |r| {
        let rules: String = r.get(6)?;
        let teams: String = r.get(7)?;
        Ok(EscalationPolicy {
            id: r.get(0)?,
            name: r.get(1)?,
            routing_key: r.get(2)?,
            repeating: r.get(3)?,
            frequency: r.get(4)?,
            delay_min: r.get(5)?,
            rules: serde_json::from_str(&rules).unwrap_or_default(),
            teams: input::stored_ids(&teams),
        })
    })?;
    rows.map(|r| r.map(|p| (p.id, p))).collect()
}

/// `EscalationRule` with `UserRel`s, `ScheduleRel`s and `TeamRel`s.
pub fn rule_json(rule: &EscalationRule, cat: &Catalog) -> Value {
    json!({
        "escalationTimeout": rule.escalation_timeout,
        "users": rule.users.iter().filter_map(|id| cat.users.get(id)).map(users::user_rel_json).collect::<Vec<_>>(),
        "schedules": rule.schedules.iter().filter_map(|id| cat.schedules.get(id)).map(schedules::schedule_rel).collect::<Vec<_>>(),
        "teams": teams::team_refs(&rule.teams, cat),
    })
}

pub fn rules_json(policy: &EscalationPolicy, cat: &Catalog) -> Value {
    Value::Array(policy.rules.iter().map(|r| rule_json(r, cat)).collect())
}

/// The full `EscalationPolicy` schema.
pub fn policy_json(policy: &EscalationPolicy, cat: &Catalog) -> Value {
    json!({
        "id": policy.id,
        "name": policy.name,
        "escalationRules": rules_json(policy, cat),
        "teams": teams::team_refs(&policy.teams, cat),
        "repeating": policy.repeating,
        "frequency": policy.frequency,
        "delayMin": policy.delay_min,
        "routingKey": policy.routing_key,
    })
}

/// The policy for a routing-key expression: comma-separated keys tried in order (case-insensitive),
/// or ilert's policy reference `il:{id}` / `il:{"id": 7}`.
pub fn resolve_routing_key<'a>(cat: &'a Catalog, expression: &str) -> Option<&'a EscalationPolicy> {
    let expression = expression.trim();
    if let Some(reference) = expression.strip_prefix("il:") {
        let reference = reference.trim();
        let id = reference
            .parse::<i64>()
            .ok()
            .or_else(|| {
                serde_json::from_str::<Value>(reference)
                    .ok()
                    .and_then(|v| v.get("id").and_then(Value::as_i64))
            })
            .or_else(|| {
                reference
                    .trim_matches(|c| c == '{' || c == '}')
                    .trim()
                    .parse()
                    .ok()
            });
        return id.and_then(|id| cat.policies.get(&id));
    }
    expression
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .find_map(|key| {
            let mut matches: Vec<&EscalationPolicy> = cat
                .policies
                .values()
                .filter(|p| {
                    p.routing_key
                        .as_deref()
                        .is_some_and(|rk| rk.eq_ignore_ascii_case(key))
                })
                .collect();
            matches.sort_by_key(|p| p.id);
            matches.first().copied()
        })
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/escalation-policies", get(list).post(create))
        .route("/escalation-policies/resolve", get(resolve))
        .route(
            "/escalation-policies/{id}",
            get(get_one).put(update).delete(remove),
        )
        .route("/escalation-policies/{id}/levels/{level}", put(put_level))
}

/// `/escalation-policies` paging: default 50 and at most 50.
const DEFAULT_MAX_RESULTS: i64 = 50;
const MAX_RESULTS_CAP: i64 = 50;

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Escalation policy {id} not found"))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let Paging {
        start_index,
        max_results,
    } = params.paging(DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP)?;
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let mut list: Vec<&EscalationPolicy> = cat
                .policies
                .values()
                .filter(|p| caller.in_context(&p.teams, &cat))
                .collect();
            list.sort_by_key(|p| p.id);
            Ok(list
                .into_iter()
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .map(|p| policy_json(p, &cat))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

fn render_one(conn: &Connection, id: i64) -> ApiResult<Value> {
    let cat = Catalog::load(conn)?;
    Ok(policy_json(
        cat.policies.get(&id).ok_or_else(|| not_found(id))?,
        &cat,
    ))
}

async fn get_one(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "escalation policy")?;
    Ok(reply::json(
        state.db.call(move |conn| render_one(conn, id)).await?,
    ))
}

async fn resolve(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let key = params
        .single("routing-key")
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request("Query parameter 'routing-key' is required"))?;
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let policy = resolve_routing_key(&cat, &key).ok_or_else(|| {
                ApiError::not_found(format!("No escalation policy matches routing key '{key}'"))
            })?;
            Ok(policy_json(policy, &cat))
        })
        .await?;
    Ok(reply::json(out))
}

/// An `EscalationRule` body; the deprecated singletons `user`, `schedule` and `team` count too.
fn parse_rule(v: &Value, field: &str) -> ApiResult<EscalationRule> {
    let o = input::object(v, "EscalationRule")?;
    let escalation_timeout = input::opt_i64(o, "escalationTimeout")?.ok_or_else(|| {
        ApiError::bad_request(format!("Field '{field}.escalationTimeout' is required"))
    })?;
    if !(0..=10_080).contains(&escalation_timeout) {
        return Err(ApiError::bad_request(format!(
            "Field '{field}.escalationTimeout' must be between 0 and 10080 minutes"
        )));
    }
    let mut rule = EscalationRule {
        escalation_timeout,
        users: input::ref_list(o, "users")?,
        schedules: input::ref_list(o, "schedules")?,
        teams: input::ref_list(o, "teams")?,
    };
    for (single, list) in [
        ("user", &mut rule.users),
        ("schedule", &mut rule.schedules),
        ("team", &mut rule.teams),
    ] {
        if let Some(id) = input::opt_ref(o, single)?
            && !list.contains(&id)
        {
            list.push(id);
        }
    }
    if rule.users.is_empty() && rule.schedules.is_empty() && rule.teams.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Field '{field}' needs at least one user, schedule or team to escalate to"
        )));
    }
    Ok(rule)
}

fn check_rule(conn: &Connection, rule: &EscalationRule) -> ApiResult<()> {
    let cat = Catalog::load(conn)?;
    for id in &rule.users {
        cat.users
            .get(id)
            .ok_or_else(|| ApiError::bad_request(format!("User {id} does not exist")))?;
    }
    for id in &rule.schedules {
        cat.schedules
            .get(id)
            .ok_or_else(|| ApiError::bad_request(format!("Schedule {id} does not exist")))?;
    }
    for id in &rule.teams {
        cat.teams
            .get(id)
            .ok_or_else(|| ApiError::bad_request(format!("Team {id} does not exist")))?;
    }
    Ok(())
}

struct PolicyInput {
    name: String,
    routing_key: Option<String>,
    repeating: bool,
    frequency: i64,
    delay_min: i64,
    rules: Vec<EscalationRule>,
    teams: Vec<i64>,
}

impl PolicyInput {
    fn parse(body: &Value) -> ApiResult<PolicyInput> {
        let o = input::object(body, "EscalationPolicy")?;
        let rules = input::opt_array(o, "escalationRules")?
            .iter()
            .enumerate()
            .map(|(i, r)| parse_rule(r, &format!("escalationRules[{i}]")))
            .collect::<ApiResult<Vec<_>>>()?;
        if rules.is_empty() {
            return Err(ApiError::bad_request(
                "Field 'escalationRules' needs at least one rule",
            ));
        }
        let frequency = input::opt_i64(o, "frequency")?.unwrap_or(1);
        let delay_min = input::opt_i64(o, "delayMin")?.unwrap_or(0);
        if !(1..=9).contains(&frequency) {
            return Err(ApiError::bad_request(
                "Field 'frequency' must be between 1 and 9",
            ));
        }
        if !(0..=15).contains(&delay_min) {
            return Err(ApiError::bad_request(
                "Field 'delayMin' must be between 0 and 15",
            ));
        }
        Ok(PolicyInput {
            name: input::req_str(o, "name")?,
            routing_key: input::opt_str(o, "routingKey")?.filter(|k| !k.trim().is_empty()),
            repeating: input::opt_bool(o, "repeating")?.unwrap_or(false),
            frequency,
            delay_min,
            rules,
            teams: input::ref_list(o, "teams")?,
        })
    }

    fn write(&self, conn: &Connection, id: Option<i64>) -> ApiResult<i64> {
        for rule in &self.rules {
            check_rule(conn, rule)?;
        }
        if let Some(key) = &self.routing_key {
            let taken: Option<i64> = conn
                .query_row(
                    "SELECT id FROM escalation_policies WHERE lower(routing_key) = lower(?1) AND id <> ?2",
                    params![key, id.unwrap_or(0)],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(other) = taken {
                return Err(ApiError::bad_request(format!(
                    "Routing key '{key}' is already used by escalation policy {other}"
                )));
            }
        }
        let rules = serde_json::to_string(&self.rules)?;
        let teams = input::ids_text(&self.teams);
        match id {
            None => {
                conn.execute(
                    "INSERT INTO escalation_policies (name, routing_key, repeating, frequency, delay_min, rules, teams) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![self.name, self.routing_key, self.repeating, self.frequency, self.delay_min, rules, teams],
                )?;
                Ok(conn.last_insert_rowid())
            }
            Some(id) => {
                let n = conn.execute(
                    "UPDATE escalation_policies SET name = ?1, routing_key = ?2, repeating = ?3, frequency = ?4, \
                     delay_min = ?5, rules = ?6, teams = ?7 WHERE id = ?8",
                    params![self.name, self.routing_key, self.repeating, self.frequency, self.delay_min, rules, teams, id],
                )?;
                if n == 0 {
                    return Err(not_found(id));
                }
                Ok(id)
            }
        }
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "create escalation policies")?;
    let input = PolicyInput::parse(&body)?;
    let (id, out) = state
        .db
        .call(move |conn| {
            let id = input.write(conn, None)?;
            Ok((id, render_one(conn, id)?))
        })
        .await?;
    let mut response = reply::created(out);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/escalation-policies/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "change escalation policies")?;
    let id = input::path_id(&raw, "escalation policy")?;
    let input = PolicyInput::parse(&body)?;
    let out = state
        .db
        .call(move |conn| {
            input.write(conn, Some(id))?;
            render_one(conn, id)
        })
        .await?;
    Ok(reply::json(out))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "delete escalation policies")?;
    let id = input::path_id(&raw, "escalation policy")?;
    state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            cat.policies.get(&id).ok_or_else(|| not_found(id))?;
            if let Some(s) = cat.sources.values().find(|s| s.escalation_policy_id == id) {
                return Err(ApiError::bad_request(format!(
                    "Escalation policy {id} is used by alert source {} ({}); change it there first",
                    s.id, s.name
                )));
            }
            conn.execute("DELETE FROM escalation_policies WHERE id = ?1", [id])?;
            Ok(())
        })
        .await?;
    Ok(reply::no_content())
}

/// Replaces level `level` (zero-based); the level after the last one appends.
async fn put_level(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, raw_level)): Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "change escalation policies")?;
    let id = input::path_id(&raw, "escalation policy")?;
    let level: usize = raw_level.trim().parse().map_err(|_| {
        ApiError::bad_request(format!(
            "Invalid level '{raw_level}': expected a zero-based number"
        ))
    })?;
    let rule = parse_rule(&body, "body")?;
    let out = state
        .db
        .call(move |conn| {
            check_rule(conn, &rule)?;
            let cat = Catalog::load(conn)?;
            let mut policy = cat.policies.get(&id).ok_or_else(|| not_found(id))?.clone();
            match level.cmp(&policy.rules.len()) {
                std::cmp::Ordering::Less => {
                    if let Some(slot) = policy.rules.get_mut(level) {
                        *slot = rule.clone();
                    }
                }
                std::cmp::Ordering::Equal => policy.rules.push(rule.clone()),
                std::cmp::Ordering::Greater => {
                    return Err(ApiError::bad_request(format!(
                        "Level {level} does not exist; the policy has {} levels (zero-based)",
                        policy.rules.len()
                    )));
                }
            }
            conn.execute(
                "UPDATE escalation_policies SET rules = ?1 WHERE id = ?2",
                params![serde_json::to_string(&policy.rules)?, id],
            )?;
            let cat = Catalog::load(conn)?;
            Ok(rule_json(&rule, &cat))
        })
        .await?;
    Ok(reply::json(out))
}
