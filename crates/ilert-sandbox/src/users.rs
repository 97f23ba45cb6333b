//! Users: storage, the JSON shapes ilert nests them in (`User`, `UserRel`), and `/api/users`
//! (list, get by id, username or e-mail, create, update, delete, current, search by e-mail).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Action, Caller};
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::query::{Paging, Params};
use crate::{input, reply, time};

/// ilert's `Role` enum, strongest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Guest,
    Stakeholder,
    Responder,
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guest => "GUEST",
            Role::Stakeholder => "STAKEHOLDER",
            Role::Responder => "RESPONDER",
            Role::User => "USER",
            Role::Admin => "ADMIN",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "GUEST" => Some(Role::Guest),
            "STAKEHOLDER" => Some(Role::Stakeholder),
            "RESPONDER" => Some(Role::Responder),
            "USER" => Some(Role::User),
            "ADMIN" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Stakeholders and guests may watch alerts but not act on them.
    pub fn can_respond(self) -> bool {
        matches!(self, Role::Responder | Role::User | Role::Admin)
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub timezone: String,
    pub language: String,
    pub region: Option<String>,
    pub role: String,
    pub position: Option<String>,
    pub department: Option<String>,
    pub shift_color: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "u.id, u.first_name, u.last_name, u.email, u.timezone, \
     u.language, u.region, u.role, u.position, u.department, u.shift_color, u.created_at, \
     u.updated_at";

impl User {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<User> {
        Ok(User {
            id: r.get(0)?,
            first_name: r.get(1)?,
            last_name: r.get(2)?,
            email: r.get(3)?,
            timezone: r.get(4)?,
            language: r.get(5)?,
            region: r.get(6)?,
            role: r.get(7)?,
            position: r.get(8)?,
            department: r.get(9)?,
            shift_color: r.get(10)?,
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
        })
    }

    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Guest)
    }
}

pub fn load(conn: &Connection, id: i64) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM users u WHERE u.id = ?1"),
        [id],
        User::from_row,
    )
    .optional()
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<HashMap<i64, User>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users u"))?;
    let rows = stmt.query_map([], User::from_row)?;
    rows.map(|r| r.map(|u| (u.id, u))).collect()
}

pub fn find_by_api_key(conn: &Connection, key: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM users u JOIN api_keys k ON k.user_id = u.id WHERE k.key = ?1"
        ),
        [key],
        User::from_row,
    )
    .optional()
}

/// The full `User` schema.
pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "email": u.email,
        "timezone": u.timezone,
        "position": u.position,
        "department": u.department,
        "avatarUrl": null,
        "language": u.language,
        "region": u.region,
        "role": u.role,
        "shiftColor": u.shift_color,
        "mutedUntil": null,
        "createdAt": time::format_ms(u.created_at),
        "updatedAt": time::format_ms(u.updated_at),
    })
}

/// `UserRel`, the reference ilert puts into escalation rules.
pub fn user_rel_json(u: &User) -> Value {
    json!({"id": u.id, "firstName": u.first_name, "lastName": u.last_name})
}

/// The user a key belongs to, or any user by id, username or e-mail address (ilert-go puts a
/// username into `/users/{user-id}`).
pub fn find(conn: &Connection, who: &str) -> rusqlite::Result<Option<User>> {
    let who = who.trim();
    conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM users u WHERE CAST(u.id AS TEXT) = ?1 \
             OR lower(u.username) = lower(?1) OR lower(u.email) = lower(?1) ORDER BY u.id LIMIT 1"
        ),
        [who],
        User::from_row,
    )
    .optional()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/current", get(get_current).put(put_current))
        .route("/users/search-email", post(search_email))
        .route(
            "/users/{user_id}",
            get(get_one).put(put_one).delete(delete_one),
        )
}

/// `/users` paging: default 50, at most 100.
const DEFAULT_MAX_RESULTS: i64 = 50;
const MAX_RESULTS_CAP: i64 = 100;

fn not_found(who: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!("User {who} not found"))
}

