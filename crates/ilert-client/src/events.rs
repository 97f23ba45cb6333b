//! Events API: `POST /events`, authenticated by the alert source's integration key in the body.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Serialize;

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

impl Session {
    /// Sends an event; ilert answers 202 with no body. Never retried: a second ALERT could raise a
    /// second alert where no `alertKey` de-duplicates it.
    pub async fn send_event(&self, event: &Event) -> Result<(), ApiError> {
        self.fetch(Call::new(Method::POST, "/events").json(event)?)
            .await
            .map(|_| ())
    }
}
