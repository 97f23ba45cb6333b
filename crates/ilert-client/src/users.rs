//! Users: `GET /users/current`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::{ApiError, Session};

/// An ilert user (spec schema `User`). Unknown fields are ignored; enums stay open as strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// `STAKEHOLDER`, `GUEST`, `RESPONDER`, `USER` or `ADMIN`.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub position: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
}

/// A reference to a user inside another object (spec `UserRel`); names may be missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub id: i64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// "First Last", or whatever part of it is known.
pub(crate) fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts = [first, last].map(|p| p.map(str::trim).unwrap_or_default());
    // One allocation: names are listed by the hundred.
    let mut joined = String::with_capacity(parts[0].len() + 1 + parts[1].len());
    for part in parts {
        if part.is_empty() {
            continue;
        }
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(part);
    }
    (!joined.is_empty()).then_some(joined)
}

impl User {
    /// Display name: "First Last", else the e-mail, else `user <id>`.
    pub fn display_name(&self) -> String {
        full_name(self.first_name.as_deref(), self.last_name.as_deref())
            .or_else(|| self.email.clone())
            .unwrap_or_else(|| format!("user {}", self.id))
    }
}

impl UserRef {
    /// Display name: "First Last", else the e-mail, else `user <id>`.
    pub fn display_name(&self) -> String {
        full_name(self.first_name.as_deref(), self.last_name.as_deref())
            .or_else(|| self.email.clone())
            .unwrap_or_else(|| format!("user {}", self.id))
    }
}

impl Session {
    /// `GET /users`, one page (ilert's cap: 100).
    pub async fn list_users(&self, page: crate::Page) -> Result<Vec<User>, ApiError> {
        self.call(Method::GET, "/users", &page.query(100)).await
    }

    pub async fn get_user(&self, id: i64) -> Result<User, ApiError> {
        self.call(Method::GET, &format!("/users/{id}"), &[]).await
    }

    /// `POST /users/search-email`: the user with this e-mail, or a 404.
    pub async fn find_user_by_email(&self, email: &str) -> Result<User, ApiError> {
        let mut call = crate::http::Call::new(Method::POST, "/users/search-email")
            .json(&serde_json::json!({ "email": email }))?;
        call.idempotent = true;
        self.fetch(call).await?.decode("/users/search-email")
    }

    /// `GET /users/current`: the owner of this session's key. Also the cheapest way to check a key.
    pub async fn current_user(&self) -> Result<User, ApiError> {
        self.call(Method::GET, "/users/current", &[]).await
    }
}

#[cfg(test)]
mod tests {
    use super::full_name;

    #[test]
    fn full_names_join_the_known_parts() {
        assert_eq!(
            full_name(Some(" Priya "), Some("Nair")).as_deref(),
            Some("Priya Nair")
        );
        assert_eq!(full_name(None, Some("Nair")).as_deref(), Some("Nair"));
        assert_eq!(
            full_name(Some("Priya"), Some("  ")).as_deref(),
            Some("Priya")
        );
        assert_eq!(full_name(Some(""), None), None);
        assert_eq!(full_name(None, None), None);
    }
}
