//! On-call: `GET /on-calls` (who is on call for which policy level, from which schedule).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::alerts::NamedRef;
use crate::common::repeat;
use crate::{ApiError, Session, User};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OnCall {
    pub user: Option<User>,
    pub escalation_policy: Option<NamedRef>,
    pub schedule: Option<NamedRef>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub escalation_level: Option<f64>,
}

/// Filters for `GET /on-calls`; the answer is always expanded (users, policies, schedules by name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnCallQuery {
    pub policies: Vec<i64>,
    pub schedules: Vec<i64>,
    pub users: Vec<i64>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub timezone: Option<String>,
}

/// ilert's `max-results` limit for `/on-calls` ("may not exceed 250").
pub const MAX_ON_CALLS: u32 = 250;

impl Session {
    pub async fn list_on_calls(&self, q: &OnCallQuery) -> Result<Vec<OnCall>, ApiError> {
        let mut query: Vec<_> = repeat("policies", &q.policies)
            .chain(repeat("schedules", &q.schedules))
            .chain(repeat("users", &q.users))
            .collect();
        for expand in ["user", "escalationPolicy", "schedule"] {
            query.push(("expand", expand.to_owned()));
        }
        query.extend(q.from.iter().map(|t| ("from", t.clone())));
        query.extend(q.until.iter().map(|t| ("until", t.clone())));
        query.extend(q.timezone.iter().map(|t| ("timezone", t.clone())));
        query.push(("max-results", MAX_ON_CALLS.to_string()));
        self.call(Method::GET, "/on-calls", &query).await
    }
}
