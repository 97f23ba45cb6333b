//! Alerts: `GET /alerts`, `GET /alerts/{id}`, `PUT /alerts/{id}/accept`, `PUT /alerts/{id}/resolve`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::http::Call;
use crate::incidents::IdOnly;
use crate::{ApiError, Session, UserRef};

/// ilert's cap on `max-results` for `GET /alerts`; more is a 400.
pub const MAX_ALERTS_PER_PAGE: u32 = 100;

/// Alert state. Values ilert may add later are kept verbatim in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertStatus {
    Pending,
    Accepted,
    Resolved,
    #[serde(untagged)]
    Other(String),
}

impl AlertStatus {
    /// The wire spelling (`PENDING`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "PENDING",
            Self::Accepted => "ACCEPTED",
            Self::Resolved => "RESOLVED",
            Self::Other(other) => other,
        }
    }
}

/// An alert (spec schema `Alert`). Every field but `id` is optional so that a sparse or newer
/// answer still decodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: i64,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub report_time: Option<String>,
    #[serde(default)]
    pub resolved_on: Option<String>,
    #[serde(default)]
    pub status: Option<AlertStatus>,
    /// `HIGH` or `LOW`.
    #[serde(default)]
    pub priority: Option<String>,
    /// 1 (critical) to 5, newer accounts only.
    #[serde(default)]
    pub severity: Option<i64>,
    #[serde(default)]
    pub alert_key: Option<String>,
    #[serde(default)]
    pub alert_source: Option<NamedRef>,
    #[serde(default)]
    pub escalation_policy: Option<NamedRef>,
    #[serde(default)]
    pub next_escalation: Option<String>,
    #[serde(default)]
    pub next_escalation_user: Option<UserRef>,
    #[serde(default)]
    pub next_escalation_rule_index: Option<f64>,
    #[serde(default)]
    pub responders: Vec<AlertResponder>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub links: Vec<Link>,
    #[serde(default)]
    pub linked_incident_id: Option<i64>,
}

/// The part of an alert that a list shows, borrowing its text from the answer (or from an
/// [`Alert`]). A page decoded into these skips each alert's details, labels, links and images (most
/// of its bytes) and copies no string that has no escapes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSummary<'a> {
    pub id: i64,
    #[serde(borrow, default)]
    pub summary: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub report_time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub resolved_on: Option<Cow<'a, str>>,
    #[serde(default)]
    pub status: Option<AlertStatus>,
    #[serde(borrow, default)]
    pub priority: Option<Cow<'a, str>>,
    #[serde(default)]
    pub severity: Option<i64>,
    #[serde(borrow, default)]
    pub alert_source: Option<SummaryRef<'a>>,
    #[serde(borrow, default)]
    pub escalation_policy: Option<SummaryRef<'a>>,
    #[serde(borrow, default)]
    pub responders: Vec<SummaryResponder<'a>>,
}

/// [`NamedRef`], borrowed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SummaryRef<'a> {
    pub id: i64,
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
}

/// [`AlertResponder`], borrowed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryResponder<'a> {
    #[serde(borrow)]
    pub user: SummaryUser<'a>,
    #[serde(borrow, default)]
    pub status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub accepted_at: Option<Cow<'a, str>>,
}

/// [`UserRef`], borrowed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryUser<'a> {
    pub id: i64,
    #[serde(borrow, default)]
    pub first_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub last_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub email: Option<Cow<'a, str>>,
}

impl SummaryUser<'_> {
    /// Display name: "First Last", else the e-mail, else `user <id>`.
    pub fn display_name(&self) -> String {
        crate::users::full_name(self.first_name.as_deref(), self.last_name.as_deref())
            .or_else(|| self.email.as_deref().map(str::to_owned))
            .unwrap_or_else(|| format!("user {}", self.id))
    }
}

fn borrowed(text: &Option<String>) -> Option<Cow<'_, str>> {
    text.as_deref().map(Cow::Borrowed)
}

impl<'a> From<&'a NamedRef> for SummaryRef<'a> {
    fn from(r: &'a NamedRef) -> Self {
        Self {
            id: r.id,
            name: borrowed(&r.name),
        }
    }
}

impl<'a> From<&'a Alert> for AlertSummary<'a> {
    fn from(a: &'a Alert) -> Self {
        Self {
            id: a.id,
            summary: borrowed(&a.summary),
            report_time: borrowed(&a.report_time),
            resolved_on: borrowed(&a.resolved_on),
            status: a.status.clone(),
            priority: borrowed(&a.priority),
            severity: a.severity,
            alert_source: a.alert_source.as_ref().map(SummaryRef::from),
            escalation_policy: a.escalation_policy.as_ref().map(SummaryRef::from),
            responders: a
                .responders
                .iter()
                .map(|r| SummaryResponder {
                    user: SummaryUser {
                        id: r.user.id,
                        first_name: borrowed(&r.user.first_name),
                        last_name: borrowed(&r.user.last_name),
                        email: borrowed(&r.user.email),
                    },
                    status: borrowed(&r.status),
                    accepted_at: borrowed(&r.accepted_at),
                })
                .collect(),
        }
    }
}

