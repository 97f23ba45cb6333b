//! `GET /alerts/{id}/notifications`: who ilert notified about an alert, on which channel, and
//! whether the notification arrived (`SUCCESS`), failed (`ERROR`, with ilert's reason) or is still
//! to go out (`SCHEDULED`). Not paginated: the whole set comes back at once.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::http::Session;

/// One notification (spec `Notification`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Notification {
    pub id: Option<i64>,
    /// `PUSH`, `VOICE`, `SMS`, `EMAIL`, `WHATSAPP`, or a chat channel.
    pub method: Option<String>,
    /// Where it went: a phone number, an e-mail address, a device.
    pub target: Option<String>,
    pub user: Option<NotifiedUser>,
    pub notification_time: Option<String>,
    /// `SCHEDULED`, `SUCCESS` or `ERROR`.
    pub status: Option<String>,
    pub error_message: Option<String>,
}

/// The user a notification went to. ilert spells the name fields in lower case here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifiedUser {
    pub id: i64,
    #[serde(alias = "firstName")]
    pub firstname: Option<String>,
    #[serde(alias = "lastName")]
    pub lastname: Option<String>,
}

impl NotifiedUser {
    /// "First Last", or "user <id>" when ilert gave no name.
    pub fn display_name(&self) -> String {
        let name = [self.firstname.as_deref(), self.lastname.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            format!("user {}", self.id)
        } else {
            name
        }
    }
}

impl Session {
    /// `GET /alerts/{id}/notifications`, oldest first as ilert sends them.
    pub async fn alert_notifications(&self, id: i64) -> Result<Vec<Notification>, ApiError> {
        self.call(Method::GET, &format!("/alerts/{id}/notifications"), &[])
            .await
    }
}
