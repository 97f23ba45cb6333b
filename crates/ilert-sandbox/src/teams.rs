//! Teams (ilert `Team`, `TeamMember`, `TeamRel`): storage and `/api/teams` with members.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Action, Caller};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::query::{Paging, Params};
use crate::{input, reply, time, users};

#[derive(Debug, Clone)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub visibility: String,
    /// (user id, team role), in the order they joined.
    pub members: Vec<(i64, String)>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<HashMap<i64, Team>> {
    let mut teams = HashMap::new();
    let mut stmt =
        conn.prepare_cached("SELECT id, name, visibility, created_at, updated_at FROM teams")?;
    for row in stmt.query_map([], |r| {
        Ok(Team {
            id: r.get(0)?,
            name: r.get(1)?,
            visibility: r.get(2)?,
            members: Vec::new(),
            created_at: r.get(3)?,
            updated_at: r.get(4)?,
        })
    })? {
        let team = row?;
        teams.insert(team.id, team);
    }
    let mut stmt =
        conn.prepare_cached("SELECT team_id, user_id, role FROM team_members ORDER BY rowid")?;
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        let (team_id, user_id, role) = row?;
        if let Some(team) = teams.get_mut(&team_id) {
            team.members.push((user_id, role));
        }
    }
    Ok(teams)
}

/// `TeamRel`: `{id, name}`; unknown ids (a deleted team) are left out.
pub fn team_refs(ids: &[i64], cat: &Catalog) -> Value {
    Value::Array(
        ids.iter()
            .filter_map(|id| cat.teams.get(id))
            .map(|t| json!({"id": t.id, "name": t.name}))
            .collect(),
    )
}

/// The full `Team`, members as `TeamMember{user: User, role}`.
pub fn team_json(team: &Team, cat: &Catalog) -> Value {
    let members: Vec<Value> = team
        .members
        .iter()
        .filter_map(|(id, role)| {
            cat.users
                .get(id)
                .map(|u| json!({"user": users::user_json(u), "role": role}))
        })
        .collect();
    json!({
        "id": team.id,
        "name": team.name,
        "visibility": team.visibility,
        "members": members,
        "createdAt": time::format_ms(team.created_at),
        "updatedAt": time::format_ms(team.updated_at),
    })
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/teams", get(list).post(create))
        .route("/teams/{id}", get(get_one).put(update).delete(remove))
        .route("/teams/{id}/members", post(add_member))
        .route("/teams/{id}/members/{user_id}", delete(remove_member))
}

const DEFAULT_MAX_RESULTS: i64 = 50;
const MAX_RESULTS_CAP: i64 = 100;
const VISIBILITIES: &[&str] = &["PUBLIC", "PRIVATE"];
const TEAM_ROLES: &[&str] = &["STAKEHOLDER", "RESPONDER", "USER", "ADMIN"];

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Team {id} not found"))
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
    // ilert takes a single `members` value for now.
    let member = match params.ids(&["members"])?.as_slice() {
        [] => None,
        [one] => Some(*one),
        _ => {
            return Err(ApiError::bad_request(
                "Query parameter 'members' may be given only once",
            ));
        }
    };
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let mut teams: Vec<&Team> = cat
                .teams
                .values()
                .filter(|t| member.is_none_or(|m| t.members.iter().any(|(u, _)| *u == m)))
                .filter(|t| caller.in_context(&[t.id], &cat))
                .collect();
            teams.sort_by_key(|t| t.id);
            Ok(Value::Array(
                teams
                    .into_iter()
                    .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                    .take(usize::try_from(max_results).unwrap_or(0))
                    .map(|t| team_json(t, &cat))
                    .collect(),
            ))
        })
        .await?;
    Ok(reply::json(out))
}

fn render_one(conn: &Connection, id: i64) -> ApiResult<Value> {
    let cat = Catalog::load(conn)?;
    let team = cat.teams.get(&id).ok_or_else(|| not_found(id))?;
    Ok(team_json(team, &cat))
}

async fn get_one(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "team")?;
    Ok(reply::json(
        state.db.call(move |conn| render_one(conn, id)).await?,
    ))
}

