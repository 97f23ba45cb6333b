//! Events API: `POST /events`, authenticated by the alert source's integration key in the body.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::http::Call;
use crate::{ApiError, Session};

/// An event (spec `Event`). `eventType` is ALERT, ACCEPT, RESOLVE or COMMENT.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub integration_key: String,
    pub event_type: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<EventComment>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventComment {
    pub creator: String,
    pub content: String,
}

/// ilert's answer to an event: `{alertKey, alertUrl, responseCode}`, the shape ilert's Go client
/// decodes. ilert's CLI notes describe an empty 202 instead, so every field may be missing.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EventReceipt {
    pub alert_key: Option<String>,
    pub alert_url: Option<String>,
    pub response_code: Option<String>,
}

impl EventReceipt {
    /// The alert id, where `alertUrl` ends in one (`.../alerts/4712`).
    pub fn alert_id(&self) -> Option<i64> {
        let url = self.alert_url.as_deref()?;
        let path = url.split(['?', '#']).next()?;
        path.trim_end_matches('/').rsplit('/').next()?.parse().ok()
    }
}

impl Session {
    /// Sends an event; ilert answers 202, with the receipt or an empty body. Never retried: a
    /// second ALERT could raise a second alert where no `alertKey` de-duplicates it.
    pub async fn send_event(&self, event: &Event) -> Result<EventReceipt, ApiError> {
        let answer = self
            .fetch(Call::new(Method::POST, "/events").json(event)?)
            .await?;
        if answer.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(EventReceipt::default());
        }
        answer.decode("/events")
    }
}
