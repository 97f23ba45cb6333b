//! Users: storage, the JSON shapes ilert nests them in (`User`, `UserRel`), and the
//! `/api/users/current` endpoints.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::time;

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
    pub region: String,
    pub role: String,
    pub position: Option<String>,
    pub department: Option<String>,
    pub shift_color: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "u.id, u.first_name, u.last_name, u.email, u.timezone, \
     u.language, u.region, u.role, u.position, u.department, u.shift_color, u.created_at, u.updated_at";

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

/// The user inside an `AlertResponder`: a `UserRel` plus what a responder list needs to show.
pub fn responder_user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "email": u.email,
        "timezone": u.timezone,
        "role": u.role,
    })
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/users/current", get(get_current).put(put_current))
}

async fn get_current(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let id = caller.user_id;
    let user = state
        .db
        .call(move |conn| Ok(load(conn, id)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("User {id} not found")))?;
    Ok(Json(user_json(&user)))
}

/// `UserPost`. `role` is accepted but not applied: nobody promotes themselves.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserPost {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    timezone: Option<String>,
    position: Option<String>,
    department: Option<String>,
    language: Option<String>,
    region: Option<String>,
    shift_color: Option<String>,
}

const LANGUAGES: &[&str] = &["de", "en"];
const REGIONS: &[&str] = &["DE", "GB", "CH", "CN", "IN", "US", "FR", "ES", "CA", "IE"];

fn required(field: &str, value: Option<String>) -> ApiResult<String> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::bad_request(format!(
            "Field '{field}' is required"
        ))),
    }
}

fn one_of(
    field: &str,
    value: Option<String>,
    allowed: &[&str],
    current: &str,
) -> ApiResult<String> {
    match value {
        None => Ok(current.to_owned()),
        Some(v) if allowed.contains(&v.as_str()) => Ok(v),
        Some(v) => Err(ApiError::bad_request(format!(
            "Invalid value '{v}' for field '{field}': expected one of {}",
            allowed.join(", ")
        ))),
    }
}

/// ilert's PUT replaces the object, so omitted optional fields are cleared. Timezone, language
/// and region always have a value in ilert and stay as they were when omitted.
async fn put_current(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<UserPost>,
) -> ApiResult<Json<Value>> {
    let id = caller.user_id;
    let first_name = required("firstName", body.first_name)?;
    let last_name = required("lastName", body.last_name)?;
    let email = required("email", body.email)?;
    if !email.contains('@') {
        return Err(ApiError::bad_request(format!(
            "Invalid e-mail address '{email}'"
        )));
    }
    let user = state
        .db
        .call(move |conn| {
            let current = load(conn, id)?
                .ok_or_else(|| ApiError::not_found(format!("User {id} not found")))?;
            let language = one_of("language", body.language, LANGUAGES, &current.language)?;
            let region = one_of("region", body.region, REGIONS, &current.region)?;
            let timezone = body.timezone.unwrap_or(current.timezone);
            let taken: Option<i64> = conn
                .query_row(
                    "SELECT id FROM users WHERE lower(email) = lower(?1) AND id <> ?2",
                    params![email, id],
                    |r| r.get(0),
                )
                .optional()?;
            if taken.is_some() {
                return Err(ApiError::bad_request(format!(
                    "The e-mail address {email} is already used by another user"
                )));
            }
            conn.execute(
                "UPDATE users SET first_name = ?1, last_name = ?2, email = ?3, timezone = ?4, \
                 language = ?5, region = ?6, position = ?7, department = ?8, shift_color = ?9, \
                 updated_at = ?10 WHERE id = ?11",
                params![
                    first_name,
                    last_name,
                    email,
                    timezone,
                    language,
                    region,
                    body.position,
                    body.department,
                    body.shift_color,
                    time::now_ms(),
                    id
                ],
            )?;
            load(conn, id)?.ok_or_else(|| ApiError::not_found(format!("User {id} not found")))
        })
        .await?;
    Ok(Json(user_json(&user)))
}