/// `Team` body: name, visibility and members.
struct TeamInput {
    name: String,
    visibility: String,
    members: Vec<(i64, String)>,
}

fn parse_member(v: &Value, field: &str) -> ApiResult<(i64, String)> {
    let o = input::object(v, "TeamMember")?;
    let user = o
        .get("user")
        .ok_or_else(|| ApiError::bad_request(format!("Field '{field}.user' is required")))?;
    let user_id = input::ref_id(user, &format!("{field}.user"))?;
    let role = input::opt_enum(o, "role", TEAM_ROLES)?.unwrap_or_else(|| "RESPONDER".to_owned());
    Ok((user_id, role))
}

impl TeamInput {
    fn parse(body: &Value) -> ApiResult<TeamInput> {
        let o = input::object(body, "Team")?;
        let members = input::opt_array(o, "members")?
            .iter()
            .enumerate()
            .map(|(i, m)| parse_member(m, &format!("members[{i}]")))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(TeamInput {
            name: input::req_str(o, "name")?,
            visibility: input::opt_enum(o, "visibility", VISIBILITIES)?
                .unwrap_or_else(|| "PUBLIC".to_owned()),
            members,
        })
    }
}

fn check_user(conn: &Connection, user_id: i64) -> ApiResult<()> {
    users::load(conn, user_id)?
        .map(|_| ())
        .ok_or_else(|| ApiError::bad_request(format!("User {user_id} does not exist")))
}

fn write_members(conn: &Connection, team_id: i64, members: &[(i64, String)]) -> ApiResult<()> {
    conn.execute("DELETE FROM team_members WHERE team_id = ?1", [team_id])?;
    for (user_id, role) in members {
        check_user(conn, *user_id)?;
        conn.execute(
            "INSERT OR REPLACE INTO team_members (team_id, user_id, role) VALUES (?1, ?2, ?3)",
            params![team_id, user_id, role],
        )?;
    }
    Ok(())
}

/// POST /teams answers 200, not 201, as ilert documents it.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "create teams")?;
    let team = TeamInput::parse(&body)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO teams (name, visibility, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                params![team.name, team.visibility, now],
            )?;
            let id = tx.last_insert_rowid();
            write_members(&tx, id, &team.members)?;
            tx.commit()?;
            render_one(conn, id)
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
    caller.require(Action::Configure, "change teams")?;
    let id = input::path_id(&raw, "team")?;
    let team = TeamInput::parse(&body)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE teams SET name = ?1, visibility = ?2, updated_at = ?3 WHERE id = ?4",
                params![team.name, team.visibility, now, id],
            )?;
            if n == 0 {
                return Err(not_found(id));
            }
            write_members(&tx, id, &team.members)?;
            tx.commit()?;
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
    caller.require(Action::Configure, "delete teams")?;
    let id = input::path_id(&raw, "team")?;
    state.db.delete_by_id("teams", id, not_found).await?;
    Ok(reply::no_content())
}

async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "change team members")?;
    let id = input::path_id(&raw, "team")?;
    let (user_id, role) = parse_member(&body, "body")?;
    let out = state
        .db
        .call(move |conn| {
            let exists: Option<i64> = conn
                .query_row("SELECT id FROM teams WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            exists.ok_or_else(|| not_found(id))?;
            let user = users::load(conn, user_id)?
                .ok_or_else(|| ApiError::not_found(format!("User {user_id} not found")))?;
            conn.execute(
                "INSERT INTO team_members (team_id, user_id, role) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
                params![id, user_id, role],
            )?;
            Ok(json!({"user": users::user_json(&user), "role": role}))
        })
        .await?;
    Ok(reply::json(out))
}

async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, raw_user)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "change team members")?;
    let id = input::path_id(&raw, "team")?;
    let user_id = input::path_id(&raw_user, "user")?;
    state
        .db
        .call(move |conn| {
            match conn.execute(
                "DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2",
                params![id, user_id],
            )? {
                0 => Err(ApiError::not_found(format!(
                    "User {user_id} is not a member of team {id}"
                ))),
                _ => Ok(()),
            }
        })
        .await?;
    Ok(reply::no_content())
}