/// One page of `GET /alerts`, kept as ilert sent it; [`AlertPage::summaries`] reads it.
#[derive(Debug, Clone)]
pub struct AlertPage {
    body: bytes::Bytes,
}

impl AlertPage {
    /// The page's alerts as [`AlertSummary`]s borrowing from the page.
    pub fn summaries(&self) -> Result<Vec<AlertSummary<'_>>, ApiError> {
        crate::http::decode_json(&self.body, "/alerts")
    }
}

/// The id and name of a related object (alert source, escalation policy, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedRef {
    pub id: i64,
    #[serde(default)]
    pub name: Option<String>,
}

/// A user working on an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertResponder {
    pub user: UserRef,
    /// `PENDING` (notified) or `ACCEPTED`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub accepted_at: Option<String>,
}

/// A link attached to an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    #[serde(default)]
    pub href: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

/// Extra parts of `GET /alerts/{id}` that ilert returns only on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertInclude {
    EscalationRules,
    NextEscalationUser,
    CustomDetails,
}

impl AlertInclude {
    fn as_str(self) -> &'static str {
        match self {
            Self::EscalationRules => "escalationRules",
            Self::NextEscalationUser => "nextEscalationUser",
            Self::CustomDetails => "customDetails",
        }
    }
}

/// Filters for `GET /alerts`, sent with the spec's parameter names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertQuery {
    pub states: Vec<AlertStatus>,
    pub sources: Vec<i64>,
    pub policies: Vec<i64>,
    pub responders: Vec<i64>,
    /// ISO-8601; alerts reported at or after.
    pub from: Option<String>,
    /// ISO-8601; alerts reported before.
    pub until: Option<String>,
    pub start_index: u32,
    /// Page size, capped at [`MAX_ALERTS_PER_PAGE`].
    pub max_results: u32,
    pub include_next_escalation_user: bool,
}

impl AlertQuery {
    fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut q: Vec<(&'static str, String)> = Vec::new();
        q.extend(
            self.states
                .iter()
                .map(|s| ("states", s.as_str().to_owned())),
        );
        q.extend(self.sources.iter().map(|id| ("sources", id.to_string())));
        q.extend(self.policies.iter().map(|id| ("policies", id.to_string())));
        q.extend(
            self.responders
                .iter()
                .map(|id| ("responders", id.to_string())),
        );
        q.extend(self.from.iter().map(|t| ("from", t.clone())));
        q.extend(self.until.iter().map(|t| ("until", t.clone())));
        if self.start_index > 0 {
            q.push(("start-index", self.start_index.to_string()));
        }
        let max = match self.max_results {
            0 => 50,
            n => n.min(MAX_ALERTS_PER_PAGE),
        };
        q.push(("max-results", max.to_string()));
        if self.include_next_escalation_user {
            q.push(("include", "nextEscalationUser".to_owned()));
        }
        q
    }
}

impl Session {
    /// `GET /alerts`: one page, newest first.
    pub async fn list_alerts(&self, query: &AlertQuery) -> Result<Vec<Alert>, ApiError> {
        self.call(Method::GET, "/alerts", &query.to_query()).await
    }

    /// `GET /alerts`, one page kept undecoded: [`AlertPage::summaries`] reads it without copying.
    pub async fn list_alert_page(&self, query: &AlertQuery) -> Result<AlertPage, ApiError> {
        let answer = self
            .fetch(Call::new(Method::GET, "/alerts").query(query.to_query()))
            .await?;
        Ok(AlertPage { body: answer.body })
    }

    /// `GET /alerts/{id}` with optional includes.
    pub async fn get_alert(&self, id: i64, include: &[AlertInclude]) -> Result<Alert, ApiError> {
        let query: Vec<_> = include
            .iter()
            .map(|i| ("include", i.as_str().to_owned()))
            .collect();
        self.call(Method::GET, &format!("/alerts/{id}"), &query)
            .await
    }

    /// `PUT /alerts/{id}/accept`: the key's owner accepts; escalation stops.
    pub async fn accept_alert(&self, id: i64) -> Result<Alert, ApiError> {
        self.call(Method::PUT, &format!("/alerts/{id}/accept"), &[])
            .await
    }

    /// `PUT /alerts/{id}/resolve`.
    pub async fn resolve_alert(&self, id: i64) -> Result<Alert, ApiError> {
        self.call(Method::PUT, &format!("/alerts/{id}/resolve"), &[])
            .await
    }
}

/// Who to assign an alert to (`PUT /alerts/{id}/assign`): exactly one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignTarget {
    User(i64),
    Policy(i64),
    Schedule(i64),
}

/// Body of `POST /alerts` (spec `ManualAlert`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManualAlert {
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    pub alert_source: IdOnly,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation_policy: Option<IdOnly>,
    /// HIGH or LOW.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// When set, only these users are notified and the alert does not escalate further.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub responders: Vec<ResponderWrite>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ResponderWrite {
    pub user: IdOnly,
}