async fn list(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let Paging {
        start_index,
        max_results,
    } = params.paging(DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP)?;
    let users = state
        .db
        .call(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM users u ORDER BY u.id LIMIT ?1 OFFSET ?2"
            ))?;
            let rows = stmt
                .query_map(params![max_results, start_index], User::from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await?;
    Ok(reply::json(Value::Array(
        users.iter().map(user_json).collect(),
    )))
}

async fn get_one(State(state): State<AppState>, Path(who): Path<String>) -> ApiResult<Json<Value>> {
    let user = state
        .db
        .call(move |conn| find(conn, &who)?.ok_or_else(|| not_found(who)))
        .await?;
    Ok(reply::json(user_json(&user)))
}

async fn get_current(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let id = caller.user_id;
    let user = state
        .db
        .call(move |conn| Ok(load(conn, id)?))
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(reply::json(user_json(&user)))
}

async fn search_email(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let email = input::req_str(input::object(&body, "{\"email\": ...}")?, "email")?;
    let user = state
        .db
        .call(move |conn| {
            let found = conn
                .query_row(
                    &format!("SELECT {COLUMNS} FROM users u WHERE lower(u.email) = lower(?1)"),
                    [&email],
                    User::from_row,
                )
                .optional()?;
            found.ok_or_else(|| ApiError::not_found(format!("No user with e-mail address {email}")))
        })
        .await?;
    Ok(reply::json(user_json(&user)))
}

const LANGUAGES: &[&str] = &["de", "en"];
const REGIONS: &[&str] = &["DE", "GB", "CH", "CN", "IN", "US", "FR", "ES", "CA", "IE"];
const ROLES: &[&str] = &["STAKEHOLDER", "GUEST", "RESPONDER", "USER", "ADMIN"];

/// A `UserPost` body, validated. ilert's PUT replaces the object, so omitted optional fields are
/// cleared; time zone, language and region always have a value in ilert and keep theirs.
struct UserInput {
    first_name: String,
    last_name: String,
    email: String,
    timezone: Option<String>,
    language: Option<String>,
    region: Option<String>,
    role: Option<String>,
    position: Option<String>,
    department: Option<String>,
    shift_color: Option<String>,
}

impl UserInput {
    fn parse(body: &Value) -> ApiResult<UserInput> {
        let o = input::object(body, "UserPost")?;
        let first_name = input::req_str(o, "firstName")?;
        let last_name = input::req_str(o, "lastName")?;
        let email = input::req_str(o, "email")?;
        if !email.contains('@') {
            return Err(ApiError::bad_request(format!(
                "Invalid e-mail address '{email}'"
            )));
        }
        Ok(UserInput {
            first_name,
            last_name,
            email,
            timezone: input::opt_tz(o, "timezone")?,
            language: input::opt_enum(o, "language", LANGUAGES)?,
            region: input::opt_enum(o, "region", REGIONS)?,
            role: input::opt_enum(o, "role", ROLES)?,
            position: input::opt_str(o, "position")?,
            department: input::opt_str(o, "department")?,
            shift_color: input::opt_str(o, "shiftColor")?,
        })
    }
}

fn email_taken(conn: &Connection, email: &str, except: i64) -> ApiResult<()> {
    let taken: Option<i64> = conn
        .query_row(
            "SELECT id FROM users WHERE lower(email) = lower(?1) AND id <> ?2",
            params![email, except],
            |r| r.get(0),
        )
        .optional()?;
    match taken {
        Some(_) => Err(ApiError::bad_request(format!(
            "The e-mail address {email} is already used by another user"
        ))),
        None => Ok(()),
    }
}

