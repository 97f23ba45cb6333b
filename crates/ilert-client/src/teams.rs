//! Teams: `GET /teams`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::common::Page;
use crate::{ApiError, Session, User};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Team {
    pub id: i64,
    pub name: Option<String>,
    /// PUBLIC or PRIVATE.
    pub visibility: Option<String>,
    pub members: Vec<TeamMember>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TeamMember {
    pub user: Option<User>,
    pub role: Option<String>,
}

impl Session {
    pub async fn list_teams(&self, page: Page) -> Result<Vec<Team>, ApiError> {
        // `members` is a filter by member id, not a switch: ilert includes members anyway.
        self.call(Method::GET, "/teams", &page.query(100)).await
    }
}
