//! Escalation policies: `GET /escalation-policies[/{id}]`, `GET /escalation-policies/resolve`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::alerts::NamedRef;
use crate::common::{Page, TeamRef};
use crate::{ApiError, Session, UserRef};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EscalationPolicy {
    pub id: i64,
    pub name: Option<String>,
    pub escalation_rules: Vec<EscalationRule>,
    pub teams: Vec<TeamRef>,
    pub repeating: Option<bool>,
    pub frequency: Option<i64>,
    pub routing_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EscalationRule {
    /// Minutes before escalating to the next rule.
    pub escalation_timeout: Option<i64>,
    pub users: Vec<UserRef>,
    pub schedules: Vec<NamedRef>,
    pub teams: Vec<TeamRef>,
    /// Deprecated singletons, still sent by older accounts.
    pub user: Option<UserRef>,
    pub schedule: Option<NamedRef>,
}

/// ilert's page cap for `GET /escalation-policies`.
pub const MAX_POLICIES_PER_PAGE: u32 = 50;

impl Session {
    pub async fn list_escalation_policies(
        &self,
        page: Page,
    ) -> Result<Vec<EscalationPolicy>, ApiError> {
        self.call(
            Method::GET,
            "/escalation-policies",
            &page.query(MAX_POLICIES_PER_PAGE),
        )
        .await
    }

    pub async fn get_escalation_policy(&self, id: i64) -> Result<EscalationPolicy, ApiError> {
        self.call(Method::GET, &format!("/escalation-policies/{id}"), &[])
            .await
    }

    /// The policy an event with this routing key would use.
    pub async fn resolve_escalation_policy(
        &self,
        routing_key: &str,
    ) -> Result<EscalationPolicy, ApiError> {
        let query = vec![("routing-key", routing_key.to_owned())];
        self.call(Method::GET, "/escalation-policies/resolve", &query)
            .await
    }
}
