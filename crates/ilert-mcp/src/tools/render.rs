//! Compact projections of ilert objects for a model's context window, and their one-line text forms.

use chrono::{DateTime, SecondsFormat, Utc};
use ilert_client::{Alert, AlertResponder, NamedRef};
use schemars::JsonSchema;
use serde::Serialize;

/// Longest `details` text returned before it is cut (and marked as cut).
pub const MAX_DETAILS_CHARS: usize = 2_000;

/// ilert's times, normalised to whole-second ISO-8601 UTC (`2026-11-23T21:40:03Z`). Unparseable
/// values pass through unchanged rather than vanish.
pub fn time(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    if raw.is_empty() {
        return None;
    }
    Some(match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => t
            .with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        Err(_) => raw.to_owned(),
    })
}

/// An object referenced by id and name.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Ref {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl From<&NamedRef> for Ref {
    fn from(r: &NamedRef) -> Self {
        Self {
            id: r.id,
            name: r.name.clone(),
        }
    }
}

/// A person working on an alert.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Responder {
    /// ilert user id.
    pub id: i64,
    pub name: String,
    /// PENDING (notified, not yet accepted) or ACCEPTED.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<String>,
}

impl From<&AlertResponder> for Responder {
    fn from(r: &AlertResponder) -> Self {
        Self {
            id: r.user.id,
            name: r.user.display_name(),
            status: r.status.clone().unwrap_or_else(|| "PENDING".to_owned()),
            accepted_at: time(r.accepted_at.as_deref()),
        }
    }
}

/// One alert in a list.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AlertItem {
    pub id: i64,
    pub summary: String,
    /// PENDING (firing, nobody accepted), ACCEPTED or RESOLVED.
    pub status: String,
    /// HIGH or LOW.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// 1 (critical) to 5, where the account uses severities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<i64>,
    /// Alert source (the integration that raised it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Ref>,
    /// Escalation policy that routes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Ref>,
    /// When the alert was raised (ISO-8601 UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub responders: Vec<Responder>,
    /// Link to the alert in the ilert app (single alerts only; lists leave it out to stay small).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Turns client-side alerts into compact items; `app_url` is the ilert web app root.
pub fn alert_item(alert: &Alert, app_url: &str) -> AlertItem {
    AlertItem {
        id: alert.id,
        summary: alert.summary.clone().unwrap_or_default(),
        status: alert
            .status
            .as_ref()
            .map_or("UNKNOWN", |s| s.as_str())
            .to_owned(),
        priority: alert.priority.clone(),
        severity: alert.severity,
        source: alert.alert_source.as_ref().map(Ref::from),
        policy: alert.escalation_policy.as_ref().map(Ref::from),
        reported_at: time(alert.report_time.as_deref()),
        resolved_at: time(alert.resolved_on.as_deref()),
        responders: alert.responders.iter().map(Responder::from).collect(),
        url: Some(alert_url(app_url, alert.id)),
    }
}

pub fn alert_url(app_url: &str, id: i64) -> String {
    format!("{app_url}/alert/view?id={id}")
}

/// `#4712 PENDING HIGH "Checkout latency" · Prometheus · 2026-11-23T21:40:03Z · Jonas Weber (PENDING)`
pub fn alert_line(item: &AlertItem) -> String {
    let mut line = format!("#{} {}", item.id, item.status);
    if let Some(p) = &item.priority {
        line.push(' ');
        line.push_str(p);
    }
    if let Some(s) = item.severity {
        line.push_str(&format!(" sev{s}"));
    }
    line.push_str(&format!(" \"{}\"", item.summary));
    if let Some(name) = item.source.as_ref().and_then(|s| s.name.as_deref()) {
        line.push_str(" · ");
        line.push_str(name);
    }
    if let Some(t) = &item.reported_at {
        line.push_str(" · ");
        line.push_str(t);
    }
    if !item.responders.is_empty() {
        let people: Vec<String> = item
            .responders
            .iter()
            .map(|r| format!("{} ({})", r.name, responder_state(&r.status)))
            .collect();
        line.push_str(" · ");
        line.push_str(&people.join(", "));
    }
    line
}

/// A responder's state in words: PENDING means notified and not yet accepted.
fn responder_state(status: &str) -> &str {
    match status {
        "PENDING" => "notified",
        "ACCEPTED" => "accepted",
        other => other,
    }
}

/// Cuts `text` to at most `max` characters; says whether it did.
pub fn clip(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((cut, _)) => (format!("{}…", text.get(..cut).unwrap_or_default()), true),
        None => (text.to_owned(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_normalised_and_bad_ones_kept() {
        assert_eq!(
            time(Some("2026-11-23T21:40:03.512Z")).as_deref(),
            Some("2026-11-23T21:40:03Z")
        );
        assert_eq!(
            time(Some("2026-11-23T22:40:03+01:00")).as_deref(),
            Some("2026-11-23T21:40:03Z")
        );
        assert_eq!(time(Some("yesterday")).as_deref(), Some("yesterday"));
        assert_eq!(time(Some("")), None);
        assert_eq!(time(None), None);
    }

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("héllo", 10), ("héllo".to_owned(), false));
        assert_eq!(clip("héllo", 2), ("hé…".to_owned(), true));
    }
}
