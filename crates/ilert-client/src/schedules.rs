//! Schedules: `GET /schedules[/{id}]`, `GET /schedules/{id}/shifts`, `GET/PUT /schedules/{id}/overrides`,
//! `GET /schedules/{id}/user-on-call` (204 when nobody is).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::common::{Page, TeamRef};
use crate::http::Call;
use crate::incidents::IdOnly;
use crate::{ApiError, Session, User, UserRef};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Schedule {
    pub id: i64,
    pub name: Option<String>,
    pub timezone: Option<String>,
    /// STATIC or RECURRING.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub teams: Vec<TeamRef>,
    pub current_shift: Option<ShiftRef>,
    pub next_shift: Option<ShiftRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShiftRef {
    pub user: Option<UserRef>,
    pub start: Option<String>,
    pub end: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Shift {
    pub user: Option<User>,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// Body of `PUT /schedules/{id}/overrides`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverrideWrite {
    pub user: IdOnly,
    pub start: String,
    pub end: String,
}

/// ilert's page cap for `GET /schedules`.
pub const MAX_SCHEDULES_PER_PAGE: u32 = 20;

impl Session {
    pub async fn list_schedules(&self, page: Page) -> Result<Vec<Schedule>, ApiError> {
        let mut query = page.query(MAX_SCHEDULES_PER_PAGE);
        // Who is on now and next only come back when asked for.
        query.push(("include", "currentShift".to_owned()));
        query.push(("include", "nextShift".to_owned()));
        self.call(Method::GET, "/schedules", &query).await
    }

    pub async fn get_schedule(&self, id: i64) -> Result<Schedule, ApiError> {
        self.call(Method::GET, &format!("/schedules/{id}"), &[])
            .await
    }

    /// Shifts between `from` and `until` (ISO-8601), overrides applied.
    pub async fn schedule_shifts(
        &self,
        id: i64,
        from: &str,
        until: &str,
    ) -> Result<Vec<Shift>, ApiError> {
        let query = vec![("from", from.to_owned()), ("until", until.to_owned())];
        self.call(Method::GET, &format!("/schedules/{id}/shifts"), &query)
            .await
    }

    /// Shifts between `from` and `until` as the rotation has them, without overrides.
    pub async fn schedule_base_shifts(
        &self,
        id: i64,
        from: &str,
        until: &str,
    ) -> Result<Vec<Shift>, ApiError> {
        let query = vec![
            ("from", from.to_owned()),
            ("until", until.to_owned()),
            ("exclude-overrides", "true".to_owned()),
        ];
        self.call(Method::GET, &format!("/schedules/{id}/shifts"), &query)
            .await
    }

    pub async fn schedule_overrides(&self, id: i64) -> Result<Vec<Shift>, ApiError> {
        self.call(Method::GET, &format!("/schedules/{id}/overrides"), &[])
            .await
    }

    pub async fn add_schedule_override(
        &self,
        id: i64,
        body: &OverrideWrite,
    ) -> Result<(), ApiError> {
        let path = format!("/schedules/{id}/overrides");
        let mut call = Call::new(Method::PUT, &path).json(body)?;
        // Adding the same override twice would be refused as overlapping, not applied twice,
        // but a retry after a lost answer would then report a false failure: send once.
        call.idempotent = false;
        self.fetch(call).await.map(|_| ())
    }

    /// Who is on call on this schedule now; `None` when nobody is (ilert answers 204).
    pub async fn user_on_call(&self, id: i64) -> Result<Option<Shift>, ApiError> {
        let path = format!("/schedules/{id}/user-on-call");
        let answer = self.fetch(Call::new(Method::GET, &path)).await?;
        if answer.status == 204 || answer.body.is_empty() {
            return Ok(None);
        }
        answer.decode(&path).map(Some)
    }
}
