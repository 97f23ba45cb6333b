//! Private subscribers of services, incidents and status pages (ilert `TeamUserOption`): users
//! and teams, stored as `[{"id", "type"}]`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult};
use crate::input;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    pub id: i64,
    /// `USER` or `TEAM`.
    #[serde(rename = "type")]
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Kind {
    User,
    Team,
}

pub fn stored(text: &str) -> Vec<Subscriber> {
    serde_json::from_str(text).unwrap_or_default()
}

pub fn to_text(list: &[Subscriber]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

/// A `[TeamUserOption]` body; every id must exist.
pub fn parse(body: &Value, cat: &Catalog) -> ApiResult<Vec<Subscriber>> {
    let items = body.as_array().ok_or_else(|| {
        ApiError::bad_request("The request body must be a JSON array of {id, type}")
    })?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let o = input::object(item, "TeamUserOption")?;
        let id = input::opt_i64(o, "id")?
            .ok_or_else(|| ApiError::bad_request(format!("Field '[{i}].id' is required")))?;
        let kind = match input::opt_enum(o, "type", &["USER", "TEAM"])?.as_deref() {
            Some("TEAM") => Kind::Team,
            _ => Kind::User,
        };
        let known = match kind {
            Kind::User => cat.users.contains_key(&id),
            Kind::Team => cat.teams.contains_key(&id),
        };
        if !known {
            return Err(ApiError::bad_request(format!(
                "Subscriber [{i}]: no {kind:?} with id {id}"
            )));
        }
        let s = Subscriber { id, kind };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// `TeamUserOption`s with names; deleted users and teams are left out.
pub fn json_list(list: &[Subscriber], cat: &Catalog) -> Value {
    Value::Array(
        list.iter()
            .filter_map(|s| match s.kind {
                Kind::User => cat.users.get(&s.id).map(|u| {
                    json!({"id": u.id, "name": format!("{} {}", u.first_name, u.last_name), "type": "USER"})
                }),
                Kind::Team => cat.teams.get(&s.id).map(|t| json!({"id": t.id, "name": t.name, "type": "TEAM"})),
            })
            .collect(),
    )
}

/// Whether `user` is subscribed, directly or through a team.
pub fn includes_user(list: &[Subscriber], user: i64, cat: &Catalog) -> bool {
    list.iter().any(|s| match s.kind {
        Kind::User => s.id == user,
        Kind::Team => cat
            .teams
            .get(&s.id)
            .is_some_and(|t| t.members.iter().any(|(u, _)| *u == user)),
    })
}

/// The distinct users reached.
pub fn users(list: &[Subscriber], cat: &Catalog) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    for s in list {
        match s.kind {
            Kind::User => out.push(s.id),
            Kind::Team => {
                if let Some(t) = cat.teams.get(&s.id) {
                    out.extend(t.members.iter().map(|(u, _)| *u));
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}