/// Writes `input` over user `id`. `keep_role` is set when users edit themselves: nobody
/// promotes themselves.
fn update(
    conn: &Connection,
    id: i64,
    input: UserInput,
    keep_role: bool,
    now: i64,
) -> ApiResult<User> {
    let current = load(conn, id)?.ok_or_else(|| not_found(id))?;
    email_taken(conn, &input.email, id)?;
    let role = match (keep_role, input.role) {
        (false, Some(role)) => role,
        _ => current.role,
    };
    conn.execute(
        "UPDATE users SET first_name = ?1, last_name = ?2, email = ?3, timezone = ?4, \
         language = ?5, region = ?6, position = ?7, department = ?8, shift_color = ?9, \
         updated_at = ?10, role = ?11 WHERE id = ?12",
        params![
            input.first_name,
            input.last_name,
            input.email,
            input.timezone.unwrap_or(current.timezone),
            input.language.unwrap_or(current.language),
            input.region.or(current.region),
            input.position,
            input.department,
            input.shift_color,
            now,
            role,
            id
        ],
    )?;
    load(conn, id)?.ok_or_else(|| not_found(id))
}

async fn put_current(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let input = UserInput::parse(&body)?;
    let id = caller.user_id;
    let now = state.clock.now_ms();
    let user = state
        .db
        .call(move |conn| update(conn, id, input, true, now))
        .await?;
    Ok(reply::json(user_json(&user)))
}

async fn put_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(who): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let input = UserInput::parse(&body)?;
    let now = state.clock.now_ms();
    let user = state
        .db
        .call(move |conn| {
            let target = find(conn, &who)?.ok_or_else(|| not_found(&who))?;
            let own = target.id == caller.user_id;
            if !own {
                caller.require(Action::ManageUsers, "change other users")?;
            }
            update(
                conn,
                target.id,
                input,
                own && caller.role != Role::Admin,
                now,
            )
        })
        .await?;
    Ok(reply::json(user_json(&user)))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::ManageUsers, "create users")?;
    let input = UserInput::parse(&body)?;
    let now = state.clock.now_ms();
    let user = state
        .db
        .call(move |conn| {
            email_taken(conn, &input.email, 0)?;
            let username = input.email.to_lowercase();
            conn.execute(
                "INSERT INTO users (username, first_name, last_name, email, timezone, language, \
                 region, role, position, department, shift_color, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
                params![
                    username,
                    input.first_name,
                    input.last_name,
                    input.email,
                    input.timezone.unwrap_or_else(|| "Europe/Berlin".to_owned()),
                    input.language.unwrap_or_else(|| "en".to_owned()),
                    input.region,
                    input.role.unwrap_or_else(|| "RESPONDER".to_owned()),
                    input.position,
                    input.department,
                    input.shift_color,
                    now
                ],
            )?;
            let id = conn.last_insert_rowid();
            load(conn, id)?.ok_or_else(|| not_found(id))
        })
        .await?;
    let location = format!("/api/users/{}", user.id);
    let mut response = reply::created(user_json(&user));
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn delete_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(who): Path<String>,
) -> ApiResult<Response> {
    caller.require(Action::ManageUsers, "delete users")?;
    state
        .db
        .call(move |conn| {
            let target = find(conn, &who)?.ok_or_else(|| not_found(&who))?;
            if target.id == caller.user_id {
                return Err(ApiError::bad_request("You cannot delete your own user"));
            }
            // Like ilert, refuse while schedules or escalation policies still name the user.
            let cat = crate::catalog::Catalog::load(conn)?;
            let id = target.id;
            let on_schedule = cat.schedules.values().find(|s| {
                s.layers.iter().any(|l| l.users.contains(&id))
                    || s.shifts.iter().any(|sh| sh.user_id == id)
            });
            if let Some(s) = on_schedule {
                return Err(ApiError::bad_request(format!(
                    "User {id} is still on schedule {} ({}); take them off first",
                    s.id, s.name
                )));
            }
            if let Some(p) = cat
                .policies
                .values()
                .find(|p| p.rules.iter().any(|r| r.users.contains(&id)))
            {
                return Err(ApiError::bad_request(format!(
                    "User {id} is still in escalation policy {} ({}); take them off first",
                    p.id, p.name
                )));
            }
            conn.execute("DELETE FROM users WHERE id = ?1", [id])?;
            Ok(())
        })
        .await?;
    Ok(reply::no_content())
}