/// One entry of an alert's timeline (spec `LogEntry`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LogEntry {
    pub id: Option<i64>,
    pub timestamp: Option<String>,
    pub log_entry_type: Option<String>,
    pub text: Option<String>,
}

/// An action that can be run on an alert (spec `AlertActionTrigger`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AlertAction {
    pub alert_action_id: Option<String>,
    pub connector_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub history: Vec<AlertActionResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AlertActionResult {
    pub id: Option<String>,
    pub alert_action_id: Option<String>,
    pub success: Option<bool>,
}

/// The spec says "list of alert actions" but types the answer as one object; accept both.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

impl Session {
    /// `GET /alerts/count` with the list filters.
    pub async fn count_alerts(&self, query: &AlertQuery) -> Result<i64, ApiError> {
        #[derive(Deserialize)]
        struct Count {
            count: i64,
        }
        let q: Vec<_> = query
            .to_query()
            .into_iter()
            .filter(|(k, _)| !matches!(*k, "max-results" | "start-index" | "include" | "policies"))
            .collect();
        let count: Count = self.call(Method::GET, "/alerts/count", &q).await?;
        Ok(count.count)
    }

    /// `POST /alerts`: raises and escalates a manual alert.
    pub async fn create_alert(&self, alert: &ManualAlert) -> Result<Alert, ApiError> {
        self.fetch(Call::new(Method::POST, "/alerts").json(alert)?)
            .await?
            .decode("/alerts")
    }

    /// `PUT /alerts/{id}/assign?user=|policy=|schedule=` (the spec's parameter names).
    pub async fn assign_alert(&self, id: i64, target: AssignTarget) -> Result<Alert, ApiError> {
        let query = match target {
            AssignTarget::User(u) => vec![("user", u.to_string())],
            AssignTarget::Policy(p) => vec![("policy", p.to_string())],
            AssignTarget::Schedule(s) => vec![("schedule", s.to_string())],
        };
        self.call(Method::PUT, &format!("/alerts/{id}/assign"), &query)
            .await
    }

    /// `POST /alerts/{id}/responders`; ilert answers 405 when the user already responds.
    pub async fn add_alert_responder(
        &self,
        id: i64,
        user_id: i64,
    ) -> Result<AlertResponder, ApiError> {
        let path = format!("/alerts/{id}/responders");
        let body = ResponderWrite {
            user: IdOnly { id: user_id },
        };
        self.fetch(Call::new(Method::POST, &path).json(&body)?)
            .await?
            .decode(&path)
    }

    pub async fn remove_alert_responder(&self, id: i64, user_id: i64) -> Result<(), ApiError> {
        let path = format!("/alerts/{id}/responders/{user_id}");
        self.fetch(Call::new(Method::DELETE, &path))
            .await
            .map(|_| ())
    }

    /// `GET /alerts/{id}/log-entries`: the timeline, oldest first as ilert sends it.
    pub async fn alert_log_entries(
        &self,
        id: i64,
        max_results: u32,
    ) -> Result<Vec<LogEntry>, ApiError> {
        let query = vec![
            ("max-results", max_results.clamp(1, 100).to_string()),
            ("lang", "en".to_owned()),
        ];
        self.call(Method::GET, &format!("/alerts/{id}/log-entries"), &query)
            .await
    }

    /// `GET /alerts/{id}/actions`: actions available for the alert.
    pub async fn alert_actions(&self, id: i64) -> Result<Vec<AlertAction>, ApiError> {
        let found: OneOrMany<AlertAction> = self
            .call(Method::GET, &format!("/alerts/{id}/actions"), &[])
            .await?;
        Ok(match found {
            OneOrMany::Many(all) => all,
            OneOrMany::One(one) => vec![one],
        })
    }

    /// `POST /alerts/{id}/actions`: runs an action (a webhook, a ticket...). Sent once.
    pub async fn run_alert_action(
        &self,
        id: i64,
        alert_action_id: &str,
    ) -> Result<AlertActionResult, ApiError> {
        let path = format!("/alerts/{id}/actions");
        let body = serde_json::json!({ "alertActionId": alert_action_id });
        self.fetch(Call::new(Method::POST, &path).json(&body)?)
            .await?
            .decode(&path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_status_values_survive() {
        let alert: Alert =
            serde_json::from_str(r#"{"id":1,"status":"SNOOZED","extra":true}"#).unwrap();
        assert_eq!(alert.status, Some(AlertStatus::Other("SNOOZED".into())));
        assert_eq!(alert.status.unwrap().as_str(), "SNOOZED");
    }

    #[test]
    fn query_uses_spec_names_and_caps_page_size() {
        let q = AlertQuery {
            states: vec![AlertStatus::Pending, AlertStatus::Accepted],
            sources: vec![7],
            max_results: 500,
            ..Default::default()
        };
        assert_eq!(
            q.to_query(),
            vec![
                ("states", "PENDING".to_owned()),
                ("states", "ACCEPTED".to_owned()),
                ("sources", "7".to_owned()),
                ("max-results", "100".to_owned()),
            ]
        );
    }
}
